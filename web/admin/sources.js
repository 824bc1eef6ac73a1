// SPDX-License-Identifier: AGPL-3.0-or-later
// "Fonti ufficiali" (issue 14, docs/ADMIN.md): the official bulletins the Comune follows (DPC,
// LaMMA, CAP feeds) with their health in plain words and what to do next, "Controlla ora" with
// its outcome, add / edit / delete, the alerts they prepared waiting for a person, and the norme
// di comportamento that fill an automatic alert. Also the warning every console screen shows
// when a source is stale or failing (SourceWarning). The API: docs/API.md, "Official alert
// sources"; the server is the truth for the defaults, shown here prefilled.
import { html, useState, useEffect } from '../app/lib.js';
import { t, tn, currentLang } from '../app/i18n.js';
import { call } from './api.js';
import { C, useConsole, Err, Confirm, fmtZoned, tzOf } from './ui.js';
import { LEVELS, infoFor } from '../app/alerts.js';

const ORG = () => `/api/v1/orgs/${encodeURIComponent(C.org.slug)}`;
const KINDS = ['dpc-bulletin', 'lamma-comune', 'cap-feed'];
const ON_CHANGE = ['draft', 'publish-up-to', 'publish'];
// The server's defaults per kind (docs/API.md): shown prefilled; sent only when changed, so the
// server stays the one that decides them.
const DEFAULT_URL = {
  'dpc-bulletin': 'https://mappe.protezionecivile.gov.it/it/mappe-rischi/bollettino-di-criticita',
  'lamma-comune': 'https://www.lamma.rete.toscana.it/previ/ita/xml/comuni_web/dati/{comune}.xml',
  'cap-feed': 'https://feeds.meteoalarm.org/feeds/meteoalarm-legacy-atom-italy',
};
const DPC_DATA_URL = 'https://raw.githubusercontent.com/pcm-dpc/DPC-Bollettini-Criticita-Idrogeologica-Idraulica/master/files/geojson/{id}_{day}.json';

const when = (iso) => fmtZoned(iso, tzOf(), currentLang() === 'en' ? 'en-GB' : 'it-IT');
const defaultComune = () => ((C.org && C.org.name) || '').replace(/^comune di (?=.)/i, '');
// LaMMA names its file by the Comune: lower case, no accents, other characters as '_'.
const lammaName = (c) => c.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
const defaultUrl = (kind, comune) => DEFAULT_URL[kind].replace('{comune}', lammaName(comune || defaultComune()));

// The last error as a sentence for staff and what to do next; the server's own words go under it.
export function errorAdvice(msg) {
  const m = msg || '';
  let key = 'other';
  let http = '';
  if (/not public|push_allow_hosts/.test(m)) key = 'address';
  else if (/does not resolve/.test(m)) key = 'dns';
  else if (/HTTP (\d+)/.test(m)) { key = 'http'; [, http] = /HTTP (\d+)/.exec(m); } else if (/in time|[Tt]imeout|timed out/.test(m)) key = 'timeout';
  else if (/certificate|SSL|TLS/.test(m)) key = 'tls';
  else if (/unknown level text|unknown value/.test(m)) key = 'level';
  else if (/No zone lists the Comune/.test(m)) key = 'comune';
  else if (/no bulletin id/.test(m)) key = 'page';
  else if (/larger than/.test(m)) key = 'size';
  else if (/Not JSON|Not a GeoJSON|Not an Atom|No <previsione|has no "/.test(m)) key = 'format';
  return t(`admin.src.err.${key}`, { status: http });
}

// What a source's health says, in a word: never polled, working, failing, stale.
function state(s) {
  if (s.health.stale) return 'stale';
  if (s.health.failing) return 'failing';
  if (!s.health.last_success) return 'never';
  return 'ok';
}

function policyText(s) {
  if (!s.official) return t('admin.src.policy.unofficial');
  if (s.on_change === 'publish-up-to') return t('admin.src.policy.publish-up-to', { level: t(`app.alert.level.${s.up_to}`).toLowerCase() });
  return t(`admin.src.policy.${s.on_change}`);
}

function Health({ s }) {
  const h = s.health;
  const st = state(s);
  return html`<dl class="src-health">
    <dt>${t('admin.src.state')}</dt><dd><span class=${`src-state src-${st}`}>${t(`admin.src.st.${st}`, { hours: C.staleHours || 26 })}</span></dd>
    <dt>${t('admin.src.lastSuccess')}</dt><dd>${h.last_success ? when(h.last_success) : t('admin.src.never')}</dd>
    <dt>${t('admin.src.lastChange')}</dt><dd>${h.last_change ? when(h.last_change) : t('admin.src.never')}</dd>
    ${h.last_bulletin && html`<dt>${t('admin.src.lastBulletin')}</dt><dd>${h.last_bulletin}</dd>`}
    ${h.last_error && html`<dt>${t('admin.src.lastError')}</dt><dd class=${h.failing ? 'src-error' : undefined}>
      <p>${when(h.last_error.at)}${h.failing ? '' : ` ${t('admin.src.errorOld')}`}</p>
      ${h.failing && html`<p>${errorAdvice(h.last_error.message)}</p>`}
      <details class="src-tech"><summary>${t('admin.src.tech')}</summary><p><code>${h.last_error.message}</code></p></details></dd>`}
  </dl>`;
}

// "Controlla ora": ask for a poll, then read the source until its health moves (at most a minute).
async function pollAndWait(s) {
  const mark = (x) => JSON.stringify([x.health.last_success, x.health.last_error && x.health.last_error.at]);
  const before = mark(await call('POST', `${ORG()}/alert-sources/${s.id}/poll`));
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await call('GET', `${ORG()}/alert-sources/${s.id}`);
    if (mark(now) !== before) return now;
  }
  return null;
}

function pollOutcome(before, after) {
  if (!after) return { ok: false, text: t('admin.src.poll.slow') };
  if (after.health.failing) return { ok: false, text: `${t('admin.src.poll.failed')} ${errorAdvice(after.health.last_error.message)}` };
  const changed = after.health.last_change && after.health.last_change !== before.health.last_change;
  return { ok: true, text: t(changed ? 'admin.src.poll.changed' : 'admin.src.poll.same') };
}

function SourceForm({ src, onDone, onCancel }) {
  const [f, setF] = useState(() => (src ? {
    kind: src.kind, url: src.url, data_url: src.data_url || '', interval_s: String(src.interval_s), on_change: src.on_change,
    up_to: src.up_to || 'giallo', comune: src.comune, zone: src.zone || '', official: src.official,
  } : {
    kind: 'dpc-bulletin', url: defaultUrl('dpc-bulletin'), data_url: DPC_DATA_URL, interval_s: '600', on_change: 'draft',
    up_to: 'giallo', comune: defaultComune(), zone: '', official: true,
  }));
  const [touched, setTouched] = useState({});
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const id = src ? `src-${src.id}` : 'src-new';
  const set = (k) => (e) => {
    const v = e.target.type === 'checkbox' ? e.target.checked : e.target.value;
    const next = { ...f, [k]: v };
    // A new source shows its kind's defaults until the person changes them.
    if (!src && (k === 'kind' || k === 'comune')) {
      if (!touched.url) next.url = defaultUrl(next.kind, next.comune);
      if (k === 'kind') {
        next.data_url = next.kind === 'dpc-bulletin' ? DPC_DATA_URL : '';
        if (!touched.official) next.official = next.kind !== 'cap-feed';
      }
    }
    setTouched({ ...touched, [k]: true });
    setF(next);
  };
  const body = () => {
    const b = {};
    const put = (k, v) => { if (src ? v !== (src[k] ?? null) : touched[k]) b[k] = v; };
    if (!src) b.kind = f.kind;
    put('url', f.url.trim());
    if (f.kind === 'dpc-bulletin') put('data_url', f.data_url.trim() || null);
    put('interval_s', Number(f.interval_s));
    if (src || f.on_change !== 'draft') b.on_change = f.on_change;
    if (f.on_change === 'publish-up-to') b.up_to = f.up_to;
    if (src && b.on_change === src.on_change && f.up_to === src.up_to) delete b.up_to;
    if (src && b.on_change === src.on_change) delete b.on_change;
    if (f.comune.trim() && (src ? f.comune.trim() !== src.comune : f.comune.trim() !== defaultComune())) b.comune = f.comune.trim();
    if (f.kind === 'dpc-bulletin') put('zone', f.zone.trim() || null);
    if (src) put('official', f.official);
    else b.official = f.official; // what the box shows is what the source gets
    return b;
  };
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setErr(null);
    try {
      const b = body();
      const s = src ? (Object.keys(b).length ? await call('PATCH', `${ORG()}/alert-sources/${src.id}`, b) : src)
        : await call('POST', `${ORG()}/alert-sources`, b);
      onDone(s, t(src ? 'admin.src.saved' : 'admin.src.created', { kind: t(`admin.src.kind.${s.kind}`) }));
    } catch (x) { setErr(x); } finally { setBusy(false); }
  };
  const inv = (name) => (err && err.field === name ? 'true' : undefined);
  return html`<form class=${src ? 'edit-form src-form' : 'panel src-form'} onSubmit=${submit} novalidate aria-labelledby=${`${id}-h`}>
    <h2 id=${`${id}-h`}>${src ? t('admin.src.editTitle', { kind: t(`admin.src.kind.${src.kind}`) }) : t('admin.src.new')}</h2>
    ${!src && html`<label class="field">${t('admin.src.kindLabel')}
      <select value=${f.kind} onChange=${set('kind')} aria-describedby=${`${id}-kh`}>${KINDS.map((k) => html`<option value=${k}>${t(`admin.src.kind.${k}`)}</option>`)}</select></label>
      <p class="hint" id=${`${id}-kh`}>${t(`admin.src.kindHint.${f.kind}`)}</p>`}
    <label class="field">${t('admin.src.comune')}<input value=${f.comune} maxlength="200" onInput=${set('comune')} aria-invalid=${inv('comune')} aria-describedby=${`${id}-ch`} /></label>
    <p class="hint" id=${`${id}-ch`}>${t('admin.src.comuneHint')}</p>
    ${f.kind === 'dpc-bulletin' && html`<label class="field">${t('admin.src.zone')}<input value=${f.zone} maxlength="200" onInput=${set('zone')} aria-invalid=${inv('zone')} aria-describedby=${`${id}-zh`} /></label>
      <p class="hint" id=${`${id}-zh`}>${t('admin.src.zoneHint')}</p>`}
    <fieldset class="field"><legend>${t('admin.src.onChange')}</legend>
      ${ON_CHANGE.map((o) => html`<label class="choice"><input type="radio" name=${`${id}-oc`} value=${o} checked=${f.on_change === o} onChange=${set('on_change')} />
        <span>${t(`admin.src.oc.${o}`)}</span></label>`)}
      ${f.on_change === 'publish-up-to' && html`<label class="field">${t('admin.src.upTo')}
        <select value=${f.up_to} onChange=${set('up_to')} aria-invalid=${inv('up_to')}>${LEVELS.filter((l) => l !== 'verde').map((l) => html`<option value=${l}>${t(`app.alert.level.${l}`)}</option>`)}</select></label>`}
      <p class="hint">${t('admin.src.onChangeHint')}</p></fieldset>
    <label class="choice"><input type="checkbox" checked=${f.official} onChange=${set('official')} /> <span>${t('admin.src.officialLabel')}</span></label>
    <p class="hint">${t('admin.src.officialHint')}</p>
    <details class="src-adv" open=${!!err && ['url', 'data_url', 'interval_s'].includes(err.field)}><summary>${t('admin.src.advanced')}</summary>
      <label class="field">${t('admin.src.url')}<input type="url" value=${f.url} onInput=${set('url')} aria-invalid=${inv('url')} /></label>
      ${f.kind === 'dpc-bulletin' && html`<label class="field">${t('admin.src.dataUrl')}<input type="url" value=${f.data_url} onInput=${set('data_url')} aria-invalid=${inv('data_url')} aria-describedby=${`${id}-dh`} /></label>
        <p class="hint" id=${`${id}-dh`}>${t('admin.src.dataUrlHint')}</p>`}
      <label class="field">${t('admin.src.interval')}<input type="number" min="60" max="86400" step="60" value=${f.interval_s} onInput=${set('interval_s')} aria-invalid=${inv('interval_s')} /></label>
    </details>
    <${Err} e=${err} />
    <div class="row-actions">
      <button type="submit" class="btn btn-primary" disabled=${busy}>${src ? t('admin.src.save') : t('admin.src.add')}</button>
      ${onCancel && html`<button type="button" class="btn btn-secondary" onClick=${onCancel}>${t('admin.cancel')}</button>`}
    </div>
  </form>`;
}

function SourceItem({ s, onChanged, onDeleted }) {
  const [editing, setEditing] = useState(false);
  const [polling, setPolling] = useState(false);
  const [outcome, setOutcome] = useState(null);
  const [err, setErr] = useState(null);
  const kind = t(`admin.src.kind.${s.kind}`);
  const poll = async () => {
    setPolling(true); setOutcome(null); setErr(null);
    try {
      const after = await pollAndWait(s);
      setOutcome(pollOutcome(s, after));
      if (after) onChanged(after);
    } catch (x) { setErr(x); } finally { setPolling(false); }
  };
  return html`<li class="src-item" data-source=${s.id}>
    <h3>${kind} · ${s.zone || s.comune}${!s.official ? html` <span class="src-tag">${t('admin.src.unofficial')}</span>` : ''}</h3>
    <p class="hint src-url">${s.url}</p>
    <p>${policyText(s)} ${t('admin.src.every', { minutes: Math.round(s.interval_s / 60) })}</p>
    <${Health} s=${s} />
    <div class="row-actions">
      <button type="button" class="btn btn-primary" disabled=${polling} onClick=${poll}>${polling ? t('admin.src.polling') : t('admin.src.pollNow')}<span class="sr-only"> ${kind}</span></button>
      <button type="button" class="btn btn-secondary" aria-expanded=${editing ? 'true' : 'false'} onClick=${() => setEditing(!editing)}>${t('admin.src.edit')}<span class="sr-only"> ${kind}</span></button>
      <${Confirm} label=${html`${t('admin.src.delete')}<span class="sr-only"> ${kind}</span>`} title=${t('admin.src.deleteTitle', { kind })}
        text=${t('admin.src.deleteText', { kind, url: s.url })} yes=${t('admin.src.deleteYes')}
        onYes=${async () => { await call('DELETE', `${ORG()}/alert-sources/${s.id}`); onDeleted(s); }} />
    </div>
    <div aria-live="polite">${outcome && html`<p class=${outcome.ok ? 'state state-ok' : 'state state-error'}>${outcome.text}</p>`}</div>
    <${Err} e=${err} />
    ${editing && html`<${SourceForm} src=${s} onDone=${(x) => { setEditing(false); onChanged(x); }} onCancel=${() => setEditing(false)} />`}
  </li>`;
}

// The norme di comportamento: one risk and level at a time, Italian and English.
function Templates() {
  const [list, setList] = useState(null);
  const [risk, setRisk] = useState('');
  const [level, setLevel] = useState('giallo');
  const [text, setText] = useState({ it: '', en: '' });
  const [err, setErr] = useState(null);
  const [note, setNote] = useState('');
  const load = async () => {
    try { const r = await call('GET', `${ORG()}/alert-templates`); setList(r.templates); return r.templates; } catch (e) { setErr(e); return null; }
  };
  const row = (l, r, v) => (l || []).find((x) => x.risk === r && x.level === v);
  const show = (l, r, v) => { const x = row(l, r, v); setText({ it: (x && x.instruction.it) || '', en: (x && x.instruction.en) || '' }); };
  useEffect(() => { load().then((l) => { if (l && l.length) { setRisk(l[0].risk); show(l, l[0].risk, 'giallo'); } }); }, []);
  if (!list) return html`<${Err} e=${err} />`;
  const risks = [...new Set(list.map((x) => x.risk))];
  const cur = row(list, risk, level);
  const pick = (r, v) => { setRisk(r); setLevel(v); setNote(''); setErr(null); show(list, r, v); };
  const save = (lang, reset) => async () => {
    setErr(null); setNote('');
    try {
      await call('PUT', `${ORG()}/alert-templates/${encodeURIComponent(risk)}/${level}`, { language: lang, instruction: reset ? null : text[lang] });
      const l = await load();
      show(l, risk, level);
      setNote(t(reset ? 'admin.tpl.reset' : 'admin.tpl.saved'));
    } catch (x) { setErr(x); }
  };
  return html`<section class="panel tpl" aria-labelledby="tpl-h"><h2 id="tpl-h">${t('admin.tpl.title')}</h2>
    <p class="hint">${t('admin.tpl.hint')}</p>
    <div class="field-row">
      <label class="field">${t('admin.alerts.risk')}<select value=${risk} onChange=${(e) => pick(e.target.value, level)}>${risks.map((r) => html`<option value=${r}>${r}</option>`)}</select></label>
      <label class="field">${t('admin.alerts.level')}<select value=${level} onChange=${(e) => pick(risk, e.target.value)}>${LEVELS.map((l) => html`<option value=${l}>${t(`app.alert.level.${l}`)}</option>`)}</select></label>
    </div>
    ${['it', 'en'].map((lang) => html`<div class="tpl-lang" key=${lang}>
      <label class="field" lang=${lang}>${t(`admin.tpl.lang.${lang}`)} ${cur && cur.custom.includes(lang) ? t('admin.tpl.custom') : t('admin.tpl.default')}
        <textarea rows="3" maxlength="4000" value=${text[lang]} onInput=${(e) => setText({ ...text, [lang]: e.target.value })}></textarea></label>
      <div class="row-actions"><button type="button" class="btn btn-secondary" onClick=${save(lang, false)}>${t('admin.tpl.save')}<span class="sr-only"> (${lang})</span></button>
        ${cur && cur.custom.includes(lang) && html`<button type="button" class="btn btn-secondary" onClick=${save(lang, true)}>${t('admin.tpl.resetBtn')}<span class="sr-only"> (${lang})</span></button>`}</div>
    </div>`)}
    <${Err} e=${err} />${note && html`<p class="state state-ok" role="status">${note}</p>`}
  </section>`;
}

export function Sources() {
  const [list, setList] = useState(null);
  const [drafts, setDrafts] = useState([]);
  const [err, setErr] = useState(null);
  const [note, setNote] = useState('');
  const [made, setMade] = useState(0); // a new, empty form after each source added
  const load = async () => {
    try {
      const [s, p] = await Promise.all([call('GET', `${ORG()}/alert-sources`), call('GET', `${ORG()}/alerts?state=pending`)]);
      setList(s.sources); setDrafts(p.alerts.filter((a) => a.source)); setErr(null);
    } catch (e) { setErr(e); }
  };
  useEffect(() => { load(); }, []);
  const loadDrafts = async () => {
    try { setDrafts((await call('GET', `${ORG()}/alerts?state=pending`)).alerts.filter((a) => a.source)); } catch { /* the list stays */ }
  };
  // A poll may have prepared alerts: the list here and the warning follow.
  const replace = (x) => { setList((l) => l.map((s) => (s.id === x.id ? x : s))); loadDrafts(); refreshWarnings(); };
  return html`<${Err} e=${err} />
    ${note && html`<p class="state state-ok" role="status">${note}</p>`}
    <h2>${t('admin.src.title')}</h2>
    <p class="hint">${t('admin.src.hint')}</p>
    ${drafts.length > 0 && html`<div class="notice src-drafts"><p><strong>${tn('admin.src.drafts', drafts.length)}</strong></p>
      <ul>${drafts.map((a) => html`<li key=${a.id}>${infoFor(a).headline}</li>`)}</ul>
      <p><a class="btn btn-primary" href="#/allerte/stato">${t('admin.src.draftsGo')}</a></p></div>`}
    ${list && list.length === 0 && html`<p class="state">${t('admin.src.none')}</p>`}
    ${list && list.length > 0 && html`<ul class="plain-list src-list">${list.map((s) => html`<${SourceItem} key=${s.id} s=${s} onChanged=${replace}
      onDeleted=${(x) => { setNote(t('admin.src.deleted', { kind: t(`admin.src.kind.${x.kind}`) })); setList((l) => l.filter((y) => y.id !== x.id)); refreshWarnings(); }} />`)}</ul>`}
    ${list && html`<${SourceForm} key=${made} onDone=${(s, msg) => { setNote(msg); setMade(made + 1); setList((l) => [...l, s]); refreshWarnings(); }} />`}
    <${Templates} />`;
}

// ---- the warning on every screen ----

// What the banner shows: sources stale or failing (every member of the org's staff), and for
// publishers the alerts sources prepared that wait for a person.
export async function refreshWarnings() {
  if (!C.user || !C.org) { C.sourceWarnings = null; return; }
  const slug = C.org.slug;
  const w = { sources: [], drafts: 0 };
  try {
    const r = await call('GET', `/api/v1/orgs/${encodeURIComponent(slug)}/alert-sources/warnings`);
    w.sources = r.warnings;
    C.staleHours = r.stale_hours;
  } catch { /* no banner rather than a wrong one */ }
  if (C.alertPublisher) {
    try { w.drafts = (await call('GET', `/api/v1/orgs/${encodeURIComponent(slug)}/alerts?state=pending`)).alerts.filter((a) => a.source).length; } catch { /* none shown */ }
  }
  if (C.org && C.org.slug === slug) {
    C.sourceWarnings = w;
    for (const fn of warnSubs) fn();
  }
}
const warnSubs = new Set();

export function SourceWarning() {
  const [, set] = useState(0);
  useEffect(() => {
    const fn = () => set((n) => n + 1);
    warnSubs.add(fn);
    const timer = setInterval(refreshWarnings, 5 * 60 * 1000);
    return () => { warnSubs.delete(fn); clearInterval(timer); };
  }, []);
  useConsole();
  const w = C.sourceWarnings;
  if (!w || (!w.sources.length && !w.drafts)) return null;
  const stale = w.sources.filter((s) => s.stale).length;
  const failing = w.sources.filter((s) => !s.stale && s.failing).length;
  return html`<section class=${w.sources.length ? 'notice src-warning src-warning-danger' : 'notice src-warning'} aria-labelledby="src-warn-h">
    ${w.sources.length > 0 && html`<h2 id="src-warn-h">${t('admin.src.warn.title')}</h2>
      ${stale > 0 && html`<p>${tn('admin.src.warn.stale', stale, { hours: C.staleHours || 26 })}</p>`}
      ${failing > 0 && html`<p>${tn('admin.src.warn.failing', failing)}</p>`}
      <p>${C.alertPublisher ? html`<a href="#/allerte/fonti">${t('admin.src.warn.go')}</a>` : t('admin.src.warn.tell')}</p>`}
    ${w.drafts > 0 && html`${!w.sources.length && html`<h2 id="src-warn-h">${t('admin.src.warn.draftsTitle')}</h2>`}
      <p>${tn('admin.src.drafts', w.drafts)} <a href="#/allerte/stato">${t('admin.src.draftsGo')}</a></p>`}
  </section>`;
}
