// SPDX-License-Identifier: AGPL-3.0-or-later
// Turns bench/fanout/run.sh's JSON lines into the Markdown tables of BENCHMARKS.md.
// usage: node bench/fanout/table.mjs results.jsonl
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const fmt = (x, d = 0) => Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

console.log('| stream | N | server | p50 ms | p99 ms | max ms | last subscriber ms (median / max) | burst deliveries/s | server CPU µs/delivery | client CPU µs/delivery | RSS/subscriber B | missed |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.proto.toUpperCase()} | ${fmt(r.n)} | ${r.target} | ${fmt(r.p50_ms, 1)} | ${fmt(r.p99_ms, 1)} | ${fmt(r.max_ms, 1)} | ${fmt(r.last_ms_median, 1)} / ${fmt(r.last_ms_max, 1)} | ${fmt(r.deliveries_per_s)} | ${fmt(r.cpu_us_per_delivery, 2)} | ${r.client_cpu_s === undefined ? 'n/a' : fmt(r.client_cpu_s * 1e6 / r.received, 2)} | ${fmt(r.rss_per_sub_b)} | ${r.missed}${r.failed ? ` (${r.failed} not subscribed)` : ''} |`);
}
console.log();
console.log('| stream | N | last subscriber araldo / Nchan (goal ≤ 0.7) | deliveries/s araldo / Nchan (goal ≥ 1.5) | CPU/delivery araldo / Nchan | araldo RSS/subscriber (goal ≤ 2,048 B) |');
console.log('| --- | --- | --- | --- | --- | --- |');
// The i-th araldo row of a (stream, N) is paired with the i-th Nchan row: the same round.
const seen = new Map();
for (const a of rows.filter((r) => r.target === 'araldo')) {
  const key = `${a.proto}/${a.n}`;
  const i = seen.get(key) || 0;
  seen.set(key, i + 1);
  const n = rows.filter((r) => r.target === 'nchan' && r.proto === a.proto && r.n === a.n)[i];
  if (!n) continue;
  const ratio = (x, y) => (y ? (x / y).toFixed(2) : 'n/a');
  console.log(`| ${a.proto.toUpperCase()} | ${fmt(a.n)} | ${ratio(a.last_ms_median, n.last_ms_median)} | ${ratio(a.deliveries_per_s, n.deliveries_per_s)} | ${ratio(a.cpu_us_per_delivery, n.cpu_us_per_delivery)} | ${fmt(a.rss_per_sub_b)} |`);
}

// With REPEAT > 1: the median of each measure over the rounds, and the ratios of the medians.
const keys = [...new Set(rows.map((r) => `${r.proto}/${r.n}`))];
const rounds = Math.max(...keys.map((k) => rows.filter((r) => `${r.proto}/${r.n}` === k && r.target === 'araldo').length));
if (rounds > 1) {
  const med = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[(s.length - 1) >> 1]; };
  const m = (t, k, f) => med(rows.filter((r) => r.target === t && `${r.proto}/${r.n}` === k).map((r) => r[f]));
  console.log();
  console.log(`Medians over ${rounds} rounds:`);
  console.log();
  console.log('| stream | N | last subscriber ms araldo / Nchan | ratio (goal ≤ 0.7) | deliveries/s araldo / Nchan | ratio (goal ≥ 1.5) | p99 ms araldo / Nchan | CPU µs/delivery araldo / Nchan | RSS/subscriber B araldo / Nchan |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const k of keys) {
    const [proto, n] = k.split('/');
    const g = (f) => [m('araldo', k, f), m('nchan', k, f)];
    const [al, nl] = g('last_ms_median');
    const [ad, nd] = g('deliveries_per_s');
    const [ap, np] = g('p99_ms');
    const [ac, nc] = g('cpu_us_per_delivery');
    const [ar, nr] = g('rss_per_sub_b');
    console.log(`| ${proto.toUpperCase()} | ${fmt(n)} | ${fmt(al, 1)} / ${fmt(nl, 1)} | ${(al / nl).toFixed(2)} | ${fmt(ad)} / ${fmt(nd)} | ${(ad / nd).toFixed(2)} | ${fmt(ap, 1)} / ${fmt(np, 1)} | ${fmt(ac, 2)} / ${fmt(nc, 2)} | ${fmt(ar)} / ${fmt(nr)} |`);
  }
}
