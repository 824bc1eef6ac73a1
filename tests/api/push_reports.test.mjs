// SPDX-License-Identifier: AGPL-3.0-or-later
// Web Push for citizen reports (issue 15, point 5): the real server sends to the mock push
// service (lib/pushsvc.mjs), which decrypts every message with the independent http_ece
// library. A staff status change or public note reaches every subscription of the report's
// followers exactly once and nobody else; an internal note reaches nobody; a merged duplicate's
// reporter hears of the original's changes; "forget me" deletes the link.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pushWorld } from './lib/pushworld.mjs';
import { sleep } from './lib/server.mjs';

let w;
before(async () => { w = await pushWorld(); });
after(async () => { await w?.close(); });

const got = (sub) => w.ps.subs.get(sub.id).got;
const msgs = (sub) => got(sub).map((m) => JSON.parse(m.text));
const until = async (subs, pred, ms = 15000) => {
  const t0 = Date.now();
  while (!subs.every((s) => msgs(s).some(pred))) {
    if (Date.now() - t0 > ms) throw new Error(`not delivered: ${JSON.stringify(subs.map((s) => msgs(s)))}`);
    await sleep(50);
  }
};
// Lets the queue drain: an idle queue is read every 200 ms, so anything wrongly queued with
// the change would have gone out well within this.
const settle = () => sleep(1200);

// A follower with a browser subscription (notifications on in the app), following nothing.
async function person() {
  const { token } = await w.ok(201, 'POST', '/api/v1/followers');
  const sub = w.ps.subscribe();
  await w.ok(201, 'POST', '/api/v1/push/subscriptions', { as: token, body: sub.json });
  return { token, sub };
}
async function file(as, fields = {}) {
  const r = await fetch(`${w.srv.url}/open311/v2/requests.json?jurisdiction_id=comune-a`, {
    method: 'POST',
    headers: { authorization: `Bearer ${as}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ service_code: 'strade-buche', lat: '43.7696', long: '11.2558', description: 'Buca profonda', ...fields }),
  });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return body[0].service_request_id;
}
const patch = (id, body) => w.ok(204, 'PATCH', `/api/v1/orgs/comune-a/reports/${id}`, { as: w.op, body });
const ofReport = (id) => (m) => m.kind === 'report' && m.report === id;

test('a status change reaches the reporter once, decrypted, and nobody else', async () => {
  const reporter = await person();
  const bystander = await person(); // subscribed, follows no report
  const channelFollower = await w.subscriber(await w.channel()); // follows a channel of the org
  const id = await file(reporter.token);
  await settle();
  assert.deepEqual(msgs(reporter.sub), [], 'filing it pushes nothing');

  await patch(id, { status: 'presa_in_carico', note: 'Squadra inviata domattina.\nDettagli interni no', note_public: true });
  await until([reporter.sub], ofReport(id));
  await settle();
  const mine = got(reporter.sub);
  assert.equal(mine.length, 1, JSON.stringify(msgs(reporter.sub)));
  assert.equal(mine[0].headers.topic, `report-${id}`);
  assert.equal(mine[0].headers.urgency, 'normal');
  assert.deepEqual(JSON.parse(mine[0].text), {
    kind: 'report', report: id, org: 'comune-a', status: 'presa_in_carico',
    title: `Segnalazione ${id}: Buca nella strada`, body: 'Presa in carico — Squadra inviata domattina.',
    title_en: `Report ${id}: Buca nella strada`, body_en: 'Acknowledged — Squadra inviata domattina.',
    url: `/#/segnalazioni?report=${id}`, tag: `report-${id}`,
  });
  assert.deepEqual(msgs(bystander.sub), []);
  assert.deepEqual(msgs(channelFollower.sub), []);
  // The payload names the report only: never the follower, its token or the report token.
  assert.ok(!mine[0].text.includes(reporter.token) && !mine[0].text.includes('report_'));

  // An internal note tells nobody; a public note alone does; so does the next status.
  await patch(id, { note: 'Nota interna: chiamare il fornitore', note_public: false });
  await settle();
  assert.equal(got(reporter.sub).length, 1, 'an internal note pushes nothing');
  await patch(id, { note: 'Lavori programmati per giovedì.', note_public: true });
  await until([reporter.sub], (m) => ofReport(id)(m) && m.body.includes('giovedì'));
  await patch(id, { status: 'risolta' });
  await until([reporter.sub], (m) => ofReport(id)(m) && m.status === 'risolta');
  await settle();
  const all = msgs(reporter.sub);
  assert.equal(all.length, 3, JSON.stringify(all));
  assert.ok(all.every((m) => m.tag === `report-${id}`), 'one tag: the device keeps the latest');
  assert.equal(all[2].body_en, 'Resolved — Lavori programmati per giovedì.');
  assert.deepEqual(msgs(bystander.sub), []);
  assert.deepEqual(msgs(channelFollower.sub), []);
});

test('every subscription of the reporter, "Anche io" followers; a report filed with an api_key tells nobody', async () => {
  const reporter = await person();
  const second = w.ps.subscribe(); // the reporter's other browser
  await w.ok(201, 'POST', '/api/v1/push/subscriptions', { as: reporter.token, body: second.json });
  const metoo = await person();
  const id = await file(reporter.token);
  await w.ok(204, 'PUT', `/api/v1/orgs/comune-a/reports/${id}/follow`, { as: metoo.token });
  await patch(id, { status: 'in_lavorazione' });
  await until([reporter.sub, second, metoo.sub], ofReport(id));
  await settle();
  for (const s of [reporter.sub, second, metoo.sub]) assert.equal(got(s).length, 1);

  const { api_key: key } = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/api-keys', { as: w.op, body: { name: 'app' } });
  const r = await fetch(`${w.srv.url}/open311/v2/requests.json`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ jurisdiction_id: 'comune-a', api_key: key, service_code: 'strade-buche', address_string: 'Via Roma 1' }),
  });
  assert.equal(r.status, 201);
  const other = (await r.json())[0].service_request_id;
  await patch(other, { status: 'presa_in_carico' });
  await settle();
  for (const s of [reporter.sub, second, metoo.sub]) assert.ok(!msgs(s).some(ofReport(other)));
});

test('a merged duplicate\'s reporter is told of the closure, then of the original\'s changes; forget me cuts the link', async () => {
  const first = await person();
  const dup = await person();
  const original = await file(first.token);
  const copy = await file(dup.token, { description: 'Stessa buca' });
  await patch(copy, { duplicate_of: original });
  await until([dup.sub], ofReport(copy));
  const closed = msgs(dup.sub).find(ofReport(copy));
  assert.equal(closed.status, 'chiusa');
  assert.equal(closed.body, 'Chiusa: già segnalata');
  assert.equal(closed.body_en, 'Closed: already reported');

  await patch(original, { status: 'presa_in_carico', note: 'In carico.', note_public: true });
  await until([first.sub, dup.sub], ofReport(original));
  await settle();
  assert.equal(msgs(first.sub).filter(ofReport(original)).length, 1);
  assert.equal(msgs(dup.sub).filter(ofReport(original)).length, 1, 'the duplicate\'s reporter follows the original');
  assert.ok(!msgs(first.sub).some(ofReport(copy)), 'the original\'s reporter is not told of the duplicate');

  // "Forget me": the follower goes, and with it the link to both reports (counts drop).
  const before = (await w.ok(200, 'GET', `/api/v1/orgs/comune-a/reports/${original}`, { as: w.op })).followers;
  await w.ok(204, 'DELETE', '/api/v1/me', { as: dup.token });
  const after = (await w.ok(200, 'GET', `/api/v1/orgs/comune-a/reports/${original}`, { as: w.op })).followers;
  assert.equal(after, before - 1);
  assert.equal((await w.ok(200, 'GET', `/api/v1/orgs/comune-a/reports/${copy}`, { as: w.op })).followers, 0);
  const n = got(dup.sub).length;
  await patch(original, { status: 'risolta' });
  await until([first.sub], (m) => ofReport(original)(m) && m.status === 'risolta');
  await settle();
  assert.equal(got(dup.sub).length, n, 'nothing after forget me');
});
