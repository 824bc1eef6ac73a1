// SPDX-License-Identifier: AGPL-3.0-or-later
// Live streams over Server-Sent Events, with the npm `eventsource` client (a real third-party
// client, reconnecting with Last-Event-ID as browsers do): delivery, edits and deletions,
// gap-free resume (also across SIGTERM and kill -9 restarts), reset past retention, the anonymous
// preview, heartbeats, and a slow subscriber cut off while 100 others receive every event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { EventSource } from 'eventsource';
import { buildWorld } from './lib/world.mjs';
import { startServer, api, sleep, waitFor } from './lib/server.mjs';

const KINDS = ['post.created', 'post.edited', 'post.deleted', 'channel.updated', 'counts', 'reset'];

let w;
let srv; // the server now running (tests restart it on the same data)

const call = (method, path, opts) => api(srv.url, method, path, opts);

async function post(handle, text) {
  const r = await call('POST', `/api/v1/channels/${handle}/posts`, { as: w.tok.channel_owner, body: { text } });
  assert.equal(r.status, 201, r.text);
  return r.data.id;
}

// An EventSource on /api/v1/stream that records every event as { type, id, data }.
function open(query = '', { token, lastEventId } = {}) {
  const extra = {};
  if (token) extra.authorization = `Bearer ${token}`;
  if (lastEventId) extra['last-event-id'] = lastEventId;
  const s = { events: [], errors: [], opened: false };
  // On reconnection the client sends its own Last-Event-ID: ours was for the first request.
  s.es = new EventSource(`${srv.url}/api/v1/stream${query}`, {
    fetch: (u, init) => {
      const own = Object.keys(init.headers || {}).some((k) => k.toLowerCase() === 'last-event-id');
      const mine = { ...extra };
      if (own) delete mine['last-event-id'];
      return fetch(u, { ...init, headers: { ...mine, ...init.headers } });
    },
  });
  for (const k of KINDS) {
    s.es.addEventListener(k, (e) => s.events.push({ type: k, id: e.lastEventId, data: JSON.parse(e.data) }));
  }
  s.es.addEventListener('open', () => { s.opened = true; });
  s.es.addEventListener('error', (e) => s.errors.push(e));
  s.ready = () => waitFor(() => s.opened, 'stream open');
  s.of = (type) => s.events.filter((e) => e.type === type);
  s.close = () => s.es.close();
  return s;
}

before(async () => {
  w = await buildWorld();
  srv = w.srv;
});

after(async () => {
  await srv.stop();
  srv.cleanup();
});

test('a follower sees a post created by an admin within 1 s, then its edit and deletion', async () => {
  const s = open('', { token: w.tok.follower });
  await s.ready();
  const t0 = Date.now();
  const id = await post(w.main, 'Chiusura scuole domani');
  await waitFor(() => s.of('post.created').length === 1, 'post.created', 1000);
  assert.ok(Date.now() - t0 < 1000);
  const ev = s.of('post.created')[0];
  assert.equal(ev.data.id, id);
  assert.equal(ev.data.text, 'Chiusura scuole domani');
  assert.match(ev.id, new RegExp(`^${w.main}:\\d+$`));

  assert.equal((await call('PATCH', `/api/v1/posts/${id}`, { as: w.tok.channel_admin, body: { text: 'Scuole aperte' } })).status, 200);
  await waitFor(() => s.of('post.edited').length === 1, 'post.edited', 1000);
  assert.equal(s.of('post.edited')[0].data.text, 'Scuole aperte');
  assert.equal((await call('DELETE', `/api/v1/posts/${id}`, { as: w.tok.channel_owner })).status, 204);
  await waitFor(() => s.of('post.deleted').length === 1, 'post.deleted', 1000);
  assert.equal(s.of('post.deleted')[0].data.id, id);
  // Seqs follow each other: created n, edited n+1, deleted n+2.
  const seqs = s.events.map((e) => Number(e.id.split(':')[1]));
  assert.deepEqual(seqs, [seqs[0], seqs[0] + 1, seqs[0] + 2]);
  s.close();
});

test('a follower\'s stream keeps up with its follows: followed or unfollowed meanwhile, at once', async () => {
  const mk = async (tag) => {
    const handle = `segui-${tag}-${Date.now().toString(36)}`;
    const r = await call('POST', '/api/v1/channels', {
      as: w.tok.channel_owner,
      body: { org: 'comune-a', handle, name: `Canale ${handle}`, category: 'news', language: 'it', visibility: 'listed' },
    });
    assert.equal(r.status, 201, r.text);
    return handle;
  };
  const a = await mk('a');
  const b = await mk('b');
  const f = await call('POST', '/api/v1/followers');
  assert.equal(f.status, 201, f.text);
  const token = f.data.token;
  const follow = (h, method = 'PUT') => call(method, `/api/v1/channels/${h}/follow`, { as: token });
  assert.equal((await follow(a)).status, 204);
  const s = open('', { token });
  await s.ready();
  const got = (id) => s.of('post.created').some((e) => e.data.id === id);
  const pa = await post(a, 'uno');
  await waitFor(() => got(pa), 'a post of the channel followed at the start');
  // Followed while the stream is open: its next post arrives on the same stream.
  assert.equal((await follow(b)).status, 204);
  const pb = await post(b, 'due');
  await waitFor(() => got(pb), 'a post of the channel followed meanwhile', 2000);
  const id = s.of('post.created').at(-1).id;
  assert.match(id, new RegExp(`(^|,)${a}:\\d+`), 'the cursor keeps the first channel');
  assert.match(id, new RegExp(`(^|,)${b}:\\d+`), 'and carries the new one');
  // Unfollowed: its posts stop; the other's go on.
  assert.equal((await follow(a, 'DELETE')).status, 204);
  const pa2 = await post(a, 'tre');
  const pb2 = await post(b, 'quattro');
  await waitFor(() => got(pb2), 'the channel still followed');
  await sleep(200);
  assert.ok(!got(pa2), 'nothing from the channel unfollowed');
  assert.equal(s.errors.length, 0, 'one stream throughout, never reconnected');
  // "Forget me": the stream of a follower that is gone ends.
  assert.equal((await call('DELETE', '/api/v1/me', { as: token })).status, 204);
  await waitFor(() => s.errors.length > 0, 'the stream ended', 3000);
  s.close();
});

test('headers: text/event-stream, no-store, X-Accel-Buffering: no, a retry hint first', async () => {
  const ctl = new AbortController();
  const r = await fetch(`${srv.url}/api/v1/stream?channels=${w.main}`, { signal: ctl.signal });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('x-accel-buffering'), 'no');
  const first = new TextDecoder().decode((await r.body.getReader().read()).value);
  assert.match(first, /^retry: 3000\n\n/);
  ctl.abort();
});

test('disconnect, three posts, reconnect with Last-Event-ID: exactly those three, in order', async () => {
  const s = open(`?channels=${w.main}`);
  await s.ready();
  await post(w.main, 'prima');
  await waitFor(() => s.of('post.created').length === 1, 'first post');
  const last = s.events.at(-1).id;
  s.close();
  const ids = [await post(w.main, 'uno'), await post(w.main, 'due'), await post(w.main, 'tre')];
  const r = open(`?channels=${w.main}`, { lastEventId: last });
  await waitFor(() => r.events.length >= 3, 'three replayed events');
  await sleep(200); // nothing more may come
  assert.deepEqual(r.events.map((e) => e.data.id), ids);
  assert.deepEqual(r.events.map((e) => e.data.text), ['uno', 'due', 'tre']);
  // ...and it goes on live without a gap or a duplicate.
  const live = await post(w.main, 'quattro');
  await waitFor(() => r.events.length === 4, 'live after replay');
  assert.equal(r.events[3].data.id, live);
  const seqs = r.events.map((e) => Number(e.id.split(':')[1]));
  assert.deepEqual(seqs, [seqs[0], seqs[0] + 1, seqs[0] + 2, seqs[0] + 3]);
  r.close();
});

test('?last_event_id= resumes like the header, for clients that cannot set one', async () => {
  const s = open(`?channels=${w.main}`);
  await s.ready();
  await post(w.main, 'prima');
  await waitFor(() => s.events.length === 1, 'first');
  const last = s.events[0].id;
  s.close();
  const ids = [await post(w.main, 'x'), await post(w.main, 'y')];
  const r = open(`?channels=${w.main}&last_event_id=${encodeURIComponent(last)}`);
  await waitFor(() => r.events.length >= 2, 'replay');
  await sleep(150);
  assert.deepEqual(r.events.map((e) => e.data.id), ids);
  r.close();
});

test('the client reconnects by itself after the server restarts and misses nothing', async () => {
  const s = open('', { token: w.tok.follower });
  await s.ready();
  await post(w.main, 'prima del riavvio');
  await waitFor(() => s.of('post.created').length === 1, 'before restart');
  const port = srv.port;
  await srv.stop();
  // Same port, so the EventSource's automatic reconnection (Last-Event-ID) reaches it.
  srv = await startServer({ data: w.srv.data, args: [] , sets: {} , wrap: (bin, argv) => [bin, argv.map((a) => (a === '127.0.0.1:0' ? `127.0.0.1:${port}` : a))] });
  const ids = [await post(w.main, 'dopo 1'), await post(w.main, 'dopo 2')];
  await waitFor(() => s.of('post.created').length === 3, 'after restart', 8000);
  assert.deepEqual(s.of('post.created').slice(1).map((e) => e.data.id), ids);
  s.close();
});

for (const how of ['SIGTERM', 'kill -9']) {
  test(`resume across a server restart (${how}): exactly the missed events, in order`, async () => {
    const s = open(`?channels=${w.main}`);
    await s.ready();
    await post(w.main, 'prima');
    await waitFor(() => s.of('post.created').length === 1, 'first');
    const last = s.events.at(-1).id;
    s.close();
    const ids = [await post(w.main, 'a'), await post(w.main, 'b'), await post(w.main, 'c')];
    if (how === 'kill -9') await srv.kill(); else await srv.stop();
    srv = await startServer({ data: w.srv.data });
    const r = open(`?channels=${w.main}`, { lastEventId: last });
    await waitFor(() => r.events.length >= 3, 'replay after restart');
    await sleep(150);
    assert.deepEqual(r.events.map((e) => e.data.id), ids);
    const next = await post(w.main, 'd');
    await waitFor(() => r.events.length === 4, 'live after restart');
    assert.equal(r.events[3].data.id, next);
    assert.equal(Number(r.events[3].id.split(':')[1]), Number(r.events[2].id.split(':')[1]) + 1);
    r.close();
  });
}

// A fresh listed channel of org A owned by `owner`, through the server running now.
async function makeChannel(extra = {}) {
  const handle = w.unique('flusso');
  const r = await call('POST', '/api/v1/channels', {
    as: w.tok.channel_owner,
    body: { org: 'comune-a', handle, name: `Canale ${handle}`, category: 'news', language: 'it', ...extra },
  });
  assert.equal(r.status, 201, r.text);
  return handle;
}

test('several channels in one stream: the id is a cursor per channel, and resume uses all of it', async () => {
  const other = await makeChannel();
  const s = open(`?channels=${w.main},${other}`);
  await s.ready();
  await post(w.main, 'm1');
  await post(other, 'o1');
  await waitFor(() => s.events.length === 2, 'two events');
  const last = s.events.at(-1).id;
  assert.match(last, new RegExp(`^${w.main}:\\d+,${other}:\\d+$`));
  s.close();
  const missed = [await post(other, 'o2'), await post(w.main, 'm2'), await post(other, 'o3')];
  const r = open(`?channels=${w.main},${other}`, { lastEventId: last });
  await waitFor(() => r.events.length >= 3, 'replay of both channels');
  await sleep(150);
  assert.deepEqual(r.events.map((e) => e.data.id).sort(), [...missed].sort());
  assert.deepEqual(r.events.filter((e) => e.data.channel === other).map((e) => e.data.text), ['o2', 'o3']);
  r.close();
});

test('a Last-Event-ID older than retention yields reset, then live events', async () => {
  const h = w.unique('breve');
  assert.equal((await call('POST', '/api/v1/channels', {
    as: w.tok.channel_owner,
    body: { org: 'comune-a', handle: h, name: 'Breve', category: 'news', language: 'it', retention_days: 1 },
  })).status, 201);
  const s = open(`?channels=${h}`);
  await s.ready();
  await post(h, 'vecchio 1');
  await post(h, 'vecchio 2');
  await waitFor(() => s.events.length === 2, 'old events');
  const first = s.events[0].id;
  s.close();
  await srv.stop();
  // Two days later: the sweep at start purges the channel's events.
  srv = await startServer({ data: w.srv.data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(2 * 86400000) } });
  await sleep(500);
  const r = open(`?channels=${h}`, { lastEventId: first });
  await waitFor(() => r.of('reset').length === 1, 'reset');
  assert.equal(r.of('reset')[0].data.channel, h);
  assert.equal(r.of('post.created').length, 0, 'no silent partial replay');
  const id = await post(h, 'nuovo');
  await waitFor(() => r.of('post.created').length === 1, 'live after reset');
  assert.equal(r.of('post.created')[0].data.id, id);
  r.close();
  await srv.stop();
  srv = await startServer({ data: w.srv.data });
});

test('a position this database never gave out also yields reset', async () => {
  const r = open(`?channels=${w.main}`, { lastEventId: `${w.main}:999999` });
  await waitFor(() => r.of('reset').length === 1, 'reset');
  r.close();
});

test('anonymous preview of a listed channel works; an unlisted one is refused (404)', async () => {
  const hidden = await makeChannel({ visibility: 'unlisted' });
  const s = open(`?channels=${w.main}`);
  await s.ready();
  const id = await post(w.main, 'pubblico');
  await waitFor(() => s.of('post.created').some((e) => e.data.id === id), 'preview event');
  s.close();
  const r = await call('GET', `/api/v1/stream?channels=${hidden}`);
  assert.equal(r.status, 404);
  assert.equal(r.data.error.code, 'channel_not_found');
  const mixed = await call('GET', `/api/v1/stream?channels=${w.main},${hidden}`);
  assert.equal(mixed.status, 404);
  // Its follower (who joined with an invite link) may stream it.
  const inv = await call('POST', `/api/v1/channels/${hidden}/invites`, { as: w.tok.channel_owner, body: {} });
  assert.equal(inv.status, 201, inv.text);
  const f = (await call('POST', '/api/v1/followers')).data.token;
  assert.ok([200, 204].includes((await call('PUT', `/api/v1/channels/${hidden}/follow`, { as: f, body: { invite: inv.data.code } })).status));
  const fs = open(`?channels=${hidden}`, { token: f });
  await fs.ready();
  const hid = await post(hidden, 'riservato');
  await waitFor(() => fs.of('post.created').some((e) => e.data.id === hid), 'unlisted event for its follower');
  fs.close();
});

test('bad input: no channels and no token 400, malformed lists and ids 400, too many channels 400', async () => {
  let r = await call('GET', '/api/v1/stream');
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'missing_channels');
  r = await call('GET', '/api/v1/stream?channels=a,,b');
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'invalid_channels');
  r = await call('GET', `/api/v1/stream?channels=${w.main}`, { headers: { 'last-event-id': 'not a cursor' } });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'invalid_last_event_id');
  r = await call('GET', '/api/v1/stream', { as: 'follower_nope' });
  assert.equal(r.status, 401);
  const long = Array.from({ length: 200 }, (_, i) => `canale-lungo-${i}:123456`).join(',');
  r = await call('GET', `/api/v1/stream?channels=${w.main}`, { headers: { 'last-event-id': long } });
  assert.equal(r.status, 400, 'a cursor over 4 KiB');
  assert.equal(r.data.error.code, 'invalid_last_event_id');
  const many = Array.from({ length: 65 }, (_, i) => `c${i}xx`).join(',');
  r = await call('GET', `/api/v1/stream?channels=${many}`);
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'too_many_channels');
});

test('stream_replay_max: a client further behind gets that many, then resumes by itself for the rest', async () => {
  await srv.stop();
  srv = await startServer({ data: w.srv.data, sets: { stream_replay_max: 10 } });
  const s = open(`?channels=${w.main}`);
  await s.ready();
  await post(w.main, 'prima');
  await waitFor(() => s.events.length === 1, 'first');
  const last = s.events[0].id;
  s.close();
  const ids = [];
  for (let i = 0; i < 15; i++) ids.push(await post(w.main, `arretrato ${i}`));
  // EventSource reconnects by itself after the stream ends, with its Last-Event-ID.
  const r = open(`?channels=${w.main}`, { lastEventId: last });
  await waitFor(() => r.events.length >= 15, 'all fifteen over two connections', 10000).catch((e) => { throw new Error(`${e.message}: ${r.events.length} events, errors ${r.errors.map((x) => x.message).join('|')}`); });
  await sleep(200);
  assert.deepEqual(r.events.map((e) => e.data.id), ids);
  r.close();
  await srv.stop();
  srv = await startServer({ data: w.srv.data });
});

test('heartbeat: a comment line every stream_heartbeat_s', async () => {
  await srv.stop();
  srv = await startServer({ data: w.srv.data, sets: { stream_heartbeat_s: 1 } });
  const ctl = new AbortController();
  const r = await fetch(`${srv.url}/api/v1/stream?channels=${w.main}`, { signal: ctl.signal });
  const rd = r.body.getReader();
  let text = '';
  const t0 = Date.now();
  while (!/\n:\n\n/.test(text) && Date.now() - t0 < 3000) text += new TextDecoder().decode((await rd.read()).value);
  assert.match(text, /\n:\n\n/);
  ctl.abort();
});

test('graceful shutdown ends streams cleanly', async () => {
  const ctl = new AbortController();
  const r = await fetch(`${srv.url}/api/v1/stream?channels=${w.main}`, { signal: ctl.signal });
  const rd = r.body.getReader();
  await rd.read();
  const stopped = srv.stop();
  for (;;) {
    const { done } = await rd.read();
    if (done) break;
  }
  const { code } = await stopped;
  assert.equal(code, 0);
  srv = await startServer({ data: w.srv.data });
});

test('a slow subscriber that never reads is cut off while 100 others receive every event', async () => {
  await srv.stop();
  srv = await startServer({ data: w.srv.data, sets: { stream_queue_bytes: 65536 } });
  const others = [];
  for (let i = 0; i < 100; i++) {
    const s = { n: 0, opened: false };
    s.es = new EventSource(`${srv.url}/api/v1/stream?channels=${w.main}`);
    s.es.addEventListener('open', () => { s.opened = true; });
    s.es.addEventListener('post.created', () => { s.n++; });
    others.push(s);
  }
  await waitFor(() => others.every((s) => s.opened), '100 streams open', 10000);
  // The slow one: asks, then never reads; the kernel's buffers fill, then our queue.
  const slow = net.connect(srv.port, '127.0.0.1');
  await new Promise((r) => slow.on('connect', r));
  slow.write(`GET /api/v1/stream?channels=${w.main} HTTP/1.1\r\nHost: t\r\n\r\n`);
  slow.pause();
  let slowClosed = false;
  slow.on('close', () => { slowClosed = true; });
  await sleep(100);
  const text = '😀'.repeat(4000); // 16 KB per event
  const N = 400;
  for (let i = 0; i < N; i += 20) {
    await Promise.all(Array.from({ length: 20 }, () => post(w.main, text)));
  }
  await waitFor(() => others.every((s) => s.n === N), 'every other stream got every event', 30000);
  // Now read the slow one: it got less than everything, then the server ended it.
  let got = '';
  slow.setEncoding('utf8');
  slow.on('data', (d) => { got += d; });
  slow.resume();
  await waitFor(() => slowClosed, 'the slow stream ended by the server', 10000);
  // Complete events only: the server cut the stream, perhaps in the middle of one.
  const complete = [...got.matchAll(/id: (\S+)\nevent: post\.created\ndata: [^\n]*\n\n/g)];
  assert.ok(complete.length < N, `the slow subscriber was cut off (${complete.length} of ${N})`);
  // It resumes from its last complete event and gets exactly the rest.
  const r = open(`?channels=${w.main}`, { lastEventId: complete.at(-1)[1] });
  await waitFor(() => r.of('post.created').length === N - complete.length, 'the rest after resuming', 20000);
  r.close();
  for (const s of others) s.es.close();
});
