// SPDX-License-Identifier: AGPL-3.0-or-later
// The civil-protection alert banner in the citizens' app and on the server's channel pages:
// a follower connected before the alert sees it arrive live (and hears it: assertive for
// arancione); one connecting after sees it at stream start; an exercise is marked
// ESERCITAZIONE; a Cancel removes it; an alert goes at its expiry by the phone's clock. Axe and
// screenshots at 360×740 and 1280×800, Italian and English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, axe, shot, PHONE, DESKTOP } from './lib/browser.mjs';

let w;
let browser;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  browser = await launch();
  await w.channel({ handle: 'valdoro-avvisi', name: 'Avvisi del Comune' });
  await w.post('valdoro-avvisi', 'Benvenuti.');
  await w.ok(201, 'POST', '/api/v1/orgs/valdoro/zones', { body: { code: 'ZA', name: 'Zona di allerta A' } });
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

const inHours = (h) => new Date(Date.now() + h * 3600e3).toISOString();
const publish = (body) => w.ok(201, 'POST', '/api/v1/orgs/valdoro/alerts', {
  body: { zones: ['ZA'], risk: 'idraulico', level: 'arancione', expires: inHours(6), ...body },
});
const INFO = [
  { language: 'it', headline: 'Piena del torrente Valdoro attesa nella notte', instruction: 'Evitate i sottopassi.' },
  { language: 'en', headline: 'Valdoro river flood expected tonight' },
];

async function follow(ctx, lang = 'it') {
  const page = await ctx.page('/#/c/valdoro-avvisi');
  await page.locator('.channel-actions').getByRole('button', { name: lang === 'it' ? 'Segui' : 'Follow', exact: true }).click();
  await page.locator('.channel-actions').getByRole('button', { name: lang === 'it' ? 'Non seguire più' : 'Unfollow' }).waitFor();
  return page;
}

test('alert banner: live, at start, exercise, cancel, expiry; on /c/ pages too', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const ctx = await openContext(browser, w);
  const page = await follow(ctx);
  await page.goto(`${w.url}/#/`);
  await page.locator('.chat', { hasText: 'Avvisi del Comune' }).waitFor();
  await page.waitForTimeout(300); // the stream is live (a status with nothing in force came)
  assert.equal(await page.locator('.alert-banner').count(), 0, 'nothing in force: no banner');

  // Connected before: the banner arrives live, with the level in words, and is announced.
  const a = await publish({ info: INFO });
  const banner = page.locator(`.alert-banner[data-alert="${a.id}"]`);
  await banner.waitFor({ timeout: 10000 });
  const text = await banner.innerText();
  assert.match(text, /Allerta arancione/i);
  assert.match(text, /Piena del torrente Valdoro/);
  assert.match(text, /Valida fino a/);
  assert.equal(await banner.getAttribute('href'), '/allerta/valdoro');
  await page.waitForFunction(() => /Piena del torrente/.test(document.querySelector('.alert-banners [aria-live="assertive"]').textContent));
  assert.equal(await page.locator('.alert-banners [aria-live="polite"]').textContent(), '');
  // The validity is in local time (the context is in Europe/Rome).
  const local = new Intl.DateTimeFormat('it-IT', { timeZone: 'Europe/Rome', hour: '2-digit', minute: '2-digit' }).format(new Date(a.expires));
  assert.ok(text.includes(local), `${text} names ${local}`);
  await shot(page, 'alert-banner-home', 'it');

  // It is on every screen of the app.
  for (const hash of ['#/esplora', '#/impostazioni', '#/c/valdoro-avvisi']) {
    await page.goto(`${w.url}/${hash}`);
    await banner.waitFor();
  }

  // Without network for the stream, the phone still shows what was in force (remembered).
  const noStream = (route) => route.abort('internetdisconnected');
  await ctx.route('**/api/v1/stream*', noStream);
  const cut = await ctx.page('/#/impostazioni');
  await cut.locator(`.alert-banner[data-alert="${a.id}"]`).waitFor({ timeout: 10000 });
  await cut.close();
  await ctx.unroute('**/api/v1/stream*', noStream);

  // Connected after: a new phone opening the server's channel page sees it at stream start.
  const late = await openContext(browser, w);
  const cpage = await late.page('/c/valdoro-avvisi');
  const lateBanner = cpage.locator(`.alert-banner[data-alert="${a.id}"]`);
  await lateBanner.waitFor({ timeout: 10000 });
  assert.match(await lateBanner.innerText(), /Allerta arancione/i);
  await shot(cpage, 'alert-banner-channel-page', 'it');

  // An exercise is shown marked as one.
  const ex = await publish({ status: 'Exercise', level: 'giallo', risk: 'vento', info: [{ language: 'it', headline: 'Prova di allerta per vento' }] });
  const exBanner = page.locator(`.alert-banner[data-alert="${ex.id}"]`);
  await exBanner.waitFor({ timeout: 10000 });
  assert.match(await exBanner.innerText(), /ESERCITAZIONE/);
  assert.match(await exBanner.innerText(), /Allerta gialla/i);
  await page.waitForFunction(() => /ESERCITAZIONE/.test(document.querySelector('.alert-banners [aria-live="polite"]').textContent));

  // Cancel: both phones drop the banner.
  await publish({ msg_type: 'Cancel', references: [a.id], info: [{ language: 'it', headline: 'Allerta revocata' }] });
  await banner.waitFor({ state: 'detached', timeout: 10000 });
  await lateBanner.waitFor({ state: 'detached', timeout: 10000 });
  await publish({ msg_type: 'Cancel', status: 'Exercise', references: [ex.id], info: [{ language: 'it', headline: 'Fine prova' }] });
  await exBanner.waitFor({ state: 'detached', timeout: 10000 });

  // Expiry: the phone's clock takes it down, with no event from the server.
  const soon = await publish({ level: 'rosso', expires: new Date(Date.now() + 4000).toISOString(), info: [{ language: 'it', headline: 'Vento forte per pochi secondi' }] });
  const soonBanner = page.locator(`.alert-banner[data-alert="${soon.id}"]`);
  await soonBanner.waitFor({ timeout: 10000 });
  await soonBanner.waitFor({ state: 'detached', timeout: 15000 });
  ctx.check();
  late.check();
  await ctx.close();
  await late.close();
});

for (const lang of ['it', 'en']) {
  for (const viewport of [PHONE, DESKTOP]) {
    test(`alert banner: axe and screenshots, ${lang} ${viewport.width}×${viewport.height}`, { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
      const red = await publish({ level: 'rosso', info: [{ language: 'it', headline: 'Allerta rossa per rischio idraulico: esondazione in corso' }, { language: 'en', headline: 'Red flood alert: river overflowing' }] });
      const ex = await publish({ level: 'giallo', status: 'Exercise', risk: 'neve', info: [{ language: 'it', headline: 'Esercitazione neve' }] });
      const ctx = await openContext(browser, w, { lang, viewport });
      if (lang === 'en') await ctx.addInitScript(() => localStorage.setItem('araldo.lang', 'en'));
      const page = await follow(ctx, lang);
      await page.goto(`${w.url}/#/`);
      await page.locator(`.alert-banner[data-alert="${red.id}"]`).waitFor({ timeout: 10000 });
      assert.match(await page.locator(`.alert-banner[data-alert="${red.id}"]`).innerText(), lang === 'it' ? /Allerta rossa/i : /Red alert/i);
      await axe(page, `home with a red alert, ${lang}`);
      if (viewport === PHONE) {
        // At 200 % text the banner still fits the phone's width.
        const wide = await page.evaluate(async () => {
          document.documentElement.style.fontSize = '200%';
          await new Promise((r) => requestAnimationFrame(r));
          const out = [...document.querySelectorAll('.alert-banners *')].filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 1).map((e) => e.className);
          document.documentElement.style.fontSize = '';
          return out;
        });
        assert.deepEqual(wide, [], 'the banner fits at 200 % text');
      }
      await shot(page, 'alert-banner-red', lang);
      await page.goto(`${w.url}/c/valdoro-avvisi`);
      await page.locator(`.alert-banner[data-alert="${red.id}"]`).waitFor({ timeout: 10000 });
      await axe(page, `channel page with a red alert, ${lang}`);
      await shot(page, 'alert-banner-red-channel-page', lang);
      await publish({ msg_type: 'Cancel', references: [red.id], info: [{ language: 'it', headline: 'Revocata' }] });
      await publish({ msg_type: 'Cancel', status: 'Exercise', references: [ex.id], info: [{ language: 'it', headline: 'Fine' }] });
      ctx.check();
      await ctx.close();
    });
  }
}
