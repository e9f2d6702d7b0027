import { type Filter, PASS, reject } from '../framework.js';

/** Only clusters whose control plane is healthy take new replicas. */
export const healthFilter: Filter = {
  name: 'ClusterHealth',
  filter(_ctx, _p, cluster) {
    return cluster.healthy ? PASS : reject(this.name, 'ClusterUnhealthy', 'cluster control plane is not healthy');
  },
};
