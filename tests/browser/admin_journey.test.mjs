// SPDX-License-Identifier: AGPL-3.0-or-later
// The staff console (/admin) end to end in a real browser: a new staff member signs in with the
// one-time password, must change it, creates a channel with an icon, writes a post with a photo
// (the description is enforced) and a poll, checks the server-rendered preview, publishes,
// schedules another, edits the first (history shown), pins it and deletes it — while a citizen's
// browser on the channel sees each change live.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, api, shot } from './lib/browser.mjs';
import { png, pdf } from '../fixtures/media/gen.mjs';

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

const file = (name, mimeType, buffer) => ({ name, mimeType, buffer: Buffer.from(buffer) });

test('staff: first sign-in → password → channel with icon → post with photo and poll → schedule → edit → pin → delete, seen live by a citizen', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const acct = await w.ok(201, 'POST', '/api/v1/orgs/valdoro/staff', { body: { email: 'ufficio.stampa@valdoro.it', role: 'staff' } });
  const ctx = await openContext(browser, w);
  const page = await ctx.page('/admin/');

  // Sign in with the one-time password; the console insists on a new one first.
  await page.getByLabel('Indirizzo e-mail').fill('ufficio.stampa@valdoro.it');
  await page.getByLabel('Password', { exact: true }).fill(acct.password);
  await page.getByRole('button', { name: 'Accedi' }).click();
  await page.getByRole('heading', { name: 'Scegli la tua password' }).waitFor();
  await page.getByLabel('Password provvisoria (quella ricevuta)').fill(acct.password);
  await page.getByLabel('Nuova password', { exact: true }).fill('la piazza del mercato');
  await page.getByLabel('Ripeti la nuova password').fill('la piazza del mercato');
  await page.getByRole('button', { name: 'Cambia password' }).click();
  await page.getByRole('heading', { name: 'I canali' }).waitFor();

  // A new channel, with an icon shown cut to a circle before saving.
  await page.getByRole('link', { name: 'Nuovo canale' }).click();
  await page.getByLabel('Nome del canale').fill('Valdoro Informa');
  await page.getByLabel('Indirizzo breve').fill('valdoro-informa');
  await page.getByLabel('Descrizione').fill('Avvisi del Comune di Valdoro.');
  await page.locator('.icon-field input[type=file]').setInputFiles(file('stemma.png', 'image/png', png(200, 200)));
  await page.locator('img.icon-preview').waitFor();
  assert.equal(await page.locator('img.icon-preview').evaluate((e) => getComputedStyle(e).borderRadius), '50%');
  await page.getByRole('button', { name: 'Crea il canale' }).click();
  await page.getByRole('heading', { level: 1, name: 'Valdoro Informa' }).waitFor();
  const ch = (await api(w.url, 'GET', '/api/v1/channels/valdoro-informa')).data;
  assert.ok(ch.icon, 'the icon was saved');

  // A citizen reads the channel meanwhile.
  const citizen = await openContext(browser, w);
  const cpage = await citizen.page('/#/c/valdoro-informa');
  await cpage.getByRole('heading', { level: 1, name: 'Valdoro Informa' }).waitFor();

  // Compose: text, a photo (the description is required, and the form says why), a poll.
  await page.getByLabel("Testo dell'avviso").fill('*Mercato* di Natale in piazza: _sabato_ dalle 9.');
  await page.locator('.preview .post-text strong').waitFor();
  assert.equal(await page.locator('.preview .post-text strong').textContent(), 'Mercato');
  assert.equal(await page.locator('.preview .post-text em').textContent(), 'sabato');
  await page.locator('.compose-form input[type=file]').setInputFiles(file('piazza.png', 'image/png', png(640, 480)));
  await page.locator('.media-item img').waitFor();
  await page.getByText('lettore di schermo').waitFor();
  // A PDF too: its title is optional.
  await page.locator('.compose-form input[type=file]').setInputFiles(file('orari.pdf', 'application/pdf', pdf(3000)));
  await page.getByLabel('Titolo del documento').fill('Orari del mercato');
  await page.getByRole('button', { name: 'Aggiungi un sondaggio' }).click();
  await page.getByLabel('Domanda').fill('Venite al mercato?');
  await page.getByLabel('Risposta 1').fill('Sì');
  await page.getByLabel('Risposta 2').fill('Forse');
  await page.getByRole('radio', { name: /Importante/ }).check();
  await page.getByText('invierà una notifica a tutti i follower').waitFor();
  await page.getByRole('button', { name: 'Pubblica', exact: true }).click();
  await page.getByRole('alert').getByText('Ogni foto ha bisogno di una descrizione').waitFor();
  assert.equal((await api(w.url, 'GET', '/api/v1/channels/valdoro-informa/posts')).data.posts.length, 0, 'nothing published without the description');
  await page.getByLabel('Descrizione della foto (obbligatoria)').fill('Le bancarelle in piazza con le luci di Natale');
  await shot(page, 'admin-compose-filled', 'it');
  await page.getByRole('button', { name: 'Pubblica', exact: true }).click();
  await page.getByText('Pubblicato: i follower lo stanno ricevendo.').waitFor();
  const [post] = (await api(w.url, 'GET', '/api/v1/channels/valdoro-informa/posts')).data.posts;
  assert.equal(post.importance, 'important');
  assert.equal(post.media[0].alt, 'Le bancarelle in piazza con le luci di Natale');
  assert.equal(post.media[1].alt, 'Orari del mercato');
  assert.equal(post.media.length, 2);
  assert.deepEqual(post.poll.options.map((o) => o.text), ['Sì', 'Forse']);
  assert.equal(await page.getByLabel("Testo dell'avviso").inputValue(), '', 'the draft is cleared once published');
  // The citizen sees it arrive, formatted the same way.
  await cpage.locator(`#p-${post.id} .post-text strong`).waitFor({ timeout: 10000 });
  assert.equal(await cpage.locator(`#p-${post.id} .post-text`).innerHTML(), post.html);

  // Schedule another for tomorrow at 08:30 on the Comune's clock.
  await page.getByLabel("Testo dell'avviso").fill('Domani raccolta straordinaria dei rifiuti ingombranti.');
  await page.getByRole('radio', { name: 'Programma per più tardi' }).check();
  const tomorrow = new Date(Date.now() + 86400e3).toLocaleDateString('sv-SE', { timeZone: 'Europe/Rome' });
  await page.getByLabel(/Data e ora/).fill(`${tomorrow}T08:30`);
  await page.getByRole('button', { name: 'Programma', exact: true }).click();
  await page.getByText(/Programmato: uscirà/).waitFor();
  const sched = (await api(w.url, 'GET', '/api/v1/channels/valdoro-informa/posts', { as: w.op })).data.posts.find((p) => p.scheduled);
  assert.ok(sched, 'a scheduled post');
  assert.equal(new Date(sched.published_at).toLocaleString('sv-SE', { timeZone: 'Europe/Rome' }).slice(0, 16), `${tomorrow} 08:30`);

  // The posts: the scheduled queue, then edit the first (its history appears), pin, delete.
  await page.getByRole('link', { name: 'Avvisi', exact: true }).click();
  await page.getByRole('heading', { name: 'Programmati' }).waitFor();
  await page.getByText(/Uscirà/).waitFor();
  const item = page.locator(`.admin-post[data-post="${post.id}"]`);
  await item.getByRole('button', { name: 'Modifica' }).click();
  await item.getByLabel("Testo dell'avviso").fill('*Mercato* di Natale in piazza: _sabato_ dalle 10.');
  await item.getByRole('button', { name: 'Salva le modifiche' }).click();
  await item.getByText('Cronologia delle modifiche (1)').waitFor();
  await item.getByText('Cronologia delle modifiche (1)').click();
  await item.getByText('sabato_ dalle 9.').waitFor();
  await cpage.locator(`#p-${post.id} .post-edited`).waitFor({ timeout: 10000 });
  await cpage.locator(`#p-${post.id}`).getByText('dalle 10.').waitFor();
  await shot(page, 'admin-posts', 'it');

  await item.getByRole('button', { name: 'Fissa in alto' }).click();
  await item.getByRole('button', { name: "Togli dall'alto" }).waitFor();
  await cpage.locator('.pinned-box').waitFor({ timeout: 10000 });

  await item.getByRole('button', { name: 'Elimina' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.getByText('Mercato* di Natale in piazza').waitFor(); // names what it deletes
  await dlg.getByText('Valdoro Informa').waitFor();
  await dlg.getByRole('button', { name: 'Sì, elimina' }).click();
  await page.locator(`#p-${post.id}`).waitFor({ state: 'detached' });
  await cpage.locator(`#p-${post.id}`).waitFor({ state: 'detached', timeout: 10000 });
  assert.equal((await api(w.url, 'GET', `/api/v1/posts/${post.id}`)).status, 404);

  ctx.check();
  citizen.check();
  await ctx.close();
  await citizen.close();
});
