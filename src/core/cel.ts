// Device selectors as DRA writes them: CEL expressions over `device` (driver, attributes by
// domain, capacity by domain). One environment for DeviceClass selectors read from members and
// for a Placement's own selectors. Pure computation; an expression that fails does not match.

import { createRequire } from 'node:module';
import type { DeviceAttribute } from './model.js';

/**
 * The CEL library, loaded when a selector is first run: it is about 16 MiB of memory, which an
 * agent in a member without DRA devices (held to a small budget) should not carry.
 */
let cel: typeof import('@bufbuild/cel') | undefined;
function run(expression: string, bindings: never): unknown {
  cel ??= createRequire(import.meta.url)('@bufbuild/cel') as typeof import('@bufbuild/cel');
  return cel.run(expression, bindings);
}

export type DeviceEnvironment = ReadonlyMap<string, unknown>;

/**
 * The `device` a CEL selector sees. Attribute and capacity names are qualified (domain/name);
 * an unqualified one belongs to the driver's domain. Whole numbers are CEL ints.
 */
export function deviceEnvironment(driver: string, attributes: Readonly<Record<string, DeviceAttribute>>, capacity: Readonly<Record<string, string>> = {}): DeviceEnvironment {
  const byDomain = (entries: [string, unknown][]) => {
    const out = new Map<string, Map<string, unknown>>();
    for (const [key, v] of entries) {
      const slash = key.indexOf('/');
      const [domain, name] = slash < 0 ? [driver, key] : [key.slice(0, slash), key.slice(slash + 1)];
      let m = out.get(domain);
      if (m === undefined) out.set(domain, (m = new Map()));
      m.set(name, v);
    }
    return out;
  };
  const attrs = Object.entries(attributes).map(([k, v]): [string, unknown] => [k, typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v]);
  return new Map<string, unknown>([
    ['driver', driver],
    ['attributes', byDomain(attrs)],
    ['capacity', byDomain(Object.entries(capacity))],
  ]);
}

/** Whether every expression holds for the device; an error (answered or thrown) is no match. */
export function matchesAll(device: DeviceEnvironment, expressions: readonly string[]): boolean {
  for (const expression of expressions) {
    let r: unknown;
    try {
      r = run(expression, { device } as never);
    } catch {
      return false;
    }
    if (r !== true) return false;
  }
  return true;
}

/** Whether an expression compiles, for validation: the error text when it does not. */
export function selectorProblem(expression: string): string | undefined {
  const probe = deviceEnvironment('example.com', {});
  let r: unknown;
  try {
    // The library answers an error as its result (and may throw one).
    r = run(expression, { device: probe } as never);
  } catch (e) {
    r = e;
  }
  if (!(r instanceof Error)) return undefined;
  // Missing attributes are fine here: the probe device has none. Syntax errors are the author's.
  const message = r.message.replace(/^<input>:/, '');
  return /field not found|no such key/i.test(message) ? undefined : message;
}
