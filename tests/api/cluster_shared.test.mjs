// SPDX-License-Identifier: AGPL-3.0-or-later
// Three nodes on one PostgreSQL (issue 16, points 3-5): background work happens once per cluster
// (a scheduled post is published once, also after its lease holder is killed with kill -9; the
// counts of reactions sent through every node make at most one "counts" event per post per
// second for the whole cluster), and what nodes must agree on is shared (sign-in failures,
// sessions, media files in media_dir). Skips without PostgreSQL; the media_dir test of one node
// runs on either engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SKIP_REASON, startCluster, stopClusterPostgres } from './lib/cluster.mjs';
import { api, operatorToken, sleep, startServer, tempDir } from './lib/server.mjs';
import { png } from '../fixtures/media/gen.mjs';

const LEASE_S = 3;
let c = null;
let op = null;
let mediaDir = null;
let n = 0;

before(async () => {
  mediaDir = tempDir('araldo-shared-media-');
  c = await startCluster({
    n: 3,
    tag: 'shared',
    sets: { cluster_lease_s: LEASE_S, media_dir: mediaDir, push_allow_hosts: '127.0.0.1', push_max_tries: 1 },
  });
  if (!c) return;
  op = c.token();
  const r = await api(c.nodes[0].url, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'comune-a', name: 'Comune di A' } });
  assert.equal(r.status, 201, r.text);
});

after(async () => {
  // DUMP=1 prints the nodes' logs (which node took which lease, store errors).
  if (process.env.DUMP) for (const x of c?.nodes || []) console.log(x.stderr);
  await c?.stop();
  stopClusterPostgres();
  if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
});

const node = (i) => c.nodes[i % c.nodes.length].url;
const call = (i, method, path, opts) => api(node(i), method, path, opts);
async function ok(status, i, method, path, opts) {
  const r = await call(i, method, path, opts);
  assert.equal(r.status, status, `${method} ${path} on node ${i}: ${r.text}`);
  return r.data;
}

function sql(q) {
  const r = spawnSync('psql', [c.databaseUrl, '-qAtc', q], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

async function channel() {
  const handle = `canale-${++n}`;
  await ok(201, 0, 'POST', '/api/v1/channels', {
    as: op, body: { org: 'comune-a', handle, name: `Canale ${n}`, category: 'civil_protection', language: 'it' },
  });
  return handle;
}

async function follower(i, handle) {
  const { token } = await ok(201, i, 'POST', '/api/v1/followers');
  await ok(204, i, 'PUT', `/api/v1/channels/${handle}/follow`, { as: token });
  return token;
}

// A browser subscription to a push service that is never reached (port 9): enough for the
// campaign to be made when the important post goes out.
async function subscribe(i, handle) {
  const token = await follower(i, handle);
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  await ok(201, i, 'POST', '/api/v1/push/subscriptions', {
    as: token,
    body: {
      endpoint: `https://127.0.0.1:9/push/${randomBytes(6).toString('hex')}`,
      expirationTime: null,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    },
  });
}

async function until(pred, what, ms) {
  const t0 = Date.now();
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// Schedule an important post 1.5 s ahead through node `i`, wait until every node serves it,
// and return its id and channel id.
async function scheduled(i, handle, text) {
  const at = new Date(Date.now() + 1500).toISOString();
  const p = await ok(201, i, 'POST', `/api/v1/channels/${handle}/posts`, {
    as: op, body: { text, importance: 'important', publish_at: at },
  });
  await until(async () => (await call(i + 1, 'GET', `/api/v1/posts/${p.id}`)).status === 200,
    `post ${p.id} published`, (LEASE_S + 10) * 1000);
  await sleep(2500); // room for a second, wrong publication to show up
  return p.id;
}

function publishedOnce(postId) {
  // Every publication writes a "post.created" event carrying the post; one publication, one event.
  const events = sql(`SELECT count(*) FROM events WHERE kind = 'post.created' AND payload LIKE '%"id":"${postId}"%'`);
  assert.equal(events, '1', `post ${postId}: one "post" event`);
  assert.equal(sql(`SELECT count(*) FROM push_campaigns WHERE post_id = ${postId}`), '1', 'one push campaign');
  assert.equal(sql(`SELECT total FROM push_campaigns WHERE post_id = ${postId}`), '1', 'queued once for its one subscription');
}

// The node (index) whose data_dir/node-id holds the lease `name`.
function holder(name) {
  const owner = sql(`SELECT owner FROM leases WHERE name = '${name}'`);
  const i = c.dirs.findIndex((d) => existsSync(join(d, 'node-id')) && readFileSync(join(d, 'node-id'), 'utf8').trim() === owner);
  assert.ok(i >= 0, `lease ${name} is held by one of the nodes (${owner})`);
  return i;
}

test('a scheduled post is published once by three nodes, and once again after the lease holder is killed', async (t) => {
  if (!c) return t.skip(SKIP_REASON);
  const handle = await channel();
  await subscribe(1, handle);
  const first = await scheduled(0, handle, 'Allerta gialla: pubblicata una volta');
  publishedOnce(first);
  const dead = holder('jobs');
  await c.nodes[dead].kill(); // kill -9: it cannot give the lease up
  const alive = (dead + 1) % 3;
  const second = await scheduled(alive, handle, 'Allerta arancione: dopo la caduta di un nodo');
  publishedOnce(second);
  assert.notEqual(holder('jobs'), dead, 'another node took the jobs over');
  await c.start(dead);
});

test('reactions through three nodes make at most one counts event per post per second for the cluster', async (t) => {
  if (!c) return t.skip(SKIP_REASON);
  const handle = await channel();
  const post = (await ok(201, 0, 'POST', `/api/v1/channels/${handle}/posts`, { as: op, body: { text: 'Reagite' } })).id;
  const fs = [];
  for (let i = 0; i < 12; i++) fs.push(await follower(i, handle));
  const emoji = ['👍', '❤️', '😢'];
  const t0 = Date.now();
  // Four rounds over about four seconds; each round every follower reacts through its own node.
  for (let round = 0; round < 4; round++) {
    await Promise.all(fs.map((tok, i) => ok(204, i + round, 'PUT', `/api/v1/posts/${post}/reaction`, {
      as: tok, body: { emoji: emoji[(i + round) % 3] },
    })));
    await sleep(1000);
  }
  // The post as a reader sees it: read again each time (a page may be cached up to a second).
  const last = async () => {
    const want = (await ok(200, 2, 'GET', `/api/v1/posts/${post}`)).reactions;
    const row = sql(`SELECT payload FROM events WHERE kind = 'counts' AND payload LIKE '%"post":"${post}"%' ORDER BY created_ms DESC, seq DESC LIMIT 1`);
    return row && JSON.stringify(JSON.parse(row).reactions) === JSON.stringify(want);
  };
  await until(last, 'the last counts event with the final counts', 10000);
  const span = Date.now() - t0;
  const times = sql(`SELECT created_ms FROM events WHERE kind = 'counts' AND payload LIKE '%"post":"${post}"%' ORDER BY created_ms`)
    .split('\n').map(Number);
  // Each node coalescing on its own would write up to three a second (one per node).
  assert.ok(times.length >= 1);
  assert.ok(times.length <= Math.floor(span / 1000) + 1, `${times.length} counts events in ${span} ms`);
  for (let i = 1; i < times.length; i++)
    assert.ok(times[i] - times[i - 1] >= 900, `counts events ${times[i] - times[i - 1]} ms apart`);
  assert.equal(sql(`SELECT count(*) FROM counts_dirty WHERE post_id = ${post}`), '0', 'no mark left behind');
});

test('sign-in: wrong passwords spread over the nodes reach the account limit; a session made on A works on B', async (t) => {
  if (!c) return t.skip(SKIP_REASON);
  const made = await ok(201, 0, 'POST', '/api/v1/orgs/comune-a/staff', { as: op, body: { email: 'ana@a.it', role: 'staff' } });
  const login = (i, password) => fetch(`${node(i)}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ana@a.it', password }),
  });
  const good = await login(0, made.password);
  assert.equal(good.status, 200);
  const cookie = (good.headers.get('set-cookie') || '').split(';')[0];
  const { csrf_token: csrf } = await good.json();
  // The session made through node 0 is known to nodes 1 and 2, and ends everywhere.
  for (const i of [1, 2]) assert.equal((await fetch(`${node(i)}/api/v1/session`, { headers: { cookie } })).status, 200, `node ${i}`);
  // Five failures (the per-account limit), spread over the three nodes: at most two on any.
  for (let i = 0; i < 5; i++) assert.equal((await login(i, `wrong-password-${i}`)).status, 401);
  for (const i of [0, 1, 2]) {
    const r = await login(i, made.password);
    assert.equal(r.status, 429, `node ${i} refuses even the right password`);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  }
  const out = await fetch(`${node(2)}/api/v1/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(out.status, 204);
  assert.equal((await fetch(`${node(0)}/api/v1/session`, { headers: { cookie } })).status, 401, 'signed out on node 0 too');
});

test('a photo uploaded through node A is served by nodes B and C (media_dir shared)', async (t) => {
  if (!c) return t.skip(SKIP_REASON);
  const fd = new FormData();
  fd.append('file', new Blob([png(640, 480)], { type: 'image/png' }), 'foto.png');
  const r = await fetch(`${node(0)}/api/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${op}` }, body: fd });
  assert.equal(r.status, 201);
  const m = await r.json();
  const a = Buffer.from(await (await fetch(`${node(0)}${m.small_url}`, { headers: { accept: 'image/jpeg' } })).arrayBuffer());
  for (const i of [1, 2]) {
    const b = await fetch(`${node(i)}${m.small_url}`, { headers: { accept: 'image/jpeg' } });
    assert.equal(b.status, 200, `node ${i}`);
    assert.ok(Buffer.from(await b.arrayBuffer()).equals(a), `node ${i} serves the same bytes`);
  }
});

test('media_dir: uploads go there instead of data_dir/media (either engine)', async () => {
  const dir = tempDir('araldo-media-dir-');
  const srv = await startServer({ sets: { media_dir: join(dir, 'm') } });
  try {
    const tok = operatorToken(srv.data);
    const fd = new FormData();
    fd.append('file', new Blob([png(320, 200)], { type: 'image/png' }), 'foto.png');
    const r = await fetch(`${srv.url}/api/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${tok}` }, body: fd });
    assert.equal(r.status, 201);
    const m = await r.json();
    assert.equal((await fetch(`${srv.url}${m.small_url}`)).status, 200);
    const files = readdirSync(join(dir, 'm'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    assert.ok(files.length >= 1, 'the files are under media_dir');
    assert.ok(!existsSync(join(srv.data, 'media')) ||
      readdirSync(join(srv.data, 'media'), { recursive: true, withFileTypes: true }).every((d) => !d.isFile()), 'and not under data_dir/media');
  } finally {
    await srv.stop();
    srv.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
