// SPDX-License-Identifier: AGPL-3.0-or-later
// The console is never cached by the citizens' service worker (its pages, its files, its API
// reads with scheduled posts), and an upload shows its progress and can be cancelled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, api } from './lib/browser.mjs';
import { staff, signedIn } from './lib/admin.mjs';
import { pdf } from '../fixtures/media/gen.mjs';

let w;
let browser;
let ana;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  ana = await staff(w, 'valdoro', 'ana@valdoro.it');
  const r = await api(w.url, 'POST', '/api/v1/channels', { headers: ana.headers, body: { org: 'valdoro', handle: 'valdoro-avvisi', name: 'Avvisi di Valdoro' } });
  assert.equal(r.status, 201, r.text);
  const p = await api(w.url, 'POST', '/api/v1/channels/valdoro-avvisi/posts', {
    headers: ana.headers, body: { text: 'Segreto fino a domani: il nuovo sindaco.', publish_at: new Date(Date.now() + 86400e3).toISOString() },
  });
  assert.equal(p.status, 201, p.text);
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

test('the service worker caches nothing of the console', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const ctx = await signedIn(await openContext(browser, w), ana);
  // The citizens' app installs its worker, which then controls /admin too (same origin, scope /).
  const page = await ctx.page('/');
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.evaluate(() => navigator.serviceWorker.controller !== null || new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r)));
  await page.goto(`${w.url}/admin/#/c/valdoro-avvisi/avvisi`);
  await page.getByText('Segreto fino a domani').waitFor();
  assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'the console page is under the worker');
  await page.goto(`${w.url}/admin/#/c/valdoro-avvisi/statistiche`);
  await page.locator('.chart svg').waitFor();
  const cached = await page.evaluate(async () => {
    const out = [];
    for (const k of await caches.keys()) for (const r of await (await caches.open(k)).keys()) out.push(new URL(r.url).pathname);
    return out;
  });
  assert.ok(cached.some((u) => u.startsWith('/v/')), 'the app shell is cached (the worker works)');
  const leaked = cached.filter((u) => /\/admin|^\/api\/v1\/(channels|orgs|session)/.test(u));
  assert.deepEqual(leaked, [], 'nothing of the console in any cache');
  ctx.check();
  await ctx.close();
});

test('an upload shows its progress and can be cancelled', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const ctx = await signedIn(await openContext(browser, w), ana);
  const page = await ctx.page('/admin/#/c/valdoro-avvisi/scrivi');
  await page.getByLabel("Testo dell'avviso").fill('Il bando in allegato.');
  // A slow line: 256 KB/s up, so 4 MB takes long enough to be seen and cancelled.
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
  await page.locator('.compose-form input[type=file]').setInputFiles({ name: 'bando.pdf', mimeType: 'application/pdf', buffer: pdf(4 * 1024 * 1024) });
  const bar = page.getByRole('progressbar', { name: 'Caricamento di bando.pdf' });
  await bar.waitFor();
  await page.waitForFunction(() => Number(document.querySelector('.upload progress').value) > 0);
  await page.getByRole('button', { name: 'Annulla caricamento' }).click();
  await bar.waitFor({ state: 'detached' });
  assert.equal(await page.locator('.media-item').count(), 0, 'a cancelled upload attaches nothing');
  assert.equal(await page.getByRole('alert').count(), 0, 'cancelling is not an error');
  assert.equal(await page.getByLabel("Testo dell'avviso").inputValue(), 'Il bando in allegato.');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  ctx.check();
  await ctx.close();
});
