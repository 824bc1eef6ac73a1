// SPDX-License-Identifier: AGPL-3.0-or-later
// /segnalazioni/statistiche/{org} in a real browser with JavaScript off (issue 15): accessible
// (axe, colour contrast included) on a 360 px phone and a desktop, in Italian and English; on
// the phone nothing scrolls sideways (each service is a block naming each value); screenshots
// in build/browser/. Its content is tested by
// tests/api/pages_reports.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, shot, axe, PHONE, DESKTOP } from './lib/browser.mjs';

let w;
let browser;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  const { token } = await w.ok(201, 'POST', '/api/v1/followers');
  for (const code of ['strade-buche', 'strade-buche', 'verde-albero']) {
    const r = await fetch(`${w.url}/open311/v2/requests.json?jurisdiction_id=valdoro`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ service_code: code, lat: '43.77', long: '11.25' }),
    });
    assert.equal(r.status, 201);
    const id = (await r.json())[0].service_request_id;
    await w.ok(204, 'PATCH', `/api/v1/orgs/valdoro/reports/${id}`, { body: { status: 'risolta' } });
  }
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

for (const lang of ['it', 'en']) {
  for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    test(`statistics page, ${lang}, ${size}: complete without JavaScript, no axe violation, no sideways scroll`, { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
      // JavaScript off: the whole table is there.
      const off = await openContext(browser, w, { lang, viewport, javaScriptEnabled: false });
      const bare = await off.page(`/segnalazioni/statistiche/valdoro?lang=${lang}`);
      const cells = await bare.locator('tr', { has: bare.locator('th[scope="row"]', { hasText: 'Buca nella strada' }) }).locator('td').allTextContents();
      assert.equal(cells[0], '2');
      assert.equal(cells[3], '100%');
      off.check();
      await off.close();
      // The same page (it has no script of its own) with JavaScript on, for axe.
      const ctx = await openContext(browser, w, { lang, viewport });
      const page = await ctx.page(`/segnalazioni/statistiche/valdoro?lang=${lang}`);
      await page.locator('table.rstats-table caption').waitFor();
      const wide = await page.evaluate(() => {
        const box = document.querySelector('.table-scroll');
        return Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth, box.scrollWidth - box.clientWidth);
      });
      if (size === 'phone') assert.ok(wide <= 0, `the page or the table scrolls sideways by ${wide} px`);
      await axe(page, `report statistics (${lang}, ${size})`);
      await shot(page, 'report-stats', lang);
      ctx.check();
      await ctx.close();
    });
  }
}
