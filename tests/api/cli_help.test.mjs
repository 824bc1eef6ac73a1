// SPDX-License-Identifier: AGPL-3.0-or-later
// Every subcommand's --help lists exactly the options it accepts, the common ones (--data,
// --config, --set) included, and README's command lines are the --help usage lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cli } from './lib/server.mjs';

const COMMANDS = [['serve'], ['migrate'], ['backup'], ['export'], ['import'], ['user', 'add'], ['token', 'create'], ['org', 'add'], ['channel', 'add'], ['post'], ['vapid-keys']];
// The help before the subcommand word must be the same help.
const BARE = [['user'], ['org'], ['channel'], ['token']];

function help(cmd) {
  const r = cli([...cmd, '--help']);
  assert.equal(r.status, 0, `${cmd.join(' ')} --help: ${r.stderr}`);
  return r.stdout;
}

// The usage block: "usage: araldo ..." and the lines after it up to the first blank one.
const usageBlock = (text) => text.slice(0, text.indexOf('\n\n')).split('\n');
// "--name" of each option line under "Options:" or "Common options:".
const optionsListed = (text) => [...text.matchAll(/^  (?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]);

test('araldo --help names every command covered here', () => {
  const top = cli(['--help']).stdout;
  const named = [...top.matchAll(/^  ([a-z][a-z-]*)/gm)].map((m) => m[1]);
  for (const n of named) assert.ok(COMMANDS.some((c) => c[0] === n), `${n} has a --help test`);
});

test('every subcommand --help lists --data, --config and --set, and the same help before its verb', () => {
  for (const cmd of [...COMMANDS, ...BARE]) {
    const h = help(cmd);
    const listed = optionsListed(h);
    for (const o of ['--data', '--config', '--set', '--help']) assert.ok(listed.includes(o), `${cmd.join(' ')} --help lists ${o}:\n${h}`);
    assert.match(usageBlock(h)[0], /^usage: araldo /);
    assert.ok(usageBlock(h).join(' ').includes('[--data DIR]'), `${cmd.join(' ')} usage shows [--data DIR]`);
  }
  assert.equal(help(['user']), help(['user', 'add']));
  assert.equal(help(['token', 'create']), help(['token']));
});

test('every option a --help lists is accepted, and every other option is refused', () => {
  const all = new Set();
  const listedBy = new Map();
  for (const cmd of COMMANDS) {
    const h = help(cmd);
    const listed = optionsListed(h);
    listedBy.set(cmd, listed);
    for (const o of listed) all.add(o);
    // each option the usage lines name is explained under Options
    for (const m of usageBlock(h).join(' ').matchAll(/(--[a-z-]+)/g)) {
      assert.ok(listed.includes(m[1]), `${cmd.join(' ')}: usage names ${m[1]} but --help does not list it`);
    }
  }
  const arg = (o) => (['--help', '--help-config', '--demo', '--unlisted', '--important', '--silent'].includes(o) ? [o] : [o, 'x']);
  for (const cmd of COMMANDS) {
    for (const o of all) {
      if (o === '--help' || o === '--help-config') continue;
      const r = cli([...cmd, ...arg(o), '--help']);
      if (listedBy.get(cmd).includes(o)) {
        assert.equal(r.status, 0, `${cmd.join(' ')} accepts ${o}: ${r.stderr}`);
      } else {
        assert.equal(r.status, 2, `${cmd.join(' ')} refuses ${o}, which its --help does not list`);
        assert.match(r.stderr, new RegExp(`${o} does not apply to this command`));
      }
    }
  }
});

test("README's command lines are the --help usage lines", () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## The command'));
  const block = section.slice(section.indexOf('```\n') + 4, section.indexOf('\n```', section.indexOf('```\n') + 4));
  const want = COMMANDS.flatMap((cmd) => usageBlock(help(cmd)).map((l) => l.slice('usage: '.length)));
  assert.deepEqual(block.split('\n'), want, 'README.md "The command" block: copy the usage lines of araldo COMMAND --help');
});
