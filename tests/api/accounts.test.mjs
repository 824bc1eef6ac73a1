// SPDX-License-Identifier: AGPL-3.0-or-later
// Organizations, staff accounts, sessions with CSRF, sign-in rate limits and the audit log, over
// real HTTP on loopback against the real binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, operatorToken } from './lib/server.mjs';
import { png, pdf } from '../fixtures/media/gen.mjs';

let srv;
let op; // operator API token
const json = { 'content-type': 'application/json' };
const bearer = (t) => ({ authorization: `Bearer ${t}` });

async function call(method, path, { headers = {}, body, raw } = {}) {
  const init = { method, headers: { ...headers } };
  if (raw !== undefined) { init.body = raw; init.headers['content-type'] = 'application/json'; }
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
  const r = await fetch(`${srv.url}${path}`, init);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: r.status, headers: r.headers, data, text };
}

// Sign in; returns { status, data, cookie (the name=value pair), setCookie, csrf, auth(headers) }.
async function login(email, password, headers = {}) {
  const r = await call('POST', '/api/v1/session', { body: { email, password }, headers });
  const setCookie = r.headers.get('set-cookie') || '';
  const cookie = setCookie.split(';')[0];
  const csrf = r.data?.csrf_token;
  return {
    ...r, setCookie, cookie, csrf,
    // headers for a cookie-authenticated request, with the CSRF token unless told otherwise
    h: (withCsrf = true) => ({ cookie, ...(withCsrf ? { 'x-csrf-token': csrf } : {}) }),
  };
}

// Upload `body` to POST /api/v1/media with `headers` (bearer or session + CSRF); returns its id.
async function upload(headers, body = png(), type = 'image/png') {
  const r = await fetch(`${srv.url}/api/v1/media`, { method: 'POST', headers: { ...headers, 'content-type': type }, body });
  const data = await r.json();
  assert.equal(r.status, 201, JSON.stringify(data));
  return data.id;
}

let orgA; let orgB;
let adminA; // session of org A's org_admin
let staffA; // session of org A's plain staff
let adminB; // session of org B's org_admin
const creds = {};

async function addStaff(slug, email, role, headers = bearer(op)) {
  const r = await call('POST', `/api/v1/orgs/${slug}/staff`, { headers, body: { email, role } });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  creds[email] = r.data.password;
  return r.data;
}

before(async () => {
  srv = await startServer();
  op = operatorToken(srv.data);
  let r = await call('POST', '/api/v1/orgs', { headers: bearer(op), body: { slug: 'comune-a', name: 'Comune di A', istat_code: '058091' } });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  orgA = r.data;
  r = await call('POST', '/api/v1/orgs', { headers: bearer(op), body: { slug: 'comune-b', name: 'Comune di B' } });
  assert.equal(r.status, 201);
  orgB = r.data;
  await addStaff('comune-a', 'admin@a.it', 'org_admin');
  await addStaff('comune-a', 'staff@a.it', 'staff');
  await addStaff('comune-b', 'admin@b.it', 'org_admin');
  adminA = await login('admin@a.it', creds['admin@a.it']);
  staffA = await login('staff@a.it', creds['staff@a.it']);
  adminB = await login('admin@b.it', creds['admin@b.it']);
  for (const s of [adminA, staffA, adminB]) assert.equal(s.status, 200);
});
after(async () => {
  await srv?.stop();
  srv?.cleanup();
});

// ---- organizations ----

test('create org: operator gets 201 with the profile; defaults applied', () => {
  assert.equal(orgA.slug, 'comune-a');
  assert.equal(orgA.name, 'Comune di A');
  assert.equal(orgA.istat_code, '058091');
  assert.equal(orgA.timezone, 'Europe/Rome');
  assert.equal(orgA.jurisdiction_id, null);
  assert.equal(orgA.logo, null);
  assert.equal(typeof orgA.id, 'string');
  assert.match(orgA.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
});

test('create org: anonymous 401, org admin and staff 403', async () => {
  const body = { slug: 'comune-z', name: 'Z' };
  assert.equal((await call('POST', '/api/v1/orgs', { body })).status, 401);
  let r = await call('POST', '/api/v1/orgs', { body, headers: adminA.h() });
  assert.equal(r.status, 403);
  assert.equal(r.data.error.code, 'forbidden');
  r = await call('POST', '/api/v1/orgs', { body, headers: staffA.h() });
  assert.equal(r.status, 403);
  assert.equal((await call('GET', '/api/v1/orgs/comune-z')).status, 404);
});

test('create org: bad input is a 400 naming the field; duplicate slug 409', async () => {
  const cases = [
    [{ slug: 'Comune-Maiuscolo', name: 'X' }, 'invalid_slug', 'slug'],
    [{ slug: 'comune_x', name: 'X' }, 'invalid_slug', 'slug'],
    [{ slug: 'x', name: 'X' }, 'too_short', 'slug'],
    [{ slug: 'x'.repeat(65), name: 'X' }, 'too_long', 'slug'],
    [{ slug: 'comune-y', name: '' }, 'too_short', 'name'],
    [{ slug: 'comune-y', name: 'N'.repeat(201) }, 'too_long', 'name'],
    [{ slug: 'comune-y' }, 'missing_field', 'name'],
    [{ slug: 'comune-y', name: 42 }, 'wrong_type', 'name'],
    // shown on every page's header: no control characters, line breaks or bidi overrides
    [{ slug: 'comune-y', name: 'Comune\u0007 di Y' }, 'invalid_value', 'name'],
    [{ slug: 'comune-y', name: 'Comune\ndi Y' }, 'invalid_value', 'name'],
    [{ slug: 'comune-y', name: 'Comune di \u202eY' }, 'invalid_value', 'name'],
    // istat_code: one code and one message whatever is wrong with it (issue 9)
    ...['12345', '1234567', '12345a', '', 58091, ['058091'], '05809１'].map((istat_code) =>
      [{ slug: 'comune-y', name: 'Y', istat_code }, 'invalid_value', 'istat_code']),
    [{ slug: 'comune-y', name: 'Y', timezone: 'Europe/Atlantide' }, 'invalid_timezone', 'timezone'],
    [{ slug: 'comune-y', name: 'Y', timezone: '../../etc/passwd' }, 'invalid_timezone', 'timezone'],
    [{ slug: 'comune-y', name: 'Y', colour: 'red' }, 'unknown_field', 'colour'],
  ];
  const istatMessages = new Set();
  for (const [body, code, field] of cases) {
    const r = await call('POST', '/api/v1/orgs', { headers: bearer(op), body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.data.error.code, code, JSON.stringify(body));
    assert.equal(r.data.error.field, field, JSON.stringify(body));
    assert.ok(r.data.error.message.length > 10);
    if (field === 'istat_code') istatMessages.add(r.data.error.message);
  }
  assert.equal(istatMessages.size, 1, [...istatMessages].join(' | '));
  const p = await call('PATCH', '/api/v1/orgs/comune-a', { headers: bearer(op), body: { istat_code: '123' } });
  assert.equal(p.data.error.code, 'invalid_value');
  assert.equal(p.data.error.message, [...istatMessages][0]);
  let r = await call('POST', '/api/v1/orgs', { headers: bearer(op), raw: '{"slug": "comune-y",' });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'invalid_json');
  r = await call('POST', '/api/v1/orgs', { headers: bearer(op), body: { slug: 'comune-a', name: 'Altro' } });
  assert.equal(r.status, 409);
  assert.equal(r.data.error.code, 'slug_taken');
  // Characters, not bytes: 200 accented letters fit.
  r = await call('POST', '/api/v1/orgs', { headers: bearer(op), body: { slug: 'comune-citta', name: 'à'.repeat(200), timezone: 'UTC' } });
  assert.equal(r.status, 201);
  assert.equal(r.data.timezone, 'UTC');
  // Nothing from the rejected requests was created.
  assert.equal((await call('GET', '/api/v1/orgs/comune-y')).status, 404);
});

test('list orgs: anonymous 401, operator sees all, org staff only their own', async () => {
  assert.equal((await call('GET', '/api/v1/orgs')).status, 401);
  let r = await call('GET', '/api/v1/orgs', { headers: bearer(op) });
  assert.equal(r.status, 200);
  const slugs = r.data.orgs.map((o) => o.slug);
  assert.ok(slugs.includes('comune-a') && slugs.includes('comune-b'));
  r = await call('GET', '/api/v1/orgs', { headers: adminA.h(false) });
  assert.deepEqual(r.data.orgs.map((o) => o.slug), ['comune-a']);
  r = await call('GET', '/api/v1/orgs', { headers: staffA.h(false) });
  assert.deepEqual(r.data.orgs.map((o) => o.slug), ['comune-a']);
  r = await call('GET', '/api/v1/orgs', { headers: adminB.h(false) });
  assert.deepEqual(r.data.orgs.map((o) => o.slug), ['comune-b']);
});

test('org public profile: anyone reads it; unknown slug 404', async () => {
  let r = await call('GET', '/api/v1/orgs/comune-a');
  assert.equal(r.status, 200);
  for (const k of ['slug', 'name', 'istat_code', 'jurisdiction_id', 'timezone', 'logo']) assert.ok(k in r.data, k);
  r = await call('GET', '/api/v1/orgs/nessun-comune');
  assert.equal(r.status, 404);
  assert.equal(r.data.error.code, 'org_not_found');
});

test('patch org: partial; own org admin and operator only; slug immutable', async () => {
  const path = '/api/v1/orgs/comune-b';
  assert.equal((await call('PATCH', path, { body: { name: 'X' } })).status, 401);
  let r = await call('PATCH', path, { headers: adminA.h(), body: { name: 'X' } });
  assert.equal(r.status, 403, 'admin of another org');
  r = await call('PATCH', '/api/v1/orgs/comune-a', { headers: staffA.h(), body: { name: 'X' } });
  assert.equal(r.status, 403, 'staff is not admin');
  const logo = await upload(adminB.h());
  r = await call('PATCH', path, { headers: adminB.h(), body: { jurisdiction_id: 'comune-b.example.it', logo } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.jurisdiction_id, 'comune-b.example.it');
  assert.equal(r.data.logo, logo);
  assert.equal(r.data.name, 'Comune di B', 'untouched field kept');
  r = await call('PATCH', path, { headers: bearer(op), body: { logo: null, timezone: 'Europe/Paris' } });
  assert.equal(r.status, 200);
  assert.equal(r.data.logo, null);
  assert.equal(r.data.timezone, 'Europe/Paris');
  r = await call('PATCH', path, { headers: bearer(op), body: { slug: 'comune-c' } });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'immutable_field');
  r = await call('PATCH', path, { headers: bearer(op), body: { name: null } });
  assert.equal(r.status, 400);
  r = await call('PATCH', path, { headers: bearer(op), body: { timezone: 'Mars/Olympus' } });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'invalid_timezone');
  r = await call('PATCH', path, { headers: bearer(op), body: { nome: 'x' } });
  assert.equal(r.data.error.code, 'unknown_field');
  r = await call('PATCH', '/api/v1/orgs/nessuno', { headers: bearer(op), body: { name: 'x' } });
  assert.equal(r.status, 404);
  r = await call('GET', path);
  assert.equal(r.data.name, 'Comune di B');
  assert.equal(r.data.timezone, 'Europe/Paris');
});

// ---- staff ----


test('org logo: an image uploaded for that org or by an operator, like a channel icon; else 400 naming logo', async () => {
  const path = '/api/v1/orgs/comune-a';
  const own = await upload(adminA.h());
  const byStaff = await upload(staffA.h());
  const byOperator = await upload(bearer(op));
  const foreign = await upload(adminB.h());
  const document = await upload(adminA.h(), pdf(), 'application/pdf');
  const bad = async (r, what) => {
    assert.equal(r.status, 400, `${what}: ${r.text}`);
    assert.deepEqual([r.data.error.code, r.data.error.field], ['invalid_value', 'logo'], what);
  };
  for (const [logo, what] of [['media-1', 'an id nobody uploaded'], [foreign, "another Comune's image"],
    [document, 'a document, not an image'], ['../../etc/passwd', 'not a media id'], [own + 'x', 'a near miss']]) {
    await bad(await call('PATCH', path, { headers: adminA.h(), body: { logo } }), what);
  }
  for (const [logo, headers] of [[own, adminA.h()], [byStaff, adminA.h()], [byOperator, adminA.h()], [own, bearer(op)]]) {
    const r = await call('PATCH', path, { headers, body: { logo } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.data.logo, logo);
    assert.equal((await call('GET', path)).data.logo, logo, 'the public profile shows it');
  }
  // A new org has no uploads of its own yet: only an operator's image can be its logo.
  await bad(await call('POST', '/api/v1/orgs', { headers: bearer(op), body: { slug: 'comune-l', name: 'L', logo: own } }), 'create');
  const r = await call('POST', '/api/v1/orgs', { headers: bearer(op), body: { slug: 'comune-l', name: 'L', logo: byOperator } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.data.logo, byOperator);
  assert.equal((await call('PATCH', path, { headers: adminA.h(), body: { logo: null } })).data.logo, null, 'null clears it');
});
test('add staff: one-time password shown once, must_change_password, list has no secrets', async () => {
  const s = await addStaff('comune-a', 'Ufficio@A.it', 'staff', adminA.h());
  assert.equal(s.email, 'ufficio@a.it');
  assert.equal(s.role, 'staff');
  assert.equal(s.must_change_password, true);
  assert.match(s.password, /^[A-Za-z0-9_-]{20}$/);
  const r = await call('GET', '/api/v1/orgs/comune-a/staff', { headers: adminA.h(false) });
  assert.equal(r.status, 200);
  const emails = r.data.staff.map((u) => u.email);
  assert.ok(emails.includes('ufficio@a.it') && emails.includes('admin@a.it'));
  assert.ok(!emails.includes('admin@b.it'));
  assert.ok(!r.text.includes(s.password));
  assert.ok(!r.text.includes('argon2'));
  assert.ok(r.data.staff.every((u) => !('password' in u)));
  const l = await login('ufficio@a.it', s.password);
  assert.equal(l.status, 200);
  assert.equal(l.data.user.must_change_password, true);
  assert.equal(l.data.user.org, 'comune-a');
});

test('add staff: who may (401/403) and bad input', async () => {
  const path = '/api/v1/orgs/comune-a/staff';
  const body = { email: 'x@a.it', role: 'staff' };
  assert.equal((await call('POST', path, { body })).status, 401);
  assert.equal((await call('POST', path, { body, headers: adminB.h() })).status, 403);
  assert.equal((await call('POST', path, { body, headers: staffA.h() })).status, 403);
  assert.equal((await call('GET', path)).status, 401);
  assert.equal((await call('GET', path, { headers: adminB.h(false) })).status, 403);
  assert.equal((await call('GET', path, { headers: staffA.h(false) })).status, 403);
  assert.equal((await call('POST', '/api/v1/orgs/nessuno/staff', { body, headers: bearer(op) })).status, 404);
  const cases = [
    [{ email: 'x@a.it', role: 'operator' }, 'role'],
    [{ email: 'x@a.it', role: 'boss' }, 'role'],
    [{ email: 'not-an-email', role: 'staff' }, 'email'],
    [{ email: 'x @a.it', role: 'staff' }, 'email'],
    [{ email: 'x@a.it' }, 'role'],
    [{ email: 7, role: 'staff' }, 'email'],
    [{ email: 'x@a.it', role: 'staff', password: 'mine' }, 'password'],
  ];
  for (const [b, field] of cases) {
    const r = await call('POST', path, { headers: bearer(op), body: b });
    assert.equal(r.status, 400, JSON.stringify(b));
    assert.equal(r.data.error.field, field, JSON.stringify(b));
  }
  const r = await call('POST', path, { headers: bearer(op), body: { email: 'ADMIN@b.it', role: 'staff' } });
  assert.equal(r.status, 409);
  assert.equal(r.data.error.code, 'email_taken');
});

test('disable staff: sessions and tokens stop, login refused, not yourself, not another org', async () => {
  const s = await addStaff('comune-a', 'temp@a.it', 'staff');
  const sess = await login('temp@a.it', s.password);
  assert.equal(sess.status, 200);
  const tok = operatorToken(srv.data, 'temp@a.it');
  assert.equal((await call('GET', '/api/v1/me', { headers: bearer(tok) })).status, 200);
  assert.equal((await call('GET', '/api/v1/me', { headers: sess.h(false) })).status, 200);
  const path = `/api/v1/orgs/comune-a/staff/${s.id}`;
  assert.equal((await call('DELETE', path)).status, 401);
  assert.equal((await call('DELETE', path, { headers: staffA.h() })).status, 403);
  assert.equal((await call('DELETE', path, { headers: adminB.h() })).status, 403);
  let r = await call('DELETE', `/api/v1/orgs/comune-b/staff/${s.id}`, { headers: adminB.h() });
  assert.equal(r.status, 404, 'not a member of org B');
  r = await call('DELETE', `/api/v1/orgs/comune-a/staff/${adminA.data.user.id}`, { headers: adminA.h() });
  assert.equal(r.status, 409);
  assert.equal(r.data.error.code, 'cannot_remove_self');
  // An operator is in no org: "itself in comune-a" is someone not in that org, so 404 (issue 9).
  const opId = (await call('GET', '/api/v1/me', { headers: bearer(op) })).data.id;
  r = await call('DELETE', `/api/v1/orgs/comune-a/staff/${opId}`, { headers: bearer(op) });
  assert.equal(r.status, 404, JSON.stringify(r.data));
  assert.equal(r.data.error.code, 'staff_not_found');
  r = await call('DELETE', path, { headers: adminA.h() });
  assert.equal(r.status, 204);
  assert.equal((await call('GET', '/api/v1/me', { headers: bearer(tok) })).status, 401);
  assert.equal((await call('GET', '/api/v1/me', { headers: sess.h(false) })).status, 401);
  const again = await login('temp@a.it', s.password);
  assert.equal(again.status, 401);
  assert.equal(again.data.error.code, 'invalid_credentials');
  r = await call('DELETE', path, { headers: adminA.h() });
  assert.equal(r.status, 404);
  r = await call('DELETE', '/api/v1/orgs/comune-a/staff/abc', { headers: adminA.h() });
  assert.equal(r.status, 404);
  r = await call('GET', '/api/v1/orgs/comune-a/staff', { headers: adminA.h(false) });
  assert.equal(r.data.staff.find((u) => u.email === 'temp@a.it').disabled, true);
});

// ---- sessions ----

test('login: cookie is HttpOnly, SameSite=Strict, Path=/, not Secure over plain http', () => {
  const c = adminA.setCookie;
  assert.match(c, /^araldo_session=[A-Za-z0-9_-]+;/);
  assert.match(c, /HttpOnly/);
  assert.match(c, /SameSite=Strict/);
  assert.match(c, /Path=\//);
  assert.doesNotMatch(c, /Secure/);
  assert.equal(adminA.data.user.email, 'admin@a.it');
  assert.equal(adminA.data.user.role, 'org_admin');
  assert.equal(typeof adminA.csrf, 'string');
  assert.ok(!JSON.stringify(adminA.data).includes(adminA.cookie.split('=')[1]), 'token not in body');
});

test('X-Forwarded-Proto from a peer that is not a trusted proxy does not set Secure', async () => {
  // Trusted proxies (and Secure through them) are tested in proxy.test.mjs.
  const l = await login('admin@b.it', creds['admin@b.it'], { 'x-forwarded-proto': 'https' });
  assert.equal(l.status, 200);
  assert.doesNotMatch(l.setCookie, /Secure/);
});

test('login: wrong password and unknown e-mail get the same 401; bad bodies 400', async () => {
  const a = await login('admin@a.it', 'wrong-password-1');
  const b = await login('nobody@a.it', 'wrong-password-1');
  assert.equal(a.status, 401);
  assert.equal(b.status, 401);
  assert.deepEqual(a.data, b.data);
  assert.equal(a.data.error.code, 'invalid_credentials');
  assert.equal(a.setCookie, '');
  let r = await call('POST', '/api/v1/session', { body: { email: 'admin@a.it' } });
  assert.equal(r.status, 400);
  r = await call('POST', '/api/v1/session', { body: { email: 'admin@a.it', password: 1 } });
  assert.equal(r.status, 400);
  r = await call('POST', '/api/v1/session', { body: { email: 'admin@a.it', password: 'x', remember: true } });
  assert.equal(r.data.error.code, 'unknown_field');
});

test('login: 5 failures on one account -> 429 with Retry-After, even with the right password', async () => {
  const s = await addStaff('comune-a', 'locked@a.it', 'staff');
  for (let i = 0; i < 5; i++) assert.equal((await login('locked@a.it', 'wrong-password')).status, 401);
  const r = await login('LOCKED@a.it', s.password);
  assert.equal(r.status, 429);
  assert.equal(r.data.error.code, 'too_many_attempts');
  const ra = Number(r.headers.get('retry-after'));
  assert.ok(ra >= 1 && ra <= 15 * 60, `retry-after ${ra}`);
  // Other accounts are not affected.
  assert.equal((await login('staff@a.it', creds['staff@a.it'])).status, 200);
});

test('CSRF: cookie without or with a wrong X-CSRF-Token is 403 and changes nothing', async () => {
  let r = await call('POST', '/api/v1/orgs/comune-a/staff', { headers: adminA.h(false), body: { email: 'csrf@a.it', role: 'staff' } });
  assert.equal(r.status, 403);
  assert.equal(r.data.error.code, 'csrf_failed');
  r = await call('PATCH', '/api/v1/orgs/comune-a', { headers: { cookie: adminA.cookie, 'x-csrf-token': staffA.csrf }, body: { name: 'Hacked' } });
  assert.equal(r.status, 403);
  assert.equal(r.data.error.code, 'csrf_failed');
  r = await call('POST', '/api/v1/tokens', { headers: adminA.h(false), body: { name: 'x' } });
  assert.equal(r.status, 403, 'existing staff endpoints check CSRF too');
  r = await call('GET', '/api/v1/orgs/comune-a');
  assert.equal(r.data.name, 'Comune di A');
  r = await call('GET', '/api/v1/orgs/comune-a/staff', { headers: adminA.h(false) });
  assert.ok(!r.data.staff.some((u) => u.email === 'csrf@a.it'));
  // With the token it works; bearer tokens need none.
  const bad = await call('POST', '/api/v1/tokens', { headers: adminA.h(), body: { name: 'cron\u202e' } });
  assert.deepEqual([bad.status, bad.data.error.code, bad.data.error.field], [400, 'invalid_value', 'name']);
  r = await call('POST', '/api/v1/tokens', { headers: adminA.h(), body: { name: 'x' } });
  assert.equal(r.status, 201);
  r = await call('GET', '/api/v1/me', { headers: bearer(r.data.token) });
  assert.equal(r.data.email, 'admin@a.it');
});

test('GET /session returns the user and the same CSRF token; anonymous 401', async () => {
  let r = await call('GET', '/api/v1/session', { headers: { cookie: staffA.cookie } });
  assert.equal(r.status, 200);
  assert.equal(r.data.user.email, 'staff@a.it');
  assert.equal(r.data.csrf_token, staffA.csrf);
  assert.equal((await call('GET', '/api/v1/session')).status, 401);
  r = await call('GET', '/api/v1/session', { headers: { cookie: 'araldo_session=as_forged' } });
  assert.equal(r.status, 401);
  assert.equal(r.data.error.code, 'session_expired');
  r = await call('GET', '/api/v1/me', { headers: { cookie: staffA.cookie } });
  assert.equal(r.status, 200);
  assert.equal(r.data.email, 'staff@a.it');
  r = await call('GET', '/api/v1/session', { headers: bearer(op) });
  assert.equal(r.status, 400);
});

test('logout ends the session and clears the cookie; the old cookie stops working', async () => {
  const l = await login('staff@a.it', creds['staff@a.it']);
  let r = await call('DELETE', '/api/v1/session', { headers: l.h(false) });
  assert.equal(r.status, 403, 'logout is an unsafe method: CSRF needed');
  r = await call('DELETE', '/api/v1/session', { headers: l.h() });
  assert.equal(r.status, 204);
  assert.match(r.headers.get('set-cookie'), /^araldo_session=;.*Max-Age=0/);
  r = await call('GET', '/api/v1/me', { headers: l.h(false) });
  assert.equal(r.status, 401);
  assert.equal((await call('DELETE', '/api/v1/session')).status, 401);
  // The other session of the same user still works.
  assert.equal((await call('GET', '/api/v1/me', { headers: staffA.h(false) })).status, 200);
});

test('password change: checks the current one, ends other sessions, clears must_change_password', async () => {
  const s = await addStaff('comune-b', 'pw@b.it', 'staff');
  const one = await login('pw@b.it', s.password);
  const two = await login('pw@b.it', s.password);
  assert.equal(one.data.user.must_change_password, true);
  const path = '/api/v1/me/password';
  assert.equal((await call('PUT', path, { body: { current_password: s.password, new_password: 'a-new-password-1' } })).status, 401);
  let r = await call('PUT', path, { headers: one.h(false), body: { current_password: s.password, new_password: 'a-new-password-1' } });
  assert.equal(r.status, 403);
  assert.equal(r.data.error.code, 'csrf_failed');
  r = await call('PUT', path, { headers: one.h(), body: { current_password: 'not-it-at-all', new_password: 'a-new-password-1' } });
  assert.equal(r.status, 403);
  assert.equal(r.data.error.code, 'wrong_password');
  r = await call('PUT', path, { headers: one.h(), body: { current_password: s.password, new_password: 'short' } });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.field, 'new_password');
  r = await call('PUT', path, { headers: one.h(), body: { current_password: s.password, new_password: s.password } });
  assert.equal(r.status, 400);
  r = await call('PUT', path, { headers: one.h(), body: { current_password: s.password } });
  assert.equal(r.status, 400);
  r = await call('PUT', path, { headers: one.h(), body: { current_password: s.password, new_password: 'a-new-password-1' } });
  assert.equal(r.status, 204);
  r = await call('GET', '/api/v1/session', { headers: one.h(false) });
  assert.equal(r.status, 200, 'the session that changed it stays');
  assert.equal(r.data.user.must_change_password, false);
  assert.equal((await call('GET', '/api/v1/me', { headers: two.h(false) })).status, 401, 'other sessions end');
  assert.equal((await login('pw@b.it', s.password)).status, 401);
  assert.equal((await login('pw@b.it', 'a-new-password-1')).status, 200);
});

test('the first-start operator signs in with the printed one-time password', async () => {
  const l = await login('admin@localhost', srv.password);
  assert.equal(l.status, 200);
  assert.equal(l.data.user.role, 'operator');
  assert.equal(l.data.user.must_change_password, true);
  assert.equal(l.data.user.org, null);
  const r = await call('POST', '/api/v1/orgs', { headers: l.h(), body: { slug: 'comune-s', name: 'Da sessione' } });
  assert.equal(r.status, 201);
});

// ---- audit log ----

test('audit log: org admin and operator read it newest first, paginated; others cannot', async () => {
  const path = '/api/v1/orgs/comune-a/audit';
  assert.equal((await call('GET', path)).status, 401);
  assert.equal((await call('GET', path, { headers: staffA.h(false) })).status, 403);
  assert.equal((await call('GET', path, { headers: adminB.h(false) })).status, 403);
  let r = await call('GET', path, { headers: adminA.h(false) });
  assert.equal(r.status, 200);
  const all = r.data.entries;
  assert.ok(all.length >= 4);
  const ids = all.map((e) => Number(e.id));
  assert.deepEqual(ids, [...ids].sort((x, y) => y - x), 'newest first');
  const actions = all.map((e) => e.action);
  for (const a of ['org.create', 'staff.add', 'staff.disable']) assert.ok(actions.includes(a), a);
  const add = all.find((e) => e.action === 'staff.add' && e.detail.email === 'ufficio@a.it');
  assert.equal(add.actor.email, 'admin@a.it');
  assert.match(add.at, /Z$/);
  assert.ok(!r.text.includes('argon2'));
  for (const pw of Object.values(creds)) assert.ok(!r.text.includes(pw), 'no password in the log');
  r = await call('GET', `${path}?limit=2`, { headers: bearer(op) });
  assert.equal(r.status, 200);
  assert.deepEqual(r.data.entries.map((e) => e.id), all.slice(0, 2).map((e) => e.id));
  r = await call('GET', `${path}?limit=2&before=${r.data.next_before}`, { headers: bearer(op) });
  assert.deepEqual(r.data.entries.map((e) => e.id), all.slice(2, 4).map((e) => e.id));
  r = await call('GET', '/api/v1/orgs/comune-b/audit', { headers: adminB.h(false) });
  assert.ok(r.data.entries.some((e) => e.action === 'org.update' && e.detail.fields.includes('logo')));
  assert.ok(!r.data.entries.some((e) => e.target === 'user:' + all[0].target), 'only its own org');
  for (const q of ['limit=0', 'limit=201', 'limit=x', 'before=-1']) {
    r = await call('GET', `${path}?${q}`, { headers: bearer(op) });
    assert.equal(r.status, 400, q);
  }
});

test('parallel guesses: 60 wrong passwords at once -> at most 5 checked, the rest 429', async () => {
  // Each attempt reserves a failure before hashing, so concurrent attempts cannot all pass a
  // check made before any of them is charged (issue 9, finding 3).
  const s2 = await startServer();
  try {
    const post = (password) => fetch(`${s2.url}/api/v1/session`, {
      method: 'POST', headers: json, body: JSON.stringify({ email: 'admin@localhost', password }),
    });
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => post(`wrong-password-${i}`)));
    const counts = {};
    for (const r of answers) {
      counts[r.status] = (counts[r.status] || 0) + 1;
      const body = await r.json();
      if (r.status === 429) {
        assert.equal(body.error.code, 'too_many_attempts');
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
      } else {
        assert.equal(r.status, 401, JSON.stringify(body));
      }
    }
    assert.ok((counts[401] || 0) <= 5, `checked ${counts[401]} passwords: ${JSON.stringify(counts)}`);
    assert.equal((counts[401] || 0) + (counts[429] || 0), 60);
    // The account stays locked, even for the right password.
    assert.equal((await post(s2.password)).status, 429);
  } finally {
    await s2.stop();
    s2.cleanup();
  }
});

test('successful sign-ins give their reservation back: 25 in a row from one address', async () => {
  const s2 = await startServer();
  try {
    const post = (password) => fetch(`${s2.url}/api/v1/session`, {
      method: 'POST', headers: json, body: JSON.stringify({ email: 'admin@localhost', password }),
    });
    for (let i = 0; i < 25; i++) assert.equal((await post(s2.password)).status, 200, `sign-in ${i}`);
    assert.equal((await post('wrong-password')).status, 401);
  } finally {
    await s2.stop();
    s2.cleanup();
  }
});

test('per-address limit: 20 failures from one client -> 429 for any account', async () => {
  const s2 = await startServer();
  try {
    const url = s2.url;
    const post = (email, password) => fetch(`${url}/api/v1/session`, {
      method: 'POST', headers: json, body: JSON.stringify({ email, password }),
    });
    for (let i = 0; i < 20; i++) assert.equal((await post(`u${i}@x.it`, 'wrong-password')).status, 401);
    const r = await post('admin@localhost', s2.password);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  } finally {
    await s2.stop();
    s2.cleanup();
  }
});
