// SPDX-License-Identifier: AGPL-3.0-or-later
// Segnalazioni in the console (docs/ADMIN.md): the queue with its filters (status, service, age,
// office, zone) and the CSV of what is filtered (reports; totals per service; with contact data
// for an org admin who confirms, audited); one report with its photo, position, the reporter's
// contact (the org's own staff only), the history, and the workflow: status with a public or
// internal note, assignment to an office, merge into an original, forward to another body,
// hiding a photo or the text.
import { html, useState, useEffect } from '../app/lib.js';
import { t, fmtRelative, currentLang } from '../app/i18n.js';
import { call } from './api.js';
import { C, useConsole, Err, Confirm, fmtZoned, tzOf } from './ui.js';
import { MapView } from '../app/map.js';

const enc = encodeURIComponent;
const STATUSES = ['nuova', 'presa_in_carico', 'in_lavorazione', 'risolta', 'chiusa'];
const REASONS = ['non_di_competenza', 'duplicato', 'non_riproducibile'];
const AGES = ['', '2', '7', '30'];
const FILTERS = 'araldo.admin.reportFilters';

const base = () => `/api/v1/orgs/${enc(C.org.slug)}`;
function qs(f) {
  const s = new URLSearchParams();
  if (f.status) s.set('status', f.status);
  if (f.service) s.set('service_code', f.service);
  if (f.age) s.set('older_than_days', f.age);
  if (f.agency) s.set('agency', f.agency);
  if (f.bbox && BBOX.test(f.bbox)) s.set('bbox', f.bbox.replace(/\s+/g, ''));
  return s.toString();
}
// A zone: min lat, min long, max lat, max long (the API's bbox).
const NUM = '\\s*-?\\d+(?:\\.\\d+)?\\s*';
const BBOX = new RegExp(`^${NUM},${NUM},${NUM},${NUM}$`);
// A download of `url` (same origin: the session cookie goes with it).
function download(url, name) {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}
const stText = (s) => t(`admin.rep.status.${s}`);

function useServices() {
  const [list, setList] = useState([]);
  useEffect(() => {
    if (!C.org) return;
    call('GET', `${base()}/services`).then((r) => setList(r.services)).catch(() => setList([]));
  }, [C.org && C.org.slug]);
  return list;
}

export function Queue() {
  const s = useConsole();
  const services = useServices();
  const [f, setF] = useState(() => {
    try { return JSON.parse(sessionStorage.getItem(FILTERS)) || { status: 'open' }; } catch { return { status: 'open' }; }
  });
  const [list, setList] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => {
    if (!s.org) return;
    try { sessionStorage.setItem(FILTERS, JSON.stringify(f)); } catch { /* fine */ }
    setErr(null);
    call('GET', `${base()}/reports?${qs(f)}`).then((r) => setList(r.reports)).catch((e) => { setErr(e); setList([]); });
  }, [s.org && s.org.slug, f.status, f.service, f.age, f.agency, BBOX.test(f.bbox || '') ? f.bbox : '']);
  if (!s.org) return null;
  const agencies = [...new Set(services.map((v) => v.agency).filter(Boolean))].sort();
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const q = qs(f);
  const zoneBad = f.bbox && f.bbox.trim() && !BBOX.test(f.bbox);
  const admin = s.user && s.user.role === 'org_admin';
  const csv = (extra) => `${base()}/reports.csv?${[q, extra].filter(Boolean).join('&')}`;
  return html`<section aria-labelledby="h-queue">
    <div class="head-row"><h1 id="h-queue">${t('admin.rep.title')}</h1>
      ${list && html`<span class="count" role="status">${t('admin.rep.count', { n: list.length })}</span>`}</div>
    <form class="panel field-row rep-filters" onSubmit=${(e) => e.preventDefault()} aria-label=${t('admin.rep.filters')}>
      <label class="field">${t('admin.rep.fStatus')}
        <select value=${f.status || ''} onChange=${set('status')}>
          <option value="">${t('admin.rep.all')}</option>
          <option value="open">${t('admin.rep.open')}</option>
          <option value="closed">${t('admin.rep.closed')}</option>
          ${STATUSES.map((x) => html`<option value=${x}>${stText(x)}</option>`)}</select></label>
      <label class="field">${t('admin.rep.fService')}
        <select value=${f.service || ''} onChange=${set('service')}>
          <option value="">${t('admin.rep.all')}</option>
          ${services.map((v) => html`<option value=${v.service_code}>${v.name}</option>`)}</select></label>
      <label class="field">${t('admin.rep.fAge')}
        <select value=${f.age || ''} onChange=${set('age')}>
          ${AGES.map((a) => html`<option value=${a}>${a ? t('admin.rep.olderThan', { n: a }) : t('admin.rep.anyAge')}</option>`)}</select></label>
      <label class="field">${t('admin.rep.fAgency')}
        <select value=${f.agency || ''} onChange=${set('agency')}>
          <option value="">${t('admin.rep.all')}</option>
          ${agencies.map((a) => html`<option value=${a}>${a}</option>`)}</select></label>
      <label class="field">${t('admin.rep.fZone')}
        <input value=${f.bbox || ''} inputmode="decimal" aria-describedby="zone-hint" aria-invalid=${zoneBad ? 'true' : 'false'}
          onChange=${set('bbox')} />
        <span class="hint" id="zone-hint">${zoneBad ? t('admin.rep.fZoneBad') : t('admin.rep.fZoneHint')}</span></label>
    </form>
    <p class="row-actions"><a class="btn btn-secondary" href=${csv('')} download="segnalazioni.csv">${t('admin.rep.csv')}</a>
      <a class="btn btn-secondary" href=${csv('group=service')} download="segnalazioni-totali.csv">${t('admin.rep.csvGroup')}</a>
      ${admin && html`<${Confirm} label=${t('admin.rep.csvContact')} title=${t('admin.rep.csvContactTitle')} text=${t('admin.rep.csvContactText')}
        yes=${t('admin.rep.csvContact')} onYes=${() => download(csv('contact=true'), 'segnalazioni-contatti.csv')} />`}</p>
    <${Err} e=${err} />
    ${!list && html`<p class="state" role="status">${t('app.loading')}</p>`}
    ${list && list.length === 0 && html`<p class="state">${t('admin.rep.none')}</p>`}
    ${list && list.length > 0 && html`<ul class="chan-list rep-queue">${list.map((r) => html`<li key=${r.id}>
      <a class="chan-row" href=${`#/segnalazioni/${enc(r.id)}`}>
        <span class="chan-body">
          <span class="chan-name">#${r.id} · ${r.service_name}</span>
          <span class="chan-meta"><span class=${`rep-badge rep-${r.status}`}>${stText(r.status)}</span>
            · ${fmtRelative(r.created_at)}${r.agency ? ` · ${r.agency}` : ''}${r.photo ? ` · ${t('admin.rep.hasPhoto')}` : ''}${r.reopened ? ` · ${t('admin.rep.reopened')}` : ''}</span>
          ${(r.address || r.description) && html`<span class="chan-meta">${r.address || ''}${r.address && r.description ? ' — ' : ''}${r.text_hidden ? '' : r.description}</span>`}
        </span></a></li>`)}</ul>`}
  </section>`;
}

function Workflow({ r, reload }) {
  const [status, setStatus] = useState(r.status);
  const [reason, setReason] = useState('non_di_competenza');
  const [note, setNote] = useState('');
  const [pub, setPub] = useState(true);
  const [agency, setAgency] = useState(r.agency || '');
  const [err, setErr] = useState(null);
  const [ok, setOk] = useState('');
  const save = async (e) => {
    e.preventDefault();
    setErr(null);
    setOk('');
    const body = {};
    if (status !== r.status) {
      body.status = status;
      if (status === 'chiusa') body.close_reason = reason;
    }
    if (note.trim()) { body.note = note.trim(); body.note_public = pub; }
    if (agency.trim() !== (r.agency || '')) body.agency = agency.trim();
    if (!Object.keys(body).length) return;
    try {
      await call('PATCH', `${base()}/reports/${enc(r.id)}`, body);
      setNote('');
      setOk(t('admin.rep.saved'));
      reload();
    } catch (x) { setErr(x); }
  };
  return html`<form class="panel" onSubmit=${save} aria-labelledby="h-work">
    <h2 id="h-work">${t('admin.rep.work')}</h2>
    <div class="field-row">
      <label class="field">${t('admin.rep.fStatus')}
        <select value=${status} onChange=${(e) => setStatus(e.target.value)}>
          ${STATUSES.map((x) => html`<option value=${x}>${stText(x)}</option>`)}</select></label>
      ${status === 'chiusa' && status !== r.status && html`<label class="field">${t('admin.rep.reason')}
        <select value=${reason} onChange=${(e) => setReason(e.target.value)}>
          ${REASONS.map((x) => html`<option value=${x}>${t(`admin.rep.reason.${x}`)}</option>`)}</select></label>`}
      <label class="field">${t('admin.rep.agency')}
        <input value=${agency} maxlength="200" onInput=${(e) => setAgency(e.target.value)} /></label>
    </div>
    <label class="field">${t('admin.rep.note')}
      <textarea rows="3" maxlength="2000" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea></label>
    <fieldset class="field"><legend>${t('admin.rep.noteWho')}</legend>
      <label class="choice"><input type="radio" name="note-pub" checked=${pub} onChange=${() => setPub(true)} /> ${t('admin.rep.notePublic')}</label>
      <label class="choice"><input type="radio" name="note-pub" checked=${!pub} onChange=${() => setPub(false)} /> ${t('admin.rep.noteInternal')}</label></fieldset>
    <${Err} e=${err} />
    ${ok && html`<p class="state state-ok" role="status">${ok}</p>`}
    <button type="submit" class="btn btn-primary">${t('admin.rep.save')}</button>
  </form>`;
}

function Merge({ r, reload }) {
  const [orig, setOrig] = useState('');
  if (r.duplicate_of) return html`<p>${t('admin.rep.mergedInto')} <a href=${`#/segnalazioni/${enc(r.duplicate_of)}`}>#${r.duplicate_of}</a></p>`;
  if (r.status === 'chiusa') return null;
  const id = orig.trim().replace(/^#/, '');
  return html`<div class="panel"><h2 id="h-merge">${t('admin.rep.merge')}</h2>
    <p class="hint">${t('admin.rep.mergeHint')}</p>
    <label class="field">${t('admin.rep.mergeId')}
      <input inputmode="numeric" value=${orig} onInput=${(e) => setOrig(e.target.value)} /></label>
    <${Confirm} label=${t('admin.rep.mergeBtn')} disabled=${!id} title=${t('admin.rep.mergeTitle', { id: r.id, orig: id })}
      text=${t('admin.rep.mergeText', { id: r.id })} yes=${t('admin.rep.mergeBtn')}
      onYes=${async () => { await call('PATCH', `${base()}/reports/${enc(r.id)}`, { duplicate_of: id }); reload(); }} /></div>`;
}

// The org's map settings (GET /api/v1/orgs/{slug} says `map`; null: no map), once per org.
const maps = {};
function useOrgMap(slug) {
  const [m, setM] = useState(maps[slug]);
  useEffect(() => {
    if (!slug || slug in maps) return;
    call('GET', `/api/v1/orgs/${enc(slug)}`).then((o) => { maps[slug] = o.map || null; setM(maps[slug]); }).catch(() => {});
  }, [slug]);
  return m;
}

// Forward to another body (Open311 POST by the server): the org's targets, a public note.
function Forward({ r, reload }) {
  const [targets, setTargets] = useState(null);
  const [target, setTarget] = useState('');
  const [note, setNote] = useState('');
  useEffect(() => {
    call('GET', `${base()}/report-forwards`).then((x) => { setTargets(x.targets); if (x.targets[0]) setTarget(x.targets[0].id); })
      .catch(() => setTargets([]));
  }, [r.id]);
  if (r.status === 'chiusa' || r.status === 'risolta' || !targets) return null;
  const chosen = targets.find((x) => x.id === target);
  return html`<div class="panel"><h2 id="h-fwd">${t('admin.rep.forward')}</h2>
    ${targets.length === 0 ? html`<p class="hint">${C.user.role === 'staff' ? t('admin.fwd.noneAsk') : html`${t('admin.fwd.noneYet')} <a href="#/inoltri">${t('admin.fwd.title')}</a>`}</p>` : html`
      <p class="hint">${t('admin.rep.forwardHint')}</p>
      <label class="field">${t('admin.rep.forwardTarget')}
        <select value=${target} onChange=${(e) => setTarget(e.target.value)}>
          ${targets.map((x) => html`<option value=${x.id}>${x.name}</option>`)}</select></label>
      <label class="field">${t('admin.rep.forwardNote')}
        <textarea rows="2" maxlength="500" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea></label>
      <${Confirm} label=${t('admin.rep.forwardBtn')} cls="btn btn-secondary" disabled=${!chosen}
        title=${t('admin.rep.forwardTitle', { id: r.id, name: chosen ? chosen.name : '' })} text=${t('admin.rep.forwardText')}
        yes=${t('admin.rep.forwardBtn')}
        onYes=${async () => { await call('POST', `${base()}/reports/${enc(r.id)}/forward`, note.trim() ? { target, note: note.trim() } : { target }); reload(); }} />`}
  </div>`;
}

export function ReportDetail({ id }) {
  const s = useConsole();
  const [r, setR] = useState(null);
  const [err, setErr] = useState(null);
  const orgMap = useOrgMap(s.org && s.org.slug);
  const load = () => call('GET', `${base()}/reports/${enc(id)}`).then(setR).catch(setErr);
  useEffect(() => { if (s.org) load(); }, [id, s.org && s.org.slug]);
  if (err) return html`<p><a href="#/segnalazioni">← ${t('admin.rep.title')}</a></p><${Err} e=${err} />`;
  if (!r) return html`<p class="state" role="status">${t('app.loading')}</p>`;
  const tz = tzOf();
  const when = (iso) => (iso ? fmtZoned(iso, tz, currentLang()) : '—');
  const patch = async (body) => { await call('PATCH', `${base()}/reports/${enc(r.id)}`, body); load(); };
  const c = r.contact;
  return html`<section aria-labelledby="h-rep" class="rep-detail">
    <p><a href="#/segnalazioni">← ${t('admin.rep.title')}</a></p>
    <h1 id="h-rep">#${r.id} · ${r.service_name}</h1>
    <p><span class=${`rep-badge rep-${r.status}`}>${stText(r.status)}</span>
      ${r.close_reason && html` · ${t(`admin.rep.reason.${r.close_reason}`)}`}
      ${r.reopened ? html` · ${t('admin.rep.reopened')}` : ''} · ${t('admin.rep.followers', { n: r.followers })}</p>
    <div class="rep-cols">
      <div class="panel">
        <h2>${t('admin.rep.what')}</h2>
        <dl class="rep-dl">
          <dt>${t('admin.rep.created')}</dt><dd>${when(r.created_at)}</dd>
          <dt>${t('admin.rep.expected')}</dt><dd>${when(r.expected_at)}</dd>
          <dt>${t('admin.rep.agency')}</dt><dd>${r.agency || '—'}</dd>
          <dt>${t('admin.rep.address')}</dt><dd>${r.address || '—'}</dd>
          <dt>${t('admin.rep.position')}</dt><dd>${r.lat != null
            ? html`${r.lat}, ${r.long} <a href=${`geo:${r.lat},${r.long}`}>${t('admin.rep.openMap')}</a>` : '—'}</dd>
          ${Object.keys(r.attributes || {}).length > 0 && html`<dt>${t('admin.rep.attributes')}</dt>
            <dd>${Object.entries(r.attributes).map(([k, v]) => html`<span class="rep-attr">${k}: ${Array.isArray(v) ? v.join(', ') : v}</span> `)}</dd>`}
        </dl>
        ${r.lat != null && orgMap && html`<${MapView} map=${orgMap} pos=${{ lat: r.lat, long: r.long }} />`}
        <h3>${t('admin.rep.description')}</h3>
        <p class="rep-desc">${r.description || '—'}</p>
        ${r.description && (r.text_hidden
          ? html`<p class="hint">${t('admin.rep.textHidden')}</p>
              <button type="button" class="btn btn-secondary" onClick=${() => patch({ text_hidden: false })}>${t('admin.rep.showText')}</button>`
          : html`<${Confirm} label=${t('admin.rep.hideText')} title=${t('admin.rep.hideTextTitle', { id: r.id })}
              text=${t('admin.rep.hideTextText')} yes=${t('admin.rep.hideText')} onYes=${() => patch({ text_hidden: true })} />`)}
        ${r.photo && html`<h3 class="rep-photo-h">${t('admin.rep.photo')}</h3>
          <p><a href=${r.photo.large_url}><img class="rep-photo" src=${r.photo.small_url} alt=${t('admin.rep.photoAlt', { id: r.id })} /></a></p>
          <p>${t(`admin.rep.photo.${r.photo.state}`)}</p>
          <div class="row-actions">
            ${r.photo.state !== 'approved' && html`<button type="button" class="btn btn-secondary" onClick=${() => patch({ photo: 'approved' })}>${t('admin.rep.approve')}</button>`}
            ${r.photo.state !== 'hidden' && html`<${Confirm} label=${t('admin.rep.hidePhoto')} title=${t('admin.rep.hidePhotoTitle', { id: r.id })}
              text=${t('admin.rep.hidePhotoText')} yes=${t('admin.rep.hidePhoto')} onYes=${() => patch({ photo: 'hidden' })} />`}
          </div>`}
      </div>
      <div>
        <${Workflow} key=${r.id} r=${r} reload=${load} />
        <${Merge} r=${r} reload=${load} />
        <${Forward} r=${r} reload=${load} />
        ${(r.forwards || []).length > 0 && html`<div class="panel"><h2>${t('admin.rep.forwards')}</h2>
          <ul class="plain-list">${r.forwards.map((x) => html`<li>${t('admin.rep.forwardRemote', { target: x.target, id: x.remote_service_request_id || x.remote_token || '—' })} · ${when(x.at)}</li>`)}</ul></div>`}
        <div class="panel"><h2>${t('admin.rep.contact')}</h2>
          ${c ? html`<dl class="rep-dl">${['first_name', 'last_name', 'email', 'phone'].filter((k) => c[k]).map((k) => html`<dt>${t(`admin.rep.c.${k}`)}</dt><dd>${c[k]}</dd>`)}</dl>
              <p class="hint">${t('admin.rep.contactHint')}</p>`
            : html`<p class="hint">${t('admin.rep.noContact')}</p>`}</div>
      </div>
    </div>
    <div class="panel"><h2>${t('admin.rep.history')}</h2>
      ${(r.notes || []).length === 0 ? html`<p class="hint">${t('admin.rep.noNotes')}</p>`
        : html`<ol class="rep-history">${r.notes.map((n) => html`<li>
          <p><strong>${n.public ? t('admin.rep.public') : t('admin.rep.internal')}</strong>${n.status ? ` · ${stText(n.status)}` : ''} · ${when(n.created_at)}${n.author ? ` · ${n.author}` : ''}</p>
          ${n.text && html`<p class="rep-desc">${n.text}</p>`}</li>`)}</ol>`}
    </div>
  </section>`;
}
