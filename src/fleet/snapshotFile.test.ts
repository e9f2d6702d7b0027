import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFleet, parsePlacements } from './snapshotFile.js';

const fleetYaml = `apiVersion: placement.orrery.dev/v1alpha1
kind: FleetSnapshot
clusters:
  - name: a
    labels: {environment: production}
    location: {region: us-west1, zone: us-west1-a}
    taints: [{key: maintenance, value: "true", effect: NoSchedule}]
    allocatable: {cpu: "256", memory: 1Ti, pods: 2000}
    allocated: {cpu: 40500m, memory: 200Gi, pods: 120}
    devices: [{deviceClassName: gpu.nvidia.com, total: 32, allocated: 8}]
  - name: b
    allocatable: {cpu: 8, memory: "2e9", pods: 110}
`;

test('a snapshot file becomes a FleetSnapshot in exact integer units', () => {
  const r = parseFleet(fleetYaml, 'fleet.yaml');
  assert.ok(r.ok);
  const a = r.value.snapshot.byName.get('a')!;
  assert.deepEqual(a.allocatable, { cpu: 256_000, memory: 2 ** 40, pods: 2000 });
  assert.deepEqual(a.allocated, { cpu: 40_500, memory: 200 * 2 ** 30, pods: 120 });
  assert.deepEqual(a.devices, [{ deviceClassName: 'gpu.nvidia.com', total: 32, allocated: 8 }]);
  assert.equal(a.healthy, true, 'healthy by default');
  const b = r.value.snapshot.byName.get('b')!;
  assert.deepEqual(b.allocatable, { cpu: 8000, memory: 2e9, pods: 110 });
  assert.deepEqual(b.allocated, { cpu: 0, memory: 0, pods: 0 });
});

const p = (name: string) => `apiVersion: placement.orrery.dev/v1alpha1
kind: Placement
metadata: {name: ${name}, namespace: team}
spec:
  replicas: 2
  template: {spec: {template: {spec: {containers: [{name: c}]}}}}`;

test('placements come as a stream of documents or as a List', () => {
  const stream = parsePlacements(`${p('a')}\n---\n${p('b')}\n`, 'p.yaml');
  assert.ok(stream.ok);
  assert.deepEqual(stream.value.map((x) => x.metadata.name), ['a', 'b']);
  const list = parsePlacements(`apiVersion: v1\nkind: List\nitems:\n  - ${p('c').split('\n').join('\n    ')}\n`, 'p.yaml');
  assert.ok(list.ok, list.ok ? '' : list.error);
  assert.deepEqual(list.value.map((x) => x.metadata.name), ['c']);
});

test('a duplicate placement is refused', () => {
  const r = parsePlacements(`${p('a')}\n---\n${p('a')}\n`, 'p.yaml');
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.error : '', /placements\[1\]: duplicate placement team\/a \(also placements\[0\]\)/);
});
