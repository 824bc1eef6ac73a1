// SPDX-License-Identifier: AGPL-3.0-or-later
// One post, in the markup the server's pages use too (docs/WEB.md "Shared markup"), with its
// media, poll and reactions. Used by the app and by live.js on /c/{handle} and /i/{code}.
import { html, useState, useEffect, useRef } from './lib.js';
import { t, tn, fmtRelative, fmtAbsolute, fmtSize, fmtNum } from './i18n.js';

// Relative time, the absolute one on hover (title) and while focused.
export function TimeAgo({ iso }) {
  const [focused, setFocused] = useState(false);
  const [, tick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => tick((n) => n + 1), 60000);
    return () => clearInterval(id);
  }, []);
  const abs = fmtAbsolute(iso);
  return html`<time datetime=${iso} title=${abs} tabindex="0"
    onFocus=${() => setFocused(true)} onBlur=${() => setFocused(false)}>${focused ? abs : fmtRelative(iso)}</time>`;
}

function mediaKind(m) {
  if (m.kind) return m.kind === 'voice' ? 'audio' : m.kind;
  const type = m.type || m.mime || '';
  if (type.startsWith('audio/')) return 'audio';
  if (type === 'application/pdf') return 'document';
  return 'image';
}

function Media({ items, onEnlarge }) {
  if (!items || !items.length) return null;
  return html`<div class="post-media">${items.map((m) => {
    const kind = mediaKind(m);
    const base = `/media/${encodeURIComponent(m.id)}`;
    if (kind === 'audio') {
      return html`<div class="media-audio-wrap"><audio class="media-audio" controls preload="none" src=${m.url || base}
        aria-label=${m.alt || t('app.post.audio')}></audio>
        ${m.transcript && html`<details class="media-transcript"><summary>${t('app.post.transcript')}</summary><p>${m.transcript}</p></details>`}</div>`;
    }
    if (kind === 'document') {
      return html`<a class="media-doc" href=${m.url || base} download>${m.name || m.alt || t('app.post.document')}
        ${(m.size || m.bytes) > 0 && html` <span class="media-size">${fmtSize(m.size || m.bytes)}</span>`}</a>`;
    }
    const large = m.url || m.large_url || `${base}/large`;
    return html`<a class="media-image" href=${large}
      onClick=${(e) => { if (onEnlarge) { e.preventDefault(); onEnlarge({ src: large, alt: m.alt || '' }); } }}>
      <img src=${m.thumb_url || m.small_url || `${base}/small`} alt=${m.alt || t('app.post.photo')}
        width=${m.width || undefined} height=${m.height || undefined} loading="lazy" /></a>`;
  })}</div>`;
}

export function Poll({ post, canAct, mine, onVote }) {
  const [, tick] = useState(0);
  const closesMs = post.poll.closes_at ? new Date(post.poll.closes_at).getTime() : 0;
  useEffect(() => {
    // Close on screen when the time comes (the server refuses votes from then on).
    if (!closesMs || post.poll.closed || closesMs - Date.now() > 2 ** 31 - 1) return undefined;
    const id = setTimeout(() => tick((n) => n + 1), Math.max(0, closesMs - Date.now() + 100));
    return () => clearTimeout(id);
  }, [closesMs, post.poll.closed]);
  const p = !post.poll.closed && closesMs && Date.now() >= closesMs ? { ...post.poll, closed: true } : post.poll;
  const total = p.total_voters || 0;
  const [sel, setSel] = useState(mine || []);
  const [busy, setBusy] = useState(false);
  useEffect(() => setSel(mine || []), [String(mine)]);
  const name = `poll-${post.id}`;
  const voted = mine && mine.length > 0;
  const disabled = p.closed || !canAct || busy;
  const pick = (i, on) => {
    if (p.multiple) setSel(on ? [...sel, i].sort() : sel.filter((x) => x !== i));
    else setSel([i]);
  };
  const submit = async (e, options) => {
    e.preventDefault();
    setBusy(true);
    try { await onVote(options); } finally { setBusy(false); }
  };
  const same = voted && sel.length === mine.length && sel.every((x) => mine.includes(x));
  return html`<form class=${`poll${voted ? ' poll-voted' : ''}`} data-multi=${p.multiple ? 'true' : 'false'}
    data-closed=${p.closed ? 'true' : undefined} onSubmit=${(e) => submit(e, sel)}>
    <fieldset><legend>${p.question}</legend>
      <p class="poll-kind">${p.closed ? t('app.poll.closedHint') : p.multiple ? t('app.poll.multiple') : t('app.poll.single')}</p>
      ${p.options.map((o, i) => {
        const pct = total ? Math.round((100 * o.votes) / total) : 0;
        return html`<label class=${`poll-option${mine && mine.includes(i) ? ' poll-mine' : ''}`}><input
          type=${p.multiple ? 'checkbox' : 'radio'} name=${name} value=${i} checked=${sel.includes(i)} disabled=${disabled}
          onChange=${(e) => pick(i, e.target.checked)} /> <span class="poll-text">${o.text}</span>
          <meter min="0" max=${Math.max(total, 1)} value=${o.votes}
            aria-label=${t('app.poll.optionVotes', { text: o.text, pct, n: fmtNum(o.votes) })}>${pct}%</meter> <span class="poll-pct">${pct}%</span></label>`;
      })}
      <p class="poll-meta">${tn('app.poll.voters', total)} · ${p.closed
        ? t('app.poll.closed')
        : p.closes_at ? html`${t('app.poll.closesAt')} <time datetime=${p.closes_at}>${fmtAbsolute(p.closes_at)}</time>` : t('app.poll.open')}</p>
      ${!p.closed && canAct && html`<div class="poll-actions">
        <button type="submit" class="btn btn-primary" disabled=${!sel.length || same || busy}>${voted ? t('app.poll.change') : t('app.poll.vote')}</button>
        ${voted && html`<button type="button" class="btn btn-secondary" disabled=${busy} onClick=${(e) => submit(e, [])}>${t('app.poll.retract')}</button>`}
      </div>`}
    </fieldset>
  </form>`;
}

const PALETTE = ['👍', '❤️', '😂', '😮', '😢', '🙏', '👏', '🎉'];

export function Reactions({ post, channel, mine, canAct, onReact }) {
  const [open, setOpen] = useState(false);
  const policy = (channel && channel.reaction_policy) || 'any';
  if (policy === 'none') return null;
  const counts = post.reactions || {};
  const shown = Object.keys(counts).filter((e) => counts[e] > 0);
  // A reader who does not follow sees the counts only, exactly as the server's page shows them.
  if (!canAct) {
    return html`<ul class="reactions" aria-label=${t('app.reactions.label')}>${shown.map((e) => html`<li><button type="button"
      class="reaction" aria-pressed="false" data-emoji=${e} onClick=${() => onReact(e)}
      aria-label=${t('app.reactions.one', { emoji: e, n: fmtNum(counts[e]) })}>${e} <span class="count">${fmtNum(counts[e])}</span></button></li>`)}</ul>`;
  }
  if (policy === 'set') for (const e of channel.reactions || []) if (!shown.includes(e)) shown.push(e);
  const tap = (e) => onReact(mine === e ? null : e);
  return html`<div class="reactions-wrap">
    <ul class="reactions" aria-label=${t('app.reactions.label')}>
      ${shown.map((e) => html`<li><button type="button" class="reaction" aria-pressed=${mine === e ? 'true' : 'false'}
        data-emoji=${e} onClick=${() => tap(e)}
        aria-label=${t(mine === e ? 'app.reactions.yours' : 'app.reactions.one', { emoji: e, n: fmtNum(counts[e] || 0) })}>
        ${e} <span class="count">${fmtNum(counts[e] || 0)}</span></button></li>`)}
      ${policy === 'any' && html`<li><button type="button" class="reaction reaction-add" aria-expanded=${open ? 'true' : 'false'}
        onClick=${() => setOpen(!open)}><span aria-hidden="true">+</span> ${t('app.reactions.add')}</button></li>`}
    </ul>
    ${open && html`<${Picker} onPick=${(e) => { setOpen(false); onReact(e); }} onClose=${() => setOpen(false)} />`}
  </div>`;
}

function Picker({ onPick, onClose }) {
  const ref = useRef();
  const [other, setOther] = useState('');
  useEffect(() => { const b = ref.current && ref.current.querySelector('button'); if (b) b.focus(); }, []);
  return html`<div class="picker" ref=${ref} role="group" aria-label=${t('app.reactions.pick')}
    onKeyDown=${(e) => { if (e.key === 'Escape') onClose(); }}>
    ${PALETTE.map((e) => html`<button type="button" class="picker-emoji" onClick=${() => onPick(e)}
      aria-label=${t('app.reactions.react', { emoji: e })}>${e}</button>`)}
    <form class="picker-other" onSubmit=${(e) => { e.preventDefault(); if (other.trim()) onPick(other.trim()); }}>
      <label>${t('app.reactions.other')} <input value=${other} maxlength="16" size="4"
        onInput=${(e) => setOther(e.target.value)} /></label>
      <button type="submit" class="btn btn-secondary">${t('app.reactions.send')}</button>
    </form>
  </div>`;
}

// <article> per the shared markup contract.
export function Post({ post, channel, mine = {}, canAct, onReact, onVote, onEnlarge, showViews }) {
  return html`<article class=${`post${post.importance === 'important' ? ' post-important' : ''}`} id=${`p-${post.id}`}
    data-id=${post.id} data-seq=${post.seq || undefined} lang=${(channel && channel.language) || undefined}>
    ${post.pinned && html`<p class="post-pinned"><span aria-hidden="true">📌</span> ${t('app.post.pinned')}</p>`}
    <div class="post-text" dangerouslySetInnerHTML=${{ __html: post.html }}></div>
    <${Media} items=${post.media} onEnlarge=${onEnlarge} />
    ${post.poll && html`<${Poll} post=${post} canAct=${canAct} mine=${mine.vote} onVote=${onVote} />`}
    <footer class="post-meta"><${TimeAgo} iso=${post.published_at} />
      ${post.edited && html` <span class="post-edited">${t('app.post.edited')}</span>`}
      ${showViews && post.views > 0 && html` <span class="post-views">${tn('app.post.views', post.views)}</span>`}
    </footer>
    <${Reactions} post=${post} channel=${channel} mine=${mine.reaction} canAct=${canAct} onReact=${onReact} />
  </article>`;
}
