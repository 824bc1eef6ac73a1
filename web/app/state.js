// SPDX-License-Identifier: AGPL-3.0-or-later
// What the app knows, in one place: followed channels, channels and their posts, the live
// connection. Screens read it through useStore() and re-render when it changes.
import { useEffect, useState } from './lib.js';
import { api, token } from './api.js';
import { Stream } from './stream.js';
import { t } from './i18n.js';

const listeners = new Set();
let version = 0;
export const S = {
  follows: null, // [channel + muted, unread, last_post] or null before the first load
  channels: {}, // handle -> channel object
  posts: {}, // handle -> { list: [post, oldest first], next, loaded }
  conn: 'idle', // idle | connecting | live | reconnecting | offline
  updatedAt: stored('araldo.updated'),
  announce: '',
  // civil-protection alerts: id -> alert object (alerts.js shows them), remembered so that a
  // phone without network still shows what was in force until its expiry
  alerts: storedAlerts(),
};

function storedAlerts() {
  try {
    const all = JSON.parse(localStorage.getItem('araldo.alerts')) || {};
    const now = Date.now();
    for (const [id, a] of Object.entries(all)) if (!(Date.parse(a.expires) > now)) delete all[id];
    return all;
  } catch { return {}; }
}

function stored(k) {
  try { return localStorage.getItem(k); } catch { return null; }
}

export function changed() {
  version++;
  for (const f of listeners) f(version);
}

export function useStore() {
  const [, set] = useState(0);
  const at = version;
  useEffect(() => {
    listeners.add(set);
    if (version !== at) set(version); // changed between render and subscription
    return () => listeners.delete(set);
  }, []);
  return S;
}

function markUpdated() {
  S.updatedAt = new Date().toISOString();
  try { localStorage.setItem('araldo.updated', S.updatedAt); } catch { /* fine */ }
}

// ---- what this browser remembers of its own reactions and votes (the API gives counts only) ----
const MINE = 'araldo.mine';
let mine = null;
export function myChoice(postId) {
  if (!mine) { try { mine = JSON.parse(localStorage.getItem(MINE)) || {}; } catch { mine = {}; } }
  return mine[postId] || {};
}
export function setMyChoice(postId, patch) {
  const cur = { ...myChoice(postId), ...patch };
  mine[postId] = cur;
  try { localStorage.setItem(MINE, JSON.stringify(mine)); } catch { /* fine */ }
}
export function forgetMine() { mine = {}; }

// ---- loading ----
export async function loadFollows() {
  if (!token()) {
    S.follows = [];
    changed();
    return;
  }
  try {
    const { channels } = await api.myChannels();
    S.follows = channels;
    for (const c of channels) S.channels[c.handle] = { ...S.channels[c.handle], ...c };
    markUpdated();
  } catch (e) {
    if (!S.follows) S.follows = [];
    if (e.status === 401) S.follows = [];
  }
  changed();
  syncStream();
}

export const isFollowing = (h) => !!(S.follows && S.follows.some((c) => c.handle === h));

export async function loadChannel(h, invite) {
  const [ch, ps] = await Promise.all([api.channel(h, invite), api.posts(h, { invite })]);
  S.channels[h] = { ...S.channels[h], ...ch };
  const known = S.posts[h];
  const list = ps.posts.slice().reverse();
  // Live posts that came in while this loaded stay; everything is by id, never twice.
  if (known) for (const p of known.list) if (!list.some((q) => q.id === p.id)) list.push(p);
  list.sort(byTime);
  S.posts[h] = { list, next: ps.next, loaded: true };
  if (isFollowing(h)) markUpdated();
  changed();
}

export async function loadOlder(h, invite) {
  const cur = S.posts[h];
  if (!cur || !cur.next) return;
  const ps = await api.posts(h, { invite, before: cur.next });
  const older = ps.posts.slice().reverse().filter((p) => !cur.list.some((q) => q.id === p.id));
  cur.list = older.concat(cur.list);
  cur.next = ps.next;
  changed();
}

const byTime = (a, b) => (a.published_at < b.published_at ? -1 : a.published_at > b.published_at ? 1 : Number(a.id) - Number(b.id));

// ---- civil-protection alerts (docs/API.md "Alerts on the live streams") ----
// The status at stream start replaces what was known of its org's public alerts; an alert
// event adds itself and ends what it references (Update, Cancel). Returns true when it changed.
function alertEvent(type, d) {
  if (type === 'alerts.current') {
    if (!d || !d.org) return false;
    for (const [id, a] of Object.entries(S.alerts)) if (a.org === d.org && a.status === 'Actual') delete S.alerts[id];
    for (const a of (d.alerts || []).concat(d.upcoming || [])) S.alerts[a.id] = a;
    return true;
  }
  if (!d || !d.id || d.status === 'Test') return false;
  for (const r of d.references || []) delete S.alerts[r];
  if (d.msg_type !== 'Cancel' && (!d.state || d.state === 'published')) S.alerts[d.id] = d;
  return true;
}

// ---- live events ----
function upsertPost(p, fresh) {
  const h = p.channel;
  const cur = S.posts[h];
  let isNew = false;
  if (cur) {
    const i = cur.list.findIndex((q) => q.id === p.id);
    if (i >= 0) cur.list[i] = { ...cur.list[i], ...p };
    else { cur.list.push(p); cur.list.sort(byTime); isNew = true; }
    if (p.pinned) for (const q of cur.list) if (q.id !== p.id) q.pinned = false;
  } else {
    isNew = true;
  }
  const f = S.follows && S.follows.find((c) => c.handle === h);
  if (f && fresh && (!f.last_post || f.last_post.id !== p.id)) {
    if (!f.last_post || f.last_post.published_at <= p.published_at) {
      f.last_post = { id: p.id, text: p.text.slice(0, 160), published_at: p.published_at };
    }
    if (isNew && S.viewing !== h) f.unread = (f.unread || 0) + 1;
  }
  return isNew;
}

export function onEvent(type, d) {
  if (type === 'post.created') {
    const isNew = upsertPost(d, true);
    if (isNew) {
      const ch = S.channels[d.channel];
      S.announce = t('app.live.newPost', { channel: ch ? ch.name : d.channel, text: d.text.slice(0, 120) });
    }
  } else if (type === 'post.edited') {
    upsertPost(d, false);
  } else if (type === 'post.deleted') {
    for (const h of Object.keys(S.posts)) S.posts[h].list = S.posts[h].list.filter((p) => p.id !== d.id);
  } else if (type === 'counts') {
    for (const h of Object.keys(S.posts)) {
      const p = S.posts[h].list.find((q) => q.id === d.post);
      if (p) Object.assign(p, { reactions: d.reactions, poll: d.poll, views: d.views });
    }
  } else if (type === 'channel.updated') {
    const c = S.channels[d.handle];
    if (c) Object.assign(c, d.changed);
    // A pin moved: the posts say which one is pinned.
    if (d.changed && 'pinned_post_id' in d.changed && S.posts[d.handle]) {
      for (const p of S.posts[d.handle].list) p.pinned = p.id === d.changed.pinned_post_id;
    }
    const f = S.follows && S.follows.find((x) => x.handle === d.handle);
    if (f) Object.assign(f, d.changed);
  } else if (type === 'alert' || type === 'alerts.current') {
    if (alertEvent(type, d)) {
      try { localStorage.setItem('araldo.alerts', JSON.stringify(S.alerts)); } catch { /* not remembered */ }
      changed();
    }
    return;
  } else if (type === 'reset') {
    if (S.posts[d.channel]) loadChannel(d.channel, S.invite).catch(() => {});
    return;
  } else {
    return;
  }
  markUpdated();
  changed();
}

// ---- the streams: the follower's own (every followed channel, kept up to date by the
// server), and a preview stream for a channel being read without following it ----
let mineStream = null;
let preview = null;

function setConn(state) {
  if (S.conn !== state) { S.conn = state; changed(); }
}

export function syncStream() {
  const want = !!token() && S.follows && S.follows.length > 0;
  if (want && !mineStream) {
    mineStream = new Stream({
      url: '/api/v1/stream',
      auth: () => (token() ? `Bearer ${token()}` : null),
      onEvent,
      onState: (st, info) => {
        if (st === 'live' && !info.resumed) {
          // A fresh stream starts live: read the lists now, so nothing falls in between.
          loadFollows();
          for (const h of Object.keys(S.posts)) if (isFollowing(h)) loadChannel(h).catch(() => {});
        }
        if (st === 'stopped') { mineStream = null; setConn('idle'); return; }
        setConn(st);
      },
    });
    mineStream.start();
  } else if (!want && mineStream) {
    const s = mineStream;
    mineStream = null;
    s.stop();
  }
}

export function previewStream(h, invite) {
  if (preview && preview.handle === h && !isFollowing(h)) return;
  if (preview) preview.stop();
  preview = null;
  if (!h || isFollowing(h)) return;
  const qs = new URLSearchParams({ channels: h });
  if (invite) qs.set('invite', invite);
  preview = new Stream({ url: `/api/v1/stream?${qs}`, auth: () => null, onEvent, onState: () => {} });
  preview.handle = h;
  preview.start();
}

export function stopAll() {
  if (mineStream) mineStream.stop();
  if (preview) preview.stop();
  mineStream = null;
  preview = null;
}

// ---- views: the posts shown on screen, reported in batches (docs/API.md POST /views) ----
const seen = new Set();
let pending = [];
let flushTimer = null;
export function viewed(postId, h) {
  if (!token() || !isFollowing(h) || seen.has(postId)) return;
  seen.add(postId);
  pending.push(postId);
  if (!flushTimer) flushTimer = setTimeout(flushViews, 1500);
}
async function flushViews() {
  flushTimer = null;
  const batch = pending.splice(0, 100);
  if (!batch.length) return;
  try {
    await api.views(batch);
    loadFollows();
  } catch {
    for (const id of batch) seen.delete(id);
  }
  if (pending.length) flushTimer = setTimeout(flushViews, 1500);
}
