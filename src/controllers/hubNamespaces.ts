// The hub's namespaces, as far as the rollout needs them: the Pod Security labels that a
// namespace Orrery creates in a member carries over, so that a team held to `restricted` Pods on
// the hub is held to them in every member too.

import { ApiError, type ApiClient } from '../fleet/client.js';
import { Reflector } from '../fleet/reflector.js';
import { podSecurityLabels } from './ownership.js';

interface NamespaceView {
  readonly metadata: { readonly name: string; readonly uid?: string; readonly resourceVersion?: string; readonly labels?: Readonly<Record<string, string>> };
}

/** What is kept of a namespace: its name and its Pod Security labels. */
function view(o: NamespaceView): NamespaceView {
  const m = o.metadata;
  return {
    metadata: { name: m.name, ...(m.uid !== undefined ? { uid: m.uid } : {}), ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}), labels: podSecurityLabels(m.labels) },
  };
}

export interface HubNamespaceEvents {
  /** a namespace's Pod Security labels changed */
  changed(namespace: string): void;
  health(ok: boolean, why?: string): void;
}

export class HubNamespaces {
  private readonly reflector: Reflector<NamespaceView>;
  /** namespace → its Pod Security labels as last told, to tell a change of them from any other */
  private readonly told = new Map<string, string>();
  private started = false;

  constructor(
    private readonly hub: ApiClient,
    private readonly events: HubNamespaceEvents,
  ) {
    this.reflector = new Reflector<NamespaceView>(hub, '/api/v1/namespaces', { changed: (o) => this.seen(o), health: (ok, why) => events.health(ok, why) }, view);
  }

  stop(): void {
    this.reflector.stop();
  }

  /** The Pod Security labels of a hub namespace: from the watch once it is listed, asked before. */
  async podSecurity(namespace: string): Promise<Record<string, string>> {
    if (!this.started) {
      this.started = true;
      this.reflector.start();
    }
    if (this.reflector.synced()) return { ...(this.reflector.get(undefined, namespace)?.metadata.labels ?? {}) };
    try {
      return podSecurityLabels((await this.hub.get<NamespaceView>(`/api/v1/namespaces/${namespace}`)).metadata.labels);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return {};
      throw e;
    }
  }

  private seen(o: NamespaceView | undefined): void {
    const all = o === undefined ? this.reflector.items() : [o];
    for (const ns of all) {
      const labels = JSON.stringify(Object.entries(ns.metadata.labels ?? {}).sort());
      const before = this.told.get(ns.metadata.name);
      this.told.set(ns.metadata.name, labels);
      if (before !== labels) this.events.changed(ns.metadata.name);
    }
  }
}
