// SPDX-License-Identifier: AGPL-3.0-or-later
// Privacy by construction: followers follow, view, react, vote and go; then everything an admin, an
// operator and another follower can read — every response, the feed, the audit log, the
// server's own log — is searched for anything that identifies a follower: tokens, their
// hashes, follower ids, client addresses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { buildWorld } from './lib/world.mjs';

// The readers connect from 127.0.0.2 (the server listens on 127.0.0.1), so their address can be
// told apart from the server's own.
const CLIENT_ADDR = '127.0.0.2';
function get(path, as) {
  return new Promise((resolve, reject) => {
    const req = request(`${w.srv.url}${path}`, {
      localAddress: CLIENT_ADDR, headers: as ? { authorization: `Bearer ${as}` } : {},
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: Object.entries(res.headers), text }));
    });
    req.on('error', reject);
    req.end();
  });
}

let w;
before(async () => { w = await buildWorld(); });
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

test('no follower token, hash, id or client address in any response, export or log line', async () => {
  const followers = [];
  for (let i = 0; i < 5; i++) followers.push(await w.follower(w.main));
  const second = await w.post(w.main, 'Secondo avviso');
  const poll = (await w.ok(201, 'POST', `/api/v1/channels/${w.main}/posts`, {
    as: w.tok.channel_owner,
    body: { text: 'Quando la festa?', poll: { question: 'Quale giorno?', options: ['Sabato', 'Domenica'] } },
  })).id;
  for (const [i, f] of followers.entries()) {
    await w.ok(204, 'POST', '/api/v1/views', { as: f, body: { posts: [w.mainPost, second] } });
    await w.ok(204, 'PUT', `/api/v1/posts/${w.mainPost}/reaction`, { as: f, body: { emoji: i % 2 ? '👍' : '❤️' } });
    await w.ok(204, 'PUT', `/api/v1/posts/${poll}/vote`, { as: f, body: { options: [i % 2] } });
  }
  await w.call('PUT', `/api/v1/channels/${w.main}/mute`, { as: followers[0] });
  await w.call('DELETE', '/api/v1/me', { as: followers[1] });
  const inv = await w.ok(201, 'POST', `/api/v1/channels/${w.main}/invites`, { as: w.tok.channel_owner, body: {} });

  // The counts are there (that is all anyone may learn) ...
  const post = await w.ok(200, 'GET', `/api/v1/posts/${w.mainPost}`, { as: w.tok.channel_owner });
  assert.equal(post.views, 4, 'five viewed, one forgot itself');
  const ch = await w.ok(200, 'GET', `/api/v1/channels/${w.main}`);
  assert.equal(ch.followers_count, 5, 'the world follower and four of the five');
  const votes = (await w.ok(200, 'GET', `/api/v1/posts/${poll}`)).poll.options.map((o) => o.votes);
  assert.deepEqual(votes, [3, 1], "the forgotten follower's vote is gone too");

  // ... and nothing else. Fetch everything readable by each kind of reader.
  const reads = [
    '/api/v1/channels', `/api/v1/channels/${w.main}`, `/api/v1/channels/${w.main}/posts`,
    `/api/v1/posts/${w.mainPost}`, `/api/v1/posts/${w.mainPost}/edits`, `/api/v1/posts/${poll}`, `/api/v1/channels/${w.main}/admins`,
    `/api/v1/channels/${w.main}/invites`, `/api/v1/invites/${inv.code}`, '/api/v1/orgs', '/api/v1/orgs/comune-a',
    '/api/v1/orgs/comune-a/staff', '/api/v1/orgs/comune-a/audit', '/api/v1/me', '/api/v1/tokens',
    '/api/v1/me/channels', '/api/v1/me/invitations', `/channels/${w.main}/feed.atom`, '/metrics',
  ];
  const readers = { admin: w.tok.channel_admin, owner: w.tok.channel_owner, operator: w.tok.operator, org_admin: w.tok.org_admin, follower: followers[2], anonymous: undefined };
  let corpus = '';
  for (const [who, as] of Object.entries(readers)) {
    for (const path of reads) {
      const r = await get(path, as);
      corpus += `\n${who} ${path} ${r.status}\n${r.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n${r.text}`;
    }
  }
  assert.ok(corpus.includes('"views":4'), 'the corpus holds the answers');

  const secrets = [];
  for (const t of [...followers, w.tok.follower]) {
    const raw = t.slice('follower_'.length);
    secrets.push(t, raw, createHash('sha256').update(t).digest('hex'), createHash('sha256').update(t).digest('base64'));
  }
  for (const s of secrets) assert.ok(!corpus.includes(s), `a follower secret leaked: ${s.slice(0, 12)}…`);
  assert.doesNotMatch(corpus, /follower_id|"follower"\s*:|"followers"\s*:\s*\[/, 'no per-follower field');
  assert.ok(!corpus.includes(CLIENT_ADDR), 'no client address in any answer');

  const log = w.srv.stderr;
  assert.ok(log.includes('access: GET'), 'the access log ran');
  for (const s of secrets) assert.ok(!log.includes(s), 'no follower secret in the log');
  assert.ok(!log.includes(CLIENT_ADDR) && !log.includes('127.0.0.1'), 'no client address in the log');
  assert.ok(!/Bearer|araldo_[A-Za-z0-9_-]{43}/.test(log), 'no staff token in the log');
});
