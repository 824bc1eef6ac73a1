// SPDX-License-Identifier: AGPL-3.0-or-later
// Posts, pins, edits, views and scheduled publishing over real HTTP on loopback against the real
// binary: success, who gets 401/403/404, bad input, that no response names a post's author, that
// every post answered 201 survives kill -9, and that scheduled posts go out across a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startServer, operatorToken } from './lib/server.mjs';
import { png } from '../fixtures/media/gen.mjs';

let srv;
let dataDir; // restarts reuse it; removed at the end
const tok = {}; // role name -> staff API token
const follower = {}; // name -> follower token
const bearer = (t) => (t ? { authorization: `Bearer ${t}` } : {});
const seen = []; // every response text except edit histories: checked for authors at the end
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const img = []; // ids of uploaded images: posts reference only uploaded media

async function call(method, path, { as, body, raw, headers = {}, history = false } = {}) {
  const init = { method, headers: { ...bearer(as), ...headers } };
  if (raw !== undefined) { init.body = raw; init.headers['content-type'] = 'application/json'; }
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
  const r = await fetch(`${srv.url}${path}`, init);
  const text = await r.text();
  if (!history) seen.push(text);
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: r.status, headers: r.headers, data, text };
}

async function addStaff(slug, email, role) {
  const r = await call('POST', `/api/v1/orgs/${slug}/staff`, { as: tok.operator, body: { email, role } });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  return operatorToken(srv.data, email);
}

async function newFollower() {
  const r = await call('POST', '/api/v1/followers');
  assert.equal(r.status, 201);
  return r.data.token;
}

async function createChannel(handle, over = {}) {
  const r = await call('POST', '/api/v1/channels', {
    as: tok.owner,
    body: { org: 'comune-a', handle, name: `Canale ${handle}`, category: 'news', language: 'it', ...over },
  });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  return r.data;
}

async function post(handle, body, as = tok.admin) {
  const r = await call('POST', `/api/v1/channels/${handle}/posts`, { as, body });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  return r.data;
}

before(async () => {
  srv = await startServer();
  dataDir = srv.data;
  tok.operator = operatorToken(srv.data);
  for (const [slug, name] of [['comune-a', 'Comune di A'], ['comune-b', 'Comune di B']]) {
    const r = await call('POST', '/api/v1/orgs', { as: tok.operator, body: { slug, name } });
    assert.equal(r.status, 201, JSON.stringify(r.data));
  }
  for (const [who, slug, email, role] of [
    ['owner', 'comune-a', 'owner@a.it', 'staff'],
    ['admin', 'comune-a', 'admin@a.it', 'staff'],
    ['staff', 'comune-a', 'staff@a.it', 'staff'],
    ['orgadmin', 'comune-a', 'orgadmin@a.it', 'org_admin'],
    ['other', 'comune-b', 'other@b.it', 'staff'],
  ]) tok[who] = await addStaff(slug, email, role);
  follower.one = await newFollower();
  follower.two = await newFollower();
  await createChannel('notizie');
  await createChannel('riservato', { visibility: 'unlisted' });
  let r = await call('POST', '/api/v1/channels/notizie/admins', { as: tok.owner, body: { email: 'admin@a.it' } });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  r = await call('POST', `/api/v1/invitations/${r.data.id}/accept`, { as: tok.admin });
  assert.equal(r.status, 200, JSON.stringify(r.data));
  for (let i = 0; i < 11; i++) {
    const fd = new FormData();
    fd.append('file', new Blob([png(8 + i, 8)]), 'x.png');
    const u = await fetch(`${srv.url}/api/v1/media`, { method: 'POST', headers: bearer(tok.admin), body: fd });
    assert.equal(u.status, 201);
    img.push((await u.json()).id);
  }
});
after(async () => {
  await srv?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('create: 201 with the post as everyone sees it, rendered and without an author', async () => {
  const r = await call('POST', '/api/v1/channels/notizie/posts', {
    as: tok.admin,
    body: { text: '*Avviso:* strada chiusa <b>oggi</b> https://comune.example.it/avvisi', media: [{ id: img[0], alt: 'La strada' }], importance: 'important' },
  });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  const p = r.data;
  assert.equal(typeof p.id, 'string');
  assert.equal(r.headers.get('location'), `/api/v1/posts/${p.id}`);
  assert.equal(p.channel, 'notizie');
  assert.equal(p.importance, 'important');
  assert.deepEqual(p.media.map(({ id, alt, kind }) => ({ id, alt, kind })), [{ id: img[0], alt: 'La strada', kind: 'image' }]);
  assert.equal(p.html, '<strong>Avviso:</strong> strada chiusa &lt;b&gt;oggi&lt;/b&gt; '
    + '<a href="https://comune.example.it/avvisi" rel="nofollow noopener ugc">https://comune.example.it/avvisi</a>');
  assert.equal(p.edited, false);
  assert.equal(p.edited_at, null);
  assert.equal(p.pinned, false);
  assert.equal(p.views, 0);
  assert.equal(p.scheduled, false);
  assert.match(p.published_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  for (const k of ['author', 'author_id', 'user', 'user_id', 'created_by']) assert.ok(!(k in p), k);
  const d = await post('notizie', { text: 'default importance' });
  assert.equal(d.importance, 'normal');
  assert.deepEqual(d.media, []);
});

test('create: who may (401 anonymous or follower, 403 not an admin of the channel)', async () => {
  const body = { text: 'chi può?' };
  const expect = [
    [undefined, 401], [follower.one, 401], [tok.other, 403], [tok.staff, 403], [tok.orgadmin, 201],
    [tok.admin, 201], [tok.owner, 201], [tok.operator, 201],
  ];
  for (const [as, status] of expect) {
    const r = await call('POST', '/api/v1/channels/notizie/posts', { as, body });
    assert.equal(r.status, status, `${as?.slice(0, 12)}: ${JSON.stringify(r.data)}`);
  }
  const r = await call('POST', '/api/v1/channels/nessuno/posts', { as: tok.operator, body });
  assert.equal(r.status, 404);
});

test('create: bad input is 400 naming the field', async () => {
  const media = (n) => Array.from({ length: n }, (_, i) => ({ id: img[i], alt: 'alt' }));
  const cases = [
    [{}, 'missing_field', 'text'],
    [{ text: '' }, 'too_short', 'text'],
    [{ text: 'x'.repeat(4097) }, 'too_long', 'text'],
    [{ text: 42 }, 'wrong_type', 'text'],
    [{ text: 'ok', extra: 1 }, 'unknown_field', 'extra'],
    [{ text: 'ok', media: media(11) }, 'too_many_media', 'media'],
    [{ text: 'ok', media: 'img' }, 'wrong_type', 'media'],
    [{ text: 'ok', media: [{ id: img[1] }] }, 'alt_required', 'media[0].alt'],
    [{ text: 'ok', media: [{ id: 'm1', alt: 'x' }] }, 'media_not_found', 'media[0].id'],
    [{ text: 'ok', media: [{ id: img[0], alt: 'a' }, { id: img[1], alt: '' }] }, 'too_short', 'media[1].alt'],
    [{ text: 'ok', media: [{ id: img[1], alt: 'x'.repeat(1001) }] }, 'too_long', 'media[0].alt'],
    [{ text: 'ok', media: [{ id: img[1], alt: 7 }] }, 'wrong_type', 'media[0].alt'],
    [{ text: 'ok', media: [{ alt: 'x' }] }, 'invalid_value', 'media[0].id'],
    [{ text: 'ok', media: [{ id: 'm', alt: 'x', url: 'http://x' }] }, 'unknown_field', 'media[0]'],
    [{ text: 'ok', importance: 'urgent' }, 'invalid_value', 'importance'],
    [{ text: 'ok', publish_at: 'tomorrow at nine' }, 'invalid_value', 'publish_at'],
    [{ text: 'ok', publish_at: '2099-01-01T00:00:00Z' }, 'invalid_value', 'publish_at'],
  ];
  for (const [body, code, field] of cases) {
    const r = await call('POST', '/api/v1/channels/notizie/posts', { as: tok.admin, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.data.error.code, code, JSON.stringify(body));
    assert.equal(r.data.error.field, field, JSON.stringify(body));
  }
  let r = await call('POST', '/api/v1/channels/notizie/posts', { as: tok.admin, raw: '{"text": ' });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'invalid_json');
  // exactly the limits are fine: 4,096 characters (emoji count as one), 10 media
  r = await call('POST', '/api/v1/channels/notizie/posts', { as: tok.admin, body: { text: '😀'.repeat(4096), media: media(10) } });
  assert.equal(r.status, 201);
});

test('list: public preview newest first, paginated with before/next; unlisted hidden', async () => {
  await createChannel('pagine');
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await post('pagine', { text: `n. ${i}` }, tok.owner)).id);
  let r = await call('GET', '/api/v1/channels/pagine/posts?limit=2');
  assert.equal(r.status, 200);
  assert.deepEqual(r.data.posts.map((p) => p.id), [ids[4], ids[3]]);
  assert.equal(r.data.next, ids[3]);
  r = await call('GET', `/api/v1/channels/pagine/posts?limit=2&before=${r.data.next}`);
  assert.deepEqual(r.data.posts.map((p) => p.id), [ids[2], ids[1]]);
  r = await call('GET', `/api/v1/channels/pagine/posts?limit=2&before=${r.data.next}`);
  assert.deepEqual(r.data.posts.map((p) => p.id), [ids[0]]);
  assert.equal(r.data.next, null);
  r = await call('GET', '/api/v1/channels/pagine/posts');
  assert.equal(r.data.posts.length, 5, 'default limit is 20');
  r = await call('GET', '/api/v1/channels/pagine/posts', { as: follower.one });
  assert.equal(r.status, 200);
  for (const q of ['limit=0', 'limit=101', 'limit=abc', 'before=xyz', 'before=-1']) {
    r = await call('GET', `/api/v1/channels/pagine/posts?${q}`);
    assert.equal(r.status, 400, q);
  }
  r = await call('GET', '/api/v1/channels/pagine/posts?before=999999');
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'invalid_cursor');
  assert.equal((await call('GET', '/api/v1/channels/nessuno/posts')).status, 404);
  // unlisted: not to the public, yes to its admins
  const p = await post('riservato', { text: 'solo per chi segue' }, tok.owner);
  assert.equal((await call('GET', '/api/v1/channels/riservato/posts')).status, 404);
  assert.equal((await call('GET', `/api/v1/posts/${p.id}`)).status, 404);
  r = await call('GET', '/api/v1/channels/riservato/posts', { as: tok.owner });
  assert.equal(r.status, 200);
  assert.equal(r.data.posts[0].id, p.id);
});

test('get one: public for readable channels; 404 for unknown ids', async () => {
  const p = await post('notizie', { text: 'uno' });
  let r = await call('GET', `/api/v1/posts/${p.id}`);
  assert.equal(r.status, 200);
  assert.equal(r.data.text, 'uno');
  for (const bad of ['999999', 'abc', '0', '-3']) {
    r = await call('GET', `/api/v1/posts/${bad}`);
    assert.equal(r.status, 404, bad);
    assert.equal(r.data.error.code, 'post_not_found');
  }
});

test('scheduled: invisible to the public until due, then published by the server', async () => {
  const at = new Date(Date.now() + 2500).toISOString();
  const p = await post('notizie', { text: 'programmato', publish_at: at });
  assert.equal(p.scheduled, true);
  assert.equal(p.published_at, at);
  const pub = async () => (await call('GET', '/api/v1/channels/notizie/posts?limit=100')).data.posts.map((x) => x.id);
  assert.ok(!(await pub()).includes(p.id));
  assert.equal((await call('GET', `/api/v1/posts/${p.id}`)).status, 404);
  assert.equal((await call('GET', `/api/v1/posts/${p.id}`, { as: follower.one })).status, 404);
  let r = await call('GET', '/api/v1/channels/notizie/posts?limit=100', { as: tok.admin });
  assert.ok(r.data.posts.find((x) => x.id === p.id).scheduled);
  r = await call('GET', `/api/v1/posts/${p.id}`, { as: tok.owner });
  assert.equal(r.status, 200);
  assert.equal(r.data.scheduled, true);
  const deadline = Date.parse(at) + 2500;
  while (!(await pub()).includes(p.id)) {
    assert.ok(Date.now() < deadline, 'published within 2.5 s of its time');
    await sleep(200);
  }
  r = await call('GET', `/api/v1/posts/${p.id}`);
  assert.equal(r.status, 200);
  assert.equal(r.data.scheduled, false);
  assert.equal(r.data.published_at, at, 'published_at is the scheduled time');
});

test('edit: admins edit; followers see edited; admins see the history with the editor', async () => {
  const p = await post('notizie', { text: 'prima versione', importance: 'silent' });
  let r = await call('PATCH', `/api/v1/posts/${p.id}`, { as: tok.owner, body: { text: 'seconda _versione_' } });
  assert.equal(r.status, 200, JSON.stringify(r.data));
  assert.equal(r.data.text, 'seconda _versione_');
  assert.equal(r.data.html, 'seconda <em>versione</em>');
  assert.equal(r.data.importance, 'silent', 'fields not sent are unchanged');
  assert.equal(r.data.edited, true);
  assert.match(r.data.edited_at, /Z$/);
  r = await call('PATCH', `/api/v1/posts/${p.id}`, { as: tok.admin, body: { importance: 'normal', media: [{ id: img[2], alt: 'y' }] } });
  assert.equal(r.status, 200);
  r = await call('GET', `/api/v1/posts/${p.id}`, { as: follower.one });
  assert.equal(r.data.edited, true);
  assert.deepEqual(r.data.media.map(({ id, alt }) => ({ id, alt })), [{ id: img[2], alt: 'y' }]);
  r = await call('GET', `/api/v1/posts/${p.id}/edits`, { as: tok.owner, history: true });
  assert.equal(r.status, 200);
  assert.deepEqual(r.data.edits.map((e) => [e.editor_email, e.text, e.importance]), [
    ['owner@a.it', 'prima versione', 'silent'], ['admin@a.it', 'seconda _versione_', 'silent']]);
  // who may see the history and edit
  for (const [as, status] of [[undefined, 401], [follower.one, 401], [tok.other, 403], [tok.staff, 403], [tok.operator, 200]]) {
    assert.equal((await call('GET', `/api/v1/posts/${p.id}/edits`, { as, history: true })).status, status);
  }
  for (const [as, status] of [[undefined, 401], [follower.one, 401], [tok.other, 403], [tok.staff, 403], [tok.orgadmin, 200], [tok.operator, 200]]) {
    assert.equal((await call('PATCH', `/api/v1/posts/${p.id}`, { as, body: { text: 'x' } })).status, status);
  }
  // bad input
  for (const [body, code] of [[{}, 'empty_patch'], [{ text: '' }, 'too_short'], [{ publish_at: '2030-01-01T00:00:00Z' }, 'unknown_field'],
    [{ importance: 3 }, 'wrong_type'], [{ media: Array(11).fill({ id: 'a', alt: 'b' }) }, 'too_many_media']]) {
    r = await call('PATCH', `/api/v1/posts/${p.id}`, { as: tok.admin, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.data.error.code, code);
  }
  assert.equal((await call('PATCH', '/api/v1/posts/999999', { as: tok.admin, body: { text: 'x' } })).status, 404);
});

test('delete: for everyone, with who may', async () => {
  const p = await post('notizie', { text: 'da cancellare' });
  for (const [as, status] of [[undefined, 401], [follower.one, 401], [tok.other, 403], [tok.staff, 403]]) {
    assert.equal((await call('DELETE', `/api/v1/posts/${p.id}`, { as })).status, status);
  }
  assert.equal((await call('DELETE', `/api/v1/posts/${p.id}`, { as: tok.admin })).status, 204);
  assert.equal((await call('GET', `/api/v1/posts/${p.id}`)).status, 404);
  assert.equal((await call('DELETE', `/api/v1/posts/${p.id}`, { as: tok.admin })).status, 404);
  const list = await call('GET', '/api/v1/channels/notizie/posts?limit=100');
  assert.ok(!list.data.posts.some((x) => x.id === p.id));
});

test('pin: one pinned post per channel, shown as pinned; unpin; who may', async () => {
  const a = await post('notizie', { text: 'fissato A' });
  const b = await post('notizie', { text: 'fissato B' });
  const pinned = async () => (await call('GET', '/api/v1/channels/notizie/posts?limit=100')).data.posts.filter((x) => x.pinned).map((x) => x.id);
  for (const [as, status] of [[undefined, 401], [follower.one, 401], [tok.other, 403], [tok.staff, 403]]) {
    assert.equal((await call('PUT', '/api/v1/channels/notizie/pin', { as, body: { post_id: a.id } })).status, status);
  }
  assert.equal((await call('PUT', '/api/v1/channels/notizie/pin', { as: tok.admin, body: { post_id: a.id } })).status, 204);
  assert.deepEqual(await pinned(), [a.id]);
  assert.equal((await call('PUT', '/api/v1/channels/notizie/pin', { as: tok.owner, body: { post_id: b.id } })).status, 204);
  assert.deepEqual(await pinned(), [b.id]);
  assert.equal((await call('GET', `/api/v1/posts/${b.id}`)).data.pinned, true);
  let r = await call('PUT', '/api/v1/channels/notizie/pin', { as: tok.admin, body: { post_id: '999999' } });
  assert.equal(r.status, 404);
  assert.equal(r.data.error.field, 'post_id');
  const other = await post('pagine', { text: 'altro canale' }, tok.owner);
  assert.equal((await call('PUT', '/api/v1/channels/notizie/pin', { as: tok.admin, body: { post_id: other.id } })).status, 404);
  for (const body of [{}, { post_id: 5 }, { post_id: 'abc' }, { post_id: a.id, x: 1 }]) {
    assert.equal((await call('PUT', '/api/v1/channels/notizie/pin', { as: tok.admin, body })).status, 400, JSON.stringify(body));
  }
  assert.equal((await call('DELETE', '/api/v1/channels/notizie/pin', { as: tok.staff })).status, 403);
  assert.equal((await call('DELETE', '/api/v1/channels/notizie/pin', { as: tok.admin })).status, 204);
  assert.deepEqual(await pinned(), []);
});

test('views: counted once per follower; only counts come back; who may', async () => {
  const a = await post('notizie', { text: 'vista' });
  const b = await post('notizie', { text: 'vista due' });
  const views = (as, posts) => call('POST', '/api/v1/views', { as, body: { posts } });
  assert.equal((await views(follower.one, [a.id, b.id])).status, 204);
  assert.equal((await views(follower.one, [a.id, b.id])).status, 204);
  assert.equal((await views(follower.two, [a.id, '999999'])).status, 204);
  assert.equal((await call('GET', `/api/v1/posts/${a.id}`)).data.views, 2);
  assert.equal((await call('GET', `/api/v1/posts/${b.id}`, { as: tok.admin })).data.views, 1);
  assert.equal((await views(undefined, [a.id])).status, 401);
  assert.equal((await views(tok.admin, [a.id])).status, 401);
  assert.equal((await views('follower_nope', [a.id])).status, 401);
  for (const posts of [[], Array(101).fill(a.id), [1], ['abc'], 'x', null]) {
    const r = await views(follower.one, posts);
    assert.equal(r.status, 400, JSON.stringify(posts));
  }
  const r = await call('POST', '/api/v1/views', { as: follower.one, body: { posts: [a.id], who: 1 } });
  assert.equal(r.status, 400);
  // "forget me" takes the follower's views with it
  const gone = await newFollower();
  await views(gone, [a.id]);
  assert.equal((await call('GET', `/api/v1/posts/${a.id}`)).data.views, 3);
  assert.equal((await call('DELETE', '/api/v1/me', { as: gone })).status, 204);
  assert.equal((await call('GET', `/api/v1/posts/${a.id}`)).data.views, 2);
});

test('no response names a post author (edit histories, for admins only, aside)', () => {
  const all = seen.join('\n');
  for (const email of ['owner@a.it', 'admin@a.it']) {
    const hits = seen.filter((t) => t.includes(email) && t.includes('"text"'));
    assert.deepEqual(hits, [], `${email} appears next to a post`);
  }
  assert.ok(!all.includes('author'));
});

test('durability: every post answered 201 survives kill -9, in order', async () => {
  await createChannel('durevole');
  const ok = [];
  const burst = [];
  const failures = [];
  let stop = false;
  let running = 16;
  const giveUp = Date.now() + 15000;
  for (let w = 0; w < 16; w++) {
    burst.push((async () => {
      for (let i = 0; !stop && Date.now() < giveUp; i++) {
        try {
          const r = await fetch(`${srv.url}/api/v1/channels/durevole/posts`, {
            method: 'POST', headers: { ...bearer(tok.owner), 'content-type': 'application/json' },
            body: JSON.stringify({ text: `w${w} n${i}` }),
          });
          if (r.status === 201) ok.push((await r.json()).id);
          else failures.push(`${r.status} ${await r.text()}`);
        } catch { break; }
      }
      running--;
    })());
  }
  while (ok.length < 100 && running > 0 && Date.now() < giveUp) await sleep(5);
  assert.ok(ok.length >= 100, `the burst stopped early: ${failures.slice(0, 3).join(', ')}`);
  await srv.kill();
  stop = true;
  await Promise.all(burst);
  srv = await startServer({ data: srv.data });
  const ids = [];
  for (let before = null; ;) {
    const r = await call('GET', `/api/v1/channels/durevole/posts?limit=100${before ? `&before=${before}` : ''}`);
    assert.equal(r.status, 200);
    ids.push(...r.data.posts.map((p) => p.id));
    if (!r.data.next) break;
    before = r.data.next;
  }
  const have = new Set(ids);
  for (const id of ok) assert.ok(have.has(id), `post ${id} was answered 201 and is gone`);
  const nums = ids.map(Number);
  assert.deepEqual(nums, [...nums].sort((x, y) => y - x), 'newest first, in the order they were created');
  assert.ok(ids.length >= ok.length);
});

test('scheduled: a post due while the server restarts goes out on time', async () => {
  const at = new Date(Date.now() + 2000).toISOString();
  const p = await post('notizie', { text: 'dopo il riavvio', publish_at: at });
  await srv.stop();
  srv = await startServer({ data: srv.data });
  const deadline = Date.parse(at) + 2500;
  for (;;) {
    const r = await call('GET', `/api/v1/posts/${p.id}`);
    if (r.status === 200) break;
    assert.ok(Date.now() < deadline, 'published within 2.5 s of its time');
    await sleep(100);
  }
  assert.ok(Date.now() >= Date.parse(at), 'not before its time');
});

test('scheduled: a post due while the server was down goes out at start', async () => {
  const at = new Date(Date.now() + 800).toISOString();
  const p = await post('notizie', { text: 'durante il fermo', publish_at: at });
  await srv.stop();
  await sleep(1200);
  const t0 = Date.now();
  srv = await startServer({ data: srv.data });
  for (;;) {
    const r = await call('GET', `/api/v1/posts/${p.id}`);
    if (r.status === 200) { assert.equal(r.data.published_at, at); break; }
    assert.ok(Date.now() - t0 < 2500, 'published within 2.5 s of the start');
    await sleep(100);
  }
});

test('edit window: 30 days after publication edits are refused with 409 edit_window_closed', async () => {
  // A post published 31 days ago: a server whose clock runs 31 days behind writes it.
  await createChannel('lungo', { retention_days: 90 });
  await srv.stop();
  srv = await startServer({ data: srv.data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(-31 * 86400000) } });
  const old = await post('lungo', { text: 'vecchio' }, tok.owner);
  await srv.stop();
  srv = await startServer({ data: srv.data });
  const r = await call('PATCH', `/api/v1/posts/${old.id}`, { as: tok.owner, body: { text: 'nuovo' } });
  assert.equal(r.status, 409);
  assert.equal(r.data.error.code, 'edit_window_closed');
  assert.equal((await call('GET', `/api/v1/posts/${old.id}`)).data.text, 'vecchio');
  assert.equal((await call('DELETE', `/api/v1/posts/${old.id}`, { as: tok.owner })).status, 204, 'delete still works');
});

test('retention: the sweeper removes posts past the channel retention at start', async () => {
  await createChannel('breve', { retention_days: 1 });
  const p = await post('breve', { text: 'effimero' }, tok.owner);
  assert.equal((await call('GET', `/api/v1/posts/${p.id}`)).status, 200);
  await srv.stop();
  // Two days later: the first sweep (at start) deletes it.
  srv = await startServer({ data: srv.data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(2 * 86400000) } });
  const t0 = Date.now();
  for (;;) {
    const r = await call('GET', `/api/v1/posts/${p.id}`, { as: tok.owner });
    if (r.status === 404) break;
    assert.ok(Date.now() - t0 < 3000, 'swept within 3 s of the start');
    await sleep(100);
  }
  const list = await call('GET', '/api/v1/channels/breve/posts', { as: tok.owner });
  assert.deepEqual(list.data.posts, []);
});
