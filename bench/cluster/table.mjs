// SPDX-License-Identifier: AGPL-3.0-or-later
// Turns bench/cluster/run.sh's JSON lines into the Markdown tables of BENCHMARKS.md.
// usage: node bench/cluster/table.mjs results.jsonl
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const fmt = (x, d = 0) => Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const what = {
  sqlite: 'one node, SQLite',
  pg1: 'one node, PostgreSQL',
  pg3: 'three nodes, one PostgreSQL',
};

const fan = rows.filter((r) => !r.kind);
const pgcpu = rows.filter((r) => r.kind === 'pgcpu');
if (fan.length) {
  console.log('| case | SSE followers | last follower ms (median / max of the paced posts) | p50 ms | p99 ms | burst deliveries/s | araldo CPU µs/delivery | PostgreSQL CPU s (whole case) | RSS/follower B | missed |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [i, r] of fan.entries()) {
    const pg = pgcpu[i] && pgcpu[i].label === r.label && r.label !== 'sqlite' ? fmt(pgcpu[i].pg_cpu_s, 2) : '–';
    console.log(`| ${what[r.label] || r.label} | ${fmt(r.n)} | ${fmt(r.last_ms_median, 1)} / ${fmt(r.last_ms_max, 1)} | ${fmt(r.p50_ms, 1)} | ${fmt(r.p99_ms, 1)} | ${fmt(r.deliveries_per_s)} | ${fmt(r.cpu_us_per_delivery, 2)} | ${pg} | ${fmt(r.rss_per_sub_b)} | ${r.missed}${r.failed ? ` (${r.failed} not subscribed)` : ''}${r.dups ? ` (${r.dups} twice)` : ''} |`);
  }
  console.log();
}
const reads = rows.filter((r) => r.kind === 'api');
if (reads.length) {
  const base = reads.find((r) => r.label === 'sqlite');
  console.log(`| case | GET …/posts?limit=20 req/s (${reads[0].wrk}) | worst p99 ms | vs one SQLite node |`);
  console.log('| --- | --- | --- | --- |');
  for (const r of reads) {
    console.log(`| ${what[r.label] || r.label} | ${fmt(r.rps)} | ${fmt(r.p99_ms, 2)} | ${base ? (r.rps / base.rps).toFixed(2) : 'n/a'} |`);
  }
}
