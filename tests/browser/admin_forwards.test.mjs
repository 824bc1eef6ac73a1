// SPDX-License-Identifier: AGPL-3.0-or-later
// The console's "Enti per l'inoltro" screen (issue 15, point 4; web/admin/forwards.js), on a
// phone in Italian: an org admin adds a body with its api_key and a service mapping, edits it
// (the key is kept, then removed; it is never shown back, only "impostata"), deletes it after a
// confirmation; axe finds no violation on the list, the form and the dialog, and the screen fits
// 360 px. Plain staff have no such place and cannot edit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, axe, shot } from './lib/browser.mjs';
import { staff, signedIn } from './lib/admin.mjs';

const skip = !HAVE_CHROMIUM && 'chromium not installed';
const KEY = 'chiave-segreta-di-acque-42';
let w;
let browser;
let boss;
let clerk;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  boss = await staff(w, 'valdoro', 'segreteria@valdoro.it', 'org_admin');
  clerk = await staff(w, 'valdoro', 'urp@valdoro.it', 'staff');
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

const targets = async () => (await w.ok(200, 'GET', '/api/v1/orgs/valdoro/report-forwards', { headers: boss.headers })).targets;
const fits = (page) => page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
const mapInput = (page, code) => page.locator('.fwd-map label', { has: page.locator(`code:text-is("${code}")`) }).locator('input');

test('an org admin adds, edits and deletes a body to forward to; the api_key is never shown back', { skip }, async () => {
  const ctx = await signedIn(await openContext(browser, w, { lang: 'it' }), boss);
  const page = await ctx.page('/admin/#/inoltri');
  await page.getByRole('heading', { name: "Enti per l'inoltro", level: 1 }).waitFor();
  await page.getByText('Nessun ente configurato.').waitFor();
  assert.equal(await page.locator('.admin-nav a[href="#/inoltri"]').getAttribute('aria-current'), 'page');

  // Add
  await page.getByRole('button', { name: 'Aggiungi un ente' }).click();
  await page.getByLabel("Nome dell'ente").fill('Acque Toscane SpA');
  await page.getByLabel('Indirizzo Open311 (GeoReport v2)').fill('https://open311.acque.example/v2');
  await page.getByLabel('jurisdiction_id (se l\'ente lo richiede)').fill('acque-toscane');
  await page.getByLabel('Chiave API', { exact: true }).fill(KEY);
  await mapInput(page, 'acqua-perdita').fill('LEAK');
  await mapInput(page, 'fognature-tombino').fill('SEWER');
  await page.getByLabel('Codice predefinito').fill('OTHER');
  await page.evaluate(() => document.fonts.ready);
  await axe(page, 'admin forward targets, the form (it, phone)');
  assert.ok(await fits(page), 'the form fits 360 px');
  await page.getByRole('button', { name: 'Aggiungi', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Ente «Acque Toscane SpA» aggiunto.' }).waitFor();
  const item = page.locator('.fwd-target', { hasText: 'Acque Toscane SpA' });
  await item.getByText('Chiave API: impostata').waitFor();
  await item.getByText('predefinito OTHER').waitFor();
  let [t] = await targets();
  assert.deepEqual([t.name, t.jurisdiction_id, t.has_api_key, t.service_map, t.default_service_code],
    ['Acque Toscane SpA', 'acque-toscane', true, { 'acqua-perdita': 'LEAK', 'fognature-tombino': 'SEWER' }, 'OTHER']);
  await page.evaluate(() => { document.activeElement.blur(); scrollTo(0, 0); });
  await axe(page, 'admin forward targets, the list (it, phone)');
  assert.ok(await fits(page), 'the list fits 360 px');
  await shot(page, 'admin-forwards', 'it');

  // Edit: the key field is empty and says "Impostata"; saving without typing keeps it.
  await item.getByRole('button', { name: 'Modifica' }).click();
  await page.getByRole('heading', { name: 'Modifica «Acque Toscane SpA»' }).waitFor();
  assert.equal(await page.getByLabel("Nome dell'ente").inputValue(), 'Acque Toscane SpA');
  assert.equal(await page.getByLabel('Chiave API', { exact: true }).inputValue(), '', 'the key is never put back in the form');
  await page.getByText('Impostata. Lascia vuoto per mantenerla').waitFor();
  assert.equal(await mapInput(page, 'acqua-perdita').inputValue(), 'LEAK');
  await mapInput(page, 'fognature-tombino').fill('');
  await mapInput(page, 'strade-buche').fill('ROAD');
  await page.getByLabel('jurisdiction_id (se l\'ente lo richiede)').fill('');
  await shot(page, 'admin-forwards-edit', 'it');
  await page.getByRole('button', { name: 'Salva' }).click();
  await page.getByRole('status').filter({ hasText: 'Modifiche a «Acque Toscane SpA» salvate.' }).waitFor();
  [t] = await targets();
  assert.deepEqual([t.jurisdiction_id, t.has_api_key, t.service_map], [null, true, { 'acqua-perdita': 'LEAK', 'strade-buche': 'ROAD' }]);

  // Remove the key.
  await item.getByRole('button', { name: 'Modifica' }).click();
  await page.getByLabel('Rimuovi la chiave API').check();
  await page.getByRole('button', { name: 'Salva' }).click();
  await item.getByText('Chiave API: non impostata').waitFor();
  [t] = await targets();
  assert.equal(t.has_api_key, false);
  assert.ok(!(await page.content()).includes(KEY), 'the key never reached the page');

  // Delete, after the confirmation.
  await item.getByRole('button', { name: 'Elimina' }).click();
  const dlg = page.getByRole('dialog', { name: "Eliminare l'ente «Acque Toscane SpA»?" });
  await dlg.waitFor();
  await axe(page, 'admin forward targets, the delete dialog (it, phone)');
  await dlg.getByRole('button', { name: 'Annulla' }).click();
  await dlg.waitFor({ state: 'detached' });
  assert.equal((await targets()).length, 1, 'cancelled: still there');
  await item.getByRole('button', { name: 'Elimina' }).click();
  await dlg.getByRole('button', { name: 'Elimina' }).click();
  await page.getByRole('status').filter({ hasText: 'Ente «Acque Toscane SpA» eliminato.' }).waitFor();
  await item.waitFor({ state: 'detached' });
  assert.equal((await targets()).length, 0);

  // By e-mail: this server has no mail relay (smtp_url), and the form says so, naming it.
  await page.getByRole('button', { name: 'Aggiungi un ente' }).click();
  await page.getByLabel("Nome dell'ente").fill('Acque Toscane SpA');
  await page.getByLabel('Per e-mail').check();
  assert.equal(await page.getByLabel('Indirizzo Open311 (GeoReport v2)').count(), 0, 'no Open311 fields for an e-mail target');
  await page.getByLabel("Indirizzo e-mail dell'ente").fill('segnalazioni@acque.example.it');
  await page.getByRole('button', { name: 'Aggiungi', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'smtp_url' }).waitFor();
  await axe(page, 'admin forward targets, e-mail kind (it, phone)');
  assert.equal((await targets()).length, 0, 'nothing saved');
  ctx.check();
  await ctx.close();
});

test('plain staff have no place to manage forward targets', { skip }, async () => {
  const ctx = await signedIn(await openContext(browser, w, { lang: 'it' }), clerk);
  const page = await ctx.page('/admin/#/inoltri');
  await page.getByText("Solo gli amministratori dell'ente gestiscono gli enti per l'inoltro.").waitFor();
  assert.equal(await page.locator('.admin-nav a[href="#/inoltri"]').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Aggiungi un ente' }).count(), 0);
  ctx.check();
  await ctx.close();
});
