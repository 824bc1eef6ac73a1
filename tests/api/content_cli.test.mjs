// SPDX-License-Identifier: AGPL-3.0-or-later
// Content from the command line (org add, channel add, post) and the demo of `serve --demo`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { cli, tempDir, startServer, operatorToken, api } from './lib/server.mjs';

test('org add, channel add and post script a Comune from the shell; the API serves it', async () => {
  const dir = tempDir();
  try {
    let r = cli(['user', 'add', '--email', 'uff.stampa@comune.example.it', '--role', 'operator'],
      { input: 'a-long-password\n', data: dir });
    assert.equal(r.status, 0, r.stderr);
    r = cli(['org', 'add', '--slug', 'comune-prova', '--name', 'Comune di Prova', '--istat', '012345'], { data: dir });
    assert.equal(r.status, 0, r.stderr);
    r = cli(['org', 'add', '--slug', 'comune-prova', '--name', 'Doppio'], { data: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /already exists/);
    r = cli(['org', 'add', '--slug', 'Not Valid', '--name', 'X'], { data: dir });
    assert.equal(r.status, 2);

    r = cli(['channel', 'add', '--org', 'comune-prova', '--handle', 'avvisi', '--name', 'Avvisi',
      '--owner', 'uff.stampa@comune.example.it', '--description', 'Avvisi della città'], { data: dir });
    assert.equal(r.status, 0, r.stderr);
    r = cli(['channel', 'add', '--org', 'nessuno', '--handle', 'altro', '--name', 'Altro',
      '--owner', 'uff.stampa@comune.example.it'], { data: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no organization 'nessuno'/);
    r = cli(['channel', 'add', '--org', 'comune-prova', '--handle', 'x', '--name', 'X',
      '--owner', 'uff.stampa@comune.example.it'], { data: dir });
    assert.equal(r.status, 2);

    r = cli(['post', '--channel', 'avvisi', '--important', '--as', 'uff.stampa@comune.example.it'],
      { input: 'Chiusura *straordinaria* del ponte\n', data: dir });
    assert.equal(r.status, 0, r.stderr);
    r = cli(['post', '--channel', 'avvisi'], { input: '', data: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /1 to 4,096 characters/);
    r = cli(['post', '--channel', 'avvisi'], { input: 'x'.repeat(4097), data: dir });
    assert.notEqual(r.status, 0);
    r = cli(['post', '--channel', 'avvisi', '--important', '--silent'], { input: 'x', data: dir });
    assert.equal(r.status, 2);

    const srv = await startServer({ data: dir });
    try {
      const res = await fetch(`${srv.url}/api/v1/channels/avvisi/posts`);
      assert.equal(res.status, 200);
      const { posts } = await res.json();
      assert.equal(posts.length, 1);
      assert.equal(posts[0].text, 'Chiusura *straordinaria* del ponte');
      assert.equal(posts[0].importance, 'important');
      assert.ok(!JSON.stringify(posts).includes('uff.stampa'), 'no author in the post');
    } finally {
      await srv.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('channel add --owner applies the API\'s rule: an operator or staff of that Comune (issue 9)', async () => {
  const srv = await startServer();
  try {
    const op = operatorToken(srv.data);
    const call = (method, path, body) => api(srv.url, method, path, { as: op, body });
    for (const slug of ['comune-a', 'comune-b']) assert.equal((await call('POST', '/api/v1/orgs', { slug, name: slug })).status, 201);
    assert.equal((await call('POST', '/api/v1/orgs/comune-a/staff', { email: 'staff@a.it', role: 'staff' })).status, 201);
    assert.equal((await call('POST', '/api/v1/orgs/comune-b/staff', { email: 'staff@b.it', role: 'org_admin' })).status, 201);
    await srv.stop();
    const add = (handle, owner) => cli(['channel', 'add', '--org', 'comune-a', '--handle', handle, '--name', handle,
      '--owner', owner], { data: srv.data });
    let r = add('di-b', 'staff@b.it');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /'staff@b\.it' is not staff of 'comune-a'/);
    r = add('di-a', 'staff@a.it');
    assert.equal(r.status, 0, r.stderr);
    r = add('di-operatore', 'admin@localhost');
    assert.equal(r.status, 0, r.stderr);
    const again = await startServer({ data: srv.data });
    try {
      assert.equal((await api(again.url, 'GET', '/api/v1/channels/di-b')).status, 404, 'nothing was created');
      assert.equal((await api(again.url, 'GET', '/api/v1/channels/di-a')).status, 200);
    } finally {
      await again.stop();
    }
  } finally {
    srv.cleanup();
  }
});

test('serve --demo fills a new database once: a Comune, two channels, a week of posts', async () => {
  const dir = tempDir();
  try {
    let srv = await startServer({ data: dir, args: ['--demo'] });
    let r = await fetch(`${srv.url}/api/v1/channels?q=citta`);
    const found = (await r.json()).channels.map((c) => c.handle);
    assert.deepEqual(found, ['valdoro-notizie'], '"citta" finds "città" in the description');
    r = await fetch(`${srv.url}/api/v1/channels/valdoro-notizie/posts?limit=100`);
    const { posts } = await r.json();
    assert.ok(posts.length >= 5);
    const ages = posts.map((p) => Date.now() - Date.parse(p.published_at));
    assert.ok(Math.max(...ages) > 6 * 86400e3, 'posts span about a week');
    assert.ok(posts.some((p) => p.html.includes('<strong>')), 'formatting is rendered');
    await srv.stop();
    srv = await startServer({ data: dir, args: ['--demo'] });
    r = await fetch(`${srv.url}/api/v1/channels`);
    assert.equal((await r.json()).channels.length, 2, 'a second start adds nothing');
    assert.ok(!/demo: created/.test(srv.stdout));
    await srv.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
