// SPDX-License-Identifier: AGPL-3.0-or-later
// Outgoing e-mail (src/mail/) against a tiny SMTP sink on 127.0.0.1 (lib/smtpsink.mjs; plain
// SMTP is allowed because 127.0.0.1 is on push_allow_hosts): an alert source that starts failing
// or goes stale warns exactly the org's admins and civil-protection staff, once per episode
// (not again after a restart; again after recovery and a new failure), in Italian that decodes
// (RFC 2047 subject, quoted-printable UTF-8 body); a report forwarded to a target of kind email
// arrives with its public fields and never the reporter's contact data; without smtp_url no mail
// is sent and email targets are refused with a clear error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { startServer, operatorToken, api, tempDir, sleep, waitFor } from './lib/server.mjs';
import { makeCerts } from './lib/pushsvc.mjs';
import { startSmtpSink, decode } from './lib/smtpsink.mjs';

const PINNED = Date.parse('2026-12-04T19:00:00+01:00');
const files = new Map();
let fx, origin, sink, srv, op, opts;
const ok = async (status, m, p, o) => {
  const r = await api(srv.url, m, p, o);
  assert.equal(r.status, status, `${m} ${p}: ${r.text}`);
  return r.data;
};

before(async () => {
  const certs = makeCerts(tempDir('araldo-mail-ca-'));
  fx = https.createServer({ key: readFileSync(certs.key), cert: readFileSync(certs.cert) }, (req, res) => {
    const f = files.get(req.url);
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(f.status || 200, { 'content-type': 'application/xml' });
    res.end(f.body);
  });
  await new Promise((resolve) => fx.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${fx.address().port}`;
  sink = await startSmtpSink();
  opts = {
    sets: { push_allow_hosts: '127.0.0.1', push_ca_file: certs.ca, smtp_url: sink.url, mail_from: 'araldo@comune.example.it', public_url: 'https://araldo.comune.example.it' },
    env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(PINNED - Date.now()) },
  };
  srv = await startServer(opts);
  op = operatorToken(srv.data);
  for (const [slug, name] of [['certaldo', 'Comune di Certaldo'], ['sora', 'Comune di Sora']]) {
    await ok(201, 'POST', '/api/v1/orgs', { as: op, body: { slug, name } });
  }
  const staff = async (slug, email, role) => (await ok(201, 'POST', `/api/v1/orgs/${slug}/staff`, { as: op, body: { email, role } })).id;
  await staff('certaldo', 'sindaco@certaldo.example.it', 'org_admin');
  const cp = await staff('certaldo', 'protezione.civile@certaldo.example.it', 'staff');
  await staff('certaldo', 'notizie@certaldo.example.it', 'staff'); // channel staff: not told
  await staff('sora', 'admin@sora.example.it', 'org_admin');
  await ok(200, 'PUT', '/api/v1/orgs/certaldo/alerts/settings', { as: op, body: { publishers: [String(cp)] } });
});
after(async () => { if (process.env.SHOW_ERR) console.log(srv?.stderr); await srv?.stop(); srv?.cleanup(); fx?.close(); await sink?.close(); });

async function pollNow(org, id) {
  const b = await ok(200, 'GET', `/api/v1/orgs/${org}/alert-sources/${id}`, { as: op });
  const mark = JSON.stringify([b.health.last_success, b.health.last_error]);
  await ok(202, 'POST', `/api/v1/orgs/${org}/alert-sources/${id}/poll`, { as: op });
  for (let i = 0; i < 300; i++) {
    const now = await ok(200, 'GET', `/api/v1/orgs/${org}/alert-sources/${id}`, { as: op });
    if (JSON.stringify([now.health.last_success, now.health.last_error]) !== mark) return now;
    await sleep(100);
  }
  throw new Error('the poll did not finish');
}
const rcpts = () => sink.messages.flatMap((m) => m.rcpt).sort();
// The poller checks every second: wait a few rounds before saying nothing more came.
const quiet = () => sleep(3500);

test('a failing source warns its org\'s admins and civil-protection staff once, in Italian; not again after a restart', async () => {
  files.set('/lamma/certaldo.xml', { status: 500, body: 'down' });
  const s = await ok(201, 'POST', '/api/v1/orgs/certaldo/alert-sources', { as: op, body: { kind: 'lamma-comune', url: `${origin}/lamma/certaldo.xml` } });
  sink.clear();
  const h = await pollNow('certaldo', s.id);
  assert.equal(h.health.failing, true);
  await waitFor(() => sink.messages.length >= 2, 'the warnings', 10000);
  await quiet();
  assert.deepEqual(rcpts(), ['protezione.civile@certaldo.example.it', 'sindaco@certaldo.example.it'], 'exactly one each, nobody else');
  const m = decode(sink.messages[0]);
  assert.equal(sink.messages[0].from, 'araldo@comune.example.it');
  assert.equal(m.subject, 'Fonte di allerta in errore: Consorzio LaMMA (Regione Toscana) — Comune di Certaldo');
  assert.match(m.headers.subject, /^=\?UTF-8\?B\?/, 'not ASCII: an encoded word');
  assert.match(m.headers['content-type'], /text\/plain; charset=UTF-8/);
  assert.equal(m.headers['content-transfer-encoding'], 'quoted-printable');
  assert.match(m.headers.date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  assert.match(m.headers['message-id'], /^<[^@<>]+@comune\.example\.it>$/);
  assert.match(m.body, /la fonte ufficiale di allerta "Consorzio LaMMA \(Regione Toscana\) per Certaldo" \(n\. \d+\) di Comune di Certaldo non riesce a essere letta/);
  assert.match(m.body, /Ultimo errore \(04\/12\/2026 \d\d:\d\d\): il sito della fonte ha risposto con un errore\./);
  assert.match(m.body, /Ultima lettura riuscita: mai/);
  assert.match(m.body, /https:\/\/araldo\.comune\.example\.it\/admin\/#\/allerte\/fonti/);
  assert.match(m.body, /Finché la fonte non torna a funzionare/);
  for (const line of m.raw.split('\r\n')) assert.ok(line.length <= 78, `line too long: ${line}`);

  // A restart: the episode was recorded, nothing is sent again.
  sink.clear();
  await srv.stop();
  srv = await startServer({ ...opts, data: srv.data });
  await quiet();
  assert.equal(sink.messages.length, 0);

  // Recovery: a "back to normal" mail; a new failure is a new episode and warns again.
  files.set('/lamma/certaldo.xml', { body: readFileSync('tests/fixtures/sources/lamma_certaldo_nessuno.xml') });
  assert.equal((await pollNow('certaldo', s.id)).health.failing, false);
  await waitFor(() => sink.messages.length >= 2, 'the recovery mails', 10000);
  assert.match(decode(sink.messages[0]).subject, /^Fonte di allerta tornata a funzionare/);
  sink.clear();
  files.set('/lamma/certaldo.xml', { status: 503, body: 'down' });
  await pollNow('certaldo', s.id);
  await waitFor(() => sink.messages.length >= 2, 'the new warnings', 10000);
  await quiet();
  assert.deepEqual(rcpts(), ['protezione.civile@certaldo.example.it', 'sindaco@certaldo.example.it']);
  const metrics = (await api(srv.url, 'GET', '/metrics', { as: op })).text;
  assert.match(metrics, /araldo_mail_sent_total [1-9]\d*/);
  assert.match(metrics, /araldo_mail_failed_total 0/);
  assert.ok(!metrics.includes('@'), 'no address in the metrics');
  assert.ok(!srv.stderr.includes('certaldo.example.it'), 'no address in the logs');
});

test('a stale source (no successful fetch for alert_source_stale_hours) warns its own org only', async () => {
  const s = await ok(201, 'POST', '/api/v1/orgs/sora/alert-sources', { as: op, body: { kind: 'lamma-comune', url: `${origin}/lamma/sora.xml` } });
  sink.clear();
  await srv.stop();
  srv = await startServer({ ...opts, data: srv.data, env: { ARALDO_TEST_CLOCK_OFFSET_MS: String(PINNED + 27 * 3600 * 1000 - Date.now()) } });
  await waitFor(() => sink.messages.some((m) => m.rcpt.includes('admin@sora.example.it')), 'the stale warning', 10000);
  await quiet();
  assert.deepEqual(rcpts(), ['admin@sora.example.it'], 'Certaldo\'s staff are not told of Sora\'s source (theirs is already warned)');
  const m = decode(sink.messages[0]);
  assert.equal(m.subject, 'Fonte di allerta non aggiornata: Consorzio LaMMA (Regione Toscana) — Comune di Sora');
  assert.match(m.body, /non si aggiorna: nessuna lettura riuscita dal 04\/12\/2026 \d\d:\d\d \(ora locale\), da più di 26 ore/);
  assert.ok(m.body.includes(`(n. ${s.id})`));
  await srv.stop();
  srv = await startServer(opts);
  op = operatorToken(srv.data);
});

const CONTACT = { email: 'mario.rossi@example.it', phone: '+39 333 7654321', first_name: 'Mario', last_name: 'Rossi' };

test('a report forwarded to a target of kind email arrives with its public fields and no contact data', async () => {
  await ok(201, 'POST', '/api/v1/orgs', { as: op, body: { slug: 'vinci', name: 'Comune di Vinci' } });
  const bad = await api(srv.url, 'POST', '/api/v1/orgs/vinci/report-forwards', { as: op, body: { name: 'Acque', kind: 'email', email: 'segnalazioni@acque' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.data.error.field, 'email');
  const mixed = await api(srv.url, 'POST', '/api/v1/orgs/vinci/report-forwards', { as: op, body: { name: 'Acque', kind: 'email', email: 'a@acque.example.it', endpoint: 'https://x.example/' } });
  assert.equal(mixed.status, 400);
  assert.equal(mixed.data.error.field, 'endpoint');
  const inj = await api(srv.url, 'POST', '/api/v1/orgs/vinci/report-forwards', { as: op, body: { name: 'Acque', kind: 'email', email: 'a@acque.example.it\r\nBcc: x@evil.example' } });
  assert.equal(inj.status, 400, 'CR/LF in an address is refused');
  const t = await ok(201, 'POST', '/api/v1/orgs/vinci/report-forwards', { as: op, body: { name: 'Acque Toscane SpA', kind: 'email', email: 'segnalazioni@acque.example.it' } });
  const list = await ok(200, 'GET', '/api/v1/orgs/vinci/report-forwards', { as: op });
  assert.deepEqual(list.targets.map((x) => [x.id, x.kind, x.email, x.endpoint]), [[t.id, 'email', 'segnalazioni@acque.example.it', null]]);
  // Its address can be changed; Open311 fields cannot be given to it.
  const tpath = `/api/v1/orgs/vinci/report-forwards/${t.id}`;
  const wrong = await api(srv.url, 'PATCH', tpath, { as: op, body: { endpoint: 'https://x.example/open311/v2' } });
  assert.equal(wrong.status, 400, 'an e-mail target has no endpoint');
  assert.equal((await api(srv.url, 'PATCH', tpath, { as: op, body: { email: 'a@acque.example.it\r\nBcc: x@evil.example' } })).status, 400);
  await ok(204, 'PATCH', tpath, { as: op, body: { email: 'ufficio@acque.example.it' } });
  assert.equal((await ok(200, 'GET', '/api/v1/orgs/vinci/report-forwards', { as: op })).targets[0].email, 'ufficio@acque.example.it');
  await ok(204, 'PATCH', tpath, { as: op, body: { email: 'segnalazioni@acque.example.it' } });

  const { token } = await ok(201, 'POST', '/api/v1/followers');
  const r = await fetch(`${srv.url}/open311/v2/requests.json?jurisdiction_id=vinci`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ service_code: 'acqua-perdita', lat: '43.7696', long: '10.9234', description: 'Perdita d\'acqua più forte davanti al n. 3, è così da lunedì', address_string: 'Via Roma 3', ...CONTACT }),
  });
  assert.equal(r.status, 201);
  const id = (await r.json())[0].service_request_id;
  sink.clear();
  const f = await ok(200, 'POST', `/api/v1/orgs/vinci/reports/${id}/forward`, { as: op, body: { target: t.id, note: 'Competenza del gestore' } });
  assert.equal(f.forwarded_to, 'Acque Toscane SpA');
  assert.equal(sink.messages.length, 1, 'sent before the answer');
  assert.deepEqual(sink.messages[0].rcpt, ['segnalazioni@acque.example.it']);
  const m = decode(sink.messages[0]);
  assert.match(m.subject, new RegExp(`^Segnalazione n\\. ${id} inoltrata da Comune di Vinci: `));
  assert.ok(m.body.includes('Descrizione: Perdita d\'acqua più forte davanti al n. 3, è così da lunedì'));
  assert.ok(m.body.includes('Indirizzo: Via Roma 3'));
  assert.ok(m.body.includes('Posizione: 43.7696000, 10.9234000'));
  assert.ok(m.body.includes('https://www.openstreetmap.org/?mlat=43.7696000&mlon=10.9234000#map=18/43.7696000/10.9234000'));
  assert.ok(m.body.includes(`https://araldo.comune.example.it/open311/v2/requests/${id}.json?jurisdiction_id=vinci`));
  assert.ok(m.body.includes('Nota del Comune: Competenza del gestore'));
  for (const v of Object.values(CONTACT)) assert.ok(!m.raw.includes(v) && !m.body.includes(v), `contact data never leaves: ${v}`);
  const staff = await ok(200, 'GET', `/api/v1/orgs/vinci/reports/${id}`, { as: op });
  assert.equal(staff.forwarded_to, 'Acque Toscane SpA');
  assert.equal(staff.status, 'chiusa');
  assert.deepEqual(staff.forwards.map((x) => x.target), ['Acque Toscane SpA']);
  const pub = (await (await fetch(`${srv.url}/open311/v2/requests/${id}.json?jurisdiction_id=vinci`)).json())[0];
  assert.equal(pub.status_notes, 'Inoltrata a Acque Toscane SpA per e-mail. Competenza del gestore');
});

test('without smtp_url: no mail, and an email target is refused naming smtp_url', async () => {
  const plain = await startServer({ sets: { push_allow_hosts: '127.0.0.1' } });
  try {
    const tok = operatorToken(plain.data);
    await api(plain.url, 'POST', '/api/v1/orgs', { as: tok, body: { slug: 'empoli', name: 'Comune di Empoli' } });
    const r = await api(plain.url, 'POST', '/api/v1/orgs/empoli/report-forwards', { as: tok, body: { name: 'Acque', kind: 'email', email: 'segnalazioni@acque.example.it' } });
    assert.equal(r.status, 422);
    assert.equal(r.data.error.code, 'mail_not_configured');
    assert.match(r.data.error.message, /smtp_url/);
    const m = (await api(plain.url, 'GET', '/metrics', { as: tok })).text;
    assert.match(m, /araldo_mail_sent_total 0/);
  } finally {
    await plain.stop();
    plain.cleanup();
  }
  // A relay that is not a TLS one and not on the allow-list refuses to start (clear message).
  await assert.rejects(startServer({ sets: { smtp_url: 'http://127.0.0.1:25' } }), /smtp_url must be smtps/);
});
