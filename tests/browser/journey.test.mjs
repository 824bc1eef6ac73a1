// SPDX-License-Identifier: AGPL-3.0-or-later
// A citizen's first visit, end to end in a real browser: an invite link with no account, the
// preview, "Segui", a post staff publish meanwhile arriving without a reload, a reaction and a
// vote whose counts change in a second browser, unfollow, and "Dimentica questo dispositivo".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, api, shot } from './lib/browser.mjs';

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

test('invite → preview → follow → live post → react → vote → seen elsewhere → unfollow → forget', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  await w.channel({
    handle: 'valdoro-scuole', name: 'Scuole di Valdoro', description: 'Avvisi per le famiglie.',
    visibility: 'unlisted', reaction_policy: 'set', reactions: ['👍', '❤️'],
  });
  const first = await w.post('valdoro-scuole', 'Benvenuti nel canale delle *scuole*.');
  const poll = await w.post('valdoro-scuole', {
    text: 'Gita di primavera', poll: { question: 'Quale giorno?', options: ['Sabato', 'Domenica'] },
  });
  const { code } = await w.invite('valdoro-scuole');

  const ctx = await openContext(browser, w);
  const page = await ctx.page(`/#/i/${code}`);
  // The preview, with no account: name, description, posts, and "Segui".
  await page.getByRole('heading', { level: 1, name: 'Scuole di Valdoro' }).waitFor();
  await page.getByText('Avvisi per le famiglie.').waitFor();
  assert.equal(await page.locator(`#p-${first.id} .post-text strong`).textContent(), 'scuole');
  assert.equal(await page.evaluate(() => localStorage.getItem('araldo.token')), null, 'no identity before following');

  await page.locator('.channel-actions').getByRole('button', { name: 'Segui', exact: true }).click();
  await page.locator('.channel-actions').getByRole('button', { name: 'Non seguire più' }).waitFor();
  const token = await page.evaluate(() => localStorage.getItem('araldo.token'));
  assert.match(token, /^follower_/);
  const mine = await api(w.url, 'GET', '/api/v1/me/channels', { as: token });
  assert.deepEqual(mine.data.channels.map((c) => c.handle), ['valdoro-scuole']);

  // Staff publish while the page is open: it arrives without a reload, and is announced.
  const live = await w.post('valdoro-scuole', 'Domani le scuole restano chiuse per neve.');
  await page.locator(`#p-${live.id}`).waitFor({ timeout: 10000 });
  assert.equal(await page.locator(`#p-${live.id}`).getAttribute('lang'), 'it');
  await page.waitForFunction(() => document.getElementById('announce').textContent.includes('restano chiuse'));
  await shot(page, 'journey-live', 'it');

  // A second browser (another person) reads the same channel with its invite.
  const other = await openContext(browser, w);
  const page2 = await other.page(`/#/c/valdoro-scuole?invite=${code}`);
  await page2.locator(`#p-${poll.id}`).waitFor();

  // React: one tap on 👍; it is highlighted and counted, here and in the other browser.
  const thumbs = page.locator(`#p-${live.id} .reaction[data-emoji="👍"]`);
  await thumbs.click();
  await page.waitForFunction((id) => document.querySelector(`#p-${id} .reaction[data-emoji="👍"]`).getAttribute('aria-pressed') === 'true', live.id);
  assert.equal((await thumbs.locator('.count').textContent()).trim(), '1');
  await page2.waitForFunction((id) => document.querySelector(`#p-${id} .reaction[data-emoji="👍"] .count`)?.textContent === '1', live.id, { timeout: 10000 });
  // Change it with one tap on ❤️, then remove it with one tap.
  await page.locator(`#p-${live.id} .reaction[data-emoji="❤️"]`).click();
  // (A reader who does not follow sees only the emoji that have a count, as the server's page.)
  await page2.waitForFunction((id) => document.querySelector(`#p-${id} .reaction[data-emoji="❤️"] .count`)?.textContent === '1'
    && !document.querySelector(`#p-${id} .reaction[data-emoji="👍"]`), live.id, { timeout: 10000 });
  assert.equal(await thumbs.getAttribute('aria-pressed'), 'false');
  await page.locator(`#p-${live.id} .reaction[data-emoji="❤️"]`).click();
  await page2.waitForFunction((id) => !document.querySelector(`#p-${id} .reaction`), live.id, { timeout: 10000 });

  // Vote: a single-choice poll says so; the bars move here and in the other browser.
  const form = page.locator(`#p-${poll.id} form.poll`);
  assert.equal(await form.getAttribute('data-multi'), 'false');
  await form.getByText('Scegli una sola risposta.').waitFor();
  await form.getByLabel(/^Sabato/).check();
  await form.getByRole('button', { name: 'Vota' }).click();
  await form.getByRole('button', { name: 'Cambia voto' }).waitFor();
  assert.equal((await form.locator('.poll-pct').first().textContent()).trim(), '100%');
  await page2.waitForFunction((id) => document.querySelector(`#p-${id} .poll-pct`)?.textContent.trim() === '100%', poll.id, { timeout: 10000 });
  await page2.locator(`#p-${poll.id}`).getByText('1 persona ha votato').waitFor();
  // Retract: back to nobody.
  await form.getByRole('button', { name: 'Ritira il voto' }).click();
  await page2.locator(`#p-${poll.id}`).getByText('0 persone hanno votato').waitFor({ timeout: 10000 });

  // The home screen lists the channel with its newest post.
  await page.goto(`${w.url}/#/`);
  await page.locator('.chat', { hasText: 'Scuole di Valdoro' }).getByText('Domani le scuole restano chiuse').waitFor();

  // Unfollow from the channel.
  await page.locator('.chat', { hasText: 'Scuole di Valdoro' }).click();
  await page.locator('.channel-actions').getByRole('button', { name: 'Non seguire più' }).click();
  await page.locator('.channel-actions').getByRole('button', { name: 'Segui', exact: true }).waitFor();
  assert.deepEqual((await api(w.url, 'GET', '/api/v1/me/channels', { as: token })).data.channels, []);

  // Forget the device: a confirmation that says what goes, then the token no longer works.
  await page.goto(`${w.url}/#/impostazioni`);
  await page.getByRole('button', { name: 'Dimentica questo dispositivo' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('il codice anonimo che identifica questo telefono').waitFor();
  await dialog.getByText('le tue reazioni, i tuoi voti e le tue visualizzazioni').waitFor();
  // what else "forget me" deletes: the push subscriptions and the local list of reports
  await dialog.getByText('le notifiche attivate su questo telefono').waitFor();
  await dialog.getByText("l'elenco delle segnalazioni che segui da qui").waitFor();
  await shot(page, 'forget-confirm', 'it');
  await dialog.getByRole('button', { name: 'Sì, dimentica' }).click();
  await page.getByText('questo dispositivo è stato dimenticato').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('araldo.token')), null);
  assert.equal((await api(w.url, 'GET', '/api/v1/me/channels', { as: token })).status, 401);

  ctx.check();
  other.check();
  await ctx.close();
  await other.close();
});
