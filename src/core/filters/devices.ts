import { type Filter, PASS, reject } from '../framework.js';
import { offers } from '../model.js';

/**
 * Every requested accelerator must exist in the cluster, whether or not any is free now: the
 * device class (with devices its selectors match), or the extended resource.
 */
export const deviceClassFilter: Filter = {
  name: 'DeviceClass',
  filter(ctx, p, cluster, row) {
    const { fleet } = ctx;
    let request = 0;
    for (const a of p.placement.spec.accelerators ?? []) {
      if (a.resourceName !== undefined) {
        if (!offers(cluster, a.resourceName)) {
          return reject(this.name, 'ResourceMissing', `cluster has no ${a.resourceName}`, { resource: a.resourceName });
        }
        continue;
      }
      const cls = a.deviceClassName ?? '';
      if (!offers(cluster, cls)) return reject(this.name, 'DeviceClassMissing', `cluster has no devices of class ${cls}`, { resource: cls });
      const kinds = p.node.requests[request]?.kinds ?? new Int32Array();
      request++;
      let matched = 0;
      for (const k of kinds) matched += fleet.kindTotals[row * fleet.kinds.length + k] as number;
      if (matched === 0) {
        return reject(this.name, 'SelectorMismatch', `no device of class ${cls} here matches ${(a.selectors ?? []).join(' && ')}`, { resource: cls });
      }
    }
    return PASS;
  },
};
