import { type Filter, PASS, reject } from '../framework.js';
import { takesReplicas } from '../model.js';

/** Only clusters whose control plane is healthy, and that Orrery can read, take new replicas. */
export const healthFilter: Filter = {
  name: 'ClusterHealth',
  filter(_ctx, _p, cluster) {
    if (cluster.reachable === false) {
      return reject(this.name, 'ClusterUnreachable', `cluster cannot be read${cluster.message ? `: ${cluster.message}` : ''}`);
    }
    // one rule for who takes replicas, here and in every sum of free capacity
    return takesReplicas(cluster) ? PASS : reject(this.name, 'ClusterUnhealthy', 'cluster control plane is not healthy');
  },
};
