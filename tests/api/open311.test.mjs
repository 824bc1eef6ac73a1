// SPDX-License-Identifier: AGPL-3.0-or-later
// Open311 GeoReport v2 conformance (docs/OPEN311.md): every resource in .json and .xml against
// the specification — element names and nesting, array wrappers, required fields and their
// types, identifiers as strings, dates with an offset, the 90-day window, the error list — and
// the POST's bad inputs. XML is read with a strict parser: well formed, UTF-8, Italian text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, operatorToken, api } from './lib/server.mjs';
import { parseXml, names, child } from './lib/xml.mjs';
import { png } from '../fixtures/media/gen.mjs';

const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;
const REQUEST_FIELDS = ['service_request_id', 'status', 'status_notes', 'service_name', 'service_code',
  'description', 'agency_responsible', 'service_notice', 'requested_datetime', 'updated_datetime',
  'expected_datetime', 'address', 'address_id', 'zipcode', 'lat', 'long', 'media_url'];
const GROUPS = ['Strade e marciapiedi', 'Illuminazione pubblica', 'Rifiuti e pulizia', 'Verde pubblico',
  'Segnaletica', 'Decoro e vandalismo', 'Acqua e fognature', 'Edifici pubblici', 'Animali', 'Altro'];

let srv, op, follower;

before(async () => {
  srv = await startServer({ sets: { reports_per_follower_per_hour: 100000 } });
  op = operatorToken(srv.data);
  const r = await api(srv.url, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'comune-a', name: 'Comune di A', jurisdiction_id: 'comune-a.example.it' } });
  assert.equal(r.status, 201);
  follower = (await api(srv.url, 'POST', '/api/v1/followers')).data.token;
});
after(async () => { await srv?.stop(); srv?.cleanup(); });

const get = async (path) => {
  const r = await fetch(srv.url + path);
  const buf = Buffer.from(await r.arrayBuffer());
  return { status: r.status, type: r.headers.get('content-type'), cache: r.headers.get('cache-control'), buf, text: buf.toString('utf8') };
};
const json = async (path) => { const r = await get(path); return { ...r, data: JSON.parse(r.text) }; };
const xml = async (path) => { const r = await get(path); return { ...r, doc: parseXml(r.buf) }; };

function post(fields, { as = follower, ext = 'json', headers = {} } = {}) {
  const h = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers };
  if (as) h.authorization = `Bearer ${as}`;
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of [].concat(v)) if (x !== undefined) body.append(k, x);
  return fetch(`${srv.url}/open311/v2/requests.${ext}`, { method: 'POST', headers: h, body });
}
const BUCA = { service_code: 'strade-buche', lat: '43.7696', long: '11.2558', description: 'Buca in via Roma' };

async function assertErrorJson(r, status) {
  assert.equal(r.status, status);
  assert.match(r.headers.get('content-type'), /^application\/json; charset=utf-8/);
  const body = await r.json();
  assert.ok(Array.isArray(body) && body.length >= 1, 'errors are a list');
  assert.deepEqual(Object.keys(body[0]), ['code', 'description']);
  assert.equal(body[0].code, status);
  assert.equal(typeof body[0].description, 'string');
  return body[0].description;
}
function assertErrorXml(text, status) {
  const doc = parseXml(text);
  assert.equal(doc.name, 'errors');
  assert.deepEqual(names(doc), ['error']);
  assert.deepEqual(names(doc.children[0]), ['code', 'description']);
  assert.equal(child(doc.children[0], 'code').text, String(status));
}

test('discovery in JSON and XML: endpoint under /open311/v2, both formats, contact and key_service, statistics extension', async () => {
  const j = await json('/open311/v2/discovery.json');
  assert.equal(j.status, 200);
  assert.match(j.type, /^application\/json; charset=utf-8/);
  assert.deepEqual(Object.keys(j.data), ['changeset', 'contact', 'key_service', 'endpoints', 'statistics']);
  assert.match(j.data.changeset, DATE);
  assert.equal(j.data.contact, 'Comune di A');
  assert.equal(j.cache, 'public, max-age=30', 'one Cache-Control: public reads');
  assert.equal(j.data.key_service, srv.url);
  const [ep] = j.data.endpoints;
  assert.deepEqual(Object.keys(ep), ['specification', 'url', 'changeset', 'type', 'formats']);
  assert.equal(ep.specification, 'http://wiki.open311.org/GeoReport_v2');
  assert.ok(ep.url.endsWith('/open311/v2'));
  assert.equal(ep.type, 'production');
  assert.deepEqual([...ep.formats].sort(), ['application/json', 'text/xml']);
  assert.ok(j.data.statistics.some((s) => s.service_code === 'strade-buche' && 'median_first_answer_seconds' in s));

  const x = await xml('/open311/v2/discovery.xml');
  assert.equal(x.status, 200);
  assert.match(x.type, /^text\/xml; charset=utf-8/);
  assert.equal(x.doc.name, 'discovery');
  assert.deepEqual(names(x.doc), ['changeset', 'contact', 'key_service', 'endpoints', 'statistics']);
  const endpoint = child(x.doc, 'endpoints').children;
  assert.deepEqual(endpoint.map((e) => e.name), ['endpoint']);
  assert.deepEqual(names(child(endpoint[0], 'formats')), ['format', 'format']);
  // Also at the conventional /open311/discovery.{fmt}
  assert.equal((await get('/open311/discovery.xml')).status, 200);
});

test('services: the Italian default catalogue in JSON and XML, with every group and a required list attribute', async () => {
  const j = await json('/open311/v2/services.json');
  assert.equal(j.status, 200);
  assert.ok(Array.isArray(j.data) && j.data.length >= 10);
  for (const s of j.data) {
    assert.deepEqual(Object.keys(s), ['service_code', 'service_name', 'description', 'metadata', 'type', 'keywords', 'group']);
    assert.equal(typeof s.service_code, 'string');
    assert.equal(typeof s.metadata, 'boolean');
    assert.equal(s.type, 'realtime');
  }
  for (const g of GROUPS) assert.ok(j.data.some((s) => s.group === g), `group ${g}`);
  const x = await xml('/open311/v2/services.xml');
  assert.equal(x.doc.name, 'services');
  assert.ok(names(x.doc).every((n) => n === 'service'));
  assert.equal(x.doc.children.length, j.data.length);
  assert.deepEqual(names(x.doc.children[0]), Object.keys(j.data[0]));
  assert.equal(child(x.doc.children[0], 'metadata').text, String(j.data[0].metadata));
  // Italian text survives as UTF-8.
  assert.ok(x.text.includes('Tutto ciò che non rientra'));
  // Revalidation: the ETag of the body; a matching If-None-Match is 304 without a body.
  const first = await fetch(`${srv.url}/open311/v2/services.xml`);
  const etag = first.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{24}"$/);
  const again = await fetch(`${srv.url}/open311/v2/services.xml`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), '');
  const json304 = await fetch(`${srv.url}/open311/v2/services.json`, { headers: { 'if-none-match': etag } });
  assert.equal(json304.status, 200, 'the JSON is another body, another ETag');
});

test('service definition in JSON and XML: attributes with values, metadata true; unknown code is a 404 error list', async () => {
  const j = await json('/open311/v2/services/rifiuti-abbandonati.json');
  assert.equal(j.status, 200);
  assert.deepEqual(Object.keys(j.data), ['service_code', 'attributes']);
  const [a] = j.data.attributes;
  assert.deepEqual(Object.keys(a), ['variable', 'code', 'datatype', 'required', 'datatype_description', 'order', 'description', 'values']);
  assert.equal(a.datatype, 'singlevaluelist');
  assert.equal(a.required, true);
  assert.equal(typeof a.code, 'string');
  assert.ok(a.values.every((v) => typeof v.key === 'string' && typeof v.name === 'string'));
  const list = (await json('/open311/v2/services.json')).data;
  assert.equal(list.find((s) => s.service_code === 'rifiuti-abbandonati').metadata, true);

  const x = await xml('/open311/v2/services/rifiuti-abbandonati.xml');
  assert.equal(x.doc.name, 'service_definition');
  assert.deepEqual(names(x.doc), ['service_code', 'attributes']);
  const attr = child(x.doc, 'attributes').children[0];
  assert.equal(attr.name, 'attribute');
  assert.deepEqual(names(child(attr, 'values')).slice(0, 2), ['value', 'value']);
  assert.deepEqual(names(child(attr, 'values').children[0]), ['key', 'name']);

  await assertErrorJson(await fetch(`${srv.url}/open311/v2/services/non-esiste.json`), 404);
  const e = await get('/open311/v2/services/non-esiste.xml');
  assert.equal(e.status, 404);
  assert.equal(e.cache, 'no-store', 'errors are never cached, and say so once');
  assertErrorXml(e.text, 404);
});

let made;
test('POST requests in JSON and XML: a list with service_request_id (a string), service_notice, account_id and the follow token', async () => {
  const r = await post({ ...BUCA, description: 'Perché è già lì: città & <strade> "rotte"', email: 'mario.rossi@example.it', first_name: 'Mario' });
  assert.equal(r.status, 201);
  const body = await r.json();
  assert.equal(body.length, 1);
  assert.deepEqual(Object.keys(body[0]), ['service_request_id', 'service_notice', 'account_id', 'token']);
  assert.equal(typeof body[0].service_request_id, 'string');
  assert.equal(body[0].account_id, null);
  made = body[0];

  const rx = await post(BUCA, { ext: 'xml' });
  const tx = await rx.text();
  assert.equal(rx.status, 201, tx);
  const doc = parseXml(tx);
  assert.equal(doc.name, 'service_requests');
  assert.deepEqual(names(doc), ['request']);
  assert.deepEqual(names(doc.children[0]), ['service_request_id', 'service_notice', 'account_id', 'token']);
});

test('tokens/{token} in JSON and XML answers a list with service_request_id and token; unknown 404', async () => {
  const j = await json(`/open311/v2/tokens/${made.token}.json`);
  assert.equal(j.status, 200);
  assert.equal(j.cache, 'no-store', 'a token is a capability: never cached');
  assert.deepEqual(j.data, [{ service_request_id: made.service_request_id, token: made.token }]);
  const x = await xml(`/open311/v2/tokens/${made.token}.xml`);
  assert.equal(x.doc.name, 'service_requests');
  assert.deepEqual(names(x.doc.children[0]), ['service_request_id', 'token']);
  assert.equal((await get('/open311/v2/tokens/report_nope.json')).status, 404);
});

test('requests GET and requests/{id} in JSON and XML: every field in order, strings for ids, dates with offset, UTF-8 text', async () => {
  const j = await json('/open311/v2/requests.json');
  assert.equal(j.status, 200);
  assert.ok(j.data.length >= 2);
  for (const q of j.data) {
    assert.deepEqual(Object.keys(q), REQUEST_FIELDS);
    assert.equal(typeof q.service_request_id, 'string');
    assert.ok(['open', 'closed'].includes(q.status));
    assert.match(q.requested_datetime, DATE);
    assert.match(q.updated_datetime, DATE);
    assert.match(q.expected_datetime, DATE);
    assert.equal(typeof q.lat, 'number');
  }
  const one = await json(`/open311/v2/requests/${made.service_request_id}.json`);
  assert.equal(one.data.length, 1);
  assert.equal(one.data[0].description, 'Perché è già lì: città & <strade> "rotte"');
  assert.equal(one.data[0].lat, 43.7696);
  assert.equal(one.data[0].long, 11.2558);

  const x = await xml(`/open311/v2/requests/${made.service_request_id}.xml`);
  assert.equal(x.doc.name, 'service_requests');
  assert.deepEqual(names(x.doc.children[0]), REQUEST_FIELDS);
  assert.equal(child(x.doc.children[0], 'description').text, 'Perché è già lì: città & <strade> "rotte"');
  assert.ok(x.text.includes('&amp;') && x.text.includes('&lt;strade&gt;'));
  const all = await xml('/open311/v2/requests.xml');
  assert.ok(names(all.doc).every((n) => n === 'request'));

  await assertErrorJson(await fetch(`${srv.url}/open311/v2/requests/999999.json`), 404);
  assertErrorXml((await get('/open311/v2/requests/999999.xml')).text, 404);
});

test('requests GET filters: service_request_id list, service_code list, status, page and page_size', async () => {
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await (await post(BUCA)).json())[0].service_request_id);
  const listed = (await json(`/open311/v2/requests.json?service_request_id=${ids.join(',')}`)).data;
  assert.deepEqual(listed.map((q) => q.service_request_id).sort(), [...ids].sort());
  assert.equal((await json('/open311/v2/requests.json?service_code=altro')).data.length, 0);
  assert.ok((await json('/open311/v2/requests.json?service_code=altro,strade-buche')).data.length >= 3);
  assert.equal((await json('/open311/v2/requests.json?status=closed')).data.length, 0);
  assert.ok((await json('/open311/v2/requests.json?status=open,closed')).data.length >= 3);
  const p1 = (await json('/open311/v2/requests.json?page=1&page_size=2')).data;
  const p2 = (await json('/open311/v2/requests.json?page=2&page_size=2')).data;
  assert.equal(p1.length, 2);
  assert.ok(p2.length >= 1);
  assert.ok(!p2.some((q) => p1.some((o) => o.service_request_id === q.service_request_id)));
  assert.equal((await get('/open311/v2/requests.json?status=aperta')).status, 400);
  assert.equal((await get('/open311/v2/requests.json?page=0')).status, 400);
  assert.equal((await get('/open311/v2/requests.json?page_size=201')).status, 400);
});

test('the 90-day window: default and largest; a wider range is a 400 error list; old requests are found inside their window', async () => {
  const wide = await get('/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z');
  assert.equal(wide.status, 400);
  assert.match(JSON.parse(wide.text)[0].description, /90 days/);
  assertErrorXml((await get('/open311/v2/requests.xml?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z')).text, 400);
  assert.equal((await get('/open311/v2/requests.json?start_date=yesterday')).status, 400);

  // A request filed 100 days ago (the server's clock shifted back), then read today.
  const s = await startServer({ env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(-100 * 86400000) } });
  try {
    const o = operatorToken(s.data);
    await api(s.url, 'POST', '/api/v1/orgs', { as: o, body: { slug: 'comune-v', name: 'Comune V' } });
    const f = (await api(s.url, 'POST', '/api/v1/followers')).data.token;
    const r = await fetch(`${s.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${f}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(BUCA) });
    assert.equal(r.status, 201);
  } finally { await s.stop(); }
  const s2 = await startServer({ data: s.data });
  try {
    const now = Date.now();
    const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
    assert.equal((await (await fetch(`${s2.url}/open311/v2/requests.json`)).json()).length, 0, 'outside the default 90 days');
    const old = await (await fetch(`${s2.url}/open311/v2/requests.json?start_date=${iso(now - 101 * 86400000)}&end_date=${iso(now - 99 * 86400000)}`)).json();
    assert.equal(old.length, 1);
    const lone = await (await fetch(`${s2.url}/open311/v2/requests.json?start_date=${iso(now - 101 * 86400000)}`)).json();
    assert.equal(lone.length, 1, 'start_date alone: the 90 days after it');
  } finally { await s2.stop(); s2.cleanup(); }
});

test('bad input: location, service_code, required attribute, description, lat/long, auth, content type', async () => {
  assert.match(await assertErrorJson(await post({ service_code: 'strade-buche' }), 400), /location/);
  assert.match(await assertErrorJson(await post({ ...BUCA, service_code: 'non-esiste' }), 404), /service_code/);
  assert.match(await assertErrorJson(await post({ ...BUCA, service_code: undefined }), 400), /service_code/);
  assert.match(await assertErrorJson(await post({ ...BUCA, service_code: 'rifiuti-abbandonati' }), 400), /attribute\[tipo_rifiuto\]/);
  assert.match(await assertErrorJson(await post({ ...BUCA, service_code: 'rifiuti-abbandonati', 'attribute[tipo_rifiuto]': 'plutonio' }), 400), /tipo_rifiuto/);
  assert.equal((await post({ ...BUCA, service_code: 'rifiuti-abbandonati', 'attribute[tipo_rifiuto]': 'ingombranti' })).status, 201);
  assert.match(await assertErrorJson(await post({ ...BUCA, 'attribute[inventato]': 'x' }), 400), /inventato/);
  assert.match(await assertErrorJson(await post({ ...BUCA, description: 'è'.repeat(4001) }), 400), /4000/);
  assert.equal((await post({ ...BUCA, description: 'è'.repeat(4000) })).status, 201, '4,000 characters (not bytes) fit');
  for (const [lat, long] of [['abc', '11'], ['43.1', ''], ['91', '11'], ['43', '181'], ['NaN', '11'], ['1e400', '11'], ['43,77', '11.2']]) {
    assert.equal((await post({ ...BUCA, lat, long })).status, 400, `lat=${lat} long=${long}`);
  }
  assert.equal((await post({ service_code: 'strade-buche', address_string: 'Via Roma 1, Firenze' })).status, 201);
  assert.equal((await post({ service_code: 'strade-buche', address_id: 'civico-123' })).status, 201);
  // Authentication: neither key nor follower, a wrong key, a made-up follower token.
  assert.match(await assertErrorJson(await post(BUCA, { as: null }), 403), /api_key/);
  assert.equal((await post({ ...BUCA, api_key: 'o311_sbagliata' }, { as: null })).status, 403);
  assert.equal((await post(BUCA, { as: 'follower_inventato' })).status, 403);
  const x = await post(BUCA, { as: null, ext: 'xml' });
  assert.equal(x.status, 403);
  assertErrorXml(await x.text(), 403);
  // Body encoding and type.
  const bad = await fetch(`${srv.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${follower}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'service_code=strade-buche&lat=%ZZ' });
  assert.equal(bad.status, 400);
  const notutf8 = await fetch(`${srv.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${follower}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'service_code=strade-buche&address_string=%C3%28' });
  assert.equal(notutf8.status, 400);
  const js = await fetch(`${srv.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${follower}`, 'content-type': 'application/json' }, body: '{}' });
  await assertErrorJson(js, 415);
  const huge = await fetch(`${srv.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${follower}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `description=${'a'.repeat(70000)}` });
  assert.equal(huge.status, 413);
  assert.equal((await fetch(`${srv.url}/open311/v2/services.html`)).status, 404);
});

// A PNG padded past `bytes` with an ancillary chunk (decoders skip it; the media module strips it).
function bigPng(bytes) {
  const base = png(64, 48);
  const table = new Int32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c; });
  const crc = (b) => { let c = -1; for (const x of b) c = table[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ -1) >>> 0; };
  const data = Buffer.alloc(bytes, 0x61);
  const td = Buffer.concat([Buffer.from('prVt', 'latin1'), data]);
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
  const iend = base.length - 12;
  return Buffer.concat([base.subarray(0, iend), len, td, c, base.subarray(iend)]);
}

test('multipart extension: a phone-sized photo (over 1 MiB) is accepted; strangers are refused before the body', async () => {
  const form = new FormData();
  for (const [k, v] of Object.entries(BUCA)) form.append(k, v);
  form.append('media', new Blob([bigPng(3 * 1024 * 1024)]), 'foto.png');
  const r = await fetch(`${srv.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${follower}` }, body: form });
  assert.equal(r.status, 201, await r.text());
  const anon = await fetch(`${srv.url}/open311/v2/requests.json`, { method: 'POST', body: form });
  assert.equal(anon.status, 403);
  const key = (await api(srv.url, 'POST', '/api/v1/orgs/comune-a/api-keys', { as: op, body: { name: 'foto' } })).data.api_key;
  const withKey = await fetch(`${srv.url}/open311/v2/requests.json?api_key=${encodeURIComponent(key)}`, { method: 'POST', body: form });
  assert.equal(withKey.status, 201, 'a third-party app puts its key in the query string to send a photo');
});

test('multipart extension: the photo goes through the media module; a non-image is 415', async () => {
  const form = new FormData();
  for (const [k, v] of Object.entries(BUCA)) form.append(k, v);
  form.append('media', new Blob([png(64, 48)], { type: 'image/png' }), 'foto.png');
  const r = await fetch(`${srv.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${follower}` }, body: form });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  // Moderated by default: not public until staff approve it.
  const q = (await json(`/open311/v2/requests/${body[0].service_request_id}.json`)).data[0];
  assert.equal(q.media_url, null);

  const bad = new FormData();
  for (const [k, v] of Object.entries(BUCA)) bad.append(k, v);
  bad.append('media', new Blob(['#!/bin/sh\necho ciao\n'], { type: 'image/png' }), 'foto.png');
  const rb = await fetch(`${srv.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${follower}` }, body: bad });
  await assertErrorJson(rb, 415);
});

test('jurisdiction_id: optional with one org; with several, required (400) and must exist (404); an api_key of another org is 403', async () => {
  assert.equal((await get('/open311/v2/services.json?jurisdiction_id=comune-a.example.it')).status, 200);
  assert.equal((await get('/open311/v2/services.json?jurisdiction_id=comune-a')).status, 200, 'the slug works too');
  const nf = await get('/open311/v2/services.json?jurisdiction_id=altrove.it');
  assert.equal(nf.status, 404);
  assert.match(JSON.parse(nf.text)[0].description, /jurisdiction_id/);
  await api(srv.url, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'comune-b', name: 'Comune di B', jurisdiction_id: 'comune-b.example.it' } });
  for (const p of ['/open311/v2/services.json', '/open311/v2/requests.json', '/open311/v2/discovery.json', '/open311/v2/services/altro.json']) {
    const r = await get(p);
    assert.equal(r.status, 400, p);
    assert.match(JSON.parse(r.text)[0].description, /jurisdiction_id/);
  }
  assert.equal((await post(BUCA)).status, 400);
  assert.equal((await post({ ...BUCA, jurisdiction_id: 'comune-b.example.it' })).status, 201);
  const keyB = (await api(srv.url, 'POST', '/api/v1/orgs/comune-b/api-keys', { as: op, body: { name: 'app' } })).data.api_key;
  assert.equal((await post({ ...BUCA, jurisdiction_id: 'comune-b.example.it', api_key: keyB }, { as: null })).status, 201);
  const other = await post({ ...BUCA, jurisdiction_id: 'comune-a.example.it', api_key: keyB }, { as: null });
  assert.equal(other.status, 403);
  // Requests stay in their jurisdiction.
  const a = (await json('/open311/v2/requests.json?jurisdiction_id=comune-a.example.it')).data;
  const b = (await json('/open311/v2/requests.json?jurisdiction_id=comune-b.example.it')).data;
  assert.equal(b.length, 2);
  assert.ok(!a.some((q) => b.some((o) => o.service_request_id === q.service_request_id)));
  assert.equal((await get(`/open311/v2/requests/${b[0].service_request_id}.json?jurisdiction_id=comune-a.example.it`)).status, 404);
});
