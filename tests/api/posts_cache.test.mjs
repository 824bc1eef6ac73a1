// SPDX-License-Identifier: AGPL-3.0-or-later
// The public first page is cached per loop on a flood day: a new post must still show at once,
// counters at most a second late, and phones revalidate with ETag / 304.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from './lib/world.mjs';

let w;
before(async () => { w = await buildWorld(); });
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

const page = async (headers = {}) => {
  const r = await fetch(`${w.srv.url}/api/v1/channels/${w.main}/posts?limit=5`, { headers });
  return { status: r.status, etag: r.headers.get('etag'), cc: r.headers.get('cache-control'), body: r.status === 200 ? await r.json() : null };
};

test('public post pages: new posts at once, 304 on a matching ETag, counts within a second', async () => {
  const first = await page();
  assert.equal(first.status, 200);
  assert.match(first.etag, /^"[0-9a-f]{16}"$/);
  assert.equal(first.cc, 'no-cache');
  // Many readers, same answer, same validator.
  for (let i = 0; i < 20; i++) assert.equal((await page()).etag, first.etag);
  assert.equal((await page({ 'if-none-match': first.etag })).status, 304);

  const id = await w.post(w.main, 'Notizia appena pubblicata');
  const fresh = await page();
  assert.equal(fresh.body.posts[0].id, id, 'a new post is visible on the very next read');
  assert.notEqual(fresh.etag, first.etag);
  assert.equal((await page({ 'if-none-match': first.etag })).status, 200, 'an old ETag no longer matches');

  await w.ok(204, 'POST', '/api/v1/views', { as: w.tok.follower, body: { posts: [id] } });
  const deadline = Date.now() + 2500;
  let views = 0;
  while (Date.now() < deadline && views !== 1) {
    views = (await page()).body.posts[0].views;
    if (views !== 1) await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(views, 1, 'the view count shows within about a second');

  // Staff see scheduled posts, which the public page never shows.
  const at = new Date(Date.now() + 3600e3).toISOString();
  await w.ok(201, 'POST', `/api/v1/channels/${w.main}/posts`, { as: w.tok.channel_owner, body: { text: 'Domani', publish_at: at } });
  const staff = await w.ok(200, 'GET', `/api/v1/channels/${w.main}/posts?limit=5`, { as: w.tok.channel_owner });
  assert.ok(staff.posts.some((p) => p.scheduled));
  assert.ok(!(await page()).body.posts.some((p) => p.scheduled));
});
