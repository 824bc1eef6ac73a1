// SPDX-License-Identifier: AGPL-3.0-or-later
// Channels, admins, invite links and the directory over real HTTP on loopback against the real
// binary: success, who gets 401/403/404, bad input, and that no follower secret ever leaks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer, operatorToken } from './lib/server.mjs';
import { png } from '../fixtures/media/gen.mjs';

let srv;
const tok = {}; // role name -> staff API token
const ids = {}; // role name -> user id
const follower = {}; // name -> follower token
const bearer = (t) => (t ? { authorization: `Bearer ${t}` } : {});
const leaks = []; // every response text, checked for follower tokens at the end

async function call(method, path, { as, body, raw, headers = {} } = {}) {
  const init = { method, headers: { ...bearer(as), ...headers } };
  if (raw !== undefined) { init.body = raw; init.headers['content-type'] = 'application/json'; }
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
  const r = await fetch(`${srv.url}${path}`, init);
  const text = await r.text();
  leaks.push(text);
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: r.status, headers: r.headers, data, text };
}

async function addStaff(slug, email, role) {
  const r = await call('POST', `/api/v1/orgs/${slug}/staff`, { as: tok.operator, body: { email, role } });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  return { id: r.data.id, token: operatorToken(srv.data, email) };
}

async function newFollower() {
  const r = await call('POST', '/api/v1/followers');
  assert.equal(r.status, 201);
  leaks.pop(); // the one answer that must carry the token: its creation
  return r.data.token;
}

const base = (over = {}) => ({
  org: 'comune-a', name: 'Notizie', category: 'news', language: 'it', ...over,
});

async function createChannel(handle, over = {}, as = tok.owner) {
  const r = await call('POST', '/api/v1/channels', { as, body: base({ handle, ...over }) });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  return r.data;
}

// Make `who` an admin of `handle` through the real invitation flow.
async function makeAdmin(handle, who, email) {
  let r = await call('POST', `/api/v1/channels/${handle}/admins`, { as: tok.owner, body: { email } });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  r = await call('POST', `/api/v1/invitations/${r.data.id}/accept`, { as: tok[who] });
  assert.equal(r.status, 200, JSON.stringify(r.data));
}

before(async () => {
  srv = await startServer();
  dataDir = srv.data; // restarts reuse it, so the last handle does not own it
  tok.operator = operatorToken(srv.data);
  for (const [slug, name] of [['comune-a', 'Comune di A'], ['comune-b', 'Comune di B']]) {
    const r = await call('POST', '/api/v1/orgs', { as: tok.operator, body: { slug, name } });
    assert.equal(r.status, 201, JSON.stringify(r.data));
  }
  for (const [who, slug, email, role] of [
    ['owner', 'comune-a', 'owner@a.it', 'staff'],
    ['admin', 'comune-a', 'admin@a.it', 'staff'],
    ['staff', 'comune-a', 'staff@a.it', 'staff'],
    ['orgadmin', 'comune-a', 'orgadmin@a.it', 'org_admin'],
    ['other', 'comune-b', 'other@b.it', 'staff'],
  ]) {
    const s = await addStaff(slug, email, role);
    tok[who] = s.token;
    ids[who] = s.id;
  }
  follower.one = await newFollower();
  await createChannel('comune-news', { name: 'Notizie della Città', description: 'Il Comune informa i cittadini' });
  await makeAdmin('comune-news', 'admin', 'admin@a.it');
});
let dataDir;
after(async () => {
  await srv?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('create: the creator owns it, fields come back as sent', async () => {
  const r = await call('POST', '/api/v1/channels', {
    as: tok.staff,
    body: base({
      handle: 'Cultura-A', name: 'Cultura', description: 'Mostre e concerti', category: 'culture',
      language: 'it', visibility: 'listed', reaction_policy: 'set', reactions: ['👍', '❤️', '🎉'],
      retention_days: 60,
    }),
  });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  const c = r.data;
  assert.equal(c.handle, 'cultura-a', 'handles are lower-cased');
  assert.equal(typeof c.id, 'string');
  assert.equal(c.name, 'Cultura');
  assert.equal(c.category, 'culture');
  assert.equal(c.retention_days, 60);
  assert.equal(c.reaction_policy, 'set');
  assert.deepEqual(c.reactions, ['👍', '❤️', '🎉']);
  assert.equal(c.verified, false);
  assert.equal(c.followers_count, 0);
  assert.deepEqual(c.org, { slug: 'comune-a', name: 'Comune di A' });
  assert.match(c.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const admins = await call('GET', '/api/v1/channels/cultura-a/admins', { as: tok.staff });
  assert.equal(admins.status, 200);
  assert.deepEqual(admins.data.admins.map((a) => [a.email, a.role]), [['staff@a.it', 'owner']]);
  const dflt = await createChannel('defaults-a');
  assert.equal(dflt.retention_days, 30);
  assert.equal(dflt.visibility, 'listed');
  assert.equal(dflt.reaction_policy, 'any');
  assert.equal(dflt.reactions, null);
});

test('create: who may (401 anonymous or follower, 403 another org, operator and org admin may)', async () => {
  assert.equal((await call('POST', '/api/v1/channels', { body: base({ handle: 'anon-x' }) })).status, 401);
  assert.equal((await call('POST', '/api/v1/channels', { as: follower.one, body: base({ handle: 'fol-x' }) })).status, 401);
  const r = await call('POST', '/api/v1/channels', { as: tok.other, body: base({ handle: 'other-x' }) });
  assert.equal(r.status, 403);
  assert.equal(r.data.error.code, 'not_org_staff');
  await createChannel('by-operator', {}, tok.operator);
  await createChannel('by-orgadmin', {}, tok.orgadmin);
});

test('create: verified is for operators only', async () => {
  let r = await call('POST', '/api/v1/channels', { as: tok.owner, body: base({ handle: 'verif-x', verified: true }) });
  assert.equal(r.status, 403);
  assert.equal(r.data.error.code, 'operator_only');
  assert.equal(r.data.error.field, 'verified');
  r = await call('POST', '/api/v1/channels', { as: tok.operator, body: base({ handle: 'verif-y', verified: true }) });
  assert.equal(r.status, 201);
  assert.equal(r.data.verified, true);
});

test('create: bad input is 400 naming the field; duplicate handle is 409', async () => {
  const cases = [
    [{ handle: 'ok-handle-1', extra: 1 }, 'unknown_field', 'extra'],
    [{ handle: 'ok-handle-1', name: '' }, 'too_short', 'name'],
    [{ handle: 'ok-handle-1', name: 'x'.repeat(101) }, 'too_long', 'name'],
    [{ handle: 'ok-handle-1', name: 42 }, 'wrong_type', 'name'],
    [{ handle: 'ok-handle-1', description: 'd'.repeat(2001) }, 'too_long', 'description'],
    [{ handle: 'ab' }, 'invalid_handle', 'handle'],
    [{ handle: '-abc' }, 'invalid_handle', 'handle'],
    [{ handle: 'città' }, 'invalid_handle', 'handle'],
    [{ handle: 'a'.repeat(33) }, 'invalid_handle', 'handle'],
    [{ handle: 'admin' }, 'handle_reserved', 'handle'],
    [{ handle: 'ok-handle-1', category: 'weather' }, 'invalid_value', 'category'],
    [{ handle: 'ok-handle-1', language: 'italiano!' }, 'invalid_value', 'language'],
    [{ handle: 'ok-handle-1', visibility: 'secret' }, 'invalid_value', 'visibility'],
    [{ handle: 'ok-handle-1', retention_days: 0 }, 'invalid_value', 'retention_days'],
    [{ handle: 'ok-handle-1', retention_days: 366 }, 'invalid_value', 'retention_days'],
    [{ handle: 'ok-handle-1', retention_days: '30' }, 'invalid_value', 'retention_days'],
    [{ handle: 'ok-handle-1', reaction_policy: 'some' }, 'invalid_value', 'reaction_policy'],
    [{ handle: 'ok-handle-1', reaction_policy: 'set' }, 'missing_field', 'reactions'],
    [{ handle: 'ok-handle-1', reaction_policy: 'set', reactions: [] }, 'invalid_reactions', 'reactions'],
    [{ handle: 'ok-handle-1', reaction_policy: 'set', reactions: Array(13).fill(0).map((_, i) => String.fromCodePoint(0x1f600 + i)) }, 'invalid_reactions', 'reactions'],
    [{ handle: 'ok-handle-1', reaction_policy: 'set', reactions: ['ok'] }, 'invalid_reactions', 'reactions'],
    [{ handle: 'ok-handle-1', reaction_policy: 'set', reactions: ['👍', '👍'] }, 'invalid_reactions', 'reactions'],
    // Only what a follower could react with (the reaction validator): not text, two emoji, a lone
    // regional indicator or skin tone, or an emoji in text presentation.
    ...['é', '👍👍', '🇮', '🏽', '👍\uFE0E', '1'].map((e) => [{ handle: 'ok-handle-1', reaction_policy: 'set', reactions: ['👍', e] }, 'invalid_reactions', 'reactions']),
    [{ handle: 'ok-handle-1', reaction_policy: 'any', reactions: ['👍'] }, 'invalid_value', 'reactions'],
    [{ handle: 'ok-handle-1', verified: 'yes' }, 'wrong_type', 'verified'],
  ];
  for (const [over, code, field] of cases) {
    const r = await call('POST', '/api/v1/channels', { as: tok.operator, body: base(over) });
    assert.equal(r.status, 400, `${JSON.stringify(over)} -> ${r.status} ${r.text}`);
    assert.equal(r.data.error.code, code, JSON.stringify(over));
    assert.equal(r.data.error.field, field, JSON.stringify(over));
    assert.ok(r.data.error.message.length > 10);
  }
  let r = await call('POST', '/api/v1/channels', { as: tok.owner, raw: '{"org":' });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'invalid_json');
  r = await call('POST', '/api/v1/channels', { as: tok.owner, body: base({ handle: 'missing-org', org: undefined }) });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.field, 'org');
  r = await call('POST', '/api/v1/channels', { as: tok.operator, body: base({ handle: 'no-org-x', org: 'nowhere' }) });
  assert.equal(r.status, 404);
  assert.equal(r.data.error.code, 'org_not_found');
  r = await call('POST', '/api/v1/channels', { as: tok.owner, body: base({ handle: 'COMUNE-News' }) });
  assert.equal(r.status, 409);
  assert.equal(r.data.error.code, 'handle_taken');
});

test('preview: listed to anyone; unlisted only to followers, admins, operators or with an invite', async () => {
  let r = await call('GET', '/api/v1/channels/comune-news');
  assert.equal(r.status, 200);
  assert.equal(r.data.name, 'Notizie della Città');
  assert.equal(r.data.followers_count, 0);
  r = await call('GET', '/api/v1/channels/COMUNE-NEWS');
  assert.equal(r.status, 200, 'handles are case-insensitive');
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{24}"$/);
  assert.match(r.headers.get('cache-control'), /^public, no-cache$/);
  r = await call('GET', '/api/v1/channels/comune-news', { headers: { 'if-none-match': etag } });
  assert.equal(r.status, 304, 'a phone revalidates instead of downloading again');
  assert.equal(r.text, '');
  r = await call('GET', '/api/v1/channels?q=citta');
  assert.ok(r.headers.get('etag'));
  r = await call('GET', '/api/v1/channels?q=citta', { headers: { 'if-none-match': r.headers.get('etag') } });
  assert.equal(r.status, 304);
  r = await call('GET', '/api/v1/channels/no-such-channel');
  assert.equal(r.status, 404);
  assert.equal(r.data.error.code, 'channel_not_found');

  await createChannel('riservato', { visibility: 'unlisted' });
  const inv = await call('POST', '/api/v1/channels/riservato/invites', { as: tok.owner, body: {} });
  assert.equal(inv.status, 201);
  const code = inv.data.code;
  const f = await newFollower();
  const expect = [
    ['anonymous', undefined, 404], ['follower not following', f, 404], ['staff of another org', tok.other, 404],
    ['staff of the org, not admin', tok.staff, 404], ['org admin (a steward)', tok.orgadmin, 200],
    ['owner', tok.owner, 200], ['operator', tok.operator, 200],
  ];
  for (const [who, as, status] of expect) {
    r = await call('GET', '/api/v1/channels/riservato', { as });
    assert.equal(r.status, status, who);
    if (status === 404) assert.equal(r.data.error.code, 'channel_not_found', who);
  }
  r = await call('GET', `/api/v1/channels/riservato?invite=${code}`);
  assert.equal(r.status, 200, 'a valid invite opens the preview');
  assert.match(r.headers.get('cache-control'), /^private/, 'shared caches do not keep unlisted channels');
  r = await call('GET', '/api/v1/channels/riservato?invite=notavalidcode');
  assert.equal(r.status, 404);
  r = await call('PUT', '/api/v1/channels/riservato/follow', { as: f, body: { invite: code } });
  assert.equal(r.status, 204);
  r = await call('GET', '/api/v1/channels/riservato', { as: f });
  assert.equal(r.status, 200, 'a follower sees what it follows');
  r = await call('GET', '/api/v1/channels/riservato', { as: 'araldo_notatoken' });
  assert.equal(r.status, 401, 'bad staff credentials are 401, not a silent 404');
});

test('patch: owner and admins change settings; others 401/403', async () => {
  await createChannel('patch-me');
  await makeAdmin('patch-me', 'admin', 'admin@a.it');
  const who = [
    ['anonymous', undefined, 401], ['follower', follower.one, 401], ['staff of another org', tok.other, 403],
    ['staff not admin', tok.staff, 403], ['org admin (a steward)', tok.orgadmin, 200],
    ['channel admin', tok.admin, 200], ['owner', tok.owner, 200], ['operator', tok.operator, 200],
  ];
  for (const [name, as, status] of who) {
    const r = await call('PATCH', '/api/v1/channels/patch-me', { as, body: { description: `by ${name}` } });
    assert.equal(r.status, status, `${name}: ${r.text}`);
    if (status === 200) assert.equal(r.data.description, `by ${name}`);
  }
  const up = await fetch(`${srv.url}/api/v1/media`, {
    method: 'POST', headers: { ...bearer(tok.owner), 'content-type': 'image/png' }, body: png(),
  });
  assert.equal(up.status, 201);
  const icon = (await up.json()).id;
  const foreign = await fetch(`${srv.url}/api/v1/media`, {
    method: 'POST', headers: { ...bearer(tok.other), 'content-type': 'image/png' }, body: png(),
  });
  assert.equal(foreign.status, 201, 'the other Comune uploads its own image');
  for (const bad of ['media_abc123', (await foreign.json()).id]) {
    const b = await call('PATCH', '/api/v1/channels/patch-me', { as: tok.owner, body: { icon: bad } });
    assert.equal(b.status, 400, 'an icon is an image uploaded for this Comune');
    assert.deepEqual([b.data.error.code, b.data.error.field], ['invalid_value', 'icon']);
  }
  let r = await call('PATCH', '/api/v1/channels/patch-me', {
    as: tok.owner,
    body: { name: 'Nuovo nome', reaction_policy: 'set', reactions: ['👍'], retention_days: 7, visibility: 'unlisted', icon, language: 'de-AT' },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.name, 'Nuovo nome');
  assert.deepEqual(r.data.reactions, ['👍']);
  assert.equal(r.data.retention_days, 7);
  assert.equal(r.data.visibility, 'unlisted');
  assert.equal(r.data.icon, icon);
  assert.equal(r.data.language, 'de-AT');
  r = await call('PATCH', '/api/v1/channels/patch-me', { as: tok.owner, body: { reactions: ['🎉', '👏'] } });
  assert.equal(r.status, 200, 'the set alone may change while the policy is set');
  assert.deepEqual(r.data.reactions, ['🎉', '👏']);
  r = await call('PATCH', '/api/v1/channels/patch-me', { as: tok.owner, body: { reaction_policy: 'none' } });
  assert.equal(r.data.reactions, null);
  r = await call('PATCH', '/api/v1/channels/patch-me', { as: tok.owner, body: { icon: '' } });
  assert.equal(r.data.icon, null, 'an empty icon clears it');
  for (const [body, code] of [[{}, 'nothing_to_change'], [{ handle: 'x-new' }, 'unknown_field'],
    [{ org: 'comune-b' }, 'unknown_field'], [{ name: '' }, 'too_short'], [{ verified: true }, 'operator_only'],
    [{ reactions: ['👍'] }, 'invalid_value']]) {
    r = await call('PATCH', '/api/v1/channels/patch-me', { as: tok.owner, body });
    assert.ok([400, 403].includes(r.status), JSON.stringify(body));
    assert.equal(r.data.error.code, code, JSON.stringify(body));
  }
  r = await call('PATCH', '/api/v1/channels/nope-nope', { as: tok.owner, body: { name: 'x' } });
  assert.equal(r.status, 404);
  r = await call('PATCH', '/api/v1/channels/patch-me', { as: tok.operator, body: { verified: true } });
  assert.equal(r.status, 200);
  assert.equal(r.data.verified, true);
});

test('delete: only the owner (or an operator); everything attached goes with it', async () => {
  await createChannel('delete-me');
  await makeAdmin('delete-me', 'admin', 'admin@a.it');
  const f = await newFollower();
  assert.equal((await call('PUT', '/api/v1/channels/delete-me/follow', { as: f })).status, 204);
  for (const [name, as, status] of [['anonymous', undefined, 401], ['follower', f, 401],
    ['other org', tok.other, 403], ['staff', tok.staff, 403], ['admin', tok.admin, 403]]) {
    const r = await call('DELETE', '/api/v1/channels/delete-me', { as });
    assert.equal(r.status, status, name);
  }
  let r = await call('DELETE', '/api/v1/channels/delete-me', { as: tok.owner });
  assert.equal(r.status, 204);
  assert.equal((await call('GET', '/api/v1/channels/delete-me')).status, 404);
  r = await call('GET', '/api/v1/me/channels', { as: f });
  assert.deepEqual(r.data.channels, [], 'the follow went with the channel');
  r = await call('DELETE', '/api/v1/channels/delete-me', { as: tok.owner });
  assert.equal(r.status, 404);
  await createChannel('delete-op');
  assert.equal((await call('DELETE', '/api/v1/channels/delete-op', { as: tok.operator })).status, 204);
  // the handle is free again
  await createChannel('delete-me');
});

test('directory: listed only, accent- and case-insensitive search, filters, sorts, pages', async () => {
  await createChannel('dir-citta', { name: 'Città Eventi', description: 'Tutto su attività e società', category: 'culture' });
  await createChannel('dir-hidden', { name: 'Città nascosta', visibility: 'unlisted' });
  await createChannel('dir-sport', { name: 'Sport in città', category: 'sport' }, tok.operator);
  let r = await call('GET', '/api/v1/channels?q=citta');
  assert.equal(r.status, 200);
  let handles = r.data.channels.map((c) => c.handle);
  assert.ok(handles.includes('dir-citta') && handles.includes('dir-sport') && handles.includes('comune-news'), handles.join());
  assert.ok(!handles.includes('dir-hidden'), 'unlisted channels are never listed');
  r = await call('GET', `/api/v1/channels?q=${encodeURIComponent('SOCIETÀ')}`);
  assert.deepEqual(r.data.channels.map((c) => c.handle), ['dir-citta']);
  r = await call('GET', '/api/v1/channels?q=attiv');
  assert.deepEqual(r.data.channels.map((c) => c.handle), ['dir-citta'], 'the last word matches as a prefix');
  r = await call('GET', `/api/v1/channels?q=${encodeURIComponent('città" OR NEAR(*')}`);
  assert.equal(r.status, 200, 'search syntax typed by a person is just text');
  r = await call('GET', '/api/v1/channels?q=citta&category=sport');
  assert.deepEqual(r.data.channels.map((c) => c.handle), ['dir-sport']);
  r = await call('GET', '/api/v1/channels?org=comune-b');
  assert.deepEqual(r.data.channels, []);
  r = await call('GET', '/api/v1/channels?sort=new&limit=2');
  assert.equal(r.data.channels.length, 2);
  assert.equal(r.data.channels[0].handle, 'dir-sport');
  assert.equal(typeof r.data.next_cursor, 'string');
  // walk every page: no repeats, and the total matches one big page
  const seen = [];
  let cursor = null;
  do {
    r = await call('GET', `/api/v1/channels?sort=new&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200);
    seen.push(...r.data.channels.map((c) => c.handle));
    cursor = r.data.next_cursor;
  } while (cursor);
  const all = await call('GET', '/api/v1/channels?sort=new&limit=50');
  assert.deepEqual(seen, all.data.channels.map((c) => c.handle));
  assert.equal(new Set(seen).size, seen.length);
  // popular: followers first
  const f = await newFollower();
  await call('PUT', '/api/v1/channels/dir-sport/follow', { as: f });
  r = await call('GET', '/api/v1/channels?sort=popular&limit=1');
  assert.equal(r.data.channels[0].handle, 'dir-sport');
  assert.equal(r.data.channels[0].followers_count, 1);
  r = await call('GET', '/api/v1/channels?sort=active');
  assert.equal(r.status, 200);
  for (const [q, field] of [['limit=0', 'limit'], ['limit=51', 'limit'], ['limit=x', 'limit'],
    ['sort=best', 'sort'], ['category=weather', 'category'], [`q=${'a'.repeat(101)}`, 'q'],
    ['cursor=zzz', 'cursor'], ['sort=popular&cursor=n1.1', 'cursor']]) {
    r = await call('GET', `/api/v1/channels?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.data.error.field, field, q);
  }
});

test('admins: invite, list, accept, dismiss, cancel, remove, transfer, leave', async () => {
  await createChannel('team');
  const inviteAs = (as, email) => call('POST', '/api/v1/channels/team/admins', { as, body: { email } });
  // only the owner invites
  assert.equal((await inviteAs(undefined, 'staff@a.it')).status, 401);
  assert.equal((await inviteAs(tok.other, 'staff@a.it')).status, 403);
  assert.equal((await inviteAs(tok.staff, 'staff@a.it')).status, 403);
  let r = await inviteAs(tok.owner, 'other@b.it');
  assert.equal(r.status, 404, 'staff of another org cannot be invited');
  assert.equal(r.data.error.code, 'staff_not_found');
  r = await inviteAs(tok.owner, 'nobody@a.it');
  assert.equal(r.status, 404);
  r = await call('POST', '/api/v1/channels/team/admins', { as: tok.owner, body: { email: 'staff@a.it', role: 'admin' } });
  assert.equal(r.status, 400);
  r = await inviteAs(tok.owner, 'staff@a.it');
  assert.equal(r.status, 201, r.text);
  const inv = r.data;
  assert.equal(inv.channel.handle, 'team');
  assert.equal(inv.email, 'staff@a.it');
  const days = (Date.parse(inv.expires_at) - Date.now()) / 86400000;
  assert.ok(days > 6.9 && days <= 7, `expires in 7 days, not ${days}`);
  r = await inviteAs(tok.owner, 'staff@a.it');
  assert.equal(r.status, 409, 'already invited');
  assert.equal(r.data.error.code, 'already_admin_or_invited');
  r = await inviteAs(tok.owner, 'owner@a.it');
  assert.equal(r.status, 409, 'the owner is already in');

  // the invitee sees it; someone else cannot accept or dismiss it
  r = await call('GET', '/api/v1/me/invitations', { as: tok.staff });
  assert.deepEqual(r.data.invitations.map((i) => i.channel.handle), ['team']);
  assert.deepEqual((await call('GET', '/api/v1/me/invitations', { as: tok.other })).data.invitations, []);
  assert.equal((await call('GET', '/api/v1/me/invitations')).status, 401);
  assert.equal((await call('POST', `/api/v1/invitations/${inv.id}/accept`, { as: tok.other })).status, 404);
  assert.equal((await call('DELETE', `/api/v1/invitations/${inv.id}`, { as: tok.other })).status, 404);
  assert.equal((await call('POST', '/api/v1/invitations/abc/accept', { as: tok.staff })).status, 404);
  // the owner sees pending invitations
  r = await call('GET', '/api/v1/channels/team/admins', { as: tok.owner });
  assert.deepEqual(r.data.invitations.map((i) => i.email), ['staff@a.it']);
  assert.equal(r.data.admins_max, 16);
  // dismissed by the invitee, then invited again and accepted
  assert.equal((await call('DELETE', `/api/v1/invitations/${inv.id}`, { as: tok.staff })).status, 204);
  assert.equal((await call('POST', `/api/v1/invitations/${inv.id}/accept`, { as: tok.staff })).status, 404);
  r = await inviteAs(tok.owner, 'staff@a.it');
  assert.equal(r.status, 201);
  r = await call('POST', `/api/v1/invitations/${r.data.id}/accept`, { as: tok.staff });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.data.channel.handle, 'team');
  assert.equal(r.data.role, 'admin');
  // cancelled by the owner
  r = await inviteAs(tok.owner, 'admin@a.it');
  assert.equal((await call('DELETE', `/api/v1/invitations/${r.data.id}`, { as: tok.owner })).status, 204);
  await makeAdmin('team', 'admin', 'admin@a.it');

  // list: admins and the owner (and operators), nobody else
  for (const [name, as, status] of [['anonymous', undefined, 401], ['follower', follower.one, 401],
    ['other org', tok.other, 403], ['org admin', tok.orgadmin, 200], ['admin', tok.admin, 200],
    ['owner', tok.owner, 200], ['operator', tok.operator, 200]]) {
    assert.equal((await call('GET', '/api/v1/channels/team/admins', { as })).status, status, name);
  }
  r = await call('GET', '/api/v1/channels/team/admins', { as: tok.admin });
  assert.deepEqual(r.data.admins.map((a) => [a.email, a.role]),
    [['owner@a.it', 'owner'], ['staff@a.it', 'admin'], ['admin@a.it', 'admin']]);
  const adminId = r.data.admins.find((a) => a.email === 'admin@a.it').user_id;
  const staffId = r.data.admins.find((a) => a.email === 'staff@a.it').user_id;

  // an admin may not manage admins
  assert.equal((await call('DELETE', `/api/v1/channels/team/admins/${staffId}`, { as: tok.admin })).status, 403);
  assert.equal((await call('POST', '/api/v1/channels/team/owner', { as: tok.admin, body: { user_id: adminId } })).status, 403);
  // the owner cannot leave
  r = await call('DELETE', '/api/v1/channels/team/admins/me', { as: tok.owner });
  assert.equal(r.status, 409);
  assert.equal(r.data.error.code, 'owner_must_transfer');
  // transfer to a non-admin fails, to an admin works; the old owner becomes an admin
  r = await call('POST', '/api/v1/channels/team/owner', { as: tok.owner, body: { user_id: String(ids.other) } });
  assert.equal(r.status, 409);
  r = await call('POST', '/api/v1/channels/team/owner', { as: tok.owner, body: { user_id: 12 } });
  assert.equal(r.status, 400);
  r = await call('POST', '/api/v1/channels/team/owner', { as: tok.owner, body: { user_id: adminId } });
  assert.equal(r.status, 204, r.text);
  r = await call('GET', '/api/v1/channels/team/admins', { as: tok.owner });
  assert.equal(r.data.admins.find((a) => a.role === 'owner').email, 'admin@a.it');
  assert.equal(r.data.admins.find((a) => a.email === 'owner@a.it').role, 'admin');
  assert.equal((await call('DELETE', '/api/v1/channels/team', { as: tok.owner })).status, 403, 'no longer the owner');
  // the old owner leaves; the new owner removes staff
  assert.equal((await call('DELETE', '/api/v1/channels/team/admins/me', { as: tok.owner })).status, 204);
  assert.equal((await call('DELETE', '/api/v1/channels/team/admins/me', { as: tok.owner })).status, 404);
  assert.equal((await call('DELETE', `/api/v1/channels/team/admins/${staffId}`, { as: tok.admin })).status, 204);
  assert.equal((await call('DELETE', `/api/v1/channels/team/admins/${staffId}`, { as: tok.admin })).status, 404);
  r = await call('GET', '/api/v1/channels/team/admins', { as: tok.admin });
  assert.deepEqual(r.data.admins.map((a) => a.email), ['admin@a.it']);
  assert.equal((await call('PATCH', '/api/v1/channels/team', { as: tok.staff, body: { name: 'x' } })).status, 403, 'a removed admin has no rights');
});

test('admins: at most 16 besides the owner (409 too_many_admins)', async () => {
  await createChannel('crowded');
  const extra = [];
  for (let i = 0; i < 17; i++) {
    const email = `crowd${i}@a.it`;
    const s = await addStaff('comune-a', email, 'staff');
    extra.push({ email, token: s.token });
  }
  for (let i = 0; i < 16; i++) {
    let r = await call('POST', '/api/v1/channels/crowded/admins', { as: tok.owner, body: { email: extra[i].email } });
    assert.equal(r.status, 201, r.text);
    r = await call('POST', `/api/v1/invitations/${r.data.id}/accept`, { as: extra[i].token });
    assert.equal(r.status, 200, r.text);
  }
  const r = await call('POST', '/api/v1/channels/crowded/admins', { as: tok.owner, body: { email: extra[16].email } });
  assert.equal(r.status, 409);
  assert.equal(r.data.error.code, 'too_many_admins');
});

test('invite links: create, list, resolve without credentials, revoke, use up, expire', async () => {
  await createChannel('invited', { visibility: 'unlisted', name: 'Canale su invito' });
  const path = '/api/v1/channels/invited/invites';
  for (const [name, as, status] of [['anonymous', undefined, 401], ['follower', follower.one, 401],
    // Staff not on an unlisted channel are told it does not exist, as anyone else is.
    ['other org', tok.other, 404], ['staff', tok.staff, 404]]) {
    assert.equal((await call('POST', path, { as, body: {} })).status, status, name);
    assert.equal((await call('GET', path, { as })).status, status, name);
  }
  let r = await call('POST', path, { as: tok.owner });
  assert.equal(r.status, 201, 'the body is optional');
  const open = r.data;
  assert.match(open.code, /^[A-Za-z0-9_-]{10,}$/);
  assert.equal(open.url_path, `/i/${open.code}`);
  assert.equal(open.expires_at, null);
  assert.equal(open.max_uses, null);
  assert.equal(open.uses, 0);
  r = await call('POST', path, { as: tok.owner, body: { max_uses: 1 } });
  const once = r.data;
  assert.equal(once.max_uses, 1);
  assert.notEqual(once.code, open.code);
  const soon = new Date(Date.now() + 1500).toISOString();
  r = await call('POST', path, { as: tok.owner, body: { expires_at: soon } });
  assert.equal(r.status, 201, r.text);
  const expiring = r.data;
  assert.equal(Date.parse(expiring.expires_at), Date.parse(soon));
  const nextYear = new Date().getUTCFullYear() + 1;
  for (const body of [{ max_uses: 0 }, { max_uses: 'x' }, { max_uses: 1.5 }, { expires_at: 'tomorrow' },
    { expires_at: '2001-01-01T00:00:00Z' }, { code: 'mine' },
    // a sign, a space or a non-digit in a field (sscanf's %2d once let these through)
    { expires_at: `${nextYear}-12-01T-1:00:00Z` }, { expires_at: `${nextYear}-12-01T10:00: 1Z` },
    { expires_at: `${nextYear}-12-01T10:00:00+0/:00` }]) {
    r = await call('POST', path, { as: tok.owner, body });
    assert.equal(r.status, 400, JSON.stringify(body));
  }
  r = await call('GET', path, { as: tok.owner });
  assert.equal(r.status, 200);
  assert.equal(r.data.invites.length, 3);

  // anyone resolves a live code to the preview, with no credentials
  r = await call('GET', `/api/v1/invites/${open.code}`);
  assert.equal(r.status, 200);
  assert.equal(r.data.channel.handle, 'invited');
  assert.equal(r.data.channel.name, 'Canale su invito');
  assert.equal((await call('GET', '/api/v1/invites/doesnotexist1')).status, 404);

  // used up after one follow
  const f1 = await newFollower();
  const f2 = await newFollower();
  assert.equal((await call('PUT', '/api/v1/channels/invited/follow', { as: f1, body: { invite: once.code } })).status, 204);
  r = await call('GET', `/api/v1/invites/${once.code}`);
  assert.equal(r.status, 410);
  assert.equal(r.data.error.code, 'invite_used_up');
  r = await call('PUT', '/api/v1/channels/invited/follow', { as: f2, body: { invite: once.code } });
  assert.equal(r.status, 410);
  assert.equal(r.data.error.code, 'invite_used_up');

  // revoked by an admin
  await makeAdmin('invited', 'admin', 'admin@a.it');
  assert.equal((await call('DELETE', `${path}/${open.code}`, { as: tok.staff })).status, 404); // not on this unlisted channel
  assert.equal((await call('DELETE', `${path}/${open.code}`, { as: tok.admin })).status, 204);
  assert.equal((await call('DELETE', `${path}/${open.code}`, { as: tok.admin })).status, 404);
  r = await call('GET', `/api/v1/invites/${open.code}`);
  assert.equal(r.status, 410);
  assert.equal(r.data.error.code, 'invite_revoked');
  r = await call('GET', path, { as: tok.admin });
  assert.ok(!r.data.invites.some((i) => i.code === open.code), 'revoked codes leave the list');

  // expired
  await new Promise((res) => setTimeout(res, 1600));
  r = await call('GET', `/api/v1/invites/${expiring.code}`);
  assert.equal(r.status, 410);
  assert.equal(r.data.error.code, 'invite_expired');
  r = await call('PUT', '/api/v1/channels/invited/follow', { as: f2, body: { invite: expiring.code } });
  assert.equal(r.status, 410);
  assert.equal(r.data.error.code, 'invite_expired');
});

test('privacy: no follower token or id appears in any answer', async () => {
  const fs = [await newFollower(), await newFollower(), await newFollower()];
  for (const f of fs) assert.equal((await call('PUT', '/api/v1/channels/comune-news/follow', { as: f })).status, 204);
  const reads = [
    ['GET', '/api/v1/channels/comune-news', tok.owner], ['GET', '/api/v1/channels/comune-news', tok.operator],
    ['GET', '/api/v1/channels/comune-news', fs[0]], ['GET', '/api/v1/channels/comune-news/admins', tok.owner],
    ['GET', '/api/v1/channels/comune-news/invites', tok.owner], ['GET', '/api/v1/channels?q=comune', undefined],
    ['GET', '/api/v1/me/channels', fs[1]], ['GET', '/api/v1/orgs/comune-a/audit', tok.operator],
  ];
  for (const [m, p, as] of reads) {
    const r = await call(m, p, { as });
    assert.equal(r.status, 200, `${p}: ${r.text}`);
  }
  const everything = leaks.join('\n');
  for (const f of [...fs, follower.one]) {
    assert.ok(!everything.includes(f), 'a follower token leaked');
    assert.ok(!everything.includes(f.slice('follower_'.length, 20)), 'part of a follower token leaked');
  }
  assert.ok(!/follower_id/.test(everything), 'no follower ids');
  assert.ok(!/127\.0\.0\.1/.test(everything), 'no IP addresses');
  const ch = await call('GET', '/api/v1/channels/comune-news');
  assert.ok(ch.data.followers_count >= 3, 'counts, not people');
});

test('admins: an invitation expires after 7 days (410 invitation_expired)', async () => {
  await createChannel('lento');
  let r = await call('POST', '/api/v1/channels/lento/admins', { as: tok.owner, body: { email: 'staff@a.it' } });
  assert.equal(r.status, 201);
  const id = r.data.id;
  // Restart the same database eight days later (the server's test clock hook).
  const data = srv.data;
  await srv.stop();
  srv = await startServer({ data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(8 * 86400000) } });
  try {
    r = await call('GET', '/api/v1/me/invitations', { as: tok.staff });
    assert.deepEqual(r.data.invitations, [], 'expired invitations are not offered');
    r = await call('POST', `/api/v1/invitations/${id}/accept`, { as: tok.staff });
    assert.equal(r.status, 410);
    assert.equal(r.data.error.code, 'invitation_expired');
    r = await call('POST', '/api/v1/channels/lento/admins', { as: tok.owner, body: { email: 'staff@a.it' } });
    assert.equal(r.status, 201, 'an expired invitation can be sent again');
  } finally {
    await srv.stop();
    srv = await startServer({ data });
  }
});

// Every endpoint of channels, admins, invites and followers × every kind of caller, in one
// table. Each cell runs against fresh state (its own channel), so cells cannot affect each other.

test('create: category and language default to news and Italian', async () => {
  const r = await call('POST', '/api/v1/channels', {
    as: tok.owner, body: { org: 'comune-a', handle: 'default-fields', name: 'Avvisi' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  assert.equal(r.data.category, 'news');
  assert.equal(r.data.language, 'it');
});
