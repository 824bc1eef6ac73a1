// SPDX-License-Identifier: AGPL-3.0-or-later
// Polls: made with a post, voted on by followers (single or multiple choice), changed,
// retracted, closed; results are counts only and exact under concurrent votes; a poll is final
// once posted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildWorld } from './lib/world.mjs';
import { startServer, operatorToken } from './lib/server.mjs';

let w;
before(async () => { w = await buildWorld(); });
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

const pollPost = async (poll, extra = {}) =>
  w.ok(201, 'POST', `/api/v1/channels/${w.main}/posts`, { as: w.tok.channel_owner, body: { text: 'Sondaggio', poll, ...extra } });
const vote = (post, as, options) => w.call('PUT', `/api/v1/posts/${post}/vote`, { as, body: { options } });
const unvote = (post, as) => w.call('DELETE', `/api/v1/posts/${post}/vote`, { as });
const poll = async (post) => (await w.ok(200, 'GET', `/api/v1/posts/${post}`)).poll;
const votes = async (post) => (await poll(post)).options.map((o) => o.votes);

test('a post with a poll shows it, with counts only', async () => {
  const p = await pollPost({ question: 'Quando la festa?', options: ['Sabato', 'Domenica'] });
  assert.deepEqual(p.poll, {
    question: 'Quando la festa?',
    options: [{ text: 'Sabato', votes: 0 }, { text: 'Domenica', votes: 0 }],
    multiple: false, closes_at: null, closed: false, total_voters: 0,
  });
  const plain = await w.ok(200, 'GET', `/api/v1/posts/${w.mainPost}`);
  assert.equal(plain.poll, null, 'a post without a poll says null');
  const closes = new Date(Date.now() + 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
  const m = await pollPost({ question: 'Cosa serve?', options: ['A', 'B', 'C'], multiple: true, closes_at: closes });
  assert.equal(m.poll.multiple, true);
  assert.equal(Date.parse(m.poll.closes_at), Date.parse(closes));
  assert.match(m.poll.closes_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
});

test('single choice: one option per vote; changing moves the count; retracting removes it', async () => {
  const { id } = await pollPost({ question: 'Uno solo', options: ['A', 'B', 'C'] });
  const f = await w.follower(w.main);
  let r = await vote(id, f, [0, 2]);
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'single_choice');
  assert.equal((await vote(id, f, [1])).status, 204);
  assert.deepEqual(await votes(id), [0, 1, 0]);
  assert.equal((await vote(id, f, [2])).status, 204, 'change');
  assert.deepEqual(await votes(id), [0, 0, 1]);
  assert.equal((await poll(id)).total_voters, 1);
  assert.equal((await unvote(id, f)).status, 204, 'retract');
  assert.deepEqual(await votes(id), [0, 0, 0]);
  assert.equal((await poll(id)).total_voters, 0);
  assert.equal((await unvote(id, f)).status, 204, 'idempotent');
});

test('multiple choice: several options, total_voters counts people not choices', async () => {
  const { id } = await pollPost({ question: 'Molti', options: ['A', 'B', 'C', 'D'], multiple: true });
  const a = await w.follower(w.main);
  const b = await w.follower(w.main);
  assert.equal((await vote(id, a, [0, 2, 3])).status, 204);
  assert.equal((await vote(id, b, [2])).status, 204);
  assert.deepEqual(await votes(id), [1, 0, 2, 1]);
  assert.equal((await poll(id)).total_voters, 2);
  assert.equal((await vote(id, a, [1])).status, 204);
  assert.deepEqual(await votes(id), [0, 1, 1, 0]);
});

test('bad votes: not an array, empty, out of range, duplicates, not numbers; no poll', async () => {
  const { id } = await pollPost({ question: 'Validi?', options: ['A', 'B'], multiple: true });
  const f = await w.follower(w.main);
  for (const options of [undefined, 'A', [], [2], [-1], [0, 0], ['0'], [0.5], [0, 1, 1]]) {
    const r = await w.call('PUT', `/api/v1/posts/${id}/vote`, { as: f, body: options === undefined ? {} : { options } });
    assert.equal(r.status, 400, `${JSON.stringify(options)}: ${r.text}`);
    assert.equal(r.data.error.field, 'options');
  }
  const r = await vote(w.mainPost, w.tok.follower, [0]);
  assert.equal(r.status, 404);
  assert.equal(r.data.error.code, 'poll_not_found');
});

test('bad polls: 1 option, 13 options, long question or option, bad closes_at, unknown field', async () => {
  const o = (n) => Array.from({ length: n }, (_, i) => `Opzione ${i}`);
  const cases = [
    [{ question: 'Q', options: o(1) }, 'poll.options'],
    [{ question: 'Q', options: o(13) }, 'poll.options'],
    [{ question: 'Q', options: 'A,B' }, 'poll.options'],
    [{ question: 'x'.repeat(256), options: o(2) }, 'poll.question'],
    [{ question: '', options: o(2) }, 'poll.question'],
    [{ options: o(2) }, 'poll.question'],
    [{ question: 'Q', options: ['A', 'x'.repeat(101)] }, 'poll.options[1]'],
    [{ question: 'Q', options: ['A', ''] }, 'poll.options[1]'],
    [{ question: 'Q', options: ['A', 3] }, 'poll.options[1]'],
    [{ question: 'Q', options: o(2), multiple: 'yes' }, 'poll.multiple'],
    [{ question: 'Q', options: o(2), closes_at: 'domani' }, 'poll.closes_at'],
    [{ question: 'Q', options: o(2), closes_at: '2020-01-01T00:00:00Z' }, 'poll.closes_at'],
    [{ question: 'Q', options: o(2), closes_at: new Date(Date.now() + 400 * 86400e3).toISOString() }, 'poll.closes_at'],
    [{ question: 'Q', options: o(2), secret: true }, 'poll'],
    ['Q?', 'poll'],
  ];
  for (const [p, field] of cases) {
    const r = await w.call('POST', `/api/v1/channels/${w.main}/posts`, { as: w.tok.channel_owner, body: { text: 'x', poll: p } });
    assert.equal(r.status, 400, `${JSON.stringify(p).slice(0, 80)}: ${r.text}`);
    assert.equal(r.data.error.field, field, JSON.stringify(p).slice(0, 80));
  }
  // The limits themselves are fine: 255 characters (accented ones too), 12 options of 100.
  const ok = await pollPost({ question: 'è'.repeat(255), options: Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(100, 'à')) });
  assert.equal(ok.poll.options.length, 12);
});

test('a poll is final once posted: PATCH with a poll is 400 immutable_field, other edits keep it', async () => {
  const { id } = await pollPost({ question: 'Finale?', options: ['Sì', 'No'] });
  const f = await w.follower(w.main);
  await vote(id, f, [0]);
  const r = await w.call('PATCH', `/api/v1/posts/${id}`, { as: w.tok.channel_owner, body: { poll: { question: 'Altro', options: ['A', 'B'] } } });
  assert.equal(r.status, 400);
  assert.equal(r.data.error.code, 'immutable_field');
  assert.equal(r.data.error.field, 'poll');
  const e = await w.ok(200, 'PATCH', `/api/v1/posts/${id}`, { as: w.tok.channel_owner, body: { text: 'Sondaggio (corretto)' } });
  assert.deepEqual(e.poll.options.map((o) => o.votes), [1, 0]);
});

test('votes are for followers of the channel only', async () => {
  const { id } = await pollPost({ question: 'Chi vota?', options: ['A', 'B'] });
  const stranger = await w.follower();
  for (const [as, status] of [[undefined, 401], [w.tok.channel_owner, 401], [w.tok.operator, 401], [stranger, 403], [w.tok.follower, 204]]) {
    assert.equal((await vote(id, as, [0])).status, status, String(as));
  }
});

test('results are exact under 100 concurrent voters, and "forget me" takes a vote away', async () => {
  const { id } = await pollPost({ question: 'Tutti', options: ['A', 'B', 'C', 'D'], multiple: true });
  const fs = await Promise.all(Array.from({ length: 100 }, () => w.follower(w.main)));
  const rs = await Promise.all(fs.map((f, i) => vote(id, f, i % 2 ? [i % 4] : [0, 3])));
  assert.ok(rs.every((r) => r.status === 204), rs.find((r) => r.status !== 204)?.text);
  // odd i: option 1 or 3 (25 each); even i: options 0 and 3 (50 each)
  assert.deepEqual(await votes(id), [50, 25, 0, 75]);
  assert.equal((await poll(id)).total_voters, 100);
  // Everyone changes at once to a single option.
  await Promise.all(fs.map((f, i) => vote(id, f, [i % 4])));
  assert.deepEqual(await votes(id), [25, 25, 25, 25]);
  await w.ok(204, 'DELETE', '/api/v1/me', { as: fs[0] });
  assert.deepEqual(await votes(id), [24, 25, 25, 25]);
  assert.equal((await poll(id)).total_voters, 99);
});

test('nobody learns who voted for what: not the owner, not an operator, not the log', async () => {
  const { id } = await pollPost({ question: 'Segreto?', options: ['A', 'B'] });
  const f = await w.follower(w.main);
  assert.equal((await vote(id, f, [1])).status, 204);
  const hash = createHash('sha256').update(f).digest();
  let corpus = w.srv.stderr + w.srv.stdout;
  for (const as of [w.tok.channel_owner, w.tok.operator]) {
    for (const path of [`/api/v1/posts/${id}`, `/api/v1/channels/${w.main}/posts`, '/api/v1/orgs/comune-a/audit', `/api/v1/posts/${id}/edits`]) {
      corpus += (await w.call('GET', path, { as })).text;
    }
  }
  for (const s of [f, hash.toString('hex'), hash.toString('base64')]) assert.ok(!corpus.includes(s));
  assert.ok(!/vote/.test(JSON.stringify(await w.ok(200, 'GET', '/api/v1/orgs/comune-a/audit', { as: w.tok.operator }))), 'votes are never audited');
});

test('a closed poll takes no votes and no retractions (409), through a restart', async () => {
  const srv = await startServer();
  try {
    const op = operatorToken(srv.data);
    const call = async (method, path, as, body) => {
      const h = as ? { authorization: `Bearer ${as}` } : {};
      if (body) h['content-type'] = 'application/json';
      const r = await fetch(`${srv.url}${path}`, { method, headers: h, body: body && JSON.stringify(body) });
      const t = await r.text();
      return { status: r.status, data: t ? JSON.parse(t) : null };
    };
    await call('POST', '/api/v1/orgs', op, { slug: 'comune-p', name: 'Comune P' });
    await call('POST', '/api/v1/channels', op, { org: 'comune-p', handle: 'sondaggi', name: 'Sondaggi', category: 'news', language: 'it' });
    const closes = new Date(Date.now() + 1500).toISOString();
    const p = await call('POST', '/api/v1/channels/sondaggi/posts', op, { text: 'Presto chiuso', poll: { question: 'Veloce?', options: ['Sì', 'No'], closes_at: closes } });
    assert.equal(p.status, 201, JSON.stringify(p.data));
    const { data: { token: f } } = await call('POST', '/api/v1/followers');
    await call('PUT', '/api/v1/channels/sondaggi/follow', f);
    assert.equal((await call('PUT', `/api/v1/posts/${p.data.id}/vote`, f, { options: [0] })).status, 204);
    await new Promise((r) => setTimeout(r, 1700));
    const v = await call('PUT', `/api/v1/posts/${p.data.id}/vote`, f, { options: [1] });
    assert.equal(v.status, 409);
    assert.equal(v.data.error.code, 'poll_closed');
    assert.equal((await call('DELETE', `/api/v1/posts/${p.data.id}/vote`, f)).status, 409);
    const after = (await call('GET', `/api/v1/posts/${p.data.id}`)).data.poll;
    assert.equal(after.closed, true);
    assert.deepEqual(after.options.map((o) => o.votes), [1, 0], 'the result is final');
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});
