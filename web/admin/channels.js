// SPDX-License-Identifier: AGPL-3.0-or-later
// Channels: the list (with invitations to become an admin), a new channel, and one channel's
// screen with its places: write, posts, statistics, settings, admins, invite links.
import { html, useState, useEffect } from '../app/lib.js';
import { t, tn, fmtAbsolute } from '../app/i18n.js';
import { admin, upload } from './api.js';
import { C, changed, useConsole, Err, Confirm, keepCurrentInView } from './ui.js';
import { Compose, Posts, loadDraft, hasDraft } from './compose.js';
import { Stats } from './stats.js';

const CATEGORIES = ['news', 'civil_protection', 'culture', 'tourism', 'schools', 'transport', 'environment', 'sport', 'other'];

export async function loadChannels() {
  if (!C.org) return;
  C.channels = (await admin.orgChannels(C.org.slug)).channels;
  changed();
}

function Avatar({ ch, size = 48 }) {
  return ch.icon
    ? html`<img class="avatar" src=${`/media/${encodeURIComponent(ch.icon)}/small`} alt="" width=${size} height=${size} />`
    : html`<span class="avatar avatar-letter" aria-hidden="true">${(ch.name || '?').slice(0, 1).toUpperCase()}</span>`;
}

function Invitations() {
  const [list, setList] = useState([]);
  const [err, setErr] = useState(null);
  const load = () => admin.myInvitations().then((r) => setList(r.invitations)).catch(setErr);
  useEffect(() => { load(); }, []);
  if (!list.length && !err) return null;
  return html`<section class="panel" aria-labelledby="inv-title"><h2 id="inv-title">${t('admin.invitations.title')}</h2>
    <${Err} e=${err} />
    <ul class="plain-list">${list.map((i) => html`<li class="row">
      <span>${t('admin.invitations.one', { name: i.channel.name })}</span>
      <span class="row-actions">
        <button type="button" class="btn btn-primary" onClick=${async () => { try { await admin.acceptInvitation(i.id); await load(); await loadChannels(); } catch (e) { setErr(e); } }}>${t('admin.invitations.accept')}</button>
        <${Confirm} label=${t('admin.invitations.dismiss')} title=${t('admin.invitations.dismissTitle')}
          text=${t('admin.invitations.dismissText', { name: i.channel.name })} yes=${t('admin.invitations.dismiss')}
          onYes=${async () => { await admin.declineInvitation(i.id); await load(); }} />
      </span></li>`)}</ul></section>`;
}

export function Home() {
  const s = useConsole();
  const [err, setErr] = useState(null);
  useEffect(() => {
    const load = () => { setErr(null); loadChannels().catch(setErr); };
    load();
    addEventListener('online', load);
    return () => removeEventListener('online', load);
  }, [s.org && s.org.slug]);
  const mine = (s.channels || []).filter((c) => c.can_manage);
  const others = (s.channels || []).filter((c) => !c.can_manage);
  return html`<section>
    <div class="head-row"><h1>${t('admin.home.title')}</h1>
      ${s.org && html`<a class="btn btn-primary" href="#/canali/nuovo">${t('admin.home.new')}</a>`}</div>
    <${Invitations} />
    <${Err} e=${err} />
    ${!s.org && html`<p class="notice">${t('admin.home.noOrg')}</p>`}
    ${s.channels === null && !err && s.org && html`<p class="state" role="status">${t('app.loading')}</p>`}
    ${s.channels && !s.channels.length && html`<p class="empty">${t('admin.home.empty')}</p>`}
    ${mine.length > 0 && html`<ul class="chan-list">${mine.map((c) => html`<li><a class="chan-row" href=${`#/c/${encodeURIComponent(c.handle)}`}>
      <${Avatar} ch=${c} />
      <span class="chan-body"><span class="chan-name">${c.name}</span>
        <span class="chan-meta">@${c.handle} · ${tn('app.channel.followers', c.followers_count)} · ${c.visibility === 'listed' ? t('admin.ch.listed') : t('admin.ch.unlisted')}${c.my_role ? ` · ${t(`admin.role.${c.my_role}`)}` : ''}</span>
        ${hasDraft(c.handle) && html`<span class="chan-draft">✏️ ${loadDraft(c.handle).pending ? t('admin.home.pending') : t('admin.home.draft')}</span>`}</span></a></li>`)}</ul>`}
    ${others.length > 0 && html`<h2>${t('admin.home.others')}</h2><p class="hint">${t('admin.home.othersHint')}</p>
      <ul class="chan-list">${others.map((c) => html`<li><span class="chan-row">
      <${Avatar} ch=${c} /><span class="chan-body"><span class="chan-name">${c.name}</span><span class="chan-meta">@${c.handle}</span></span></span></li>`)}</ul>`}
  </section>`;
}

// The icon as followers will see it: cut to a circle.
function IconField({ value, onChange }) {
  const [prog, setProg] = useState(null);
  const [err, setErr] = useState(null);
  const [job, setJob] = useState(null);
  const pick = async (e) => {
    const f = e.target.files[0];
    e.target.value = '';
    if (!f) return;
    setErr(null);
    const u = upload(f, setProg);
    setJob(u);
    setProg(0);
    try { const m = await u.promise; onChange(m.id); } catch (x) { setErr(x); } finally { setProg(null); setJob(null); }
  };
  return html`<fieldset class="field icon-field"><legend>${t('admin.ch.icon')}</legend>
    <div class="icon-row">
      ${value ? html`<img class="icon-preview" src=${`/media/${encodeURIComponent(value)}/small`} alt=${t('admin.ch.iconPreview')} width="96" height="96" />`
        : html`<span class="icon-preview icon-empty" aria-hidden="true"></span>`}
      <div><p class="hint" id="icon-hint">${t('admin.ch.iconHint')}</p>
        <label class="btn btn-secondary file-btn">${value ? t('admin.ch.iconChange') : t('admin.ch.iconUpload')}
          <input type="file" class="sr-only" accept="image/jpeg,image/png,image/webp,image/heic" aria-describedby="icon-hint" onChange=${pick} /></label>
        ${value && html` <button type="button" class="btn btn-secondary" onClick=${() => onChange('')}>${t('admin.ch.iconRemove')}</button>`}
      </div></div>
    ${prog !== null && html`<${Progress} value=${prog} onCancel=${() => job && job.abort()} />`}
    <${Err} e=${err} />
  </fieldset>`;
}

export function Progress({ value, onCancel, label }) {
  const pct = Math.round(value * 100);
  return html`<div class="progress-row"><progress max="100" value=${pct} aria-label=${label || t('admin.upload.progress')}>${pct}%</progress>
    <span>${pct}%</span> <button type="button" class="btn btn-secondary" onClick=${onCancel}>${t('admin.upload.cancel')}</button></div>`;
}

function ChannelForm({ ch, onSaved }) {
  const isNew = !ch;
  const [f, setF] = useState(() => ({
    name: ch ? ch.name : '', handle: ch ? ch.handle : '', description: ch ? ch.description : '', icon: ch ? ch.icon || '' : '',
    category: ch ? ch.category : 'news', language: ch ? ch.language : 'it', visibility: ch ? ch.visibility : 'listed',
    reaction_policy: ch ? ch.reaction_policy : 'any', reactions: ch && ch.reactions ? ch.reactions.join(' ') : '👍 ❤️ 👏 🙏',
    retention_days: ch ? ch.retention_days : 30,
  }));
  const [err, setErr] = useState(null);
  const [ok, setOk] = useState(false);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => { setOk(false); setF({ ...f, [k]: e.target ? e.target.value : e }); };
  const submit = async (e) => {
    e.preventDefault();
    setErr(null);
    setBusy(true);
    const body = {
      name: f.name.trim(), description: f.description, category: f.category, language: f.language.trim(),
      visibility: f.visibility, reaction_policy: f.reaction_policy, retention_days: Number(f.retention_days),
    };
    if (f.reaction_policy === 'set') body.reactions = f.reactions.split(/\s+/).filter(Boolean);
    try {
      let saved;
      if (isNew) {
        if (f.icon) body.icon = f.icon;
        saved = await admin.createChannel({ ...body, org: C.org.slug, handle: f.handle.trim() });
      } else {
        const patch = {};
        for (const [k, v] of Object.entries(body)) if (JSON.stringify(v) !== JSON.stringify(ch[k])) patch[k] = v;
        if ((f.icon || '') !== (ch.icon || '')) patch.icon = f.icon;
        saved = Object.keys(patch).length ? await admin.patchChannel(ch.handle, patch) : ch;
      }
      setOk(true);
      onSaved(saved);
    } catch (x) { setErr(x); } finally { setBusy(false); }
  };
  const radio = (name, value, label, hint) => html`<label class="choice"><input type="radio" name=${name} value=${value}
    checked=${f[name] === value} onChange=${set(name)} /> <span><strong>${label}</strong>${hint && html`<br /><span class="hint">${hint}</span>`}</span></label>`;
  return html`<form class="panel ch-form" onSubmit=${submit}>
    <label class="field">${t('admin.ch.name')}<input required maxlength="100" value=${f.name} onInput=${set('name')} /></label>
    ${isNew && html`<label class="field">${t('admin.ch.handle')}<input required minlength="3" maxlength="32" pattern="[A-Za-z0-9][A-Za-z0-9_\\-]{2,31}"
      aria-describedby="handle-hint" value=${f.handle} onInput=${set('handle')} autocapitalize="none" spellcheck="false" /></label>
      <p class="hint" id="handle-hint">${t('admin.ch.handleHint')}</p>`}
    <label class="field">${t('admin.ch.description')}<textarea rows="3" maxlength="2000" value=${f.description} onInput=${set('description')}></textarea></label>
    <${IconField} value=${f.icon} onChange=${set('icon')} />
    <div class="field-row">
      <label class="field">${t('admin.ch.category')}<select value=${f.category} onChange=${set('category')}>
        ${CATEGORIES.map((c) => html`<option value=${c}>${t(`app.category.${c}`)}</option>`)}</select></label>
      <label class="field">${t('admin.ch.language')}<input required maxlength="15" size="6" value=${f.language} onInput=${set('language')} /></label>
      <label class="field">${t('admin.ch.retention')}<input type="number" min="1" max="365" required value=${f.retention_days} aria-describedby="ret-hint" onInput=${set('retention_days')} /></label>
    </div>
    <p class="hint" id="ret-hint">${t('admin.ch.retentionHint')}</p>
    <fieldset class="field"><legend>${t('admin.ch.visibility')}</legend>
      ${radio('visibility', 'listed', t('admin.ch.listed'), t('admin.ch.listedHint'))}
      ${radio('visibility', 'unlisted', t('admin.ch.unlisted'), t('admin.ch.unlistedHint'))}</fieldset>
    <fieldset class="field"><legend>${t('admin.ch.reactions')}</legend>
      ${radio('reaction_policy', 'any', t('admin.ch.reactAny'))}
      ${radio('reaction_policy', 'set', t('admin.ch.reactSet'))}
      ${radio('reaction_policy', 'none', t('admin.ch.reactNone'))}
      ${f.reaction_policy === 'set' && html`<label class="field">${t('admin.ch.reactList')}<input value=${f.reactions} onInput=${set('reactions')} aria-describedby="react-hint" /></label>
        <p class="hint" id="react-hint">${t('admin.ch.reactListHint')}</p>`}</fieldset>
    <${Err} e=${err} />
    ${ok && !isNew && html`<p class="state state-ok" role="status">${t('admin.saved')}</p>`}
    <button type="submit" class="btn btn-primary" disabled=${busy}>${isNew ? t('admin.new.submit') : t('admin.save')}</button>
  </form>`;
}

export function ChannelNew() {
  return html`<section><p class="back-row"><a class="back" href="#/">← ${t('admin.home.title')}</a></p>
    <h1>${t('admin.new.title')}</h1>
    <${ChannelForm} onSaved=${async (ch) => { await loadChannels(); location.hash = `#/c/${encodeURIComponent(ch.handle)}`; }} /></section>`;
}

const TABS = [['scrivi', 'admin.tab.write'], ['avvisi', 'admin.tab.posts'], ['statistiche', 'admin.tab.stats'],
  ['impostazioni', 'admin.tab.settings'], ['persone', 'admin.tab.admins'], ['inviti', 'admin.tab.invites']];

export function ChannelScreen({ handle, tab }) {
  const [ch, setCh] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => {
    // Readable is not manageable: the admins list answers only the channel's admins (403
    // otherwise, 404 for an unlisted channel), so it tells the console whether to go on.
    Promise.all([admin.channel(handle), admin.admins(handle)]).then(([c, a]) => {
      const me = a.admins.find((x) => x.user_id === C.user.id);
      const steward = C.user.role === 'operator' || (C.user.role === 'org_admin' && C.org && c.org && C.org.slug === c.org.slug);
      // What the owner alone may do (delete, manage admins) is offered to owners and stewards only.
      setCh({ ...c, owns: steward || (me && me.role === 'owner') });
    }).catch(setErr);
  }, [handle]);
  useEffect(keepCurrentInView, [tab, !!ch]);
  if (err) {
    const refused = err.status === 403 || err.status === 404;
    return html`<section><h1>${refused ? t('admin.ch.cannot') : t('app.channel.error')}</h1>${refused ? html`<p>${t('admin.ch.cannotHint')}</p>` : html`<${Err} e=${err} />`}
      <p><a class="btn btn-secondary" href="#/">${t('admin.home.title')}</a></p></section>`;
  }
  if (!ch) return html`<p class="state" role="status">${t('app.loading')}</p>`;
  const base = `#/c/${encodeURIComponent(ch.handle)}`;
  let body;
  if (tab === 'avvisi') body = html`<${Posts} ch=${ch} setErr=${setErr} />`;
  else if (tab === 'statistiche') body = html`<${Stats} ch=${ch} />`;
  else if (tab === 'impostazioni') body = html`<${Settings} ch=${ch} setCh=${setCh} />`;
  else if (tab === 'persone') body = html`<${Admins} ch=${ch} />`;
  else if (tab === 'inviti') body = html`<${Invites} ch=${ch} />`;
  else body = html`<${Compose} ch=${ch} />`;
  return html`<section>
    <p class="back-row"><a class="back" href="#/">← ${t('admin.home.title')}</a></p>
    <div class="ch-title"><${Avatar} ch=${ch} /><div><h1>${ch.name}</h1>
      <p class="chan-meta">@${ch.handle} · ${tn('app.channel.followers', ch.followers_count)} · <a href=${`/c/${encodeURIComponent(ch.handle)}`} target="_blank" rel="noopener">${t('admin.ch.public')}</a></p></div></div>
    <nav class="ch-tabs" aria-label=${t('admin.tab.label')}><ul class="scroll-row">${TABS.map(([k, key]) => html`<li><a href=${`${base}/${k}`} aria-current=${tab === k ? 'page' : undefined}>${t(key)}</a></li>`)}</ul></nav>
    ${body}
  </section>`;
}

function Settings({ ch, setCh }) {
  return html`<h2>${t('admin.tab.settings')}</h2>
    <${ChannelForm} ch=${ch} onSaved=${(c) => { setCh({ ...c, owns: ch.owns }); loadChannels().catch(() => {}); }} />
    ${ch.owns && html`<section class="panel panel-danger"><h2>${t('admin.ch.deleteTitle')}</h2><p>${t('admin.ch.deleteHint')}</p>
      <${Confirm} label=${t('admin.ch.delete')} title=${t('admin.ch.deleteConfirmTitle', { name: ch.name })}
        text=${t('admin.ch.deleteConfirm', { name: ch.name, n: ch.followers_count, posts: ch.posts_count })} yes=${t('admin.ch.deleteYes')}
        onYes=${async () => { await admin.deleteChannel(ch.handle); await loadChannels(); location.hash = '#/'; }} /></section>`}`;
}

function Admins({ ch }) {
  const [d, setD] = useState(null);
  const [err, setErr] = useState(null);
  const [email, setEmail] = useState('');
  const [ok, setOk] = useState('');
  const load = () => admin.admins(ch.handle).then(setD).catch(setErr);
  useEffect(() => { load(); }, [ch.handle]);
  const invite = async (e) => {
    e.preventDefault();
    setErr(null);
    setOk('');
    try { await admin.inviteAdmin(ch.handle, email.trim()); setOk(t('admin.admins.invited', { email: email.trim() })); setEmail(''); await load(); } catch (x) { setErr(x); }
  };
  if (!d) return html`<${Err} e=${err} />${!err && html`<p class="state" role="status">${t('app.loading')}</p>`}`;
  return html`<h2>${t('admin.tab.admins')}</h2>
    <p class="hint">${t('admin.admins.hint', { n: d.admins_max })}</p>
    <ul class="plain-list">${d.admins.map((a) => html`<li class="row"><span><strong>${a.email}</strong> · ${t(`admin.role.${a.role}`)}</span>
      ${a.role !== 'owner' && ch.owns && html`<span class="row-actions">
        <${Confirm} cls="btn btn-secondary" label=${t('admin.admins.transfer')} title=${t('admin.admins.transferTitle')}
          text=${t('admin.admins.transferText', { email: a.email, name: ch.name })} yes=${t('admin.admins.transfer')}
          onYes=${async () => { await admin.transfer(ch.handle, a.user_id); await load(); }} />
        <${Confirm} label=${t('admin.admins.dismiss')} title=${t('admin.admins.dismissTitle')}
          text=${t('admin.admins.dismissText', { email: a.email, name: ch.name })} yes=${t('admin.admins.dismiss')}
          onYes=${async () => { await admin.dismissAdmin(ch.handle, a.user_id); await load(); }} /></span>`}</li>`)}</ul>
    ${d.invitations.length > 0 && html`<h3>${t('admin.admins.pending')}</h3><ul class="plain-list">${d.invitations.map((i) => html`<li class="row">
      <span>${i.email} · ${t('admin.admins.expires', { when: fmtAbsolute(i.expires_at) })}</span>
      ${ch.owns && html`<${Confirm} label=${t('admin.admins.cancelInvite')} title=${t('admin.admins.cancelInvite')} text=${t('admin.admins.cancelText', { email: i.email })}
        yes=${t('admin.admins.cancelInvite')} onYes=${async () => { await admin.declineInvitation(i.id); await load(); }} />`}</li>`)}</ul>`}
    ${ch.owns ? html`<form class="panel" onSubmit=${invite}><h3>${t('admin.admins.inviteTitle')}</h3>
      <label class="field">${t('admin.admins.email')}<input type="email" required value=${email} onInput=${(e) => setEmail(e.target.value)} aria-describedby="adm-hint" /></label>
      <p class="hint" id="adm-hint">${t('admin.admins.emailHint')}</p>
      <${Err} e=${err} />${ok && html`<p class="state state-ok" role="status">${ok}</p>`}
      <button type="submit" class="btn btn-primary">${t('admin.admins.invite')}</button></form>`
      : html`<p class="hint">${t('admin.admins.ownerOnly')}</p>`}`;
}

function Invites({ ch }) {
  const [list, setList] = useState(null);
  const [err, setErr] = useState(null);
  const [days, setDays] = useState('30');
  const [uses, setUses] = useState('');
  const [copied, setCopied] = useState('');
  const load = () => admin.invites(ch.handle).then((r) => setList(r.invites)).catch(setErr);
  useEffect(() => { load(); }, [ch.handle]);
  const create = async (e) => {
    e.preventDefault();
    setErr(null);
    const body = {};
    if (days) body.expires_at = new Date(Date.now() + Number(days) * 86400e3).toISOString();
    if (uses) body.max_uses = Number(uses);
    try { await admin.createInvite(ch.handle, body); await load(); } catch (x) { setErr(x); }
  };
  const link = (i) => i.url || `${location.origin}${i.url_path}`;
  const copy = async (i) => {
    try { await navigator.clipboard.writeText(link(i)); setCopied(i.code); } catch { setCopied(''); }
  };
  return html`<h2>${t('admin.tab.invites')}</h2><p class="hint">${t('admin.invites.hint')}</p>
    ${list && !list.length && html`<p>${t('admin.invites.none')}</p>`}
    ${list && html`<ul class="plain-list invite-list">${list.map((i) => html`<li class="invite">
      ${i.state === 'active' && html`<img class="qr" src=${`/api/v1/invites/${encodeURIComponent(i.code)}/qr.svg`} alt=${t('admin.invites.qrAlt')} width="96" height="96" />`}
      <div class="invite-body"><p><code class="invite-link">${link(i)}</code></p>
        <p class="hint">${t(`admin.invites.state.${i.state}`)} · ${t('admin.invites.used', { n: i.uses, max: i.max_uses || '∞' })}${i.expires_at ? ` · ${t('admin.invites.until', { when: fmtAbsolute(i.expires_at) })}` : ''}</p>
        <div class="row-actions">
          <button type="button" class="btn btn-secondary" onClick=${() => copy(i)}>${copied === i.code ? t('admin.invites.copied') : t('admin.invites.copy')}</button>
          ${i.state === 'active' && html`<a class="btn btn-secondary" href=${`/i/${encodeURIComponent(i.code)}/poster`} target="_blank" rel="noopener">${t('admin.invites.poster')}</a>
          <a class="btn btn-secondary" href=${`/api/v1/invites/${encodeURIComponent(i.code)}/qr.png`} download=${`qr-${ch.handle}.png`}>${t('admin.invites.qr')}</a>`}
          <${Confirm} label=${t('admin.invites.revoke')} title=${t('admin.invites.revokeTitle')}
            text=${t('admin.invites.revokeText', { link: link(i), n: i.uses })} yes=${t('admin.invites.revoke')}
            onYes=${async () => { await admin.revokeInvite(ch.handle, i.code); await load(); }} />
        </div></div></li>`)}</ul>`}
    <form class="panel" onSubmit=${create}><h3>${t('admin.invites.new')}</h3>
      <div class="field-row">
        <label class="field">${t('admin.invites.expiry')}<select value=${days} onChange=${(e) => setDays(e.target.value)}>
          <option value="7">${t('admin.invites.days', { n: 7 })}</option><option value="30">${t('admin.invites.days', { n: 30 })}</option>
          <option value="365">${t('admin.invites.year')}</option><option value="">${t('admin.invites.never')}</option></select></label>
        <label class="field">${t('admin.invites.uses')}<input type="number" min="1" max="1000000" value=${uses} placeholder=${t('admin.invites.unlimited')} onInput=${(e) => setUses(e.target.value)} /></label>
      </div>
      <${Err} e=${err} />
      <button type="submit" class="btn btn-primary">${t('admin.invites.create')}</button></form>`;
}
