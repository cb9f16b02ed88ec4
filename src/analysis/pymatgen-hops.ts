/**
 * The hop list of pymatgen-analysis-diffusion's `DistinctPathFinder(structure, ion, L, symprec).get_paths()`
 * reproduced step by step, for `findHops(…, { equivalence: 'pymatgen' })`: the same hops, lengths and
 * members reported (the DDI pathway set), apart from the two defects fixed in both modes (below).
 *
 * Its steps, as pymatgen 2022.11.7 and pymatgen-analysis-diffusion (2025-11) run them:
 *  1. the equivalent sites of `SpacegroupAnalyzer(structure, symprec)` (spglib at 5°; ./symops.ts
 *     follows its rules), classes in the order of their lowest site;
 *  2. for the first site of each class of the ion, its neighbours within round(L, 3) + 0.01 Å in the
 *     order pymatgen's cell list (`find_points_in_spheres`) returns them: neighbouring cubes of edge
 *     r in a fixed order, and within a cube the points in reverse order of their listing (by image,
 *     then site); the radius passes through a single-precision float there, as in its Cython code;
 *  3. each neighbour of the ion's element gives a candidate hop (start, midpoint, end), whose class
 *     indices i, e come from the space-group operations (a site is in class c when an operation maps
 *     c's first site onto it within 1e-3 in fractional coordinates). The operations are spglib's, with
 *     each translation component replaced by its closest fraction of denominator ≤ 1000 (pymatgen's
 *     `SpacegroupAnalyzer._get_symmetry`; see {@link pymatgenRounded});
 *  4. a candidate joins the list unless an earlier one with the same i + e (the set's hash) is equal
 *     to it: lengths within 1e-3 Å and one operation mapping each of its three points within 1e-3 (in
 *     fractional coordinates, per component, modulo 1) onto one of the earlier hop's three points;
 *  5. the list sorted by length (stable).
 *
 * Step 4 judges equivalence at 1e-3 inside a group found at symprec 0.1, so in a cell symmetric only
 * within symprec the near-duplicate members of one orbit (lengths ~1e-3 Å apart) stay separate hops;
 * the default mode (./pathfinder.ts) merges them. The two defects fixed here as in the default mode:
 *  - #141: the three points are matched each modulo a lattice vector, independently, so two hops of
 *    equal length with the same start, midpoint and end modulo the lattice but different end images
 *    merge. Here the operation must map the ordered pair of ends including the lattice translation
 *    between them (start→end or end→start), as in the default mode;
 *  - symmetry duplicates in sheared cells: in a supercell whose lattice lacks some of the crystal's
 *    point operations (CaF2 1×1×3 sheared: 6 hops instead of 4), those operations are missing from
 *    the cell's list. Here the operations are the primitive cell's, carried into the cell.
 * The #141 fix only keeps apart candidates DistinctPathFinder merges, the other only merges ones it
 * keeps apart, each where its defect applies; elsewhere the list is DistinctPathFinder's. The
 * operations' translations are those of ./symops.ts (the exact group nearest to the translations
 * found), which can differ from spglib's by an origin shift below 1e-3: in a cell symmetric only to
 * ~1e-3 that decides the 1e-3 test differently (2 of 6210 bundled cases; see
 * test/fixtures/reference/paths/bundled_exceptions.json).
 */
import type { Structure } from '../structure/structure.js';
import type { PrimitiveReduction } from '../structure/symmetry.js';
import { inv3, mul3 } from '../structure/lattice.js';

/** Tolerance of the equivalence test of MigrationHop (fractional coordinates, per component). */
export const PYMATGEN_HOP_SYMPREC = 1e-3;
/** Lengths of equal MigrationHops differ by at most this, Å. */
const PYMATGEN_LENGTH_TOL_ANG = 1e-3;
/** pymatgen's numerical tolerance of the neighbour search (`get_all_neighbors`). */
const NUMERICAL_TOL = 1e-8;

export interface PymatgenNeighbor {
  site: number;
  image: [number, number, number];
  distanceAng: number;
}

/** Python's x % 1 on a double (sign of the divisor): in [0, 1], 1 only by rounding of a tiny negative x. */
function pyMod1(x: number): number {
  const r = x % 1;
  return r !== 0 && r < 0 ? r + 1 : r;
}

/** 3×3 inverse as pymatgen's Cython `matrix_inv` computes it (cofactors over the determinant). */
function cythonInverse(m: ArrayLike<number>): number[] {
  const a = (i: number, j: number) => m[3 * i + j]!;
  const det = a(0, 0) * (a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)) + a(0, 1) * (a(1, 2) * a(2, 0) - a(1, 0) * a(2, 2)) + a(0, 2) * (a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0));
  const inv = new Array<number>(9);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) inv[3 * i + j] = (a((j + 1) % 3, (i + 1) % 3) * a((j + 2) % 3, (i + 2) % 3) - a((j + 2) % 3, (i + 1) % 3) * a((j + 1) % 3, (i + 2) % 3)) / det;
  return inv;
}

/** Row vector times 3×3 matrix, summed in order from 0 (pymatgen's Cython `matmul`). */
function rowTimes(v: ArrayLike<number>, o: number, m: ArrayLike<number>): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let k = 0; k < 3; k++) s += v[o + k]! * m[3 * k + j]!;
    out[j] = s;
  }
  return out;
}

/** Cartesian coordinates of fractional ones as numpy's `dot(frac, matrix)`. */
function cart(f0: number, f1: number, f2: number, L: ArrayLike<number>): [number, number, number] {
  return [f0 * L[0]! + f1 * L[3]! + f2 * L[6]!, f0 * L[1]! + f1 * L[4]! + f2 * L[7]!, f0 * L[2]! + f1 * L[5]! + f2 * L[8]!];
}

/**
 * The neighbours of site `center` within `radiusAng` in the order pymatgen's
 * `Structure.get_neighbors(site, r)` returns them (step 2 of the module comment), the site itself
 * (zero distance) left out. Images are relative to the stored coordinates.
 */
export function pymatgenNeighbors(s: Structure, center: number, radiusAng: number): PymatgenNeighbor[] {
  const L = s.lattice, f = s.frac, n = s.species.length;
  // `float r` in the Cython signature: the radius is rounded to single precision, and so is r².
  const r = Math.fround(radiusAng);
  const r2 = Math.fround(r * r);
  const c = cart(f[3 * center]!, f[3 * center + 1]!, f[3 * center + 2]!, L);
  const vmin = c.map((x) => x - r - NUMERICAL_TOL);
  const vmax = c.map((x) => x + r + NUMERICAL_TOL);
  const inv = cythonInverse(L);
  const allCart = new Float64Array(3 * n);
  for (let l = 0; l < n; l++) allCart.set(cart(f[3 * l]!, f[3 * l + 1]!, f[3 * l + 2]!, L), 3 * l);
  const inCell = new Float64Array(3 * n);
  const correction = new Float64Array(3 * n);
  for (let l = 0; l < n; l++) {
    const fr = rowTimes(allCart, 3 * l, inv);
    const w = fr.map(pyMod1);
    for (let k = 0; k < 3; k++) correction[3 * l + k] = fr[k]! - w[k]!;
    inCell.set(rowTimes(w, 0, L), 3 * l);
  }
  // Images needed along each axis: ceil((r + 0.15) · |b_i| / 2π) with b_i the reciprocal vectors.
  const maxr = [0, 1, 2].map((i) => {
    const a1 = [L[3 * i]!, L[3 * i + 1]!, L[3 * i + 2]!];
    const j = (i + 1) % 3, k = (i + 2) % 3;
    const a2 = [L[3 * j]!, L[3 * j + 1]!, L[3 * j + 2]!], a3 = [L[3 * k]!, L[3 * k + 1]!, L[3 * k + 2]!];
    const cr = [a2[1]! * a3[2]! - a2[2]! * a3[1]!, a2[2]! * a3[0]! - a2[0]! * a3[2]!, a2[0]! * a3[1]! - a2[1]! * a3[0]!];
    const prod = a1[0]! * cr[0]! + a1[1]! * cr[1]! + a1[2]! * cr[2]!;
    const b = cr.map((x) => (2 * Math.PI * x) / prod);
    let sum = 0;
    for (const x of b) sum += x * x;
    return Math.ceil(((r + 0.15) * Math.sqrt(sum)) / (2 * Math.PI));
  });
  const cf = rowTimes(c, 0, inv);
  const lo = [0, 1, 2].map((k) => Math.floor(cf[k]! - maxr[k]! - 1e-8));
  const hi = [0, 1, 2].map((k) => Math.ceil(cf[k]! + maxr[k]! + 1e-8));
  // Points of the images in the box around the centre, in the order the Cython loops list them.
  const pts: number[] = [];
  const ptSite: number[] = [];
  const ptOffset: number[] = [];
  for (let i = lo[0]!; i < hi[0]!; i++) {
    for (let j = lo[1]!; j < hi[1]!; j++) {
      for (let k = lo[2]!; k < hi[2]!; k++) {
        for (let l = 0; l < n; l++) {
          const p = [0, 1, 2].map((m) => i * L[m]! + j * L[3 + m]! + k * L[6 + m]! + inCell[3 * l + m]!);
          if (p[0]! > vmin[0]! && p[0]! < vmax[0]! && p[1]! > vmin[1]! && p[1]! < vmax[1]! && p[2]! > vmin[2]! && p[2]! < vmax[2]!) {
            pts.push(p[0]!, p[1]!, p[2]!);
            ptSite.push(l);
            ptOffset.push(i, j, k);
          }
        }
      }
    }
  }
  const ledge = r < 0.1 ? 0.1 : r;
  const ncube = [0, 1, 2].map((k) => Math.ceil((vmax[k]! - vmin[k]!) / ledge));
  const cubeOf = (p: ArrayLike<number>, o: number) => [0, 1, 2].map((k) => Math.floor((p[o + k]! - vmin[k]! + 1e-8) / ledge));
  const flat = (q: number[]) => q[0]! * ncube[1]! * ncube[2]! + q[1]! * ncube[2]! + q[2]!;
  const np = ptSite.length;
  const head = new Map<number, number>();
  const next = new Int32Array(np).fill(-1);
  for (let q = 0; q < np; q++) {
    const cube = flat(cubeOf(pts, 3 * q));
    next[q] = head.get(cube) ?? -1;
    head.set(cube, q);
  }
  const cc = cubeOf(c, 0);
  const out: PymatgenNeighbor[] = [];
  for (let d0 = -1; d0 <= 1; d0++) {
    for (let d1 = -1; d1 <= 1; d1++) {
      for (let d2 = -1; d2 <= 1; d2++) {
        const q3 = [cc[0]! + d0, cc[1]! + d1, cc[2]! + d2];
        if (q3.some((x, k) => x < 0 || x >= ncube[k]!)) continue;
        for (let q = head.get(flat(q3)) ?? -1; q !== -1; q = next[q]!) {
          let d2s = 0;
          for (let m = 0; m < 3; m++) d2s += (pts[3 * q + m]! - c[m]!) * (pts[3 * q + m]! - c[m]!);
          if (!(d2s < r2 + NUMERICAL_TOL)) continue;
          const l = ptSite[q]!;
          const d = Math.sqrt(d2s);
          // get_all_neighbors drops the centre itself (same species at zero distance).
          if (d <= NUMERICAL_TOL && s.species[l] === s.species[center]) continue;
          const image = [0, 1, 2].map((k) => ptOffset[3 * q + k]! - correction[3 * l + k]!) as [number, number, number];
          out.push({ site: l, image, distanceAng: d });
        }
      }
    }
  }
  return out;
}

/** One hop of the emulated list. */
export interface PymatgenHop {
  start: number;
  end: number;
  image: [number, number, number];
  /** Length as MigrationHop.length computes it (Cartesian difference of the two ends), Å. */
  lengthAng: number;
  /** Class indices of the two ends (MigrationHop.iindex / eindex). */
  iindex: number;
  eindex: number;
}

/** The binary value of a finite double as an exact fraction n/d in lowest terms (d a power of two). */
function exactFraction(x: number): [bigint, bigint] {
  if (x === 0) return [0n, 1n];
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0), lo = buf.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  if (e >= 0) return [sign * (mant << BigInt(e)), 1n];
  // In lowest terms, as Python's Fraction holds it: the denominator is a power of two.
  let shift = BigInt(-e);
  while (shift > 0n && (mant & 1n) === 0n) {
    mant >>= 1n;
    shift -= 1n;
  }
  return [sign * mant, 1n << shift];
}

/**
 * Python's `float(Fraction.from_float(x).limit_denominator(maxDen))`: the closest fraction to the
 * exact binary value of x with a denominator of at most maxDen (on a tie the one the continued
 * fraction reaches last), as pymatgen's SpacegroupAnalyzer rounds the translations of the operations
 * it hands on (`_get_symmetry`). Exact, in BigInt arithmetic.
 */
export function pyLimitDenominator(x: number, maxDen: number): number {
  const [num, den] = exactFraction(x);
  const M = BigInt(maxDen);
  if (den <= M) return x;
  const floorDiv = (a: bigint, b: bigint) => {
    const q = a / b;
    return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
  };
  let p0 = 0n, q0 = 1n, p1 = 1n, q1 = 0n;
  let n = num, d = den;
  for (;;) {
    const a = floorDiv(n, d);
    const q2 = q0 + a * q1;
    if (q2 > M) break;
    [p0, q0, p1, q1] = [p1, q1, p0 + a * p1, q2];
    [n, d] = [d, n - a * d];
  }
  const k = floorDiv(M - q0, q1);
  const b1n = p0 + k * p1, b1d = q0 + k * q1;
  // |p1/q1 − num/den| ≤ |b1n/b1d − num/den|, in integers.
  const abs = (v: bigint) => (v < 0n ? -v : v);
  const e2 = abs(p1 * den - num * q1) * b1d;
  const e1 = abs(b1n * den - num * b1d) * q1;
  return e2 <= e1 ? Number(p1) / Number(q1) : Number(b1n) / Number(b1d);
}

/**
 * The operations as pymatgen hands them to DistinctPathFinder: each translation component replaced
 * by its closest fraction of denominator ≤ 1000, and ±1 by 0 (SpacegroupAnalyzer._get_symmetry). A
 * translation of 0.000624 becomes 1/1000, so in a cell symmetric to ~1e-3 the operation maps sites
 * farther than the 1e-3 of the equivalence test, and such hops stay apart.
 */
export function pymatgenRounded(ops: CellOperations): CellOperations {
  const translations = Float64Array.from(ops.translations, (t) => {
    const r = pyLimitDenominator(t, 1000);
    return Math.abs(r) === 1 ? 0 : r;
  });
  return { count: ops.count, rotations: ops.rotations, translations };
}

/** Whether x and y are within `tol` per fractional component modulo 1 (pymatgen's is_periodic_image). */
function periodicImage(x: ArrayLike<number>, y: ArrayLike<number>, tol: number): boolean {
  for (let k = 0; k < 3; k++) {
    const d = x[k]! - y[k]!;
    if (Math.abs(d - Math.round(d)) > tol) return false;
  }
  return true;
}

/**
 * Affine operations on fractional coordinates of a cell: `rotations` 9 per operation (row-major, real:
 * an operation of the crystal need not map a supercell's lattice onto itself), `translations` 3 per
 * operation.
 */
export interface CellOperations {
  count: number;
  rotations: Float64Array;
  translations: Float64Array;
}

function apply(ops: CellOperations, k: number, x: ArrayLike<number>): [number, number, number] {
  const R = ops.rotations, T = ops.translations, o = 9 * k;
  return [0, 1, 2].map((q) => R[o + 3 * q]! * x[0]! + R[o + 3 * q + 1]! * x[1]! + R[o + 3 * q + 2]! * x[2]! + T[3 * k + q]!) as [number, number, number];
}

/**
 * DistinctPathFinder's hop list for `ion` in `s` within `cutoffAng` (steps 2–5 of the module
 * comment, with the two fixes), in the order the list was built (unsorted). `ops` are all operations
 * of the crystal in the cell's fractional coordinates (the cell's own and, in a sheared supercell,
 * those that do not map its lattice onto itself); `classes` the equivalent sites, pymatgen's order.
 */
export function pymatgenHops(s: Structure, ion: string, cutoffAng: number, allOps: CellOperations, classes: readonly (readonly number[])[], fixes = true): PymatgenHop[] {
  const f = s.frac, L = s.lattice;
  // Without the fixes (for comparisons only): the cell's own operations, pymatgen's three-point test.
  const ops = fixes ? allOps : ownOperations(allOps);
  const fracOf = (i: number): [number, number, number] => [f[3 * i]!, f[3 * i + 1]!, f[3 * i + 2]!];
  const mapsOnto = (from: ArrayLike<number>, to: ArrayLike<number>): boolean => {
    for (let k = 0; k < ops.count; k++) if (periodicImage(apply(ops, k, from), to, PYMATGEN_HOP_SYMPREC)) return true;
    return false;
  };
  // Step 3: the class whose first site an operation maps onto the site at 1e-3 (the last such class,
  // as MigrationHop's loop leaves it); failing that, the first class with any such member.
  const classIndexOf = new Map<number, number>();
  const classIndex = (site: number): number => {
    const hit = classIndexOf.get(site);
    if (hit !== undefined) return hit;
    const x = fracOf(site);
    let found = -1;
    for (let c = 0; c < classes.length; c++) if (mapsOnto(fracOf(classes[c]![0]!), x)) found = c;
    for (let c = 0; found < 0 && c < classes.length; c++) if (classes[c]!.some((m) => mapsOnto(fracOf(m), x))) found = c;
    classIndexOf.set(site, found);
    return found;
  };
  // Step 4 with the #141 fix: one operation maps the ordered ends of `b` (either orientation) onto
  // those of `a`, the same lattice translation at both ends, each point within 1e-3 per component.
  const threePoints = (a: PymatgenHop, b: PymatgenHop): boolean => {
    const pts = (h: PymatgenHop) => {
      const i = fracOf(h.start);
      const e = [0, 1, 2].map((k) => f[3 * h.end + k]! + h.image[k]!);
      return [i, [0, 1, 2].map((k) => (i[k]! + e[k]!) / 2), e];
    };
    const pa = pts(a), pb = pts(b);
    for (let k = 0; k < ops.count; k++) {
      if (pb.every((x) => {
        const y = apply(ops, k, x);
        return pa.some((z) => periodicImage(y, z, PYMATGEN_HOP_SYMPREC));
      })) return true;
    }
    return false;
  };
  const equal = (a: PymatgenHop, b: PymatgenHop): boolean => {
    if (Math.abs(a.lengthAng - b.lengthAng) > PYMATGEN_LENGTH_TOL_ANG) return false;
    if (!fixes) return threePoints(a, b);
    const ai = fracOf(a.start);
    const ae = [0, 1, 2].map((k) => f[3 * a.end + k]! + a.image[k]!);
    const bi = fracOf(b.start);
    const be = [0, 1, 2].map((k) => f[3 * b.end + k]! + b.image[k]!);
    for (let k = 0; k < ops.count; k++) {
      for (const [from, to] of [[bi, be], [be, bi]] as const) {
        const x = apply(ops, k, from), y = apply(ops, k, to);
        let ok = true;
        for (let q = 0; q < 3 && ok; q++) {
          const n = Math.round(x[q]! - ai[q]!);
          ok = Math.abs(x[q]! - ai[q]! - n) <= PYMATGEN_HOP_SYMPREC && Math.abs(y[q]! - ae[q]! - n) <= PYMATGEN_HOP_SYMPREC;
        }
        if (ok) return true;
      }
    }
    return false;
  };
  const kept: PymatgenHop[] = [];
  for (const cls of classes) {
    const site0 = cls[0]!;
    if (s.species[site0] !== ion) continue;
    const a = fracOf(site0);
    const ca = cart(a[0], a[1], a[2], L);
    for (const nb of pymatgenNeighbors(s, site0, cutoffAng)) {
      if (s.species[nb.site] !== ion) continue;
      const ce = cart(f[3 * nb.site]! + nb.image[0], f[3 * nb.site + 1]! + nb.image[1], f[3 * nb.site + 2]! + nb.image[2], L);
      const hop: PymatgenHop = {
        start: site0,
        end: nb.site,
        image: nb.image,
        lengthAng: Math.hypot(ca[0] - ce[0], ca[1] - ce[1], ca[2] - ce[2]),
        iindex: classIndex(site0),
        eindex: classIndex(nb.site),
      };
      // The set's hash is iindex + eindex: only hops with the same sum are ever compared.
      const h = hop.iindex + hop.eindex;
      if (!kept.some((q) => q.iindex + q.eindex === h && equal(q, hop))) kept.push(hop);
    }
  }
  return kept;
}

/** The operations with an integral rotation: those that map the cell's lattice onto itself (spglib's list for the cell). */
function ownOperations(ops: CellOperations): CellOperations {
  const keep: number[] = [];
  for (let k = 0; k < ops.count; k++) if (ops.rotations.subarray(9 * k, 9 * k + 9).every((x) => Number.isInteger(x))) keep.push(k);
  return {
    count: keep.length,
    rotations: Float64Array.from(keep.flatMap((k) => Array.from(ops.rotations.subarray(9 * k, 9 * k + 9)))),
    translations: Float64Array.from(keep.flatMap((k) => Array.from(ops.translations.subarray(3 * k, 3 * k + 3)))),
  };
}

/**
 * Every operation of the crystal in the fractional coordinates of the cell `red` reduces: each
 * operation (R, t) of the primitive cell as (T⁻ᵀ R Tᵀ, T⁻ᵀ t) (input lattice = T · primitive
 * lattice), combined with each pure translation of the cell. In a supercell whose lattice lacks some
 * of the crystal's point operations their matrices are not integral; they still map every atom, and
 * so every site modulo the cell's lattice, onto an atom.
 */
export function crystalOperations(red: PrimitiveReduction): CellOperations {
  const psym = red.symmetry, T = red.T, n = red.siteToPrimitive.length;
  const Tt = [T[0]!, T[3]!, T[6]!, T[1]!, T[4]!, T[7]!, T[2]!, T[5]!, T[8]!];
  const TtInv = inv3(Tt);
  const taus: number[][] = [];
  const p0 = red.siteToPrimitive[0]!;
  for (let j = 0; j < n; j++) {
    if (red.siteToPrimitive[j] !== p0) continue;
    const v = [0, 1, 2].map((k) => red.shift[3 * j + k]! - red.shift[k]!);
    taus.push([0, 1, 2].map((r) => TtInv[3 * r]! * v[0]! + TtInv[3 * r + 1]! * v[1]! + TtInv[3 * r + 2]! * v[2]!));
  }
  const count = psym.operationCount * taus.length;
  const rotations = new Float64Array(9 * count);
  const translations = new Float64Array(3 * count);
  let o = 0;
  for (let k = 0; k < psym.operationCount; k++) {
    const R = mul3(mul3(TtInv, psym.rotations.subarray(9 * k, 9 * k + 9)), Tt);
    // Integral entries exactly (the cell's own operations are then the same numbers as its symmetry's).
    for (let q = 0; q < 9; q++) if (Math.abs(R[q]! - Math.round(R[q]!)) < 1e-9) R[q] = Math.round(R[q]!);
    const tp = psym.translations.subarray(3 * k, 3 * k + 3);
    const t = [0, 1, 2].map((r) => TtInv[3 * r]! * tp[0]! + TtInv[3 * r + 1]! * tp[1]! + TtInv[3 * r + 2]! * tp[2]!);
    for (const tau of taus) {
      rotations.set(R, 9 * o);
      for (let q = 0; q < 3; q++) translations[3 * o + q] = t[q]! + tau[q]!;
      o++;
    }
  }
  return { count, rotations, translations };
}
