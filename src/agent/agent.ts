// The agent in a member: reads its own member (Nodes, Pods, DRA objects) with the member's own
// identity, works out the member's summary with the function the hub uses, and writes it to the
// hub as the member's ClusterReport: when it changes, at most once per `coalesceMs`, and again
// every `heartbeatMs` so that the hub can tell a quiet member from a gone agent. On the hub it
// needs the right to apply that one object and nothing else.

import { EventEmitter } from 'node:events';
import { retryDelay } from '../backoff.js';
import type { ApiClient } from '../fleet/client.js';
import { MemberMirror } from '../fleet/mirror.js';
import { PullRollout } from './pull.js';
import { AGENT_FIELD_MANAGER, HEARTBEAT_MS, reportDocument, reportsPath } from '../fleet/report.js';
import type { MemberSummary } from '../fleet/summary.js';
import { ProblemLog } from '../problems.js';
import { VERSION } from '../version.js';

export interface AgentOptions {
  /** the member's ClusterProfile on the hub: its name and namespace name the report */
  readonly clusterName: string;
  readonly namespace: string;
  /** how often the report is renewed when nothing changed */
  readonly heartbeatMs?: number;
  /** how long changes are gathered before a report is written */
  readonly coalesceMs?: number;
  readonly log?: (message: string) => void;
  readonly clock?: () => number;
  /** pull mode: the agent also applies its member's share of the decisions */
  readonly pull?: boolean;
  /** in pull mode, how long a replica may wait for room before it is reported stuck */
  readonly pendingGraceMs?: number;
}

export interface AgentEvents {
  /** a report was written: with a new summary (`changed`) or as a heartbeat */
  reported: [{ changed: boolean; summary: MemberSummary | undefined }];
}

export class Agent extends EventEmitter<AgentEvents> {
  private readonly mirror: MemberMirror;
  private readonly pull: PullRollout | undefined;
  private readonly problems: ProblemLog;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** what the last written report said, and when its summary last changed */
  private written: { content: string; at: number } | undefined;
  private computedAt = '';
  private summaryText: string | undefined;
  private failures = 0;
  private writing = false;
  /** when the last report was written (ms), for the coalescing */
  private lastWrite = 0;

  constructor(
    member: ApiClient,
    private readonly hub: ApiClient,
    private readonly opts: AgentOptions,
  ) {
    super();
    this.problems = new ProblemLog(opts.log ?? (() => undefined));
    this.mirror = new MemberMirror(member, () => this.soon());
    if (opts.pull === true) this.pull = new PullRollout(hub, member, opts.clusterName, () => this.soon(), opts.log, opts.pendingGraceMs);
  }

  private now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  start(): void {
    void this.mirror.start();
    this.pull?.start();
    this.soon();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.mirror.stop();
    this.pull?.stop();
  }

  /** Whether the last write to the hub went through. */
  healthy(): boolean {
    return this.written !== undefined && this.failures === 0;
  }

  /** A report soon: after the coalescing wait since the last one, or after `delay` (a heartbeat, a backoff). */
  private soon(delay?: number): void {
    if (this.stopped) return;
    const at = this.now() + (delay ?? Math.max(0, this.lastWrite + (this.opts.coalesceMs ?? 2000) - this.now()));
    // one timer: a change brings a later heartbeat forward, never the other way
    if (this.timer !== undefined && (delay === undefined ? this.due <= at : false)) return;
    if (this.timer) clearTimeout(this.timer);
    this.due = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.report();
      },
      Math.max(0, at - this.now()),
    );
  }

  /** when the pending timer fires (ms) */
  private due = 0;

  /** What the report says now: the summary once every kind is listed, why the member cannot be read, and in pull mode what was carried out. */
  private current() {
    const problem = this.mirror.problem();
    const pullProblem = this.pull?.problem();
    return { summary: this.mirror.synced() ? this.mirror.summary() : undefined, problem, pullProblem, pulled: this.pull?.state() };
  }

  private async report(): Promise<void> {
    if (this.stopped || this.writing) return;
    this.writing = true;
    const now = this.current();
    const { summary, problem, pullProblem, pulled } = now;
    const content = JSON.stringify(now);
    const changed = this.written?.content !== content;
    // when the member itself was last found changed: not moved by the rollout's progress
    const summaryText = JSON.stringify(summary);
    if (summaryText !== this.summaryText) {
      this.summaryText = summaryText;
      this.computedAt = new Date(this.now()).toISOString();
    }
    const { clusterName: name, namespace } = this.opts;
    const agent = {
      version: VERSION,
      heartbeatTime: new Date(this.now()).toISOString(),
      mode: this.pull !== undefined ? ('Pull' as const) : ('Push' as const),
      ...(problem !== undefined ? { problem } : {}),
      ...(pullProblem !== undefined ? { pullProblem } : {}),
    };
    const body = reportDocument(name, namespace, agent, summary, this.computedAt, pulled);
    const source = `ClusterReport ${namespace}/${name} on the hub`;
    try {
      await this.hub.applyOnly(reportsPath(namespace, name), body, AGENT_FIELD_MANAGER);
      this.written = { content, at: this.now() };
      this.failures = 0;
      this.problems.ok(source);
      this.emit('reported', { changed, summary });
    } catch (e) {
      this.failures++;
      this.problems.fail(source, (e as Error).message);
    } finally {
      this.writing = false;
      this.lastWrite = this.now();
    }
    if (this.stopped) return;
    if (this.failures > 0) this.soon(retryDelay(this.failures));
    // changed while it was written: once more; else the next heartbeat
    else if (JSON.stringify(this.current()) !== this.written?.content) this.soon();
    else this.soon(this.opts.heartbeatMs ?? HEARTBEAT_MS);
  }
}
