// SPDX-License-Identifier: AGPL-3.0-or-later
// The reaction picker follows the channel's policy (any emoji: a palette and a field for any
// other; none: no reactions at all), and the way to a channel and "Segui" works with the
// keyboard alone, with a visible focus ring.
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

const skip = !HAVE_CHROMIUM && 'chromium not installed';

test('reactions: any emoji from the palette or typed; none shows no reactions', { skip }, async () => {
  await w.channel({ handle: 'valdoro-sport', name: 'Sport a Valdoro', reaction_policy: 'any' });
  await w.channel({ handle: 'valdoro-anagrafe', name: 'Anagrafe', reaction_policy: 'none' });
  const a = await w.post('valdoro-sport', 'Torneo di calcetto sabato.');
  const b = await w.post('valdoro-anagrafe', 'Sportello chiuso lunedì.');
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/#/c/valdoro-sport');
  await page.locator('.channel-actions').getByRole('button', { name: 'Segui', exact: true }).click();
  await page.locator('.channel-actions').getByRole('button', { name: 'Non seguire più' }).waitFor();
  const post = page.locator(`#p-${a.id}`);
  await post.getByRole('button', { name: 'Reagisci' }).click();
  await post.getByRole('button', { name: 'Reagisci con 🎉' }).click();
  await post.locator('.reaction[data-emoji="🎉"][aria-pressed="true"]').waitFor();
  // Another emoji, typed: replaces the first (one reaction per person).
  await post.getByRole('button', { name: 'Reagisci' }).click();
  await post.getByLabel('Altro emoji').fill('⚽');
  await post.getByRole('button', { name: 'Invia' }).click();
  await post.locator('.reaction[data-emoji="⚽"][aria-pressed="true"]').waitFor();
  await post.locator('.reaction[data-emoji="🎉"]').waitFor({ state: 'detached' });
  const r = await w.call('GET', `/api/v1/posts/${a.id}`);
  assert.deepEqual(r.data.reactions, { '⚽': 1 });
  await shot(page, 'reactions-any', 'it');

  await page.goto(`${w.url}/#/c/valdoro-anagrafe`);
  await page.locator(`#p-${b.id}`).waitFor();
  await page.locator('.channel-actions').getByRole('button', { name: 'Segui', exact: true }).click();
  await page.locator('.channel-actions').getByRole('button', { name: 'Non seguire più' }).waitFor();
  assert.equal(await page.locator(`#p-${b.id} .reactions`).count(), 0, 'policy none: no reactions');
  ctx.check();
  await ctx.close();
});

test('keyboard only: from Esplora to a channel and Segui, focus always visible', { skip }, async () => {
  await w.channel({ handle: 'valdoro-biblioteca', name: 'Biblioteca civica' });
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/#/esplora');
  await page.locator('.ch-card', { hasText: 'Biblioteca civica' }).waitFor();
  await page.getByLabel('Cerca un canale').focus();
  await page.keyboard.type('bibliotec');
  await page.waitForFunction(() => document.querySelectorAll('.ch-card').length === 1);
  // Tab until the card has focus, checking every stop shows a focus ring.
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const e = document.activeElement;
      const s = getComputedStyle(e);
      const within = e.closest('.seg-opt') ? getComputedStyle(e.closest('.seg-opt')) : null;
      return { card: e.classList.contains('ch-card'), ring: s.outlineStyle !== 'none' || (within && within.outlineStyle !== 'none') };
    });
    assert.ok(f.ring, `focus stop ${i + 1} has a visible ring`);
    if (f.card) break;
  }
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Biblioteca civica' }).waitFor();
  await page.locator('.channel-actions').getByRole('button', { name: 'Segui', exact: true }).focus();
  await page.keyboard.press('Enter');
  await page.locator('.channel-actions').getByRole('button', { name: 'Non seguire più' }).waitFor();
  ctx.check();
  await ctx.close();
});

test('a poll closes on screen at its time and shows its final result, with nothing to press', { skip }, async () => {
  await w.channel({ handle: 'valdoro-consulta', name: 'Consulta giovani' });
  const closes = new Date(Date.now() + 4000).toISOString();
  const p = await w.post('valdoro-consulta', { text: 'Sondaggio lampo', poll: { question: 'Ci siete?', options: ['Sì', 'No'], closes_at: closes } });
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/#/c/valdoro-consulta');
  await page.locator('.channel-actions').getByRole('button', { name: 'Segui', exact: true }).click();
  const form = page.locator(`#p-${p.id} form.poll`);
  // While open it says when it closes (unless a loaded machine took longer than that to get here).
  await form.waitFor();
  if (Date.now() < Date.parse(closes) - 1000) assert.match(await form.locator('.poll-meta').textContent(), /si chiude il/);
  // It closes on screen when the time comes, without a reload.
  await form.getByText('Il sondaggio è chiuso: questi sono i risultati finali.').waitFor();
  assert.equal(await form.getAttribute('data-closed'), 'true');
  assert.equal(await form.locator('input:enabled').count(), 0);
  assert.equal(await form.getByRole('button').count(), 0);
  ctx.check();
  await ctx.close();
});

test('directory: search as you type ignores accents; topics and order filter', { skip }, async () => {
  await w.channel({ handle: 'valdoro-citta', name: 'Città pulita', category: 'environment', description: 'Raccolta e decoro' });
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/#/esplora');
  await page.locator('.ch-card').first().waitFor();
  await page.getByLabel('Cerca un canale').fill('citta pul');
  await page.waitForFunction(() => [...document.querySelectorAll('.ch-card')].map((c) => c.querySelector('.card-name').textContent).join() === 'Città pulita');
  await page.getByLabel('Cerca un canale').fill('');
  await page.getByLabel('Argomento').selectOption('environment');
  await page.waitForFunction(() => document.querySelectorAll('.ch-card').length === 1);
  await page.getByLabel('Argomento').selectOption('');
  await page.getByText('Più recenti').click();
  await page.waitForFunction(() => document.querySelector('.ch-card .card-name')?.textContent === 'Città pulita');
  await page.getByLabel('Cerca un canale').fill('nessuncanalecosì');
  await page.getByText('Nessun canale per «nessuncanalecosì»').waitFor();
  ctx.check();
  await ctx.close();
});

test('language: switched in Settings, remembered after a reload, the page says its lang', { skip }, async () => {
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/#/impostazioni');
  await page.getByRole('heading', { level: 1, name: 'Impostazioni' }).waitFor();
  await page.locator('.lang-switch-group').getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  await page.getByRole('link', { name: 'Updates' }).waitFor();
  ctx.check();
  await ctx.close();
});
