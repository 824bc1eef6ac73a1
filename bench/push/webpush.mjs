// SPDX-License-Identifier: AGPL-3.0-or-later
// The npm `web-push` library (the de-facto reference implementation) sending the same
// notifications to the same sink as araldo, for bench/push/run.sh: N subscriptions, at most C
// requests in flight, one keep-alive agent. Prints "sent seconds cpu_seconds".
//   node bench/push/webpush.mjs SINK_ORIGIN N C P256DH AUTH
import https from 'node:https';
import webpush from 'web-push';

const [origin, nStr, cStr, p256dh, auth] = process.argv.slice(2);
const N = Number(nStr);
const C = Number(cStr);
const vapid = webpush.generateVAPIDKeys();
const agent = new https.Agent({ keepAlive: true, maxSockets: C });
const payload = JSON.stringify({ kind: 'post', channel: 'bench-news', channel_name: 'Bench news', title: 'Allerta meteo arancione: scuole chiuse domani', url: '/c/bench-news/p/1', post: '1', tag: 'post-1' });
const opts = { vapidDetails: { subject: 'mailto:bench@example.org', publicKey: vapid.publicKey, privateKey: vapid.privateKey }, TTL: 43200, urgency: 'high', topic: 'post-1', agent };

let next = 0;
let sent = 0;
let failed = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
async function worker() {
  while (next < N) {
    const i = next++;
    try {
      await webpush.sendNotification({ endpoint: `${origin}/push/${i}`, keys: { p256dh, auth } }, payload, opts);
      sent++;
    } catch {
      failed++;
    }
  }
}
await Promise.all(Array.from({ length: C }, worker));
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
console.log(`${sent} ${secs.toFixed(3)} ${((cpu.user + cpu.system) / 1e6).toFixed(3)} ${failed}`);
agent.destroy();
