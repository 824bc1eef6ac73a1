// SPDX-License-Identifier: AGPL-3.0-or-later
// /allerta/{org} (issue 13, point 5): the civil-protection alert page, complete without
// JavaScript: the level per zone × risk as text and an icon (never colour alone), phase and
// validity in the Comune's local time, what to do per alert in force, the history, the source
// of an imported alert; exercises never shown; social-card tags; hostile text escaped in every
// field; ETag revalidation; the HTML 404 for an unknown org.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from './lib/world.mjs';

const H = `<script>alert(1)</script><img src=x onerror=alert(2)> & "q" 'a'`;
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const HE = esc(H);
const hour = 3600 * 1000;
const iso = (ms) => new Date(ms).toISOString();
// "05/12/2026 14:30" in Europe/Rome, as the page writes it.
const rome = (s) => {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(s)).map((x) => [x.type, x.value]));
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
};

let w;
let actual;
let exercise;
let imported;

async function page(path, headers = {}) {
  const r = await fetch(`${w.srv.url}${path}`, { headers });
  return { status: r.status, headers: r.headers, html: await r.text() };
}

function clean(html) {
  assert.ok(!/\sstyle=|<style/i.test(html), 'no inline style');
  for (const tag of html.match(/<[a-z][^>]*>/gi)) {
    assert.ok(!/\son[a-z]+=/i.test(tag.replace(/"[^"]*"/g, '""')), `no event handler attribute: ${tag}`);
  }
  assert.equal((html.match(/<script/g) || []).length, 1, 'only the module script');
  assert.match(html, /<script type="module" src="\/app\/allerta\.js"><\/script>/);
  assert.ok(!html.includes('<img src=x'), 'no injected element');
  assert.ok(!html.includes('<script>alert'), 'no injected script');
}

before(async () => {
  w = await buildWorld();
  const as = w.tok.org_admin;
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/zones', { as, body: { code: 'ZA', name: `Zona ${H}` } });
  await w.ok(201, 'POST', '/api/v1/orgs/comune-a/zones', { as, body: { code: 'FRAZ', name: 'Frazione Alta' } });
  await w.ok(204, 'PUT', '/api/v1/orgs/comune-a/risks/frane', { as, body: { name: `Frane ${H}`, category: 'Geo' } });
  actual = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', {
    as, body: {
      zones: ['ZA'], risk: 'frane', level: 'arancione', phase: 'preallarme',
      expires: iso(Date.now() + 6 * hour),
      info: [{ language: 'it', headline: `Titolo ${H}`, description: `Descrizione ${H}`, instruction: `Istruzioni ${H}` },
        { language: 'en', headline: 'Orange landslide alert', instruction: 'Stay away from slopes.' }],
    },
  });
  exercise = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', {
    as, body: {
      zones: ['FRAZ'], risk: 'vento', level: 'rosso', status: 'Exercise', expires: iso(Date.now() + 6 * hour),
      info: [{ language: 'it', headline: 'ESERCITAZIONE-SEGRETA' }],
    },
  });
  const sent = new Date(Date.now() - 60000).toISOString().replace(/\.\d+Z$/, '+00:00');
  const exp = new Date(Date.now() + 3 * hour).toISOString().replace(/\.\d+Z$/, '+00:00');
  const cap = `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>CF-TEST-1</identifier><sender>centro.funzionale@regione.example.it</sender><sent>${sent}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>it-IT</language><category>Met</category><event>Neve</event><urgency>Expected</urgency><severity>Moderate</severity><certainty>Likely</certainty><expires>${exp}</expires><headline>Neve in collina</headline><area><areaDesc>Frazione Alta</areaDesc></area></info></alert>`;
  const r = await fetch(`${w.srv.url}/api/v1/orgs/comune-a/alerts/import`, {
    method: 'POST', headers: { authorization: `Bearer ${as}`, 'content-type': 'application/cap+xml' }, body: cap,
  });
  assert.equal(r.status, 201, await r.clone().text());
  imported = await r.json();
});
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

test('the page is complete without JavaScript: levels with text and icon, phase, local validity', async () => {
  const { status, headers, html } = await page('/allerta/comune-a');
  assert.equal(status, 200);
  assert.match(headers.get('content-type'), /^text\/html/);
  clean(html);
  // The head: the highest level in force, as text, with its icon.
  assert.match(html, /<p class="alert-overall">Livello più alto in vigore: <span class="level level-arancione"><span class="level-icon" aria-hidden="true">!!<\/span> Arancione<\/span>/);
  // The zone's table: the custom risk's row at arancione, preallarme, valid in local time.
  const zone = html.split('<section class="card alert-zone">').find((x) => /^\n<h3 id="zone-\d+">/.test(x) && x.includes(`>Zona ${HE} <span`));
  assert.ok(zone, 'the zone with the hostile name, escaped');
  const row = zone.match(new RegExp(`<tr><th scope="row">Frane ${HE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</th>(.*?)</tr>`))?.[1];
  assert.ok(row, 'the frane row of the zone table');
  assert.match(row, /level-arancione/);
  assert.match(row, /Preallarme/);
  assert.ok(row.includes(`dal ${rome(actual.onset)} al ${rome(actual.expires)}`), row);
  // Verde where nothing is in force, with its own icon.
  assert.match(html, /<span class="level level-verde"><span class="level-icon" aria-hidden="true">✓<\/span> Verde<\/span>/);
  // What to do, per alert in force.
  assert.ok(html.includes(`<p class="alert-instruction-text" lang="it">Istruzioni ${HE}</p>`));
  assert.ok(html.includes(`<p class="alert-headline" lang="it">Titolo ${HE}</p>`));
  assert.ok(html.includes(`<p class="alert-description" lang="it">Descrizione ${HE}</p>`));
  assert.ok(html.includes(`Zone: Zona ${HE}`));
  assert.ok(html.includes(`href="/api/v1/alerts/${actual.id}.cap"`));
  // "Aggiornato alle" in local time, with the instant for the offline note.
  assert.match(html, /<p class="muted alert-updated" data-generated="[0-9T:.-]+Z">Aggiornato alle \d\d\/\d\d\/\d{4} \d\d:\d\d \(ora di Europe\/Rome\)\.<\/p>/);
});

test('exercises are never on the page; an imported alert names its source', async () => {
  const { html } = await page('/allerta/comune-a');
  assert.ok(!html.includes('ESERCITAZIONE-SEGRETA'));
  assert.ok(!html.includes(`data-alert="${exercise.id}"`));
  assert.ok(!html.includes('level-rosso'), 'the exercise set no level');
  assert.ok(html.includes(`data-alert="${imported.id}"`), 'the imported alert is in force');
  assert.ok(html.includes('Fonte: centro.funzionale@regione.example.it'));
  // The history lists both actual alerts, newest first, never the exercise.
  const hist = html.split('<ol class="card alert-history">')[1].split('</ol>')[0];
  assert.ok(hist.indexOf('Neve in collina') < hist.indexOf(`Titolo ${HE}`), hist);
  assert.ok(!hist.includes('ESERCITAZIONE'));
});

test('social-card tags, ETag revalidation, English, HEAD', async () => {
  const { headers, html } = await page('/allerta/comune-a');
  assert.match(html, /<meta property="og:title" content="Allerta protezione civile — Comune di A">/);
  assert.match(html, /<meta property="og:description" content="Allerta arancione in vigore\./);
  assert.match(html, new RegExp(`<meta property="og:url" content="${w.srv.url}/allerta/comune-a">`));
  assert.match(html, /<meta property="og:image" content="http[^"]+">/);
  assert.equal(headers.get('cache-control'), 'no-cache');
  const etag = headers.get('etag');
  assert.ok(etag);
  const again = await fetch(`${w.srv.url}/allerta/comune-a`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  // A new alert changes the page, so the old validator no longer matches.
  const c = await w.ok(201, 'POST', '/api/v1/orgs/comune-a/alerts', { as: w.tok.org_admin, body: { msg_type: 'Cancel', references: [imported.id] } });
  const after = await fetch(`${w.srv.url}/allerta/comune-a`, { headers: { 'if-none-match': etag } });
  assert.equal(after.status, 200);
  const html2 = await after.text();
  assert.ok(html2.includes('Revoca'), 'the Cancel is in the history');
  assert.ok(!html2.includes(`data-alert="${imported.id}"`), 'no longer in force');
  assert.ok(c.id);
  const en = await page('/allerta/comune-a?lang=en');
  assert.match(en.html, /<html lang="en"/);
  assert.ok(en.html.includes('<p class="alert-headline" lang="en">Orange landslide alert</p>'));
  assert.ok(en.html.includes('Stay away from slopes.'));
  assert.match(en.html, /level-icon" aria-hidden="true">!!<\/span> Orange/);
  const head = await fetch(`${w.srv.url}/allerta/comune-a`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('an unknown org is the HTML 404 page', async () => {
  const { status, headers, html } = await page('/allerta/nessuno');
  assert.equal(status, 404);
  assert.match(headers.get('content-type'), /^text\/html/);
  assert.match(html, /data-error="page_not_found"/);
});
