// SPDX-License-Identifier: AGPL-3.0-or-later
// A populated server for cross-cutting tests (authorization matrix, privacy): two Comuni, a
// channel with an owner and an admin, an org admin, staff of another org, followers, posts.
// Every staff member signs in with the one-time password and makes an API token, as a person
// would; tests then use the tokens.
import assert from 'node:assert/strict';
import { startServer, operatorToken, api } from './server.mjs';

export const ROLES = ['anonymous', 'follower', 'other_org', 'channel_admin', 'channel_owner', 'org_admin', 'operator'];

export async function buildWorld({ sets } = {}) {
  const srv = await startServer({ sets });
  const w = { srv, tok: {}, ids: {}, n: 0 };

  w.call = (method, path, opts) => api(srv.url, method, path, opts);
  const ok = async (status, method, path, opts) => {
    const r = await w.call(method, path, opts);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    return r.data;
  };
  w.ok = ok;
  w.unique = (prefix) => `${prefix}-${++w.n}`;

  w.tok.operator = operatorToken(srv.data);
  await ok(201, 'POST', '/api/v1/orgs', { as: w.tok.operator, body: { slug: 'comune-a', name: 'Comune di A' } });
  await ok(201, 'POST', '/api/v1/orgs', { as: w.tok.operator, body: { slug: 'comune-b', name: 'Comune di B' } });

  // Staff sign in with their one-time password and make themselves an API token.
  w.staff = async (slug, email, role) => {
    const made = await ok(201, 'POST', `/api/v1/orgs/${slug}/staff`, { as: w.tok.operator, body: { email, role } });
    const r = await fetch(`${srv.url}/api/v1/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: made.password }),
    });
    assert.equal(r.status, 200);
    const cookie = (r.headers.get('set-cookie') || '').split(';')[0];
    const { csrf_token: csrf } = await r.json();
    const t = await fetch(`${srv.url}/api/v1/tokens`, {
      method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tests' }),
    });
    assert.equal(t.status, 201);
    return { id: made.id, email, token: (await t.json()).token };
  };
  const owner = await w.staff('comune-a', 'owner@a.it', 'staff');
  const admin = await w.staff('comune-a', 'admin@a.it', 'staff');
  const orgAdmin = await w.staff('comune-a', 'orgadmin@a.it', 'org_admin');
  const other = await w.staff('comune-b', 'staff@b.it', 'staff');
  Object.assign(w.tok, { channel_owner: owner.token, channel_admin: admin.token, org_admin: orgAdmin.token, other_org: other.token });
  Object.assign(w.ids, { owner: owner.id, admin: admin.id, orgAdmin: orgAdmin.id, other: other.id });

  // A fresh channel of org A owned by `owner`, with `admin` made admin through the invitation.
  w.channel = async (extra = {}) => {
    const handle = w.unique('canale');
    await ok(201, 'POST', '/api/v1/channels', {
      as: w.tok.channel_owner,
      body: { org: 'comune-a', handle, name: `Canale ${handle}`, category: 'news', language: 'it', ...extra },
    });
    const inv = await ok(201, 'POST', `/api/v1/channels/${handle}/admins`, { as: w.tok.channel_owner, body: { email: 'admin@a.it' } });
    await ok(200, 'POST', `/api/v1/invitations/${inv.id}/accept`, { as: w.tok.channel_admin });
    return handle;
  };
  w.post = async (handle, text = 'Avviso di prova') =>
    (await ok(201, 'POST', `/api/v1/channels/${handle}/posts`, { as: w.tok.channel_owner, body: { text } })).id;
  w.follower = async (handle) => {
    const { token } = await ok(201, 'POST', '/api/v1/followers');
    if (handle) await w.call('PUT', `/api/v1/channels/${handle}/follow`, { as: token });
    return token;
  };

  w.main = await w.channel();
  w.mainPost = await w.post(w.main, 'Primo *avviso*');
  w.tok.follower = await w.follower(w.main);
  return w;
}
