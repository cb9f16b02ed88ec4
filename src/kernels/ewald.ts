/**
 * Ewald summation of point charges (oxidation states): TS wrapper of the WASM kernel
 * (assembly/ewald.ts) and the public `ewald(structure, options)` / `ewaldSiteEnergy(structure, site)`.
 *
 * Semantics are pymatgen's `EwaldSummation` (2022.11.7):
 *   η     = (N·w/V²)^(1/3)·π with w = 1/√2           (Å⁻²)
 *   accf  = √(ln 10^acc_factor)                       (acc_factor default 12)
 *   rmax  = accf/√η (Å),  gmax = 2·√η·accf (Å⁻¹)
 *   total = real + reciprocal + point + charged-cell term −K·π·Q²/(2·V·η) (Q = net charge),
 *   site energies (`get_site_energy`) leave the charged-cell term out.
 * η and both cutoffs may be given instead of derived; K = 14.39964547842567 eV·Å/e².
 */
import type { Structure } from '../structure/structure.js';
import { volume } from '../structure/structure.js';
import { fracToCart } from '../structure/lattice.js';
import { loadKernel, type Arena } from './wasm.js';
import {
  EWALD_CONV_FACT,
  EWALD_STATUS,
  ewaldEnergyTs,
  ewaldSiteEnergyTs,
  ewaldStatusError,
  type EwaldParameters,
  type EwaldParts,
  type EwaldSiteParts,
} from './ewald-ts.js';

export { EWALD_CONV_FACT, EwaldStatusError, ewaldEnergyTs, ewaldSiteEnergyTs } from './ewald-ts.js';
export type { EwaldParameters, EwaldParts, EwaldSiteParts } from './ewald-ts.js';

/** pymatgen's default accuracy: each sum converged to ~12 significant figures. */
export const DEFAULT_ACC_FACTOR = 12;
/** pymatgen's weight w = 1/√2 (relative cost of a real- and a reciprocal-space term). */
const W = 1 / 2 ** 0.5;

export interface EwaldOptions {
  /** Significant figures each sum is converged to (pymatgen `acc_factor`). Default 12. */
  accFactor?: number;
  /** Screening parameter η, Å⁻². Default (N·w/V²)^(1/3)·π. */
  eta?: number;
  /** Real-space cutoff, Å. Default accf/√η. */
  realCutoffAng?: number;
  /** Reciprocal-space cutoff |G|, Å⁻¹ (2π included). Default 2·√η·accf. */
  recipCutoff?: number;
  /** Charges per site (e), replacing the structure's oxidation states. */
  oxidationStates?: ArrayLike<number>;
  /** Compute per-site energies. Default true (costs a second reciprocal-space pass). */
  siteEnergies?: boolean;
  /** `wasm` (default) or the plain-TypeScript twin `ts`. */
  backend?: 'wasm' | 'ts';
}

export interface EwaldResult {
  /** Parameters used. */
  accFactor: number;
  eta: number;
  realCutoffAng: number;
  recipCutoff: number;
  /** Net charge of the cell, e. */
  netCharge: number;
  /** Total energy, eV (includes the charged-cell term). */
  totalEnergyEv: number;
  realSpaceEnergyEv: number;
  reciprocalSpaceEnergyEv: number;
  pointEnergyEv: number;
  /** −K·π·Q²/(2·V·η); zero for a neutral cell. */
  chargedCellEnergyEv: number;
  /** Per-site energies, eV (pymatgen `get_site_energy`: no charged-cell term); null if not asked for. */
  siteEnergiesEv: Float64Array | null;
}

/** The structure carries no oxidation states and none were given. */
export class MissingOxidationStatesError extends Error {
  constructor(what: string) {
    super(
      `Ewald: ${what} has no oxidation states; give them in the file (e.g. species "Ca2+"/"F-" in CIF or pymatgen JSON) ` +
        'or pass them explicitly (library: options.oxidationStates; CLI: --oxi Ca=2,F=-1)',
    );
    this.name = 'MissingOxidationStatesError';
  }
}

function checkPositive(name: string, v: number | undefined): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`Ewald: ${name} must be a positive finite number, got ${String(v)}`);
}

/**
 * η and the cutoffs for a cell of `nSites` sites and volume `volumeAng3`, as pymatgen derives them;
 * values given in `options` are taken as they are.
 */
export function ewaldParameters(nSites: number, volumeAng3: number, options: Pick<EwaldOptions, 'accFactor' | 'eta' | 'realCutoffAng' | 'recipCutoff'> = {}): EwaldParameters & { accFactor: number } {
  const acc = options.accFactor ?? DEFAULT_ACC_FACTOR;
  checkPositive('accFactor', acc);
  checkPositive('eta', options.eta);
  checkPositive('realCutoffAng', options.realCutoffAng);
  checkPositive('recipCutoff', options.recipCutoff);
  if (!Number.isInteger(nSites) || nSites < 1) throw new RangeError(`Ewald: nSites must be a positive integer, got ${nSites}`);
  checkPositive('volumeAng3', volumeAng3);
  const eta = options.eta ?? Math.pow((nSites * W) / (volumeAng3 * volumeAng3), 1 / 3) * Math.PI;
  const sqrtEta = Math.sqrt(eta);
  const accf = Math.sqrt(Math.log(Math.pow(10, acc)));
  return {
    accFactor: acc,
    eta,
    realCutoffAng: options.realCutoffAng ?? accf / sqrtEta,
    recipCutoff: options.recipCutoff ?? 2 * sqrtEta * accf,
  };
}

function charges(structure: Structure, options: EwaldOptions): Float64Array {
  const n = structure.species.length;
  const given = options.oxidationStates;
  if (given !== undefined) {
    if (given.length !== n) throw new RangeError(`Ewald: oxidationStates has ${given.length} values for ${n} sites`);
    const q = Float64Array.from(given);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(q[i]!)) throw new RangeError(`Ewald: oxidationStates[${i}] is ${String(given[i])} (not a finite number)`);
    }
    return q;
  }
  if (!structure.oxidationStates) throw new MissingOxidationStatesError(structure.info.id ? `structure ${structure.info.id}` : 'the structure');
  return structure.oxidationStates;
}

function backendOf(options: EwaldOptions): 'wasm' | 'ts' {
  const b = options.backend ?? 'wasm';
  if (b !== 'wasm' && b !== 'ts') throw new RangeError(`Ewald: backend must be 'wasm' or 'ts', got ${String(b)}`);
  return b;
}

/**
 * Ewald energy of `structure` with its oxidation states as point charges (pymatgen
 * `EwaldSummation(structure, acc_factor=…)`: `total_energy`, its parts, `get_site_energy(i)`).
 *
 * ```ts
 * const e = ewald(readStructure('CaF2.cif'), { accFactor: 12 });
 * console.log(e.totalEnergyEv, e.siteEnergiesEv![0]);
 * ```
 */
export function ewald(structure: Structure, options: EwaldOptions = {}): EwaldResult {
  const backend = backendOf(options);
  const q = charges(structure, options);
  const n = q.length;
  const vol = volume(structure);
  const p = ewaldParameters(n, vol, options);
  const pos = fracToCart(structure.lattice, structure.frac);
  const wantSites = options.siteEnergies !== false;
  const parts = backend === 'wasm' ? ewaldEnergyWasm(structure.lattice, pos, q, p, wantSites) : ewaldEnergyTs(structure.lattice, pos, q, p, wantSites);
  let netCharge = 0;
  for (let i = 0; i < n; i++) netCharge += q[i]!;
  const charged = ((-EWALD_CONV_FACT / 2) * Math.PI) / vol / p.eta * netCharge ** 2;
  return {
    accFactor: p.accFactor,
    eta: p.eta,
    realCutoffAng: p.realCutoffAng,
    recipCutoff: p.recipCutoff,
    netCharge,
    totalEnergyEv: parts.recip + parts.real + parts.point + charged,
    realSpaceEnergyEv: parts.real,
    reciprocalSpaceEnergyEv: parts.recip,
    pointEnergyEv: parts.point,
    chargedCellEnergyEv: charged,
    siteEnergiesEv: parts.sites,
  };
}

/**
 * The Ewald energy of one site (eV; pymatgen `get_site_energy(site)`, no charged-cell term) in O(N)
 * work per image and per reciprocal vector, without the N×N matrices.
 */
export function ewaldSiteEnergy(structure: Structure, site: number, options: EwaldOptions = {}): number {
  const p = ewaldSiteEnergyParts(structure, site, options);
  return p.real + p.recip + p.point;
}

/** {@link ewaldSiteEnergy} split into its real, reciprocal and point parts (eV). */
export function ewaldSiteEnergyParts(structure: Structure, site: number, options: EwaldOptions = {}): EwaldSiteParts {
  const backend = backendOf(options);
  const q = charges(structure, options);
  const n = q.length;
  if (typeof site !== 'number' || !Number.isInteger(site) || site < 0 || site >= n) {
    throw new RangeError(`Ewald: site index must be an integer in [0, ${n - 1}], got ${String(site)}`);
  }
  const p = ewaldParameters(n, volume(structure), options);
  const pos = fracToCart(structure.lattice, structure.frac);
  return backend === 'wasm' ? ewaldSiteEnergyWasm(structure.lattice, pos, q, site, p) : ewaldSiteEnergyTs(structure.lattice, pos, q, site, p);
}

type ScratchFn = (cell: number, n: number, eta: number, rmax: number, gmax: number) => number;
type EnergyFn = (cell: number, pos: number, q: number, n: number, eta: number, rmax: number, gmax: number, scratch: number, scratchBytes: number, outParts: number, outSites: number) => number;
type SiteFn = (cell: number, pos: number, q: number, n: number, site: number, eta: number, rmax: number, gmax: number, scratch: number, scratchBytes: number, outParts: number) => number;
type ErfcFn = (x: number, n: number, out: number) => number;

interface BoundKernel {
  arena: Arena;
  scratchBytes: ScratchFn;
  energy: EnergyFn;
  site: SiteFn;
  erfc: ErfcFn;
}

let kernel: BoundKernel | null = null;

function bindKernel(): BoundKernel {
  const k = loadKernel('ewald');
  kernel = {
    arena: k.arena,
    scratchBytes: k.exports['ewaldScratchBytes'] as ScratchFn,
    energy: k.exports['ewaldEnergy'] as EnergyFn,
    site: k.exports['ewaldSiteEnergy'] as SiteFn,
    erfc: k.exports['erfcBatch'] as ErfcFn,
  };
  return kernel;
}

/** Copies cell, positions and charges into the arena; allocates scratch. */
function stage(k: BoundKernel, cell: ArrayLike<number>, pos: ArrayLike<number>, q: ArrayLike<number>, p: EwaldParameters, site?: number) {
  const n = q.length;
  if (pos.length !== 3 * n) throw new RangeError(`Ewald: ${pos.length} position components for ${n} charges (expected ${3 * n})`);
  if (cell.length !== 9) throw new RangeError(`Ewald: cell has ${cell.length} numbers, expected 9`);
  const a = k.arena;
  a.reset();
  const cellPtr = a.alloc(72);
  a.writeF64(cellPtr, cell);
  const bytes = k.scratchBytes(cellPtr, n, p.eta, p.realCutoffAng, p.recipCutoff);
  if (bytes < 0) throw ewaldStatusError(bytes, p, n, site);
  const posPtr = a.alloc(24 * n);
  const qPtr = a.alloc(8 * n);
  const partsPtr = a.alloc(24);
  const scratch = a.alloc(bytes);
  // memory.grow keeps the cell written above; the arena re-makes its views after growth.
  a.writeF64(posPtr, pos);
  a.writeF64(qPtr, q);
  return { a, n, cellPtr, posPtr, qPtr, partsPtr, scratch, bytes };
}

/** Ewald energy parts on raw arrays with the WASM kernel (same contract as {@link ewaldEnergyTs}). */
export function ewaldEnergyWasm(cell: ArrayLike<number>, pos: ArrayLike<number>, q: ArrayLike<number>, p: EwaldParameters, wantSites: boolean): EwaldParts {
  const k = kernel ?? bindKernel();
  const s = stage(k, cell, pos, q, p);
  const sitesPtr = wantSites ? s.a.alloc(8 * s.n) : 0;
  const st = k.energy(s.cellPtr, s.posPtr, s.qPtr, s.n, p.eta, p.realCutoffAng, p.recipCutoff, s.scratch, s.bytes, s.partsPtr, sitesPtr);
  if (st < 0) throw ewaldStatusError(st, p, s.n);
  const parts = s.a.f64(s.partsPtr, 3);
  return { real: parts[0]!, recip: parts[1]!, point: parts[2]!, sites: wantSites ? s.a.copyF64(sitesPtr, s.n) : null };
}

/** One site's energy parts on raw arrays with the WASM kernel (same contract as {@link ewaldSiteEnergyTs}). */
export function ewaldSiteEnergyWasm(cell: ArrayLike<number>, pos: ArrayLike<number>, q: ArrayLike<number>, site: number, p: EwaldParameters): EwaldSiteParts {
  const k = kernel ?? bindKernel();
  const n = q.length;
  if (!Number.isInteger(site) || site < 0 || site >= n) throw ewaldStatusError(EWALD_STATUS.BAD_SITE, p, n, site);
  const s = stage(k, cell, pos, q, p, site);
  const st = k.site(s.cellPtr, s.posPtr, s.qPtr, s.n, site, p.eta, p.realCutoffAng, p.recipCutoff, s.scratch, s.bytes, s.partsPtr);
  if (st < 0) throw ewaldStatusError(st, p, s.n, site);
  const parts = s.a.f64(s.partsPtr, 3);
  return { real: parts[0]!, recip: parts[1]!, point: parts[2]! };
}

/** erfc of each value with the WASM kernel's erfc (assembly/lib/erfc.ts), for testing. */
export function erfcWasm(xs: ArrayLike<number>): Float64Array {
  const k = kernel ?? bindKernel();
  const a = k.arena;
  a.reset();
  const xPtr = a.alloc(8 * xs.length);
  const outPtr = a.alloc(8 * xs.length);
  a.writeF64(xPtr, xs);
  k.erfc(xPtr, xs.length, outPtr);
  return a.copyF64(outPtr, xs.length);
}
