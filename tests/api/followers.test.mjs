// SPDX-License-Identifier: AGPL-3.0-or-later
// Anonymous followers over real HTTP on loopback: create, follow (listed and by invite), mute,
// my channels, unfollow, forget me, the per-IP creation limit, and what a follower token can
// and cannot do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, operatorToken } from './lib/server.mjs';

let srv;
let op;
const bearer = (t) => (t ? { authorization: `Bearer ${t}` } : {});

async function call(method, path, { as, body, raw, s = srv } = {}) {
  const init = { method, headers: { ...bearer(as) } };
  if (raw !== undefined) { init.body = raw; init.headers['content-type'] = 'application/json'; }
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
  const r = await fetch(`${s.url}${path}`, init);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: r.status, headers: r.headers, data, text };
}

async function newFollower() {
  const r = await call('POST', '/api/v1/followers');
  assert.equal(r.status, 201, r.text);
  return r.data.token;
}

const count = async (handle) => (await call('GET', `/api/v1/channels/${handle}`, { as: op })).data.followers_count;

before(async () => {
  srv = await startServer();
  op = operatorToken(srv.data);
  let r = await call('POST', '/api/v1/orgs', { as: op, body: { slug: 'comune-f', name: 'Comune di F' } });
  assert.equal(r.status, 201, r.text);
  for (const [handle, visibility] of [['aperto', 'listed'], ['secondo', 'listed'], ['chiuso', 'unlisted']]) {
    r = await call('POST', '/api/v1/channels', {
      as: op, body: { org: 'comune-f', handle, name: handle, category: 'news', language: 'it', visibility },
    });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => {
  await srv?.stop();
  srv?.cleanup();
});

test('create: a random follower_ token, no data asked, no body accepted', async () => {
  const r = await call('POST', '/api/v1/followers');
  assert.equal(r.status, 201);
  assert.deepEqual(Object.keys(r.data), ['token'], 'nothing but the token');
  assert.match(r.data.token, /^follower_[A-Za-z0-9_-]{43}$/);
  const r2 = await call('POST', '/api/v1/followers');
  assert.notEqual(r2.data.token, r.data.token);
  const bad = await call('POST', '/api/v1/followers', { body: { phone: '+39 333 1234567' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.data.error.code, 'unexpected_body');
  assert.ok(!srv.stderr.includes(r.data.token), 'tokens are never logged');
});

test('follow: idempotent, counted exactly, listed in my channels', async () => {
  const f = await newFollower();
  const before = await count('aperto');
  let r = await call('PUT', '/api/v1/channels/aperto/follow', { as: f });
  assert.equal(r.status, 204, r.text);
  r = await call('PUT', '/api/v1/channels/APERTO/follow', { as: f });
  assert.equal(r.status, 204, 'following again is fine');
  assert.equal(await count('aperto'), before + 1, 'and counted once');
  assert.equal((await call('PUT', '/api/v1/channels/secondo/follow', { as: f })).status, 204);
  r = await call('GET', '/api/v1/me/channels', { as: f });
  assert.equal(r.status, 200);
  assert.deepEqual(r.data.channels.map((c) => c.handle).sort(), ['aperto', 'secondo']);
  for (const c of r.data.channels) {
    assert.equal(c.muted, false);
    assert.match(c.followed_at, /Z$/);
    assert.equal(typeof c.followers_count, 'number');
  }
  r = await call('PUT', '/api/v1/channels/nessuno/follow', { as: f });
  assert.equal(r.status, 404);
  assert.equal(r.data.error.code, 'channel_not_found');
  r = await call('PUT', '/api/v1/channels/aperto/follow', { as: f, body: { channel: 'x' } });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'unknown_field');
  r = await call('PUT', '/api/v1/channels/aperto/follow', { as: f, raw: '[1]' });
  assert.equal(r.status, 400);
  r = await call('PUT', '/api/v1/channels/aperto/follow', { as: f, body: { invite: 7 } });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'wrong_type');
});

test('follow: who may (401 anonymous, staff token, unknown or malformed follower token)', async () => {
  for (const [name, as] of [['anonymous', undefined], ['staff token', op], ['unknown follower', 'follower_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['garbage', 'hello'], ['too long', `follower_${'A'.repeat(200)}`]]) {
    for (const [m, p] of [['PUT', '/api/v1/channels/aperto/follow'], ['DELETE', '/api/v1/channels/aperto/follow'],
      ['PUT', '/api/v1/channels/aperto/mute'], ['DELETE', '/api/v1/channels/aperto/mute'],
      ['GET', '/api/v1/me/channels'], ['DELETE', '/api/v1/me']]) {
      const r = await call(m, p, { as });
      assert.equal(r.status, 401, `${name} ${m} ${p}: ${r.text}`);
      assert.ok(r.headers.get('www-authenticate'), 'says how to authenticate');
    }
  }
});

test('unlisted: hidden without an invite, followed with one (counting a use)', async () => {
  const inv = await call('POST', '/api/v1/channels/chiuso/invites', { as: op, body: { max_uses: 5 } });
  assert.equal(inv.status, 201);
  const f = await newFollower();
  let r = await call('PUT', '/api/v1/channels/chiuso/follow', { as: f });
  assert.equal(r.status, 404, 'an unlisted channel is not revealed without an invite');
  assert.equal(r.data.error.code, 'channel_not_found');
  r = await call('PUT', '/api/v1/channels/chiuso/mute', { as: f });
  assert.equal(r.status, 404);
  r = await call('DELETE', '/api/v1/channels/chiuso/follow', { as: f });
  assert.equal(r.status, 404);
  r = await call('PUT', '/api/v1/channels/chiuso/follow', { as: f, body: { invite: 'wrongcode123' } });
  assert.equal(r.status, 404);
  assert.equal(r.data.error.code, 'invite_not_found');
  r = await call('PUT', '/api/v1/channels/chiuso/follow', { as: f, body: { invite: inv.data.code } });
  assert.equal(r.status, 204, r.text);
  r = await call('PUT', '/api/v1/channels/chiuso/follow', { as: f, body: { invite: inv.data.code } });
  assert.equal(r.status, 204);
  r = await call('GET', '/api/v1/channels/chiuso/invites', { as: op });
  assert.equal(r.data.invites[0].uses, 1, 'following again uses nothing');
  r = await call('GET', '/api/v1/me/channels', { as: f });
  assert.deepEqual(r.data.channels.map((c) => c.handle), ['chiuso']);
  // another channel's invite opens nothing here
  const other = await call('POST', '/api/v1/channels/aperto/invites', { as: op, body: {} });
  const g = await newFollower();
  r = await call('PUT', '/api/v1/channels/chiuso/follow', { as: g, body: { invite: other.data.code } });
  assert.equal(r.status, 404);
});

test('mute: per channel, shown in my channels; needs a follow', async () => {
  const f = await newFollower();
  let r = await call('PUT', '/api/v1/channels/secondo/mute', { as: f });
  assert.equal(r.status, 409);
  assert.equal(r.data.error.code, 'not_following');
  await call('PUT', '/api/v1/channels/aperto/follow', { as: f });
  await call('PUT', '/api/v1/channels/secondo/follow', { as: f });
  assert.equal((await call('PUT', '/api/v1/channels/secondo/mute', { as: f })).status, 204);
  assert.equal((await call('PUT', '/api/v1/channels/secondo/mute', { as: f })).status, 204);
  r = await call('GET', '/api/v1/me/channels', { as: f });
  const muted = Object.fromEntries(r.data.channels.map((c) => [c.handle, c.muted]));
  assert.deepEqual(muted, { aperto: false, secondo: true });
  assert.equal((await call('DELETE', '/api/v1/channels/secondo/mute', { as: f })).status, 204);
  r = await call('GET', '/api/v1/me/channels', { as: f });
  assert.ok(r.data.channels.every((c) => c.muted === false));
});

test('unfollow: idempotent, count drops by one', async () => {
  const f = await newFollower();
  await call('PUT', '/api/v1/channels/aperto/follow', { as: f });
  const n = await count('aperto');
  assert.equal((await call('DELETE', '/api/v1/channels/aperto/follow', { as: f })).status, 204);
  assert.equal((await call('DELETE', '/api/v1/channels/aperto/follow', { as: f })).status, 204);
  assert.equal(await count('aperto'), n - 1);
  const r = await call('GET', '/api/v1/me/channels', { as: f });
  assert.deepEqual(r.data.channels, []);
});

test('forget me: the follower and its follows are gone, counts adjusted, the token dead', async () => {
  const f = await newFollower();
  const keep = await newFollower();
  for (const h of ['aperto', 'secondo']) {
    await call('PUT', `/api/v1/channels/${h}/follow`, { as: f });
    await call('PUT', `/api/v1/channels/${h}/follow`, { as: keep });
  }
  const a = await count('aperto');
  const b = await count('secondo');
  assert.equal((await call('DELETE', '/api/v1/me', { as: f })).status, 204);
  assert.equal(await count('aperto'), a - 1);
  assert.equal(await count('secondo'), b - 1);
  const r = await call('GET', '/api/v1/me/channels', { as: f });
  assert.equal(r.status, 401);
  assert.equal(r.data.error.code, 'invalid_token');
  assert.equal((await call('GET', '/api/v1/me/channels', { as: keep })).data.channels.length, 2, 'others untouched');
  // staff /api/v1/me is unaffected by the follower route of the same path
  assert.equal((await call('GET', '/api/v1/me', { as: op })).status, 200);
  assert.equal((await call('DELETE', '/api/v1/me', { as: op })).status, 401, 'forget me is for followers');
});

test('creation is rate-limited per address (429 with Retry-After), as set', async () => {
  const s = await startServer({ sets: { follower_signups_per_ip: 60 } });
  try {
    let last;
    let ok = 0;
    for (let i = 0; i < 61; i++) {
      last = await call('POST', '/api/v1/followers', { s });
      if (last.status !== 201) break;
      ok++;
    }
    assert.equal(ok, 60, 'follower_signups_per_ip=60 per ten minutes');
    assert.equal(last.status, 429);
    assert.equal(last.data.error.code, 'rate_limited');
    const after = Number(last.headers.get('retry-after'));
    assert.ok(after >= 1 && after <= 600, `Retry-After ${after}`);
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test('my channels: unread since the follow until viewed, and the newest post as a preview', async () => {
  let r = await call('POST', '/api/v1/channels', {
    as: op, body: { org: 'comune-f', handle: 'letture', name: 'Letture', category: 'news', language: 'it' },
  });
  assert.equal(r.status, 201, r.text);
  const post = async (text) => {
    const p = await call('POST', '/api/v1/channels/letture/posts', { as: op, body: { text } });
    assert.equal(p.status, 201, p.text);
    return p.data.id;
  };
  const mine = async (f) => (await call('GET', '/api/v1/me/channels', { as: f })).data.channels.find((c) => c.handle === 'letture');
  const f = await newFollower();
  assert.equal((await call('PUT', '/api/v1/channels/letture/follow', { as: f })).status, 204);
  let c = await mine(f);
  assert.equal(c.unread, 0);
  assert.equal(c.last_post, null);

  await post('Prima');
  const long = `${'è'.repeat(150)}${'x'.repeat(100)}`;
  const a = await post('Avviso <b>uno</b>');
  const b = await post(long);
  c = await mine(f);
  assert.equal(c.unread, 3, 'every post since the follow');
  assert.deepEqual(Object.keys(c.last_post).sort(), ['id', 'published_at', 'text']);
  assert.equal(c.last_post.id, b);
  assert.equal(c.last_post.text, long.slice(0, 160), '160 characters, not bytes');
  assert.match(c.last_post.published_at, /^\d{4}-\d\d-\d\dT.*Z$/);

  assert.equal((await call('POST', '/api/v1/views', { as: f, body: { posts: [a, b] } })).status, 204);
  c = await mine(f);
  assert.equal(c.unread, 1, 'viewed posts are read');
  // Another follower's views change nothing for this one; a new follower starts at 0.
  const g = await newFollower();
  assert.equal((await call('PUT', '/api/v1/channels/letture/follow', { as: g })).status, 204);
  assert.equal((await mine(g)).unread, 0);
  assert.equal((await mine(f)).unread, 1);
});
