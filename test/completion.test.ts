// Shell completion as a zsh user loads it: after compinit, the script registers the function
// that completes orrery, and parses as zsh. (bash completion is driven word by word in cli.test.ts.)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ZSH } from './tools.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

test('zsh: the completion script parses and registers _orrery for orrery', () => {
  const script = spawnSync(process.execPath, [cli, 'completion', 'zsh'], { encoding: 'utf8' });
  assert.equal(script.status, 0, script.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'orrery-zsh-'));
  const file = join(dir, '_orrery.zsh');
  writeFileSync(file, script.stdout);
  const parsed = spawnSync(ZSH, ['-n', file], { encoding: 'utf8' });
  assert.equal(parsed.status, 0, parsed.stderr);
  const loaded = spawnSync(ZSH, ['-f', '-c', `autoload -U compinit && compinit -u -d ${join(dir, 'zcompdump')} && source ${file} && print -r -- "$_comps[orrery]" && whence -w _orrery`], {
    encoding: 'utf8',
    env: { ...process.env, HOME: dir },
  });
  assert.equal(loaded.status, 0, loaded.stderr);
  assert.deepEqual(loaded.stdout.trim().split('\n'), ['_orrery', '_orrery: function']);
});
