// SPDX-License-Identifier: AGPL-3.0-or-later
// Static text files go out gzip-compressed to clients that accept it: the same bytes once
// gunzipped, their own ETag and 304s, Vary on Accept-Encoding, identity for ranges and for
// clients that refuse gzip, and no compression for what is already compressed (fonts, images).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, tempDir } from './lib/server.mjs';

let srv;
let root;
const SCRIPT = `// a module\n${'export const line = "Servizio di avvisi del Comune";\n'.repeat(200)}`;

// GET with exactly these headers; the body as a Buffer, never decoded by the client.
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${srv.url}${path}`, { headers }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
  });
}

before(async () => {
  root = tempDir('araldo-gzip-');
  mkdirSync(join(root, 'fonts'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(root, 'app.js'), SCRIPT);
  writeFileSync(join(root, 'fonts', 'a.woff2'), Buffer.alloc(4096, 7));
  srv = await startServer({ sets: { web_root: root } });
});

after(async () => {
  await srv.stop();
  srv.cleanup();
  rmSync(root, { recursive: true, force: true });
});

test('a client that accepts gzip gets the script compressed, the same bytes once gunzipped', async () => {
  const plain = await get('/app.js');
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body.toString(), SCRIPT);
  assert.equal(plain.headers.vary, 'Accept-Encoding');

  const gz = await get('/app.js', { 'accept-encoding': 'gzip, deflate, br' });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers.vary, 'Accept-Encoding');
  assert.equal(Number(gz.headers['content-length']), gz.body.length);
  assert.ok(gz.body.length < plain.body.length / 5, `${gz.body.length} of ${plain.body.length} bytes`);
  assert.equal(gunzipSync(gz.body).toString(), SCRIPT);
  assert.notEqual(gz.headers.etag, plain.headers.etag, 'another representation, another ETag');

  // Each representation revalidates with its own ETag.
  const again = await get('/app.js', { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.etag });
  assert.equal(again.status, 304);
  const other = await get('/app.js', { 'accept-encoding': 'gzip', 'if-none-match': plain.headers.etag });
  assert.equal(other.status, 200);
});

test('identity for gzip;q=0, for ranges, and for files that are already compressed', async () => {
  const refused = await get('/app.js', { 'accept-encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined);
  assert.equal(refused.body.toString(), SCRIPT);

  const range = await get('/app.js', { 'accept-encoding': 'gzip', range: 'bytes=0-11' });
  assert.equal(range.status, 206);
  assert.equal(range.headers['content-encoding'], undefined);
  assert.equal(range.body.toString(), SCRIPT.slice(0, 12));

  const font = await get('/fonts/a.woff2', { 'accept-encoding': 'gzip' });
  assert.equal(font.status, 200);
  assert.equal(font.headers['content-encoding'], undefined);
  assert.equal(font.headers.vary, undefined);
  assert.equal(font.body.length, 4096);

  const tiny = await get('/index.html', { 'accept-encoding': 'gzip' });
  assert.equal(tiny.headers['content-encoding'], undefined, 'too small to be worth it');
});
