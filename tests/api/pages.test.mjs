// SPDX-License-Identifier: AGPL-3.0-or-later
// The server-rendered pages citizens open from a link (docs/WEB.md): /c/{handle} complete
// without JavaScript (posts, media, polls, reactions, pinned post first) with its social-card
// tags; markup and script typed into every text field shown as text; the live-invite page;
// HTML 404s; HEAD; ETag revalidation; the language; /privacy naming every kind of data the
// store keeps about followers (derived from the migrations); and the string catalogues' parity.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildWorld } from './lib/world.mjs';
import { png, pdf } from '../fixtures/media/gen.mjs';

const H = `<script>alert(1)</script><img src=x onerror=alert(2)> & "q" 'a'`;
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const HE = esc(H);
const it = JSON.parse(readFileSync('web/i18n/it.json', 'utf8'));
const en = JSON.parse(readFileSync('web/i18n/en.json', 'utf8'));

let w;
let handle;
let postId;
let pinnedId;
let mediaId;
let docId;
const A11Y = 'https://form.agid.gov.it/view/abc-123';

async function page(path, headers = {}) {
  const r = await fetch(`${w.srv.url}${path}`, { headers });
  return { status: r.status, headers: r.headers, html: await r.text() };
}

// Nothing the CSP would block and no markup from the data: the module script is the only script.
function clean(html, scripts = 1) {
  assert.ok(!/\sstyle=|<style/i.test(html), 'no inline style');
  // attributes of real tags only (text and attribute values are escaped, so hold no < or ")
  for (const tag of html.match(/<[a-z][^>]*>/gi)) {
    assert.ok(!/\son[a-z]+=/i.test(tag.replace(/"[^"]*"/g, '""')), `no event handler attribute: ${tag}`);
  }
  assert.equal((html.match(/<script/g) || []).length, scripts, 'only the module script');
  assert.ok(!html.includes('<img src=x'), 'no injected element');
  assert.ok(!html.includes('<script>alert'), 'no injected script');
}

before(async () => {
  w = await buildWorld();
  const as = w.tok.channel_owner;
  // the org: a hostile name and the public pages' fields
  await w.ok(200, 'PATCH', '/api/v1/orgs/comune-a', {
    as: w.tok.operator,
    body: { name: `Comune ${H}`, accessibility_url: A11Y, accessibility_email: 'accessibilita@comune-a.it', privacy_controller: `Sindaco ${H}`, privacy_dpo: `DPO ${H}` },
  });
  const fd = new FormData();
  fd.append('file', new Blob([png(120, 80)], { type: 'image/png' }), 'foto.png');
  const up = await fetch(`${w.srv.url}/api/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${as}` }, body: fd });
  assert.equal(up.status, 201, await up.clone().text());
  mediaId = (await up.json()).id;
  const fd2 = new FormData();
  fd2.append('file', new Blob([pdf()], { type: 'application/pdf' }), 'delibera.pdf');
  const up2 = await fetch(`${w.srv.url}/api/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${as}` }, body: fd2 });
  assert.equal(up2.status, 201, await up2.clone().text());
  docId = (await up2.json()).id;
  handle = await w.channel({ name: `Canale ${H}`, description: `Descrizione ${H}`, icon: mediaId });
  pinnedId = await w.post(handle, 'Avviso *in evidenza*');
  postId = (await w.ok(201, 'POST', `/api/v1/channels/${handle}/posts`, {
    as,
    body: { text: `Testo ${H}`, media: [{ id: mediaId, alt: `Foto ${H}` }, { id: docId, alt: `Doc ${H}` }], poll: { question: `Domanda ${H}`, options: [`Scelta ${H}`, 'Altra'] } },
  })).id;
  await w.ok(204, 'PUT', `/api/v1/channels/${handle}/pin`, { as, body: { post_id: pinnedId } });
  const f = await w.follower(handle);
  await w.ok(204, 'PUT', `/api/v1/posts/${postId}/reaction`, { as: f, body: { emoji: '👍' } });
  await w.ok(204, 'PUT', `/api/v1/posts/${postId}/vote`, { as: f, body: { options: [0] } });
});
after(async () => {
  await w?.srv.stop();
  w?.srv.cleanup();
});

test('/c/{handle} without JavaScript: the channel, its posts, media, poll results and reactions', async () => {
  const { status, headers, html } = await page(`/c/${handle}`);
  assert.equal(status, 200);
  assert.equal(headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(html, /^<!doctype html>\n<html lang="it">/);
  clean(html);
  assert.ok(html.includes(`<h1 class="channel-name" id="channel-name">Canale ${HE}</h1>`));
  assert.ok(html.includes(`Descrizione ${HE}</p>`));
  assert.ok(html.includes('1 persona segue il canale'));
  // the pinned post comes first and is not repeated
  const order = [...html.matchAll(/<article class="post" id="p-(\d+)"/g)].map((m) => m[1]);
  assert.equal(order[0], pinnedId);
  assert.equal(order.filter((id) => id === pinnedId).length, 1);
  assert.ok(order.includes(postId) && order.includes(w.mainPost) === false);
  assert.ok(html.includes('<p class="post-pinned">📌 In evidenza</p>'));
  assert.ok(html.includes('Avviso <strong>in evidenza</strong>'), 'formatting rendered');
  // the post: text, media with alt, poll with its result, reactions, time
  const art = html.slice(html.indexOf(`id="p-${postId}"`));
  assert.ok(art.includes(`<div class="post-text">Testo ${HE}</div>`));
  assert.ok(art.includes(`<a class="media-image" href="/media/${mediaId}`));
  assert.ok(art.includes(`alt="Foto ${HE}"`));
  assert.ok(art.includes('width="120" height="80" loading="lazy">'), 'the image reserves its space');
  assert.match(art, new RegExp(`<a class="media-doc" href="/media/${docId}" download>Doc ${HE.replace(/[()]/g, '\\$&')} <span class="media-size">\\d+ B</span></a>`));
  assert.ok(art.includes(`<legend>Domanda ${HE}</legend>`));
  assert.ok(art.includes(`<span class="poll-text">Scelta ${HE}</span> <meter min="0" max="1" value="1">100%</meter>`));
  assert.ok(art.includes('1 voto'));
  assert.ok(art.includes('<button type="button" class="reaction" aria-pressed="false" data-emoji="👍">👍 <span class="count">1</span></button>'));
  assert.match(art, /<time datetime="\d{4}-\d\d-\d\dT[^"]+Z">(adesso|1 minuto fa|\d+ minuti fa)<\/time>/);
  assert.ok(html.includes(`data-channel="${handle}"`) && /class="posts"[^>]* data-seq="\d+"/.test(html));
  // Segui: a link into the app, made live by the app's module
  assert.ok(html.includes(`<a class="btn btn-primary follow-button" data-action="follow" href="/#/c/${handle}" data-handle="${handle}">Segui</a>`));
  assert.ok(html.includes('<script type="module" src="/app/page.js"></script>'));
  // header and footer: the Comune, the Modello Comuni links
  assert.ok(html.includes(`<span class="brand-name">Comune ${HE}</span>`));
  assert.ok(html.includes(`<a data-element="accessibility-link" href="${A11Y}">`));
  assert.ok(html.includes('<a data-element="privacy-policy-link" href="/privacy?org=comune-a">'));
  assert.ok(html.includes('href="mailto:accessibilita@comune-a.it"'));
});

test('/c/{handle}: OpenGraph and Twitter card, canonical URL and the Atom feed', async () => {
  const { html } = await page(`/c/${handle}`);
  const meta = (p) => (new RegExp(`<meta (?:property|name)="${p}" content="([^"]*)">`).exec(html) || [])[1];
  assert.equal(meta('og:title'), `Canale ${HE}`);
  assert.equal(meta('og:description'), `Descrizione ${HE}`);
  assert.equal(meta('og:url'), `${w.srv.url}/c/${handle}`);
  assert.equal(meta('og:type'), 'website');
  assert.equal(meta('og:locale'), 'it_IT');
  assert.equal(meta('og:image'), `${w.srv.url}/media/${mediaId}/small`);
  assert.equal(meta('twitter:card'), 'summary');
  assert.equal(meta('twitter:title'), `Canale ${HE}`);
  assert.ok(html.includes(`<link rel="canonical" href="${w.srv.url}/c/${handle}">`));
  assert.ok(html.includes(`type="application/atom+xml" title="Canale ${HE}" href="${w.srv.url}/channels/${handle}/feed.atom">`));
  // the card image is served
  assert.equal((await fetch(meta('og:image'))).status, 200);
});

test('/c/{handle}: HEAD, ETag revalidation, and a new post changes the page', async () => {
  const g = await fetch(`${w.srv.url}/c/${handle}`);
  const etag = g.headers.get('etag');
  await g.text();
  assert.match(etag, /^W\/"/);
  assert.equal(g.headers.get('cache-control'), 'no-cache');
  assert.equal(g.headers.get('vary'), 'Accept-Language');
  const h = await fetch(`${w.srv.url}/c/${handle}`, { method: 'HEAD' });
  assert.equal(h.status, 200);
  assert.equal(await h.text(), '');
  assert.match(h.headers.get('content-type'), /^text\/html/);
  const nm = await fetch(`${w.srv.url}/c/${handle}`, { headers: { 'if-none-match': etag } });
  // 304 unless the minute turned meanwhile (relative times are part of the page)
  if (nm.status === 304) assert.equal(await nm.text(), '', 'no body on 304');
  else assert.notEqual(nm.headers.get('etag'), etag, await nm.text());
  const id = await w.post(handle, 'Nuovo avviso');
  const after2 = await fetch(`${w.srv.url}/c/${handle}`, { headers: { 'if-none-match': etag } });
  assert.equal(after2.status, 200);
  assert.notEqual(after2.headers.get('etag'), etag);
  assert.ok((await after2.text()).includes(`id="p-${id}"`));
});

test('/c/{handle}: the language from ?lang=, else Accept-Language, else Italian', async () => {
  let p = await page(`/c/${handle}`, { 'accept-language': 'en-GB,en;q=0.9' });
  assert.match(p.html, /<html lang="en">/);
  assert.ok(p.html.includes('>Follow</a>'));
  assert.equal(p.headers.get('content-language'), 'en');
  assert.ok(p.html.includes('<meta property="og:locale" content="en_GB">'));
  assert.ok(p.html.includes(`href="/c/${handle}?lang=it" hreflang="it" lang="it">Italiano</a>`));
  p = await page(`/c/${handle}?lang=it`, { 'accept-language': 'en' });
  assert.match(p.html, /<html lang="it">/);
  p = await page(`/c/${handle}`, { 'accept-language': 'de-DE,fr;q=0.8' });
  assert.match(p.html, /<html lang="it">/);
  // the posts keep the channel's language whatever the page's
  p = await page(`/c/${handle}?lang=en`);
  assert.ok(p.html.includes(`<article class="post" id="p-${postId}" data-id="${postId}" lang="it">`));
});

test('unknown and unlisted channels: an HTML 404 that reveals nothing; the invite link shows it', async () => {
  for (const path of ['/c/nonesiste', '/c/x']) {
    const { status, headers, html } = await page(path);
    assert.equal(status, 404, path);
    assert.equal(headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(html, /<html lang="it">/);
    assert.ok(html.includes('Pagina non trovata'));
    assert.ok(html.includes('<meta name="robots" content="noindex">'));
  }
  const secret = await w.channel({ name: 'Canale riservato', visibility: 'unlisted' });
  await w.post(secret, 'Avviso riservato');
  const hidden = await page(`/c/${secret}`);
  assert.equal(hidden.status, 404);
  assert.ok(!hidden.html.includes('riservato'));
  const code = (await w.ok(201, 'POST', `/api/v1/channels/${secret}/invites`, { as: w.tok.channel_owner, body: {} })).code;
  const inv = await page(`/i/${code}`);
  assert.equal(inv.status, 200);
  clean(inv.html);
  assert.ok(inv.html.includes('Canale riservato') && inv.html.includes('Avviso riservato'));
  assert.ok(inv.html.includes(`data-invite="${code}"`) && inv.html.includes(`href="/#/c/${secret}?invite=${code}"`));
  assert.ok(inv.html.includes('Sei stato invitato a seguire questo canale'));
  assert.ok(inv.html.includes('<meta name="robots" content="noindex">'));
  assert.ok(!inv.html.includes('rel="canonical"'), 'an unlisted channel has no public address');
  assert.ok(!inv.html.includes('application/atom+xml'), 'nor a feed');
  assert.equal(inv.headers.get('cache-control'), 'private, no-cache');
});

// The tables that hold rows about a follower: `followers` itself and every table whose
// definition references followers(...). A new one (push subscriptions, ...) makes the privacy
// test below fail until the notice explains it (a page.privacy.item.<table> string).
function followerTables() {
  const dir = 'src/store/migrations';
  const sql = readdirSync(dir).filter((f) => f.endsWith('.sql')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n')
    .replace(/--[^\n]*/g, '');
  const tables = new Set();
  for (const stmt of sql.split(';')) {
    const m = /CREATE TABLE\s+(?:IF NOT EXISTS\s+)?(\w+)/i.exec(stmt) || /ALTER TABLE\s+(\w+)/i.exec(stmt);
    if (!m) continue;
    if (m[1] === 'followers' || /REFERENCES\s+followers\s*\(/i.test(stmt)) tables.add(m[1]);
  }
  return [...tables];
}

test('/privacy names every kind of data the store keeps about followers, in both languages', async () => {
  const tables = followerTables();
  for (const t of ['followers', 'follows', 'views', 'reactions', 'votes']) assert.ok(tables.includes(t), `found ${t}`);
  for (const lang of ['it', 'en']) {
    const { status, html } = await page(`/privacy?org=comune-a&lang=${lang}`);
    assert.equal(status, 200);
    clean(html, 0);
    const cat = lang === 'it' ? it : en;
    for (const t of tables) {
      const key = `page.privacy.item.${t}`;
      assert.ok(cat[key], `${lang}.json explains the follower table '${t}' (${key})`);
      assert.ok(html.includes(`<li>${esc(cat[key])}</li>`), `/privacy (${lang}) shows ${key}`);
    }
    assert.ok(html.includes(esc(cat['page.privacy.cookies.text'])));
    assert.ok(html.includes(esc(cat['page.privacy.forget.text'])));
    // the org's own fields, escaped
    assert.ok(html.includes(`Sindaco ${HE}`) && html.includes(`DPO ${HE}`));
    assert.ok(!html.includes('<img src=x'));
  }
});

test('/privacy: several Comuni are listed; an unknown one is a 404 page', async () => {
  const { status, html } = await page('/privacy');
  assert.equal(status, 200);
  assert.ok(html.includes('href="/privacy?org=comune-a&amp;lang=it"'));
  assert.ok(html.includes('href="/privacy?org=comune-b&amp;lang=it">Comune di B</a>'));
  assert.equal((await page('/privacy?org=nessuno')).status, 404);
  assert.equal((await page('/privacy?org=../x')).status, 404);
});

test('org page fields: validated, returned, cleared with null', async () => {
  const bad = [
    [{ accessibility_url: 'javascript:alert(1)' }, 'accessibility_url'],
    [{ accessibility_url: 'https://' }, 'accessibility_url'],
    [{ accessibility_email: 'non-una-mail' }, 'accessibility_email'],
    [{ privacy_dpo: 'x'.repeat(501) }, 'privacy_dpo'],
  ];
  for (const [body, field] of bad) {
    const r = await w.call('PATCH', '/api/v1/orgs/comune-b', { as: w.tok.operator, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.data.error.field, field);
  }
  let o = await w.ok(200, 'PATCH', '/api/v1/orgs/comune-b', { as: w.tok.operator, body: { accessibility_url: A11Y, privacy_controller: 'Comune di B' } });
  assert.equal(o.accessibility_url, A11Y);
  assert.equal(o.privacy_controller, 'Comune di B');
  assert.equal(o.accessibility_email, null);
  o = await w.ok(200, 'PATCH', '/api/v1/orgs/comune-b', { as: w.tok.operator, body: { accessibility_url: null } });
  assert.equal(o.accessibility_url, null);
  assert.equal(o.privacy_controller, 'Comune di B');
  // staff of the org may not change them (only org admins and operators)
  const r = await w.call('PATCH', '/api/v1/orgs/comune-a', { as: w.tok.channel_owner, body: { privacy_dpo: 'x' } });
  assert.equal(r.status, 403);
});

// Every key the C code and the JavaScript use exists in both catalogues, with the same keys and
// placeholders on both sides.
test('i18n: it.json and en.json have the same keys, placeholders, and every key in use', () => {
  assert.deepEqual(Object.keys(it).sort(), Object.keys(en).sort(), 'same keys');
  for (const k of Object.keys(it)) {
    assert.ok(it[k].trim() && en[k].trim(), `${k} is not empty`);
    const ph = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(ph(it[k]), ph(en[k]), `${k}: same placeholders`);
  }
  const has = (k) => k in it || (`${k}.one` in it && `${k}.other` in it) || (k.endsWith('.') && Object.keys(it).some((x) => x.startsWith(k)));
  const files = [];
  const walk = (d, re) => {
    let ents = [];
    try { ents = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      if (e.isDirectory() && e.name !== 'vendor') walk(join(d, e.name), re);
      else if (re.test(e.name)) files.push(join(d, e.name));
    }
  };
  walk('src/web', /\.c$/);
  walk('src/api', /^(pages|privacy)\.c$/);
  walk('web', /\.(m?js)$/);
  // C: any string literal shaped like a key (src/web and the page handlers hold no others);
  // JS: the first argument of t(...) / tn(...) (other strings such as event names 'post.created'
  // look like keys but are not).
  const keyRe = { c: /"((?:common|page|post|app)\.[A-Za-z0-9_.]+)"/g, js: /\btn?\(\s*['"`]((?:common|page|post|app)\.[A-Za-z0-9_.]+)['"`]/g };
  let used = 0;
  for (const f of files) {
    // comments left out: they may show keys as examples
    const src = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of src.matchAll(f.endsWith('.c') ? keyRe.c : keyRe.js)) {
      used++;
      assert.ok(has(m[1]), `${f} uses '${m[1]}', missing from web/i18n/it.json`);
    }
  }
  assert.ok(used > 40, `found the keys in use (${used})`);
});

test('with public_url the canonical address, og:url and the feed use it, whatever the Host', async () => {
  const { startServer } = await import('./lib/server.mjs');
  const srv = await startServer({ args: ['--demo'], sets: { public_url: 'https://avvisi.valdoro.example' } });
  try {
    const r = await fetch(`${srv.url}/c/valdoro-notizie`);
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.ok(html.includes('<link rel="canonical" href="https://avvisi.valdoro.example/c/valdoro-notizie">'));
    assert.ok(html.includes('<meta property="og:url" content="https://avvisi.valdoro.example/c/valdoro-notizie">'));
    assert.ok(html.includes('href="https://avvisi.valdoro.example/channels/valdoro-notizie/feed.atom"'));
    assert.ok(html.includes('<meta property="og:image" content="https://avvisi.valdoro.example/icons/icon-512.png">'), 'no icon nor logo: the app icon');
    assert.ok(html.includes('<link rel="manifest" href="/manifest.webmanifest">'));
    assert.ok(!html.includes(srv.url), 'never the address the request happened to use');
    // the demo Comune fills the footer
    assert.ok(html.includes('data-element="accessibility-link" href="https://'));
    assert.ok(html.includes('href="mailto:accessibilita@valdoro.example"'));
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});

test('/c/{handle}: a long description is cut for the card, whole on the page', async () => {
  const long = `${'parola '.repeat(60)}fine`;
  const h3 = await w.channel({ description: long });
  const { html } = await page(`/c/${h3}`);
  const d = /<meta property="og:description" content="([^"]*)">/.exec(html)[1];
  assert.ok([...d].length <= 201 && d.endsWith('parola…'), d);
  assert.ok(html.includes(`${long}</p>`), 'the page shows it whole');
});

test('/c/{handle}: a renamed channel or Comune shows at once (the loop cache is keyed by what the page shows)', async () => {
  const h2 = await w.channel({ name: 'Nome vecchio' });
  await w.post(h2, 'Avviso');
  assert.ok((await page(`/c/${h2}`)).html.includes('Nome vecchio'));
  await w.ok(200, 'PATCH', `/api/v1/channels/${h2}`, { as: w.tok.channel_owner, body: { name: 'Nome nuovo' } });
  let p = await page(`/c/${h2}`);
  assert.ok(p.html.includes('Nome nuovo') && !p.html.includes('Nome vecchio'));
  await w.ok(200, 'PATCH', '/api/v1/orgs/comune-a', { as: w.tok.operator, body: { name: 'Comune Rinominato' } });
  p = await page(`/c/${h2}`);
  assert.ok(p.html.includes('<span class="brand-name">Comune Rinominato</span>'));
  // (the channel object carries the org name it was read with)
  await w.ok(200, 'PATCH', '/api/v1/orgs/comune-a', { as: w.tok.operator, body: { name: `Comune ${H}` } });
});
