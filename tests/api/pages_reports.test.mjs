// SPDX-License-Identifier: AGPL-3.0-or-later
// /segnalazioni/statistiche/{org} (issue 15, point 4): the public report statistics page,
// complete without JavaScript: per service the reports received, the median times to the first
// answer and to resolution and the share solved, over a stated period, in one accessible table;
// social-card tags like the other pages; linked from every page of the org (footer); a hostile
// service name shown as text; an unknown org is the HTML 404 page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from './lib/world.mjs';

const H = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
let w;

async function page(path) {
  const r = await fetch(`${w.srv.url}${path}`);
  return { status: r.status, headers: r.headers, html: await r.text() };
}
async function file(code, extra = {}) {
  const token = await w.follower();
  const r = await fetch(`${w.srv.url}/open311/v2/requests.json?jurisdiction_id=comune-a`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ service_code: code, lat: '43.77', long: '11.25', email: 'segreto@example.it', ...extra }),
  });
  assert.equal(r.status, 201);
  return (await r.json())[0].service_request_id;
}
const patch = (id, body) => w.ok(204, 'PATCH', `/api/v1/orgs/comune-a/reports/${id}`, { as: w.tok.channel_owner, body });
// The table row of the service named `name`: its cells' text.
function rowOf(html, name) {
  const m = new RegExp(`<tr><th scope="row">${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</th>(.*?)</tr>`).exec(html);
  assert.ok(m, `a row for ${name}`);
  return [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, ''));
}

before(async () => {
  w = await buildWorld();
  // Three potholes: one answered and solved, one closed, one still new; a tree never reported.
  const a = await file('strade-buche');
  await patch(a, { status: 'presa_in_carico' });
  await patch(a, { status: 'risolta' });
  const b = await file('strade-buche');
  await patch(b, { status: 'chiusa', close_reason: 'non_riproducibile' });
  await file('strade-buche');
  // A merged duplicate is not counted.
  const d = await file('strade-buche');
  await patch(d, { duplicate_of: a });
  await w.ok(204, 'PUT', '/api/v1/orgs/comune-a/services/panchina', {
    as: w.tok.org_admin, body: { name: `Panchina ${H}`, first_answer_hours: 24, resolution_hours: 240 },
  });
  await file('panchina');
});
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

test('the statistics page without JavaScript: one accessible table per service over a stated period', async () => {
  const { status, headers, html } = await page('/segnalazioni/statistiche/comune-a');
  assert.equal(status, 200);
  assert.equal(headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(headers.get('cache-control'), 'public, max-age=300');
  assert.match(html, /^<!doctype html>\n<html lang="it">/);
  assert.equal((html.match(/<script/g) || []).length, 0, 'no script at all: nothing needs JavaScript');
  assert.ok(!/\sstyle=|<style/i.test(html));
  assert.ok(html.includes('<h1 id="rstats-title">Comune di A — segnalazioni: tempi di risposta e risultati</h1>'));
  // the table: caption with the period, column headers, row headers
  assert.match(html, /<caption id="rstats-caption">Segnalazioni degli ultimi 365 giorni \(dal \d\d\/\d\d\/\d{4} al \d\d\/\d\d\/\d{4}\)<\/caption>/);
  assert.ok(html.includes('<div class="table-scroll" role="region" tabindex="0" aria-labelledby="rstats-caption">'));
  for (const col of ['Servizio', 'Ricevute', 'Tempo mediano alla prima risposta', 'Tempo mediano alla soluzione', 'Risolte']) {
    assert.match(html, new RegExp(`<th scope="col"[^>]*>${col}</th>`));
  }
  // 3 potholes (the duplicate left out): 2 answered (at once: 1 min), 1 solved of 3 = 33%
  assert.deepEqual(rowOf(html, 'Buca nella strada'), ['3', '1 min', '1 min', '33%']);
  // a service with no report: dashes that a screen reader reads as "nessun dato"
  assert.deepEqual(rowOf(html, 'Albero pericolante o caduto'), ['0', '—nessun dato', '—nessun dato', '—nessun dato']);
  // a hostile service name is text
  assert.deepEqual(rowOf(html, `Panchina ${esc(H)}`), ['1', '—nessun dato', '—nessun dato', '0%']);
  assert.ok(!html.includes('<img src=x'));
  assert.ok(html.includes('In tutto 4 segnalazioni nel periodo.'));
  // aggregates only: never a reporter
  assert.ok(!html.includes('segreto@example.it'));
  // the period choice, the current one marked
  assert.ok(html.includes('<a href="/segnalazioni/statistiche/comune-a?giorni=365&amp;lang=it" aria-current="page">Ultimi 365 giorni</a>'));
  assert.ok(html.includes('<a href="/segnalazioni/statistiche/comune-a?giorni=30&amp;lang=it">Ultimi 30 giorni</a>'));
  // social card
  assert.match(html, /<meta property="og:title" content="Segnalazioni: tempi di risposta e risultati — Comune di A">/);
  assert.match(html, /<meta property="og:description" content="Quante segnalazioni riceve il Comune/);
  assert.ok(html.includes(`<meta property="og:url" content="${w.srv.url}/segnalazioni/statistiche/comune-a">`));
  assert.match(html, /<meta property="og:image" content="http[^"]+">/);
  assert.ok(html.includes(`<link rel="canonical" href="${w.srv.url}/segnalazioni/statistiche/comune-a">`));
  // the same numbers as the API
  const api = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/reports/statistics');
  const buche = api.services.find((s) => s.service_code === 'strade-buche');
  assert.equal(buche.received, 3);
});

test('the period, English, HEAD, the footer link from the org\'s pages, 404', async () => {
  const p30 = await page('/segnalazioni/statistiche/comune-a?giorni=30');
  assert.match(p30.html, /Segnalazioni degli ultimi 30 giorni/);
  assert.ok(p30.html.includes('aria-current="page">Ultimi 30 giorni</a>'));
  const bad = await page('/segnalazioni/statistiche/comune-a?giorni=7');
  assert.match(bad.html, /ultimi 365 giorni/, 'an unknown period is the default');
  const en = await page('/segnalazioni/statistiche/comune-a?lang=en');
  assert.match(en.html, /^<!doctype html>\n<html lang="en">/);
  assert.match(en.html, /Reports of the last 365 days/);
  assert.deepEqual(rowOf(en.html, 'Albero pericolante o caduto'), ['0', '—no data', '—no data', '—no data']);
  const head = await fetch(`${w.srv.url}/segnalazioni/statistiche/comune-a`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  for (const path of [`/c/${w.main}`, '/allerta/comune-a', '/privacy?org=comune-a', '/segnalazioni/statistiche/comune-a']) {
    const { html } = await page(path);
    assert.ok(html.includes('<li><a class="report-stats-link" href="/segnalazioni/statistiche/comune-a">Segnalazioni: i tempi di risposta</a></li>'), path);
  }
  const b = await page('/segnalazioni/statistiche/comune-b');
  assert.equal(b.status, 200);
  assert.ok(!b.html.includes('Buca nella strada</th><td class="num">3'), 'one org\'s numbers only');
  const none = await page('/segnalazioni/statistiche/nessuno');
  assert.equal(none.status, 404);
  assert.match(none.headers.get('content-type'), /^text\/html/);
});
