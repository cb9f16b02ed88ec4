/**
 * LLL reduction (src/structure/lll.ts) against pymatgen's `Lattice.get_lll_reduced_lattice`
 * (test/fixtures/reference/lll, made by scripts/ref/lll_reference.py with pymatgen 2022.11.7):
 * the same integer mapping on every case and the same reduced vectors to 1e-10 Å.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lllReduce } from '../../src/structure/lll.js';
import { det3, mul3 } from '../../src/structure/lattice.js';
import { referenceDir } from '../helpers/reference.js';

interface Case {
  id: string;
  lattice: number[][];
  reduced: number[][];
  mapping: number[][];
}
const ref = JSON.parse(readFileSync(join(referenceDir, 'lll', 'lll_reference.json'), 'utf8')) as { cases: Case[] };

test('the LLL reference covers the structures and skewed random lattices', () => {
  assert.ok(ref.cases.length >= 100);
  assert.ok(ref.cases.filter((c) => c.mapping.flat().some((x, k) => x !== (k % 4 === 0 ? 1 : 0))).length >= 30, 'enough cases where reduction changes the basis');
});

test('lllReduce gives pymatgen\'s mapping and reduced lattice on every reference case', () => {
  for (const c of ref.cases) {
    const r = lllReduce(c.lattice.flat());
    assert.deepEqual(Array.from(r.mapping), c.mapping.flat(), `${c.id}: mapping`);
    const want = c.reduced.flat();
    for (let k = 0; k < 9; k++) assert.ok(Math.abs(r.lattice[k]! - want[k]!) <= 1e-10, `${c.id}: component ${k}: ${r.lattice[k]} vs ${want[k]}`);
  }
});

test('the mapping is unimodular and reproduces the reduced lattice from the input', () => {
  for (const c of ref.cases) {
    const r = lllReduce(c.lattice.flat());
    assert.equal(Math.abs(Math.round(det3(r.mapping))), 1, c.id);
    const back = mul3(r.mapping, c.lattice.flat());
    for (let k = 0; k < 9; k++) assert.ok(Math.abs(back[k]! - r.lattice[k]!) < 1e-9, c.id);
  }
});

test('lllReduce validates its input', () => {
  assert.throws(() => lllReduce([1, 0, 0, 0, 1, 0]), /lattice has 6 numbers, expected 9/);
  assert.throws(() => lllReduce([1, 0, 0, 0, 1, 0, 0, 0, 1], 0.2), /delta must be in \(0.25, 1\], got 0.2/);
  assert.throws(() => lllReduce([1, 0, 0, 2, 0, 0, 0, 0, 1]), /lattice is singular or not finite \(volume 0\)/);
  assert.throws(() => lllReduce([1, 0, 0, 0, NaN, 0, 0, 0, 1]), /lattice is singular or not finite \(volume NaN\)/);
});
