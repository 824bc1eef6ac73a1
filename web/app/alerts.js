// SPDX-License-Identifier: AGPL-3.0-or-later
// The civil-protection alert banner (docs/ALERTS.md, docs/WEB-APP.md "Alert banner"): what is in
// force above verde for the orgs of the streams this page listens to. The stream sends the
// status at start (`alerts.current`) and each alert as it goes out (`alert`); an alert's banner
// goes at its `expires` by this device's clock (the server sends nothing at expiry), or when a
// Cancel or Update names it. Exercises come as events only and are shown marked as such.
import { html, useEffect, useRef, useState } from './lib.js';
import { t, currentLang } from './i18n.js';
import { S, useStore } from './state.js';

// S.alerts (state.js): id -> alert object, one banner per id, however many channels of the org
// carried it.

export const LEVELS = ['verde', 'giallo', 'arancione', 'rosso'];
const rank = (l) => LEVELS.indexOf(l);

// In force now by this device's clock, above verde, highest level first then newest.
export function shownAlerts(now = Date.now()) {
  return Object.values(S.alerts)
    .filter((a) => rank(a.level) > 0 && Date.parse(a.onset) <= now && Date.parse(a.expires) > now && !a.replaced_by)
    .sort((a, b) => rank(b.level) - rank(a.level) || (a.sent < b.sent ? 1 : -1));
}

// The next onset or expiry still ahead: when the banners must be looked at again.
function nextChange(now) {
  let next = Infinity;
  for (const a of Object.values(S.alerts)) {
    for (const v of [Date.parse(a.onset), Date.parse(a.expires)]) if (v > now && v < next) next = v;
  }
  return next;
}

export function infoFor(a, lang = currentLang()) {
  const info = a.info || [];
  return info.find((i) => i.language === lang) || info.find((i) => i.language === 'it') || info[0] || { headline: '' };
}

export function fmtUntil(iso, lang = currentLang()) {
  const d = new Date(iso);
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'it-IT', {
    weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit',
  }).format(d);
}

const ICON = { giallo: '⚠', arancione: '⚠', rosso: '⛔' };

// One banner. `href` null: a preview (the console), not a link.
export function AlertBanner({ alert: a, href }) {
  const info = infoFor(a);
  const exercise = a.status !== 'Actual';
  const body = html`
    <span class="alert-icon" aria-hidden="true">${ICON[a.level] || '⚠'}</span>
    <span class="alert-text">
      ${exercise && html`<strong class="alert-exercise">${t('app.alert.exercise')}</strong> `}
      <strong class="alert-level">${t(`app.alert.level.${a.level}`)}</strong>
      <span class="alert-headline">${info.headline}</span>
      <span class="alert-until">${t('app.alert.until', { when: fmtUntil(a.expires) })}</span>
      ${href && html`<span class="alert-more">${t('app.alert.more')} <span aria-hidden="true">›</span></span>`}
    </span>`;
  const cls = `alert-banner alert-${a.level}${exercise ? ' alert-is-exercise' : ''}`;
  return href
    ? html`<a class=${cls} href=${href} data-alert=${a.id}>${body}</a>`
    : html`<div class=${cls} data-alert=${a.id}>${body}</div>`;
}

export function announceText(a) {
  const info = infoFor(a);
  const ex = a.status !== 'Actual' ? `${t('app.alert.exercise')}. ` : '';
  return `${ex}${t(`app.alert.level.${a.level}`)}: ${info.headline}. ${t('app.alert.until', { when: fmtUntil(a.expires) })}`;
}

// Every banner in force, and the announcement of each new one: assertive for arancione and
// rosso, polite for giallo. The live regions stay in the page (empty) so that screen readers
// hear what is put in them.
export function AlertBanners() {
  useStore();
  const [, tick] = useState(0);
  const [said, setSaid] = useState({ polite: '', assertive: '' });
  const seen = useRef(null);
  const now = Date.now();
  const list = shownAlerts(now);
  useEffect(() => {
    const next = nextChange(Date.now());
    if (next === Infinity) return undefined;
    const timer = setTimeout(() => tick((x) => x + 1), Math.min(next - Date.now() + 50, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  });
  useEffect(() => {
    const ids = new Set(list.map((a) => a.id));
    if (seen.current) {
      const fresh = list.filter((a) => !seen.current.has(a.id));
      const loud = fresh.filter((a) => rank(a.level) >= 2).map(announceText).join(' ');
      const soft = fresh.filter((a) => rank(a.level) < 2).map(announceText).join(' ');
      if (loud || soft) setSaid({ polite: soft, assertive: loud });
    }
    seen.current = ids;
  });
  return html`<div class="alert-banners">
    ${list.length > 0 && html`<section aria-label=${t('app.alert.region')}>
      ${list.map((a) => html`<${AlertBanner} key=${a.id} alert=${a} href=${`/allerta/${encodeURIComponent(a.org)}`} />`)}
    </section>`}
    <div class="sr-only" aria-live="polite" aria-atomic="true">${said.polite}</div>
    <div class="sr-only" aria-live="assertive" aria-atomic="true">${said.assertive}</div>
  </div>`;
}
