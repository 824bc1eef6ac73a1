// SPDX-License-Identifier: AGPL-3.0-or-later
// `araldo export` / `araldo import` (issue 16): the demo Comune, with followers, reactions, a
// vote, an alert, a report and an invite added, is exported from a running SQLite server,
// imported into a new PostgreSQL database, and a server on it shows everything the same; staff
// sign in with the same password, a follower's token still follows, a post published after the
// move reaches an SSE follower, and a follower resumes by Last-Event-ID across the move. Then
// PostgreSQL back to SQLite gives the same dump, and damaged or misplaced dumps are refused with
// nothing written. The PostgreSQL parts skip when it is not installed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BIN, PG, startServer, operatorToken, api, tempDir } from './lib/server.mjs';
import { SKIP_REASON, startPostgres } from './lib/postgres.mjs';

const ORG = 'comune-valdoro';
const NEWS = 'valdoro-notizie';
const PC = 'valdoro-protezione-civile';

// The CLI on a data directory and an explicit engine ('' is SQLite in that directory).
function run(args, { data, url = '', input } = {}) {
  const r = spawnSync(BIN, [...args, '--data', data, '--set', `database_url=${url}`],
    { input, encoding: 'utf8', timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// A dump as comparable data: the header without engine and time, each table's rows as objects
// sorted (text keys sort differently on the two engines), and its counts.
function normalize(file) {
  const lines = gunzipSync(readFileSync(file)).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  const { engine, created_ms: _, ...header } = lines[0];
  assert.match(engine, /^(sqlite|postgresql)$/);
  const tables = {};
  let cur = null;
  for (const v of lines.slice(1)) {
    if (Array.isArray(v)) {
      cur.rows.push(JSON.stringify(Object.fromEntries(cur.order.map(([c], i) => [c, v[i]]).sort())));
    } else if (v.table) {
      cur = tables[v.table] = { columns: [...v.columns].sort(), order: v.columns, rows: [] };
    } else if (v.table_end) {
      cur.rows.sort();
      cur.end = v;
      delete cur.order;
    }
  }
  return { header, tables, end: lines.at(-1) };
}

// The CLI without waiting (to write to the server while it runs).
function runAsync(args, { data, url = '' }) {
  const child = spawn(BIN, [...args, '--data', data, '--set', `database_url=${url}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((res) => child.on('exit', (status) => res({ status, stderr })));
}

// One snapshot: every channel's counters agree with the rows beside them in the dump.
function checkConsistent(dump) {
  const rows = (t) => dump.tables[t].rows.map((r) => JSON.parse(r));
  for (const ch of rows('channels')) {
    const posts = rows('posts').filter((p) => p.channel_id === ch.id && p.state === 1).length;
    const follows = rows('follows').filter((f) => f.channel_id === ch.id).length;
    const seqs = rows('events').filter((e) => e.channel_id === ch.id).map((e) => e.seq);
    assert.equal(ch.posts_count, posts, `${ch.handle}: posts_count`);
    assert.equal(ch.followers_count, follows, `${ch.handle}: followers_count`);
    assert.equal(ch.last_seq, seqs.length ? Math.max(...seqs) : 0, `${ch.handle}: last_seq`);
  }
}

async function signIn(url, email, password) {
  const r = await fetch(`${url}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  await r.text();
  return r.status;
}

// Read an SSE stream until `until(events)` holds; resolves to the events ({ id, event, data }).
async function readStream(url, { headers = {}, until, ms = 10000 }) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const events = [];
  try {
    const r = await fetch(url, { headers, signal: ac.signal });
    assert.equal(r.status, 200);
    const dec = new TextDecoder();
    let buf = '';
    for await (const chunk of r.body) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = {};
        for (const line of block.split('\n')) {
          const m = /^(id|event|data): ?(.*)$/.exec(line);
          if (m) ev[m[1]] = m[2];
        }
        if (ev.event) events.push(ev);
      }
      if (until(events)) break;
    }
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

// What a person sees: directory, channels, posts with reactions and polls, alerts, reports,
// an invite, a follower's own view.
async function view(url, { op, follower, invite }) {
  const get = async (path, as) => {
    const r = await api(url, 'GET', path, { as });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return r.data;
  };
  return {
    directory: await get('/api/v1/channels'),
    search: await get('/api/v1/channels?q=citta'),
    news: await get(`/api/v1/channels/${NEWS}`),
    pc: await get(`/api/v1/channels/${PC}`),
    newsPosts: await get(`/api/v1/channels/${NEWS}/posts?limit=100`, follower),
    pcPosts: await get(`/api/v1/channels/${PC}/posts?limit=100`),
    alerts: { ...await get(`/api/v1/orgs/${ORG}/alerts/current`), generated_at: null },
    reports: await get(`/api/v1/orgs/${ORG}/reports`, op),
    invite: await get(`/api/v1/invites/${invite}`),
    me: await get('/api/v1/me', op),
  };
}

let pg = null;
let src = null;
let dst = null;
const w = {};
const dir = tempDir('araldo-export-');

before(async () => {
  if (PG) return; // runs once, in the SQLite pass: it moves SQLite to its own PostgreSQL
  pg = await startPostgres();
  if (!pg) return;
  src = await startServer({ args: ['--demo'], sets: { database_url: '' } });
  const op = w.op = operatorToken(src.data);
  const ok = async (status, method, path, opts) => {
    const r = await api(src.url, method, path, opts);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    return r.data;
  };
  w.staff = await ok(201, 'POST', `/api/v1/orgs/${ORG}/staff`, { as: op, body: { email: 'ufficio@valdoro.it', role: 'org_admin' } });
  assert.equal(await signIn(src.url, 'ufficio@valdoro.it', w.staff.password), 200);
  w.follower = (await ok(201, 'POST', '/api/v1/followers')).token;
  const fol = await api(src.url, 'PUT', `/api/v1/channels/${NEWS}/follow`, { as: w.follower, body: {} });
  assert.ok(fol.status < 300, fol.text);
  const posts = (await ok(200, 'GET', `/api/v1/channels/${NEWS}/posts?limit=100`)).posts;
  await ok(204, 'PUT', `/api/v1/posts/${posts[1].id}/reaction`, { as: w.follower, body: { emoji: '👍' } });
  const poll = posts.find((p) => p.poll);
  assert.ok(poll, 'the demo has a poll');
  await ok(204, 'PUT', `/api/v1/posts/${poll.id}/vote`, { as: w.follower, body: { options: [0] } });
  await ok(201, 'POST', `/api/v1/orgs/${ORG}/zones`, { as: op, body: { code: 'CENTRO', name: 'Centro storico' } });
  await ok(201, 'POST', `/api/v1/orgs/${ORG}/alerts`, {
    as: op,
    body: {
      zones: ['CENTRO'], risk: 'idraulico', level: 'giallo', expires: new Date(Date.now() + 6 * 3600e3).toISOString(),
      info: [{ language: 'it', headline: 'Allerta gialla idraulica', instruction: 'Evitate i sottopassi.' }],
    },
  });
  const rep = await fetch(`${src.url}/open311/v2/requests.json`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.follower}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'service_code=strade-buche&address_id=1&description=Buca%20in%20via%20Roma',
  });
  assert.equal(rep.status, 201, await rep.text());
  w.invite = (await ok(201, 'POST', `/api/v1/channels/${NEWS}/invites`, { as: op, body: {} })).code;

  // The follower's stream sees post A; post B is published while it is away (then the move).
  const a = () => ok(201, 'POST', `/api/v1/channels/${NEWS}/posts`, { as: op, body: { text: 'Prima del trasloco' } });
  const seen = await Promise.all([
    readStream(`${src.url}/api/v1/stream`, {
      headers: { authorization: `Bearer ${w.follower}` },
      until: (evs) => evs.some((e) => e.event === 'post.created'),
    }),
    new Promise((r) => setTimeout(r, 300)).then(a),
  ]);
  w.lastId = seen[0].find((e) => e.event === 'post.created').id;
  await ok(201, 'POST', `/api/v1/channels/${NEWS}/posts`, { as: op, body: { text: 'Mentre eri via' } });
  w.before = await view(src.url, { op, follower: w.follower, invite: w.invite });
});

after(async () => {
  if (src) await src.stop();
  if (dst) await dst.stop();
  if (pg) pg.stop();
});

const skip = (t) => {
  if (PG) { t.skip('runs in the SQLite pass (it starts its own PostgreSQL)'); return true; }
  if (!pg) { t.skip(SKIP_REASON); return true; }
  return false;
};

test('export from a running SQLite server, import into PostgreSQL: everything is there', async (t) => {
  if (skip(t)) return;
  const file = join(dir, 'valdoro.araldo.gz');
  // while the server runs and writes: one snapshot, whatever commits during it
  const busy = join(dir, 'busy.araldo.gz');
  const writes = [];
  const exporting = runAsync(['export', busy], { data: src.data });
  for (let i = 0; i < 10; i++) {
    writes.push(api(src.url, 'POST', `/api/v1/channels/${PC}/posts`, { as: w.op, body: { text: `Durante l'export ${i}` } }));
    writes.push(api(src.url, 'POST', '/api/v1/followers').then((r) => api(src.url, 'PUT', `/api/v1/channels/${PC}/follow`, { as: r.data.token, body: {} })));
  }
  const busyEx = await exporting;
  await Promise.all(writes);
  assert.equal(busyEx.status, 0, busyEx.stderr);
  checkConsistent(normalize(busy));
  w.before = await view(src.url, { op: w.op, follower: w.follower, invite: w.invite });

  const ex = run(['export', file], { data: src.data });
  assert.equal(ex.status, 0, ex.stderr);
  assert.match(ex.stderr, /export: wrote .*schema \d+, \d+ tables, \d+ rows/);
  checkConsistent(normalize(file));
  assert.match(ex.stderr, /media files are not in the dump: copy .*media/);
  assert.match(ex.stderr, /the Web Push key: keep it as secret as the database/);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the dump is a secret');
  w.file = file;
  // The Web Push key pair moves with the data (push_vapid): subscriptions stay reachable.
  w.pushKey = (await api(src.url, 'GET', '/api/v1/push/key')).data;
  assert.ok(w.pushKey, 'the push key');
  await src.stop();

  w.url = pg.database();
  w.dstDir = tempDir('araldo-export-pg-');
  const im = run(['import', file], { data: w.dstDir, url: w.url });
  assert.equal(im.status, 0, im.stderr);
  assert.match(im.stdout, /import: loaded .*\d+ tables, \d+ rows/);
  assert.match(im.stdout, /media files are not in the dump: copy .*media/);

  // The database holds exactly the dump: exported again (before any server touches it), equal.
  const again = join(dir, 'pg.araldo.gz');
  assert.equal(run(['export', again], { data: w.dstDir, url: w.url }).status, 0);
  assert.deepEqual(normalize(again), normalize(file));

  dst = await startServer({ data: w.dstDir, sets: { database_url: w.url } });
  assert.equal(dst.password, null, 'not a first start: the accounts moved');
  assert.deepEqual((await api(dst.url, 'GET', '/api/v1/push/key')).data, w.pushKey, 'the same push key');
  const moved = await view(dst.url, { op: w.op, follower: w.follower, invite: w.invite });
  assert.deepEqual(moved, w.before);
  assert.ok(moved.news.followers_count >= 1);
  assert.ok(moved.search.channels.length >= 1, 'the search index was rebuilt');
  assert.equal(await signIn(dst.url, 'ufficio@valdoro.it', w.staff.password), 200);
  assert.equal(await signIn(dst.url, 'ufficio@valdoro.it', 'not the password'), 401);
});

test('after the move: new rows get fresh ids, fan-out works, Last-Event-ID resumes', async (t) => {
  if (skip(t)) return;
  assert.ok(dst, 'the import test ran');
  // A follower made on PostgreSQL gets a fresh id (the identity counters moved past the dump).
  const f2 = (await api(dst.url, 'POST', '/api/v1/followers')).data.token;
  assert.equal((await api(dst.url, 'PUT', `/api/v1/channels/${NEWS}/follow`, { as: f2, body: {} })).status < 300, true);
  const inv = await api(dst.url, 'POST', `/api/v1/channels/${NEWS}/invites`, { as: w.op, body: {} });
  assert.equal(inv.status, 201, inv.text);

  // The old follower resumes from the last event it saw on SQLite: it gets the post it missed,
  // then a post published now on PostgreSQL, once each and in order.
  const stream = readStream(`${dst.url}/api/v1/stream`, {
    headers: { authorization: `Bearer ${w.follower}`, 'last-event-id': w.lastId },
    until: (evs) => evs.some((e) => e.event === 'post.created' && /Dopo il trasloco/.test(e.data)),
  });
  await new Promise((r) => setTimeout(r, 300));
  const made = await api(dst.url, 'POST', `/api/v1/channels/${NEWS}/posts`, { as: w.op, body: { text: 'Dopo il trasloco' } });
  assert.equal(made.status, 201, made.text);
  const evs = (await stream).filter((e) => e.event === 'post.created');
  assert.deepEqual(evs.map((e) => JSON.parse(e.data).text), ['Mentre eri via', 'Dopo il trasloco']);
  const seqs = evs.map((e) => Number(e.id.split(':')[1]));
  assert.ok(seqs[0] > Number(w.lastId.split(':')[1]) && seqs[1] > seqs[0], `${w.lastId} then ${seqs}`);
  assert.ok(Number(made.data.id) > Math.max(...w.before.newsPosts.posts.map((p) => Number(p.id))));
});

test('PostgreSQL back to SQLite gives the same dump', async (t) => {
  if (skip(t)) return;
  const fromPg = join(dir, 'back.araldo.gz');
  const ex = run(['export', fromPg], { data: w.dstDir, url: w.url });
  assert.equal(ex.status, 0, ex.stderr);
  const lite = tempDir('araldo-export-lite-');
  const im = run(['import', fromPg], { data: lite });
  assert.equal(im.status, 0, im.stderr);
  const again = join(dir, 'lite.araldo.gz');
  assert.equal(run(['export', again], { data: lite }).status, 0);
  assert.deepEqual(normalize(again), normalize(fromPg));
  // and a server on it works: the search (FTS5, rebuilt) finds the channels
  const s = await startServer({ data: lite, sets: { database_url: '' } });
  try {
    const r = await api(s.url, 'GET', '/api/v1/channels?q=citta');
    assert.equal(r.status, 200);
    assert.deepEqual(r.data.channels.map((c) => c.handle), w.before.search.channels.map((c) => c.handle));
    assert.ok(r.data.channels.length >= 1);
    assert.equal(await signIn(s.url, 'ufficio@valdoro.it', w.staff.password), 200);
  } finally {
    await s.stop();
  }
});

test('refused: a database in use, another schema version, damaged or truncated dumps', async (t) => {
  if (skip(t)) return;
  const lines = gunzipSync(readFileSync(w.file)).toString('utf8').trimEnd().split('\n');
  const write = (name, text, gz = true) => {
    const f = join(dir, name);
    writeFileSync(f, gz ? gzipSync(text) : text);
    return f;
  };
  // the PostgreSQL database of the first test holds data: refused, unchanged (its server
  // stopped first: a running one takes leases and writes counts on its own)
  if (dst) await dst.stop();
  dst = null;
  const before = join(dir, 'busy-before.gz');
  assert.equal(run(['export', before], { data: w.dstDir, url: w.url }).status, 0);
  let r = run(['import', w.file], { data: w.dstDir, url: w.url });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not empty \(table '\w+' has rows\).*nothing was imported/);
  const after_ = join(dir, 'busy-after.gz');
  assert.equal(run(['export', after_], { data: w.dstDir, url: w.url }).status, 0);
  assert.deepEqual(normalize(after_), normalize(before));

  const header = JSON.parse(lines[0]);
  const cases = [
    ['another schema version', write('v.gz', [JSON.stringify({ ...header, schema: 999 }), ...lines.slice(1)].join('\n')),
      /schema version 999, this database \d+: import it with the araldo release that wrote it/],
    ['a newer format', write('f.gz', [JSON.stringify({ ...header, version: 2 }), ...lines.slice(1)].join('\n')),
      /format version 2; this araldo reads version 1/],
    ['truncated inside a table', write('t.gz', lines.slice(0, lines.length - 5).join('\n')), /truncated \(it ends inside table/],
    ['truncated gzip', write('tz.gz', gzipSync(lines.join('\n')).subarray(0, 600), false), /truncated|cannot read/],
    ['a row count that does not match', write('c.gz', lines.map((l) => l.replace(/"table_end":"users","rows":(\d+)/, (m, n) => `"table_end":"users","rows":${Number(n) + 1}`)).join('\n')),
      /row count does not match/],
    ['garbage', write('g.gz', 'PK\u0003\u0004 not a dump at all\n', false), /not JSON|not an araldo export/],
    ['an empty file', write('e.gz', '', false), /truncated \(it ends before the header\)/],
    ['a bad hex blob', write('h.gz', lines.map((l) => l.replace(/"([0-9a-f]{64})"/, '"zz$1"')).join('\n')), /hex bytes|wrong number|damaged/],
    ['data after the end', write('a.gz', [...lines, lines[0]].join('\n')), /after the end/],
    ['a table this database lacks', write('x.gz', [
      JSON.stringify({ ...header, tables: [...header.tables, 'retired'] }), ...lines.slice(1, -1),
      '{"table":"retired","columns":[["id","integer"]]}', '[1]', '{"table_end":"retired","rows":1}',
      lines.at(-1).replace(/"tables":(\d+),"rows":(\d+)/, (m, t, r) => `"tables":${Number(t) + 1},"rows":${Number(r) + 1}`),
    ].join('\n')), /has table 'retired', which this database lacks/],
  ];
  const lite = tempDir('araldo-export-refuse-');
  for (const [what, file, re] of cases) {
    r = run(['import', file], { data: lite });
    assert.equal(r.status, 1, `${what}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re, what);
    assert.match(r.stderr, /nothing was imported/, what);
  }
  // nothing was written by any of them: the good dump still goes in, and a table of this
  // database's engine only (absent from the dump) is left as it was
  spawnSync('sqlite3', [join(lite, 'araldo.db'), 'CREATE TABLE engine_only (x INTEGER)']);
  r = run(['import', w.file], { data: lite });
  assert.equal(r.status, 0, r.stderr);
});

test('export to standard output, import from standard input (SQLite to SQLite)', () => {
  const a = tempDir('araldo-export-pipe-');
  const b = tempDir('araldo-export-pipe-');
  const ex = spawnSync(BIN, ['export', '-', '--data', a, '--set', 'database_url='], { timeout: 60000 });
  assert.equal(ex.status, 0, ex.stderr.toString());
  assert.match(gunzipSync(ex.stdout).toString('utf8').split('\n')[0], /^\{"format":"araldo-export","version":1,/);
  const im = spawnSync(BIN, ['import', '-', '--data', b, '--set', 'database_url='], { input: ex.stdout, timeout: 60000 });
  assert.equal(im.status, 0, im.stderr.toString());
  assert.match(im.stdout.toString(), /import: loaded '-'/);
});

test('export and import: usage errors', (t) => {
  const d = tempDir('araldo-export-usage-');
  let r = spawnSync(BIN, ['export', '--data', d], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /name one destination FILE/);
  r = spawnSync(BIN, ['import', join(d, 'missing.gz'), '--data', d], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot open/);
  r = spawnSync(BIN, ['export', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /keep it as secret as the database/);
  t.diagnostic('help ok');
});
