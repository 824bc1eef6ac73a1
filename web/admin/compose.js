// SPDX-License-Identifier: AGPL-3.0-or-later
// Writing a post (text with the server-rendered preview, photos with required descriptions, a
// voice note or a PDF, a poll, importance, now or later in the Comune's time zone) and the
// channel's posts (scheduled first; edit with history, pin, delete). The draft lives in this
// browser's localStorage until the post is accepted, so no failure ever loses what was typed.
import { html, useState, useEffect, useRef } from '../app/lib.js';
import { t, fmtAbsolute, currentLang } from '../app/i18n.js';
import { Post } from '../app/post.js';
import { admin, upload } from './api.js';
import { Err, Confirm, zonedToIso, isoToZoned, fmtZoned, tzOf, changed } from './ui.js';
import { Progress } from './channels.js';

const EMPTY = { text: '', media: [], importance: 'normal', when: 'now', at: '', poll: null, pending: false };
const key = (h) => `araldo.admin.draft.${h}`;

export function loadDraft(h) {
  try { return { ...EMPTY, ...JSON.parse(localStorage.getItem(key(h)) || 'null') }; } catch { return { ...EMPTY }; }
}
export function hasDraft(h) {
  try { return localStorage.getItem(key(h)) !== null; } catch { return false; }
}
// What the list of channels shows of a channel's draft: none, a draft, or one waiting to leave.
const draftMark = (h) => (hasDraft(h) ? (loadDraft(h).pending ? 'pending' : 'draft') : 'none');
function saveDraft(h, d) {
  const was = draftMark(h);
  try {
    if (JSON.stringify(d) === JSON.stringify(EMPTY)) localStorage.removeItem(key(h));
    else localStorage.setItem(key(h), JSON.stringify(d));
  } catch { /* storage full or off: the draft lives as long as the page */ }
  // Whoever sent or dropped it (this screen, or the console when the network came back), every
  // screen showing the mark redraws; typing, which changes no mark, redraws nothing else.
  if (draftMark(h) !== was) changed();
}

function kindOf(m) {
  if (m.kind) return m.kind === 'voice' ? 'audio' : m.kind;
  if ((m.mime || '').startsWith('audio/')) return 'audio';
  if (m.mime === 'application/pdf') return 'document';
  return 'image';
}

// The server's own formatter (POST /api/v1/preview), so the preview is what followers get.
function usePreview(text) {
  const [res, setRes] = useState({ html: '', off: false });
  useEffect(() => {
    if (!text.trim()) { setRes({ html: '', off: false }); return undefined; }
    const id = setTimeout(async () => {
      try { setRes({ html: (await admin.preview(text)).html, off: false }); } catch { setRes((r) => ({ ...r, off: true })); }
    }, 250);
    return () => clearTimeout(id);
  }, [text]);
  return res;
}

function MediaItem({ m, onAlt, onRemove, missing }) {
  const kind = kindOf(m);
  const id = `alt-${m.id}`;
  return html`<li class=${`media-item${missing ? ' media-missing' : ''}`}>
    ${kind === 'image' ? html`<img src=${`/media/${encodeURIComponent(m.id)}/small`} alt="" width="96" height="72" />`
      : html`<span class="media-icon" aria-hidden="true">${kind === 'audio' ? '🎙️' : '📄'}</span>`}
    <div class="media-fields">
      <label class="field" for=${id}>${kind === 'image' ? t('admin.compose.alt') : kind === 'audio' ? t('admin.compose.transcript') : t('admin.compose.docName')}</label>
      <textarea id=${id} rows="2" maxlength="1000" required=${kind === 'image'} aria-invalid=${missing ? 'true' : undefined}
        aria-describedby=${kind === 'image' ? 'alt-why' : undefined} value=${m.alt || ''} onInput=${(e) => onAlt(e.target.value)}></textarea>
      ${missing && html`<p class="state state-error">${t('admin.compose.altMissing')}</p>`}
      <button type="button" class="btn btn-secondary" onClick=${onRemove}>${t('admin.compose.removeMedia')}</button>
    </div></li>`;
}

function PollBuilder({ poll, onChange }) {
  const set = (k, v) => onChange({ ...poll, [k]: v });
  const opts = poll.options;
  return html`<fieldset class="field poll-builder"><legend>${t('admin.poll.title')}</legend>
    <label class="field">${t('admin.poll.question')}<input required maxlength="255" value=${poll.question} onInput=${(e) => set('question', e.target.value)} /></label>
    <ol class="poll-opts">${opts.map((o, i) => html`<li><label class="field">${t('admin.poll.option', { n: i + 1 })}
      <input required maxlength="100" value=${o} onInput=${(e) => set('options', opts.map((x, j) => (j === i ? e.target.value : x)))} /></label>
      ${opts.length > 2 && html`<button type="button" class="btn btn-secondary" onClick=${() => set('options', opts.filter((_, j) => j !== i))}
        aria-label=${t('admin.poll.removeN', { n: i + 1 })}>${t('admin.poll.remove')}</button>`}</li>`)}</ol>
    ${opts.length < 12 && html`<button type="button" class="btn btn-secondary" onClick=${() => set('options', [...opts, ''])}>${t('admin.poll.add')}</button>`}
    <label class="choice"><input type="checkbox" checked=${poll.multiple} onChange=${(e) => set('multiple', e.target.checked)} /> ${t('admin.poll.multiple')}</label>
    <label class="field">${t('admin.poll.closes')}<input type="datetime-local" value=${poll.closes || ''} aria-describedby="closes-hint" onInput=${(e) => set('closes', e.target.value)} /></label>
    <p class="hint" id="closes-hint">${t('admin.poll.closesHint', { tz: tzOf() })}</p>
    <button type="button" class="btn btn-secondary" onClick=${() => onChange(null)}>${t('admin.poll.drop')}</button>
  </fieldset>`;
}

// The API body for a draft; dates typed on the Comune's clock (`tz`).
function draftBody(d, tz) {
  const b = { text: d.text, importance: d.importance };
  // A voice note's text is its transcript; a photo's or a document's is its description.
  if (d.media.length) b.media = d.media.map((m) => ({ id: m.id, ...(m.alt && m.alt.trim() ? { [kindOf(m) === 'audio' ? 'transcript' : 'alt']: m.alt.trim() } : {}) }));
  if (d.when === 'later' && d.at) b.publish_at = zonedToIso(d.at, tz);
  if (d.poll) {
    b.poll = { question: d.poll.question.trim(), options: d.poll.options.map((o) => o.trim()), multiple: !!d.poll.multiple };
    if (d.poll.closes) b.poll.closes_at = zonedToIso(d.poll.closes, tz);
  }
  return b;
}

// Sends the channel's saved draft, once at a time; the draft is dropped only when accepted.
const inflight = new Set();
async function sendDraft(h, tz, d = loadDraft(h)) {
  if (inflight.has(h)) return null;
  inflight.add(h);
  try {
    const p = await admin.createPost(h, draftBody(d, tz));
    saveDraft(h, EMPTY);
    return p;
  } finally { inflight.delete(h); }
}

// Back online: drafts that could not leave go now, except where their compose screen is open
// (it sends its own and shows the outcome). Returns how many went, and whether one should be
// tried again (no network, or the server too busy to take it; a refusal waits for a person).
const composing = new Set();
export async function sendPendingDrafts(tz) {
  let keys = [];
  try { keys = Object.keys(localStorage).filter((k) => k.startsWith('araldo.admin.draft.')); } catch { return { sent: 0, again: false }; }
  let sent = 0;
  let again = false;
  for (const k of keys) {
    const h = k.slice('araldo.admin.draft.'.length);
    if (composing.has(h) || !loadDraft(h).pending) continue;
    try {
      if (await sendDraft(h, tz)) sent++;
    } catch (x) { /* stays pending; the compose screen shows why */
      if (x.code === 'network' || x.status === 503) again = true; /* 503: queue full, not saved */
    }
  }
  return { sent, again };
}

export function Compose({ ch }) {
  const [d, setD] = useState(() => loadDraft(ch.handle));
  const [ups, setUps] = useState([]); // uploads under way: { n, name, prog, abort }
  const [err, setErr] = useState(null);
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState(false);
  const up = (patch) => setD((old) => { const n = { ...old, ...patch }; saveDraft(ch.handle, n); return n; });
  const prev = usePreview(d.text);
  const seq = useRef(0);
  const tz = tzOf();

  const addFiles = (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    for (const f of files) {
      const n = ++seq.current;
      const job = upload(f, (p) => setUps((l) => l.map((u) => (u.n === n ? { ...u, prog: p } : u))));
      setUps((l) => [...l, { n, name: f.name, prog: 0, abort: job.abort }]);
      job.promise
        .then((m) => setD((old) => { const nd = { ...old, media: [...old.media, { id: m.id, kind: m.kind, mime: m.mime, alt: '' }] }; saveDraft(ch.handle, nd); return nd; }))
        .catch((x) => { if (x.code !== 'aborted') setErr(x); })
        .finally(() => setUps((l) => l.filter((u) => u.n !== n)));
    }
  };

  const publish = async (e) => {
    if (e) e.preventDefault();
    setTried(true);
    setErr(null);
    setDone('');
    if (d.media.some((m) => kindOf(m) === 'image' && !(m.alt || '').trim())) {
      setErr({ code: 'alt_required' });
      return;
    }
    if (ups.length) { setErr({ code: 'uploading' }); return; }
    setBusy(true);
    try {
      const p = await sendDraft(ch.handle, tz, d);
      if (!p) return; // already on its way
      setD({ ...EMPTY });
      setTried(false);
      setDone(p.scheduled ? t('admin.compose.scheduled', { when: fmtZoned(p.published_at, tz, currentLang()) }) : t('admin.compose.published'));
    } catch (x) {
      if (x.code === 'network') up({ pending: true });
      setErr(x);
    } finally { setBusy(false); }
  };

  useEffect(() => { composing.add(ch.handle); return () => composing.delete(ch.handle); }, [ch.handle]);
  // Back online with a post that could not leave: send it, once.
  useEffect(() => {
    const on = () => { if (loadDraft(ch.handle).pending && !busy) publish(); };
    addEventListener('online', on);
    return () => removeEventListener('online', on);
  });

  const fake = {
    id: 'preview', html: prev.html || '', importance: d.importance, published_at: d.when === 'later' && d.at ? zonedToIso(d.at, tz) || new Date().toISOString() : new Date().toISOString(),
    media: d.media.map((m) => ({ ...m, kind: kindOf(m) })), reactions: {},
    poll: d.poll && d.poll.question ? { question: d.poll.question, options: d.poll.options.filter(Boolean).map((o) => ({ text: o, votes: 0 })), multiple: d.poll.multiple, closes_at: d.poll.closes ? zonedToIso(d.poll.closes, tz) : null, closed: false, total_voters: 0 } : null,
  };
  const nowLocal = isoToZoned(new Date().toISOString(), tz);
  return html`<div class="compose">
    <form class="panel compose-form" onSubmit=${publish} novalidate>
      <h2>${t('admin.compose.title')}</h2>
      ${d.pending && html`<p class="notice" role="status">${t('admin.compose.pending')}</p>`}
      <label class="field" for="post-text">${t('admin.compose.text')}</label>
      <textarea id="post-text" rows="6" maxlength="4096" required aria-describedby="fmt-hint" value=${d.text} onInput=${(e) => up({ text: e.target.value })}></textarea>
      <p class="hint" id="fmt-hint">${t('admin.compose.fmtHint')} <span class="count">${d.text.length}/4096</span></p>

      <fieldset class="field"><legend>${t('admin.compose.attach')}</legend>
        <p class="hint" id="alt-why">${t('admin.compose.altWhy')}</p>
        ${d.media.length > 0 && html`<ul class="media-list">${d.media.map((m, i) => html`<${MediaItem} key=${m.id} m=${m}
          missing=${tried && kindOf(m) === 'image' && !(m.alt || '').trim()}
          onAlt=${(v) => up({ media: d.media.map((x, j) => (j === i ? { ...x, alt: v } : x)) })}
          onRemove=${() => up({ media: d.media.filter((_, j) => j !== i) })} />`)}</ul>`}
        ${ups.map((u) => html`<div class="upload"><span>${u.name}</span><${Progress} value=${u.prog} onCancel=${u.abort} label=${t('admin.upload.of', { name: u.name })} /></div>`)}
        ${d.media.length + ups.length < 10 && html`<label class="btn btn-secondary file-btn">${t('admin.compose.addFile')}
          <input type="file" class="sr-only" multiple accept="image/jpeg,image/png,image/webp,image/heic,audio/ogg,audio/mp4,audio/x-m4a,application/pdf" onChange=${addFiles} /></label>`}
        <p class="hint">${t('admin.compose.fileHint')}</p>
      </fieldset>

      ${d.poll ? html`<${PollBuilder} poll=${d.poll} onChange=${(p) => up({ poll: p })} />`
        : html`<p><button type="button" class="btn btn-secondary" onClick=${() => up({ poll: { question: '', options: ['', ''], multiple: false, closes: '' } })}>${t('admin.poll.addPoll')}</button></p>`}

      <fieldset class="field"><legend>${t('admin.compose.importance')}</legend>
        ${['normal', 'important', 'silent'].map((v) => html`<label class="choice"><input type="radio" name="importance" value=${v} checked=${d.importance === v}
          onChange=${() => up({ importance: v })} /> <span><strong>${t(`admin.imp.${v}`)}</strong><br /><span class="hint">${t(`admin.imp.${v}Hint`)}</span></span></label>`)}
      </fieldset>

      <fieldset class="field"><legend>${t('admin.compose.when')}</legend>
        <label class="choice"><input type="radio" name="when" checked=${d.when === 'now'} onChange=${() => up({ when: 'now' })} /> ${t('admin.compose.now')}</label>
        <label class="choice"><input type="radio" name="when" checked=${d.when === 'later'} onChange=${() => up({ when: 'later', at: d.at || nowLocal })} /> ${t('admin.compose.later')}</label>
        ${d.when === 'later' && html`<label class="field">${t('admin.compose.at', { tz })}<input type="datetime-local" min=${nowLocal} value=${d.at} onInput=${(e) => up({ at: e.target.value })} /></label>`}
      </fieldset>

      ${err && err.code === 'uploading' ? html`<p class="state state-error" role="alert">${t('admin.compose.waitUploads')}</p>`
        : err && err.code === 'network' ? html`<p class="state state-error" role="alert">${t('admin.compose.offline')}</p>` : html`<${Err} e=${err} />`}
      ${done && html`<p class="state state-ok" role="status">${done}</p>`}
      <div class="row-actions">
        <button type="submit" class="btn btn-primary" disabled=${busy || !d.text.trim()}>${d.when === 'later' ? t('admin.compose.schedule') : t('admin.compose.publish')}</button>
        ${(d.text || d.media.length || d.poll) && html`<${Confirm} label=${t('admin.compose.discard')} title=${t('admin.compose.discardTitle')}
          text=${t('admin.compose.discardText', { name: ch.name })} yes=${t('admin.compose.discard')} onYes=${() => { saveDraft(ch.handle, EMPTY); setD({ ...EMPTY }); }} />`}
      </div>
    </form>
    <section class="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">${t('admin.compose.preview')}</h2>
      <p class="hint">${t('admin.compose.previewHint')}</p>
      ${prev.off && html`<p class="notice">${t('admin.compose.previewOff')}</p>`}
      ${d.text.trim() ? html`<div class="posts preview-box"><${Post} post=${fake} channel=${ch} canAct=${false} onReact=${() => {}} onVote=${() => {}} /></div>`
        : html`<p class="hint">${t('admin.compose.previewEmpty')}</p>`}
    </section>
  </div>`;
}

function History({ post }) {
  const [h, setH] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => { admin.edits(post.id).then((r) => setH(r.edits)).catch(setErr); }, [post.id, post.edited_at]);
  if (err) return html`<${Err} e=${err} />`;
  if (!h || !h.length) return null;
  return html`<details class="history"><summary>${t('admin.posts.history', { n: h.length })}</summary>
    <ol>${h.map((e) => html`<li><p class="hint">${t('admin.posts.before', { when: fmtAbsolute(e.edited_at), who: e.editor_email || '—' })}</p>
      <p class="history-text">${e.text}</p></li>`)}</ol></details>`;
}

function EditForm({ post, onDone, onCancel }) {
  const [text, setText] = useState(post.text);
  const [imp, setImp] = useState(post.importance);
  const [err, setErr] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    const patch = {};
    if (text !== post.text) patch.text = text;
    if (imp !== post.importance) patch.importance = imp;
    if (!Object.keys(patch).length) { onCancel(); return; }
    try { onDone(await admin.patchPost(post.id, patch)); } catch (x) { setErr(x); }
  };
  const id = `edit-${post.id}`;
  return html`<form class="edit-form" onSubmit=${save}>
    <label class="field" for=${id}>${t('admin.compose.text')}</label>
    <textarea id=${id} rows="5" maxlength="4096" value=${text} onInput=${(e) => setText(e.target.value)}></textarea>
    <label class="field">${t('admin.compose.importance')}<select value=${imp} onChange=${(e) => setImp(e.target.value)}>
      ${['normal', 'important', 'silent'].map((v) => html`<option value=${v}>${t(`admin.imp.${v}`)}</option>`)}</select></label>
    <p class="hint">${t('admin.posts.editHint')}</p>
    <${Err} e=${err} />
    <div class="row-actions"><button type="submit" class="btn btn-primary">${t('admin.save')}</button>
      <button type="button" class="btn btn-secondary" onClick=${onCancel}>${t('admin.cancel')}</button></div></form>`;
}

// An important post's push campaign (GET /api/v1/posts/{id}/push): a bar while it runs, read
// every few seconds (slower as it goes on), then the final counts. Recent posts only: an old
// campaign's numbers do not change.
const PUSH_RECENT_MS = 7 * 86400e3;
function PushProgress({ post }) {
  const [st, setSt] = useState(null);
  useEffect(() => {
    let timer = 0;
    let stop = false;
    let wait = 2000;
    const read = async () => {
      try {
        const r = await admin.pushStatus(post.id);
        if (stop) return;
        setSt(r);
        if (!r.running) return;
      } catch { if (stop) return; }
      timer = setTimeout(read, wait);
      wait = Math.min(wait * 1.5, 15000);
    };
    read();
    return () => { stop = true; clearTimeout(timer); };
  }, [post.id, post.edited_at]);
  if (!st || !st.pushed) return null;
  const done = st.sent + st.failed;
  const total = Math.max(st.total, done + st.remaining, 1);
  const pct = Math.round((done / total) * 100);
  const n = (x) => x.toLocaleString(currentLang());
  const counts = t('admin.push.counts', { sent: n(st.sent), failed: n(st.failed), remaining: n(st.remaining) });
  return html`<div class="push-progress" data-running=${st.running ? 'true' : 'false'}>
    <p class="push-progress-title"><span aria-hidden="true">🔔</span> ${st.running ? t('admin.push.running') : t('admin.push.done')}</p>
    ${st.running && html`<div class="progress-row"><progress max="100" value=${pct} aria-label=${t('admin.push.bar')}>${pct}%</progress><span>${pct}%</span></div>`}
    <p class="hint push-counts">${counts}</p></div>`;
}

const snippet = (s) => (s.length > 60 ? `${s.slice(0, 57)}…` : s);
const EDIT_WINDOW_MS = 30 * 86400e3;

export function Posts({ ch }) {
  const [posts, setPosts] = useState(null);
  const [next, setNext] = useState(null);
  const [err, setErr] = useState(null);
  const [editing, setEditing] = useState(null);
  const load = () => admin.posts(ch.handle).then((r) => { setPosts(r.posts); setNext(r.next); }).catch(setErr);
  const more = () => admin.posts(ch.handle, next).then((r) => { setPosts((old) => [...old, ...r.posts.filter((p) => !old.some((q) => q.id === p.id))]); setNext(r.next); }).catch(setErr);
  useEffect(() => { load(); }, [ch.handle]);
  if (!posts) return html`<${Err} e=${err} />${!err && html`<p class="state" role="status">${t('app.loading')}</p>`}`;
  const sched = posts.filter((p) => p.scheduled);
  const pub = posts.filter((p) => !p.scheduled);
  const tz = tzOf();
  const one = (p) => html`<li class="admin-post" key=${p.id} data-post=${p.id}>
    ${p.scheduled && html`<p class="sched-when">🕒 ${t('admin.posts.goesOut', { when: fmtZoned(p.published_at, tz, currentLang()) })}</p>`}
    ${editing === p.id ? html`<${EditForm} post=${p} onCancel=${() => setEditing(null)} onDone=${() => { setEditing(null); load(); }} />`
      : html`<${Post} post=${p} channel=${ch} canAct=${false} showViews onReact=${() => {}} onVote=${() => {}} />`}
    ${!p.scheduled && p.importance === 'important' && Date.now() - new Date(p.published_at).getTime() < PUSH_RECENT_MS && html`<${PushProgress} post=${p} />`}
    <${History} post=${p} />
    ${editing !== p.id && html`<div class="row-actions post-actions">
      ${(p.scheduled || Date.now() - new Date(p.published_at).getTime() < EDIT_WINDOW_MS) && html`<button type="button" class="btn btn-secondary" onClick=${() => setEditing(p.id)}>${t('admin.posts.edit')}</button>`}
      ${!p.scheduled && html`<button type="button" class="btn btn-secondary" aria-pressed=${p.pinned ? 'true' : 'false'}
        onClick=${async () => { try { await admin.pin(ch.handle, p.pinned ? null : p.id); load(); } catch (x) { setErr(x); } }}>${p.pinned ? t('admin.posts.unpin') : t('admin.posts.pin')}</button>`}
      <${Confirm} label=${t('admin.posts.delete')} title=${t('admin.posts.deleteTitle')}
        text=${t('admin.posts.deleteText', { text: snippet(p.text), name: ch.name })} yes=${t('admin.posts.deleteYes')}
        onYes=${async () => { await admin.deletePost(p.id); await load(); }} />
    </div>`}</li>`;
  return html`<${Err} e=${err} />
    <h2>${t('admin.posts.scheduled')}</h2>
    ${sched.length ? html`<ul class="plain-list">${sched.map(one)}</ul>` : html`<p class="hint">${t('admin.posts.noneScheduled')}</p>`}
    <h2>${t('admin.posts.published')}</h2>
    ${pub.length ? html`<ul class="plain-list">${pub.map(one)}</ul>` : html`<p class="hint">${t('admin.posts.none')}</p>`}
    ${next && html`<p><button type="button" class="btn btn-secondary" onClick=${more}>${t('app.channel.older')}</button></p>`}`;
}
