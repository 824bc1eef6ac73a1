// SPDX-License-Identifier: AGPL-3.0-or-later
// After bench/reactions: every (follower, post) pair reacted at least once (the wrk script
// walks all pairs in its first round), so each post's reaction counts must add up to exactly
// the number of followers: one reaction per follower per post, however many times it changed.
// usage: node bench/reactions/verify.mjs URL DIR     (prints a JSON line; exit 1 on mismatch)
import { readFileSync } from 'node:fs';

const [url, dir] = process.argv.slice(2);
const lines = (f) => readFileSync(`${dir}/${f}`, 'utf8').split('\n').filter(Boolean);
const followers = lines('tokens.txt').length;
const posts = lines('posts.txt');

// Sums a counts value in either documented shape: {"👍": 3, ...} or [{"emoji", "count"}].
const total = (v) => {
  if (Array.isArray(v)) return v.reduce((s, x) => s + Number(x.count || 0), 0);
  if (v && typeof v === 'object') return Object.values(v).reduce((s, x) => s + Number(x || 0), 0);
  return NaN;
};

let sum = 0;
const bad = [];
for (const id of posts) {
  const r = await fetch(`${url}/api/v1/posts/${id}`);
  const p = await r.json();
  const n = total(p.reactions ?? p.counts?.reactions);
  sum += n;
  if (n !== followers) bad.push({ id, counted: n });
}
console.log(JSON.stringify({ posts: posts.length, followers, pairs: posts.length * followers, counted: sum, ok: bad.length === 0, bad: bad.slice(0, 5) }));
process.exit(bad.length ? 1 : 0);
