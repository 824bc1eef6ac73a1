// SPDX-License-Identifier: AGPL-3.0-or-later
// PATCH behaves the same on every resource (docs/API.md, Conventions): `{}` is 400
// empty_patch, a field that never changes is 400 immutable_field naming it, an unknown one 400
// unknown_field, and none of them changes anything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from './lib/world.mjs';

let w;
before(async () => { w = await buildWorld(); });
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

function resources() {
  return [
    { path: '/api/v1/orgs/comune-a', as: w.tok.operator, valid: { name: 'Nuovo' },
      immutable: ['id', 'slug', 'created_at'] },
    { path: `/api/v1/channels/${w.main}`, as: w.tok.channel_owner, valid: { name: 'Nuovo' },
      immutable: ['id', 'handle', 'org', 'followers_count', 'posts_count', 'created_at', 'last_post_at'] },
    { path: `/api/v1/posts/${w.mainPost}`, as: w.tok.channel_owner, valid: { text: 'Nuovo' },
      immutable: ['id', 'channel', 'poll', 'published_at', 'html', 'edited', 'edited_at', 'pinned', 'views', 'reactions'] },
  ];
}

test('{} is 400 empty_patch on orgs, channels and posts, and changes nothing', async () => {
  for (const r of resources()) {
    const before = await w.ok(200, 'GET', r.path, { as: r.as });
    const p = await w.call('PATCH', r.path, { as: r.as, body: {} });
    assert.equal(p.status, 400, `${r.path}: ${p.text}`);
    assert.equal(p.data.error.code, 'empty_patch', r.path);
    assert.deepEqual(await w.ok(200, 'GET', r.path, { as: r.as }), before, r.path);
  }
});

test('a field that never changes is 400 immutable_field naming it, on every resource', async () => {
  for (const r of resources()) {
    const before = await w.ok(200, 'GET', r.path, { as: r.as });
    for (const f of r.immutable) {
      assert.ok(f in before || f === 'poll', `${r.path}: ${f} is a field of the object`);
      // with a change that alone would pass: the whole request is refused
      const p = await w.call('PATCH', r.path, { as: r.as, body: { [f]: before[f] ?? 'x', ...r.valid } });
      assert.equal(p.status, 400, `${r.path} ${f}: ${p.text}`);
      assert.equal(p.data.error.code, 'immutable_field', `${r.path} ${f}: ${p.text}`);
      assert.equal(p.data.error.field, f);
      assert.match(p.data.error.message, new RegExp(`'${f}' cannot be changed`));
    }
    const u = await w.call('PATCH', r.path, { as: r.as, body: { no_such_field: 1 } });
    assert.equal(u.status, 400);
    assert.equal(u.data.error.code, 'unknown_field');
    assert.equal(u.data.error.field, 'no_such_field');
    assert.deepEqual(await w.ok(200, 'GET', r.path, { as: r.as }), before, `${r.path} unchanged`);
  }
});

test('JSON booleans are true or false, as the error says; 1 and "true" are wrong_type', async () => {
  const path = `/api/v1/channels/${w.main}`;
  for (const v of [1, 'true', 'yes', null]) {
    const r = await w.call('PATCH', path, { as: w.tok.operator, body: { verified: v } });
    assert.equal(r.status, 400, `${JSON.stringify(v)}: ${r.text}`);
    assert.equal(r.data.error.code, 'wrong_type');
    assert.equal(r.data.error.message, "'verified' must be true or false.");
  }
  for (const v of [true, false]) {
    const r = await w.call('PATCH', path, { as: w.tok.operator, body: { verified: v } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.data.verified, v);
  }
});
