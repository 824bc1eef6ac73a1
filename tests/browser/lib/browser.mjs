// SPDX-License-Identifier: AGPL-3.0-or-later
// The browser tests' harness: a real araldo server on 127.0.0.1 serving the repository's web/,
// Debian's chromium driven by playwright-core, a guard that fails the test on any request to
// another origin, axe-core, and screenshots under build/browser/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { startServer, operatorToken, api } from '../../api/lib/server.mjs';

export { api, sleep, waitFor } from '../../api/lib/server.mjs';

export const CHROMIUM = process.env.ARALDO_CHROMIUM || '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const OUT = resolve(process.env.ARALDO_BROWSER_OUT || 'build/browser');
export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// A server with the web app, an org, an operator token and helpers to make channels and posts
// through the API as staff would.
export async function startWorld({ sets = {} } = {}) {
  const srv = await startServer({ sets: { web_root: resolve('web'), ...sets } });
  const op = operatorToken(srv.data);
  const w = { srv, url: srv.url, op, n: 0 };
  w.call = (method, path, opts = {}) => api(srv.url, method, path, { as: op, ...opts });
  w.ok = async (status, method, path, opts) => {
    const r = await w.call(method, path, opts);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    return r.data;
  };
  await w.ok(201, 'POST', '/api/v1/orgs', { body: { slug: 'valdoro', name: 'Comune di Valdoro' } });
  w.channel = async (fields = {}) => {
    const handle = fields.handle || `canale-${++w.n}`;
    return w.ok(201, 'POST', '/api/v1/channels', {
      body: { org: 'valdoro', name: `Canale ${w.n}`, category: 'news', language: 'it', ...fields, handle },
    });
  };
  w.post = (handle, body) =>
    w.ok(201, 'POST', `/api/v1/channels/${handle}/posts`, { body: typeof body === 'string' ? { text: body } : body });
  w.invite = (handle) => w.ok(201, 'POST', `/api/v1/channels/${handle}/invites`, { body: {} });
  w.stop = async () => { await srv.stop(); srv.cleanup(); };
  return w;
}

// Chromium, headless, that cannot resolve any name: only 127.0.0.1 is reachable at all.
export async function launch() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
}

// A browser context (one "phone") on the server: records every request that leaves for
// another origin and every page error; check() fails the test on either.
export async function openContext(browser, w, { lang = 'it', viewport = PHONE, reducedMotion = 'reduce', ...opts } = {}) {
  const origin = new URL(w.url).origin;
  const ctx = await browser.newContext({
    viewport, locale: lang === 'it' ? 'it-IT' : 'en-GB', reducedMotion,
    timezoneId: 'Europe/Rome', ...opts,
  });
  const foreign = [];
  const errors = [];
  const watch = (req) => {
    const u = req.url();
    if (!/^(data|blob|about|chrome-extension):/.test(u) && new URL(u).origin !== origin) foreign.push(u);
  };
  ctx.on('request', watch);
  await ctx.route((u) => !/^(data|blob|about):/.test(u.href) && u.origin !== origin, (route) => {
    foreign.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  ctx.foreign = foreign;
  ctx.errors = errors;
  ctx.check = () => {
    assert.deepEqual(foreign, [], 'requests to another origin');
    assert.deepEqual(errors, [], 'errors in the page');
  };
  ctx.page = async (path = '/') => {
    const p = await ctx.newPage();
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) errors.push(m.text()); });
    if (path !== null) await p.goto(`${w.url}${path}`);
    return p;
  };
  return ctx;
}

// axe-core in the page; fails on any violation of any impact, listing them readably.
export async function axe(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE); // CDP evaluation: the page's CSP stays on
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  });
  assert.deepEqual(res, [], `axe violations on ${what}:\n${JSON.stringify(res, null, 2)}`);
}

// build/browser/<screen>-<w>x<h>-<lang>.png
export async function shot(page, screen, lang) {
  mkdirSync(OUT, { recursive: true });
  const v = page.viewportSize();
  const file = `${OUT}/${screen}-${v.width}x${v.height}-${lang}.png`;
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled' });
  return file;
}
