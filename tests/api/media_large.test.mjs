// SPDX-License-Identifier: AGPL-3.0-or-later
// Large media (a 10 MiB PDF, the default document cap) go from the file to the socket with
// sendfile(), never read into memory: twenty people downloading it slowly cost twenty open
// files, not twenty copies. The bytes are the uploaded ones, whole and in ranges, and the
// headers (ETag, 304, Range, If-Range, Content-Disposition) are those of every media answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer, operatorToken } from './lib/server.mjs';
import { download as rawDownload, peakRss, sha256 } from './lib/download.mjs';
import { pdf } from '../fixtures/media/gen.mjs';

let srv;
let url;
// 10 MiB exactly: a PDF head, then random bytes (so that a wrong byte anywhere shows).
const doc = Buffer.concat([pdf(200), randomBytes(10 * 1024 * 1024 - 200)]);
const sha = sha256;
const GET = (path, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n${extra}\r\n`;
// GET `path` on a raw connection, the body hashed as it arrives: { status, headers, length, sha }.
const download = (path, { extra = '', ...opts } = {}) => rawDownload(srv.port, GET(path, extra), opts);

before(async () => {
  srv = await startServer();
  const r = await fetch(`${srv.url}/api/v1/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorToken(srv.data)}`, 'content-type': 'application/pdf' },
    body: doc,
  });
  const data = await r.json();
  assert.equal(r.status, 201, JSON.stringify(data));
  assert.equal(data.kind, 'document');
  assert.equal(data.bytes, doc.length);
  url = data.url;
});

after(async () => {
  await srv?.stop();
  srv?.cleanup();
});

test('a 10 MiB PDF arrives byte-identical, to a reader that stalls too, with its headers', async () => {
  for (const stall of [0, 300]) {
    const r = await download(url, { stall });
    assert.equal(r.status, 200);
    assert.equal(r.length, doc.length, `stall ${stall} ms: length`);
    assert.equal(r.sha, sha(doc), `stall ${stall} ms: sha256 of the body`);
    assert.equal(Number(r.headers['content-length']), doc.length);
    assert.equal(r.headers['content-type'], 'application/pdf');
    assert.equal(r.headers['accept-ranges'], 'bytes');
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(r.headers.etag, /^"[0-9a-f]{32}"$/);
    assert.match(r.headers['content-disposition'], /^attachment; filename="documento-[A-Za-z0-9_-]{8}\.pdf"$/);
    assert.equal(r.headers.vary, undefined, 'only images vary by Accept');
  }
});

test('ranges of the 10 MiB PDF: the right bytes, 416 past the end, If-Range, 304, HEAD', async () => {
  const n = doc.length;
  const etag = (await download(url, { extra: 'Range: bytes=0-0\r\n' })).headers.etag;
  const cases = [
    ['bytes=0-0', 0, 0], ['bytes=1000-1999', 1000, 1999], ['bytes=-500', n - 500, n - 1],
    [`bytes=${n - 10}-`, n - 10, n - 1], [`bytes=100-${n + 5000}`, 100, n - 1],
    ['bytes=2000000-8999999', 2000000, 8999999],
  ];
  for (const [range, from, to] of cases) {
    const r = await download(url, { extra: `Range: ${range}\r\n`, stall: to - from > 1e6 ? 200 : 0 });
    assert.equal(r.status, 206, range);
    assert.equal(r.headers['content-range'], `bytes ${from}-${to}/${n}`, range);
    assert.equal(Number(r.headers['content-length']), to - from + 1, range);
    assert.equal(r.length, to - from + 1, range);
    assert.equal(r.sha, sha(doc.subarray(from, to + 1)), `${range}: the right bytes`);
  }
  const bad = await download(url, { extra: `Range: bytes=${n}-\r\n` });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers['content-range'], `bytes */${n}`);
  const same = await download(url, { extra: `Range: bytes=5-9\r\nIf-Range: ${etag}\r\n` });
  assert.equal(same.status, 206);
  assert.equal(same.sha, sha(doc.subarray(5, 10)));
  const other = await download(url, { extra: 'Range: bytes=5-9\r\nIf-Range: "other"\r\n' });
  assert.equal(other.status, 200, 'another version: the whole file');
  assert.equal(other.sha, sha(doc));
  const fresh = await download(url, { extra: `If-None-Match: ${etag}\r\n` });
  assert.equal(fresh.status, 304);
  assert.equal(fresh.length, 0);
  const head = await fetch(`${srv.url}${url}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(n));
  assert.equal((await head.arrayBuffer()).byteLength, 0);
});

test('20 stalled downloads of the 10 MiB PDF do not cost 20 copies of it', async (t) => {
  await download(url); // warm: the page cache, the loops' scratch buffers
  let connected = 0;
  // Every reader stalls for a second: the server holds 20 unfinished answers at once.
  const { result: got, before, peak } = await peakRss(srv.child.pid, () =>
    Promise.all(Array.from({ length: 20 }, () => download(url, { stall: 1000, started: () => connected++ }))));
  assert.equal(connected, 20);
  for (const r of got) {
    assert.equal(r.status, 200);
    assert.equal(r.length, doc.length);
    assert.equal(r.sha, sha(doc));
  }
  const grew = peak - before;
  const copies = 20 * (doc.length >> 10);
  t.diagnostic(`server RSS ${before} KiB before, ${peak} KiB at the peak, +${grew} KiB for 20 stalled downloads (20 copies: ${copies} KiB)`);
  // As for static files (http.test.mjs): far below one copy per download. Not zero: ASan's
  // quarantine keeps the freed 64 KiB chunks (conn.c FILE_CHUNK) for a while.
  assert.ok(grew < copies / 8, `RSS grew by ${grew} KiB (20 copies would be ${copies} KiB)`);
});
