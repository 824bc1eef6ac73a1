// SPDX-License-Identifier: AGPL-3.0-or-later
// Web Push for civil-protection alerts (issue 13, point 4): the real server sends to the mock
// push service (lib/pushsvc.mjs), which decrypts every message. One notification per
// subscription of every follower of any of the org's channels (muted and opted out included),
// Urgency and TTL from the alert, Test and Exercise alerts push nothing, an Update and a Cancel
// replace the notification (same Topic and tag), the two-person rule pushes on approval.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pushWorld } from './lib/pushworld.mjs';
import { sleep } from './lib/server.mjs';

let w;
const hour = 3600 * 1000;
const iso = (ms) => new Date(ms).toISOString();

before(async () => {
  w = await pushWorld();
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/zones', { as: w.op, body: { code: 'ZA-1', name: 'Zona A <b>' } });
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/zones', { as: w.op, body: { code: 'FRAZ', name: 'Frazione Alta' } });
});
after(async () => { await w?.close(); });

const publish = async (body, status = 201) => w.ok(status, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.op, body });
const alert = (extra = {}) => ({
  zones: ['ZA-1', 'FRAZ'], risk: 'idraulico', level: 'arancione',
  expires: iso(Date.now() + 6 * hour),
  info: [{ language: 'it', headline: 'Allerta arancione idraulica', instruction: 'Evitate i sottopassi.' },
    { language: 'en', headline: 'Orange flood alert' }],
  ...extra,
});
const got = (sub) => w.ps.subs.get(sub.id).got;
const msgs = (sub) => got(sub).map((m) => JSON.parse(m.text));
// Waits until every one of `subs` has a notification tagged `tag` (or throws after `ms`).
const until = async (subs, pred, ms = 15000) => {
  const t0 = Date.now();
  while (!subs.every((s) => msgs(s).some(pred))) {
    if (Date.now() - t0 > ms) throw new Error(`not delivered: ${JSON.stringify(subs.map((s) => msgs(s)))}`);
    await sleep(50);
  }
};

test('an alert reaches every follower of any of the org channels once per subscription, muted too', async (t) => {
  const [c1, c2, c3] = [await w.channel(), await w.channel(), await w.channel()];
  const other = await w.ok(201, 'POST', '/api/v1/channels', {
    as: w.op, body: { org: 'comune-b', handle: 'altro-comune', name: 'Altro Comune', category: 'civil_protection', language: 'it' },
  });
  assert.ok(other);
  // Follows three channels of the org: one notification, not three.
  const three = await w.subscriber(c1);
  for (const h of [c2, c3]) await w.ok(204, 'PUT', `/api/v1/channels/${h}/follow`, { as: three.token });
  // A second browser of the same follower gets its own.
  const second = w.ps.subscribe();
  await w.ok(201, 'POST', '/api/v1/push/subscriptions', { as: three.token, body: second.json });
  const muted = await w.subscriber(c2);
  await w.ok(204, 'PUT', `/api/v1/channels/${c2}/mute`, { as: muted.token });
  const optedOut = await w.subscriber(c3);
  await w.ok(204, 'DELETE', `/api/v1/channels/${c3}/push`, { as: optedOut.token });
  const elsewhere = await w.subscriber('altro-comune');

  const t0 = Date.now();
  const a = await publish(alert());
  const tag = `alert-${a.id}`;
  await until([three.sub, second, muted.sub, optedOut.sub], (m) => m.tag === tag);
  // Measured, not asserted (no timed assertions): from the POST to the last notification.
  const last = Math.max(...[three.sub, second, muted.sub, optedOut.sub].map((s) => got(s).find((m) => JSON.parse(m.text).tag === tag).at));
  t.diagnostic(`POST to last of 4 notifications: ${last - t0} ms`);
  for (const s of [three.sub, second, muted.sub, optedOut.sub]) {
    const mine = got(s).filter((m) => JSON.parse(m.text).tag === tag);
    assert.equal(mine.length, 1, `subscription ${s.id} got ${mine.length}`);
    const hd = mine[0].headers;
    assert.equal(hd.urgency, 'high');
    assert.equal(hd.topic, tag);
    // TTL until the alert expires (6 h), not the post TTL (12 h).
    assert.ok(Number(hd.ttl) > 6 * 3600 - 120 && Number(hd.ttl) <= 6 * 3600, `TTL ${hd.ttl}`);
    const p = JSON.parse(mine[0].text);
    assert.deepEqual(p, {
      kind: 'alert', alert: a.id, org: 'comune-a', msg_type: 'Alert', level: 'arancione', phase: 'preallarme',
      risk: 'idraulico', risk_name: 'Idraulico', expires: a.expires, onset: a.onset,
      zones: ['Zona A <b>', 'Frazione Alta'], headline: 'Allerta arancione idraulica',
      headline_en: 'Orange flood alert', url: '/allerta/comune-a', tag,
    });
  }
  assert.deepEqual(msgs(elsewhere.sub), [], 'a follower of another org only gets nothing');
  // The campaign's progress, for the org's staff: four subscriptions, each once.
  let p;
  for (const t0p = Date.now(); ; await sleep(50)) {
    p = await w.ok(200, 'GET', `/api/v1/alerts/${a.id}/push`, { as: w.op });
    if (p.remaining === 0 || Date.now() - t0p > 15000) break;
  }
  assert.deepEqual({ alert_id: p.alert_id, pushed: p.pushed, total: p.total, sent: p.sent, failed: p.failed, running: p.running },
    { alert_id: a.id, pushed: true, total: 4, sent: 4, failed: 0, running: false });
  assert.equal((await w.call('GET', `/api/v1/alerts/${a.id}/push`, { as: three.token })).status, 404);
  assert.equal((await w.call('GET', `/api/v1/alerts/${a.id}/push`)).status, 404);
  await publish({ msg_type: 'Cancel', references: [a.id] });
});

test('giallo is normal urgency; TTL at most 24 h; an Update and a Cancel replace it (same Topic and tag)', async () => {
  const s = await w.subscriber(await w.channel());
  const a = await publish(alert({ level: 'giallo', risk: 'vento', expires: iso(Date.now() + 72 * hour) }));
  const tag = `alert-${a.id}`;
  await until([s.sub], (m) => m.alert === a.id);
  let m = got(s.sub).find((x) => JSON.parse(x.text).alert === a.id);
  assert.equal(m.headers.urgency, 'normal');
  assert.ok(Number(m.headers.ttl) > 86400 - 120 && Number(m.headers.ttl) <= 86400, `TTL ${m.headers.ttl}`);

  const up = await publish({ msg_type: 'Update', references: [a.id], level: 'rosso' });
  await until([s.sub], (x) => x.alert === up.id);
  m = got(s.sub).find((x) => JSON.parse(x.text).alert === up.id);
  assert.equal(m.headers.urgency, 'high');
  assert.equal(m.headers.topic, tag);
  assert.equal(JSON.parse(m.text).tag, tag);
  assert.equal(JSON.parse(m.text).msg_type, 'Update');

  // An Update of the Update keeps the first alert's Topic; a Cancel is not urgent.
  const cancel = await publish({ msg_type: 'Cancel', references: [up.id] });
  await until([s.sub], (x) => x.alert === cancel.id);
  m = got(s.sub).find((x) => JSON.parse(x.text).alert === cancel.id);
  assert.equal(m.headers.topic, tag);
  assert.equal(m.headers.urgency, 'normal');
  assert.equal(JSON.parse(m.text).msg_type, 'Cancel');
});

test('Test and Exercise alerts push nothing', async () => {
  const s = await w.subscriber(await w.channel());
  const t = await publish(alert({ status: 'Test' }));
  const e = await publish(alert({ status: 'Exercise', level: 'rosso' }));
  // The queue is first due, first sent: once a later Actual alert has arrived, the two
  // before it would have too.
  const a = await publish(alert({ risk: 'neve', level: 'giallo' }));
  await until([s.sub], (x) => x.alert === a.id);
  const ids = msgs(s.sub).map((x) => x.alert);
  assert.ok(!ids.includes(t.id), 'Test alert pushed');
  assert.ok(!ids.includes(e.id), 'Exercise alert pushed');
  assert.equal((await w.ok(200, 'GET', `/api/v1/alerts/${e.id}/push`, { as: w.op })).pushed, false);
  await publish({ msg_type: 'Cancel', references: [a.id] });
});

// An org admin of comune-a with an API token (the second person of the two-person rule).
async function orgAdmin(email) {
  const made = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/staff', { as: w.op, body: { email, role: 'org_admin' } });
  const r = await fetch(`${w.srv.url}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: made.password }),
  });
  assert.equal(r.status, 200);
  const cookie = (r.headers.get('set-cookie') || '').split(';')[0];
  const { csrf_token: csrf } = await r.json();
  const t = await fetch(`${w.srv.url}/api/v1/tokens`, {
    method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'tests' }),
  });
  assert.equal(t.status, 201);
  return (await t.json()).token;
}

test('two-person rule: a pending rosso alert pushes only when approved, then like any other', async () => {
  const s = await w.subscriber(await w.channel());
  const second = await orgAdmin('second@a.it');
  await w.ok(200, 'PUT', '/api/v1/orgs/comune-a/alerts/settings', { as: w.op, body: { two_person_rule: true } });
  const p = await publish(alert({ level: 'rosso', risk: 'temporali' }), 202);
  const marker = await publish(alert({ level: 'giallo', risk: 'ghiaccio' }));
  await until([s.sub], (x) => x.alert === marker.id);
  assert.ok(!msgs(s.sub).some((x) => x.alert === p.id), 'a pending alert pushed');
  await w.ok(200, 'POST', `/api/v1/alerts/${p.id}/approve`, { as: second });
  await until([s.sub], (x) => x.alert === p.id);
  const m = got(s.sub).filter((x) => JSON.parse(x.text).alert === p.id);
  assert.equal(m.length, 1);
  assert.equal(m[0].headers.urgency, 'high');
  assert.equal(m[0].headers.topic, `alert-${p.id}`);
  await w.ok(200, 'PUT', '/api/v1/orgs/comune-a/alerts/settings', { as: w.op, body: { two_person_rule: false } });
});
