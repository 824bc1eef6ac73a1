// SPDX-License-Identifier: AGPL-3.0-or-later
// Segnalazioni (docs/WEB-APP.md, Reports): "Segnala" — a category, "È già stato segnalato?" with
// "Anche io", the service's questions, description, photo, position by GPS or by address (no map
// needed, usable with a screen reader), optional contact — filed through Open311 with the
// follower token; and "Le mie segnalazioni", each followed report live over its stream.
import { html, useState, useEffect, useRef } from './lib.js';
import { t } from './i18n.js';
import { ensureToken, token, call } from './api.js';
import { useStore } from './state.js';
import { TimeAgo } from './post.js';
import { MapPicker } from './map.js';

const MINE = 'araldo.reports'; // [{id, org, token?, name, last?}] — token only for reports filed here
const enc = encodeURIComponent;

export function myReports() {
  try { return JSON.parse(localStorage.getItem(MINE)) || []; } catch { return []; }
}
// The last state seen of a report, shown at once next time (and offline) until fresher comes.
function keepLast(r, st) {
  const list = myReports();
  const x = list.find((y) => y.id === r.id && y.org === r.org);
  if (!x) return;
  x.last = { request: st.request, status_detail: st.status_detail, notes: st.notes || [], can_reopen: !!st.can_reopen };
  try { localStorage.setItem(MINE, JSON.stringify(list)); } catch { /* full or private */ }
}
function remember(r) {
  const list = myReports().filter((x) => !(x.id === r.id && x.org === r.org));
  list.unshift(r);
  try { localStorage.setItem(MINE, JSON.stringify(list)); } catch { /* private mode */ }
}

// Group → icon (the default catalogue's groups; anything else gets the generic one).
const GROUP_ICON = {
  'Strade e marciapiedi': '🚧', 'Illuminazione pubblica': '💡', 'Rifiuti e pulizia': '🗑️',
  'Verde pubblico': '🌳', Segnaletica: '🚸', 'Decoro e vandalismo': '🎨', 'Acqua e fognature': '💧',
  'Edifici pubblici': '🏛️', Animali: '🐾', Altro: '📌',
};
const icon = (g) => GROUP_ICON[g] || '📌';

// Open311 answers errors as [{code, description}].
async function o311(method, path, body, withToken) {
  const headers = {};
  if (withToken) headers.authorization = `Bearer ${token()}`;
  let r;
  try { r = await fetch(path, { method, headers, body }); } catch { throw Object.assign(new Error('network'), { status: 0 }); }
  let data = null;
  try { data = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) throw Object.assign(new Error((data && data[0] && data[0].description) || String(r.status)), { status: r.status });
  return data;
}

const STATUS = ['nuova', 'presa_in_carico', 'in_lavorazione', 'risolta', 'chiusa'];
const statusText = (detail, open311) => t(`app.rep.status.${STATUS.includes(detail) ? detail : open311 === 'closed' ? 'chiusa' : 'nuova'}`);

function NoOrg() {
  return html`<p class="state" role="status">${t('app.rep.noOrg')}</p>`;
}

// One of the service's Open311 attributes as a form control.
function Attribute({ a, value, set }) {
  const id = `attr-${a.code}`;
  const label = html`${a.description}${a.required ? html` <span class="req">${t('app.rep.required')}</span>` : ''}`;
  if (a.datatype === 'multivaluelist') {
    const v = value || [];
    return html`<fieldset class="rep-field"><legend>${label}</legend>
      ${a.values.map((o) => html`<label class="check"><input type="checkbox" checked=${v.includes(o.key)}
        onChange=${(e) => set(e.target.checked ? [...v, o.key] : v.filter((k) => k !== o.key))} /> ${o.name}</label>`)}</fieldset>`;
  }
  let ctl;
  if (a.datatype === 'singlevaluelist') {
    ctl = html`<select id=${id} required=${a.required} value=${value || ''} onChange=${(e) => set(e.target.value)}>
      <option value="">${t('app.rep.choose')}</option>
      ${a.values.map((o) => html`<option value=${o.key}>${o.name}</option>`)}</select>`;
  } else if (a.datatype === 'text') {
    ctl = html`<textarea id=${id} rows="3" required=${a.required} value=${value || ''} onInput=${(e) => set(e.target.value)}></textarea>`;
  } else {
    const type = a.datatype === 'number' ? 'number' : a.datatype === 'datetime' ? 'datetime-local' : 'text';
    ctl = html`<input id=${id} type=${type} required=${a.required} value=${value || ''} onInput=${(e) => set(e.target.value)} />`;
  }
  return html`<div class="rep-field"><label for=${id}>${label}</label>${ctl}
    ${a.datatype_description && html`<p class="hint">${a.datatype_description}</p>`}</div>`;
}

function Nearby({ org, service, pos, onFollowed }) {
  const [list, setList] = useState(null);
  const [done, setDone] = useState({});
  useEffect(() => {
    setList(null);
    if (!service || !pos) return;
    call('GET', `/api/v1/orgs/${enc(org)}/reports/nearby?service_code=${enc(service.service_code)}&lat=${pos.lat}&long=${pos.long}`)
      .then((r) => setList(r.requests)).catch(() => setList([]));
  }, [service && service.service_code, pos && pos.lat, pos && pos.long]);
  const live = html`<div class="sr-only" aria-live="polite">${list && list.length ? t('app.rep.nearbyFound', { n: list.length }) : ''}</div>`;
  if (!list || list.length === 0) return live;
  const follow = async (r) => {
    await ensureToken();
    await call('PUT', `/api/v1/orgs/${enc(org)}/reports/${enc(r.service_request_id)}/follow`);
    remember({ id: r.service_request_id, org, name: r.service_name });
    setDone({ ...done, [r.service_request_id]: true });
    onFollowed();
  };
  return html`${live}<section class="card panel rep-nearby" aria-labelledby="h-near">
    <h2 id="h-near">${t('app.rep.already')}</h2>
    <p>${t('app.rep.alreadyHint')}</p>
    <ul class="rep-list">${list.map((r) => html`<li key=${r.service_request_id}>
      <p><strong>${r.service_name}</strong> · ${statusText(null, r.status)} · <${TimeAgo} iso=${r.requested_datetime} /></p>
      ${r.description && html`<p class="rep-desc">${r.description}</p>`}
      ${r.address && html`<p class="hint">${r.address}</p>`}
      ${done[r.service_request_id]
        ? html`<p class="state-ok" role="status">${t('app.rep.metooDone')} <a href="#/segnalazioni">${t('app.rep.mine')}</a></p>`
        : html`<button type="button" class="btn btn-secondary" onClick=${() => follow(r)}>${t('app.rep.metoo')}</button>`}</li>`)}</ul>
  </section>`;
}

export function NewReport() {
  const s = useStore();
  const org = s.org && s.org.slug;
  const [services, setServices] = useState(null);
  const [q, setQ] = useState('');
  const [service, setService] = useState(null);
  const [def, setDef] = useState(null);
  const [attrs, setAttrs] = useState({});
  const [desc, setDesc] = useState('');
  const [photo, setPhoto] = useState(null);
  const [pos, setPos] = useState(null);
  const [addr, setAddr] = useState('');
  const [geo, setGeo] = useState('');
  const [showMap, setShowMap] = useState(false);
  const [contact, setContact] = useState({});
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(null);
  const errRef = useRef();
  const fileRef = useRef();
  const chosenRef = useRef(); // focus follows the choice: the list it was in is gone
  const searchRef = useRef();
  const moved = useRef(false);
  useEffect(() => {
    if (!moved.current) return;
    const el = service ? chosenRef.current : searchRef.current;
    if (el) el.focus();
  }, [service]);
  const choose = (v) => { moved.current = true; setService(v); };
  const [preview, setPreview] = useState('');
  useEffect(() => {
    if (!photo) { setPreview(''); return undefined; }
    const u = URL.createObjectURL(photo);
    setPreview(u);
    return () => URL.revokeObjectURL(u);
  }, [photo]);
  useEffect(() => {
    if (!org) return;
    o311('GET', `/open311/v2/services.json?jurisdiction_id=${enc(org)}`).then(setServices).catch(() => setServices([]));
  }, [org]);
  useEffect(() => {
    setDef(null);
    setAttrs({});
    if (service && service.metadata) {
      o311('GET', `/open311/v2/services/${enc(service.service_code)}.json?jurisdiction_id=${enc(org)}`)
        .then((d) => setDef(d.attributes.filter((a) => a.variable).sort((x, y) => x.order - y.order))).catch(() => setDef([]));
    }
  }, [service && service.service_code]);
  if (!org) return NoOrg();
  if (sent) {
    return html`<section aria-labelledby="h-sent" class="empty">
      <h1 id="h-sent" tabindex="-1">${t('app.rep.sent')}</h1>
      <p>${t('app.rep.sentHint')}</p>
      <p><a class="btn btn-primary" href="#/segnalazioni">${t('app.rep.mine')}</a></p></section>`;
  }
  const locate = () => {
    if (!navigator.geolocation) { setGeo(t('app.rep.gpsNone')); return; }
    setGeo(t('app.rep.gpsWait'));
    navigator.geolocation.getCurrentPosition(
      (p) => { setPos({ lat: +p.coords.latitude.toFixed(6), long: +p.coords.longitude.toFixed(6) }); setGeo(t('app.rep.gpsOk')); },
      () => setGeo(t('app.rep.gpsFail')), { enableHighAccuracy: true, timeout: 20000 });
  };
  const submit = async (e) => {
    e.preventDefault();
    setErr('');
    const fail = (m) => { setErr(m); setTimeout(() => errRef.current && errRef.current.focus(), 0); };
    if (!service) return fail(t('app.rep.errService'));
    if (!pos && !addr.trim()) return fail(t('app.rep.errWhere'));
    const f = photo ? new FormData() : new URLSearchParams();
    f.append('jurisdiction_id', org);
    f.append('service_code', service.service_code);
    if (pos) { f.append('lat', String(pos.lat)); f.append('long', String(pos.long)); }
    if (addr.trim()) f.append('address_string', addr.trim());
    if (desc.trim()) f.append('description', desc.trim());
    for (const [k, v] of Object.entries(attrs)) {
      if (Array.isArray(v)) v.forEach((x) => f.append(`attribute[${k}][]`, x));
      else if (v !== '') f.append(`attribute[${k}]`, v);
    }
    for (const [k, v] of Object.entries(contact)) if (v.trim()) f.append(k, v.trim());
    if (photo) f.append('media', photo);
    setBusy(true);
    try {
      await ensureToken();
      const [r] = await o311('POST', `/open311/v2/requests.json?jurisdiction_id=${enc(org)}`, f, true);
      remember({ id: r.service_request_id, org, token: r.token, name: service.service_name });
      setSent(r);
    } catch (x) {
      fail(x.status === 0 ? t('app.rep.errNetwork') : x.status === 429 ? t('app.rep.errRate') : t('app.rep.errServer', { why: x.message }));
    } finally {
      setBusy(false);
    }
  };
  const needle = q.trim().toLowerCase();
  const shown = (services || []).filter((v) => !needle
    || `${v.service_name} ${v.description} ${v.keywords || ''} ${v.group || ''}`.toLowerCase().includes(needle));
  const groups = [...new Set(shown.map((v) => v.group || t('app.rep.other')))];
  const setC = (k) => (e) => setContact({ ...contact, [k]: e.target.value });
  return html`<section aria-labelledby="h-rep">
    <h1 id="h-rep">${t('app.rep.title')}</h1>
    <p>${t('app.rep.intro')}</p>
    <form class="rep-form" onSubmit=${submit} novalidate>
      <fieldset class="card panel"><legend><span class="step">1</span> ${t('app.rep.what')}</legend>
        ${service
          ? html`<p class="rep-chosen" tabindex="-1" ref=${chosenRef}><span aria-hidden="true">${icon(service.group)}</span> <strong>${service.service_name}</strong>
              <button type="button" class="btn btn-secondary" onClick=${() => choose(null)}>${t('app.rep.change')}</button></p>`
          : html`<label for="rep-q">${t('app.rep.search')}</label>
            <input id="rep-q" type="search" autocomplete="off" value=${q} ref=${searchRef} onInput=${(e) => setQ(e.target.value)} />
            ${!services && html`<p class="state" role="status">${t('app.loading')}</p>`}
            ${services && shown.length === 0 && html`<p class="state">${t('app.rep.noService')}</p>`}
            ${groups.map((g) => html`<div class="rep-group" key=${g}>
              <h2 class="rep-group-name"><span aria-hidden="true">${icon(g)}</span> ${g}</h2>
              <ul class="rep-services">${shown.filter((v) => (v.group || t('app.rep.other')) === g).map((v) => html`<li key=${v.service_code}>
                <button type="button" class="rep-service" onClick=${() => choose(v)}>
                  <span class="rep-service-name">${v.service_name}</span>
                  <span class="hint">${v.description}</span></button></li>`)}</ul></div>`)}`}
        ${def && def.map((a) => html`<${Attribute} key=${a.code} a=${a} value=${attrs[a.code]} set=${(v) => setAttrs({ ...attrs, [a.code]: v })} />`)}
      </fieldset>

      <fieldset class="card panel"><legend><span class="step">2</span> ${t('app.rep.where')}</legend>
        <p class="rep-where-btns"><button type="button" class="btn btn-secondary" onClick=${locate}><span aria-hidden="true">📍</span> ${t('app.rep.gps')}</button>
          ${s.org.map && html`<button type="button" class="btn btn-secondary" aria-expanded=${showMap ? 'true' : 'false'}
            onClick=${() => setShowMap(!showMap)}><span aria-hidden="true">🗺️</span> ${showMap ? t('app.map.hide') : t('app.map.show')}</button>`}</p>
        ${s.org.map && showMap && html`<${MapPicker} map=${s.org.map} org=${org} pos=${pos}
          onPick=${(p) => { setPos(p); setGeo(t('app.map.picked')); }} />`}
        <p role="status" class="hint">${geo}${pos && html` <span class="rep-coords">${t('app.rep.coords', { lat: pos.lat, long: pos.long })}</span>
          <button type="button" class="linkish" onClick=${() => { setPos(null); setGeo(''); }}>${t('app.rep.clearPos')}</button>`}</p>
        <label for="rep-addr">${t('app.rep.address')}</label>
        <input id="rep-addr" type="text" autocomplete="street-address" maxlength="500" value=${addr} onInput=${(e) => setAddr(e.target.value)} aria-describedby="rep-addr-h" />
        <p class="hint" id="rep-addr-h">${t('app.rep.addressHint')}</p>
      </fieldset>

      <${Nearby} org=${org} service=${service} pos=${pos} onFollowed=${() => {}} />

      <fieldset class="card panel"><legend><span class="step">3</span> ${t('app.rep.describe')}</legend>
        <label for="rep-desc">${t('app.rep.description')}</label>
        <textarea id="rep-desc" rows="5" maxlength="4000" value=${desc} onInput=${(e) => setDesc(e.target.value)} aria-describedby="rep-desc-h"></textarea>
        <p class="hint" id="rep-desc-h">${t('app.rep.descriptionHint')}</p>
        <p class="rep-photo-label" id="rep-photo-l">${t('app.rep.photo')}</p>
        <input id="rep-photo" class="file-hidden" type="file" accept="image/*" capture="environment" ref=${fileRef}
          aria-labelledby="rep-photo-l rep-photo-b" aria-describedby="rep-photo-h"
          onChange=${(e) => setPhoto(e.target.files[0] || null)} />
        <label for="rep-photo" id="rep-photo-b" class="btn btn-secondary"><span aria-hidden="true">📷</span> ${photo ? t('app.rep.photoOther') : t('app.rep.photoAdd')}</label>
        ${photo && html`<p class="rep-photo-chosen"><img src=${preview} alt=${t('app.rep.photoChosen')} width="96" height="96" />
          <button type="button" class="linkish" onClick=${() => { setPhoto(null); fileRef.current.value = ''; }}>${t('app.rep.photoRemove')}</button></p>`}
        <p class="hint" id="rep-photo-h">${t('app.rep.photoHint')}</p>
      </fieldset>

      <fieldset class="card panel"><legend><span class="step">4</span> ${t('app.rep.contact')}</legend>
        <p class="hint" id="rep-contact-h">${t('app.rep.contactHint')}</p>
        <div class="rep-grid">
          <div><label for="rep-first">${t('app.rep.firstName')}</label><input id="rep-first" autocomplete="given-name" maxlength="100" onInput=${setC('first_name')} /></div>
          <div><label for="rep-last">${t('app.rep.lastName')}</label><input id="rep-last" autocomplete="family-name" maxlength="100" onInput=${setC('last_name')} /></div>
          <div><label for="rep-email">${t('app.rep.email')}</label><input id="rep-email" type="email" autocomplete="email" maxlength="200" onInput=${setC('email')} /></div>
          <div><label for="rep-phone">${t('app.rep.phone')}</label><input id="rep-phone" type="tel" autocomplete="tel" maxlength="50" onInput=${setC('phone')} /></div>
        </div>
      </fieldset>

      ${err && html`<p class="state state-error" role="alert" tabindex="-1" ref=${errRef}>${err}</p>`}
      <p><button type="submit" class="btn btn-primary btn-block" disabled=${busy}>${busy ? t('app.rep.sending') : t('app.rep.send')}</button></p>
    </form>
  </section>`;
}

// One followed report: the reporter's own (with its follow token: notes, "Non è risolto") or
// one followed with "Anche io" (its public status).
function MyReport({ r }) {
  const [st, setSt] = useState(r.last || null);
  const [gone, setGone] = useState(false);
  useEffect(() => { if (st) keepLast(r, st); }, [st]);
  const [reopen, setReopen] = useState(false);
  const [note, setNote] = useState('');
  const [msg, setMsg] = useState('');
  const [live, setLive] = useState(''); // status changes, read out politely
  const base = r.token ? `/api/v1/reports/follow/${enc(r.token)}` : `/api/v1/orgs/${enc(r.org)}/reports/${enc(r.id)}`;
  const load = async () => {
    try {
      if (r.token) setSt(await call('GET', base));
      else {
        // The public view (cached 30 s): only until the stream's first event, which is newer.
        const [req] = await o311('GET', `/open311/v2/requests/${enc(r.id)}.json?jurisdiction_id=${enc(r.org)}`);
        setSt((old) => (old && old.status_detail ? old : { request: req, notes: [] }));
      }
    } catch (e) {
      if (e.status === 404) setGone(true);
    }
  };
  useEffect(() => {
    load();
    const es = new EventSource(`${base}/stream`);
    const on = (ev) => {
      try {
        const d = JSON.parse(ev.data);
        setSt((old) => ({ ...(old || { notes: [] }), request: d.request, status_detail: d.status_detail }));
        if (ev.type === 'report.updated') setLive(t('app.rep.changed', { name: d.request.service_name, status: statusText(d.status_detail, d.request.status) }));
        if (ev.type === 'report.updated' && r.token) load(); // the notes and can_reopen
      } catch { /* ignore */ }
    };
    es.addEventListener('report', on);
    es.addEventListener('report.updated', on);
    return () => es.close();
  }, [r.id]);
  const region = html`<p class="sr-only" aria-live="polite">${live}</p>`;
  if (gone) return html`<li class="card panel"><p>${r.name} · ${t('app.rep.gone')}</p></li>`;
  if (!st) return html`<li class="card panel">${region}<p role="status">${t('app.loading')}</p></li>`;
  const q = st.request;
  const send = async (e) => {
    e.preventDefault();
    try {
      await call('POST', `${base}/reopen`, note.trim() ? { note: note.trim() } : {});
      setReopen(false);
      setMsg(t('app.rep.reopened'));
      load();
    } catch {
      setMsg(t('app.rep.reopenFail'));
    }
  };
  return html`<li class="card panel rep-item" id=${`r-${r.id}`}>
    ${region}<h2>${q.service_name}</h2>
    <p class="rep-status"><span class=${`rep-badge rep-${st.status_detail || q.status}`}>${statusText(st.status_detail, q.status)}</span>
      <span class="hint"> · ${t('app.rep.updated')} <${TimeAgo} iso=${q.updated_datetime || q.requested_datetime} /></span></p>
    ${q.address && html`<p>${q.address}</p>`}
    ${q.description && html`<p class="rep-desc">${q.description}</p>`}
    ${q.status_notes && !(st.notes && st.notes.length) && html`<p class="note">${q.status_notes}</p>`}
    ${st.notes && st.notes.length > 0 && html`<h3>${t('app.rep.notes')}</h3><ol class="rep-notes">${st.notes.map((n) => html`<li>
      <p>${n.text}</p><p class="hint"><${TimeAgo} iso=${n.created_at} /></p></li>`)}</ol>`}
    ${st.merged_into && html`<p class="note">${t('app.rep.merged')}</p>`}
    ${!r.token && html`<p class="hint">${t('app.rep.metooMark')}</p>`}
    ${msg && html`<p role="status" class="state-ok">${msg}</p>`}
    ${st.can_reopen && !reopen && html`<p><button type="button" class="btn btn-secondary" onClick=${() => setReopen(true)}>${t('app.rep.reopen')}</button></p>`}
    ${reopen && html`<form onSubmit=${send}>
      <label for=${`ro-${r.id}`}>${t('app.rep.reopenWhy')}</label>
      <textarea id=${`ro-${r.id}`} rows="3" maxlength="2000" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea>
      <p><button type="submit" class="btn btn-primary">${t('app.rep.reopenSend')}</button>
        <button type="button" class="btn btn-secondary" onClick=${() => setReopen(false)}>${t('app.rep.cancel')}</button></p></form>`}
  </li>`;
}

export function MyReports() {
  const list = myReports();
  return html`<section aria-labelledby="h-mine">
    <h1 id="h-mine">${t('app.rep.mine')}</h1>
    <p><a class="btn btn-primary" href="#/segnala"><span aria-hidden="true">📣</span> ${t('app.rep.new')}</a></p>
    ${list.length === 0
      ? html`<p class="empty">${t('app.rep.none')}</p>`
      : html`<ul class="rep-mine">${list.map((r) => html`<${MyReport} key=${`${r.org}/${r.id}`} r=${r} />`)}</ul>`}
  </section>`;
}
