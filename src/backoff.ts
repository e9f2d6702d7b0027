// How long to wait before trying again what failed: doubling with each failure in a row, from a
// first wait to a ceiling, so that a short hiccup is retried at once and a long outage is not
// hammered. One rule for every retry: writes to the hub and to members, lists and watches.

export interface Backoff {
  /** the wait after the first failure, in ms */
  readonly first: number;
  /** the longest wait, in ms */
  readonly most: number;
}

/** A write that failed: a second, doubling to half a minute. */
export const WRITE_RETRY: Backoff = { first: 1000, most: 30_000 };

/** A list or watch that failed: a fifth of a second, doubling to five seconds. */
export const WATCH_RETRY: Backoff = { first: 200, most: 5_000 };

/** The wait before the next try after `failures` failures in a row (1 or more). */
export function retryDelay(failures: number, b: Backoff = WRITE_RETRY): number {
  return Math.min(b.most, b.first * 2 ** Math.min(Math.max(0, failures - 1), 30));
}
