/**
 * Space-group operations of a primitive cell found directly, without the space-group identification,
 * standardisation and Wyckoff assignment that a full moyo dataset includes (those dominate moyo's
 * cost). The search follows the steps of spglib / moyo's symmetry search:
 *
 *  1. reduce the basis (LLL, then Minkowski conditions with coefficients in {-1, 0, 1});
 *  2. pure translations: overlap the first site of the least frequent element (smallest Z among equally
 *     frequent ones) with each other site of that element; any translation that maps the structure
 *     onto itself means the cell is not primitive, and the search declines (returns null);
 *  3. lattice point group: integer matrices whose columns are lattice vectors (coefficients in
 *     [-1, 1]³ of the reduced basis) with lengths within symprec of the basis vectors and pairwise
 *     angles within the symprec-driven angle tolerance (sin²Δθ·|u||v| < symprec²), determinant ±1;
 *  4. for each rotation, candidate translations from overlapping the pivot site with each pivot-element
 *     site; a candidate is kept when every rotated site has a partner of the same element within
 *     2·symprec, and its translation, averaged over the site correspondence, maps every site within
 *     symprec;
 *  5. the operations must form a group (one translation per rotation, closed under products up to
 *     2·symprec).
 *
 * Whenever a step fails where moyo would retry with another tolerance (non-group lattice automorphisms,
 * two translations for one rotation, closure off), the search returns null and callers use moyo.
 *
 * Conventions as in ./symmetry.ts: x' = R·x + t on fractional coordinates of the input cell, R integer
 * row-major, `perm[k·N + i]` the site that operation k maps site i onto.
 */
import type { Structure } from './structure.js';
import { element } from './elements.js';
import { lllReduce } from './lll.js';
import { TranslationLattice } from './primitive-cell.js';

export interface FoundOperations {
  operationCount: number;
  /** 9 per operation, row-major, input-cell fractional coordinates. */
  rotations: Int32Array;
  /** 3 per operation, in [0, 1). */
  translations: Float64Array;
  /** Site permutation of each operation. */
  perm: Int32Array;
}

const EPS = 1e-8;

function norm(v: ArrayLike<number>): number {
  return Math.hypot(v[0]!, v[1]!, v[2]!);
}

function vecOf(L: ArrayLike<number>, c0: number, c1: number, c2: number): [number, number, number] {
  return [c0 * L[0]! + c1 * L[3]! + c2 * L[6]!, c0 * L[1]! + c1 * L[4]! + c2 * L[7]!, c0 * L[2]! + c1 * L[5]! + c2 * L[8]!];
}

function angle(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const c = (u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!) / (norm(u) * norm(v));
  return Math.acos(Math.max(-1, Math.min(1, c)));
}

/**
 * Minkowski-reduced basis (rows) in 3-D: LLL first, then while some vector can be shortened by adding
 * ±1 times the others, do so; sorted by length. Returns the reduced rows and `mapping` (integer,
 * reduced = mapping · input).
 */
function minkowski(lattice: ArrayLike<number>): { basis: Float64Array; mapping: Int32Array } {
  const lll = lllReduce(lattice);
  const B = Float64Array.from(lll.lattice);
  const M = Int32Array.from(lll.mapping);
  const len2 = (k: number) => B[3 * k]! ** 2 + B[3 * k + 1]! ** 2 + B[3 * k + 2]! ** 2;
  for (let iter = 0; iter < 100; iter++) {
    let changed = false;
    for (let k = 0; k < 3; k++) {
      const i = (k + 1) % 3, j = (k + 2) % 3;
      let best = len2(k), bi = 0, bj = 0;
      for (let ci = -1; ci <= 1; ci++) {
        for (let cj = -1; cj <= 1; cj++) {
          if (ci === 0 && cj === 0) continue;
          const x = B[3 * k]! + ci * B[3 * i]! + cj * B[3 * j]!;
          const y = B[3 * k + 1]! + ci * B[3 * i + 1]! + cj * B[3 * j + 1]!;
          const z = B[3 * k + 2]! + ci * B[3 * i + 2]! + cj * B[3 * j + 2]!;
          const l2 = x * x + y * y + z * z;
          if (l2 < best * (1 - 1e-12)) {
            best = l2;
            bi = ci;
            bj = cj;
          }
        }
      }
      if (bi !== 0 || bj !== 0) {
        for (let q = 0; q < 3; q++) {
          B[3 * k + q] = B[3 * k + q]! + bi * B[3 * i + q]! + bj * B[3 * j + q]!;
          M[3 * k + q] = M[3 * k + q]! + bi * M[3 * i + q]! + bj * M[3 * j + q]!;
        }
        changed = true;
      }
    }
    if (!changed) break;
  }
  const order = [0, 1, 2].sort((p, q) => len2(p) - len2(q));
  const basis = new Float64Array(9);
  const mapping = new Int32Array(9);
  order.forEach((k, r) => {
    for (let q = 0; q < 3; q++) {
      basis[3 * r + q] = B[3 * k + q]!;
      mapping[3 * r + q] = M[3 * k + q]!;
    }
  });
  return { basis, mapping };
}

/** Perpendicular heights of the cell with rows `B`. */
function heights(B: Float64Array): [number, number, number] {
  const a = vecOf(B, 1, 0, 0), b = vecOf(B, 0, 1, 0), c = vecOf(B, 0, 0, 1);
  const cross = (u: number[], v: number[]) => [u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!];
  const bc = cross(b, c), ca = cross(c, a), ab = cross(a, b);
  const vol = Math.abs(a[0] * bc[0]! + a[1] * bc[1]! + a[2] * bc[2]!);
  return [vol / norm(bc), vol / norm(ca), vol / norm(ab)];
}

/** Integer 3×3 product (row-major). */
function imul(a: ArrayLike<number>, b: ArrayLike<number>): Int32Array {
  const out = new Int32Array(9);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) out[3 * r + c] = a[3 * r]! * b[c]! + a[3 * r + 1]! * b[3 + c]! + a[3 * r + 2]! * b[6 + c]!;
  return out;
}

/**
 * Code of a rotation with entries in {-1, 0, 1} (every element of a lattice point group in a
 * Minkowski-reduced basis), base 3; -1 for a matrix with another entry.
 */
function rotCode(r: ArrayLike<number>): number {
  let c = 0;
  for (let q = 0; q < 9; q++) {
    const e = r[q]!;
    if (e < -1 || e > 1) return -1;
    c = 3 * c + e + 1;
  }
  return c;
}

/** Index of each rotation by code (-1 when absent), or null if two rotations coincide. */
function rotIndex(rots: Int32Array[]): Int16Array | null {
  const index = new Int16Array(19683).fill(-1);
  for (let k = 0; k < rots.length; k++) {
    const c = rotCode(rots[k]!);
    if (c < 0 || index[c] !== -1) return null;
    index[c] = k;
  }
  return index;
}

/**
 * Multiplication table of a set of rotations (`table[a·m + b]` = index of rotations[a]·rotations[b]),
 * or null if some product is not in the set (not a group).
 */
function multiplicationTable(rots: Int32Array[], index: Int16Array): Int16Array | null {
  const m = rots.length;
  const table = new Int16Array(m * m);
  for (let ia = 0; ia < m; ia++) {
    const a = rots[ia]!;
    for (let ib = 0; ib < m; ib++) {
      const b = rots[ib]!;
      let c = 0;
      for (let r = 0; r < 3; r++) {
        for (let q = 0; q < 3; q++) {
          const e = a[3 * r]! * b[q]! + a[3 * r + 1]! * b[3 + q]! + a[3 * r + 2]! * b[6 + q]!;
          if (e < -1 || e > 1) return null;
          c = 3 * c + e + 1;
        }
      }
      const k = index[c]!;
      if (k < 0) return null;
      table[ia * m + ib] = k;
    }
  }
  return table;
}

interface LatticeGroup {
  rotations: Int32Array[];
  /** `table[a·m + b]`: index of rotations[a]·rotations[b]. */
  table: Int16Array;
}

/** Lattice point group of the reduced basis `B` (rows) at symprec, as rotations on reduced fractional coordinates. */
function bravaisGroup(B: Float64Array, symprec: number): LatticeGroup | null {
  const b = [vecOf(B, 1, 0, 0), vecOf(B, 0, 1, 0), vecOf(B, 0, 0, 1)];
  const lengths = b.map(norm);
  const cand: { c: [number, number, number]; v: [number, number, number]; len: number }[][] = [[], [], []];
  for (let c0 = -1; c0 <= 1; c0++)
    for (let c1 = -1; c1 <= 1; c1++)
      for (let c2 = -1; c2 <= 1; c2++) {
        const v = vecOf(B, c0, c1, c2);
        const len = norm(v);
        for (let i = 0; i < 3; i++) if (Math.abs(len - lengths[i]!) < symprec) cand[i]!.push({ c: [c0, c1, c2], v, len });
      }
  const theta = [angle(b[0]!, b[1]!), angle(b[1]!, b[2]!), angle(b[2]!, b[0]!)];
  const tol2 = symprec * symprec;
  // Angle test (symprec-driven, moyo's default): sin²(Δθ)·ū·v̄ < symprec², ū, v̄ the mean lengths.
  const angleOk = (pair: number, li: number, lj: number, u: { v: number[]; len: number }, v: { v: number[]; len: number }) => {
    const d = angle(u.v, v.v) - theta[pair]!;
    return Math.sin(d) ** 2 * ((li + u.len) / 2) * ((lj + v.len) / 2) < tol2;
  };
  const rots: Int32Array[] = [];
  for (const p0 of cand[0]!) {
    for (const p1 of cand[1]!) {
      if (!angleOk(0, lengths[0]!, lengths[1]!, p0, p1)) continue;
      for (const p2 of cand[2]!) {
        const c0 = p0.c, c1 = p1.c, c2 = p2.c;
        // Columns are the images of the basis vectors.
        const r = Int32Array.of(c0[0], c1[0], c2[0], c0[1], c1[1], c2[1], c0[2], c1[2], c2[2]);
        const det = r[0]! * (r[4]! * r[8]! - r[5]! * r[7]!) - r[1]! * (r[3]! * r[8]! - r[5]! * r[6]!) + r[2]! * (r[3]! * r[7]! - r[4]! * r[6]!);
        if (Math.abs(Math.abs(det) - 1) > EPS) continue;
        if (!angleOk(1, lengths[1]!, lengths[2]!, p1, p2) || !angleOk(2, lengths[2]!, lengths[0]!, p2, p0)) continue;
        rots.push(r);
      }
    }
  }
  if (rots.length === 0 || 48 % rots.length !== 0) return null;
  const index = rotIndex(rots);
  const table = index ? multiplicationTable(rots, index) : null;
  return table ? { rotations: rots, table } : null;
}

/**
 * What the translation and operation searches share: the reduced basis, the coordinates in it, the
 * pivot sites and the binned site correspondence.
 */
interface SearchContext {
  n: number;
  B: Float64Array;
  M: Int32Array;
  Minv: Int32Array;
  /** Coordinates in the reduced basis (3 per site). */
  x: Float64Array;
  /** Atomic number of each site. */
  z: number[];
  /** Sites of the pivot element; `src` is the first. */
  pivots: number[];
  src: number;
  /** The images tested by {@link SearchContext.correspond} (3 per site; fill before calling). */
  y: Float64Array;
  /** Site correspondence of the last successful {@link SearchContext.correspond}. */
  permTmp: Int32Array;
  rough2: number;
  dist2: (da: number, db: number, dc: number) => number;
  /** Whether `y + t` maps every site onto a site of its element within 2·symprec (bijectively). */
  correspond: (t0: number, t1: number, t2: number) => boolean;
  /** Translation averaged over the correspondence, and the largest residual distance. */
  symmetrize: (t: number[]) => { t: number[]; d: number };
  /** Whether some candidate mapped two sites onto one (then the searches decline). */
  ambiguous: () => boolean;
}

function searchContext(s: Structure, symprec: number): SearchContext | null {
  const n = s.species.length;
  const { basis: B, mapping: M } = minkowski(s.lattice);
  const lengths = [norm(vecOf(B, 1, 0, 0)), norm(vecOf(B, 0, 1, 0)), norm(vecOf(B, 0, 0, 1))];
  const rough = 2 * symprec;
  if (rough > Math.min(...lengths) / 2) return null;
  // Coordinates in the reduced basis: cart = x_inᵀ L = x_rᵀ M L, so x_in = Mᵀ x_r and x_r = M⁻ᵀ x_in.
  const Minv = invInt(M);
  if (!Minv) return null;
  const x = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const a = s.frac[3 * i]!, b = s.frac[3 * i + 1]!, c = s.frac[3 * i + 2]!;
    // (M⁻ᵀ)[r][k] = Minv[k][r]
    for (let r = 0; r < 3; r++) x[3 * i + r] = Minv[r]! * a + Minv[3 + r]! * b + Minv[6 + r]! * c;
  }
  const z = s.species.map((sp) => element(sp).z);
  // Pivot element: least frequent, smallest Z among ties.
  const count = new Map<number, number>();
  for (const zi of z) count.set(zi, (count.get(zi) ?? 0) + 1);
  let pz = -1;
  for (const [zi, c] of [...count].sort((p, q) => p[0] - q[0])) if (pz < 0 || c < count.get(pz)!) pz = zi;
  const pivots: number[] = [];
  z.forEach((zi, i) => {
    if (zi === pz) pivots.push(i);
  });
  const src = pivots[0]!;

  const B0 = B[0]!, B1 = B[1]!, B2 = B[2]!, B3 = B[3]!, B4 = B[4]!, B5 = B[5]!, B6 = B[6]!, B7 = B[7]!, B8 = B[8]!;
  const dist2 = (da: number, db: number, dc: number) => {
    da -= Math.round(da);
    db -= Math.round(db);
    dc -= Math.round(dc);
    const cx = da * B0 + db * B3 + dc * B6, cy = da * B1 + db * B4 + dc * B7, cz = da * B2 + db * B5 + dc * B8;
    return cx * cx + cy * cy + cz * cz;
  };
  const y = new Float64Array(3 * n);
  const permTmp = new Int32Array(n);
  const rough2 = rough * rough;
  // Sites binned by wrapped reduced coordinate; a bin is at least 2·symprec wide along each axis
  // (perpendicular height / bins), so a partner within 2·symprec lies in the bin of the image or a
  // neighbouring one (all bins along an axis of at most 3). One bin (a plain scan) under 32 sites.
  const h = heights(B);
  const cap = n < 32 ? 1 : Math.ceil(Math.cbrt(n));
  const g0 = Math.max(1, Math.min(cap, Math.floor(h[0] / rough)));
  const g1 = Math.max(1, Math.min(cap, Math.floor(h[1] / rough)));
  const g2 = Math.max(1, Math.min(cap, Math.floor(h[2] / rough)));
  const binOf = (v: number, g: number) => Math.min(g - 1, Math.floor((v - Math.floor(v)) * g));
  const head = new Int32Array(g0 * g1 * g2).fill(-1);
  const next = new Int32Array(n);
  for (let j = n - 1; j >= 0; j--) {
    const b = (binOf(x[3 * j]!, g0) * g1 + binOf(x[3 * j + 1]!, g1)) * g2 + binOf(x[3 * j + 2]!, g2);
    next[j] = head[b]!;
    head[b] = j;
  }
  const lo0 = g0 <= 3 ? 0 : -1, hi0 = g0 <= 3 ? g0 - 1 : 1;
  const lo1 = g1 <= 3 ? 0 : -1, hi1 = g1 <= 3 ? g1 - 1 : 1;
  const lo2 = g2 <= 3 ? 0 : -1, hi2 = g2 <= 3 ? g2 - 1 : 1;
  /** Site correspondence of y + t (nearest site within 2·symprec, lowest index on ties; same element), or false. */
  // The site that broke the last candidate is tried first (a defect site typically breaks them all).
  let lastFailed = 0;
  const hit = new Int32Array(n);
  let stamp = 0;
  let ambiguous = false;
  const correspond = (t0: number, t1: number, t2: number): boolean => {
    for (let q = 0; q < n; q++) {
      const i = q === 0 ? lastFailed : q <= lastFailed ? q - 1 : q;
      const a = y[3 * i]! + t0, b = y[3 * i + 1]! + t1, c = y[3 * i + 2]! + t2;
      let best = -1, bd = Infinity;
      const ba = g0 <= 3 ? 0 : binOf(a, g0), bb = g1 <= 3 ? 0 : binOf(b, g1), bc = g2 <= 3 ? 0 : binOf(c, g2);
      for (let d0 = lo0; d0 <= hi0; d0++) {
        const ia = (ba + d0 + g0) % g0;
        for (let d1 = lo1; d1 <= hi1; d1++) {
          const ib = (bb + d1 + g1) % g1;
          for (let d2i = lo2; d2i <= hi2; d2i++) {
            const ic = (bc + d2i + g2) % g2;
            for (let j = head[(ia * g1 + ib) * g2 + ic]!; j >= 0; j = next[j]!) {
              const d2 = dist2(a - x[3 * j]!, b - x[3 * j + 1]!, c - x[3 * j + 2]!);
              if (d2 <= rough2 && (d2 < bd || (d2 === bd && j < best))) {
                bd = d2;
                best = j;
              }
            }
          }
        }
      }
      if (best < 0 || z[best] !== z[i]) {
        lastFailed = i;
        return false;
      }
      permTmp[i] = best;
    }
    // Two sites onto one partner (split or near-duplicate sites within 2·symprec): not a permutation.
    // The search then declines and moyo, which has its own rule for such cells, answers.
    stamp++;
    for (let i = 0; i < n; i++) {
      const j = permTmp[i]!;
      if (hit[j] === stamp) {
        ambiguous = true;
        return false;
      }
      hit[j] = stamp;
    }
    return true;
  };
  const symmetrize = (t: number[]): { t: number[]; d: number } => {
    const acc = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const j = permTmp[i]!;
      for (let q = 0; q < 3; q++) {
        let d = x[3 * j + q]! - y[3 * i + q]! - t[q]!;
        d -= Math.round(d);
        acc[q] = acc[q]! + d + t[q]!;
      }
    }
    const ts = acc.map((v) => v / n);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const j = permTmp[i]!;
      worst = Math.max(worst, dist2(y[3 * i]! + ts[0]! - x[3 * j]!, y[3 * i + 1]! + ts[1]! - x[3 * j + 1]!, y[3 * i + 2]! + ts[2]! - x[3 * j + 2]!));
    }
    return { t: ts, d: Math.sqrt(worst) };
  };
  return { n, B, M, Minv, x, z, pivots, src, y, permTmp, rough2, dist2, correspond, symmetrize, ambiguous: () => ambiguous };
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
}

/**
 * The lattice of pure translations of `s` at `symprec` (Å), found as in step 2 of the operation
 * search: overlap the first pivot site with each other pivot site, check every site through the
 * binned correspondence, average the translation over it (accepted when every site then lies within
 * symprec). Null where the search declines (the cell is shorter than 4·symprec along some direction,
 * a candidate maps two sites onto one, or the translations found are not a lattice): callers then ask
 * moyo.
 *
 * A candidate that is already a vector of the lattice spanned by the translations verified so far is
 * counted without a check (translations compose), so only the few that enlarge the lattice are
 * checked site by site: about N_pivot + 3·N site look-ups, where checking every candidate would take
 * r·N (quadratic in N for a supercell of a small cell; moyo's all-pairs check, N² per candidate,
 * takes minutes at 1000 sites). In the end the number of candidates accepted must be the number of
 * lattice points per cell less one, or the search declines.
 */
export function pureTranslationLattice(s: Structure, symprec: number): PureTranslations | null {
  const ctx = searchContext(s, symprec);
  if (!ctx) return null;
  const { x, pivots, src, M } = ctx;
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
  ctx.y.set(x);
  let accepted = 0;
  for (const dst of pivots) {
    if (dst === src) continue;
    const t = [x[3 * dst]! - x[3 * src]!, x[3 * dst + 1]! - x[3 * src + 1]!, x[3 * dst + 2]! - x[3 * src + 2]!];
    const raw = onGrid(t);
    if (raw.offAng <= 2 * symprec && lattice.contains(raw.g)) {
      accepted++;
      continue;
    }
    if (!ctx.correspond(t[0]!, t[1]!, t[2]!)) continue;
    const sym = ctx.symmetrize(t);
    if (!(sym.d < symprec)) continue;
    const exact = onGrid(sym.t);
    if (exact.offAng > symprec) return null;
    lattice.add(exact.g);
    accepted++;
  }
  if (ctx.ambiguous()) return null;
  const ratio = lattice.pointsPerCell;
  if (!Number.isInteger(ratio) || accepted !== ratio - 1) return null;
  return { ratio, basis: lattice.basis() };
}

/**
 * The space-group operations of `s` at `symprec` (Å) with their site permutations, or null when
 * the cell is not primitive at that tolerance or the search meets a case where moyo would change
 * the tolerance.
 */
export function searchOperations(s: Structure, symprec: number): FoundOperations | null {
  const ctx = searchContext(s, symprec);
  if (!ctx) return null;
  const { n, B, M, Minv, x, pivots, src, y, permTmp, rough2, dist2, correspond, symmetrize } = ctx;

  // Pure translations other than the identity: not a primitive cell.
  y.set(x);
  for (const dst of pivots) {
    if (dst === src) continue;
    const t = [x[3 * dst]! - x[3 * src]!, x[3 * dst + 1]! - x[3 * src + 1]!, x[3 * dst + 2]! - x[3 * src + 2]!];
    if (correspond(t[0]!, t[1]!, t[2]!) && symmetrize(t).d < symprec) return null;
  }

  const lattice = bravaisGroup(B, symprec);
  if (!lattice) return null;
  const found: { r: Int32Array; li: number; t: number[]; perm: Int32Array }[] = [];
  for (let li = 0; li < lattice.rotations.length; li++) {
    const r = lattice.rotations[li]!;
    for (let i = 0; i < n; i++) {
      const a = x[3 * i]!, b = x[3 * i + 1]!, c = x[3 * i + 2]!;
      y[3 * i] = r[0]! * a + r[1]! * b + r[2]! * c;
      y[3 * i + 1] = r[3]! * a + r[4]! * b + r[5]! * c;
      y[3 * i + 2] = r[6]! * a + r[7]! * b + r[8]! * c;
    }
    for (const dst of pivots) {
      const t = [x[3 * dst]! - y[3 * src]!, x[3 * dst + 1]! - y[3 * src + 1]!, x[3 * dst + 2]! - y[3 * src + 2]!];
      if (!correspond(t[0]!, t[1]!, t[2]!)) continue;
      const sym = symmetrize(t);
      if (sym.d < symprec) found.push({ r, li, t: sym.t, perm: permTmp.slice() });
    }
  }
  if (found.length === 0) return null;
  // A group: one translation per rotation, and products agree with the stored translation within 2·symprec.
  const m = lattice.rotations.length;
  const foundOf = new Int16Array(m).fill(-1);
  for (let k = 0; k < found.length; k++) {
    if (foundOf[found[k]!.li] !== -1) return null;
    foundOf[found[k]!.li] = k;
  }
  for (let k1 = 0; k1 < found.length; k1++) {
    const f1 = found[k1]!;
    for (let k2 = 0; k2 < found.length; k2++) {
      const f2 = found[k2]!;
      const kg = foundOf[lattice.table[f1.li * m + f2.li]!]!;
      if (kg < 0) return null;
      const g = found[kg]!;
      const r = f1.r, t2 = f2.t;
      const d0 = g.t[0]! - (r[0]! * t2[0]! + r[1]! * t2[1]! + r[2]! * t2[2]! + f1.t[0]!);
      const d1 = g.t[1]! - (r[3]! * t2[0]! + r[4]! * t2[1]! + r[5]! * t2[2]! + f1.t[1]!);
      const d2 = g.t[2]! - (r[6]! * t2[0]! + r[7]! * t2[1]! + r[8]! * t2[2]! + f1.t[2]!);
      if (dist2(d0, d1, d2) > rough2) return null;
    }
  }

  // Back to the input basis: R_in = Mᵀ R_r M⁻ᵀ, t_in = Mᵀ t_r.
  const Mt = [M[0]!, M[3]!, M[6]!, M[1]!, M[4]!, M[7]!, M[2]!, M[5]!, M[8]!];
  const MinvT = [Minv[0]!, Minv[3]!, Minv[6]!, Minv[1]!, Minv[4]!, Minv[7]!, Minv[2]!, Minv[5]!, Minv[8]!];
  const nop = found.length;
  const rotations = new Int32Array(9 * nop);
  const translations = new Float64Array(3 * nop);
  const perm = new Int32Array(nop * n);
  found.forEach((f, k) => {
    rotations.set(imul(imul(Mt, f.r), MinvT), 9 * k);
    for (let q = 0; q < 3; q++) {
      const v = Mt[3 * q]! * f.t[0]! + Mt[3 * q + 1]! * f.t[1]! + Mt[3 * q + 2]! * f.t[2]!;
      const w = v - Math.floor(v);
      translations[3 * k + q] = w >= 1 ? 0 : w;
    }
    perm.set(f.perm, k * n);
  });
  if (ctx.ambiguous()) return null;
  return { operationCount: nop, rotations, translations, perm };
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
