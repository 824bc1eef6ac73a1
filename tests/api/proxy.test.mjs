// SPDX-License-Identifier: AGPL-3.0-or-later
// araldo behind the reverse proxies docs/DEPLOY.md documents: a real nginx (and Caddy, when
// installed) runs the documented block itself, taken from the markdown, on loopback ports. Two
// clients reach the proxy from different loopback addresses (127.0.0.2, 127.0.0.3), so the
// proxy's X-Forwarded-For is what tells them apart: each gets its own sign-in and sign-up
// bucket and its own share of the connection cap, a forged X-Forwarded-For changes nothing,
// and SSE and WebSocket streams pass through. Links never come from a request's Host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer, operatorToken, cli, tempDir, sleep, waitFor } from './lib/server.mjs';

const A = '127.0.0.2';
const B = '127.0.0.3';
const have = (cmd, args) => !spawnSync(cmd, args, { encoding: 'utf8' }).error;
const NGINX = ['/usr/sbin/nginx', 'nginx'].find((c) => have(c, ['-v']));
const CADDY = ['/usr/bin/caddy', 'caddy'].find((c) => have(c, ['version']));

// The fenced block of `lang` in docs/DEPLOY.md (the first one).
function deployBlock(lang) {
  const md = readFileSync('docs/DEPLOY.md', 'utf8');
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(md);
  if (!m) throw new Error(`docs/DEPLOY.md has no \`\`\`${lang} block`);
  return m[1];
}

async function freePort() {
  const s = net.createServer();
  await new Promise((res) => s.listen(0, '127.0.0.1', res));
  const { port } = s.address();
  await new Promise((res) => s.close(res));
  return port;
}

async function waitListening(port, child, what) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}`);
    const ok = await new Promise((res) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); res(true); });
      c.on('error', () => res(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port}`);
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const done = new Promise((res) => child.on('exit', res));
  child.kill('SIGTERM');
  return done;
}

// nginx as a child process, in its own prefix, running DEPLOY.md's block inside an http {}.
async function startNginx(upstream) {
  const dir = tempDir('araldo-nginx-');
  const port = await freePort();
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  let block = deployBlock('nginx');
  assert.match(block, /listen 443 ssl http2;/);
  assert.match(block, /proxy_pass http:\/\/127\.0\.0\.1:8080;/);
  block = block
    .replace('listen 443 ssl http2;', `listen 127.0.0.1:${port};`)
    .replace(/^\s*ssl_certificate(_key)?\s.*$/gm, '')
    .replaceAll('http://127.0.0.1:8080', `http://${upstream}`);
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
  await waitListening(port, child, 'nginx');
  return { port, stop: async () => { await stopChild(child); rmSync(dir, { recursive: true, force: true }); } };
}

// Caddy as a child process with DEPLOY.md's Caddyfile, plain HTTP on a loopback port.
async function startCaddy(upstream) {
  const dir = tempDir('araldo-caddy-');
  const port = await freePort();
  let block = deployBlock('caddy');
  assert.match(block, /reverse_proxy 127\.0\.0\.1:8080/);
  block = block
    .replace('avvisi.comune.example.it {', `http://127.0.0.1:${port} {\n    bind 127.0.0.1`)
    .replaceAll('127.0.0.1:8080', upstream);
  writeFileSync(join(dir, 'Caddyfile'), `{\n    admin off\n    auto_https off\n    grace_period 1s\n}\n${block}`);
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const child = spawn(CADDY, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { stdio: 'ignore', env });
  await waitListening(port, child, 'caddy');
  return { port, stop: async () => { await stopChild(child); rmSync(dir, { recursive: true, force: true }); } };
}

// One request from a chosen local address. Resolves to { status, headers, text }.
function request(port, method, path, { from, headers = {}, body } = {}) {
  return new Promise((res, rej) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const h = { ...headers };
    if (data !== undefined) { h['content-type'] = 'application/json'; h['content-length'] = Buffer.byteLength(data); }
    const r = http.request({ host: '127.0.0.1', port, method, path, localAddress: from, headers: h, agent: false }, (resp) => {
      let text = '';
      resp.setEncoding('utf8');
      resp.on('data', (d) => { text += d; });
      resp.on('end', () => res({ status: resp.statusCode, headers: resp.headers, text }));
    });
    r.on('error', rej);
    r.end(data);
  });
}

// An SSE stream from a chosen local address: collects the raw text; resolves once the head is in.
function sse(port, path, from) {
  return new Promise((res, rej) => {
    const s = { text: '', status: 0 };
    s.req = http.get({ host: '127.0.0.1', port, path, localAddress: from, agent: false }, (resp) => {
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

function wsOpen(port, path, from) {
  const c = { msgs: [] };
  c.ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { localAddress: from });
  c.ws.on('message', (d) => c.msgs.push(JSON.parse(d.toString())));
  c.ws.on('error', () => {});
  return new Promise((res, rej) => {
    c.ws.on('open', () => res(c));
    c.ws.on('unexpected-response', (_, r) => rej(new Error(`HTTP ${r.statusCode}`)));
    c.ws.on('error', rej);
  });
}

let srv;
let op;
const SIGNUPS = 3;
const CONNS = 3;

async function staff(method, path, body) {
  const r = await request(srv.port, method, path, { headers: { authorization: `Bearer ${op}` }, body });
  return { status: r.status, data: r.text ? JSON.parse(r.text) : null, text: r.text };
}

before(async () => {
  srv = await startServer({
    sets: {
      trusted_proxies: '127.0.0.1',
      follower_signups_per_ip: SIGNUPS,
      max_connections_per_ip: CONNS,
    },
  });
  op = operatorToken(srv.data);
  assert.equal((await staff('POST', '/api/v1/orgs', { slug: 'comune-p', name: 'Comune P' })).status, 201);
  const ch = await staff('POST', '/api/v1/channels', { org: 'comune-p', handle: 'proxy', name: 'Proxy', category: 'news', language: 'it' });
  assert.equal(ch.status, 201, ch.text);
});

after(async () => {
  await srv.stop();
  srv.cleanup();
});

// Sign-in failures from `from` through `port` until 429; returns how many got 401 first.
async function failUntilLimited(port, from, headers = {}) {
  for (let i = 0; i < 40; i++) {
    const r = await request(port, 'POST', '/api/v1/session', { from, headers, body: { email: `x${i}@nowhere.it`, password: 'wrong-password-1' } });
    if (r.status === 429) return i;
    assert.equal(r.status, 401, r.text);
  }
  throw new Error('never limited');
}

const signIn = (port, from, headers = {}) =>
  request(port, 'POST', '/api/v1/session', { from, headers, body: { email: 'nobody@nowhere.it', password: 'wrong-password-1' } });
const signUp = (port, from, headers = {}) => request(port, 'POST', '/api/v1/followers', { from, headers });

async function bucketsTest(port, name) {
  // Sign-ins: A uses up its address's failures; B, through the same proxy, is not locked out.
  assert.equal(await failUntilLimited(port, A), 20, `${name}: 20 failures per address`);
  assert.equal((await signIn(port, B)).status, 401, `${name}: another client is not limited`);
  // A forged X-Forwarded-For through the proxy does not get A a fresh bucket.
  assert.equal((await signIn(port, A, { 'x-forwarded-for': '198.51.100.7' })).status, 429);
  assert.equal((await signIn(port, A, { forwarded: 'for=198.51.100.8' })).status, 429);
  // Nor does one sent straight to araldo by a peer that is not a trusted proxy.
  assert.equal((await signIn(srv.port, A, { 'x-forwarded-for': '198.51.100.9' })).status, 429);

  // Follower sign-ups: the same, per client.
  for (let i = 0; i < SIGNUPS; i++) assert.equal((await signUp(port, A)).status, 201, `${name}: sign-up ${i}`);
  assert.equal((await signUp(port, A)).status, 429);
  assert.equal((await signUp(port, A, { 'x-forwarded-for': '198.51.100.7' })).status, 429);
  assert.equal((await signUp(srv.port, A, { 'x-forwarded-for': '198.51.100.9' })).status, 429);
  assert.equal((await signUp(port, B)).status, 201, `${name}: another client signs up`);
}

// A holds more streams than araldo's per-address cap, through the proxy; B still streams, and a
// post reaches both an SSE and a WebSocket stream through it.
async function streamsTest(port, name) {
  const held = [];
  try {
    for (let i = 0; i < CONNS + 1; i++) {
      const s = await sse(port, '/api/v1/stream?channels=proxy', A);
      held.push(s);
      assert.equal(s.status, 200, `${name}: A's stream ${i}`);
    }
    const s = await sse(port, '/api/v1/stream?channels=proxy', B);
    held.push(s);
    assert.equal(s.status, 200, `${name}: B streams while A holds ${CONNS + 1}`);
    const c = await wsOpen(port, '/api/v1/ws?channels=proxy', B);
    held.push({ close: () => c.ws.terminate() });
    const text = `through ${name}`;
    const p = await staff('POST', '/api/v1/channels/proxy/posts', { text });
    assert.equal(p.status, 201, p.text);
    await waitFor(() => s.text.includes(p.data.id), `${name}: SSE event`);
    await waitFor(() => c.msgs.some((m) => m.type === 'event' && m.event === 'post.created' && JSON.stringify(m).includes(p.data.id)), `${name}: WebSocket event`);
  } finally {
    for (const h of held) h.close();
  }
}

test('nginx with the documented configuration: per-client buckets, streams, no forging', async (t) => {
  if (!NGINX) {
    t.skip('nginx is not installed (Debian package nginx; scripts/install-deps.sh installs it)');
    return;
  }
  const ngx = await startNginx(`127.0.0.1:${srv.port}`);
  try {
    await bucketsTest(ngx.port, 'nginx');
    await streamsTest(ngx.port, 'nginx');
  } finally {
    await ngx.stop();
  }
});

test('Caddy with the documented configuration: per-client buckets, streams, no forging', async (t) => {
  if (!CADDY) {
    t.skip('caddy is not installed (Debian package caddy)');
    return;
  }
  // A server of its own: the nginx test used up the buckets of 127.0.0.2.
  const own = await startServer({ sets: { trusted_proxies: '127.0.0.1', follower_signups_per_ip: SIGNUPS, max_connections_per_ip: CONNS } });
  const saved = [srv, op];
  srv = own;
  op = operatorToken(own.data);
  const cad = await startCaddy(`127.0.0.1:${own.port}`);
  try {
    await staff('POST', '/api/v1/orgs', { slug: 'comune-p', name: 'Comune P' });
    await staff('POST', '/api/v1/channels', { org: 'comune-p', handle: 'proxy', name: 'Proxy', category: 'news', language: 'it' });
    await bucketsTest(cad.port, 'caddy');
    await streamsTest(cad.port, 'caddy');
  } finally {
    await cad.stop();
    [srv, op] = saved;
    await own.stop();
    own.cleanup();
  }
});

test('with no trusted proxy, forwarding headers change nothing and the cap counts the peer', async () => {
  const s = await startServer({ sets: { follower_signups_per_ip: 1, max_connections_per_ip: 4 } });
  try {
    assert.equal((await signUp(s.port, A, { 'x-forwarded-for': '198.51.100.1' })).status, 201);
    assert.equal((await signUp(s.port, A, { 'x-forwarded-for': '198.51.100.2' })).status, 429);
    assert.equal((await signUp(s.port, A, { forwarded: 'for=198.51.100.3' })).status, 429);
    // The default `auto` trusts loopback only with an https public_url: 127.0.0.1 is no proxy.
    assert.equal((await signUp(s.port, '127.0.0.1', { 'x-forwarded-for': '198.51.100.4' })).status, 201);
    assert.equal((await signUp(s.port, '127.0.0.1', { 'x-forwarded-for': '198.51.100.5' })).status, 429);
    // The per-address connection cap still holds for direct peers: four keep-alive
    // connections from B, each with one request answered (so surely accepted and counted),
    // then a fifth is answered 503 before it sends anything.
    const held = [];
    for (let i = 0; i < 4; i++) {
      held.push(await new Promise((res, rej) => {
        const c = net.connect({ host: '127.0.0.1', port: s.port, localAddress: B }, () => c.write('GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n'));
        let got = '';
        c.on('data', (d) => { got += d; if (got.includes('\r\n\r\n')) res(c); });
        c.on('error', rej);
      }));
    }
    const fifth = await new Promise((res) => {
      const c = net.connect({ host: '127.0.0.1', port: s.port, localAddress: B });
      let got = '';
      c.on('data', (d) => { got += d; });
      c.on('error', () => res(got));
      c.on('close', () => res(got));
    });
    assert.match(fifth, /^HTTP\/1\.1 503 /, 'a fifth connection from B is refused');
    assert.equal((await request(s.port, 'GET', '/healthz', { from: A })).status, 200, 'another address is not');
    held.forEach((h) => h.destroy());
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test('the session cookie is Secure only when a trusted proxy says https', async () => {
  const s = await startServer({ sets: { trusted_proxies: '127.0.0.1' } });
  try {
    const login = (from, headers) =>
      request(s.port, 'POST', '/api/v1/session', { from, headers, body: { email: 'admin@localhost', password: s.password } });
    const viaProxy = await login('127.0.0.1', { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.1' });
    assert.equal(viaProxy.status, 200, viaProxy.text);
    assert.match(viaProxy.headers['set-cookie'][0], /; Secure/);
    const plain = await login('127.0.0.1', { 'x-forwarded-proto': 'http' });
    assert.doesNotMatch(plain.headers['set-cookie'][0], /Secure/);
    const forged = await login(A, { 'x-forwarded-proto': 'https' });
    assert.equal(forged.status, 200);
    assert.doesNotMatch(forged.headers['set-cookie'][0], /Secure/);
  } finally {
    await s.stop();
    s.cleanup();
  }
  // An https public_url makes it Secure whatever the request says (trusted_proxies = auto).
  const p = await startServer({ sets: { public_url: 'https://avvisi.comune.example.it' } });
  try {
    const r = await request(p.port, 'POST', '/api/v1/session', { body: { email: 'admin@localhost', password: p.password } });
    assert.match(r.headers['set-cookie'][0], /; Secure/);
  } finally {
    await p.stop();
    p.cleanup();
  }
});

test('links never come from the Host header; serve off loopback needs public_url', async () => {
  const feed = await request(srv.port, 'GET', '/channels/proxy/feed.atom', { headers: { host: 'evil.example', 'x-forwarded-proto': 'https' } });
  assert.equal(feed.status, 200, feed.text);
  assert.ok(!feed.text.includes('evil.example'), 'the feed does not echo a forged Host');
  assert.ok(feed.text.includes(`href="http://127.0.0.1:${srv.port}/`), 'links use the listen address');
  const inv = await staff('POST', '/api/v1/channels/proxy/invites', {});
  assert.equal(inv.status, 201, inv.text);
  const png = await request(srv.port, 'GET', `/api/v1/invites/${inv.data.code}/qr.svg`, { headers: { host: 'evil.example' } });
  assert.equal(png.status, 200);
  if (have('zbarimg', ['--version']) && have('vips', ['--version'])) {
    const dir = tempDir('araldo-qr-');
    try {
      writeFileSync(join(dir, 'qr.svg'), png.text);
      assert.equal(spawnSync('vips', ['copy', `${join(dir, 'qr.svg')}[scale=8]`, join(dir, 'qr.png')]).status, 0);
      const z = spawnSync('zbarimg', ['-q', '--raw', join(dir, 'qr.png')], { encoding: 'utf8' });
      assert.equal(z.stdout.trim(), `http://127.0.0.1:${srv.port}/i/${inv.data.code}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const dir = tempDir();
  try {
    const r = cli(['serve', '--listen', '0.0.0.0:0'], { data: dir });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /public_url is required when listen \('0\.0\.0\.0:0'\) is not a loopback address/);
    const bad = cli(['serve', '--listen', '127.0.0.1:0', '--set', 'trusted_proxies=10.0.0.0/33'], { data: dir });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /trusted_proxies: '10\.0\.0\.0\/33' is not an address/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
