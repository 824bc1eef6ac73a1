// SPDX-License-Identifier: AGPL-3.0-or-later
// Notifications on this device (Web Push; docs/PUSH.md, API.md "Push notifications"): what the
// browser can do, turning them on (permission asked only from the tap on "Attiva notifiche")
// and off, and the per-channel switches. The service worker shows them (sw.js.in).
import { call, ensureToken, token } from './api.js';
import { currentLang, onLangChosen } from './i18n.js';

const enc = encodeURIComponent;

// iPhone and iPad (also iPadOS that says it is a Mac) have Web Push only in an app added to the
// home screen (iOS 16.4+); in Safari's tabs PushManager does not even exist.
export const isIOS = () => /iPad|iPhone|iPod/.test(navigator.userAgent)
  || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
export const standalone = () => matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;

// What this browser allows, before asking anything: 'ios-install' | 'unsupported' | 'denied' | 'ok'.
export function support() {
  if (isIOS() && !standalone()) return 'ios-install';
  if (!('serviceWorker' in navigator) || !('PushManager' in self) || !('Notification' in self)) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  return 'ok';
}

const registration = () => navigator.serviceWorker.ready;

// This device's subscription, if it has one and notifications are still allowed.
export async function current() {
  if (support() !== 'ok') return null;
  const reg = await registration();
  const sub = await reg.pushManager.getSubscription();
  return sub && Notification.permission === 'granted' ? sub : null;
}

// The service worker cannot read localStorage: it finds the token here when the push service
// changes the subscription (pushsubscriptionchange).
function kv(fn) {
  return new Promise((resolve) => {
    const open = indexedDB.open('araldo', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onerror = () => resolve();
    open.onsuccess = () => {
      try {
        const tx = open.result.transaction('kv', 'readwrite');
        fn(tx.objectStore('kv'));
        tx.oncomplete = () => { open.result.close(); resolve(); };
        tx.onerror = () => resolve();
      } catch { resolve(); }
    };
  });
}
const keepToken = (tok) => kv((s) => { s.put(tok, 'token'); s.put(currentLang(), 'lang'); });
// The service worker writes report notifications in this copy of the app's language: a change
// in Impostazioni (or the header's switch) after notifications were turned on must reach it.
onLangChosen((l) => (self.indexedDB ? kv((s) => s.put(l, 'lang')) : undefined));
export const forgetPushToken = () => (self.indexedDB ? kv((s) => s.delete('token')) : Promise.resolve());

export class PushError extends Error {
  constructor(code) { super(code); this.code = code; }
}

const keyBytes = (b64) => {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
};

// The tap on "Attiva notifiche". Throws PushError: 'denied' (said no now or before), 'dismissed'
// (closed the question), 'unreachable' (the browser's push service did not answer), 'server'.
export async function enable() {
  // Already allowed: answers at once without a question; otherwise the browser asks now.
  const perm = await Notification.requestPermission();
  if (perm === 'denied') throw new PushError('denied');
  if (perm !== 'granted') throw new PushError('dismissed');
  let key;
  try {
    await ensureToken();
    ({ public_key: key } = await call('GET', '/api/v1/push/key'));
  } catch { throw new PushError('server'); }
  const reg = await registration();
  let sub;
  try {
    sub = await reg.pushManager.getSubscription();
    // A subscription made for another key (the server's key was replaced) is useless.
    const opt = sub && sub.options && sub.options.applicationServerKey;
    if (sub && opt && btoa(String.fromCharCode(...new Uint8Array(opt))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') !== key) {
      await sub.unsubscribe();
      sub = null;
    }
    if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  } catch (e) {
    if (Notification.permission === 'denied') throw new PushError('denied');
    throw new PushError('unreachable');
  }
  try {
    await call('POST', '/api/v1/push/subscriptions', sub.toJSON());
  } catch (e) {
    throw new PushError(e.code === 'too_many_subscriptions' ? 'too_many' : 'server');
  }
  await keepToken(token());
  return sub;
}

// Off on this device: the browser forgets the subscription, then the server does.
export async function disable() {
  const sub = await current().catch(() => null);
  if (!sub) return;
  const { endpoint } = sub;
  await sub.unsubscribe().catch(() => {});
  if (token()) {
    try { await call('DELETE', '/api/v1/push/subscriptions', { endpoint }); } catch (e) { if (e.status !== 404 && e.status !== 401) throw e; }
  }
}

// After "forget this device" (the server already deleted the subscriptions).
export async function forgetLocal() {
  try {
    if ('serviceWorker' in navigator && 'PushManager' in self) {
      const reg = await navigator.serviceWorker.getRegistration();
      const sub = reg && await reg.pushManager.getSubscription();
      if (sub) await sub.unsubscribe();
    }
  } catch { /* nothing to forget */ }
  await forgetPushToken();
}

export const channelPush = (h, on) => call(on ? 'PUT' : 'DELETE', `/api/v1/channels/${enc(h)}/push`);
