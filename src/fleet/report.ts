// A ClusterReport: what the agent in a member tells the hub of it. One object a member, named
// after its ClusterProfile and in the profile's namespace, written only by that member's agent.
// It carries the member's summary (the snapshot file's capacity fields, so that one reader checks
// both), when the summary was computed, and a heartbeat the agent renews while it runs: a report
// the hub has not seen renewed within its limit is a member that cannot be read.

import { API_VERSION } from '../core/model.js';
import { type Result, fail, formatIssues, ok } from '../core/result.js';
import { checkCapacity } from '../core/validation.js';
import type { ApiClient } from './client.js';
import { capacityDocument } from './snapshotFile.js';
import type { MemberSummary } from './summary.js';

export const REPORTS = 'clusterreports';

/** The field manager of the agent's writes on the hub. */
export const AGENT_FIELD_MANAGER = 'orrery-agent';

/** The path of one namespace's reports (every namespace's without one), or of one report. */
export function reportsPath(namespace?: string, name?: string): string {
  const ns = namespace !== undefined ? `/namespaces/${namespace}` : '';
  return `/apis/${API_VERSION}${ns}/${REPORTS}${name !== undefined ? `/${name}` : ''}`;
}

export interface AgentState {
  readonly version: string;
  /** renewed while the agent runs, changes or not */
  readonly heartbeatTime: string;
  /** why the agent cannot read its member now, while it cannot */
  readonly problem?: string;
}

export interface ClusterReportObject {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: 'ClusterReport';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion?: string; readonly labels?: Record<string, string> };
  readonly agent: AgentState;
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
  readonly summary?: MemberSummary;
  readonly computedAt?: string;
}

/** The report an agent writes for its member (`summary` undefined: not read yet). */
export function reportDocument(name: string, namespace: string, agent: AgentState, summary: MemberSummary | undefined, computedAt: string): ClusterReportObject {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterReport',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'orrery-agent' } },
    agent,
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

type Raw = { agent?: Partial<AgentState>; summary?: Record<string, unknown> };

/** A report read back: checked as a snapshot file's capacity is, every problem named with its field. */
export function readReport(o: unknown): Result<Report, string> {
  const raw = (o ?? {}) as Raw;
  const agent = raw.agent;
  if (typeof agent?.version !== 'string' || typeof agent.heartbeatTime !== 'string' || Number.isNaN(Date.parse(agent.heartbeatTime))) {
    return fail('agent: version and heartbeatTime (a time) are required');
  }
  const state: AgentState = { version: agent.version, heartbeatTime: agent.heartbeatTime, ...(typeof agent.problem === 'string' ? { problem: agent.problem } : {}) };
  if (raw.summary === undefined) return ok({ agent: state });
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
  return ok({ agent: state, summary, computedAt });
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
