// Runs every compiled test file with node's test runner: unit tests beside the code
// (dist/src/**/*.test.js) and the suites under dist/test/.
import { readdirSync, statSync } from 'node:fs';
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

const files = ['dist/src', 'dist/test'].flatMap((d) => {
  try {
    return find(d);
  } catch {
    return [];
  }
}).sort();
if (files.length === 0) {
  console.error('no test files found under dist/: did the build run?');
  process.exit(1);
}
// The integration tests run real control planes: build them first (minutes, once per version).
const build = spawnSync('bash', ['test/setup/build-control-plane.sh'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('the control-plane binaries could not be built: see the message above');
  process.exit(1);
}

// The web view's tests run Debian's Chromium: install it once, like the control planes.
const browser = spawnSync('bash', ['test/setup/install-chromium.sh'], { stdio: 'inherit' });
if (browser.status !== 0) {
  console.error('Chromium could not be installed for the browser tests: see the message above');
  process.exit(1);
}

const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
