// SPDX-License-Identifier: AGPL-3.0-or-later
// database_url (issue 16): `serve` and every subcommand that opens the store use PostgreSQL
// when it is set; `backup` sends the operator to pg_dump; /readyz fails while PostgreSQL is
// unreachable (the load balancer takes the node out) and recovers by itself, and the node's
// readers reconnect without failing a request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { BIN, api, startServer, tempDir } from './lib/server.mjs';
import { startPostgres, SKIP_REASON } from './lib/postgres.mjs';

function run(args, input = '') {
  return spawnSync(BIN, args, { input, encoding: 'utf8', timeout: 30000 });
}

test('database_url: the CLI and the server share one PostgreSQL database; readyz follows it', async (t) => {
  const pg = await startPostgres();
  if (!pg) return t.skip(SKIP_REASON);
  const dir = tempDir();
  const url = pg.database();
  const db = ['--data', dir, '--set', `database_url=${url}`];
  let srv = null;
  try {
    let r = run(['migrate', ...db]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /schema at version \d+/);
    r = run(['user', 'add', '--email', 'ops@comune.example.it', '--role', 'operator', ...db],
      'una-password-lunga\n');
    assert.equal(r.status, 0, r.stderr);
    r = run(['token', 'create', '--email', 'ops@comune.example.it', '--name', 'pg', ...db]);
    assert.equal(r.status, 0, r.stderr);
    const token = r.stdout.trim();
    r = run(['backup', `${dir}/copy.db`, ...db]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /pg_dump/);
    // Nothing went to SQLite: the data directory has no database file.
    assert.equal(spawnSync('test', ['-e', `${dir}/araldo.db`]).status, 1);

    srv = await startServer({ data: dir, sets: { database_url: url } });
    assert.doesNotMatch(srv.stderr, /host=|dbname=/); // the URL (maybe a password) is not logged
    let res = await api(srv.url, 'POST', '/api/v1/orgs', {
      as: token, body: { slug: 'certaldo', name: 'Comune di Certaldo' },
    });
    assert.equal(res.status, 201, res.text);
    // The org the server wrote is in PostgreSQL, where psql sees it.
    const q = spawnSync('psql', [url, '-qAtc', "SELECT name FROM orgs WHERE slug = 'certaldo'"],
      { encoding: 'utf8' });
    assert.equal(q.stdout.trim(), 'Comune di Certaldo');
    assert.equal((await api(srv.url, 'GET', '/readyz')).status, 200);

    pg.pause();
    res = await api(srv.url, 'GET', '/readyz');
    assert.equal(res.status, 503);
    assert.equal(res.data.error.code, 'not_ready');

    pg.resume();
    let ready = false;
    const t0 = Date.now();
    while (!ready && Date.now() - t0 < 10000) {
      ready = (await api(srv.url, 'GET', '/readyz')).status === 200;
      if (!ready) await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.ok(ready, 'readyz did not recover after PostgreSQL came back');
    // A reader whose session died with the outage reconnects instead of failing the request.
    res = await api(srv.url, 'GET', '/api/v1/orgs/certaldo');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.data.name, 'Comune di Certaldo');
  } finally {
    if (srv) await srv.stop();
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// While PostgreSQL is down, reads and writes fail at once with 503 database_unavailable (the
// node is not broken, the load balancer may retry elsewhere), not 500 after a long wait; the
// node recovers by itself, and /metrics shows its connections and reconnections (issue 16).
test('database_url: requests fail fast with 503 while PostgreSQL is down, and recover', async (t) => {
  const pg = await startPostgres();
  if (!pg) return t.skip(SKIP_REASON);
  const dir = tempDir();
  const url = pg.database();
  const db = ['--data', dir, '--set', `database_url=${url}`];
  let srv = null;
  try {
    let r = run(['user', 'add', '--email', 'ops@comune.example.it', '--role', 'operator', ...db],
      'una-password-lunga\n');
    assert.equal(r.status, 0, r.stderr);
    r = run(['token', 'create', '--email', 'ops@comune.example.it', '--name', 'pg', ...db]);
    assert.equal(r.status, 0, r.stderr);
    const token = r.stdout.trim();
    srv = await startServer({ data: dir, sets: { database_url: url } });
    let res = await api(srv.url, 'POST', '/api/v1/orgs', {
      as: token, body: { slug: 'certaldo', name: 'Comune di Certaldo' },
    });
    assert.equal(res.status, 201, res.text);

    pg.pause();
    const waited = [];
    const timed = async (method, path, body) => {
      const t0 = Date.now();
      const out = await api(srv.url, method, path, { as: token, body });
      waited.push(`${method} ${path} ${out.status} in ${Date.now() - t0} ms`);
      return out;
    };
    for (let i = 0; i < 3; i++) {
      res = await timed('GET', '/api/v1/orgs/certaldo');
      assert.equal(res.status, 503, res.text);
      assert.equal(res.data.error.code, 'database_unavailable');
      assert.ok(res.headers.get('retry-after'));
      res = await timed('POST', '/api/v1/orgs', { slug: `empoli${i}`, name: 'Comune di Empoli' });
      assert.equal(res.status, 503, res.text);
      assert.equal(res.data.error.code, 'database_unavailable');
      res = await timed('GET', '/readyz');
      assert.equal(res.status, 503);
    }
    t.diagnostic(`while PostgreSQL was down: ${waited.join('; ')}`);
    // Fast means no connect timeout waited for: a generous bound, not a speed test.
    for (const w of waited) assert.ok(Number(w.split(' in ')[1].split(' ')[0]) < 4000, w);

    pg.resume();
    let ready = false;
    const t0 = Date.now();
    while (!ready && Date.now() - t0 < 15000) {
      ready = (await api(srv.url, 'GET', '/readyz')).status === 200;
      if (!ready) await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.ok(ready, 'readyz did not recover after PostgreSQL came back');
    t.diagnostic(`ready again ${Date.now() - t0} ms after PostgreSQL was started again`);
    // Every reader finds its way back (a loop's reader may be past its one-second back-off).
    let ok = false;
    for (let i = 0; i < 40 && !ok; i++) {
      res = await api(srv.url, 'GET', '/api/v1/orgs/certaldo', { as: token });
      ok = res.status === 200;
      if (!ok) await new Promise((done) => setTimeout(done, 100));
    }
    assert.equal(res.status, 200, res.text);
    res = await api(srv.url, 'POST', '/api/v1/orgs', {
      as: token, body: { slug: 'empoli', name: 'Comune di Empoli' },
    });
    assert.equal(res.status, 201, res.text);

    res = await api(srv.url, 'GET', '/metrics', { as: token });
    assert.equal(res.status, 200);
    const metric = (name) => Number(res.text.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1]);
    assert.ok(metric('araldo_db_connections') >= 2, res.text); // the writer and a reader at least
    assert.ok(metric('araldo_db_reconnects_total') >= 1);
    assert.ok(metric('araldo_db_connect_failures_total') >= 1);
    assert.ok(metric('araldo_db_round_trips_total') > 0);
    assert.equal(metric('araldo_db_unreachable'), 0);
    assert.ok(metric('araldo_db_connections_busy') >= 0);
  } finally {
    if (srv) await srv.stop();
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// A server that stops answering without closing anything (a host gone, a network partition):
// here a proxy in front of PostgreSQL that drops its connections and then accepts new ones
// and never answers. Reconnecting must not hold a request (nor an event loop) for a connect
// timeout: each call waits a moment for the attempt, then answers 503; the node comes back by
// itself once the server answers again (issue 16).
test('database_url: a PostgreSQL that stops answering does not hold requests', { timeout: 90000 }, async (t) => {
  const pg = await startPostgres();
  if (!pg) return t.skip(SKIP_REASON);
  const dir = tempDir();
  const url = pg.database();
  const socket = `${url.match(/host=(\S+)/)[1]}/.s.PGSQL.5432`;
  const dbname = [...url.matchAll(/dbname=(\S+)/g)].pop()[1];
  let silent = false;
  const open = new Set();
  const proxy = net.createServer((c) => {
    open.add(c);
    c.on('error', () => {});
    c.on('close', () => open.delete(c));
    if (silent) return; // accepted, never answered
    const up = net.connect(socket);
    open.add(up);
    up.on('error', () => c.destroy());
    up.on('close', () => { open.delete(up); c.destroy(); });
    c.on('close', () => up.destroy());
    c.pipe(up);
    up.pipe(c);
  });
  await new Promise((ok) => proxy.listen(0, '127.0.0.1', ok));
  const via = `host=127.0.0.1 port=${proxy.address().port} user=araldo dbname=${dbname}`;
  const db = ['--data', dir, '--set', `database_url=${url}`];
  let srv = null;
  try {
    let r = run(['user', 'add', '--email', 'ops@comune.example.it', '--role', 'operator', ...db],
      'una-password-lunga\n');
    assert.equal(r.status, 0, r.stderr);
    r = run(['token', 'create', '--email', 'ops@comune.example.it', '--name', 'pg', ...db]);
    assert.equal(r.status, 0, r.stderr);
    const token = r.stdout.trim();
    srv = await startServer({ data: dir, sets: { database_url: via } });
    let res = await api(srv.url, 'POST', '/api/v1/orgs', {
      as: token, body: { slug: 'certaldo', name: 'Comune di Certaldo' },
    });
    assert.equal(res.status, 201, res.text);

    silent = true;
    for (const s of open) s.destroy();
    const waited = [];
    for (let i = 0; i < 12; i++) {
      const t0 = Date.now();
      res = await api(srv.url, 'GET', '/api/v1/orgs/certaldo', { as: token });
      const ms = Date.now() - t0;
      waited.push(`${res.status} in ${ms} ms`);
      assert.equal(res.status, 503, res.text);
      // the design waits 50 ms per call; a generous bound, below the 5 s connect timeout
      assert.ok(ms < 2500, `a request waited ${ms} ms`);
      res = await api(srv.url, 'GET', '/readyz');
      assert.equal(res.status, 503);
      await new Promise((ok) => setTimeout(ok, 400));
    }
    t.diagnostic(`while PostgreSQL did not answer, GET org: ${waited.join(', ')}`);

    silent = false;
    for (const s of open) s.destroy(); // the attempts in flight see the end of their socket
    let ready = false;
    const t0 = Date.now();
    while (!ready && Date.now() - t0 < 20000) {
      ready = (await api(srv.url, 'GET', '/readyz')).status === 200;
      if (!ready) await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.ok(ready, 'readyz did not recover');
    t.diagnostic(`ready again ${Date.now() - t0} ms after PostgreSQL answered again`);
    let ok = false;
    for (let i = 0; i < 60 && !ok; i++) {
      res = await api(srv.url, 'GET', '/api/v1/orgs/certaldo', { as: token });
      ok = res.status === 200;
      if (!ok) await new Promise((done) => setTimeout(done, 100));
    }
    assert.equal(res.status, 200, res.text);
  } finally {
    if (srv) await srv.stop();
    for (const s of open) s.destroy();
    proxy.close();
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
