// SPDX-License-Identifier: AGPL-3.0-or-later
// Small pieces every console screen uses: the console's state (who is signed in, which Comune),
// error messages in the reader's language, a confirmation dialog that names what it affects,
// and the Comune's time zone for dates.
import { html, useState, useEffect, useRef } from '../app/lib.js';
import { t } from '../app/i18n.js';

// What the console knows; screens re-render through useConsole().
export const C = { user: null, org: null, orgs: [], channels: null, flash: '', sourceWarnings: null, staleHours: 26 };
const subs = new Set();
let version = 0;
export function changed() { version++; for (const fn of subs) fn(); }
// A screen subscribes in an effect, which runs after it is drawn — late on a slow phone. A
// change in between (a draft sent as the network came back) would be missed: the effect
// compares the version it was drawn with and redraws if it moved.
export function useConsole() {
  const [, set] = useState(0);
  const drawn = version;
  useEffect(() => {
    const fn = () => set((n) => n + 1);
    subs.add(fn);
    if (version !== drawn) fn();
    return () => subs.delete(fn);
  }, []);
  return C;
}

const KNOWN = new Set([
  'mail_not_configured',
  'network', 'session_expired', 'invalid_credentials', 'too_many_attempts', 'wrong_password', 'same_password',
  'handle_taken', 'handle_reserved', 'invalid_handle', 'alt_required', 'not_channel_admin', 'owner_only', 'forbidden',
  'not_org_staff', 'channel_not_found', 'edit_window_closed', 'too_large', 'unsupported_type', 'image_unreadable',
  'image_too_large', 'email_taken', 'staff_not_found', 'already_admin_or_invited', 'too_many_admins', 'slug_taken',
  'invalid_slug', 'invalid_timezone', 'overloaded', 'cannot_remove_self', 'invalid_email', 'aborted', 'invalid_reactions',
  'poll_not_editable', 'owner_must_transfer',
  'not_alert_publisher', 'same_person', 'not_pending', 'zone_exists', 'unknown_zone', 'invalid_reference',
]);

// An ApiError as a sentence for staff: ours when we know the code, else the server's message.
export function errText(e) {
  if (!e) return '';
  if (KNOWN.has(e.code)) return t(`admin.err.${e.code}`);
  if (e.code === 'too_short' || e.code === 'too_long' || e.code === 'missing_field' || e.code === 'invalid_value') {
    return t('admin.err.field', { field: e.field || '', msg: e.message || '' });
  }
  return t('admin.err.generic', { msg: e.message || e.code || '' });
}

export function Err({ e, id }) {
  return e ? html`<p class="state state-error" role="alert" id=${id}>${errText(e)}</p>` : null;
}

// A button that asks first: the dialog names what the action affects (`what`) and what
// happens (`text`); `onYes` runs only after the second, explicit button.
export function Confirm({ label, title, text, yes, onYes, cls = 'btn btn-secondary btn-danger', disabled }) {
  const [open, setOpen] = useState(false);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const dlg = useRef();
  useEffect(() => { if (open && dlg.current && !dlg.current.open) dlg.current.showModal(); }, [open]);
  const go = async () => {
    setBusy(true);
    setErr(null);
    try { await onYes(); setOpen(false); } catch (e) { setErr(e); } finally { setBusy(false); }
  };
  return html`<button type="button" class=${cls} disabled=${disabled} onClick=${() => setOpen(true)}>${label}</button>
    ${open && html`<dialog ref=${dlg} class="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text" onClose=${() => setOpen(false)}>
      <h2 id="confirm-title">${title}</h2>
      <p id="confirm-text">${text}</p>
      <${Err} e=${err} />
      <div class="dlg-actions">
        <button type="button" class="btn btn-danger btn-solid" disabled=${busy} onClick=${go}>${yes}</button>
        <button type="button" class="btn btn-secondary" onClick=${() => setOpen(false)}>${t('admin.cancel')}</button>
      </div>
    </dialog>`}`;
}

// ---- the Comune's time zone ----

function offsetMs(ms, tz) {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000;
}

// "2026-12-05T08:30" on the Comune's clock → ISO time in UTC.
export function zonedToIso(local, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local || '');
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let ms = wall - offsetMs(wall, tz);
  ms = wall - offsetMs(ms, tz); // across a DST change the second guess is right
  return new Date(ms).toISOString();
}

// An ISO time as "2026-12-05T08:30" on the Comune's clock (for <input type=datetime-local>).
export function isoToZoned(iso, tz) {
  const ms = new Date(iso).getTime();
  const d = new Date(ms + offsetMs(ms, tz));
  return d.toISOString().slice(0, 16);
}

export function fmtZoned(iso, tz, lang) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'short', timeZone: tz }).format(new Date(iso));
}

export const tzOf = () => (C.org && C.org.timezone) || 'Europe/Rome';

// On a phone the rows of places scroll sideways: keep the current place in sight.
export function keepCurrentInView() {
  for (const cur of document.querySelectorAll('.scroll-row [aria-current="page"]')) {
    const row = cur.closest('ul');
    if (cur.offsetLeft + cur.offsetWidth > row.scrollLeft + row.clientWidth || cur.offsetLeft < row.scrollLeft) {
      row.scrollLeft = Math.max(0, cur.offsetLeft - 16);
    }
  }
}
