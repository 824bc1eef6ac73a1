// SPDX-License-Identifier: AGPL-3.0-or-later
// Atom feeds of channels over real HTTP: valid, well-formed Atom 1.0 (checked with xmllint when
// installed, and always with a small tag-balance check), safe escaping of hostile text, cache
// validators with 304, and no feed for unlisted or unknown channels.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, operatorToken } from './lib/server.mjs';

let srv;
let token;
const auth = (t) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
const HOSTILE = 'Allerta <script>alert("x")</script> & "virgolette" \'apici\' 😀 *grassetto* https://comune.example.it/a?b=1&c=2\nseconda riga';

async function api(method, path, body) {
  const r = await fetch(`${srv.url}${path}`, { method, headers: auth(token), body: body && JSON.stringify(body) });
  const data = await r.json();
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}

// Every element closed in order, no stray '<' or '&' (what an XML parser would reject first).
function wellFormed(xml) {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m;
  while ((m = re.exec(body))) {
    if (m[6]) return `stray < at ${m.index}`;
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(m[5])) return `stray & near ${m[5].slice(0, 40)}`;
      continue;
    }
    if (m[1]) {
      if (stack.pop() !== m[2]) return `unbalanced </${m[2]}>`;
    } else if (!m[4]) {
      stack.push(m[2]);
    }
  }
  return stack.length ? `unclosed <${stack.join('><')}>` : null;
}

function xmllint(xml) {
  const r = spawnSync('xmllint', ['--noout', '-'], { input: xml, encoding: 'utf8' });
  if (r.error) return null; // not installed: the JS check above still ran
  return r.status === 0 ? '' : r.stderr;
}

before(async () => {
  srv = await startServer();
  token = operatorToken(srv.data);
  await api('POST', '/api/v1/orgs', { slug: 'comune-a', name: 'Comune di A' });
  await api('POST', '/api/v1/channels', { org: 'comune-a', handle: 'notizie', name: 'Notizie & "Avvisi" <A>', description: 'Il Comune informa', category: 'news', language: 'it' });
  await api('POST', '/api/v1/channels', { org: 'comune-a', handle: 'segreto', name: 'Segreto', category: 'news', language: 'it', visibility: 'unlisted' });
});
after(async () => {
  await srv?.stop();
  srv?.cleanup();
});

test('feed: valid Atom with the posts as escaped HTML, hostile text included', async () => {
  const first = await api('POST', '/api/v1/channels/notizie/posts', { text: 'Primo avviso' });
  const p = await api('POST', '/api/v1/channels/notizie/posts', { text: HOSTILE });
  await api('POST', '/api/v1/channels/notizie/posts', { text: 'più tardi', publish_at: new Date(Date.now() + 3600e3).toISOString() });
  const r = await fetch(`${srv.url}/channels/notizie/feed.atom`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/atom+xml; charset=utf-8');
  const xml = await r.text();
  assert.equal(wellFormed(xml), null);
  const lint = xmllint(xml);
  if (lint !== null) assert.equal(lint, '', lint);
  assert.match(xml, /^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom"/);
  assert.ok(xml.includes('<title>Notizie &amp; &quot;Avvisi&quot; &lt;A&gt;</title>'));
  assert.ok(xml.includes('<author><name>Notizie &amp; &quot;Avvisi&quot; &lt;A&gt;</name></author>'));
  assert.match(xml, /<id>tag:127\.0\.0\.1,\d{4}-\d\d-\d\d:channel:notizie<\/id>/);
  assert.ok(xml.includes(`<link rel="self" type="application/atom+xml" href="${srv.url}/channels/notizie/feed.atom"/>`));
  // entries and the feed link to the channel's page, where each post has its anchor
  assert.ok(xml.includes(`<link rel="alternate" type="text/html" href="${srv.url}/c/notizie"/>`));
  assert.ok(xml.includes(`<link rel="alternate" type="text/html" href="${srv.url}/c/notizie#p-${p.id}"/>`));
  assert.ok(xml.includes(`<link rel="alternate" type="text/html" href="${srv.url}/c/notizie#p-${first.id}"/>`));
  const page = await (await fetch(`${srv.url}/c/notizie`)).text();
  assert.ok(page.includes(`id="p-${p.id}"`), 'the anchor the feed links to exists on the page');
  assert.match(xml, /<updated>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z<\/updated>/);
  // the hostile text: never raw markup, escaped once in the title and twice in the HTML content
  assert.ok(!xml.includes('<script>'));
  assert.ok(!xml.includes('alert("x")'));
  assert.ok(xml.includes(`<id>tag:127.0.0.1,`) && xml.includes(`:post:${p.id}</id>`));
  // (the first line is longer than 80 characters: the title is cut with an ellipsis)
  assert.ok(xml.includes('<title>Allerta &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;virgolette&quot; &#39;apici&#39; 😀 *grassetto* https:…</title>'));
  assert.ok(xml.includes('<content type="html">Allerta &amp;lt;script&amp;gt;'));
  assert.ok(xml.includes('&lt;strong&gt;grassetto&lt;/strong&gt;'));
  assert.ok(xml.includes('&lt;a href=&quot;https://comune.example.it/a?b=1&amp;amp;c=2&quot; rel=&quot;nofollow noopener ugc&quot;&gt;'));
  assert.ok(xml.includes('&lt;br&gt;seconda riga</content>'));
  // newest first, scheduled posts absent
  const entries = [...xml.matchAll(/:post:(\d+)<\/id>/g)].map((m) => m[1]);
  assert.deepEqual(entries, [p.id, first.id]);
  assert.ok(!xml.includes('più tardi'));
});

test('feed: titles are the first line, at most 80 characters with the ellipsis', async () => {
  await api('POST', '/api/v1/channels/notizie/posts', { text: `${'è'.repeat(100)}\nresto` });
  await api('POST', '/api/v1/channels/notizie/posts', { text: `${'a'.repeat(80)}\nresto` });
  await api('POST', '/api/v1/channels/notizie/posts', { text: `${'b'.repeat(81)}` });
  const xml = await (await fetch(`${srv.url}/channels/notizie/feed.atom`)).text();
  const unescape = (t) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  const titles = [...xml.matchAll(/<entry>.*?<title>(.*?)<\/title>/gs)].map((m) => unescape(m[1]));
  for (const t of titles) assert.ok([...t].length <= 80, `${[...t].length} characters: ${t}`);
  assert.ok(titles.includes(`${'è'.repeat(79)}…`), 'cut: 79 characters and the ellipsis');
  assert.ok(titles.includes('a'.repeat(80)), 'exactly 80: not cut');
  assert.ok(titles.includes(`${'b'.repeat(79)}…`), '81: cut');
});

test('feed: ETag and Last-Modified answer 304; a new post changes them', async () => {
  let r = await fetch(`${srv.url}/channels/notizie/feed.atom`);
  const etag = r.headers.get('etag');
  const lm = r.headers.get('last-modified');
  assert.match(etag, /^"[0-9a-f]+"$/);
  assert.match(lm, /GMT$/);
  assert.match(r.headers.get('cache-control'), /public/);
  await r.text();
  r = await fetch(`${srv.url}/channels/notizie/feed.atom`, { headers: { 'if-none-match': etag } });
  assert.equal(r.status, 304);
  assert.equal(await r.text(), '');
  r = await fetch(`${srv.url}/channels/notizie/feed.atom`, { headers: { 'if-modified-since': lm } });
  assert.equal(r.status, 304);
  r = await fetch(`${srv.url}/channels/notizie/feed.atom`, { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('etag'), etag);
  await new Promise((res) => setTimeout(res, 5));
  await api('POST', '/api/v1/channels/notizie/posts', { text: 'nuovo' });
  r = await fetch(`${srv.url}/channels/notizie/feed.atom`, { headers: { 'if-none-match': etag } });
  assert.equal(r.status, 200);
  assert.notEqual(r.headers.get('etag'), etag);
  assert.ok((await r.text()).includes('nuovo'));
});

test('feed: edits and deletes show; unlisted and unknown channels have no feed', async () => {
  const p = await api('POST', '/api/v1/channels/notizie/posts', { text: 'da correggere' });
  await api('PATCH', `/api/v1/posts/${p.id}`, { text: 'corretto' });
  let xml = await (await fetch(`${srv.url}/channels/notizie/feed.atom`)).text();
  assert.ok(xml.includes('corretto') && !xml.includes('da correggere'));
  await fetch(`${srv.url}/api/v1/posts/${p.id}`, { method: 'DELETE', headers: auth(token) });
  xml = await (await fetch(`${srv.url}/channels/notizie/feed.atom`)).text();
  assert.ok(!xml.includes('corretto'));
  await api('POST', '/api/v1/channels/segreto/posts', { text: 'riservato' });
  for (const h of ['segreto', 'nessuno']) {
    const r = await fetch(`${srv.url}/channels/${h}/feed.atom`);
    assert.equal(r.status, 404, h);
    assert.ok(!(await r.text()).includes('riservato'));
  }
  // even with staff credentials: a feed is a public, shareable URL
  const r = await fetch(`${srv.url}/channels/segreto/feed.atom`, { headers: auth(token) });
  assert.equal(r.status, 404);
});

test('feed: an empty channel is a valid feed', async () => {
  await api('POST', '/api/v1/channels', { org: 'comune-a', handle: 'vuoto', name: 'Vuoto', category: 'news', language: 'it' });
  const r = await fetch(`${srv.url}/channels/vuoto/feed.atom`);
  assert.equal(r.status, 200);
  const xml = await r.text();
  assert.equal(wellFormed(xml), null);
  const lint = xmllint(xml);
  if (lint !== null) assert.equal(lint, '', lint);
  assert.ok(!xml.includes('<entry>'));
});
