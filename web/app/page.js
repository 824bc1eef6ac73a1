// SPDX-License-Identifier: AGPL-3.0-or-later
// Makes the server's pages /c/{handle} and /i/{code} live (docs/WEB.md): "Segui" follows right
// here, reactions and votes work, new posts arrive over the stream. The server's HTML stays the
// page without JavaScript; this replaces its posts with the same markup, rendered by the app's
// own components, newest first like the server's.
import { html, render, useState, useEffect, useRef } from './lib.js';
import { loadLang, t, tn } from './i18n.js';
import { api } from './api.js';
import {
  S, useStore, loadChannel, loadFollows, isFollowing, previewStream, viewed, myChoice,
} from './state.js';
import { Post } from './post.js';
import { toggleFollow, postActions } from './channel.js';
import { AlertBanners } from './alerts.js';

const box = document.querySelector('.posts[data-channel]');
const link = document.querySelector('.follow-button[data-action="follow"]');

function Controls({ handle, invite, setNote }) {
  const s = useStore();
  const [busy, setBusy] = useState(false);
  const following = isFollowing(handle);
  const ch = s.channels[handle] || {};
  const mine = following && s.follows.find((c) => c.handle === handle);
  useEffect(() => {
    const count = document.querySelector('.followers-count');
    if (count && ch.followers_count !== undefined) {
      count.dataset.count = ch.followers_count;
      count.textContent = tn('app.channel.followers', ch.followers_count);
    }
  }, [ch.followers_count]);
  const follow = async () => {
    setBusy(true);
    setNote(await toggleFollow(handle, invite, following, ch.name || handle));
    setBusy(false);
    previewStream(isFollowing(handle) ? null : handle, invite);
  };
  const mute = async () => {
    setBusy(true);
    try { await api.mute(handle, !mine.muted); await loadFollows(); } catch { setNote(t('app.error.retry')); }
    setBusy(false);
  };
  return html`<button type="button" class=${`btn ${following ? 'btn-secondary' : 'btn-primary'} follow-button`}
      aria-pressed=${following ? 'true' : 'false'} disabled=${busy} onClick=${follow}>${following ? t('app.channel.unfollow') : t('app.channel.follow')}</button>
    ${following && html` <button type="button" class="btn btn-secondary" aria-pressed=${mine.muted ? 'true' : 'false'} disabled=${busy}
      onClick=${mute}>${mine.muted ? t('app.channel.unmute') : t('app.channel.mute')}</button>
      <a class="btn btn-secondary" href=${`/#/c/${encodeURIComponent(handle)}`}>${t('app.page.openApp')}</a>`}`;
}

function Posts({ handle, invite, setNote }) {
  const s = useStore();
  const [pill, setPill] = useState(false);
  const [announce, setAnnounce] = useState('');
  const count = useRef(-1);
  const posts = s.posts[handle];
  const ch = s.channels[handle];
  const following = isFollowing(handle);
  const list = posts ? posts.list.slice().reverse() : [];
  const n = list.length;
  useEffect(() => {
    if (count.current >= 0 && n > count.current) {
      // Newest first: a new post goes on top; the browser's scroll anchoring keeps the reader
      // where they are, and the pill says something came.
      if (box.getBoundingClientRect().top < 0) setPill(true);
      setAnnounce(s.announce);
    }
    count.current = n;
  }, [n]);
  useEffect(() => {
    if (!following) return undefined;
    const io = new IntersectionObserver((es) => {
      for (const e of es) if (e.isIntersecting) viewed(e.target.dataset.id, handle);
    }, { threshold: 0.5 });
    for (const a of box.querySelectorAll('article.post')) io.observe(a);
    return () => io.disconnect();
  }, [following, n]);
  useEffect(() => {
    const off = () => { if (box.getBoundingClientRect().top >= 0) setPill(false); };
    addEventListener('scroll', off, { passive: true });
    return () => removeEventListener('scroll', off);
  }, []);
  if (!posts || !ch) return null;
  const { react, vote } = postActions(handle, following, setNote);
  return html`${list.map((p) => html`<${Post} key=${p.id} post=${p} channel=${ch} mine=${myChoice(p.id)} canAct=${following}
      onReact=${react(p)} onVote=${vote(p)} />`)}
    ${list.length === 0 && html`<p class="card muted posts-empty">${t('app.channel.noPosts')}</p>`}
    <div class="sr-only" aria-live="polite">${announce}</div>
    ${pill && html`<button type="button" class="pill" onClick=${() => { setPill(false); box.scrollIntoView(); }}>
      <span aria-hidden="true">↑</span> ${t('app.channel.newPill')}</button>`}`;
}

function Note({ text }) {
  return html`<p class="notice note" role="status">${text}</p>`;
}

async function start() {
  const handle = box.dataset.channel;
  const invite = (link && link.dataset.invite) || undefined;
  await loadLang(document.documentElement.lang === 'en' ? 'en' : 'it');
  await loadFollows();
  await loadChannel(handle, invite);
  let setNote = () => {};
  const noteBox = document.createElement('div');
  const controls = document.createElement('div');
  controls.className = 'page-follow';
  if (link) {
    link.replaceWith(controls);
    controls.after(noteBox);
    const NoteHost = () => {
      const [text, set] = useState('');
      setNote = set;
      return html`<${Note} text=${text} />`;
    };
    render(html`<${NoteHost} />`, noteBox);
    render(html`<${Controls} handle=${handle} invite=${invite} setNote=${(x) => setNote(x)} />`, controls);
  }
  // The alert banner, the app's own, under the header (before the streams start).
  const header = document.querySelector('header.site-header');
  if (header) {
    const banners = document.createElement('div');
    header.after(banners);
    render(html`<${AlertBanners} />`, banners);
  }
  // The server's live region would read every count change: this module announces new posts only.
  box.removeAttribute('aria-live');
  box.textContent = '';
  render(html`<${Posts} handle=${handle} invite=${invite} setNote=${(x) => setNote(x)} />`, box);
  S.viewing = handle;
  if (!isFollowing(handle)) previewStream(handle, invite);
}

if (box) start().catch(() => { /* the server's page stays as it was: complete without us */ });
