import { type Filter, PASS, reject } from '../framework.js';
import { formatAmount } from '../quantity.js';

/** One replica must fit into what the cluster has free, in every resource. */
export const fitFilter: Filter = {
  name: 'Fit',
  filter(ctx, p, _cluster, row) {
    const { dims, free } = ctx.fleet;
    const base = row * dims.length;
    for (let d = 0; d < dims.length; d++) {
      const need = p.demand[d] as number;
      const have = free[base + d] as number;
      if (need > have) {
        const resource = dims[d] as string;
        return reject(this.name, 'InsufficientResource', `insufficient ${resource}: one replica needs ${formatAmount(resource, need)}, ${formatAmount(resource, have)} free`, {
          resource,
          requested: need,
          free: have,
        });
      }
    }
    return PASS;
  },
};
