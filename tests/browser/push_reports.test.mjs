// SPDX-License-Identifier: AGPL-3.0-or-later
// A report's notification in the browser (issue 15; docs/WEB-APP.md "Notifications"): the
// service worker shows the payload of tests/api/push_reports.test.mjs in the app's language —
// English when the app was set to English (copied to IndexedDB), else the browser's — once per
// tag, and a click opens "Le mie segnalazioni"; a language changed in Impostazioni after
// notifications were turned on reaches the service worker. The message is delivered with the devtools
// protocol (Chromium's own push service is unreachable here); the payload is the server's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, waitFor, sleep } from './lib/browser.mjs';

const skip = !HAVE_CHROMIUM && 'chromium not installed';
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

async function until(pred, what, ms = 10000) {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

const payload = (id) => ({
  kind: 'report', report: id, org: 'valdoro', status: 'presa_in_carico',
  title: `Segnalazione ${id}: Buca nella strada`, body: 'Presa in carico — Sopralluogo lunedì',
  title_en: `Report ${id}: Buca nella strada`, body_en: 'Acknowledged — Sopralluogo lunedì',
  url: `/#/segnalazioni?report=${id}`, tag: `report-${id}`,
});

const IT = ['Segnalazione 7: Buca nella strada', 'Presa in carico — Sopralluogo lunedì'];
const EN = ['Report 7: Buca nella strada', 'Acknowledged — Sopralluogo lunedì'];
// [the browser's language, the app's (null: never set), what is shown]
for (const [lang, appLang, [title, body]] of [['it', null, IT], ['en', null, EN], ['it', 'en', EN], ['en', 'it', IT]]) {
  test(`a report's notification: browser ${lang}, app ${appLang || 'unset'}; once per tag; a click opens my reports`, { skip }, async () => {
    const ctx = await openContext(browser, w, { lang });
    await ctx.grantPermissions(['notifications'], { origin: w.url });
    const page = await ctx.page('/');
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload(); // controlled by the service worker from now on
    await page.evaluate(() => navigator.serviceWorker.ready);
    // What push.js keeps when notifications are turned on: the token and the app's language.
    if (appLang) await page.evaluate((l) => new Promise((resolve) => {
      const open = indexedDB.open('araldo', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('kv');
      open.onsuccess = () => {
        const tx = open.result.transaction('kv', 'readwrite');
        tx.objectStore('kv').put(l, 'lang');
        tx.oncomplete = () => resolve();
      };
    }), appLang);
    const origin = new URL(w.url).origin;
    const cdp = await ctx.newCDPSession(page);
    const regs = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    await waitFor(() => regs.some((r) => r.scopeURL.startsWith(origin)));
    const registrationId = regs.find((r) => r.scopeURL.startsWith(origin)).registrationId;
    for (let i = 0; i < 2; i++) await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: JSON.stringify(payload('7')) });
    const shown = async () => page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications())
      .map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url })));
    await until(async () => (await shown()).length > 0, 'a notification');
    const list = await shown();
    assert.equal(list.length, 1, 'one notification per tag');
    assert.deepEqual(list[0], { title, body, tag: 'report-7', url: `${origin}/#/segnalazioni?report=7` });

    const [sw] = ctx.serviceWorkers();
    await sw.evaluate(async () => {
      const [n] = await self.registration.getNotifications();
      const ev = new NotificationEvent('notificationclick', { notification: n });
      const waits = [];
      ev.waitUntil = (p) => waits.push(p);
      self.dispatchEvent(ev);
      await Promise.all(waits);
    });
    await page.waitForURL(`${w.url}/#/segnalazioni?report=7`);
    await page.locator('#h-mine').waitFor();
    ctx.check();
    await ctx.close();
  });
}

test('a language changed in Impostazioni after notifications were turned on is the one the notifications use', { skip }, async () => {
  const ctx = await openContext(browser, w, { lang: 'it' });
  await ctx.grantPermissions(['notifications'], { origin: w.url });
  const page = await ctx.page('/#/impostazioni');
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.evaluate(() => navigator.serviceWorker.ready);
  const idbLang = () => page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('araldo', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onsuccess = () => {
      const get = open.result.transaction('kv').objectStore('kv').get('lang');
      get.onsuccess = () => { open.result.close(); resolve(get.result || null); };
    };
  }));
  // What push.js kept when notifications were turned on, in Italian.
  await page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('araldo', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onsuccess = () => {
      const tx = open.result.transaction('kv', 'readwrite');
      tx.objectStore('kv').put('it', 'lang');
      tx.oncomplete = () => { open.result.close(); resolve(); };
    };
  }));
  const origin = new URL(w.url).origin;
  const cdp = await ctx.newCDPSession(page);
  const regs = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');
  await waitFor(() => regs.some((r) => r.scopeURL.startsWith(origin)));
  const registrationId = regs.find((r) => r.scopeURL.startsWith(origin)).registrationId;
  const shown = async (tag) => page.evaluate(async (t) => (await (await navigator.serviceWorker.ready).getNotifications({ tag: t }))
    .map((n) => [n.title, n.body]), tag);

  await page.locator('#h-set').waitFor();
  await page.getByRole('button', { name: 'English', exact: true }).first().click();
  await page.locator('#h-set', { hasText: 'Settings' }).waitFor();
  await until(async () => (await idbLang()) === 'en', 'the copy in IndexedDB follows the change to English');
  await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: JSON.stringify(payload('8')) });
  await until(async () => (await shown('report-8')).length > 0, 'the notification of report 8');
  assert.deepEqual((await shown('report-8'))[0], ['Report 8: Buca nella strada', 'Acknowledged — Sopralluogo lunedì']);

  await page.getByRole('button', { name: 'Italiano', exact: true }).first().click();
  await page.locator('#h-set', { hasText: 'Impostazioni' }).waitFor();
  await until(async () => (await idbLang()) === 'it', 'the copy in IndexedDB follows the change back to Italian');
  await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: JSON.stringify(payload('9')) });
  await until(async () => (await shown('report-9')).length > 0, 'the notification of report 9');
  assert.deepEqual((await shown('report-9'))[0], ['Segnalazione 9: Buca nella strada', 'Presa in carico — Sopralluogo lunedì']);
  ctx.check();
  await ctx.close();
});
