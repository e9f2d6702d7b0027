// The npm package as a user gets it: `npm pack`, installed into an empty directory outside the
// clone, its `orrery` binary prints the package's version, plans the example the package carries
// and serves the API and the web view.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serving } from './serving.js';
import { NPM } from './tools.js';

const root = join(import.meta.dirname, '..', '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

// dist/ is built by the suite's own build; packing does not build it again under the other tests.
test('npm pack gives a package whose orrery binary works outside the clone', { timeout: 600_000 }, async () => {
  const packed = mkdtempSync(join(tmpdir(), 'orrery-pack-'));
  const pack = spawnSync(NPM, ['pack', '--ignore-scripts', '--pack-destination', packed], { cwd: root, encoding: 'utf8' });
  assert.equal(pack.status, 0, pack.stderr);
  const [tarball] = readdirSync(packed).filter((f) => f.endsWith('.tgz'));
  assert.equal(tarball, `orrery-${version}.tgz`);
  const home = mkdtempSync(join(tmpdir(), 'orrery-user-'));
  // as `npm install --global` puts it, under a prefix of the test's own
  const install = spawnSync(NPM, ['install', '--global', '--prefix', home, '--no-audit', '--no-fund', '--prefer-offline', join(packed, tarball!)], { cwd: home, encoding: 'utf8' });
  assert.equal(install.status, 0, install.stderr);
  const bin = join(home, 'bin', 'orrery');
  const pkg = join(home, 'lib', 'node_modules', 'orrery');

  const v = spawnSync(bin, ['--version'], { cwd: home, encoding: 'utf8' });
  assert.equal(v.stdout, `orrery ${version}\n`, v.stderr);
  // The hub commands load the Kubernetes client: on the supported LTS it loads; on an older Node
  // (installed from npm it brings undici 8) the command says so plainly.
  const lts = spawnSync('bash', [join(root, 'deploy', 'image', 'fetch-node.sh')], { encoding: 'utf8' }).stdout.trim();
  const onLts = spawnSync(lts, [bin, 'fleet', '--kubeconfig', join(home, 'nope')], { cwd: home, encoding: 'utf8' });
  assert.equal(onLts.stderr, `error: ${join(home, 'nope')}: no such file\n`);
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const here = spawnSync(bin, ['fleet', '--kubeconfig', join(home, 'nope')], { cwd: home, encoding: 'utf8' });
  if (major > 22 || (major === 22 && minor >= 19)) assert.equal(here.stderr, `error: ${join(home, 'nope')}: no such file\n`);
  else
    assert.match(
      here.stderr,
      /^error: talking to a cluster needs Node\.js 22\.19 or newer with the Kubernetes client installed here \(undici 8[\d.]*\); this is Node\.js [\d.]+\. Planning on snapshot files works on it/,
    );
  assert.doesNotMatch(here.stderr, /\n\s+at /, 'no stack trace');
  const plan = spawnSync(bin, ['plan', '--fleet', join(pkg, 'examples', 'fleet.yaml'), '--placements', join(pkg, 'examples', 'placements.yaml'), '-o', 'name'], { cwd: home, encoding: 'utf8' });
  assert.equal(plan.status, 0, plan.stderr);
  assert.equal(plan.stdout.trim().split('\n').length, 5);

  const served = await serving(bin, ['serve', '--fleet', join(pkg, 'examples', 'fleet.yaml'), '--placements', join(pkg, 'examples', 'placements.yaml'), '--port', '0'], { cwd: home });
  try {
    const url = served.url;
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    assert.match(await (await fetch(`${url}/ui/`)).text(), /<title>/, 'the page ships');
    assert.equal((await fetch(`${url}/ui/app.js`)).status, 200, 'and its script');
    const placement = (await (await fetch(`${url}/v1/namespaces/ml/placements/llm-inference`)).json()) as { decision: { reason: string } };
    assert.equal(placement.decision.reason, 'Scheduled');
  } finally {
    await served.stop();
  }
});
