import type { Score } from '../framework.js';

/** A cluster that already runs the placement keeps it: moving replicas costs restarts. */
export const stabilityScore: Score = {
  name: 'Stability',
  readsPrevious: true,
  score(ctx, p, cluster) {
    return (ctx.previous.get(p.key)?.get(cluster.name) ?? 0) > 0 ? 100 : 0;
  },
};
