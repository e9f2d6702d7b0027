// Label selectors over ClusterProfile labels, with the semantics of metav1.LabelSelector:
// every matchLabels pair and every matchExpressions requirement must hold; an empty selector
// matches everything.

import type { LabelSelector, LabelSelectorRequirement } from './model.js';
import { type Result, err, ok } from './result.js';

export function matchesRequirement(labels: Readonly<Record<string, string>>, r: LabelSelectorRequirement): boolean {
  const has = Object.hasOwn(labels, r.key);
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

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

/**
 * A selector in kubectl's text form: "env=prod,tier!=free,region in (eu,us),gpu,!spot".
 * Errors name the part that could not be read.
 */
export function parseSelector(text: string): Result<LabelSelector> {
  const matchExpressions: LabelSelectorRequirement[] = [];
  // split on commas that are not inside parentheses
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '' || parts.length > 0) parts.push(current);
  for (const raw of parts) {
    const part = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      if (!KEY.test(key)) return err('SelectorInvalid', `"${key}" is not a label key`);
      matchExpressions.push({ key, operator: op === '!=' ? 'NotIn' : 'In', values: [value] });
    } else if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part))) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      if (!KEY.test(key)) return err('SelectorInvalid', `"${key}" is not a label key`);
      const values = list
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (values.length === 0) return err('SelectorInvalid', `"${part}" lists no values`);
      matchExpressions.push({ key, operator: op === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = /^(!?)(\S+)$/.exec(part)) && KEY.test(m[2] as string)) {
      matchExpressions.push({ key: m[2] as string, operator: m[1] === '!' ? 'DoesNotExist' : 'Exists' });
    } else {
      return err('SelectorInvalid', `cannot read "${part}" as a selector requirement`);
    }
  }
  return ok({ matchExpressions });
}
