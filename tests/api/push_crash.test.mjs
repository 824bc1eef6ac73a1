// SPDX-License-Identifier: AGPL-3.0-or-later
// Web Push's queue is durable: kill -9 of the server in the middle of a campaign, restart, and
// every subscription still gets the notification. 2,000 subscriptions (issue 12 asks 5,000; 2,000
// keep CI time modest and exercise the same path: several claims, leases, batched outcomes).
// A subscription may get it twice only if the crash fell between the push service's answer and
// the outcome's commit; the service worker shows a tag once, so the person sees it once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { pushWorld } from './lib/pushworld.mjs';

const SUBS = 2000;
const PER_FOLLOWER = 100;
let w;
after(async () => { await w?.close(); });

test('kill -9 during a 2,000-subscription campaign loses no notification', async () => {
  // Slow enough (8 in flight, 20 ms each) that the campaign is surely under way when killed.
  w = await pushWorld({ delayMs: 20, sets: { push_subscriptions_per_follower: PER_FOLLOWER, push_origin_concurrency: 8 } });
  const h = await w.channel();
  const subs = [];
  for (let f = 0; f < SUBS / PER_FOLLOWER; f++) {
    const token = await w.follower(h);
    const batch = Array.from({ length: PER_FOLLOWER }, () => w.ps.subscribe());
    for (let i = 0; i < batch.length; i += 20) {
      await Promise.all(batch.slice(i, i + 20).map((s) => w.ok(201, 'POST', '/api/v1/push/subscriptions', { as: token, body: s.json })));
    }
    subs.push(...batch);
  }
  const id = await w.post(h, 'Allerta rossa: evacuare i piani terra');
  await w.ps.waitFor((r) => r.length >= 300, 'the campaign to be under way');
  await w.srv.kill();
  const atKill = w.ps.received.length;
  assert.ok(atKill < SUBS, 'killed before the campaign ended');
  await w.start(w.srv.data);
  await w.ps.waitFor(() => subs.every((s) => w.ps.subs.get(s.id).got.length > 0), 'every subscription', 60000);
  const p = await w.finished(id, 20000);
  assert.equal(p.total, SUBS);
  assert.equal(p.remaining, 0);
  // What the service worker shows: one notification per (subscription, tag).
  const shown = new Set(w.ps.received.map((m) => `${m.sub} ${JSON.parse(m.text).tag}`));
  assert.equal(shown.size, SUBS);
  const twice = w.ps.received.length - SUBS;
  // Only what was in flight or answered but not yet committed at the kill can come twice, and
  // never more than twice.
  const most = Math.max(...subs.map((s) => w.ps.subs.get(s.id).got.length));
  assert.ok(most <= 2, `a subscription got it ${most} times`);
  assert.ok(twice < 200, `${twice} delivered twice`);
  assert.deepEqual(w.ps.errors, []);
  console.log(`# push crash: ${atKill} delivered before kill -9, ${twice} twice after restart`);
});
