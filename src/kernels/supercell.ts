/**
 * Supercells: TS wrapper of the WASM kernel (assembly/supercell.ts) and the public API
 * `supercell(structure, matrix)`, `minLengthScaling(structure, L)` (the simmate/DDI rule) and
 * `nearCubicSupercellMatrix(structure, L)` (the smallest near-cubic cell with every height >= L).
 *
 * Site order of `supercell` (pymatgen `Structure.make_supercell`'s): for each original site in
 * order, its images at the lattice points of the supercell, the points ordered lexicographically by
 * their integer coordinates (p0, p1, p2) in the original lattice (p2 fastest). For a diagonal matrix
 * (na, nb, nc) site k·na·nb·nc + (i·nb + j)·nc + l is original site k moved by (i, j, l), at
 * fractional coordinates ((f0 + i)/na, (f1 + j)/nb, (f2 + l)/nc), wrapped into [0, 1).
 */
import type { Structure } from '../structure/structure.js';
import { det3, perpendicularHeights } from '../structure/lattice.js';
import { loadKernel, type Arena } from './wasm.js';
import {
  isDiagonalMatrix,
  MAX_MATRIX_ENTRY,
  SUPERCELL_STATUS,
  SupercellStatusError,
  supercellCoordinatesTs,
} from './supercell-ts.js';

export { SupercellStatusError, supercellCoordinatesTs, supercellLatticePointsTs } from './supercell-ts.js';

/** Most sites a supercell may have (the output is held in memory several times over). */
export const MAX_SUPERCELL_SITES = 20_000_000;

export interface SupercellOptions {
  /** `wasm` (default) or the plain-TypeScript twin `ts`. */
  backend?: 'wasm' | 'ts';
}

/**
 * The 9 integers (row-major, rows = new lattice vectors in terms of the old ones) of a scaling
 * given as 3 numbers (diagonal) or 9 numbers. Throws a RangeError naming the value when it is
 * neither, holds a non-integer, or has determinant <= 0.
 */
export function supercellMatrix(matrix: ArrayLike<number>): number[] {
  const what = 'supercell: matrix';
  if (matrix === null || typeof matrix !== 'object' || typeof matrix.length !== 'number') {
    throw new RangeError(`${what} must be 3 numbers (diagonal) or 9 integers (row-major 3×3), got ${String(matrix)}`);
  }
  const v = Array.from(matrix, Number);
  let m: number[];
  if (v.length === 3) m = [v[0]!, 0, 0, 0, v[1]!, 0, 0, 0, v[2]!];
  else if (v.length === 9) m = v;
  else throw new RangeError(`${what} must be 3 numbers (diagonal) or 9 integers (row-major 3×3), got ${v.length} numbers [${v.join(', ')}]`);
  for (const x of v) {
    if (!Number.isInteger(x)) throw new RangeError(`${what} entries must be integers, got ${String(x)} in [${v.join(', ')}]`);
    if (Math.abs(x) > MAX_MATRIX_ENTRY) throw new RangeError(`${what} entries must be at most ${MAX_MATRIX_ENTRY} in magnitude, got ${x} in [${v.join(', ')}]`);
  }
  const det = det3(m);
  if (!(det > 0)) throw new RangeError(`${what} [${m.join(', ')}] has determinant ${det}; it must be > 0 (a left-handed or degenerate scaling is refused)`);
  return m;
}

/** New lattice rows A' = M·A (row i = Σ_j M[i][j]·(row j of A), summed in order j = 0, 1, 2). */
function scaledLattice(m: readonly number[], lattice: ArrayLike<number>): Float64Array {
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i++)
    for (let c = 0; c < 3; c++) out[3 * i + c] = m[3 * i]! * lattice[c]! + m[3 * i + 1]! * lattice[3 + c]! + m[3 * i + 2]! * lattice[6 + c]!;
  return out;
}

/**
 * The supercell of `structure` for `matrix`: 3 numbers (na, nb, nc) for a diagonal scaling, or 9
 * integers row-major with rows = new lattice vectors in terms of the old ones (pymatgen's
 * scaling_matrix); the determinant must be > 0. Oxidation states and site properties are repeated
 * with their sites; `info` is copied. Site order: see the module comment (pymatgen's).
 *
 * ```ts
 * const big = supercell(readStructure('CaF2.cif'), [2, 2, 2]); // 96 sites, a = 10.926 Å
 * ```
 */
export function supercell(structure: Structure, matrix: ArrayLike<number>, options: SupercellOptions = {}): Structure {
  const m = supercellMatrix(matrix);
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'ts') throw new RangeError(`supercell: backend must be 'wasm' or 'ts', got ${String(backend)}`);
  const n = structure.species.length;
  const det = det3(m);
  if (n * det > MAX_SUPERCELL_SITES) {
    throw new RangeError(`supercell: matrix [${m.join(', ')}] would give ${n * det} sites (${n} × ${det}); at most ${MAX_SUPERCELL_SITES} are allowed`);
  }
  const frac = backend === 'wasm' ? supercellFracWasm(structure.frac, m) : supercellCoordinatesTs(structure.frac, m);
  const species = new Array<string>(n * det);
  for (let k = 0, w = 0; k < n; k++) {
    const sp = structure.species[k]!;
    for (let t = 0; t < det; t++) species[w++] = sp;
  }
  let oxi: Float64Array | null = null;
  if (structure.oxidationStates) {
    oxi = new Float64Array(n * det);
    for (let k = 0; k < n; k++) oxi.fill(structure.oxidationStates[k]!, k * det, (k + 1) * det);
  }
  const props: Record<string, unknown[]> = {};
  for (const [key, values] of Object.entries(structure.siteProperties)) {
    const out = new Array<unknown>(n * det);
    for (let k = 0, w = 0; k < n; k++) for (let t = 0; t < det; t++) out[w++] = values[k];
    props[key] = out;
  }
  return { lattice: scaledLattice(m, structure.lattice), species, frac, oxidationStates: oxi, siteProperties: props, info: { ...structure.info } };
}

type DetFn = (matrix: number) => number;
type PointsFn = (matrix: number, points: number, capacity: number) => number;
type CoordsFn = (frac: number, n: number, matrix: number, points: number, npoints: number, out: number, capacity: number) => number;

interface BoundKernel {
  arena: Arena;
  det: DetFn;
  points: PointsFn;
  coords: CoordsFn;
}

let kernel: BoundKernel | null = null;

function bindKernel(): BoundKernel {
  const k = loadKernel('supercell');
  kernel = {
    arena: k.arena,
    det: k.exports['supercellDeterminant'] as DetFn,
    points: k.exports['supercellLatticePoints'] as PointsFn,
    coords: k.exports['supercellCoordinates'] as CoordsFn,
  };
  return kernel;
}

/**
 * Supercell fractional coordinates with the WASM kernel: `frac` (3·n, old cell) → 3·n·det(M), site
 * order and values as {@link supercellCoordinatesTs}. Throws {@link SupercellStatusError} on bad input.
 */
export function supercellFracWasm(frac: ArrayLike<number>, matrix: ArrayLike<number>): Float64Array {
  const k = kernel ?? bindKernel();
  const a = k.arena;
  const n = frac.length / 3;
  a.reset();
  const mPtr = a.alloc(72);
  a.writeF64(mPtr, matrix);
  const det = k.det(mPtr);
  if (det < 0) throw new SupercellStatusError(det, matrix);
  // A diagonal M needs no lattice-point table (the kernel loops over (i, j, l) directly).
  const diagonal = isDiagonalMatrix(matrix);
  const pPtr = diagonal ? 0 : a.alloc(12 * det);
  const fPtr = a.alloc(24 * n);
  const oPtr = a.alloc(24 * n * det);
  a.writeF64(fPtr, frac);
  const np = diagonal ? det : k.points(mPtr, pPtr, det);
  if (np < 0) throw new SupercellStatusError(np, matrix);
  const w = k.coords(fPtr, n, mPtr, pPtr, np, oPtr, n * det);
  if (w < 0) throw new SupercellStatusError(w, matrix);
  return a.copyF64(oPtr, 3 * w);
}

/** The lattice points (3 integers each, pymatgen's order) of the WASM kernel, for tests. */
export function supercellLatticePointsWasm(matrix: ArrayLike<number>): Int32Array {
  const k = kernel ?? bindKernel();
  const a = k.arena;
  a.reset();
  const mPtr = a.alloc(72);
  a.writeF64(mPtr, matrix);
  const det = k.det(mPtr);
  if (det < 0) throw new SupercellStatusError(det, matrix);
  const pPtr = a.alloc(12 * det);
  const np = k.points(mPtr, pPtr, det);
  if (np < 0) throw new SupercellStatusError(np, matrix);
  return a.copyI32(pPtr, 3 * np);
}

/**
 * Python's float floor division `x // y` for x >= 0, y > 0 (CPython's float_floor_div: from fmod,
 * not from the rounded quotient), so 7.0 // a matches simmate/pymatgen to the last case: when x/y
 * rounds up to an integer n but the exact quotient is below n, Python gives n − 1 and so does this.
 */
function pyFloorDiv(x: number, y: number): number {
  const mod = x % y; // ECMAScript % on numbers is C fmod, exact
  let div = (x - mod) / y;
  if (mod !== 0 && y < 0 !== mod < 0) div -= 1;
  if (div === 0) return 0;
  let fl = Math.floor(div);
  if (div - fl > 0.5) fl += 1;
  return fl;
}

/** Lattice vector lengths as pymatgen's `Lattice.abc`: sqrt of ((x² + y²) + z²), not hypot. */
export function latticeLengths(lattice: ArrayLike<number>): [number, number, number] {
  const l = (i: number) => Math.sqrt(lattice[3 * i]! * lattice[3 * i]! + lattice[3 * i + 1]! * lattice[3 * i + 1]! + lattice[3 * i + 2]! * lattice[3 * i + 2]!);
  return [l(0), l(1), l(2)];
}

function checkMinLength(fn: string, minLengthAng: number): void {
  if (typeof minLengthAng !== 'number' || !Number.isFinite(minLengthAng) || !(minLengthAng > 0)) {
    throw new RangeError(`${fn}: minLengthAng must be a positive finite number of Å, got ${String(minLengthAng)}`);
  }
}

/**
 * The simmate/DDI supercell rule: scale_i = floor(L / a_i) + 1 with a_i the lattice vector lengths
 * (Python `L // a_i`, so an axis of exactly L Å is doubled). Every lattice vector of the supercell
 * is then longer than L — which does not bound the perpendicular heights of a skewed cell (see
 * {@link nearCubicSupercellMatrix} for that).
 */
export function minLengthScaling(structure: Structure, minLengthAng: number): [number, number, number] {
  checkMinLength('minLengthScaling', minLengthAng);
  const abc = latticeLengths(structure.lattice);
  return [pyFloorDiv(minLengthAng, abc[0]) + 1, pyFloorDiv(minLengthAng, abc[1]) + 1, pyFloorDiv(minLengthAng, abc[2]) + 1];
}

export interface NearCubicOptions {
  /**
   * Most candidate sublattices examined before giving up with an error (default 2,000,000, a few
   * seconds). Thin cells with a large L need many: the count grows like N³ in the cell count N.
   */
  maxCandidates?: number;
}

/** Relative slack on heights: a height within 1e-9·L below L still counts as >= L (rounding of exact cases). */
const HEIGHT_REL_TOL = 1e-9;

type V3 = [number, number, number];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/**
 * Minkowski reduction of a 3D basis `v` (rows), tracking the integer transform `u` (v = u·v_in).
 * In 3D a basis is Minkowski-reduced when no vector can be shortened by adding ±1 times one or both
 * of the others and the pairwise size-reduction |v_k·v_i| <= |v_i|²/2 holds; such a basis reaches the
 * successive minima (dimension <= 4). Size-reduction first takes the large steps, the ±1 combinations
 * then finish. Each accepted step shortens a vector by a relative 1e-12 at least, so it terminates.
 */
function minkowskiReduce(v: V3[], u: number[][]): void {
  const len2 = v.map((x) => dot(x, x));
  for (let iter = 0; iter < 10000; iter++) {
    let changed = false;
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 3; i++) {
        if (i === k) continue;
        const q = Math.round(dot(v[k]!, v[i]!) / len2[i]!);
        if (q === 0) continue;
        const w: V3 = [v[k]![0] - q * v[i]![0], v[k]![1] - q * v[i]![1], v[k]![2] - q * v[i]![2]];
        const l2 = dot(w, w);
        if (l2 < len2[k]! * (1 - 1e-12)) {
          v[k] = w;
          len2[k] = l2;
          for (let c = 0; c < 3; c++) u[k]![c] = u[k]![c]! - q * u[i]![c]!;
          changed = true;
        }
      }
    }
    for (let k = 0; k < 3; k++) {
      const i = (k + 1) % 3, j = (k + 2) % 3;
      for (const [x, y] of [[1, 1], [1, -1], [-1, 1], [-1, -1]] as const) {
        const w: V3 = [v[k]![0] + x * v[i]![0] + y * v[j]![0], v[k]![1] + x * v[i]![1] + y * v[j]![1], v[k]![2] + x * v[i]![2] + y * v[j]![2]];
        const l2 = dot(w, w);
        if (l2 < len2[k]! * (1 - 1e-12)) {
          v[k] = w;
          len2[k] = l2;
          for (let c = 0; c < 3; c++) u[k]![c] = u[k]![c]! + x * u[i]![c]! + y * u[j]![c]!;
          changed = true;
        }
      }
    }
    if (!changed) return;
  }
}

const SIGNED_PERMUTATIONS: { perm: [number, number, number]; signs: [number, number, number] }[] = (() => {
  const perms: [number, number, number][] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  const out: { perm: [number, number, number]; signs: [number, number, number] }[] = [];
  for (const perm of perms) for (let s = 0; s < 8; s++) out.push({ perm, signs: [s & 1 ? -1 : 1, s & 2 ? -1 : 1, s & 4 ? -1 : 1] });
  return out;
})();

const lexLess = (a: readonly number[], b: readonly number[]) => {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! < b[k]!;
  return false;
};

/**
 * The same sublattice basis with rows permuted and signs flipped (48 choices, determinant kept
 * > 0) so that the trace is largest, then the row-major entries lexicographically smallest: a
 * near-diagonal matrix when one exists (2·I rather than a permuted, negated copy).
 */
function canonicalRows(m: number[]): number[] {
  let best: number[] | null = null;
  let bestTrace = -Infinity;
  for (const { perm, signs } of SIGNED_PERMUTATIONS) {
    const c: number[] = [];
    for (let r = 0; r < 3; r++) for (let col = 0; col < 3; col++) c.push(signs[r]! * m[3 * perm[r]! + col]! + 0);
    if (!(det3(c) > 0)) continue;
    const tr = c[0]! + c[4]! + c[8]!;
    if (best === null || tr > bestTrace || (tr === bestTrace && lexLess(c, best))) {
      best = c;
      bestTrace = tr;
    }
  }
  return best!;
}

/**
 * The smallest supercell (fewest lattice points, i.e. atoms) whose three perpendicular heights are all
 * >= L, as a 9-integer matrix (rows = new vectors in terms of the old ones, determinant > 0).
 *
 * Search: for N = ceil(L³ / V) upwards (a cell with heights >= L has volume >= L³), every sublattice
 * of index N is visited once through its Hermite normal form (rows (a, b, d), (0, c, e), (0, 0, f);
 * a·c·f = N, 0 <= b < c, 0 <= d, e < f). A sublattice's best possible smallest height is 1 / λ3 of its
 * reciprocal lattice (h_i = 1 / |b*_i| and a Minkowski-reduced reciprocal basis reaches the successive
 * minima), so the reciprocal basis is reduced and the real-space basis dual to it is the candidate.
 * The first N with a candidate wins; the diagonal ceil(L / h_i) cell bounds the search, so it always
 * ends. Heights within 1e-9·L below L count as L.
 * Tie-break among candidates of that N: the larger smallest height (nearest to cubic: at fixed volume
 * V >= h1·h2·h3 with equality only for an orthogonal cell), then the smaller sum of squared vector
 * lengths, then the lexicographically smaller matrix; each matrix is first put in the canonical row
 * order of largest trace (so a cubic cell gives n·I).
 */
export function nearCubicSupercellMatrix(structure: Structure, minLengthAng: number, options: NearCubicOptions = {}): number[] {
  checkMinLength('nearCubicSupercellMatrix', minLengthAng);
  const maxCandidates = options.maxCandidates ?? 2_000_000;
  if (!Number.isInteger(maxCandidates) || maxCandidates < 1) {
    throw new RangeError(`nearCubicSupercellMatrix: maxCandidates must be a positive integer, got ${String(maxCandidates)}`);
  }
  const L = minLengthAng;
  const lat = structure.lattice;
  const a0: V3 = [lat[0]!, lat[1]!, lat[2]!], a1: V3 = [lat[3]!, lat[4]!, lat[5]!], a2: V3 = [lat[6]!, lat[7]!, lat[8]!];
  const vol = Math.abs(det3(lat));
  const limit = L * (1 - HEIGHT_REL_TOL);
  const h = perpendicularHeights(lat);
  const diag = h.map((x) => Math.max(1, Math.ceil(L / x)));
  for (let k = 0; k < 3; k++) if (diag[k]! * h[k]! < limit) diag[k]! += 1;
  const nMax = diag[0]! * diag[1]! * diag[2]!;
  const nMin = Math.max(1, Math.min(nMax, Math.ceil((L * L * L) / vol * (1 - 1e-12))));
  const maxDual2 = 1 / (limit * limit);
  let examined = 0;
  for (let N = nMin; N <= nMax; N++) {
    let best: { m: number[]; hmin: number; len2: number } | null = null;
    for (let a = 1; a <= N; a++) {
      if (N % a) continue;
      for (let c = 1; c <= N / a; c++) {
        if ((N / a) % c) continue;
        const f = N / a / c;
        for (let b = 0; b < c; b++)
          for (let d = 0; d < f; d++)
            for (let e = 0; e < f; e++) {
              if (++examined > maxCandidates) {
                throw new RangeError(
                  `nearCubicSupercellMatrix: more than ${maxCandidates} candidate sublattices examined for minLengthAng ${L} without reaching the diagonal bound (${nMax} cells); raise maxCandidates or use minLengthScaling`,
                );
              }
              // Rows of H·A.
              const r0: V3 = [a * a0[0] + b * a1[0] + d * a2[0], a * a0[1] + b * a1[1] + d * a2[1], a * a0[2] + b * a1[2] + d * a2[2]];
              const r1: V3 = [c * a1[0] + e * a2[0], c * a1[1] + e * a2[1], c * a1[2] + e * a2[2]];
              const r2: V3 = [f * a2[0], f * a2[1], f * a2[2]];
              const x01 = cross(r0, r1), x12 = cross(r1, r2), x20 = cross(r2, r0);
              const V = dot(r0, x12);
              // Reciprocal basis (rows dual to r0, r1, r2): r_i · g_j = δ_ij.
              const g: V3[] = [
                [x12[0] / V, x12[1] / V, x12[2] / V],
                [x20[0] / V, x20[1] / V, x20[2] / V],
                [x01[0] / V, x01[1] / V, x01[2] / V],
              ];
              const u = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
              minkowskiReduce(g, u);
              const l2 = Math.max(dot(g[0]!, g[0]!), dot(g[1]!, g[1]!), dot(g[2]!, g[2]!));
              if (l2 > maxDual2) continue;
              // Reduced reciprocal basis = U·G, so the dual real-space basis is U^{-T}·(H·A): M = U^{-T}·H.
              const H = [a, b, d, 0, c, e, 0, 0, f];
              const m = canonicalRows(mul3i(inverseTransposeUnimodular(u), H));
              const newLat = mul3i(m, lat);
              const len2 = dot([newLat[0]!, newLat[1]!, newLat[2]!], [newLat[0]!, newLat[1]!, newLat[2]!]) +
                dot([newLat[3]!, newLat[4]!, newLat[5]!], [newLat[3]!, newLat[4]!, newLat[5]!]) +
                dot([newLat[6]!, newLat[7]!, newLat[8]!], [newLat[6]!, newLat[7]!, newLat[8]!]);
              const hmin = 1 / Math.sqrt(l2);
              if (
                best === null ||
                hmin > best.hmin * (1 + HEIGHT_REL_TOL) ||
                (hmin >= best.hmin * (1 - HEIGHT_REL_TOL) && (len2 < best.len2 * (1 - 1e-12) || (len2 <= best.len2 * (1 + 1e-12) && lexLess(m, best.m))))
              ) {
                best = { m, hmin, len2 };
              }
            }
      }
    }
    if (best) return best.m;
  }
  throw new RangeError(`nearCubicSupercellMatrix: no supercell up to ${nMax} cells has every height >= ${L} Å (a rounding problem in the cell)`);
}

/** Row-major product of two 3×3 matrices (no rounding for integer inputs). */
function mul3i(x: ArrayLike<number>, y: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) out.push(x[3 * i]! * y[j]! + x[3 * i + 1]! * y[3 + j]! + x[3 * i + 2]! * y[6 + j]!);
  return out;
}

/** U^{-T} of an integer matrix with det ±1: adj(U)^T · det(U), an integer matrix. */
function inverseTransposeUnimodular(u: number[][]): number[] {
  const f = [...u[0]!, ...u[1]!, ...u[2]!];
  const d = det3(f);
  // (adj U)^T is the cofactor matrix C with C_ij = cofactor of entry (i, j).
  const cof = [
    f[4]! * f[8]! - f[5]! * f[7]!, f[5]! * f[6]! - f[3]! * f[8]!, f[3]! * f[7]! - f[4]! * f[6]!,
    f[2]! * f[7]! - f[1]! * f[8]!, f[0]! * f[8]! - f[2]! * f[6]!, f[1]! * f[6]! - f[0]! * f[7]!,
    f[1]! * f[5]! - f[2]! * f[4]!, f[2]! * f[3]! - f[0]! * f[5]!, f[0]! * f[4]! - f[1]! * f[3]!,
  ];
  return cof.map((x) => x * d + 0);
}

/** Perpendicular heights (Å) of the supercell `matrix` of `structure`'s lattice. */
export function supercellHeights(structure: Structure, matrix: ArrayLike<number>): [number, number, number] {
  return perpendicularHeights(scaledLattice(supercellMatrix(matrix), structure.lattice));
}

export { SUPERCELL_STATUS };
