// SPDX-License-Identifier: AGPL-3.0-or-later
// A fixture tile server for the map tests: HTTPS on 127.0.0.1 with a test CA (lib/pushsvc.mjs's
// makeCerts), answering /osm/{z}/{x}/{y}.png with real 256×256 PNGs drawn here (a pale ground,
// a grid of "streets", a darker square per tile so neighbours differ), ETag and Cache-Control,
// and 304 to a matching If-None-Match. Per-path behaviours for the edge cases; every request is
// recorded (path, User-Agent, If-None-Match).
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

// A 256×256 RGB PNG for tile z/x/y; `pad` bytes of incompressible filler in a tEXt chunk make
// it as large as a test needs.
export function tilePng(z, x, y, { pad = 0 } = {}) {
  const W = 256;
  const raw = Buffer.alloc((W * 3 + 1) * W);
  const seed = (x * 7 + y * 13 + z * 3) % 5;
  for (let r = 0; r < W; r++) {
    const row = r * (W * 3 + 1);
    raw[row] = 0;
    for (let c = 0; c < W; c++) {
      const street = r % 64 === 30 || r % 64 === 31 || c % 64 === 30 || c % 64 === 31;
      const block = r >= 80 && r < 112 && c >= 80 + seed * 16 && c < 112 + seed * 16;
      const [R, G, B] = street ? [255, 255, 255] : block ? [214, 200, 180] : [236, 232, 222];
      raw[row + 1 + c * 3] = R;
      raw[row + 2 + c * 3] = G;
      raw[row + 3 + c * 3] = B;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(W, 0);
  ihdr.writeUInt32BE(W, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw))];
  if (pad) {
    const filler = Buffer.alloc(pad);
    for (let i = 0; i < pad; i++) filler[i] = 33 + ((i * 2654435761) >>> 24) % 90;
    parts.push(chunk('tEXt', Buffer.concat([Buffer.from('Comment\0', 'latin1'), filler])));
  }
  parts.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

// Start the fixture server. `special` maps a path to a behaviour:
// { type, body, status, cacheControl, etag, pad, delayMs, fail } (fail: answer 500 from now on).
export async function startTileServer(certs) {
  const seen = [];
  const special = new Map();
  const srv = https.createServer({ key: readFileSync(certs.key), cert: readFileSync(certs.cert) }, (req, res) => {
    seen.push({ path: req.url, ua: req.headers['user-agent'] || '', inm: req.headers['if-none-match'] || '' });
    const m = /^\/osm\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(req.url);
    if (!m) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('no'); return; }
    const s = special.get(req.url) || {};
    const answer = () => {
      if (s.fail) { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('down'); return; }
      const etag = s.etag || `"t-${m[1]}-${m[2]}-${m[3]}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag, 'cache-control': s.cacheControl || 'max-age=3600' });
        res.end();
        return;
      }
      const body = s.body || tilePng(+m[1], +m[2], +m[3], { pad: s.pad || 0 });
      res.writeHead(s.status || 200, {
        'content-type': s.type || 'image/png', etag, 'cache-control': s.cacheControl || 'max-age=3600',
      });
      res.end(body);
    };
    if (s.delayMs) setTimeout(answer, s.delayMs);
    else answer();
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${srv.address().port}`;
  return {
    origin,
    template: `${origin}/osm/{z}/{x}/{y}.png`,
    seen,
    special,
    asked: (path) => seen.filter((s) => s.path === path).length,
    close: () => new Promise((resolve) => { srv.closeAllConnections?.(); srv.close(resolve); }),
  };
}
