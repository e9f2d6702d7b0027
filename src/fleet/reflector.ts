// A list-then-watch mirror of one kind of object, as client-go's reflector keeps it: list,
// then watch from the list's resourceVersion; on a dropped watch, watch again; on 410 Gone or
// an error, list again after a backoff that grows to a ceiling. Objects stay plain JSON.

import { request } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { ApiClient } from './client.js';
import { WATCH_RETRY, retryDelay } from '../backoff.js';

export interface Meta {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly uid?: string; readonly resourceVersion?: string };
}

export interface ReflectorEvents<T extends Meta = Meta> {
  /**
   * The store changed: one object (as kept), added, modified or deleted by the watch; or,
   * without one, everything after a list.
   */
  changed(object?: T, deleted?: boolean): void;
  /** a list succeeded (true) or failed (false, with why) */
  health(ok: boolean, why?: string): void;
}

/**
 * What is kept of an object: everything but its managedFields, which are often the larger part
 * of it and which nothing here reads.
 */
function lean<T extends Meta>(o: T): T {
  const meta = o.metadata as { managedFields?: unknown };
  if (meta.managedFields === undefined) return o;
  const { managedFields: _dropped, ...rest } = meta;
  return { ...o, metadata: rest } as T;
}

function keyOf(o: Meta): string {
  return o.metadata.uid ?? `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export class Reflector<T extends Meta> {
  private store = new Map<string, T>();
  /** namespace/name → the store's key, for lookups by name */
  private named = new Map<string, string>();
  /** objects a watch reported deleted, as opposed to ones a relist did not show */
  private readonly deleted = new Set<string>();
  private stopped = false;
  private abort: (() => void) | undefined;
  /** lists and watches failed in a row, for the backoff */
  private failures = 0;
  private listed = false;
  private timer: NodeJS.Timeout | undefined;

  /**
   * `keep` is what of each object is stored (default: all but managedFields): a mirror of every
   * Pod of a member needs only what capacity is made of.
   */
  constructor(
    private readonly client: ApiClient,
    private readonly path: string,
    private readonly events: ReflectorEvents<T>,
    private readonly keep: (o: T) => T = lean,
    /** objects a list page brings: a page of whole Pods is parsed at once before `keep` trims them */
    private readonly pageSize = 500,
  ) {}

  items(): T[] {
    return [...this.store.values()];
  }

  /** One object by its namespace and name, without copying the store. */
  get(namespace: string | undefined, name: string): T | undefined {
    const key = this.named.get(`${namespace ?? ''}/${name}`);
    return key === undefined ? undefined : this.store.get(key);
  }

  private put(o: T, store = this.store, named = this.named): T {
    const key = keyOf(o);
    const kept = this.keep(o);
    store.set(key, kept);
    named.set(`${o.metadata.namespace ?? ''}/${o.metadata.name}`, key);
    return kept;
  }

  /** Whether the store has been filled by a list at least once. */
  synced(): boolean {
    return this.listed;
  }

  /** Whether a watch said this object was deleted (a relist that lacks it says nothing). */
  deletedByWatch(o: Meta): boolean {
    return this.deleted.has(keyOf(o));
  }

  start(): void {
    this.stopped = false;
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.();
  }

  private later(fn: () => void): void {
    if (this.stopped) return;
    this.failures++;
    this.timer = setTimeout(fn, retryDelay(this.failures, WATCH_RETRY));
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    let rv: string;
    try {
      // each page trimmed as it comes; the store is replaced only once the whole list is in
      const store = new Map<string, T>();
      const named = new Map<string, string>();
      rv = await this.client.listPages<T>(this.path, this.pageSize, (items) => {
        for (const o of items) this.put(o, store, named);
      });
      if (this.stopped) return;
      this.store = store;
      this.named = named;
      this.listed = true;
      this.events.health(true);
      this.events.changed();
    } catch (e) {
      if (this.stopped) return;
      this.events.health(false, (e as Error).message);
      this.later(() => void this.relist());
      return;
    }
    this.watch(rv);
  }

  private watch(rv: string): void {
    if (this.stopped) return;
    const sep = this.path.includes('?') ? '&' : '?';
    const url = new URL(`${this.path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(rv)}`, this.client.server);
    const opts: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    let last = rv;
    let failed = false;
    const started = Date.now();
    void this.client.kc.applyToHTTPSOptions(opts).then(() => {
      if (this.stopped) return;
      const req = request(url, opts, (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          res.resume();
          failed = true;
          return;
        }
        // A watch that connects is healthy: reset the backoff.
        this.failures = 0;
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line === '') continue;
            const ev = JSON.parse(line) as { type: string; object: T & { code?: number } };
            if (ev.type === 'ERROR') {
              // 410 Gone and every other error: the resourceVersion is no good, list again.
              failed = true;
              req.destroy();
              return;
            }
            last = ev.object.metadata?.resourceVersion ?? last;
            if (ev.type === 'BOOKMARK') continue;
            const key = keyOf(ev.object);
            if (ev.type === 'DELETED') {
              this.store.delete(key);
              const name = `${ev.object.metadata.namespace ?? ''}/${ev.object.metadata.name}`;
              if (this.named.get(name) === key) this.named.delete(name);
              this.deleted.add(key);
              this.events.changed(this.keep(ev.object), true);
            } else {
              const kept = this.put(ev.object);
              this.deleted.delete(key);
              this.events.changed(kept, false);
            }
          }
        });
      });
      this.abort = () => req.destroy();
      req.on('close', () => {
        if (this.stopped) return;
        // A watch the server ended on schedule resumes at once; a failed one lists again.
        // A watch that ends at once is not one the server ended on schedule.
        if (failed || Date.now() - started < 1000) this.later(() => void this.relist());
        else this.watch(last);
      });
      req.on('error', () => {
        failed = true;
      });
      req.end();
    });
  }
}
