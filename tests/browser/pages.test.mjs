// SPDX-License-Identifier: AGPL-3.0-or-later
// The server's pages with the app's module (/app/page.js): /i/{code} follows in place, a post
// published meanwhile appears on top without a reload, reactions and votes work; both pages
// pass axe-core in Italian and English on a phone and a desktop, with screenshots.
// (The no-JavaScript content of /c/{handle} is tested by tests/api/pages.test.mjs.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, axe, shot, PHONE, DESKTOP } from './lib/browser.mjs';

let w;
let browser;
let pages = false;
let code;
let poll;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  w = await startWorld();
  await w.channel({
    handle: 'valdoro-eventi', name: 'Eventi a Valdoro', description: 'Concerti, mostre, feste.',
    reaction_policy: 'set', reactions: ['👍', '🎉'],
  });
  await w.post('valdoro-eventi', 'Sabato alle 21 in piazza: *concerto della banda*.');
  poll = await w.post('valdoro-eventi', { text: 'Che musica?', poll: { question: 'Genere preferito?', options: ['Classica', 'Jazz', 'Pop'], multiple: true } });
  ({ code } = await w.invite('valdoro-eventi'));
  pages = (await fetch(`${w.url}/c/valdoro-eventi`)).status === 200;
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

const skip = () => (!HAVE_CHROMIUM ? 'chromium not installed' : !pages && 'the server pages (/c/{handle}) are not in this build');

test('/i/{code}: follow in place, a new post on top live, react and vote', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async (t) => {
  if (skip()) { t.skip(skip()); return; }
  const ctx = await openContext(browser, w);
  const page = await ctx.page(`/i/${code}`);
  const follow = page.locator('.channel-actions').getByRole('button', { name: 'Segui', exact: true });
  await follow.click();
  await page.locator('.channel-actions').getByRole('button', { name: 'Non seguire più' }).waitFor();
  const token = await page.evaluate(() => localStorage.getItem('araldo.token'));
  assert.match(token, /^follower_/);

  const live = await w.post('valdoro-eventi', 'Il concerto è spostato in teatro per la pioggia.');
  await page.locator(`#p-${live.id}`).waitFor({ timeout: 10000 });
  assert.equal(await page.locator('.posts article.post').first().getAttribute('id'), `p-${live.id}`, 'newest first, as the server renders');

  await page.locator(`#p-${live.id} .reaction[data-emoji="🎉"]`).click();
  await page.waitForFunction((id) => document.querySelector(`#p-${id} .reaction[data-emoji="🎉"]`).getAttribute('aria-pressed') === 'true', live.id);

  const form = page.locator(`#p-${poll.id} form.poll`);
  assert.equal(await form.getAttribute('data-multi'), 'true');
  await form.getByLabel(/^Jazz/).check();
  await form.getByLabel(/^Pop/).check();
  await form.getByRole('button', { name: 'Vota' }).click();
  await form.getByRole('button', { name: 'Cambia voto' }).waitFor();
  const r = await fetch(`${w.url}/api/v1/posts/${poll.id}`);
  assert.deepEqual((await r.json()).poll.options.map((o) => o.votes), [0, 1, 1]);
  await shot(page, 'page-invite-followed', 'it');
  ctx.check();
  await ctx.close();
});

for (const lang of ['it', 'en']) {
  for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    test(`server pages with page.js, ${lang}, ${size}: no axe violation`, { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async (t) => {
      if (skip()) { t.skip(skip()); return; }
      const ctx = await openContext(browser, w, { lang, viewport });
      for (const [screen, path] of [['page-channel', '/c/valdoro-eventi'], ['page-invite', `/i/${code}`]]) {
        const page = await ctx.page(`${path}?lang=${lang}`);
        await page.locator('.page-follow button').waitFor();
        await page.evaluate(() => document.fonts.ready);
        await axe(page, `${screen} (${lang}, ${size})`);
        await shot(page, screen, lang);
        await page.close();
      }
      ctx.check();
      await ctx.close();
    });
  }
}
