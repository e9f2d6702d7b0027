import type { Score } from '../framework.js';

/** spec.locality.preferred: the weight (1..100) of the cluster's region, if it is listed. */
export const localityScore: Score = {
  name: 'PreferredRegion',
  appliesTo: (p) => (p.placement.spec.locality?.preferred ?? []).length > 0,
  key: (p) => JSON.stringify(p.placement.spec.locality?.preferred ?? []),
  score(_ctx, p, cluster) {
    const region = cluster.location.region;
    let best = 0;
    for (const pref of p.placement.spec.locality?.preferred ?? []) {
      if (pref.region === region && pref.weight > best) best = pref.weight;
    }
    return best;
  },
};
