// SPDX-License-Identifier: AGPL-3.0-or-later
// Bad settings: one exit status (2, as for any usage error) whichever setting it is, before
// anything is started or written; booleans accept exactly the words their error names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './lib/server.mjs';

test('any bad setting exits 2 with one line naming it, and touches nothing', () => {
  const dir = tempDir('araldo-settings-');
  try {
    writeFileSync(join(dir, 'bad.conf'), 'workers = many\n');
    const cases = [
      ['listen=nonsense', 'listen'], ['listen=127.0.0.1:99999', 'listen'], ['listen=[::1', 'listen'],
      ['web_root=/nonexistent/web', 'web_root'], ['public_url=ftp://x', 'public_url'],
      ['workers=-1', 'workers'], ['workers=many', 'workers'], ['access_log=maybe', 'access_log'],
      ['log_level=loud', 'log_level'], ['no_such_setting=1', 'no_such_setting'],
    ];
    for (const [set, name] of cases) {
      const data = join(dir, 'data');
      const r = cli(['serve', '--listen', '127.0.0.1:0', '--data', data, '--set', set]);
      assert.equal(r.status, 2, `${set}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${set}: one line: ${r.stderr}`);
      assert.ok(r.stderr.includes(name), `${set}: names the setting: ${r.stderr}`);
      assert.ok(!existsSync(data), `${set}: nothing created before the setting was refused`);
    }
    const r = cli(['serve', '--data', join(dir, 'data'), '--config', join(dir, 'bad.conf')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /bad\.conf:1: workers/);
    for (const cmd of [['migrate'], ['backup', join(dir, 'copy.db')], ['token', 'list', '--email', 'a@b.it']]) {
      const b = cli([...cmd, '--data', join(dir, 'data'), '--set', 'store_batch_max=0']);
      assert.equal(b.status, 2, `${cmd[0]}: ${b.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('booleans accept exactly the words the error message names', () => {
  const dir = tempDir('araldo-settings-');
  try {
    const bad = cli(['migrate', '--data', dir, '--set', 'access_log=maybe']);
    assert.equal(bad.status, 2);
    const words = bad.stderr.match(/\(([^)]*)\)/)[1].split(/[^a-z0-9]+/).filter((w) => w && w !== 'or' && w !== 'also');
    assert.deepEqual(words.sort(), ['0', '1', 'false', 'no', 'off', 'on', 'true', 'yes']);
    for (const w of words) {
      const r = cli(['migrate', '--data', dir, '--set', `media_keep_originals=${w}`]);
      assert.equal(r.status, 0, `${w}: ${r.stderr}`);
    }
    for (const w of ['TRUE', 'y', '2', '', 'enabled']) {
      const r = cli(['migrate', '--data', dir, '--set', `access_log=${w}`]);
      assert.equal(r.status, 2, `'${w}' is refused`);
    }
    // the same words are what --help-config and docs/CONFIG.md promise
    const help = cli(['serve', '--help-config']).stdout;
    assert.match(help, /access_log +boolean \(default true; true or false; also yes\/no, on\/off, 1\/0\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
