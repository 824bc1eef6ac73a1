// SPDX-License-Identifier: AGPL-3.0-or-later
// Web Push in the browser (issue 12, point 8; docs/WEB-APP.md "Notifications"): the settings
// flow up to the server, the per-channel switches, the service worker's push handler, the
// honest states (unsupported, blocked, iPhone not installed, push service unreachable), the
// channel opened at a notified post, and the console's progress bar. Chromium's own push
// service is unreachable here, so PushManager.subscribe is replaced in the page by one that
// returns a test subscription (an https endpoint on a host in push_allow_hosts, real P-256 and
// auth keys); everything after it — the app, the API, the store — is the real thing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HAVE_CHROMIUM, startWorld, launch, openContext, axe, shot, api, waitFor, sleep, PHONE, DESKTOP } from './lib/browser.mjs';
import { session, signedIn } from './lib/admin.mjs';

const skip = !HAVE_CHROMIUM && 'chromium not installed';
const P256DH = 'BDqN_Q6ObcKVTkB4__egnh7LZ48cl5U5c9oFTgKcG9A7WfcW4THpKf_PAiKXViB1YpE79NsGI5W04QwwnNucxDk';
const AUTH = 'QzeyGrIyE1Ah7zv5_SZ7zg';
let w;
let browser;

before(async () => {
  if (!HAVE_CHROMIUM) return;
  // push.example.net does not resolve: deliveries to it fail and are retried, so a campaign
  // runs for a few seconds (the console's bar) and then gives up.
  w = await startWorld({ sets: { push_allow_hosts: 'push.example.net', push_max_tries: '3', push_retry_base_ms: '1500' } });
  await w.channel({ handle: 'valdoro-notizie', name: 'Comune di Valdoro — Notizie' });
  await w.channel({ handle: 'valdoro-protezione-civile', name: 'Protezione Civile Valdoro', category: 'civil_protection' });
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (w) await w.stop();
});

// Counts the permission questions, and stands in for the browser's push service.
// mode: 'ok' (a test subscription) | 'unreachable' (subscribe fails as with no push service).
function pushStub(mode, endpoint) {
  return `(() => {
    const asked = [];
    window.__asked = asked;
    const ask = Notification.requestPermission.bind(Notification);
    Notification.requestPermission = (...a) => { asked.push(Date.now()); return ask(...a); };
    // Kept across reloads, as the browser keeps a real one.
    let sub = null;
    const make = (opts) => ({
      endpoint: ${JSON.stringify(endpoint)}, expirationTime: null, options: opts,
      toJSON() { return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh: ${JSON.stringify(P256DH)}, auth: ${JSON.stringify(AUTH)} } }; },
      async unsubscribe() { sub = null; localStorage.removeItem('__testsub'); return true; },
      getKey() { return null; },
    });
    PushManager.prototype.subscribe = async function (opts) {
      if (${JSON.stringify(mode)} === 'unreachable') throw new DOMException('Registration failed - push service error', 'AbortError');
      if (!opts || opts.userVisibleOnly !== true || !(opts.applicationServerKey instanceof Uint8Array) || opts.applicationServerKey.length !== 65) {
        throw new DOMException('bad options', 'NotSupportedError');
      }
      sub = make({ userVisibleOnly: true, applicationServerKey: opts.applicationServerKey.buffer });
      localStorage.setItem('__testsub', btoa(String.fromCharCode(...opts.applicationServerKey)));
      return sub;
    };
    PushManager.prototype.getSubscription = async function () {
      const k = localStorage.getItem('__testsub');
      if (!sub && k) sub = make({ userVisibleOnly: true, applicationServerKey: Uint8Array.from(atob(k), (c) => c.charCodeAt(0)).buffer });
      return sub;
    };
  })();`;
}

async function follow(page, w, handle) {
  // A fresh load of the channel's link, as from a shared link: not a same-document hash change
  // racing the first load's start-up (seen to leave the screen unrendered under a full run).
  await page.goto('about:blank');
  await page.goto(`${w.url}/#/c/${handle}`);
  await page.locator('.channel-actions .follow-button').click();
  await page.locator('.channel-actions button[aria-pressed="true"]').waitFor();
}
// Polls an async predicate (the harness's waitFor takes a synchronous one).
async function until(pred, what, ms = 10000) {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
// On the phone, with the text at 200 %: nothing wider than the screen (as screens.test.mjs).
async function fits(page, what) {
  const wide = await page.evaluate(async () => {
    document.documentElement.style.fontSize = '200%';
    await new Promise((r) => requestAnimationFrame(r));
    const out = [...document.querySelectorAll('body *')]
      .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 1)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
    document.documentElement.style.fontSize = '';
    return out;
  });
  assert.deepEqual(wide, [], `${what} at 200 % text is wider than the screen`);
}
const token = (page) => page.evaluate(() => localStorage.getItem('araldo.token'));

test('settings: "Attiva notifiche" asks only on the tap, subscribes, the server keeps it; per channel; off', { skip }, async () => {
  const ctx = await openContext(browser, w, { lang: 'it' });
  await ctx.grantPermissions(['notifications'], { origin: w.url });
  const endpoint = 'https://push.example.net/send/browser-test-1';
  await ctx.addInitScript(pushStub('ok', endpoint));
  const page = await ctx.page('/');
  await follow(page, w, 'valdoro-notizie');
  await follow(page, w, 'valdoro-protezione-civile');
  await page.goto(`${w.url}/#/impostazioni`);
  const on = page.getByRole('button', { name: 'Attiva notifiche' });
  await on.waitFor();
  assert.equal(await page.evaluate(() => window.__asked.length), 0, 'no permission question on load');
  await axe(page, 'notifications off');
  await on.click();
  await page.locator('[data-push="on"]').waitFor();
  assert.equal(await page.evaluate(() => window.__asked.length), 1, 'asked once, on the tap');
  const tok = await token(page);
  const subs = await api(w.url, 'GET', '/api/v1/push/subscriptions', { as: tok });
  assert.equal(subs.status, 200);
  assert.deepEqual(subs.data.subscriptions.map((s) => s.endpoint), [endpoint], 'the server stored the subscription');
  await axe(page, 'notifications on');

  // One channel's switch off, then on again: the server hears each.
  const box = page.locator('input[data-channel="valdoro-notizie"]');
  assert.equal(await box.isChecked(), true);
  await box.click();
  await until(async () => (await api(w.url, 'GET', '/api/v1/channels/valdoro-notizie/push', { as: tok })).data.push === false);
  const other = await api(w.url, 'GET', '/api/v1/channels/valdoro-protezione-civile/push', { as: tok });
  assert.equal(other.data.push, true, 'the other channel is untouched');
  await page.reload();
  await page.locator('[data-push="on"]').waitFor();
  assert.equal(await page.locator('input[data-channel="valdoro-notizie"]').isChecked(), false, 'the switch reads the server (me/channels push)');
  await page.locator('input[data-channel="valdoro-notizie"]').click();
  await until(async () => (await api(w.url, 'GET', '/api/v1/channels/valdoro-notizie/push', { as: tok })).data.push === true);

  // The service worker can find the follower token (pushsubscriptionchange needs it).
  const kept = await page.evaluate(() => new Promise((res) => {
    const o = indexedDB.open('araldo', 1);
    o.onsuccess = () => { const g = o.result.transaction('kv').objectStore('kv').get('token'); g.onsuccess = () => res(g.result); };
    o.onerror = () => res(null);
  }));
  assert.equal(kept, tok);

  // The push service replaced the subscription (pushsubscriptionchange; Chromium never fires
  // it, so it is dispatched inside the worker, with subscribe standing in as in the page): the
  // worker subscribes again with the server's key, posts the new one, deletes the old one.
  const sw = ctx.serviceWorkers()[0] || await ctx.waitForEvent('serviceworker');
  const moved = 'https://push.example.net/send/browser-test-moved';
  const got = await sw.evaluate(async ({ endpoint: ep, old, p256dh, auth }) => {
    let key = null;
    PushManager.prototype.subscribe = async (opts) => {
      key = opts.applicationServerKey;
      return { endpoint: ep, toJSON: () => ({ endpoint: ep, expirationTime: null, keys: { p256dh, auth } }) };
    };
    const ev = new ExtendableEvent('pushsubscriptionchange');
    Object.defineProperty(ev, 'oldSubscription', { value: { endpoint: old } });
    Object.defineProperty(ev, 'newSubscription', { value: null });
    const waits = [];
    ev.waitUntil = (p) => waits.push(p);
    self.dispatchEvent(ev);
    await Promise.all(waits);
    return typeof key === 'string' ? key : null;
  }, { endpoint: moved, old: endpoint, p256dh: P256DH, auth: AUTH });
  assert.equal(got, (await api(w.url, 'GET', '/api/v1/push/key')).data.public_key, 'subscribed with the server\'s key');
  const swapped = await api(w.url, 'GET', '/api/v1/push/subscriptions', { as: tok });
  assert.deepEqual(swapped.data.subscriptions.map((x) => x.endpoint), [moved], 'the new one posted, the old one deleted');
  // Back to the page's subscription for what follows.
  await api(w.url, 'POST', '/api/v1/push/subscriptions', { as: tok, body: { endpoint, expirationTime: null, keys: { p256dh: P256DH, auth: AUTH } } });
  await api(w.url, 'DELETE', '/api/v1/push/subscriptions', { as: tok, body: { endpoint: moved } });

  // Off: unsubscribed here and deleted on the server.
  await page.getByRole('button', { name: 'Disattiva notifiche' }).click();
  await page.locator('[data-push="off"]').waitFor();
  const after = await api(w.url, 'GET', '/api/v1/push/subscriptions', { as: tok });
  assert.deepEqual(after.data.subscriptions, []);
  ctx.check();
  await ctx.close();
});

test('the service worker shows a push with the channel\'s name, once per tag, and a click opens the post', { skip }, async () => {
  const ctx = await openContext(browser, w, { lang: 'it' });
  await ctx.grantPermissions(['notifications'], { origin: w.url });
  const page = await ctx.page('/');
  await follow(page, w, 'valdoro-notizie');
  const post = await w.post('valdoro-notizie', 'Primo avviso');
  // More than a page (20) after it: the channel must read an older page to find it.
  for (let i = 0; i < 24; i++) await w.post('valdoro-notizie', `Avviso numero ${i}: ${'testo lungo '.repeat(20)}`);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload(); // controlled by the service worker from now on
  await page.evaluate(() => navigator.serviceWorker.ready);
  const origin = new URL(w.url).origin;
  const cdp = await ctx.newCDPSession(page);
  const regs = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');
  await waitFor(() => regs.some((r) => r.scopeURL.startsWith(origin)));
  const registrationId = regs.find((r) => r.scopeURL.startsWith(origin)).registrationId;
  const payload = {
    kind: 'post', channel: 'valdoro-notizie', channel_name: 'Comune di Valdoro — Notizie', title: 'Primo avviso',
    url: `/#/c/valdoro-notizie?post=${post.id}`, post: post.id, tag: `post-${post.id}`,
  };
  // The same notification delivered twice (as after a crash) shows once.
  for (let i = 0; i < 2; i++) await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: JSON.stringify(payload) });
  const shown = async () => page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications())
    .map((n) => ({ title: n.title, body: n.body, tag: n.tag, icon: n.icon, url: n.data && n.data.url })));
  await until(async () => (await shown()).length > 0);
  const list = await shown();
  assert.equal(list.length, 1, 'one notification per tag');
  assert.equal(list[0].title, 'Comune di Valdoro — Notizie');
  assert.equal(list[0].body, 'Primo avviso');
  assert.equal(list[0].tag, `post-${post.id}`);
  assert.match(list[0].icon, /\/icons\/icon-192\.png$|\/media\//);
  assert.equal(list[0].url, `${origin}/#/c/valdoro-notizie?post=${post.id}`);

  // The click: the service worker's notificationclick, driven from inside it, navigates the
  // open window to the post, which is scrolled to and highlighted.
  await page.goto(`${w.url}/#/impostazioni`);
  const [sw] = ctx.serviceWorkers();
  assert.ok(sw, 'the service worker is running');
  await sw.evaluate(async () => {
    const [n] = await self.registration.getNotifications();
    const ev = new NotificationEvent('notificationclick', { notification: n });
    const waits = [];
    ev.waitUntil = (p) => waits.push(p); // a synthetic event cannot extend itself; collect instead
    self.dispatchEvent(ev);
    await Promise.all(waits);
  });
  await page.waitForURL(`${w.url}/#/c/valdoro-notizie?post=${post.id}`);
  const hl = page.locator(`#p-${post.id}.post-highlight`);
  await hl.waitFor();
  const box = await hl.boundingBox();
  assert.ok(box.y < PHONE.height && box.y + box.height > 0, 'the post is on screen');
  await page.waitForFunction((id) => document.activeElement && document.activeElement.id === id, `p-${post.id}`, { timeout: 5000 })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), `p-${post.id}`);
  assert.equal((await page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).length)), 0, 'closed on click');
  await shot(page, 'push-opened-post', 'it');
  ctx.check();
  await ctx.close();
});

test('honest states: push service unreachable, blocked, not supported, iPhone not on the home screen; axe and screenshots', { skip }, async () => {
  const cases = [
    ['unreachable', { init: pushStub('unreachable', 'https://push.example.net/x'), grant: true }],
    ['blocked', { init: 'Object.defineProperty(Notification, "permission", { get: () => "denied" });' }],
    ['unsupported', { init: 'delete window.PushManager;' }],
    ['ios', {
      opts: { userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' },
      init: 'delete window.PushManager;',
    }],
  ];
  const text = {
    it: { unreachable: 'non risponde', blocked: 'bloccate', unsupported: 'non può ricevere notifiche', ios: 'schermata Home', on: 'Attiva notifiche' },
    en: { unreachable: 'not answering', blocked: 'blocked', unsupported: 'cannot receive notifications', ios: 'Home Screen', on: 'Turn on notifications' },
  };
  for (const lang of ['it', 'en']) {
    for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]]) {
      for (const [name, c] of cases) {
        const ctx = await openContext(browser, w, { lang, viewport, ...(c.opts || {}) });
        if (c.grant) await ctx.grantPermissions(['notifications'], { origin: w.url });
        await ctx.addInitScript(c.init);
        const page = await ctx.page('/#/impostazioni');
        await page.evaluate(() => localStorage.setItem('araldo.lang', document.documentElement.lang));
        const panel = page.locator('.push-panel');
        await panel.waitFor();
        if (name === 'unreachable') {
          await page.getByRole('button', { name: text[lang].on }).click();
          await page.locator('.push-error').waitFor();
        }
        assert.match(await panel.innerText(), new RegExp(text[lang][name]), `${name} (${lang})`);
        await page.evaluate(() => document.fonts.ready);
        await axe(page, `notifications ${name} (${lang}, ${size})`);
        await panel.scrollIntoViewIfNeeded();
        await shot(page, `push-${name}`, lang);
        if (size === 'phone') await fits(page, `notifications ${name} (${lang})`);
        ctx.check();
        await ctx.close();
      }
    }
  }
});

test('settings with notifications on: screenshots in both languages and sizes', { skip }, async () => {
  for (const lang of ['it', 'en']) {
    for (const viewport of [PHONE, DESKTOP]) {
      const ctx = await openContext(browser, w, { lang, viewport });
      await ctx.grantPermissions(['notifications'], { origin: w.url });
      await ctx.addInitScript(pushStub('ok', `https://push.example.net/send/shot-${lang}-${viewport.width}`));
      const page = await ctx.page('/');
      await follow(page, w, 'valdoro-notizie');
      await follow(page, w, 'valdoro-protezione-civile');
      await page.locator('.channel-actions').getByRole('button', { pressed: false }).click(); // mute the second
      await page.goto(`${w.url}/#/impostazioni`);
      await page.locator('[data-push="off"]').waitFor();
      await page.evaluate(() => document.fonts.ready);
      await page.locator('.push-panel').scrollIntoViewIfNeeded();
      await shot(page, 'push-off', lang);
      await page.locator('.push-on').click();
      await page.locator('[data-push="on"]').waitFor();
      await page.locator('input[data-channel="valdoro-protezione-civile"][disabled]').waitFor();
      await axe(page, `notifications on (${lang}, ${viewport.width})`);
      await page.locator('.push-panel').scrollIntoViewIfNeeded();
      await shot(page, 'push-on', lang);
      if (viewport === PHONE) await fits(page, `notifications on (${lang})`);
      ctx.check();
      await ctx.close();
    }
  }
});

test('console: an important post shows its push campaign\'s progress while it runs, then the counts', { skip }, async () => {
  // A follower with a subscription whose push service never resolves: deliveries are retried
  // (push_max_tries 3), so the campaign runs for a few seconds, then ends as failed.
  await w.channel({ handle: 'valdoro-scuole', name: 'Scuole di Valdoro', category: 'schools' });
  const f = (await api(w.url, 'POST', '/api/v1/followers')).data.token;
  assert.equal((await api(w.url, 'PUT', '/api/v1/channels/valdoro-scuole/follow', { as: f })).status, 204);
  const sub = { endpoint: 'https://push.example.net/send/console', expirationTime: null, keys: { p256dh: P256DH, auth: AUTH } };
  assert.equal((await api(w.url, 'POST', '/api/v1/push/subscriptions', { as: f, body: sub })).status, 201);
  const op = await session(w, 'admin@localhost', w.srv.password);
  const ctx = await signedIn(await openContext(browser, w, { viewport: DESKTOP }), op);
  const post = await w.post('valdoro-scuole', { text: 'Allerta: chiusura delle scuole domani', importance: 'important' });
  const page = await ctx.page('/admin/#/c/valdoro-scuole/avvisi');
  const box = page.locator(`li[data-post="${post.id}"] .push-progress`);
  await box.waitFor();
  const running = await box.getAttribute('data-running');
  if (running === 'true') {
    await box.locator('progress').waitFor();
    await axe(page, 'console push progress');
    await shot(page, 'admin-push-progress', 'it');
  }
  await page.locator(`li[data-post="${post.id}"] .push-progress[data-running="false"]`).waitFor({ timeout: 60000 });
  assert.equal(await box.locator('progress').count(), 0, 'no bar once done');
  assert.match(await box.innerText(), /0 consegnate · 1 non consegnate · 0 in attesa/);
  const st = (await w.call('GET', `/api/v1/posts/${post.id}/push`)).data;
  assert.deepEqual([st.sent, st.failed, st.remaining, st.running], [0, 1, 0, false]);
  ctx.check();
  await ctx.close();
});
