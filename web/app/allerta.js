// SPDX-License-Identifier: AGPL-3.0-or-later
// The alert page /allerta/{org} (docs/ALERTS.md): the server's HTML is the whole page; this
// only says how old it is when it cannot be refreshed. The service worker keeps the last copy
// (network first), so offline the page opens as last seen: then the server-written note
// ("Sei offline: situazione delle …") is shown with its age, from data-generated. Also
// registers the service worker, so a reader who only ever opens this page has it offline.
const note = document.querySelector('.alert-offline[data-generated]');
const slug = location.pathname.split('/')[2] || '';

function age() {
  const mins = Math.round((Date.now() - Date.parse(note.dataset.generated)) / 60000);
  const rtf = new Intl.RelativeTimeFormat(document.documentElement.lang || 'it', { numeric: 'auto' });
  if (mins < 60) return rtf.format(-mins, 'minute');
  if (mins < 48 * 60) return rtf.format(-Math.round(mins / 60), 'hour');
  return rtf.format(-Math.round(mins / 1440), 'day');
}

async function check() {
  if (!note) return;
  let offline = navigator.onLine === false;
  if (!offline) {
    // The status itself is never cached by the service worker: failing to read it means
    // this copy could not be refreshed.
    try {
      const r = await fetch(`/api/v1/orgs/${encodeURIComponent(slug)}/alerts/current`, { cache: 'no-store' });
      offline = !r.ok && r.status >= 500;
    } catch {
      offline = true;
    }
  }
  note.querySelector('.alert-age').textContent = offline ? `(${age()})` : '';
  note.hidden = !offline;
}

check();
addEventListener('online', check);
addEventListener('offline', check);
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
