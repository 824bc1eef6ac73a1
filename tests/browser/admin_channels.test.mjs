// SPDX-License-Identifier: AGPL-3.0-or-later
// Running a channel from the console: settings (unlisted, a reaction set, retention), admins
// (invite, accept in the colleague's own console, transfer ownership, remove), invite links
// (expiry and use limit, revoke), deleting the channel — every destructive step confirmed in a
// dialog that names what it affects; and an operator creating a Comune with its ISTAT code,
// time zone and logo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, api, axe } from './lib/browser.mjs';
import { staff, session, signedIn } from './lib/admin.mjs';
import { png } from '../fixtures/media/gen.mjs';

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

const get = async (path) => (await api(w.url, 'GET', path, { as: w.op })).data;

test('settings, admins, invite links and deletion, each confirmed by name', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const ana = await staff(w, 'valdoro', 'ana@valdoro.it');
  const bea = await staff(w, 'valdoro', 'bea@valdoro.it');
  const r = await api(w.url, 'POST', '/api/v1/channels', { headers: ana.headers, body: { org: 'valdoro', handle: 'valdoro-scuole', name: 'Scuole di Valdoro' } });
  assert.equal(r.status, 201, r.text);
  const ctx = await signedIn(await openContext(browser, w), ana);
  const page = await ctx.page('/admin/#/c/valdoro-scuole/impostazioni');

  // Settings: invite only, three emoji, 60 days.
  await page.getByRole('radio', { name: /Solo con invito/ }).check();
  await page.getByRole('radio', { name: 'Solo alcune emoji' }).check();
  await page.getByLabel('Emoji permesse').fill('👍 ❤️ 🙏');
  await page.getByLabel('Giorni di conservazione').fill('60');
  await page.getByRole('button', { name: 'Salva le modifiche' }).click();
  await page.getByText('Modifiche salvate.').waitFor();
  const ch = await get('/api/v1/channels/valdoro-scuole');
  assert.deepEqual([ch.visibility, ch.reaction_policy, ch.reactions, ch.retention_days], ['unlisted', 'set', ['👍', '❤️', '🙏'], 60]);

  // Admins: Ana invites Bea, who accepts in her own console.
  await page.getByRole('link', { name: 'Amministratori' }).click();
  await page.getByLabel('E-mail del collega').fill('bea@valdoro.it');
  await page.getByRole('button', { name: "Invia l'invito" }).click();
  await page.getByText('Invito inviato a bea@valdoro.it.').waitFor();
  const bctx = await signedIn(await openContext(browser, w), bea);
  const bpage = await bctx.page('/admin/');
  await bpage.getByText('Ti hanno invitato ad amministrare «Scuole di Valdoro».').waitFor();
  await axe(bpage, 'admin invitation (it, phone)');
  await bpage.getByRole('button', { name: 'Accetta' }).click();
  await bpage.locator('a.chan-row', { hasText: 'Scuole di Valdoro' }).waitFor();
  bctx.check();
  await bctx.close();
  // Ana makes Bea the owner (the dialog names Bea and the channel); as an admin now, Ana is no
  // longer offered what only the owner may do.
  await page.reload();
  const row = page.locator('.plain-list .row', { hasText: 'bea@valdoro.it' });
  await row.getByRole('button', { name: 'Rendi proprietario' }).click();
  await page.getByRole('dialog').getByText('bea@valdoro.it diventerà proprietario di «Scuole di Valdoro»').waitFor();
  await page.getByRole('dialog').getByRole('button', { name: 'Rendi proprietario' }).click();
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  const admins = (await get('/api/v1/channels/valdoro-scuole/admins')).admins.map((a) => `${a.email}:${a.role}`);
  assert.deepEqual(admins, ['bea@valdoro.it:owner', 'ana@valdoro.it:admin']);
  await page.reload();
  await page.getByText('Solo il proprietario del canale').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Rimuovi' }).count(), 0);

  // Invite links: 7 days, 100 uses; revoking names the link.
  await page.getByRole('link', { name: 'Link di invito' }).click();
  await page.getByLabel('Valido per').selectOption({ label: '7 giorni' });
  await page.getByLabel('Usi al massimo').fill('100');
  await page.getByRole('button', { name: 'Crea il link' }).click();
  await page.locator('.invite img.qr').waitFor();
  const [inv] = (await get('/api/v1/channels/valdoro-scuole/invites')).invites;
  assert.equal(inv.max_uses, 100);
  assert.ok(Math.abs(new Date(inv.expires_at) - Date.now() - 7 * 86400e3) < 60e3);
  assert.equal(await page.locator('.invite a', { hasText: 'Manifesto A4' }).getAttribute('href'), `/i/${inv.code}/poster`);
  assert.equal((await fetch(`${w.url}/i/${inv.code}/poster`)).status, 200);
  await page.getByRole('button', { name: 'Revoca' }).click();
  await page.getByRole('dialog').getByText(`/i/${inv.code}`).waitFor();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoca' }).click();
  await page.getByText('Nessun link di invito attivo.').waitFor();
  assert.equal((await api(w.url, 'GET', `/api/v1/invites/${inv.code}`)).status, 410);

  // Deleting: only the owner may; Bea does it, and the dialog says what goes.
  const octx = await signedIn(await openContext(browser, w), bea);
  const opage = await octx.page('/admin/#/c/valdoro-scuole/impostazioni');
  await opage.getByRole('button', { name: 'Elimina il canale' }).click();
  await opage.getByRole('dialog').getByText('Verranno cancellati per sempre il canale «Scuole di Valdoro»').waitFor();
  await opage.getByRole('dialog').getByRole('button', { name: 'Annulla' }).click();
  assert.equal((await api(w.url, 'GET', '/api/v1/channels/valdoro-scuole', { as: w.op })).status, 200, 'cancel deletes nothing');
  await opage.getByRole('button', { name: 'Elimina il canale' }).click();
  await opage.getByRole('dialog').getByRole('button', { name: 'Sì, elimina il canale' }).click();
  await opage.getByRole('heading', { name: 'I canali' }).waitFor();
  assert.equal((await api(w.url, 'GET', '/api/v1/channels/valdoro-scuole', { as: w.op })).status, 404);
  ctx.check();
  octx.check();
  await ctx.close();
  await octx.close();
});

test('an operator creates a Comune with its ISTAT code, time zone and logo', { skip: !HAVE_CHROMIUM && 'chromium not installed' }, async () => {
  const op = await session(w, 'admin@localhost', w.srv.password);
  const ctx = await signedIn(await openContext(browser, w), op);
  const page = await ctx.page('/admin/#/comuni');
  await page.getByLabel('Nome (es. Comune di Valdoro)').fill('Comune di Montebello');
  await page.getByLabel('Identificativo').fill('montebello');
  await page.getByLabel('Codice ISTAT').fill('024062');
  await page.getByLabel('Fuso orario').fill('Europe/Rome');
  await page.locator('input[type=file]').setInputFiles({ name: 'stemma.png', mimeType: 'image/png', buffer: Buffer.from(png(200, 200)) });
  await page.locator('img.icon-preview').waitFor();
  await page.getByRole('button', { name: 'Crea il Comune' }).click();
  await page.getByText('«Comune di Montebello» creato.').waitFor();
  const org = (await api(w.url, 'GET', '/api/v1/orgs/montebello')).data;
  assert.equal(org.istat_code, '024062');
  assert.equal(org.timezone, 'Europe/Rome');
  assert.ok(org.logo, 'the logo was saved');
  // A wrong time zone is refused with a message in Italian.
  await page.getByLabel('Nome (es. Comune di Valdoro)').fill('Comune di Errore');
  await page.getByLabel('Identificativo').fill('errore');
  await page.getByLabel('Fuso orario').fill('Europa/Roma');
  await page.getByRole('button', { name: 'Crea il Comune' }).click();
  await page.getByText('Fuso orario sconosciuto').waitFor();
  ctx.check();
  await ctx.close();
});
