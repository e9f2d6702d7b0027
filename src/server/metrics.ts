// Prometheus metrics, in Prometheus naming: base units, _seconds and _total suffixes. Gauges
// about the fleet and the placements are read from the engine when scraped.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from '../core/model.js';
import { capacityReport } from '../core/capacity.js';
import type { Engine } from './engine.js';
import { VERSION } from '../version.js';

type CapacityRow = ReturnType<typeof capacityReport>['clusters'][number];

/** Per-cluster capacity gauges, free and allocatable, one unit per metric as Prometheus names them. */
const CAPACITY: readonly { name: string; help: string; value: (amounts: CapacityRow['free']) => number }[] = [
  { name: 'cpu_cores', help: 'CPU, in cores', value: (a) => a.cpu / 1000 },
  { name: 'memory_bytes', help: 'memory, in bytes', value: (a) => a.memory },
  { name: 'pods', help: 'pod slots', value: (a) => a.pods },
];

export class Metrics {
  readonly registry = new Registry();
  readonly scheduling: Histogram<'operation'>;
  readonly solver: Histogram<'solver'>;
  readonly moved: Counter;
  readonly preempted: Counter;
  readonly requests: Histogram<'method' | 'route' | 'status_code'>;

  /** What an engine calls after each scheduling step. */
  observe = (e: { operation: string; seconds: number; solver?: string; preempted?: number }): void => {
    this.scheduling.observe({ operation: e.operation }, e.seconds);
    this.solver.observe({ solver: e.solver ?? 'incremental' }, e.seconds);
    if (e.preempted !== undefined && e.preempted > 0) this.preempted.inc(e.preempted);
  };

  constructor(engine: () => Engine | undefined) {
    const registers = [this.registry];
    const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.scheduling = new Histogram({ name: 'orrery_scheduling_duration_seconds', help: 'Time to schedule, by operation.', labelNames: ['operation'], buckets, registers });
    this.solver = new Histogram({ name: 'orrery_solver_duration_seconds', help: 'Time spent in the solver, by the solver that gave the answer.', labelNames: ['solver'], buckets, registers });
    this.moved = new Counter({ name: 'orrery_replicas_moved_total', help: 'Replicas that left a cluster they ran on without their placement shrinking.', registers });
    this.preempted = new Counter({ name: 'orrery_preempted_replicas_total', help: 'Replicas of lower-priority placements taken to make room for higher-priority ones.', registers });
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
        const counts: Record<Decision['reason'], number> = { Scheduled: 0, PartiallyScheduled: 0, Unschedulable: 0, Preempted: 0 };
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
    // Capacity as the schedule leaves it: Orrery's own replicas count as taken.
    const report = () => {
      const now = engine()?.occupied();
      return now === undefined ? undefined : capacityReport(now);
    };
    for (const side of ['free', 'allocatable'] as const) {
      for (const m of CAPACITY) {
        new Gauge({
          name: `orrery_cluster_${side}_${m.name}`,
          help: `${side === 'free' ? 'Free' : 'Allocatable'} ${m.help}, per cluster${side === 'free' ? ', after the placements Orrery made' : ''}.`,
          labelNames: ['cluster'],
          registers,
          collect() {
            this.reset();
            for (const c of report()?.clusters ?? []) this.set({ cluster: c.name }, m.value(c[side]));
          },
        });
      }
      new Gauge({
        name: `orrery_cluster_${side}_devices`,
        help: `${side === 'free' ? 'Free' : 'Allocatable'} devices per cluster and device class.`,
        labelNames: ['cluster', 'device_class'],
        registers,
        collect() {
          this.reset();
          for (const c of report()?.clusters ?? []) {
            for (const [cls, d] of Object.entries(c.devices)) this.set({ cluster: c.name, device_class: cls }, side === 'free' ? d.free : d.total);
          }
        },
      });
    }
    new Gauge({
      name: 'orrery_problem_duration_seconds',
      help: "How long each source that keeps failing (the inventory, a member, the Lease, a Placement's writes, workloads a member refuses) has failed.",
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const p of engine()?.problems() ?? []) this.set({ source: p.source }, (now - p.since) / 1000);
      },
    });
    new Gauge({
      name: 'orrery_apply_conflicts',
      help: 'Placements whose objects in a member someone else made (so nothing of theirs is written there), per member.',
      labelNames: ['cluster'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const c of engine()?.conflicts() ?? []) counts.set(c.cluster, (counts.get(c.cluster) ?? 0) + 1);
        for (const [cluster, n] of counts) this.set({ cluster }, n);
      },
    });
    new Gauge({ name: 'orrery_build_info', help: 'Always 1: the version of Orrery and of Node.js.', labelNames: ['version', 'nodejs_version'], registers }).set(
      { version: VERSION, nodejs_version: process.version },
      1,
    );
    collectDefaultMetrics({ register: this.registry });
  }
}
