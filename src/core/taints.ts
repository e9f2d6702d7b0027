// Taints and tolerations with the semantics of the Kubernetes core API, applied to clusters.

import type { Taint, Toleration, TaintEffect } from './model.js';

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== taint.effect) return false;
  // An empty key with Exists tolerates every taint.
  if (t.key === undefined || t.key === '') return (t.operator ?? 'Equal') === 'Exists';
  if (t.key !== taint.key) return false;
  if ((t.operator ?? 'Equal') === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function isTolerated(taint: Taint, tolerations: readonly Toleration[] | undefined): boolean {
  return (tolerations ?? []).some((t) => tolerates(t, taint));
}

/** Taints of the given effects that no toleration covers. */
export function untolerated(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined, effects: readonly TaintEffect[]): Taint[] {
  return taints.filter((taint) => effects.includes(taint.effect) && !isTolerated(taint, tolerations));
}
