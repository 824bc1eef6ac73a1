// SPDX-License-Identifier: AGPL-3.0-or-later
// Live details a reader notices: a new post does not move what they are reading (a "Nuovi
// aggiornamenti" pill appears instead), the home screen counts unread posts live, and reading
// them (views reported to the API) clears the count.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, shot } from './lib/browser.mjs';

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

test('new posts: no scroll jump, the pill, unread counts live and cleared by reading', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  await w.channel({ handle: 'valdoro-lavori', name: 'Lavori pubblici' });
  for (let i = 1; i <= 12; i++) await w.post('valdoro-lavori', `Cantiere numero ${i}: lavori in corso nella via ${i}, con deviazioni e orari.`);
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/#/c/valdoro-lavori');
  await page.locator('.channel-actions').getByRole('button', { name: 'Segui', exact: true }).click();
  await page.locator('.channel-actions').getByRole('button', { name: 'Non seguire più' }).waitFor();
  const token = await page.evaluate(() => localStorage.getItem('araldo.token'));

  // Reading the top of the channel: a new post leaves the reader where they are.
  await page.evaluate(() => scrollTo(0, 0));
  await page.waitForTimeout(100);
  const y = await page.evaluate(() => scrollY);
  const p = await w.post('valdoro-lavori', 'Nuovo cantiere in piazza Garibaldi.');
  await page.locator(`#p-${p.id}`).waitFor({ state: 'attached', timeout: 10000 });
  const pill = page.getByRole('button', { name: 'Nuovi aggiornamenti' });
  await pill.waitFor();
  assert.equal(await page.evaluate(() => scrollY), y, 'the scroll position did not move');
  await shot(page, 'channel-new-pill', 'it');
  await pill.click();
  await page.waitForFunction((id) => document.getElementById(`p-${id}`).getBoundingClientRect().bottom <= innerHeight, p.id);
  await pill.waitFor({ state: 'detached' });

  // On the home screen, a post published meanwhile is counted as unread, live.
  await page.goto(`${w.url}/#/`);
  const row = page.locator('.chat', { hasText: 'Lavori pubblici' });
  await row.waitFor();
  await page.waitForFunction(() => !document.querySelector('.chat .unread'), null, { timeout: 10000 });
  const q = await w.post('valdoro-lavori', 'Via Verdi riaperta al traffico.');
  await row.locator('.unread').getByText('1 avviso non letto').waitFor({ timeout: 10000 });
  await row.getByText('Via Verdi riaperta').waitFor();
  // Opening the channel shows it, the app reports the view, and the count is gone.
  await row.click();
  await page.locator(`#p-${q.id}`).waitFor();
  await page.waitForFunction(async (tok) => {
    const r = await fetch('/api/v1/me/channels', { headers: { authorization: `Bearer ${tok}` } });
    return (await r.json()).channels[0].unread === 0;
  }, token, { timeout: 10000, polling: 250 });
  const views = [];
  for (let i = 0; i < 20; i++) {
    views.push((await w.call('GET', `/api/v1/posts/${q.id}`)).data.views);
    if (views.at(-1) === 1) break;
    await page.waitForTimeout(200);
  }
  assert.equal(views.at(-1), 1, `one view, counted once: ${views}`);
  await page.goto(`${w.url}/#/`);
  await row.waitFor();
  await row.locator('.unread').waitFor({ state: 'detached', timeout: 10000 });
  ctx.check();
  await ctx.close();
});
