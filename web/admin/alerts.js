// SPDX-License-Identifier: AGPL-3.0-or-later
// "Allerte": civil-protection alerts for alert publishers (docs/ADMIN.md, docs/ALERTS.md): the
// status in force, the approval queue of the two-person rule, the history, the alert form
// with the citizens' banner as its live preview, and the zones. The CAP document is shown
// from the server once the alert exists (GET /api/v1/alerts/{id}.cap): the server's encoder,
// never a copy of it here.
import { html, useState, useEffect } from '../app/lib.js';
import { t, currentLang } from '../app/i18n.js';
import { call } from './api.js';
import { C, useConsole, Err, Confirm, zonedToIso, isoToZoned, fmtZoned, tzOf } from './ui.js';
import { AlertBanner, LEVELS, infoFor } from '../app/alerts.js';
import { Sources, refreshWarnings } from './sources.js';

const PHASES = ['nessuna', 'attenzione', 'preallarme', 'allarme'];
const DEFAULT_PHASE = { verde: 'nessuna', giallo: 'attenzione', arancione: 'preallarme', rosso: 'preallarme' };
const STATUSES = ['Actual', 'Exercise', 'Test'];
const TYPES = ['Alert', 'Update', 'Cancel'];
const ORG = () => `/api/v1/orgs/${encodeURIComponent(C.org.slug)}`;

// Whether the signed-in account may publish alerts: operators and org admins always, staff
// with the civil_protection permission (the settings' publishers).
export async function loadAlertRight() {
  const u = C.user;
  if (!u || !C.org) { C.alertPublisher = false; return; }
  if (u.role === 'operator' || u.role === 'org_admin') { C.alertPublisher = true; return; }
  try {
    const s = await call('GET', `${ORG()}/alerts/settings`);
    C.alertPublisher = (s.publishers || []).includes(String(u.id));
  } catch { C.alertPublisher = false; }
}

const when = (iso) => fmtZoned(iso, tzOf(), currentLang() === 'en' ? 'en-GB' : 'it-IT');
const levelText = (l) => t(`app.alert.level.${l}`);
const headline = (a) => infoFor(a).headline;
const zonesText = (a) => (a.areas || []).map((z) => z.name).join(', ') || (a.zones || []).join(', ');

function Level({ level, status }) {
  return html`<span class=${`level-chip alert-${level}`}><span aria-hidden="true">${level === 'rosso' ? '⛔' : level === 'verde' ? '✓' : '⚠'}</span> ${levelText(level)}${status && status !== 'Actual' ? ` · ${t(`admin.alerts.status.${status}`)}` : ''}</span>`;
}

const TABS = [['stato', 'admin.alerts.tab.status'], ['nuova', 'admin.alerts.tab.new'], ['zone', 'admin.alerts.tab.zones'], ['fonti', 'admin.alerts.tab.sources']];

export function Alerts({ tab, query }) {
  const s = useConsole();
  if (!s.org) return null;
  return html`<div class="head-row"><h1>${t('admin.alerts.title')}</h1>
      <a href=${`/allerta/${encodeURIComponent(s.org.slug)}`}>${t('admin.alerts.publicPage')}</a></div>
    <nav class="ch-tabs" aria-label=${t('admin.alerts.tab.label')}><ul class="scroll-row">${TABS.map(([k, key]) => html`<li><a href=${`#/allerte/${k}`} aria-current=${tab === k ? 'page' : undefined}>${t(key)}</a></li>`)}</ul></nav>
    ${tab === 'nuova' ? html`<${AlertForm} key=${query} query=${query} />` : tab === 'zone' ? html`<${Zones} />` : tab === 'fonti' ? html`<${Sources} />` : html`<${Status} />`}`;
}

// ---- status, queue, history ----

// Zone × risk rows above verde, with Update and Cancel (of the same status) per row.
function StatusTable({ rows, status = 'Actual' }) {
  const q = status === 'Actual' ? '' : `&status=${status}`;
  return html`<div class="table-wrap"><table class="stats-table">
        <thead><tr><th scope="col">${t('admin.alerts.zone')}</th><th scope="col">${t('admin.alerts.risk')}</th><th scope="col">${t('admin.alerts.level')}</th>
          <th scope="col">${t('admin.alerts.phase')}</th><th scope="col">${t('admin.alerts.until')}</th><th scope="col">${t('admin.alerts.actions')}</th></tr></thead>
        <tbody>${rows.map(({ z, r }) => html`<tr key=${`${z.code}-${r.risk}`}><th scope="row">${z.name}</th><td>${r.risk_name}</td>
          <td><${Level} level=${r.level} status=${status} /></td><td>${t(`admin.alerts.phase.${r.phase}`)}</td><td>${when(r.until)}</td>
          <td><span class="row-actions"><a href=${`#/allerte/nuova?tipo=Update&ref=${r.alert}${q}`}>${t('admin.alerts.update')}<span class="sr-only"> ${z.name}, ${r.risk_name}</span></a>
            <a href=${`#/allerte/nuova?tipo=Cancel&ref=${r.alert}${q}`}>${t('admin.alerts.cancelIt')}<span class="sr-only"> ${z.name}, ${r.risk_name}</span></a></span></td></tr>`)}</tbody>
      </table></div>`;
}

function Status() {
  const [cur, setCur] = useState(null);
  const [drill, setDrill] = useState(null); // exercises in force: staff only, never public
  const [pending, setPending] = useState([]);
  const [hist, setHist] = useState([]);
  const [err, setErr] = useState(null);
  const [note, setNote] = useState('');
  const load = async () => {
    try {
      const [c, x, p, h] = await Promise.all([
        call('GET', `${ORG()}/alerts/current`),
        call('GET', `${ORG()}/alerts/current?status=Exercise`),
        call('GET', `${ORG()}/alerts?state=pending`),
        call('GET', `${ORG()}/alerts?limit=50`),
      ]);
      setCur(c); setDrill(x); setPending(p.alerts); setHist(h.alerts); setErr(null);
    } catch (e) { setErr(e); }
  };
  useEffect(() => { load(); }, []);
  const rows = [];
  const drills = [];
  if (cur) for (const z of cur.zones) for (const r of z.risks) if (r.level !== 'verde') rows.push({ z, r });
  if (drill) for (const z of drill.zones) for (const r of z.risks) if (r.alert) drills.push({ z, r });
  const approve = (a) => async () => { await call('POST', `/api/v1/alerts/${a.id}/approve`); setNote(t('admin.alerts.approved', { headline: headline(a) })); await load(); refreshWarnings(); };
  const withdraw = (a) => async () => { await call('DELETE', `/api/v1/alerts/${a.id}`); setNote(t('admin.alerts.withdrawn', { headline: headline(a) })); await load(); refreshWarnings(); };
  return html`<${Err} e=${err} />
    ${note && html`<p class="state state-ok" role="status">${note}</p>`}
    <p><a class="btn btn-primary" href="#/allerte/nuova">${t('admin.alerts.new')}</a></p>
    ${pending.length > 0 && html`<section class="panel queue" aria-labelledby="queue-h"><h2 id="queue-h">${t('admin.alerts.queue')}</h2>
      <p class="hint">${t(pending.some((a) => a.source) ? 'admin.alerts.queueHintSources' : 'admin.alerts.queueHint')}</p>
      <ul class="plain-list">${pending.map((a) => html`<li key=${a.id} data-alert=${a.id}>
        <p><${Level} level=${a.level} status=${a.status} /> <strong>${headline(a)}</strong></p>
        ${a.source && html`<p class="hint">${t('admin.alerts.preparedBy', { kind: t(`admin.src.kind.${a.source.kind}`), bulletin: a.source.bulletin || '' })}${a.source.official ? '' : ` · ${t('admin.src.unofficial')}`}</p>`}
        <p class="hint">${zonesText(a)} · ${a.risk_name} · ${t('admin.alerts.untilShort', { when: when(a.expires) })}</p>
        <div class="row-actions">
          <${Confirm} cls="btn btn-primary" label=${t('admin.alerts.approve')} title=${t('admin.alerts.approveTitle', { level: levelText(a.level).toLowerCase() })}
            text=${t('admin.alerts.approveText', { headline: headline(a), zones: zonesText(a), when: when(a.expires) })}
            yes=${t('admin.alerts.approveYes')} onYes=${approve(a)} />
          <${Confirm} label=${t('admin.alerts.withdraw')} title=${t('admin.alerts.withdrawTitle')}
            text=${t('admin.alerts.withdrawText', { headline: headline(a), zones: zonesText(a) })}
            yes=${t('admin.alerts.withdrawYes')} onYes=${withdraw(a)} />
        </div></li>`)}</ul></section>`}
    <section aria-labelledby="cur-h"><h2 id="cur-h">${t('admin.alerts.current')}</h2>
      ${cur && rows.length === 0 && html`<p class="state"><${Level} level="verde" /> ${t('admin.alerts.allGreen')}</p>`}
      ${rows.length > 0 && html`<${StatusTable} rows=${rows} />`}
    </section>
    ${drills.length > 0 && html`<section aria-labelledby="drill-h" class="alert-history"><h2 id="drill-h">${t('admin.alerts.drills')}</h2>
      <p class="hint">${t('admin.alerts.drillsHint')}</p>
      <${StatusTable} rows=${drills} status="Exercise" /></section>`}
    <section aria-labelledby="hist-h" class="alert-history"><h2 id="hist-h">${t('admin.alerts.history')}</h2>
      ${hist.length === 0 ? html`<p class="hint">${t('admin.alerts.noHistory')}</p>` : html`<ul class="plain-list">${hist.map((a) => html`<li key=${a.id}>
        <p><${Level} level=${a.level} status=${a.status} /> <strong>${headline(a)}</strong></p>
        <p class="hint">${[t(`admin.alerts.type.${a.msg_type}`), t(`admin.alerts.state.${a.state}`)].concat(a.replaced_by ? [t('admin.alerts.replaced')] : [], [zonesText(a), a.risk_name, `${when(a.sent)} → ${when(a.expires)}`]).join(' · ')}${' · '}<a href=${a.cap_url}>${t('admin.alerts.cap')}<span class="sr-only"> ${headline(a)}</span></a></p></li>`)}</ul>`}
    </section>`;
}

// ---- the form ----

function emptyForm(q) {
  const now = Date.now();
  return {
    zones: [], risk: 'idrogeologico', level: 'giallo', phase: '', onset: '', expires: isoToZoned(new Date(now + 24 * 3600e3).toISOString(), tzOf()),
    status: STATUSES.includes(q.get('status')) ? q.get('status') : 'Actual', msg_type: q.get('tipo') && TYPES.includes(q.get('tipo')) ? q.get('tipo') : 'Alert',
    references: q.get('ref') ? [q.get('ref')] : [],
    it: { headline: '', description: '', instruction: '' }, en: { headline: '', description: '', instruction: '' },
  };
}

// The form filled from an alert it updates or cancels (its zones, risk, level, phase, times;
// the texts too for an Update, which usually changes a word or two).
function fromAlert(f, a) {
  const text = (lang) => {
    const i = (a.info || []).find((x) => x.language === lang) || {};
    return { headline: i.headline || '', description: i.description || '', instruction: i.instruction || '' };
  };
  return {
    ...f, zones: [...(a.zones || [])], risk: a.risk, level: a.level, phase: a.phase, status: a.status,
    expires: isoToZoned(a.expires, tzOf()),
    ...(f.msg_type === 'Update' ? { it: text('it'), en: text('en') } : {}),
  };
}

function AlertForm({ query }) {
  const q = new URLSearchParams(query || '');
  const [f, setF] = useState(() => emptyForm(q));
  const [zones, setZones] = useState([]);
  const [risks, setRisks] = useState([]);
  const [open, setOpen] = useState([]); // published alerts not replaced: what Update/Cancel can name
  const [err, setErr] = useState(null);
  const [done, setDone] = useState(null);
  const [cap, setCap] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    (async () => {
      try {
        const [z, r, h] = await Promise.all([call('GET', `${ORG()}/zones`), call('GET', `${ORG()}/risks`), call('GET', `${ORG()}/alerts?state=published&limit=100`)]);
        setZones(z.zones); setRisks(r.risks);
        const o = h.alerts.filter((a) => !a.replaced_by && a.msg_type !== 'Cancel' && Date.parse(a.expires) > Date.now());
        setOpen(o);
        const ref = o.find((a) => a.id === q.get('ref'));
        if (ref) setF((cur) => fromAlert(cur, ref));
      } catch (e) { setErr(e); }
    })();
  }, []);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const setInfo = (lang, k) => (e) => setF({ ...f, [lang]: { ...f[lang], [k]: e.target.value } });
  const toggle = (k, v) => () => {
    const on = !f[k].includes(v);
    const next = { ...f, [k]: on ? [...f[k], v] : f[k].filter((x) => x !== v) };
    // The first alert named by an Update or Cancel fills the form: change only what changes.
    const first = k === 'references' && on && f.references.length === 0 && open.find((a) => a.id === v);
    setF(first ? fromAlert(next, first) : next);
  };
  const refd = f.references.map((id) => open.find((a) => a.id === id)).filter(Boolean);
  const follows = f.msg_type !== 'Alert';
  // What citizens will see (a Cancel removes banners and shows none).
  const base = follows && refd[0];
  const level = f.msg_type === 'Cancel' && base ? base.level : f.level;
  const preview = {
    id: 'preview', org: C.org.slug, level, status: f.status, msg_type: f.msg_type,
    expires: zonedToIso(f.expires, tzOf()) || new Date().toISOString(),
    info: [{ language: 'it', headline: f.it.headline || t('admin.alerts.headlinePlaceholder') }].concat(f.en.headline ? [{ language: 'en', headline: f.en.headline }] : []),
  };
  const body = () => {
    const b = { level: f.level, status: f.status, msg_type: f.msg_type, expires: zonedToIso(f.expires, tzOf()) };
    if (f.zones.length || !follows) b.zones = f.zones;
    if (!follows || f.risk !== (base && base.risk)) b.risk = f.risk;
    if (f.phase) b.phase = f.phase;
    if (f.onset) b.onset = zonedToIso(f.onset, tzOf());
    if (follows) b.references = f.references;
    if (follows && f.msg_type === 'Cancel') { delete b.level; delete b.zones; delete b.risk; delete b.expires; }
    b.info = [{ language: 'it', ...f.it }];
    if (f.en.headline) b.info.push({ language: 'en', ...f.en });
    return b;
  };
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setErr(null); setDone(null); setCap('');
    try {
      const a = await call('POST', `${ORG()}/alerts`, body());
      setDone(a);
      try { setCap(await (await fetch(a.cap_url, { credentials: 'same-origin', cache: 'no-store', headers: { 'x-araldo-console': '1' } })).text()); } catch { /* the link stays */ }
    } catch (x) { setErr(x); } finally { setBusy(false); }
  };
  const fieldErr = (name) => (err && err.field === name ? 'true' : undefined);
  return html`<div class="compose">
    <form class="panel alert-form" onSubmit=${submit} novalidate>
      <h2>${t(`admin.alerts.formTitle.${f.msg_type}`)}</h2>
      <div class="field-row">
        <label class="field">${t('admin.alerts.msgType')}
          <select value=${f.msg_type} onChange=${set('msg_type')}>${TYPES.map((x) => html`<option value=${x}>${t(`admin.alerts.type.${x}`)}</option>`)}</select></label>
        <label class="field">${t('admin.alerts.statusLabel')}
          <select value=${f.status} onChange=${set('status')}>${STATUSES.map((x) => html`<option value=${x}>${t(`admin.alerts.status.${x}`)}</option>`)}</select></label>
      </div>
      ${follows && html`<fieldset class="field" aria-invalid=${fieldErr('references')}><legend>${t('admin.alerts.references')}</legend>
        ${open.length === 0 && html`<p class="hint">${t('admin.alerts.noOpen')}</p>`}
        ${open.map((a) => html`<label class="choice"><input type="checkbox" checked=${f.references.includes(a.id)} onChange=${toggle('references', a.id)} />
          <span><${Level} level=${a.level} status=${a.status} /> ${headline(a)} (${zonesText(a)}, ${a.risk_name})</span></label>`)}</fieldset>`}
      ${f.msg_type !== 'Cancel' && html`
      <fieldset class="field" aria-invalid=${fieldErr('zones')}><legend>${t('admin.alerts.zones')}${follows ? ` ${t('admin.alerts.keepIfEmpty')}` : ''}</legend>
        ${zones.length === 0 && html`<p class="hint">${t('admin.alerts.noZones')} <a href="#/allerte/zone">${t('admin.alerts.tab.zones')}</a></p>`}
        ${zones.map((z) => html`<label class="choice"><input type="checkbox" checked=${f.zones.includes(z.code)} onChange=${toggle('zones', z.code)} /> <span>${z.name} (${z.code})</span></label>`)}</fieldset>
      <label class="field">${t('admin.alerts.risk')}
        <select value=${f.risk} onChange=${set('risk')}>${risks.map((r) => html`<option value=${r.code}>${r.name}</option>`)}</select></label>
      <fieldset class="field"><legend>${t('admin.alerts.level')}</legend>
        ${LEVELS.map((l) => html`<label class="choice"><input type="radio" name="level" value=${l} checked=${f.level === l} onChange=${set('level')} /> <${Level} level=${l} /></label>`)}</fieldset>
      <label class="field">${t('admin.alerts.phase')}
        <select value=${f.phase} onChange=${set('phase')}><option value="">${t('admin.alerts.phaseDefault', { phase: t(`admin.alerts.phase.${DEFAULT_PHASE[f.level]}`) })}</option>
          ${PHASES.map((p) => html`<option value=${p}>${t(`admin.alerts.phase.${p}`)}</option>`)}</select></label>
      <div class="field-row">
        <label class="field">${t('admin.alerts.onset')}<input type="datetime-local" value=${f.onset} onInput=${set('onset')} aria-describedby="onset-hint" /></label>
        <label class="field">${t('admin.alerts.expires')}<input type="datetime-local" required value=${f.expires} onInput=${set('expires')} aria-invalid=${fieldErr('expires')} /></label>
      </div>
      <p class="hint" id="onset-hint">${t('admin.alerts.onsetHint', { tz: tzOf() })}</p>`}
      <fieldset class="field"><legend>${t('admin.alerts.infoIt')}</legend>
        <label class="field">${t('admin.alerts.headline')}<input required maxlength="160" value=${f.it.headline} onInput=${setInfo('it', 'headline')} aria-invalid=${fieldErr('info')} /></label>
        <label class="field">${t('admin.alerts.description')}<textarea rows="3" value=${f.it.description} onInput=${setInfo('it', 'description')}></textarea></label>
        <label class="field">${t('admin.alerts.instruction')}<textarea rows="3" value=${f.it.instruction} onInput=${setInfo('it', 'instruction')}></textarea></label></fieldset>
      <fieldset class="field" lang="en"><legend>${t('admin.alerts.infoEn')}</legend>
        <label class="field">Headline<input maxlength="160" value=${f.en.headline} onInput=${setInfo('en', 'headline')} /></label>
        <label class="field">Description<textarea rows="2" value=${f.en.description} onInput=${setInfo('en', 'description')}></textarea></label>
        <label class="field">Instructions<textarea rows="2" value=${f.en.instruction} onInput=${setInfo('en', 'instruction')}></textarea></label></fieldset>
      <${Err} e=${err} />
      <button type="submit" class="btn btn-primary" disabled=${busy}>${t(`admin.alerts.submit.${f.msg_type}`)}</button>
      ${done && html`<p class="state state-ok" role="status">${done.state === 'pending' ? t('admin.alerts.pendingDone') : t('admin.alerts.published')}</p>`}
    </form>
    <section class="preview panel" aria-labelledby="alert-prev-h"><h2 id="alert-prev-h">${t('admin.alerts.preview')}</h2>
      ${f.msg_type === 'Cancel'
    ? html`<p>${t('admin.alerts.cancelPreview')}</p>`
    : level === 'verde' ? html`<p>${t('admin.alerts.greenPreview')}</p>` : html`<${AlertBanner} alert=${preview} href=${null} />`}
      ${f.status === 'Test' && html`<p class="hint">${t('admin.alerts.testHint')}</p>`}
      <h3>${t('admin.alerts.capTitle')}</h3>
      ${cap ? html`<pre class="cap-doc" tabindex="0" aria-label=${t('admin.alerts.capTitle')}>${cap}</pre>
        <p><a href=${done.cap_url}>${t('admin.alerts.capOpen')}</a></p>` : html`<p class="hint">${t('admin.alerts.capAfter')}</p>`}
    </section></div>`;
}

// ---- zones ----

const geoText = (g) => (g || []).map((x) => `${x.valueName}:${x.value}`).join('\n');
function geoParse(s) {
  return s.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const i = l.indexOf(':');
    return i < 0 ? { valueName: 'ISTAT', value: l } : { valueName: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
  });
}

function ZoneForm({ zone, onDone }) {
  const [code, setCode] = useState(zone ? zone.code : '');
  const [name, setName] = useState(zone ? zone.name : '');
  const [geo, setGeo] = useState(zone ? geoText(zone.geocodes) : '');
  const [err, setErr] = useState(null);
  const id = zone ? `z-${zone.code}` : 'z-new';
  const submit = async (e) => {
    e.preventDefault();
    setErr(null);
    const g = geoParse(geo);
    try {
      if (zone) await call('PATCH', `${ORG()}/zones/${encodeURIComponent(zone.code)}`, { name, geocodes: g.length ? g : null });
      else await call('POST', `${ORG()}/zones`, { code, name, ...(g.length ? { geocodes: g } : {}) });
      onDone(t(zone ? 'admin.zones.saved' : 'admin.zones.created', { name }));
      if (!zone) { setCode(''); setName(''); setGeo(''); }
    } catch (x) { setErr(x); }
  };
  return html`<form class=${zone ? 'zone-edit' : 'panel'} onSubmit=${submit}>
    ${!zone && html`<h2>${t('admin.zones.new')}</h2>`}
    <div class="field-row">
      ${!zone && html`<label class="field">${t('admin.zones.code')}<input required maxlength="32" pattern="[A-Za-z0-9_.\\-]+" value=${code} onInput=${(e) => setCode(e.target.value)} aria-describedby=${`${id}-ch`} /></label>`}
      <label class="field">${t('admin.zones.name')}<input required maxlength="200" value=${name} onInput=${(e) => setName(e.target.value)} /></label>
    </div>
    ${!zone && html`<p class="hint" id=${`${id}-ch`}>${t('admin.zones.codeHint')}</p>`}
    <label class="field">${t('admin.zones.geocodes')}<textarea rows="2" value=${geo} onInput=${(e) => setGeo(e.target.value)} aria-describedby=${`${id}-gh`}></textarea></label>
    <p class="hint" id=${`${id}-gh`}>${t('admin.zones.geocodesHint')}</p>
    <${Err} e=${err} />
    <button type="submit" class="btn btn-primary">${zone ? t('admin.zones.save') : t('admin.zones.create')}</button>
  </form>`;
}

function Zones() {
  const [zones, setZones] = useState(null);
  const [err, setErr] = useState(null);
  const [note, setNote] = useState('');
  const [editing, setEditing] = useState(null);
  const load = async () => { try { setZones((await call('GET', `${ORG()}/zones`)).zones); } catch (e) { setErr(e); } };
  useEffect(() => { load(); }, []);
  const done = async (msg) => { setNote(msg); setEditing(null); await load(); };
  return html`<${Err} e=${err} />
    ${note && html`<p class="state state-ok" role="status">${note}</p>`}
    <h2>${t('admin.zones.title')}</h2>
    ${zones && zones.length === 0 && html`<p class="hint">${t('admin.alerts.noZones')}</p>`}
    ${zones && html`<ul class="plain-list">${zones.map((z) => html`<li key=${z.code} data-zone=${z.code}>
      <div class="row"><span><strong>${z.name}</strong> (${z.code})${z.geocodes && z.geocodes.length ? html` · ${geoText(z.geocodes).replace(/\n/g, ', ')}` : ''}</span>
        <span class="row-actions">
          <button type="button" class="btn btn-secondary" aria-expanded=${editing === z.code ? 'true' : 'false'} onClick=${() => setEditing(editing === z.code ? null : z.code)}>${t('admin.zones.edit')}<span class="sr-only"> ${z.name}</span></button>
          <${Confirm} label=${html`${t('admin.zones.delete')}<span class="sr-only"> ${z.name}</span>`} title=${t('admin.zones.deleteTitle', { name: z.name })} text=${t('admin.zones.deleteText', { name: z.name })}
            yes=${t('admin.zones.deleteYes')} onYes=${async () => { await call('DELETE', `${ORG()}/zones/${encodeURIComponent(z.code)}`); await done(t('admin.zones.deleted', { name: z.name })); }} />
        </span></div>
      ${editing === z.code && html`<${ZoneForm} zone=${z} onDone=${done} />`}</li>`)}</ul>`}
    <${ZoneForm} onDone=${done} />`;
}
