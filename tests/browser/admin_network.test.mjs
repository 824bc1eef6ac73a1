// SPDX-License-Identifier: AGPL-3.0-or-later
// The staff console when things go wrong: the draft survives a reload; the network drops while
// writing and uploading — nothing typed is lost and the post goes out exactly once when the
// network is back; the session ends mid-sentence — the password is asked in a dialog and the
// text is still there. And a staff member of another Comune cannot manage this one's channels.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, api, shot, axe } from './lib/browser.mjs';
import { staff, signedIn, PASSWORD } from './lib/admin.mjs';
import { png } from '../fixtures/media/gen.mjs';

let w;
let browser;
let ana;

// A call as `who` (their session cookie and CSRF token), not as the operator.
async function as(who, status, method, path, body) {
  const r = await api(w.url, method, path, { headers: who.headers, body });
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  return r.data;
}

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  ana = await staff(w, 'valdoro', 'ana@valdoro.it', 'staff');
  await as(ana, 201, 'POST', '/api/v1/channels', { org: 'valdoro', handle: 'valdoro-avvisi', name: 'Avvisi di Valdoro' });
  await as(ana, 201, 'POST', '/api/v1/channels', { org: 'valdoro', handle: 'valdoro-riservato', name: 'Riservato', visibility: 'unlisted' });
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

const posts = async () => (await api(w.url, 'GET', '/api/v1/channels/valdoro-avvisi/posts', { as: w.op })).data.posts;
const photo = { name: 'foto.png', mimeType: 'image/png', buffer: Buffer.from(png(320, 240)) };

test('the network drops while writing and uploading: nothing is lost, the post goes out once', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const ctx = await signedIn(await openContext(browser, w), ana);
  const page = await ctx.page('/admin/#/c/valdoro-avvisi/scrivi');
  const text = 'Acqua sospesa in via Verdi dalle 14 alle 18 per lavori urgenti.';
  await page.getByLabel("Testo dell'avviso").fill(text);
  // A reload keeps the draft.
  await page.reload();
  await page.getByLabel("Testo dell'avviso").waitFor();
  assert.equal(await page.getByLabel("Testo dell'avviso").inputValue(), text);
  // The list of channels says where a draft waits.
  await page.getByRole('link', { name: /I canali/ }).click();
  await page.locator('a.chan-row', { hasText: 'Avvisi di Valdoro' }).getByText('Bozza non pubblicata su questo dispositivo').waitFor();
  await page.locator('a.chan-row', { hasText: 'Avvisi di Valdoro' }).click();
  assert.equal(await page.getByLabel("Testo dell'avviso").inputValue(), text);

  // Offline: the upload fails and says so, the text stays.
  await ctx.setOffline(true);
  await page.locator('.compose-form input[type=file]').setInputFiles(photo);
  await page.getByRole('alert').getByText('Nessuna connessione').waitFor();
  assert.equal(await page.getByLabel("Testo dell'avviso").inputValue(), text);
  // Publishing offline keeps the post waiting, on this device.
  await page.getByRole('button', { name: 'Pubblica', exact: true }).click();
  await page.getByText('partirà appena torna la rete').waitFor();
  await page.getByText('verrà inviato appena torna la connessione').waitFor();
  await axe(page, 'admin offline (it, phone)');
  await shot(page, 'admin-offline', 'it');
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('araldo.admin.draft.valdoro-avvisi')));
  assert.equal(saved.text, text);
  assert.equal(saved.pending, true);
  assert.equal((await posts()).length, 0);

  // Back online: it goes out by itself, once.
  await ctx.setOffline(false);
  await page.getByText('Pubblicato: i follower lo stanno ricevendo.').waitFor({ timeout: 10000 });
  await page.waitForTimeout(500); // time for a second, wrong, sending to show itself
  const list = await posts();
  assert.deepEqual(list.map((p) => p.text), [text]);
  assert.equal(await page.evaluate(() => localStorage.getItem('araldo.admin.draft.valdoro-avvisi')), null, 'the draft is gone once published');

  // Again, but the network comes back while the person is elsewhere in the console: the
  // waiting post goes anyway, once, and the list of channels then shows no draft.
  const second = 'Riapertura della via Verdi alle 18.';
  await page.getByLabel("Testo dell'avviso").fill(second);
  await ctx.setOffline(true);
  await page.getByRole('button', { name: 'Pubblica', exact: true }).click();
  await page.getByText('partirà appena torna la rete').waitFor();
  // On a slow phone (CPU 6× slower) the list's screen subscribes to changes late, after the
  // network is back: it must still see the draft go.
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 6 });
  await page.getByRole('link', { name: /I canali/ }).click();
  await page.getByRole('heading', { name: 'I canali' }).waitFor();
  await ctx.setOffline(false);
  await page.waitForFunction(() => localStorage.getItem('araldo.admin.draft.valdoro-avvisi') === null, null, { timeout: 10000 });
  await page.locator('a.chan-row', { hasText: 'Avvisi di Valdoro' }).waitFor();
  // The list re-renders after the draft is dropped (a later task than the storage change).
  await page.locator('.chan-draft').waitFor({ state: 'detached', timeout: 5000 });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await page.waitForTimeout(500); // time for a second, wrong, sending to show itself
  assert.deepEqual((await posts()).map((p) => p.text), [second, text]);
  await page.goto(`${w.url}/admin/#/c/valdoro-avvisi/scrivi`);

  // An upload that works shows its progress and can be cancelled or kept.
  await page.getByLabel("Testo dell'avviso").fill('Foto della nuova piazza.');
  await page.locator('.compose-form input[type=file]').setInputFiles(photo);
  await page.locator('.media-item img').waitFor();
  ctx.check();
  await ctx.close();
});

test('the session ends while writing: a dialog asks the password, the text is kept', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const ctx = await signedIn(await openContext(browser, w), ana);
  const page = await ctx.page('/admin/#/c/valdoro-avvisi/scrivi');
  const text = 'Chiusura anticipata della biblioteca venerdì alle 16.';
  await page.getByLabel("Testo dell'avviso").fill(text);
  // The session ends on the server (as after 12 hours without use).
  const cookie = (await ctx.cookies()).find((c) => c.name === 'araldo_session');
  const s = await api(w.url, 'GET', '/api/v1/session', { headers: { cookie: `${cookie.name}=${cookie.value}` } });
  assert.equal((await api(w.url, 'DELETE', '/api/v1/session', { headers: { cookie: `${cookie.name}=${cookie.value}`, 'x-csrf-token': s.data.csrf_token } })).status, 204);
  await page.getByRole('button', { name: 'Pubblica', exact: true }).click();
  const dlg = page.getByRole('dialog', { name: 'Sessione scaduta' });
  await dlg.waitFor();
  await axe(page, 'admin session expired (it, phone)');
  await shot(page, 'admin-expired', 'it');
  await dlg.getByLabel('Password').fill(PASSWORD);
  await dlg.getByRole('button', { name: 'Accedi' }).click();
  await dlg.waitFor({ state: 'detached' });
  assert.equal(await page.getByLabel("Testo dell'avviso").inputValue(), text);
  await page.getByRole('button', { name: 'Pubblica', exact: true }).click();
  await page.getByText('Pubblicato: i follower lo stanno ricevendo.').waitFor();
  assert.ok((await posts()).some((p) => p.text === text));
  ctx.check();
  await ctx.close();
});

test("an org admin adds staff and reads the log filtered by that person; another Comune's staff cannot manage these channels", { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const boss = await staff(w, 'valdoro', 'sindaco@valdoro.it', 'org_admin');
  const ctx = await signedIn(await openContext(browser, w), boss);
  const page = await ctx.page('/admin/#/personale');
  await page.getByLabel('Indirizzo e-mail').fill('bea@valdoro.it');
  await page.getByRole('button', { name: "Crea l'account" }).click();
  const otp = await page.locator('.otp code').textContent();
  assert.equal(otp.length, 20);
  // Shown once: gone when dismissed, and never in the list.
  await page.getByRole('button', { name: "Fatto, l'ho consegnata" }).click();
  await page.getByText(otp).waitFor({ state: 'detached', timeout: 5000 });
  // Bea signs in and posts; the log filtered on her shows exactly her actions.
  const bea = await staff(w, 'valdoro', 'bea2@valdoro.it', 'staff');
  await as(bea, 201, 'POST', '/api/v1/channels', { org: 'valdoro', handle: 'valdoro-bea', name: 'Canale di Bea' });
  await page.goto(`${w.url}/admin/#/registro`);
  await page.locator('.audit-entry').first().waitFor();
  await page.getByLabel('Persona').selectOption({ label: 'bea2@valdoro.it' });
  await page.waitForFunction(() => {
    const e = [...document.querySelectorAll('.audit-entry')];
    return e.length && e.every((x) => x.textContent.includes('bea2@valdoro.it'));
  });
  assert.equal(await page.locator('.audit-entry').count(), 1);
  await page.locator('.audit-entry').getByText('channel:valdoro-bea').waitFor();
  await page.getByLabel('Azione').selectOption({ label: 'Account creato' });
  await page.getByText('Nessuna attività con questi filtri.').waitFor();
  // Disabling an account asks first, naming it; then Bea's session stops working.
  await page.goto(`${w.url}/admin/#/personale`);
  await page.locator('.plain-list .row', { hasText: 'bea2@valdoro.it' }).getByRole('button', { name: 'Disattiva' }).click();
  await page.getByRole('dialog').getByText('bea2@valdoro.it non potrà più entrare').waitFor();
  await page.getByRole('dialog').getByRole('button', { name: 'Disattiva' }).click();
  await page.locator('.plain-list .row', { hasText: 'bea2@valdoro.it' }).getByText('disattivato').waitFor();
  assert.equal((await api(w.url, 'GET', '/api/v1/session', { headers: bea.headers })).status, 401);
  ctx.check();
  await ctx.close();

  // Eva works for another Comune.
  await w.ok(201, 'POST', '/api/v1/orgs', { body: { slug: 'altrove', name: 'Comune di Altrove' } });
  const eva = await staff(w, 'altrove', 'eva@altrove.it', 'staff');
  const ectx = await signedIn(await openContext(browser, w), eva);
  const epage = await ectx.page('/admin/#/c/valdoro-avvisi/scrivi');
  await epage.getByRole('heading', { name: 'Non puoi gestire questo canale' }).waitFor();
  await epage.getByText('appartiene a un altro Comune').waitFor();
  await axe(epage, 'admin not yours (it, phone)');
  await shot(epage, 'admin-not-yours', 'it');
  // Its home lists only Altrove's channels (none), never Valdoro's.
  await epage.goto(`${w.url}/admin/#/`);
  await epage.getByText('Il Comune non ha ancora canali').waitFor();
  assert.equal(await epage.getByText('Avvisi di Valdoro').count(), 0);
  // The API says no: 403 for a listed channel, 404 for an unlisted one.
  const h = { headers: eva.headers };
  assert.equal((await api(w.url, 'POST', '/api/v1/channels/valdoro-avvisi/posts', { ...h, body: { text: 'x' } })).status, 403);
  assert.equal((await api(w.url, 'PATCH', '/api/v1/channels/valdoro-avvisi', { ...h, body: { name: 'x' } })).status, 403);
  assert.equal((await api(w.url, 'GET', '/api/v1/orgs/valdoro/channels', h)).status, 403);
  assert.equal((await api(w.url, 'GET', '/api/v1/channels/valdoro-riservato', h)).status, 404);
  assert.equal((await api(w.url, 'POST', '/api/v1/channels/valdoro-riservato/posts', { ...h, body: { text: 'x' } })).status, 404);
  ectx.check();
  await ectx.close();
});
