// SPDX-License-Identifier: AGPL-3.0-or-later
// Three araldo nodes on one PostgreSQL behind the nginx upstream docs/DEPLOY.md documents
// ("Several nodes on PostgreSQL"): a real nginx runs that very block, taken from the markdown,
// with the nodes' addresses swapped for the test nodes' loopback ports. Requests are spread
// over the nodes, least_conn puts the streams evenly on them, and SSE and WebSocket streams
// through nginx get the posts. Skips when nginx or PostgreSQL is not installed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { api, tempDir, sleep, waitFor } from './lib/server.mjs';
import { SKIP_REASON, startCluster, stopClusterPostgres } from './lib/cluster.mjs';

const have = (cmd, args) => !spawnSync(cmd, args, { encoding: 'utf8' }).error;
const NGINX = ['/usr/sbin/nginx', 'nginx'].find((c) => have(c, ['-v']));

after(() => stopClusterPostgres());

// The three-node nginx block of docs/DEPLOY.md: the ```nginx block with the upstream.
function upstreamBlock() {
  const md = readFileSync('docs/DEPLOY.md', 'utf8');
  const blocks = [...md.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]);
  const b = blocks.find((x) => /upstream araldo_nodes \{/.test(x));
  if (!b) throw new Error('docs/DEPLOY.md has no ```nginx block with "upstream araldo_nodes"');
  return b;
}

async function freePort() {
  const s = net.createServer();
  await new Promise((res) => s.listen(0, '127.0.0.1', res));
  const { port } = s.address();
  await new Promise((res) => s.close(res));
  return port;
}

async function startNginx(nodes) {
  const dir = tempDir('araldo-nginx-');
  const port = await freePort();
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  let block = upstreamBlock();
  // What the section promises for streams, checked in the block that runs.
  for (const must of [/least_conn;/, /proxy_buffering off;/, /proxy_read_timeout 1h;/,
    /proxy_http_version 1\.1;/, /proxy_set_header Upgrade \$http_upgrade;/,
    /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/, /proxy_pass http:\/\/araldo_nodes;/]) {
    assert.match(block, must);
  }
  const servers = [...block.matchAll(/server 10\.0\.0\.1[1-3]:8080/g)];
  assert.equal(servers.length, 3, 'the upstream names three nodes');
  assert.match(block, /listen 443 ssl http2;/);
  let i = 0;
  block = block
    .replace('listen 443 ssl http2;', `listen 127.0.0.1:${port};`)
    .replace(/^\s*ssl_certificate(_key)?\s.*$/gm, '')
    .replace(/server 10\.0\.0\.1[1-3]:8080/g, () => `server 127.0.0.1:${nodes[i++].port}`);
  const conf = `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
${block}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let t = 0; ; t++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    const ok = await new Promise((res) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); res(true); });
      c.on('error', () => res(false));
    });
    if (ok) break;
    if (t > 200) throw new Error('nginx did not listen');
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((res) => child.on('exit', res));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// An SSE stream: collects the raw text; resolves once the response head is in.
function sse(port, path) {
  return new Promise((res, rej) => {
    const s = { text: '', status: 0 };
    s.req = http.get({ host: '127.0.0.1', port, path, agent: false }, (resp) => {
      s.status = resp.statusCode;
      resp.setEncoding('utf8');
      resp.on('data', (d) => { s.text += d; });
      resp.on('error', () => {});
      res(s);
    });
    s.req.on('error', rej);
    s.close = () => s.req.destroy();
  });
}

// One value of a node's /metrics (a plain gauge or counter line).
async function metric(node, token, name) {
  const r = await api(node.url, 'GET', '/metrics', { as: token });
  assert.equal(r.status, 200, r.text);
  const line = r.text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `metric ${name}`);
  return Number(line.split(' ')[1]);
}

test('three nodes behind the documented nginx upstream: requests spread, streams spread and live', async (t) => {
  if (!NGINX) {
    t.skip('nginx is not installed (Debian package nginx; scripts/install-deps.sh installs it)');
    return;
  }
  const cluster = await startCluster({ n: 3, sets: { trusted_proxies: '127.0.0.1' }, tag: 'proxy' });
  if (!cluster) {
    t.skip(SKIP_REASON);
    return;
  }
  const { nodes } = cluster;
  const ngx = await startNginx(nodes);
  const held = [];
  try {
    const token = cluster.token();
    // Set up through the balancer: staff requests work on whichever node they land.
    let r = await api(ngx.url, 'POST', '/api/v1/orgs', { as: token, body: { slug: 'regione', name: 'Regione' } });
    assert.equal(r.status, 201, r.text);
    r = await api(ngx.url, 'POST', '/api/v1/channels', {
      as: token, body: { org: 'regione', handle: 'allerta', name: 'Allerta', category: 'news', language: 'it', visibility: 'listed' },
    });
    assert.equal(r.status, 201, r.text);

    // Requests are spread: 30 reads, one after the other, through nginx; each node answers some.
    const ok2xx = 'araldo_http_requests_total{class="2xx"}';
    const before = await Promise.all(nodes.map((n) => metric(n, token, ok2xx)));
    for (let i = 0; i < 30; i++) {
      const g = await api(ngx.url, 'GET', '/api/v1/channels/allerta/posts');
      assert.equal(g.status, 200, g.text);
    }
    const afterReads = await Promise.all(nodes.map((n) => metric(n, token, ok2xx)));
    // The metrics requests themselves count on each node (the `before` one, at least).
    const served = afterReads.map((a, i) => a - before[i] - 1);
    assert.equal(served.reduce((x, y) => x + y, 0), 30, `reads per node: ${served}`);
    for (const [i, n] of served.entries()) assert.ok(n >= 3, `node ${i} served ${n} of 30 reads (${served})`);

    // Streams are spread evenly by least_conn: six SSE streams, two on each node.
    const streams = [];
    for (let i = 0; i < 6; i++) {
      const s = await sse(ngx.port, '/api/v1/stream?channels=allerta');
      held.push(s);
      assert.equal(s.status, 200, `stream ${i} through nginx`);
      streams.push(s);
    }
    for (const [i, n] of nodes.entries()) {
      let subs = -1;
      for (let k = 0; k < 300 && subs !== 2; k++) {
        subs = await metric(n, token, 'araldo_stream_subscribers');
        if (subs !== 2) await sleep(10);
      }
      assert.equal(subs, 2, `node ${i} holds two of the six streams`);
    }
    // A WebSocket through nginx too (the Upgrade header is passed on).
    const ws = new WebSocket(`ws://127.0.0.1:${ngx.port}/api/v1/ws?channels=allerta`);
    const msgs = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
    held.push({ close: () => ws.terminate() });
    await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });

    // A post published on each node (staff straight to the node, as a console behind the
    // balancer could land anywhere): every stream, whichever node it is on, gets all three
    // once each, in order (LISTEN/NOTIFY between the nodes).
    const ids = [];
    for (const [i, n] of nodes.entries()) {
      const p = await api(n.url, 'POST', '/api/v1/channels/allerta/posts', { as: token, body: { text: `dal nodo ${i}` } });
      assert.equal(p.status, 201, p.text);
      ids.push(p.data.id);
    }
    // The post.created events of a stream, as the list of the posts' ids they carry.
    const created = (posts) => posts.map((p) => p.id);
    const sseEvents = (text) => text.split('\n\n').filter((e) => /^event: post\.created$/m.test(e))
      .map((e) => JSON.parse(/^data: (.*)$/m.exec(e)[1]));
    for (const [i, s] of streams.entries()) {
      await waitFor(() => created(sseEvents(s.text)).length >= 3, `stream ${i}: the three posts through nginx`, 10000);
      await sleep(100);
      assert.deepEqual(created(sseEvents(s.text)), ids, `stream ${i}: each post once, in order`);
    }
    const wsEvents = () => msgs.filter((m) => m.type === 'event' && m.event === 'post.created').map((m) => m.data);
    await waitFor(() => created(wsEvents()).length >= 3, 'WebSocket: the three posts through nginx', 10000);
    await sleep(100);
    assert.deepEqual(created(wsEvents()), ids, 'WebSocket: each post once, in order');

    // And a post published through the balancer itself.
    const p = await api(ngx.url, 'POST', '/api/v1/channels/allerta/posts', { as: token, body: { text: 'dal bilanciatore' } });
    assert.equal(p.status, 201, p.text);
    const g = await api(ngx.url, 'GET', '/api/v1/channels/allerta/posts');
    assert.ok(g.data.posts.some((x) => x.id === p.data.id), 'the post is read back through any node');
  } finally {
    for (const h of held) h.close();
    await ngx.stop();
    await cluster.stop();
  }
});
