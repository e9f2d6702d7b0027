// A ClusterReport: what the agent in a member tells the hub of it. One object a member, named
// after its ClusterProfile and in the profile's namespace, written only by that member's agent.
// It carries the member's summary (the snapshot file's capacity fields, so that one reader checks
// both), when the summary was computed, and a heartbeat the agent renews while it runs: a report
// the hub has not seen renewed within its limit is a member that cannot be read.

import { API_VERSION } from '../core/model.js';
import { type Result, fail, formatIssues, ok } from '../core/result.js';
import { checkCapacity } from '../core/validation.js';
import type { ApiClient } from './client.js';
import { MANAGED_BY } from '../names.js';
import { capacityDocument } from './snapshotFile.js';
import type { MemberSummary } from './summary.js';

export const REPORTS = 'clusterreports';

/** How often an agent renews its report when nothing changed. */
export const HEARTBEAT_MS = 20_000;
/** How long the hub waits for a renewal before the member counts as unreadable: three heartbeats. */
export const REPORT_MAX_AGE_MS = 3 * HEARTBEAT_MS;

/** The field manager of the agent's writes on the hub. */
export const AGENT_FIELD_MANAGER = 'orrery-agent';

/** The path of one namespace's reports (every namespace's without one), or of one report. */
export function reportsPath(namespace?: string, name?: string): string {
  const ns = namespace !== undefined ? `/namespaces/${namespace}` : '';
  return `/apis/${API_VERSION}${ns}/${REPORTS}${name !== undefined ? `/${name}` : ''}`;
}

/** Push: the hub writes the member's workloads. Pull: the agent does, from the decisions on the hub. */
export type AgentMode = 'Push' | 'Pull';

/** What an agent in pull mode did with one placement in its member. */
export interface PulledPlacement {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** the Placement's generation it applied */
  readonly generation: number;
  readonly replicas: number;
  readonly readyReplicas: number;
  /** Applied; Conflict (someone else's object stands in the way, nothing written); Failed (the member refused) */
  readonly state: 'Applied' | 'Conflict' | 'Failed';
  readonly message?: string;
  /** replicas whose Pods the member's scheduler has found no room for past the grace */
  readonly stuckReplicas?: number;
}

export interface AgentState {
  readonly version: string;
  readonly mode?: AgentMode;
  /** renewed while the agent runs, changes or not */
  readonly heartbeatTime: string;
  /** why the agent cannot read its member now, while it cannot */
  readonly problem?: string;
  /** in pull mode, why it cannot read the decisions on the hub, or watch what it applied, now */
  readonly pullProblem?: string;
}

export interface ClusterReportObject {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: 'ClusterReport';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion?: string; readonly labels?: Record<string, string> };
  readonly agent: AgentState;
  /** in pull mode: every placement the agent carries out in its member */
  readonly placements?: readonly PulledPlacement[];
  /** absent until the agent has read its member once */
  readonly summary?: ReturnType<typeof capacityDocument> & {
    readonly computedAt: string;
    readonly nodes: number;
    readonly location?: { readonly region?: string; readonly zone?: string };
  };
}

/** A report as the hub reads it. */
export interface Report {
  readonly agent: AgentState;
  /** in pull mode, what the agent did with each placement it carries out; undefined in push mode */
  readonly pulled?: readonly PulledPlacement[];
  readonly summary?: MemberSummary;
  readonly computedAt?: string;
}

/** The report an agent writes for its member (`summary` undefined: not read yet). */
export function reportDocument(name: string, namespace: string, agent: AgentState, summary: MemberSummary | undefined, computedAt: string, pulled?: readonly PulledPlacement[]): ClusterReportObject {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterReport',
    metadata: { name, namespace, labels: { [MANAGED_BY]: AGENT_FIELD_MANAGER } },
    agent,
    ...(pulled !== undefined ? { placements: pulled } : {}),
    ...(summary !== undefined
      ? {
          summary: {
            computedAt,
            nodes: summary.nodes,
            ...(summary.region !== undefined || summary.zone !== undefined
              ? { location: { ...(summary.region !== undefined ? { region: summary.region } : {}), ...(summary.zone !== undefined ? { zone: summary.zone } : {}) } }
              : {}),
            ...capacityDocument(summary),
          },
        }
      : {}),
  };
}

type Raw = { agent?: Partial<AgentState>; summary?: Record<string, unknown>; placements?: unknown };

const STATES = ['Applied', 'Conflict', 'Failed'];

/** The pulled placements of a report, each checked; one that is not well formed is an error. */
function readPulled(v: unknown): Result<PulledPlacement[], string> {
  if (!Array.isArray(v)) return fail('placements: expected a list');
  const out: PulledPlacement[] = [];
  for (const [i, x] of v.entries()) {
    const o = (x ?? {}) as Record<string, unknown>;
    const strings = ['namespace', 'name', 'uid'].every((k) => typeof o[k] === 'string');
    const numbers = ['generation', 'replicas', 'readyReplicas'].every((k) => Number.isInteger(o[k]));
    const stuck = o.stuckReplicas === undefined || Number.isInteger(o.stuckReplicas);
    if (!strings || !numbers || !stuck || !STATES.includes(o.state as string))
      return fail(`placements[${i}]: namespace, name, uid, generation, replicas, readyReplicas and state (${STATES.join(', ')}) are required`);
    out.push(o as unknown as PulledPlacement);
  }
  return ok(out);
}

/** A report read back: checked as a snapshot file's capacity is, every problem named with its field. */
export function readReport(o: unknown): Result<Report, string> {
  const raw = (o ?? {}) as Raw;
  const agent = raw.agent;
  if (typeof agent?.version !== 'string' || typeof agent.heartbeatTime !== 'string' || Number.isNaN(Date.parse(agent.heartbeatTime))) {
    return fail('agent: version and heartbeatTime (a time) are required');
  }
  const mode = agent.mode ?? 'Push';
  if (mode !== 'Push' && mode !== 'Pull') return fail(`agent.mode: expected Push or Pull, got ${String(mode)}`);
  const state: AgentState = {
    version: agent.version,
    heartbeatTime: agent.heartbeatTime,
    mode,
    ...(typeof agent.problem === 'string' ? { problem: agent.problem } : {}),
    ...(typeof agent.pullProblem === 'string' ? { pullProblem: agent.pullProblem } : {}),
  };
  let pulled: PulledPlacement[] | undefined;
  if (mode === 'Pull') {
    const r = readPulled(raw.placements ?? []);
    if (!r.ok) return r;
    pulled = r.value;
  }
  const withPulled = pulled !== undefined ? { pulled } : {};
  if (raw.summary === undefined) return ok({ agent: state, ...withPulled });
  const { computedAt, nodes, location, ...capacity } = raw.summary;
  if (typeof computedAt !== 'string' || typeof nodes !== 'number') return fail('summary: computedAt and nodes are required');
  const checked = checkCapacity(capacity, ['summary']);
  if (!checked.ok) return fail(formatIssues(checked.error));
  const where = (location ?? {}) as { region?: unknown; zone?: unknown };
  const summary: MemberSummary = {
    ...checked.value,
    nodes,
    ...(typeof where.region === 'string' ? { region: where.region } : {}),
    ...(typeof where.zone === 'string' ? { zone: where.zone } : {}),
  };
  return ok({ agent: state, summary, computedAt, ...withPulled });
}

/** How a member's capacity is read: from its agent's ClusterReport, or from the member itself. */
export type ReadWay = 'agent' | 'direct';

/** Whether the hub serves ClusterReports (an older install may not: then no member has an agent). */
export async function reportsServed(hub: ApiClient): Promise<boolean> {
  const list = await hub.getIfThere<{ resources?: { name: string }[] }>(`/apis/${API_VERSION}`);
  return list?.resources?.some((r) => r.name === REPORTS) === true;
}

/**
 * Why a member read from its report cannot be used (too old, its agent cannot read it, not read
 * yet), or undefined when it can; `ageMs`: how long since the report was last renewed.
 */
export function reportProblem(read: Result<Report, string>, ageMs: number, maxAgeMs: number): string | undefined {
  if (!read.ok) return `its ClusterReport cannot be read: ${read.error}`;
  if (ageMs > maxAgeMs) return `its agent has not reported for ${Math.round(ageMs / 1000)} s (the limit is ${Math.round(maxAgeMs / 1000)} s)`;
  if (read.value.agent.problem !== undefined) return `its agent cannot read it: ${read.value.agent.problem}`;
  if (read.value.summary === undefined) return 'its agent has not read it yet';
  return undefined;
}
