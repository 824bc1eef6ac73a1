// SPDX-License-Identifier: AGPL-3.0-or-later
// Civil-protection alerts (issue 13): zones, permission and the two-person rule, publishing,
// Update/Cancel, the current status with expiry (test clock), exercises, the live stream, CAP
// 1.2 export validated against the OASIS schema, Atom, and hardened CAP import.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import WebSocket from 'ws';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildWorld } from './lib/world.mjs';
import { startServer, operatorToken, api, waitFor } from './lib/server.mjs';

const SHARED = join(process.env.ARALDO_SHARED || resolve('../shared'), 'cap');
const XSD = join(SHARED, 'cap12.xsd');
const haveShared = existsSync(XSD);
const skipShared = haveShared ? false : `../shared/cap is absent (CI has it beside the clone): CAP schema and samples not checked`;

let w;
const hour = 3600 * 1000;
const iso = (ms) => new Date(ms).toISOString();

before(async () => {
  w = await buildWorld();
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/zones', {
    as: w.tok.org_admin,
    body: { code: 'ZA-1', name: 'Zona A', geocodes: [{ valueName: 'ISTAT', value: '048010' }] },
  });
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/zones', {
    as: w.tok.org_admin,
    body: { code: 'FRAZ', name: 'Frazione Alta', polygon: '43.1,11.1 43.2,11.1 43.2,11.2 43.1,11.1' },
  });
});
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

const alert = (extra = {}) => ({
  zones: ['ZA-1'], risk: 'idraulico', level: 'arancione',
  expires: iso(Date.now() + 6 * hour),
  info: [{ language: 'it', headline: 'Allerta arancione idraulica', instruction: 'Evitate i sottopassi.' },
    { language: 'en', headline: 'Orange flood alert' }],
  ...extra,
});
const cell = (cur, zone, risk) => cur.zones.find((z) => z.code === zone).risks.find((k) => k.risk === risk);

test('zones: CRUD, validation, and who may change them', async () => {
  const list = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/zones');
  assert.deepEqual(list.zones.map((z) => z.code), ['FRAZ', 'ZA-1']);
  assert.equal((await w.call('POST', '/api/v1/orgs/comune-a/zones', { as: w.tok.org_admin, body: { code: 'ZA-1', name: 'x' } })).status, 409);
  const badPoly = await w.call('POST', '/api/v1/orgs/comune-a/zones', { as: w.tok.org_admin, body: { code: 'P', name: 'P', polygon: '1,1 2,2' } });
  assert.equal(badPoly.status, 400);
  assert.equal(badPoly.data.error.field, 'polygon');
  const z = await w.ok(200, 'PATCH', '/api/v1/orgs/comune-a/zones/FRAZ', { as: w.tok.org_admin, body: { name: 'Frazione Bassa' } });
  assert.equal(z.name, 'Frazione Bassa');
  assert.ok(z.polygon.startsWith('43.1,11.1'));
  assert.equal((await w.call('POST', '/api/v1/orgs/comune-a/zones', { as: w.tok.channel_owner, body: { code: 'Q', name: 'Q' } })).status, 403);
  assert.equal((await w.call('POST', '/api/v1/orgs/comune-a/zones', { as: w.tok.other_org, body: { code: 'Q', name: 'Q' } })).status, 403);
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/zones', { as: w.tok.org_admin, body: { code: 'TMP', name: 'Tmp' } });
  assert.equal((await w.call('DELETE', '/api/v1/orgs/comune-a/zones/TMP', { as: w.tok.org_admin })).status, 204);
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/zones/TMP')).status, 404);
});

test('permission: staff publish only with civil_protection, granted by an org admin', async () => {
  const r = await w.call('POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.channel_admin, body: alert({ status: 'Test' }) });
  assert.equal(r.status, 403);
  assert.equal(r.data.error.code, 'not_alert_publisher');
  assert.equal((await w.call('PUT', '/api/v1/orgs/comune-a/alerts/settings', { as: w.tok.channel_admin, body: { publishers: [String(w.ids.admin)] } })).status, 403);
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/alerts/settings', { as: w.tok.other_org })).status, 404);
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/alerts/settings')).status, 404);
  const set = await w.ok(200, 'PUT', '/api/v1/orgs/comune-a/alerts/settings', { as: w.tok.org_admin, body: { publishers: [String(w.ids.admin), String(w.ids.owner)] } });
  assert.deepEqual(set.publishers.sort(), [String(w.ids.admin), String(w.ids.owner)].sort());
  const bad = await w.call('PUT', '/api/v1/orgs/comune-a/alerts/settings', { as: w.tok.org_admin, body: { publishers: [String(w.ids.other)] } });
  assert.equal(bad.status, 400);
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.channel_admin, body: alert({ status: 'Test' }) });
});

test('publish, current status, Update replaces, Cancel ends; exercises never change it', async () => {
  const cur0 = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts/current');
  assert.equal(cur0.level, 'verde');
  const ex = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alert({ status: 'Exercise', level: 'rosso' }) });
  assert.equal(ex.status, 'Exercise');
  let cur = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts/current');
  assert.equal(cur.level, 'verde', 'an exercise never changes the public status');
  assert.equal((await w.call('GET', `/api/v1/alerts/${ex.id}`)).status, 404, 'exercises are for staff');
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/alerts/current?status=Exercise')).status, 404);
  const curEx = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts/current?status=Exercise', { as: w.tok.org_admin });
  assert.equal(cell(curEx, 'ZA-1', 'idraulico').level, 'rosso');

  const a = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alert() });
  assert.equal(a.state, 'published');
  assert.equal(a.phase, 'preallarme');
  cur = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts/current');
  assert.equal(cur.level, 'arancione');
  assert.equal(cell(cur, 'ZA-1', 'idraulico').alert, a.id);
  assert.equal(cell(cur, 'ZA-1', 'vento').level, 'verde');
  assert.equal(cell(cur, 'FRAZ', 'idraulico').level, 'verde');

  const up = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Update', references: [a.id], level: 'giallo' } });
  assert.deepEqual(up.references, [a.id]);
  assert.equal((await w.ok(200, 'GET', `/api/v1/alerts/${a.id}`)).replaced_by, up.id);
  cur = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts/current');
  assert.equal(cell(cur, 'ZA-1', 'idraulico').level, 'giallo');
  assert.equal(cell(cur, 'ZA-1', 'idraulico').alert, up.id);
  const again = await w.call('POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Update', references: [a.id], level: 'rosso' } });
  assert.equal(again.status, 422, 'an alert already replaced cannot be updated again');

  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Cancel', references: [up.id] } });
  cur = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts/current');
  assert.equal(cur.level, 'verde');
  const hist = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts?zone=ZA-1&risk=idraulico');
  assert.ok(hist.alerts.every((x) => x.status === 'Actual'));
  assert.equal(hist.alerts.length, 3);
});

test('public reads revalidate: ETag and 304 while nothing changed, a new body after a publish', async () => {
  const get = (path, etag) => fetch(`${w.srv.url}${path}`, { headers: etag ? { 'if-none-match': etag } : {} });
  for (const path of ['/api/v1/orgs/comune-a/alerts/current', '/api/v1/orgs/comune-a/alerts.atom', '/api/v1/orgs/comune-a/zones', '/api/v1/orgs/comune-a/alerts']) {
    const r1 = await get(path);
    assert.equal(r1.status, 200, path);
    const etag = r1.headers.get('etag');
    assert.ok(etag, path);
    assert.equal(r1.headers.get('cache-control'), 'public, no-cache', path);
    assert.equal((await get(path, etag)).status, 304, `${path}: unchanged, even though the status says when it was made`);
  }
  const before = (await get('/api/v1/orgs/comune-a/alerts/current')).headers.get('etag');
  const a = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alert({ risk: 'mareggiate', level: 'giallo' }) });
  const r = await get('/api/v1/orgs/comune-a/alerts/current', before);
  assert.equal(r.status, 200, 'a publish changes the status');
  assert.equal(cell(await r.json(), 'ZA-1', 'mareggiate').level, 'giallo');
  const staff = await fetch(`${w.srv.url}/api/v1/orgs/comune-a/alerts?status=Exercise`, { headers: { authorization: `Bearer ${w.tok.org_admin}` } });
  assert.equal(staff.headers.get('cache-control'), 'private, no-cache', 'what staff see is never shared');
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Cancel', references: [a.id] } });
});

test('the two-person rule: a rosso alert waits for a second staff member', async () => {
  await w.ok(200, 'PUT', '/api/v1/orgs/comune-a/alerts/settings', { as: w.tok.org_admin, body: { two_person_rule: true } });
  const p = await w.ok(202, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.channel_admin, body: alert({ level: 'rosso', risk: 'vento' }) });
  assert.equal(p.state, 'pending');
  let cur = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts/current');
  assert.equal(cell(cur, 'ZA-1', 'vento').level, 'verde');
  assert.equal((await w.call('GET', `/api/v1/alerts/${p.id}`)).status, 404);
  const same = await w.call('POST', `/api/v1/alerts/${p.id}/approve`, { as: w.tok.channel_admin });
  assert.equal(same.status, 403);
  assert.equal(same.data.error.code, 'same_person');
  assert.equal((await w.call('POST', `/api/v1/alerts/${p.id}/approve`, { as: w.tok.other_org })).status, 404);
  const ok = await w.ok(200, 'POST', `/api/v1/alerts/${p.id}/approve`, { as: w.tok.channel_owner });
  assert.equal(ok.state, 'published');
  cur = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts/current');
  assert.equal(cell(cur, 'ZA-1', 'vento').level, 'rosso');
  const audit = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/audit', { as: w.tok.org_admin });
  const acts = audit.entries.filter((e) => e.target === `alert:${p.id}`).map((e) => `${e.action} ${e.actor?.email}`);
  assert.ok(acts.includes('alert.submit admin@a.it'), JSON.stringify(acts));
  assert.ok(acts.includes('alert.approve owner@a.it'), JSON.stringify(acts));
  await w.ok(200, 'PUT', '/api/v1/orgs/comune-a/alerts/settings', { as: w.tok.org_admin, body: { two_person_rule: false } });
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Cancel', references: [p.id] } });
});

test('live: a connected follower gets the alert event; a later one gets the status at start', async () => {
  const ac = new AbortController();
  const r = await fetch(`${w.srv.url}/api/v1/stream?channels=${w.main}`, { signal: ac.signal });
  const reader = r.body.getReader();
  let text = '';
  const pump = (async () => { try { for (;;) { const { value, done } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); } } catch {} })();
  await waitFor(() => text.includes('event: alerts.current'), 'status at stream start');
  const a = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alert({ risk: 'temporali', level: 'giallo' }) });
  await waitFor(() => text.includes('event: alert\n'), 'alert event');
  const ev = text.split('\n\n').find((b) => b.includes('event: alert\n'));
  const data = JSON.parse(ev.split('\n').find((l) => l.startsWith('data: ')).slice(6));
  assert.equal(data.id, a.id);
  assert.equal(data.level, 'giallo');
  ac.abort();
  await pump;

  const ac2 = new AbortController();
  const r2 = await fetch(`${w.srv.url}/api/v1/stream?channels=${w.main}`, { signal: ac2.signal });
  const rd2 = r2.body.getReader();
  let t2 = '';
  const p2 = (async () => { try { for (;;) { const { value, done } = await rd2.read(); if (done) break; t2 += new TextDecoder().decode(value); } } catch {} })();
  await waitFor(() => t2.includes('event: alerts.current'), 'status at start');
  const st = JSON.parse(t2.split('\n\n').find((b) => b.includes('event: alerts.current')).split('\n').find((l) => l.startsWith('data: ')).slice(6));
  assert.equal(cell(st, 'ZA-1', 'temporali').level, 'giallo');
  assert.equal(cell(st, 'ZA-1', 'temporali').alert, a.id);
  ac2.abort();
  await p2;
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Cancel', references: [a.id] } });
});

test('live over WebSocket: the status after subscribed, the alert event live; none for a hidden channel', async () => {
  const msgs = [];
  const ws = new WebSocket(`${w.srv.url.replace('http', 'ws')}/api/v1/ws?channels=${w.main}`);
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
  await new Promise((res) => ws.on('open', res));
  await waitFor(() => msgs.some((m) => m.type === 'alerts.current'), 'alerts.current');
  const st = msgs.find((m) => m.type === 'alerts.current');
  assert.equal(st.org, 'comune-a');
  assert.ok(cell(st.data, 'ZA-1', 'neve'));
  const a = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alert({ risk: 'neve', level: 'giallo' }) });
  await waitFor(() => msgs.some((m) => m.type === 'event' && m.event === 'alert'), 'alert event');
  const ev = msgs.find((m) => m.type === 'event' && m.event === 'alert');
  assert.equal(ev.data.id, a.id);
  assert.equal(ev.channel, w.main);
  // Subscribing to an unlisted channel one may not read says channel_not_found, and nothing of its org.
  const hidden = await w.channel({ visibility: 'unlisted' });
  const n = msgs.length;
  ws.send(JSON.stringify({ type: 'subscribe', channels: [hidden] }));
  await waitFor(() => msgs.length > n, 'an answer');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(msgs.slice(n).map((m) => m.type), ['error']);
  ws.close();
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Cancel', references: [a.id] } });
});

test("a follower's stream of its follows gets the status of an org it starts following", async () => {
  const fol = await w.follower(w.main);
  const ac = new AbortController();
  const r = await fetch(`${w.srv.url}/api/v1/stream`, { headers: { authorization: `Bearer ${fol}` }, signal: ac.signal });
  const reader = r.body.getReader();
  let text = '';
  const pump = (async () => { try { for (;;) { const { value, done } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); } } catch {} })();
  const statuses = () => text.split('\n\n').filter((b) => b.includes('event: alerts.current'))
    .map((b) => JSON.parse(b.split('\n').find((l) => l.startsWith('data: ')).slice(6)).org);
  await waitFor(() => statuses().length === 1, 'status of comune-a at start');
  const hb = w.unique('canaleb');
  await w.ok(201, 'POST', '/api/v1/channels', { as: w.tok.other_org, body: { org: 'comune-b', handle: hb, name: 'B', category: 'news', language: 'it' } });
  assert.equal((await w.call('PUT', `/api/v1/channels/${hb}/follow`, { as: fol })).status, 204);
  await waitFor(() => statuses().length === 2, 'status of comune-b after the follow');
  assert.deepEqual(statuses(), ['comune-a', 'comune-b']);
  ac.abort();
  await pump;
});

test('a Test alert never reaches a stream; an Exercise comes marked as one', async () => {
  const ac = new AbortController();
  const r = await fetch(`${w.srv.url}/api/v1/stream?channels=${w.main}`, { signal: ac.signal });
  const reader = r.body.getReader();
  let text = '';
  const pump = (async () => { try { for (;;) { const { value, done } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); } } catch {} })();
  await waitFor(() => text.includes('event: alerts.current'), 'status at stream start');
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alert({ status: 'Test', risk: 'valanghe' }) });
  const ex = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alert({ status: 'Exercise', risk: 'valanghe' }) });
  await waitFor(() => text.includes('event: alert\n'), 'the exercise event');
  const evs = text.split('\n\n').filter((b) => b.includes('event: alert\n')).map((b) => JSON.parse(b.split('\n').find((l) => l.startsWith('data: ')).slice(6)));
  assert.deepEqual(evs.map((e) => [e.id, e.status]), [[ex.id, 'Exercise']]);
  ac.abort();
  await pump;
});

function xmllint(xml) {
  const dir = mkdtempSync(join(tmpdir(), 'cap-'));
  const f = join(dir, 'a.cap');
  writeFileSync(f, xml);
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', XSD, f], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  return r;
}

test('CAP export validates against the OASIS schema; Atom links it', { skip: skipShared }, async () => {
  const a = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alert({ zones: ['ZA-1', 'FRAZ'], risk: 'neve', level: 'rosso' }) });
  const up = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Update', references: [a.id], level: 'arancione' } });
  for (const id of [a.id, up.id]) {
    const r = await fetch(`${w.srv.url}/api/v1/alerts/${id}.cap`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /application\/cap\+xml/);
    const xml = await r.text();
    const v = xmllint(xml);
    assert.equal(v.status, 0, `${v.stderr}\n${xml}`);
    assert.match(xml, /<sent>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00<\/sent>/);
    assert.doesNotMatch(xml, /Z<\//);
    assert.match(xml, /<valueName>awareness_level<\/valueName>\s*<value>\d; (red|orange); (Extreme|Severe)<\/value>/);
    assert.match(xml, /<areaDesc>Zona A<\/areaDesc>/);
    assert.match(xml, /<polygon>43.1,11.1/);
    if (id === up.id) assert.match(xml, /<references>\S+,urn:araldo:[^,]+,\S+<\/references>/);
  }
  const atom = await fetch(`${w.srv.url}/api/v1/orgs/comune-a/alerts.atom`);
  assert.equal(atom.status, 200);
  const feed = await atom.text();
  assert.ok(feed.includes(`/api/v1/alerts/${up.id}.cap`));
  const lint = spawnSync('xmllint', ['--noout', '-'], { input: feed, encoding: 'utf8' });
  assert.equal(lint.status, 0, lint.stderr);
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Cancel', references: [up.id] } });
});

const importCap = (xml, as = w.tok.org_admin, org = 'comune-b') =>
  fetch(`${w.srv.url}/api/v1/orgs/${org}/alerts/import`, {
    method: 'POST', headers: { authorization: `Bearer ${as}`, 'content-type': 'application/cap+xml' }, body: xml,
  }).then(async (r) => ({ status: r.status, data: await r.json() }));

test('round trip: publish, export, import into a second org: the same current levels', async () => {
  const opB = w.tok.operator;
  await w.ok(201, 'POST', '/api/v1/orgs/comune-b/zones', { as: opB, body: { code: 'B1', name: 'Zona B', geocodes: [{ valueName: 'ISTAT', value: '048010' }] } });
  const a = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: alert({ risk: 'temporali', level: 'arancione', phase: 'attenzione' }) });
  const xml = await (await fetch(`${w.srv.url}/api/v1/alerts/${a.id}.cap`)).text();
  const r = await importCap(xml, opB);
  assert.equal(r.status, 201, JSON.stringify(r.data));
  assert.equal(r.data.imported, true);
  assert.equal(r.data.sender, a.sender);
  const again = await importCap(xml, opB);
  assert.equal(again.status, 200, 'idempotent');
  assert.equal(again.data.id, r.data.id);
  const curA = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alerts/current');
  const curB = await w.ok(200, 'GET', '/api/v1/orgs/comune-b/alerts/current');
  assert.equal(cell(curB, 'B1', 'temporali').level, cell(curA, 'ZA-1', 'temporali').level);
  assert.equal(cell(curB, 'B1', 'temporali').phase, 'attenzione');
  // The Cancel, exported and imported, follows references.
  const c = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Cancel', references: [a.id] } });
  const cx = await (await fetch(`${w.srv.url}/api/v1/alerts/${c.id}.cap`)).text();
  const ci = await importCap(cx, opB);
  assert.equal(ci.status, 201, JSON.stringify(ci.data));
  assert.equal(cell(await w.ok(200, 'GET', '/api/v1/orgs/comune-b/alerts/current'), 'B1', 'temporali').level, 'verde');
});

test('import: every sample; invalid.cap with a precise reason', { skip: skipShared }, async () => {
  for (const f of readdirSync(join(SHARED, 'samples'))) {
    const xml = readFileSync(join(SHARED, 'samples', f), 'utf8');
    const r = await importCap(xml, w.tok.operator);
    if (f === 'invalid.cap') {
      assert.equal(r.status, 422, f);
      assert.equal(r.data.error.field, 'alert/scope');
      assert.match(r.data.error.message, /scope/);
    } else {
      assert.ok([200, 201].includes(r.status), `${f}: ${JSON.stringify(r.data)}`);
    }
  }
});

test('import: DOCTYPE and external entities are refused and nothing is fetched or read', async () => {
  let connections = 0;
  const srv = createServer((s) => { connections++; s.destroy(); });
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  const port = srv.address().port;
  const docs = [
    `<?xml version="1.0"?>\n<!DOCTYPE alert [<!ENTITY x SYSTEM "http://127.0.0.1:${port}/x">]>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>`,
    `<?xml version="1.0"?>\n<!DOCTYPE alert SYSTEM "http://127.0.0.1:${port}/cap.dtd">\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>`,
    `<?xml version="1.0"?>\n<!doctype alert [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>`,
  ];
  for (const d of docs) {
    const r = await importCap(d, w.tok.operator);
    assert.equal(r.status, 422);
    assert.match(r.data.error.message, /DOCTYPE/);
  }
  const deep = `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">${'<a>'.repeat(50)}${'</a>'.repeat(50)}</alert>`;
  const rd = await importCap(deep, w.tok.operator);
  assert.equal(rd.status, 422);
  assert.match(rd.data.error.message, /deeper/);
  assert.equal(connections, 0);
  srv.close();
  const notXml = await fetch(`${w.srv.url}/api/v1/orgs/comune-b/alerts/import`, { method: 'POST', headers: { authorization: `Bearer ${w.tok.operator}`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(notXml.status, 415);
});

test('expiry is automatic: the test clock past `expires` shows verde', async () => {
  const data = mkdtempSync(join(tmpdir(), 'araldo-alerts-'));
  let srv = await startServer({ data });
  try {
    const tok = operatorToken(data);
    await api(srv.url, 'POST', '/api/v1/orgs', { as: tok, body: { slug: 'comune-c', name: 'C' } });
    await api(srv.url, 'POST', '/api/v1/orgs/comune-c/zones', { as: tok, body: { code: 'C1', name: 'C1' } });
    const a = await api(srv.url, 'POST', '/api/v1/orgs/comune-c/alerts', { as: tok, body: alert({ zones: ['C1'], expires: iso(Date.now() + 2 * hour) }) });
    assert.equal(a.status, 201, a.text);
    assert.equal((await api(srv.url, 'GET', '/api/v1/orgs/comune-c/alerts/current')).data.level, 'arancione');
    await srv.stop();
    srv = await startServer({ data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(3 * hour) } });
    const cur = (await api(srv.url, 'GET', '/api/v1/orgs/comune-c/alerts/current')).data;
    assert.equal(cur.level, 'verde');
    assert.equal(cur.alerts.length, 0);
  } finally {
    await srv.stop();
    rmSync(data, { recursive: true, force: true });
  }
});
