// SPDX-License-Identifier: AGPL-3.0-or-later
// The failover docs/DEPLOY.md describes ("When the primary fails"), with real PostgreSQL
// servers: a primary and a streaming replica made as the section says (pg_basebackup -R), and
// a node whose database_url names both with target_session_attrs=read-write. The primary
// stops: the node reports not ready and refuses writes; the replica is promoted: the node
// recovers by itself (no restart, no setting changed), everything written before is there,
// and writes go to the new primary. Skips when PostgreSQL is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, api, startServer, tempDir, sleep } from './lib/server.mjs';
import { SKIP_REASON, startPostgres } from './lib/postgres.mjs';

const BINDIR = (() => {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const v = readdirSync(base).filter((d) => existsSync(join(base, d, 'bin', 'pg_basebackup'))).sort().pop();
  return v ? join(base, v, 'bin') : null;
})();

// Run a PostgreSQL program as the clusters' owner (the postgres user when we are root, as
// tests/pg/postgres.sh does).
function asOwner(cmd, args) {
  const full = process.getuid() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(full[0], full[1], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function until(pred, what, ms) {
  const t0 = Date.now();
  for (;;) {
    if (await pred()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('failover: the replica is promoted and the node moves to it by itself (target_session_attrs=read-write)', async (t) => {
  const primary = BINDIR ? await startPostgres() : null;
  if (!primary) {
    t.skip(SKIP_REASON);
    return;
  }
  const pdir = /host=(\S+)/.exec(primary.conninfo)[1];
  const rdir = mkdtempSync(join(tmpdir(), 'araldo-pg-replica-'));
  const dir = tempDir();
  let srv = null;
  let replicaUp = false;
  try {
    if (process.getuid() === 0) spawnSync('chown', ['postgres', rdir]);
    // The replica, as DEPLOY.md makes it: a base backup with -R (standby.signal and
    // primary_conninfo), started as a hot standby.
    asOwner(join(BINDIR, 'pg_basebackup'), ['-h', pdir, '-U', 'araldo', '-D', join(rdir, 'data'), '-X', 'stream', '-R', '-c', 'fast']);
    // A hot standby needs max_connections at least the primary's (200 in tests/pg/postgres.sh):
    // DEPLOY.md gives both machines the same settings file.
    try {
      asOwner(join(BINDIR, 'pg_ctl'), ['-D', join(rdir, 'data'), '-l', join(rdir, 'server.log'), '-w', '-t', '60',
        '-o', `-c listen_addresses= -k ${rdir} -c max_connections=200`, 'start']);
    } catch (e) {
      throw new Error(`${e.message}\n${existsSync(join(rdir, 'server.log')) ? readFileSync(join(rdir, 'server.log'), 'utf8') : ''}`);
    }
    replicaUp = true;
    const onReplica = (sql) => spawnSync('psql', [`host=${rdir} user=araldo dbname=araldo`, '-qAtc', sql], { encoding: 'utf8' }).stdout.trim();
    assert.equal(onReplica('SELECT pg_is_in_recovery()'), 't', 'the replica is a standby');

    const url = `host=${pdir},${rdir} user=araldo dbname=araldo target_session_attrs=read-write connect_timeout=2`;
    // The CLI as an operator runs it on a node: the same database_url as serve.
    const cli = (args, input = '') => spawnSync(BIN, [...args, '--data', dir, '--set', `database_url=${url}`],
      { input, encoding: 'utf8', timeout: 30000 });
    assert.equal(cli(['migrate']).status, 0);
    assert.equal(cli(['user', 'add', '--email', 'op@regione.example.it', '--role', 'operator'], 'una password lunga\n').status, 0);
    const tok = cli(['token', 'create', '--email', 'op@regione.example.it', '--name', 'failover']);
    assert.equal(tok.status, 0, tok.stderr);
    const token = tok.stdout.trim();
    srv = await startServer({ data: dir, sets: { database_url: url } });

    let r = await api(srv.url, 'POST', '/api/v1/orgs', { as: token, body: { slug: 'prima', name: 'Prima del guasto' } });
    assert.equal(r.status, 201, r.text);
    await until(() => onReplica("SELECT count(*) FROM orgs WHERE slug = 'prima'") === '1', 'the replica to have the org', 10000);

    // The primary is lost.
    primary.pause();
    await until(async () => (await api(srv.url, 'GET', '/readyz')).status === 503, 'readyz to fail', 10000);
    r = await api(srv.url, 'POST', '/api/v1/orgs', { as: token, body: { slug: 'durante', name: 'Durante il guasto' } });
    assert.ok(r.status >= 500, `a write while there is no primary fails: ${r.status} ${r.text}`);
    // The standby is not taken for a primary: still not ready.
    await sleep(1500);
    assert.equal((await api(srv.url, 'GET', '/readyz')).status, 503, 'read-only standby is skipped');

    // Promote the replica: the node finds it by itself.
    asOwner(join(BINDIR, 'pg_ctl'), ['-D', join(rdir, 'data'), '-w', 'promote']);
    await until(async () => (await api(srv.url, 'GET', '/readyz')).status === 200, 'readyz to recover on the new primary', 30000);
    r = await api(srv.url, 'GET', '/api/v1/orgs/prima');
    assert.equal(r.status, 200, r.text);
    r = await api(srv.url, 'POST', '/api/v1/orgs', { as: token, body: { slug: 'dopo', name: 'Dopo il guasto' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(onReplica("SELECT count(*) FROM orgs WHERE slug = 'dopo'"), '1', 'written on the promoted replica');
    assert.equal(onReplica("SELECT count(*) FROM orgs WHERE slug = 'durante'"), '0', 'the failed write left nothing');
  } finally {
    if (srv) await srv.stop();
    if (replicaUp) spawnSync(process.getuid() === 0 ? 'runuser' : join(BINDIR, 'pg_ctl'),
      process.getuid() === 0 ? ['-u', 'postgres', '--', join(BINDIR, 'pg_ctl'), '-D', join(rdir, 'data'), '-m', 'immediate', '-w', 'stop']
        : ['-D', join(rdir, 'data'), '-m', 'immediate', '-w', 'stop'], { timeout: 60000 });
    rmSync(rdir, { recursive: true, force: true });
    primary.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
