// SPDX-License-Identifier: AGPL-3.0-or-later
// Operations endpoints, API tokens and their authorization, over real HTTP on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, operatorToken, cli } from './lib/server.mjs';

let srv;
let token;

before(async () => {
  srv = await startServer();
  token = operatorToken(srv.data);
});
after(async () => {
  await srv?.stop();
  srv?.cleanup();
});

const auth = (t) => ({ authorization: `Bearer ${t}` });

test('first start prints a one-time operator password and never logs it', () => {
  assert.match(srv.password, /^[A-Za-z0-9_-]{20}$/);
  assert.ok(!srv.stderr.includes(srv.password), 'password must not appear in the log');
});

test('healthz answers 200 with JSON', async () => {
  const r = await fetch(`${srv.url}/healthz`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/json/);
  assert.deepEqual(await r.json(), { status: 'ok' });
  assert.ok(r.headers.get('date'));
});

test('readyz commits a write through the store', async () => {
  const r = await fetch(`${srv.url}/readyz`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { status: 'ready' });
});

test('metrics: anonymous 401, bad token 401, operator gets Prometheus text', async () => {
  let r = await fetch(`${srv.url}/metrics`);
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.code, 'unauthenticated');
  r = await fetch(`${srv.url}/metrics`, { headers: auth('araldo_nope') });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.code, 'invalid_token');
  await fetch(`${srv.url}/healthz`);
  r = await fetch(`${srv.url}/metrics`, { headers: auth(token) });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  const text = await r.text();
  for (const name of ['araldo_connections_open', 'araldo_http_requests_total{class="2xx"}',
    'araldo_http_request_duration_seconds_bucket', 'araldo_store_queue_depth',
    'araldo_store_commit_duration_seconds_count', 'araldo_stream_subscribers',
    'araldo_stream_cutoffs_total', 'process_resident_memory_bytes']) {
    assert.ok(text.includes(name), `metrics lack ${name}`);
  }
  const twoxx = Number(/araldo_http_requests_total\{class="2xx"\} (\d+)/.exec(text)[1]);
  assert.ok(twoxx >= 1, 'healthz was counted');
  const rss = Number(/process_resident_memory_bytes (\d+)/.exec(text)[1]);
  assert.ok(rss > 1e6, 'rss is plausible');
});

test('me: who the token belongs to, without secrets', async () => {
  const r = await fetch(`${srv.url}/api/v1/me`, { headers: auth(token) });
  assert.equal(r.status, 200);
  const me = await r.json();
  assert.equal(me.email, 'admin@localhost');
  assert.equal(me.role, 'operator');
  assert.equal(me.must_change_password, true);
  assert.ok(!JSON.stringify(me).includes('argon2'), 'no password hash in the answer');
});

test('tokens: create shows the secret once, list never does, revoke stops it working', async () => {
  let r = await fetch(`${srv.url}/api/v1/tokens`, {
    method: 'POST', headers: { ...auth(token), 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'monitoring' }),
  });
  assert.equal(r.status, 201);
  const created = await r.json();
  assert.match(created.token, /^araldo_[A-Za-z0-9_-]{43}$/);
  assert.equal(created.name, 'monitoring');

  r = await fetch(`${srv.url}/api/v1/me`, { headers: auth(created.token) });
  assert.equal(r.status, 200);

  r = await fetch(`${srv.url}/api/v1/tokens`, { headers: auth(token) });
  const list = await r.json();
  assert.ok(list.tokens.some((t) => t.id === created.id && t.name === 'monitoring'));
  assert.ok(!JSON.stringify(list).includes(created.token), 'list must not show secrets');

  r = await fetch(`${srv.url}/api/v1/tokens/${created.id}`, { method: 'DELETE', headers: auth(token) });
  assert.equal(r.status, 204);
  r = await fetch(`${srv.url}/api/v1/me`, { headers: auth(created.token) });
  assert.equal(r.status, 401);
  r = await fetch(`${srv.url}/api/v1/tokens/${created.id}`, { method: 'DELETE', headers: auth(token) });
  assert.equal(r.status, 404);
});

test('tokens: bad input is rejected with a clear error and changes nothing', async () => {
  const post = (body, type = 'application/json') => fetch(`${srv.url}/api/v1/tokens`, {
    method: 'POST', headers: { ...auth(token), 'content-type': type }, body,
  });
  const before = (await (await fetch(`${srv.url}/api/v1/tokens`, { headers: auth(token) })).json()).tokens.length;
  let r = await post('{"name": ');
  assert.equal(r.status, 400);
  let e = (await r.json()).error;
  assert.equal(e.code, 'invalid_json');
  assert.match(e.message, /line 1, column \d+/);
  r = await post(JSON.stringify({ name: 'x', admin: true }));
  e = (await r.json()).error;
  assert.equal(r.status, 400);
  assert.deepEqual([e.code, e.field], ['unknown_field', 'admin']);
  r = await post(JSON.stringify({ name: 42 }));
  assert.equal(r.status, 400);
  assert.deepEqual([(await r.json()).error.field], ['name']);
  r = await post(JSON.stringify({ name: '' }));
  assert.equal(r.status, 400);
  r = await post(JSON.stringify({ name: 'é'.repeat(101) }));
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.code, 'too_long');
  r = await post(JSON.stringify({}));
  assert.equal((await r.json()).error.code, 'missing_field');
  r = await post('[1]');
  assert.equal(r.status, 400);
  r = await post('name=x', 'application/x-www-form-urlencoded');
  assert.equal(r.status, 415);
  assert.equal((await r.json()).error.code, 'unsupported_media_type');
  const after = (await (await fetch(`${srv.url}/api/v1/tokens`, { headers: auth(token) })).json()).tokens.length;
  assert.equal(after, before);
});

test('every endpoint refuses anonymous callers where it must (authorization table)', async () => {
  const table = [
    ['GET', '/healthz', 200, 200],
    ['GET', '/readyz', 200, 200],
    ['GET', '/metrics', 401, 200],
    ['GET', '/api/v1/me', 401, 200],
    ['GET', '/api/v1/tokens', 401, 200],
    ['POST', '/api/v1/tokens', 401, 201],
    ['DELETE', '/api/v1/tokens/999999', 401, 404],
  ];
  for (const [method, path, anon, operator] of table) {
    const body = method === 'POST' ? JSON.stringify({ name: 'matrix' }) : undefined;
    const headers = body ? { 'content-type': 'application/json' } : {};
    let r = await fetch(`${srv.url}${path}`, { method, headers, body });
    assert.equal(r.status, anon, `${method} ${path} anonymous`);
    r = await fetch(`${srv.url}${path}`, { method, headers: { ...headers, ...auth(token) }, body });
    assert.equal(r.status, operator, `${method} ${path} operator`);
  }
});

test('CLI users cannot be duplicated and a token for an unknown account is refused', () => {
  let r = cli(['user', 'add', '--email', 'ADMIN@localhost', '--role', 'operator'],
    { input: 'a-long-password\n', data: srv.data });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /already exists/);
  r = cli(['token', 'create', '--email', 'nobody@example.org'], { data: srv.data });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no account/);
});
