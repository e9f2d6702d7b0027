import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LinearModel, SMALL_TABLEAU, solveLinear } from './lp.js';

/** n variables in a chain: x[i] + x[i+1] ≤ 1 on every link, every x at most 1, maximised. */
function chain(n: number): LinearModel {
  const columns = new Map<string, Map<string, number>>();
  const rows = new Map<string, { max: number }>();
  for (let i = 0; i < n; i++) {
    const col = new Map<string, number>([[`cap${i}`, 1]]);
    rows.set(`cap${i}`, { max: 1 });
    if (i > 0) col.set(`link${i - 1}`, 1);
    if (i < n - 1) {
      col.set(`link${i}`, 1);
      rows.set(`link${i}`, { max: 1 });
    }
    columns.set(`x${i}`, col);
  }
  return { objective: new Map([...columns.keys()].map((v) => [v, 1])), columns, rows };
}

test('a relaxation of few variables but a large tableau goes to HiGHS, and both libraries find its optimum', () => {
  const small = chain(100);
  assert.equal(solveLinear(small).library, 'javascript-lp-solver');
  // fewer variables than the variable limit, more cells than the tableau limit
  const n = 600;
  const large = chain(n);
  assert.ok(large.columns.size * large.rows.size > SMALL_TABLEAU);
  const byDefault = solveLinear(large);
  assert.equal(byDefault.library, 'highs');
  const js = solveLinear(large, { library: 'javascript-lp-solver' });
  assert.ok(byDefault.feasible && js.feasible);
  // every other variable at 1
  assert.ok(Math.abs(byDefault.objective - n / 2) < 1e-6);
  assert.ok(Math.abs(js.objective - n / 2) < 1e-6);
});
