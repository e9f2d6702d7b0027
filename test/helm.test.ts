// The Helm chart (deploy/helm/orrery) renders what `kubectl kustomize deploy/` renders, from the
// same files (with largeFleet, what deploy/ with its large-fleet component renders), and installs,
// upgrades and uninstalls on a real hub.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { load, loadAll } from 'js-yaml';
import { TestFleet } from './env/fleet.js';
import { withComponent } from './overlay.js';
import { HELM } from './tools.js';

const root = join(import.meta.dirname, '..', '..');
const chart = join(root, 'deploy', 'helm', 'orrery');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
let fleet: TestFleet;

before(
  async () => {
    fleet = await TestFleet.start({ members: 0 });
  },
  { timeout: 900_000 },
);

after(async () => {
  await fleet?.stop();
});

function helm(...args: string[]): string {
  const r = spawnSync(HELM, [...args, '--kubeconfig', fleet.hub.kubeconfig()], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

function objects(yaml: string): Manifest[] {
  const key = (o: Manifest) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  return (loadAll(yaml) as (Manifest | null)[]).filter((o): o is Manifest => o !== null).sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

test('helm template renders what kubectl kustomize renders, and the chart is versioned with the package', () => {
  const kustomized = fleet.hub.kubectl(['kustomize', join(root, 'deploy')]);
  assert.equal(kustomized.code, 0, kustomized.stderr);
  const fromHelm = objects(helm('template', 'orrery', chart, '--include-crds'));
  assert.deepEqual(fromHelm, objects(kustomized.stdout));
  assert.ok(fromHelm.some((o) => o.kind === 'CustomResourceDefinition'));
  const meta = load(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
  assert.deepEqual([meta.version, meta.appVersion], [version, version]);
});

test('largeFleet renders what deploy/ with its large-fleet component renders', () => {
  const dir = withComponent('large-fleet');
  try {
    const kustomized = fleet.hub.kubectl(['kustomize', dir]);
    assert.equal(kustomized.code, 0, kustomized.stderr);
    const large = objects(helm('template', 'orrery', chart, '--include-crds', '--set', 'largeFleet=true'));
    assert.deepEqual(large, objects(kustomized.stdout));
    assert.notDeepEqual(large, objects(helm('template', 'orrery', chart, '--include-crds')), 'the switch changes the Deployment');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the profile-secrets component's rights, for each namespace given, as the component grants them", () => {
  const rendered = objects(helm('template', 'orrery', chart, '--set', 'profileSecretNamespaces={fleet,fleet-b}'));
  const bindings = rendered.filter((o) => o.kind === 'RoleBinding' && o.metadata.name === 'orrery-kubeconfig-reader');
  assert.deepEqual(bindings.map((b) => b.metadata.namespace).sort(), ['fleet', 'fleet-b']);
  assert.ok(rendered.some((o) => o.kind === 'ClusterRole' && o.metadata.name === 'orrery-kubeconfig-reader'));
  assert.ok(!objects(helm('template', 'orrery', chart)).some((o) => o.metadata.name === 'orrery-kubeconfig-reader'), 'none by default');
});

test('helm install, upgrade and uninstall on a hub', () => {
  helm('install', 'orrery', chart);
  const image = () => fleet.hub.kubectl(['get', 'deployment', 'orrery', '-n', 'orrery-system', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']).stdout;
  assert.equal(image(), `ghcr.io/orrery-dev/orrery:${version}`);
  for (const [kind, name, ns] of [
    ['crd', 'placements.placement.orrery.dev'],
    ['crd', 'clusterdecisions.placement.orrery.dev'],
    ['serviceaccount', 'orrery', 'orrery-system'],
    ['clusterrole', 'orrery'],
    ['service', 'orrery', 'orrery-system'],
    ['poddisruptionbudget', 'orrery', 'orrery-system'],
  ] as const) {
    const got = fleet.hub.kubectl(['get', kind, name, ...(ns ? ['-n', ns] : []), '-o', 'name']);
    assert.equal(got.code, 0, `${kind} ${name}: ${got.stderr}`);
  }
  helm('upgrade', 'orrery', chart, '--set', 'image.repository=registry.example.com/orrery', '--set', 'image.tag=next');
  assert.equal(image(), 'registry.example.com/orrery:next');
  helm('uninstall', 'orrery');
  assert.notEqual(fleet.hub.kubectl(['get', 'deployment', 'orrery', '-n', 'orrery-system']).code, 0, 'the Deployment is gone');
  assert.equal(fleet.hub.kubectl(['get', 'crd', 'placements.placement.orrery.dev']).code, 0, "CRDs stay, as Helm leaves them: Placements are users' data");
});
