// SPDX-License-Identifier: AGPL-3.0-or-later
// Session expiry over HTTP: a staff session cookie ends after 12 hours without use, and 7 days
// after sign-in however often it is used; then every request with it is 401 session_expired,
// with a message that says why and what to do. Time moves by restarting the server on the same
// data with ARALDO_TEST_CLOCK_OFFSET_MS (the test-only clock shift).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, operatorToken, api } from './lib/server.mjs';

const HOUR = 3600 * 1000;
let srv;
let data;
let op;

// Restart the server on the same data with the wall clock `offsetMs` ahead.
async function at(offsetMs) {
  // A graceful stop: the writes still queued (a session's last use) are committed first.
  assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.stderr);
  srv = await startServer({ data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(offsetMs) } });
}

// Sign `email` in; returns the cookie pair (name=value).
async function signIn(email, password) {
  const r = await api(srv.url, 'POST', '/api/v1/session', { body: { email, password } });
  assert.equal(r.status, 200, r.text);
  return r.headers.get('set-cookie').split(';')[0];
}

const whoAmI = (cookie) => api(srv.url, 'GET', '/api/v1/session', { headers: { cookie } });

function assertExpired(r, what) {
  assert.equal(r.status, 401, `${what}: ${r.text}`);
  assert.equal(r.data.error.code, 'session_expired', what);
  assert.match(r.data.error.message, /session/i, what);
  assert.match(r.data.error.message, /sign in again/i, what);
}

before(async () => {
  srv = await startServer();
  data = srv.data;
  op = operatorToken(data);
  assert.equal((await api(srv.url, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'comune-t', name: 'Comune T' } })).status, 201);
});
after(async () => {
  await srv?.stop();
  srv?.cleanup();
});

async function newStaff(email) {
  const r = await api(srv.url, 'POST', '/api/v1/orgs/comune-t/staff', { as: op, body: { email, role: 'staff' } });
  assert.equal(r.status, 201, r.text);
  return r.data.password;
}

test('a session cookie stops working 12 hours after its last use: 401 session_expired', async () => {
  await at(0);
  const cookie = await signIn('idle@t.it', await newStaff('idle@t.it'));
  assert.equal((await whoAmI(cookie)).status, 200);
  // 11 hours later it still works, and that use starts the 12 hours again.
  await at(11 * HOUR);
  assert.equal((await whoAmI(cookie)).status, 200, 'used within 12 hours');
  await at(22 * HOUR);
  assert.equal((await whoAmI(cookie)).status, 200, '11 hours after the last use');
  // 12 hours and a minute after the last use: over, on every route, for reads and writes alike.
  await at(34 * HOUR + 60000);
  assertExpired(await whoAmI(cookie), 'GET /api/v1/session');
  assertExpired(await api(srv.url, 'GET', '/api/v1/me', { headers: { cookie } }), 'GET /api/v1/me');
  assertExpired(await api(srv.url, 'GET', '/api/v1/orgs', { headers: { cookie } }), 'GET /api/v1/orgs');
});

test('a session used all the time still ends 7 days after sign-in', async () => {
  await at(0);
  const cookie = await signIn('busy@t.it', await newStaff('busy@t.it'));
  // Used every 11 hours: never idle for 12, right up to the last hour of the 7th day.
  for (let h = 11; h < 7 * 24; h += 11) {
    await at(h * HOUR);
    assert.equal((await whoAmI(cookie)).status, 200, `${h} hours after sign-in`);
  }
  await at(7 * 24 * HOUR - 30 * 60000);
  assert.equal((await whoAmI(cookie)).status, 200, 'half an hour before the 7 days are up');
  await at(7 * 24 * HOUR + 60000);
  assertExpired(await whoAmI(cookie), '7 days and a minute after sign-in, used 30 minutes ago');
  // An API token is not a session: it does not expire this way.
  assert.equal((await api(srv.url, 'GET', '/api/v1/me', { as: op })).status, 200);
});
