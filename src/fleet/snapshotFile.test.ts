import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dump } from 'js-yaml';
import { parseFleet, parsePlacements, toSnapshotDocument } from './snapshotFile.js';

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
  template: {spec: {template: {spec: {containers: [{name: c, image: app:1}]}}}}`;

test('placements come as a stream of documents or as a List', () => {
  const stream = parsePlacements(`${p('a')}\n---\n${p('b')}\n`, 'p.yaml');
  assert.ok(stream.ok);
  assert.deepEqual(
    stream.value.map((x) => x.metadata.name),
    ['a', 'b'],
  );
  const list = parsePlacements(`apiVersion: v1\nkind: List\nitems:\n  - ${p('c').split('\n').join('\n    ')}\n`, 'p.yaml');
  assert.ok(list.ok, list.ok ? '' : list.error);
  assert.deepEqual(
    list.value.map((x) => x.metadata.name),
    ['c'],
  );
});

test('a duplicate placement is refused', () => {
  const r = parsePlacements(`${p('a')}\n---\n${p('a')}\n`, 'p.yaml');
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.error : '', /placements\[1\]: duplicate placement team\/a \(also placements\[0\]\)/);
});

test('node groups, extended resources and device kinds: read, summed, and written back', () => {
  const text = `
apiVersion: placement.orrery.dev/v1alpha1
kind: FleetSnapshot
clusters:
  - name: gpu-east
    nodeGroups:
      - count: 6
        allocatable: {cpu: "4", memory: 16Gi, pods: 110}
        allocated: {cpu: "1"}
      - count: 2
        allocatable: {cpu: "64", memory: 512Gi, pods: 110, nvidia.com/gpu: 8}
        devices:
          - {deviceClassName: gpu.example.com, alsoMatches: [h100.example.com], driver: gpu.example.com, attributes: {gpu.example.com/model: H100}, total: 8, allocated: 2}
`;
  const r = parseFleet(text, 'f.yaml');
  assert.ok(r.ok, r.ok ? '' : r.error);
  const c = r.value.snapshot.clusters[0]!;
  assert.deepEqual(c.allocatable, { cpu: 152_000, memory: 6 * 16 * 2 ** 30 + 2 * 512 * 2 ** 30, pods: 880, extended: { 'nvidia.com/gpu': 16 } });
  assert.deepEqual(c.allocated, { cpu: 6000, memory: 0, pods: 0 });
  assert.deepEqual(c.devices, [
    { deviceClassName: 'gpu.example.com', alsoMatches: ['h100.example.com'], driver: 'gpu.example.com', attributes: { 'gpu.example.com/model': 'H100' }, total: 16, allocated: 4 },
  ]);
  const again = parseFleet(dump(toSnapshotDocument(r.value.snapshot)), 'again.yaml');
  assert.ok(again.ok, again.ok ? '' : again.error);
  assert.deepEqual(again.value.snapshot.clusters, r.value.snapshot.clusters);
});

test('bad node groups are refused with the file and the field', () => {
  const bad = (groups: string, extra = '') => parseFleet(`apiVersion: placement.orrery.dev/v1alpha1\nkind: FleetSnapshot\nclusters:\n  - name: a\n${extra}    nodeGroups:\n${groups}`, 'f.yaml');
  const zero = bad('      - {count: 0, allocatable: {cpu: "4", memory: 1Gi, pods: 10}}\n');
  assert.ok(!zero.ok && zero.error.includes('f.yaml: clusters[0].nodeGroups[0].count: must be at least 1'), zero.ok ? '' : zero.error);
  const noRoom = bad('      - {count: 2}\n');
  assert.ok(!noRoom.ok && noRoom.error.includes('f.yaml: clusters[0].nodeGroups[0].allocatable: is required'));
  const odd = bad('      - {count: 2, allocatable: {cpu: "4", memory: 1Gi, pods: 10, gpus: 2}}\n');
  assert.ok(!odd.ok && odd.error.includes('f.yaml: clusters[0].nodeGroups[0].allocatable.gpus: unknown field: cpu, memory, pods, or an extended resource such as nvidia.com/gpu'));
  const disagree = bad('      - {count: 2, allocatable: {cpu: "4", memory: 1Gi, pods: 10}}\n', '    allocatable: {cpu: "9", memory: 2Gi, pods: 20}\n');
  assert.ok(!disagree.ok && disagree.error.includes('f.yaml: clusters[0].allocatable: does not match the sum of the node groups'));
});
