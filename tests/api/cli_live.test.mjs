// SPDX-License-Identifier: AGPL-3.0-or-later
// `araldo post` from a script while the server runs: the CLI commits through a writer of its
// own process, and the server's open streams must still hear of the post — once, in seq order,
// mixed with posts made through the API — and a restart must not tell them old news again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { EventSource } from 'eventsource';
import { cli, tempDir, startServer, operatorToken, api, sleep, waitFor } from './lib/server.mjs';

const EMAIL = 'uff.stampa@comune.example.it';

function stream(url) {
  const s = { posts: [], opened: false };
  s.es = new EventSource(`${url}/api/v1/stream?channels=avvisi`);
  s.es.addEventListener('post.created', (e) => s.posts.push({ id: e.lastEventId, text: JSON.parse(e.data).text }));
  s.es.addEventListener('open', () => { s.opened = true; });
  return s;
}

function post(dir, text) {
  const r = cli(['post', '--channel', 'avvisi', '--as', EMAIL], { input: `${text}\n`, data: dir });
  assert.equal(r.status, 0, r.stderr);
}

// Another process's commits reach the server through SQLite's data_version (store/tail.c), or
// on PostgreSQL through LISTEN/NOTIFY (store/listen.c), as another node's would.
test('a post made with `araldo post` while the server runs reaches open streams live, once', async () => {
  const dir = tempDir();
  let srv;
  const streams = [];
  try {
    let r = cli(['user', 'add', '--email', EMAIL, '--role', 'operator'], { input: 'a-long-password\n', data: dir });
    assert.equal(r.status, 0, r.stderr);
    r = cli(['org', 'add', '--slug', 'comune-prova', '--name', 'Comune di Prova'], { data: dir });
    assert.equal(r.status, 0, r.stderr);
    r = cli(['channel', 'add', '--org', 'comune-prova', '--handle', 'avvisi', '--name', 'Avvisi', '--owner', EMAIL], { data: dir });
    assert.equal(r.status, 0, r.stderr);
    post(dir, 'Prima del server'); // history: no stream may hear of it as news

    srv = await startServer({ data: dir });
    const token = operatorToken(dir, EMAIL);
    const a = stream(srv.url);
    streams.push(a);
    await waitFor(() => a.opened, 'stream open');

    post(dir, 'Dal terminale 1');
    await waitFor(() => a.posts.length === 1, 'the CLI post, live');
    assert.equal(a.posts[0].text, 'Dal terminale 1');

    // The CLI and the API in turns: every post once, in seq order, no gap.
    for (let i = 2; i <= 4; i++) {
      post(dir, `Dal terminale ${i}`);
      const made = await api(srv.url, 'POST', '/api/v1/channels/avvisi/posts', { as: token, body: { text: `Dall'API ${i}` } });
      assert.equal(made.status, 201, made.text);
    }
    await waitFor(() => a.posts.length === 7, 'seven posts');
    await sleep(600); // a duplicate would arrive within the writer's next look
    const seqs = a.posts.map((p) => Number(p.id.split(':').pop()));
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'in seq order');
    assert.equal(new Set(seqs).size, 7, 'each once');
    assert.equal(seqs[6] - seqs[0], 6, 'no gap');
    assert.ok(!a.posts.some((p) => p.text === 'Prima del server'), 'history is not news');

    // A restart starts after what was committed: the old posts are not published again.
    a.es.close();
    await srv.stop();
    srv = await startServer({ data: dir });
    const b = stream(srv.url);
    streams.push(b);
    await waitFor(() => b.opened, 'stream open after restart');
    post(dir, 'Dopo il riavvio');
    await waitFor(() => b.posts.length >= 1, 'the CLI post after a restart');
    await sleep(600);
    assert.deepEqual(b.posts.map((p) => p.text), ['Dopo il riavvio']);
  } finally {
    for (const s of streams) s.es.close();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
