// SPDX-License-Identifier: AGPL-3.0-or-later
// Citizen reports through /api/v1 (docs/API.md, Citizen reports): the catalogue and settings,
// api keys (hashed, per-key rate, revoked), the workflow with public and internal notes,
// assignment, merge, hiding, forwarding, reopening within 14 days, duplicates within 100 m,
// statistics, the CSV export and its audit, retention of contact data, rate limits — and
// privacy: reporters' contact data only to staff of that org, never in public answers or logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer, operatorToken, api, waitFor } from './lib/server.mjs';
import { buildWorld } from './lib/world.mjs';
import { png } from '../fixtures/media/gen.mjs';

let w;
before(async () => { w = await buildWorld(); });
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

const CONTACT = { email: 'giulia.bianchi@example.it', phone: '+39 333 1234567', first_name: 'Giulia', last_name: 'Bianchi', device_id: 'device-xyz-42', account_id: 'acct-7777' };
const SECRETS = Object.values(CONTACT);

async function file(fields, { as, url = w.srv.url } = {}) {
  const token = as || await w.follower();
  const r = await fetch(`${url}/open311/v2/requests.json?jurisdiction_id=comune-a`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ service_code: 'strade-buche', lat: '43.7696', long: '11.2558', description: 'Buca', ...fields }),
  });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return { id: body[0].service_request_id, token: body[0].token, follower: token };
}
const o311 = async (path) => (await fetch(`${w.srv.url}/open311/v2/${path}${path.includes('?') ? '&' : '?'}jurisdiction_id=comune-a`)).json();
const patch = (id, body, as = w.tok.channel_owner) => w.call('PATCH', `/api/v1/orgs/comune-a/reports/${id}`, { as, body });
const staffGet = (id, as = w.tok.channel_owner) => w.call('GET', `/api/v1/orgs/comune-a/reports/${id}`, { as });

test('catalogue: staff read it, org admins add, change and withdraw services; Open311 shows the change', async () => {
  const list = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/services', { as: w.tok.channel_owner });
  assert.ok(list.services.length >= 15);
  assert.ok(list.services.every((s) => s.first_answer_hours >= 1 && s.resolution_hours >= 1));
  const body = {
    name: 'Panchina rotta', description: 'Panchine danneggiate', group: 'Decoro e vandalismo', keywords: 'panchina',
    first_answer_hours: 24, resolution_hours: 240, agency: 'Ufficio Manutenzioni',
    attributes: [{ code: 'materiale', datatype: 'multivaluelist', required: true, description: 'Materiale', values: [{ key: 'legno', name: 'Legno' }, { key: 'ferro', name: 'Ferro' }] }],
  };
  assert.equal((await w.call('PUT', '/api/v1/orgs/comune-a/services/panchina', { as: w.tok.channel_owner, body })).status, 403, 'staff do not edit');
  assert.equal((await w.call('PUT', '/api/v1/orgs/comune-a/services/panchina', { as: w.tok.org_admin, body })).status, 204);
  const def = await o311('services/panchina.json');
  assert.equal(def.attributes[0].datatype, 'multivaluelist');
  assert.equal(def.attributes[0].order, 1);
  // multivaluelist: attribute[code][] repeated.
  const token = await w.follower();
  const r = await fetch(`${w.srv.url}/open311/v2/requests.json?jurisdiction_id=comune-a`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'service_code=panchina&lat=43.77&long=11.25&attribute%5Bmateriale%5D%5B%5D=legno&attribute%5Bmateriale%5D%5B%5D=ferro',
  });
  const made = await r.json();
  assert.equal(r.status, 201, JSON.stringify(made));
  const detail = (await staffGet(made[0].service_request_id)).data;
  assert.deepEqual(detail.attributes, { materiale: ['legno', 'ferro'] });
  assert.equal(detail.agency, 'Ufficio Manutenzioni', 'the service office is assigned at once');
  // Bad definitions are refused, naming the attribute.
  const bad = await w.call('PUT', '/api/v1/orgs/comune-a/services/x1', { as: w.tok.org_admin, body: { name: 'X', attributes: [{ code: 'a', datatype: 'colour', description: 'd' }] } });
  assert.equal(bad.status, 400);
  assert.equal(bad.data.error.field, 'attributes');
  assert.equal((await w.call('PUT', '/api/v1/orgs/comune-a/services/x1', { as: w.tok.org_admin, body: { name: 'X', attributes: [{ code: 'a', datatype: 'singlevaluelist', description: 'd' }] } })).status, 400);
  // Withdrawn: gone from the catalogue, its reports keep it.
  assert.equal((await w.call('DELETE', '/api/v1/orgs/comune-a/services/panchina', { as: w.tok.org_admin })).status, 204);
  assert.ok(!(await o311('services.json')).some((s) => s.service_code === 'panchina'));
  assert.equal((await fetch(`${w.srv.url}/open311/v2/services/panchina.json?jurisdiction_id=comune-a`)).status, 404);
  assert.equal((await o311(`requests/${made[0].service_request_id}.json`))[0].service_code, 'panchina');
  assert.equal((await w.call('DELETE', '/api/v1/orgs/comune-a/services/panchina', { as: w.tok.org_admin })).status, 404);
  // Another org's staff cannot see or touch it.
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/services', { as: w.tok.other_org })).status, 403);
});

test('a new org gets the default catalogue at once', async () => {
  await w.ok(201, 'POST', '/api/v1/orgs', { as: w.tok.operator, body: { slug: 'comune-nuovo', name: 'Comune Nuovo' } });
  const s = await (await fetch(`${w.srv.url}/open311/v2/services.json?jurisdiction_id=comune-nuovo`)).json();
  assert.ok(s.length >= 15);
});

test('api keys: created once in clear, stored hashed, limited to their rate, revoked', async () => {
  const k = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/api-keys', { as: w.tok.org_admin, body: { name: 'App civica', rate_per_minute: 2 } });
  assert.match(k.api_key, /^o311_/);
  assert.equal(k.rate_per_minute, 2);
  const list = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/api-keys', { as: w.tok.org_admin });
  assert.ok(list.api_keys.some((x) => x.id === k.id));
  assert.ok(!JSON.stringify(list).includes(k.api_key), 'never shown again');
  const send = () => fetch(`${w.srv.url}/open311/v2/requests.json`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ jurisdiction_id: 'comune-a', api_key: k.api_key, service_code: 'altro', address_string: 'Piazza Grande' }),
  });
  assert.equal((await send()).status, 201);
  assert.equal((await send()).status, 201);
  const third = await send();
  assert.equal(third.status, 429);
  assert.ok(Number(third.headers.get('retry-after')) >= 1);
  const d = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/api-keys', { as: w.tok.operator });
  assert.equal(d.rate_per_minute, 600, 'the default rate');
  assert.equal((await w.call('DELETE', `/api/v1/orgs/comune-a/api-keys/${k.id}`, { as: w.tok.org_admin })).status, 204);
  assert.equal((await send()).status, 403, 'revoked');
  assert.equal((await w.call('DELETE', `/api/v1/orgs/comune-a/api-keys/${k.id}`, { as: w.tok.org_admin })).status, 404);
  assert.equal((await w.call('POST', '/api/v1/orgs/comune-a/api-keys', { as: w.tok.org_admin, body: { rate_per_minute: 0 } })).status, 400);
});

test('workflow: statuses, public and internal notes, assignment, expected_datetime, invalid transitions', async () => {
  const { id } = await file({});
  let q = (await o311(`requests/${id}.json`))[0];
  assert.equal(q.status, 'open');
  assert.equal(q.status_notes, null);
  assert.equal((await patch(id, { status: 'presa_in_carico', note: 'Sopralluogo previsto lunedì', note_public: true, agency: 'Ufficio Strade' })).status, 204);
  assert.equal((await patch(id, { note: 'Chiamare la ditta Rossi (interno)' })).status, 204);
  q = (await o311(`requests/${id}.json`))[0];
  assert.equal(q.status, 'open');
  assert.equal(q.status_notes, 'Sopralluogo previsto lunedì');
  assert.equal(q.agency_responsible, 'Ufficio Strade');
  assert.ok(!JSON.stringify(q).includes('ditta Rossi'), 'an internal note stays internal');
  const d = (await staffGet(id)).data;
  assert.equal(d.status, 'presa_in_carico');
  assert.ok(d.first_answer_at);
  assert.deepEqual(d.notes.map((n) => n.public), [true, false]);
  assert.equal(d.notes[0].author, 'owner@a.it');
  assert.equal((await patch(id, { expected_datetime: '2027-01-15T12:00:00+01:00', service_notice: 'Intervento in gara' })).status, 204);
  q = (await o311(`requests/${id}.json`))[0];
  assert.equal(q.expected_datetime, '2027-01-15T12:00:00+01:00');
  assert.equal(q.service_notice, 'Intervento in gara');
  assert.equal((await patch(id, { status: 'nuova' })).status, 409, 'no going back to nuova');
  assert.equal((await patch(id, { status: 'in_lavorazione' })).status, 204);
  assert.equal((await patch(id, { status: 'risolta', note: 'Buca chiusa', note_public: true })).status, 204);
  q = (await o311(`requests/${id}.json`))[0];
  assert.equal(q.status, 'closed');
  assert.equal(q.expected_datetime, null);
  assert.equal((await patch(id, { status: 'chiusa' })).status, 400, 'closing needs a reason');
  assert.equal((await patch(id, { status: 'chiusa', close_reason: 'non_riproducibile' })).status, 204);
  assert.equal((await patch(id, { status: 'in_lavorazione' })).status, 409, 'a closed report stays closed');
  assert.equal((await patch(id, { status: 'sparita' })).status, 400);
  assert.equal((await patch(id, {})).status, 400);
  assert.equal((await patch('999999', { note: 'x' })).status, 404);
  assert.equal((await patch(id, { note: 'x' }, w.tok.other_org)).status, 403);
});

test('merge: the duplicate is closed, points to the original, and its reporter follows the original', async () => {
  const orig = await file({ description: 'Buca originale' });
  const dup = await file({ description: 'Stessa buca' });
  assert.equal((await patch(dup.id, { duplicate_of: orig.id, note: 'Già segnalata', note_public: true })).status, 204);
  const q = (await o311(`requests/${dup.id}.json`))[0];
  assert.equal(q.status, 'closed');
  const d = (await staffGet(dup.id)).data;
  assert.equal(d.close_reason, 'duplicato');
  assert.equal(d.duplicate_of, orig.id);
  assert.equal((await staffGet(orig.id)).data.followers, 2, 'the duplicate reporter now follows the original');
  const view = await w.ok(200, 'GET', `/api/v1/reports/follow/${dup.token}`);
  assert.equal(view.merged_into.service_request_id, orig.id);
  assert.equal((await patch(orig.id, { duplicate_of: orig.id })).status, 400, 'not into itself');
  assert.equal((await patch(dup.id, { duplicate_of: '999999' })).status, 404);
  const third = await file({});
  assert.equal((await patch(dup.id, { duplicate_of: third.id })).status, 409, 'a closed report is merged once');
});

test('hide: text and photo; photos public only once approved when moderated', async () => {
  const token = await w.follower();
  const form = new FormData();
  for (const [k, v] of Object.entries({ jurisdiction_id: 'comune-a', service_code: 'strade-buche', lat: '43.77', long: '11.25', description: 'Testo offensivo' })) form.append(k, v);
  form.append('media', new Blob([png(32, 32)]), 'x.png');
  const r = await fetch(`${w.srv.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const [{ service_request_id: id }] = await r.json();
  assert.equal((await o311(`requests/${id}.json`))[0].media_url, null);
  const d = (await staffGet(id)).data;
  assert.equal(d.photo.state, 'pending');
  assert.ok((await fetch(d.photo.small_url.replace(/^https?:\/\/[^/]+/, w.srv.url))).ok, 'staff can see it to moderate');
  assert.equal((await patch(id, { photo: 'approved' })).status, 204);
  assert.match((await o311(`requests/${id}.json`))[0].media_url, /\/media\/[\w-]+\/large$/);
  assert.equal((await patch(id, { photo: 'hidden', text_hidden: true })).status, 204);
  const q = (await o311(`requests/${id}.json`))[0];
  assert.equal(q.media_url, null);
  assert.equal(q.description, '');
  assert.equal((await patch(id, { photo: 'blurred' })).status, 400);
  // With moderation off, photos are public at once.
  assert.equal((await w.call('PATCH', '/api/v1/orgs/comune-a/report-settings', { as: w.tok.channel_owner, body: { report_photos_moderated: false } })).status, 403);
  assert.equal((await w.call('PATCH', '/api/v1/orgs/comune-a/report-settings', { as: w.tok.org_admin, body: { report_photos_moderated: false } })).status, 204);
  const r2 = await fetch(`${w.srv.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const [{ service_request_id: id2 }] = await r2.json();
  assert.ok((await o311(`requests/${id2}.json`))[0].media_url);
  await w.ok(204, 'PATCH', '/api/v1/orgs/comune-a/report-settings', { as: w.tok.org_admin, body: { report_photos_moderated: true } });
  const s = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/report-settings', { as: w.tok.channel_owner });
  assert.deepEqual(s, { report_photos_moderated: true, report_retention_days: 365, contact: '', key_service: '' });
});

test('forwarding to another body is recorded and shown as closed with a public note', async () => {
  const { id } = await file({});
  assert.equal((await patch(id, { forwarded_to: 'Publiacqua S.p.A.', note: 'Inoltrata al gestore idrico', note_public: true })).status, 204);
  const q = (await o311(`requests/${id}.json`))[0];
  assert.equal(q.status, 'closed');
  assert.equal(q.status_notes, 'Inoltrata al gestore idrico');
  const d = (await staffGet(id)).data;
  assert.equal(d.forwarded_to, 'Publiacqua S.p.A.');
  assert.equal(d.close_reason, 'inoltrata');
});

test('reopen: "Non è risolto" within 14 days puts a solved report back in the queue; not an open one', async () => {
  const { id, token } = await file({});
  assert.equal((await w.call('POST', `/api/v1/reports/follow/${token}/reopen`, { body: {} })).status, 409);
  await patch(id, { status: 'risolta' });
  let v = await w.ok(200, 'GET', `/api/v1/reports/follow/${token}`);
  assert.equal(v.can_reopen, true);
  assert.equal(v.request.status, 'closed');
  assert.equal((await w.call('POST', `/api/v1/reports/follow/${token}/reopen`, { body: { note: 'La buca è ancora lì' } })).status, 204);
  v = await w.ok(200, 'GET', `/api/v1/reports/follow/${token}`);
  assert.equal(v.status_detail, 'nuova');
  assert.equal(v.request.status_notes, 'La buca è ancora lì');
  assert.equal((await staffGet(id)).data.reopened, 1);
  assert.equal((await w.call('GET', '/api/v1/reports/follow/report_inesistente')).status, 404);
  assert.equal((await w.call('POST', '/api/v1/reports/follow/report_inesistente/reopen', { body: {} })).status, 404);
});

test('reopen after 14 days is refused', async () => {
  const s = await startServer();
  try {
    const op = operatorToken(s.data);
    await api(s.url, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'comune-r', name: 'R' } });
    const f = (await api(s.url, 'POST', '/api/v1/followers')).data.token;
    const [made] = await (await fetch(`${s.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${f}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'service_code=altro&address_id=1' })).json();
    assert.equal((await api(s.url, 'PATCH', `/api/v1/orgs/comune-r/reports/${made.service_request_id}`, { as: op, body: { status: 'risolta' } })).status, 204);
    await s.stop();
    const s2 = await startServer({ data: s.data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(15 * 86400000) } });
    try {
      assert.equal((await api(s2.url, 'GET', `/api/v1/reports/follow/${made.token}`)).data.can_reopen, false);
      assert.equal((await api(s2.url, 'POST', `/api/v1/reports/follow/${made.token}/reopen`, { body: {} })).status, 409);
    } finally { await s2.stop(); }
  } finally { await s.stop(); s.cleanup(); }
});

test('"È già stato segnalato?": open reports of the same service within 100 m, near and far, inside Italy', async () => {
  // Lampedusa and Vipiteno: the box of Italy is far from the antimeridian; longitude degrees shrink with latitude.
  for (const [lat, lon] of [[35.5, 12.6], [46.9, 11.43], [43.7696, 11.2558]]) {
    const code = 'illuminazione-guasto';
    const near = await file({ service_code: code, lat: String(lat), long: String(lon) });
    const q = (dlat, dlon, extra = '') => w.ok(200, 'GET', `/api/v1/orgs/comune-a/reports/nearby?service_code=${code}&lat=${lat + dlat}&long=${lon + dlon}${extra}`);
    // 60 m north, and 60 m east (in degrees of longitude at that latitude): found.
    const dlon60 = 60 / (111320 * Math.cos(lat * Math.PI / 180));
    assert.ok((await q(60 / 111320, 0)).requests.some((r) => r.service_request_id === near.id), `60 m north at ${lat}`);
    assert.ok((await q(0, dlon60)).requests.some((r) => r.service_request_id === near.id), `60 m east at ${lat}`);
    // 150 m away: not within 100 m, but within a 200 m radius.
    assert.ok(!(await q(150 / 111320, 0)).requests.some((r) => r.service_request_id === near.id), `150 m at ${lat}`);
    assert.ok((await q(150 / 111320, 0, '&radius=200')).requests.some((r) => r.service_request_id === near.id));
    // Another service at the same place is no duplicate; a closed report is none either.
    assert.ok(!(await w.ok(200, 'GET', `/api/v1/orgs/comune-a/reports/nearby?service_code=altro&lat=${lat}&long=${lon}`)).requests.some((r) => r.service_request_id === near.id));
    await patch(near.id, { status: 'risolta' });
    assert.ok(!(await q(0, 0)).requests.some((r) => r.service_request_id === near.id));
  }
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/reports/nearby?service_code=altro&lat=91&long=0')).status, 400);
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/reports/nearby?service_code=altro&lat=43&long=11&radius=5000')).status, 400);
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/reports/nearby?lat=43&long=11')).status, 400);
});

test('"Anche io": a follower follows an existing report', async () => {
  const { id } = await file({});
  const other = await w.follower();
  assert.equal((await w.call('PUT', `/api/v1/orgs/comune-a/reports/${id}/follow`, { as: other })).status, 204);
  assert.equal((await w.call('PUT', `/api/v1/orgs/comune-a/reports/${id}/follow`, { as: other })).status, 204, 'idempotent');
  assert.equal((await staffGet(id)).data.followers, 2);
  assert.equal((await w.call('PUT', `/api/v1/orgs/comune-a/reports/${id}/follow`)).status, 401);
  assert.equal((await w.call('PUT', '/api/v1/orgs/comune-a/reports/999999/follow', { as: other })).status, 404);
});

test('statistics per service: received, median times, share solved (public JSON and discovery)', async () => {
  const raw = await fetch(`${w.srv.url}/api/v1/orgs/comune-a/reports/statistics`);
  assert.equal(raw.headers.get('cache-control'), 'public, max-age=300');
  const s = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/reports/statistics');
  const buche = s.services.find((x) => x.service_code === 'strade-buche');
  assert.ok(buche.received >= 5);
  assert.ok(buche.median_first_answer_seconds >= 0);
  assert.ok(buche.share_solved > 0 && buche.share_solved <= 1);
  const disc = await o311('discovery.json');
  assert.deepEqual(disc.statistics.find((x) => x.service_code === 'strade-buche'), buche);
});

test('queue filters and the CSV export: without contact data unless the org admin asks, always audited', async () => {
  const mine = await file({ service_code: 'verde-albero', ...CONTACT, lat: '43.9', long: '11.9' });
  const q = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/reports?service_code=verde-albero&status=nuova', { as: w.tok.channel_owner });
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/reports', { as: w.tok.channel_owner })).headers.get('cache-control'), 'no-store');
  assert.ok(q.reports.length >= 1 && q.reports.every((r) => r.service_code === 'verde-albero' && r.status === 'nuova'));
  assert.ok(!('contact' in q.reports[0]), 'the list carries no contact data');
  const box = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/reports?bbox=43.89,11.89,43.91,11.91', { as: w.tok.channel_owner });
  assert.deepEqual(box.reports.map((r) => r.id), [mine.id]);
  assert.equal((await w.ok(200, 'GET', '/api/v1/orgs/comune-a/reports?older_than_days=1', { as: w.tok.channel_owner })).reports.length, 0);
  assert.ok((await w.ok(200, 'GET', '/api/v1/orgs/comune-a/reports?agency=Ufficio%20Strade', { as: w.tok.channel_owner })).reports.length >= 1);
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/reports?status=boh', { as: w.tok.channel_owner })).status, 400);
  const p = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/reports?page=2&page_size=1&order=newest', { as: w.tok.channel_owner });
  assert.equal(p.reports.length, 1);

  const plain = await fetch(`${w.srv.url}/api/v1/orgs/comune-a/reports.csv?service_code=verde-albero`, { headers: { authorization: `Bearer ${w.tok.channel_owner}` } });
  assert.equal(plain.status, 200);
  assert.match(plain.headers.get('content-type'), /^text\/csv/);
  const text = await plain.text();
  assert.match(text, /^id,created_at,service_code,status,/);
  for (const s of SECRETS) assert.ok(!text.includes(s), `CSV without contact: ${s}`);
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/reports.csv?contact=true', { as: w.tok.channel_owner })).status, 403);
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/reports.csv?contact=true', { as: w.tok.operator })).status, 403);
  const full = await fetch(`${w.srv.url}/api/v1/orgs/comune-a/reports.csv?contact=true&service_code=verde-albero`, { headers: { authorization: `Bearer ${w.tok.org_admin}` } });
  const ftext = await full.text();
  assert.match(ftext.split('\r\n')[0], /,email,phone,first_name,last_name$/);
  assert.ok(ftext.includes(CONTACT.email));
  const audit = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/audit', { as: w.tok.org_admin });
  const exports = audit.entries.filter((e) => e.action === 'report.export');
  assert.ok(exports.length >= 2);
  assert.ok(exports.some((e) => JSON.stringify(e).includes('"contact":true')));
  for (const s of SECRETS) assert.ok(!JSON.stringify(audit).includes(s), 'the audit log names no reporter');
});

test('CSV cells that look like formulas are defused', async () => {
  await file({ service_code: 'segnaletica', description: '=HYPERLINK("http://x","y")' });
  const text = await (await fetch(`${w.srv.url}/api/v1/orgs/comune-a/reports.csv?service_code=segnaletica`, { headers: { authorization: `Bearer ${w.tok.channel_owner}` } })).text();
  assert.ok(text.includes(`"'=HYPERLINK(""http://x"",""y"")"`), text);
});

test('privacy: contact data only for staff of that org — never in public answers, follow links, the operator view or logs', async () => {
  const mine = await file({ ...CONTACT, description: 'Privacy' });
  const staff = (await staffGet(mine.id)).data;
  assert.deepEqual(staff.contact, { email: CONTACT.email, phone: CONTACT.phone, first_name: 'Giulia', last_name: 'Bianchi', device_id: CONTACT.device_id, account_id: CONTACT.account_id });
  assert.equal((await staffGet(mine.id, w.tok.org_admin)).data.contact.email, CONTACT.email);
  assert.ok(!('contact' in (await staffGet(mine.id, w.tok.operator)).data), 'operators run the server, not the office');
  assert.equal((await staffGet(mine.id, w.tok.other_org)).status, 403);
  const pub = [
    await (await fetch(`${w.srv.url}/open311/v2/requests.json?jurisdiction_id=comune-a`)).text(),
    await (await fetch(`${w.srv.url}/open311/v2/requests.xml?jurisdiction_id=comune-a`)).text(),
    await (await fetch(`${w.srv.url}/open311/v2/requests/${mine.id}.json?jurisdiction_id=comune-a`)).text(),
    await (await fetch(`${w.srv.url}/open311/v2/requests/${mine.id}.xml?jurisdiction_id=comune-a`)).text(),
    await (await fetch(`${w.srv.url}/open311/v2/tokens/${mine.token}.json?jurisdiction_id=comune-a`)).text(),
    await (await fetch(`${w.srv.url}/open311/v2/discovery.xml?jurisdiction_id=comune-a`)).text(),
    await (await fetch(`${w.srv.url}/api/v1/reports/follow/${mine.token}`)).text(),
    await (await fetch(`${w.srv.url}/api/v1/orgs/comune-a/reports/nearby?service_code=strade-buche&lat=43.7696&long=11.2558`)).text(),
    await (await fetch(`${w.srv.url}/api/v1/orgs/comune-a/reports/statistics`)).text(),
    await (await fetch(`${w.srv.url}/channels/${w.main}/feed.atom`)).text(),
  ];
  for (const body of pub) for (const s of SECRETS) assert.ok(!body.includes(s), `public answer leaks ${s}`);
  // The server's log: no contact data, no follow token, no api key.
  for (const s of [...SECRETS, mine.token]) assert.ok(!w.srv.stderr.includes(s), `log leaks ${s}`);
  assert.ok(w.srv.stderr.includes('/open311/v2/tokens/'), 'the access log has the route');
});

test('retention: contact data of reports closed longer ago than report_retention_days is erased; the report stays', async () => {
  const s = await startServer();
  try {
    const op = operatorToken(s.data);
    await api(s.url, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'comune-t', name: 'T' } });
    const f = (await api(s.url, 'POST', '/api/v1/followers')).data.token;
    const post = async () => (await (await fetch(`${s.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${f}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ service_code: 'altro', address_id: '1', email: 'a@b.it' }) })).json())[0].service_request_id;
    const closed = await post();
    const open = await post();
    assert.equal((await api(s.url, 'PATCH', `/api/v1/orgs/comune-t/reports/${closed}`, { as: op, body: { status: 'risolta' } })).status, 204);
    await s.stop();
    const s2 = await startServer({ data: s.data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(366 * 86400000) } });
    try {
      // An org-staff account to read contact data (operators never see it).
      const mk = await api(s2.url, 'POST', '/api/v1/orgs/comune-t/staff', { as: operatorToken(s2.data), body: { email: 'u@t.it', role: 'org_admin' } });
      const sess = await fetch(`${s2.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'u@t.it', password: mk.data.password }) });
      const cookie = (sess.headers.get('set-cookie') || '').split(';')[0];
      const read = async (id) => (await (await fetch(`${s2.url}/api/v1/orgs/comune-t/reports/${id}`, { headers: { cookie } })).json());
      const deadline = Date.now() + 10000;
      while ((await read(closed)).contact !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await read(closed)).contact, null, 'erased');
      assert.equal((await read(closed)).status, 'risolta', 'the report stays');
      assert.equal((await read(open)).contact.email, 'a@b.it', 'an open report keeps it');
    } finally { await s2.stop(); }
  } finally { s.cleanup(); }
});

test('rate limits: reports per follower and per address per hour', async () => {
  const s = await startServer({ sets: { reports_per_follower_per_hour: 2, reports_per_ip_per_hour: 3 } });
  try {
    const op = operatorToken(s.data);
    await api(s.url, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'comune-l', name: 'L' } });
    const send = (f) => fetch(`${s.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${f}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'service_code=altro&address_id=1' });
    const f1 = (await api(s.url, 'POST', '/api/v1/followers')).data.token;
    assert.equal((await send(f1)).status, 201);
    assert.equal((await send(f1)).status, 201);
    const r = await send(f1);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    const f2 = (await api(s.url, 'POST', '/api/v1/followers')).data.token;
    assert.equal((await send(f2)).status, 201, 'another follower, same address: the third');
    assert.equal((await send(f2)).status, 429, 'the address is at its limit');
  } finally { await s.stop(); s.cleanup(); }
});

// The reporter's live stream: status changes arrive as they are made, one shared message per
// change whatever the number of streams; after a merge the duplicate's reporter hears the original.
function listen(path) {
  const s = { events: [], opened: false };
  s.es = new EventSource(`${w.srv.url}${path}`);
  for (const k of ['report', 'report.updated']) s.es.addEventListener(k, (e) => s.events.push({ type: k, data: JSON.parse(e.data), raw: e.data }));
  s.es.addEventListener('open', () => { s.opened = true; });
  s.ready = () => waitFor(() => s.opened && s.events.length >= 1, 'stream open with the current state');
  s.close = () => s.es.close();
  return s;
}

test('live: the reporter follows the report with its token and hears staff change its status', async () => {
  const mine = await file({ ...CONTACT, description: 'In diretta' });
  const other = await file({ description: 'Un altro' });
  const a = listen(`/api/v1/reports/follow/${mine.token}/stream`);
  const b = listen(`/api/v1/orgs/comune-a/reports/${mine.id}/stream`);
  const c = listen(`/api/v1/reports/follow/${other.token}/stream`);
  try {
    await a.ready(); await b.ready(); await c.ready();
    assert.equal(a.events[0].type, 'report');
    assert.equal(a.events[0].data.request.service_request_id, mine.id);
    assert.equal(a.events[0].data.status_detail, 'nuova');
    assert.equal((await patch(mine.id, { status: 'presa_in_carico', note: 'Arriviamo', note_public: true })).status, 204);
    await waitFor(() => a.events.some((e) => e.type === 'report.updated') && b.events.some((e) => e.type === 'report.updated'), 'the change, live');
    const ev = a.events.find((e) => e.type === 'report.updated');
    assert.equal(ev.data.status_detail, 'presa_in_carico');
    assert.equal(ev.data.request.status_notes, 'Arriviamo');
    assert.equal(b.events.find((e) => e.type === 'report.updated').raw, ev.raw, 'the same bytes for every follower');
    // An internal note is a change too, but says nothing internal.
    await patch(mine.id, { note: 'Nota interna riservata' });
    await waitFor(() => a.events.filter((e) => e.type === 'report.updated').length >= 2, 'second change');
    for (const e of [...a.events, ...b.events]) {
      assert.ok(!e.raw.includes('riservata'));
      for (const sec of SECRETS) assert.ok(!e.raw.includes(sec), `stream leaks ${sec}`);
    }
    assert.ok(!c.events.some((e) => e.type === 'report.updated'), 'another report hears nothing');
    // Merge `other` into `mine`: other's reporter now hears mine's changes.
    await patch(other.id, { duplicate_of: mine.id });
    await waitFor(() => c.events.some((e) => e.type === 'report.updated'), 'the merge');
    await patch(mine.id, { status: 'in_lavorazione' });
    await waitFor(() => c.events.some((e) => e.type === 'report.updated' && e.data.request.service_request_id === mine.id), 'the original, for the duplicate reporter');
    // "Non è risolto" is a change the stream carries too.
    await patch(mine.id, { status: 'risolta' });
    await waitFor(() => a.events.some((e) => e.data.status_detail === 'risolta'), 'solved');
    await w.ok(204, 'POST', `/api/v1/reports/follow/${mine.token}/reopen`, { body: {} });
    await waitFor(() => a.events.at(-1).data.status_detail === 'nuova', 'reopened, live');
  } finally { a.close(); b.close(); c.close(); }
  assert.equal((await fetch(`${w.srv.url}/api/v1/reports/follow/report_nessuno/stream`)).status, 404);
  assert.equal((await fetch(`${w.srv.url}/api/v1/orgs/comune-a/reports/999999/stream`)).status, 404);
});
