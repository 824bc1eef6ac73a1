// SPDX-License-Identifier: AGPL-3.0-or-later
// Aggiornamenti (home), Esplora (directory) and Impostazioni (settings).
import { html, useState, useEffect, useRef } from './lib.js';
import { t, tn, fmtNum, currentLang, loadLang, LANGS } from './i18n.js';
import { api, token, forgetDevice } from './api.js';
import { S, useStore, loadFollows, stopAll, forgetMine, changed } from './state.js';
import { TimeAgo } from './post.js';
import { Notifications } from './notify.js';
import { forgetLocal } from './push.js';

export function Icon({ ch, size = 48 }) {
  if (ch.icon) {
    return html`<img class="avatar" src=${`/media/${encodeURIComponent(ch.icon)}/small`} alt="" width=${size} height=${size} />`;
  }
  const letter = (ch.name || ch.handle || '?').trim().charAt(0).toUpperCase();
  return html`<span class="avatar avatar-letter" aria-hidden="true">${letter}</span>`;
}

export function Verified({ ch }) {
  return ch.verified ? html` <span class="badge badge-verified">${t('app.channel.verified')}</span>` : null;
}

// Plain preview of a post's text: WhatsApp-style markers dropped, one line.
const plain = (s) => s.replace(/```|[*_~`]/g, '').replace(/\s+/g, ' ').trim();

export function Home() {
  const s = useStore();
  useEffect(() => { if (s.follows !== null) loadFollows(); }, []); // fresh unread counts on each visit
  if (s.follows === null) return html`<p class="state" role="status">${t('app.loading')}</p>`;
  return html`<section aria-labelledby="h-home">
    <h1 id="h-home">${t('app.home.title')}</h1>
    ${s.follows.length === 0
      ? html`<div class="empty">
          <p>${t('app.home.empty')}</p>
          <p><a class="btn btn-primary" href="#/esplora">${t('app.home.find')}</a></p>
        </div>`
      : html`<ul class="chat-list">
          ${s.follows.map((c) => html`<li key=${c.handle}>
            <a class="chat" href=${`#/c/${encodeURIComponent(c.handle)}`}>
              <${Icon} ch=${c} />
              <span class="chat-body">
                <span class="chat-top">
                  <span class="chat-name">${c.name}<${Verified} ch=${c} />
                    ${c.muted && html` <span class="muted-mark" title=${t('app.channel.muted')}><span aria-hidden="true">🔕</span><span class="sr-only">${t('app.channel.muted')}</span></span>`}</span>
                  ${c.last_post && html`<span class="chat-time"><${TimeAgo} iso=${c.last_post.published_at} /></span>`}
                </span>
                <span class="chat-bottom">
                  ${c.last_post
                    ? html`<span class="chat-preview" lang=${c.language}>${plain(c.last_post.text)}</span>`
                    : html`<span class="chat-preview">${t('app.home.noPosts')}</span>`}
                  ${c.unread > 0 && html`<span class="unread"><span aria-hidden="true">${c.unread > 99 ? '99+' : fmtNum(c.unread)}</span><span class="sr-only">${tn('app.home.unread', c.unread)}</span></span>`}
                </span>
              </span>
            </a></li>`)}
        </ul>
        <p class="more-link"><a href="#/esplora">${t('app.home.findMore')}</a></p>`}
  </section>`;
}

const CATEGORIES = ['news', 'civil_protection', 'culture', 'tourism', 'schools', 'transport', 'environment', 'sport', 'other'];

export function Directory() {
  const s = useStore();
  const [q, setQ] = useState('');
  const [cat, setCat] = useState('');
  const [sort, setSort] = useState('popular');
  const [res, setRes] = useState(null);
  const [err, setErr] = useState(false);
  const seq = useRef(0);
  useEffect(() => {
    const my = ++seq.current;
    const timer = setTimeout(async () => {
      try {
        const r = await api.directory({ q: q.trim(), category: cat, sort, limit: 30 });
        if (my === seq.current) { setRes(r.channels); setErr(false); }
      } catch {
        if (my === seq.current) setErr(true);
      }
    }, q ? 250 : 0);
    return () => clearTimeout(timer);
  }, [q, cat, sort]);
  const following = new Set((s.follows || []).map((c) => c.handle));
  return html`<section aria-labelledby="h-dir">
    <h1 id="h-dir">${t('app.dir.title')}</h1>
    <form class="dir-search" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label for="dir-q">${t('app.dir.search')}</label>
      <input id="dir-q" type="search" value=${q} autocomplete="off" placeholder=${t('app.dir.placeholder')}
        onInput=${(e) => setQ(e.target.value)} />
      <div class="dir-filters">
        <label>${t('app.dir.category')}
          <select value=${cat} onChange=${(e) => setCat(e.target.value)}>
            <option value="">${t('app.dir.allCategories')}</option>
            ${CATEGORIES.map((c) => html`<option value=${c}>${t(`app.category.${c}`)}</option>`)}
          </select></label>
        <fieldset class="seg"><legend class="sr-only">${t('app.dir.sort')}</legend>
          ${['popular', 'new'].map((o) => html`<label class=${`seg-opt${sort === o ? ' on' : ''}`}>
            <input type="radio" name="sort" value=${o} checked=${sort === o} onChange=${() => setSort(o)} /> ${t(`app.dir.sort.${o}`)}</label>`)}
        </fieldset>
      </div>
    </form>
    <div aria-live="polite" class="sr-only">${res && (res.length ? tn('app.dir.found', res.length) : t('app.dir.none'))}</div>
    ${err && html`<p class="state state-error" role="alert">${t('app.dir.error')}</p>`}
    ${!res && !err && html`<p class="state" role="status">${t('app.loading')}</p>`}
    ${res && res.length === 0 && html`<p class="state">${q ? t('app.dir.noneFor', { q }) : t('app.dir.none')}</p>`}
    ${res && res.length > 0 && html`<ul class="cards">${res.map((c) => html`<li key=${c.handle}>
      <a class="card ch-card" href=${`#/c/${encodeURIComponent(c.handle)}`}>
        <${Icon} ch=${c} size="56" />
        <span class="card-body">
          <span class="card-name">${c.name}<${Verified} ch=${c} /></span>
          <span class="card-org">${c.org && c.org.name} · ${t(`app.category.${c.category}`)}</span>
          <span class="card-count">${tn('app.channel.followers', c.followers_count)}${following.has(c.handle) ? ` · ${t('app.dir.following')}` : ''}</span>
        </span>
      </a></li>`)}</ul>`}
  </section>`;
}

export function Settings() {
  const s = useStore();
  const [ask, setAsk] = useState(false);
  const [done, setDone] = useState(false);
  const [err, setErr] = useState('');
  const dlg = useRef();
  useEffect(() => {
    if (ask && dlg.current && !dlg.current.open) dlg.current.showModal();
  }, [ask]);
  const n = (s.follows || []).length;
  const forget = async () => {
    setErr('');
    try {
      stopAll();
      await forgetDevice();
      await forgetLocal();
      forgetMine();
      S.follows = [];
      S.posts = {};
      dlg.current.close();
      setAsk(false);
      setDone(true);
      changed();
    } catch {
      setErr(t('app.settings.forgetError'));
    }
  };
  return html`<section aria-labelledby="h-set">
    <h1 id="h-set">${t('app.settings.title')}</h1>
    <div class="card panel">
      <h2>${t('app.settings.language')}</h2>
      <div class="lang-switch-group" role="group" aria-label=${t('app.settings.language')}>
        ${LANGS.map((l) => html`<button type="button" class="btn btn-secondary" lang=${l} aria-pressed=${currentLang() === l ? 'true' : 'false'}
          onClick=${async () => { await loadLang(l, true); changed(); }}>${l === 'it' ? 'Italiano' : 'English'}</button>`)}
      </div>
    </div>
    <${Notifications} />
    <div class="card panel">
      <h2>${t('app.settings.privacy')}</h2>
      <p>${t('app.settings.privacyText')}</p>
      <p><a href="/privacy">${t('app.settings.privacyLink')}</a></p>
    </div>
    <div class="card panel panel-danger">
      <h2>${t('app.settings.forget')}</h2>
      ${done
        ? html`<p role="status" class="state-ok">${t('app.settings.forgotten')}</p>`
        : html`<p>${t('app.settings.forgetIntro')}</p>
          <button type="button" class="btn btn-danger" onClick=${() => setAsk(true)} disabled=${!token() && n === 0}>${t('app.settings.forget')}</button>
          ${!token() && n === 0 && html`<p class="hint">${t('app.settings.nothing')}</p>`}`}
    </div>
    ${ask && html`<dialog ref=${dlg} class="confirm" aria-labelledby="dlg-title" onClose=${() => setAsk(false)}>
      <h2 id="dlg-title">${t('app.settings.confirmTitle')}</h2>
      <p>${t('app.settings.confirmIntro')}</p>
      <ul>
        <li>${t('app.settings.confirmToken')}</li>
        <li>${tn('app.settings.confirmFollows', n)}</li>
        <li>${t('app.settings.confirmReactions')}</li>
        <li>${t('app.settings.confirmPush')}</li>
        <li>${t('app.settings.confirmReports')}</li>
        <li>${t('app.settings.confirmOffline')}</li>
      </ul>
      <p>${t('app.settings.confirmAfter')}</p>
      ${err && html`<p role="alert" class="state-error">${err}</p>`}
      <div class="dlg-actions">
        <button type="button" class="btn btn-danger btn-solid" onClick=${forget}>${t('app.settings.confirmYes')}</button>
        <button type="button" class="btn btn-secondary" onClick=${() => dlg.current.close()}>${t('app.settings.confirmNo')}</button>
      </div>
    </dialog>`}
  </section>`;
}

export { loadFollows };
