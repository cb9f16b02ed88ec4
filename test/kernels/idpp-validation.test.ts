/**
 * Every validation branch of `idpp` and every kernel status, with the message it must carry
 * (naming the option or input and the value received).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { idpp, idppRawWasm, idppRawTs, resolveIdppOptions, IdppGuardError, IDPP_STATUS, type IdppOptions } from '../../src/kernels/idpp.js';
import { pymatgenPairShifts } from '../../src/kernels/idpp-ts.js';
import { loadKernel } from '../../src/kernels/wasm.js';
import { createStructure, type Structure } from '../../src/structure/structure.js';
import { referenceDir } from '../helpers/reference.js';

const caf2 = JSON.parse(readFileSync(join(referenceDir, 'idpp', 'jittered', 'CaF2.json'), 'utf8')) as {
  lattice: number[][];
  hops: { image_species: string[]; start_frac_coords: number[][]; end_frac_coords: number[][] }[];
};
const h0 = caf2.hops[0]!;
const make = (frac: number[][], lattice: number[][] = caf2.lattice, species = h0.image_species) =>
  createStructure({ lattice, species, frac }, { checkOverlap: false });
const start = make(h0.start_frac_coords);
const end = make(h0.end_frac_coords);

function throwsMessage(fn: () => unknown, re: RegExp, type: new (...a: never[]) => Error = RangeError): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

test('option validation names the option and the value', () => {
  const cases: [IdppOptions, RegExp][] = [
    [{ images: 0 }, /^idpp: images must be an integer from 1 to 1000, got 0$/],
    [{ images: 2.5 }, /^idpp: images must be an integer from 1 to 1000, got 2\.5$/],
    [{ images: 1001 }, /^idpp: images must be an integer from 1 to 1000, got 1001$/],
    [{ spring: -1 }, /^idpp: spring must be a finite number >= 0, got -1$/],
    [{ step: 0 }, /^idpp: step must be a positive finite number, got 0$/],
    [{ maxDisplacementAng: Number.NaN }, /^idpp: maxDisplacementAng must be a positive finite number of Å, got NaN$/],
    [{ maxIter: -1 }, /^idpp: maxIter must be an integer >= 0, got -1$/],
    [{ maxIter: 1.5 }, /^idpp: maxIter must be an integer >= 0, got 1\.5$/],
    [{ tol: -1e-5 }, /^idpp: tol must be a finite number >= 0, got -0\.00001$/],
    [{ gtol: Infinity }, /^idpp: gtol must be a finite number >= 0, got Infinity$/],
    [{ minDistanceAng: -0.5 }, /^idpp: minDistanceAng must be a finite number of Å >= 0, got -0\.5$/],
    [{ images: '3' as unknown as number }, /^idpp: images must be an integer from 1 to 1000, got 3$/],
    [{ backend: 'gpu' as 'wasm' }, /^idpp: backend must be 'wasm' or 'ts', got gpu$/],
    [{ species: [] }, /^idpp: species must be a non-empty list of element symbols, got \[\]$/],
    [{ species: 'F' as unknown as string[] }, /^idpp: species must be a non-empty list of element symbols, got "F"$/],
    [{ species: ['F', 'Xx'] }, /^idpp: species: unknown element "Xx"$/],
    [{ species: ['Li', 'Na'] }, /^idpp: species \["Li","Na"\]: none of these elements is in the structure$/],
    [{ tieBreak: 'nearest' as 'pymatgen' }, /^idpp: tieBreak must be 'fractional' or 'pymatgen', got nearest$/],
    [{ tieBreak: 'pymatgen', mic: true }, /^idpp: tieBreak 'pymatgen' interpolates the coordinates as given; it cannot be combined with mic$/],
    [{ mode: 'slow' as 'fast' }, /^idpp: mode must be 'exact' or 'fast', got slow$/],
    [{ mode: 'fast', maxStepAng: 0 }, /^idpp: maxStepAng must be a positive finite number of Å, got 0$/],
    [{ mode: 'fast', tieBreak: 'pymatgen' }, /^idpp: tieBreak 'pymatgen' belongs to the exact mode; the fast mode gives tied pair images equal weight$/],
  ];
  for (const [opts, re] of cases) throwsMessage(() => idpp(start, end, opts), re);
  // Defaults are pymatgen's IDPPSolver.run defaults.
  assert.deepEqual(resolveIdppOptions({}), { mode: 'exact', maxStep: 0.1, nInterior: 5, spring: 5, step: 0.05, maxDisp: 0.05, maxIter: 1000, tol: 1e-5, gtol: 1e-3, minDist: 0.5, mic: false });
  // The fast mode converges further; its own step limit.
  assert.deepEqual(resolveIdppOptions({ mode: 'fast' }), { mode: 'fast', maxStep: 0.1, nInterior: 5, spring: 5, step: 0.05, maxDisp: 0.05, maxIter: 1000, tol: 1e-9, gtol: 1e-5, minDist: 0.5, mic: false });
  assert.throws(() => idppRawWasm([10, 0, 0, 0, 10, 0, 0, 0, 10], [0, 0, 0, 0.5, 0.5, 0.5], [0, 0, 0, 0.6, 0.5, 0.5], [1, 1], resolveIdppOptions({ mode: 'fast' }), ['F', 'F'], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    /^RangeError: idpp: pair images cannot be given in fast mode \(tied images share the weight\)$/);
});

test('endpoint validation: site count, species order, lattice, identical coordinates', () => {
  const fewer = createStructure({ lattice: caf2.lattice, species: h0.image_species.slice(1), frac: h0.end_frac_coords.slice(1) }, { checkOverlap: false });
  throwsMessage(() => idpp(start, fewer), /^idpp: start has 11 sites but end has 10; the endpoints must list the same sites in the same order$/);
  const swapped = [...h0.image_species];
  [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
  throwsMessage(() => idpp(start, make(h0.end_frac_coords, caf2.lattice, swapped)), /^idpp: site 0 is F in start but Ca in end; the endpoints must list the same sites in the same order$/);
  const strained = caf2.lattice.map((r, i) => r.map((v, j) => (i === 2 && j === 2 ? v * 1.001 : v)));
  throwsMessage(() => idpp(start, make(h0.end_frac_coords, strained)), /^idpp: start and end lattices differ \(component 8: 5\.463 vs 5\.468463\d*\); IDPP needs one fixed cell$/);
  // Within pymatgen's Lattice equality (np.allclose) the start lattice is used.
  const close = caf2.lattice.map((r) => r.map((v) => v * (1 + 1e-9)));
  assert.equal(idpp(start, make(h0.end_frac_coords, close), { maxIter: 1 }).iterations, 1);
  throwsMessage(() => idpp(start, make(h0.start_frac_coords)), /^idpp: start and end have identical coordinates; there is no path to relax$/);
  const translated = make(h0.start_frac_coords.map((f, i) => f.map((v, c) => v + (i + c) % 3 - 1)));
  throwsMessage(() => idpp(start, translated, { mic: true }), /^idpp: with mic, end differs from start only by whole lattice vectors per site; there is no path to relax$/);
});

test('kernel statuses: singular lattice and degenerate cells are refused by both backends with the input named', () => {
  const singular: Structure = { ...start, lattice: new Float64Array([5, 0, 0, 0, 5, 0, 0, 0, 0]) };
  const singularEnd: Structure = { ...end, lattice: singular.lattice };
  for (const backend of ['wasm', 'ts'] as const) {
    throwsMessage(() => idpp(singular, singularEnd, { backend }), /^idpp: the lattice is singular or not finite$/);
  }
  // A cell whose a-height is 1/300 Å: the nearest image of two sites lies ~45 000 cells away along a.
  const sheared = [[1, 0, 0], [300, 1, 0], [0, 0, 5]];
  const s = createStructure({ lattice: sheared, species: ['F', 'F'], frac: [[0, 0, 0], [0.1, 0.5, 0.5]] }, { checkOverlap: false });
  const e = createStructure({ lattice: sheared, species: ['F', 'F'], frac: [[0, 0.1, 0], [0.1, 0.5, 0.5]] }, { checkOverlap: false });
  for (const backend of ['wasm', 'ts'] as const) {
    throwsMessage(() => idpp(s, e, { backend }), /^idpp: image 0: the minimum image of atoms 0 \(F\) and 1 \(F\) lies more than 64 cells away \(degenerate cell\)$/);
  }
});

test('kernel statuses: non-finite forces and distances are refused naming the image and atom(s)', () => {
  for (const backend of ['wasm', 'ts'] as const) {
    // An unbounded spring with huge steps: the spring force overflows while distances stay finite.
    assert.throws(() => idpp(start, end, { backend, spring: Number.MAX_VALUE, step: 1e5, maxDisplacementAng: 1e5 }), (e: unknown) => {
      assert.ok(e instanceof IdppGuardError);
      assert.equal(e.kind, 'non-finite');
      assert.equal(e.atomJ, -1);
      assert.match(e.message, /^idpp: image \d: the force on atom \d+ \((Ca|F)\) is not finite \(-?Infinity\)$/);
      return true;
    });
    // Steps of 1e200 Å: the next distances overflow to infinity.
    assert.throws(() => idpp(start, end, { backend, step: 1e200, maxDisplacementAng: 1e200 }), (e: unknown) => {
      assert.ok(e instanceof IdppGuardError);
      assert.equal(e.kind, 'non-finite');
      assert.ok(e.atomJ > e.atomI);
      assert.match(e.message, /^idpp: image \d: atoms \d+ \((Ca|F)\) and \d+ \((Ca|F)\) are at distance Infinity, so the objective is not finite$/);
      return true;
    });
  }
});

test('kernel ABI: a short scratch buffer is a status code, not a trap; oversized runs are refused before allocating', () => {
  const k = loadKernel('idpp');
  const run = k.exports['idpp'] as (...a: number[]) => number;
  const need = (k.exports['idppScratchBytes'] as (n: number, m: number) => number)(11, 5);
  assert.ok(need > 0);
  const a = k.arena;
  a.reset();
  const cell = a.alloc(72), s = a.alloc(24 * 11), e = a.alloc(24 * 11), mov = a.alloc(44), out = a.alloc(24 * 11 * 7), eu = a.alloc(24 * 11), info = a.alloc(32);
  a.writeF64(cell, start.lattice);
  a.writeF64(s, start.frac);
  a.writeF64(e, end.frac);
  a.i32(mov, 11).fill(1);
  const scratch = a.alloc(need);
  assert.equal(run(cell, s, e, 11, 5, mov, 5, 0.05, 0.05, 10, 1e-5, 1e-3, 0.5, 0, scratch, need - 8, out, eu, info), IDPP_STATUS.SCRATCH_TOO_SMALL);
  assert.equal(run(cell, s, e, 11, 5, mov, 5, 0.05, 0.05, 10, 1e-5, 1e-3, 0.5, 0, scratch, need, out, eu, info), 10);
  const p = resolveIdppOptions({});
  const n = 10000;
  const big = new Float64Array(3 * n);
  const moving = new Int32Array(n).fill(1);
  const species = Array<string>(n).fill('F');
  const m11 = new Int32Array(11).fill(1);
  for (const raw of [idppRawWasm, idppRawTs]) {
    throwsMessage(() => raw(start.lattice, big, big, moving, p, species), /^idpp: 10000 sites × 5 images need more than 2 GiB of working memory \(pair tables grow as sites²\)$/);
    // Shapes of the raw arrays.
    throwsMessage(() => raw(start.lattice.subarray(0, 6), start.frac, end.frac, m11, p, start.species), /^idpp: cell must have 9 numbers \(3 rows\), got 6$/);
    throwsMessage(() => raw(start.lattice, start.frac.subarray(0, 31), end.frac, m11, p, start.species), /^idpp: start must hold 3 fractional coordinates per site, got 31 numbers$/);
    throwsMessage(() => raw(start.lattice, new Float64Array(0), new Float64Array(0), [], p, []), /^idpp: start must hold 3 fractional coordinates per site, got 0 numbers$/);
    throwsMessage(() => raw(start.lattice, start.frac, end.frac.subarray(0, 30), m11, p, start.species), /^idpp: end has 30 coordinates but start has 33$/);
    throwsMessage(() => raw(start.lattice, start.frac, end.frac, m11.subarray(0, 10), p, start.species), /^idpp: moving \(10\) and species \(11\) must have one entry per site \(11\)$/);
    const ok = raw(start.lattice, start.frac, end.frac, m11, { ...p, maxIter: 3 }, start.species);
    assert.equal(ok.iterations, 3);
    assert.equal(ok.coords.length, 3 * 11 * 7);
  }
});

test('kernel status: a given pair image that is not a nearest one is refused by both backends, naming image and atoms', () => {
  const p = resolveIdppOptions({ maxIter: 3 });
  const m11 = new Int32Array(11).fill(1);
  const shifts = pymatgenPairShifts(start.lattice, start.frac, end.frac, 11, 5);
  // Image 2 (interior k = 2), pair 0-3 (packed index 2): one cell further along a.
  const bad = Int32Array.from(shifts);
  const q = 3 * (1 * 55 + 2);
  bad[q] = bad[q]! + 1;
  for (const raw of [idppRawWasm, idppRawTs]) {
    const ok = raw(start.lattice, start.frac, end.frac, m11, p, start.species, shifts);
    assert.equal(ok.iterations, 3);
    throwsMessage(() => raw(start.lattice, start.frac, end.frac, m11, p, start.species, bad),
      /^idpp: image 2: the given periodic image of atoms 0 \(F\) and 3 \((Ca|F)\) is \d+(\.\d+)? Å away, not a nearest one$/);
    throwsMessage(() => raw(start.lattice, start.frac, end.frac, m11, p, start.species, shifts.subarray(1)),
      /^idpp: shifts must hold 3 integers per interior image and pair \(825\), got 824$/);
  }
  assert.equal(IDPP_STATUS.SHIFT_NOT_NEAREST, -6);
});

test('kernel status: in fast mode a straight path that passes an atom between the images is refused by both backends, naming the atoms, distance and place', () => {
  // F moves 8 Å along x; a static Mg sits 0.005 Å off the line a quarter of the way, 0.67 Å or more
  // from every straight-line image, so only the check between the images sees it.
  const lattice = [[10, 0, 0], [0, 10, 0], [0, 0, 10]];
  const species = ['F', 'Mg', 'F'];
  const s = make([[0.1, 0.5, 0.5], [0.3, 0.5005, 0.5], [0.5, 0.1, 0.1]], lattice, species);
  const e = make([[0.9, 0.5, 0.5], [0.3, 0.5005, 0.5], [0.5, 0.1, 0.1]], lattice, species);
  for (const backend of ['wasm', 'ts'] as const) {
    assert.throws(() => idpp(s, e, { mode: 'fast', minDistanceAng: 0.01, backend }), (err: unknown) => {
      assert.ok(err instanceof IdppGuardError, String(err));
      assert.equal(err.kind, 'too-close');
      assert.equal(err.image, -1);
      assert.deepEqual([err.atomI, err.atomJ], [0, 1]);
      assert.ok(Math.abs(err.value - 0.005) < 1e-9, String(err.value));
      assert.match(err.message, /^idpp: the straight path brings atoms 0 \(F\) and 1 \(Mg\) within 0\.00500000 Å of each other \(at 25\.0 % of the way, between images\), closer than minDistanceAng = 0\.01 Å/);
      return true;
    }, backend);
    // Further from the line than minDistanceAng: relaxed; the exact mode checks only the images.
    assert.ok(idpp(s, e, { mode: 'fast', minDistanceAng: 0.004, backend }).images.length === 7);
    assert.ok(idpp(s, e, { minDistanceAng: 0.01, backend }).images.length === 7);
  }
});
