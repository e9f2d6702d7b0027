import { type Filter, PASS, reject } from '../framework.js';
import { untolerated } from '../taints.js';

/** NoSchedule and NoExecute taints must be tolerated; PreferNoSchedule is only a score. */
export const taintFilter: Filter = {
  name: 'TaintToleration',
  filter(_ctx, p, cluster) {
    const bad = untolerated(cluster.taints, p.placement.spec.tolerations, ['NoSchedule', 'NoExecute']);
    const first = bad[0];
    if (first === undefined) return PASS;
    const value = first.value === undefined ? '' : `=${first.value}`;
    return reject(this.name, 'UntoleratedTaint', `cluster has taint ${first.key}${value}:${first.effect} that is not tolerated`);
  },
};
