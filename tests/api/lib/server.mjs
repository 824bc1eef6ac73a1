// SPDX-License-Identifier: AGPL-3.0-or-later
// Starts the real araldo binary on 127.0.0.1 with a temporary data directory, and runs its CLI.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const BIN = process.env.ARALDO_BIN || resolve('build/araldo');

export function tempDir(prefix = 'araldo-api-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// The PostgreSQL backend (issue 16): when ARALDO_TEST_PG holds a server's connection string
// (`tests/pg/postgres.sh run node --test tests/api/` sets it), every data directory gets a
// database of its own on that server, made on first use, and the server and the CLI are given
// it as database_url; so a test's CLI commands and its server share one database, as they
// share the directory on SQLite. Unset: SQLite, nothing changes.
export const PG = process.env.ARALDO_TEST_PG || '';

export function databaseUrl(dir) {
  if (!PG) return '';
  const name = `d${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 20)}`;
  const r = spawnSync('psql', [PG, '-qc', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
  if (r.status !== 0 && !/already exists/.test(r.stderr)) {
    throw new Error(`CREATE DATABASE ${name}: ${r.stderr}`);
  }
  return `${PG} dbname=${name}`;
}

// --set database_url=... for a data directory on PostgreSQL, else nothing.
export function dbArgs(dir) {
  return PG && dir ? ['--set', `database_url=${databaseUrl(dir)}`] : [];
}

// Run a CLI command to completion. Returns { status, stdout, stderr }.
export function cli(args, { input = '', data } = {}) {
  const full = data ? [...args, '--data', data, ...dbArgs(data)] : args;
  const r = spawnSync(BIN, full, { input, encoding: 'utf8', timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Start `araldo serve` on a free port. Resolves to a handle with url, data dir, the first-start
// operator password, stop() (SIGTERM, waits for exit) and kill() (SIGKILL).
export async function startServer({ data, sets = {}, args = [], env = {}, wrap } = {}) {
  const dir = data || tempDir();
  // alert_source_schedule=false: official alert sources (issue 14) are polled only when a test
  // asks, so their default URLs on the Internet are never called from a test; map_tile_url empty
  // (no map) for the same reason: the map tests point it at a local fixture (lib/tilesvc.mjs).
  const argv = ['serve', '--listen', '127.0.0.1:0', '--data', dir, '--set', 'workers=2',
    '--set', 'alert_source_schedule=false', '--set', 'map_tile_url=', ...dbArgs(dir), ...args];
  for (const [k, v] of Object.entries(sets)) argv.push('--set', `${k}=${v}`);
  const [cmd, cmdArgs] = wrap ? wrap(BIN, argv) : [BIN, argv];
  const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${stderr}`)), 15000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) { clearTimeout(timer); res(m[1]); }
    });
    exited.then(({ code }) => { clearTimeout(timer); rej(new Error(`server exited ${code}:\n${stderr}`)); });
  });
  const pw = /one-time password (\S+)/.exec(stdout);
  const u = new URL(url);
  return {
    url, host: u.hostname, port: Number(u.port), data: dir, child, exited,
    password: pw ? pw[1] : null,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
    cleanup() { if (!data) rmSync(dir, { recursive: true, force: true }); },
  };
}

// A staff API token for the server's data directory, made with the CLI (as an operator would).
export function operatorToken(dir, email = 'admin@localhost') {
  const r = cli(['token', 'create', '--email', email, '--name', 'tests'], { data: dir });
  if (r.status !== 0) throw new Error(`token create failed: ${r.stderr}`);
  return r.stdout.trim();
}

// One JSON API call: `as` is a bearer token, `body` is sent as JSON. Resolves to
// { status, headers, data (parsed JSON, else the text), text }.
export async function api(base, method, path, { as, body, headers = {} } = {}) {
  const h = { ...headers };
  if (as) h.authorization = `Bearer ${as}`;
  const init = { method, headers: h };
  if (body !== undefined) { init.body = JSON.stringify(body); h['content-type'] = 'application/json'; }
  const r = await fetch(`${base}${path}`, init);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: r.status, headers: r.headers, data, text };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll `pred` every 10 ms until it holds; throws "timed out waiting for <what>" after `ms`.
export async function waitFor(pred, what, ms = 3000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
