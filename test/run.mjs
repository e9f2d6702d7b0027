// Runs every compiled test file with node's test runner: unit tests beside the code
// (dist/src/**/*.test.js) and the suites under dist/test/.
//   node test/run.mjs          everything: builds the control planes and installs Chromium first
//   node test/run.mjs --unit   only what needs neither (a test that does imports test/env/fleet, test/browser or test/tools)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const unit = process.argv.includes('--unit');
const args = process.argv.slice(2).filter((a) => a !== '--unit');
/** Whether a test file starts control planes or a browser. */
const needsMachinery = (file) => /\/env\/fleet\.js'|\/browser\.js'|\/tools\.js'/.test(readFileSync(file, 'utf8'));

const files = ['dist/src', 'dist/test']
  .flatMap((d) => {
    try {
      return find(d);
    } catch {
      return [];
    }
  })
  .filter((f) => !unit || !needsMachinery(f))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/: did the build run?');
  process.exit(1);
}
if (!unit) {
  // The integration tests run real control planes: build them first (minutes, once per version).
  const build = spawnSync('bash', ['test/setup/build-control-plane.sh'], { stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('the control-plane binaries could not be built: see the message above');
    process.exit(1);
  }
  // The chart's tests render and install it with Helm, built from the Go module proxy once.
  const helm = spawnSync('bash', ['test/setup/build-helm.sh'], { stdio: 'inherit' });
  if (helm.status !== 0) {
    console.error('Helm could not be built for the chart tests: see the message above');
    process.exit(1);
  }
  // The web view's tests run Debian's Chromium, the completion's zsh: install them once, like the control planes.
  const browser = spawnSync('bash', ['test/setup/install-test-tools.sh'], { stdio: 'inherit' });
  if (browser.status !== 0) {
    console.error('Chromium or zsh could not be installed for the tests: see the message above');
    process.exit(1);
  }
}

// Unit files start no servers: two at a time fill both cores of a small machine.
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...(unit ? ['--test-concurrency=2'] : []), ...args, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
