// The most replicas a placement could place if it had the free capacity to itself, under its
// own rules: a bound that tightens the relaxation without changing what it relaxes.

import type { Job } from '../cycle.js';
import type { FleetIndex } from '../prepare.js';
import { domainOf } from '../prepare.js';
import { roomFor } from '../fit.js';

export function soloCap(job: Job, free: Float64Array, fleet: FleetIndex): number {
  const dims = fleet.dims.length;
  const { replicas, gang, spread } = job.p;
  const caps: number[] = [];
  const byDomain = new Map<string, number>();
  let total = 0;
  for (let row = 0; row < fleet.clusters.length; row++) {
    if (job.eligible[row] !== 1) continue;
    const cap = Math.min(roomFor(job, free, dims, row), replicas);
    if (Number.isFinite(spread.maxSkew) && !Number.isFinite(spread.maxClusters)) {
      // every eligible domain counts, a full one with room 0
      const d = domainOf(fleet.clusters[row]!, spread.topologyKey) ?? '';
      byDomain.set(d, (byDomain.get(d) ?? 0) + Math.max(0, cap));
    }
    if (cap <= 0) continue;
    caps.push(cap);
    total += cap;
  }
  if (caps.length < spread.minClusters) return 0;
  let best = Math.min(total, replicas);
  if (caps.length > spread.maxClusters) {
    caps.sort((a, b) => b - a);
    best = Math.min(
      best,
      caps.slice(0, spread.maxClusters).reduce((s, c) => s + c, 0),
    );
  }
  if (byDomain.size > 0) {
    // Every domain stays within maxSkew of the emptiest, which can hold no more than its room.
    const floor = Math.min(...byDomain.values());
    let skewed = 0;
    for (const room of byDomain.values()) skewed += Math.min(room, floor + spread.maxSkew);
    best = Math.min(best, skewed);
  }
  return gang && best < replicas ? 0 : best;
}

/** Whether a placement has rules that can hold it below what capacity allows. */
export function hasOwnLimits(job: Job): boolean {
  const s = job.p.spread;
  return job.p.gang || s.minClusters > 0 || Number.isFinite(s.maxClusters) || Number.isFinite(s.maxSkew);
}
