// SPDX-License-Identifier: AGPL-3.0-or-later
// The app's bottom tabs on a 360×740 phone, in Italian and English: every label is at least
// 1rem (16px: elderly readers), on one line — no word broken in two — inside its tab with room
// to spare (no clipping, no label running into the next one), and is named in full for screen
// readers. Screenshots:
// build/browser/tabs-360x740-<lang>.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, shot, PHONE } from './lib/browser.mjs';

let w;
let browser;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

const NAMES = {
  it: ['Aggiornamenti', 'Esplora', 'Segnala', 'Impostazioni'],
  en: ['Updates', 'Explore', 'Reports', 'Settings'],
};

for (const lang of ['it', 'en']) {
  test(`tabs at 360 px, ${lang}: labels at least 16px, inside their tab, on one line, named in full`, { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
    const ctx = await openContext(browser, w, { lang, viewport: PHONE });
    const page = await ctx.page('/');
    const tabs = page.locator('nav.tabs a');
    await tabs.nth(3).waitFor();
    await page.evaluate(() => document.fonts.ready);
    for (const name of NAMES[lang]) await page.getByRole('link', { name, exact: true }).waitFor();
    // The names in Chrome's own accessibility tree (what a screen reader or a braille display
    // gets), not only as Playwright computes them.
    const cdp = await ctx.newCDPSession(page);
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const links = new Set(nodes.filter((n) => n.role?.value === 'link').map((n) => n.name?.value));
    for (const name of NAMES[lang]) assert.ok(links.has(name), `no link named exactly "${name}": ${JSON.stringify([...links])}`);
    assert.equal(await tabs.count(), 4);
    assert.equal(await page.locator('nav.tabs .tab-label').count(), 4);
    const got = await page.evaluate(() => [...document.querySelectorAll('nav.tabs a')].map((a) => {
      const label = a.querySelector('.tab-label') || a;
      const box = a.getBoundingClientRect();
      const lb = label.getBoundingClientRect();
      return {
        text: a.textContent.replace(/\s+/g, ' ').trim(),
        tab: parseFloat(getComputedStyle(a).fontSize),
        label: parseFloat(getComputedStyle(label).fontSize),
        overflow: a.scrollWidth > a.clientWidth || label.scrollWidth > label.clientWidth,
        lines: (() => { const r = document.createRange(); r.selectNodeContents(label); return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size; })(),
        left: lb.left - box.left,
        right: box.right - lb.right,
      };
    }));
    for (const t of got) {
      assert.ok(t.tab >= 16 && t.label >= 16, `"${t.text}" is ${Math.min(t.tab, t.label)}px, under 16px`);
      assert.ok(!t.overflow, `"${t.text}" does not fit its tab`);
      assert.equal(t.lines, 1, `"${t.text}" is broken over ${t.lines} lines`);
      // At least 2px of the tab on each side, so two labels never touch.
      assert.ok(t.left >= 2 && t.right >= 2, `"${t.text}" touches the edge of its tab (${t.left}, ${t.right})`);
    }
    await shot(page, 'tabs', lang);
    ctx.check();
    await ctx.close();
  });
}
