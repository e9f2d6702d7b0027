import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../../test/fixtures.js';
import { prepareCycle } from '../cycle.js';
import { worthOf } from '../objective.js';
import type { Assignment } from './placeOne.js';
import { type TierContext, type TierOutcome, newCounters, placesAllItCan } from './tier.js';

// Two clusters of 4 CPU: `web` (1 CPU each) fits 8 replicas alone, `wide` (6 CPU) none, and the
// gang `team` (3 replicas of 3 CPU) only two of its three, so nothing of it.
const f = fleet(cluster('x', { cpu: 4 }), cluster('y', { cpu: 4 }));
const cycle = prepareCycle(f, [placement('web', { replicas: 10, cpu: '1' }), placement('wide', { replicas: 2, cpu: '6' }), placement('team', { replicas: 3, cpu: '3', gang: true })]);
const job = (name: string) => cycle.jobs.find((j) => j.p.key === `default/${name}`)!;
const { fleet: index } = cycle.ctx;
const start = { free: index.free, nodes: index.nodes };
const ctx = (kept: Map<(typeof cycle.jobs)[number], Assignment> = new Map()): TierContext => ({
  fleet: index,
  kept,
  counters: newCounters(),
  opts: {},
  clock: () => 0,
  deadline: Number.POSITIVE_INFINITY,
});
const answer = (web: number): TierOutcome => {
  const assign = new Map([
    [
      job('web'),
      new Map([
        [0, Math.min(web, 4)],
        [1, Math.max(0, web - 4)],
      ]),
    ],
  ]);
  return { assign, free: start.free, nodes: start.nodes, worth: worthOf(cycle.jobs, assign), solver: 'greedy', packed: false };
};

test('an answer places all it can where each placement has all the room at the start holds of it alone', () => {
  assert.equal(cycle.jobs.length, 3);
  assert.ok(placesAllItCan(cycle.jobs, answer(8), ctx(), start, new Map()), 'web has all 8 it fits; wide and the gang fit nowhere');
  assert.ok(!placesAllItCan(cycle.jobs, answer(7), ctx(), start, new Map()), 'one more web replica fits');
  // A placement that keeps replicas counts only with every replica placed.
  const kept = new Map([[job('web'), new Map([[0, 1]])]]);
  assert.ok(!placesAllItCan(cycle.jobs, answer(8), ctx(kept), start, new Map()));
});
