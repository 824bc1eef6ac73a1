// SPDX-License-Identifier: AGPL-3.0-or-later
// Seeds a running araldo for bench/api: one org, one channel, N posts through the public API.
// usage: node bench/api/seed.mjs URL TOKEN N    (prints the channel handle)
const [url, token, n = '1000'] = process.argv.slice(2);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function post(path, body) {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

await post('/api/v1/orgs', { slug: 'bench', name: 'Comune di Prova' });
await post('/api/v1/channels', {
  org: 'bench', handle: 'bench-news', name: 'Notizie dal Comune', description: 'Canale di prova',
  category: 'news', language: 'it', visibility: 'listed',
});
const text = (i) => `Avviso n. ${i}: *lavori in corso* in via Roma dalle 8 alle 18. `
  + 'Informazioni su https://comune.example.it/avvisi — _grazie per la pazienza_.';
let next = 0;
async function worker() {
  while (next < Number(n)) {
    const i = next++;
    await post('/api/v1/channels/bench-news/posts', { text: text(i) });
  }
}
await Promise.all(Array.from({ length: 16 }, worker));
console.log('bench-news');
