import type { Score } from '../framework.js';
import { CPU, MEMORY } from '../prepare.js';

/**
 * Free CPU and memory left after one more replica, as a share of allocatable. Spread prefers
 * the emptiest clusters; Pack prefers the fullest, so that whole clusters stay free.
 */
export const headroomScore: Score = {
  name: 'Headroom',
  key: (p) => `${p.strategy} ${p.demand[CPU]} ${p.demand[MEMORY]}`,
  score(ctx, p, _cluster, row) {
    const { dims, free, allocatable } = ctx.fleet;
    const base = row * dims.length;
    let share = 0;
    for (const d of [CPU, MEMORY]) {
      const cap = allocatable[base + d] as number;
      const left = (free[base + d] as number) - (p.demand[d] as number);
      share += cap > 0 ? Math.max(0, left) / cap : 0;
    }
    const emptiness = (share / 2) * 100;
    return p.strategy === 'Pack' ? 100 - emptiness : emptiness;
  },
};
