// SPDX-License-Identifier: AGPL-3.0-or-later
// Forwarding a citizen report to another body by Open311 POST (issue 15, point 4): a fixture
// GeoReport v2 server over HTTPS on 127.0.0.1 (certificate from a test CA; the server trusts it
// through push_ca_file and allows 127.0.0.1 through push_allow_hosts, the outgoing-request rules
// of push/outbound.c). Success (what is sent, never contact data; the recorded remote id; what
// the citizen sees), a refusal shown to staff with what to do and nothing changed, an
// unreachable body, and authorization: only that org's staff forward, only its admins configure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { buildWorld } from './lib/world.mjs';
import { tempDir } from './lib/server.mjs';
import { makeCerts } from './lib/pushsvc.mjs';

let w, fx, origin;
const got = []; // { path, form, headers }
let answer = { status: 201, body: [{ service_request_id: 'ACQ-2026-0042', token: 'tok-9', service_notice: 'Presa in carico entro 48 ore' }] };

before(async () => {
  const certs = makeCerts(tempDir('araldo-fwd-ca-'));
  fx = https.createServer({ key: readFileSync(certs.key), cert: readFileSync(certs.cert) }, async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    got.push({ path: req.url, method: req.method, headers: req.headers, form: Object.fromEntries(new URLSearchParams(body)) });
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise((resolve) => fx.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${fx.address().port}`;
  w = await buildWorld({ sets: { push_allow_hosts: '127.0.0.1', push_ca_file: certs.ca, push_timeout_ms: 3000 } });
});
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); fx?.close(); });

const CONTACT = { email: 'mario.rossi@example.it', phone: '+39 333 7654321', first_name: 'Mario', last_name: 'Rossi' };
async function file(fields = {}) {
  const token = await w.follower();
  const r = await fetch(`${w.srv.url}/open311/v2/requests.json?jurisdiction_id=comune-a`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ service_code: 'acqua-perdita', lat: '43.7696', long: '11.2558', description: 'Perdita d\'acqua dal tombino', address_string: 'Via Roma 3', ...CONTACT, ...fields }),
  });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return body[0].service_request_id;
}
const forward = (id, body, as = w.tok.channel_owner) => w.call('POST', `/api/v1/orgs/comune-a/reports/${id}/forward`, { as, body });
let acque;

test('org admins configure forward targets; the api_key is never shown again', async () => {
  const body = {
    name: 'Acque SpA', endpoint: `${origin}/open311/v2/`, jurisdiction_id: 'acque-toscana', api_key: 'chiave-segreta-acque',
    service_map: { 'acqua-perdita': 'LEAK', 'fognature-tombino': 'SEWER' },
  };
  assert.equal((await w.call('POST', '/api/v1/orgs/comune-a/report-forwards', { as: w.tok.channel_owner, body })).status, 403, 'staff do not configure');
  assert.equal((await w.call('POST', '/api/v1/orgs/comune-a/report-forwards', { as: w.tok.other_org, body })).status, 403);
  for (const [bad, field] of [[{ ...body, endpoint: 'http://acque.example/open311' }, 'endpoint'], [{ ...body, service_map: { 'acqua-perdita': 'no spaces' } }, 'service_map'], [{ ...body, name: '' }, 'name']]) {
    const r = await w.call('POST', '/api/v1/orgs/comune-a/report-forwards', { as: w.tok.org_admin, body: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(r.data.error.field, field);
  }
  acque = (await w.ok(201, 'POST', '/api/v1/orgs/comune-a/report-forwards', { as: w.tok.org_admin, body })).id;
  assert.equal((await w.call('POST', '/api/v1/orgs/comune-a/report-forwards', { as: w.tok.org_admin, body })).status, 409, 'one name per org');
  const list = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/report-forwards', { as: w.tok.channel_owner });
  assert.deepEqual(list.targets.map((t) => [t.id, t.name, t.has_api_key, t.service_map.LEAK]), [[acque, 'Acque SpA', true, undefined]]);
  assert.ok(!JSON.stringify(list).includes('chiave-segreta-acque'), 'the key is not shown');
  const audit = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/audit', { as: w.tok.org_admin });
  assert.ok(audit.entries.some((e) => e.action === 'forward_target.create'));
  assert.ok(!JSON.stringify(audit).includes('chiave-segreta-acque'));
  assert.equal((await w.call('GET', '/api/v1/orgs/comune-a/report-forwards', { as: w.tok.other_org })).status, 403);
});

test('forwarding POSTs the public report to the other body, records its id, and the citizen sees "inoltrata a"', async () => {
  const id = await file();
  got.length = 0;
  const r = await forward(id, { target: acque, note: 'Competenza del gestore idrico' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.data, { forwarded_to: 'Acque SpA', status: 'chiusa', remote_service_request_id: 'ACQ-2026-0042', remote_token: 'tok-9' });
  assert.equal(got.length, 1);
  assert.equal(got[0].method, 'POST');
  assert.equal(got[0].path, '/open311/v2/requests.json');
  assert.match(got[0].headers['content-type'], /^application\/x-www-form-urlencoded/);
  assert.deepEqual(got[0].form, {
    service_code: 'LEAK', jurisdiction_id: 'acque-toscana', api_key: 'chiave-segreta-acque',
    lat: '43.7696000', long: '11.2558000', address_string: 'Via Roma 3', description: 'Perdita d\'acqua dal tombino',
  });
  for (const v of Object.values(CONTACT)) assert.ok(!JSON.stringify(got[0]).includes(v), 'contact data never leaves');

  const pub = (await (await fetch(`${w.srv.url}/open311/v2/requests/${id}.json?jurisdiction_id=comune-a`)).json())[0];
  assert.equal(pub.status, 'closed');
  assert.equal(pub.agency_responsible, 'Acque SpA');
  assert.equal(pub.status_notes, 'Inoltrata a Acque SpA (numero di pratica ACQ-2026-0042). Competenza del gestore idrico');
  const staff = await w.ok(200, 'GET', `/api/v1/orgs/comune-a/reports/${id}`, { as: w.tok.channel_owner });
  assert.equal(staff.status, 'chiusa');
  assert.equal(staff.close_reason, 'inoltrata');
  assert.equal(staff.forwarded_to, 'Acque SpA');
  assert.deepEqual(staff.forwards.map((f) => [f.target, f.remote_service_request_id, f.remote_token]), [['Acque SpA', 'ACQ-2026-0042', 'tok-9']]);
  // Closed now: a second forward is refused before anything is sent.
  got.length = 0;
  assert.equal((await forward(id, { target: acque })).status, 409);
  assert.equal(got.length, 0);
});

test('a refusal is shown to staff with its reason and what to do; nothing changes', async () => {
  const id = await file();
  answer = { status: 400, body: [{ code: 400, description: 'service_code LEAK: unknown' }] };
  try {
    const r = await forward(id, { target: acque });
    assert.equal(r.status, 502);
    assert.equal(r.data.error.code, 'forward_failed');
    assert.match(r.data.error.message, /Acque SpA refused the report \(HTTP 400: service_code LEAK: unknown\)/);
    assert.match(r.data.error.message, /service codes and api_key/);
  } finally {
    answer = { status: 201, body: [{ service_request_id: 'ACQ-2', token: null }] };
  }
  const staff = await w.ok(200, 'GET', `/api/v1/orgs/comune-a/reports/${id}`, { as: w.tok.channel_owner });
  assert.equal(staff.status, 'nuova');
  assert.equal(staff.forwarded_to, null);
  assert.deepEqual(staff.forwards, []);
  // No mapping for this service and no default: 422 before anything is sent.
  const other = await file({ service_code: 'strade-buche' });
  got.length = 0;
  const r = await forward(other, { target: acque });
  assert.equal(r.status, 422);
  assert.equal(r.data.error.code, 'no_service_mapping');
  assert.equal(got.length, 0);
  // An unreachable body (nothing listens there): 502, and what to do.
  const gone = (await w.ok(201, 'POST', '/api/v1/orgs/comune-a/report-forwards', {
    as: w.tok.org_admin, body: { name: 'Spento', endpoint: 'https://127.0.0.1:9/open311/v2', default_service_code: 'X' },
  })).id;
  const u = await forward(id, { target: gone });
  assert.equal(u.status, 502);
  assert.match(u.data.error.message, /Spento could not be reached/);
  // A body that is not on the allow-list and not public is refused by the address rule.
  const priv = (await w.ok(201, 'POST', '/api/v1/orgs/comune-a/report-forwards', {
    as: w.tok.org_admin, body: { name: 'Rete interna', endpoint: 'https://10.1.2.3/open311/v2', default_service_code: 'X' },
  })).id;
  const p = await forward(id, { target: priv });
  assert.equal(p.status, 502);
  assert.match(p.data.error.message, /not public/);
  assert.equal((await w.ok(200, 'GET', `/api/v1/orgs/comune-a/reports/${id}`, { as: w.tok.channel_owner })).status, 'nuova');
  await w.ok(204, 'DELETE', `/api/v1/orgs/comune-a/report-forwards/${gone}`, { as: w.tok.org_admin });
  await w.ok(204, 'DELETE', `/api/v1/orgs/comune-a/report-forwards/${priv}`, { as: w.tok.org_admin });
});

test('only that org\'s staff forward; unknown targets and reports are 404', async () => {
  const id = await file();
  got.length = 0;
  assert.equal((await forward(id, { target: acque }, w.tok.other_org)).status, 403);
  assert.equal((await forward(id, { target: acque }, w.tok.follower)).status, 401);
  assert.equal((await forward(id, { target: acque }, null)).status, 401);
  assert.equal(got.length, 0, 'nothing sent for a stranger');
  // Another org's target is not this org's.
  await w.ok(201, 'POST', '/api/v1/orgs/comune-b/report-forwards', { as: w.tok.operator, body: { name: 'Acque B', endpoint: `${origin}/b`, default_service_code: 'X' } });
  const b = (await w.ok(200, 'GET', '/api/v1/orgs/comune-b/report-forwards', { as: w.tok.other_org })).targets[0].id;
  const r = await forward(id, { target: b });
  assert.equal(r.status, 404);
  assert.equal(r.data.error.code, 'forward_target_not_found');
  assert.equal((await forward('999999', { target: acque })).status, 404);
  assert.equal((await forward(id, { target: acque, extra: 1 })).status, 400);
  assert.equal(got.length, 0);
  assert.equal((await forward(id, { target: acque }, w.tok.channel_admin)).status, 200, 'any staff of the org');
});

test('org admins edit a forward target; the api_key is kept, replaced or cleared, never shown; audited by field names', async () => {
  const path = '/api/v1/orgs/comune-a/report-forwards';
  const id = (await w.ok(201, 'POST', path, { as: w.tok.org_admin, body: { name: 'Provincia', endpoint: `${origin}/prov`, api_key: 'chiave-provincia-1', service_map: { 'strade-buche': 'ROAD' } } })).id;
  const one = async () => (await w.ok(200, 'GET', path, { as: w.tok.org_admin })).targets.find((x) => x.id === id);
  assert.equal((await w.call('PATCH', `${path}/${id}`, { as: w.tok.channel_owner, body: { name: 'X' } })).status, 403, 'staff do not edit');
  assert.equal((await w.call('PATCH', `${path}/${id}`, { as: w.tok.other_org, body: { name: 'X' } })).status, 403);
  for (const [bad, field] of [[{ endpoint: 'http://prov.example/' }, 'endpoint'], [{ name: null }, 'name'], [{ service_map: { 'strade-buche': 'a b' } }, 'service_map'], [{ default_service_code: 'a b' }, 'default_service_code'], [{ api_key: '' }, 'api_key']]) {
    const r = await w.call('PATCH', `${path}/${id}`, { as: w.tok.org_admin, body: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(r.data.error.field, field);
  }
  const mail = await w.call('PATCH', `${path}/${id}`, { as: w.tok.org_admin, body: { email: 'segnalazioni@prov.example.it' } });
  assert.equal(mail.status, 400, 'an Open311 target has no e-mail address');
  assert.equal(mail.data.error.code, 'invalid_value');
  assert.equal((await w.call('PATCH', `${path}/${id}`, { as: w.tok.org_admin, body: {} })).data.error.code, 'empty_patch');
  assert.equal((await w.call('PATCH', `${path}/${id}`, { as: w.tok.org_admin, body: { name: 'Acque SpA' } })).status, 409, 'another target has this name');
  assert.equal((await w.call('PATCH', `${path}/999999`, { as: w.tok.org_admin, body: { name: 'Y' } })).status, 404);
  const before = await one();
  assert.deepEqual(before.service_map, { 'strade-buche': 'ROAD' });

  // A new map and default, the key untouched.
  await w.ok(204, 'PATCH', `${path}/${id}`, { as: w.tok.org_admin, body: { name: 'Provincia di Prova', service_map: { 'strade-buche': 'ROAD', 'verde-albero': 'TREE' }, default_service_code: 'OTHER' } });
  let t = await one();
  assert.equal(t.name, 'Provincia di Prova');
  assert.deepEqual(t.service_map, { 'strade-buche': 'ROAD', 'verde-albero': 'TREE' });
  assert.equal(t.default_service_code, 'OTHER');
  assert.equal(t.has_api_key, true, 'a key not sent is kept');
  assert.equal(t.endpoint, `${origin}/prov`);
  // Cleared, then set again; never in any answer.
  await w.ok(204, 'PATCH', `${path}/${id}`, { as: w.tok.org_admin, body: { api_key: null, default_service_code: null } });
  t = await one();
  assert.equal(t.has_api_key, false);
  assert.equal(t.default_service_code, null);
  await w.ok(204, 'PATCH', `${path}/${id}`, { as: w.tok.org_admin, body: { api_key: 'chiave-provincia-2' } });
  assert.equal((await one()).has_api_key, true);
  const audit = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/audit?action=forward_target.update', { as: w.tok.org_admin });
  assert.equal(audit.entries.length, 3);
  assert.deepEqual(audit.entries[0].detail, { fields: ['api_key'] });
  assert.deepEqual(audit.entries[2].detail, { fields: ['name', 'service_map', 'default_service_code'] });
  assert.equal(audit.entries[0].target, `forward_target:${id}`);
  const everything = JSON.stringify([await w.ok(200, 'GET', path, { as: w.tok.org_admin }), await w.ok(200, 'GET', '/api/v1/orgs/comune-a/audit?limit=200', { as: w.tok.org_admin })]);
  assert.ok(!everything.includes('chiave-provincia'), 'the key is never shown');
  await w.ok(204, 'DELETE', `${path}/${id}`, { as: w.tok.org_admin });
});
