// SPDX-License-Identifier: AGPL-3.0-or-later
// A mock Web Push service for the tests: HTTPS (HTTP/2, HTTP/1.1 fallback) on 127.0.0.1 with a
// certificate from a test CA made here with the openssl CLI. It plays every browser's push
// service at once: each subscription it hands out has its own P-256 key pair and auth secret,
// and every message it receives is decrypted with the npm `http_ece` library and its VAPID JWT
// verified with `jose` (independent implementations, not ours). Behaviours per subscription:
// 'ok' (201), '404', '410', '429' (Retry-After once, then 201), '500' (always), 'hang' (takes
// the request and never answers).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { writeFileSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import ece from 'http_ece';
import { importJWK, jwtVerify } from 'jose';

// A CA and a server certificate for 127.0.0.1 and localhost, in `dir`. Returns the paths.
export function makeCerts(dir) {
  const p = (f) => join(dir, f);
  const run = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=araldo test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', p('srv.key'), '-out', p('srv.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', p('srv.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'),
    '-CAcreateserial', '-out', p('srv.pem'), '-days', '2', '-extfile', p('ext.cnf')]);
  return { ca: p('ca.pem'), key: p('srv.key'), cert: p('srv.pem') };
}

export async function startPushService(certs, { delayMs = 0 } = {}) {
  const subs = new Map(); // id -> { ecdh, auth, mode, got: [] }
  const received = [];    // { sub, payload (Buffer), headers, claims, at }
  const errors = [];      // anything that did not decrypt or verify
  const keys = new Map(); // k -> imported key (one per server key)
  const pendingHang = new Set();
  let n = 0;
  let origin = '';
  const listeners = new Set();

  async function verify(auth) {
    const m = /^vapid t=([^,\s]+), k=([A-Za-z0-9_-]+)$/.exec(auth || '');
    if (!m) throw new Error(`bad Authorization: ${auth}`);
    let key = keys.get(m[2]);
    if (!key) {
      const raw = Buffer.from(m[2], 'base64url');
      key = await importJWK({ kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, 'ES256');
      keys.set(m[2], key);
    }
    const { payload, protectedHeader } = await jwtVerify(m[1], key, { audience: origin, algorithms: ['ES256'] });
    return { claims: payload, header: protectedHeader, k: m[2] };
  }

  async function handle(req, res) {
    const chunks = [];
    try {
      for await (const c of req) chunks.push(c);
    } catch {
      return; // the sender went away mid-request (the kill -9 test): nothing was delivered
    }
    const body = Buffer.concat(chunks);
    const id = (/^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url) || [])[1];
    const sub = id && subs.get(id);
    if (!sub || req.method !== 'POST') { res.writeHead(404); res.end(); return; }
    sub.attempts.push(Date.now());
    if (sub.mode === 'hang') { pendingHang.add(res); return; }
    if (sub.mode === '404' || sub.mode === '410') { res.writeHead(Number(sub.mode)); res.end(); return; }
    if (sub.mode === '500') { res.writeHead(500); res.end('oops'); return; }
    if (sub.mode === '429' && sub.attempts.length === 1) {
      res.writeHead(429, { 'retry-after': String(sub.retryAfter ?? 1) }); res.end(); return;
    }
    let rec;
    try {
      if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error('content-encoding');
      const v = await verify(req.headers.authorization);
      const payload = ece.decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth });
      rec = { sub: id, payload, text: payload.toString('utf8'), headers: { ...req.headers }, claims: v.claims, jwtHeader: v.header, k: v.k, at: Date.now(), bodyLength: body.length };
    } catch (e) {
      errors.push(`${id}: ${e.message}`);
      res.writeHead(400); res.end(); return;
    }
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    received.push(rec);
    sub.got.push(rec);
    for (const l of listeners) l(rec);
    res.writeHead(201, { location: `/msg/${received.length}` });
    res.end();
  }

  const tls = { key: readFileSync(certs.key), cert: readFileSync(certs.cert) };
  const server = http2.createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => {
    handle(req, res).catch((e) => { errors.push(e.message); try { res.writeHead(500); res.end(); } catch { /* gone */ } });
  });
  const sessions = new Set();
  const sockets = new Set();
  server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  server.on('secureConnection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  origin = `https://127.0.0.1:${port}`;

  return {
    origin, port, received, errors, subs,
    // A new browser subscription: PushSubscription.toJSON() as the browser would send it.
    subscribe(mode = 'ok', extra = {}) {
      const ecdh = crypto.createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = crypto.randomBytes(16);
      const id = `s${++n}-${crypto.randomBytes(6).toString('base64url')}`;
      subs.set(id, { ecdh, auth, mode, got: [], attempts: [], ...extra });
      return {
        id,
        json: {
          endpoint: `${origin}/push/${id}`,
          expirationTime: null,
          keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
        },
      };
    },
    // Resolves once `pred(received)` holds; rejects after `ms`.
    waitFor(pred, what, ms = 10000) {
      return new Promise((resolve, reject) => {
        if (pred(received)) { resolve(); return; }
        const l = () => { if (pred(received)) { clearTimeout(t); listeners.delete(l); resolve(); } };
        const t = setTimeout(() => { listeners.delete(l); reject(new Error(`timed out waiting for ${what} (got ${received.length}; errors: ${errors.slice(0, 3).join('; ')})`)); }, ms);
        listeners.add(l);
      });
    },
    async close() {
      const closed = new Promise((r) => server.close(r));
      // HTTP/2 sessions and HTTP/1.1 sockets stay open otherwise (and hung requests with them).
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
