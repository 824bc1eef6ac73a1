// SPDX-License-Identifier: AGPL-3.0-or-later
// The map tile proxy (issue 15, point 6): GET/HEAD /tiles/{z}/{x}/{y}.png through a local HTTPS
// fixture tile server (lib/tilesvc.mjs) allowed with push_allow_hosts/push_ca_file as every
// outgoing request is. A tile is asked of the tile server once and then served from the disk
// cache; a stale one is revalidated with If-None-Match; coordinates out of range are 400; an
// answer that is not a PNG is refused and not kept; the User-Agent names public_url; the
// per-address limit on fetches holds; the cache stays under its cap; no map at all is 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, operatorToken, api, tempDir } from './lib/server.mjs';
import { makeCerts } from './lib/pushsvc.mjs';
import { startTileServer, tilePng } from './lib/tilesvc.mjs';

const PUBLIC = 'https://avvisi.valdoro.example';
const LIMIT = 25; // map_tile_misses_per_ip_per_minute
let fx;
let srv;
let op;
let certs;
let certDir;
let dataDir;

const tile = (p, headers = {}, method = 'GET') => fetch(`${srv.url}/tiles/${p}`, { method, headers });
const up = (p) => `/osm/${p}`;
const bytes = async (r) => Buffer.from(await r.arrayBuffer());

before(async () => {
  certDir = tempDir('araldo-tiles-ca-');
  certs = makeCerts(certDir);
  fx = await startTileServer(certs);
  srv = await startServer({
    sets: {
      map_tile_url: fx.template,
      push_allow_hosts: '127.0.0.1',
      push_ca_file: certs.ca,
      public_url: PUBLIC,
      trusted_proxies: '127.0.0.1', // X-Forwarded-For plays different citizens
      map_tile_misses_per_ip_per_minute: String(LIMIT),
      map_tile_cache_mb: '1',
      map_tile_min_fresh_s: '0', // the tile server's own headers decide (expiry tests)
    },
  });
  dataDir = srv.data;
  op = operatorToken(srv.data);
  const r = await api(srv.url, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'valdoro', name: 'Comune di Valdoro' } });
  assert.equal(r.status, 201, r.text);
});
after(async () => {
  await srv?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (certDir) rmSync(certDir, { recursive: true, force: true });
  await fx?.close();
});

test('a tile is fetched once, then served from the cache with Cache-Control; User-Agent names public_url', async () => {
  let r = await tile('3/4/2.png');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/png');
  assert.match(r.headers.get('cache-control'), /^public, max-age=\d+$/);
  const body = await bytes(r);
  assert.deepEqual(body, tilePng(3, 4, 2));
  assert.equal(fx.asked(up('3/4/2.png')), 1);
  r = await tile('3/4/2.png');
  assert.equal(r.status, 200);
  assert.deepEqual(await bytes(r), body);
  assert.equal(fx.asked(up('3/4/2.png')), 1, 'the second request must not reach the tile server');
  const ua = fx.seen.find((s) => s.path === up('3/4/2.png')).ua;
  assert.ok(ua.includes(PUBLIC), `User-Agent '${ua}' does not name ${PUBLIC}`);
  assert.ok(!/curl/i.test(ua), 'not a library default User-Agent');
});

test('HEAD: the headers of a tile without its body, cached or not', async () => {
  let r = await tile('3/4/2.png', {}, 'HEAD');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/png');
  assert.equal(Number(r.headers.get('content-length')), tilePng(3, 4, 2).length);
  assert.equal((await bytes(r)).length, 0);
  r = await tile('3/1/1.png', {}, 'HEAD');
  assert.equal(r.status, 200);
  assert.equal(Number(r.headers.get('content-length')), tilePng(3, 1, 1).length);
  assert.equal(fx.asked(up('3/1/1.png')), 1);
  r = await tile('3/1/1.png');
  assert.deepEqual(await bytes(r), tilePng(3, 1, 1));
  assert.equal(fx.asked(up('3/1/1.png')), 1);
});

test('many requests for a tile being fetched make one request to the tile server', async () => {
  fx.special.set(up('5/10/12.png'), { delayMs: 300 });
  const all = await Promise.all(Array.from({ length: 6 }, () => tile('5/10/12.png')));
  for (const r of all) {
    assert.equal(r.status, 200);
    assert.deepEqual(await bytes(r), tilePng(5, 10, 12));
  }
  assert.equal(fx.asked(up('5/10/12.png')), 1);
});

test('a stale tile is revalidated with If-None-Match; 304 keeps the cached bytes', async () => {
  fx.special.set(up('4/3/3.png'), { cacheControl: 'max-age=0', etag: '"v1"' });
  let r = await tile('4/3/3.png');
  assert.equal(r.status, 200);
  const body = await bytes(r);
  r = await tile('4/3/3.png'); // max-age=0 and map_tile_min_fresh_s=0: stale at once
  assert.equal(r.status, 200);
  assert.deepEqual(await bytes(r), body);
  const asks = fx.seen.filter((s) => s.path === up('4/3/3.png'));
  assert.equal(asks.length, 2);
  assert.equal(asks[0].inm, '');
  assert.equal(asks[1].inm, '"v1"', 'the revalidation is conditional');
  // The tile server fails: the stale copy is still served rather than nothing.
  fx.special.set(up('4/3/3.png'), { fail: true });
  r = await tile('4/3/3.png');
  assert.equal(r.status, 200);
  assert.deepEqual(await bytes(r), body);
  assert.equal(fx.asked(up('4/3/3.png')), 3);
});

test('a fresh tile per the tile server is not asked again however often it is shown', async () => {
  fx.special.set(up('6/1/1.png'), { cacheControl: 'public, max-age=86400' });
  await bytes(await tile('6/1/1.png'));
  for (let i = 0; i < 3; i++) assert.equal((await tile('6/1/1.png')).status, 200);
  assert.equal(fx.asked(up('6/1/1.png')), 1);
});

test('coordinates outside the zoom and the tile grid are 400 invalid_tile', async () => {
  const before = fx.seen.length;
  for (const p of ['20/0/0.png', '3/8/0.png', '3/0/8.png', '0/1/0.png', '-1/0/0.png', 'a/0/0.png',
    '3/01/0.png', '3/0/0.jpg', '3/0/0', '3/0/.png', '99999999/0/0.png']) {
    const r = await tile(p);
    assert.equal(r.status, 400, p);
    assert.equal((await r.json()).error.code, 'invalid_tile', p);
  }
  assert.equal((await tile('19/524287/524287.png', {}, 'HEAD')).status, 200, 'the last tile of zoom 19 is fine');
  assert.equal(fx.seen.length, before + 1, 'nothing out of range reaches the tile server');
});

test('an answer that is not a PNG is refused (502) and not kept', async () => {
  fx.special.set(up('2/1/1.png'), { type: 'text/html', body: Buffer.from('<html>blocked</html>') });
  let r = await tile('2/1/1.png');
  assert.equal(r.status, 502);
  assert.equal((await r.json()).error.code, 'tile_upstream_invalid');
  r = await tile('2/1/1.png');
  assert.equal(r.status, 502);
  assert.equal(fx.asked(up('2/1/1.png')), 2, 'nothing was cached');
  // Labelled image/png but not one.
  fx.special.set(up('2/2/1.png'), { body: Buffer.from('GIF89a not a png at all') });
  r = await tile('2/2/1.png');
  assert.equal(r.status, 502);
  assert.equal((await r.json()).error.code, 'tile_upstream_invalid');
  // The tile server's own errors.
  fx.special.set(up('2/3/1.png'), { fail: true });
  r = await tile('2/3/1.png');
  assert.equal(r.status, 502);
  assert.equal((await r.json()).error.code, 'tile_upstream_failed');
});

test('fetches per client address are limited; cached tiles do not count', async () => {
  const who = { 'x-forwarded-for': '192.0.2.77' };
  for (let i = 0; i < LIMIT; i++) {
    const r = await tile(`10/${i}/7.png`, who);
    assert.equal(r.status, 200, `fetch ${i}`);
  }
  let r = await tile('10/900/7.png', who);
  assert.equal(r.status, 429);
  assert.equal((await r.json()).error.code, 'rate_limited');
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  assert.equal(fx.asked(up('10/900/7.png')), 0);
  r = await tile('10/3/7.png', who); // cached: still served
  assert.equal(r.status, 200);
  r = await tile('10/900/7.png', { 'x-forwarded-for': '192.0.2.78' }); // someone else
  assert.equal(r.status, 200);
});

test('/metrics counts hits, misses and errors', async () => {
  const r = await api(srv.url, 'GET', '/metrics', { as: op });
  assert.equal(r.status, 200);
  const val = (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(r.text)?.[1]);
  assert.ok(val('araldo_tiles_hits_total') >= 5);
  assert.ok(val('araldo_tiles_misses_total') >= 10);
  assert.ok(val('araldo_tiles_errors_total') >= 3);
  assert.ok(val('araldo_tiles_limited_total') >= 1);
  assert.ok(val('araldo_tiles_cache_bytes') > 0);
});

test('the org answer tells the app where the tiles are', async () => {
  const r = await api(srv.url, 'GET', '/api/v1/orgs/valdoro');
  assert.equal(r.status, 200);
  assert.deepEqual(r.data.map, { tile_url: '/tiles/{z}/{x}/{y}.png', max_zoom: 19, attribution: '© OpenStreetMap contributors' });
});

test('past map_tile_cache_mb the least recently used tiles are deleted', async () => {
  const big = 400 * 1024;
  for (const p of ['8/1/1.png', '8/1/2.png', '8/1/3.png']) fx.special.set(up(p), { pad: big });
  const get = async (p) => { const r = await tile(p); assert.equal(r.status, 200, p); return bytes(r); };
  await get('8/1/1.png');
  await get('8/1/2.png');
  await get('8/1/1.png'); // used again: now 8/1/2 is the least recently used of the big ones
  await get('8/1/3.png'); // 1.2 MB > 1 MiB: evict
  const files = readdirSync(join(srv.data, 'tiles', '8', '1'));
  assert.ok(files.includes('1.tile') && files.includes('3.tile'), files.join(' '));
  assert.ok(!files.includes('2.tile'), `8/1/2 should be evicted: ${files.join(' ')}`);
  assert.equal(fx.asked(up('8/1/1.png')), 1);
  assert.deepEqual(await get('8/1/2.png'), tilePng(8, 1, 2, { pad: big }));
  assert.equal(fx.asked(up('8/1/2.png')), 2, 'an evicted tile is fetched again');
  const m = await api(srv.url, 'GET', '/metrics', { as: op });
  assert.ok(Number(/^araldo_tiles_evicted_total (\d+)$/m.exec(m.text)[1]) >= 1);
  assert.ok(Number(/^araldo_tiles_cache_bytes (\d+)$/m.exec(m.text)[1]) <= 1024 * 1024);
});

test('the cache survives a restart', async () => {
  await srv.stop();
  srv = await startServer({
    data: dataDir,
    sets: { map_tile_url: fx.template, push_allow_hosts: '127.0.0.1', push_ca_file: certs.ca, public_url: PUBLIC },
  });
  const r = await tile('8/1/3.png'); // fresh for an hour (the fixture's max-age): not asked again
  assert.equal(r.status, 200);
  assert.deepEqual(await bytes(r), tilePng(8, 1, 3, { pad: 400 * 1024 }));
  assert.equal(fx.asked(up('8/1/3.png')), 1);
});

test('no map_tile_url: no map (404 map_off), and the org answer says so', async () => {
  const off = await startServer({});
  try {
    const r = await fetch(`${off.url}/tiles/1/0/0.png`);
    assert.equal(r.status, 404);
    assert.equal((await r.json()).error.code, 'map_off');
    const t = operatorToken(off.data);
    await api(off.url, 'POST', '/api/v1/orgs', { as: t, body: { slug: 'spento', name: 'Comune Spento' } });
    const o = await api(off.url, 'GET', '/api/v1/orgs/spento');
    assert.equal(o.data.map, null);
  } finally {
    await off.stop();
    off.cleanup();
  }
});
