// SPDX-License-Identifier: AGPL-3.0-or-later
// What the staff console needs from the API (docs/API.md, "Staff console"): the server's own
// formatter as a preview, an org's channels with the caller's role, a channel's followers per
// day, and the audit log's filters — each with who may and may not call it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, operatorToken, api } from './lib/server.mjs';

let srv;
let op;
const call = (method, path, opts = {}) => api(srv.url, method, path, opts);
const users = {};

async function staff(slug, email, role) {
  const r = await call('POST', `/api/v1/orgs/${slug}/staff`, { as: op, body: { email, role } });
  assert.equal(r.status, 201, r.text);
  const s = await call('POST', '/api/v1/session', { body: { email, password: r.data.password } });
  assert.equal(s.status, 200, s.text);
  const cookie = s.headers.get('set-cookie').split(';')[0];
  const t = await call('POST', '/api/v1/tokens', { headers: { cookie, 'x-csrf-token': s.data.csrf_token }, body: { name: 't' } });
  assert.equal(t.status, 201, t.text);
  users[email] = { id: r.data.id, token: t.data.token };
  return users[email];
}

before(async () => {
  srv = await startServer();
  op = operatorToken(srv.data);
  for (const slug of ['valdoro', 'altrove']) {
    const r = await call('POST', '/api/v1/orgs', { as: op, body: { slug, name: `Comune di ${slug}` } });
    assert.equal(r.status, 201, r.text);
  }
  await staff('valdoro', 'capo@valdoro.it', 'org_admin');
  await staff('valdoro', 'ana@valdoro.it', 'staff');
  await staff('valdoro', 'bea@valdoro.it', 'staff');
  await staff('altrove', 'eva@altrove.it', 'staff');
  for (const [handle, visibility, who] of [['vd-notizie', 'listed', 'ana@valdoro.it'], ['vd-interno', 'unlisted', 'ana@valdoro.it'], ['vd-scuole', 'unlisted', 'bea@valdoro.it']]) {
    const r = await call('POST', '/api/v1/channels', { as: users[who].token, body: { org: 'valdoro', handle, name: handle, visibility } });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => { await srv.stop(); srv.cleanup(); });

test('preview: the server formatter, for staff only', async () => {
  const text = '*Avviso* _urgente_ <script>alert(1)</script> https://example.it/a?b=1&c=2';
  const r = await call('POST', '/api/v1/preview', { as: users['ana@valdoro.it'].token, body: { text } });
  assert.equal(r.status, 200, r.text);
  // Exactly what a published post's html is.
  const p = await call('POST', '/api/v1/channels/vd-notizie/posts', { as: users['ana@valdoro.it'].token, body: { text } });
  assert.equal(p.status, 201, p.text);
  assert.equal(r.data.html, p.data.html);
  assert.match(r.data.html, /<strong>Avviso<\/strong> <em>urgente<\/em> &lt;script&gt;/);
  assert.equal((await call('POST', '/api/v1/preview', { body: { text } })).status, 401);
  const f = await call('POST', '/api/v1/followers');
  assert.equal((await call('POST', '/api/v1/preview', { as: f.data.token, body: { text } })).status, 401);
  assert.equal((await call('POST', '/api/v1/preview', { as: op, body: { text: '' } })).data.error.code, 'too_short');
  assert.equal((await call('POST', '/api/v1/preview', { as: op, body: { text: 'x'.repeat(4097) } })).data.error.code, 'too_long');
  assert.equal((await call('POST', '/api/v1/preview', { as: op, body: { text: 'a', html: 1 } })).data.error.code, 'unknown_field');
});

test('org channels: every channel for operators and org admins, listed + own for staff, 403 for other Comuni', async () => {
  const names = (r) => r.data.channels.map((c) => `${c.handle}:${c.my_role}:${c.can_manage}`);
  let r = await call('GET', '/api/v1/orgs/valdoro/channels', { as: op });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(names(r), ['vd-interno:null:true', 'vd-notizie:null:true', 'vd-scuole:null:true']);
  r = await call('GET', '/api/v1/orgs/valdoro/channels', { as: users['capo@valdoro.it'].token });
  assert.deepEqual(names(r), ['vd-interno:null:true', 'vd-notizie:null:true', 'vd-scuole:null:true']);
  r = await call('GET', '/api/v1/orgs/valdoro/channels', { as: users['ana@valdoro.it'].token });
  assert.deepEqual(names(r), ['vd-interno:owner:true', 'vd-notizie:owner:true']);
  r = await call('GET', '/api/v1/orgs/valdoro/channels', { as: users['bea@valdoro.it'].token });
  assert.deepEqual(names(r), ['vd-notizie:null:false', 'vd-scuole:owner:true']);
  r = await call('GET', '/api/v1/orgs/valdoro/channels', { as: users['eva@altrove.it'].token });
  assert.equal(r.status, 403);
  assert.equal(r.data.error.code, 'not_org_staff');
  assert.equal((await call('GET', '/api/v1/orgs/valdoro/channels')).status, 401);
  assert.equal((await call('GET', '/api/v1/orgs/nessuno/channels', { as: op })).status, 404);
});

test('stats: followers per day for the channel admins; 403 for others, 404 for an unlisted channel unseen', async () => {
  const ana = users['ana@valdoro.it'].token;
  for (let i = 0; i < 3; i++) {
    const f = await call('POST', '/api/v1/followers');
    assert.equal((await call('PUT', '/api/v1/channels/vd-notizie/follow', { as: f.data.token })).status, 204);
  }
  const r = await call('GET', '/api/v1/channels/vd-notizie/stats', { as: ana });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.days.length, 90);
  const today = new Date().toISOString().slice(0, 10);
  assert.deepEqual(r.data.days.at(-1), { day: today, followers: 3 });
  assert.equal(r.data.days[0].followers, 0);
  assert.equal(r.data.followers_count, 3);
  const d7 = await call('GET', '/api/v1/channels/vd-notizie/stats?days=7', { as: op });
  assert.equal(d7.data.days.length, 7);
  assert.equal((await call('GET', '/api/v1/channels/vd-notizie/stats?days=0', { as: ana })).status, 400);
  assert.equal((await call('GET', '/api/v1/channels/vd-notizie/stats?days=9x', { as: ana })).status, 400);
  // Another staff member of the same Comune who is not an admin, and another Comune's staff.
  assert.equal((await call('GET', '/api/v1/channels/vd-notizie/stats', { as: users['bea@valdoro.it'].token })).status, 403);
  assert.equal((await call('GET', '/api/v1/channels/vd-notizie/stats', { as: users['eva@altrove.it'].token })).status, 403);
  assert.equal((await call('GET', '/api/v1/channels/vd-notizie/stats')).status, 401);
  // Unlisted: its existence is not revealed to an outsider.
  const hidden = await call('GET', '/api/v1/channels/vd-interno/stats', { as: users['eva@altrove.it'].token });
  assert.equal(hidden.status, 404, hidden.text);
});

test('audit log: filters by action, person and time', async () => {
  const capo = users['capo@valdoro.it'].token;
  const all = await call('GET', '/api/v1/orgs/valdoro/audit?limit=200', { as: capo });
  assert.equal(all.status, 200, all.text);
  const ana = users['ana@valdoro.it'].id;
  let r = await call('GET', `/api/v1/orgs/valdoro/audit?actor=${ana}`, { as: capo });
  assert.ok(r.data.entries.length >= 3, r.text);
  assert.ok(r.data.entries.every((e) => e.actor && e.actor.id === ana));
  r = await call('GET', `/api/v1/orgs/valdoro/audit?actor=${ana}&action=channel.create`, { as: capo });
  assert.deepEqual(r.data.entries.map((e) => e.target).sort(), ['channel:vd-interno', 'channel:vd-notizie']);
  r = await call('GET', '/api/v1/orgs/valdoro/audit?action=staff.add', { as: capo });
  assert.equal(r.data.entries.length, 3);
  const future = new Date(Date.now() + 3600e3).toISOString();
  r = await call('GET', `/api/v1/orgs/valdoro/audit?from=${encodeURIComponent(future)}`, { as: capo });
  assert.deepEqual(r.data.entries, []);
  r = await call('GET', `/api/v1/orgs/valdoro/audit?to=${encodeURIComponent(future)}&from=2020-01-01T00:00:00%2B01:00`, { as: capo });
  assert.equal(r.data.entries.length, all.data.entries.length);
  for (const q of ['from=yesterday', 'to=2026-13-01T00:00:00Z', 'actor=abc', 'action=']) {
    const bad = await call('GET', `/api/v1/orgs/valdoro/audit?${q}`, { as: capo });
    assert.equal(bad.status, 400, q);
    assert.equal(bad.data.error.code, 'invalid_value', q);
  }
  // Filters do not widen who may read it.
  assert.equal((await call('GET', `/api/v1/orgs/valdoro/audit?actor=${ana}`, { as: users['ana@valdoro.it'].token })).status, 403);
  assert.equal((await call('GET', '/api/v1/orgs/valdoro/audit?action=staff.add', { as: users['eva@altrove.it'].token })).status, 403);
});
