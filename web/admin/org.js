// SPDX-License-Identifier: AGPL-3.0-or-later
// The Comune's people and history (org admins and operators): staff accounts with the one-time
// password shown once, disabling an account, the audit log with filters; and for operators,
// a new Comune with its ISTAT code, time zone and logo.
import { html, useState, useEffect } from '../app/lib.js';
import { t, fmtAbsolute } from '../app/i18n.js';
import { admin, upload } from './api.js';
import { C, changed, useConsole, Err, Confirm } from './ui.js';

export function Staff() {
  const s = useConsole();
  const [list, setList] = useState(null);
  const [err, setErr] = useState(null);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('staff');
  const [made, setMade] = useState(null);
  const slug = s.org && s.org.slug;
  const load = () => slug && admin.staff(slug).then((r) => setList(r.staff)).catch(setErr);
  useEffect(() => { load(); }, [slug]);
  // The one-time password is shown once: bring it into view (and to screen readers) at once.
  useEffect(() => { const el = made && document.querySelector('.otp'); if (el) el.focus(); }, [made]);
  const add = async (e) => {
    e.preventDefault();
    setErr(null);
    setMade(null);
    try { setMade(await admin.addStaff(slug, email.trim(), role)); setEmail(''); await load(); } catch (x) { setErr(x); }
  };
  return html`<section><h1>${t('admin.staff.title')}</h1>
    <form class="panel" onSubmit=${add}><h2>${t('admin.staff.add')}</h2>
      <div class="field-row">
        <label class="field">${t('admin.signin.email')}<input type="email" required value=${email} onInput=${(e) => setEmail(e.target.value)} /></label>
        <label class="field">${t('admin.staff.role')}<select value=${role} onChange=${(e) => setRole(e.target.value)}>
          <option value="staff">${t('admin.role.staff')}</option><option value="org_admin">${t('admin.role.org_admin')}</option></select></label>
      </div>
      <p class="hint">${t('admin.staff.roleHint')}</p>
      <${Err} e=${err} />
      <button type="submit" class="btn btn-primary">${t('admin.staff.create')}</button></form>
    ${made && html`<div class="panel otp" role="status" tabindex="-1"><h2>${t('admin.staff.otpTitle', { email: made.email })}</h2>
      <p>${t('admin.staff.otpText')}</p><p class="otp-value"><code>${made.password}</code></p>
      <button type="button" class="btn btn-secondary" onClick=${() => setMade(null)}>${t('admin.staff.otpDone')}</button></div>`}
    ${list && html`<ul class="plain-list">${list.map((u) => html`<li class="row"><span><strong>${u.email}</strong> · ${t(`admin.role.${u.role}`)}
      ${u.disabled ? ` · ${t('admin.staff.disabled')}` : u.must_change_password ? ` · ${t('admin.staff.firstLogin')}` : ''}</span>
      <span class="row-actions"><a class="btn btn-secondary" href=${`#/registro?actor=${encodeURIComponent(u.id)}`}>${t('admin.staff.history')}</a>
      ${!u.disabled && u.id !== s.user.id && html`<${Confirm} label=${t('admin.staff.disable')} title=${t('admin.staff.disableTitle')}
        text=${t('admin.staff.disableText', { email: u.email })} yes=${t('admin.staff.disable')}
        onYes=${async () => { await admin.disableStaff(slug, u.id); await load(); }} />`}</span></li>`)}</ul>`}
  </section>`;
}

const ACTIONS = ['org.create', 'org.update', 'staff.add', 'staff.disable', 'channel.create', 'channel.update', 'channel.delete',
  'admin.invite', 'admin.add', 'admin.remove', 'admin.leave', 'owner.transfer', 'invite.create', 'invite.revoke',
  'post.create', 'post.publish', 'post.edit', 'post.delete', 'post.pin', 'post.unpin'];

// A date typed in the form (the reader's calendar day) as the instant it starts.
const dayStart = (d) => (d ? new Date(`${d}T00:00:00`).toISOString() : undefined);
const dayEnd = (d) => (d ? new Date(new Date(`${d}T00:00:00`).getTime() + 86400e3).toISOString() : undefined);

export function Audit() {
  const s = useConsole();
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const [f, setF] = useState({ action: '', actor: q.get('actor') || '', from: '', to: '' });
  const [people, setPeople] = useState([]);
  const [res, setRes] = useState(null);
  const [err, setErr] = useState(null);
  const slug = s.org && s.org.slug;
  const load = async (before) => {
    setErr(null);
    try {
      const r = await admin.audit(slug, { limit: 50, before, action: f.action, actor: f.actor, from: dayStart(f.from), to: dayEnd(f.to) });
      setRes((old) => (before && old ? { entries: [...old.entries, ...r.entries], next: r.next_before } : { entries: r.entries, next: r.next_before }));
    } catch (x) { setErr(x); }
  };
  useEffect(() => { if (slug) admin.staff(slug).then((r) => setPeople(r.staff)).catch(() => {}); }, [slug]);
  useEffect(() => { if (slug) load(); }, [slug, f.action, f.actor, f.from, f.to]);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  return html`<section><h1>${t('admin.audit.title')}</h1><p class="hint">${t('admin.audit.hint')}</p>
    <form class="panel filters" onSubmit=${(e) => e.preventDefault()} aria-label=${t('admin.audit.filters')}>
      <label class="field">${t('admin.audit.action')}<select value=${f.action} onChange=${set('action')}>
        <option value="">${t('admin.audit.any')}</option>${ACTIONS.map((a) => html`<option value=${a}>${t(`admin.act.${a}`)}</option>`)}</select></label>
      <label class="field">${t('admin.audit.person')}<select value=${f.actor} onChange=${set('actor')}>
        <option value="">${t('admin.audit.anyone')}</option>${people.map((p) => html`<option value=${p.id}>${p.email}</option>`)}</select></label>
      <label class="field">${t('admin.audit.from')}<input type="date" value=${f.from} onInput=${set('from')} /></label>
      <label class="field">${t('admin.audit.to')}<input type="date" value=${f.to} onInput=${set('to')} /></label>
    </form>
    <${Err} e=${err} />
    ${res && !res.entries.length && html`<p>${t('admin.audit.none')}</p>`}
    ${res && res.entries.length > 0 && html`<ol class="plain-list audit-list">${res.entries.map((e) => html`<li class="audit-entry">
      <p><strong>${t(`admin.act.${e.action}`)}</strong> · <code>${e.target}</code></p>
      <p class="hint"><time datetime=${e.at}>${fmtAbsolute(e.at)}</time> · ${e.actor ? e.actor.email : t('admin.audit.system')}</p></li>`)}</ol>`}
    ${res && res.next && html`<button type="button" class="btn btn-secondary" onClick=${() => load(res.next)}>${t('admin.audit.more')}</button>`}
  </section>`;
}

export function Orgs() {
  const s = useConsole();
  const [f, setF] = useState({ slug: '', name: '', istat_code: '', timezone: 'Europe/Rome', logo: '' });
  const [err, setErr] = useState(null);
  const [ok, setOk] = useState('');
  const [prog, setProg] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const logo = async (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (!file) return;
    const u = upload(file, setProg);
    try { const m = await u.promise; setF((o) => ({ ...o, logo: m.id })); } catch (x) { setErr(x); } finally { setProg(null); }
  };
  const submit = async (e) => {
    e.preventDefault();
    setErr(null);
    setOk('');
    const body = { slug: f.slug.trim(), name: f.name.trim(), timezone: f.timezone.trim() };
    if (f.istat_code.trim()) body.istat_code = f.istat_code.trim();
    if (f.logo) body.logo = f.logo;
    try {
      const o = await admin.createOrg(body);
      C.orgs = [...C.orgs, o].sort((a, b) => a.slug.localeCompare(b.slug));
      setOk(t('admin.orgs.created', { name: o.name }));
      setF({ slug: '', name: '', istat_code: '', timezone: 'Europe/Rome', logo: '' });
      changed();
    } catch (x) { setErr(x); }
  };
  return html`<section><h1>${t('admin.orgs.title')}</h1>
    <ul class="plain-list">${s.orgs.map((o) => html`<li class="row"><span><strong>${o.name}</strong> · ${o.slug}${o.istat_code ? ` · ISTAT ${o.istat_code}` : ''} · ${o.timezone}</span></li>`)}</ul>
    <form class="panel" onSubmit=${submit}><h2>${t('admin.orgs.new')}</h2>
      <label class="field">${t('admin.orgs.name')}<input required maxlength="200" value=${f.name} onInput=${set('name')} /></label>
      <label class="field">${t('admin.orgs.slug')}<input required pattern="[a-z0-9\\-]{2,64}" value=${f.slug} aria-describedby="slug-hint" onInput=${set('slug')} autocapitalize="none" /></label>
      <p class="hint" id="slug-hint">${t('admin.orgs.slugHint')}</p>
      <div class="field-row">
        <label class="field">${t('admin.orgs.istat')}<input inputmode="numeric" pattern="[0-9]{6}" maxlength="6" value=${f.istat_code} aria-describedby="istat-hint" onInput=${set('istat_code')} /></label>
        <label class="field">${t('admin.orgs.tz')}<input required value=${f.timezone} onInput=${set('timezone')} /></label>
      </div>
      <p class="hint" id="istat-hint">${t('admin.orgs.istatHint')}</p>
      <fieldset class="field"><legend>${t('admin.orgs.logo')}</legend>
        ${f.logo && html`<img class="icon-preview" src=${`/media/${encodeURIComponent(f.logo)}/small`} alt=${t('admin.orgs.logoPreview')} width="96" height="96" />`}
        <label class="btn btn-secondary file-btn">${t('admin.ch.iconUpload')}<input type="file" class="sr-only" accept="image/jpeg,image/png,image/webp" onChange=${logo} /></label>
        ${prog !== null && html`<progress max="100" value=${Math.round(prog * 100)} aria-label=${t('admin.upload.progress')}></progress>`}
      </fieldset>
      <${Err} e=${err} />${ok && html`<p class="state state-ok" role="status">${ok}</p>`}
      <button type="submit" class="btn btn-primary">${t('admin.orgs.create')}</button></form>
  </section>`;
}
