// SPDX-License-Identifier: AGPL-3.0-or-later
// Strings from web/i18n/{it,en}.json (one catalogue per language, shared with the server's
// pages). The language is the one chosen in Settings, else the browser's, else Italian.
export const LANGS = ['it', 'en'];
const KEY = 'araldo.lang';
let lang = 'it';
let cat = {};
const chosen = []; // called with the language the citizen picked (push.js keeps a copy for the sw)
export const onLangChosen = (fn) => { chosen.push(fn); };

export function chosenLang() {
  try {
    const saved = localStorage.getItem(KEY);
    if (LANGS.includes(saved)) return saved;
  } catch { /* storage off: the browser's language */ }
  for (const l of navigator.languages || [navigator.language || 'it']) {
    const base = String(l).slice(0, 2).toLowerCase();
    if (LANGS.includes(base)) return base;
  }
  return 'it';
}

// Loads the catalogue of `l` (relative to this module, so it comes under the same version).
export async function loadLang(l, remember = false) {
  const r = await fetch(new URL(`../i18n/${l}.json`, import.meta.url));
  if (!r.ok) throw new Error(`i18n ${l}: ${r.status}`);
  cat = await r.json();
  lang = l;
  document.documentElement.lang = l;
  if (remember) {
    try { localStorage.setItem(KEY, l); } catch { /* not remembered */ }
    await Promise.all(chosen.map((fn) => fn(l)));
  }
}

export const currentLang = () => lang;

// t('app.home.title'), t('app.x', { n: 3 }) with "{n}" in the string. A missing key shows
// itself, so a test finds it.
export function t(key, vars) {
  let s = cat[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

// Plural: key.one / key.other by the language's rules.
export function tn(key, n, vars = {}) {
  const form = new Intl.PluralRules(lang).select(n) === 'one' ? 'one' : 'other';
  return t(`${key}.${form}`, { n: fmtNum(n), ...vars });
}

export const fmtNum = (n) => new Intl.NumberFormat(lang).format(n);

export function fmtSize(bytes) {
  if (!(bytes >= 0)) return '';
  const u = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  let v = bytes;
  while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: i ? 1 : 0 }).format(v)} ${u[i]}`;
}

export function fmtAbsolute(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

// "2 ore fa", "ieri", "tra 3 giorni"; older than a week: the date.
export function fmtRelative(iso, now = Date.now()) {
  const d = new Date(iso).getTime();
  const s = Math.round((d - now) / 1000);
  const a = Math.abs(s);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  if (a < 45) return t('app.time.now');
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  if (a < 7 * 86400) return rtf.format(Math.round(s / 86400), 'day');
  return new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'long', year: 'numeric' }).format(d);
}
