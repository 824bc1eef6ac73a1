// SPDX-License-Identifier: AGPL-3.0-or-later
// The bodies the Comune forwards reports to (org admins and operators; docs/OPEN311.md
// "Forwarding to another body", API.md report-forwards), by Open311 or by e-mail: the list,
// adding one, editing it (an Open311 one with its service-code mapping per service of the org's catalogue and a default, deleting it after a
// confirmation. The api_key is write-only: the screen says only whether one is set ("impostata"),
// never shows it, and keeps it unless a new one is typed or its removal is asked for.
import { html, useState, useEffect } from '../app/lib.js';
import { t } from '../app/i18n.js';
import { call } from './api.js';
import { C, useConsole, Err, Confirm } from './ui.js';

const enc = encodeURIComponent;
const base = () => `/api/v1/orgs/${enc(C.org.slug)}/report-forwards`;
const EMPTY = { kind: 'open311', email: '', name: '', endpoint: '', jurisdiction_id: '', api_key: '', drop_key: false, map: {}, default_service_code: '' };

function Editor({ target, services, onDone, onCancel }) {
  const [f, setF] = useState(() => (target
    ? { ...EMPTY, kind: target.kind || 'open311', email: target.email || '', name: target.name, endpoint: target.endpoint || '', jurisdiction_id: target.jurisdiction_id || '', map: { ...target.service_map }, default_service_code: target.default_service_code || '' }
    : { ...EMPTY }));
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const setCode = (code) => (e) => setF({ ...f, map: { ...f.map, [code]: e.target.value } });
  // Mapped services of the catalogue, plus codes of the map that the catalogue no longer has.
  const codes = new Set(services.map((s) => s.service_code));
  const extra = Object.keys(f.map).filter((c) => !codes.has(c));
  const submit = async (e) => {
    e.preventDefault();
    setErr(null);
    setBusy(true);
    const map = Object.fromEntries(Object.entries(f.map).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v));
    const body = { name: f.name.trim(), endpoint: f.endpoint.trim(), service_map: map };
    const juris = f.jurisdiction_id.trim();
    const dflt = f.default_service_code.trim();
    try {
      if (f.kind === 'email') {
        // An e-mail target: a name and an address, nothing of Open311.
        const mail = { name: f.name.trim(), email: f.email.trim() };
        if (target) await call('PATCH', `${base()}/${enc(target.id)}`, mail);
        else await call('POST', base(), { kind: 'email', ...mail });
        onDone(t(target ? 'admin.fwd.saved' : 'admin.fwd.added', { name: mail.name }));
        return;
      }
      if (target) {
        body.jurisdiction_id = juris || null;
        body.default_service_code = dflt || null;
        if (f.api_key) body.api_key = f.api_key;
        else if (f.drop_key) body.api_key = null;
        await call('PATCH', `${base()}/${enc(target.id)}`, body);
      } else {
        if (juris) body.jurisdiction_id = juris;
        if (dflt) body.default_service_code = dflt;
        if (f.api_key) body.api_key = f.api_key;
        await call('POST', base(), body);
      }
      onDone(t(target ? 'admin.fwd.saved' : 'admin.fwd.added', { name: body.name }));
    } catch (x) { setErr(x); } finally { setBusy(false); }
  };
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="h-fwd-edit">
    <h2 id="h-fwd-edit">${target ? t('admin.fwd.editTitle', { name: target.name }) : t('admin.fwd.add')}</h2>
    <label class="field">${t('admin.fwd.name')}<input required maxlength="200" value=${f.name} onInput=${set('name')} /></label>
    ${!target && html`<fieldset class="field"><legend>${t('admin.fwd.kind')}</legend>
      <label class="choice"><input type="radio" name="fwd-kind" value="open311" checked=${f.kind === 'open311'} onChange=${set('kind')} /> ${t('admin.fwd.kindOpen311')}</label>
      <label class="choice"><input type="radio" name="fwd-kind" value="email" checked=${f.kind === 'email'} onChange=${set('kind')} /> ${t('admin.fwd.kindEmail')}</label>
    </fieldset>`}
    ${f.kind === 'email' ? html`<label class="field" key="email">${t('admin.fwd.email')}<input type="email" required maxlength="254" value=${f.email}
      aria-describedby="fwd-email-hint" onInput=${set('email')} autocapitalize="none" /></label>
    <p class="hint" id="fwd-email-hint">${t('admin.fwd.emailHint')}</p>` : html`
    <label class="field" key="endpoint">${t('admin.fwd.endpoint')}<input type="url" required pattern="https://.+" maxlength="2048" value=${f.endpoint}
      aria-describedby="fwd-endpoint-hint" onInput=${set('endpoint')} autocapitalize="none" placeholder="https://" /></label>
    <p class="hint" id="fwd-endpoint-hint">${t('admin.fwd.endpointHint')}</p>
    <label class="field">${t('admin.fwd.jurisdiction')}<input maxlength="200" value=${f.jurisdiction_id} onInput=${set('jurisdiction_id')} autocapitalize="none" /></label>
    <label class="field">${t('admin.fwd.apiKey')}<input type="password" autocomplete="off" maxlength="500" value=${f.api_key}
      aria-describedby="fwd-key-hint" onInput=${set('api_key')} /></label>
    <p class="hint" id="fwd-key-hint">${target && target.has_api_key ? t('admin.fwd.apiKeySetHint') : t('admin.fwd.apiKeyHint')}</p>
    ${target && target.has_api_key && html`<label class="choice"><input type="checkbox" checked=${f.drop_key} disabled=${!!f.api_key} onChange=${set('drop_key')} /> ${t('admin.fwd.dropKey')}</label>`}
    <fieldset class="field fwd-map"><legend>${t('admin.fwd.map')}</legend>
      <p class="hint">${t('admin.fwd.mapHint')}</p>
      ${services.map((s) => html`<label class="field">${s.name} <code>${s.service_code}</code>
        <input maxlength="64" pattern="[A-Za-z0-9_.\\-]{1,64}" value=${f.map[s.service_code] || ''} onInput=${setCode(s.service_code)} autocapitalize="none" /></label>`)}
      ${extra.map((c) => html`<label class="field"><code>${c}</code> ${t('admin.fwd.notInCatalogue')}
        <input maxlength="64" pattern="[A-Za-z0-9_.\\-]{1,64}" value=${f.map[c] || ''} onInput=${setCode(c)} autocapitalize="none" /></label>`)}
      <label class="field">${t('admin.fwd.default')}<input maxlength="64" pattern="[A-Za-z0-9_.\\-]{1,64}" value=${f.default_service_code}
        aria-describedby="fwd-default-hint" onInput=${set('default_service_code')} autocapitalize="none" /></label>
      <p class="hint" id="fwd-default-hint">${t('admin.fwd.defaultHint')}</p>
    </fieldset>`}
    <${Err} e=${err} />
    <div class="dlg-actions">
      <button type="submit" class="btn btn-primary" disabled=${busy}>${target ? t('admin.fwd.save') : t('admin.fwd.create')}</button>
      <button type="button" class="btn btn-secondary" onClick=${onCancel}>${t('admin.cancel')}</button>
    </div>
  </form>`;
}

export function ForwardTargets() {
  const s = useConsole();
  const [list, setList] = useState(null);
  const [services, setServices] = useState([]);
  const [err, setErr] = useState(null);
  const [editing, setEditing] = useState(null); // null, 'new' or a target
  const [ok, setOk] = useState('');
  const slug = s.org && s.org.slug;
  const load = () => slug && call('GET', base()).then((r) => setList(r.targets)).catch(setErr);
  useEffect(() => {
    if (!slug) return;
    setEditing(null);
    load();
    call('GET', `/api/v1/orgs/${enc(slug)}/services`).then((r) => setServices(r.services)).catch(() => setServices([]));
  }, [slug]);
  useEffect(() => { const el = editing && document.getElementById('h-fwd-edit'); if (el) el.scrollIntoView({ block: 'start' }); }, [editing]);
  if (s.user.role === 'staff') return html`<section><h1>${t('admin.fwd.title')}</h1><p>${t('admin.fwd.adminsOnly')}</p></section>`;
  const svcName = (code) => (services.find((x) => x.service_code === code) || {}).name || code;
  return html`<section><h1>${t('admin.fwd.title')}</h1><p class="hint">${t('admin.fwd.intro')}</p>
    <${Err} e=${err} />${ok && html`<p class="state state-ok" role="status">${ok}</p>`}
    ${list && !list.length && html`<p>${t('admin.fwd.none')}</p>`}
    ${list && list.length > 0 && html`<ul class="plain-list fwd-list">${list.map((x) => html`<li class="panel fwd-target">
      <h2>${x.name}</h2>
      ${x.kind === 'email' ? html`<p class="hint fwd-endpoint">${t('admin.fwd.byEmail', { email: x.email })}</p>` : html`
      <p class="hint fwd-endpoint">${x.endpoint}${x.jurisdiction_id ? ` · jurisdiction_id ${x.jurisdiction_id}` : ''}</p>
      <p>${t('admin.fwd.apiKey')}: <strong>${x.has_api_key ? t('admin.fwd.keySet') : t('admin.fwd.keyUnset')}</strong></p>
      <p>${Object.keys(x.service_map || {}).length
        ? t('admin.fwd.mapped', { list: Object.entries(x.service_map).map(([k, v]) => `${svcName(k)} → ${v}`).join(', ') })
        : t('admin.fwd.noneMapped')}${x.default_service_code ? ` · ${t('admin.fwd.defaultIs', { code: x.default_service_code })}` : ''}</p>`}
      <p class="row-actions"><button type="button" class="btn btn-secondary" onClick=${() => { setOk(''); setEditing(x); }}>${t('admin.fwd.edit')}</button>
        <${Confirm} label=${t('admin.fwd.delete')} title=${t('admin.fwd.deleteTitle', { name: x.name })} text=${t('admin.fwd.deleteText')}
          yes=${t('admin.fwd.delete')} onYes=${async () => {
            await call('DELETE', `${base()}/${enc(x.id)}`);
            if (editing && editing.id === x.id) setEditing(null);
            setOk(t('admin.fwd.deleted', { name: x.name }));
            await load();
          }} /></p></li>`)}</ul>`}
    ${editing
      ? html`<${Editor} key=${editing === 'new' ? 'new' : editing.id} target=${editing === 'new' ? null : editing} services=${services}
          onCancel=${() => setEditing(null)} onDone=${async (msg) => { setEditing(null); setOk(msg); await load(); }} />`
      : list && html`<button type="button" class="btn btn-primary" onClick=${() => { setOk(''); setEditing('new'); }}>${t('admin.fwd.add')}</button>`}
  </section>`;
}
