// SPDX-License-Identifier: AGPL-3.0-or-later
// Every screen of the app, in Italian and English, on a phone (360×740) and a desktop
// (1280×800): axe-core finds no violation of any impact, and a screenshot of each is saved as
// build/browser/<screen>-<w>x<h>-<lang>.png (look at them: they are how the design is judged).
// On the phone, every screen is also checked with its text at 200 %: nothing wider than the screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, axe, shot, PHONE, DESKTOP } from './lib/browser.mjs';
import { png, pdf } from '../fixtures/media/gen.mjs';

let w;
let browser;

async function upload(bytes) {
  const r = await fetch(`${w.url}/api/v1/media`, {
    method: 'POST', headers: { authorization: `Bearer ${w.op}`, 'content-type': 'application/octet-stream' }, body: bytes,
  });
  if (r.status !== 201) throw new Error(`upload: ${r.status} ${await r.text()}`);
  return (await r.json()).id;
}

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  const icon = await upload(png(256, 256));
  await w.channel({
    handle: 'valdoro-notizie', name: 'Comune di Valdoro — Notizie', icon,
    description: 'Avvisi, eventi e servizi per la città di Valdoro: lavori stradali, scuole, rifiuti, cultura.',
  });
  await w.ok(200, 'PATCH', '/api/v1/channels/valdoro-notizie', { body: { verified: true } });
  await w.channel({ handle: 'valdoro-protezione-civile', name: 'Protezione Civile Valdoro', category: 'civil_protection', description: 'Allerte meteo.' });
  const welcome = await w.post('valdoro-notizie', 'Benvenuti nel canale ufficiale del *Comune di Valdoro*! Qui trovate avvisi, eventi e servizi.');
  await w.ok(204, 'PUT', '/api/v1/channels/valdoro-notizie/pin', { body: { post_id: welcome.id } });
  const photo = await upload(png(640, 480));
  const doc = await upload(pdf(2000));
  await w.post('valdoro-notizie', {
    text: '🚧 *Lavori stradali* in via Roma da lunedì: senso unico alternato. Il percorso dei bus nel documento.',
    media: [{ id: photo, alt: 'La mappa di via Roma con il tratto chiuso' }, { id: doc, alt: 'Percorso dei bus' }],
  });
  await w.post('valdoro-notizie', {
    text: 'Quando facciamo la festa del paese?',
    poll: { question: 'Che giorno preferite?', options: ['Sabato', 'Domenica'], multiple: false, closes_at: new Date(Date.now() + 7 * 86400e3).toISOString() },
  });
  await w.post('valdoro-protezione-civile', '⚠️ *Allerta GIALLA* per temporali dalle 14 di oggi alle 8 di domani.');
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

const T = {
  it: { follow: 'Segui', settings: 'Impostazioni', forget: 'Dimentica questo dispositivo', cancel: 'Annulla' },
  en: { follow: 'Follow', settings: 'Settings', forget: 'Forget this device', cancel: 'Cancel' },
};

for (const lang of ['it', 'en']) {
  for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    test(`every screen, ${lang}, ${size}: no axe violation, screenshot saved`, { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
      const ctx = await openContext(browser, w, { lang, viewport });
      const page = await ctx.page('/');
      const check = async (screen) => {
        await page.waitForFunction(() => !document.querySelector('main .state[role=status]'));
        await page.evaluate(() => document.fonts.ready);
        await axe(page, `${screen} (${lang}, ${size})`);
        await shot(page, screen, lang);
        if (size === 'phone') {
          // Text at 200 %: still no sideways scrolling on the phone.
          const wide = await page.evaluate(async () => {
            document.documentElement.style.fontSize = '200%';
            await new Promise((r) => requestAnimationFrame(r));
            const out = [...document.querySelectorAll('body *')]
              .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 1)
              .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
            document.documentElement.style.fontSize = '';
            return out;
          });
          assert.deepEqual(wide, [], `${screen} at 200 % text is wider than the screen`);
        }
      };
      await page.locator('main h1').waitFor();
      await check('home-empty');

      await page.goto(`${w.url}/#/esplora`);
      await page.locator('.card').first().waitFor();
      await check('directory');

      await page.goto(`${w.url}/#/c/valdoro-notizie`);
      await page.locator('article.post').first().waitFor();
      await check('channel-preview');

      await page.locator('.channel-actions').getByRole('button', { name: T[lang].follow, exact: true }).click();
      await page.locator('.channel-actions button[aria-pressed="true"]').waitFor();
      await page.locator('article.post img').first().waitFor();
      await check('channel');
      await page.locator('form.poll').scrollIntoViewIfNeeded();
      await page.locator('.post-media').first().waitFor();
      await shot(page, 'channel-posts', lang);
      // A photo opens large on a tap, and closes with its button.
      await page.locator('.media-image').first().click();
      await page.locator('dialog.lightbox[open] img').waitFor();
      await check('photo');
      await page.locator('dialog.lightbox').getByRole('button').click();
      await page.locator('dialog.lightbox').waitFor({ state: 'detached' });

      await page.goto(`${w.url}/#/`);
      await page.locator('.chat').first().waitFor();
      await check('home');

      await page.goto(`${w.url}/#/impostazioni`);
      await page.locator('.panel').first().waitFor();
      await check('settings');
      await page.getByRole('button', { name: T[lang].forget }).click();
      await page.getByRole('dialog').waitFor();
      await check('forget-confirm');
      await page.getByRole('button', { name: T[lang].cancel }).click();

      ctx.check();
      await ctx.close();
    });
  }
}
