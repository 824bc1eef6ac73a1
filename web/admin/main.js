// SPDX-License-Identifier: AGPL-3.0-or-later
// The staff console at /admin (docs/ADMIN.md): sign-in, the forced first password change, the
// frame (the Comune, the places, sign-out), routes, and "session expired" as a dialog over the
// screen so nothing being written is lost.
import { html, render, useState, useEffect, useRef } from '../app/lib.js';
import { t, chosenLang, loadLang, currentLang } from '../app/i18n.js';
import { admin, setCsrf, onExpired } from './api.js';
import { C, changed, useConsole, Err, keepCurrentInView, tzOf } from './ui.js';
import { Home, ChannelNew, ChannelScreen } from './channels.js';
import { sendPendingDrafts } from './compose.js';
import { Staff, Audit, Orgs } from './org.js';
import { Alerts, loadAlertRight } from './alerts.js';
import { Queue, ReportDetail } from './reports.js';
import { ForwardTargets } from './forwards.js';
import { SourceWarning, refreshWarnings } from './sources.js';

function route() {
  const hsh = location.hash.replace(/^#\/?/, '');
  const parts = hsh.split('?')[0].split('/').map(decodeURIComponent);
  if (parts[0] === 'canali' && parts[1] === 'nuovo') return { name: 'new' };
  if (parts[0] === 'c' && parts[1]) return { name: 'channel', handle: parts[1], tab: parts[2] || 'scrivi' };
  if (parts[0] === 'allerte') return { name: 'alerts', tab: parts[1] || 'stato', query: hsh.split('?')[1] || '' };
  if (parts[0] === 'segnalazioni' && parts[1]) return { name: 'report', id: parts[1] };
  if (parts[0] === 'segnalazioni') return { name: 'reports' };
  if (parts[0] === 'inoltri') return { name: 'forwards' };
  if (parts[0] === 'personale') return { name: 'staff' };
  if (parts[0] === 'registro') return { name: 'audit' };
  if (parts[0] === 'comuni') return { name: 'orgs' };
  if (parts[0] === 'password') return { name: 'password' };
  return { name: 'home' };
}

export async function loadOrg() {
  const u = C.user;
  try {
    if (u.role === 'operator') {
      C.orgs = (await admin.orgs()).orgs;
      let want = null;
      try { want = localStorage.getItem('araldo.admin.org'); } catch { /* none */ }
      C.org = C.orgs.find((o) => o.slug === want) || C.orgs[0] || null;
    } else {
      C.org = await admin.org(u.org);
    }
  } catch { C.org = C.org || null; }
  await loadAlertRight();
  changed();
  refreshWarnings();
}

function SignIn({ again, onDone }) {
  const [email, setEmail] = useState(again ? C.user.email : '');
  const [pw, setPw] = useState('');
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const r = await admin.signIn(email.trim(), pw);
      setCsrf(r.csrf_token);
      onDone(r.user);
    } catch (x) { setErr(x); } finally { setBusy(false); }
  };
  return html`<form class="panel signin" onSubmit=${submit} aria-describedby=${err ? 'signin-err' : undefined}>
    ${again ? html`<h2 id="expired-title">${t('admin.expired.title')}</h2><p>${t('admin.expired.text')}</p>`
      : html`<h1>${t('admin.signin.title')}</h1><p class="hint">${t('admin.signin.hint')}</p>`}
    <label class="field">${t('admin.signin.email')}
      <input type="email" autocomplete="username" required value=${email} readonly=${again} onInput=${(e) => setEmail(e.target.value)} /></label>
    <label class="field">${t('admin.signin.password')}
      <input type="password" autocomplete="current-password" required value=${pw} onInput=${(e) => setPw(e.target.value)} /></label>
    <${Err} e=${err} id="signin-err" />
    <button type="submit" class="btn btn-primary" disabled=${busy}>${t('admin.signin.submit')}</button>
  </form>`;
}

function Password({ forced }) {
  const [cur, setCur] = useState('');
  const [n1, setN1] = useState('');
  const [n2, setN2] = useState('');
  const [err, setErr] = useState(null);
  const [done, setDone] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setErr(null);
    if (n1 !== n2) { setErr({ code: 'mismatch' }); return; }
    try {
      await admin.password(cur, n1);
      C.user = { ...C.user, must_change_password: false };
      setDone(true);
      changed();
      if (forced) location.hash = '#/';
    } catch (x) { setErr(x); }
  };
  return html`<form class="panel" onSubmit=${submit}>
    <h1>${forced ? t('admin.password.forcedTitle') : t('admin.password.title')}</h1>
    ${forced && html`<p>${t('admin.password.forcedText')}</p>`}
    <label class="field">${forced ? t('admin.password.currentOtp') : t('admin.password.current')}
      <input type="password" autocomplete="current-password" required value=${cur} onInput=${(e) => setCur(e.target.value)} /></label>
    <label class="field">${t('admin.password.new')}
      <input type="password" autocomplete="new-password" required minlength="10" aria-describedby="pw-hint" value=${n1} onInput=${(e) => setN1(e.target.value)} /></label>
    <p class="hint" id="pw-hint">${t('admin.password.hint')}</p>
    <label class="field">${t('admin.password.repeat')}
      <input type="password" autocomplete="new-password" required minlength="10" value=${n2} onInput=${(e) => setN2(e.target.value)} /></label>
    ${err && err.code === 'mismatch' ? html`<p class="state state-error" role="alert">${t('admin.password.mismatch')}</p>` : html`<${Err} e=${err} />`}
    ${done && html`<p class="state state-ok" role="status">${t('admin.password.done')}</p>`}
    <button type="submit" class="btn btn-primary">${t('admin.password.submit')}</button>
  </form>`;
}

// The session ended while working: a dialog over the screen, which stays as it is.
function Expired() {
  const [open, setOpen] = useState(false);
  const dlg = useRef();
  useEffect(() => onExpired(() => { if (C.user) setOpen(true); }), []);
  useEffect(() => { if (open && dlg.current && !dlg.current.open) dlg.current.showModal(); }, [open]);
  if (!open) return null;
  return html`<dialog ref=${dlg} class="expired" aria-labelledby="expired-title" onCancel=${(e) => e.preventDefault()}>
    <${SignIn} again onDone=${(u) => { C.user = u; setOpen(false); changed(); }} />
  </dialog>`;
}

function Nav({ r }) {
  const u = C.user;
  const steward = u.role === 'operator' || u.role === 'org_admin';
  const items = [['home', '#/', 'admin.nav.channels'], ['reports', '#/segnalazioni', 'admin.nav.reports']];
  if (C.alertPublisher) items.push(['alerts', '#/allerte', 'admin.nav.alerts']);
  if (steward) items.push(['forwards', '#/inoltri', 'admin.nav.forwards'], ['staff', '#/personale', 'admin.nav.staff'], ['audit', '#/registro', 'admin.nav.audit']);
  if (u.role === 'operator') items.push(['orgs', '#/comuni', 'admin.nav.orgs']);
  if (items.length < 2) return null;
  const cur = r.name === 'new' || r.name === 'channel' ? 'home' : r.name === 'report' ? 'reports' : r.name;
  return html`<nav class="admin-nav" aria-label=${t('admin.nav.label')}><ul class="scroll-row">
    ${items.map(([name, href, key]) => html`<li><a href=${href} aria-current=${cur === name ? 'page' : undefined}>${t(key)}</a></li>`)}
  </ul></nav>`;
}

function App() {
  const s = useConsole();
  const [r, setR] = useState(route());
  const main = useRef();
  useEffect(() => {
    const on = () => { setR(route()); scrollTo(0, 0); if (main.current) main.current.focus({ preventScroll: true }); };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const other = currentLang() === 'it' ? 'en' : 'it';
  const titles = { home: 'admin.home.title', new: 'admin.new.title', staff: 'admin.staff.title', audit: 'admin.audit.title', alerts: 'admin.alerts.title', orgs: 'admin.orgs.title', password: 'admin.password.title', reports: 'admin.rep.title', forwards: 'admin.fwd.title' };
  useEffect(keepCurrentInView, [r.name]);
  useEffect(() => { document.title = `${r.name === 'channel' ? r.handle : r.name === 'report' ? `#${r.id}` : t(titles[r.name] || 'admin.signin.title')} · ${t('admin.name')}`; });
  let screen;
  if (!s.user) {
    screen = html`<${SignIn} onDone=${async (u) => { C.user = u; changed(); await loadOrg(); }} />`;
  } else if (s.user.must_change_password) {
    screen = html`<${Password} forced />`;
  } else if (r.name === 'new') screen = html`<${ChannelNew} />`;
  else if (r.name === 'channel') screen = html`<${ChannelScreen} key=${r.handle} handle=${r.handle} tab=${r.tab} />`;
  else if (r.name === 'alerts') screen = html`<${Alerts} tab=${r.tab} query=${r.query} />`;
  else if (r.name === 'reports') screen = html`<${Queue} />`;
  else if (r.name === 'report') screen = html`<${ReportDetail} key=${r.id} id=${r.id} />`;
  else if (r.name === 'forwards') screen = html`<${ForwardTargets} />`;
  else if (r.name === 'staff') screen = html`<${Staff} />`;
  else if (r.name === 'audit') screen = html`<${Audit} />`;
  else if (r.name === 'orgs') screen = html`<${Orgs} />`;
  else if (r.name === 'password') screen = html`<${Password} />`;
  else screen = html`<${Home} />`;
  const org = s.org;
  const signOut = async () => {
    try { await admin.signOut(); } catch { /* already ended */ }
    C.user = null;
    C.org = null;
    C.channels = null;
    setCsrf('');
    location.hash = '#/';
    changed();
  };
  return html`
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); main.current.focus(); }}>${t('app.skip')}</a>
    <header class="site-header"><div class="wrap wrap-wide site-header-in">
      <a class="brand" href="#/">
        <img class="brand-logo" src=${org && org.logo ? `/media/${encodeURIComponent(org.logo)}/small` : '/icons/icon.svg'} alt="" width="48" height="48" />
        <span class="brand-name">${org ? org.name : 'araldo'} <span class="brand-sub">${t('admin.name')}</span></span></a>
      <div class="header-tools">
        <button type="button" class="lang-switch" lang=${other}
          onClick=${async () => { await loadLang(other, true); changed(); }}>${other === 'en' ? 'English' : 'Italiano'}</button>
        ${s.user && !s.user.must_change_password && html`<a class="lang-switch" href="#/password" aria-current=${r.name === 'password' ? 'page' : undefined}>${t('admin.nav.password')}</a>`}
        ${s.user && html`<button type="button" class="lang-switch" onClick=${signOut}>${t('admin.signout')}</button>`}
      </div>
    </div></header>
    ${s.user && !s.user.must_change_password && html`<div class="wrap wrap-wide"><${Nav} r=${r} />
      ${s.user.role === 'operator' && s.orgs.length > 1 && html`<label class="org-pick">${t('admin.orgPick')}
        <select value=${org ? org.slug : ''} onChange=${(e) => {
          C.org = C.orgs.find((o) => o.slug === e.target.value);
          C.channels = null;
          try { localStorage.setItem('araldo.admin.org', C.org.slug); } catch { /* fine */ }
          location.hash = '#/';
          changed();
          refreshWarnings();
        }}>${s.orgs.map((o) => html`<option value=${o.slug}>${o.name}</option>`)}</select></label>`}</div>`}
    <main id="main" class="wrap wrap-wide" tabindex="-1" ref=${main}>${s.user && !s.user.must_change_password && s.org && html`<${SourceWarning} />`}${screen}</main>
    <${Expired} />
    <footer class="site-footer"><div class="wrap wrap-wide">
      <p class="footer-org">${t('admin.footer')}</p>
      <ul class="footer-links"><li><a href="/">${t('admin.toApp')}</a></li>
        <li><a data-element="privacy-policy-link" href=${org ? `/privacy?org=${encodeURIComponent(org.slug)}` : '/privacy'}>${t('app.footer.privacy')}</a></li></ul>
    </div></footer>`;
}

async function start() {
  await loadLang(chosenLang());
  try {
    const s = await admin.session();
    setCsrf(s.csrf_token);
    C.user = s.user;
  } catch { C.user = null; }
  if (C.user) await loadOrg();
  const root = document.getElementById('app');
  root.textContent = '';
  render(html`<${App} />`, root);
  // Posts that could not leave for lack of network go when it is back, from any screen; if the
  // first try fails too (the network is back only in name, the server is busy), again after
  // 2, 4, 8 … 60 s while the browser says it is online.
  let retry = null;
  let wait = 2000;
  const flush = async () => {
    clearTimeout(retry);
    if (!C.user) return;
    const { sent, again } = await sendPendingDrafts(tzOf());
    if (sent) changed();
    if (again && navigator.onLine) { retry = setTimeout(flush, wait); wait = Math.min(wait * 2, 60000); } else wait = 2000;
  };
  addEventListener('online', flush);
}

start().catch(() => {
  document.getElementById('app').textContent = 'Errore nel caricamento: ricarica la pagina. / Loading failed: reload the page.';
});
