/**
 * Space-group operations of a cell found by the rules of spglib 2.0 — the symmetry finder that
 * pymatgen's `SpacegroupAnalyzer` (and so DistinctPathFinder and the DDI stack) calls — at a distance
 * tolerance `symprec` (Å) and an angle tolerance (degrees, pymatgen's default 5°). For a cell that is
 * symmetric only within the tolerances, following these rules (and not only their spirit) is what makes
 * the operations, equivalent sites and space group the ones pymatgen reports:
 *
 *  1. basis: Delaunay (Selling) reduction of the lattice, the shortest two vectors of
 *     {b1, b2, b1+b2, b3, b4, b2+b3, b3+b1} (b4 = −b1−b2−b3) plus the next independent one;
 *     coordinates wrapped into [0, 1) in that basis; distances are measured there with each fractional
 *     difference rounded to the nearest integer per component;
 *  2. pivot: the lowest-index site of the element with fewest sites (on a tie, the element met first);
 *  3. pure translations: t = x_j − x_pivot for each other site j of the pivot's element, kept when
 *     every site moved by t lies within symprec of a site of its element, one to one; any such
 *     translation means the cell is not primitive and the search returns null (callers reduce the
 *     cell by {@link pureTranslationLattice} first);
 *  4. lattice point group: integer matrices whose columns are three of the 26 vectors {-1, 0, 1}³ \ 0
 *     of the reduced basis, determinant ±1, that keep each basis length within symprec and each angle
 *     between basis vectors within the angle tolerance (more than 48: the angle tolerance × 0.95, again);
 *  5. for each lattice rotation R and each site j of the pivot's element, the translation
 *     t = x_j − R·x_pivot *as it is* (not fitted to the other sites), kept when every rotated site lies
 *     within symprec of a site of its element, one to one;
 *  6. a rotation with two translations (the tolerance merges sites) fails, and the whole search is
 *     repeated at 0.95 × both tolerances, at most 20 times;
 *  7. the operations must lie within symprec of an exact space group (spglib's Hall-symbol match: a
 *     closed set of rotations, translations within symprec of a consistent set); otherwise they are
 *     re-checked at 0.95^k × symprec (k ≤ 20) and those that still hold are kept.
 *
 * Where moyo differs (and so gave other space groups on 28 of 3176 bundled and reference structures
 * at 0.1 Å): it fits each translation to all sites (accepting operations whose exact-pivot translation
 * leaves some site farther than symprec), and it has no angle tolerance (its angle test is
 * symprec-driven, so a lattice 2° off cubic stays tetragonal where spglib at 5° finds it cubic).
 *
 * The translations returned are those of the exact space group nearest to the ones found (a 1-cocycle
 * of the point group, solved exactly; the residual is what step 7 checks), so the operations compose
 * exactly and a structure symmetrised with them is exactly symmetric.
 *
 * Conventions as in ./symmetry.ts: x' = R·x + t on fractional coordinates of the input cell, R integer
 * row-major, `perm[k·N + i]` the site that operation k maps site i onto.
 */
import type { Structure } from './structure.js';
import { TranslationLattice } from './primitive-cell.js';

/** Angle tolerance of the reference stack (pymatgen's SpacegroupAnalyzer default), degrees. */
export const DEFAULT_ANGLE_TOLERANCE_DEG = 5;
/** Factor by which spglib lowers its tolerances on each retry. */
const REDUCE_RATE = 0.95;
/** Retries of spglib's tolerance loops. */
const MAX_ATTEMPTS = 20;

export interface FoundOperations {
  operationCount: number;
  /** 9 per operation, row-major, input-cell fractional coordinates. */
  rotations: Int32Array;
  /** 3 per operation, in [0, 1): the exact space group's translations nearest to those found. */
  translations: Float64Array;
  /** Site permutation of each operation. */
  perm: Int32Array;
  /** Distance tolerance the operations were found at, Å: symprec, or less where step 6 lowered it. */
  symprecUsed: number;
  /** Angle tolerance used, degrees. */
  angleToleranceUsed: number;
}

const EPS_LENGTH2 = 1e-10;

function norm(v: ArrayLike<number>): number {
  return Math.hypot(v[0]!, v[1]!, v[2]!);
}

/** Row k of a row-major 3×3 matrix combined: c0·row0 + c1·row1 + c2·row2. */
function vecOf(L: ArrayLike<number>, c0: number, c1: number, c2: number): [number, number, number] {
  return [c0 * L[0]! + c1 * L[3]! + c2 * L[6]!, c0 * L[1]! + c1 * L[4]! + c2 * L[7]!, c0 * L[2]! + c1 * L[5]! + c2 * L[8]!];
}

function det3v(a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>): number {
  return a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) - a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) + a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!);
}

/**
 * Delaunay-reduced basis (rows) of `lattice` as spglib finds it (step 1 of the module comment), with
 * `mapping` (integer, reduced = mapping · lattice); null where spglib's reduction fails (no
 * convergence in 100 steps, a flat cell, a non-unimodular result). `eps` is the dot-product threshold
 * of the Selling steps and the smallest volume accepted (spglib passes symprec).
 */
export function delaunayReduce(lattice: ArrayLike<number>, eps: number): { basis: Float64Array; mapping: Int32Array } | null {
  const b: number[][] = [vecOf(lattice, 1, 0, 0), vecOf(lattice, 0, 1, 0), vecOf(lattice, 0, 0, 1)];
  b.push([-(b[0]![0]! + b[1]![0]! + b[2]![0]!), -(b[0]![1]! + b[1]![1]! + b[2]![1]!), -(b[0]![2]! + b[1]![2]! + b[2]![2]!)]);
  const dot = (u: number[], v: number[]) => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
  // Selling steps: while some pair has a positive dot product (beyond eps), add b_i to the other two
  // and negate b_i; one step per attempt, as spglib counts them.
  let reduced = false;
  for (let attempt = 0; attempt < 100 && !reduced; attempt++) {
    reduced = true;
    search: for (let i = 0; i < 3; i++) {
      for (let j = i + 1; j < 4; j++) {
        if (dot(b[i]!, b[j]!) > eps) {
          for (let k = 0; k < 4; k++) {
            if (k === i || k === j) continue;
            for (let q = 0; q < 3; q++) b[k]![q]! += b[i]![q]!;
          }
          for (let q = 0; q < 3; q++) b[i]![q] = -b[i]![q]!;
          reduced = false;
          break search;
        }
      }
    }
  }
  if (!reduced) return null;
  const add = (u: number[], v: number[]) => [u[0]! + v[0]!, u[1]! + v[1]!, u[2]! + v[2]!];
  const c = [b[0]!, b[1]!, add(b[0]!, b[1]!), b[2]!, b[3]!, add(b[1]!, b[2]!), add(b[2]!, b[0]!)];
  // spglib's bubble sort: neighbours swap only when longer by more than 1e-10 Å², so near-equal
  // lengths keep the order above.
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 6; j++) {
      if (dot(c[j]!, c[j]!) > dot(c[j + 1]!, c[j + 1]!) + EPS_LENGTH2) [c[j], c[j + 1]] = [c[j + 1]!, c[j]!];
    }
  }
  let third: number[] | null = null;
  for (let i = 2; i < 7; i++) {
    if (Math.abs(det3v(c[0]!, c[1]!, c[i]!)) > eps) {
      third = c[i]!;
      break;
    }
  }
  if (!third) return null;
  const basis = Float64Array.from([...c[0]!, ...c[1]!, ...third]);
  const vol = det3v(c[0]!, c[1]!, third);
  if (Math.abs(vol) < eps) return null;
  if (vol < 0) for (let k = 0; k < 9; k++) basis[k] = -basis[k]!;
  // mapping = basis · lattice⁻¹, integral and unimodular.
  const inv = inv3(lattice);
  const mapping = new Int32Array(9);
  for (let r = 0; r < 3; r++) {
    for (let q = 0; q < 3; q++) {
      const v = basis[3 * r]! * inv[q]! + basis[3 * r + 1]! * inv[3 + q]! + basis[3 * r + 2]! * inv[6 + q]!;
      mapping[3 * r + q] = Math.round(v);
      if (Math.abs(v - mapping[3 * r + q]!) > 1e-6) return null;
    }
  }
  const d = mapping[0]! * (mapping[4]! * mapping[8]! - mapping[5]! * mapping[7]!) - mapping[1]! * (mapping[3]! * mapping[8]! - mapping[5]! * mapping[6]!) + mapping[2]! * (mapping[3]! * mapping[7]! - mapping[4]! * mapping[6]!);
  if (Math.abs(d) !== 1) return null;
  return { basis, mapping };
}

function inv3(m: ArrayLike<number>): Float64Array {
  const d = m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
  return Float64Array.of(
    (m[4]! * m[8]! - m[5]! * m[7]!) / d, (m[2]! * m[7]! - m[1]! * m[8]!) / d, (m[1]! * m[5]! - m[2]! * m[4]!) / d,
    (m[5]! * m[6]! - m[3]! * m[8]!) / d, (m[0]! * m[8]! - m[2]! * m[6]!) / d, (m[2]! * m[3]! - m[0]! * m[5]!) / d,
    (m[3]! * m[7]! - m[4]! * m[6]!) / d, (m[1]! * m[6]! - m[0]! * m[7]!) / d, (m[0]! * m[4]! - m[1]! * m[3]!) / d,
  );
}

/** Integer 3×3 product (row-major). */
function imul(a: ArrayLike<number>, b: ArrayLike<number>): Int32Array {
  const out = new Int32Array(9);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) out[3 * r + c] = a[3 * r]! * b[c]! + a[3 * r + 1]! * b[3 + c]! + a[3 * r + 2]! * b[6 + c]!;
  return out;
}

/** The 26 lattice vectors spglib tries as images of the basis vectors, in its order. */
const RELATIVE_AXES: readonly (readonly [number, number, number])[] = [
  [1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0], [0, -1, 0], [0, 0, -1], [0, 1, 1], [1, 0, 1], [1, 1, 0],
  [0, -1, -1], [-1, 0, -1], [-1, -1, 0], [0, 1, -1], [-1, 0, 1], [1, -1, 0], [0, -1, 1], [1, 0, -1],
  [-1, 1, 0], [1, 1, 1], [-1, -1, -1], [-1, 1, 1], [1, -1, 1], [1, 1, -1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1],
];

/** Angle between u and v, degrees. */
function angleDeg(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const c = (u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!) / (norm(u) * norm(v));
  return (Math.acos(c) / Math.PI) * 180;
}

/**
 * Lattice point group of the reduced basis `B` (rows) by step 4 of the module comment: rotations on
 * reduced fractional coordinates (columns = images of the basis vectors), in spglib's order, and the
 * angle tolerance finally used; null where no tolerance leaves 48 or fewer.
 */
function latticePointGroup(B: Float64Array, symprec: number, angleTolDeg: number): { rotations: Int32Array[]; angleTolDeg: number } | null {
  const basis = [vecOf(B, 1, 0, 0), vecOf(B, 0, 1, 0), vecOf(B, 0, 0, 1)];
  const lengths = basis.map(norm);
  const theta = [angleDeg(basis[0]!, basis[1]!), angleDeg(basis[0]!, basis[2]!), angleDeg(basis[1]!, basis[2]!)];
  const vecs = RELATIVE_AXES.map((a) => vecOf(B, a[0], a[1], a[2]));
  const lens = vecs.map(norm);
  // Candidates per basis vector: the axes whose length is within symprec of it.
  const cand = [0, 1, 2].map((c) => RELATIVE_AXES.map((_, a) => a).filter((a) => !(Math.abs(lengths[c]! - lens[a]!) > symprec)));
  let tol = angleTolDeg;
  for (let attempt = 0; attempt < 100; attempt++) {
    const rots: Int32Array[] = [];
    let tooMany = false;
    outer: for (const i of cand[0]!) {
      for (const j of cand[1]!) {
        if (Math.abs(angleDeg(vecs[i]!, vecs[j]!) - theta[0]!) > tol) continue;
        for (const k of cand[2]!) {
          const a = RELATIVE_AXES[i]!, b = RELATIVE_AXES[j]!, c = RELATIVE_AXES[k]!;
          const r = Int32Array.of(a[0], b[0], c[0], a[1], b[1], c[1], a[2], b[2], c[2]);
          const det = r[0]! * (r[4]! * r[8]! - r[5]! * r[7]!) - r[1]! * (r[3]! * r[8]! - r[5]! * r[6]!) + r[2]! * (r[3]! * r[7]! - r[4]! * r[6]!);
          if (det !== 1 && det !== -1) continue;
          if (Math.abs(angleDeg(vecs[i]!, vecs[k]!) - theta[1]!) > tol || Math.abs(angleDeg(vecs[j]!, vecs[k]!) - theta[2]!) > tol) continue;
          if (rots.length > 47) {
            tooMany = true;
            break outer;
          }
          rots.push(r);
        }
      }
    }
    if (!tooMany) return { rotations: rots, angleTolDeg: tol };
    tol *= REDUCE_RATE;
  }
  return null;
}

/**
 * A cell in its reduced basis and the site test of steps 3 and 5: whether images of the sites lie
 * within a tolerance of sites of the same element, one to one, and which.
 */
class ReducedCell {
  readonly n: number;
  /** Reduced basis (rows) and the integer change of basis from the input (reduced = M · input). */
  readonly B: Float64Array;
  readonly M: Int32Array;
  readonly Minv: Int32Array;
  /** Coordinates in the reduced basis, wrapped into [0, 1) (3 per site). */
  readonly x: Float64Array;
  /** Element code of each site, numbered in order of first appearance (spglib's types as pymatgen numbers them). */
  readonly code: Int32Array;
  /** Sites of the pivot's element, in index order; `pivot` is spglib's pivot site. */
  readonly pivots: number[];
  readonly pivot: number;
  /** The images tested by {@link ReducedCell.maps} (3 per site; fill before calling). */
  readonly y: Float64Array;
  /** Site correspondence of the last successful {@link ReducedCell.maps}. */
  readonly permTmp: Int32Array;

  private readonly g: [number, number, number];
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly hit: Int32Array;
  private stamp = 0;
  private lastFailed = 0;
  private tol = 0;

  private constructor(s: Structure, red: { basis: Float64Array; mapping: Int32Array }, Minv: Int32Array, binAng: number) {
    const n = (this.n = s.species.length);
    this.B = red.basis;
    this.M = red.mapping;
    this.Minv = Minv;
    const x = (this.x = new Float64Array(3 * n));
    for (let i = 0; i < n; i++) {
      const a = s.frac[3 * i]!, b = s.frac[3 * i + 1]!, c = s.frac[3 * i + 2]!;
      // cart = x_inᵀ L = x_rᵀ M L, so x_r = M⁻ᵀ x_in; (M⁻ᵀ)[r][k] = Minv[k][r].
      for (let r = 0; r < 3; r++) {
        const v = Minv[r]! * a + Minv[3 + r]! * b + Minv[6 + r]! * c;
        const w = v - Math.floor(v);
        x[3 * i + r] = w >= 1 ? 0 : w;
      }
    }
    const codeOf = new Map<string, number>();
    this.code = Int32Array.from(s.species, (sp) => {
      let c = codeOf.get(sp);
      if (c === undefined) codeOf.set(sp, (c = codeOf.size));
      return c;
    });
    // Pivot (spglib's get_index_with_least_atoms): the first site of the least frequent element,
    // the element met first on a tie.
    const count = new Int32Array(codeOf.size);
    for (const c of this.code) count[c]!++;
    let pivot = 0;
    for (let i = 0; i < n; i++) {
      const c = this.code[i]!;
      if (this.code.indexOf(c) === i && count[c]! < count[this.code[pivot]!]!) pivot = i;
    }
    this.pivot = pivot;
    this.pivots = [];
    for (let i = 0; i < n; i++) if (this.code[i] === this.code[pivot]) this.pivots.push(i);
    this.y = new Float64Array(3 * n);
    this.permTmp = new Int32Array(n);
    this.hit = new Int32Array(n);
    // Sites binned by reduced coordinate, bins at least `binAng` high, so a partner within that
    // distance lies in the bin of the image or a neighbouring one (all bins along an axis of ≤ 3).
    // One bin (a plain scan) under 32 sites.
    const h = heights(this.B);
    const cap = n < 32 ? 1 : Math.ceil(Math.cbrt(n));
    this.g = [0, 1, 2].map((k) => Math.max(1, Math.min(cap, Math.floor(h[k]! / binAng)))) as [number, number, number];
    const [g0, g1, g2] = this.g;
    this.head = new Int32Array(g0 * g1 * g2).fill(-1);
    this.next = new Int32Array(n);
    for (let j = n - 1; j >= 0; j--) {
      const bin = (this.binOf(x[3 * j]!, g0) * g1 + this.binOf(x[3 * j + 1]!, g1)) * g2 + this.binOf(x[3 * j + 2]!, g2);
      this.next[j] = this.head[bin]!;
      this.head[bin] = j;
    }
  }

  /** The reduced cell of `s`, binned for tolerances up to `maxTolAng`; null where spglib's reduction fails or the cell is too thin. */
  static of(s: Structure, maxTolAng: number): ReducedCell | null {
    const red = delaunayReduce(s.lattice, maxTolAng);
    if (!red) return null;
    const Minv = invInt(red.mapping);
    if (!Minv) return null;
    // A partner test needs the nearest image to be the only one within the tolerance.
    if (Math.min(...heights(red.basis)) < 4 * maxTolAng) return null;
    return new ReducedCell(s, red, Minv, maxTolAng);
  }

  private binOf(v: number, g: number): number {
    return Math.min(g - 1, Math.floor((v - Math.floor(v)) * g));
  }

  /** Squared distance (Å²) of a fractional difference, each component rounded to the nearest integer first. */
  dist2(da: number, db: number, dc: number): number {
    const B = this.B;
    da -= Math.round(da);
    db -= Math.round(db);
    dc -= Math.round(dc);
    const cx = da * B[0]! + db * B[3]! + dc * B[6]!, cy = da * B[1]! + db * B[4]! + dc * B[7]!, cz = da * B[2]! + db * B[5]! + dc * B[8]!;
    return cx * cx + cy * cy + cz * cz;
  }

  /** Fills {@link ReducedCell.y} with R·x (R on reduced coordinates). */
  rotate(r: ArrayLike<number>): void {
    const { x, y, n } = this;
    for (let i = 0; i < n; i++) {
      const a = x[3 * i]!, b = x[3 * i + 1]!, c = x[3 * i + 2]!;
      y[3 * i] = r[0]! * a + r[1]! * b + r[2]! * c;
      y[3 * i + 1] = r[3]! * a + r[4]! * b + r[5]! * c;
      y[3 * i + 2] = r[6]! * a + r[7]! * b + r[8]! * c;
    }
  }

  /**
   * Whether every image y_i + t lies within `tol` Å of a site of its element, one to one
   * (spglib's overlap test); the correspondence is left in {@link ReducedCell.permTmp}. Each image
   * takes its nearest partner; where some image has two candidates within tol (sites closer than
   * 2·tol), spglib's own greedy assignment decides instead.
   */
  maps(t0: number, t1: number, t2: number, tol: number): boolean {
    const { n, y, x, code, permTmp } = this;
    const [g0, g1, g2] = this.g;
    const tol2 = tol * tol;
    this.tol = tol;
    let crowded = false;
    const lo0 = g0 <= 3 ? 0 : -1, hi0 = g0 <= 3 ? g0 - 1 : 1;
    const lo1 = g1 <= 3 ? 0 : -1, hi1 = g1 <= 3 ? g1 - 1 : 1;
    const lo2 = g2 <= 3 ? 0 : -1, hi2 = g2 <= 3 ? g2 - 1 : 1;
    // The site that broke the last candidate is tried first (a defect site typically breaks them all).
    for (let q = 0; q < n; q++) {
      const i = q === 0 ? this.lastFailed : q <= this.lastFailed ? q - 1 : q;
      const a = y[3 * i]! + t0, b = y[3 * i + 1]! + t1, c = y[3 * i + 2]! + t2;
      const ci = code[i]!;
      let best = -1, bd = Infinity, within = 0;
      const ba = g0 <= 3 ? 0 : this.binOf(a, g0), bb = g1 <= 3 ? 0 : this.binOf(b, g1), bc = g2 <= 3 ? 0 : this.binOf(c, g2);
      for (let d0 = lo0; d0 <= hi0; d0++) {
        const ia = (ba + d0 + g0) % g0;
        for (let d1 = lo1; d1 <= hi1; d1++) {
          const ib = (bb + d1 + g1) % g1;
          for (let d2i = lo2; d2i <= hi2; d2i++) {
            const ic = (bc + d2i + g2) % g2;
            for (let j = this.head[(ia * g1 + ib) * g2 + ic]!; j >= 0; j = this.next[j]!) {
              if (code[j] !== ci) continue;
              const d2 = this.dist2(a - x[3 * j]!, b - x[3 * j + 1]!, c - x[3 * j + 2]!);
              if (d2 <= tol2) {
                within++;
                if (d2 < bd) {
                  bd = d2;
                  best = j;
                }
              }
            }
          }
        }
      }
      if (best < 0) {
        this.lastFailed = i;
        return false;
      }
      if (within > 1) crowded = true;
      permTmp[i] = best;
    }
    if (crowded) return this.greedy(t0, t1, t2);
    this.stamp++;
    for (let i = 0; i < n; i++) {
      const j = permTmp[i]!;
      if (this.hit[j] === this.stamp) return this.greedy(t0, t1, t2);
      this.hit[j] = this.stamp;
    }
    return true;
  }

  /**
   * spglib's assignment for crowded cells: original sites and images each sorted by element, then by
   * distance from the nearest lattice point; each original site in turn takes the first free image
   * within tol. Quadratic in N; runs only where sites of one element are closer than 2·tol.
   */
  private greedy(t0: number, t1: number, t2: number): boolean {
    const { n, x, y, code, permTmp } = this;
    const tol2 = this.tol * this.tol;
    const lp = (a: number, b: number, c: number) => this.dist2(a, b, c);
    const orig = Array.from({ length: n }, (_, i) => i).sort((p, q) => code[p]! - code[q]! || lp(x[3 * p]!, x[3 * p + 1]!, x[3 * p + 2]!) - lp(x[3 * q]!, x[3 * q + 1]!, x[3 * q + 2]!));
    const img = orig.map((i) => [y[3 * i]! + t0, y[3 * i + 1]! + t1, y[3 * i + 2]! + t2] as const);
    const imgOrder = orig.map((_, k) => k).sort((p, q) => code[orig[p]!]! - code[orig[q]!]! || lp(...img[p]!) - lp(...img[q]!));
    const found = new Uint8Array(n);
    let start = 0;
    for (const io of orig) {
      while (start < n && found[start]) start++;
      let k = start;
      for (; k < n; k++) {
        if (found[k]) continue;
        const m = imgOrder[k]!;
        const src = orig[m]!;
        if (code[src] !== code[io]) continue;
        const p = img[m]!;
        if (this.dist2(x[3 * io]! - p[0], x[3 * io + 1]! - p[1], x[3 * io + 2]! - p[2]) <= tol2) {
          found[k] = 1;
          permTmp[src] = io;
          break;
        }
      }
      if (k === n) return false;
    }
    return true;
  }
}

/** Perpendicular heights of the cell with rows `B`. */
function heights(B: ArrayLike<number>): [number, number, number] {
  const a = vecOf(B, 1, 0, 0), b = vecOf(B, 0, 1, 0), c = vecOf(B, 0, 0, 1);
  const cross = (u: number[], v: number[]) => [u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!];
  const bc = cross(b, c), ca = cross(c, a), ab = cross(a, b);
  const vol = Math.abs(a[0] * bc[0]! + a[1] * bc[1]! + a[2] * bc[2]!);
  return [vol / norm(bc), vol / norm(ca), vol / norm(ab)];
}

/** Throws a RangeError naming `symprec` unless it is a distance in (0, 1) Å. */
function checkTolerance(symprec: number): void {
  if (!(Number.isFinite(symprec) && symprec > 0 && symprec < 1)) throw new RangeError(`symprec must be a distance in (0, 1) Å, got ${String(symprec)}`);
}

/** The lattice of pure translations of a cell (see {@link pureTranslationLattice}). */
export interface PureTranslations {
  /** Lattice points per cell: 1 for a primitive cell, r for an r-fold supercell. */
  ratio: number;
  /**
   * A basis of the translation lattice (Hermite normal form, same handedness as the cell): rows in
   * fractional coordinates of the input cell; the primitive lattice is `basis · lattice`.
   */
  basis: Float64Array;
  /** Distance tolerance at which the translations formed a lattice, Å (symprec, or lower as spglib retries). */
  symprecUsed: number;
}

/**
 * The lattice of pure translations of `s` at `symprec` (Å), by step 3 of the module comment: overlap
 * the pivot with each other site of its element, keep the translation when every site then lies
 * within the tolerance of a site of its element. Where the translations kept do not form a lattice
 * whose points divide the sites, spglib lowers the tolerance by 0.95 and tries again (at most 20
 * times); so does this. Null where the cell is too thin for the tolerance or no tolerance gives a
 * lattice: callers then ask moyo.
 *
 * A candidate that is already a vector of the lattice spanned by the translations verified so far is
 * counted without a check (translations compose), so only the few that enlarge the lattice are
 * checked site by site: about N_pivot + 3·N site look-ups, where checking every candidate would take
 * r·N (quadratic in N for a supercell of a small cell; moyo's all-pairs check, N² per candidate,
 * takes minutes at 1000 sites).
 */
export function pureTranslationLattice(s: Structure, symprec: number): PureTranslations | null {
  checkTolerance(symprec);
  const cell = ReducedCell.of(s, symprec);
  if (!cell) return null;
  let tol = symprec;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++, tol *= REDUCE_RATE) {
    const found = translationsAt(s, cell, tol);
    if (found) return { ...found, symprecUsed: tol };
  }
  return null;
}

function translationsAt(s: Structure, cell: ReducedCell, tol: number): { ratio: number; basis: Float64Array } | null {
  const { x, pivots, pivot: src, M, n } = cell;
  const L = s.lattice;
  // Every translation maps each pivot site onto another, so r divides the pivot count: the
  // translations are multiples of 1 / pivots.length (exact integers in the lattice's units).
  const lattice = new TranslationLattice(pivots.length);
  const D = pivots.length;
  /** t (reduced basis) in units of 1/D of the input cell, and the distance (Å) to that grid point. */
  const onGrid = (t: number[]): { g: number[]; offAng: number } => {
    const g = [0, 0, 0], off = [0, 0, 0];
    for (let q = 0; q < 3; q++) {
      const v = (M[q]! * t[0]! + M[3 + q]! * t[1]! + M[6 + q]! * t[2]!) * D;
      g[q] = Math.round(v);
      off[q] = (v - g[q]!) / D;
    }
    const cx = off[0]! * L[0]! + off[1]! * L[3]! + off[2]! * L[6]!;
    const cy = off[0]! * L[1]! + off[1]! * L[4]! + off[2]! * L[7]!;
    const cz = off[0]! * L[2]! + off[1]! * L[5]! + off[2]! * L[8]!;
    return { g, offAng: Math.hypot(cx, cy, cz) };
  };
  cell.y.set(x);
  let accepted = 0;
  for (const dst of pivots) {
    if (dst === src) continue;
    const t = [x[3 * dst]! - x[3 * src]!, x[3 * dst + 1]! - x[3 * src + 1]!, x[3 * dst + 2]! - x[3 * src + 2]!];
    const grid = onGrid(t);
    if (grid.offAng <= 2 * tol && lattice.contains(grid.g)) {
      accepted++;
      continue;
    }
    if (!cell.maps(t[0]!, t[1]!, t[2]!, tol)) continue;
    if (grid.offAng > tol) return null;
    lattice.add(grid.g);
    accepted++;
  }
  const ratio = lattice.pointsPerCell;
  if (!Number.isInteger(ratio) || accepted !== ratio - 1 || n % ratio !== 0) return null;
  return { ratio, basis: lattice.basis() };
}

interface Op {
  /** Rotation on reduced coordinates. */
  r: Int32Array;
  /** Translation found (pivot overlap), reduced coordinates. */
  t: number[];
  perm: Int32Array;
}

/** Code of a rotation with entries in {-1, 0, 1}, base 3; -1 for any other matrix. */
function rotCode(r: ArrayLike<number>): number {
  let c = 0;
  for (let q = 0; q < 9; q++) {
    const e = r[q]!;
    if (e < -1 || e > 1) return -1;
    c = 3 * c + e + 1;
  }
  return c;
}

/** rotCode of the integer product a·b, without building the product (exactGroup takes |G|² of them). */
function productCode(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let c = 0;
  for (let r = 0; r < 3; r++) {
    const a0 = a[3 * r]!, a1 = a[3 * r + 1]!, a2 = a[3 * r + 2]!;
    for (let q = 0; q < 3; q++) {
      const e = a0 * b[q]! + a1 * b[3 + q]! + a2 * b[6 + q]!;
      if (e < -1 || e > 1) return -1;
      c = 3 * c + e + 1;
    }
  }
  return c;
}

/**
 * The exact space group nearest to `ops` (step 7), or null where the rotations are not a group or a
 * translation lies farther than `tol` Å from the exact one. With d_kl = t_k + R_k t_l − t_(kl) (near an
 * integer vector n_kl for a group up to tolerance), τ_k = (1/|G|) Σ_m n_km solves
 * τ_k + R_k τ_l − τ_(kl) = n_kl exactly; the found translations differ from τ by a near-coboundary
 * e_k = t_k − τ_k ≈ (I − R_k)·ē (ē the mean of e), so t'_k = τ_k + (I − R_k)·ē is the exact group with
 * the origin of the translations found.
 */
function exactGroup(cell: ReducedCell, ops: Op[], tol: number): number[][] | null {
  const m = ops.length;
  const index = new Map<number, number>();
  for (let k = 0; k < m; k++) {
    const c = rotCode(ops[k]!.r);
    if (c < 0 || index.has(c)) return null;
    index.set(c, k);
  }
  const sumN = ops.map(() => [0, 0, 0]);
  for (let k = 0; k < m; k++) {
    const { r, t } = ops[k]!;
    for (let l = 0; l < m; l++) {
      const kl = index.get(productCode(r, ops[l]!.r));
      if (kl === undefined) return null;
      const tl = ops[l]!.t, tkl = ops[kl]!.t;
      for (let q = 0; q < 3; q++) {
        const d = t[q]! + r[3 * q]! * tl[0]! + r[3 * q + 1]! * tl[1]! + r[3 * q + 2]! * tl[2]! - tkl[q]!;
        sumN[k]![q]! += Math.round(d);
      }
    }
  }
  const tau = sumN.map((v) => v.map((x) => x / m));
  const ebar = [0, 0, 0];
  for (let k = 0; k < m; k++) for (let q = 0; q < 3; q++) ebar[q]! += (ops[k]!.t[q]! - tau[k]![q]!) / m;
  const out: number[][] = [];
  for (let k = 0; k < m; k++) {
    const r = ops[k]!.r;
    const ideal = [0, 1, 2].map((q) => tau[k]![q]! + ebar[q]! - (r[3 * q]! * ebar[0]! + r[3 * q + 1]! * ebar[1]! + r[3 * q + 2]! * ebar[2]!));
    const t = ops[k]!.t;
    if (cell.dist2(t[0]! - ideal[0]!, t[1]! - ideal[1]!, t[2]! - ideal[2]!) > tol * tol) return null;
    out.push(ideal);
  }
  return out;
}

/** Operations of step 5 at `tol`, or null where a rotation has two translations (step 6). */
function operationsAt(cell: ReducedCell, rotations: Int32Array[], tol: number): Op[] | null {
  const { x, pivots, pivot: src } = cell;
  const ops: Op[] = [];
  for (const r of rotations) {
    cell.rotate(r);
    let count = 0;
    for (const dst of pivots) {
      const t = [x[3 * dst]! - cell.y[3 * src]!, x[3 * dst + 1]! - cell.y[3 * src + 1]!, x[3 * dst + 2]! - cell.y[3 * src + 2]!];
      if (!cell.maps(t[0]!, t[1]!, t[2]!, tol)) continue;
      if (++count > 1) return null;
      ops.push({ r, t, perm: cell.permTmp.slice() });
    }
  }
  return ops;
}

/** Whether the cell has a pure translation at `tol` (step 3). */
function hasPureTranslation(cell: ReducedCell, tol: number): boolean {
  const { x, pivots, pivot: src } = cell;
  cell.y.set(x);
  for (const dst of pivots) {
    if (dst === src) continue;
    if (cell.maps(x[3 * dst]! - x[3 * src]!, x[3 * dst + 1]! - x[3 * src + 1]!, x[3 * dst + 2]! - x[3 * src + 2]!, tol)) return true;
  }
  return false;
}

/**
 * The space-group operations of `s` by the rules in the module comment, at `symprec` (Å) and
 * `angleToleranceDeg` (default {@link DEFAULT_ANGLE_TOLERANCE_DEG}), with their site permutations;
 * null when the cell is not primitive at the tolerance reached (reduce it first), or too thin for it,
 * or no tolerance down to 0.95^20 × symprec gives a space group.
 */
export function searchOperations(s: Structure, symprec: number, angleToleranceDeg = DEFAULT_ANGLE_TOLERANCE_DEG): FoundOperations | null {
  checkTolerance(symprec);
  if (!(angleToleranceDeg > 0 && angleToleranceDeg < 90)) throw new RangeError(`angleToleranceDeg must be an angle in (0, 90) degrees, got ${String(angleToleranceDeg)}`);
  const cell = ReducedCell.of(s, symprec);
  if (!cell) return null;
  let tol = symprec, angleTol = angleToleranceDeg;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++, tol *= REDUCE_RATE, angleTol *= REDUCE_RATE) {
    if (hasPureTranslation(cell, tol)) return null;
    const lattice = latticePointGroup(cell.B, tol, angleTol);
    if (!lattice) continue;
    let ops = operationsAt(cell, lattice.rotations, tol);
    if (!ops || ops.length === 0) continue;
    // Step 7: the operations must be near an exact group (spglib matches them against its Hall
    // symbols at `tol`); otherwise they are re-checked at lower tolerances, keeping those that hold.
    let exact = exactGroup(cell, ops, tol);
    for (let k = 1; !exact && k <= MAX_ATTEMPTS; k++) {
      const tk = tol * REDUCE_RATE ** k;
      const lk = latticePointGroup(cell.B, tk, lattice.angleTolDeg);
      if (!lk) continue;
      const codes = new Set(lk.rotations.map(rotCode));
      const kept: Op[] = [];
      for (const op of ops) {
        if (!codes.has(rotCode(op.r))) continue;
        cell.rotate(op.r);
        if (cell.maps(op.t[0]!, op.t[1]!, op.t[2]!, tk)) kept.push({ ...op, perm: cell.permTmp.slice() });
      }
      ops = kept;
      exact = exactGroup(cell, ops, tol);
    }
    if (!exact) continue;
    return toInputBasis(cell, ops, exact, tol, lattice.angleTolDeg);
  }
  return null;
}

/** Operations on reduced coordinates back to the input basis: R_in = Mᵀ R_r M⁻ᵀ, t_in = Mᵀ t_r. */
function toInputBasis(cell: ReducedCell, ops: Op[], exact: number[][], tol: number, angleTol: number): FoundOperations {
  const { M, Minv, n } = cell;
  const Mt = [M[0]!, M[3]!, M[6]!, M[1]!, M[4]!, M[7]!, M[2]!, M[5]!, M[8]!];
  const MinvT = [Minv[0]!, Minv[3]!, Minv[6]!, Minv[1]!, Minv[4]!, Minv[7]!, Minv[2]!, Minv[5]!, Minv[8]!];
  const nop = ops.length;
  const rotations = new Int32Array(9 * nop);
  const translations = new Float64Array(3 * nop);
  const perm = new Int32Array(nop * n);
  ops.forEach((op, k) => {
    rotations.set(imul(imul(Mt, op.r), MinvT), 9 * k);
    const t = exact[k]!;
    for (let q = 0; q < 3; q++) {
      const v = Mt[3 * q]! * t[0]! + Mt[3 * q + 1]! * t[1]! + Mt[3 * q + 2]! * t[2]!;
      const w = v - Math.floor(v);
      // Exact zeros stay zeros; a value within 1e-12 of 1 (rounding) wraps to 0.
      translations[3 * k + q] = w >= 1 - 1e-12 || w < 1e-12 ? 0 : w;
    }
    perm.set(op.perm, k * n);
  });
  return { operationCount: nop, rotations, translations, perm, symprecUsed: tol, angleToleranceUsed: angleTol };
}

/** Inverse of an integer unimodular matrix (row-major), or null if it is not unimodular. */
function invInt(m: Int32Array): Int32Array | null {
  const [a, b, c, d, e, f, g, h, i] = m as unknown as number[];
  const det = a! * (e! * i! - f! * h!) - b! * (d! * i! - f! * g!) + c! * (d! * h! - e! * g!);
  if (Math.abs(det) !== 1) return null;
  return Int32Array.of(
    (e! * i! - f! * h!) * det, (c! * h! - b! * i!) * det, (b! * f! - c! * e!) * det,
    (f! * g! - d! * i!) * det, (a! * i! - c! * g!) * det, (c! * d! - a! * f!) * det,
    (d! * h! - e! * g!) * det, (b! * g! - a! * h!) * det, (a! * e! - b! * d!) * det,
  );
}
