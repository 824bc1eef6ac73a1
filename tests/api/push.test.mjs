// SPDX-License-Identifier: AGPL-3.0-or-later
// Web Push end to end (issue 12): the real server sends to a mock push service on 127.0.0.1
// (lib/pushsvc.mjs) that decrypts every message with the npm http_ece library and verifies its
// VAPID JWT with jose. Delivery, payload, who gets what, retries and give-ups, a silent push
// service, campaign progress, and who may call each endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushWorld, CONTACT } from './lib/pushworld.mjs';
import { api, cli, startServer, sleep, tempDir } from './lib/server.mjs';
import { startPushService } from './lib/pushsvc.mjs';

let w;
before(async () => { w = await pushWorld(); });
after(async () => { await w?.close(); });

const tagsOf = (sub) => w.ps.subs.get(sub.id).got.map((m) => JSON.parse(m.text).tag);

test('the VAPID public key is served; the key pair lives in the database, its private half nowhere else', async () => {
  const r = await w.call('GET', '/api/v1/push/key');
  assert.equal(r.status, 200);
  assert.match(r.data.public_key, /^B[A-Za-z0-9_-]{86}$/);
  // Issue 16: one key for every node sharing the database, so no key file in the data directory.
  assert.equal(existsSync(join(w.srv.data, 'vapid.pem')), false);
  // `araldo vapid-keys` reads the same key from the database and prints only its public half.
  const k = cli(['vapid-keys'], { data: w.srv.data });
  assert.equal(k.status, 0, k.stderr);
  assert.equal(k.stdout.trim(), r.data.public_key);
  assert.doesNotMatch(k.stdout + k.stderr + w.srv.stderr, /PRIVATE KEY/);
});

test("an older server's vapid.pem is moved into the database on first start: its subscriptions still work", async () => {
  const data = tempDir('araldo-push-import-');
  const pem = join(data, 'vapid.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', pem]);
  chmodSync(pem, 0o600);
  const der = execFileSync('openssl', ['pkey', '-in', pem, '-pubout', '-outform', 'DER']);
  const expected = der.subarray(der.length - 65).toString('base64url');
  const srv = await startServer({ data, sets: w.sets });
  try {
    const r = await api(srv.url, 'GET', '/api/v1/push/key');
    assert.equal(r.data.public_key, expected);
    assert.match(srv.stderr, /moved the VAPID key/);
    assert.doesNotMatch(srv.stderr, /PRIVATE KEY/);
  } finally {
    await srv.stop();
  }
  // The file is left where it was, and read no more: the database's key wins from now on.
  writeFileSync(pem, execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']), { mode: 0o600 });
  const k = cli(['vapid-keys'], { data });
  assert.equal(k.status, 0, k.stderr);
  assert.equal(k.stdout.trim(), expected);
  assert.match(k.stderr, /not the database's key/);
  rmSync(data, { recursive: true, force: true });
});

test('an important post reaches every subscriber exactly once, payload byte for byte', async () => {
  const h = await w.channel();
  const subs = [];
  for (let i = 0; i < 6; i++) subs.push(await w.subscriber(h));
  // A follower with two browsers gets it on both.
  const second = w.ps.subscribe();
  await w.ok(201, 'POST', '/api/v1/push/subscriptions', { as: subs[0].token, body: second.json });
  const text = 'Allerta meteo arancione: città 🌧️ chiusa\nDettagli nel comunicato';
  const id = await w.post(h, text);
  const p = await w.finished(id);
  assert.deepEqual({ total: p.total, sent: p.sent, failed: p.failed }, { total: 7, sent: 7, failed: 0 });
  const expected = Buffer.from(JSON.stringify({
    kind: 'post', channel: h, channel_name: `Protezione civile ${h.split('-')[1]} città`,
    title: 'Allerta meteo arancione: città 🌧️ chiusa', url: `/#/c/${h}?post=${id}`, post: id, tag: `post-${id}`,
  }));
  for (const s of [...subs.map((x) => x.sub), second]) {
    const got = w.ps.subs.get(s.id).got;
    assert.equal(got.length, 1, `subscription ${s.id} got ${got.length}`);
    assert.ok(got[0].payload.equals(expected), `payload: ${got[0].text}`);
    const hd = got[0].headers;
    assert.equal(hd.urgency, 'high');
    assert.equal(hd.topic, `post-${id}`);
    assert.ok(Number(hd.ttl) > 43000 && Number(hd.ttl) <= 43200, `TTL ${hd.ttl}`);
    assert.equal(got[0].claims.aud, w.ps.origin);
    assert.equal(got[0].claims.sub, CONTACT);
    assert.ok(got[0].claims.exp <= Date.now() / 1000 + 24 * 3600, 'exp within 24 h');
    assert.equal(got[0].jwtHeader.alg, 'ES256');
    // Padded: the ciphertext does not give the payload's length away to the byte.
    assert.equal((got[0].bodyLength - 86 - 16) % 64, 0);
  }
  assert.deepEqual(w.ps.errors, []);
});

test('normal and silent posts push nothing; muted and opted-out followers get nothing', async () => {
  const h = await w.channel();
  const plain = await w.subscriber(h);
  const muted = await w.subscriber(h);
  const optedOut = await w.subscriber(h);
  const optedBackIn = await w.subscriber(h);
  await w.ok(204, 'PUT', `/api/v1/channels/${h}/mute`, { as: muted.token });
  await w.ok(204, 'DELETE', `/api/v1/channels/${h}/push`, { as: optedOut.token });
  await w.ok(204, 'DELETE', `/api/v1/channels/${h}/push`, { as: optedBackIn.token });
  await w.ok(204, 'PUT', `/api/v1/channels/${h}/push`, { as: optedBackIn.token });
  assert.deepEqual(await w.ok(200, 'GET', `/api/v1/channels/${h}/push`, { as: muted.token }), { push: true, muted: true, effective: false });
  assert.deepEqual(await w.ok(200, 'GET', `/api/v1/channels/${h}/push`, { as: optedOut.token }), { push: false, muted: false, effective: false });
  const mine = (await w.ok(200, 'GET', '/api/v1/me/channels', { as: optedOut.token })).channels;
  assert.deepEqual(mine.map((c) => [c.handle, c.push, c.muted]), [[h, false, false]]);
  const normal = await w.post(h, 'Orari uffici', 'normal');
  const silent = await w.post(h, 'Correzione refuso', 'silent');
  const important = await w.post(h, 'Chiusura scuole');
  await w.finished(important);
  assert.deepEqual(tagsOf(plain.sub), [`post-${important}`]);
  assert.deepEqual(tagsOf(optedBackIn.sub), [`post-${important}`]);
  assert.deepEqual(tagsOf(muted.sub), []);
  assert.deepEqual(tagsOf(optedOut.sub), []);
  for (const id of [normal, silent]) assert.equal((await w.progress(id)).pushed, false);
});

test('a scheduled important post pushes when the scheduler publishes it', async () => {
  const h = await w.channel();
  const s = await w.subscriber(h);
  const at = new Date(Date.now() + 1500).toISOString();
  const id = await w.post(h, 'Esercitazione alle 10', 'important', { publish_at: at });
  assert.equal((await w.progress(id)).pushed, false);
  await w.finished(id, 10000);
  assert.deepEqual(tagsOf(s.sub), [`post-${id}`]);
});

test('an edit within 15 minutes sends the new text with the same Topic and tag', async () => {
  const h = await w.channel();
  const s = await w.subscriber(h);
  const id = await w.post(h, 'Strada chiusa via Roma');
  await w.finished(id);
  await w.ok(200, 'PATCH', `/api/v1/posts/${id}`, { as: w.op, body: { text: 'Strada chiusa via Roma e via Milano' } });
  await w.ps.waitFor(() => w.ps.subs.get(s.sub.id).got.length === 2, 'the edited notification');
  const [a, b] = w.ps.subs.get(s.sub.id).got;
  assert.equal(b.headers.topic, a.headers.topic);
  assert.equal(JSON.parse(b.text).tag, JSON.parse(a.text).tag);
  assert.equal(JSON.parse(b.text).title, 'Strada chiusa via Roma e via Milano');
  // No longer important: nothing more is sent.
  await w.ok(200, 'PATCH', `/api/v1/posts/${id}`, { as: w.op, body: { importance: 'normal' } });
  assert.equal((await w.progress(id)).pushed, false);
});

test('a deleted post drops its pending deliveries', async () => {
  const h = await w.channel();
  const s = await w.subscriber(h, '429', { retryAfter: 2 });
  const id = await w.post(h, 'Evacuazione zona rossa');
  const sub = w.ps.subs.get(s.sub.id);
  const t0 = Date.now();
  while (sub.attempts.length < 1) { assert.ok(Date.now() - t0 < 5000, 'first attempt'); await sleep(20); }
  await sleep(200); // the 429 is recorded: the delivery waits for its Retry-After
  await w.ok(204, 'DELETE', `/api/v1/posts/${id}`, { as: w.op });
  await sleep(2800);
  assert.equal(sub.attempts.length, 1, 'no attempt after the post was deleted');
  assert.equal((await w.call('GET', `/api/v1/posts/${id}/push`, { as: w.op })).status, 404);
});

test('opting out, muting or unfollowing during a campaign drops what is still pending', async () => {
  const h = await w.channel();
  const out = await w.subscriber(h, '429', { retryAfter: 2 });
  const mute = await w.subscriber(h, '429', { retryAfter: 2 });
  const gone = await w.subscriber(h, '429', { retryAfter: 2 });
  const stays = await w.subscriber(h, '429', { retryAfter: 2 });
  const id = await w.post(h, 'Allagamento sottopasso');
  const all = [out, mute, gone, stays].map((x) => w.ps.subs.get(x.sub.id));
  const t0 = Date.now();
  while (!all.every((s) => s.attempts.length === 1)) { assert.ok(Date.now() - t0 < 5000, 'first attempts'); await sleep(20); }
  await sleep(200); // the 429s are recorded: the deliveries wait for their Retry-After
  await w.ok(204, 'DELETE', `/api/v1/channels/${h}/push`, { as: out.token });
  await w.ok(204, 'PUT', `/api/v1/channels/${h}/mute`, { as: mute.token });
  await w.ok(204, 'DELETE', `/api/v1/channels/${h}/follow`, { as: gone.token });
  await w.finished(id);
  assert.deepEqual(all.map((s) => s.attempts.length), [1, 1, 1, 2]);
  assert.deepEqual(tagsOf(stays.sub), [`post-${id}`]);
});

test('404 and 410 remove the subscription', async () => {
  const h = await w.channel();
  const gone = await w.subscriber(h, '410');
  const missing = await w.subscriber(h, '404');
  const fine = await w.subscriber(h);
  const id = await w.post(h, 'Primo avviso');
  const p = await w.finished(id);
  assert.deepEqual({ sent: p.sent, failed: p.failed }, { sent: 1, failed: 2 });
  for (const x of [gone, missing]) {
    assert.deepEqual((await w.ok(200, 'GET', '/api/v1/push/subscriptions', { as: x.token })).subscriptions, []);
  }
  const id2 = await w.post(h, 'Secondo avviso');
  await w.finished(id2);
  assert.equal(w.ps.subs.get(gone.sub.id).attempts.length, 1);
  assert.equal(w.ps.subs.get(missing.sub.id).attempts.length, 1);
  assert.deepEqual(tagsOf(fine.sub), [`post-${id}`, `post-${id2}`]);
});

test('429 with Retry-After waits, then succeeds; 500s are retried, then given up', async () => {
  const h = await w.channel();
  const slow = await w.subscriber(h, '429', { retryAfter: 1 });
  const broken = await w.subscriber(h, '500');
  const id = await w.post(h, 'Allerta gialla');
  const p = await w.finished(id);
  assert.deepEqual({ sent: p.sent, failed: p.failed, remaining: p.remaining }, { sent: 1, failed: 1, remaining: 0 });
  const a = w.ps.subs.get(slow.sub.id).attempts;
  assert.equal(a.length, 2);
  assert.ok(a[1] - a[0] >= 900, `Retry-After honoured (${a[1] - a[0]} ms)`);
  assert.equal(tagsOf(slow.sub).length, 1);
  assert.equal(w.ps.subs.get(broken.sub.id).attempts.length, 3, 'push_max_tries attempts');
  // The subscription stays: a 500 says nothing about it.
  assert.equal((await w.ok(200, 'GET', '/api/v1/push/subscriptions', { as: broken.token })).subscriptions.length, 1);
  const m = await w.call('GET', '/metrics', { as: w.op });
  assert.match(m.text, /araldo_push_notifications_total\{outcome="given_up"\} [1-9]/);
  assert.match(m.text, /araldo_push_notifications_total\{outcome="sent"\} [1-9]/);
});

test('a push service that takes the request and never answers does not stall the others', async () => {
  const silent = await startPushService(w.certs);
  try {
    const h = await w.channel();
    const hung = [];
    for (let i = 0; i < 3; i++) {
      const token = await w.follower(h);
      const sub = silent.subscribe('hang');
      await w.ok(201, 'POST', '/api/v1/push/subscriptions', { as: token, body: sub.json });
      hung.push(sub);
    }
    const fine = [];
    for (let i = 0; i < 5; i++) fine.push(await w.subscriber(h));
    const id = await w.post(h, 'Ponte chiuso');
    await w.ps.waitFor(() => fine.every((f) => w.ps.subs.get(f.sub.id).got.length === 1), 'the answering service', 5000);
    let p = await w.progress(id);
    for (let i = 0; i < 100 && p.sent < 5; i++) { await sleep(20); p = await w.progress(id); }
    assert.equal(p.sent, 5);
    assert.ok(p.remaining >= 3, 'the silent service still holds its deliveries');
    // Timeouts are retried, then given up.
    const done = await w.finished(id, 20000);
    assert.deepEqual({ sent: done.sent, failed: done.failed }, { sent: 5, failed: 3 });
  } finally {
    await silent.close();
  }
});

test('campaign progress is for the channel staff only', async () => {
  const h = await w.channel();
  const f = await w.subscriber(h);
  const id = await w.post(h, 'Avviso');
  await w.finished(id);
  const path = `/api/v1/posts/${id}/push`;
  assert.equal((await w.call('GET', path)).status, 401);
  assert.equal((await w.call('GET', path, { as: f.token })).status, 401);
  // Staff of another Comune: a listed channel is visible, so 403; an unlisted one is 404.
  const created = await w.ok(201, 'POST', '/api/v1/orgs/comune-b/staff', { as: w.op, body: { email: 'b@b.it', role: 'staff' } });
  const s = await fetch(`${w.srv.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'b@b.it', password: created.password }) });
  const cookie = (s.headers.get('set-cookie') || '').split(';')[0];
  const { csrf_token: csrf } = await s.json();
  const t = await fetch(`${w.srv.url}/api/v1/tokens`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify({ name: 't' }) });
  const other = (await t.json()).token;
  assert.equal((await w.call('GET', path, { as: other })).status, 403);
  const hidden = await w.channel({ visibility: 'unlisted' });
  const hid = await w.post(hidden, 'Riservato');
  const r = await w.call('GET', `/api/v1/posts/${hid}/push`, { as: other });
  assert.equal(r.status, 404);
  assert.equal(r.data.error.code, 'post_not_found');
  assert.equal((await w.call('GET', '/api/v1/posts/999999/push', { as: w.op })).status, 404);
  const ok = await w.ok(200, 'GET', path, { as: w.op });
  assert.deepEqual({ pushed: ok.pushed, total: ok.total, sent: ok.sent, running: ok.running }, { pushed: true, total: 1, sent: 1, running: false });
});

test('subscription endpoints: who may call them, validation, limits', async () => {
  const h = await w.channel();
  const token = await w.follower(h);
  const sub = w.ps.subscribe();
  const P = '/api/v1/push/subscriptions';
  // Followers only.
  assert.equal((await w.call('POST', P, { body: sub.json })).status, 401);
  assert.equal((await w.call('POST', P, { as: w.op, body: sub.json })).status, 401);
  assert.equal((await w.call('GET', P)).status, 401);
  assert.equal((await w.call('DELETE', P, { body: { endpoint: sub.json.endpoint } })).status, 401);
  // Validation: https only, key lengths, the point on the curve, no stray fields.
  const bad = async (body, field) => {
    const r = await w.call('POST', P, { as: token, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.data.error.field, field);
  };
  await bad({ ...sub.json, endpoint: sub.json.endpoint.replace('https:', 'http:') }, 'endpoint');
  await bad({ ...sub.json, endpoint: 'https://user@127.0.0.1/x' }, 'endpoint');
  await bad({ ...sub.json, keys: { ...sub.json.keys, auth: 'c2hvcnQ' } }, 'keys.auth');
  await bad({ ...sub.json, keys: { ...sub.json.keys, p256dh: sub.json.keys.auth } }, 'keys.p256dh');
  const k = Buffer.from(sub.json.keys.p256dh, 'base64url'); k[64] ^= 1; // off the curve
  await bad({ ...sub.json, keys: { ...sub.json.keys, p256dh: k.toString('base64url') } }, 'keys.p256dh');
  await bad({ ...sub.json, expirationTime: 'tomorrow' }, 'expirationTime');
  assert.equal((await w.call('POST', P, { as: token, body: { ...sub.json, extra: 1 } })).status, 400);
  // Created, then refreshed (same endpoint: 200); listed only to its follower.
  assert.equal((await w.call('POST', P, { as: token, body: sub.json })).status, 201);
  assert.equal((await w.call('POST', P, { as: token, body: sub.json })).status, 200);
  const mine = await w.ok(200, 'GET', P, { as: token });
  assert.deepEqual(mine.subscriptions.map((s) => s.endpoint), [sub.json.endpoint]);
  const stranger = await w.follower();
  assert.deepEqual((await w.ok(200, 'GET', P, { as: stranger })).subscriptions, []);
  assert.equal((await w.call('DELETE', P, { as: stranger, body: { endpoint: sub.json.endpoint } })).status, 404);
  // At most push_subscriptions_per_follower (5).
  for (let i = 0; i < 4; i++) await w.ok(201, 'POST', P, { as: token, body: w.ps.subscribe().json });
  const over = await w.call('POST', P, { as: token, body: w.ps.subscribe().json });
  assert.equal(over.status, 409);
  assert.equal(over.data.error.code, 'too_many_subscriptions');
  await w.ok(204, 'DELETE', P, { as: token, body: { endpoint: sub.json.endpoint } });
  assert.equal((await w.call('DELETE', P, { as: token, body: { endpoint: sub.json.endpoint } })).status, 404);
  // The endpoint is a secret: never in the log.
  assert.ok(!w.srv.stderr.includes(sub.id), 'endpoint in the log');
});

test('per-channel push: followers of the channel only; unlisted channels stay hidden', async () => {
  const listed = await w.channel();
  const unlisted = await w.channel({ visibility: 'unlisted' });
  const token = await w.follower();
  for (const m of ['PUT', 'DELETE', 'GET']) {
    assert.equal((await w.call(m, `/api/v1/channels/${listed}/push`)).status, 401);
    assert.equal((await w.call(m, `/api/v1/channels/${listed}/push`, { as: token })).status, 409);
    const r = await w.call(m, `/api/v1/channels/${unlisted}/push`, { as: token });
    assert.equal(r.status, 404);
    assert.equal(r.data.error.code, 'channel_not_found');
    assert.equal((await w.call(m, '/api/v1/channels/nessuno/push', { as: token })).status, 404);
  }
  await w.ok(204, 'PUT', `/api/v1/channels/${listed}/follow`, { as: token });
  assert.deepEqual(await w.ok(200, 'GET', `/api/v1/channels/${listed}/push`, { as: token }), { push: true, muted: false, effective: true });
});

test('"forget me" deletes the follower\'s subscriptions', async () => {
  const h = await w.channel();
  const a = await w.subscriber(h);
  await w.ok(204, 'DELETE', '/api/v1/me', { as: a.token });
  const b = await w.subscriber(h);
  const id = await w.post(h, 'Dopo la cancellazione');
  await w.finished(id);
  assert.deepEqual(tagsOf(a.sub), []);
  assert.deepEqual(tagsOf(b.sub), [`post-${id}`]);
  // The browser signs up again with a new follower: its endpoint is taken over, not refused.
  const again = await w.follower(h);
  assert.equal((await w.call('POST', '/api/v1/push/subscriptions', { as: again, body: a.sub.json })).status, 201);
});

test('SSRF: endpoints on non-public addresses are refused with 422', async () => {
  // A server without push_allow_hosts: even 127.0.0.1 is refused.
  const srv = await startServer({});
  try {
    const { data: { token } } = await fetch(`${srv.url}/api/v1/followers`, { method: 'POST' }).then(async (r) => ({ data: await r.json() }));
    const keys = w.ps.subscribe().json.keys;
    for (const endpoint of [
      'https://127.0.0.1/push/x', 'https://169.254.169.254/latest/meta-data', 'https://10.0.0.1/x',
      'https://[::1]/x', 'https://localhost:8443/x', 'https://100.64.0.1/x', 'https://[::ffff:127.0.0.1]/x',
      'https://[fd00:ec2::254]/x', 'https://224.0.0.1/x', 'https://0.0.0.0/x',
    ]) {
      const r = await fetch(`${srv.url}/api/v1/push/subscriptions`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ endpoint, expirationTime: null, keys }),
      });
      const body = await r.json();
      assert.equal(r.status, 422, endpoint);
      assert.equal(body.error.code, 'endpoint_not_allowed', endpoint);
    }
  } finally {
    await srv.stop();
    srv.cleanup();
  }
  // With the allow-list, only the listed host passes: not another loopback name.
  const token = await w.follower();
  const r = await w.call('POST', '/api/v1/push/subscriptions', { as: token, body: { ...w.ps.subscribe().json, endpoint: `https://localhost:${w.ps.port}/push/x` } });
  assert.equal(r.status, 422);
});

test('a live node renews the lease of a slow delivery: it is not sent a second time when the first lease ends', async () => {
  // The push service takes 4.5 s to answer; the lease is 3 s, renewed every second while the
  // request is in flight (issue 16: short leases so that a dead node's work is taken over soon).
  const slow = await pushWorld({ delayMs: 4500, sets: { push_lease_s: 3, push_timeout_ms: 10000 } });
  try {
    const h = await slow.channel();
    const { sub } = await slow.subscriber(h);
    await slow.post(h, 'Allerta gialla: temporali');
    await slow.ps.waitFor(() => slow.ps.subs.get(sub.id).got.length > 0, 'the notification', 15000);
    await sleep(2000); // a second claim after the first lease's end would have started by now
    assert.equal(slow.ps.subs.get(sub.id).attempts.length, 1);
    assert.equal(slow.ps.subs.get(sub.id).got.length, 1);
  } finally {
    await slow.close();
  }
});
