// SPDX-License-Identifier: AGPL-3.0-or-later
// The map (issue 15, point 6): a citizen opens the map in "Segnala", taps where the problem is
// (and taps again to move the pin), and sends the report with that position; the map's tiles
// come from this server's /tiles/, which got them from a local fixture tile server, and no
// request from the page goes anywhere but the araldo origin. Staff then see the position on a
// map in the console's report detail. Screenshots at 360×740 in Italian.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { HAVE_CHROMIUM, startWorld, launch, openContext, api, axe, shot, DESKTOP } from './lib/browser.mjs';
import { staff, signedIn } from './lib/admin.mjs';
import { makeCerts } from '../api/lib/pushsvc.mjs';
import { startTileServer } from '../api/lib/tilesvc.mjs';
import { tempDir } from '../api/lib/server.mjs';

let w;
let browser;
let ana;
let fx;
let certDir;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  certDir = tempDir('araldo-map-ca-');
  const certs = makeCerts(certDir);
  fx = await startTileServer(certs);
  w = await startWorld({ sets: { map_tile_url: fx.template, push_allow_hosts: '127.0.0.1', push_ca_file: certs.ca } });
  await w.channel({ handle: 'valdoro-notizie', name: 'Comune di Valdoro — Notizie' }); // the app finds the Comune through it
  ana = await staff(w, 'valdoro', 'ana@valdoro.example', 'staff');
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
  if (fx) await fx.close();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

// The coordinates the form shows ("Coordinate: 43.1, 12.2" or the English form).
async function shownPos(page) {
  const text = await page.locator('.rep-coords').textContent();
  const m = /(-?\d+(?:\.\d+)?)\D+?(-?\d+(?:\.\d+)?)/.exec(text);
  assert.ok(m, `no coordinates in '${text}'`);
  return { lat: Number(m[1]), long: Number(m[2]) };
}

test('a citizen reports with a position tapped on the map; tiles come only from this server', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const ctx = await openContext(browser, w);
  const requests = [];
  ctx.on('request', (r) => requests.push(r.url()));
  const page = await ctx.page('/#/segnalazioni');
  await page.getByRole('link', { name: 'Nuova segnalazione' }).click();
  await page.getByRole('heading', { level: 1, name: 'Segnala un problema' }).waitFor();
  await page.getByLabel('Cerca una categoria').fill('buca');
  await page.getByRole('button', { name: /Buca nella strada/ }).click();
  await page.getByText('Buca nella strada', { exact: true }).waitFor();

  const open = page.getByRole('button', { name: 'Indica sulla mappa' });
  await open.click();
  const map = page.getByRole('region', { name: 'Mappa per indicare il punto della segnalazione' });
  await map.waitFor();
  await page.locator('.map .leaflet-tile-loaded').first().waitFor({ timeout: 15000 });
  // Closer in, the way a citizen would: each zoom asks this server for new tiles.
  for (let i = 0; i < 3; i++) {
    const n = await page.locator('.map .leaflet-tile-loaded').count();
    await page.getByRole('button', { name: 'Ingrandisci la mappa' }).click();
    await page.waitForFunction((k) => document.querySelectorAll('.map .leaflet-tile-loaded').length > 0
      && !document.querySelector('.map .leaflet-zoom-anim'), n);
  }
  await map.scrollIntoViewIfNeeded();
  const box = await map.boundingBox();
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.4);
  await page.locator('.map .map-pin').waitFor();
  await page.getByText('Punto indicato sulla mappa.').waitFor();
  const first = await shownPos(page);
  // Italy at zoom 9: the tap lands somewhere in the peninsula's box.
  assert.ok(first.lat > 36 && first.lat < 48 && first.long > 6 && first.long < 19, JSON.stringify(first));

  // A second tap moves the pin (still one pin).
  await page.mouse.click(box.x + box.width * 0.6, box.y + box.height * 0.6);
  await page.waitForFunction((f) => {
    const m = /(-?\d+\.\d+)/.exec(document.querySelector('.rep-coords')?.textContent || '');
    return m && Number(m[1]) !== f;
  }, first.lat);
  const pos = await shownPos(page);
  assert.ok(pos.lat < first.lat && pos.long > first.long, 'south-east of the first tap');
  assert.equal(await page.locator('.map .map-pin').count(), 1);
  await page.getByText('© OpenStreetMap contributors').waitFor(); // the credit OSM requires
  await axe(page, 'Segnala with the map open');
  await map.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await shot(page, 'report-map', 'it');

  await page.getByLabel('Descrizione (facoltativa)').fill('Tombino sollevato sul marciapiede.');
  await page.getByRole('button', { name: 'Invia la segnalazione' }).click();
  await page.getByRole('heading', { name: 'Segnalazione inviata. Grazie!' }).waitFor({ timeout: 15000 });
  const [mine] = await page.evaluate(() => JSON.parse(localStorage.getItem('araldo.reports')));
  const d = await api(w.url, 'GET', `/api/v1/orgs/valdoro/reports/${mine.id}`, { headers: ana.headers });
  assert.equal(d.status, 200, d.text);
  assert.equal(d.data.lat, pos.lat);
  assert.equal(d.data.long, pos.long);

  // Every request of the page went to araldo; the tiles through /tiles/, from the fixture.
  const origin = new URL(w.url).origin;
  const tiles = requests.filter((u) => u.startsWith(`${origin}/tiles/`));
  assert.ok(tiles.length >= 4, `tile requests: ${tiles.length}`);
  assert.deepEqual(requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob):/.test(u)), []);
  assert.ok(fx.seen.length >= 4 && fx.seen.every((s) => s.path.startsWith('/osm/')));
  ctx.check();
  await ctx.close();

  // Staff: the report's position on a map in the console.
  const sctx = await signedIn(await openContext(browser, w, { viewport: DESKTOP }), ana);
  const sp = await sctx.page(`/admin/#/segnalazioni/${mine.id}`);
  const view = sp.getByRole('region', { name: /Mappa del punto della segnalazione/ });
  await view.waitFor({ timeout: 15000 });
  await sp.locator('.map-view .leaflet-tile-loaded').first().waitFor({ timeout: 15000 });
  await sp.locator('.map-view .map-pin').waitFor();
  await view.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await axe(sp, 'the console report detail with its map');
  await shot(sp, 'admin-report-map', 'it');
  sctx.check();
  await sctx.close();
});
