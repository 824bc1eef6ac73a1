// SPDX-License-Identifier: AGPL-3.0-or-later
// The console's "Allerte": zones made and edited, an alert published from the form (its live
// preview is the citizens' banner; the CAP document comes from the server after publishing)
// and seen at once by a follower; the two-person rule (the author cannot approve; a second
// publisher approves after a confirmation naming the alert; a pending one is withdrawn); a
// Cancel from the status table takes the citizen's banner down. Axe and screenshots of each
// screen in both languages at 360×740 and 1280×800.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, axe, shot, PHONE, DESKTOP } from './lib/browser.mjs';
import { staff, signedIn } from './lib/admin.mjs';

let w;
let browser;
let boss; // org admin: may publish
let pc; // staff with the civil_protection permission

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  boss = await staff(w, 'valdoro', 'sindaco@valdoro.it', 'org_admin');
  pc = await staff(w, 'valdoro', 'protezione.civile@valdoro.it', 'staff');
  await w.ok(200, 'PUT', '/api/v1/orgs/valdoro/alerts/settings', { body: { publishers: [String(pc.id)], two_person_rule: true } });
  await w.channel({ handle: 'valdoro-avvisi', name: 'Avvisi del Comune' });
  await w.post('valdoro-avvisi', 'Benvenuti.');
  // Something in the history and the zones list whichever test runs first.
  await w.ok(201, 'POST', '/api/v1/orgs/valdoro/zones', { body: { code: 'ZB', name: 'Frazione Colle' } });
  await w.ok(201, 'POST', '/api/v1/orgs/valdoro/alerts', { body: { zones: ['ZB'], risk: 'temporali', level: 'giallo', expires: new Date(Date.now() + 6 * 3600e3).toISOString(), info: [{ language: 'it', headline: 'Temporali sulla frazione Colle' }] } });
  await w.ok(201, 'POST', '/api/v1/orgs/valdoro/alerts', { body: { zones: ['ZB'], risk: 'vento', level: 'arancione', status: 'Exercise', expires: new Date(Date.now() + 6 * 3600e3).toISOString(), info: [{ language: 'it', headline: 'Esercitazione vento forte' }] } });
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

async function citizen() {
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/#/c/valdoro-avvisi');
  await page.locator('.channel-actions').getByRole('button', { name: 'Segui', exact: true }).click();
  await page.locator('.channel-actions').getByRole('button', { name: 'Non seguire più' }).waitFor();
  await page.goto(`${w.url}/#/`);
  return { ctx, page };
}

async function fillAlert(page, { level, headline }) {
  await page.getByLabel('Zona di allerta A (ZA)').check();
  await page.getByRole('combobox', { name: /^Rischio/ }).selectOption('idraulico');
  await page.getByRole('radio', { name: level }).check();
  await page.getByLabel('Titolo', { exact: true }).fill(headline);
  await page.getByLabel('Cosa devono fare i cittadini').fill('Evitate i sottopassi e i piani interrati.');
}

test('console: zones, publish with preview and CAP, two-person approval, withdraw, cancel', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const cit = await citizen();
  const ctx = await signedIn(await openContext(browser, w, { viewport: DESKTOP }), boss);
  const page = await ctx.page('/admin/');
  await page.getByRole('link', { name: 'Allerte', exact: true }).click();
  await page.getByRole('heading', { name: 'Allerte di Protezione Civile' }).waitFor();
  assert.equal(await page.locator('.alert-form').count(), 0);

  // Zones: one made with a geocode, then renamed.
  await page.getByRole('link', { name: 'Zone', exact: true }).click();
  await page.getByLabel('Codice').fill('ZA');
  await page.getByLabel('Nome').fill('Zona A');
  await page.getByLabel('Codici geografici (facoltativi)').fill('ISTAT:048010');
  await page.getByRole('button', { name: 'Aggiungi la zona' }).click();
  await page.getByText('Zona Zona A aggiunta.').waitFor();
  const row = page.locator('li[data-zone="ZA"]');
  await row.getByText('ISTAT:048010').waitFor();
  await row.getByRole('button', { name: 'Modifica Zona A' }).click();
  await row.getByLabel('Nome').fill('Zona di allerta A');
  await row.getByRole('button', { name: 'Salva' }).click();
  await page.getByText('Zona Zona di allerta A salvata.').waitFor();
  const z = await w.ok(200, 'GET', '/api/v1/orgs/valdoro/zones/ZA');
  assert.deepEqual(z.geocodes, [{ valueName: 'ISTAT', value: '048010' }]);
  assert.equal(z.name, 'Zona di allerta A');

  // The form: the preview is the citizens' banner, as they will see it, while typing.
  await page.getByRole('link', { name: 'Nuova allerta' }).click();
  await fillAlert(page, { level: 'Allerta arancione', headline: 'Piena del torrente attesa nella notte' });
  const prev = page.locator('.preview .alert-banner');
  await prev.getByText('Piena del torrente attesa nella notte').waitFor();
  assert.match(await prev.innerText(), /Allerta arancione/i);
  assert.match(await prev.getAttribute('class'), /alert-arancione/);
  await shot(page, 'admin-alert-form-filled', 'it');
  await page.getByRole('button', { name: "Pubblica l'allerta" }).click();
  await page.getByText('Pubblicata: i cittadini la vedono ora.').waitFor();
  const cap = await page.locator('pre.cap-doc').textContent();
  assert.match(cap, /<alert xmlns="urn:oasis:names:tc:emergency:cap:1\.2">/);
  assert.match(cap, /3; orange; Severe/);
  // The follower sees it, live.
  const orange = cit.page.locator('.alert-banner', { hasText: 'Piena del torrente' });
  await orange.waitFor({ timeout: 10000 });

  // Two-person rule: a red alert waits; its author cannot approve it.
  await page.goto(`${w.url}/admin/#/allerte/nuova`);
  await fillAlert(page, { level: 'Allerta rossa', headline: 'Esondazione in corso nel centro' });
  await page.getByRole('button', { name: "Pubblica l'allerta" }).click();
  await page.getByText('In attesa: un’altra persona').or(page.getByText("In attesa: un'altra persona")).waitFor();
  await page.goto(`${w.url}/admin/#/allerte/stato`);
  const queue = page.locator('.queue');
  await queue.getByText('Esondazione in corso nel centro').waitFor();
  await shot(page, 'admin-alert-queue', 'it');
  await queue.getByRole('button', { name: 'Approva e pubblica' }).click();
  const dlg = page.locator('dialog[open]');
  await dlg.getByText('«Esondazione in corso nel centro» per Zona di allerta A').waitFor();
  await dlg.getByRole('button', { name: 'Sì, pubblica ora' }).click();
  await dlg.getByText('Hai scritto tu questa allerta').waitFor();
  await dlg.getByRole('button', { name: 'Annulla' }).click();
  assert.equal(await cit.page.locator('.alert-banner', { hasText: 'Esondazione' }).count(), 0, 'nothing went out');

  // The second person approves it, after a confirmation that names it.
  const ctx2 = await signedIn(await openContext(browser, w), pc);
  const p2 = await ctx2.page('/admin/#/allerte');
  const q2 = p2.locator('.queue');
  await q2.getByText('Esondazione in corso nel centro').waitFor();
  await q2.getByRole('button', { name: 'Approva e pubblica' }).click();
  await p2.locator('dialog[open]').getByText('«Esondazione in corso nel centro» per Zona di allerta A').waitFor();
  await shot(p2, 'admin-alert-approve-dialog', 'it');
  await p2.locator('dialog[open]').getByRole('button', { name: 'Sì, pubblica ora' }).click();
  await p2.getByText('Pubblicata: «Esondazione in corso nel centro».').waitFor();
  const red = cit.page.locator('.alert-banner', { hasText: 'Esondazione' });
  await red.waitFor({ timeout: 10000 });
  assert.match(await red.innerText(), /Allerta rossa/i);

  // Another red one is withdrawn before it goes out.
  await p2.goto(`${w.url}/admin/#/allerte/nuova`);
  await fillAlert(p2, { level: 'Allerta rossa', headline: 'Allerta da ritirare' });
  await p2.getByRole('button', { name: "Pubblica l'allerta" }).click();
  await p2.getByText(/In attesa: un.altra persona/).waitFor();
  await p2.goto(`${w.url}/admin/#/allerte/stato`);
  await p2.locator('.queue').getByRole('button', { name: 'Ritira' }).click();
  await p2.locator('dialog[open]').getByText('«Allerta da ritirare» per Zona di allerta A').waitFor();
  await p2.locator('dialog[open]').getByRole('button', { name: 'Sì, ritira' }).click();
  await p2.getByText('Ritirata: «Allerta da ritirare».').waitFor();
  await p2.locator('.queue').waitFor({ state: 'detached' });

  // The status table: cancel the red one from its row; the citizen's banner goes.
  await page.reload();
  const tr = page.locator('tr', { hasText: 'Idraulico' });
  await tr.getByText('Allerta rossa').waitFor();
  await shot(page, 'admin-alert-status', 'it');
  // "Aggiorna" fills the form from the alert: only what changes is typed.
  await tr.getByRole('link', { name: /^Aggiorna/ }).click();
  await page.getByRole('heading', { name: "Aggiorna un'allerta" }).waitFor();
  await page.waitForFunction(() => document.querySelector('.alert-form input[maxlength="160"]').value === 'Esondazione in corso nel centro');
  assert.ok(await page.getByRole('radio', { name: 'Allerta rossa' }).isChecked());
  assert.equal(await page.getByRole('combobox', { name: /^Rischio/ }).inputValue(), 'idraulico');
  await page.goto(`${w.url}/admin/#/allerte/stato`);
  await tr.getByRole('link', { name: /^Revoca/ }).click();
  await page.getByRole('heading', { name: "Revoca un'allerta" }).waitFor();
  assert.ok(await page.getByRole('checkbox', { name: /Esondazione in corso nel centro/ }).isChecked());
  await page.getByLabel('Titolo', { exact: true }).fill('Allerta rossa revocata: il torrente è rientrato');
  await page.getByRole('button', { name: 'Pubblica la revoca' }).click();
  await page.getByText('Pubblicata: i cittadini la vedono ora.').waitFor();
  await red.waitFor({ state: 'detached', timeout: 10000 });
  // The orange one (replaced by nothing) is still in force for the citizen.
  await orange.waitFor();
  for (const c of [ctx, ctx2, cit.ctx]) { c.check(); await c.close(); }
});

for (const lang of ['it', 'en']) {
  for (const viewport of [PHONE, DESKTOP]) {
    test(`console alerts screens: axe and screenshots, ${lang} ${viewport.width}×${viewport.height}`, { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
      // Nothing wider than the phone, at 100 % and with text at 200 % (the table scrolls).
      const fits = async (page, what) => {
        if (viewport !== PHONE) return;
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
      };
      const ctx = await signedIn(await openContext(browser, w, { lang, viewport }), boss);
      const page = await ctx.page('/admin/#/allerte/stato');
      await page.locator('#hist-h').waitFor();
      await page.locator('.plain-list li').first().waitFor();
      // Exercises in force: a table of their own for staff, marked on every row.
      await page.locator('#drill-h').waitFor();
      assert.match(await page.locator('section[aria-labelledby="drill-h"] .level-chip').first().innerText(), lang === 'it' ? /Esercitazione/ : /Exercise/);
      await axe(page, `alerts status ${lang}`);
      await fits(page, 'alerts status');
      await shot(page, 'admin-alerts-status', lang);
      await page.goto(`${w.url}/admin/#/allerte/nuova`);
      await page.locator('.alert-form input[type=checkbox]').first().check();
      await page.locator('.alert-form input[type=radio][value=rosso]').check();
      await page.locator('.alert-form input[maxlength="160"]').first().fill('Vento forte: chiusi parchi e cimiteri');
      await page.locator('.preview .alert-rosso').waitFor();
      await axe(page, `alert form ${lang}`);
      await fits(page, 'alert form');
      await shot(page, 'admin-alerts-form', lang);
      await page.goto(`${w.url}/admin/#/allerte/zone`);
      await page.locator('li[data-zone]').first().waitFor();
      await axe(page, `zones ${lang}`);
      await fits(page, 'zones');
      await shot(page, 'admin-alerts-zones', lang);
      ctx.check();
      await ctx.close();
    });
  }
}
