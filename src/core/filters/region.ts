import { type Filter, PASS, reject } from '../framework.js';

/** spec.locality.requiredRegions: the cluster's region must be one of them. */
export const regionFilter: Filter = {
  name: 'RequiredRegion',
  filter(_ctx, p, cluster) {
    const required = p.placement.spec.locality?.requiredRegions;
    if (required === undefined || required.length === 0) return PASS;
    const region = cluster.location.region;
    if (region !== undefined && required.includes(region)) return PASS;
    return reject(this.name, 'RegionNotAllowed', `cluster region ${region ?? '(none)'} is not in ${required.join(', ')}`);
  },
};
