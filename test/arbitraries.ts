// Random fleets and placements for property tests: small clusters of every kind (tainted,
// unhealthy, with and without GPUs) and placements with every rule.

import fc from 'fast-check';
import { cluster, nodeCluster, placement } from './fixtures.js';
import type { Cluster, Placement } from '../src/core/model.js';

const regions = ['r1', 'r2', 'r3'];

export const clusterArb = (i: number): fc.Arbitrary<Cluster> =>
  fc
    .record({
      cpu: fc.integer({ min: 1, max: 32 }),
      memoryGi: fc.integer({ min: 1, max: 64 }),
      pods: fc.integer({ min: 2, max: 40 }),
      used: fc.double({ min: 0, max: 0.9, noNaN: true }),
      region: fc.constantFrom(...regions),
      zone: fc.constantFrom('a', 'b'),
      env: fc.constantFrom('prod', 'dev'),
      healthy: fc.boolean(),
      taint: fc.constantFrom('none', 'none', 'maint', 'spot'),
      gpus: fc.constantFrom(0, 0, 2, 4, 8),
      gpusUsed: fc.integer({ min: 0, max: 8 }),
    })
    .map((o) =>
      cluster(`c${i}`, {
        cpu: o.cpu,
        memoryGi: o.memoryGi,
        pods: o.pods,
        usedCpu: Math.floor(o.cpu * o.used),
        usedMemoryGi: Math.floor(o.memoryGi * o.used),
        usedPods: Math.floor(o.pods * o.used),
        region: o.region,
        zone: `${o.region}-${o.zone}`,
        labels: { env: o.env },
        healthy: o.healthy || o.cpu % 5 !== 0,
        taints: o.taint === 'maint' ? [{ key: 'maint', effect: 'NoSchedule' }] : o.taint === 'spot' ? [{ key: 'spot', effect: 'PreferNoSchedule' }] : [],
        devices: o.gpus > 0 ? { gpu: [o.gpus, Math.min(o.gpus, o.gpusUsed)] } : {},
      }),
    );

export const fleetArb = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => clusterArb(i))));

export const placementArb = (i: number): fc.Arbitrary<Placement> =>
  fc
    .record({
      replicas: fc.integer({ min: 0, max: 12 }),
      cpu: fc.constantFrom('100m', '500m', '1', '2', '4'),
      memory: fc.constantFrom('256Mi', '1Gi', '4Gi'),
      gpus: fc.constantFrom(0, 0, 0, 1, 2),
      selector: fc.boolean(),
      tolerate: fc.boolean(),
      required: fc.constantFrom(undefined, ['r1'], ['r1', 'r2']),
      preferred: fc.constantFrom(undefined, 'r2', 'r3'),
      spread: fc.constantFrom(
        undefined,
        { minClusters: 2 },
        { maxClusters: 1 },
        { maxClusters: 2, minClusters: 2 },
        { maxSkew: 1 },
        { maxSkew: 1, topologyKey: 'zone' },
        { maxSkew: 2, maxClusters: 2 },
      ),
      strategy: fc.constantFrom(undefined, 'Spread' as const, 'Pack' as const),
      gang: fc.boolean(),
      priority: fc.constantFrom(0, 0, 10),
    })
    .map((o) =>
      placement(`p${i}`, {
        replicas: o.replicas,
        cpu: o.cpu,
        memory: o.memory,
        ...(o.gpus > 0 ? { accelerators: [{ deviceClassName: 'gpu', count: o.gpus }] } : {}),
        ...(o.selector ? { clusterSelector: { matchLabels: { env: 'prod' } } } : {}),
        ...(o.tolerate ? { tolerations: [{ key: 'maint', operator: 'Exists' as const }] } : {}),
        ...(o.required || o.preferred ? { locality: { ...(o.required ? { requiredRegions: o.required } : {}), ...(o.preferred ? { preferred: [{ region: o.preferred, weight: 50 }] } : {}) } } : {}),
        ...(o.spread ? { spread: o.spread } : {}),
        ...(o.strategy ? { strategy: o.strategy } : {}),
        gang: o.gang && o.gpus > 0,
        priority: o.priority,
      }),
    );

export const placementsArb = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => placementArb(i))));

/** A cluster given by its node groups: GPU nodes of 1 to 8 GPUs, part in use, and CPU-only nodes. */
export const nodeClusterArb = (i: number): fc.Arbitrary<Cluster> =>
  fc
    .array(
      fc.record({
        count: fc.integer({ min: 1, max: 3 }),
        gpus: fc.constantFrom(0, 1, 2, 4, 8),
        used: fc.integer({ min: 0, max: 7 }),
        cpuPerGpu: fc.constantFrom(4, 8),
      }),
      { minLength: 1, maxLength: 4 },
    )
    .chain((groups) =>
      fc.record({ region: fc.constantFrom(...regions), healthy: fc.constantFrom(true, true, true, false) }).map((o) =>
        nodeCluster(
          `n${i}`,
          groups.map((g) => ({
            count: g.count,
            cpu: g.gpus === 0 ? 32 : g.gpus * g.cpuPerGpu + 2,
            memoryGi: 512,
            usedCpu: g.gpus === 0 ? 0 : Math.min(g.used, g.gpus) * g.cpuPerGpu,
            ...(g.gpus > 0 ? { devices: { gpu: [g.gpus, Math.min(g.used, g.gpus)] as [number, number] } } : {}),
          })),
          { region: o.region, healthy: o.healthy },
        ),
      ),
    );

export const nodeFleetArb = fc.integer({ min: 1, max: 5 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeClusterArb(i))));

/** GPU work of 1, 2, 4 and 8 GPUs a replica, and CPU-only work, at two priorities. */
export const gpuWorkArb: fc.Arbitrary<Placement[]> = fc
  .array(
    fc.record({
      replicas: fc.integer({ min: 1, max: 8 }),
      gpus: fc.constantFrom(0, 1, 1, 2, 4, 8),
      cpu: fc.constantFrom(2, 4),
      strategy: fc.constantFrom(undefined, 'Pack' as const),
      priority: fc.constantFrom(0, 0, 10),
    }),
    { minLength: 1, maxLength: 10 },
  )
  .map((list) =>
    list.map((o, i) =>
      placement(`w${i}`, {
        replicas: o.replicas,
        cpu: String(o.gpus === 0 ? o.cpu : o.cpu * o.gpus),
        memory: '1Gi',
        ...(o.gpus > 0 ? { accelerators: [{ deviceClassName: 'gpu', count: o.gpus }] } : {}),
        ...(o.strategy ? { strategy: o.strategy } : {}),
        priority: o.priority,
      }),
    ),
  );
