// The Placement CRD and the validator in src/core must agree on every limit they both state,
// so that a file checked by `orrery plan` and an object admitted by the API server mean the same.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { load } from 'js-yaml';
import { placement } from './fixtures.js';
import { MAX_PRIORITY, checkPlacement } from '../src/core/validation.js';

type Schema = { properties?: Record<string, Schema>; items?: Schema; enum?: string[]; minimum?: number; maximum?: number; required?: string[] };

const root = join(import.meta.dirname, '..', '..');
const crd = load(readFileSync(join(root, 'crds', 'placement.orrery.dev_placements.yaml'), 'utf8')) as {
  spec: { group: string; names: { kind: string; shortNames: string[] }; versions: { name: string; subresources: { scale: Record<string, string> }; schema: { openAPIV3Schema: Schema } }[] };
};
const version = crd.spec.versions[0]!;
const spec = version.schema.openAPIV3Schema.properties!.spec!;
const at = (...path: string[]) => path.reduce<Schema>((s, k) => (k === '[]' ? s.items! : s.properties![k]!), spec);

test('the CRD serves placement.orrery.dev/v1alpha1 Placement with a scale subresource', () => {
  assert.equal(`${crd.spec.group}/${version.name}`, placement('x').apiVersion);
  assert.equal(crd.spec.names.kind, 'Placement');
  assert.deepEqual(version.subresources.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });
});

test('the CRD and the validator state the same limits', () => {
  assert.equal(at('priority').maximum, MAX_PRIORITY);
  assert.deepEqual(at('strategy').enum, ['Spread', 'Pack']);
  assert.deepEqual(at('clusterSelector', 'matchExpressions', '[]', 'operator').enum, ['In', 'NotIn', 'Exists', 'DoesNotExist']);
  assert.deepEqual(at('tolerations', '[]', 'effect').enum, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
  const weight = at('locality', 'preferred', '[]', 'weight');
  assert.deepEqual([weight.minimum, weight.maximum], [1, 100]);
  const count = at('accelerators', '[]', 'count');
  assert.deepEqual([count.minimum, count.maximum], [1, 1024]);
  // The validator refuses exactly at the CRD's edges.
  const withSpec = (s: Record<string, unknown>) => {
    const p = placement('x');
    const r = checkPlacement({ ...p, spec: { ...p.spec, ...s } });
    return r.ok ? 0 : r.error.length;
  };
  assert.equal(withSpec({ priority: MAX_PRIORITY }), 0);
  assert.equal(withSpec({ priority: MAX_PRIORITY + 1 }), 1);
  assert.equal(withSpec({ replicas: at('replicas').maximum }), 0);
  assert.equal(withSpec({ replicas: (at('replicas').maximum ?? 0) + 1 }), 1);
  assert.equal(withSpec({ accelerators: [{ deviceClassName: 'gpu', count: count.maximum }] }), 0);
  assert.equal(withSpec({ accelerators: [{ deviceClassName: 'gpu', count: (count.maximum ?? 0) + 1 }] }), 1);
});
