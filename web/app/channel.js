// SPDX-License-Identifier: AGPL-3.0-or-later
// A channel: header, follow / unfollow, mute, the pinned post on top, posts oldest to newest
// like a chat, new ones arriving live without moving what the reader is reading.
import { html, useState, useEffect, useRef, useLayoutEffect } from './lib.js';
import { t, tn } from './i18n.js';
import { api, call } from './api.js';
import {
  S, useStore, loadChannel, loadOlder, loadFollows, isFollowing, previewStream, viewed,
  myChoice, setMyChoice, changed,
} from './state.js';
import { Post } from './post.js';
import { Icon, Verified } from './screens.js';

const smooth = () => (matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth');
// What covers the bottom of the screen (the tabs, the follow bar) when they are fixed.
const covered = () => [...document.querySelectorAll('.tabs, .follow-bar')]
  .filter((e) => getComputedStyle(e).position === 'fixed').reduce((a, e) => a + e.offsetHeight, 0);
const lastPost = () => document.querySelector('.channel-posts article.post:last-of-type');
// The reader is "at the end" while the newest post's bottom part is on screen.
const atBottom = () => {
  const a = lastPost();
  return !a || a.getBoundingClientRect().bottom - 80 <= innerHeight - covered();
};
// Bring the newest post's end just above the bottom bars (the page footer stays below).
const toEnd = (behavior = 'auto') => {
  const a = lastPost();
  if (!a) return;
  scrollTo({ top: scrollY + a.getBoundingClientRect().bottom - (innerHeight - covered()) + 16, behavior });
};

export function Channel({ handle, invite, post }) {
  const s = useStore();
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  const [pill, setPill] = useState(false);
  const [photo, setPhoto] = useState(null);
  const [fresh, setFresh] = useState(''); // the handle whose first page this visit has read
  const dlg = useRef();
  const count = useRef(-1);
  const wasAtBottom = useRef(true);
  const ch = s.channels[handle];
  const posts = s.posts[handle];
  const following = isFollowing(handle);

  useEffect(() => {
    S.viewing = handle;
    S.invite = invite;
    setErr(null);
    count.current = -1;
    setFresh('');
    loadChannel(handle, invite).then(() => setFresh(handle)).catch((e) => setErr(e));
    return () => { S.viewing = null; previewStream(null); };
  }, [handle, invite]);
  useEffect(() => { previewStream(handle, invite); }, [handle, invite, following]);

  // Live posts: keep the reader where they are; follow along only if they were at the end.
  useEffect(() => {
    const onScroll = () => {
      wasAtBottom.current = atBottom();
      if (wasAtBottom.current) setPill(false);
    };
    addEventListener('scroll', onScroll, { passive: true });
    return () => removeEventListener('scroll', onScroll);
  }, []);
  const n = posts ? posts.list.length : -1;
  // Where the reader is, measured before the new post is in the page.
  if (n !== count.current && count.current >= 0) wasAtBottom.current = atBottom();
  useLayoutEffect(() => {
    if (n < 0) return;
    if (count.current < 0) {
      // A followed channel opens at the newest post, like a chat; a preview at its header.
      if (isFollowing(handle)) toEnd();
      else scrollTo(0, 0);
    } else if (n > count.current) {
      if (wasAtBottom.current) toEnd(smooth());
      else setPill(true);
    }
    count.current = n;
  }, [n]);

  // Opened from a notification (`?post={id}`): bring that post to the middle of the screen and
  // mark it, reading older pages if it is not among the newest (a few at most).
  const shown = useRef('');
  const tries = useRef(0);
  useEffect(() => { tries.current = 0; }, [post]);
  useEffect(() => {
    // Only on this visit's own first page: a copy kept from an earlier visit is about to be replaced.
    if (!post || n < 0 || fresh !== handle || shown.current === `${handle}/${post}`) return;
    const el = document.getElementById(`p-${post}`);
    if (el) {
      shown.current = `${handle}/${post}`;
      for (const o of document.querySelectorAll('.post-highlight')) o.classList.remove('post-highlight');
      el.classList.add('post-highlight');
      el.setAttribute('tabindex', '-1');
      el.scrollIntoView({ block: 'center', behavior: smooth() });
      el.focus({ preventScroll: true });
    } else if (posts.next && tries.current < 5) {
      tries.current++;
      loadOlder(handle, invite);
    }
  }, [n, post, handle, fresh]);

  // Views: a post counts as shown once half of it has been on screen.
  useEffect(() => {
    if (!following || !posts) return undefined;
    const io = new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting) viewed(e.target.dataset.id, handle);
    }, { threshold: 0.5 });
    for (const a of document.querySelectorAll('.channel-posts article.post')) io.observe(a);
    return () => io.disconnect();
  }, [following, n]);

  useEffect(() => {
    if (photo && dlg.current && !dlg.current.open) dlg.current.showModal();
  }, [photo]);

  if (err) {
    const gone = err.status === 404 || err.status === 410;
    return html`<section class="empty"><h1>${t(gone ? 'app.channel.notFound' : 'app.channel.error')}</h1>
      <p>${t(gone ? 'app.channel.notFoundHint' : 'app.channel.errorHint')}</p>
      <p><a class="btn btn-primary" href="#/esplora">${t('app.home.find')}</a></p></section>`;
  }
  if (!ch || !posts) return html`<p class="state" role="status">${t('app.loading')}</p>`;

  const mine = following && S.follows.find((c) => c.handle === handle);
  const follow = async () => {
    setBusy(true);
    setNote(await toggleFollow(handle, invite, following, ch.name));
    setBusy(false);
  };
  const mute = async () => {
    setBusy(true);
    try {
      await api.mute(handle, !mine.muted);
      await loadFollows();
    } catch { setNote(t('app.error.retry')); } finally { setBusy(false); }
  };
  const { react, vote } = postActions(handle, following, setNote);
  const pinned = posts.list.filter((p) => p.pinned);
  const rest = posts.list;
  const render = (p) => html`<${Post} key=${p.id} post=${p} channel=${ch} mine=${myChoice(p.id)} canAct=${following}
    onReact=${react(p)} onVote=${vote(p)} onEnlarge=${setPhoto} />`;
  return html`<div class=${`channel${following ? '' : ' channel-preview'}`}>
    <p class="back-row"><a class="back" href="#/"><span aria-hidden="true">←</span> ${t('app.back')}</a></p>
    <section class="card channel-head" aria-labelledby="channel-name">
      <${Icon} ch=${ch} size="72" />
      <div>
        <h1 class="channel-name" id="channel-name">${ch.name}<${Verified} ch=${ch} /></h1>
        <p class="channel-org">${ch.org && ch.org.name}</p>
      </div>
      ${ch.description && html`<p class="channel-desc" lang=${ch.language}>${ch.description}</p>`}
      <p class="channel-meta"><span class="followers-count" data-count=${ch.followers_count}>${tn('app.channel.followers', ch.followers_count)}</span></p>
      <div class="channel-actions">
        <button type="button" class=${`btn ${following ? 'btn-secondary' : 'btn-primary'} follow-button`} onClick=${follow} disabled=${busy}
          aria-pressed=${following ? 'true' : 'false'}>${following ? t('app.channel.unfollow') : t('app.channel.follow')}</button>
        ${following && html`<button type="button" class="btn btn-secondary" onClick=${mute} disabled=${busy}
          aria-pressed=${mine.muted ? 'true' : 'false'}>${mine.muted ? t('app.channel.unmute') : t('app.channel.mute')}</button>`}
      </div>
    </section>
    ${!following && html`<p class="hint">${t('app.channel.followHint')}</p>`}
    <p class="notice note" role="status">${note}</p>
    ${pinned.length > 0 && html`<div class="pinned-box" aria-label=${t('app.post.pinned')} role="region">${pinned.map((p) => html`<a class="pinned-link" lang=${ch.language} href=${`#p-${p.id}`}
      onClick=${(e) => { e.preventDefault(); document.getElementById(`p-${p.id}`).scrollIntoView(); }}>
      <span aria-hidden="true">📌</span> ${p.text.replace(/[*_~`]/g, '').slice(0, 100)}</a>`)}</div>`}
    <h2 class="sr-only">${t('app.channel.posts')}</h2>
    ${posts.next && html`<p class="older"><button type="button" class="btn btn-secondary" onClick=${() => {
      const h0 = document.documentElement.scrollHeight;
      loadOlder(handle, invite).then(() => requestAnimationFrame(() => scrollBy(0, document.documentElement.scrollHeight - h0)));
    }}>${t('app.channel.older')}</button></p>`}
    ${rest.length === 0 && html`<p class="state">${t('app.channel.noPosts')}</p>`}
    <div class="posts channel-posts" data-channel=${handle}>${rest.map(render)}</div>
    ${!following && html`<div class="follow-bar"><button type="button" class="btn btn-primary" onClick=${follow} disabled=${busy}>
      ${t('app.channel.followName', { name: ch.name })}</button></div>`}
    ${pill && html`<button type="button" class="pill" onClick=${() => { setPill(false); toEnd(smooth()); }}>
      <span aria-hidden="true">↓</span> ${t('app.channel.newPill')}</button>`}
    ${photo && html`<dialog ref=${dlg} class="lightbox" aria-label=${photo.alt || t('app.post.photo')} onClose=${() => setPhoto(null)}
      onClick=${(e) => { if (e.target === dlg.current) dlg.current.close(); }}>
      <img src=${photo.src} alt=${photo.alt} />
      <button type="button" class="btn btn-secondary" onClick=${() => dlg.current.close()}>${t('app.close')}</button>
    </dialog>`}
  </div>`;
}

async function fetchPost(id) {
  try { return await call('GET', `/api/v1/posts/${encodeURIComponent(id)}`); } catch { return null; }
}

// Follow or unfollow; returns the sentence to show. Shared with page.js.
export async function toggleFollow(handle, invite, following, name) {
  try {
    if (following) await api.unfollow(handle);
    else await api.follow(handle, invite);
    await loadFollows();
    const fresh = await api.channel(handle, following ? undefined : invite).catch(() => null);
    if (fresh) { S.channels[handle] = { ...S.channels[handle], ...fresh }; changed(); }
    return t(following ? 'app.channel.unfollowed' : 'app.channel.followed', { name });
  } catch (e) {
    return t(e.status === 410 || e.status === 404 ? 'app.channel.inviteGone' : 'app.error.retry');
  }
}

// A post's reaction and vote handlers for a reader of channel `handle`. Shared with page.js.
export function postActions(handle, following, setNote) {
  const needFollow = () => setNote(t('app.channel.followFirst'));
  const react = (post) => async (emoji) => {
    if (!following) return needFollow();
    const before = myChoice(post.id).reaction || null;
    try {
      await api.react(post.id, emoji);
      setMyChoice(post.id, { reaction: emoji });
      // Show it at once; the counts event confirms within a second.
      const r = { ...(post.reactions || {}) };
      if (before) r[before] = Math.max(0, (r[before] || 1) - 1);
      if (emoji) r[emoji] = (r[emoji] || 0) + 1;
      for (const k of Object.keys(r)) if (!r[k]) delete r[k];
      post.reactions = r;
      changed();
    } catch (e) {
      setNote(e.code === 'emoji_not_allowed' || e.code === 'invalid_emoji' ? t('app.reactions.notAllowed') : t('app.error.retry'));
    }
    return undefined;
  };
  const vote = (post) => async (options) => {
    if (!following) return needFollow();
    try {
      await api.vote(post.id, options);
      setMyChoice(post.id, { vote: options });
      const fresh = await fetchPost(post.id);
      if (fresh) Object.assign(post, { poll: fresh.poll });
      changed();
    } catch (e) {
      setNote(e.code === 'poll_closed' ? t('app.poll.closed') : t('app.error.retry'));
    }
    return undefined;
  };
  return { react, vote };
}
