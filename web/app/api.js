// SPDX-License-Identifier: AGPL-3.0-or-later
// The HTTP API (docs/API.md) and the follower's identity: an anonymous token kept in this
// browser's localStorage and sent only as `Authorization`, never in a URL.
const TOKEN = 'araldo.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  try { return localStorage.getItem(TOKEN); } catch { return null; }
}

function setToken(v) {
  try {
    if (v) localStorage.setItem(TOKEN, v);
    else localStorage.removeItem(TOKEN);
  } catch { /* private mode: the identity lasts as long as the page */ }
}

// One JSON call. Sends the follower token when there is one; a 401 for it means it was
// forgotten (here or elsewhere): drop it, following again makes a new one.
export async function call(method, path, body) {
  const headers = {};
  const tok = token();
  if (tok) headers.authorization = `Bearer ${tok}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'network');
  }
  if (r.status === 204) return null;
  let data = null;
  try { data = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) {
    if (r.status === 401 && tok) setToken(null);
    const e = (data && data.error) || {};
    throw new ApiError(r.status, e.code || 'http', e.message);
  }
  return data;
}

// The token, made on first need (following a channel).
export async function ensureToken() {
  if (token()) return token();
  const r = await fetch('/api/v1/followers', { method: 'POST' });
  if (!r.ok) throw new ApiError(r.status, 'follower_create', '');
  const { token: tok } = await r.json();
  setToken(tok);
  return tok;
}

// "Dimentica questo dispositivo": the server deletes the follower and everything tied to it,
// then this browser forgets the token, its remembered reactions and votes and the offline copies.
export async function forgetDevice() {
  if (token()) {
    try {
      await call('DELETE', '/api/v1/me');
    } catch (e) {
      if (e.status !== 401) throw e; /* already forgotten */
    }
  }
  const lang = localStorage.getItem('araldo.lang');
  localStorage.clear();
  if (lang) localStorage.setItem('araldo.lang', lang); // a preference, not an identity
  if (self.caches) for (const k of await caches.keys()) if (k.startsWith('araldo-data')) await caches.delete(k);
}

const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  const str = s.toString();
  return str ? `?${str}` : '';
};
const enc = encodeURIComponent;

export const api = {
  myChannels: () => call('GET', '/api/v1/me/channels'),
  directory: (p) => call('GET', `/api/v1/channels${q(p)}`),
  channel: (h, invite) => call('GET', `/api/v1/channels/${enc(h)}${q({ invite })}`),
  posts: (h, { invite, before, limit = 20 } = {}) => call('GET', `/api/v1/channels/${enc(h)}/posts${q({ invite, before, limit })}`),
  invite: (code) => call('GET', `/api/v1/invites/${enc(code)}`),
  follow: async (h, invite) => { await ensureToken(); return call('PUT', `/api/v1/channels/${enc(h)}/follow`, invite ? { invite } : undefined); },
  unfollow: (h) => call('DELETE', `/api/v1/channels/${enc(h)}/follow`),
  mute: (h, on) => call(on ? 'PUT' : 'DELETE', `/api/v1/channels/${enc(h)}/mute`),
  react: (id, emoji) => (emoji ? call('PUT', `/api/v1/posts/${enc(id)}/reaction`, { emoji }) : call('DELETE', `/api/v1/posts/${enc(id)}/reaction`)),
  vote: (id, options) => (options && options.length ? call('PUT', `/api/v1/posts/${enc(id)}/vote`, { options }) : call('DELETE', `/api/v1/posts/${enc(id)}/vote`)),
  views: (posts) => call('POST', '/api/v1/views', { posts }),
};
