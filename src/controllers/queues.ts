// Work queues of keys, as controllers keep them: a key stands for "look at this object again",
// so a key added many times before it is worked on is worked on once, with whatever is wanted by
// then. One queue a member keeps a slow or dead member from holding up the others.

/**
 * Keys worked on at most `concurrency` at a time, in the order first added. A key added while
 * waiting is not added twice; one added while being worked on is worked on again afterwards, so
 * two workers never hold the same key.
 */
export class KeyedQueue {
  private readonly waiting = new Set<string>();
  private readonly waitingLater = new Set<string>();
  private readonly active = new Set<string>();
  private readonly again = new Set<string>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  /** `failed`: what the work threw, which it did not say itself — said there, not dropped */
  constructor(
    private readonly work: (key: string) => Promise<void>,
    private readonly concurrency: number,
    private readonly failed: (key: string, e: unknown) => void,
  ) {}

  /**
   * `later`: after every key added without it, as a periodic re-check of everything should wait
   * behind a change. A key added both ways is worked on as the sooner.
   */
  add(key: string, later = false): void {
    if (this.stopped) return;
    if (this.active.has(key)) this.again.add(key);
    else if (!later) {
      this.waitingLater.delete(key);
      this.waiting.add(key);
    } else if (!this.waiting.has(key)) this.waitingLater.add(key);
    this.pump();
  }

  /** Keys waiting or being worked on. */
  get size(): number {
    return this.waiting.size + this.waitingLater.size + this.active.size;
  }

  /** Resolves once nothing is waiting or being worked on. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what waits; work under way finishes. */
  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    this.waitingLater.clear();
    this.again.clear();
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.waiting.size + this.waitingLater.size > 0) {
      const from = this.waiting.size > 0 ? this.waiting : this.waitingLater;
      const key = from.values().next().value as string;
      from.delete(key);
      this.active.add(key);
      void this.run(key);
    }
    if (this.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.work(key);
    } catch (e) {
      // a throw must not stop the queue
      this.failed(key, e);
    } finally {
      this.active.delete(key);
      if (this.again.delete(key) && !this.stopped) this.waiting.add(key);
      this.pump();
    }
  }
}

/** Keyed queues by name (one a member), made on first use. */
export class QueueSet {
  private readonly queues = new Map<string, KeyedQueue>();

  constructor(
    private readonly work: (queue: string, key: string) => Promise<void>,
    private readonly concurrency: number,
    private readonly failed: (queue: string, key: string, e: unknown) => void,
  ) {}

  add(queue: string, key: string): void {
    let q = this.queues.get(queue);
    if (q === undefined) {
      q = new KeyedQueue(
        (k) => this.work(queue, k),
        this.concurrency,
        (k, e) => this.failed(queue, k, e),
      );
      this.queues.set(queue, q);
    }
    q.add(key);
  }

  /** Keys waiting or being worked on in one queue. */
  size(queue: string): number {
    return this.queues.get(queue)?.size ?? 0;
  }

  async idle(): Promise<void> {
    while ([...this.queues.values()].some((q) => q.size > 0)) await Promise.all([...this.queues.values()].map((q) => q.idle()));
  }

  stop(): void {
    for (const q of this.queues.values()) q.stop();
  }
}
