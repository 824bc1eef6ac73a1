// SPDX-License-Identifier: AGPL-3.0-or-later
// Issue 14, "done when", end to end: an org for Certaldo follows a `dpc-bulletin` source pointed
// at a served copy of a bulletin (the fixture files in the DPC's real formats, on a local HTTPS
// server with the test CA, under today's bulletin id so the server runs on the real clock); the
// bulletin raises Certaldo's zone (Valdelsa-Valdera) to giallo today and arancione tomorrow, and
// with on_change=publish each raised level reaches a follower's phone: the mock push service
// (lib/pushsvc.mjs) decrypts every message with the independent http_ece library. Fetching the
// same bulletin again sends nothing more. /allerta/certaldo shows the zone, today's and
// tomorrow's levels and credits the DPC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { pushWorld } from './lib/pushworld.mjs';
import { sleep } from './lib/server.mjs';

const FIX = 'tests/fixtures/sources/';
const CREDIT = 'Fonte: Dipartimento della Protezione Civile';
// Today in Rome as the DPC names a bulletin ("YYYYMMDD_HHMM"); issued at midnight, so it is
// never in the future of the server's clock.
const ymd = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit', day: '2-digit' })
  .format(new Date()).replace(/-/g, '');
const ID = `${ymd}_0000`;

let w;
let fx;
let origin;
const files = new Map();
const seen = [];
let follower;
let elsewhere;
let source;

before(async () => {
  w = await pushWorld();
  fx = https.createServer({ key: readFileSync(w.certs.key), cert: readFileSync(w.certs.cert) }, (req, res) => {
    seen.push(req.url);
    const f = files.get(req.url);
    if (!f) { res.writeHead(404); res.end(); return; }
    if (f.etag && req.headers['if-none-match'] === f.etag) { res.writeHead(304, { etag: f.etag }); res.end(); return; }
    res.writeHead(200, { 'content-type': f.type || 'application/json', ...(f.etag ? { etag: f.etag } : {}) });
    res.end(f.body);
  });
  await new Promise((resolve) => fx.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${fx.address().port}`;
  // The DPC map page names the newest bulletin first; the day files are the fixture's GeoJSON.
  files.set('/bollettino', { type: 'text/html', etag: `"page-${ID}"`, body: Buffer.from(`<html><body><h1>Bollettino di criticità</h1><a href="/zip/${ID}.zip">${ID}</a></body></html>`) });
  files.set(`/geojson/${ID}_today.json`, { body: readFileSync(`${FIX}dpc_20261204_1430_today.json`) });
  files.set(`/geojson/${ID}_tomorrow.json`, { body: readFileSync(`${FIX}dpc_20261204_1430_tomorrow.json`) });

  await w.ok(201, 'POST', '/api/v1/orgs', { as: w.op, body: { slug: 'certaldo', name: 'Comune di Certaldo' } });
  await w.ok(201, 'POST', '/api/v1/channels', {
    as: w.op, body: { org: 'certaldo', handle: 'pc-certaldo', name: 'Protezione civile Certaldo', category: 'civil_protection', language: 'it' },
  });
  follower = await w.subscriber('pc-certaldo');
  elsewhere = await w.subscriber(await w.channel()); // a follower of another Comune only
});
after(async () => {
  await w?.close();
  fx?.close();
});

const got = (s) => w.ps.subs.get(s.sub.id).got.map((m) => ({ ...JSON.parse(m.text), headers: m.headers }));
async function pollNow(id) {
  const path = `/api/v1/orgs/certaldo/alert-sources/${id}`;
  const before = await w.ok(200, 'GET', path, { as: w.op });
  const mark = (s) => JSON.stringify([s.health.last_success, s.health.last_error]);
  await w.ok(202, 'POST', `${path}/poll`, { as: w.op });
  for (let i = 0; i < 600; i++) {
    const now = await w.ok(200, 'GET', path, { as: w.op });
    if (mark(now) !== mark(before)) return now;
    await sleep(100);
  }
  throw new Error(`source ${id} was not polled`);
}
async function until(pred, what, ms = 20000) {
  for (const t0 = Date.now(); !pred(); await sleep(50)) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
  }
}

test('a raised level in the DPC bulletin reaches the follower\'s phone, once per alert', async () => {
  // Defaults: the Comune is the org's name without "Comune di"; only the addresses and
  // on_change are set.
  source = await w.ok(201, 'POST', '/api/v1/orgs/certaldo/alert-sources', {
    as: w.op, body: { kind: 'dpc-bulletin', url: `${origin}/bollettino`, data_url: `${origin}/geojson/{id}_{day}.json`, on_change: 'publish' },
  });
  assert.equal(source.comune, 'Certaldo');
  const s = await pollNow(source.id);
  assert.equal(s.health.last_error, null, JSON.stringify(s.health));
  assert.equal(s.health.last_bulletin, ID);
  const alerts = (await w.ok(200, 'GET', '/api/v1/orgs/certaldo/alerts?limit=100', { as: w.op })).alerts;
  // today: idrogeologico and temporali giallo; tomorrow: idrogeologico arancione, temporali giallo
  assert.deepEqual(alerts.map((a) => `${a.risk}:${a.level}:${a.state}`).sort(),
    ['idrogeologico:arancione:published', 'idrogeologico:giallo:published', 'temporali:giallo:published', 'temporali:giallo:published']);
  await until(() => got(follower).length >= 4, 'four notifications');
  const msgs = got(follower);
  assert.deepEqual(msgs.map((m) => m.alert).sort(), alerts.map((a) => a.id).sort(), 'one notification per alert');
  for (const m of msgs) {
    const a = alerts.find((x) => x.id === m.alert);
    assert.equal(m.kind, 'alert');
    assert.equal(m.org, 'certaldo');
    assert.equal(m.level, a.level);
    assert.equal(m.risk, a.risk);
    assert.deepEqual(m.zones, ['Valdelsa-Valdera']);
    assert.equal(m.url, '/allerta/certaldo');
    assert.match(m.headline, /^Allerta (gialla|arancione) per rischio (idrogeologico|temporali) - Valdelsa-Valdera$/);
    assert.equal(m.headers.urgency, a.level === 'arancione' ? 'high' : 'normal');
  }
  assert.deepEqual(got(elsewhere), [], 'a follower of another Comune gets nothing');
});

test('fetching the same bulletin again sends nothing more', async () => {
  seen.length = 0;
  await pollNow(source.id); // the page answers 304
  files.get('/bollettino').etag = '"page-again"';
  const s = await pollNow(source.id); // a new ETag, the same bulletin id
  assert.equal(s.health.last_bulletin, ID);
  assert.ok(!seen.some((p) => p.startsWith('/geojson/')), 'the day files are not read again');
  assert.equal((await w.ok(200, 'GET', '/api/v1/orgs/certaldo/alerts?limit=100', { as: w.op })).alerts.length, 4);
  // A sentinel published after the polls: once it arrives, anything queued before it has too.
  const sentinel = await w.ok(201, 'POST', '/api/v1/orgs/certaldo/alerts', {
    as: w.op, body: { zones: ['src-Valdelsa-Valdera'], risk: 'vento', level: 'giallo', expires: new Date(Date.now() + 3600e3).toISOString(), info: [{ language: 'it', headline: 'Vento forte' }] },
  });
  await until(() => got(follower).some((m) => m.alert === sentinel.id), 'the sentinel notification');
  assert.equal(got(follower).length, 5, JSON.stringify(got(follower).map((m) => [m.alert, m.risk, m.level])));
  await w.ok(201, 'POST', '/api/v1/orgs/certaldo/alerts', { as: w.op, body: { msg_type: 'Cancel', references: [sentinel.id] } });
});

test('/allerta/certaldo shows Certaldo\'s zone, today\'s and tomorrow\'s levels, and credits the DPC', async () => {
  const r = await fetch(`${w.srv.url}/allerta/certaldo`);
  assert.equal(r.status, 200);
  const page = await r.text();
  const [now, rest] = page.split('Allerte in vigore: cosa fare');
  assert.ok(rest, 'the page has its "in force" part');
  // Today, in the zone table: the zone by its DPC name, each risk's level, the credit under it.
  const zone = /<section class="card alert-zone">([\s\S]*?)<\/section>/.exec(now)[1];
  assert.match(zone, /<h3 id="zone-0">Valdelsa-Valdera /);
  const level = (risk) => new RegExp(`<th scope="row">${risk}</th><td[^>]*><span class="level level-([a-z]+)">`).exec(zone)?.[1];
  assert.equal(level('Idrogeologico'), 'giallo');
  assert.equal(level('Temporali'), 'giallo');
  assert.equal(level('Idraulico'), 'verde');
  assert.ok(zone.includes(`<p class="alert-source muted">${CREDIT}</p>`), 'the DPC credited under the levels');
  // Tomorrow, announced: arancione for idrogeologico and giallo for temporali, each credited.
  const [, upcoming] = rest.split('Allerte annunciate');
  assert.ok(upcoming, 'tomorrow\'s alerts are announced');
  const cards = upcoming.split('<article').slice(1).map((c) => c.split('</article>')[0]);
  assert.deepEqual(cards.map((c) => /<h3>([A-Za-z]+) <span class="level level-([a-z]+)">/.exec(c).slice(1).join(':')).sort(),
    ['Idrogeologico:arancione', 'Temporali:giallo']);
  for (const c of cards) {
    assert.ok(c.includes(CREDIT), 'each announced alert credits the DPC');
    assert.match(c, /Valdelsa-Valdera/);
  }
});
