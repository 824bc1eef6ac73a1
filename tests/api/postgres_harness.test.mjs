// SPDX-License-Identifier: AGPL-3.0-or-later
// The throwaway PostgreSQL that API tests on the PostgreSQL backend will use (issue 16): it
// starts as an unprivileged user, gives each caller a database of its own, and stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startPostgres, SKIP_REASON } from './lib/postgres.mjs';

test('a throwaway PostgreSQL starts, serves two separate databases and stops', async (t) => {
  const pg = await startPostgres();
  if (!pg) return t.skip(SKIP_REASON);
  const host = /host=(\S+)/.exec(pg.conninfo)[1];
  try {
    const a = pg.database();
    const b = pg.database();
    assert.notEqual(a, b);
    const q = (conn, sql) => spawnSync('psql', [conn, '-qAtc', sql], { encoding: 'utf8' });
    assert.equal(q(a, 'CREATE TABLE t (x int)').status, 0);
    assert.equal(q(b, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").stdout.trim(), '0');
    assert.equal(q(a, 'SHOW listen_addresses').stdout.trim(), ''); // no TCP port at all
  } finally {
    pg.stop();
  }
  assert.equal(existsSync(host), false);
});
