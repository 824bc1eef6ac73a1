// SPDX-License-Identifier: AGPL-3.0-or-later
// The console's "Fonti ufficiali" (issue 14) on a phone, in Italian: an org admin adds a DPC
// bulletin source (its defaults prefilled), polls it with "Controlla ora" and sees its health;
// the alerts it prepared (on_change draft) are found from the screen and confirmed in the
// queue; a source that fails shows the warning on every console screen, to publishers with a
// link to the sources and to other staff with whom to tell; deleting a source asks first; a
// norma di comportamento is edited. The bulletin is served by a local HTTPS server with a test
// CA (the server's push_ca_file), the fixture files under today's bulletin id.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { HAVE_CHROMIUM, startWorld, launch, openContext, axe, shot, PHONE } from './lib/browser.mjs';
import { staff, signedIn } from './lib/admin.mjs';
import { makeCerts } from '../api/lib/pushsvc.mjs';
import { tempDir } from '../api/lib/server.mjs';

const FIX = 'tests/fixtures/sources/';
const ymd = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit', day: '2-digit' })
  .format(new Date()).replace(/-/g, '');
const ID = `${ymd}_0000`;

let w;
let browser;
let boss;
let clerk; // staff of the Comune who may not publish alerts
let fx;
let origin;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  const certs = makeCerts(tempDir('araldo-srcui-ca-'));
  const files = new Map([
    ['/bollettino', `<html><body><a href="/zip/${ID}.zip">${ID}</a></body></html>`],
    [`/geojson/${ID}_today.json`, readFileSync(`${FIX}dpc_20261204_1430_today.json`)],
    [`/geojson/${ID}_tomorrow.json`, readFileSync(`${FIX}dpc_20261204_1430_tomorrow.json`)],
  ]);
  fx = https.createServer({ key: readFileSync(certs.key), cert: readFileSync(certs.cert) }, (req, res) => {
    const f = files.get(req.url);
    res.writeHead(f ? 200 : 404);
    res.end(f || '');
  });
  await new Promise((resolve) => fx.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${fx.address().port}`;
  w = await startWorld({ sets: { push_allow_hosts: '127.0.0.1', push_ca_file: certs.ca } });
  boss = await staff(w, 'valdoro', 'sindaco@valdoro.it', 'org_admin');
  clerk = await staff(w, 'valdoro', 'anagrafe@valdoro.it', 'staff');
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
  fx?.close();
});

// Nothing wider than the phone, at 100 % and with text at 200 %.
async function fits(page, what) {
  for (const pct of ['', '200%']) {
    const wide = await page.evaluate(async (fs) => {
      document.documentElement.style.fontSize = fs;
      await new Promise((r) => requestAnimationFrame(r));
      const out = [...document.querySelectorAll('body *')]
        .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.table-wrap, .scroll-row'))
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
      document.documentElement.style.fontSize = '';
      return out;
    }, pct);
    assert.deepEqual(wide, [], `${what} is wider than the phone (text ${pct || '100%'})`);
  }
}

test('sources screen: add, poll, health, prepared alerts confirmed, a failing source warns everywhere, delete', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const ctx = await signedIn(await openContext(browser, w, { viewport: PHONE }), boss);
  const page = await ctx.page('/admin/#/allerte');
  await page.getByRole('link', { name: 'Fonti ufficiali', exact: true }).click();
  await page.getByRole('heading', { name: 'Fonti ufficiali delle allerte' }).waitFor();
  await page.getByText('Il Comune non segue ancora nessuna fonte.').waitFor();

  // The form shows the kind's documented defaults; the Comune comes from the org's name.
  const form = page.locator('form.src-form');
  assert.equal(await form.getByLabel('Tipo di fonte').inputValue(), 'dpc-bulletin');
  assert.equal(await form.getByLabel('Comune da cercare nel bollettino').inputValue(), 'Valdoro');
  assert.ok(await form.getByRole('radio', { name: /Prepara l'allerta e aspetta/ }).isChecked());
  assert.ok(await form.getByRole('checkbox', { name: 'Fonte ufficiale di protezione civile' }).isChecked());
  await form.getByText('Indirizzi e frequenza').click();
  assert.match(await form.getByLabel('Indirizzo della fonte (https)').inputValue(), /^https:\/\/mappe\.protezionecivile\.gov\.it\//);
  assert.match(await form.getByLabel('Indirizzo dei file del giorno').inputValue(), /files\/geojson\/\{id\}_\{day\}\.json$/);
  assert.equal(await form.getByLabel('Controlla ogni (secondi)').inputValue(), '600');
  // LaMMA's address follows the Comune's name until it is typed by hand.
  await form.getByLabel('Tipo di fonte').selectOption('lamma-comune');
  assert.match(await form.getByLabel('Indirizzo della fonte (https)').inputValue(), /dati\/valdoro\.xml$/);
  await form.getByLabel('Tipo di fonte').selectOption('dpc-bulletin');

  await form.getByLabel('Comune da cercare nel bollettino').fill('Certaldo');
  await form.getByLabel('Indirizzo della fonte (https)').fill(`${origin}/bollettino`);
  await form.getByLabel('Indirizzo dei file del giorno').fill(`${origin}/geojson/{id}_{day}.json`);
  await form.getByRole('button', { name: 'Aggiungi la fonte' }).click();
  await page.getByText('Fonte aggiunta: Bollettino nazionale DPC.', { exact: false }).waitFor();
  const item = page.locator('li.src-item').first();
  await item.getByText('Non ancora controllata').waitFor();
  const made = (await w.ok(200, 'GET', '/api/v1/orgs/valdoro/alert-sources')).sources;
  assert.equal(made.length, 1);
  assert.deepEqual([made[0].comune, made[0].on_change, made[0].interval_s, made[0].official], ['Certaldo', 'draft', 600, true]);

  // "Controlla ora": the outcome in words, then the health.
  await item.getByRole('button', { name: /^Controlla ora/ }).click();
  await item.getByText('Controllo riuscito: i livelli sono stati aggiornati.').waitFor({ timeout: 60000 });
  await item.locator('.src-state.src-ok').waitFor();
  await item.getByText(ID, { exact: true }).waitFor();
  // The alerts it prepared wait for a person, and are easy to find: here and on every screen.
  await page.locator('.src-drafts').getByText('4 allerte preparate dalle fonti aspettano la tua conferma.').waitFor();
  await page.locator('.src-warning').getByText(/4 allerte preparate/).waitFor();
  await axe(page, 'sources screen');
  await fits(page, 'sources screen');
  await shot(page, 'admin-sources', 'it');
  await page.evaluate(() => scrollTo(0, 0));
  await shot(page, 'admin-sources-top', 'it');

  // Confirm one in the queue: the prepared alert names its source.
  await page.locator('.src-drafts').getByRole('link', { name: 'Controlla e conferma' }).click();
  await page.getByRole('heading', { name: 'In attesa di approvazione' }).waitFor();
  const prepared = page.locator('section.queue li').filter({ hasText: 'Allerta arancione per rischio idrogeologico' });
  await prepared.getByText(`Preparata dalla fonte: Bollettino nazionale DPC, bollettino ${ID}`).waitFor();
  await prepared.getByRole('button', { name: 'Approva e pubblica' }).click();
  await page.getByRole('button', { name: 'Sì, pubblica ora' }).click();
  await page.getByText('Pubblicata: «Allerta arancione per rischio idrogeologico - Valdelsa-Valdera».').waitFor();
  await page.locator('.src-warning').getByText(/3 allerte preparate/).waitFor();
  const pub = (await w.ok(200, 'GET', '/api/v1/orgs/valdoro/alerts?state=published')).alerts;
  assert.deepEqual(pub.map((a) => `${a.risk}:${a.level}`), ['idrogeologico:arancione']);

  // A source that fails: the outcome says what to do, and the warning shows on every screen.
  await page.goto(`${w.url}/admin/#/allerte/fonti`);
  await page.locator('li.src-item').first().waitFor();
  const add = page.locator('form.src-form');
  await add.getByLabel('Tipo di fonte').selectOption('lamma-comune');
  await add.getByText('Indirizzi e frequenza').click();
  await add.getByLabel('Indirizzo della fonte (https)').fill(`${origin}/lamma/non-esiste.xml`);
  await add.getByRole('button', { name: 'Aggiungi la fonte' }).click();
  const bad = page.locator('li.src-item').nth(1);
  await bad.getByRole('heading', { name: /^LaMMA Toscana/ }).waitFor();
  await bad.getByRole('button', { name: /^Controlla ora/ }).click();
  await bad.getByText(/Controllo non riuscito\. Il sito della fonte ha risposto con un errore \(HTTP 404\)/).waitFor({ timeout: 60000 });
  await bad.locator('.src-state.src-failing').waitFor();
  await bad.locator('.src-health').scrollIntoViewIfNeeded();
  await shot(page, 'admin-sources-failing', 'it');
  const banner = page.locator('.src-warning');
  await banner.getByText("L'ultimo controllo di 1 fonte ufficiale non è riuscito.").waitFor();
  await page.getByRole('link', { name: 'Canali', exact: true }).click();
  await page.getByRole('link', { name: 'Vai alle fonti e guarda cosa fare' }).waitFor();
  await axe(page, 'home with the sources warning');
  await fits(page, 'home with the sources warning');
  await shot(page, 'admin-sources-warning', 'it');
  await page.getByRole('link', { name: 'Vai alle fonti e guarda cosa fare' }).click();
  await page.getByRole('heading', { name: 'Fonti ufficiali delle allerte' }).waitFor();

  // Staff who do not handle alerts see the warning too, and whom to tell.
  const ctx2 = await signedIn(await openContext(browser, w, { viewport: PHONE }), clerk);
  const p2 = await ctx2.page('/admin/#/segnalazioni');
  await p2.locator('.src-warning').getByText('Avvisa chi gestisce le allerte del Comune.').waitFor();
  assert.equal(await p2.locator('.src-warning a').count(), 0);

  // Deleting asks first, naming the source; the warning goes with it.
  const badItem = page.locator('li.src-item').filter({ hasText: 'LaMMA' });
  await badItem.getByRole('button', { name: /^Elimina/ }).click();
  const dlg = page.getByRole('dialog', { name: 'Eliminare la fonte «LaMMA Toscana (per Comune)»?' });
  await dlg.getByText(/araldo smetterà di leggere https:\/\/127\.0\.0\.1/).waitFor();
  await dlg.getByRole('button', { name: 'Sì, elimina la fonte' }).click();
  await page.getByText('Fonte eliminata: LaMMA Toscana (per Comune).', { exact: false }).waitFor();
  await page.locator('.src-warning').getByText('Attenzione: le allerte potrebbero non essere aggiornate').waitFor({ state: 'detached' });
  await page.locator('.src-warning').getByRole('heading', { name: 'Allerte da confermare' }).waitFor(); // the 3 still waiting
  assert.equal((await w.ok(200, 'GET', '/api/v1/orgs/valdoro/alert-sources')).sources.length, 1);

  // A norma di comportamento of the Comune's own.
  const tpl = page.locator('section.tpl');
  await tpl.getByRole('combobox', { name: 'Rischio' }).selectOption('idraulico');
  await tpl.getByRole('combobox', { name: 'Livello' }).selectOption('arancione');
  const it = tpl.getByRole('textbox', { name: /^In italiano/ });
  await tpl.getByText('In italiano (testo predefinito)').waitFor();
  assert.match(await it.inputValue(), /^Allerta arancione/);
  await it.fill('Non attraversate il ponte sul torrente Agliena.');
  await tpl.getByRole('button', { name: 'Salva il testo (it)' }).click();
  await tpl.getByText('Testo salvato: le prossime allerte automatiche lo useranno.').waitFor();
  await tpl.getByText('In italiano (testo del Comune)').waitFor();
  const t = (await w.ok(200, 'GET', '/api/v1/orgs/valdoro/alert-templates')).templates.find((x) => x.risk === 'idraulico' && x.level === 'arancione');
  assert.equal(t.instruction.it, 'Non attraversate il ponte sul torrente Agliena.');
  assert.deepEqual(t.custom, ['it']);

  for (const c of [ctx, ctx2]) { c.check(); await c.close(); }
});
