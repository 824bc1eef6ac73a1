// SPDX-License-Identifier: AGPL-3.0-or-later
// Invite QR codes (SVG and PNG), the printable poster and the invite landing page, against the
// real binary: the QR decodes to the invite link (checked by rendering the SVG's modules back
// into the PNG's grid), pages carry no inline script or style, dead invites give 404/410, and
// anyone holding a live code gets them (the code is the capability).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorld, ROLES } from './lib/world.mjs';

let w;
let code;

before(async () => {
  w = await buildWorld();
  code = (await w.ok(201, 'POST', `/api/v1/channels/${w.main}/invites`, { as: w.tok.channel_owner, body: {} })).code;
});
after(async () => {
  await w?.srv.stop();
  w?.srv.cleanup();
});

// The dark modules of a QR PNG (grey, 8-bit, `scale` pixels per module, 4-module quiet zone).
function pngModules(buf, scale = 10) {
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG');
  let i = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let color = 0;
  const idat = [];
  while (i < buf.length) {
    const len = buf.readUInt32BE(i);
    const type = buf.subarray(i + 4, i + 8).toString('latin1');
    const data = buf.subarray(i + 8, i + 8 + len);
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); depth = data[8]; color = data[9]; }
    if (type === 'IDAT') idat.push(data);
    i += 12 + len;
  }
  assert.equal(width, height);
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = color === 0 ? 1 : color === 2 ? 3 : color === 4 ? 2 : 4;
  assert.ok(depth === 8 || depth === 1, `bit depth ${depth}`);
  const rowBytes = depth === 1 ? Math.ceil(width / 8) : width * bpp;
  // undo the PNG row filters (RFC 2083 §6)
  const px = Buffer.alloc(rowBytes * height);
  const step = depth === 1 ? 1 : bpp;
  for (let y = 0; y < height; y++) {
    const f = raw[y * (rowBytes + 1)];
    for (let x = 0; x < rowBytes; x++) {
      const v = raw[y * (rowBytes + 1) + 1 + x];
      const a = x >= step ? px[y * rowBytes + x - step] : 0;
      const b = y > 0 ? px[(y - 1) * rowBytes + x] : 0;
      const c = x >= step && y > 0 ? px[(y - 1) * rowBytes + x - step] : 0;
      let p = 0;
      if (f === 1) p = a;
      else if (f === 2) p = b;
      else if (f === 3) p = (a + b) >> 1;
      else if (f === 4) {
        const q = a + b - c;
        const pa = Math.abs(q - a); const pb = Math.abs(q - b); const pc = Math.abs(q - c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * rowBytes + x] = (v + p) & 0xff;
    }
  }
  const dark = (x, y) => (depth === 1 ? !((px[y * rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1) : px[y * rowBytes + x * bpp] < 128);
  const n = width / scale;
  const out = new Set();
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (dark(x * scale + scale / 2, y * scale + scale / 2)) out.add(`${x},${y}`);
  return { n, dark: out };
}

function svgModules(svg) {
  const m = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  assert.ok(m);
  const d = /<path fill="#000" d="([^"]*)"/.exec(svg)[1];
  const out = new Set();
  for (const [, x, y, run] of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    for (let k = 0; k < Number(run); k++) out.add(`${Number(x) + k},${y}`);
  }
  return { n: Number(m[1]), dark: out };
}

test('the QR code is the same in SVG and PNG, with a quiet zone, and looks like a QR code', async () => {
  const svg = await fetch(`${w.srv.url}/api/v1/invites/${code}/qr.svg`);
  assert.equal(svg.status, 200);
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  const text = await svg.text();
  assert.match(text, /^<\?xml/);
  assert.ok(!/<script/i.test(text));
  const png = await fetch(`${w.srv.url}/api/v1/invites/${code}/qr.png`);
  assert.equal(png.status, 200);
  assert.equal(png.headers.get('content-type'), 'image/png');
  const a = svgModules(text);
  const b = pngModules(Buffer.from(await png.arrayBuffer()));
  assert.equal(a.n, b.n);
  assert.deepEqual([...a.dark].sort(), [...b.dark].sort());
  // the three finder patterns: 7x7 dark frames in three corners, inside the 4-module quiet zone
  const q = 4;
  const size = a.n - 2 * q;
  assert.equal((size - 21) % 4, 0, 'a QR version size');
  for (const [ox, oy] of [[q, q], [q + size - 7, q], [q, q + size - 7]]) {
    for (let k = 0; k < 7; k++) {
      assert.ok(a.dark.has(`${ox + k},${oy}`) && a.dark.has(`${ox},${oy + k}`), 'finder pattern');
    }
  }
  for (let k = 0; k < a.n; k++) assert.ok(!a.dark.has(`${k},0`) && !a.dark.has(`0,${k}`), 'quiet zone');
});

test('a phone camera reads the invite link: zbarimg decodes the PNG and the SVG', async (t) => {
  const have = (cmd) => !spawnSync(cmd, ['--version'], { encoding: 'utf8' }).error;
  if (!have('zbarimg') || !have('vips')) {
    t.skip('needs zbarimg (zbar-tools) and vips (libvips-tools): scripts/install-deps.sh');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'araldo-qr-'));
  try {
    const png = join(dir, 'qr.png');
    const svg = join(dir, 'qr.svg');
    const svgPng = join(dir, 'qr-svg.png');
    writeFileSync(png, Buffer.from(await (await fetch(`${w.srv.url}/api/v1/invites/${code}/qr.png`)).arrayBuffer()));
    writeFileSync(svg, await (await fetch(`${w.srv.url}/api/v1/invites/${code}/qr.svg`)).text());
    assert.equal(spawnSync('vips', ['copy', `${svg}[scale=8]`, svgPng]).status, 0);
    for (const f of [png, svgPng]) {
      const r = spawnSync('zbarimg', ['-q', '--raw', f], { encoding: 'utf8' });
      assert.equal(r.stdout.trim(), `${w.srv.url}/i/${code}`, f);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('poster and landing page: Italian, the channel, the QR and the link; no inline script or style', async () => {
  const ch = (await w.ok(200, 'GET', `/api/v1/channels/${w.main}`));
  for (const path of [`/i/${code}/poster`, `/i/${code}`]) {
    const r = await fetch(`${w.srv.url}${path}`);
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    const html = await r.text();
    assert.match(html, /<html lang="it">/);
    assert.ok(html.includes(ch.name), 'the channel name');
    assert.ok(html.includes(path.endsWith('poster') ? '<link rel="stylesheet" href="/poster.css">' : '<link rel="stylesheet" href="/css/araldo.css">'));
    assert.ok(!/<style|\sstyle=|<script>|\son[a-z]+=/i.test(html), 'nothing the CSP would block');
    if (path.endsWith('poster')) {
      assert.ok(html.includes('Segui il canale del Comune'));
      assert.ok(html.includes(`/api/v1/invites/${code}/qr.svg`));
      assert.ok(html.includes(`/i/${code}</p>`), 'the short link printed');
    } else {
      // the channel's preview (api/pages.c) with Segui carrying the code
      assert.ok(html.includes('<script type="module" src="/app/page.js">'));
      assert.ok(html.includes(`data-invite="${code}"`));
    }
  }
  const css = await fetch(`${w.srv.url}/poster.css`);
  assert.equal(css.status, 200);
  assert.match(await css.text(), /@page \{ size: A4/);
});

test('hostile channel names are escaped on the pages', async () => {
  const handle = await w.channel({ name: '<img src=x onerror=alert(1)> & "Comune"' });
  const c = (await w.ok(201, 'POST', `/api/v1/channels/${handle}/invites`, { as: w.tok.channel_owner, body: {} })).code;
  const html = await (await fetch(`${w.srv.url}/i/${c}/poster`)).text();
  assert.ok(!html.includes('<img src=x'));
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Comune&quot;'));
});

test('unknown and dead invites: 404 and 410 with the precise code, never cached', async () => {
  for (const suffix of ['/qr.svg', '/qr.png', '/poster', '']) {
    const path = suffix.startsWith('/qr') ? `/api/v1/invites/nonesiste123${suffix}` : `/i/nonesiste123${suffix}`;
    const r = await fetch(`${w.srv.url}${path}`);
    assert.equal(r.status, 404, path);
    assert.equal(r.headers.get('cache-control'), 'no-store', path);
  }
  const c = (await w.ok(201, 'POST', `/api/v1/channels/${w.main}/invites`, { as: w.tok.channel_owner, body: {} })).code;
  await w.ok(204, 'DELETE', `/api/v1/channels/${w.main}/invites/${c}`, { as: w.tok.channel_owner });
  for (const path of [`/api/v1/invites/${c}`, `/api/v1/invites/${c}/qr.svg`, `/api/v1/invites/${c}/qr.png`]) {
    const r = await fetch(`${w.srv.url}${path}`);
    assert.equal(r.status, 410, path);
    assert.equal(r.headers.get('cache-control'), 'no-store', path);
    assert.equal((await r.json()).error.code, 'invite_revoked', path);
  }
  // the used-up one: one use, then the QR answers invite_used_up like the API does
  const once = (await w.ok(201, 'POST', `/api/v1/channels/${w.main}/invites`, { as: w.tok.channel_owner, body: { max_uses: 1 } })).code;
  const f = (await w.ok(201, 'POST', '/api/v1/followers')).token;
  await w.ok(204, 'PUT', `/api/v1/channels/${w.main}/follow`, { as: f, body: { invite: once } });
  for (const path of [`/api/v1/invites/${once}`, `/api/v1/invites/${once}/qr.png`]) {
    const r = await fetch(`${w.srv.url}${path}`);
    assert.equal(r.status, 410, path);
    assert.equal((await r.json()).error.code, 'invite_used_up', path);
  }
});

test('a person opening a dead invite link gets a page, in Italian then English, not JSON', async () => {
  const ch = await w.ok(200, 'GET', `/api/v1/channels/${w.main}`);
  const c = (await w.ok(201, 'POST', `/api/v1/channels/${w.main}/invites`, { as: w.tok.channel_owner, body: {} })).code;
  await w.ok(204, 'DELETE', `/api/v1/channels/${w.main}/invites/${c}`, { as: w.tok.channel_owner });
  for (const path of [`/i/${c}`, `/i/${c}/poster`]) {
    const r = await fetch(`${w.srv.url}${path}`);
    assert.equal(r.status, 410, path);
    assert.match(r.headers.get('content-type'), /^text\/html; charset=utf-8/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match(r.headers.get('content-security-policy'), /script-src 'self'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    const html = await r.text();
    assert.match(html, /<html lang="it">/);
    assert.match(html, /<main data-error="invite_revoked">/);
    assert.match(html, /revocato/);
    assert.match(html, /Chiedi al Comune un nuovo link/);
    assert.match(html, /<section lang="en">[\s\S]*was revoked[\s\S]*Ask the Comune for a new invite link/);
    assert.ok(!/<style|\sstyle=|<script|\son[a-z]+=/i.test(html), 'nothing the CSP would block');
    if (ch.visibility === 'listed') assert.ok(html.includes(`href="/c/${w.main}"`), 'a listed channel is linked');
  }
  const unknown = await fetch(`${w.srv.url}/i/nonesiste123`);
  assert.match(await unknown.text(), /data-error="invite_not_found"/);
});

test('the dead-invite page names a listed channel (escaped), never an unlisted one', async () => {
  const listed = await w.channel({ name: '<b>Notizie</b> & "avvisi"' });
  const hidden = await w.channel({ name: 'Canale riservato', visibility: 'unlisted' });
  const pages = {};
  for (const h of [listed, hidden]) {
    const c = (await w.ok(201, 'POST', `/api/v1/channels/${h}/invites`, { as: w.tok.channel_owner, body: {} })).code;
    await w.ok(204, 'DELETE', `/api/v1/channels/${h}/invites/${c}`, { as: w.tok.channel_owner });
    pages[h] = await (await fetch(`${w.srv.url}/i/${c}`)).text();
  }
  assert.ok(pages[listed].includes('&lt;b&gt;Notizie&lt;/b&gt; &amp; &quot;avvisi&quot;'));
  assert.ok(!pages[listed].includes('<b>Notizie'));
  assert.ok(pages[listed].includes(`href="/c/${listed}"`));
  assert.ok(!pages[hidden].includes('Canale riservato'), 'an unlisted channel is not revealed');
  assert.ok(!pages[hidden].includes(hidden));
});

test('authorization: whoever holds a live code gets the QR and the pages, whoever they are', async () => {
  const got = {};
  for (const role of ROLES) {
    const h = role === 'anonymous' ? {} : { authorization: `Bearer ${w.tok[role]}` };
    got[role] = [];
    for (const path of [`/api/v1/invites/${code}/qr.svg`, `/api/v1/invites/${code}/qr.png`, `/i/${code}/poster`, `/i/${code}`]) {
      got[role].push((await fetch(`${w.srv.url}${path}`, { headers: h })).status);
    }
  }
  assert.deepEqual(got, Object.fromEntries(ROLES.map((r) => [r, [200, 200, 200, 200]])));
});
