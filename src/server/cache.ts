// Answers that depend only on the fleet and the placements, cached per engine version and
// request. The version moves with every change, so a cached answer is never stale.

import { LRUCache } from 'lru-cache';

export class AnswerCache {
  private readonly lru = new LRUCache<string, object>({ max: 2000 });

  constructor(private readonly version: () => number) {}

  get<T extends object>(kind: string, request: unknown, compute: () => T): T {
    const key = `${this.version()}|${kind}|${JSON.stringify(request)}`;
    const hit = this.lru.get(key) as T | undefined;
    if (hit !== undefined) return hit;
    const value = compute();
    this.lru.set(key, value);
    return value;
  }

  get size(): number {
    return this.lru.size;
  }
}
