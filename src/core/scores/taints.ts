import type { Score } from '../framework.js';
import { untolerated } from '../taints.js';

/** PreferNoSchedule taints that are not tolerated lower the score, each by a share. */
export const taintPreferenceScore: Score = {
  name: 'TaintPreference',
  key: (p) => JSON.stringify(p.placement.spec.tolerations ?? []),
  score(_ctx, p, cluster) {
    const prefer = cluster.taints.filter((t) => t.effect === 'PreferNoSchedule');
    if (prefer.length === 0) return 100;
    const bad = untolerated(prefer, p.placement.spec.tolerations, ['PreferNoSchedule']).length;
    return 100 * (1 - bad / prefer.length);
  },
};
