// The one place that calls the LP library. Everything else builds and reads plain models.

import * as lpSolver from 'javascript-lp-solver';
import type { Model } from 'javascript-lp-solver';

// The package's types describe a CommonJS module while Node loads its ES build: take the
// solver from whichever shape arrives.
const solver = ((lpSolver as unknown as { default?: unknown }).default ?? lpSolver) as {
  Solve(model: Model): unknown;
};

export interface LinearModel {
  /** maximised */
  readonly objective: ReadonlyMap<string, number>;
  /** variable → row → coefficient */
  readonly columns: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly rows: ReadonlyMap<string, { readonly min?: number; readonly max?: number }>;
  readonly integers?: ReadonlySet<string>;
  readonly binaries?: ReadonlySet<string>;
}

export type LinearSolution =
  | { readonly feasible: true; readonly objective: number; readonly values: ReadonlyMap<string, number> }
  | { readonly feasible: false };

const OBJECTIVE = '__objective';

export function solveLinear(m: LinearModel, opts: { readonly timeoutMs?: number } = {}): LinearSolution {
  const variables: Record<string, Record<string, number>> = {};
  for (const [name, column] of m.columns) {
    const v: Record<string, number> = { [OBJECTIVE]: m.objective.get(name) ?? 0 };
    for (const [row, coef] of column) v[row] = coef;
    variables[name] = v;
  }
  const constraints: Model['constraints'] = {};
  for (const [name, b] of m.rows) constraints[name] = { ...b };
  const model: Model = {
    optimize: OBJECTIVE,
    opType: 'max',
    constraints,
    variables,
    ...(m.integers && m.integers.size > 0 ? { ints: Object.fromEntries([...m.integers].map((v) => [v, 1 as const])) } : {}),
    ...(m.binaries && m.binaries.size > 0 ? { binaries: Object.fromEntries([...m.binaries].map((v) => [v, 1 as const])) } : {}),
    ...(opts.timeoutMs !== undefined ? { options: { timeout: opts.timeoutMs } } : {}),
  };
  const r = solver.Solve(model) as { feasible?: boolean; result?: number; [v: string]: unknown };
  if (r.feasible !== true) return { feasible: false };
  const values = new Map<string, number>();
  for (const name of m.columns.keys()) {
    const v = r[name];
    values.set(name, typeof v === 'number' ? v : 0);
  }
  return { feasible: true, objective: typeof r.result === 'number' ? r.result : 0, values };
}
