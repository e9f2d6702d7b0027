// The bench's measures of idle devices and replica sizes, on a fleet small enough to count by hand.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleet, nodeCluster, placement } from './fixtures.js';
import { FleetState } from '../src/core/fleetState.js';
import { idleDevices, measure } from '../bench/measures.js';

// One cluster: an idle 8-GPU node, a node with 5 of its 8 GPUs free (others use 3), and one
// with 4 free of 4. Asked: three 8-GPU replicas (one node holds one) and one 1-GPU replica.
const snapshot = fleet(
  nodeCluster('a', [
    { count: 1, cpu: 64, devices: { gpu: 8 } },
    { count: 1, cpu: 64, devices: { gpu: [8, 3] } },
    { count: 1, cpu: 64, devices: { gpu: 4 } },
  ]),
);
const big = placement('big', { replicas: 3, cpu: '1', accelerators: [{ deviceClassName: 'gpu', count: 8 }] });
const small = placement('small', { replicas: 1, cpu: '1', accelerators: [{ deviceClassName: 'gpu', count: 1 }] });

test('free devices no waiting replica fits beside are stranded, not idle', () => {
  const state = FleetState.start(snapshot, [big, small]);
  assert.equal(state.result.stats.unscheduledReplicas, 2, 'two 8-GPU replicas wait');
  const gpu = idleDevices(state).gpu;
  // 17 free before; the replicas placed take 9; the 8 left could only take a smaller replica
  assert.deepEqual(gpu, { free: 17, idle: 0, stranded: 8 });
});

test('a free device a waiting replica would fit beside whole is idle', () => {
  // decided as if nothing had been placed: the 1-GPU replica fits beside every free GPU
  const state = FleetState.start(snapshot, [big, small]);
  const result = { ...state.result, decisions: state.result.decisions.map((d) => ({ ...d, clusters: [], unscheduledReplicas: d.placement === 'default/small' ? 1 : 3 })) };
  // the fleet's nodes as the snapshot has them: nothing of this schedule packed on them
  const gpu = idleDevices({ fleet: state.fleet, entries: state.entries, result, nodes: state.fleet.nodes } as unknown as FleetState).gpu;
  assert.equal(gpu?.idle, 17);
  assert.equal(gpu?.stranded, 0);
});

test('a size short of its share of the demand is told apart when it got all the fleet holds of it', () => {
  const state = FleetState.start(snapshot, [big, small]);
  const { sizes } = measure(snapshot, [big, small], state.result.decisions);
  const at = sizes['0'] as Record<string, { placed: number; asked: number; allItFits: boolean }>;
  // asked: 24 and 1 devices; placed: one 8-GPU replica (the one node with 8 free) and the 1-GPU one
  const near = (a: number | undefined, b: number) => assert.ok(Math.abs((a ?? Number.NaN) - b) < 1e-9, `${a} against ${b}`);
  near(at['8']?.asked, 24 / 25);
  near(at['8']?.placed, 8 / 9);
  assert.equal(at['8']?.allItFits, true, 'no other node holds an 8-GPU replica');
  // had the 8-GPU replica been left out, it would not have had all it fits
  const without = state.result.decisions.map((d) => (d.placement === 'default/big' ? { ...d, clusters: [], unscheduledReplicas: 3 } : d));
  const short = measure(snapshot, [big, small], without).sizes['0'] as Record<string, { allItFits: boolean }>;
  assert.equal(short['8']?.allItFits, false);
  assert.equal(short['1']?.allItFits, true);
});
