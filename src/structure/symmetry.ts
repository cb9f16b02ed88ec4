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

/**
 * Space group, operations in the input cell, equivalence classes, Wyckoff letters and the primitive
 * standardised cell of `s`, found at distance tolerance `symprec` (Å, default 0.1).
 */
export function symmetry(s: Structure, options: SymmetryOptions = {}): SymmetryInfo {
  const symprec = options.symprec ?? DEFAULT_SYMPREC;
  checkSymprec(symprec);
  const d = moyoDataset(s, symprec);
  const n = s.species.length;
  // moyo serialises each rotation column by column (nalgebra's storage order); stored here row-major.
  // For a supercell whose lattice is not invariant under the whole point group (e.g. a sheared 1×1×3
  // fluorite cell) moyo also lists point operations that do not map the cell onto itself; their
  // matrices are not integral/unimodular there and are left out: only operations of the input cell
  // are kept. Hop equivalence uses the primitive cell instead (see primitiveReduction).
  const rot: number[] = [];
  const tr: number[] = [];
  let dropped = 0;
  for (const op of d.operations) {
    const m = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((q) => op.rotation[3 * (q % 3) + Math.floor(q / 3)]!);
    const integral = m.every((x) => Number.isInteger(x));
    const det = m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
    if (!integral || Math.abs(det) !== 1) {
      dropped++;
      continue;
    }
    rot.push(...m);
    tr.push(op.translation[0], op.translation[1], op.translation[2]);
  }
  const nop = rot.length / 9;
  const rotations = Int32Array.from(rot);
  const translations = Float64Array.from(tr);
  const orbits = Int32Array.from(d.orbits);
  const classOf = new Int32Array(n);
  const classes: number[][] = [];
  const classIndexOfRep = new Map<number, number>();
  // Orbit representatives are the smallest index of their orbit, so walking sites in order opens
  // classes in the order of their smallest index (pymatgen's np.unique order).
  for (let i = 0; i < n; i++) {
    const rep = orbits[i]!;
    let c = classIndexOfRep.get(rep);
    if (c === undefined) {
      c = classes.length;
      classIndexOfRep.set(rep, c);
      classes.push([]);
    }
    classes[c]!.push(i);
    classOf[i] = c;
  }
  const wyckoffs = d.wyckoffs.slice();
  const classWyckoffSymbols = classes.map((c) => `${c.length}${wyckoffs[c[0]!]}`);
  const zToSymbol = new Map<number, string>();
  for (const sp of s.species) zToSymbol.set(element(sp).z, sp);
  const pc = d.prim_std_cell;
  const primFrac = new Float64Array(3 * pc.positions.length);
  pc.positions.forEach((p, i) => {
    primFrac[3 * i] = p[0];
    primFrac[3 * i + 1] = p[1];
    primFrac[3 * i + 2] = p[2];
  });
  return {
    number: d.number,
    symbol: d.hm_symbol,
    hallNumber: d.hall_number,
    symprec,
    operationCount: nop,
    droppedOperations: dropped,
    rotations,
    translations,
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
    primitiveLinear: Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8], (q) => d.prim_std_linear[3 * (q % 3) + Math.floor(q / 3)]!),
  };
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
  const f = s.frac;
  const tol2 = tolAng * tolAng;
  // Sites are binned by wrapped fractional coordinate; a bin is at least tolAng wide along each
  // axis (perpendicular height / bins ≥ tol), so a partner within tolAng lies in one of the 27 bins
  // around the image. Linear in N per operation instead of quadratic (a 324-site cell: 5 s → 0.1 s).
  const h = perpendicularHeights(L);
  // More bins than ~N^(1/3) per axis only costs clearing them; a small cell is one bin (a plain scan).
  const cap = Math.max(1, Math.ceil(Math.cbrt(n / 4)));
  const g = [0, 1, 2].map((k) => Math.max(1, Math.min(cap, Math.floor(h[k]! / tolAng)))) as [number, number, number];
  const binOf = (x: number, k: number) => {
    const w = x - Math.floor(x);
    return Math.min(g[k]! - 1, Math.floor(w * g[k]!));
  };
  const nb = g[0] * g[1] * g[2];
  const head = new Int32Array(nb).fill(-1);
  const next = new Int32Array(n);
  for (let j = n - 1; j >= 0; j--) {
    const b = (binOf(f[3 * j]!, 0) * g[1] + binOf(f[3 * j + 1]!, 1)) * g[2] + binOf(f[3 * j + 2]!, 2);
    next[j] = head[b]!;
    head[b] = j;
  }
  const ra = Math.min(1, g[0] - 1), rb = Math.min(1, g[1] - 1), rc = Math.min(1, g[2] - 1);
  for (let k = 0; k < nop; k++) {
    const R = sym.rotations.subarray(9 * k, 9 * k + 9);
    const t0 = sym.translations[3 * k]!, t1 = sym.translations[3 * k + 1]!, t2 = sym.translations[3 * k + 2]!;
    for (let i = 0; i < n; i++) {
      const x = f[3 * i]!, y = f[3 * i + 1]!, z = f[3 * i + 2]!;
      const a = R[0]! * x + R[1]! * y + R[2]! * z + t0;
      const b = R[3]! * x + R[4]! * y + R[5]! * z + t1;
      const c = R[6]! * x + R[7]! * y + R[8]! * z + t2;
      let best = -1, bestD2 = tol2;
      let s0 = 0, s1 = 0, s2 = 0;
      const ba = binOf(a, 0), bb = binOf(b, 1), bc = binOf(c, 2);
      for (let da0 = -ra; da0 <= ra; da0++) {
        const ia = (ba + da0 + g[0]) % g[0];
        for (let db0 = -rb; db0 <= rb; db0++) {
          const ib = (bb + db0 + g[1]) % g[1];
          for (let dc0 = -rc; dc0 <= rc; dc0++) {
            const ic = (bc + dc0 + g[2]) % g[2];
            for (let j = head[(ia * g[1] + ib) * g[2] + ic]!; j >= 0; j = next[j]!) {
              if (s.species[j] !== s.species[i]) continue;
              const da = a - f[3 * j]!, db = b - f[3 * j + 1]!, dc = c - f[3 * j + 2]!;
              const na = Math.round(da), nb2 = Math.round(db), nc = Math.round(dc);
              const qa = da - na, qb = db - nb2, qc = dc - nc;
              const cx = qa * L[0]! + qb * L[3]! + qc * L[6]!;
              const cy = qa * L[1]! + qb * L[4]! + qc * L[7]!;
              const cz = qa * L[2]! + qb * L[5]! + qc * L[8]!;
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
  const inputSymmetry = symmetry(s, options);
  const symprec = inputSymmetry.symprec;
  const n = s.species.length;
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
