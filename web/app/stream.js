// SPDX-License-Identifier: AGPL-3.0-or-later
// Live events over GET /api/v1/stream (Server-Sent Events) read with fetch(), because
// EventSource cannot send the follower's Authorization header. After a drop it reconnects
// with backoff and resumes from its cursor (Last-Event-ID), so it gets exactly what it missed.
const MAX_DELAY_MS = 30000;
const SILENCE_MS = 60000; // the server sends a heartbeat every 25 s

export class Stream {
  // url: '/api/v1/stream' or with ?channels=; auth(): the Authorization value or null;
  // onEvent(type, data); onState('connecting'|'live'|'reconnecting'|'offline'|'stopped', info).
  constructor({ url, auth, onEvent, onState }) {
    Object.assign(this, { url, auth, onEvent, onState });
    this.cursor = null;
    this.attempt = 0;
    this.stopped = true;
    this.ctrl = null;
    this.timer = null;
    this.goOffline = () => { this.abort(); this.onState('offline'); };
    this.goOnline = () => { if (!this.stopped) { this.attempt = 0; this.connect(); } };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    addEventListener('offline', this.goOffline);
    addEventListener('online', this.goOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    removeEventListener('offline', this.goOffline);
    removeEventListener('online', this.goOnline);
    this.abort();
    this.onState('stopped');
  }

  abort() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.ctrl) this.ctrl.abort();
    this.ctrl = null;
  }

  retry() {
    if (this.stopped) return;
    this.abort();
    if (navigator.onLine === false) { this.onState('offline'); return; }
    const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt++;
    this.onState('reconnecting', { delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  async connect() {
    this.abort();
    if (this.stopped) return;
    if (navigator.onLine === false) { this.onState('offline'); return; }
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    const headers = { accept: 'text/event-stream' };
    const a = this.auth && this.auth();
    if (a) headers.authorization = a;
    if (this.cursor) headers['last-event-id'] = this.cursor;
    this.onState(this.attempt ? 'reconnecting' : 'connecting');
    let r;
    try {
      r = await fetch(this.url, { headers, signal: ctrl.signal, cache: 'no-store' });
    } catch {
      if (this.ctrl === ctrl) this.retry();
      return;
    }
    if (!r.ok) {
      // 4xx: nothing to stream (follows nothing, token forgotten): stop; 5xx: try again.
      if (r.status >= 400 && r.status < 500) {
        let code = '';
        try { code = (await r.json()).error.code; } catch { /* no body */ }
        this.stopped = true;
        this.onState('stopped', { status: r.status, code });
      } else {
        this.retry();
      }
      return;
    }
    const resumed = !!this.cursor;
    this.attempt = 0;
    this.onState('live', { resumed });
    try {
      await this.read(r.body, ctrl);
    } catch { /* aborted or dropped */ }
    if (this.ctrl === ctrl) this.retry();
  }

  async read(body, ctrl) {
    const reader = body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    let ev = { type: '', data: [], id: null };
    const watchdog = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => ctrl.abort(), SILENCE_MS);
    };
    watchdog();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || ctrl.signal.aborted) return;
      watchdog();
      buf += dec.decode(value, { stream: true });
      let m;
      while ((m = /\r\n|\n|\r/.exec(buf))) {
        const line = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        if (line === '') {
          if (ev.id !== null) this.cursor = ev.id;
          if (ev.data.length) {
            let data = null;
            try { data = JSON.parse(ev.data.join('\n')); } catch { /* not JSON: ignored */ }
            if (data !== null) this.onEvent(ev.type || 'message', data);
          }
          ev = { type: '', data: [], id: null };
          continue;
        }
        if (line[0] === ':') continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') ev.type = val;
        else if (field === 'data') ev.data.push(val);
        else if (field === 'id') ev.id = val;
      }
    }
  }
}
