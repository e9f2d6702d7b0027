import { type Filter, PASS, reject } from '../framework.js';

/** Every requested device class must exist in the cluster, whether or not any is free. */
export const deviceClassFilter: Filter = {
  name: 'DeviceClass',
  filter(_ctx, p, cluster) {
    for (const a of p.placement.spec.accelerators ?? []) {
      if (!cluster.devices.some((d) => d.deviceClassName === a.deviceClassName && d.total > 0)) {
        return reject(this.name, 'DeviceClassMissing', `cluster has no devices of class ${a.deviceClassName}`, {
          resource: a.deviceClassName,
        });
      }
    }
    return PASS;
  },
};
