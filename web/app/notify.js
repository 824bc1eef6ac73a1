// SPDX-License-Identifier: AGPL-3.0-or-later
// The "Notifiche" panel of Impostazioni: says honestly what this device can do, turns
// notifications on (the browser's question appears only after the tap) and off, and lets the
// reader choose the channels whose important posts ring.
import { html, useState, useEffect } from './lib.js';
import { t } from './i18n.js';
import { useStore, loadFollows } from './state.js';
import { support, current, enable, disable, channelPush } from './push.js';

export function Notifications() {
  const s = useStore();
  const [kind, setKind] = useState(support());
  const [on, setOn] = useState(null); // null while checking
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const [note, setNote] = useState('');
  useEffect(() => {
    if (kind !== 'ok') { setOn(false); return; }
    current().then((sub) => setOn(!!sub)).catch(() => setOn(false));
  }, [kind]);

  const turnOn = async () => {
    setBusy(true); setErr(''); setNote('');
    try {
      await enable();
      setOn(true);
      setNote(t('app.push.enabled'));
      await loadFollows();
    } catch (e) {
      if (e.code === 'denied') setKind('denied');
      else setErr(t(`app.push.err.${e.code || 'server'}`));
    } finally { setBusy(false); }
  };
  const turnOff = async () => {
    setBusy(true); setErr(''); setNote('');
    try {
      await disable();
      setOn(false);
      setNote(t('app.push.disabled'));
    } catch { setErr(t('app.push.err.server')); } finally { setBusy(false); }
  };
  const toggle = (c) => async (e) => {
    const want = e.target.checked;
    setErr('');
    try {
      await channelPush(c.handle, want);
      c.push = want;
      await loadFollows();
    } catch {
      e.target.checked = !want;
      setErr(t('app.push.err.channel', { name: c.name }));
    }
  };

  let body;
  if (kind === 'ios-install') {
    body = html`<div class="push-state push-ios" data-push="ios-install">
      <p><strong>${t('app.push.ios.title')}</strong></p>
      <ol class="steps">
        <li>${t('app.push.ios.step1')}</li>
        <li>${t('app.push.ios.step2')}</li>
        <li>${t('app.push.ios.step3')}</li>
      </ol></div>`;
  } else if (kind === 'unsupported') {
    body = html`<p class="push-state" data-push="unsupported">${t('app.push.unsupported')}</p>`;
  } else if (kind === 'denied') {
    body = html`<div class="push-state" data-push="denied">
      <p><strong>${t('app.push.blocked')}</strong></p>
      <ol class="steps">
        <li>${t('app.push.unblock.step1')}</li>
        <li>${t('app.push.unblock.step2')}</li>
        <li>${t('app.push.unblock.step3')}</li>
      </ol>
      <p class="hint">${t('app.push.unblock.app')}</p>
      <p><button type="button" class="btn btn-secondary" onClick=${() => setKind(support())}>${t('app.push.checkAgain')}</button></p></div>`;
  } else if (on === null) {
    body = html`<p class="state" role="status">${t('app.loading')}</p>`;
  } else if (!on) {
    body = html`<div class="push-state" data-push="off">
      <p>${t('app.push.intro')}</p>
      <p><button type="button" class="btn btn-primary push-on" onClick=${turnOn} disabled=${busy}>
        <span aria-hidden="true">🔔</span> ${t('app.push.enable')}</button></p>
      <p class="hint">${t('app.push.askHint')}</p></div>`;
  } else {
    const follows = s.follows || [];
    body = html`<div class="push-state" data-push="on">
      <p class="state-ok"><span aria-hidden="true">🔔</span> ${t('app.push.on')}</p>
      ${follows.length === 0
        ? html`<p>${t('app.push.noFollows')} <a href="#/esplora">${t('app.home.find')}</a></p>`
        : html`<fieldset class="push-channels"><legend>${t('app.push.channels')}</legend>
          ${follows.map((c) => html`<div class="switch-row" key=${c.handle}>
            <input type="checkbox" role="switch" id=${`push-${c.handle}`} data-channel=${c.handle}
              checked=${c.push !== false && !c.muted} disabled=${c.muted} onChange=${toggle(c)} />
            <label for=${`push-${c.handle}`}>${c.name}${c.muted ? html` <span class="hint">(${t('app.push.mutedChannel')})</span>` : null}</label>
          </div>`)}</fieldset>`}
      <p><button type="button" class="btn btn-secondary push-off" onClick=${turnOff} disabled=${busy}>${t('app.push.disable')}</button></p></div>`;
  }
  return html`<div class="card panel push-panel">
    <h2 id="h-push">${t('app.settings.notifications')}</h2>
    ${body}
    <p role="status" class="state-ok push-note">${note}</p>
    ${err && html`<p role="alert" class="state-error push-error">${err}</p>`}
  </div>`;
}
