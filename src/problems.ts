// What keeps failing, said out loud: each source (the hub's inventory, a member, the Lease, one
// Placement's writes) reports its state after every attempt. A failure is logged when it starts,
// again at most every `repeatMs` while it lasts (with how long it has lasted), and once when it
// clears. The current problems are kept for /readyz and the metrics.

export interface Problem {
  readonly source: string;
  readonly message: string;
  /** ms since the epoch */
  readonly since: number;
}

/**
 * Where a source's state after an attempt is said: in the problem log when there is one (which
 * logs it as it starts, lasts and clears), else a failure is logged as it happens.
 */
export function reporter(problems: ProblemLog | undefined, log: ((message: string) => void) | undefined): (source: string, problem: string | undefined) => void {
  return (source, problem) => {
    if (problems !== undefined) problems.report(source, problem);
    else if (problem !== undefined) log?.(`${source}: ${problem}`);
  };
}

export class ProblemLog {
  private readonly open = new Map<string, Problem & { loggedAt: number }>();

  constructor(
    private readonly log: (message: string) => void,
    private readonly clock: () => number = Date.now,
    private readonly repeatMs = 30_000,
  ) {}

  /** A failed attempt at `source`, with its cause. */
  fail(source: string, message: string): void {
    const now = this.clock();
    const known = this.open.get(source);
    if (known === undefined) {
      this.open.set(source, { source, message, since: now, loggedAt: now });
      this.log(`${source}: ${message}`);
      return;
    }
    const due = now - known.loggedAt >= this.repeatMs;
    if (due || known.message !== message) {
      const seconds = Math.round((now - known.since) / 1000);
      this.log(`${source}: ${message} (failing for ${seconds} s)`);
    }
    this.open.set(source, { source, message, since: known.since, loggedAt: due || known.message !== message ? now : known.loggedAt });
  }

  /** A successful attempt at `source`. */
  ok(source: string): void {
    const known = this.open.get(source);
    if (known === undefined) return;
    this.open.delete(source);
    this.log(`${source}: recovered after ${Math.round((this.clock() - known.since) / 1000)} s`);
  }

  /** The outcome of an attempt at `source`: a failure with its cause, or (no problem) a success. */
  report(source: string, problem: string | undefined): void {
    if (problem === undefined) this.ok(source);
    else this.fail(source, problem);
  }

  /** Forgets a source that is gone, without a word. */
  forget(source: string): void {
    this.open.delete(source);
  }

  current(): Problem[] {
    return [...this.open.values()].map(({ source, message, since }) => ({ source, message, since })).sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }
}
