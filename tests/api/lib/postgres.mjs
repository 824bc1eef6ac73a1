// SPDX-License-Identifier: AGPL-3.0-or-later
// A throwaway PostgreSQL for API tests (issue 16): tests/pg/postgres.sh starts one in a
// temporary directory (unix socket only, run as an unprivileged user when we are root) and
// stops it. Not installed: startPostgres() resolves to null, and the caller skips with the
// reason (t.skip(SKIP_REASON)).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve('tests/pg/postgres.sh');
export const SKIP_REASON = "PostgreSQL's server is not installed (scripts/install-deps.sh)";

// Resolves to { conninfo, database(name) -> conninfo of a fresh database, stop() } or null.
export async function startPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'araldo-pg-'));
  const r = spawnSync(SCRIPT, ['start', dir], { encoding: 'utf8', timeout: 120000 });
  if (r.status === 3) return null;
  if (r.status !== 0) throw new Error(`postgres did not start:\n${r.stderr}`);
  const conninfo = r.stdout.trim();
  let n = 0;
  return {
    conninfo,
    // A database of its own for one server (or one cluster of nodes).
    database() {
      const name = `api${process.pid}_${++n}`;
      const c = spawnSync('psql', [conninfo, '-qc', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
      if (c.status !== 0) throw new Error(`CREATE DATABASE: ${c.stderr}`);
      return `${conninfo} dbname=${name}`;
    },
    // An outage: the server stops (its data kept) until resume().
    pause() {
      const p = spawnSync(SCRIPT, ['pause', dir], { encoding: 'utf8', timeout: 60000 });
      if (p.status !== 0) throw new Error(`postgres did not stop:\n${p.stderr}`);
    },
    resume() {
      const p = spawnSync(SCRIPT, ['resume', dir], { encoding: 'utf8', timeout: 60000 });
      if (p.status !== 0) throw new Error(`postgres did not start again:\n${p.stderr}`);
    },
    stop() {
      spawnSync(SCRIPT, ['stop', dir], { timeout: 60000 });
    },
  };
}
