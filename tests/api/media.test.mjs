// SPDX-License-Identifier: AGPL-3.0-or-later
// Media over real HTTP against the real binary: uploads typed by their bytes (never by name or
// Content-Type), metadata stripped (checked with exiftool), every refusal a clear 4xx that
// leaves nothing under DATA_DIR/media, the per-kind caps and the pixel cap (settings), serving
// with ETag, Range and the right headers, alt text required for images in posts, and who may
// do what.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer, operatorToken, tempDir } from './lib/server.mjs';
import { png, pngBomb, jpeg, haveTool, exifTags, oggOpus, pdf } from '../fixtures/media/gen.mjs';

let srv;
let scratch;
const tok = {};
const tools = { vips: haveTool('vips'), exiftool: haveTool('exiftool') };
const bearer = (t) => (t ? { authorization: `Bearer ${t}` } : {});

async function call(method, path, { as, body, headers = {} } = {}) {
  const init = { method, headers: { ...bearer(as), ...headers } };
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
  const r = await fetch(`${srv.url}${path}`, init);
  const buf = Buffer.from(await r.arrayBuffer());
  let data = null;
  try { data = JSON.parse(buf.toString('utf8')); } catch { data = null; }
  return { status: r.status, headers: r.headers, data, buf };
}

// Upload `buf` as multipart (the browser's way, with a declared type and a file name that mean
// nothing to the server) or as a raw body.
async function upload(buf, { as = tok.staff, raw = false, declared = 'image/jpeg', name = 'foto.jpg' } = {}) {
  const init = { method: 'POST', headers: bearer(as) };
  if (raw) {
    init.body = buf;
    init.headers['content-type'] = declared;
  } else {
    const fd = new FormData();
    fd.append('file', new Blob([buf], { type: declared }), name);
    init.body = fd;
  }
  const r = await fetch(`${srv.url}/api/v1/media`, init);
  const text = await r.text();
  let data = null;
  try { data = JSON.parse(text); } catch { data = text; }
  return { status: r.status, data, headers: r.headers };
}

function mediaFiles() {
  const root = join(srv.data, 'media');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile()).map((d) => join(d.parentPath ?? d.path, d.name)).sort();
}

// A refused upload: the status and code, and not one new file (temporary or not) on disk.
async function refused(buf, status, code, opts) {
  const beforeFiles = mediaFiles();
  const r = await upload(buf, opts);
  assert.equal(r.status, status, JSON.stringify(r.data));
  assert.equal(r.data.error.code, code);
  assert.ok(r.data.error.message.length > 10, 'the message tells what to do');
  assert.deepEqual(mediaFiles(), beforeFiles, 'nothing left on disk');
  return r;
}

before(async () => {
  scratch = tempDir('araldo-media-fx-');
  srv = await startServer({ sets: { media_document_max_bytes: 2048, media_max_pixels: 5000000 } });
  tok.operator = operatorToken(srv.data);
  let r = await call('POST', '/api/v1/orgs', { as: tok.operator, body: { slug: 'comune-a', name: 'Comune di A' } });
  assert.equal(r.status, 201);
  r = await call('POST', '/api/v1/orgs/comune-a/staff', { as: tok.operator, body: { email: 'staff@a.it', role: 'staff' } });
  assert.equal(r.status, 201);
  tok.staff = operatorToken(srv.data, 'staff@a.it');
  r = await call('POST', '/api/v1/channels', {
    as: tok.staff, body: { org: 'comune-a', handle: 'notizie', name: 'Notizie', category: 'news', language: 'it' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.data));
});

after(async () => {
  await srv?.stop();
  srv?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('a PNG declared as image/jpeg is handled as a PNG and comes out in two sizes, WebP or JPEG', async () => {
  const r = await upload(png(1600, 900), { declared: 'image/jpeg', name: 'foto.jpg' });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  assert.equal(r.data.kind, 'image');
  assert.equal(r.data.mime, 'image/png');
  assert.match(r.data.id, /^[A-Za-z0-9_-]{22}$/);
  assert.deepEqual([r.data.width, r.data.height], [1280, 720]);
  const webp = await call('GET', r.data.small_url, { headers: { accept: 'image/avif,image/webp,*/*' } });
  assert.equal(webp.status, 200);
  assert.equal(webp.headers.get('content-type'), 'image/webp');
  assert.equal(webp.buf.subarray(8, 12).toString('latin1'), 'WEBP');
  const jpg = await call('GET', r.data.large_url, { headers: { accept: 'image/jpeg' } });
  assert.equal(jpg.headers.get('content-type'), 'image/jpeg');
  assert.equal(jpg.buf[0], 0xff);
  assert.equal(jpg.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(jpg.headers.get('x-content-type-options'), 'nosniff');
  assert.match(jpg.headers.get('etag'), /^"[0-9a-f]{32}"$/);
  assert.equal(jpg.headers.get('accept-ranges'), 'bytes');
  const again = await call('GET', r.data.large_url, { headers: { accept: 'image/jpeg', 'if-none-match': jpg.headers.get('etag') } });
  assert.equal(again.status, 304);
  // the same bytes uploaded again: a new id, the same files (content-addressed)
  const n = mediaFiles().length;
  const dup = await upload(png(1600, 900), { raw: true, declared: 'image/png' });
  assert.equal(dup.status, 201);
  assert.notEqual(dup.data.id, r.data.id);
  assert.equal(mediaFiles().length, n, 'deduplicated');
});

test('a JPEG with GPS EXIF comes out without any EXIF, GPS or camera data, turned upright', async (t) => {
  if (!tools.vips || !tools.exiftool) {
    t.skip('needs vips (libvips-tools) and exiftool (libimage-exiftool-perl): scripts/install-deps.sh');
    return;
  }
  const src = jpeg(scratch, { w: 64, h: 48, gps: true, rotate: true });
  writeFileSync(join(scratch, 'in.jpg'), src);
  const inTags = exifTags(join(scratch, 'in.jpg'));
  assert.ok(inTags['EXIF:GPSLatitude'], 'the fixture has GPS');
  const r = await upload(src);
  assert.equal(r.status, 201, JSON.stringify(r.data));
  assert.deepEqual([r.data.width, r.data.height], [48, 64], 'orientation 6 applied');
  for (const [url, accept] of [[r.data.small_url, 'image/webp'], [r.data.large_url, 'image/webp'],
    [r.data.small_url, 'image/jpeg'], [r.data.large_url, 'image/jpeg']]) {
    const got = await call('GET', url, { headers: { accept } });
    assert.equal(got.status, 200);
    const f = join(scratch, `out-${accept.split('/')[1]}-${url.split('/').pop()}`);
    writeFileSync(f, got.buf);
    const tags = exifTags(f);
    const leaked = Object.keys(tags).filter((k) => /^(EXIF|XMP|IPTC|ICC_Profile|MakerNotes):/.test(k) || /GPS|Make|Model|Artist/.test(k));
    assert.deepEqual(leaked, [], `${url} as ${accept} carries no metadata`);
    assert.ok(!got.buf.includes(Buffer.from('Mario Rossi')) && !got.buf.includes(Buffer.from('TestPhone')));
  }
});

test('a HEIC photo (what iPhones send) is read by libvips and served as WebP/JPEG', async (t) => {
  if (!tools.vips) {
    t.skip('needs vips (libvips-tools) to make the fixture: scripts/install-deps.sh');
    return;
  }
  const src = join(scratch, 'heic-src.png');
  const out = join(scratch, 'photo.heic');
  writeFileSync(src, png(900, 600));
  const r0 = spawnSync('vips', ['copy', src, out], { encoding: 'utf8' });
  if (r0.status !== 0) {
    t.skip(`this libvips cannot write HEIC (${r0.stderr.trim()})`);
    return;
  }
  const r = await upload(readFileSync(out), { declared: 'application/octet-stream', name: 'IMG_0001.HEIC' });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  assert.equal(r.data.mime, 'image/heic');
  assert.deepEqual([r.data.width, r.data.height], [900, 600]);
  const got = await call('GET', r.data.large_url, { headers: { accept: 'image/jpeg' } });
  assert.equal(got.headers.get('content-type'), 'image/jpeg');
});

test('refusals: executable, truncated JPEG, empty file, pixel bomb, no boundary; nothing left on disk', async (t) => {
  await refused(readFileSync(process.execPath).subarray(0, 8192), 415, 'unsupported_type', { name: 'foto.jpg', declared: 'image/jpeg' });
  await refused(Buffer.from('GIF89a\x01\x00\x01\x00'), 415, 'unsupported_type');
  await refused(Buffer.alloc(0), 400, 'empty_file');
  await refused(Buffer.alloc(0), 400, 'empty_file', { raw: true });
  await refused(pngBomb(), 422, 'image_too_large');
  // media_max_pixels (set to 5,000,000 here) is the limit: 3000 x 2000 is past it
  await refused(pngBomb(3000, 2000), 422, 'image_too_large');
  // a PNG cut in the middle of its pixels
  const whole = png(400, 300);
  await refused(whole.subarray(0, whole.length >> 1), 422, 'image_unreadable');
  if (tools.vips) {
    const j = jpeg(scratch, { w: 640, h: 480 });
    await refused(j.subarray(0, j.length >> 1), 422, 'image_unreadable');
  } else {
    t.diagnostic('vips CLI missing: truncated JPEG case skipped');
  }
  // multipart without a boundary, with a wrong one, without a file field
  let beforeFiles = mediaFiles();
  let r = await fetch(`${srv.url}/api/v1/media`, {
    method: 'POST', headers: { ...bearer(tok.staff), 'content-type': 'multipart/form-data' }, body: png(),
  });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.code, 'invalid_multipart');
  r = await fetch(`${srv.url}/api/v1/media`, {
    method: 'POST', headers: { ...bearer(tok.staff), 'content-type': 'multipart/form-data; boundary=abc' }, body: png(),
  });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.code, 'invalid_multipart');
  const fd = new FormData();
  fd.append('other', new Blob([png()]), 'x.png');
  r = await fetch(`${srv.url}/api/v1/media`, { method: 'POST', headers: bearer(tok.staff), body: fd });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.code, 'missing_file');
  assert.deepEqual(mediaFiles(), beforeFiles);
  // the per-kind cap (media_document_max_bytes = 2048 here): 413, nothing written
  await refused(pdf(3000), 413, 'too_large', { declared: 'application/pdf', name: 'delibera.pdf' });
  beforeFiles = mediaFiles();
  assert.ok(!beforeFiles.some((f) => f.includes('.tmp-')), 'no temporary files');
});

test('voice notes seek with Range: 206 with the right bytes, 416 past the end', async () => {
  const voice = oggOpus(5000);
  const r = await upload(voice, { declared: 'video/mp4', name: 'nota.mp4' });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  assert.equal(r.data.kind, 'voice');
  assert.equal(r.data.mime, 'audio/ogg');
  const url = r.data.url;
  const whole = await call('GET', url);
  assert.equal(whole.status, 200);
  assert.deepEqual(whole.buf, voice);
  assert.equal(whole.headers.get('content-type'), 'audio/ogg');
  let p = await call('GET', url, { headers: { range: 'bytes=100-199' } });
  assert.equal(p.status, 206);
  assert.equal(p.headers.get('content-range'), `bytes 100-199/${voice.length}`);
  assert.deepEqual(p.buf, voice.subarray(100, 200));
  p = await call('GET', url, { headers: { range: 'bytes=4900-' } });
  assert.equal(p.status, 206);
  assert.deepEqual(p.buf, voice.subarray(4900));
  p = await call('GET', url, { headers: { range: 'bytes=-10' } });
  assert.equal(p.status, 206);
  assert.deepEqual(p.buf, voice.subarray(voice.length - 10));
  p = await call('GET', url, { headers: { range: 'bytes=999999-' } });
  assert.equal(p.status, 416);
  assert.equal(p.headers.get('content-range'), `bytes */${voice.length}`);
  p = await call('GET', url, { headers: { range: 'bytes=0-1,5-6' } });
  assert.equal(p.status, 200, 'several ranges: the whole file');
  p = await call('GET', url, { headers: { range: 'bytes=0-9', 'if-range': '"other"' } });
  assert.equal(p.status, 200, 'If-Range that does not match: the whole file');
  // a longer one (past 256 KiB, read off the event loop): whole and a range in its middle
  const long = oggOpus(900000);
  const big = await upload(long, { raw: true, declared: 'audio/ogg' });
  assert.equal(big.status, 201, JSON.stringify(big.data));
  const all = await call('GET', big.data.url);
  assert.equal(all.status, 200);
  assert.deepEqual(all.buf, long);
  p = await call('GET', big.data.url, { headers: { range: 'bytes=100000-499999' } });
  assert.equal(p.status, 206);
  assert.equal(p.headers.get('content-range'), `bytes 100000-499999/${long.length}`);
  assert.deepEqual(p.buf, long.subarray(100000, 500000));
  const head = await fetch(`${srv.url}${big.data.url}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(long.length));
  // an image has sizes, a voice note does not
  assert.equal((await call('GET', `${url}/small`)).status, 404);
  assert.equal((await call('GET', '/media/nope-nope-nope-nope/small')).status, 404);
});

test('PDFs download under a name the server makes', async () => {
  const r = await upload(pdf(1500), { declared: 'text/html', name: '../../etc/passwd".html' });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  assert.equal(r.data.kind, 'document');
  const got = await call('GET', r.data.url);
  assert.equal(got.headers.get('content-type'), 'application/pdf');
  assert.match(got.headers.get('content-disposition'), /^attachment; filename="documento-[A-Za-z0-9_-]{8}\.pdf"$/);
});

test('posts: images need alt text, voice notes may have a transcript, media must exist', async () => {
  const img = (await upload(png())).data.id;
  const voice = (await upload(oggOpus())).data.id;
  const doc = (await upload(pdf())).data.id;
  const postIt = (media) => call('POST', '/api/v1/channels/notizie/posts', { as: tok.staff, body: { text: 'Avviso', media } });
  let r = await postIt([{ id: img }]);
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'alt_required');
  assert.equal(r.data.error.field, 'media[0].alt');
  r = await postIt([{ id: 'non-esiste-davvero', alt: 'x' }]);
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'media_not_found');
  assert.equal(r.data.error.field, 'media[0].id');
  r = await postIt([{ id: img, alt: 'Foto', transcript: 'no' }]);
  assert.equal(r.status, 400);
  assert.equal(r.data.error.field, 'media[0].transcript');
  r = await postIt([{ id: img, alt: 'La piazza allagata' }, { id: voice, transcript: 'Attenzione: strada chiusa.' }, { id: doc }]);
  assert.equal(r.status, 201, JSON.stringify(r.data));
  assert.deepEqual(r.data.media.map(({ id, alt, transcript }) => ({ id, alt, transcript })),
    [{ id: img, alt: 'La piazza allagata', transcript: undefined }, { id: voice, alt: undefined, transcript: 'Attenzione: strada chiusa.' }, { id: doc, alt: undefined, transcript: undefined }]);
});

// The stream's first event of kind `kind` after `action()` runs, parsed.
async function nextEvent(handle, kind, action) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 10000); // never hangs: a missing event fails
  const res = await fetch(`${srv.url}/api/v1/stream?channels=${handle}`, { signal: ctl.signal });
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let text = dec.decode((await reader.read()).value); // the retry hint: the stream is live
  await action();
  try {
    for (;;) {
      const m = new RegExp(`event: ${kind}\ndata: (.*)\n`).exec(text);
      if (m) return JSON.parse(m[1]);
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended without ${kind}`);
      text += dec.decode(value);
    }
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
}

test('a post\'s media say what they are, how big, and where to fetch them, wherever the post appears', async () => {
  const img = (await upload(png(1600, 900))).data;
  const voice = (await upload(oggOpus())).data;
  const doc = (await upload(pdf())).data;
  const media = [{ id: img.id, alt: 'La piazza' }, { id: voice.id, transcript: 'Strada chiusa.' }, { id: doc.id }];
  let created;
  const event = await nextEvent('notizie', 'post.created', async () => {
    created = await call('POST', '/api/v1/channels/notizie/posts', { as: tok.staff, body: { text: 'Con allegati', media } });
    assert.equal(created.status, 201, JSON.stringify(created.data));
  });
  const want = [
    { id: img.id, alt: 'La piazza', kind: 'image', mime: 'image/png', bytes: img.bytes, width: 1280, height: 720,
      small_url: `/media/${img.id}/small`, large_url: `/media/${img.id}/large` },
    { id: voice.id, transcript: 'Strada chiusa.', kind: 'voice', mime: 'audio/ogg', bytes: voice.bytes, url: `/media/${voice.id}` },
    { id: doc.id, kind: 'document', mime: 'application/pdf', bytes: doc.bytes, url: `/media/${doc.id}` },
  ];
  assert.deepEqual(created.data.media, want, 'POST answer');
  assert.deepEqual(event.media, want, 'post.created event');
  const id = created.data.id;
  assert.deepEqual((await call('GET', `/api/v1/posts/${id}`)).data.media, want, 'GET, anonymous');
  const list = await call('GET', '/api/v1/channels/notizie/posts?limit=1');
  assert.deepEqual(list.data.posts[0].media, want, 'channel list');
  // an edit keeps the details (and its event carries them too)
  const edited = await nextEvent('notizie', 'post.edited', async () => {
    const e = await call('PATCH', `/api/v1/posts/${id}`, { as: tok.staff, body: { media: media.slice(1) } });
    assert.equal(e.status, 200, JSON.stringify(e.data));
    assert.deepEqual(e.data.media, want.slice(1));
  });
  assert.deepEqual(edited.media, want.slice(1), 'post.edited event');
  // the URLs are public, and the sizes are what comes down
  for (const m of want) {
    for (const u of [m.url, m.small_url, m.large_url].filter(Boolean)) {
      const got = await call('GET', u);
      assert.equal(got.status, 200, u);
      if (m.url) {
        assert.equal(got.headers.get('content-type'), m.mime);
        assert.equal(got.buf.length, m.bytes);
      }
    }
  }
});

test('staff details: the uploader\'s org and operators see them, nobody else', async () => {
  const id = (await upload(png())).data.id;
  let r = await call('GET', `/api/v1/media/${id}`, { as: tok.staff });
  assert.equal(r.status, 200);
  assert.equal(r.data.id, id);
  r = await call('GET', `/api/v1/media/${id}`, { as: tok.operator });
  assert.equal(r.status, 200);
  r = await call('GET', `/api/v1/media/${id}`);
  assert.equal(r.status, 401);
  const f = await call('POST', '/api/v1/followers');
  r = await call('GET', `/api/v1/media/${id}`, { as: f.data.token });
  assert.equal(r.status, 401);
  r = await upload(png(), { as: f.data.token });
  assert.equal(r.status, 401, 'followers cannot upload');
  r = await upload(png(), { as: null });
  assert.equal(r.status, 401, 'anonymous cannot upload');
});

test('media_keep_originals: the upload is kept as sent, and still never served', async () => {
  const s = await startServer({ sets: { media_keep_originals: 'true' } });
  try {
    const t = operatorToken(s.data);
    const original = png(700, 500);
    const fd = new FormData();
    fd.append('file', new Blob([original]), 'x.png');
    const r = await fetch(`${s.url}/api/v1/media`, { method: 'POST', headers: bearer(t), body: fd });
    assert.equal(r.status, 201);
    const { id } = await r.json();
    const root = join(s.data, 'media');
    const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
      .map((d) => readFileSync(join(d.parentPath ?? d.path, d.name)));
    assert.equal(files.length, 5, 'four sizes and the original');
    assert.ok(files.some((f) => f.equals(original)), 'the original, byte for byte');
    for (const path of [`/media/${id}`, `/media/${id}/small`, `/media/${id}/large`]) {
      const got = Buffer.from(await (await fetch(`${s.url}${path}`)).arrayBuffer());
      assert.ok(!got.equals(original), `${path} is a processed size`);
    }
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test('orphaned media: rows a day after upload, then their files, go with the retention sweeper', async () => {
  // A server of its own: the test clock moves two days ahead across a restart.
  const s = await startServer();
  try {
    const t = operatorToken(s.data);
    const up = async (buf) => {
      const fd = new FormData();
      fd.append('file', new Blob([buf]), 'x');
      const r = await fetch(`${s.url}/api/v1/media`, { method: 'POST', headers: bearer(t), body: fd });
      assert.equal(r.status, 201);
      return (await r.json()).id;
    };
    const kept = await up(png(700, 500));
    const orphan = await up(png(800, 600));
    await fetch(`${s.url}/api/v1/orgs`, { method: 'POST', headers: { ...bearer(t), 'content-type': 'application/json' }, body: JSON.stringify({ slug: 'comune-c', name: 'Comune di C' }) });
    let r = await fetch(`${s.url}/api/v1/channels`, {
      method: 'POST', headers: { ...bearer(t), 'content-type': 'application/json' },
      body: JSON.stringify({ org: 'comune-c', handle: 'news', name: 'News', category: 'news', language: 'it', retention_days: 30 }),
    });
    assert.equal(r.status, 201, await r.text());
    r = await fetch(`${s.url}/api/v1/channels/news/posts`, {
      method: 'POST', headers: { ...bearer(t), 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x', media: [{ id: kept, alt: 'k' }] }),
    });
    assert.equal(r.status, 201, await r.text());
    const root = join(s.data, 'media');
    const count = () => readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length;
    assert.equal(count(), 8);
    await s.stop();
    const s2 = await startServer({ data: s.data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(2 * 24 * 3600 * 1000) } });
    try {
      let left = count();
      for (let i = 0; i < 50 && left !== 4; i++) {
        await new Promise((res) => setTimeout(res, 100));
        left = count();
      }
      assert.equal(left, 4, 'the orphan\'s four files are gone, the kept one\'s stay');
      assert.equal((await fetch(`${s2.url}/media/${orphan}/small`)).status, 404);
      assert.equal((await fetch(`${s2.url}/media/${kept}/small`)).status, 200);
    } finally {
      await s2.stop();
    }
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test('authorization matrix: every media endpoint × seven kinds of caller', async () => {
  const { buildWorld, ROLES } = await import('./lib/world.mjs');
  const w = await buildWorld();
  try {
    const as = (role) => (role === 'anonymous' ? undefined : w.tok[role]);
    const send = async (role) => {
      const fd = new FormData();
      fd.append('file', new Blob([png(40, 30)]), 'x.png');
      const r = await fetch(`${w.srv.url}/api/v1/media`, { method: 'POST', headers: bearer(as(role)), body: fd });
      return { status: r.status, data: await r.json() };
    };
    const ownerMedia = (await send('channel_owner')).data.id; // org A's
    const expect = {
      upload: { anonymous: 401, follower: 401, other_org: 201, channel_admin: 201, channel_owner: 201, org_admin: 201, operator: 201 },
      details: { anonymous: 401, follower: 401, other_org: 404, channel_admin: 200, channel_owner: 200, org_admin: 200, operator: 200 },
      small: Object.fromEntries(ROLES.map((r) => [r, 200])),
      large: Object.fromEntries(ROLES.map((r) => [r, 200])),
    };
    const got = { upload: {}, details: {}, small: {}, large: {} };
    for (const role of ROLES) {
      got.upload[role] = (await send(role)).status;
      got.details[role] = (await w.call('GET', `/api/v1/media/${ownerMedia}`, { as: as(role) })).status;
      got.small[role] = (await w.call('GET', `/media/${ownerMedia}/small`, { as: as(role) })).status;
      got.large[role] = (await w.call('GET', `/media/${ownerMedia}/large`, { as: as(role) })).status;
    }
    assert.deepEqual(got, expect);
  } finally {
    await w.srv.stop();
    w.srv.cleanup();
  }
});
