// Prometheus metrics, in Prometheus naming: base units, _seconds and _total suffixes. Gauges
// about the fleet and the placements are read from the engine when scraped.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Decision } from '../core/model.js';
import { capacityReport, occupiedSnapshot } from '../core/capacity.js';
import type { Engine } from './engine.js';

export class Metrics {
  readonly registry = new Registry();
  readonly scheduling: Histogram<'operation'>;
  readonly solver: Histogram<'solver'>;
  readonly moved: Counter;
  readonly requests: Histogram<'method' | 'route' | 'status_code'>;

  /** What an engine calls after each scheduling step. */
  observe = (e: { operation: string; seconds: number; solver?: string }): void => {
    this.scheduling.observe({ operation: e.operation }, e.seconds);
    this.solver.observe({ solver: e.solver ?? 'incremental' }, e.seconds);
  };

  constructor(engine: () => Engine | undefined) {
    const registers = [this.registry];
    const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.scheduling = new Histogram({ name: 'orrery_scheduling_duration_seconds', help: 'Time to schedule, by operation.', labelNames: ['operation'], buckets, registers });
    this.solver = new Histogram({ name: 'orrery_solver_duration_seconds', help: 'Time spent in the solver, by the solver that gave the answer.', labelNames: ['solver'], buckets, registers });
    this.moved = new Counter({ name: 'orrery_replicas_moved_total', help: 'Replicas that left a cluster they ran on without their placement shrinking.', registers });
    this.requests = new Histogram({
      name: 'orrery_http_request_duration_seconds',
      help: 'HTTP API requests, by route and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets,
      registers,
    });
    new Gauge({
      name: 'orrery_placements',
      help: 'Placements by the Scheduled condition reason.',
      labelNames: ['condition'],
      registers,
      collect() {
        const e = engine();
        const counts: Record<Decision['reason'], number> = { Scheduled: 0, PartiallyScheduled: 0, Unschedulable: 0 };
        for (const v of e?.placements() ?? []) counts[v.decision.reason]++;
        this.reset();
        for (const [k, n] of Object.entries(counts)) this.set({ condition: k }, n);
      },
    });
    new Gauge({
      name: 'orrery_unscheduled_replicas',
      help: 'Replicas of all placements that have no cluster.',
      registers,
      collect() {
        this.set((engine()?.placements() ?? []).reduce((s, v) => s + v.decision.unscheduledReplicas, 0));
      },
    });
    const freeOf = () => {
      const e = engine();
      const snapshot = e?.snapshot();
      const free = e?.free();
      return snapshot && free ? capacityReport(occupiedSnapshot(snapshot, free)) : undefined;
    };
    new Gauge({
      name: 'orrery_cluster_free',
      help: 'Free capacity per cluster: cpu in cores, memory in bytes, pods.',
      labelNames: ['cluster', 'resource'],
      registers,
      collect() {
        this.reset();
        for (const c of freeOf()?.clusters ?? []) {
          this.set({ cluster: c.name, resource: 'cpu' }, c.free.cpu / 1000);
          this.set({ cluster: c.name, resource: 'memory' }, c.free.memory);
          this.set({ cluster: c.name, resource: 'pods' }, c.free.pods);
        }
      },
    });
    new Gauge({
      name: 'orrery_cluster_free_devices',
      help: 'Free devices per cluster and device class.',
      labelNames: ['cluster', 'device_class'],
      registers,
      collect() {
        this.reset();
        for (const c of freeOf()?.clusters ?? []) {
          for (const [cls, d] of Object.entries(c.devices)) this.set({ cluster: c.name, device_class: cls }, d.free);
        }
      },
    });
  }
}
