// SPDX-License-Identifier: AGPL-3.0-or-later
// The araldo command line: help, settings, migrate, backup, user add, token create.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PG, cli, tempDir, startServer } from './lib/server.mjs';

test('araldo --help lists every command and each command explains its options', () => {
  const r = cli(['--help']);
  assert.equal(r.status, 0);
  for (const c of ['serve', 'migrate', 'backup', 'user add', 'token create']) assert.ok(r.stdout.includes(c), c);
  for (const [cmd, opt] of [[['serve'], '--listen'], [['migrate'], '--data'], [['backup'], 'FILE'],
    [['user', 'add'], '--role'], [['token', 'create'], '--email']]) {
    const h = cli([...cmd, '--help']);
    assert.equal(h.status, 0, cmd.join(' '));
    assert.ok(h.stdout.includes(opt), `${cmd.join(' ')} --help mentions ${opt}`);
    assert.ok(h.stdout.includes('--config'), `${cmd.join(' ')} --help mentions --config`);
  }
});

test('unknown commands and options fail with one clear line', () => {
  let r = cli(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  r = cli(['serve', '--bogus']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown or incomplete option '--bogus'/);
});

test('docs/CONFIG.md lists every setting that --help-config knows', () => {
  const help = cli(['serve', '--help-config']).stdout;
  const names = [...help.matchAll(/^  ([a-z_]+) /gm)].map((m) => m[1]);
  assert.ok(names.length >= 15, `found ${names.length} settings`);
  const doc = readFileSync('docs/CONFIG.md', 'utf8');
  for (const n of names) assert.ok(doc.includes(`\`${n}\``), `docs/CONFIG.md lacks ${n}`);
  const md = cli(['serve', '--help-config=markdown']).stdout;
  assert.ok(doc.includes(md.trim()), 'docs/CONFIG.md table is out of date: regenerate it with araldo serve --help-config=markdown');
});

test('bad settings name the setting and exit 2', () => {
  const dir = tempDir();
  const cases = [
    [['--set', 'workers=many'], /workers: 'many' is not a whole number/],
    [['--set', 'max_header_bytes=10'], /max_header_bytes: 10 is outside 1024\.\.1048576/],
    [['--set', 'no_such=1'], /unknown setting 'no_such'/],
    [['--set', 'log_level=loud'], /log_level: 'loud' is not one of error\|warn\|info\|debug/],
    [['--set', 'access_log=maybe'], /access_log: 'maybe' is not a boolean \(true or false; also yes\/no, on\/off, 1\/0\)/],
    [['--config', join(dir, 'missing.conf')], /cannot open/],
  ];
  for (const [args, re] of cases) {
    const r = cli(['serve', '--data', dir, ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  writeFileSync(join(dir, 'bad.conf'), '# comment\nworkers = 2\nidle_timeout_ms = soon\n');
  const r = cli(['serve', '--data', dir, '--config', join(dir, 'bad.conf')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.conf:3: idle_timeout_ms: 'soon' is not a whole number/);
  rmSync(dir, { recursive: true, force: true });
});

test('a config file sets values and the command line overrides it', async () => {
  const dir = tempDir();
  const conf = join(dir, 'araldo.conf');
  writeFileSync(conf, `listen = 127.0.0.1:1\ndata_dir = "${dir}"\naccess_log = false # quiet\n`);
  const srv = await startServer({ data: dir, args: ['--config', conf] });
  try {
    const r = await fetch(`${srv.url}/healthz`);
    assert.equal(r.status, 200);
    assert.notEqual(srv.port, 1, '--listen on the command line wins over the file');
    assert.ok(!srv.stderr.includes('access: GET /healthz'), 'access_log = false from the file applies');
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migrate applies the schema once; user add and token create work on it', () => {
  const dir = tempDir();
  let r = cli(['migrate'], { data: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /schema at version [1-9]\d* \([1-9]\d* migrations applied now\)/);
  r = cli(['migrate'], { data: dir });
  assert.match(r.stdout, /\(0 migrations applied now\)/);

  r = cli(['user', 'add', '--email', 'it@comune.example.it', '--role', 'operator'], { input: 'short\n', data: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /10 to 256 characters/);
  r = cli(['user', 'add', '--email', 'not-an-email', '--role', 'operator'], { input: 'a-long-password\n', data: dir });
  assert.equal(r.status, 2);
  r = cli(['user', 'add', '--email', 'it@comune.example.it', '--role', 'wizard'], { input: 'a-long-password\n', data: dir });
  assert.equal(r.status, 2);
  r = cli(['user', 'add', '--email', 'it@comune.example.it', '--role', 'operator'], { input: 'a-long-password\n', data: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('a-long-password') && !r.stderr.includes('a-long-password'));

  r = cli(['token', 'create', '--email', 'it@comune.example.it', '--name', 'script'], { data: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), /^araldo_[A-Za-z0-9_-]{43}$/);
  rmSync(dir, { recursive: true, force: true });
});

// SQLite's online backup; on PostgreSQL `backup` names pg_dump (postgres_backend.test.mjs).
test('backup while the server is writing gives a consistent copy that serves', {
  skip: PG ? 'SQLite only: on PostgreSQL the backup is pg_dump\'s' : false,
}, async () => {
  const dir = tempDir();
  const srv = await startServer({ data: dir });
  const tok = cli(['token', 'create', '--email', 'admin@localhost'], { data: dir }).stdout.trim();
  const writes = [];
  let stop = false;
  const writer = (async () => {
    while (!stop) {
      const r = await fetch(`${srv.url}/api/v1/tokens`, {
        method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `w${writes.length}` }),
      });
      if (r.status === 201) writes.push((await r.json()).id);
    }
  })();
  await new Promise((res) => setTimeout(res, 300));
  const copy = join(dir, 'copy.db');
  const r = cli(['backup', copy], { data: dir });
  const ackedBefore = writes.length;
  stop = true;
  await writer;
  await srv.stop();
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(copy));
  assert.ok(ackedBefore > 0, 'writes were going on during the backup');
  // The copy is a working data directory: serve it and find the token made before the backup.
  const restored = tempDir();
  writeFileSync(join(restored, 'araldo.db'), readFileSync(copy));
  const srv2 = await startServer({ data: restored });
  try {
    const me = await fetch(`${srv2.url}/api/v1/me`, { headers: { authorization: `Bearer ${tok}` } });
    assert.equal(me.status, 200);
  } finally {
    await srv2.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(restored, { recursive: true, force: true });
  }
});

test('token list shows ids and names, never secrets; token revoke stops a token at once', async () => {
  const srv = await startServer();
  try {
    const made = cli(['token', 'create', '--email', 'admin@localhost', '--name', 'nightly-backup'], { data: srv.data });
    assert.equal(made.status, 0, made.stderr);
    const secret = made.stdout.trim();
    const auth = { authorization: `Bearer ${secret}` };
    assert.equal((await fetch(`${srv.url}/api/v1/me`, { headers: auth })).status, 200);
    let r = cli(['token', 'list', '--email', 'admin@localhost'], { data: srv.data });
    assert.equal(r.status, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.endsWith('\tnightly-backup'));
    assert.ok(line, r.stdout);
    assert.ok(!r.stdout.includes(secret.slice(7)), 'no secret in the list');
    const id = line.split('\t')[0];
    r = cli(['token', 'revoke', '--email', 'admin@localhost', id], { data: srv.data });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await fetch(`${srv.url}/api/v1/me`, { headers: auth })).status, 401, 'revoked at once');
    r = cli(['token', 'revoke', '--email', 'admin@localhost', id], { data: srv.data });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no live token/);
    r = cli(['token', 'revoke', '--email', 'admin@localhost'], { data: srv.data });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /name the token's ID/);
  } finally {
    await srv.stop();
    srv.cleanup();
  }
});
