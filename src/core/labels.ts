// Label selectors over ClusterProfile labels, with the semantics of metav1.LabelSelector:
// every matchLabels pair and every matchExpressions requirement must hold; an empty selector
// matches everything.

import type { LabelSelector, LabelSelectorRequirement } from './model.js';

export function matchesRequirement(labels: Readonly<Record<string, string>>, r: LabelSelectorRequirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && (r.values ?? []).includes(labels[r.key] as string);
    case 'NotIn':
      return !has || !(r.values ?? []).includes(labels[r.key] as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

export function matchesSelector(labels: Readonly<Record<string, string>>, selector: LabelSelector | undefined): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const r of selector.matchExpressions ?? []) {
    if (!matchesRequirement(labels, r)) return false;
  }
  return true;
}

/** The first requirement the labels fail, in selector order, for explanations. */
export function firstUnmatched(labels: Readonly<Record<string, string>>, selector: LabelSelector): string | undefined {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return `${key}=${value}`;
  }
  for (const r of selector.matchExpressions ?? []) {
    if (!matchesRequirement(labels, r)) {
      const values = r.values && r.values.length > 0 ? ` (${r.values.join(', ')})` : '';
      return `${r.key} ${r.operator}${values}`;
    }
  }
  return undefined;
}
