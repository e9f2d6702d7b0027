// The one place that calls an LP library. Everything else builds and reads plain models.
//
// javascript-lp-solver answers small models at once but its cost grows far faster than the model
// (measured: 1.7k variables 0.07 s, 6.1k 0.9 s, 18k 35 s) and with its rows as much as its
// variables: it works on a dense tableau (1.3k variables × 1.8k rows: 4.9 s, where HiGHS took
// 0.08 s over 1.9k × 1.8k). HiGHS, compiled to WebAssembly, pays a fixed cost per call and
// scales. Small models and every integer program go to the first, larger relaxations to HiGHS;
// which one answered is counted in the stats.

import * as lpSolver from 'javascript-lp-solver';
import type { Model } from 'javascript-lp-solver';
import * as highsModule from 'highs';
import type { Highs } from 'highs';

// The package's types describe a CommonJS module while Node loads its ES build: take the
// solver from whichever shape arrives.
const jsSolver = ((lpSolver as unknown as { default?: unknown }).default ?? lpSolver) as {
  Solve(model: Model): unknown;
};

// Its types describe the CommonJS build; Node loads the ES build, whose default export is the loader.
const highs = await (highsModule as unknown as { default: () => Promise<Highs> }).default();

export interface LinearModel {
  /** maximised */
  readonly objective: ReadonlyMap<string, number>;
  /** variable → row → coefficient */
  readonly columns: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly rows: ReadonlyMap<string, { readonly min?: number; readonly max?: number }>;
  readonly integers?: ReadonlySet<string>;
  readonly binaries?: ReadonlySet<string>;
}

export type LpLibrary = 'javascript-lp-solver' | 'highs';

export type LinearSolution =
  | { readonly feasible: true; readonly objective: number; readonly values: ReadonlyMap<string, number>; readonly library: LpLibrary }
  | { readonly feasible: false; readonly library: LpLibrary };

export interface SolveLinearOptions {
  readonly timeoutMs?: number;
  /** the library to use; without it, by the model's size */
  readonly library?: LpLibrary;
}

/** Above this many variables, or this many cells of its tableau (variables × rows), a relaxation goes to HiGHS. */
export const SMALL_MODEL = 1500;
export const SMALL_TABLEAU = 500_000;

export function solveLinear(m: LinearModel, opts: SolveLinearOptions = {}): LinearSolution {
  const integral = (m.integers?.size ?? 0) + (m.binaries?.size ?? 0) > 0;
  const small = m.columns.size <= SMALL_MODEL && m.columns.size * m.rows.size <= SMALL_TABLEAU;
  const library = opts.library ?? (integral || small ? 'javascript-lp-solver' : 'highs');
  return library === 'highs' ? solveWithHighs(m, opts.timeoutMs) : solveWithJs(m, opts.timeoutMs);
}

const OBJECTIVE = '__objective';

function solveWithJs(m: LinearModel, timeoutMs: number | undefined): LinearSolution {
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
    ...(timeoutMs !== undefined ? { options: { timeout: timeoutMs } } : {}),
  };
  const r = jsSolver.Solve(model) as { feasible?: boolean; result?: number; [v: string]: unknown };
  if (r.feasible !== true) return { feasible: false, library: 'javascript-lp-solver' };
  const values = new Map<string, number>();
  for (const name of m.columns.keys()) {
    const v = r[name];
    values.set(name, typeof v === 'number' ? v : 0);
  }
  return { feasible: true, objective: typeof r.result === 'number' ? r.result : 0, values, library: 'javascript-lp-solver' };
}

/** The model in CPLEX LP format, the text HiGHS reads. Names are ours and safe in it. */
export function lpFormat(m: LinearModel): string {
  const term = (coef: number, name: string, first: boolean) => {
    const sign = coef < 0 ? '- ' : first ? '' : '+ ';
    return `${sign}${Math.abs(coef)} ${name}`;
  };
  const out: string[] = ['Maximize', ' obj:'];
  let first = true;
  let line = '';
  for (const name of m.columns.keys()) {
    const c = m.objective.get(name) ?? 0;
    line += ` ${term(c, name, first)}`;
    first = false;
    if (line.length > 200) {
      out.push(line);
      line = '';
    }
  }
  if (line !== '') out.push(line);
  const byRow = new Map<string, string[]>();
  for (const [name, column] of m.columns) {
    for (const [row, coef] of column) {
      if (coef === 0) continue;
      const terms = byRow.get(row) ?? byRow.set(row, []).get(row)!;
      terms.push(term(coef, name, terms.length === 0));
    }
  }
  out.push('Subject To');
  for (const [row, b] of m.rows) {
    const terms = byRow.get(row);
    if (terms === undefined) continue;
    const expr = terms.join(' ');
    if (b.min !== undefined && b.max !== undefined && b.min === b.max) out.push(` ${row}: ${expr} = ${b.min}`);
    else {
      if (b.min !== undefined) out.push(` ${row}_lo: ${expr} >= ${b.min}`);
      if (b.max !== undefined) out.push(` ${row}: ${expr} <= ${b.max}`);
    }
  }
  const ints = [...(m.integers ?? [])];
  const bins = [...(m.binaries ?? [])];
  if (ints.length > 0) out.push('General', ` ${ints.join(' ')}`);
  if (bins.length > 0) out.push('Binary', ` ${bins.join(' ')}`);
  out.push('End', '');
  return out.join('\n');
}

function solveWithHighs(m: LinearModel, timeoutMs: number | undefined): LinearSolution {
  const r = highs.solve(lpFormat(m), {
    ...(timeoutMs !== undefined ? { time_limit: timeoutMs / 1000 } : {}),
    output_flag: false,
  });
  // A time limit leaves an answer that is neither proven best nor a bound: none.
  if (r.Status !== 'Optimal') return { feasible: false, library: 'highs' };
  const values = new Map<string, number>();
  for (const name of m.columns.keys()) {
    const col = r.Columns[name] as { Primal?: number } | undefined;
    values.set(name, typeof col?.Primal === 'number' ? col.Primal : 0);
  }
  return { feasible: true, objective: r.ObjectiveValue, values, library: 'highs' };
}
