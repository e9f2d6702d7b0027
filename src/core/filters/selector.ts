import { type Filter, PASS, reject } from '../framework.js';
import { firstUnmatched } from '../labels.js';

/** spec.clusterSelector over the ClusterProfile's labels. */
export const selectorFilter: Filter = {
  name: 'ClusterSelector',
  filter(_ctx, p, cluster) {
    const selector = p.placement.spec.clusterSelector;
    if (selector === undefined) return PASS;
    const miss = firstUnmatched(cluster.labels, selector);
    return miss === undefined ? PASS : reject(this.name, 'SelectorMismatch', `cluster labels do not match ${miss}`);
  },
};
