// SPDX-License-Identifier: AGPL-3.0-or-later
// /allerta/{org} in a real browser (issue 13): accessible (axe, colour contrast included), and
// opened again offline from the service worker, saying how old it is.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, shot, axe } from './lib/browser.mjs';

let w;
let browser;
const iso = (ms) => new Date(ms).toISOString();

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

test('the alert page is accessible and opens offline, saying how old it is', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  await w.ok(201, 'POST', '/api/v1/orgs/valdoro/zones', { body: { code: 'ZA', name: 'Zona di allerta A' } });
  await w.ok(201, 'POST', '/api/v1/orgs/valdoro/alerts', {
    body: {
      zones: ['ZA'], risk: 'idraulico', level: 'arancione', expires: iso(Date.now() + 6 * 3600e3),
      info: [{ language: 'it', headline: 'Piena del torrente Valdoro', instruction: 'Non attraversate i ponti sul torrente.' }],
    },
  });
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/allerta/valdoro');
  await page.getByText('Non attraversate i ponti').waitFor();
  await axe(page, '/allerta/valdoro');
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.evaluate(() => navigator.serviceWorker.controller !== null || new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r)));
  await page.reload(); // now through the worker, which keeps this copy
  await page.getByText('Piena del torrente Valdoro').first().waitFor();
  assert.equal(await page.locator('.alert-offline').isHidden(), true, 'online: no offline note');
  await shot(page, 'allerta', 'it');
  // On a phone nothing scrolls sideways: each risk is a block that names level, phase, validity.
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), true, 'the page fits the phone');
  assert.equal(await page.locator('.table-scroll').evaluate((e) => e.scrollWidth <= e.clientWidth), true, 'the zone table fits the phone');
  assert.equal(await page.locator('.alert-table td[data-label="Fase"]').count() > 0, true);

  // Offline, the page opens as last seen and says how old it is. The new alert is made after
  // the reload: Chromium applies the offline emulation to a restarted service worker a moment
  // late, so an alert made before could legitimately be fetched by the worker.
  await ctx.setOffline(true);
  await page.reload();
  await page.getByText('Non attraversate i ponti').waitFor();
  await page.locator('.alert-offline').waitFor({ state: 'visible' });
  const note = await page.locator('.alert-offline').textContent();
  assert.match(note, /Sei offline: questa è la situazione aggiornata al \d\d\/\d\d\/\d{4} \d\d:\d\d/);
  assert.match(note, /\((adesso|questo minuto|\d+ minut[oi] fa|1 minuto fa)\)/, note);
  await w.ok(201, 'POST', '/api/v1/orgs/valdoro/alerts', {
    body: { zones: ['ZA'], risk: 'vento', level: 'giallo', expires: iso(Date.now() + 6 * 3600e3), info: [{ language: 'it', headline: 'Vento forte in arrivo' }] },
  });
  await page.waitForTimeout(500); // time for a wrong delivery to show itself
  assert.equal(await page.getByText('Vento forte in arrivo').count(), 0, 'offline: nothing new arrives');
  await shot(page, 'allerta-offline', 'it');

  await ctx.setOffline(false);
  await page.reload();
  await page.getByText('Vento forte in arrivo').first().waitFor();
  assert.equal(await page.locator('.alert-offline').isHidden(), true);
  ctx.check();
  await ctx.close();
});
