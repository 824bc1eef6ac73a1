// SPDX-License-Identifier: AGPL-3.0-or-later
// The citizens' app at / (docs/WEB.md): routes, the frame (header, connection banner, the
// polite live region, the bottom navigation) and start-up.
import { html, render, useState, useEffect, useRef } from './lib.js';
import { t, chosenLang, loadLang, fmtRelative, currentLang } from './i18n.js';
import { api, call } from './api.js';
import { S, useStore, loadFollows, changed } from './state.js';
import { Home, Directory, Settings } from './screens.js';
import { Channel } from './channel.js';
import { AlertBanners } from './alerts.js';
import { NewReport, MyReports } from './report.js';

function route() {
  const hsh = location.hash.replace(/^#\/?/, '');
  const [path, query] = hsh.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  const qs = new URLSearchParams(query || '');
  if (parts[0] === 'c' && parts[1]) return { name: 'channel', handle: parts[1].toLowerCase(), invite: qs.get('invite') || undefined, post: qs.get('post') || undefined };
  if (parts[0] === 'i' && parts[1]) return { name: 'invite', code: parts[1] };
  if (parts[0] === 'esplora') return { name: 'directory' };
  if (parts[0] === 'impostazioni') return { name: 'settings' };
  if (parts[0] === 'segnala') return { name: 'report' };
  if (parts[0] === 'segnalazioni') return { name: 'reports' };
  return { name: 'home' };
}

function Invite({ code }) {
  const [err, setErr] = useState(false);
  useEffect(() => {
    api.invite(code)
      .then((r) => { location.replace(`#/c/${encodeURIComponent(r.channel.handle)}?invite=${encodeURIComponent(code)}`); })
      .catch(() => setErr(true));
  }, [code]);
  return err
    ? html`<section class="empty"><h1>${t('app.channel.inviteGone')}</h1><p><a class="btn btn-primary" href="#/esplora">${t('app.home.find')}</a></p></section>`
    : html`<p class="state" role="status">${t('app.loading')}</p>`;
}

function Connection() {
  const s = useStore();
  const [online, setOnline] = useState(navigator.onLine !== false);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    addEventListener('online', on);
    addEventListener('offline', off);
    return () => { removeEventListener('online', on); removeEventListener('offline', off); };
  }, []);
  if (!online || s.conn === 'offline') {
    return html`<p class="banner banner-offline" role="status">${t('app.conn.offline')}
      ${s.updatedAt && html` ${t('app.conn.updated', { when: fmtRelative(s.updatedAt) })}`}</p>`;
  }
  if (s.conn === 'reconnecting') return html`<p class="banner" role="status">${t('app.conn.reconnecting')}</p>`;
  return null;
}

// New posts are announced politely, once each; count changes are not.
function LiveRegion() {
  const s = useStore();
  const [text, setText] = useState('');
  const last = useRef('');
  useEffect(() => {
    if (s.announce && s.announce !== last.current) {
      last.current = s.announce;
      setText(s.announce);
    }
  });
  return html`<div class="sr-only" aria-live="polite" aria-atomic="true" id="announce">${text}</div>`;
}

const NAV = [
  ['home', '#/', 'app.nav.home', '🏠'],
  ['directory', '#/esplora', 'app.nav.directory', '🔍'],
  ['reports', '#/segnalazioni', 'app.nav.reports', '📣'],
  ['settings', '#/impostazioni', 'app.nav.settings', '⚙️'],
];

function App() {
  const [r, setR] = useState(route());
  const s = useStore();
  const main = useRef();
  useEffect(() => {
    const on = () => {
      setR(route());
      scrollTo(0, 0);
      if (main.current) main.current.focus({ preventScroll: true });
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    const title = { home: 'app.home.title', directory: 'app.dir.title', settings: 'app.settings.title', report: 'app.rep.title', reports: 'app.rep.mine' }[r.name];
    const ch = r.handle && s.channels[r.handle];
    document.title = `${ch ? ch.name : title ? t(title) : 'araldo'} · araldo`;
  });
  const home = s.follows && s.follows.reduce((a, c) => a + (c.unread || 0), 0);
  let screen;
  if (r.name === 'channel') screen = html`<${Channel} handle=${r.handle} invite=${r.invite} post=${r.post} />`;
  else if (r.name === 'invite') screen = html`<${Invite} code=${r.code} />`;
  else if (r.name === 'directory') screen = html`<${Directory} />`;
  else if (r.name === 'settings') screen = html`<${Settings} />`;
  else if (r.name === 'report') screen = html`<${NewReport} />`;
  else if (r.name === 'reports') screen = html`<${MyReports} />`;
  else screen = html`<${Home} />`;
  const org = s.org;
  const other = currentLang() === 'it' ? 'en' : 'it';
  return html`
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); main.current.focus(); }}>${t('app.skip')}</a>
    <header class="site-header"><div class="wrap site-header-in">
      <a class="brand" href="#/">
        <img class="brand-logo" src=${org && org.logo ? `/media/${encodeURIComponent(org.logo)}/small` : '/icons/icon.svg'} alt="" width="48" height="48" />
        <span class="brand-name">${org ? org.name : 'araldo'}</span></a>
      <button type="button" class="lang-switch" lang=${other}
        onClick=${async () => { await loadLang(other, true); changed(); }}>${other === 'en' ? 'English' : 'Italiano'}</button>
    </div></header>
    <${AlertBanners} />
    <${Connection} />
    <main id="main" class="wrap" tabindex="-1" ref=${main}>${screen}</main>
    <${LiveRegion} />
    <nav class="tabs" aria-label=${t('app.nav.label')}>
      ${NAV.map(([name, href, key, icon]) => html`<a href=${href} aria-current=${r.name === name || (name === 'reports' && r.name === 'report') ? 'page' : undefined}>
        <span aria-hidden="true" class="tab-icon">${icon}</span> <span class="tab-label">${t(key)}</span>
        ${name === 'home' && home > 0 && html`<span class="unread unread-small"><span aria-hidden="true">${home}</span><span class="sr-only">${t('app.home.unreadTotal', { n: home })}</span></span>`}</a>`)}
    </nav>
    <footer class="site-footer"><div class="wrap">
      ${org && html`<p class="footer-org">${org.name}</p>`}
      <ul class="footer-links">
        ${org && org.accessibility_url && html`<li><a data-element="accessibility-link" href=${org.accessibility_url}>${t('app.footer.accessibility')}</a></li>`}
        ${org && org.accessibility_email && html`<li><a class="a11y-feedback" href=${`mailto:${org.accessibility_email}`}>${t('app.footer.accessibilityFeedback')}</a></li>`}
        <li><a data-element="privacy-policy-link" href=${org ? `/privacy?org=${encodeURIComponent(org.slug)}` : '/privacy'}>${t('app.footer.privacy')}</a></li>
      </ul>
    </div></footer>`;
}

// The Comune in the header and footer: the org of the listed channels when there is one
// (a server usually hosts one Comune), remembered for offline use.
async function loadOrg() {
  try { S.org = JSON.parse(localStorage.getItem('araldo.org')); } catch { /* none */ }
  changed();
  try {
    const { channels } = await api.directory({ limit: 50 });
    const slugs = [...new Set(channels.map((c) => c.org && c.org.slug).filter(Boolean))];
    if (slugs.length !== 1) return;
    S.org = await call('GET', `/api/v1/orgs/${encodeURIComponent(slugs[0])}`);
    try { localStorage.setItem('araldo.org', JSON.stringify(S.org)); } catch { /* fine */ }
    changed();
  } catch { /* offline: the remembered one */ }
}

async function start() {
  await loadLang(chosenLang());
  const root = document.getElementById('app');
  root.textContent = '';
  render(html`<${App} />`, root);
  loadFollows();
  loadOrg();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(() => {});
    // A tapped notification, when the window could not be navigated by the service worker.
    navigator.serviceWorker.addEventListener('message', (e) => {
      const d = e.data || {};
      if (d.type === 'open' && typeof d.url === 'string') {
        const u = new URL(d.url, location.origin);
        if (u.origin === location.origin) location.hash = u.hash;
      }
    });
  }
}

start().catch(() => {
  document.getElementById('app').textContent = 'Errore nel caricamento: ricarica la pagina. / Loading failed: reload the page.';
});
