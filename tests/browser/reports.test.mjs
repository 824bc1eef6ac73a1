// SPDX-License-Identifier: AGPL-3.0-or-later
// A citizen's report in the app, end to end: a category found by searching, the place written as
// an address (no map), a description, a photo, a contact; sent with the follower token, followed
// in "Le mie segnalazioni" where staff's status changes and public notes arrive live over the
// report's stream; "Non è risolto" after "risolta". Then "È già stato segnalato?" with the
// position from GPS and a one-tap "Anche io". And both screens through axe, in both languages,
// on a phone and a desktop, with screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, api, axe, shot, PHONE, DESKTOP } from './lib/browser.mjs';
import { staff, signedIn } from './lib/admin.mjs';
import { png } from '../fixtures/media/gen.mjs';

let w;
let browser;
let ana;
const HERE = { latitude: 43.7696, longitude: 11.2558 };

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  await w.channel({ handle: 'valdoro-notizie', name: 'Comune di Valdoro — Notizie' }); // the app finds the Comune through it
  ana = await staff(w, 'valdoro', 'ana@valdoro.example', 'staff');
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

const patch = async (id, body) => {
  const r = await api(w.url, 'PATCH', `/api/v1/orgs/valdoro/reports/${id}`, { headers: ana.headers, body });
  assert.equal(r.status, 204, r.text);
};

test('report with a photo and an address, followed live, reopened', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/#/segnalazioni');
  await page.getByRole('heading', { level: 1, name: 'Le mie segnalazioni' }).waitFor();
  await page.getByRole('link', { name: 'Nuova segnalazione' }).click();
  await page.getByRole('heading', { level: 1, name: 'Segnala un problema' }).waitFor();

  // Sending without a category or a place says what is missing, in words.
  await page.getByRole('button', { name: 'Invia la segnalazione' }).click();
  await page.getByRole('alert').filter({ hasText: 'Scegli prima' }).waitFor();

  await page.getByLabel('Cerca una categoria').fill('buca');
  await page.getByRole('button', { name: /Buca nella strada/ }).click();
  await page.getByText('Buca nella strada', { exact: true }).waitFor();
  // Focus moves in an effect after the choice is drawn: wait for it rather than racing it.
  await page.waitForFunction(() => document.activeElement.className === 'rep-chosen', null, { timeout: 5000 })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement.className), 'rep-chosen', 'focus follows the choice');
  // No map_tile_url on this server (the tests' default): no map, the address and GPS remain.
  assert.equal(await page.getByRole('button', { name: 'Indica sulla mappa' }).count(), 0);
  await page.getByLabel('Indirizzo o luogo').fill('Via Roma 12, davanti alla farmacia');
  await page.getByLabel('Descrizione (facoltativa)').fill('Buca profonda sul lato destro, pericolosa per le bici.');
  await page.locator('#rep-photo').setInputFiles({ name: 'buca.png', mimeType: 'image/png', buffer: Buffer.from(png(640, 480)) });
  await page.getByLabel('Email').fill('mario.rossi@example.it');
  await page.getByRole('img', { name: 'La foto scelta' }).waitFor();
  await page.getByRole('img', { name: 'La foto scelta' }).scrollIntoViewIfNeeded();
  await shot(page, 'report-filled', 'it');
  await page.getByRole('button', { name: 'Invia la segnalazione' }).click();
  await page.getByRole('heading', { name: 'Segnalazione inviata. Grazie!' }).waitFor({ timeout: 15000 });

  const mine = await page.evaluate(() => JSON.parse(localStorage.getItem('araldo.reports')));
  assert.equal(mine.length, 1);
  assert.match(mine[0].token, /^report_/);
  const id = mine[0].id;
  assert.match(await page.evaluate(() => localStorage.getItem('araldo.token')), /^follower_/);

  // Staff see it with its photo and the contact; the public does not see the contact.
  const d = await api(w.url, 'GET', `/api/v1/orgs/valdoro/reports/${id}`, { headers: ana.headers });
  assert.equal(d.data.address, 'Via Roma 12, davanti alla farmacia');
  assert.equal(d.data.photo.state, 'pending');
  assert.equal(d.data.contact.email, 'mario.rossi@example.it');
  const pub = await api(w.url, 'GET', `/open311/v2/requests/${id}.json?jurisdiction_id=valdoro`);
  assert.ok(!pub.text.includes('mario.rossi'));

  await page.getByRole('link', { name: 'Le mie segnalazioni' }).click();
  const item = page.locator(`#r-${id}`);
  await item.locator('.rep-badge').getByText('Ricevuta', { exact: true }).waitFor();

  // Staff take it on: the status and the public note arrive without a reload.
  await patch(id, { status: 'presa_in_carico', note: 'Sopralluogo previsto lunedì', note_public: true });
  await item.locator('.rep-badge').getByText('Presa in carico', { exact: true }).waitFor({ timeout: 10000 });
  await item.getByText('Sopralluogo previsto lunedì').waitFor();
  await item.getByText('La segnalazione «Buca nella strada» ora è: Presa in carico.').waitFor(); // read out by screen readers
  await patch(id, { note: 'Chiamare la ditta', note_public: false });
  await patch(id, { status: 'risolta', note: 'Buca chiusa', note_public: true });
  await item.locator('.rep-badge').getByText('Risolta', { exact: true }).waitFor({ timeout: 10000 });
  assert.equal(await item.getByText('Chiamare la ditta').count(), 0, 'internal notes stay internal');
  await shot(page, 'report-mine', 'it');

  // "Non è risolto": back in the queue with the reporter's note.
  await item.getByRole('button', { name: 'Non è risolto' }).click();
  await item.getByLabel('Che cosa non va ancora?').fill('La buca è ancora lì');
  await item.getByRole('button', { name: 'Riapri la segnalazione' }).click();
  await item.getByText('La segnalazione è di nuovo aperta.').waitFor();
  await item.locator('.rep-badge').getByText('Ricevuta', { exact: true }).waitFor({ timeout: 10000 });
  const again = await api(w.url, 'GET', `/api/v1/orgs/valdoro/reports/${id}`, { headers: ana.headers });
  assert.equal(again.data.status, 'nuova');
  assert.ok(again.data.reopened);

  // On a bad line the card shows what it last knew instead of "Caricamento…".
  await page.route(/\/api\/v1\/reports\//, (route) => route.abort());
  await page.reload();
  await item.getByText('Buca chiusa').waitFor();
  await item.locator('.rep-badge').getByText('Ricevuta', { exact: true }).waitFor();
  await page.unroute(/\/api\/v1\/reports\//);
  ctx.check();
  await ctx.close();
});

test('"È già stato segnalato?": GPS position, the open report nearby, "Anche io"', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const other = (await api(w.url, 'POST', '/api/v1/followers')).data.token;
  const form = new URLSearchParams({
    jurisdiction_id: 'valdoro', service_code: 'illuminazione-guasto', lat: '43.7697', long: '11.2558',
    description: 'Lampione spento da una settimana',
  });
  const r = await fetch(`${w.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${other}` }, body: form });
  assert.equal(r.status, 201);
  const [{ service_request_id: id }] = await r.json();

  const ctx = await openContext(browser, w, { geolocation: HERE, permissions: ['geolocation'] });
  const page = await ctx.page('/#/segnala');
  await page.getByLabel('Cerca una categoria').fill('lampione');
  await page.getByRole('button', { name: /Lampione spento o guasto/ }).click();
  await page.getByRole('button', { name: 'Usa la mia posizione' }).click();
  await page.getByText('Posizione trovata.').waitFor();
  const near = page.locator('.rep-nearby');
  await near.getByRole('heading', { name: 'È già stato segnalato?' }).waitFor();
  await near.getByText('Lampione spento da una settimana').waitFor();
  await near.scrollIntoViewIfNeeded();
  await shot(page, 'report-nearby', 'it');
  await axe(page, 'report nearby');
  await near.getByRole('button', { name: 'Anche io' }).click();
  await near.getByText('Fatto: la segui').waitFor();
  const rep = await api(w.url, 'GET', `/api/v1/orgs/valdoro/reports/${id}`, { headers: ana.headers });
  assert.equal(rep.data.followers, 2);

  await page.goto(`${w.url}/#/segnalazioni`);
  const item = page.locator(`#r-${id}`);
  await item.locator('.rep-badge').getByText('Ricevuta', { exact: true }).waitFor();
  await patch(id, { status: 'in_lavorazione', note: 'Ditta incaricata', note_public: true });
  await item.locator('.rep-badge').getByText('In lavorazione', { exact: true }).waitFor({ timeout: 10000 });
  await item.getByText('Ditta incaricata').waitFor();
  ctx.check();
  await ctx.close();
});

async function file(fields, photo) {
  const who = (await api(w.url, 'POST', '/api/v1/followers')).data.token;
  const fd = new FormData();
  for (const [k, v] of Object.entries({ jurisdiction_id: 'valdoro', ...fields })) fd.append(k, v);
  if (photo) fd.append('media', new Blob([photo], { type: 'image/png' }), 'foto.png');
  const r = await fetch(`${w.url}/open311/v2/requests.json`, { method: 'POST', headers: { authorization: `Bearer ${who}` }, body: fd });
  assert.equal(r.status, 201, await r.clone().text());
  const [x] = await r.json();
  return { id: x.service_request_id, token: x.token };
}

test('staff handle the queue in the console; the reporter sees it live', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const a = await file({ service_code: 'verde-albero', address_string: 'Parco della Rimembranza', description: 'Ramo spezzato sopra la panchina', email: 'luisa@example.it' }, Buffer.from(png(320, 240)));
  const b = await file({ service_code: 'verde-albero', address_string: 'Parco della Rimembranza, ingresso', description: 'Ramo pericolante' });

  // The reporter's phone, with the report kept as the app keeps it.
  const citizen = await openContext(browser, w);
  const cpage = await citizen.page(null);
  await cpage.addInitScript((r) => localStorage.setItem('araldo.reports', JSON.stringify([r])), { id: a.id, org: 'valdoro', token: a.token, name: 'Albero pericolante o caduto' });
  await cpage.goto(`${w.url}/#/segnalazioni`);
  const item = cpage.locator(`#r-${a.id}`);
  await item.locator('.rep-badge').getByText('Ricevuta', { exact: true }).waitFor();

  const ctx = await signedIn(await openContext(browser, w, { viewport: DESKTOP }), ana);
  const page = await ctx.page('/admin/#/segnalazioni');
  await page.getByRole('heading', { level: 1, name: 'Segnalazioni' }).waitFor();
  await page.getByLabel('Categoria').selectOption('verde-albero');
  await page.getByRole('link', { name: new RegExp(`#${a.id} `) }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.rep-queue li').length === 2); // the other trees are not listed
  const csv = await page.getByRole('link', { name: "Scarica l'elenco filtrato (CSV)" }).getAttribute('href');
  assert.match(csv, /reports\.csv\?status=open&service_code=verde-albero$/);
  const totals = await page.getByRole('link', { name: 'Esporta i totali per servizio (CSV)' }).getAttribute('href');
  assert.match(totals, /reports\.csv\?status=open&service_code=verde-albero&group=service$/);
  assert.equal(await page.getByRole('button', { name: 'Esporta con i contatti (CSV)' }).count(), 0, 'contact export: org admins only');
  await axe(page, 'console queue');
  await shot(page, 'admin-reports', 'it');

  await page.getByRole('link', { name: new RegExp(`#${a.id} `) }).click();
  await page.getByRole('heading', { level: 1, name: new RegExp(`#${a.id}`) }).waitFor();
  await page.getByText('luisa@example.it').waitFor();
  await page.getByText('In attesa di approvazione').waitFor();
  await axe(page, 'console report');
  await shot(page, 'admin-report', 'it');

  // Status with a public note and an office: the reporter sees it without a reload.
  await page.getByLabel(/^Stato/).selectOption('presa_in_carico');
  await page.getByLabel('Ufficio incaricato').fill('Ufficio Verde');
  await page.getByLabel('Nota (facoltativa)').fill('Squadra in arrivo domattina');
  await page.getByRole('button', { name: 'Salva' }).click();
  await page.getByText('Salvato.').waitFor();
  await item.locator('.rep-badge').getByText('Presa in carico', { exact: true }).waitFor({ timeout: 10000 });
  await item.getByText('Squadra in arrivo domattina').waitFor();

  // Approve the photo, then hide the text after confirming.
  await page.getByRole('button', { name: 'Approva la foto' }).click();
  await page.getByText('Approvata: è pubblica.').waitFor();
  await page.getByRole('button', { name: 'Nascondi il testo' }).click();
  const dlg = page.getByRole('dialog', { name: new RegExp(`#${a.id}`) });
  await dlg.getByRole('button', { name: 'Nascondi il testo' }).click();
  await page.getByText('Il testo è nascosto al pubblico.').waitFor();
  const pub = await api(w.url, 'GET', `/open311/v2/requests/${a.id}.json?jurisdiction_id=valdoro`);
  assert.equal(pub.data[0].description, '');
  assert.match(pub.data[0].media_url, /\/media\/.+\/large$/);

  // The second report is the same tree: merge it into the first.
  await page.goto(`${w.url}/admin/#/segnalazioni/${b.id}`);
  await page.getByLabel('Numero della segnalazione originale').fill(String(a.id));
  await page.getByRole('button', { name: 'Unisci', exact: true }).click();
  await page.getByRole('dialog').getByText(`La #${b.id} sarà chiusa come duplicato`).waitFor();
  await page.getByRole('dialog').getByRole('button', { name: 'Unisci', exact: true }).click();
  await page.getByText('Unita alla segnalazione').waitFor();
  const rb = await api(w.url, 'GET', `/api/v1/orgs/valdoro/reports/${b.id}`, { headers: ana.headers });
  assert.equal(String(rb.data.duplicate_of), String(a.id));
  assert.equal(rb.data.close_reason, 'duplicato');
  ctx.check();
  citizen.check();
  await ctx.close();
  await citizen.close();
});

for (const viewport of [PHONE, DESKTOP]) {
  for (const lang of ['it', 'en']) {
    test(`report screens, ${lang}, ${viewport.width}×${viewport.height}: axe and screenshots`, { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
      const ctx = await openContext(browser, w, { lang, viewport });
      const page = await ctx.page(null);
      await page.addInitScript((l) => localStorage.setItem('araldo.lang', l), lang);
      await page.goto(`${w.url}/#/segnala`);
      await page.locator('.rep-service').first().waitFor();
      await axe(page, `report ${lang}`);
      await shot(page, 'report', lang);
      await page.locator('.rep-service').first().click();
      await axe(page, `report chosen ${lang}`);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no sideways scrolling');
      await page.goto(`${w.url}/#/segnalazioni`);
      await page.locator('#h-mine').waitFor();
      await axe(page, `my reports ${lang}`);
      await shot(page, 'report-mine-empty', lang);
      ctx.check();
      await ctx.close();

      // The console's queue and one report, for staff.
      const sctx = await signedIn(await openContext(browser, w, { lang, viewport }), ana);
      const sp = await sctx.page(null);
      await sp.addInitScript((l) => localStorage.setItem('araldo.lang', l), lang);
      await sp.goto(`${w.url}/admin/#/segnalazioni`);
      await sp.locator('.rep-queue a').first().waitFor();
      await axe(sp, `console queue ${lang}`);
      await shot(sp, 'admin-reports', lang);
      await sp.locator('.rep-queue a').first().click();
      await sp.locator('.rep-detail h1').waitFor();
      await axe(sp, `console report ${lang}`);
      await shot(sp, 'admin-report', lang);
      assert.ok(await sp.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no sideways scrolling');
      sctx.check();
      await sctx.close();
    });
  }
}
