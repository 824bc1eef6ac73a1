// SPDX-License-Identifier: AGPL-3.0-or-later
// Helpers for the staff console's browser tests: staff accounts made through the API, signed in
// and past their first password, as a session cookie a browser context can carry.
import assert from 'node:assert/strict';
import { api } from './browser.mjs';

export const PASSWORD = 'la piazza del mercato';

// Sign `email` in with `password`, set PASSWORD as theirs if asked, and return the cookie.
export async function session(w, email, password, { change = true } = {}) {
  const s = await api(w.url, 'POST', '/api/v1/session', { body: { email, password } });
  assert.equal(s.status, 200, s.text);
  const pair = s.headers.get('set-cookie').split(';')[0];
  const headers = { cookie: pair, 'x-csrf-token': s.data.csrf_token };
  if (change && password !== PASSWORD) {
    const r = await api(w.url, 'PUT', '/api/v1/me/password', { headers, body: { current_password: password, new_password: PASSWORD } });
    assert.equal(r.status, 204, r.text);
  }
  const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
  return { cookie: { name, value, url: w.url }, headers };
}

// A staff account of `org` (role staff or org_admin), signed in: { id, email, password, cookie, headers }.
export async function staff(w, org, email, role = 'staff', opts) {
  const a = await w.ok(201, 'POST', `/api/v1/orgs/${org}/staff`, { body: { email, role } });
  return { ...a, ...(await session(w, email, a.password, opts)) };
}

// A browser context (see openContext) already signed in to the console.
export async function signedIn(ctx, who) {
  await ctx.addCookies([who.cookie]);
  return ctx;
}
