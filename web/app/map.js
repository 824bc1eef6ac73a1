// SPDX-License-Identifier: AGPL-3.0-or-later
// The map (docs/WEB.md, "Map"): Leaflet from web/vendor/, loaded only when a map is shown, with
// tiles from this server's /tiles/ (the org answer's `map`; null: no map) so that no request
// leaves for a third party. MapPicker lets the citizen tap (or drag the pin, or centre the map
// with the keyboard and press a button) to give a report's position; MapView shows one.
import { html, useState, useEffect, useRef } from './lib.js';
import { t } from './i18n.js';

const ITALY = { lat: 42.5, long: 12.5, zoom: 6 };
const OSM_COPYRIGHT = 'https://www.openstreetmap.org/copyright';

let leaflet = null;
// Leaflet's module and stylesheet (a <link>, which the CSP allows: it is 'self'), once.
function loadLeaflet() {
  if (!leaflet) {
    const base = new URL('../vendor/', import.meta.url);
    const css = new Promise((resolve) => {
      const l = document.createElement('link');
      l.rel = 'stylesheet';
      l.href = new URL('leaflet.css', base).href;
      l.onload = resolve;
      l.onerror = resolve;
      document.head.appendChild(l);
    });
    leaflet = Promise.all([import(new URL('leaflet.mjs', base).href), css]).then(([L]) => L);
  }
  return leaflet;
}

const esc = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// The tile server's credit, as its licence asks; OpenStreetMap's links to its copyright page.
function attribution(text) {
  const e = esc(text || '');
  return /openstreetmap/i.test(text || '') ? `<a href="${OSM_COPYRIGHT}" rel="noopener">${e}</a>` : e;
}

function pin(L) {
  return L.divIcon({ className: 'map-pin', html: '<span class="map-pin-dot"></span>', iconSize: [32, 40], iconAnchor: [16, 40] });
}

// Make a Leaflet map in `el` with this server's tiles.
function makeMap(L, el, m, center, zoom) {
  const map = L.map(el, { center: [center.lat, center.long], zoom, maxZoom: m.max_zoom, zoomControl: false });
  L.control.zoom({ zoomInTitle: t('app.map.zoomIn'), zoomOutTitle: t('app.map.zoomOut') }).addTo(map);
  map.attributionControl.setPrefix(false);
  L.tileLayer(m.tile_url, { maxZoom: m.max_zoom, attribution: attribution(m.attribution), keepBuffer: 1 }).addTo(map);
  return map;
}

const round6 = (v) => +v.toFixed(6);

// Where to open the map when no position is known yet: the middle of the Comune's recent
// public reports, else Italy.
async function startPoint(org) {
  try {
    const r = await fetch(`/open311/v2/requests.json?jurisdiction_id=${encodeURIComponent(org)}&page_size=50`);
    const list = (await r.json()).filter((x) => typeof x.lat === 'number' && typeof x.long === 'number');
    if (!list.length) return ITALY;
    const mid = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
    return { lat: mid(list.map((x) => x.lat)), long: mid(list.map((x) => x.long)), zoom: 15 };
  } catch {
    return ITALY;
  }
}

export function MapPicker({ map: m, org, pos, onPick }) {
  const el = useRef();
  const inst = useRef(null); // { L, map, marker }
  const [ready, setReady] = useState(false);
  const [failed, setFailed] = useState(false);
  const onPickRef = useRef(onPick);
  onPickRef.current = onPick;
  const place = (p, pan) => {
    const x = inst.current;
    if (!x) return;
    if (!p) {
      if (x.marker) { x.marker.remove(); x.marker = null; }
      return;
    }
    if (!x.marker) {
      x.marker = x.L.marker([p.lat, p.long], { icon: pin(x.L), draggable: true, keyboard: false, title: t('app.map.pin') }).addTo(x.map);
      x.marker.on('dragend', () => { const q = x.marker.getLatLng(); onPickRef.current({ lat: round6(q.lat), long: round6(q.lng) }); });
    } else {
      x.marker.setLatLng([p.lat, p.long]);
    }
    if (pan) x.map.setView([p.lat, p.long], Math.max(x.map.getZoom(), 17));
  };
  useEffect(() => {
    let gone = false;
    (async () => {
      try {
        const [L, start] = await Promise.all([loadLeaflet(), pos ? { ...pos, zoom: 17 } : startPoint(org)]);
        if (gone || !el.current) return;
        const map = makeMap(L, el.current, m, start, start.zoom);
        inst.current = { L, map, marker: null };
        map.on('click', (e) => onPickRef.current({ lat: round6(e.latlng.lat), long: round6(e.latlng.lng) }));
        if (pos) place(pos, false);
        setReady(true);
      } catch {
        if (!gone) setFailed(true);
      }
    })();
    return () => { gone = true; if (inst.current) inst.current.map.remove(); inst.current = null; };
  }, []);
  // A position from GPS, the map or "clear": the pin follows, and the map goes there.
  useEffect(() => { if (ready) place(pos, true); }, [ready, pos && pos.lat, pos && pos.long]);
  const useCenter = () => {
    const c = inst.current.map.getCenter();
    onPick({ lat: round6(c.lat), long: round6(c.lng) });
  };
  if (failed) return html`<p class="state" role="status">${t('app.map.failed')}</p>`;
  return html`<div class="map-box">
    <p class="hint" id="map-hint">${t('app.map.hint')}</p>
    <div class="map map-pick" ref=${el} role="region" aria-label=${t('app.map.label')} aria-describedby="map-hint"></div>
    ${ready && html`<p class="map-actions"><button type="button" class="btn btn-secondary" onClick=${useCenter}>${t('app.map.center')}</button></p>`}
  </div>`;
}

export function MapView({ map: m, pos }) {
  const el = useRef();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let gone = false;
    let map = null;
    loadLeaflet().then((L) => {
      if (gone || !el.current) return;
      map = makeMap(L, el.current, m, pos, 17);
      L.marker([pos.lat, pos.long], { icon: pin(L), keyboard: false, title: t('app.map.pin') }).addTo(map);
    }).catch(() => { if (!gone) setFailed(true); });
    return () => { gone = true; if (map) map.remove(); };
  }, [pos.lat, pos.long]);
  if (failed) return html`<p class="state" role="status">${t('app.map.failed')}</p>`;
  return html`<div class="map map-view" ref=${el} role="region" aria-label=${t('app.map.viewLabel', { lat: pos.lat, long: pos.long })}></div>`;
}
