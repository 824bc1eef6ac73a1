// SPDX-License-Identifier: AGPL-3.0-or-later
// A channel's numbers, aggregates only: followers over the last 90 days as an SVG chart drawn
// here (GET /api/v1/channels/{handle}/stats), then views, reactions and poll results per post.
import { html, useState, useEffect, useRef } from '../app/lib.js';
import { t, fmtNum, currentLang } from '../app/i18n.js';
import { admin } from './api.js';
import { Err } from './ui.js';

const H = 220;
const PAD = { l: 44, r: 12, t: 12, b: 28 };

// Drawn at the width it is shown at (measured), so its text keeps its size on a phone.
function Chart({ days }) {
  const box = useRef();
  const [W, setW] = useState(640);
  useEffect(() => {
    const measure = () => { if (box.current) setW(Math.max(240, Math.round(box.current.clientWidth))); };
    measure();
    addEventListener('resize', measure);
    return () => removeEventListener('resize', measure);
  }, []);
  const max = Math.max(0, ...days.map((d) => d.followers));
  const top = max <= 4 ? 4 : Math.ceil(max / 4) * 4; // whole numbers at 0, half and top
  const x = (i) => PAD.l + (i * (W - PAD.l - PAD.r)) / Math.max(1, days.length - 1);
  const y = (v) => PAD.t + (H - PAD.t - PAD.b) * (1 - v / top);
  const pts = days.map((d, i) => `${x(i).toFixed(1)},${y(d.followers).toFixed(1)}`).join(' ');
  const ticks = [0, top / 2, top];
  const fmtDay = (s) => new Intl.DateTimeFormat(currentLang(), { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${s}T00:00:00Z`));
  const first = days[0];
  const last = days[days.length - 1];
  const label = t('admin.stats.chartLabel', { from: fmtDay(first.day), to: fmtDay(last.day), a: fmtNum(first.followers), b: fmtNum(last.followers), max: fmtNum(max) });
  return html`<figure class="chart" ref=${box}>
    <svg viewBox=${`0 0 ${W} ${H}`} width=${W} height=${H} role="img" aria-label=${label}>
      ${ticks.map((v) => html`<line class="grid" x1=${PAD.l} x2=${W - PAD.r} y1=${y(v)} y2=${y(v)} />
        <text class="axis" x=${PAD.l - 6} y=${y(v) + 5} text-anchor="end">${fmtNum(v)}</text>`)}
      <polygon class="area" points=${`${PAD.l},${y(0)} ${pts} ${x(days.length - 1)},${y(0)}`} />
      <polyline class="line" points=${pts} />
      <text class="axis" x=${PAD.l} y=${H - 6}>${fmtDay(first.day)}</text>
      <text class="axis" x=${W - PAD.r} y=${H - 6} text-anchor="end">${fmtDay(last.day)}</text>
    </svg>
    <figcaption>${label}</figcaption></figure>`;
}

export function Stats({ ch }) {
  const [s, setS] = useState(null);
  const [posts, setPosts] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => {
    admin.stats(ch.handle, 90).then(setS).catch(setErr);
    admin.posts(ch.handle).then((r) => setPosts(r.posts.filter((p) => !p.scheduled))).catch(setErr);
  }, [ch.handle]);
  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
  return html`<h2>${t('admin.stats.followers')}</h2>
    <p class="hint">${t('admin.stats.privacy')}</p>
    <${Err} e=${err} />
    ${s ? html`<${Chart} days=${s.days} />` : !err && html`<p class="state" role="status">${t('app.loading')}</p>`}
    <h2>${t('admin.stats.perPost')}</h2>
    ${posts && !posts.length && html`<p class="hint">${t('admin.posts.none')}</p>`}
    ${posts && posts.length > 0 && html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('admin.stats.perPost')}><table class="stats-table">
      <thead><tr><th scope="col">${t('admin.stats.post')}</th><th scope="col">${t('admin.stats.views')}</th><th scope="col">${t('admin.stats.reactions')}</th></tr></thead>
      <tbody>${posts.map((p) => html`<tr><td><span class="cell-text">${p.text.slice(0, 80)}</span>
        ${p.poll && html`<ul class="poll-results">${p.poll.options.map((o) => html`<li>${o.text}: ${fmtNum(o.votes)}${p.poll.total_voters ? ` (${Math.round((100 * o.votes) / p.poll.total_voters)}%)` : ''}</li>`)}
          <li class="hint">${t('admin.stats.voters', { n: fmtNum(p.poll.total_voters) })}</li></ul>`}</td>
        <td>${fmtNum(p.views || 0)}</td>
        <td>${fmtNum(sum(p.reactions))}${sum(p.reactions) > 0 && html` <span class="hint">${Object.entries(p.reactions).map(([e, n]) => `${e} ${n}`).join(' ')}</span>`}</td></tr>`)}</tbody>
    </table></div>`}`;
}
