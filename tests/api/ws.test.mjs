// SPDX-License-Identifier: AGPL-3.0-or-later
// Live streams over WebSocket, with the npm `ws` client: subscribe / unsubscribe, events, resume
// with `since` (also across restarts), reset, ping/pong, close codes (1000, 1001 on shutdown,
// 1008 for a bad message, 1009 for an oversized one), the anonymous preview and the handshake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { buildWorld } from './lib/world.mjs';
import { startServer, api, sleep, waitFor } from './lib/server.mjs';

let w;
let srv;

const call = (method, path, opts) => api(srv.url, method, path, opts);

async function post(handle, text) {
  const r = await call('POST', `/api/v1/channels/${handle}/posts`, { as: w.tok.channel_owner, body: { text } });
  assert.equal(r.status, 201, r.text);
  return r.data.id;
}

async function makeChannel(extra = {}) {
  const handle = w.unique('onda');
  const r = await call('POST', '/api/v1/channels', {
    as: w.tok.channel_owner,
    body: { org: 'comune-a', handle, name: `Canale ${handle}`, category: 'news', language: 'it', ...extra },
  });
  assert.equal(r.status, 201, r.text);
  return handle;
}

// A WebSocket that records every message; `closed` gets { code, reason } when it ends.
async function connect(query = '', { token } = {}) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const c = { msgs: [], closed: null, pongs: 0 };
  c.ws = new WebSocket(`${srv.url.replace('http', 'ws')}/api/v1/ws${query}`, { headers });
  c.ws.on('message', (d) => c.msgs.push(JSON.parse(d.toString())));
  c.ws.on('close', (code, reason) => { c.closed = { code, reason: reason.toString() }; });
  c.ws.on('pong', () => { c.pongs++; });
  c.ws.on('error', () => {});
  await new Promise((res, rej) => { c.ws.on('open', res); c.ws.on('unexpected-response', (_, r) => rej(new Error(`HTTP ${r.statusCode}`))); });
  c.send = (m) => c.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  c.of = (type) => c.msgs.filter((m) => m.type === type);
  c.events = (kind) => c.msgs.filter((m) => m.type === 'event' && (!kind || m.event === kind));
  c.subscribe = async (channels, since) => {
    const before = c.of('subscribed').length + c.of('error').length;
    c.send(since ? { type: 'subscribe', channels, since } : { type: 'subscribe', channels });
    await waitFor(() => c.of('subscribed').length + c.of('error').length >= before + channels.length, 'subscribed');
  };
  c.close = () => c.ws.close();
  return c;
}

before(async () => {
  w = await buildWorld();
  srv = w.srv;
});

after(async () => {
  await srv.stop();
  srv.cleanup();
});

test('subscribe: a post arrives within 1 s as an event frame, then its edit and deletion', async () => {
  const c = await connect();
  await c.subscribe([w.main]);
  const sub = c.of('subscribed')[0];
  assert.equal(sub.channel, w.main);
  const t0 = Date.now();
  const id = await post(w.main, 'Allerta meteo');
  await waitFor(() => c.events('post.created').length === 1, 'post.created', 1000);
  assert.ok(Date.now() - t0 < 1000);
  const ev = c.events('post.created')[0];
  assert.equal(ev.channel, w.main);
  assert.equal(ev.seq, sub.seq + 1);
  assert.equal(ev.data.id, id);
  assert.equal(ev.data.text, 'Allerta meteo');
  assert.equal((await call('PATCH', `/api/v1/posts/${id}`, { as: w.tok.channel_admin, body: { text: 'Allerta rientrata' } })).status, 200);
  await waitFor(() => c.events('post.edited').length === 1, 'post.edited', 1000);
  assert.equal((await call('DELETE', `/api/v1/posts/${id}`, { as: w.tok.channel_owner })).status, 204);
  await waitFor(() => c.events('post.deleted').length === 1, 'post.deleted', 1000);
  assert.deepEqual(c.events().map((e) => e.seq), [sub.seq + 1, sub.seq + 2, sub.seq + 3]);
  c.close();
});

test('unsubscribe: no more events from that channel', async () => {
  const c = await connect();
  await c.subscribe([w.main]);
  c.send({ type: 'unsubscribe', channels: [w.main] });
  await waitFor(() => c.of('unsubscribed').length === 1, 'unsubscribed');
  await post(w.main, 'non lo vedi');
  await sleep(300);
  assert.equal(c.events().length, 0);
  c.close();
});

test('since: disconnect, three posts, resubscribe from the last seq → exactly those three, then live', async () => {
  const c = await connect();
  await c.subscribe([w.main]);
  await post(w.main, 'prima');
  await waitFor(() => c.events().length === 1, 'first');
  const last = c.events()[0].seq;
  c.close();
  const ids = [await post(w.main, 'uno'), await post(w.main, 'due'), await post(w.main, 'tre')];
  const d = await connect();
  await d.subscribe([w.main], { [w.main]: last });
  await waitFor(() => d.events().length >= 3, 'replay');
  await sleep(150);
  assert.deepEqual(d.events().map((e) => e.data.id), ids);
  assert.deepEqual(d.events().map((e) => e.seq), [last + 1, last + 2, last + 3]);
  assert.equal(d.of('subscribed')[0].seq, last + 3);
  const next = await post(w.main, 'quattro');
  await waitFor(() => d.events().length === 4, 'live');
  assert.equal(d.events()[3].data.id, next);
  d.close();
});

test('a burst of concurrent posts (committed together, sent as runs): each client gets every event once, in order', async () => {
  const handle = await makeChannel({ visibility: 'listed' });
  const clients = await Promise.all(Array.from({ length: 5 }, () => connect()));
  for (const c of clients) await c.subscribe([handle]);
  const ids = [];
  for (let wave = 0; wave < 3; wave++) {
    ids.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => post(handle, `ondata ${wave}-${i}`)))));
  }
  for (const c of clients) {
    await waitFor(() => c.events('post.created').length >= ids.length, 'every post', 10000);
  }
  await sleep(150); // nothing more may follow
  for (const c of clients) {
    const evs = c.events('post.created');
    assert.equal(evs.length, ids.length);
    const first = evs[0].seq;
    assert.deepEqual(evs.map((e) => e.seq), ids.map((_, i) => first + i), 'consecutive seqs, no gap or repeat');
    assert.deepEqual(new Set(evs.map((e) => e.data.id)), new Set(ids));
    c.close();
  }
});

test('since across a kill -9 restart: exactly the missed events', async () => {
  const c = await connect();
  await c.subscribe([w.main]);
  await post(w.main, 'prima');
  await waitFor(() => c.events().length === 1, 'first');
  const last = c.events()[0].seq;
  c.close();
  const ids = [await post(w.main, 'a'), await post(w.main, 'b'), await post(w.main, 'c')];
  await srv.kill();
  srv = await startServer({ data: w.srv.data });
  const d = await connect();
  await d.subscribe([w.main], { [w.main]: last });
  await waitFor(() => d.events().length >= 3, 'replay after restart');
  await sleep(150);
  assert.deepEqual(d.events().map((e) => e.data.id), ids);
  d.close();
});

test('a position beyond what the channel has yields reset', async () => {
  const c = await connect();
  await c.subscribe([w.main], { [w.main]: 999999 });
  await waitFor(() => c.of('reset').length === 1, 'reset');
  assert.equal(c.of('reset')[0].channel, w.main);
  c.close();
});

test('ping is answered with pong', async () => {
  const c = await connect();
  c.ws.ping();
  await waitFor(() => c.pongs === 1, 'pong');
  c.close();
});

test('the server pings (stream_heartbeat_s) and the ws client answers: the connection stays', async () => {
  await srv.stop();
  srv = await startServer({ data: w.srv.data, sets: { stream_heartbeat_s: 1 } });
  const c = await connect();
  let pings = 0;
  c.ws.on('ping', () => { pings++; });
  await waitFor(() => pings >= 2, 'two server pings', 4000);
  assert.equal(c.closed, null);
  c.close();
});

test('a peer that answers no ping is closed', async () => {
  // A raw client that upgrades and then ignores everything (no pongs).
  const s = net.connect(srv.port, '127.0.0.1');
  await new Promise((r) => s.on('connect', r));
  s.write(`GET /api/v1/ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  let data = Buffer.alloc(0);
  let closed = false;
  s.on('data', (d) => { data = Buffer.concat([data, d]); });
  s.on('close', () => { closed = true; });
  await waitFor(() => closed, 'dead peer reaped', 5000);
  assert.match(data.toString('latin1'), /^HTTP\/1\.1 101 /);
  assert.match(data.toString('latin1'), /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
  await srv.stop();
  srv = await startServer({ data: w.srv.data });
});

test('a message over ws_max_message_bytes closes with 1009', async () => {
  const c = await connect();
  c.send(JSON.stringify({ type: 'subscribe', channels: [w.main], pad: 'x'.repeat(5000) }));
  await waitFor(() => c.closed, 'close');
  assert.equal(c.closed.code, 1009);
});

test('a message that is not ours closes with 1008 after an error message', async () => {
  const c = await connect();
  c.send('{"type":"dance"}');
  await waitFor(() => c.closed, 'close');
  assert.equal(c.closed.code, 1008);
  assert.equal(c.of('error')[0].code, 'invalid_message');
  const d = await connect();
  d.send('not json');
  await waitFor(() => d.closed, 'close');
  assert.equal(d.closed.code, 1008);
});

test('protocol errors: an unmasked frame 1002, invalid UTF-8 1007, a binary message 1003, bad control frames and lengths 1002', async () => {
  const closeCode = async (frame) => {
    const s = net.connect(srv.port, '127.0.0.1');
    await new Promise((r) => s.on('connect', r));
    s.write('GET /api/v1/ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    let buf = Buffer.alloc(0);
    s.on('data', (d) => { buf = Buffer.concat([buf, d]); });
    await waitFor(() => buf.includes('\r\n\r\n'), '101');
    s.write(frame);
    await new Promise((r) => s.on('close', r));
    const f = buf.subarray(buf.indexOf('\r\n\r\n') + 4);
    if (!f.length) return 'closed without a close frame';
    assert.equal(f[0], 0x88, 'a close frame');
    return (f[1] & 0x7f) >= 2 ? f.readUInt16BE(2) : 'a close frame without a code';
  };
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = (op, bytes) => Buffer.concat([Buffer.from([0x80 | op, 0x80 | bytes.length]), mask,
    Buffer.from(bytes.map((b, i) => b ^ mask[i % 4]))]);
  assert.equal(await closeCode(Buffer.from([0x81, 0x02, 0x68, 0x69])), 1002);
  assert.equal(await closeCode(masked(1, [0xff, 0xfe])), 1007);
  assert.equal(await closeCode(masked(2, [1, 2])), 1003);
  // Issue 9, finding 11: a fragmented ping, a ping over 125 bytes (RFC 6455 5.5) and a length
  // with its most significant bit set (5.2) are protocol errors: 1002, never a close without a
  // code or a silent close.
  assert.equal(await closeCode(Buffer.concat([Buffer.from([0x09, 0x80]), mask])), 1002);
  const long = Buffer.concat([Buffer.from([0x89, 0x80 | 126, 0, 126]), mask, Buffer.alloc(126)]);
  assert.equal(await closeCode(long), 1002);
  const huge = Buffer.concat([Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0]), mask, Buffer.alloc(16)]);
  assert.equal(await closeCode(huge), 1002);
  // A length past the message limit (bit 63 clear) is "too big": 1009.
  const big = Buffer.concat([Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), mask, Buffer.alloc(16)]);
  assert.equal(await closeCode(big), 1009);
});

test('a clean close from the client is answered with 1000', async () => {
  const c = await connect();
  c.ws.close(1000, 'ciao');
  await waitFor(() => c.closed, 'close');
  assert.equal(c.closed.code, 1000);
});

test('anonymous preview of a listed channel works; an unlisted one is refused', async () => {
  const hidden = await makeChannel({ visibility: 'unlisted' });
  const c = await connect();
  await c.subscribe([hidden]);
  assert.equal(c.of('error')[0].code, 'channel_not_found');
  assert.equal(c.of('subscribed').length, 0);
  await post(hidden, 'segreto');
  await sleep(200);
  assert.equal(c.events().length, 0);
  c.close();
  // Its follower (joined with an invite) may subscribe with the follower token.
  const inv = await call('POST', `/api/v1/channels/${hidden}/invites`, { as: w.tok.channel_owner, body: {} });
  const f = (await call('POST', '/api/v1/followers')).data.token;
  assert.ok([200, 204].includes((await call('PUT', `/api/v1/channels/${hidden}/follow`, { as: f, body: { invite: inv.data.code } })).status));
  const d = await connect('', { token: f });
  await d.subscribe([hidden]);
  assert.equal(d.of('subscribed').length, 1);
  const id = await post(hidden, 'per i follower');
  await waitFor(() => d.events().some((e) => e.data.id === id), 'event for the follower');
  d.close();
  // ?channels= subscribes at the upgrade; an unlisted channel there is a 404 before upgrading.
  await assert.rejects(connect(`?channels=${hidden}`), /HTTP 404/);
  const e = await connect(`?channels=${w.main}`);
  const id2 = await post(w.main, 'subito');
  await waitFor(() => e.events().some((x) => x.data.id === id2), 'event via ?channels=');
  e.close();
});

test('?channels= says `subscribed` with its starting seq, before any event; with since, the replay comes first', async () => {
  const h = await makeChannel();
  const first = await post(h, 'prima');
  const e = await connect(`?channels=${h},${w.main}`);
  await waitFor(() => e.of('subscribed').length === 2, 'subscribed for each channel of ?channels=');
  const start = e.of('subscribed').find((m) => m.channel === h);
  assert.ok(start.seq >= 1);
  // Then the civil-protection status of the channels' org (issue 13), not numbered: it is read
  // from the store after the subscriptions, so wait for it (on PostgreSQL it comes later).
  await waitFor(() => e.msgs.some((m) => m.type === 'alerts.current'), 'alerts.current');
  assert.deepEqual(e.msgs.map((m) => m.type), ['subscribed', 'subscribed', 'alerts.current'], 'nothing before the subscribed messages');
  const id = await post(h, 'dopo');
  await waitFor(() => e.events().length === 1, 'live event');
  assert.equal(e.events()[0].data.id, id);
  assert.equal(e.events()[0].seq, start.seq + 1, 'the first live event follows the starting seq');
  e.close();
  // The order docs/API.md shows: replayed events, then `subscribed` with the seq after them.
  const d = await connect();
  await d.subscribe([h], { [h]: start.seq - 1 });
  assert.deepEqual(d.msgs.map((m) => m.type), ['event', 'event', 'subscribed', 'alerts.current']);
  assert.deepEqual(d.msgs.slice(0, 2).map((m) => m.data.id), [first, id]);
  assert.equal(d.msgs[2].seq, start.seq + 1);
  d.close();
});

test('the handshake: a plain GET gets 426, a bad version 426 naming 13, a bad key 400', async () => {
  let r = await call('GET', '/api/v1/ws');
  assert.equal(r.status, 426);
  assert.equal(r.data.error.code, 'upgrade_required');
  const raw = async (extra) => {
    const s = net.connect(srv.port, '127.0.0.1');
    await new Promise((res) => s.on('connect', res));
    s.write(`GET /api/v1/ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra}\r\n`);
    let text = '';
    s.on('data', (d) => { text += d.toString('latin1'); });
    await new Promise((res) => s.on('close', res));
    return text;
  };
  let t = await raw('Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n');
  assert.match(t, /^HTTP\/1\.1 426 Upgrade Required\r\n/); // issue 9: it said "Unknown"
  assert.match(t, /Sec-WebSocket-Version: 13\r\n/);
  t = await raw('Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n');
  assert.match(t, /^HTTP\/1\.1 400 Bad Request\r\n/);
});

test('graceful shutdown closes WebSockets with 1001', async () => {
  const c = await connect();
  await c.subscribe([w.main]);
  const stopped = srv.stop();
  await waitFor(() => c.closed, 'close on shutdown', 5000);
  assert.equal(c.closed.code, 1001);
  assert.equal((await stopped).code, 0);
  srv = await startServer({ data: w.srv.data });
});
