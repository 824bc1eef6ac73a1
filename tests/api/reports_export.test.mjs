// SPDX-License-Identifier: AGPL-3.0-or-later
// The console's export of the filtered report queue (issue 15, point 7): totals per service
// (group=service) and reports, without reporters' contact data; with it only for an org admin
// of that org asking explicitly, audited (a refused ask exports and audits nothing); and the
// zone filter (bbox) on the queue and the export.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from './lib/world.mjs';

let w;
const EMAIL = 'anna.verdi@example.it';
async function file(code, lat, long) {
  const token = await w.follower();
  const r = await fetch(`${w.srv.url}/open311/v2/requests.json?jurisdiction_id=comune-a`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ service_code: code, lat, long, email: EMAIL, phone: '+39 320 1112223', first_name: 'Anna' }),
  });
  assert.equal(r.status, 201);
  return (await r.json())[0].service_request_id;
}
const csv = async (q, as) => {
  const r = await fetch(`${w.srv.url}/api/v1/orgs/comune-a/reports.csv${q}`, { headers: { authorization: `Bearer ${as}` } });
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
};
const exportsAudited = async () => (await w.ok(200, 'GET', '/api/v1/orgs/comune-a/audit?action=report.export', { as: w.tok.org_admin })).entries;

let centre, centre2, edge, far;
before(async () => {
  w = await buildWorld();
  centre = await file('verde-albero', '43.7700', '11.2550');
  centre2 = await file('verde-albero', '43.7710', '11.2560');
  edge = await file('segnaletica', '43.7750', '11.2600');
  far = await file('verde-albero', '45.4642', '9.1900'); // another city
  await w.ok(204, 'PATCH', `/api/v1/orgs/comune-a/reports/${centre}`, { as: w.tok.channel_owner, body: { status: 'risolta' } });
});
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

test('totals per service of the filtered list: no contact data, audited', async () => {
  const before = (await exportsAudited()).length;
  const g = await csv('?group=service&bbox=43.76,11.24,43.78,11.27', w.tok.channel_admin);
  assert.equal(g.status, 200);
  assert.match(g.type, /^text\/csv/);
  const lines = g.text.trim().split('\r\n');
  assert.equal(lines[0], 'service_code,service_name,received,open,resolved,closed,median_first_answer_seconds,median_resolution_seconds');
  const rows = Object.fromEntries(lines.slice(1).map((l) => [l.split(',')[0], l.split(',')]));
  assert.deepEqual(Object.keys(rows).sort(), ['segnaletica', 'verde-albero'], 'the far report is outside the zone');
  assert.deepEqual(rows['verde-albero'].slice(1, 6), ['Albero pericolante o caduto', '2', '1', '1', '0']);
  assert.match(rows['verde-albero'][6], /^\d+$/);
  assert.match(rows['verde-albero'][7], /^\d+$/);
  assert.deepEqual(rows.segnaletica.slice(2, 8), ['1', '1', '0', '0', '', '']);
  assert.ok(!g.text.includes(EMAIL) && !g.text.includes('Anna'));
  const after = await exportsAudited();
  assert.equal(after.length, before + 1);
  assert.deepEqual(after[0].detail, { rows: 3, contact: false, group: 'service' });
  // totals never carry contact data: asking for both is refused
  const both = await csv('?group=service&contact=true', w.tok.org_admin);
  assert.equal(both.status, 400);
  assert.equal(JSON.parse(both.text).error.field, 'group');
  assert.equal((await csv('?group=office', w.tok.org_admin)).status, 400);
});

test('contact data: staff are refused and nothing is audited; the org admin gets it, audited with their name', async () => {
  const before = (await exportsAudited()).length;
  for (const as of [w.tok.channel_admin, w.tok.channel_owner, w.tok.operator, w.tok.other_org]) {
    const r = await csv('?contact=true', as);
    assert.equal(r.status, 403);
    assert.ok(!r.text.includes(EMAIL));
  }
  assert.equal((await exportsAudited()).length, before, 'a refused export leaves no entry and exports nothing');
  const plain = await csv('?bbox=43.76,11.24,43.78,11.27', w.tok.channel_admin);
  assert.equal(plain.status, 200);
  assert.ok(!plain.text.includes(EMAIL));
  assert.equal(plain.text.trim().split('\r\n').length, 4, 'header + three reports in the zone');
  const full = await csv('?contact=true&service_code=verde-albero', w.tok.org_admin);
  assert.equal(full.status, 200);
  assert.ok(full.text.split('\r\n')[0].endsWith(',email,phone,first_name,last_name'));
  assert.ok(full.text.includes(EMAIL));
  const entries = await exportsAudited();
  assert.equal(entries.length, before + 2);
  assert.deepEqual(entries[0].detail, { rows: 3, contact: true });
  assert.equal(entries[0].actor.email, 'orgadmin@a.it');
  assert.ok(!JSON.stringify(entries).includes(EMAIL), 'the audit log names no reporter');
});

test('the queue\'s zone filter', async () => {
  const q = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/reports?bbox=43.76,11.24,43.78,11.27', { as: w.tok.channel_admin });
  assert.deepEqual(q.reports.map((r) => r.id).sort(), [centre, centre2, edge].sort());
  const milano = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/reports?bbox=45.4,9.1,45.5,9.3', { as: w.tok.channel_admin });
  assert.deepEqual(milano.reports.map((r) => r.id), [far]);
  for (const bad of ['43.78,11.24,43.76,11.27', '1,2,3', 'a,b,c,d']) {
    const r = await w.call('GET', `/api/v1/orgs/comune-a/reports?bbox=${bad}`, { as: w.tok.channel_admin });
    assert.equal(r.status, 400, bad);
    assert.equal(r.data.error.field, 'bbox');
  }
});
