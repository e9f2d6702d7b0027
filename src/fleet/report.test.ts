import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { DeviceClassObject, ResourceClaimObject, ResourceSliceObject } from './devices.js';
import type { NodeObject, PodObject } from './measure.js';
import { readReport, reportDocument, reportProblem } from './report.js';
import { type MemberObjects, podUsage, summarizeMember } from './summary.js';
import { PLACEMENT_LABEL } from '../names.js';

const DRIVER = 'gpu.example.com';
const MODELS = ['H100', 'A100', 'L4'];

/** Random members as their API servers hold them: quantities in the forms kubelets and users write. */
const memberArb: fc.Arbitrary<MemberObjects> = fc
  .record({
    nodes: fc.array(
      fc.record({
        cpu: fc.oneof(
          fc.integer({ min: 1, max: 96 }).map(String),
          fc.integer({ min: 100, max: 96_000 }).map((m) => `${m}m`),
        ),
        memory: fc.oneof(
          fc.integer({ min: 1, max: 512 }).map((g) => `${g}Gi`),
          fc.integer({ min: 1_000_000, max: 600_000_000 }).map((k) => `${k}Ki`),
          fc.integer({ min: 1, max: 10 ** 12 }).map(String),
        ),
        pods: fc.integer({ min: 1, max: 250 }),
        gpus: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
        model: fc.constantFrom(...MODELS),
        ready: fc.boolean(),
        region: fc.option(fc.constantFrom('eu', 'us'), { nil: undefined }),
      }),
      { maxLength: 12 },
    ),
    pods: fc.array(
      fc.record({
        node: fc.nat(11),
        cpu: fc.integer({ min: 1, max: 8000 }),
        memory: fc.integer({ min: 1, max: 64 * 1024 }),
        ours: fc.boolean(),
        gpu: fc.integer({ min: 0, max: 2 }),
      }),
      { maxLength: 40 },
    ),
    claimed: fc.array(fc.tuple(fc.nat(11), fc.nat(7)), { maxLength: 10 }),
    pool: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ nodes, pods, claimed, pool }) => {
    const nodeObjects: NodeObject[] = nodes.map((n, i) => ({
      metadata: { name: `n${i}`, labels: n.region !== undefined ? { 'topology.kubernetes.io/region': n.region } : ({} as Record<string, string>) },
      status: {
        allocatable: { cpu: n.cpu, memory: n.memory, pods: String(n.pods), ...(n.gpus !== undefined ? { 'nvidia.com/gpu': String(n.gpus) } : {}) },
        conditions: [{ type: 'Ready', status: n.ready ? 'True' : 'False' }],
      },
    }));
    const podObjects: PodObject[] = pods.map((p, i) => ({
      metadata: { name: `p${i}`, namespace: 'default', ...(p.ours ? { labels: { [PLACEMENT_LABEL]: 'team.web' } } : {}) },
      spec: {
        nodeName: `n${p.node % Math.max(1, nodes.length)}`,
        containers: [{ name: 'c', resources: { requests: { cpu: `${p.cpu}m`, memory: `${p.memory}Mi`, ...(p.gpu > 0 ? { 'nvidia.com/gpu': String(p.gpu) } : {}) } } }],
      },
      status: { phase: 'Running' },
    }));
    const slices: ResourceSliceObject[] = nodes.flatMap((n, i) =>
      n.gpus === undefined
        ? []
        : [
            {
              spec: {
                driver: DRIVER,
                pool: { name: `n${i}`, generation: 1, resourceSliceCount: 1 },
                nodeName: `n${i}`,
                devices: Array.from({ length: n.gpus }, (_, d) => ({ name: `gpu-${d}`, attributes: { model: { string: n.model }, uuid: { string: `n${i}-${d}` }, memory: { int: 80 } } })),
              },
            },
          ],
    );
    if (pool > 0)
      slices.push({
        spec: {
          driver: DRIVER,
          pool: { name: 'shared', generation: 1, resourceSliceCount: 1 },
          devices: Array.from({ length: pool }, (_, d) => ({ name: `s-${d}`, attributes: { model: { string: 'L4' } } })),
        },
      });
    const classes: DeviceClassObject[] = [
      { metadata: { name: 'gpu.example.com' }, spec: { selectors: [{ cel: { expression: `device.driver == "${DRIVER}"` } }] } },
      { metadata: { name: 'h100.example.com' }, spec: { selectors: [{ cel: { expression: `device.attributes["${DRIVER}"].model == "H100"` } }] } },
    ];
    const claims: ResourceClaimObject[] = claimed.map(([n, d]) => ({ status: { allocation: { devices: { results: [{ driver: DRIVER, pool: `n${n}`, device: `gpu-${d}` }] } } } }));
    return { nodes: nodeObjects, pods: podObjects.map(podUsage), deviceClasses: classes, slices, claims };
  });

const agent = { version: '1.2.3', heartbeatTime: '2026-12-06T10:00:00.000Z' };

test("a report read back is the member's summary, as the hub would work it out itself", () => {
  fc.assert(
    fc.property(memberArb, (objects) => {
      const summary = summarizeMember(objects);
      // through JSON, as it crosses the API server
      const wire = JSON.parse(JSON.stringify(reportDocument('m1', 'fleet', agent, summary, '2026-12-06T09:59:00.000Z')));
      const read = readReport(wire);
      assert.ok(read.ok, read.ok ? '' : read.error);
      assert.deepEqual(read.value.summary, summary);
      assert.equal(read.value.computedAt, '2026-12-06T09:59:00.000Z');
      assert.equal(reportProblem(read, 0, 60_000), undefined);
    }),
    { numRuns: 200 },
  );
});

test('a report that cannot be used says why: too old, unreadable member, not read yet, bad content', () => {
  const summary = summarizeMember({ nodes: [], pods: [], deviceClasses: [], slices: [], claims: [] });
  const fine = readReport(reportDocument('m1', 'fleet', agent, summary, agent.heartbeatTime));
  assert.match(reportProblem(fine, 61_000, 60_000) ?? '', /has not reported for 61 s \(the limit is 60 s\)/);
  const blind = readReport(reportDocument('m1', 'fleet', { ...agent, problem: '403 from member: pods is forbidden' }, summary, agent.heartbeatTime));
  assert.match(reportProblem(blind, 0, 60_000) ?? '', /its agent cannot read it: 403/);
  assert.match(reportProblem(readReport(reportDocument('m1', 'fleet', agent, undefined, '')), 0, 60_000) ?? '', /has not read it yet/);
  const wire = JSON.parse(JSON.stringify(reportDocument('m1', 'fleet', agent, summary, agent.heartbeatTime)));
  wire.summary.allocatable.cpu = 'lots';
  assert.match(reportProblem(readReport(wire), 0, 60_000) ?? '', /cannot be read: .*summary\.allocatable\.cpu/);
  assert.match(reportProblem(readReport({ agent: { version: 'x' } }), 0, 60_000) ?? '', /heartbeatTime/);
});
