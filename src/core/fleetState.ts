// The one way into scheduling. A FleetState is a fleet scheduled: the snapshot, every
// placement's decision in force and what it assigns, to go on from. The hub controller, the
// embedded engine, the CLI and the benchmarks all ask it, so that what the API predicts is what
// the hub carries out:
//   FleetState.start(snapshot, placements)  a full cycle (Steady from `opts.previous` when given)
//   state.cycle(snapshot, placements, ...)   the hub controller's cycle: a step on the same snapshot, a full cycle on a new one
//   state.step(change)                       placements submitted, replaced or removed: one Steady step
//   state.preview(placements)                the decisions a step would make for them, changing nothing
//   state.explain(placement)                 why it went where it did, and why not elsewhere
//   state.occupied()                         the fleet as the schedule leaves it
// Each is one run of the pipeline (pipeline.ts) over what it has to decide.

import type { ScheduleOptions } from './cycle.js';
import type { Job } from './cycle.js';
import { type Decision, type FleetSnapshot, type Placement, type ScheduleResult, compareNames, placementKey, samePlacement, withSpec } from './model.js';
import { type Kept, type RunOutcome, keepEverything, run } from './pipeline.js';
import { type Assignment, keepPrevious, release, take } from './solver/placeOne.js';
import { repackRows } from './solver/packOnNodes.js';
import { type ClusterNodes, packInto } from './nodes.js';
import type { FleetIndex } from './prepare.js';
import { type Issue, type Result, ok } from './result.js';
import { occupiedSnapshot } from './capacity.js';
import { type PlacementExplanation, explainPlacement } from './explain.js';
import { type Holding, type Taken, choosePreemptions } from './preemption.js';
import type { Preemption } from './model.js';
import { counted } from './words.js';

/** What changes in one step: placements submitted (new or replaced) and placements removed. */
export interface Change {
  readonly put?: readonly Placement[];
  readonly remove?: readonly string[];
}

export interface StepOptions extends ScheduleOptions {
  /**
   * Solve every placement again, not only those that can change. The answer is the same (the
   * property tests hold the two to it); this is what the quicker step is checked against.
   */
  readonly everything?: boolean;
}

/** One placement of a scheduled fleet: the object, the job it was last solved as (none if invalid) and what it holds (none if nothing). */
export interface Entry {
  readonly placement: Placement;
  readonly job?: Job;
  readonly assign?: Assignment;
  /**
   * The decision it had before it lost replicas (a shrink, preemption), while what it has is
   * part of that: growing back to that size puts the replicas back where they were.
   */
  readonly tall?: Decision;
}

export type ScheduledExplanation = PlacementExplanation & { readonly decision?: Decision };

/** What one step solved, before it becomes the fleet's state. */
interface Solved {
  readonly outcome: RunOutcome;
  readonly removed: ReadonlySet<string>;
  readonly redo: readonly Placement[];
}

export class FleetState {
  private constructor(
    readonly snapshot: FleetSnapshot,
    readonly fleet: FleetIndex,
    /** by placement key: one entry a placement, so that a step copies one map */
    readonly entries: ReadonlyMap<string, Entry>,
    readonly decisions: ReadonlyMap<string, Decision>,
    /** keys of placements still short of replicas */
    readonly waiting: ReadonlySet<string>,
    /** capacity left after every assignment, summed per cluster */
    readonly free: Float64Array,
    /** each cluster's nodes with every assignment packed onto them */
    readonly nodes: readonly ClusterNodes[],
    /** what the run that made this state decided (every decision, by name) and what it measured */
    readonly result: ScheduleResult,
    /** the options previews and explanations use: those of the run that made this state */
    readonly opts: ScheduleOptions,
    /** the order the run packed replicas onto nodes in: placement key, cluster, replicas */
    readonly packOrder: readonly (readonly [string, string, number])[],
    /** the placements the run that made this state decided anew or removed: every other decision stands as it was */
    readonly touched: ReadonlySet<string>,
    /**
     * Placements still short that took room by preemption in the run that made this state: with
     * a fresh disruption budget the next step, they may take more. Every other placement that
     * waits was offered preemption already, and a step that only adds or grows placements gives
     * it no new room to take (what a new placement holds was free before); it waits for room back.
     */
    private readonly pressing: ReadonlySet<string> = new Set(),
  ) {}

  /** A full cycle over every placement on the snapshot: Steady from `opts.previous`, when given. */
  static start(snapshot: FleetSnapshot, placements: readonly Placement[], opts: ScheduleOptions = {}): FleetState {
    const first = run({ snapshot, placements, opts, keep: keepEverything, count: (n) => n });
    // Only what was kept from before can stand in a higher priority's way: from scratch, the
    // highest tier is placed first and nothing is preempted.
    const previous = opts.previous;
    const outcome =
      previous === undefined
        ? first
        : preempting(first, new Map(), [], (taken) =>
            run({ snapshot, placements, opts: { ...opts, previous: previous.map((d) => lessTaken(d, taken, first.cycle.ctx.fleet)) }, keep: keepEverything, count: (n) => n }),
          );
    const entries = new Map<string, Entry>();
    for (const p of placements) {
      const key = placementKey(p);
      const x = outcome.solved.get(key);
      if (entries.has(key) || x === undefined) continue;
      entries.set(key, { placement: p, ...(x.job !== undefined ? { job: x.job, ...(x.assign !== undefined ? { assign: x.assign } : {}) } : {}) });
    }
    // what the state goes on with: the decisions in force are its own from now on
    const { previous: _given, ...kept } = opts;
    const decisions = [...outcome.solved.values()].map((x) => x.decision).sort((a, b) => compareNames(a.placement, b.placement));
    return new FleetState(
      snapshot,
      outcome.cycle.ctx.fleet,
      entries,
      new Map(decisions.map((d) => [d.placement, d])),
      new Set(decisions.filter((d) => d.unscheduledReplicas > 0).map((d) => d.placement)),
      outcome.free,
      outcome.nodes,
      { decisions, stats: outcome.stats },
      kept,
      outcome.packOrder,
      new Set(entries.keys()),
      pressingIn(outcome.solved),
    );
  }

  /**
   * The hub controller's cycle. While the fleet is the one this state was made on, the Steady
   * step to `placements`: the very step a preview takes, so what-if and the controller agree.
   * On another snapshot, or when the decisions in force are no longer what this state holds
   * (`fresh`: replicas could not start, or someone else's objects stand where they would go), a
   * full cycle, Steady from `previous`.
   */
  cycle(snapshot: FleetSnapshot, placements: readonly Placement[], previous: readonly Decision[], opts: ScheduleOptions & { readonly fresh?: boolean } = {}): FleetState {
    const { fresh, ...rest } = opts;
    if (snapshot === this.snapshot && fresh !== true) return this.step(this.changeTo(placements), rest);
    return FleetState.start(snapshot, placements, { ...rest, previous }).withTall(this.entries);
  }

  /** This state with what `before` remembered of the placements' sizes, where it still holds. */
  private withTall(before: ReadonlyMap<string, Entry>): FleetState {
    let entries: Map<string, Entry> | undefined;
    for (const [key, e] of this.entries) {
      const tall = before.get(key)?.tall;
      const d = this.decisions.get(key);
      if (tall === undefined || d === undefined || !within(d, tall)) continue;
      entries ??= new Map(this.entries);
      entries.set(key, { ...e, tall });
    }
    if (entries === undefined) return this;
    return new FleetState(this.snapshot, this.fleet, entries, this.decisions, this.waiting, this.free, this.nodes, this.result, this.opts, this.packOrder, this.touched, this.pressing);
  }

  /**
   * One Steady step from the decisions in force, on the snapshot they were made on. Replicas
   * that stay stay on their nodes; a placement that is new or changed is placed from what it
   * keeps; one that waits is placed again when a cluster it may use gets room back; in priority
   * tiers, as a full cycle does. A placement that is unchanged and has all its replicas takes no
   * part: its decision stands as it was. `opts` go over this state's options, and stay with the next.
   */
  step(change: Change, opts: StepOptions = {}): FleetState {
    const { everything: _all, ...kept } = { ...this.opts, ...opts };
    const { outcome, removed, redo } = this.solve(change, { ...this.opts, ...opts });
    const entries = new Map(this.entries);
    const decisions = new Map(this.decisions);
    const waiting = new Set(this.waiting);
    for (const key of removed) {
      entries.delete(key);
      decisions.delete(key);
      waiting.delete(key);
    }
    const redone = new Map(redo.map((p) => [placementKey(p), p]));
    for (const [key, x] of outcome.solved) {
      const tall = tallAfter(this.decisions.get(key), this.entries.get(key)?.tall, x.decision);
      entries.set(key, {
        placement: redone.get(key) as Placement,
        ...(x.job !== undefined ? { job: x.job, ...(x.assign !== undefined ? { assign: x.assign } : {}) } : {}),
        ...(tall !== undefined ? { tall } : {}),
      });
      decisions.set(key, x.decision);
      if (x.decision.unscheduledReplicas > 0) waiting.add(key);
      else waiting.delete(key);
    }
    const touched = new Set([...removed, ...outcome.solved.keys()]);
    return new FleetState(
      this.snapshot,
      this.fleet,
      entries,
      decisions,
      waiting,
      outcome.free,
      outcome.nodes,
      { decisions: [...decisions.values()], stats: outcome.stats },
      kept,
      outcome.packOrder,
      touched,
      pressingIn(outcome.solved),
    );
  }

  /**
   * The decisions the next step would make for `extra` placements beside this state's own,
   * changing nothing: what-if. An extra one with a key the state has replaces it.
   */
  preview(extra: readonly Placement[]): Decision[] {
    // A placement from outside (a what-if body) may carry the uid and generation of one in force
    // with another spec: only the very object in force counts as unchanged.
    const asked = extra.map((p) => (this.entries.get(placementKey(p))?.placement === p ? p : withSpec(p, p.spec)));
    const { outcome } = this.solve({ put: asked }, this.opts);
    // An extra placement that is one the state has, unchanged, is not solved: its decision stands.
    return extra.map((p) => (outcome.solved.get(placementKey(p))?.decision ?? this.decisions.get(placementKey(p))) as Decision);
  }

  /**
   * Why a placement went where it did: filters against the fleet as the schedule leaves it, less
   * the placement's own replicas; scores as the solver gave them on the snapshot it scheduled,
   * with the decisions in force as the previous ones. The API and the CLI both answer with this.
   */
  explain(placement: Placement): Result<ScheduledExplanation, Issue> {
    const key = placementKey(placement);
    const room = this.roomWithout(new Set([key]));
    const now = occupiedSnapshot(this.fleet, room.free, room.nodes);
    const e = explainPlacement(now, placement, { ...this.opts, previous: [...this.decisions.values()] }, this.snapshot);
    if (!e.ok) return e;
    const decision = this.decisions.get(key);
    return ok(decision === undefined ? e.value : { ...e.value, decision });
  }

  /** The fleet as the schedule leaves it: what Orrery placed counted as taken, per node too. */
  occupied(): FleetSnapshot {
    return occupiedSnapshot(this.fleet, this.free, this.nodes);
  }

  /** The change that takes this fleet to `placements`. */
  changeTo(placements: readonly Placement[]): Change {
    const keys = new Set<string>();
    const put: Placement[] = [];
    for (const p of placements) {
      const key = placementKey(p);
      if (keys.has(key)) continue;
      keys.add(key);
      if (!this.decisions.has(key) || !samePlacement(this.entries.get(key)?.placement, p)) put.push(p);
    }
    return { put, remove: [...this.decisions.keys()].filter((k) => !keys.has(k)) };
  }

  /**
   * A step's run: what changed, and what waits where room came back, solved from what stays.
   * Every placement still waiting when a cycle or step ends waits for room its rules do not let
   * it have (the last pass of each tried them all), and nothing a step places makes room: it
   * waits on until room comes back.
   */
  private solve(change: Change, opts: StepOptions): Solved {
    const first = this.solveOnce(change, opts);
    // What holds room and is not solved, and what waits without being solved: preemption sees the whole fleet.
    const solvedKeys = new Set(first.redo.map(placementKey));
    const outside: Short[] = [];
    for (const key of this.pressing) {
      if (!this.waiting.has(key)) continue;
      const job = this.entries.get(key)?.job;
      const d = this.decisions.get(key);
      if (solvedKeys.has(key) || first.removed.has(key) || job === undefined || d === undefined) continue;
      outside.push({ job, missing: d.unscheduledReplicas, placed: placedIn(d) });
    }
    // nothing short: nothing to preempt for (the common step, kept cheap)
    if (outside.length === 0 && ![...first.outcome.solved.values()].some((x) => x.decision.unscheduledReplicas > 0)) return first;
    const standing = new Map<string, Holding>();
    for (const [key, { job, assign }] of this.entries) {
      if (!solvedKeys.has(key) && !first.removed.has(key) && job !== undefined && assign !== undefined) standing.set(key, { job, assign });
    }
    let second: Solved | undefined;
    const outcome = preempting(first.outcome, standing, outside, (taken) => {
      second = this.solveOnce(change, opts, taken);
      return second.outcome;
    });
    return outcome === first.outcome || second === undefined ? first : { ...second, outcome };
  }

  /** One run of a step; with `taken`, the victims' replicas taken and victims and preemptors solved again. */
  private solveOnce(change: Change, opts: StepOptions, taken?: Taken): Solved {
    const put = new Map<string, Placement>();
    for (const p of change.put ?? []) if (!put.has(placementKey(p))) put.set(placementKey(p), p);
    // A placement put as it was is no change.
    for (const [key, p] of put) if (this.decisions.has(key) && samePlacement(this.entries.get(key)?.placement, p)) put.delete(key);
    const removed = new Set((change.remove ?? []).filter((k) => this.decisions.has(k) && !put.has(k)));
    // Placements whose replicas preemption takes: solved again from what they keep.
    const victims = new Map<string, Placement>();
    for (const key of taken?.byVictim.keys() ?? []) {
      const e = this.entries.get(key);
      if (e !== undefined && !put.has(key) && !removed.has(key)) victims.set(key, e.placement);
    }
    // What no longer holds gives its room back: placements removed or changed, and victims.
    const gone = new Set([...put.keys(), ...removed, ...victims.keys()]);
    const room = this.roomWithout(gone);
    const freed = [...room.rows];
    // What is solved: what changed, what waits where room came back, and (everything) the rest.
    const redo: Placement[] = [...put.values(), ...victims.values()];
    const again = opts.everything ? [...this.decisions.keys()] : freed.length > 0 ? [...this.waiting] : [];
    // the preemptors, to take the room made for them
    const preemptors = new Set((taken?.records ?? []).map((r) => r.preemptor));
    for (const key of preemptors) {
      const e = this.entries.get(key);
      if (e !== undefined && !gone.has(key)) redo.push(e.placement);
    }
    for (const key of again) {
      if (gone.has(key) || preemptors.has(key)) continue;
      const { job, placement } = this.entries.get(key) as Entry;
      const waits = this.waiting.has(key);
      if (job === undefined || (waits && freed.some((row) => job.eligible[row] === 1)) || (!waits && opts.everything)) redo.push(placement);
    }
    const previous: Decision[] = [];
    for (const p of redo) {
      const key = placementKey(p);
      const d = this.decisions.get(key);
      if (d === undefined) continue;
      // grown back to the size it had before it lost replicas: they go back where they were
      const tall = this.entries.get(key)?.tall;
      const back = tall !== undefined && put.has(key) && p.spec.replicas >= placedIn(tall) && within(d, tall) ? tall : d;
      previous.push(taken === undefined ? back : lessTaken(back, taken, this.fleet));
    }
    const solvedKeys = new Set(redo.map(placementKey));
    const standing: { job: Job; assign: Assignment }[] = [];
    for (const [key, { job, assign }] of this.entries) if (job !== undefined && assign !== undefined && !gone.has(key) && !solvedKeys.has(key)) standing.push({ job, assign });
    const added = [...put.keys()].filter((k) => !this.decisions.has(k)).length;
    const outcome = run({
      snapshot: this.snapshot,
      placements: redo,
      opts: { ...opts, previous },
      keep: (cycle, byTier) => this.keepStanding(cycle.ctx.fleet, byTier, victims.size > 0 ? new Map([...put, ...victims]) : put, room),
      standing,
      count: () => this.decisions.size - removed.size + added,
    });
    return { outcome, removed, redo };
  }

  /**
   * The keep step of a step: a placement solved again unchanged keeps what it has where it is;
   * one new or changed keeps what it had where that still holds, on nodes too.
   */
  private keepStanding(fleet: FleetIndex, byTier: readonly Job[][], put: ReadonlyMap<string, Placement>, room: { free: Float64Array; nodes: ClusterNodes[] }): Kept {
    const dims = fleet.dims.length;
    const { free, nodes } = room;
    const kept = new Map<Job, Assignment>();
    for (const tier of byTier) {
      for (const job of tier) {
        if (!put.has(job.p.key)) {
          const a = this.entries.get(job.p.key)?.assign;
          if (a !== undefined && a.size > 0) kept.set(job, new Map(a));
          continue;
        }
        const k = keepPrevious(job, free, dims, fleet);
        for (const [row, n] of k) {
          if (fleet.clusters[row]?.hold === true) continue;
          const p = packInto(nodes[row] as ClusterNodes, job.p.node, n);
          nodes[row] = p.nodes;
          if (p.placed < n) {
            take(free, row * dims, job.p.demand, p.placed - n);
            if (p.placed === 0) k.delete(row);
            else k.set(row, p.placed);
          }
        }
        if (k.size > 0) kept.set(job, k);
      }
    }
    return { kept, start: { free, nodes }, onNodes: true };
  }

  /** Free capacity, summed and on nodes, as if the replicas of the placements `gone` names were not there; and the rows they leave. */
  private roomWithout(gone: ReadonlySet<string>): { free: Float64Array; nodes: ClusterNodes[]; rows: Set<number> } {
    const free = Float64Array.from(this.free);
    const rows = new Set<number>();
    for (const key of gone) {
      const { job, assign } = this.entries.get(key) ?? {};
      if (job === undefined || assign === undefined) continue;
      release(free, this.fleet.dims.length, job, assign);
      for (const row of assign.keys()) rows.add(row);
    }
    if (rows.size === 0) return { free, nodes: [...this.nodes], rows };
    const staying: { job: Job; assign: Assignment }[] = [];
    for (const [key, { job, assign }] of this.entries) if (job !== undefined && assign !== undefined && !gone.has(key)) staying.push({ job, assign });
    return { free, nodes: repackRows(this.fleet, this.nodes, rows, staying), rows };
  }
}

/** The solved placements still short that took room by preemption: see FleetState.pressing. */
function pressingIn(solved: RunOutcome['solved']): Set<string> {
  const out = new Set<string>();
  for (const [key, x] of solved) {
    if (x.decision.unscheduledReplicas > 0 && (x.decision.preemptions ?? []).some((r) => r.preemptor === key)) out.add(key);
  }
  return out;
}

/** A placement short of replicas: how many it misses and how many it has. */
interface Short {
  readonly job: Job;
  readonly missing: number;
  readonly placed: number;
}

function placedIn(d: Decision): number {
  return d.clusters.reduce((n, c) => n + c.replicas, 0);
}

/** A previous decision less the replicas preemption takes from it. */
function lessTaken(d: Decision, taken: Taken, fleet: FleetIndex): Decision {
  const rows = taken.byVictim.get(d.placement);
  if (rows === undefined) return d;
  const byName = new Map([...rows].map(([row, n]) => [fleet.clusters[row]!.name, n]));
  return { ...d, clusters: d.clusters.map((c) => ({ name: c.name, replicas: c.replicas - (byName.get(c.name) ?? 0) })).filter((c) => c.replicas > 0) };
}

/**
 * A run's outcome with preemption: when placements short of replicas may take room from lower
 * priorities (preemption.ts), the run again with those replicas taken (`again`). The second
 * stands only if every preemptor gains by it; then its decisions say who took what.
 */
function preempting(first: RunOutcome, standing: ReadonlyMap<string, Holding>, outside: readonly Short[], again: (taken: Taken) => RunOutcome): RunOutcome {
  const fleet = first.cycle.ctx.fleet;
  const holdings = new Map<string, Holding>(standing);
  const short: Short[] = [...outside];
  for (const [key, x] of first.solved) {
    if (x.job === undefined) continue;
    if (x.assign !== undefined) holdings.set(key, { job: x.job, assign: x.assign });
    if (x.decision.unscheduledReplicas > 0) short.push({ job: x.job, missing: x.decision.unscheduledReplicas, placed: placedIn(x.decision) });
  }
  if (short.length === 0) return first;
  const taken = choosePreemptions(fleet, first.free, first.nodes, holdings, short);
  if (taken.records.length === 0) return first;
  const second = again(taken);
  const before = new Map(short.map((x) => [x.job.p.key, x.placed]));
  for (const key of new Set(taken.records.map((r) => r.preemptor))) {
    const d = second.solved.get(key)?.decision;
    if (d === undefined || placedIn(d) <= (before.get(key) ?? 0)) return first;
  }
  const solved = new Map(second.solved);
  for (const [key, x] of second.solved) {
    const mine = taken.records.filter((r) => r.preemptor === key || r.victim === key);
    if (mine.length > 0) solved.set(key, { ...x, decision: withPreemptions(x.decision, mine) });
  }
  return { ...second, solved, stats: { ...second.stats, preempted: taken.records.reduce((n, r) => n + r.replicas, 0) } };
}

/** A decision that says what preemption took from it or gave it. */
function withPreemptions(d: Decision, records: readonly Preemption[]): Decision {
  const lost = records.filter((r) => r.victim === d.placement);
  const took = records.filter((r) => r.preemptor === d.placement);
  const said: string[] = [];
  if (lost.length > 0) said.push(`preempted: ${lost.map((r) => `${counted(r.replicas, 'replica')} in ${r.cluster} by ${r.preemptor}`).join(', ')}`);
  if (took.length > 0) said.push(`preempting ${took.map((r) => `${counted(r.replicas, 'replica')} of ${r.victim} in ${r.cluster}`).join(', ')}`);
  const reason = lost.length > 0 && d.unscheduledReplicas > 0 ? 'Preempted' : d.reason;
  return { ...d, reason, message: `${d.message}; ${said.join('; ')}`, preemptions: records };
}

/** Whether every replica of `d` is where `tall` had one. */
function within(d: Decision, tall: Decision): boolean {
  return d.clusters.every((c) => c.replicas <= (tall.clusters.find((x) => x.name === c.name)?.replicas ?? 0));
}

/** What a placement remembers after a step took it from `before` (remembering `tall`) to `now`. */
function tallAfter(before: Decision | undefined, tall: Decision | undefined, now: Decision): Decision | undefined {
  const top = tall ?? before;
  if (top === undefined || !within(now, top) || placedIn(now) >= placedIn(top)) return undefined;
  return top;
}
