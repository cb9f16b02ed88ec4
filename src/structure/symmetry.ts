/**
 * Crystal symmetry of a Structure: operations and equivalent sites by the rules of spglib (the
 * reference stack's symmetry finder, reached through pymatgen's SpacegroupAnalyzer) found by the
 * project's own search (./symops.ts) at a distance tolerance `symprec` and an angle tolerance of 5°;
 * space group, Hall setting, Wyckoff letters and the standardised cell from moyo (`@spglib/moyo-wasm`),
 * run on the cell symmetrised with those operations, so that moyo names the group the operations form
 * (moyo itself has no angle tolerance and fits translations to all sites, and so disagreed with spglib
 * on 28 of 3176 bundled and reference structures).
 *
 * moyo is compiled and instantiated synchronously from its packaged .wasm on first use in each
 * thread (worker threads included), so `symmetry()` is an ordinary synchronous call.
 *
 * Conventions: operations act on fractional coordinates of the *input* cell, x' = R·x + t with R an
 * integer 3×3 matrix stored row-major (`rotations[9k .. 9k+8]`) and t in `translations[3k .. 3k+2]`.
 * Equivalence classes follow pymatgen's `SymmetrizedStructure.equivalent_indices`: one class per
 * orbit, ordered by the smallest site index of the orbit, sites inside a class in index order.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initSync, analyze_cell, type MoyoDataset } from '@spglib/moyo-wasm';
import type { Structure } from './structure.js';
import { element } from './elements.js';
import { det3, fracToCart, inv3, mul3, perpendicularHeights } from './lattice.js';
import { structureHash } from './hash.js';
import { DEFAULT_ANGLE_TOLERANCE_DEG, pureTranslationLattice, searchOperations, type FoundOperations } from './symops.js';
import { firstCopies } from './primitive-cell.js';

/** Default distance tolerance (Å): the DDI / simmate setting, also pymatgen-analysis-diffusion's default. */
export const DEFAULT_SYMPREC = 0.1;

export interface SymmetryOptions {
  /** Distance tolerance, Å. Default {@link DEFAULT_SYMPREC}. */
  symprec?: number;
}

export interface SymmetryInfo {
  /** International (ITA) space-group number, 1–230. */
  number: number;
  /** Hermann–Mauguin symbol, e.g. `F m -3 m`. */
  symbol: string;
  /** Hall number (1–530) of the setting moyo identified (spglib's default settings). */
  hallNumber: number;
  /** Distance tolerance used, Å. */
  symprec: number;
  /**
   * Tolerance the operations were finally found at, Å: `symprec` unless spglib's rules retried at
   * 0.95^k × symprec (a rotation with two translations there); where moyo answered instead (see
   * {@link symmetry}), the tolerance moyo settled on.
   */
  symprecUsed: number;
  /** Number of operations in the input cell (includes pure translations of a supercell). */
  operationCount: number;
  /**
   * Operations of the space group that do not map the input cell onto itself (possible in a supercell
   * whose lattice has lower symmetry than the crystal); not listed in `rotations`.
   */
  droppedOperations: number;
  /** Rotations, 9 integers per operation, row-major, acting on fractional coordinates of the input cell. */
  rotations: Int32Array;
  /** Translations, 3 per operation, fractional coordinates of the input cell. */
  translations: Float64Array;
  /** For each site, the smallest index of a site equivalent to it. */
  orbits: Int32Array;
  /** For each site, the index of its equivalence class (see the module comment for the order). */
  classOf: Int32Array;
  /** Site indices of each equivalence class. */
  classes: number[][];
  /** Wyckoff letter of each site. */
  wyckoffs: string[];
  /** pymatgen-style Wyckoff symbol of each class: multiplicity in the input cell + letter (`8c`). */
  classWyckoffSymbols: string[];
  /** Primitive standardised cell (moyo, spglib setting; idealised positions, may be rotated against the input). */
  primitiveStandard: { lattice: Float64Array; species: string[]; frac: Float64Array };
  /**
   * Linear part of the change from the input cell to the primitive standardised cell, row-major 3×3 `P`
   * (columns give the primitive vectors in input-cell coordinates: rows of the primitive lattice in the
   * input frame are `Pᵀ · lattice`).
   */
  primitiveLinear: Float64Array;
}

let ready = false;

function ensureMoyo(): void {
  if (ready) return;
  const require = createRequire(import.meta.url);
  const wasmFile = require.resolve('@spglib/moyo-wasm/moyo_wasm_bg.wasm');
  initSync({ module: new WebAssembly.Module(readFileSync(wasmFile)) });
  ready = true;
}

/** Thrown when the symmetry search fails or an option is invalid; the message names the input. */
export class SymmetryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SymmetryError';
  }
}

function structureLabel(s: Structure): string {
  return typeof s.info.id === 'string' ? `structure ${s.info.id}` : 'structure';
}

/** Checks a symprec option value; the message names the option and the value. */
export function checkSymprec(symprec: number, name = 'symprec'): void {
  if (!(Number.isFinite(symprec) && symprec > 0 && symprec < 1)) {
    throw new SymmetryError(`${name} must be a distance in (0, 1) Å, got ${String(symprec)}`);
  }
}

/** Raw moyo dataset (spglib setting) for a Structure. */
function moyoDataset(s: Structure, symprec: number): MoyoDataset {
  ensureMoyo();
  const n = s.species.length;
  const positions: [number, number, number][] = new Array(n);
  for (let i = 0; i < n; i++) positions[i] = [s.frac[3 * i]!, s.frac[3 * i + 1]!, s.frac[3 * i + 2]!];
  const numbers = s.species.map((sp) => element(sp).z);
  const basis = Array.from(s.lattice) as [number, number, number, number, number, number, number, number, number];
  try {
    return analyze_cell(JSON.stringify({ lattice: { basis }, positions, numbers }), symprec, 'Spglib');
  } catch (e) {
    throw new SymmetryError(`${structureLabel(s)}: symmetry search failed at symprec ${symprec} Å: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Entries kept by the symmetry cache (least recently used dropped first). */
export const SYMMETRY_CACHE_SIZE = 64;

/**
 * Results of {@link symmetry} and {@link primitiveReduction} by content hash and symprec, so the
 * stages of one pipeline (sanitize, hop search, oxidation states) analyse a structure once. A bounded
 * LRU: a Map in use order, the oldest entry dropped past {@link SYMMETRY_CACHE_SIZE}.
 */
class Lru<V> {
  private readonly map = new Map<string, V>();
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > SYMMETRY_CACHE_SIZE) this.map.delete(this.map.keys().next().value!);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

const symmetryCache = new Lru<SymmetryInfo>();
/** The operation search's symmetry per structure (null: the search declined), shared by orbits and reductions. */
const searchCache = new Lru<{ info: SymmetryInfo | null }>();
const reductionCache = new Lru<{ input: Structure; reduction: PrimitiveReduction }>();
/** The reduction of a large cell by its pure translations per structure (null: it does not apply). */
const translationCache = new Lru<{ reduction: PrimitiveReduction | null }>();

/** Empties the symmetry cache (benchmarks time cold calls with it). */
export function clearSymmetryCache(): void {
  symmetryCache.clear();
  searchCache.clear();
  reductionCache.clear();
  translationCache.clear();
}

/** Number of entries in the symmetry cache (symmetry results + primitive reductions). */
export function symmetryCacheSize(): number {
  return symmetryCache.size + reductionCache.size + searchCache.size + translationCache.size;
}

function cacheKey(s: Structure, symprec: number): string {
  return `${structureHash(s)}@${symprec}`;
}

/**
 * Space group, operations in the input cell, equivalence classes, Wyckoff letters and the primitive
 * standardised cell of `s`, found at distance tolerance `symprec` (Å, default 0.1) and spglib's rules
 * with an angle tolerance of 5° (see the module comment).
 *
 * A cell with pure translations is reduced to its primitive cell by them first, and its symmetry
 * derived from the primitive cell's (same space group, orbits and classes; the operations of the
 * input cell are the primitive ones combined with the pure translations; Wyckoff letters in the
 * origin moyo picks for the primitive cell). Where the own search declines (a cell thinner than
 * 4·symprec, no tolerance giving a group, a primitive cell of more than {@link OWN_SEARCH_MAX_SITES}
 * sites), moyo analyses the cell as given.
 *
 * Results are cached by content hash (see {@link clearSymmetryCache}); the returned object and its
 * arrays are shared between callers and must not be modified.
 */
export function symmetry(s: Structure, options: SymmetryOptions = {}): SymmetryInfo {
  const symprec = options.symprec ?? DEFAULT_SYMPREC;
  checkSymprec(symprec);
  const key = cacheKey(s, symprec);
  const hit = symmetryCache.get(key);
  if (hit) return hit;
  const sym = primitiveReduction(s, { symprec }).inputSymmetry;
  symmetryCache.set(key, sym);
  return sym;
}

/** The reduction of a cell by its pure translations ({@link reduceByTranslations}), cached; null where it does not apply. */
function translationReduction(s: Structure, symprec: number, key: string): PrimitiveReduction | null {
  const hit = translationCache.get(key);
  if (hit) return hit.reduction;
  const reduction = reduceByTranslations(s, symprec);
  translationCache.set(key, { reduction });
  return reduction;
}

/** Equivalence classes of `orbits` (each site's smallest equivalent index), in pymatgen's order. */
function classesOfOrbits(orbits: Int32Array): { classOf: Int32Array; classes: number[][] } {
  const n = orbits.length;
  const classOf = new Int32Array(n);
  const classes: number[][] = [];
  // Orbit representatives are the smallest index of their orbit, so walking sites in order opens
  // classes in the order of their smallest index (pymatgen's np.unique order).
  const classOfRep = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const rep = orbits[i]!;
    let c = classOfRep[rep]!;
    if (c < 0) {
      c = classes.length;
      classOfRep[rep] = c;
      classes.push([]);
    }
    classes[c]!.push(i);
    classOf[i] = c;
  }
  return { classOf, classes };
}

/** The fields of {@link SymmetryInfo} only moyo's dataset gives (space group, Wyckoff positions, standard cell). */
const MOYO_ONLY_FIELDS = ['number', 'symbol', 'hallNumber', 'wyckoffs', 'classWyckoffSymbols', 'primitiveStandard', 'primitiveLinear'] as const;

/** Distance tolerance (Å) at which moyo names the group of a cell symmetrised exactly with the operations found. */
export const IDENTIFY_SYMPREC = 1e-4;

/**
 * The symmetry of a primitive cell from the operation search of ./symops.ts (operations, orbits and
 * classes by spglib's rules), with the moyo-only fields — space group, Wyckoff letters, standardised
 * cell — computed on first access by moyo on the cell symmetrised with those operations
 * ({@link symmetrizedCell}) at {@link IDENTIFY_SYMPREC}. Callers that only need operations and
 * equivalent sites (the hop search) never wait for moyo.
 */
function operationSymmetry(s: Structure, symprec: number, ops: FoundOperations): SymmetryInfo {
  const n = s.species.length;
  const orbits = Int32Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < ops.operationCount; k++) {
    for (let i = 0; i < n; i++) {
      const j = ops.perm[k * n + i]!;
      if (j < orbits[i]!) orbits[i] = j;
    }
  }
  const { classOf, classes } = classesOfOrbits(orbits);
  const info = {
    symprec,
    symprecUsed: ops.symprecUsed,
    operationCount: ops.operationCount,
    droppedOperations: 0,
    rotations: ops.rotations,
    translations: ops.translations,
    orbits,
    classOf,
    classes,
  } as Partial<SymmetryInfo>;
  let named: SymmetryInfo | null = null;
  const identify = (): SymmetryInfo => (named ??= identifySpaceGroup(s, ops));
  const lazy: { [K in (typeof MOYO_ONLY_FIELDS)[number]]: () => SymmetryInfo[K] } = {
    number: () => identify().number,
    symbol: () => identify().symbol,
    hallNumber: () => identify().hallNumber,
    wyckoffs: () => identify().wyckoffs,
    classWyckoffSymbols: () => classes.map((c) => `${c.length}${identify().wyckoffs[c[0]!]}`),
    primitiveStandard: () => identify().primitiveStandard,
    primitiveLinear: () => identify().primitiveLinear,
  };
  for (const f of MOYO_ONLY_FIELDS) {
    let value: unknown;
    let done = false;
    Object.defineProperty(info, f, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (!done) {
          value = (lazy[f] as () => unknown)();
          done = true;
        }
        return value;
      },
    });
  }
  return info as SymmetryInfo;
}

/**
 * moyo's dataset (space group, Hall setting, Wyckoff letters, standardised cell) of `s` symmetrised
 * exactly with `ops` ({@link symmetrizedCell}), at {@link IDENTIFY_SYMPREC}: the group those operations
 * form. Throws a {@link SymmetryError} where moyo finds another number of operations there (the
 * operations were not all of the symmetrised cell's, so no group can be named for them).
 */
export function identifySpaceGroup(s: Structure, ops: FoundOperations): SymmetryInfo {
  const named = symmetryFromMoyo(symmetrizedCell(s, ops), IDENTIFY_SYMPREC);
  if (named.operationCount !== ops.operationCount) {
    throw new SymmetryError(
      `${structureLabel(s)}: moyo finds ${named.operationCount} operations in the cell symmetrised with the ${ops.operationCount} found at ${ops.symprecUsed} Å; the space group cannot be named`,
    );
  }
  return named;
}

/**
 * `s` made exactly symmetric under `ops` (a primitive cell's operations forming an exact group, as
 * ./symops.ts returns them): the metric averaged over the rotations, RᵀGR (G = L·Lᵀ), reached by a
 * symmetric Cartesian stretch of the lattice (no rotation of the frame); each site the average of its
 * images under the inverse operations, g⁻¹(x_perm + shift). Same sites in the same order.
 */
export function symmetrizedCell(s: Structure, ops: FoundOperations): Structure {
  const n = s.species.length, nop = ops.operationCount;
  const L = s.lattice, R = ops.rotations, T = ops.translations, f = s.frac;
  const Lt = [L[0]!, L[3]!, L[6]!, L[1]!, L[4]!, L[7]!, L[2]!, L[5]!, L[8]!];
  const G = mul3(L, Lt);
  const Gs = new Float64Array(9);
  for (let k = 0; k < nop; k++) {
    const r = R.subarray(9 * k, 9 * k + 9);
    const rt = [r[0]!, r[3]!, r[6]!, r[1]!, r[4]!, r[7]!, r[2]!, r[5]!, r[8]!];
    const m = mul3(mul3(rt, G), r);
    for (let q = 0; q < 9; q++) Gs[q]! += m[q]! / nop;
  }
  // L' = L·F with F = H^(1/2), H = L⁻¹ G' L⁻ᵀ: then L' L'ᵀ = G' and F, symmetric, stretches without rotating.
  const Li = inv3(L);
  const Lit = [Li[0]!, Li[3]!, Li[6]!, Li[1]!, Li[4]!, Li[7]!, Li[2]!, Li[5]!, Li[8]!];
  const lattice = mul3(L, symmetricSqrt(mul3(mul3(Li, Gs), Lit)));
  const frac = new Float64Array(3 * n);
  for (let k = 0; k < nop; k++) {
    const r = R.subarray(9 * k, 9 * k + 9);
    const ri = inv3(r);
    const t0 = T[3 * k]!, t1 = T[3 * k + 1]!, t2 = T[3 * k + 2]!;
    for (let i = 0; i < n; i++) {
      const p = ops.perm[k * n + i]!;
      const x = f[3 * i]!, y = f[3 * i + 1]!, z = f[3 * i + 2]!;
      // R x_i + t ≈ x_p + shift; the image of x_p + shift under the inverse operation lies near x_i.
      const u = [0, 1, 2].map((q) => {
        const v = r[3 * q]! * x + r[3 * q + 1]! * y + r[3 * q + 2]! * z + T[3 * k + q]!;
        return f[3 * p + q]! + Math.round(v - f[3 * p + q]!) - [t0, t1, t2][q]!;
      });
      for (let q = 0; q < 3; q++) frac[3 * i + q]! += (ri[3 * q]! * u[0]! + ri[3 * q + 1]! * u[1]! + ri[3 * q + 2]! * u[2]!) / nop;
    }
  }
  return { lattice, species: s.species, frac, oxidationStates: null, siteProperties: {}, info: { ...s.info } };
}

/** Square root of a symmetric positive-definite 3×3 matrix (row-major), by Jacobi rotations. */
function symmetricSqrt(m: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(m);
  const v = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[1]! ** 2 + a[2]! ** 2 + a[5]! ** 2;
    if (off < 1e-30 * (a[0]! ** 2 + a[4]! ** 2 + a[8]! ** 2)) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as const) {
      const apq = a[3 * p + q]!;
      if (apq === 0) continue;
      const theta = (a[3 * q + q]! - a[3 * p + p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), sn = t * c;
      // a ← Jᵀ a J, v ← v J with the rotation J in the (p, q) plane.
      for (let k = 0; k < 3; k++) {
        const akp = a[3 * k + p]!, akq = a[3 * k + q]!;
        a[3 * k + p] = c * akp - sn * akq;
        a[3 * k + q] = sn * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[3 * p + k]!, aqk = a[3 * q + k]!;
        a[3 * p + k] = c * apk - sn * aqk;
        a[3 * q + k] = sn * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[3 * k + p]!, vkq = v[3 * k + q]!;
        v[3 * k + p] = c * vkp - sn * vkq;
        v[3 * k + q] = sn * vkp + c * vkq;
      }
    }
  }
  const d = [Math.sqrt(a[0]!), Math.sqrt(a[4]!), Math.sqrt(a[8]!)];
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[3 * i + j] = v[3 * i]! * d[0]! * v[3 * j]! + v[3 * i + 1]! * d[1]! * v[3 * j + 1]! + v[3 * i + 2]! * d[2]! * v[3 * j + 2]!;
  return out;
}

/**
 * moyo's own analysis of the cell exactly as given (its tolerance rules, no angle tolerance), whatever
 * its size, uncached. For comparisons, and what {@link symmetry} falls back to where the own search
 * declines (its cost grows ~N³ with the sites of a supercell: minutes at 1000).
 */
export function moyoSymmetry(s: Structure, options: SymmetryOptions = {}): SymmetryInfo {
  const symprec = options.symprec ?? DEFAULT_SYMPREC;
  checkSymprec(symprec);
  return symmetryFromMoyo(s, symprec);
}

function symmetryFromMoyo(s: Structure, symprec: number): SymmetryInfo {
  const d = moyoDataset(s, symprec);
  const n = s.species.length;
  // moyo serialises each rotation column by column (nalgebra's storage order); stored here row-major.
  // For a supercell whose lattice is not invariant under the whole point group (e.g. a sheared 1×1×3
  // fluorite cell) moyo also lists point operations that do not map the cell onto itself; their
  // matrices are not integral/unimodular there and are left out: only operations of the input cell
  // are kept. Hop equivalence uses the primitive cell instead (see primitiveReduction).
  const ops = d.operations;
  const rotations = new Int32Array(9 * ops.length);
  const translations = new Float64Array(3 * ops.length);
  let nop = 0;
  for (const op of ops) {
    const c = op.rotation;
    const m0 = c[0], m1 = c[3], m2 = c[6], m3 = c[1], m4 = c[4], m5 = c[7], m6 = c[2], m7 = c[5], m8 = c[8];
    const integral = Number.isInteger(m0) && Number.isInteger(m1) && Number.isInteger(m2) && Number.isInteger(m3) && Number.isInteger(m4) &&
      Number.isInteger(m5) && Number.isInteger(m6) && Number.isInteger(m7) && Number.isInteger(m8);
    const det = m0 * (m4 * m8 - m5 * m7) - m1 * (m3 * m8 - m5 * m6) + m2 * (m3 * m7 - m4 * m6);
    if (!integral || Math.abs(det) !== 1) continue;
    const o = 9 * nop;
    rotations[o] = m0; rotations[o + 1] = m1; rotations[o + 2] = m2;
    rotations[o + 3] = m3; rotations[o + 4] = m4; rotations[o + 5] = m5;
    rotations[o + 6] = m6; rotations[o + 7] = m7; rotations[o + 8] = m8;
    translations[3 * nop] = op.translation[0];
    translations[3 * nop + 1] = op.translation[1];
    translations[3 * nop + 2] = op.translation[2];
    nop++;
  }
  const dropped = ops.length - nop;
  const orbits = Int32Array.from(d.orbits);
  const { classOf, classes } = classesOfOrbits(orbits);
  const wyckoffs = d.wyckoffs;
  const classWyckoffSymbols = classes.map((c) => `${c.length}${wyckoffs[c[0]!]}`);
  const zToSymbol = new Map<number, string>();
  for (const sp of s.species) zToSymbol.set(element(sp).z, sp);
  const pc = d.prim_std_cell;
  const primFrac = new Float64Array(3 * pc.positions.length);
  for (let i = 0; i < pc.positions.length; i++) {
    const p = pc.positions[i]!;
    primFrac[3 * i] = p[0];
    primFrac[3 * i + 1] = p[1];
    primFrac[3 * i + 2] = p[2];
  }
  const pl = d.prim_std_linear;
  return {
    number: d.number,
    symbol: d.hm_symbol,
    hallNumber: d.hall_number,
    symprec,
    symprecUsed: d.symprec,
    operationCount: nop,
    droppedOperations: dropped,
    rotations: nop === ops.length ? rotations : rotations.slice(0, 9 * nop),
    translations: nop === ops.length ? translations : translations.slice(0, 3 * nop),
    orbits,
    classOf,
    classes,
    wyckoffs,
    classWyckoffSymbols,
    primitiveStandard: {
      lattice: Float64Array.from(pc.lattice.basis),
      species: pc.numbers.map((z) => zToSymbol.get(z)!),
      frac: primFrac,
    },
    // Column-major in moyo's serialisation, like the rotations.
    primitiveLinear: Float64Array.of(pl[0], pl[3], pl[6], pl[1], pl[4], pl[7], pl[2], pl[5], pl[8]),
  };
}

/**
 * Largest primitive cell (sites) the own operation search of ./symops.ts analyses (about linear in
 * the sites per operation tried); a larger one goes to moyo as a whole.
 */
export const OWN_SEARCH_MAX_SITES = 5000;

/**
 * Largest non-primitive cell (sites) whose primitive basis is moyo's choice for the whole input cell,
 * as in earlier releases (sanitised structures keep their basis); a larger one takes moyo's choice for
 * its primitive cell (the same lattice in a possibly different basis), because moyo's analysis of a
 * whole supercell grows ~N³ (minutes at 1000 sites). Either way the symmetry is the primitive cell's,
 * found by the operation search.
 */
export const MOYO_WHOLE_CELL_MAX_SITES = 200;

/**
 * The `orbits` of {@link symmetry} (for each site, the smallest index of an equivalent site), from the
 * operation search without the moyo dataset (space group, Wyckoff positions) where the search
 * answers. Cached like {@link symmetry}.
 */
export function symmetryOrbits(s: Structure, options: SymmetryOptions = {}): Int32Array {
  const symprec = options.symprec ?? DEFAULT_SYMPREC;
  checkSymprec(symprec);
  const key = cacheKey(s, symprec);
  const full = symmetryCache.get(key);
  if (full) return full.orbits;
  return primitiveReduction(s, { symprec }).inputSymmetry.orbits;
}

/**
 * The symmetry from the operation search of ./symops.ts for a cell of up to
 * {@link OWN_SEARCH_MAX_SITES} sites, or null where the search declines (among others, for a cell
 * that is not primitive); run once per structure content.
 */
function searchedSymmetry(s: Structure, symprec: number, key: string): SymmetryInfo | null {
  const hit = searchCache.get(key);
  if (hit) return hit.info;
  const ops = s.species.length <= OWN_SEARCH_MAX_SITES ? searchOperations(s, symprec, DEFAULT_ANGLE_TOLERANCE_DEG) : null;
  const info = ops ? operationSymmetry(s, symprec, ops) : null;
  searchCache.set(key, { info });
  return info;
}

/**
 * Site permutation of each operation: op k maps site i onto site `perm[k·N + i]` shifted by the
 * lattice vector `shift[3(k·N + i) ..]`, i.e. R·x_i + t = x_perm + shift (within tolerance).
 * Matching is by species and Cartesian distance ≤ `tolAng` modulo the lattice.
 */
export interface SitePermutations {
  operationCount: number;
  perm: Int32Array;
  shift: Int32Array;
}

/**
 * Site permutations of the operations in `sym` acting on `s`. Throws a {@link SymmetryError} naming the
 * operation and site when an image has no partner within `tolAng` (default: the symprec used).
 */
export function sitePermutations(s: Structure, sym: SymmetryInfo, tolAng = sym.symprec): SitePermutations {
  const n = s.species.length;
  const nop = sym.operationCount;
  const perm = new Int32Array(nop * n);
  const shift = new Int32Array(3 * nop * n);
  const L = s.lattice;
  const L0 = L[0]!, L1 = L[1]!, L2 = L[2]!, L3 = L[3]!, L4 = L[4]!, L5 = L[5]!, L6 = L[6]!, L7 = L[7]!, L8 = L[8]!;
  const f = s.frac;
  const tol2 = tolAng * tolAng;
  const code = new Int32Array(n);
  const codeOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let c = codeOf.get(s.species[i]!);
    if (c === undefined) codeOf.set(s.species[i]!, (c = codeOf.size));
    code[i] = c;
  }
  // Sites are binned by wrapped fractional coordinate; a bin is at least tolAng wide along each
  // axis (perpendicular height / bins ≥ tol), so a partner within tolAng lies in one of the 27 bins
  // around the image (or, along an axis of at most 3 bins, in any of them). Linear in N per operation
  // instead of quadratic (a 324-site cell: 5 s → 0.1 s); a cell under 64 sites is one bin (a plain scan).
  const h = perpendicularHeights(L);
  const cap = n < 64 ? 1 : Math.ceil(Math.cbrt(n / 4));
  const g0 = Math.max(1, Math.min(cap, Math.floor(h[0] / tolAng)));
  const g1 = Math.max(1, Math.min(cap, Math.floor(h[1] / tolAng)));
  const g2 = Math.max(1, Math.min(cap, Math.floor(h[2] / tolAng)));
  const binOf = (x: number, g: number) => Math.min(g - 1, Math.floor((x - Math.floor(x)) * g));
  const nb = g0 * g1 * g2;
  const head = new Int32Array(nb).fill(-1);
  const next = new Int32Array(n);
  for (let j = n - 1; j >= 0; j--) {
    const b = (binOf(f[3 * j]!, g0) * g1 + binOf(f[3 * j + 1]!, g1)) * g2 + binOf(f[3 * j + 2]!, g2);
    next[j] = head[b]!;
    head[b] = j;
  }
  // Bin offsets searched along each axis: all bins when there are at most 3, else the bin and its two neighbours.
  const lo0 = g0 <= 3 ? 0 : -1, hi0 = g0 <= 3 ? g0 - 1 : 1;
  const lo1 = g1 <= 3 ? 0 : -1, hi1 = g1 <= 3 ? g1 - 1 : 1;
  const lo2 = g2 <= 3 ? 0 : -1, hi2 = g2 <= 3 ? g2 - 1 : 1;
  const R = sym.rotations, T = sym.translations;
  for (let k = 0; k < nop; k++) {
    const o = 9 * k;
    const r0 = R[o]!, r1 = R[o + 1]!, r2 = R[o + 2]!, r3 = R[o + 3]!, r4 = R[o + 4]!, r5 = R[o + 5]!, r6 = R[o + 6]!, r7 = R[o + 7]!, r8 = R[o + 8]!;
    const t0 = T[3 * k]!, t1 = T[3 * k + 1]!, t2 = T[3 * k + 2]!;
    for (let i = 0; i < n; i++) {
      const x = f[3 * i]!, y = f[3 * i + 1]!, z = f[3 * i + 2]!;
      const a = r0 * x + r1 * y + r2 * z + t0;
      const b = r3 * x + r4 * y + r5 * z + t1;
      const c = r6 * x + r7 * y + r8 * z + t2;
      const ci = code[i]!;
      let best = -1, bestD2 = tol2;
      let s0 = 0, s1 = 0, s2 = 0;
      const ba = g0 <= 3 ? 0 : binOf(a, g0), bb = g1 <= 3 ? 0 : binOf(b, g1), bc = g2 <= 3 ? 0 : binOf(c, g2);
      for (let da0 = lo0; da0 <= hi0; da0++) {
        const ia = (ba + da0 + g0) % g0;
        for (let db0 = lo1; db0 <= hi1; db0++) {
          const ib = (bb + db0 + g1) % g1;
          for (let dc0 = lo2; dc0 <= hi2; dc0++) {
            const ic = (bc + dc0 + g2) % g2;
            for (let j = head[(ia * g1 + ib) * g2 + ic]!; j >= 0; j = next[j]!) {
              if (code[j] !== ci) continue;
              const da = a - f[3 * j]!, db = b - f[3 * j + 1]!, dc = c - f[3 * j + 2]!;
              const na = Math.round(da), nb2 = Math.round(db), nc = Math.round(dc);
              const qa = da - na, qb = db - nb2, qc = dc - nc;
              const cx = qa * L0 + qb * L3 + qc * L6;
              const cy = qa * L1 + qb * L4 + qc * L7;
              const cz = qa * L2 + qb * L5 + qc * L8;
              const d2 = cx * cx + cy * cy + cz * cz;
              if (d2 <= bestD2) {
                best = j;
                bestD2 = d2;
                s0 = na;
                s1 = nb2;
                s2 = nc;
              }
            }
          }
        }
      }
      if (best < 0) {
        throw new SymmetryError(`${structureLabel(s)}: symmetry operation ${k} maps site ${i} (${s.species[i]}) onto no site within ${tolAng} Å`);
      }
      perm[k * n + i] = best;
      shift[3 * (k * n + i)] = s0;
      shift[3 * (k * n + i) + 1] = s1;
      shift[3 * (k * n + i) + 2] = s2;
    }
  }
  return { operationCount: nop, perm, shift };
}

/** A structure reduced to its primitive cell, with the map from every input site onto it. */
export interface PrimitiveReduction {
  /** The primitive structure (lattice `Pᵀ · input lattice`, input Cartesian frame; first copy of each site). */
  primitive: Structure;
  /** Symmetry of the primitive structure (every operation maps its cell onto itself). */
  symmetry: SymmetryInfo;
  /** Symmetry of the input cell (space group, Wyckoff letters, operations of the input cell). */
  inputSymmetry: SymmetryInfo;
  /** Input lattice vectors in the primitive basis: integer 3×3, `input lattice = T · primitive lattice`. */
  T: Int32Array;
  /** For each input site, its primitive site. */
  siteToPrimitive: Int32Array;
  /** For each input site (3 per site): x_input (in primitive coordinates) = x_primitive + shift. */
  shift: Int32Array;
}

/**
 * The primitive cell of `s` found at `symprec`, keeping Cartesian positions and the input's frame:
 * the lattice is `Pᵀ · lattice` with moyo's transformation `P`, each input site is assigned to the
 * first site it coincides with modulo the primitive lattice. Throws a {@link SymmetryError} if the
 * site count does not divide.
 */
export function primitiveReduction(s: Structure, options: SymmetryOptions = {}): PrimitiveReduction {
  const symprec = options.symprec ?? DEFAULT_SYMPREC;
  checkSymprec(symprec);
  const key = cacheKey(s, symprec);
  const hit = reductionCache.get(key);
  // A cached reduction may come from another Structure object with the same content (the hash covers
  // lattice, species, coordinates and charges, not `info`): its primitive structure takes this one's info.
  if (hit) return hit.input === s ? hit.reduction : { ...hit.reduction, primitive: hit.reduction.primitive === hit.input ? s : { ...hit.reduction.primitive, info: { ...s.info } } };
  const reduction = reducePrimitive(s, symprec, key);
  reductionCache.set(key, { input: s, reduction });
  return reduction;
}

function identityReduction(s: Structure, sym: SymmetryInfo): PrimitiveReduction {
  const n = s.species.length;
  return {
    primitive: s,
    symmetry: sym,
    inputSymmetry: sym,
    T: Int32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]),
    siteToPrimitive: Int32Array.from({ length: n }, (_, i) => i),
    shift: new Int32Array(3 * n),
  };
}

function reducePrimitive(s: Structure, symprec: number, key: string): PrimitiveReduction {
  // A cell in which the operation search finds no pure translation is primitive: its operations and
  // classes come from that search, and moyo runs only if the space group or Wyckoff letters are read.
  const sym = searchedSymmetry(s, symprec, key);
  if (sym) return identityReduction(s, sym);
  // A supercell is reduced by its own pure translations first and analysed as its primitive cell
  // (moyo's cost grows ~N³ with the sites of a supercell it is given).
  const fast = translationReduction(s, symprec, key);
  if (fast) return fast;
  // Otherwise (the searches decline) moyo analyses the input cell as a whole, by its own rules.
  const inputSymmetry = symmetryFromMoyo(s, symprec);
  const P = inputSymmetry.primitiveLinear;
  const Pt = [P[0]!, P[3]!, P[6]!, P[1]!, P[4]!, P[7]!, P[2]!, P[5]!, P[8]!];
  const lp = mul3(Pt, s.lattice);
  const ratio = latticeRatio(s, lp, symprec);
  if (ratio === 1 && inputSymmetry.droppedOperations === 0) {
    // Already primitive: keep the input basis and sites, so the symmetry found is reused as it is.
    return identityReduction(s, inputSymmetry);
  }
  const sites = primitiveSites(s, lp, ratio, symprec);
  return { ...sites, symmetry: primitiveSymmetry(sites.primitive, symprec), inputSymmetry };
}

/**
 * The symmetry of a primitive cell found by a reduction, from the cell itself (operation search, else
 * moyo). Not derived from the input cell's operations: in a supercell whose lattice has lower
 * symmetry than the crystal (CaF2 1×1×2) moyo lists only the operations that map that cell onto
 * itself, 16 of fluorite's 48 point operations, without counting the others as dropped.
 */
function primitiveSymmetry(p: Structure, symprec: number): SymmetryInfo {
  return searchedSymmetry(p, symprec, cacheKey(p, symprec)) ?? symmetryFromMoyo(p, symprec);
}

/** Volume ratio of the input cell to the primitive lattice `lp`; throws unless `lp` spans a sublattice. */
function latticeRatio(s: Structure, lp: ArrayLike<number>, symprec: number): number {
  const n = s.species.length;
  const Tf = mul3(s.lattice, inv3(lp));
  for (let k = 0; k < 9; k++) {
    if (Math.abs(Tf[k]! - Math.round(Tf[k]!)) > 1e-6) throw new SymmetryError(`${structureLabel(s)}: the input lattice is not a superlattice of the primitive lattice found at ${symprec} Å`);
  }
  const ratio = Math.abs(Math.round(det3(Int32Array.from(Tf, (x) => Math.round(x)))));
  if (ratio < 1 || n % ratio !== 0) throw new SymmetryError(`${structureLabel(s)}: primitive cell of volume ratio ${ratio} does not divide the ${n} sites`);
  return ratio;
}

/**
 * The primitive structure with lattice `lp` (input frame): each input site assigned to the first site
 * it coincides with modulo `lp` within symprec (./primitive-cell.ts, linear in the site count).
 */
function primitiveSites(s: Structure, lp: Float64Array, ratio: number, symprec: number): Omit<PrimitiveReduction, 'symmetry' | 'inputSymmetry'> {
  const n = s.species.length;
  const T = Int32Array.from(mul3(s.lattice, inv3(lp)), (x) => Math.round(x));
  const pf = fracToCart(inv3(lp), fracToCart(s.lattice, s.frac));
  const { kept, siteToKept: siteToPrimitive, shift } = firstCopies(s.species, pf, lp, symprec);
  if (kept.length * ratio !== n) {
    throw new SymmetryError(`${structureLabel(s)}: the primitive cell should hold ${n / ratio} sites but ${kept.length} distinct sites were found at ${symprec} Å`);
  }
  const primFrac = new Float64Array(3 * kept.length);
  kept.forEach((i, q) => primFrac.set(pf.subarray(3 * i, 3 * i + 3), 3 * q));
  const primitive: Structure = {
    lattice: lp,
    species: kept.map((i) => s.species[i]!),
    frac: primFrac,
    oxidationStates: null,
    siteProperties: {},
    info: { ...s.info },
  };
  return { primitive, T, siteToPrimitive, shift };
}

/**
 * The primitive reduction of a supercell without analysing the supercell itself: its pure
 * translations (./symops.ts, about linear in N) span the primitive lattice (./primitive-cell.ts);
 * its sites are folded onto that lattice; the small cell's symmetry is found (operation search, moyo
 * naming the group), and moyo's primitive basis there (`prim_std_linear`) becomes the primitive
 * cell's basis. The primitive cell's symmetry comes from the operation search (or moyo) on it, and
 * the input cell's symmetry is derived from that ({@link supercellSymmetry}).
 *
 * Measured (bench/large-inputs, LiF supercells, busy 2-core host): the hop search with space group
 * and Wyckoff symbols 0.012 s at 1000 sites and 0.05 s at 2016, where moyo's analysis of the whole
 * cell took 126 s at 1000 sites and grew ~N^3.7.
 *
 * Returns null — the caller then runs moyo on the whole input — where the cell has no pure translation
 * or the steps disagree with each other (translations that are not a group, a site count that does
 * not divide, a smaller cell found in the small one).
 */
function reduceByTranslations(s: Structure, symprec: number): PrimitiveReduction | null {
  const n = s.species.length;
  const found = pureTranslationLattice(s, symprec);
  if (!found || found.ratio === 1) return null;
  const { ratio, basis: B } = found;
  if (n % ratio !== 0) return null;
  const L0 = mul3(B, s.lattice);
  const pf0 = fracToCart(inv3(B), s.frac);
  const first = firstCopies(s.species, pf0, L0, symprec);
  if (first.kept.length * ratio !== n) return null;
  const f0 = new Float64Array(3 * first.kept.length);
  first.kept.forEach((i, q) => f0.set(pf0.subarray(3 * i, 3 * i + 3), 3 * q));
  let sites: ReturnType<typeof primitiveSites> | null = null;
  // Up to MOYO_WHOLE_CELL_MAX_SITES sites the basis is moyo's primitive basis of the whole input cell,
  // as in earlier releases (so sanitised structures keep their basis), where it spans the same lattice.
  if (n <= MOYO_WHOLE_CELL_MAX_SITES) {
    const whole = moyoIfAny(s, symprec);
    if (whole) sites = primitiveSitesIn(s, moyoBasis(whole.primitiveLinear, s.lattice), ratio, symprec);
  }
  if (!sites) {
    const p0: Structure = { lattice: L0, species: first.kept.map((i) => s.species[i]!), frac: f0, oxidationStates: null, siteProperties: {}, info: { ...s.info } };
    const d0 = primitiveSymmetry(p0, symprec);
    if (d0.droppedOperations !== 0 || Math.abs(Math.abs(det3(d0.primitiveLinear)) - 1) > 1e-6) return null;
    sites = primitiveSitesIn(s, moyoBasis(d0.primitiveLinear, L0), ratio, symprec);
  }
  if (!sites) return null;
  const psym = primitiveSymmetry(sites.primitive, symprec);
  if (psym.droppedOperations !== 0) return null;
  return { ...sites, symmetry: psym, inputSymmetry: supercellSymmetry(s, psym, sites.T, sites.siteToPrimitive, sites.shift) };
}

/** moyo's analysis of the whole cell, or null where moyo gives up. */
function moyoIfAny(s: Structure, symprec: number): SymmetryInfo | null {
  try {
    return symmetryFromMoyo(s, symprec);
  } catch (e) {
    if (e instanceof SymmetryError) return null;
    throw e;
  }
}

/** Rows of the primitive lattice from moyo's `primitiveLinear` P of a cell with lattice L: Pᵀ · L. */
function moyoBasis(P: ArrayLike<number>, L: ArrayLike<number>): Float64Array {
  return mul3([P[0]!, P[3]!, P[6]!, P[1]!, P[4]!, P[7]!, P[2]!, P[5]!, P[8]!], L);
}

/** {@link primitiveSites} for the lattice `lp` of `ratio` points per cell, or null where `lp` is not that lattice. */
function primitiveSitesIn(s: Structure, lp: Float64Array, ratio: number, symprec: number): ReturnType<typeof primitiveSites> | null {
  try {
    if (latticeRatio(s, lp, symprec) !== ratio) return null;
    return primitiveSites(s, lp, ratio, symprec);
  } catch (e) {
    if (e instanceof SymmetryError) return null;
    throw e;
  }
}

/**
 * The symmetry of a supercell derived from its primitive cell's `psym` (input lattice = T · primitive
 * lattice; site i sits on primitive site siteToPrimitive[i] + shift): the space group, Wyckoff letters
 * and standardised cell are the primitive cell's; orbits and classes follow the sites' primitive
 * classes; the operations of the input cell are each primitive operation (R, t) as (T⁻ᵀ R Tᵀ, T⁻ᵀ t)
 * combined with each pure translation, keeping those with an integral rotation (the others, which
 * do not map the input lattice onto itself, are counted in `droppedOperations`; moyo leaves some of
 * them out of its own count). The operations are built on first read; a 2000-site supercell of a
 * cubic crystal has ~50,000.
 */
function supercellSymmetry(s: Structure, psym: SymmetryInfo, T: Int32Array, siteToPrimitive: Int32Array, shift: Int32Array): SymmetryInfo {
  const n = s.species.length;
  const nClass = psym.classes.length;
  const firstOfClass = new Int32Array(nClass).fill(-1);
  const orbits = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = psym.classOf[siteToPrimitive[i]!]!;
    if (firstOfClass[c] === -1) firstOfClass[c] = i;
    orbits[i] = firstOfClass[c]!;
  }
  const { classOf, classes } = classesOfOrbits(orbits);
  const Tt = [T[0]!, T[3]!, T[6]!, T[1]!, T[4]!, T[7]!, T[2]!, T[5]!, T[8]!];
  const TtInv = inv3(Tt);
  let ops: { rotations: Int32Array; translations: Float64Array; count: number; dropped: number } | null = null;
  const operations = () => {
    if (ops) return ops;
    // Pure translations: the copies of the first input site's primitive site, (shift_j − shift_0) in
    // primitive coordinates, i.e. T⁻ᵀ (shift_j − shift_0) in the input cell's.
    const taus: number[][] = [];
    const p0 = siteToPrimitive[0]!;
    for (let j = 0; j < n; j++) {
      if (siteToPrimitive[j] !== p0) continue;
      const v = [0, 1, 2].map((k) => shift[3 * j + k]! - shift[k]!);
      taus.push([0, 1, 2].map((r) => TtInv[3 * r]! * v[0]! + TtInv[3 * r + 1]! * v[1]! + TtInv[3 * r + 2]! * v[2]!));
    }
    const rot: number[] = [];
    const tr: number[] = [];
    let dropped = 0;
    const wrap = (x: number) => {
      const w = x - Math.floor(x);
      return w > 1 - 1e-10 || w < 1e-10 ? 0 : w;
    };
    for (let k = 0; k < psym.operationCount; k++) {
      const R = mul3(mul3(TtInv, psym.rotations.subarray(9 * k, 9 * k + 9)), Tt);
      const Ri = Array.from(R, (x) => Math.round(x));
      if (Ri.some((x, q) => Math.abs(x - R[q]!) > 1e-6)) {
        dropped += taus.length;
        continue;
      }
      const tp = psym.translations.subarray(3 * k, 3 * k + 3);
      const t = [0, 1, 2].map((r) => TtInv[3 * r]! * tp[0]! + TtInv[3 * r + 1]! * tp[1]! + TtInv[3 * r + 2]! * tp[2]!);
      for (const tau of taus) {
        rot.push(...Ri);
        tr.push(wrap(t[0]! + tau[0]!), wrap(t[1]! + tau[1]!), wrap(t[2]! + tau[2]!));
      }
    }
    ops = { rotations: Int32Array.from(rot), translations: Float64Array.from(tr), count: rot.length / 9, dropped };
    return ops;
  };
  const info = { symprec: psym.symprec, orbits, classOf, classes } as Partial<SymmetryInfo>;
  const lazy: { [K in keyof SymmetryInfo]?: () => SymmetryInfo[K] } = {
    number: () => psym.number,
    symbol: () => psym.symbol,
    hallNumber: () => psym.hallNumber,
    symprecUsed: () => psym.symprecUsed,
    operationCount: () => operations().count,
    droppedOperations: () => operations().dropped,
    rotations: () => operations().rotations,
    translations: () => operations().translations,
    wyckoffs: () => Array.from(siteToPrimitive, (q) => psym.wyckoffs[q]!),
    classWyckoffSymbols: () => classes.map((c) => `${c.length}${psym.wyckoffs[siteToPrimitive[c[0]!]!]}`),
    primitiveStandard: () => psym.primitiveStandard,
    // Rows of the standardised primitive cell = Pₚᵀ · primitive lattice = Pₚᵀ T⁻¹ · input lattice.
    primitiveLinear: () => mul3(TtInv, psym.primitiveLinear),
  };
  for (const [f, get] of Object.entries(lazy)) {
    let value: unknown;
    let done = false;
    Object.defineProperty(info, f, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (!done) {
          value = (get as () => unknown)();
          done = true;
        }
        return value;
      },
    });
  }
  return info as SymmetryInfo;
}
