// SPDX-License-Identifier: AGPL-3.0-or-later
// Seeds a running araldo for bench/reactions: one org, one listed channel, P posts and F
// followers of it, through the public API. Writes the follower tokens (one a line) to
// DIR/tokens.txt and the post ids to DIR/posts.txt, for the wrk script.
// usage: node bench/reactions/seed.mjs URL STAFF_TOKEN FOLLOWERS POSTS DIR
import { writeFileSync } from 'node:fs';

const [url, token, nf = '1000', np = '10', dir] = process.argv.slice(2);
const staff = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function call(method, path, { headers = {}, body } = {}, want = [200, 201, 204]) {
  const r = await fetch(`${url}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await r.text();
  if (!want.includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

await call('POST', '/api/v1/orgs', { headers: staff, body: { slug: 'bench', name: 'Comune di Prova' } });
await call('POST', '/api/v1/channels', {
  headers: staff,
  body: { org: 'bench', handle: 'bench-reactions', name: 'Avvisi', visibility: 'listed', reaction_policy: 'any' },
});
const posts = [];
for (let i = 0; i < Number(np); i++) {
  const p = await call('POST', '/api/v1/channels/bench-reactions/posts', {
    headers: staff, body: { text: `Avviso n. ${i}: la via Roma resta chiusa dalle 8 alle 18.` },
  });
  posts.push(p.id);
}
const tokens = [];
let next = 0;
async function worker() {
  while (next < Number(nf)) {
    next++;
    const { token: t } = await call('POST', '/api/v1/followers');
    await call('PUT', '/api/v1/channels/bench-reactions/follow', { headers: { authorization: `Bearer ${t}` } });
    tokens.push(t);
  }
}
await Promise.all(Array.from({ length: 16 }, worker));
writeFileSync(`${dir}/tokens.txt`, `${tokens.join('\n')}\n`);
writeFileSync(`${dir}/posts.txt`, `${posts.join('\n')}\n`);
console.log('bench-reactions');
