import { type Filter, PASS, reject } from '../framework.js';
import { fitOnNodes, nodeShortage } from '../nodes.js';
import { formatAmount } from '../quantity.js';

/** One replica must fit into what the cluster has free, in every resource, and on one node. */
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
    const nodes = ctx.fleet.nodes[row];
    if (nodes === undefined || fitOnNodes(nodes, p.node, 1) > 0) return PASS;
    const s = nodeShortage(nodes, p.node, dims.slice(0, ctx.fleet.scalarDims), p.requestNames);
    const resource = s?.resource ?? 'room';
    return reject(
      this.name,
      'NoNodeFits',
      s === undefined
        ? 'no node has room for one replica'
        : `no node has room for one replica: ${s.nodes} nodes have less than ${formatAmount(resource, s.need)} ${resource} free (at most ${formatAmount(resource, s.mostFree)})`,
      { resource, ...(s !== undefined ? { requested: s.need, free: s.mostFree } : {}) },
    );
  },
};
