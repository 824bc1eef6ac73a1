// SPDX-License-Identifier: AGPL-3.0-or-later
// A post may attach only what its own Comune (or an operator) uploaded: another Comune's media
// id is answered as if it did not exist.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from './lib/world.mjs';
import { png } from '../fixtures/media/gen.mjs';

let w;
before(async () => { w = await buildWorld(); });
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

async function upload(as) {
  const r = await fetch(`${w.srv.url}/api/v1/media`, {
    method: 'POST', headers: { authorization: `Bearer ${as}`, 'content-type': 'image/png' }, body: png(),
  });
  assert.equal(r.status, 201, await r.clone().text());
  return (await r.json()).id;
}

test("another Comune's media cannot be attached; one's own and the operator's can", async () => {
  const foreign = await upload(w.tok.other_org);
  const own = await upload(w.tok.channel_owner);
  const shared = await upload(w.tok.operator);
  const post = (id) => w.call('POST', `/api/v1/channels/${w.main}/posts`, {
    as: w.tok.channel_owner, body: { text: 'Foto', media: [{ id, alt: 'Una foto' }] },
  });
  let r = await post(foreign);
  assert.equal(r.status, 400);
  assert.deepEqual([r.data.error.code, r.data.error.field], ['media_not_found', 'media[0].id']);
  r = await post(own);
  assert.equal(r.status, 201, r.text);
  r = await post(shared);
  assert.equal(r.status, 201, r.text);
  const edit = await w.call('PATCH', `/api/v1/posts/${r.data.id}`, {
    as: w.tok.channel_owner, body: { media: [{ id: foreign, alt: 'Altra' }] },
  });
  assert.equal(edit.status, 400);
  assert.equal(edit.data.error.code, 'media_not_found');
});
