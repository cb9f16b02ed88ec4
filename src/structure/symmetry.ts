/**
 * Crystal symmetry of a Structure through moyo (`@spglib/moyo-wasm`).
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
import { searchOperations, type FoundOperations } from './symops.js';

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
   * Tolerance moyo finally worked with, Å: `symprec` unless the operations found there did not form a
   * group and moyo retried with a smaller (or larger) one.
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

/** Empties the symmetry cache (benchmarks time cold calls with it). */
export function clearSymmetryCache(): void {
  symmetryCache.clear();
  searchCache.clear();
  reductionCache.clear();
}

/** Number of entries in the symmetry cache (symmetry results + primitive reductions). */
export function symmetryCacheSize(): number {
  return symmetryCache.size + reductionCache.size + searchCache.size;
}

function cacheKey(s: Structure, symprec: number): string {
  return `${structureHash(s)}@${symprec}`;
}

/**
 * Space group, operations in the input cell, equivalence classes, Wyckoff letters and the primitive
 * standardised cell of `s`, found at distance tolerance `symprec` (Å, default 0.1).
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
  const sym = symmetryFromMoyo(s, symprec);
  symmetryCache.set(key, sym);
  return sym;
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

/**
 * The symmetry of a primitive cell from the operation search of ./symops.ts (operations, orbits and
 * classes, identical to moyo's where the search answers), with the moyo-only fields — space group,
 * Wyckoff letters, standardised cell — computed by {@link symmetry} on first access. Callers that only
 * need operations and equivalent sites (the hop search) never wait for moyo.
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
    symprecUsed: symprec,
    operationCount: ops.operationCount,
    droppedOperations: 0,
    rotations: ops.rotations,
    translations: ops.translations,
    orbits,
    classOf,
    classes,
  } as Partial<SymmetryInfo>;
  let full: SymmetryInfo | null = null;
  for (const f of MOYO_ONLY_FIELDS) {
    Object.defineProperty(info, f, { enumerable: true, configurable: true, get: () => (full ??= symmetry(s, { symprec }))[f] });
  }
  return info as SymmetryInfo;
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

/** Largest cell (sites) for which {@link symmetryOrbits} runs its own operation search (quadratic in N). */
export const OWN_SEARCH_MAX_SITES = 200;

/**
 * The `orbits` of {@link symmetry} (for each site, the smallest index of an equivalent site) without
 * the full moyo dataset when possible: for a primitive cell of up to {@link OWN_SEARCH_MAX_SITES} sites
 * the operations come from ./symops.ts (the same search moyo runs first, without space-group
 * identification, standardisation and Wyckoff positions); in every case that search declines
 * (non-primitive cell, or moyo would change the tolerance) moyo answers. Cached like {@link symmetry}.
 */
export function symmetryOrbits(s: Structure, options: SymmetryOptions = {}): Int32Array {
  const symprec = options.symprec ?? DEFAULT_SYMPREC;
  checkSymprec(symprec);
  const key = cacheKey(s, symprec);
  const full = symmetryCache.get(key);
  if (full) return full.orbits;
  return (searchedSymmetry(s, symprec, key) ?? symmetry(s, { symprec })).orbits;
}

/**
 * The symmetry from the operation search of ./symops.ts for a cell of up to
 * {@link OWN_SEARCH_MAX_SITES} sites, or null where the search declines; run once per structure
 * content for both {@link symmetryOrbits} and {@link primitiveReduction}.
 */
function searchedSymmetry(s: Structure, symprec: number, key: string): SymmetryInfo | null {
  const hit = searchCache.get(key);
  if (hit) return hit.info;
  const ops = s.species.length <= OWN_SEARCH_MAX_SITES ? searchOperations(s, symprec) : null;
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

function reducePrimitive(s: Structure, symprec: number, key: string): PrimitiveReduction {
  const n = s.species.length;
  // A cell in which the operation search finds no pure translation is primitive: its operations and
  // classes come from that search, and moyo runs only if the space group or Wyckoff letters are read.
  const sym = searchedSymmetry(s, symprec, key);
  if (sym) {
    return {
      primitive: s,
      symmetry: sym,
      inputSymmetry: sym,
      T: Int32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]),
      siteToPrimitive: Int32Array.from({ length: n }, (_, i) => i),
      shift: new Int32Array(3 * n),
    };
  }
  const inputSymmetry = symmetry(s, { symprec });
  const P = inputSymmetry.primitiveLinear;
  const Pt = [P[0]!, P[3]!, P[6]!, P[1]!, P[4]!, P[7]!, P[2]!, P[5]!, P[8]!];
  const lp = mul3(Pt, s.lattice);
  const Tf = mul3(s.lattice, inv3(lp));
  const T = Int32Array.from(Tf, (x) => Math.round(x));
  for (let k = 0; k < 9; k++) {
    if (Math.abs(Tf[k]! - T[k]!) > 1e-6) throw new SymmetryError(`${structureLabel(s)}: the input lattice is not a superlattice of the primitive lattice found at ${symprec} Å`);
  }
  const ratio = Math.abs(Math.round(det3(T)));
  if (ratio < 1 || n % ratio !== 0) throw new SymmetryError(`${structureLabel(s)}: primitive cell of volume ratio ${ratio} does not divide the ${n} sites`);
  if (ratio === 1 && inputSymmetry.droppedOperations === 0) {
    // Already primitive: keep the input basis and sites, so the symmetry found is reused as it is.
    return {
      primitive: s,
      symmetry: inputSymmetry,
      inputSymmetry,
      T: Int32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]),
      siteToPrimitive: Int32Array.from({ length: n }, (_, i) => i),
      shift: new Int32Array(3 * n),
    };
  }
  const pf = fracToCart(inv3(lp), fracToCart(s.lattice, s.frac));
  const kept: number[] = [];
  const siteToPrimitive = new Int32Array(n);
  const shift = new Int32Array(3 * n);
  const tol2 = symprec * symprec;
  for (let i = 0; i < n; i++) {
    let match = -1;
    for (let q = 0; q < kept.length && match < 0; q++) {
      const j = kept[q]!;
      if (s.species[j] !== s.species[i]) continue;
      const d = [0, 1, 2].map((k) => pf[3 * i + k]! - pf[3 * j + k]!);
      const r = d.map((x) => Math.round(x));
      const c = fracToCart(lp, d.map((x, k) => x - r[k]!));
      if (c[0]! * c[0]! + c[1]! * c[1]! + c[2]! * c[2]! <= tol2) {
        match = q;
        shift.set(r, 3 * i);
      }
    }
    if (match < 0) {
      match = kept.length;
      kept.push(i);
    }
    siteToPrimitive[i] = match;
  }
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
  const derived = inputSymmetry.droppedOperations === 0 ? primitiveSymmetryFromInput(inputSymmetry, T, kept, siteToPrimitive) : null;
  return { primitive, symmetry: derived ?? symmetry(primitive, { symprec }), inputSymmetry, T, siteToPrimitive, shift };
}

/**
 * The symmetry of the primitive cell expressed from the input cell's operations, saving a second
 * moyo call: with f_p = Tᵀ f_in, an operation (R, t) becomes (Tᵀ R T⁻ᵀ, Tᵀ t); the pure translations
 * of the supercell collapse onto the identity and duplicates (same R, same t modulo 1) are dropped.
 * Returns null if a transformed rotation is not integral (then moyo is asked directly).
 */
function primitiveSymmetryFromInput(sym: SymmetryInfo, T: Int32Array, kept: number[], siteToPrimitive: Int32Array): SymmetryInfo | null {
  const Tt = [T[0]!, T[3]!, T[6]!, T[1]!, T[4]!, T[7]!, T[2]!, T[5]!, T[8]!];
  const TtInv = inv3(Tt);
  const rot: number[] = [];
  const tr: number[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < sym.operationCount; k++) {
    const R = mul3(mul3(Tt, sym.rotations.subarray(9 * k, 9 * k + 9)), TtInv);
    const Ri = Array.from(R, (x) => Math.round(x));
    if (Ri.some((x, q) => Math.abs(x - R[q]!) > 1e-6)) return null;
    const t = [0, 1, 2].map((r) => Tt[3 * r]! * sym.translations[3 * k]! + Tt[3 * r + 1]! * sym.translations[3 * k + 1]! + Tt[3 * r + 2]! * sym.translations[3 * k + 2]!);
    const tw = t.map((x) => {
      const w = x - Math.floor(x);
      return w > 1 - 1e-6 ? 0 : w;
    });
    const key = `${Ri.join(',')}|${tw.map((x) => Math.round(x * 1e5)).join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rot.push(...Ri);
    tr.push(...t);
  }
  const np = kept.length;
  const label = kept.map((i) => siteToPrimitive[sym.orbits[i]!]!);
  const orbitRep = new Map<number, number>();
  label.forEach((l, q) => {
    if (!orbitRep.has(l)) orbitRep.set(l, q);
  });
  const orbits = Int32Array.from(label, (l) => orbitRep.get(l)!);
  const classOf = new Int32Array(np);
  const classes: number[][] = [];
  const classIndexOfRep = new Map<number, number>();
  for (let q = 0; q < np; q++) {
    let c = classIndexOfRep.get(orbits[q]!);
    if (c === undefined) {
      c = classes.length;
      classIndexOfRep.set(orbits[q]!, c);
      classes.push([]);
    }
    classes[c]!.push(q);
    classOf[q] = c;
  }
  const wyckoffs = kept.map((i) => sym.wyckoffs[i]!);
  const P = sym.primitiveLinear;
  return {
    ...sym,
    operationCount: rot.length / 9,
    droppedOperations: 0,
    rotations: Int32Array.from(rot),
    translations: Float64Array.from(tr),
    orbits,
    classOf,
    classes,
    wyckoffs,
    classWyckoffSymbols: classes.map((c) => `${c.length}${wyckoffs[c[0]!]}`),
    primitiveLinear: mul3(Tt, P),
  };
}
