import { type Filter, PASS, reject } from '../framework.js';

/** Only clusters whose control plane is healthy, and that Orrery can read, take new replicas. */
export const healthFilter: Filter = {
  name: 'ClusterHealth',
  filter(_ctx, _p, cluster) {
    if (cluster.reachable === false) {
      return reject(this.name, 'ClusterUnreachable', `cluster cannot be read${cluster.message ? `: ${cluster.message}` : ''}`);
    }
    return cluster.healthy ? PASS : reject(this.name, 'ClusterUnhealthy', 'cluster control plane is not healthy');
  },
};
