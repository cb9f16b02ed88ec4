/**
 * erfc (W. J. Cody's rational Chebyshev approximations, assembly/lib/erfc.ts and its TS twin
 * src/kernels/erfc.ts) against 60-digit mpmath values (test/fixtures/erfc, made by
 * scripts/ref/erfc_table.py): relative error ≤ 1e-15 on the whole table, -5 ≤ x ≤ 8, which covers
 * every argument the Ewald sums use (√η·r ≤ accf = 5.26 at acc_factor 12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { erfc } from '../../src/kernels/erfc.js';
import { erfcWasm } from '../../src/kernels/ewald.js';
import { fixturesDir } from '../helpers/reference.js';

interface Table {
  x: number[];
  hi: number[];
  lo: number[];
}
const table = JSON.parse(readFileSync(join(fixturesDir, 'erfc', 'erfc-table.json'), 'utf8')) as Table;

/** Relative error of `got` against the exact value hi + lo (got − hi is exact when close). */
function relErr(got: number, k: number): number {
  return Math.abs((got - table.hi[k]!) - table.lo[k]!) / Math.abs(table.hi[k]!);
}

test('the erfc table covers the Ewald range densely', () => {
  assert.ok(table.x.length > 3000);
  assert.ok(table.x.filter((x) => x >= 0 && x <= 5.3).length > 2000);
});

for (const [name, f] of [
  ['TS twin', (xs: number[]) => xs.map(erfc)],
  ['WASM', (xs: number[]) => Array.from(erfcWasm(xs))],
] as const) {
  test(`erfc (${name}) is within 1e-15 relative of mpmath on -5 <= x <= 8`, () => {
    const got = f(table.x);
    let worst = 0, at = NaN;
    for (let k = 0; k < table.x.length; k++) {
      const e = relErr(got[k]!, k);
      if (e > worst) [worst, at] = [e, table.x[k]!];
    }
    assert.ok(worst <= 1e-15, `${name}: worst relative error ${worst} at x = ${at}`);
  });

  test(`erfc (${name}) special values: 0, ±Infinity, NaN, underflow, exact interval ends`, () => {
    const [z, pinf, ninf, nan, big, neg] = f([0, Infinity, -Infinity, NaN, 27, -30]);
    assert.equal(z, 1);
    assert.equal(pinf, 0);
    assert.equal(ninf, 2);
    assert.ok(Number.isNaN(nan!));
    assert.equal(big, 0);
    assert.equal(neg, 2);
    // Both sides of each interval end agree to the table (no jump at the switch of formula).
    for (const edge of [0.46875, 4]) {
      const k = table.x.indexOf(edge);
      assert.ok(k > 0, `table holds ${edge}`);
      for (const kk of [k - 1, k, k + 1]) assert.ok(relErr(f([table.x[kk]!])[0]!, kk) <= 1e-15, `x = ${table.x[kk]}`);
    }
  });
}

test('erfc: WASM and the TS twin agree to 2 ulps (they differ only through exp)', () => {
  const w = erfcWasm(table.x);
  for (let k = 0; k < table.x.length; k++) {
    const t = erfc(table.x[k]!);
    assert.ok(Math.abs(w[k]! - t) <= 4.5e-16 * Math.abs(t), `x = ${table.x[k]}: wasm ${w[k]} ts ${t}`);
  }
});
