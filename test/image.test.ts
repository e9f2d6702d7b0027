// The container image, built here as the README says (deploy/image/build.sh: no Docker engine)
// and run with podman: the package's version, Node.js of the supported LTS, uid 1000, a
// read-only root, and the embedded default answering /readyz. The fast tests run on that LTS too.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CACHE, STORAGE, podman } from './tools.js';

const root = join(import.meta.dirname, '..', '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const image = `ghcr.io/orrery-dev/orrery:${version}`;
const running = `orrery-test-${process.pid}`;

before(
  () => {
    const r = spawnSync('bash', [join(root, 'deploy', 'image', 'build.sh')], { cwd: root, encoding: 'utf8', env: { ...process.env, ORRERY_BUILDAH_ARGS: STORAGE.join(' ') } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), image);
  },
  { timeout: 1_200_000 },
);

after(() => {
  podman(['rm', '--force', running]);
  // the images earlier builds left untagged, in the tests' own storage
  podman(['image', 'prune', '--force']);
});

test('the image prints the package version and runs Node.js of the supported LTS', () => {
  const v = podman(['run', '--rm', '--network', 'host', image, '--version']);
  assert.equal(v.stdout, `orrery ${version}\n`, v.stderr);
  const node = podman(['run', '--rm', '--network', 'host', '--entrypoint', '/usr/local/bin/node', image, '--version']);
  assert.match(node.stdout, /^v(2[4-9]|[3-9]\d)\./, node.stderr);
  const config = JSON.parse(podman(['image', 'inspect', image]).stdout) as { Config: { User: string; Labels: Record<string, string> } }[];
  assert.equal(config[0]?.Config.User, '1000:1000');
  assert.equal(config[0]?.Config.Labels['org.opencontainers.image.version'], version);
});

test('run read-only, as uid 1000, the embedded default answers /readyz', async () => {
  const port = 18_000 + (process.pid % 1000);
  const started = podman([
    'run',
    '--detach',
    '--name',
    running,
    '--read-only',
    '--network',
    'host',
    image,
    'serve',
    '--fleet',
    'examples/fleet.yaml',
    '--placements',
    'examples/placements.yaml',
    '--port',
    String(port),
  ]);
  assert.equal(started.code, 0, started.stderr);
  let ready: { status: string } | undefined;
  for (let i = 0; i < 100 && ready === undefined; i++) {
    try {
      ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  assert.equal(ready?.status, 'ready', podman(['logs', running]).stderr);
  const pid = podman(['inspect', '--format', '{{.State.Pid}}', running]).stdout.trim();
  assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
  assert.equal(podman(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', running]).stdout.trim(), 'true');
  const placements = (await (await fetch(`http://127.0.0.1:${port}/v1/placements`)).json()) as { items: unknown[] };
  assert.equal(placements.items.length, 5);
});

test("the manifests name the image the build wrote: the hub's and the member agent's", () => {
  for (const file of [join(root, 'deploy', 'kustomization.yaml'), join(root, 'deploy', 'member', 'agent', 'kustomization.yaml')]) {
    const k = readFileSync(file, 'utf8');
    assert.match(k, /newName: ghcr\.io\/orrery-dev\/orrery\n\s+newTag: (\S+)/, file);
    assert.equal(/newTag: (\S+)/.exec(k)?.[1], version, file);
  }
});

test('the fast tests pass on that LTS too', { timeout: 900_000 }, () => {
  const lts = readFileSync(join(root, 'deploy', 'image', 'node-version'), 'utf8').trim();
  // the Node.js build the image was made with, kept by the build
  const node = join(CACHE, 'image', `node-${lts}`, 'bin', 'node');
  // a suite of its own, not a part of this one's report
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(node, [join(root, 'test', 'run.mjs'), '--unit'], { cwd: root, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /ℹ fail 0/);
});
