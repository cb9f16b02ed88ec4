/**
 * numpyDot3 / numpyInv3 / pyMod1 against numpy 1.24.2 + OpenBLAS SSE kernels
 * (test/fixtures/reference/descriptors-notes/numpy-arith.json, made by scripts/ref/descriptors_pymatgen_arith.py):
 * bit for bit, since these last bits decide pymatgen's choice between equally near periodic images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceDir } from '../helpers/reference.js';
import { numpyDot3, numpyInv3, pyMod1 } from '../../src/structure/numpy-arith.js';
import { inv3 } from '../../src/structure/lattice.js';

interface ArithFixture {
  inverses: { m: number[][]; inv: number[][] }[];
  dots: { x: number[]; m: number[][]; y: number[] }[];
}
const fx = JSON.parse(readFileSync(join(referenceDir, 'descriptors-notes', 'numpy-arith.json'), 'utf8')) as ArithFixture;

test('numpyInv3 equals np.linalg.inv bit for bit on 300 random and lattice-like matrices', () => {
  assert.equal(fx.inverses.length, 300);
  let differsFromAdjugate = 0;
  fx.inverses.forEach((e, t) => {
    const m = e.m.flat();
    const got = numpyInv3(m);
    assert.ok(got, `matrix ${t} is invertible`);
    const want = e.inv.flat();
    for (let k = 0; k < 9; k++) assert.equal(got[k], want[k], `matrix ${t} [${m.join(', ')}], element ${k}: ${got[k]} vs numpy ${want[k]}`);
    const adj = inv3(m);
    if (want.some((x, k) => x !== adj[k])) differsFromAdjugate++;
  });
  // The emulation matters: the adjugate formula rounds differently on most of these matrices.
  assert.ok(differsFromAdjugate > 100, `adjugate inverse differs from numpy on ${differsFromAdjugate} of 300`);
});

test('numpyDot3 equals np.dot(x, M) bit for bit on 200 random products', () => {
  assert.equal(fx.dots.length, 200);
  fx.dots.forEach((e, t) => {
    const got = numpyDot3(e.x, e.m.flat());
    for (let j = 0; j < 3; j++) assert.equal(got[j], e.y[j], `product ${t}, component ${j}`);
  });
  const out = [9, 9, 9, 9, 9];
  numpyDot3([1, 2, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1], out, 1);
  assert.deepEqual(out, [9, 1, 2, 3, 9], 'writes at the given offset');
});

test('numpyInv3 returns null for an exactly singular matrix', () => {
  assert.equal(numpyInv3([1, 2, 3, 2, 4, 6, 0, 0, 1]), null);
  assert.throws(() => numpyInv3([1, 2, 3]), /^RangeError: numpyInv3: expected 9 numbers, got 3$/);
});

test("pyMod1 follows Python's float modulo (sign of the divisor, −1e-17 % 1 = 1.0)", () => {
  assert.equal(pyMod1(0.25), 0.25);
  assert.equal(pyMod1(-0.25), 0.75);
  assert.equal(pyMod1(1.75), 0.75);
  assert.equal(pyMod1(-1e-17), 1);
  assert.equal(pyMod1(pyMod1(-1e-17)), 0);
  assert.ok(Object.is(pyMod1(-0), 0) && Object.is(pyMod1(-2), 0), 'zero results are +0');
  assert.equal(pyMod1(1), 0);
});
