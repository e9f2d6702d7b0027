// What one Pod costs a node, as the Kubernetes scheduler charges it: for every resource, the
// larger of the app containers (with the restartable init "sidecar" containers beside them) and
// the peak of the init sequence, plus the Pod's overhead. The one rule for the placements the
// core places and the Pods the fleet reader finds in members.

import type { PodSpec, ResourceList } from './model.js';
import { parseMilli, parseUnits } from './quantity.js';
import { type Path, type Result, err, formatPath, ok } from './result.js';

export interface PodCost {
  /** milli-CPU */
  readonly cpu: number;
  /** bytes */
  readonly memory: number;
  /** every other resource requested (extended resources such as nvidia.com/gpu, ephemeral-storage), in units */
  readonly others: ReadonlyMap<string, number>;
}

type Amounts = Map<string, number>;

/** A container's requests by resource: CPU in milli-units, the rest in units. */
function amounts(list: ResourceList | undefined, path: Path): Result<Amounts> {
  const out: Amounts = new Map();
  for (const [name, v] of Object.entries(list ?? {})) {
    if (v === undefined) continue;
    const r = name === 'cpu' ? parseMilli(v) : parseUnits(v);
    if (!r.ok) return err(r.error.code, `${formatPath([...path, name])}: ${r.error.message}`, [...path, name]);
    out.set(name, r.value);
  }
  return ok(out);
}

function add(to: Amounts, more: Amounts): void {
  for (const [k, v] of more) to.set(k, (to.get(k) ?? 0) + v);
}

function atLeast(to: Amounts, other: Amounts): void {
  for (const [k, v] of other) to.set(k, Math.max(to.get(k) ?? 0, v));
}

export function podCost(spec: PodSpec, path: Path = ['spec', 'template', 'spec', 'template', 'spec']): Result<PodCost> {
  const app: Amounts = new Map();
  for (const [i, c] of spec.containers.entries()) {
    const r = amounts(c.resources?.requests, [...path, 'containers', i, 'resources', 'requests']);
    if (!r.ok) return r;
    add(app, r.value);
  }
  // Sidecars run beside everything after them; a plain init container runs alone beside the sidecars before it.
  const sidecars: Amounts = new Map();
  const initPeak: Amounts = new Map();
  for (const [i, c] of (spec.initContainers ?? []).entries()) {
    const r = amounts(c.resources?.requests, [...path, 'initContainers', i, 'resources', 'requests']);
    if (!r.ok) return r;
    if (c.restartPolicy === 'Always') {
      add(sidecars, r.value);
      atLeast(initPeak, sidecars);
    } else {
      const during = new Map(sidecars);
      add(during, r.value);
      atLeast(initPeak, during);
    }
  }
  add(app, sidecars);
  atLeast(app, initPeak);
  const overhead = amounts(spec.overhead, [...path, 'overhead']);
  if (!overhead.ok) return overhead;
  add(app, overhead.value);
  const others = new Map([...app].filter(([k]) => k !== 'cpu' && k !== 'memory'));
  return ok({ cpu: app.get('cpu') ?? 0, memory: app.get('memory') ?? 0, others });
}
