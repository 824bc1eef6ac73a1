// SPDX-License-Identifier: AGPL-3.0-or-later
// The alert-source pollers (issue 14) against a local HTTPS server on 127.0.0.1 with a test CA,
// the server run with push_allow_hosts/push_ca_file as the push tests do: fixtures in the real
// formats (tests/fixtures/sources/) drive the Comune's current status; a later bulletin of the
// same day replaces the earlier; the same bulletin again, or a poll that failed half-way and is
// repeated, publishes nothing twice; an unknown level text is reported, not guessed; draft
// sources wait for a person; LaMMA's NA is never verde; addresses outside the allow-list are
// refused. The server's clock is pinned (test clock) to the afternoon of the fixtures' day.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { startServer, operatorToken, api, tempDir, sleep } from './lib/server.mjs';
import { makeCerts } from './lib/pushsvc.mjs';

const FIX = 'tests/fixtures/sources/';
const fixture = (f) => readFileSync(FIX + f);
const PINNED = Date.parse('2026-12-04T19:00:00+01:00');

// The fixture server: path -> { body, etag?, status? }; it answers If-None-Match with 304.
const files = new Map();
const seen = [];
let fx;
let origin;
let srv;
let op;
let serverOpts;
const hanging = []; // responses held open by { hang: true } files
const call = (m, p, o) => api(srv.url, m, p, o);
const ok = async (status, m, p, o) => {
  const r = await call(m, p, o);
  assert.equal(r.status, status, `${m} ${p}: ${r.text}`);
  return r.data;
};

function serveDpc(id, { tomorrowStatus = 200 } = {}) {
  files.set('/bollettino', { body: Buffer.from(`<html><body><p>Bollettino</p><a href="/zip/${id}.zip">${id}</a> <a href="/old/20261203_1410">ieri</a></body></html>`), etag: `"page-${id}"` });
  files.set(`/geojson/${id}_today.json`, { body: fixture(`dpc_${id}_today.json`) });
  files.set(`/geojson/${id}_tomorrow.json`, tomorrowStatus === 200 ? { body: fixture(`dpc_${id}_tomorrow.json`) } : { status: tomorrowStatus, body: Buffer.from('busy') });
}

before(async () => {
  const dir = tempDir('araldo-sources-ca-');
  const certs = makeCerts(dir);
  fx = https.createServer({ key: readFileSync(certs.key), cert: readFileSync(certs.cert) }, (req, res) => {
    seen.push({ path: req.url, inm: req.headers['if-none-match'] });
    const f = files.get(req.url);
    if (!f) { res.writeHead(404); res.end(); return; }
    if (f.hang) { hanging.push(res); return; }
    if (f.etag && req.headers['if-none-match'] === f.etag) { res.writeHead(304, { etag: f.etag }); res.end(); return; }
    res.writeHead(f.status || 200, { 'content-type': 'application/json', ...(f.etag ? { etag: f.etag } : {}) });
    res.end(f.body);
  });
  await new Promise((resolve) => fx.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${fx.address().port}`;
  serverOpts = {
    sets: { push_allow_hosts: '127.0.0.1', push_ca_file: certs.ca },
    env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(PINNED - Date.now()) },
  };
  srv = await startServer(serverOpts);
  op = operatorToken(srv.data);
  await ok(201, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'certaldo', name: 'Comune di Certaldo' } });
  await ok(201, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'sora', name: 'Comune di Sora' } });
});
after(async () => {
  await srv?.stop();
  srv?.cleanup();
  for (const r of hanging) r.destroy();
  fx?.close();
});

// Poll source `id` of `org` now and wait until its health shows a newer poll.
async function pollNow(org, id) {
  const before = await ok(200, 'GET', `/api/v1/orgs/${org}/alert-sources/${id}`, { as: op });
  const mark = JSON.stringify([before.health.last_success, before.health.last_error]);
  await ok(202, 'POST', `/api/v1/orgs/${org}/alert-sources/${id}/poll`, { as: op });
  for (let i = 0; i < 600; i++) { // the poll's own timeouts end it well before 60 s
    const now = await ok(200, 'GET', `/api/v1/orgs/${org}/alert-sources/${id}`, { as: op });
    if (JSON.stringify([now.health.last_success, now.health.last_error]) !== mark) return now;
    await sleep(100);
  }
  throw new Error(`source ${id} was not polled`);
}
const cell = (cur, zone, risk) => cur.zones.find((z) => z.code === zone)?.risks.find((k) => k.risk === risk);
const alertsOf = async (org) => (await ok(200, 'GET', `/api/v1/orgs/${org}/alerts?limit=100`, { as: op })).alerts;

let dpc;
test('DPC bulletin: Certaldo\'s zone and levels for today and tomorrow, credited to the DPC', async () => {
  serveDpc('20261204_1430');
  dpc = await ok(201, 'POST', '/api/v1/orgs/certaldo/alert-sources', {
    as: op, body: { kind: 'dpc-bulletin', url: `${origin}/bollettino`, data_url: `${origin}/geojson/{id}_{day}.json`, on_change: 'publish' },
  });
  const s = await pollNow('certaldo', dpc.id);
  assert.equal(s.health.last_error, null, JSON.stringify(s.health));
  assert.equal(s.health.failing, false);
  assert.equal(s.health.last_bulletin, '20261204_1430');
  assert.ok(s.health.last_change);
  const cur = await ok(200, 'GET', '/api/v1/orgs/certaldo/alerts/current');
  const zone = 'src-Valdelsa-Valdera';
  assert.equal(cell(cur, zone, 'idrogeologico').level, 'giallo');
  assert.equal(cell(cur, zone, 'temporali').level, 'giallo');
  assert.equal(cell(cur, zone, 'idraulico').level, 'verde');
  const list = await alertsOf('certaldo');
  // today: idrogeologico and temporali giallo; tomorrow: idrogeologico arancione, temporali giallo
  assert.equal(list.length, 4, JSON.stringify(list.map((a) => [a.risk, a.level, a.onset])));
  const tomorrow = list.filter((a) => Date.parse(a.onset) === Date.parse('2026-12-05T00:00:00+01:00'));
  assert.equal(tomorrow.length, 2, JSON.stringify(list.map((a) => a.onset)));
  for (const a of list) {
    assert.equal(a.source.credit, 'Fonte: Dipartimento della Protezione Civile');
    assert.equal(a.state, 'published');
    assert.match(a.info.find((i) => i.language === 'it').instruction, /^Allerta (gialla|arancione)/);
    assert.ok(a.info.find((i) => i.language === 'en').instruction);
  }
  const cap = await fetch(`${srv.url}${list[0].cap_url}`);
  assert.match(await cap.text(), /<source>Fonte: Dipartimento della Protezione Civile<\/source>/);
});

test('the same bulletin again (a 304, then a new ETag for the same id) publishes nothing', async () => {
  const n = (await alertsOf('certaldo')).length;
  seen.length = 0;
  await pollNow('certaldo', dpc.id);
  assert.equal(seen.find((r) => r.path === '/bollettino').inm, '"page-20261204_1430"');
  files.get('/bollettino').etag = '"other"';
  await pollNow('certaldo', dpc.id);
  assert.equal((await alertsOf('certaldo')).length, n);
});

test('a later bulletin of the same day replaces the earlier through an Update', async () => {
  serveDpc('20261204_1812');
  const s = await pollNow('certaldo', dpc.id);
  assert.equal(s.health.last_bulletin, '20261204_1812');
  const cur = await ok(200, 'GET', '/api/v1/orgs/certaldo/alerts/current');
  const t = cell(cur, 'src-Valdelsa-Valdera', 'temporali');
  assert.equal(t.level, 'arancione');
  const list = await alertsOf('certaldo');
  const upd = list.find((a) => a.risk === 'temporali' && a.level === 'arancione');
  assert.equal(upd.msg_type, 'Update');
  assert.equal(upd.references.length, 1);
  const old = list.find((a) => a.id === upd.references[0]);
  assert.equal(old.level, 'giallo');
  assert.equal(old.replaced_by, upd.id);
  // idrogeologico did not change: no new alert for it
  assert.equal(list.filter((a) => a.risk === 'idrogeologico').length, 2);
});

test('a poll that fails half-way and is repeated publishes nothing twice; a lowered level updates', async () => {
  serveDpc('20261205_1415', { tomorrowStatus: 503 });
  const bad = await pollNow('certaldo', dpc.id);
  assert.match(bad.health.last_error.message, /HTTP 503/);
  assert.equal(bad.health.failing, true); // it worked before: now its last poll failed
  assert.ok(bad.health.last_success);
  assert.equal(bad.health.last_bulletin, '20261204_1812'); // not recorded: it will be polled again
  const half = await alertsOf('certaldo');
  serveDpc('20261205_1415');
  const good = await pollNow('certaldo', dpc.id);
  assert.equal(good.health.last_bulletin, '20261205_1415');
  assert.equal(good.health.failing, false);
  assert.ok(good.health.last_error); // the old error stays on record, no longer failing
  const all = await alertsOf('certaldo');
  const ids = all.map((a) => a.identifier);
  assert.equal(new Set(ids).size, ids.length, 'no identifier twice');
  assert.ok(all.length >= half.length);
  // tomorrow (5 December) goes back to verde: the arancione and giallo alerts are updated
  const lowered = all.filter((a) => a.level === 'verde' && a.msg_type === 'Update');
  assert.ok(lowered.length >= 1, JSON.stringify(all.map((a) => [a.risk, a.level, a.msg_type])));
  assert.ok(lowered.every((a) => a.references.length === 1));
});

test('an unknown level text is reported on the source, never read as verde', async () => {
  serveDpc('20261204_1430');
  const s = await ok(201, 'POST', '/api/v1/orgs/sora/alert-sources', {
    as: op, body: { kind: 'dpc-bulletin', url: `${origin}/bollettino`, data_url: `${origin}/geojson/{id}_{day}.json`, on_change: 'publish' },
  });
  const h = await pollNow('sora', s.id);
  assert.match(h.health.last_error.message, /ALLERTA VIOLA/);
  assert.match(h.health.last_error.message, /Bacino del Liri/);
  assert.equal(h.health.last_success, null);
  assert.equal(h.health.failing, true);
  assert.equal((await alertsOf('sora')).length, 0);
  // The console's banner: the failing source is among the org's warnings.
  const warn = await ok(200, 'GET', '/api/v1/orgs/sora/alert-sources/warnings', { as: op });
  assert.deepEqual(warn.warnings.map((x) => [x.id, x.kind, x.stale, x.failing, x.last_success]), [[s.id, 'dpc-bulletin', false, true, null]]);
  const m = await (await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${op}` } })).text();
  assert.match(m, new RegExp(`araldo_alert_source_last_error_seconds\\{org_id="\\d+",source="${s.id}",kind="dpc-bulletin"\\} [1-9]`));
  assert.match(m, new RegExp(`araldo_alert_source_last_success_seconds\\{org_id="\\d+",source="${s.id}",kind="dpc-bulletin"\\} 0`));
  assert.match(m, new RegExp(`araldo_alert_source_stale\\{org_id="\\d+",source="${s.id}",kind="dpc-bulletin"\\} 0`));
});

test('LaMMA: a raised level is a draft for a person; NA makes no alert', async () => {
  files.set('/lamma/certaldo.xml', { body: fixture('lamma_certaldo_giallo.xml') });
  const s = await ok(201, 'POST', '/api/v1/orgs/certaldo/alert-sources', {
    as: op, body: { kind: 'lamma-comune', url: `${origin}/lamma/certaldo.xml` },
  });
  assert.equal(s.on_change, 'draft');
  const h = await pollNow('certaldo', s.id);
  assert.equal(h.health.last_error, null, JSON.stringify(h.health));
  const mine = (await alertsOf('certaldo')).filter((a) => a.source?.id === s.id);
  // day 1: idrogeologico giallo and vento arancione; day 2 is NA: nothing
  assert.deepEqual(mine.map((a) => `${a.risk}:${a.level}:${a.state}`).sort(), ['idrogeologico:giallo:pending', 'vento:arancione:pending']);
  const cur = await ok(200, 'GET', '/api/v1/orgs/certaldo/alerts/current');
  assert.equal(cell(cur, 'src-Certaldo', 'vento')?.level ?? 'verde', 'verde'); // drafts are not in force
});

test('outgoing requests follow the push rules: a host outside push_allow_hosts is refused', async () => {
  const s = await ok(201, 'POST', '/api/v1/orgs/certaldo/alert-sources', {
    as: op, body: { kind: 'lamma-comune', url: `https://localhost:${fx.address().port}/lamma/certaldo.xml` },
  });
  const h = await pollNow('certaldo', s.id);
  assert.match(h.health.last_error.message, /not public/);
});

test('CAP feed: each linked document goes through the CAP import; unofficial ones wait for a person; again, nothing twice', async () => {
  await ok(201, 'POST', '/api/v1/orgs/certaldo/zones', { as: op, body: { code: 'ZA', name: 'Zona A' } });
  const cap = (id, sent) => `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>${id}</identifier>
<sender>cfr@regione.example.it</sender><sent>${sent}</sent><status>Actual</status>
<msgType>Alert</msgType><scope>Public</scope><info><language>it-IT</language><category>Met</category>
<event>Temporali</event><urgency>Expected</urgency><severity>Moderate</severity><certainty>Likely</certainty>
<expires>2036-12-05T20:00:00+01:00</expires><headline>Allerta gialla temporali</headline>
<area><areaDesc>Zona A</areaDesc></area></info></alert>`;
  files.set('/cap/1.xml', { body: Buffer.from(cap('RT-1', '2026-12-04T12:00:00+01:00')) });
  files.set('/cap/2.xml', { body: Buffer.from(cap('RT-2', '2026-12-04T13:00:00+01:00')) });
  files.set('/feed.atom', { body: Buffer.from(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>CFR</title>
<entry><id>2</id><link rel="alternate" type="application/cap+xml" href="${origin}/cap/2.xml"/></entry>
<entry><id>1</id><link rel="alternate" type="application/cap+xml" href="${origin}/cap/1.xml"/></entry></feed>`) });
  const s = await ok(201, 'POST', '/api/v1/orgs/certaldo/alert-sources', {
    as: op, body: { kind: 'cap-feed', url: `${origin}/feed.atom`, on_change: 'publish', official: false },
  });
  const h = await pollNow('certaldo', s.id);
  assert.equal(h.health.last_error, null, JSON.stringify(h.health));
  const imported = (await alertsOf('certaldo')).filter((a) => a.imported);
  assert.deepEqual(imported.map((a) => `${a.identifier}:${a.risk}:${a.level}:${a.state}`).sort(),
    ['RT-1:temporali:giallo:pending', 'RT-2:temporali:giallo:pending']);
  await pollNow('certaldo', s.id);
  assert.equal((await alertsOf('certaldo')).filter((a) => a.imported).length, 2);
});

test('a server killed in the middle of a poll, restarted and polled again, publishes nothing twice', async () => {
  await ok(201, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'gambassi', name: 'Comune di Gambassi Terme' } });
  serveDpc('20261204_1430');
  files.set('/geojson/20261204_1430_tomorrow.json', { hang: true });
  const s = await ok(201, 'POST', '/api/v1/orgs/gambassi/alert-sources', {
    as: op, body: { kind: 'dpc-bulletin', url: `${origin}/bollettino`, data_url: `${origin}/geojson/{id}_{day}.json`, on_change: 'publish' },
  });
  seen.length = 0;
  await ok(202, 'POST', `/api/v1/orgs/gambassi/alert-sources/${s.id}/poll`, { as: op });
  // Today's file was read and its alerts stored before the poller asked for tomorrow's.
  for (let i = 0; i < 300 && !seen.some((r) => r.path.endsWith('_tomorrow.json')); i++) await sleep(100);
  assert.ok(seen.some((r) => r.path.endsWith('_tomorrow.json')), 'the poll reached the second day file');
  const half = await alertsOf('gambassi');
  assert.equal(half.length, 2, JSON.stringify(half.map((a) => [a.risk, a.level])));
  await srv.kill();
  const first = srv;
  srv = await startServer({ ...serverOpts, data: first.data });
  srv.cleanup = () => first.cleanup();
  const mid = await ok(200, 'GET', `/api/v1/orgs/gambassi/alert-sources/${s.id}`, { as: op });
  assert.equal(mid.health.last_bulletin, null); // the interrupted poll recorded nothing
  serveDpc('20261204_1430');
  const h = await pollNow('gambassi', s.id);
  assert.equal(h.health.last_bulletin, '20261204_1430');
  const all = await alertsOf('gambassi');
  assert.equal(all.length, 4, JSON.stringify(all.map((a) => [a.risk, a.level, a.onset])));
  assert.equal(new Set(all.map((a) => a.identifier)).size, 4);
});
