// SPDX-License-Identifier: AGPL-3.0-or-later
// Three araldo nodes on one PostgreSQL (issue 16), as behind a load balancer: a post published
// through one node reaches the followers on every node, once each and in order (LISTEN/NOTIFY,
// store/listen.c); a node killed with kill -9 under 1,000 followers loses none of their events
// (they resume on another node with Last-Event-ID); PostgreSQL restarted during traffic makes
// the nodes unready, then they recover by themselves and deliver what was published meanwhile.
// Skips, saying why, where PostgreSQL is not installed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { api, sleep, waitFor } from './lib/server.mjs';
import { SKIP_REASON, startCluster, stopClusterPostgres } from './lib/cluster.mjs';
import { startPostgres } from './lib/postgres.mjs';

after(() => stopClusterPostgres());

// Each node a few loops and enough connections for the test's followers from 127.0.0.1.
const SETS = { max_connections_per_ip: 5000, follower_signups_per_ip: 5000 };

async function setup(c, handle) {
  return setupOn(c, c.nodes[1], handle);
}

// The org `org-<handle>` (made through node 0) and its listed channel `handle` (through `node`).
async function setupOn(c, node, handle) {
  const op = c.token();
  const org = await api(c.nodes[0].url, 'POST', '/api/v1/orgs', { as: op, body: { slug: `org-${handle}`, name: `Comune ${handle}` } });
  assert.equal(org.status, 201, org.text);
  const ch = await api(node.url, 'POST', '/api/v1/channels', {
    as: op,
    body: { org: `org-${handle}`, handle, name: `Canale ${handle}`, category: 'news', language: 'it', visibility: 'listed' },
  });
  assert.equal(ch.status, 201, ch.text);
  return op;
}

async function post(node, op, handle, text) {
  const r = await api(node.url, 'POST', `/api/v1/channels/${handle}/posts`, { as: op, body: { text } });
  assert.equal(r.status, 201, r.text);
  return r.data.id;
}

// A minimal SSE reader on one node: records each event's (type, id, data); `end` resolves when
// the connection ends (the node died, or close()).
function sse(url, path, { token, lastEventId } = {}) {
  const s = { events: [], lastId: lastEventId || '', ended: false, opened: false };
  const headers = { accept: 'text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (lastEventId) headers['last-event-id'] = lastEventId;
  s.end = new Promise((res) => {
    s.req = http.get(`${url}${path}`, { headers, agent: false }, (r) => {
      s.status = r.statusCode;
      s.opened = true;
      let buf = '';
      r.setEncoding('utf8');
      r.on('data', (d) => {
        buf += d;
        if (s.status !== 200) s.body = (s.body || '') + d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = { type: 'message', id: null, data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('event: ')) ev.type = line.slice(7);
            else if (line.startsWith('data: ')) ev.data += line.slice(6);
          }
          if (ev.id !== null) s.lastId = ev.id;
          if (ev.data) s.events.push(ev);
        }
      });
      r.on('end', () => { s.ended = true; res(); });
      r.on('error', () => { s.ended = true; res(); });
    });
    s.req.on('error', () => { s.ended = true; res(); });
  });
  s.close = () => s.req.destroy();
  s.posts = () => s.events.filter((e) => e.type === 'post.created');
  return s;
}

function ws(url, query) {
  const c = { events: [], open: false };
  c.sock = new WebSocket(`${url.replace('http', 'ws')}/api/v1/ws${query}`);
  c.sock.on('open', () => { c.open = true; });
  c.sock.on('message', (m) => {
    const msg = JSON.parse(m.toString());
    if (msg.type === 'event') c.events.push(msg);
  });
  c.ready = () => waitFor(() => c.open, 'websocket open', 5000);
  c.posts = () => c.events.filter((e) => e.event === 'post.created');
  c.close = () => c.sock.close();
  return c;
}

const seqOf = (id) => Number(id.split(':')[1]);

test('a post through node A reaches SSE and WebSocket followers on B and C once each, in order', async (t) => {
  const c = await startCluster({ n: 3, sets: SETS });
  if (!c) return t.skip(SKIP_REASON);
  try {
    const h = 'cluster-news';
    const op = await setup(c, h);
    const streams = c.nodes.map((n) => sse(n.url, `/api/v1/stream?channels=${h}`));
    const sockets = c.nodes.map((n) => ws(n.url, `?channels=${h}`));
    await waitFor(() => streams.every((s) => s.opened), 'every SSE stream open', 5000);
    await Promise.all(sockets.map((s) => s.ready()));
    // Posts through every node in turn, some at once: the cluster's commit order is the order.
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await post(c.nodes[i % 3], op, h, `Avviso ${i}`));
    ids.push(...await Promise.all([0, 1, 2].map((i) => post(c.nodes[i], op, h, `Insieme ${i}`))));
    for (const [i, s] of streams.entries()) {
      await waitFor(() => s.posts().length >= ids.length, `every post on node ${i}'s SSE stream`, 5000);
    }
    for (const [i, s] of sockets.entries()) {
      await waitFor(() => s.posts().length >= ids.length, `every post on node ${i}'s WebSocket`, 5000);
    }
    await sleep(300); // nothing more may come (no duplicates arriving late)
    const want = [...ids].sort((a, b) => a - b);
    for (const s of streams) {
      const got = s.posts().map((e) => JSON.parse(e.data).id);
      assert.equal(got.length, ids.length, 'each post exactly once');
      assert.deepEqual([...got].sort((a, b) => a - b), want);
      const seqs = s.posts().map((e) => seqOf(e.id));
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
      assert.equal(new Set(seqs).size, seqs.length);
    }
    // Every node delivered in the same order, the same seqs.
    const order = streams[0].posts().map((e) => e.id);
    for (const s of streams) assert.deepEqual(s.posts().map((e) => e.id), order);
    for (const s of sockets) assert.deepEqual(s.posts().map((e) => `${e.channel}:${e.seq}`), order);
    // Seqs are gap-free across nodes: 1..n for the channel's events.
    const all = streams[0].events.filter((e) => e.id).map((e) => seqOf(e.id));
    assert.deepEqual(all, all.map((_, i) => all[0] + i));
    // A commit whose notification never came (written here behind araldo's back, with no
    // NOTIFY): the next post's seq skips ahead, and every node reads the missed event from the
    // events table before it, in order.
    const sql = `BEGIN; UPDATE channels SET last_seq = last_seq + 1 WHERE handle = '${h}';`
      + ` INSERT INTO events (channel_id, seq, kind, payload, created_ms) SELECT id, last_seq,`
      + ` 'channel.updated', '{"silent":true}', 0 FROM channels WHERE handle = '${h}'; COMMIT;`;
    const q = spawnSync('psql', [c.databaseUrl, '-qc', sql], { encoding: 'utf8' });
    assert.equal(q.status, 0, q.stderr);
    ids.push(await post(c.nodes[2], op, h, 'dopo il silenzio'));
    for (const [i, s] of streams.entries()) {
      await waitFor(() => s.posts().length === ids.length, `node ${i}: the post after the gap`, 5000);
      const tail = s.events.slice(-2);
      assert.deepEqual(tail.map((e) => e.type), ['channel.updated', 'post.created']);
      assert.equal(seqOf(tail[1].id), seqOf(tail[0].id) + 1);
    }
    // A follower whose stream of its follows is on node C follows a second channel through
    // node A (a load balancer spreads one app's requests): the stream takes it up at once.
    const more = await api(c.nodes[0].url, 'POST', '/api/v1/channels', {
      as: op,
      body: { org: `org-${h}`, handle: 'cluster-more', name: 'Altro canale', category: 'news', language: 'it', visibility: 'listed' },
    });
    assert.equal(more.status, 201, more.text);
    const f = await api(c.nodes[1].url, 'POST', '/api/v1/followers');
    assert.equal(f.status, 201, f.text);
    assert.equal((await api(c.nodes[0].url, 'PUT', `/api/v1/channels/${h}/follow`, { as: f.data.token })).status, 204);
    const mine = sse(c.nodes[2].url, '/api/v1/stream', { token: f.data.token });
    await waitFor(() => mine.opened, 'the follower\'s stream open', 5000);
    assert.equal(mine.status, 200, mine.body);
    assert.equal((await api(c.nodes[0].url, 'PUT', '/api/v1/channels/cluster-more/follow', { as: f.data.token })).status, 204);
    await waitFor(() => /cluster-more:/.test(mine.lastId), 'the stream\'s cursor naming the new channel', 5000);
    const pid = await post(c.nodes[1], op, 'cluster-more', 'per chi segue da poco');
    await waitFor(() => mine.posts().some((e) => JSON.parse(e.data).id === pid), 'the followed channel\'s next post', 5000);
    // "Forget me" through node B ends that stream on node C.
    assert.equal((await api(c.nodes[1].url, 'DELETE', '/api/v1/me', { as: f.data.token })).status, 204);
    await Promise.race([mine.end, sleep(5000)]);
    assert.ok(mine.ended, 'the forgotten follower\'s stream ended');
    // Each node says it listens, how far behind it was, and what it had to backfill.
    for (const n of c.nodes) {
      const m = (await api(n.url, 'GET', '/metrics', { as: op })).text;
      assert.match(m, /^araldo_store_listening 1$/m);
      assert.match(m, /^araldo_store_listen_lag_seconds_count [1-9]/m);
      assert.match(m, /^araldo_store_listen_backfilled_total 1$/m);
    }
    streams.forEach((s) => s.close());
    sockets.forEach((s) => s.close());
  } finally {
    await c.stop();
  }
});

test('kill -9 of a node under 1,000 followers: they resume on another node, nothing missed or twice', async (t) => {
  const c = await startCluster({ n: 3, sets: SETS });
  if (!c) return t.skip(SKIP_REASON);
  try {
    const h = 'cluster-flood';
    const op = await setup(c, h);
    const [A, B, C] = c.nodes;
    // 1,000 followers (no account: a follower token each), all connected to node B.
    const tokens = [];
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, async () => {
        const f = await api(A.url, 'POST', '/api/v1/followers');
        assert.equal(f.status, 201, f.text);
        const r = await api(C.url, 'PUT', `/api/v1/channels/${h}/follow`, { as: f.data.token });
        assert.equal(r.status, 204, r.text);
        return f.data.token;
      }));
      tokens.push(...batch);
    }
    const first = tokens.map((tok) => sse(B.url, `/api/v1/stream?channels=${h}`, { token: tok }));
    await waitFor(() => first.every((s) => s.opened), '1,000 streams open on node B', 20000);
    // Posts keep coming through node A; B dies in the middle of them.
    const ids = [];
    let stop = false;
    const publisher = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        ids.push(await post(A, op, h, `Allerta ${i}`));
        await sleep(5);
      }
    })();
    await waitFor(() => ids.length >= 10, 'the first posts', 10000);
    await waitFor(() => first.every((s) => s.posts().length >= 5), 'the first posts on node B', 10000);
    await B.kill();
    await Promise.all(first.map((s) => s.end));
    // Each follower reconnects to node C with the last id it received (as EventSource does).
    const second = first.map((s, i) => sse(C.url, `/api/v1/stream?channels=${h}`, { token: tokens[i], lastEventId: s.lastId }));
    await waitFor(() => second.every((s) => s.opened), '1,000 streams open on node C', 20000);
    await sleep(300);
    stop = true;
    await publisher;
    const want = [...ids].sort((a, b) => a - b);
    const missing = [];
    for (let i = 0; i < first.length; i++) {
      await waitFor(() => first[i].posts().length + second[i].posts().length >= ids.length,
        `follower ${i}: every post`, 15000).catch(() => missing.push(i));
    }
    assert.deepEqual(missing, [], 'followers that missed posts');
    await sleep(300);
    for (let i = 0; i < first.length; i++) {
      const got = [...first[i].posts(), ...second[i].posts()];
      const idsGot = got.map((e) => JSON.parse(e.data).id);
      assert.equal(idsGot.length, ids.length, `follower ${i}: each post once`);
      assert.deepEqual([...idsGot].sort((a, b) => a - b), want);
      const seqs = got.map((e) => seqOf(e.id));
      assert.deepEqual(seqs, seqs.map((_, k) => seqs[0] + k), `follower ${i}: in order, no gap`);
    }
    second.forEach((s) => s.close());
  } finally {
    await c.stop();
  }
});

test('PostgreSQL restarted during traffic: nodes go unready, recover alone, deliver with no gap', async (t) => {
  // This test stops and starts PostgreSQL itself: it needs one of its own.
  const pg = await startPostgres();
  if (!pg) return t.skip(SKIP_REASON);
  const saved = process.env.ARALDO_TEST_PG;
  process.env.ARALDO_TEST_PG = pg.conninfo;
  let c;
  try {
    c = await startCluster({ n: 3, sets: SETS, tag: 'restart' });
    const h = 'cluster-restart';
    const op = await setup(c, h);
    const streams = c.nodes.map((n) => sse(n.url, `/api/v1/stream?channels=${h}`));
    await waitFor(() => streams.every((s) => s.opened), 'every stream open', 5000);
    const ids = [await post(c.nodes[0], op, h, 'prima')];
    await waitFor(() => streams.every((s) => s.posts().length === 1), 'the first post everywhere', 5000);

    pg.pause();
    for (const n of c.nodes) {
      const r = await api(n.url, 'GET', '/readyz');
      assert.equal(r.status, 503, 'a node without its database is not ready');
    }
    // A write while the database is down fails with a clear error, never a false "saved".
    const down = await api(c.nodes[2].url, 'POST', `/api/v1/channels/${h}/posts`, { as: op, body: { text: 'persa' } });
    assert.ok(down.status >= 500, down.text);
    pg.resume();
    for (const n of c.nodes) {
      let ok = false;
      const t0 = Date.now();
      while (!ok && Date.now() - t0 < 15000) {
        ok = (await api(n.url, 'GET', '/readyz')).status === 200;
        if (!ok) await sleep(100);
      }
      assert.ok(ok, `node ${n.url} did not become ready again`);
    }
    // Posts after the restart, through every node, reach every stream that stayed open.
    for (let i = 0; i < 3; i++) {
      let r;
      const t0 = Date.now();
      // the first write on a node may meet its writer's connection still reconnecting
      do {
        r = await api(c.nodes[i].url, 'POST', `/api/v1/channels/${h}/posts`, { as: op, body: { text: `dopo ${i}` } });
        if (r.status !== 201) await sleep(200);
      } while (r.status !== 201 && Date.now() - t0 < 10000);
      assert.equal(r.status, 201, r.text);
      ids.push(r.data.id);
    }
    for (const [i, s] of streams.entries()) {
      await waitFor(() => s.posts().length >= ids.length, `node ${i}: every post after the restart`, 10000);
      assert.deepEqual(s.posts().map((e) => JSON.parse(e.data).id), ids);
      const seqs = s.events.filter((e) => e.id).map((e) => seqOf(e.id));
      assert.deepEqual(seqs, seqs.map((_, k) => seqs[0] + k), 'no gap, no repeat');
    }
    streams.forEach((s) => s.close());
  } finally {
    if (c) await c.stop();
    if (saved === undefined) delete process.env.ARALDO_TEST_PG;
    else process.env.ARALDO_TEST_PG = saved;
    pg.stop();
  }
});

// psql as a second writer, fed one statement at a time: `run(sql)` resolves once it finished.
function psqlSession(url) {
  const p = spawn('psql', [url, '-qAt', '-v', 'ON_ERROR_STOP=0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let n = 0;
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  return {
    async run(sql) {
      const mark = `done-${++n}`;
      p.stdin.write(`${sql}\n\\echo ${mark}\n`);
      await waitFor(() => out.includes(mark), `psql: ${sql}`, 20000);
      return out;
    },
    end() { p.stdin.end(); },
  };
}

test('two nodes\' writes deadlocked: PostgreSQL fails one, the writer runs its batch again', async (t) => {
  const c = await startCluster({ n: 1, sets: SETS });
  if (!c) return t.skip(SKIP_REASON);
  try {
    const [A] = c.nodes;
    const op = await setupOn(c, A, 'dl-a');
    for (const h of ['dl-b', 'dl-c']) {
      const r = await api(A.url, 'POST', '/api/v1/channels', {
        as: op, body: { org: 'org-dl-a', handle: h, name: h, category: 'news', language: 'it', visibility: 'listed' },
      });
      assert.equal(r.status, 201, r.text);
    }
    // Another node's transactions, played by psql: one holds dl-c, so the writer waits on it
    // with a post; meanwhile two posts (to dl-b, then dl-a) queue up as the next batch.
    const lock = (h) => `UPDATE channels SET last_seq = last_seq WHERE handle = '${h}';`;
    const one = psqlSession(c.databaseUrl);
    const two = psqlSession(c.databaseUrl);
    // The test's own database superuser: it looks for deadlocks only after the writer has (1 s),
    // so the writer is the one PostgreSQL fails, every time.
    await two.run("SET deadlock_timeout = '30s';");
    await one.run(`BEGIN; ${lock('dl-c')}`);
    const first = post(A, op, 'dl-c', 'in attesa');
    // The writer waits on dl-c; the next two posts queue behind it, in this order (each is sent
    // once the one before is in the queue: two requests in flight may arrive either way round).
    const depth = async () => Number(/^araldo_store_queue_depth (\d+)$/m
      .exec((await api(A.url, 'GET', '/metrics', { as: op })).text)[1]);
    const queued = async (n) => {
      const t0 = Date.now();
      while (await depth() < n) {
        assert.ok(Date.now() - t0 < 10000, `${n} writes queued`);
        await sleep(20);
      }
    };
    await sleep(300);
    const d0 = await depth();
    const b = post(A, op, 'dl-b', 'primo del lotto');
    await queued(d0 + 1);
    const a = post(A, op, 'dl-a', 'secondo del lotto');
    await queued(d0 + 2);
    await two.run(`BEGIN; ${lock('dl-a')}`); // the other node holds dl-a ...
    await one.run('COMMIT;'); // ... the first post goes; the batch locks dl-b, waits for dl-a
    await first;
    await sleep(300);
    // ... and now wants dl-b: a cycle. PostgreSQL fails the transaction that waited longer.
    const out = await two.run(lock('dl-b'));
    await two.run('COMMIT;');
    one.end();
    two.end();
    assert.doesNotMatch(out, /deadlock/, 'the other transaction should have won');
    // Both posts of the batch were saved (201), once each.
    const ids = [await b, await a];
    assert.equal(ids.length, 2);
    const m = (await api(A.url, 'GET', '/metrics', { as: op })).text;
    assert.match(m, /^araldo_store_deadlocks_total [1-9]/m);
    for (const h of ['dl-a', 'dl-b']) {
      const r = await api(A.url, 'GET', `/api/v1/channels/${h}/posts`);
      assert.equal(r.status, 200);
      assert.equal(r.data.posts.length, 1, `${h}: the post once`);
    }
  } finally {
    await c.stop();
  }
});

test('a citizen report changed through node A reaches its reporter\'s live stream on node B', async (t) => {
  const c = await startCluster({ n: 2, sets: SETS });
  if (!c) return t.skip(SKIP_REASON);
  try {
    const [A, B] = c.nodes;
    const op = await setupOn(c, A, 'cl-rep');
    const f = await api(B.url, 'POST', '/api/v1/followers');
    assert.equal(f.status, 201, f.text);
    const r = await fetch(`${B.url}/open311/v2/requests.json?jurisdiction_id=org-cl-rep`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.data.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ service_code: 'strade-buche', lat: '43.5422', long: '11.0344', description: 'Buca in via Roma' }),
    });
    const filed = await r.json();
    assert.equal(r.status, 201, JSON.stringify(filed));
    const s = sse(B.url, `/api/v1/reports/follow/${filed[0].token}/stream`);
    await waitFor(() => s.events.some((e) => e.type === 'report'), 'the report\'s current state', 5000);
    const p = await api(A.url, 'PATCH', `/api/v1/orgs/org-cl-rep/reports/${filed[0].service_request_id}`, {
      as: op, body: { status: 'presa_in_carico', note: 'Arriviamo', note_public: true },
    });
    assert.equal(p.status, 204, p.text);
    await waitFor(() => s.events.some((e) => e.type === 'report.updated'), 'the change made on node A', 5000);
    const ev = JSON.parse(s.events.find((e) => e.type === 'report.updated').data);
    assert.equal(ev.status_detail, 'presa_in_carico');
    assert.equal(ev.request.status_notes, 'Arriviamo');
    await sleep(300);
    assert.equal(s.events.filter((e) => e.type === 'report.updated').length, 1, 'once');
    s.close();
  } finally {
    await c.stop();
  }
});
