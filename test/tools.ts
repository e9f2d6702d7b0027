// The Debian tools the tests drive as users do, which test/setup/install-test-tools.sh installs
// before the suite: a test that imports this file runs only in the full suite.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** zsh, as a user's shell. */
export const ZSH = 'zsh';

/** npm, as a user installs a package with it. */
export const NPM = 'npm';

/** Where the tests keep their container images and caches: outside the clone, kept between runs. */
export const CACHE = join(process.env.ORRERY_CACHE ?? join(homedir(), '.cache', 'orrery'));

/**
 * buildah's and podman's global flags on a test machine: their own storage under CACHE (vfs,
 * which needs no overlay support from the kernel), and for podman runc with cgroupfs, as a
 * machine without systemd and with cgroup v1 runs containers.
 */
export const STORAGE = ['--storage-driver', 'vfs', '--root', join(CACHE, 'containers', 'storage'), '--runroot', join(tmpdir(), 'orrery-containers-run')];

export function podman(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  // No default ulimits: a container may not raise its limits above the machine's own.
  const conf = join(CACHE, 'containers', 'containers.conf');
  mkdirSync(dirname(conf), { recursive: true });
  writeFileSync(conf, '[containers]\ndefault_ulimits = []\n');
  const r = spawnSync('podman', ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs', ...STORAGE, ...args], { encoding: 'utf8', env: { ...process.env, CONTAINERS_CONF: conf } });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Helm, as test/setup/build-helm.sh builds it. */
export const HELM = join(CACHE, `helm-v${process.env.ORRERY_HELM_VERSION ?? '4.3.2'}`, 'helm');

/** jq, as the README's curl lines use it. */
export const JQ = 'jq';
