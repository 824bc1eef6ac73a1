// SPDX-License-Identifier: AGPL-3.0-or-later
// Several araldo nodes on one PostgreSQL database (issue 16), on 127.0.0.1 ports of their own:
// what a Region or a large city runs behind a load balancer, shrunk onto one machine. Each node
// has its own data directory; they share the database (everything they must agree on) and
// whatever `sets` names (media_dir, say). PostgreSQL is the tests' throwaway one
// (ARALDO_TEST_PG when `tests/pg/postgres.sh run` set it, else one started here); when it is not
// installed startCluster() resolves to null and the caller skips with SKIP_REASON.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { BIN, startServer, tempDir } from './server.mjs';
import { SKIP_REASON, startPostgres } from './postgres.mjs';

export { SKIP_REASON };

let own = null; // a PostgreSQL started here, shared by this file's clusters

async function postgres() {
  if (process.env.ARALDO_TEST_PG) return { conninfo: process.env.ARALDO_TEST_PG, mine: false };
  if (!own) own = await startPostgres();
  return own ? { conninfo: own.conninfo, mine: true, pg: own } : null;
}

function createDatabase(conninfo, tag) {
  const name = `c${createHash('sha256').update(`${process.pid}:${tag}:${Math.random()}`).digest('hex').slice(0, 16)}`;
  const r = spawnSync('psql', [conninfo, '-qc', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`CREATE DATABASE ${name}: ${r.stderr}`);
  return `${conninfo} dbname=${name}`;
}

// Resolves to { nodes, databaseUrl, pg (pause/resume, only when started here), cli(args, opts),
// start(i) (start node i again after kill), stop() } or null without PostgreSQL.
export async function startCluster({ n = 3, sets = {}, nodeSets = () => ({}), tag = 'cluster' } = {}) {
  const server = await postgres();
  if (!server) return null;
  const databaseUrl = createDatabase(server.conninfo, tag);
  const dirs = Array.from({ length: n }, () => tempDir('araldo-node-'));
  const all = (i) => ({ ...sets, ...nodeSets(i), database_url: databaseUrl });
  // The first node migrates; the others find the schema in place (they would wait on the
  // migration lock if they started together: tested in the store suite).
  const nodes = [];
  for (let i = 0; i < n; i++) nodes.push(await startServer({ data: dirs[i], sets: all(i) }));
  const cluster = {
    nodes,
    databaseUrl,
    pg: server.pg || null,
    dirs,
    // The CLI against the cluster's database (as an operator on any node would run it).
    cli(args, { input = '' } = {}) {
      const r = spawnSync(BIN, [...args, '--data', dirs[0], '--set', `database_url=${databaseUrl}`],
        { input, encoding: 'utf8', timeout: 30000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    token(email = 'admin@localhost') {
      const r = cluster.cli(['token', 'create', '--email', email, '--name', 'tests']);
      if (r.status !== 0) throw new Error(`token create failed: ${r.stderr}`);
      return r.stdout.trim();
    },
    async start(i) {
      nodes[i] = await startServer({ data: dirs[i], sets: all(i) });
      return nodes[i];
    },
    async stop() {
      await Promise.all(nodes.map((s) => s.stop()));
    },
  };
  return cluster;
}

// Stop the PostgreSQL this file started (call once, in the test file's after()).
export function stopClusterPostgres() {
  if (own) own.stop();
  own = null;
}
