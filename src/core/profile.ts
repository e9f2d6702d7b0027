// The default plugin set. Filters run cheapest first; the weights say how much each
// preference counts against the others.

import type { Profile } from './framework.js';
import { deviceClassFilter } from './filters/devices.js';
import { fitFilter } from './filters/fit.js';
import { healthFilter } from './filters/health.js';
import { regionFilter } from './filters/region.js';
import { selectorFilter } from './filters/selector.js';
import { taintFilter } from './filters/taints.js';
import { acceleratorScore } from './scores/accelerators.js';
import { headroomScore } from './scores/headroom.js';
import { localityScore } from './scores/locality.js';
import { stabilityScore } from './scores/stability.js';
import { taintPreferenceScore } from './scores/taints.js';

export const defaultProfile: Profile = {
  filters: [healthFilter, regionFilter, selectorFilter, taintFilter, deviceClassFilter, fitFilter],
  scores: [
    { plugin: localityScore, weight: 3 },
    { plugin: headroomScore, weight: 1 },
    { plugin: acceleratorScore, weight: 1 },
    { plugin: taintPreferenceScore, weight: 1 },
    { plugin: stabilityScore, weight: 2 },
  ],
};
