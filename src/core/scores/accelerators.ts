import type { Score } from '../framework.js';

/**
 * For placements that ask for devices: the share of the requested classes still free.
 */
export const acceleratorScore: Score = {
  name: 'FreeAccelerators',
  appliesTo: (p) => (p.placement.spec.accelerators ?? []).length > 0,
  key: (p) => JSON.stringify((p.placement.spec.accelerators ?? []).map((a) => a.resourceName ?? a.deviceClassName ?? '')),
  score(ctx, p, _cluster, row) {
    const accelerators = p.placement.spec.accelerators ?? [];
    const { dims, dimOf, free, allocatable } = ctx.fleet;
    const base = row * dims.length;
    let share = 0;
    for (const a of accelerators) {
      const d = dimOf.get(a.resourceName ?? a.deviceClassName ?? '');
      if (d === undefined) continue;
      const cap = allocatable[base + d] as number;
      share += cap > 0 ? (free[base + d] as number) / cap : 0;
    }
    return accelerators.length === 0 ? 0 : (share / accelerators.length) * 100;
  },
};
