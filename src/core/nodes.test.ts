import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type ClusterNodes, type NodeDemand, fitOnNodes, nodeShortage, normalise, packInto, packIntoGroup } from './nodes.js';

// scalar dims: cpu (milli), memory (bytes), pods; two device kinds
const node = (count: number, cpu: number, devices: [number, number] = [0, 0]) => ({ count, free: Float64Array.from([cpu * 1000, 64 * 2 ** 30, 110]), devices: Float64Array.from(devices) });
const cluster = (...groups: ReturnType<typeof node>[]): ClusterNodes => ({ groups: normalise(groups), shared: new Float64Array(2) });
const demand = (cpu: number, requests: { count: number; kinds: number[] }[] = []): NodeDemand => ({
  scalar: Float64Array.from([cpu * 1000, 2 ** 30, 1]),
  requests: requests.map((r) => ({ count: r.count, kinds: Int32Array.from(r.kinds) })),
});

test('six nodes of 4 CPU hold six replicas of 3 CPU, not the eight their sum would', () => {
  const c = cluster(node(6, 4));
  assert.equal(fitOnNodes(c, demand(3)), 6);
  assert.equal(fitOnNodes(c, demand(1)), 24);
  assert.equal(fitOnNodes(c, demand(1), 10), 10, 'counting stops at the limit');
  assert.equal(fitOnNodes(c, demand(5)), 0);
});

test('packing splits a group into the nodes it filled and the rest, and frees nothing it did not take', () => {
  const c = cluster(node(6, 4));
  const r = packInto(c, demand(3), 4);
  assert.equal(r.placed, 4);
  assert.deepEqual(
    r.nodes.groups.map((g) => [g.count, g.free[0]]),
    [
      [4, 1000],
      [2, 4000],
    ],
  );
  assert.equal(fitOnNodes(r.nodes, demand(3)), 2);
  assert.equal(fitOnNodes(r.nodes, demand(1)), 12);
  const over = packInto(r.nodes, demand(3), 5);
  assert.equal(over.placed, 2, 'only what fits is placed');
});

test('small nodes are filled first, so large replicas still find large nodes', () => {
  const c = cluster(node(1, 16), node(2, 2));
  const small = packInto(c, demand(1), 4).nodes;
  assert.equal(fitOnNodes(small, demand(16)), 1);
});

test('devices are counted per node: two GPUs on each of four nodes hold no replica of four', () => {
  const c = cluster(node(4, 32, [2, 0]));
  assert.equal(fitOnNodes(c, demand(1, [{ count: 4, kinds: [0] }])), 0);
  assert.equal(fitOnNodes(c, demand(1, [{ count: 2, kinds: [0] }])), 4);
  const s = nodeShortage(c, demand(1, [{ count: 4, kinds: [0] }]), ['cpu', 'memory', 'pods'], ['gpu']);
  assert.deepEqual(s, { resource: 'gpu', nodes: 4, mostFree: 2, need: 4 });
});

test('a request that two kinds satisfy draws on both, and each device once', () => {
  // kind 0 is an H100 that the generic class and the H100 class both match; kind 1 an A100
  const c = cluster(node(1, 64, [2, 2]));
  const generic = demand(1, [{ count: 1, kinds: [0, 1] }]);
  const h100 = demand(1, [{ count: 1, kinds: [0] }]);
  assert.equal(fitOnNodes(c, generic), 4);
  const afterH100 = packInto(c, h100, 2).nodes;
  assert.equal(fitOnNodes(afterH100, generic), 2, 'the H100s taken are gone for the generic class too');
  assert.equal(fitOnNodes(afterH100, h100), 0);
  // two requests on one replica share the same devices
  assert.equal(
    fitOnNodes(
      c,
      demand(1, [
        { count: 2, kinds: [0, 1] },
        { count: 2, kinds: [0, 1] },
      ]),
    ),
    1,
  );
});

test('a cluster-wide pool is shared by all nodes, and drains as they use it', () => {
  const c: ClusterNodes = { groups: normalise([node(3, 8)]), shared: Float64Array.from([4, 0]) };
  const d = demand(1, [{ count: 1, kinds: [0] }]);
  assert.equal(fitOnNodes(c, d), 4, 'four devices for all the nodes together');
  const r = packInto(c, d, 3);
  assert.equal(r.placed, 3);
  assert.equal(r.nodes.shared[0], 1);
  assert.equal(fitOnNodes(r.nodes, d), 1);
});

test('a count on a packed state equals a count made afresh, packing after packing', () => {
  const nodeArb = fc.record({ count: fc.integer({ min: 1, max: 4 }), cpu: fc.integer({ min: 1, max: 16 }), a: fc.integer({ min: 0, max: 8 }), b: fc.integer({ min: 0, max: 8 }) });
  const demandArb = fc.record({ cpu: fc.integer({ min: 1, max: 6 }), gpus: fc.integer({ min: 0, max: 4 }), kinds: fc.constantFrom([0], [1], [0, 1]) });
  const stepArb = fc.record({ d: fc.nat({ max: 3 }), n: fc.integer({ min: 1, max: 6 }), group: fc.option(fc.nat({ max: 5 }), { nil: undefined }) });
  fc.assert(
    fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 5 }), fc.array(demandArb, { minLength: 4, maxLength: 4 }), fc.array(stepArb, { maxLength: 12 }), (groups, shapes, steps) => {
      const demands = shapes.map((x) => demand(x.cpu, x.gpus > 0 ? [{ count: x.gpus, kinds: [...x.kinds] }] : []));
      let c = cluster(...groups.map((g) => node(g.count, g.cpu, [g.a, g.b])));
      for (const step of steps) {
        // every shape counted (and remembered) on each state on the way
        for (const d of demands) fitOnNodes(c, d);
        const d = demands[step.d] as NodeDemand;
        c = (step.group === undefined ? packInto(c, d, step.n) : packIntoGroup(c, d, step.group % c.groups.length, step.n)).nodes;
        const afresh: ClusterNodes = { groups: c.groups, shared: c.shared };
        for (const x of demands) assert.equal(fitOnNodes(c, x), fitOnNodes(afresh, x));
      }
    }),
    { numRuns: 300 },
  );
});
