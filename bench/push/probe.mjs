// SPDX-License-Identifier: AGPL-3.0-or-later
// Paced API probe for bench/push/run.sh: GET URL at RATE requests/s (one at a time, no
// pipelining) until the file STOP exists; prints "count p50_ms p99_ms max_ms".
//   node bench/push/probe.mjs URL RATE STOPFILE
import { existsSync } from 'node:fs';
import http from 'node:http';

const [url, rateStr, stop] = process.argv.slice(2);
const gap = 1000 / Number(rateStr);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const lat = [];
const get = () => new Promise((resolve, reject) => {
  const t = process.hrtime.bigint();
  http.get(url, { agent }, (res) => {
    res.resume();
    res.on('end', () => { if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`)); else resolve(Number(process.hrtime.bigint() - t) / 1e6); });
  }).on('error', reject);
});
while (!existsSync(stop)) {
  const t0 = Date.now();
  lat.push(await get());
  const wait = gap - (Date.now() - t0);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
console.log(`${lat.length} ${q(0.5).toFixed(2)} ${q(0.99).toFixed(2)} ${lat[lat.length - 1].toFixed(2)}`);
agent.destroy();
