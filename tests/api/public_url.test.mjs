// SPDX-License-Identifier: AGPL-3.0-or-later
// The public_url setting: invite links and feed ids use the address citizens know, whatever
// address a request came in on; a malformed value stops the server with one clear line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, operatorToken, cli, tempDir } from './lib/server.mjs';

test('invite links and feed ids are built on public_url', async () => {
  const srv = await startServer({ sets: { public_url: 'https://avvisi.comune.example.it/' } });
  try {
    const op = operatorToken(srv.data);
    const h = { authorization: `Bearer ${op}`, 'content-type': 'application/json' };
    const post = (p, b) => fetch(`${srv.url}${p}`, { method: 'POST', headers: h, body: JSON.stringify(b) });
    assert.equal((await post('/api/v1/orgs', { slug: 'comune-x', name: 'Comune X' })).status, 201);
    assert.equal((await post('/api/v1/channels', { org: 'comune-x', handle: 'avvisi', name: 'Avvisi' })).status, 201);
    const inv = await (await post('/api/v1/channels/avvisi/invites', {})).json();
    assert.equal(inv.url, `https://avvisi.comune.example.it/i/${inv.code}`);
    const list = await (await fetch(`${srv.url}/api/v1/channels/avvisi/invites`, { headers: h })).json();
    assert.equal(list.invites[0].url, inv.url);
    assert.equal((await post('/api/v1/channels/avvisi/posts', { text: 'Ciao' })).status, 201);
    const feed = await (await fetch(`${srv.url}/channels/avvisi/feed.atom`)).text();
    assert.match(feed, /<id>tag:avvisi\.comune\.example\.it,/);
    assert.match(feed, /href="https:\/\/avvisi\.comune\.example\.it\//);
    assert.ok(!feed.includes('127.0.0.1'), 'not the address the request used');
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});

test('without public_url an invite has url null; a malformed one is refused at start', async () => {
  const dir = tempDir();
  for (const bad of ['avvisi.comune.it', 'ftp://x', 'https://x/path', 'https://']) {
    const r = cli(['serve', '--listen', '127.0.0.1:0', '--set', `public_url=${bad}`], { data: dir });
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /public_url: .* is not like https:\/\/avvisi\.comune\.example\.it/);
  }
  const srv = await startServer({ data: dir });
  try {
    const op = operatorToken(srv.data);
    const h = { authorization: `Bearer ${op}`, 'content-type': 'application/json' };
    const post = (p, b) => fetch(`${srv.url}${p}`, { method: 'POST', headers: h, body: JSON.stringify(b) });
    await post('/api/v1/orgs', { slug: 'comune-y', name: 'Comune Y' });
    await post('/api/v1/channels', { org: 'comune-y', handle: 'notizie', name: 'Notizie' });
    const inv = await (await post('/api/v1/channels/notizie/invites', {})).json();
    assert.equal(inv.url, null);
    assert.equal(inv.url_path, `/i/${inv.code}`);
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});
