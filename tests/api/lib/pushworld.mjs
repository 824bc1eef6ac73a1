// SPDX-License-Identifier: AGPL-3.0-or-later
// A server wired to the mock push service (lib/pushsvc.mjs): the test CA as push_ca_file,
// 127.0.0.1 allowed as a push host, short retries. Helpers to make channels, followers and
// subscriptions, and to wait for a campaign to finish.
import assert from 'node:assert/strict';
import { startServer, operatorToken, api, tempDir, sleep } from './server.mjs';
import { makeCerts, startPushService } from './pushsvc.mjs';

export const CONTACT = 'mailto:protezione.civile@comune.example.it';

export async function pushWorld({ sets = {}, delayMs = 0 } = {}) {
  const certDir = tempDir('araldo-push-ca-');
  const certs = makeCerts(certDir);
  const ps = await startPushService(certs, { delayMs });
  const baseSets = {
    push_allow_hosts: '127.0.0.1', push_ca_file: certs.ca, push_contact: CONTACT,
    push_retry_base_ms: 100, push_max_tries: 3, push_timeout_ms: 1500,
    follower_signups_per_ip: 100000, ...sets,
  };
  const w = { ps, certs, certDir, sets: baseSets, n: 0 };
  w.start = async (data) => {
    w.srv = await startServer({ data, sets: baseSets });
    w.call = (method, path, opts) => api(w.srv.url, method, path, opts);
    return w.srv;
  };
  await w.start();
  w.ok = async (status, method, path, opts) => {
    const r = await w.call(method, path, opts);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    return r.data;
  };
  w.op = operatorToken(w.srv.data);
  await w.ok(201, 'POST', '/api/v1/orgs', { as: w.op, body: { slug: 'comune-a', name: 'Comune di A' } });
  await w.ok(201, 'POST', '/api/v1/orgs', { as: w.op, body: { slug: 'comune-b', name: 'Comune di B' } });
  w.channel = async (extra = {}) => {
    const handle = `canale-${++w.n}`;
    await w.ok(201, 'POST', '/api/v1/channels', {
      as: w.op, body: { org: 'comune-a', handle, name: `Protezione civile ${w.n} città`, category: 'civil_protection', language: 'it', ...extra },
    });
    return handle;
  };
  w.follower = async (...handles) => {
    const { token } = await w.ok(201, 'POST', '/api/v1/followers');
    for (const h of handles) await w.ok(204, 'PUT', `/api/v1/channels/${h}/follow`, { as: token });
    return token;
  };
  // A follower of `handle` with one browser subscription in `mode`: { token, sub }.
  w.subscriber = async (handle, mode = 'ok', extra) => {
    const token = await w.follower(handle);
    const sub = ps.subscribe(mode, extra);
    await w.ok(201, 'POST', '/api/v1/push/subscriptions', { as: token, body: sub.json });
    return { token, sub };
  };
  w.post = async (handle, text, importance = 'important', extra = {}) =>
    (await w.ok(201, 'POST', `/api/v1/channels/${handle}/posts`, { as: w.op, body: { text, importance, ...extra } })).id;
  w.progress = (id) => w.ok(200, 'GET', `/api/v1/posts/${id}/push`, { as: w.op });
  // Polls the campaign until nothing remains.
  w.finished = async (id, ms = 15000) => {
    const t0 = Date.now();
    for (;;) {
      const p = await w.progress(id);
      if (p.pushed && p.remaining === 0) return p;
      if (Date.now() - t0 > ms) throw new Error(`campaign ${id} not finished: ${JSON.stringify(p)}`);
      await sleep(50);
    }
  };
  w.close = async () => {
    await w.srv.stop();
    w.srv.cleanup();
    await ps.close();
  };
  return w;
}
