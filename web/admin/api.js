// SPDX-License-Identifier: AGPL-3.0-or-later
// The console's side of the HTTP API (docs/API.md): the staff session cookie (HttpOnly, set by
// the server) plus its CSRF token on every write, never a follower token. Every request carries
// `X-Araldo-Console`, which tells the app's service worker to leave it alone (never cached).
import { ApiError } from '../app/api.js';

export { ApiError };

let csrf = '';
const expiredHandlers = new Set();

export const setCsrf = (v) => { csrf = v || ''; };
// Called with the failed request's error when the session ended (401): the console asks for
// the password again in a dialog, keeping the screen (and what is being written) as it is.
export const onExpired = (fn) => { expiredHandlers.add(fn); return () => expiredHandlers.delete(fn); };

function expired(e) {
  for (const fn of expiredHandlers) fn(e);
}

export async function call(method, path, body, { quiet401 = false } = {}) {
  const headers = { 'x-araldo-console': '1' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
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
    const e = (data && data.error) || {};
    const err = new ApiError(r.status, e.code || 'http', e.message);
    err.field = e.field;
    if (r.status === 401 && !quiet401) expired(err);
    throw err;
  }
  return data;
}

// An upload with progress (fetch cannot report it) that can be cancelled:
// upload(file, (fraction) => …) returns { promise, abort }.
export function upload(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', '/api/v1/media');
    xhr.setRequestHeader('x-araldo-console', '1');
    if (csrf) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 201) return resolve(data);
      const e = (data && data.error) || {};
      const err = new ApiError(xhr.status, e.code || 'http', e.message);
      if (xhr.status === 401) expired(err);
      return reject(err);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'aborted'));
    const fd = new FormData();
    fd.append('file', file);
    xhr.send(fd);
  });
  return { promise, abort: () => xhr.abort() };
}

const enc = encodeURIComponent;
const qs = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  const str = s.toString();
  return str ? `?${str}` : '';
};

export const admin = {
  session: () => call('GET', '/api/v1/session', undefined, { quiet401: true }),
  signIn: (email, password) => call('POST', '/api/v1/session', { email, password }, { quiet401: true }),
  signOut: () => call('DELETE', '/api/v1/session', undefined, { quiet401: true }),
  password: (current, next) => call('PUT', '/api/v1/me/password', { current_password: current, new_password: next }),
  orgs: () => call('GET', '/api/v1/orgs'),
  org: (slug) => call('GET', `/api/v1/orgs/${enc(slug)}`),
  createOrg: (body) => call('POST', '/api/v1/orgs', body),
  orgChannels: (slug) => call('GET', `/api/v1/orgs/${enc(slug)}/channels`),
  channel: (h) => call('GET', `/api/v1/channels/${enc(h)}`),
  createChannel: (body) => call('POST', '/api/v1/channels', body),
  patchChannel: (h, body) => call('PATCH', `/api/v1/channels/${enc(h)}`, body),
  deleteChannel: (h) => call('DELETE', `/api/v1/channels/${enc(h)}`),
  posts: (h, before) => call('GET', `/api/v1/channels/${enc(h)}/posts${qs({ limit: 50, before })}`),
  createPost: (h, body) => call('POST', `/api/v1/channels/${enc(h)}/posts`, body),
  patchPost: (id, body) => call('PATCH', `/api/v1/posts/${enc(id)}`, body),
  deletePost: (id) => call('DELETE', `/api/v1/posts/${enc(id)}`),
  pushStatus: (id) => call('GET', `/api/v1/posts/${enc(id)}/push`),
  edits: (id) => call('GET', `/api/v1/posts/${enc(id)}/edits`),
  pin: (h, id) => (id ? call('PUT', `/api/v1/channels/${enc(h)}/pin`, { post_id: id }) : call('DELETE', `/api/v1/channels/${enc(h)}/pin`)),
  preview: (text) => call('POST', '/api/v1/preview', { text }),
  stats: (h, days = 90) => call('GET', `/api/v1/channels/${enc(h)}/stats?days=${days}`),
  admins: (h) => call('GET', `/api/v1/channels/${enc(h)}/admins`),
  inviteAdmin: (h, email) => call('POST', `/api/v1/channels/${enc(h)}/admins`, { email }),
  dismissAdmin: (h, userId) => call('DELETE', `/api/v1/channels/${enc(h)}/admins/${enc(userId)}`),
  transfer: (h, userId) => call('POST', `/api/v1/channels/${enc(h)}/owner`, { user_id: userId }),
  myInvitations: () => call('GET', '/api/v1/me/invitations'),
  acceptInvitation: (id) => call('POST', `/api/v1/invitations/${enc(id)}/accept`),
  declineInvitation: (id) => call('DELETE', `/api/v1/invitations/${enc(id)}`),
  invites: (h) => call('GET', `/api/v1/channels/${enc(h)}/invites`),
  createInvite: (h, body) => call('POST', `/api/v1/channels/${enc(h)}/invites`, body),
  revokeInvite: (h, code) => call('DELETE', `/api/v1/channels/${enc(h)}/invites/${enc(code)}`),
  staff: (slug) => call('GET', `/api/v1/orgs/${enc(slug)}/staff`),
  addStaff: (slug, email, role) => call('POST', `/api/v1/orgs/${enc(slug)}/staff`, { email, role }),
  disableStaff: (slug, id) => call('DELETE', `/api/v1/orgs/${enc(slug)}/staff/${enc(id)}`),
  audit: (slug, f) => call('GET', `/api/v1/orgs/${enc(slug)}/audit${qs(f)}`),
};
