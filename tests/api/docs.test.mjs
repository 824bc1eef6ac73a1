// SPDX-License-Identifier: AGPL-3.0-or-later
// What the documentation promises is what the server does. Every ```sh example of docs/API.md
// runs, in document order, with the real `curl` against one fresh server, and must answer the
// status (and error code) written under it; every error code the source can send must be in
// API.md's error table; every `araldo` command line of the README must be accepted by the CLI.
//
// The example format (API.md, "Trying the examples"): each command is followed by a line
//   # → 201, .id is $POST          status, then what the next examples call $POST
//   # → 410 invite_revoked         status and the error's code
//   # → 200, header ETag is $ETAG  a response header kept for later examples
//   # → 204 (not run: why)         an example that cannot run here (keep these very few)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, operatorToken, tempDir, cli } from './lib/server.mjs';
import { png, jpeg, haveTool } from '../fixtures/media/gen.mjs';

const API_MD = 'docs/API.md';
const MAX_NOT_RUN = 2;
const GIVEN = ['ARALDO', 'TOKEN', 'PASSWORD']; // set by whoever runs the examples (top of API.md)

// ---- reading the examples ----

// The ```sh blocks of a Markdown text: { line (1-based, of the first command line), text }.
function shBlocks(md) {
  const out = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```sh') continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && lines[j].trim() !== '```') j++;
    out.push({ line: start + 1, lines: lines.slice(start, j) });
    i = j;
  }
  return out;
}

const STATUS_LINE = /^# → (\d{3})(?: ([a-z][a-z0-9_]*))?((?:, (?:\.[\w.[\]]+|header [A-Za-z-]+) is \$[A-Z][A-Z0-9_]*)*)(?: \(not run: ([^)]+)\))?$/;

// Each example: one command (possibly continued over lines) and the status line under it.
function examples(md) {
  const out = [];
  const problems = [];
  for (const b of shBlocks(md)) {
    let cmd = [];
    let cmdLine = b.line;
    b.lines.forEach((raw, k) => {
      const l = raw.trim();
      if (l.startsWith('# →')) {
        const m = STATUS_LINE.exec(l);
        if (!m) problems.push(`${API_MD}:${b.line + k}: unreadable status line: ${l}`);
        else if (!cmd.some((c) => c.trim() && !c.trim().startsWith('#'))) problems.push(`${API_MD}:${b.line + k}: a status line with no command above it`);
        else {
          const captures = [...(m[3] || '').matchAll(/, (\.[\w.[\]]+|header [A-Za-z-]+) is \$([A-Z][A-Z0-9_]*)/g)]
            .map(([, from, name]) => ({ from, name }));
          out.push({ line: cmdLine, cmd: cmd.join('\n'), status: Number(m[1]), code: m[2] || null, captures, notRun: m[4] || null });
        }
        cmd = [];
        cmdLine = b.line + k + 1;
        return;
      }
      if (!cmd.length && !l) { cmdLine = b.line + k + 1; return; }
      cmd.push(raw);
    });
    if (cmd.some((c) => c.trim() && !c.trim().startsWith('#'))) {
      problems.push(`${API_MD}:${cmdLine}: a command without its documented status (add a line "# → STATUS" under it)`);
    }
  }
  return { list: out, problems };
}

const md = readFileSync(API_MD, 'utf8');
const { list: EXAMPLES, problems: PARSE_PROBLEMS } = examples(md);

test('every sh example of API.md has a documented status, one curl to $ARALDO, few are not run', () => {
  assert.deepEqual(PARSE_PROBLEMS, []);
  for (const g of GIVEN) assert.match(md, new RegExp(`^${g}=`, 'm'), `API.md says how to set $${g}`);
  assert.ok(EXAMPLES.length >= 60, `only ${EXAMPLES.length} examples found`);
  const bad = [];
  for (const ex of EXAMPLES) {
    const curls = ex.cmd.split('\n').filter((l) => /^\s*curl\s/.test(l));
    if (curls.length !== 1) bad.push(`${API_MD}:${ex.line}: ${curls.length} curl commands (one per status line)`);
    if (!/\$ARALDO\b|\$\{ARALDO\}/.test(ex.cmd)) bad.push(`${API_MD}:${ex.line}: the URL must start with $ARALDO`);
    // The request goes to $ARALDO; a URL inside a quoted body (a push endpoint) is data.
    if (/:\/\//.test(ex.cmd.replace(/'[^']*'/g, "''"))) bad.push(`${API_MD}:${ex.line}: a literal URL: use $ARALDO`);
    if (/(^|\s)(-o|--output)\s|\|\s*\w/.test(ex.cmd)) bad.push(`${API_MD}:${ex.line}: no -o or pipes (the test reads the answer)`);
    if (ex.status >= 400 && !ex.code && !ex.notRun) bad.push(`${API_MD}:${ex.line}: an error example names its code (# → ${ex.status} some_code)`);
  }
  assert.deepEqual(bad, []);
  const notRun = EXAMPLES.filter((e) => e.notRun).map((e) => `${API_MD}:${e.line}: ${e.notRun}`);
  assert.ok(notRun.length <= MAX_NOT_RUN, `too many examples not run:\n${notRun.join('\n')}`);
});

// ---- running them ----

let srv;
let cwd;
const vars = {};

before(async () => {
  // The push examples subscribe an endpoint on push.example.net, as API.md says.
  srv = await startServer({ sets: { push_allow_hosts: 'push.example.net' } });
  cwd = tempDir('araldo-docs-');
  vars.ARALDO = srv.url;
  vars.TOKEN = operatorToken(srv.data);
  vars.PASSWORD = srv.password;
  // The upload examples send photo.jpg from the current directory.
  writeFileSync(join(cwd, 'photo.jpg'), haveTool('vips') ? jpeg(cwd, { w: 640, h: 480 }) : png(640, 480));
});
after(async () => {
  await srv?.stop();
  srv?.cleanup();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

// The last header block of a `curl -D` dump (after any 100 Continue), names lower-cased.
function headersOf(dump) {
  const blocks = dump.split(/\r?\n\r?\n/).filter((b) => b.trim());
  const h = {};
  for (const l of (blocks.at(-1) || '').split(/\r?\n/).slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) h[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return h;
}

function pick(obj, path) {
  let v = obj;
  for (const part of path.slice(1).split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')) v = v?.[part];
  return v;
}

// curl as the examples call it, its answer kept for the checks: body and headers to files,
// the status on stdout. Streams (-N) are cut after two seconds; nothing waits more than 20 s.
const WRAPPER = `curl() {
  local max=20
  case " $* " in *" -N "*) max=2 ;; esac
  command curl --silent --show-error --max-time "$max" -D "$__HDRS" -o "$__BODY" -w '%{http_code}' "$@"
  local rc=$?
  [ "$rc" = 28 ] && [ "$max" = 2 ] && return 0
  return $rc
}
`;

// The method and path an example requests: `-X`, else POST with a body, else GET.
function requestOf(cmd) {
  const method = /(?:-X|--request)\s+([A-Z]+)/.exec(cmd)?.[1] || (/(^|\s)(-d|--data\S*|-F|--form)\s/.test(cmd) ? 'POST' : 'GET');
  const path = /\$\{?ARALDO\}?([^\s"'?]*)/.exec(cmd)?.[1] || '/';
  return { method, path: path || '/' };
}

test('every endpoint API.md documents has an example', () => {
  const missing = [];
  for (const h of md.matchAll(/^###+ (.*`(?:GET|POST|PUT|PATCH|DELETE) \/.*)$/gm)) {
    for (const [, method, tpl] of h[1].matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`?\s]*)[^`]*`/g)) {
      const re = new RegExp(`^${tpl.replace(/\./g, '\\.').replace(/\{[a-z_]+\}/g, '[^/]+')}$`);
      if (!EXAMPLES.some((ex) => { const q = requestOf(ex.cmd); return q.method === method && re.test(q.path); })) missing.push(`${method} ${tpl}`);
    }
  }
  assert.deepEqual(missing, []);
});

for (const ex of EXAMPLES) {
  const q = requestOf(ex.cmd);
  const title = `${API_MD}:${ex.line}: ${q.method} ${q.path} → ${ex.status}${ex.code ? ` ${ex.code}` : ''}`;
  test(title, { skip: ex.notRun ? `not run: ${ex.notRun}` : false }, () => {
    const used = [...ex.cmd.matchAll(/\$\{?([A-Z][A-Z0-9_]*)\}?/g)].map((m) => m[1]);
    for (const name of used) {
      assert.ok(name in vars, `$${name} is used before any example above sets it (or add it to the variables at the top of API.md)`);
    }
    const hdrs = join(cwd, '.headers');
    const body = join(cwd, '.body');
    rmSync(hdrs, { force: true });
    rmSync(body, { force: true });
    const r = spawnSync('bash', ['-c', `${WRAPPER}\n${ex.cmd}`], {
      cwd,
      encoding: 'utf8',
      timeout: 30000,
      env: { PATH: process.env.PATH, HOME: cwd, LANG: 'C.UTF-8', ...vars, __HDRS: hdrs, __BODY: body },
    });
    assert.equal(r.status, 0, `the command failed: ${r.stderr}`);
    const status = Number(r.stdout.trim().slice(-3));
    let text = '';
    let headers = {};
    try { text = readFileSync(body, 'utf8'); } catch { /* no body */ }
    try { headers = headersOf(readFileSync(hdrs, 'latin1')); } catch { /* none */ }
    if (/(^|\s)(-i|--include)\s/.test(ex.cmd)) text = text.split(/\r?\n\r?\n/).filter((b) => !/^HTTP\//.test(b)).join('\n\n');
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    assert.equal(status, ex.status, `answered ${status}: ${text.slice(0, 300)}`);
    if (ex.code) {
      const code = json?.error?.code ?? /data-error="([a-z_]+)"/.exec(text)?.[1];
      assert.equal(code, ex.code, text.slice(0, 300));
    }
    if (status >= 400) assert.equal(headers['cache-control'], 'no-store', 'errors are never cached');
    for (const c of ex.captures) {
      const v = c.from.startsWith('header ') ? headers[c.from.slice(7).toLowerCase()] : pick(json, c.from);
      assert.ok(v !== undefined && v !== null && typeof v !== 'object', `no ${c.from} in the answer for $${c.name}: ${text.slice(0, 300)}`);
      vars[c.name] = String(v);
    }
  });
}

// ---- every error code in the table ----

// The error table of API.md's Conventions (the one whose header is "| status | codes | when |"):
// status -> the codes listed on its row.
function errorTable() {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => l.trim() === '| status | codes | when |');
  assert.ok(start >= 0, 'API.md has the error table');
  const table = new Map();
  for (let i = start + 2; i < lines.length && lines[i].trim().startsWith('|'); i++) {
    const m = /^\| (\d{3}) \| ([^|]*) \|/.exec(lines[i].trim());
    if (m) table.set(Number(m[1]), new Set([...m[2].matchAll(/`([a-z][a-z0-9_]*)`/g)].map((x) => x[1])));
  }
  return table;
}

// Every (status, code) the C source can answer with: the literal codes given to
// http_respond_error(), http__respond_early(), the parser's fail(), and the 400 helpers (bad,
// bad_request, api__channel_bad), plus api__invite_gone's three. A call whose code is not a
// literal must be one of these helpers, so a new helper makes this test fail until it is taught
// here.
const OPAQUE_OK = [
  'src/api/alerts.c: http_respond_error(r, 400, code,', // bad(r, "code", ...)
  'src/api/alerts_org.c: http_respond_error(r, 400, code,', // bad(r, "code", ...)
  'src/api/alert_sources.c: http_respond_error(r, 400, code,', // bad(r, "code", ...)
  'src/api/channels.c: http_respond_error(r, 400, code,', // api__channel_bad(r, "code", ...)
  'src/api/channels_invites.c: http_respond_error(r, 410, code,', // api__invite_gone(): *code = "..."
  'src/api/orgs.c: http_respond_error(r, 400, code,', // bad(r, "code", ...)
  'src/api/stream.c: http_respond_error(r, 400, code,', // bad_request(r, "code", ...)
  'src/http/conn.c: http__respond_early(c, 413, p->err_code,', // the parser's fail(p, ...)
  'src/http/conn.c: http__respond_early(c, 431, p->err_code,',
  'src/http/conn.c: http__respond_early(c, p->err_status, p->err_code,',
  'src/http/parse.c: fail(p, p->err_status, p->err_code,',
  'src/http/response.c: http_respond_error(&c->req, status, code,', // http__respond_early()
];

function sourceCodes() {
  const found = [];
  const opaque = [];
  const files = ['src/api', 'src/http'].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.c')).map((f) => join(d, f)));
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\b(http_respond_error|http__respond_early|fail)\(\s*[^,]+,\s*(\d{3}|[a-z_>.-]+),\s*([^,]*?),/g)) {
      const codes = [...m[3].matchAll(/"([a-z][a-z0-9_]*)"/g)].map((x) => x[1]);
      const status = /^\d{3}$/.test(m[2]) ? Number(m[2]) : null;
      if (codes.length && status) codes.forEach((code) => found.push({ status, code, where: f }));
      else opaque.push(`${f}: ${m[0].replace(/\s+/g, ' ')}`);
    }
    for (const m of src.matchAll(/\b(bad|bad_request|api__channel_bad)\(\s*r,\s*"([a-z][a-z0-9_]*)"/g)) found.push({ status: 400, code: m[2], where: f });
    for (const m of src.matchAll(/\*code = "([a-z][a-z0-9_]*)"/g)) found.push({ status: 410, code: m[1], where: f });
  }
  return { found, opaque };
}

test('API.md lists every error code the server can send, under its status', () => {
  const table = errorTable();
  const { found, opaque } = sourceCodes();
  assert.ok(found.length > 50, `only ${found.length} codes found: has the source changed shape?`);
  assert.deepEqual(opaque.filter((o) => !OPAQUE_OK.includes(o)), [], 'a code passed through a variable: teach sourceCodes() where it comes from');
  const missing = [...new Set(found.filter(({ status, code }) => !table.get(status)?.has(code)).map(({ status, code, where }) => `${status} ${code} (${where})`))];
  assert.deepEqual(missing, [], 'codes the server sends that the error table of docs/API.md does not list');
});

// ---- WebSocket error messages ----

test('API.md names every WebSocket error code', () => {
  const src = readdirSync('src/api').filter((f) => /^stream.*\.c$/.test(f))
    .map((f) => readFileSync(`src/api/${f}`, 'utf8')).join('\n');
  const codes = new Set([...src.matchAll(/ws_error\([^,]+,\s*"([a-z_]+)"/g)].map((m) => m[1]));
  assert.ok(codes.size > 0);
  for (const c of codes) assert.ok(md.includes(`\`${c}\``), `ws error ${c}`);
});

// ---- the README's command lines ----

// The `araldo ...` lines of the README's command block, each with its indented continuation.
function readmeCommands() {
  const readme = readFileSync('README.md', 'utf8');
  const block = /## The command\n\n```\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md has a "The command" block');
  const out = [];
  for (const line of block[1].split('\n')) {
    if (line.startsWith('araldo ')) out.push(line.slice(7).trim());
    else if (/^\s+\S/.test(line) && out.length) out[out.length - 1] += ` ${line.trim()}`;
  }
  return out;
}

// The options every subcommand takes ("Common options" of its --help).
const COMMON = ['--data', '--config', '--set'];

function readmeHelpGaps() {
  const gaps = [];
  for (const c of readmeCommands()) {
    const sub = [];
    for (const w of c.split(/\s+/)) { if (/^[a-z][a-z-]*$/.test(w)) sub.push(w); else break; }
    if (!sub.length) continue; // "COMMAND --help"
    const r = cli([sub[0], '--help']);
    const help = r.stdout + r.stderr;
    if (r.status !== 0) gaps.push({ common: false, what: `araldo ${sub[0]} --help exits ${r.status}` });
    if (sub[1] && !help.includes(`${sub[0]} ${sub[1]}`)) gaps.push({ common: false, what: `araldo ${sub[0]} --help does not show "${sub[1]}"` });
    for (const [opt] of c.matchAll(/--[a-z][a-z-]*/g)) {
      if (opt !== '--help' && !help.includes(opt)) gaps.push({ common: COMMON.includes(opt), what: `araldo ${sub[0]} --help does not mention ${opt} (README: araldo ${c})` });
    }
  }
  return gaps;
}

test('every README command exists and its --help shows the options the README gives', () => {
  assert.ok(readmeCommands().length >= 10);
  assert.deepEqual(readmeHelpGaps().filter((g) => !g.common).map((g) => g.what), []);
});

test('every README command\'s --help lists the common options it accepts', () => {
  assert.deepEqual(readmeHelpGaps().filter((g) => g.common).map((g) => g.what), []);
});

test('the README commands run as written (placeholders filled in), in order, on a fresh data directory', () => {
  const data = tempDir('araldo-readme-');
  try {
    const fill = {
      EMAIL: 'ufficio@comune.example.it', NAME: 'Comune di Prova', SLUG: 'comune-di-prova',
      HANDLE: 'avvisi', FILE: join(data, 'copia.db'), DIR: data, CODE: '048010',
      ZONE: 'Europe/Rome', TEXT: 'Avvisi del Comune', CAT: 'news', TAG: 'it',
    };
    const stdin = { password: 'una password lunga abbastanza', text: 'Avviso: *prova* del servizio' };
    for (const c of readmeCommands()) {
      if (/^(serve|COMMAND)\b/.test(c)) continue; // the server itself: every API test starts it
      if (/^import\b/.test(c)) continue; // wants a new, empty database: tests/api/export.test.mjs
      let input = '';
      // Every optional part is given (the first of alternatives), [OPTIONS] is the common ones.
      const line = c.replace(/\s*<\s*(\w+)\s*$/, (_, what) => { input = `${stdin[what]}\n`; return ''; })
        .replace(/\[OPTIONS\]/g, '').replace(/\[([^\]|]*?)(?: \|[^\]]*)?\]/g, '$1').replace(/\.\.\./g, '');
      const args = line.split(/\s+/).filter(Boolean).map((w) => (w in fill ? fill[w] : w));
      if (args.includes('ID')) {
        const list = cli(['token', 'list', '--email', fill.EMAIL, '--data', data]);
        args[args.indexOf('ID')] = list.stdout.trim().split('\n')[0].split('\t')[0];
      }
      const r = cli(args, { input, data: args.includes('--data') ? undefined : data });
      assert.equal(r.status, 0, `araldo ${args.join(' ')}: ${r.stderr}`);
    }
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

// ---- errors are never cached, wherever they come from ----

test('errors are no-store also when the connection answers early or the handler set its own cache header', async () => {
  const { connect } = await import('node:net');
  const raw = (bytes) => new Promise((res, rej) => {
    const s = connect(srv.port, srv.host, () => s.end(bytes));
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('end', () => res(out));
    s.on('error', rej);
  });
  const big = await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70000)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);
  assert.match(big, /\r\nCache-Control: no-store\r\n/);
  const framing = await raw('GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n');
  assert.match(framing, /^HTTP\/1\.1 400 /);
  assert.match(framing, /\r\nCache-Control: no-store\r\n/);
  // media sets "immutable" before it reads the Range: the 416 must not keep it
  assert.ok(vars.MEDIA, 'the media examples ran');
  const r = await fetch(`${srv.url}/media/${vars.MEDIA}/large`, { headers: { range: 'bytes=99999999-' } });
  assert.equal(r.status, 416);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const n = (await raw(`GET /media/${vars.MEDIA}/large HTTP/1.1\r\nHost: x\r\nRange: bytes=99999999-\r\nConnection: close\r\n\r\n`)).match(/\r\ncache-control:/gi);
  assert.equal(n.length, 1, 'one Cache-Control header');
});

// ---- the audit log's actions ----

// The arguments of the call whose '(' is at src[open], split at top-level commas.
function callArgs(src, open) {
  const args = [];
  let depth = 0, cur = '', quote = null;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (quote) {
      cur += c;
      if (c === '\\') cur += src[++i];
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") { quote = c; cur += c; continue; }
    if (c === '(') { if (depth++ > 0) cur += c; continue; }
    if (c === ')') {
      if (--depth === 0) { args.push(cur.trim()); return args; }
      cur += c;
      continue;
    }
    if (c === ',' && depth === 1) { args.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  throw new Error('unbalanced call');
}

// Every action the C source can write to audit_log. One function writes the rows
// (store__audit in store/audit.c: the only INSERT INTO audit_log); it and its wrapper
// store__channel_audit take the action as their 4th argument, which must be string literals
// (a ternary of them at most), so that this list is the truth.
function auditActions() {
  const actions = new Map(); // action -> file
  const files = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (/\.(c|h|sql)$/.test(e.name)) files.push(join(dir, e.name));
    }
  };
  walk('src');
  const writers = files.filter((f) => /INSERT\s+INTO\s+audit_log\b/i.test(readFileSync(f, 'utf8')));
  assert.deepEqual(writers, ['src/store/audit.c'], 'only store__audit() writes audit rows');
  for (const f of files.filter((n) => n.endsWith('.c'))) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\b(store__audit|store__channel_audit)\s*\(/g)) {
      const line = src.slice(0, m.index).split('\n').length;
      const args = callArgs(src, m.index + m[0].length - 1);
      const before = src.slice(src.lastIndexOf('\n', m.index) + 1, m.index);
      // the definitions themselves, and the wrapper passing its own parameter on
      if (/^(int|MUST_CHECK)/.test(before.trim()) || /\bint\s*$/.test(before)) continue;
      if (f === 'src/store/channels.c' && m[1] === 'store__audit' && args[3] === 'action') continue;
      const lits = [...args[3].matchAll(/"([^"]*)"/g)].map((x) => x[1]);
      // "a", or cond ? "a" : "b", or cond ? "a" : cond2 ? "b" : "c"
      const shape = args[3].replace(/"[^"]*"/g, 'L').replace(/\s+/g, ' ');
      assert.ok(/^([^?:"]+\? )?L( : ([^?:"]+\? )?L)*$/.test(shape),
        `${f}:${line}: the audit action must be a literal, not ${args[3]}`);
      for (const a of lits) {
        assert.match(a, /^[a-z_]+\.[a-z_]+$/, `${f}:${line}: action ${a}`);
        actions.set(a, f);
      }
    }
  }
  return actions;
}

test('API.md lists every action the audit log records, and only those', () => {
  const actions = auditActions();
  // the finder itself works: actions of every kind of call are found
  for (const a of ['org.create', 'channel.create', 'admin.leave', 'zone.update', 'post.unpin',
    'alert_source.create', 'alert_template.delete', 'service.put', 'report.export',
    'forward_target.delete']) {
    assert.ok(actions.has(a), `the source scan missed ${a}`);
  }
  const section = md.slice(md.indexOf('## Audit log'), md.indexOf('## Channels'));
  const rows = section.split('\n').filter((l) => /^\| `[a-z_]+\.[a-z_]+`/.test(l));
  const documented = new Set(rows.flatMap((l) => [...l.split('|')[1].matchAll(/`([a-z_]+\.[a-z_]+)`/g)].map((m) => m[1])));
  assert.deepEqual([...actions.keys()].filter((a) => !documented.has(a)).sort(), [],
    'actions the server records that the Audit log table of API.md does not list');
  assert.deepEqual([...documented].filter((a) => !actions.has(a)).sort(), [],
    'actions API.md lists that the server never records');
  for (const l of rows) assert.equal(l.split('|').length, 6, `four columns: ${l}`);
});

// ---- settings named in API.md ----

// "`name` (default 25 s)", "`name`, default 256 KiB", "`name` (15 MiB)", "`name` (50
// megapixels" ... -> the number in the setting's own unit.
function documentedDefault(text) {
  const m = /^`[a-z_]+`(?: channels| events)?(?:,| \()\s*(?:default )?([\d,.]+) ?(KiB|MiB|GiB|megapixels|s\b)?/.exec(text);
  if (!m) return null;
  const n = Number(m[1].replace(/,/g, ''));
  const mult = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, megapixels: 1e6 }[m[2]] || 1;
  return n * mult;
}

test('every setting API.md names exists, with the default API.md gives', () => {
  const help = cli(['serve', '--help-config']).stdout;
  const settings = new Map([...help.matchAll(/^ {2}([a-z_]+) +\w+ \(default ([^,)]*)/gm)].map((m) => [m[1], m[2]]));
  assert.ok(settings.size > 20);
  const bad = [];
  for (const m of md.matchAll(/`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`[^`\n]{0,40}/g)) {
    const name = m[1];
    if (!settings.has(name)) continue;
    const doc = documentedDefault(m[0]);
    if (doc !== null && Number(settings.get(name)) !== doc) bad.push(`${name}: API.md says ${doc}, the server ${settings.get(name)}`);
  }
  for (const m of md.matchAll(/setting `([a-z_]+)`|`([a-z_]+)` setting/g)) {
    if (!settings.has(m[1] || m[2])) bad.push(`${m[1] || m[2]}: called a setting, but araldo serve --help-config does not list it`);
  }
  assert.deepEqual(bad, []);
});
