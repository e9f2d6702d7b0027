// Work in queues that run side by side, each at most so many at a time: one queue a member, so
// a slow or dead member holds up only its own work.

export interface Task<T> {
  readonly queue: string;
  readonly run: () => Promise<T>;
}

/**
 * Starts every task at once in its queue; returns one promise per task, in the order given, so
 * that each caller waits for its own tasks only.
 */
export function inQueues<T>(tasks: readonly Task<T>[], perQueue: number): Promise<T>[] {
  const settle: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  const results = tasks.map((_, i) => new Promise<T>((resolve, reject) => (settle[i] = { resolve, reject })));
  const byQueue = new Map<string, number[]>();
  tasks.forEach((t, i) => (byQueue.get(t.queue) ?? byQueue.set(t.queue, []).get(t.queue)!).push(i));
  for (const indices of byQueue.values()) {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < indices.length) {
        const i = indices[next++] as number;
        try {
          settle[i]!.resolve(await tasks[i]!.run());
        } catch (e) {
          settle[i]!.reject(e);
        }
      }
    };
    for (let w = 0; w < Math.min(perQueue, indices.length); w++) void worker();
  }
  return results;
}

/** Runs `f` on every item, at most `limit` at a time; resolves when all are done. */
export async function forEachLimit<T>(items: readonly T[], limit: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await f(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

