// SPDX-License-Identifier: AGPL-3.0-or-later
// Every screen of the staff console, in Italian and English, on a phone (360×740) and a desktop
// (1280×800): axe-core finds no violation of any impact, nothing is wider than the phone's
// screen, and a screenshot of each is saved as build/browser/admin-<screen>-<w>x<h>-<lang>.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, axe, shot, api, PHONE, DESKTOP } from './lib/browser.mjs';
import { staff, session, signedIn } from './lib/admin.mjs';
import { png } from '../fixtures/media/gen.mjs';

let w;
let browser;
let boss; // the Comune's org admin
let op; // the server's operator, signed in
let n = 0;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  boss = await staff(w, 'valdoro', 'segreteria@valdoro.it', 'org_admin');
  await staff(w, 'valdoro', 'ufficio.stampa@valdoro.it', 'staff');
  op = await session(w, 'admin@localhost', w.srv.password);
  const as = { headers: boss.headers };
  const up = await fetch(`${w.url}/api/v1/media`, { method: 'POST', headers: { ...boss.headers, 'content-type': 'image/png' }, body: png(256, 256) });
  const icon = (await up.json()).id;
  await w.ok(201, 'POST', '/api/v1/channels', { ...as, body: { org: 'valdoro', handle: 'valdoro-notizie', name: 'Comune di Valdoro — Notizie', icon, description: 'Avvisi, eventi e servizi per la città di Valdoro.' } });
  const photo = await (await fetch(`${w.url}/api/v1/media`, { method: 'POST', headers: { ...boss.headers, 'content-type': 'image/png' }, body: png(640, 480) })).json();
  const first = await w.ok(201, 'POST', '/api/v1/channels/valdoro-notizie/posts', { ...as, body: { text: '🚧 *Lavori stradali* in via Roma da lunedì: senso unico alternato.', media: [{ id: photo.id, alt: 'La mappa di via Roma con il tratto chiuso' }] } });
  await w.ok(201, 'POST', '/api/v1/channels/valdoro-notizie/posts', { ...as, body: { text: 'Quando facciamo la festa del paese?', poll: { question: 'Che giorno preferite?', options: ['Sabato', 'Domenica'] } } });
  await w.ok(200, 'PATCH', `/api/v1/posts/${first.id}`, { ...as, body: { text: '🚧 *Lavori stradali* in via Roma da martedì: senso unico alternato.' } });
  await w.ok(201, 'POST', '/api/v1/channels/valdoro-notizie/posts', { ...as, body: { text: 'Domani mercato straordinario in piazza.', publish_at: new Date(Date.now() + 86400e3).toISOString() } });
  await w.ok(201, 'POST', '/api/v1/channels/valdoro-notizie/invites', { ...as, body: { max_uses: 500 } });
  await w.ok(201, 'POST', '/api/v1/channels/valdoro-notizie/admins', { ...as, body: { email: 'ufficio.stampa@valdoro.it' } });
  for (let i = 0; i < 3; i++) {
    const f = await api(w.url, 'POST', '/api/v1/followers');
    await api(w.url, 'PUT', '/api/v1/channels/valdoro-notizie/follow', { as: f.data.token });
  }
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

const T = {
  it: { compose: "Testo dell'avviso", poll: 'Aggiungi un sondaggio', question: 'Domanda', del: 'Elimina', cancel: 'Annulla', create: "Crea l'account", email: 'Indirizzo e-mail' },
  en: { compose: 'Post text', poll: 'Add a poll', question: 'Question', del: 'Delete', cancel: 'Cancel', create: 'Create the account', email: 'E-mail address' },
};

for (const lang of ['it', 'en']) {
  for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    test(`every console screen, ${lang}, ${size}: no axe violation, fits, screenshot saved`, { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
      const check = async (page, screen) => {
        await page.waitForFunction(() => !document.querySelector('main .state[role=status]'));
        await page.evaluate(() => document.fonts.ready);
        await axe(page, `admin ${screen} (${lang}, ${size})`);
        // The screen from its top (a dialog stays where it is).
        await page.evaluate(() => { if (!document.querySelector('dialog[open]')) { document.activeElement.blur(); scrollTo(0, 0); } });
        await shot(page, `admin-${screen}`, lang);
        if (size === 'phone') {
          // At 100 % and with text at 200 %: nothing wider than the phone (the sideways rows of
          // places and the stats table scroll on their own).
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
            assert.deepEqual(wide, [], `admin ${screen} is wider than the phone (text ${pct || '100%'})`);
          }
        }
      };
      const opts = { lang, viewport };
      // Signed out: the sign-in form; a first sign-in: the forced password change.
      const anon = await openContext(browser, w, opts);
      let page = await anon.page('/admin/');
      await page.locator('form.signin').waitFor();
      await check(page, 'signin');
      const fresh = await staff(w, 'valdoro', `nuovo${++n}@valdoro.it`, 'staff', { change: false });
      await signedIn(anon, fresh);
      await page.reload();
      await page.locator('input[autocomplete="new-password"]').first().waitFor();
      await check(page, 'password-first');
      anon.check();
      await anon.close();

      const ctx = await signedIn(await openContext(browser, w, opts), boss);
      page = await ctx.page('/admin/');
      await page.locator('.chan-row').first().waitFor();
      await check(page, 'home');
      await page.goto(`${w.url}/admin/#/canali/nuovo`);
      await page.locator('form.ch-form').waitFor();
      await check(page, 'channel-new');

      await page.goto(`${w.url}/admin/#/c/valdoro-notizie/scrivi`);
      await page.getByLabel(T[lang].compose).fill('*Allerta gialla* per temporali: _evitate_ i sottopassi. Info: https://valdoro.example.it/meteo');
      await page.getByRole('button', { name: T[lang].poll }).click();
      await page.getByLabel(T[lang].question).fill('Avete avuto danni?');
      await page.locator('.preview .post-text strong').waitFor();
      await check(page, 'compose');

      await page.goto(`${w.url}/admin/#/c/valdoro-notizie/avvisi`);
      await page.locator('.admin-post article.post').first().waitFor();
      await page.locator('details.history').first().waitFor();
      await check(page, 'posts');
      await page.locator('.admin-post').last().getByRole('button', { name: T[lang].del }).click();
      await page.getByRole('dialog').waitFor();
      await check(page, 'confirm-delete');
      await page.getByRole('dialog').getByRole('button', { name: T[lang].cancel }).click();

      await page.goto(`${w.url}/admin/#/c/valdoro-notizie/statistiche`);
      await page.locator('.chart svg').waitFor();
      await page.locator('.stats-table').waitFor();
      await check(page, 'stats');
      await page.goto(`${w.url}/admin/#/c/valdoro-notizie/impostazioni`);
      await page.locator('form.ch-form').waitFor();
      await check(page, 'settings');
      await page.goto(`${w.url}/admin/#/c/valdoro-notizie/persone`);
      await page.locator('.plain-list .row').first().waitFor();
      await check(page, 'admins');
      await page.goto(`${w.url}/admin/#/c/valdoro-notizie/inviti`);
      await page.locator('.invite img.qr').waitFor();
      await check(page, 'invites');

      await page.goto(`${w.url}/admin/#/personale`);
      await page.locator('.plain-list .row').first().waitFor();
      await page.getByLabel(T[lang].email).fill(`stagista${++n}@valdoro.it`);
      await page.getByRole('button', { name: T[lang].create }).click();
      await page.locator('.otp code').waitFor();
      await check(page, 'staff');
      await page.goto(`${w.url}/admin/#/registro`);
      await page.locator('.audit-entry').first().waitFor();
      await check(page, 'audit');
      ctx.check();
      await ctx.close();

      const octx = await signedIn(await openContext(browser, w, opts), op);
      page = await octx.page('/admin/#/comuni');
      await page.locator('form').getByRole('button').last().waitFor();
      await check(page, 'orgs');
      octx.check();
      await octx.close();
    });
  }
}
