// SPDX-License-Identifier: AGPL-3.0-or-later
// Live streams lose what they may no longer read, as REST does: when a channel turns unlisted,
// a follower unfollows it (or is forgotten), an invite link is revoked, an admin is removed or
// the channel is deleted, the subscriptions that right admitted end — SSE (npm `eventsource`):
// an `unsubscribed` event, then the stream ends when no channel is left; WebSocket (npm `ws`):
// `unsubscribed` with a reason — before the next event of that channel. Each test changes the
// access and posts AT ONCE, without waiting: the post must not reach the stream that lost its
// right, while a stream that keeps its right (the control) gets it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { buildWorld } from './lib/world.mjs';
import { api, sleep, waitFor } from './lib/server.mjs';

let w;
let srv;

const call = (method, path, opts) => api(srv.url, method, path, opts);

before(async () => {
  w = await buildWorld();
  srv = w.srv;
});

after(async () => {
  await srv.stop();
  srv.cleanup();
});

// ---- clients: the same surface for both transports ----

// SSE: records events by type; `ended` once the server ended the stream (EventSource then
// retries and gets the REST answer, here a 404, and gives up).
function sse(query, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const s = { posts: [], unsub: [], ids: [], opened: false, errors: 0 };
  s.es = new EventSource(`${srv.url}/api/v1/stream${query}`, {
    fetch: (u, init) => fetch(u, { ...init, headers: { ...headers, ...init.headers } }),
  });
  s.es.addEventListener('open', () => { s.opened = true; });
  s.es.addEventListener('error', () => { s.errors++; });
  s.es.addEventListener('post.created', (e) => s.posts.push(JSON.parse(e.data)));
  s.es.addEventListener('unsubscribed', (e) => {
    s.unsub.push(JSON.parse(e.data));
    s.ids.push(e.lastEventId);
  });
  s.ready = () => waitFor(() => s.opened, 'stream open');
  s.gone = () => s.errors > 0; // the stream ended (the retry is then refused)
  s.close = () => s.es.close();
  return s;
}

// WebSocket: `?channels=` subscribes at once; `ready` waits for each channel's `subscribed`.
function ws(query, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const c = { msgs: [], closed: null };
  c.ws = new WebSocket(`${srv.url.replace('http', 'ws')}/api/v1/ws${query}`, { headers });
  c.ws.on('message', (d) => c.msgs.push(JSON.parse(d.toString())));
  c.ws.on('close', (code) => { c.closed = code; });
  c.ws.on('error', () => {});
  Object.defineProperty(c, 'posts', { get: () => c.msgs.filter((m) => m.type === 'event' && m.event === 'post.created').map((m) => m.data) });
  Object.defineProperty(c, 'unsub', { get: () => c.msgs.filter((m) => m.type === 'unsubscribed') });
  const n = query.startsWith('?channels=') ? decodeURIComponent(query.slice(10).split('&')[0]).split(',').length : 0;
  c.ready = () => waitFor(() => c.msgs.filter((m) => m.type === 'subscribed').length >= n, 'subscribed');
  c.gone = () => false;
  c.close = () => c.ws.close();
  return c;
}

const TRANSPORTS = { sse, ws };

async function post(handle, text) {
  const r = await call('POST', `/api/v1/channels/${handle}/posts`, { as: w.tok.channel_owner, body: { text } });
  assert.equal(r.status, 201, r.text);
  return r.data.id;
}

async function invite(handle) {
  return (await w.ok(201, 'POST', `/api/v1/channels/${handle}/invites`, { as: w.tok.channel_owner, body: {} })).code;
}

async function followerOf(handle, code) {
  const { token } = await w.ok(201, 'POST', '/api/v1/followers');
  const q = code ? `?invite=${code}` : '';
  assert.equal((await call('PUT', `/api/v1/channels/${handle}/follow${q}`, { as: token })).status, 204);
  return token;
}

// The scenario: open `victim` and `control`, run `revoke`, post at once; the victim gets
// `unsubscribed` with `reason` and never the post, the control gets the post.
async function scenario(kind, { handle, victim, control, revoke, reason, noPost = false }) {
  const open = TRANSPORTS[kind];
  const v = open(victim.query, victim.token);
  const c = control ? open(control.query, control.token) : null;
  try {
    await v.ready();
    if (c) await c.ready();
    await revoke();
    const id = noPost ? null : await post(handle, 'Dopo il cambio');
    await waitFor(() => v.unsub.length >= 1, 'unsubscribed');
    assert.equal(v.unsub.length, 1);
    assert.equal(v.unsub[0].channel, handle);
    assert.equal(v.unsub[0].reason, reason);
    if (c) {
      await waitFor(() => c.posts.some((p) => p.id === id), 'the control gets the post');
      assert.equal(c.unsub.length, 0, 'the control keeps its subscription');
    }
    await sleep(150); // anything late would have come by now (both are written from one loop pass)
    assert.equal(v.posts.length, 0, 'no event after the access ended');
    if (kind === 'sse') await waitFor(() => v.gone(), 'the SSE stream ends (its only channel left)');
    return v;
  } finally {
    v.close();
    if (c) c.close();
  }
}

for (const kind of Object.keys(TRANSPORTS)) {
  test(`${kind}: a listed channel turned unlisted ends anonymous streams; a follower's stays`, async () => {
    const handle = await w.channel();
    const fol = await followerOf(handle);
    await scenario(kind, {
      handle,
      victim: { query: `?channels=${handle}` },
      control: { query: `?channels=${handle}`, token: fol },
      revoke: () => w.ok(200, 'PATCH', `/api/v1/channels/${handle}`, { as: w.tok.channel_owner, body: { visibility: 'unlisted' } }),
      reason: 'channel_unlisted',
    });
    assert.equal((await call('GET', `/api/v1/channels/${handle}`)).status, 404);
  });

  test(`${kind}: a follower who unfollows an unlisted channel stops receiving it`, async () => {
    const handle = await w.channel({ visibility: 'unlisted' });
    const code = await invite(handle);
    const fol = await followerOf(handle, code);
    const other = await followerOf(handle, code);
    await scenario(kind, {
      handle,
      victim: { query: `?channels=${handle}`, token: fol },
      control: { query: `?channels=${handle}`, token: other },
      revoke: () => w.ok(204, 'DELETE', `/api/v1/channels/${handle}/follow`, { as: fol }),
      reason: 'unfollowed',
    });
    assert.equal((await call('GET', `/api/v1/channels/${handle}/posts`, { as: fol })).status, 404);
  });

  test(`${kind}: a stream opened with an invite ends when the invite is revoked`, async () => {
    const handle = await w.channel({ visibility: 'unlisted' });
    const code = await invite(handle);
    const spare = await invite(handle);
    await scenario(kind, {
      handle,
      victim: { query: `?channels=${handle}&invite=${code}` },
      control: { query: `?channels=${handle}&invite=${spare}` },
      revoke: () => w.ok(204, 'DELETE', `/api/v1/channels/${handle}/invites/${code}`, { as: w.tok.channel_owner }),
      reason: 'invite_revoked',
    });
    assert.equal((await call('GET', `/api/v1/channels/${handle}/posts?invite=${code}`)).status, 404);
  });

  test(`${kind}: a removed admin stops receiving the unlisted channel; the owner does not`, async () => {
    const handle = await w.channel({ visibility: 'unlisted' });
    await scenario(kind, {
      handle,
      victim: { query: `?channels=${handle}`, token: w.tok.channel_admin },
      control: { query: `?channels=${handle}`, token: w.tok.channel_owner },
      revoke: () => w.ok(204, 'DELETE', `/api/v1/channels/${handle}/admins/${w.ids.admin}`, { as: w.tok.channel_owner }),
      reason: 'admin_removed',
    });
    assert.equal((await call('GET', `/api/v1/channels/${handle}/posts`, { as: w.tok.channel_admin })).status, 404);
  });

  test(`${kind}: a deleted channel ends its subscriptions`, async () => {
    const handle = await w.channel();
    await scenario(kind, {
      handle,
      victim: { query: `?channels=${handle}` },
      revoke: () => w.ok(204, 'DELETE', `/api/v1/channels/${handle}`, { as: w.tok.channel_owner }),
      reason: 'channel_deleted',
      noPost: true,
    });
  });

  test(`${kind}: "forget me" ends the follower's subscriptions to unlisted channels`, async () => {
    const handle = await w.channel({ visibility: 'unlisted' });
    const code = await invite(handle);
    const fol = await followerOf(handle, code);
    const other = await followerOf(handle, code);
    await scenario(kind, {
      handle,
      victim: { query: `?channels=${handle}`, token: fol },
      control: { query: `?channels=${handle}`, token: other },
      revoke: () => w.ok(204, 'DELETE', '/api/v1/me', { as: fol }),
      reason: 'unfollowed',
    });
  });
}

test('sse: a stream of several channels loses only the one revoked, and its id moves on without it', async () => {
  const gone = await w.channel();
  const kept = await w.channel();
  const s = sse(`?channels=${gone},${kept}`);
  try {
    await s.ready();
    await w.ok(200, 'PATCH', `/api/v1/channels/${gone}`, { as: w.tok.channel_owner, body: { visibility: 'unlisted' } });
    await post(gone, 'non per te');
    const id = await post(kept, 'per te');
    await waitFor(() => s.posts.some((p) => p.id === id), 'the other channel goes on');
    assert.deepEqual(s.unsub.map((u) => [u.channel, u.reason]), [[gone, 'channel_unlisted']]);
    assert.match(s.ids[0], new RegExp(`^${kept}:\\d+$`));
    assert.equal(s.posts.length, 1);
    assert.equal(s.gone(), false);
  } finally {
    s.close();
  }
});

test('ws: the connection stays open after `unsubscribed`, and other channels go on', async () => {
  const gone = await w.channel();
  const kept = await w.channel();
  const c = ws(`?channels=${gone},${kept}`);
  try {
    await c.ready();
    await w.ok(200, 'PATCH', `/api/v1/channels/${gone}`, { as: w.tok.channel_owner, body: { visibility: 'unlisted' } });
    await post(gone, 'non per te');
    const id = await post(kept, 'per te');
    await waitFor(() => c.posts.some((p) => p.id === id), 'the other channel goes on');
    assert.deepEqual(c.unsub.map((u) => [u.channel, u.reason]), [[gone, 'channel_unlisted']]);
    assert.equal(c.posts.length, 1);
    assert.equal(c.closed, null);
  } finally {
    c.close();
  }
});

test('ws: a channel subscribed with a message (not ?channels=) ends on unfollow too', async () => {
  const handle = await w.channel({ visibility: 'unlisted' });
  const code = await invite(handle);
  const fol = await followerOf(handle, code);
  const c = ws('', fol);
  try {
    await waitFor(() => c.ws.readyState === WebSocket.OPEN, 'open');
    c.ws.send(JSON.stringify({ type: 'subscribe', channels: [handle] }));
    await waitFor(() => c.msgs.some((m) => m.type === 'subscribed'), 'subscribed');
    await w.ok(204, 'DELETE', `/api/v1/channels/${handle}/follow`, { as: fol });
    await post(handle, 'non più per te');
    await waitFor(() => c.unsub.length === 1, 'unsubscribed');
    assert.deepEqual(c.unsub[0], { type: 'unsubscribed', channel: handle, reason: 'unfollowed' });
    await sleep(150);
    assert.equal(c.posts.length, 0);
  } finally {
    c.close();
  }
});

test('changes that take no right away end nothing: another follower unfollowing, a listed edit', async () => {
  const handle = await w.channel();
  const fol = await followerOf(handle);
  const other = await followerOf(handle);
  const s = sse(`?channels=${handle}`, fol);
  const c = ws(`?channels=${handle}`);
  try {
    await s.ready();
    await c.ready();
    await w.ok(204, 'DELETE', `/api/v1/channels/${handle}/follow`, { as: other });
    await w.ok(200, 'PATCH', `/api/v1/channels/${handle}`, { as: w.tok.channel_owner, body: { description: 'nuova' } });
    const id = await post(handle, 'a tutti');
    await waitFor(() => s.posts.some((p) => p.id === id) && c.posts.some((p) => p.id === id), 'both get the post');
    assert.equal(s.unsub.length + c.unsub.length, 0);
  } finally {
    s.close();
    c.close();
  }
});

// Guards the follows stream's path through the markers. (The notice sent before the 204 did
// this already for a post made after the 204; one committed by someone else in between could
// slip through, which no test can time.)
test('sse: a stream of the follower\'s follows drops an unfollowed channel before its next post', async () => {
  const handle = await w.channel({ visibility: 'unlisted' });
  const kept = await w.channel();
  const code = await invite(handle);
  const fol = await followerOf(handle, code);
  assert.equal((await call('PUT', `/api/v1/channels/${kept}/follow`, { as: fol })).status, 204);
  const s = sse('', fol);
  const ids = [];
  try {
    await s.ready();
    await w.ok(204, 'DELETE', `/api/v1/channels/${handle}/follow`, { as: fol });
    await post(handle, 'non più per te');
    ids.push(await post(kept, 'per te'));
    await waitFor(() => s.posts.some((p) => p.id === ids[0]), 'the channel it still follows goes on');
    await sleep(150);
    assert.deepEqual(s.posts.map((p) => p.id), ids, 'nothing of the unfollowed channel');
  } finally {
    s.close();
  }
});

// The server closes the connection once it ends a stream; the head must say so, or a client
// that pools connections (fetch, EventSource on it) sends its next request on a socket about
// to close, and that request fails ("fetch failed" in the tests above, now and then).
test('sse: the stream\'s head says Connection: close', async () => {
  const handle = await w.channel();
  const head = await new Promise((res, rej) => {
    let got = '';
    const sock = net.connect(srv.port, srv.host, () => sock.write(`GET /api/v1/stream?channels=${handle} HTTP/1.1\r\nHost: t\r\n\r\n`));
    sock.on('data', (d) => {
      got += d;
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) { sock.destroy(); res(got.slice(0, end + 2)); }
    });
    sock.on('error', rej);
  });
  assert.match(head, /^HTTP\/1\.1 200 /);
  assert.match(head, /\r\nConnection: close\r\n/i);
});
