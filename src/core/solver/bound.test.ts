import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cluster, fleet, placement } from '../../../test/fixtures.js';
import { relaxationBound } from './bound.js';
import { FleetState } from '../fleetState.js';

/** A full cycle's result. */
const schedule = (...a: Parameters<typeof FleetState.start>) => FleetState.start(...a).result;

// 12 cpu, two placements of 5-cpu replicas (two shapes, so two classes): whole replicas fit two,
// the relaxation 2.4.
const f = fleet(cluster('a', { cpu: 12, memoryGi: 64 }));
const ps = [placement('x', { replicas: 2, cpu: '5', memory: '1Gi' }), placement('y', { replicas: 2, cpu: '5', memory: '2Gi' })];
const share = 5 / 12;

test('the bound in whole replicas where the integer program is solved in time', () => {
  const [tier] = relaxationBound(f, ps);
  assert.equal(tier?.integral, true);
  assert.ok(Math.abs((tier?.value ?? 0) - 2 * share) < 1e-6, String(tier?.value));
  const solved = schedule(f, ps);
  assert.ok(solved.stats.value <= (tier?.value ?? 0) + 1e-9);
});

test('without time for the integer program, the relaxation', () => {
  const [tier] = relaxationBound(f, ps, [], { boundIntegerMs: 0 });
  assert.equal(tier?.integral, false);
  assert.ok(Math.abs((tier?.value ?? 0) - 2.4 * share) < 1e-6, String(tier?.value));
});

test('each tier is bounded under the given answer for the tiers above', () => {
  const high = placement('z', { replicas: 1, cpu: '5', memory: '1Gi', priority: 10 });
  const answer = schedule(f, [...ps, high]);
  const bounds = relaxationBound(f, [...ps, high], answer.decisions);
  assert.deepEqual(
    bounds.map((t) => t.priority),
    [10, 0],
  );
  // z takes 5 of the 12 cpu: one more 5-cpu replica fits below it
  assert.ok(Math.abs((bounds[1]?.value ?? 0) - share) < 1e-6, String(bounds[1]?.value));
});
