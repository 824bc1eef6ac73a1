// SPDX-License-Identifier: AGPL-3.0-or-later
// Official alert sources (issue 14): sources per org with their defaults and validation, who
// may see and change them, health (stale after alert_source_stale_hours, test clock), and the
// norme di comportamento templates with Italian and English defaults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildWorld } from './lib/world.mjs';
import { startServer, api } from './lib/server.mjs';

let w;
before(async () => { w = await buildWorld(); });
after(async () => { await w?.srv.stop(); w?.srv.cleanup(); });

const base = '/api/v1/orgs/comune-a/alert-sources';

test('sources: defaults per kind, the Comune from the org name, DPC credited', async () => {
  const dpc = await w.ok(201, 'POST', base, { as: w.tok.org_admin, body: { kind: 'dpc-bulletin' } });
  assert.equal(dpc.kind, 'dpc-bulletin');
  assert.match(dpc.url, /^https:\/\/mappe\.protezionecivile\.gov\.it\//);
  assert.match(dpc.data_url, /files\/geojson\/\{id\}_\{day\}\.json$/);
  assert.equal(dpc.interval_s, 600);
  assert.equal(dpc.on_change, 'draft');
  assert.equal(dpc.up_to, null);
  assert.equal(dpc.comune, 'A'); // "Comune di A" without "Comune di "
  assert.equal(dpc.official, true);
  assert.equal(dpc.credit, 'Fonte: Dipartimento della Protezione Civile');
  assert.deepEqual(dpc.health, { last_success: null, last_change: null, last_error: null, last_bulletin: null, stale: false, failing: false });

  const lamma = await w.ok(201, 'POST', base, { as: w.tok.org_admin, body: { kind: 'lamma-comune', comune: "Colle di Val d'Elsa" } });
  assert.equal(lamma.url, 'https://www.lamma.rete.toscana.it/previ/ita/xml/comuni_web/dati/colle_di_val_d_elsa.xml');
  assert.match(lamma.credit, /LaMMA/);

  // Meteoalarm's Italian entries say they are not official: its default is unofficial.
  const feed = await w.ok(201, 'POST', base, { as: w.tok.org_admin, body: { kind: 'cap-feed' } });
  assert.match(feed.url, /meteoalarm/);
  assert.equal(feed.official, false);
  assert.equal(feed.credit, null);
  const own = await w.ok(201, 'POST', base, { as: w.tok.org_admin, body: { kind: 'cap-feed', url: 'https://allerta.example.it/cap/feed.atom' } });
  assert.equal(own.official, true);

  const list = await w.ok(200, 'GET', base, { as: w.tok.org_admin });
  assert.deepEqual(list.sources.map((s) => s.id), [dpc.id, lamma.id, feed.id, own.id]);
  for (const s of [lamma, feed, own]) {
    assert.equal((await w.call('DELETE', `${base}/${s.id}`, { as: w.tok.org_admin })).status, 204);
  }
  assert.equal((await w.call('GET', `${base}/${own.id}`, { as: w.tok.org_admin })).status, 404);
});

test('sources: on_change with up_to, PATCH keeps the rest, bad input changes nothing', async () => {
  const s = await w.ok(201, 'POST', base, {
    as: w.tok.org_admin,
    body: { kind: 'dpc-bulletin', comune: 'Certaldo', on_change: 'publish-up-to', up_to: 'giallo', interval_s: 300 },
  });
  assert.equal(s.up_to, 'giallo');
  const bads = [
    [{ kind: 'rss' }, 'kind'],
    [{ kind: 'dpc-bulletin', url: 'http://example.it/x' }, 'url'],
    [{ kind: 'dpc-bulletin', data_url: 'https://x.it/a b' }, 'data_url'],
    [{ kind: 'dpc-bulletin', on_change: 'publish-up-to' }, 'up_to'],
    [{ kind: 'dpc-bulletin', on_change: 'draft', up_to: 'rosso' }, 'up_to'],
    [{ kind: 'dpc-bulletin', on_change: 'publish-up-to', up_to: 'viola' }, 'up_to'],
    [{ kind: 'dpc-bulletin', interval_s: 59 }, 'interval_s'],
    [{ kind: 'dpc-bulletin', official: 'yes' }, 'official'],
    [{ kind: 'dpc-bulletin', comune: 'a\nb' }, 'comune'],
  ];
  for (const [body, field] of bads) {
    const r = await w.call('POST', base, { as: w.tok.org_admin, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.data.error.field, field, JSON.stringify(body));
  }
  const p = await w.ok(200, 'PATCH', `${base}/${s.id}`, { as: w.tok.org_admin, body: { zone: 'Valdelsa-Valdera', on_change: 'publish' } });
  assert.equal(p.zone, 'Valdelsa-Valdera');
  assert.equal(p.on_change, 'publish');
  assert.equal(p.up_to, null); // leaving publish-up-to drops its level
  assert.equal(p.comune, 'Certaldo');
  assert.equal(p.interval_s, 300);
  const imm = await w.call('PATCH', `${base}/${s.id}`, { as: w.tok.org_admin, body: { kind: 'cap-feed' } });
  assert.equal(imm.status, 400);
  assert.equal(imm.data.error.code, 'immutable_field');
  const r = await w.call('PATCH', `${base}/${s.id}`, { as: w.tok.org_admin, body: { interval_s: 10 } });
  assert.equal(r.status, 400);
  assert.equal((await w.ok(200, 'GET', `${base}/${s.id}`, { as: w.tok.org_admin })).interval_s, 300);
  assert.equal((await w.call('PATCH', `${base}/999999`, { as: w.tok.org_admin, body: { interval_s: 600 } })).status, 404);
  assert.equal((await w.call('PATCH', `${base}/abc`, { as: w.tok.org_admin, body: { interval_s: 600 } })).status, 404);
});

test('sources: at most 16 per org', async () => {
  const made = (await w.ok(200, 'GET', base, { as: w.tok.org_admin })).sources.length;
  for (let i = made; i < 16; i++) await w.ok(201, 'POST', base, { as: w.tok.org_admin, body: { kind: 'cap-feed' } });
  const r = await w.call('POST', base, { as: w.tok.org_admin, body: { kind: 'cap-feed' } });
  assert.equal(r.status, 409);
  assert.equal(r.data.error.code, 'too_many_sources');
  const all = (await w.ok(200, 'GET', base, { as: w.tok.org_admin })).sources;
  for (const s of all.filter((x) => x.kind === 'cap-feed')) await w.ok(204, 'DELETE', `${base}/${s.id}`, { as: w.tok.org_admin });
});

test('templates: Italian and English defaults per risk and level; an org edits and resets them', async () => {
  const t = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alert-templates', { as: w.tok.org_admin });
  const row = (risk, level) => t.templates.find((x) => x.risk === risk && x.level === level);
  assert.match(row('idraulico', 'arancione').instruction.it, /^Allerta arancione.*argini/);
  assert.match(row('idraulico', 'arancione').instruction.en, /^Orange alert.*embankments/);
  assert.match(row('temporali', 'rosso').instruction.it, /^Allerta rossa/);
  assert.match(row('incendi_boschivi', 'giallo').instruction.it, /^Allerta gialla/);
  assert.deepEqual(row('idraulico', 'arancione').custom, []);
  assert.equal(t.templates.length % 4, 0);

  const path = '/api/v1/orgs/comune-a/alert-templates/idraulico/arancione';
  const put = await w.ok(200, 'PUT', path, { as: w.tok.org_admin, body: { language: 'it', instruction: 'Non attraversate il ponte sul Fiume.' } });
  assert.equal(put.instruction, 'Non attraversate il ponte sul Fiume.');
  const t2 = await w.ok(200, 'GET', '/api/v1/orgs/comune-a/alert-templates', { as: w.tok.org_admin });
  const r2 = t2.templates.find((x) => x.risk === 'idraulico' && x.level === 'arancione');
  assert.equal(r2.instruction.it, 'Non attraversate il ponte sul Fiume.');
  assert.match(r2.instruction.en, /^Orange alert/);
  assert.deepEqual(r2.custom, ['it']);
  const de = await w.ok(200, 'PUT', path, { as: w.tok.org_admin, body: { language: 'de', instruction: 'Nicht über die Brücke gehen.' } });
  assert.equal(de.language, 'de');
  const reset = await w.ok(200, 'PUT', path, { as: w.tok.org_admin, body: { language: 'it', instruction: null } });
  assert.match(reset.instruction, /^Allerta arancione/);
  assert.equal((await w.call('PUT', '/api/v1/orgs/comune-a/alert-templates/nessuno/giallo', { as: w.tok.org_admin, body: { language: 'it', instruction: 'x' } })).status, 404);
  assert.equal((await w.call('PUT', '/api/v1/orgs/comune-a/alert-templates/vento/viola', { as: w.tok.org_admin, body: { language: 'it', instruction: 'x' } })).status, 404);
  assert.equal((await w.call('PUT', path, { as: w.tok.org_admin, body: { language: 'i t', instruction: 'x' } })).status, 400);
  assert.equal((await w.call('PUT', path, { as: w.tok.org_admin, body: { language: 'it' } })).status, 400);
});

test('health: a source with no successful fetch for alert_source_stale_hours is stale', async () => {
  const s = await w.ok(201, 'POST', base, { as: w.tok.org_admin, body: { kind: 'lamma-comune', comune: 'Certaldo' } });
  assert.equal(s.health.stale, false);
  // Warnings (the console's banner): every member of the org's staff may read them.
  const fresh = await w.ok(200, 'GET', `${base}/warnings`, { as: w.tok.channel_owner });
  assert.deepEqual(fresh.warnings.filter((x) => x.id === s.id), []);
  assert.equal(fresh.stale_hours, 26);
  await w.srv.stop();
  const later = await startServer({ data: w.srv.data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(27 * 3600 * 1000) } });
  try {
    const r = await api(later.url, 'GET', `${base}/${s.id}`, { as: w.tok.org_admin });
    assert.equal(r.status, 200);
    assert.equal(r.data.health.stale, true);
    assert.equal(r.data.health.last_success, null);
    // Plain staff of the org (not alert publishers) see the warning, without URLs or errors.
    const wr = await api(later.url, 'GET', `${base}/warnings`, { as: w.tok.channel_owner });
    assert.equal(wr.status, 200);
    const mine = wr.data.warnings.find((x) => x.id === s.id);
    assert.deepEqual(mine, { id: s.id, kind: 'lamma-comune', stale: true, failing: false, last_success: null, last_error_at: null });
    assert.ok(!('url' in mine));
    assert.equal((await api(later.url, 'GET', `${base}/warnings`, { as: w.tok.other_org })).status, 404);
    assert.equal((await api(later.url, 'GET', `${base}/warnings`)).status, 401);
    assert.equal((await api(later.url, 'GET', '/api/v1/orgs/nessuno/alert-sources/warnings', { as: w.tok.org_admin })).status, 404);
  } finally {
    await later.stop();
  }
  const first = w.srv;
  w.srv = await startServer({ data: first.data });
  w.srv.cleanup = () => first.cleanup();
  w.call = (method, path, opts) => api(w.srv.url, method, path, opts);
});
