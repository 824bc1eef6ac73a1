// SPDX-License-Identifier: AGPL-3.0-or-later
// The invite landing page (/i/{code}): the server renders the channel's name; this adds its
// latest posts from the API (the invite code lets an unlisted channel be previewed). The full
// web app, with "Segui", comes with its own issue.
const main = document.querySelector('main');
const list = document.getElementById('posts');
const { channel, invite } = main.dataset;

function show(posts) {
  for (const p of posts.slice(0, 5)) {
    const a = document.createElement('article');
    const t = document.createElement('time');
    t.dateTime = p.published_at;
    t.textContent = new Date(p.published_at).toLocaleString('it-IT');
    const body = document.createElement('p');
    body.textContent = p.text; // text, never HTML from the network
    a.append(t, body);
    list.append(a);
  }
  if (!posts.length) list.textContent = 'Ancora nessun avviso in questo canale.';
}

fetch(`/api/v1/channels/${encodeURIComponent(channel)}/posts?invite=${encodeURIComponent(invite)}`)
  .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
  .then((d) => show(d.posts || []))
  .catch(() => { list.textContent = 'Gli avvisi non si possono caricare ora: riprova tra poco.'; });
