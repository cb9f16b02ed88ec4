/**
 * IDPP path relaxation (image-dependent pair potential; Smidstrup et al., J. Chem. Phys. 140,
 * 214106 (2014)): TS wrapper of the WASM kernel (assembly/idpp.ts) and the public
 * `idpp(start, end, options)`.
 *
 * Reproduces pymatgen-analysis-diffusion's `IDPPSolver` step for step: straight-line images
 * between `start` and `end` (`Structure.interpolate(end, nimages + 1, pbc=False)`), target
 * distances interpolated linearly between the endpoint distance matrices, weights 1/d⁴, each
 * pair's periodic image fixed from the straight-line image, NEB-style steepest descent with the
 * bisector tangent. Unlike pymatgen it refuses a path on which two atoms come closer than
 * `minDistanceAng` or the objective turns non-finite (pymatgen silently returns NaN images).
 */
import type { Structure } from '../structure/structure.js';
import { isElement } from '../structure/elements.js';
import { cartToFrac } from '../structure/lattice.js';
import { loadKernel, type Arena } from './wasm.js';
import { IDPP_FLAG_GIVEN_SHIFTS, IDPP_FLAG_MIC, IDPP_STATUS, idppKernelTs, idppScratchBytesTs, pymatgenPairShifts } from './idpp-ts.js';
import { idppFastKernelTs } from './idpp-fast-ts.js';

export { IDPP_STATUS } from './idpp-ts.js';

/** `exact`: pymatgen's IDPPSolver step for step. `fast`: the same objective minimised to convergence (see {@link IdppOptions.mode}). */
export type IdppMode = 'exact' | 'fast';
export const IDPP_MODES: readonly IdppMode[] = ['exact', 'fast'];

export interface IdppOptions {
  /**
   * `exact` (default): pymatgen-analysis-diffusion's IDPPSolver step for step (capped steepest
   * descent, its tie between equally near pair images, its sensitivity to the last bits of the
   * input). `fast`: the same endpoints, images, objective, NEB force and convergence measure,
   * minimised with L-BFGS to gtol 1e-5 (assembly/idpp-fast.ts): tied pair images share the pair's
   * weight, rigid translations of an image are projected out, so the result does not depend on the
   * cell setting, orientation or the last bits of the coordinates. `step` and `maxDisplacementAng`
   * belong to the exact mode, `maxStepAng` to the fast one.
   */
  mode?: IdppMode;
  /** Interior images between the endpoints (pymatgen's `nimages`). Integer >= 1, default 5. */
  images?: number;
  /**
   * Interpolate each atom along its minimum-image displacement (the end position is moved to the
   * image nearest to the start; that image is returned as the last frame). Default false:
   * coordinates are used as given, so an end position outside the cell is a path across the cell.
   */
  mic?: boolean;
  /** Spring constant of the NEB-like band (pymatgen `spring_const`). Default 5.0. */
  spring?: number;
  /** Step size: displacement = step × force (pymatgen `step_size`). Default 0.05. */
  step?: number;
  /** Largest displacement of one Cartesian component per iteration, Å (pymatgen `max_disp`). Default 0.05. */
  maxDisplacementAng?: number;
  /** Fast mode: largest displacement of one atom per L-BFGS step, Å. Default 0.1. */
  maxStepAng?: number;
  /** Iteration limit (pymatgen `maxiter`; fast mode: force evaluations). Integer >= 0, default 1000. */
  maxIter?: number;
  /** Stop when Σ_images |Δ objective| < tol … (pymatgen `tol`). Default 1e-5; fast mode 1e-9. */
  tol?: number;
  /** … and the largest force component < gtol (pymatgen `gtol`). Default 1e-3; fast mode 1e-5. */
  gtol?: number;
  /** Only sites of these elements move; the others stay on the straight line. Default: all move. */
  species?: string[];
  /**
   * Guard: refuse a path whose straight-line images (endpoints included) bring two atoms closer
   * than this, Å; in fast mode also anywhere between the images (the closest approach along the
   * straight path), where a line through another atom makes the objective singular. Default 0.5;
   * 0 disables it (non-finite results are still refused).
   */
  minDistanceAng?: number;
  /** `wasm` (default) or the plain-TypeScript twin `ts` (both modes). */
  backend?: 'wasm' | 'ts';
  /**
   * Which of two equally near periodic images of an atom pair the run keeps (pairs at exactly half a
   * lattice vector, common in supercells of symmetric cells; the choice is fixed for the whole run
   * and flips the relaxed path by up to tenths of an Å). `fractional` (default): the kernel's rule,
   * the largest fractional displacement, independent of rounding and orientation. `pymatgen`: the
   * image pymatgen-analysis-diffusion's `IDPPSolver` keeps, decided from the coordinates given here
   * with pymatgen 2022.11.7's own arithmetic (see pymatgenPairShifts); with fractional coordinates
   * bit-identical to pymatgen's this reproduces its images. Not with `mic`. Exact mode only: the fast
   * mode has no tie to break (tied images share the weight).
   */
  tieBreak?: 'fractional' | 'pymatgen';
}

export interface IdppResult {
  /** images + 2 structures: start, the relaxed interior images, end. */
  images: Structure[];
  /** Iterations performed (each one force evaluation and one step). */
  iterations: number;
  /** True when tol and gtol were both met before maxIter. */
  converged: boolean;
}

/**
 * Defaults of the fast mode where they differ from {@link IDPP_DEFAULTS}: converged to gtol 1e-5 (the
 * descriptors then agree to ~1e-5 between cell settings and 1e-9 Å perturbations; at the exact mode's
 * 1e-3 they differ by up to ~1e-2), maxIter a safety cap (the median run needs ~150 force evaluations).
 */
export const IDPP_FAST_DEFAULTS = { maxIter: 1000, tol: 1e-9, gtol: 1e-5, maxStepAng: 0.1 } as const;

/** Defaults of pymatgen-analysis-diffusion's `IDPPSolver.run` (and 5 images, 0.5 Å guard). */
export const IDPP_DEFAULTS = {
  images: 5,
  spring: 5.0,
  step: 0.05,
  maxDisplacementAng: 0.05,
  maxIter: 1000,
  tol: 1e-5,
  gtol: 1e-3,
  minDistanceAng: 0.5,
} as const;

/**
 * A pair image given to the kernel (`tieBreak: 'pymatgen'`) is not a nearest one: pymatgen's search
 * over the 27 neighbouring cells of the LLL-mapped coordinates found another image (very skewed cells).
 */
export class IdppShiftError extends RangeError {
  override readonly name = 'IdppShiftError';
}

/** A straight-line image too tight or a non-finite objective/force: names the image and the atoms. */
export class IdppGuardError extends Error {
  constructor(
    /** `too-close`: straight-line atoms closer than minDistanceAng; `non-finite`: NaN/Inf during relaxation. */
    readonly kind: 'too-close' | 'non-finite',
    /** Image index, 0 = start … images + 1 = end; -1 when the closest approach lies between images (fast mode). */
    readonly image: number,
    /** First atom (site index), or -1 when unknown. */
    readonly atomI: number,
    /** Second atom, or -1 when the failure concerns one atom. */
    readonly atomJ: number,
    /** The distance (Å) for `too-close`, the offending value for `non-finite`. */
    readonly value: number,
    message: string,
  ) {
    super(message);
    this.name = 'IdppGuardError';
  }
}

function site(species: readonly string[], i: number): string {
  return `${i} (${species[i]})`;
}

/** Turns a kernel status and its info block into an error naming the input. */
function statusError(status: number, info: ArrayLike<number>, species: readonly string[], minDist: number): Error {
  const image = info[0]!, i = info[1]!, j = info[2]!, v = info[3]!;
  switch (status) {
    case IDPP_STATUS.TOO_CLOSE:
      return new IdppGuardError('too-close', image, i, j, v,
        `idpp: straight-line image ${image} puts atoms ${site(species, i)} and ${site(species, j)} ${v.toPrecision(6)} Å apart, closer than minDistanceAng = ${minDist} Å ` +
        '(the straight path runs through or next to another atom; pymatgen would return NaN or a distorted path here)');
    case IDPP_STATUS.PATH_TOO_CLOSE:
      return new IdppGuardError('too-close', -1, i, j, v,
        `idpp: the straight path brings atoms ${site(species, i)} and ${site(species, j)} within ${v.toPrecision(6)} Å of each other (at ${(100 * image).toFixed(1)} % of the way, between images), closer than minDistanceAng = ${minDist} Å ` +
        '(a straight line through another atom: the IDPP objective is singular there, and the side the relaxed path takes around the atom would be decided by rounding)');
    case IDPP_STATUS.NON_FINITE:
      return new IdppGuardError('non-finite', image, i, j, v,
        j >= 0
          ? `idpp: image ${image}: atoms ${site(species, i)} and ${site(species, j)} are at distance ${v}, so the objective is not finite`
          : i >= 0 ? `idpp: image ${image}: the force on atom ${site(species, i)} is not finite (${v})`
            : `idpp: image ${image}: the objective or a force is not finite (${v}; a path through another atom)`);
    case IDPP_STATUS.SINGULAR_CELL:
      return new RangeError('idpp: the lattice is singular or not finite');
    case IDPP_STATUS.SCRATCH_TOO_SMALL:
      return new RangeError('idpp: kernel scratch buffer too small');
    case IDPP_STATUS.TOO_MANY_IMAGES:
      return new RangeError(`idpp: image ${image}: the minimum image of atoms ${site(species, i)} and ${site(species, j)} lies more than 64 cells away (degenerate cell)`);
    case IDPP_STATUS.EXTRA_TERMS:
      return new RangeError(`idpp: ${v} tie terms do not fit the kernel scratch`);
    case IDPP_STATUS.SHIFT_NOT_NEAREST:
      return new IdppShiftError(`idpp: image ${image}: the given periodic image of atoms ${site(species, i)} and ${site(species, j)} is ${v} Å away, not a nearest one`);
    default:
      return new Error(`idpp: kernel status ${status}`);
  }
}

/** Shape checks of the raw-array entry points (the Structure-level `idpp` always passes them). */
function checkRaw(cell: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>, moving: ArrayLike<number>, species: readonly string[]): number {
  const n = start.length / 3;
  if (cell.length !== 9) throw new RangeError(`idpp: cell must have 9 numbers (3 rows), got ${cell.length}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`idpp: start must hold 3 fractional coordinates per site, got ${start.length} numbers`);
  if (end.length !== start.length) throw new RangeError(`idpp: end has ${end.length} coordinates but start has ${start.length}`);
  if (moving.length !== n || species.length !== n) throw new RangeError(`idpp: moving (${moving.length}) and species (${species.length}) must have one entry per site (${n})`);
  return n;
}

function tooLarge(n: number, nInterior: number): RangeError {
  return new RangeError(`idpp: ${n} sites × ${nInterior} images need more than 2 GiB of working memory (pair tables grow as sites²)`);
}

type IdppFn = (
  cell: number, start: number, end: number, n: number, nInterior: number, moving: number,
  spring: number, step: number, maxDisp: number, maxIter: number, tol: number, gtol: number, minDist: number, flags: number,
  scratch: number, scratchBytes: number, out: number, endUsed: number, info: number, shifts: number,
) => number;

interface BoundKernel {
  arena: Arena;
  run: IdppFn;
  scratchBytes: (n: number, nInterior: number) => number;
}

let kernel: BoundKernel | null = null;

function bindKernel(): BoundKernel {
  const k = loadKernel('idpp');
  kernel = { arena: k.arena, run: k.exports['idpp'] as IdppFn, scratchBytes: k.exports['idppScratchBytes'] as BoundKernel['scratchBytes'] };
  return kernel;
}

type IdppFastFn = (
  cell: number, start: number, end: number, n: number, nInterior: number, moving: number,
  spring: number, maxStep: number, maxIter: number, tol: number, gtol: number, minDist: number, flags: number,
  scratch: number, scratchBytes: number, extraCap: number, out: number, endUsed: number, info: number,
) => number;

interface BoundFastKernel {
  arena: Arena;
  run: IdppFastFn;
  scratchBytes: (n: number, nInterior: number, extraCap: number) => number;
}

let fastKernel: BoundFastKernel | null = null;

function bindFastKernel(): BoundFastKernel {
  const k = loadKernel('idpp-fast');
  fastKernel = { arena: k.arena, run: k.exports['idppFast'] as IdppFastFn, scratchBytes: k.exports['idppFastScratchBytes'] as BoundFastKernel['scratchBytes'] };
  return fastKernel;
}

/**
 * Room for tie terms in the first fast-mode call: one per pair and image. Measured on 497 pathways of
 * the bundled set (the screen's ≥ 7 Å supercells): tie terms in 486 of them, up to 0.73 per pair
 * (small supercells of symmetric cells, where many pairs sit at half a supercell vector); a run that
 * needs more is called again with room for exactly what the kernel counted.
 */
function firstExtraCap(n: number, nInterior: number): number {
  return (nInterior * n * (n - 1)) / 2 + 64;
}

function idppFastRawWasm(cell: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>, moving: ArrayLike<number>, p: IdppParams, species: readonly string[], n: number): IdppRaw {
  const k = fastKernel ?? bindFastKernel();
  const nImg = p.nInterior + 2;
  const flags = p.mic ? IDPP_FLAG_MIC : 0;
  let extraCap = firstExtraCap(n, p.nInterior);
  for (;;) {
    const a = k.arena;
    a.reset();
    const scratchBytes = k.scratchBytes(n, p.nInterior, extraCap);
    if (scratchBytes < 0) throw tooLarge(n, p.nInterior);
    const cellPtr = a.alloc(72);
    const startPtr = a.alloc(24 * n);
    const endPtr = a.alloc(24 * n);
    const movPtr = a.alloc(4 * n);
    const outPtr = a.alloc(24 * n * nImg);
    const endUsedPtr = a.alloc(24 * n);
    const infoPtr = a.alloc(32);
    const scratch = a.alloc(scratchBytes);
    a.writeF64(cellPtr, cell);
    a.writeF64(startPtr, start);
    a.writeF64(endPtr, end);
    a.i32(movPtr, n).set(moving);
    const st = k.run(cellPtr, startPtr, endPtr, n, p.nInterior, movPtr, p.spring, p.maxStep, p.maxIter, p.tol, p.gtol, p.minDist,
      flags, scratch, scratchBytes, extraCap, outPtr, endUsedPtr, infoPtr);
    const info = a.copyF64(infoPtr, 4);
    if (st === IDPP_STATUS.EXTRA_TERMS && info[3]! > extraCap) {
      extraCap = info[3]!;
      continue;
    }
    if (st < 0) throw statusError(st, info, species, p.minDist);
    return { coords: a.copyF64(outPtr, 3 * n * nImg), endUsed: a.copyF64(endUsedPtr, 3 * n), iterations: st, converged: info[0] === 1 };
  }
}

/** Resolved numeric parameters of one run. */
export interface IdppParams {
  mode: IdppMode;
  nInterior: number;
  /** Fast mode: largest displacement of one atom per step, Å. */
  maxStep: number;
  spring: number;
  step: number;
  maxDisp: number;
  maxIter: number;
  tol: number;
  gtol: number;
  minDist: number;
  mic: boolean;
}

/** Raw result of one kernel run: Cartesian coordinates of all images, image-major. */
export interface IdppRaw {
  coords: Float64Array;
  endUsed: Float64Array;
  iterations: number;
  converged: boolean;
}

/** Checks the length of a pair-image table (3 integers per interior image and pair i < j); returns the kernel flag. */
function checkShifts(shifts: ArrayLike<number> | null, n: number, nInterior: number): number {
  if (shifts === null) return 0;
  const want = 3 * nInterior * ((n * (n - 1)) / 2);
  if (shifts.length !== want) throw new RangeError(`idpp: shifts must hold 3 integers per interior image and pair (${want}), got ${shifts.length}`);
  return IDPP_FLAG_GIVEN_SHIFTS;
}

/**
 * One IDPP run on raw arrays with the WASM kernel (cell rows = lattice vectors, fractional start
 * and end coordinates, `moving` = 1 per moving site; `shifts`: the pair images to use, see
 * IDPP_FLAG_GIVEN_SHIFTS, or null for the kernel's own). Throws the kernel's status as an error.
 */
export function idppRawWasm(cell: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>, moving: ArrayLike<number>, p: IdppParams, species: readonly string[], shifts: ArrayLike<number> | null = null): IdppRaw {
  const n = checkRaw(cell, start, end, moving, species);
  if (p.mode === 'fast') {
    if (shifts !== null) throw new RangeError('idpp: pair images cannot be given in fast mode (tied images share the weight)');
    return idppFastRawWasm(cell, start, end, moving, p, species, n);
  }
  const flags = checkShifts(shifts, n, p.nInterior) | (p.mic ? IDPP_FLAG_MIC : 0);
  const k = kernel ?? bindKernel();
  const nImg = p.nInterior + 2;
  const a = k.arena;
  a.reset();
  const scratchBytes = k.scratchBytes(n, p.nInterior);
  if (scratchBytes < 0) throw tooLarge(n, p.nInterior);
  const cellPtr = a.alloc(72);
  const startPtr = a.alloc(24 * n);
  const endPtr = a.alloc(24 * n);
  const movPtr = a.alloc(4 * n);
  const outPtr = a.alloc(24 * n * nImg);
  const endUsedPtr = a.alloc(24 * n);
  const infoPtr = a.alloc(32);
  const shiftsPtr = shifts ? a.alloc(4 * shifts.length) : 0;
  const scratch = a.alloc(scratchBytes);
  if (shifts) a.i32(shiftsPtr, shifts.length).set(shifts);
  a.writeF64(cellPtr, cell);
  a.writeF64(startPtr, start);
  a.writeF64(endPtr, end);
  a.i32(movPtr, n).set(moving);
  const st = k.run(cellPtr, startPtr, endPtr, n, p.nInterior, movPtr, p.spring, p.step, p.maxDisp, p.maxIter, p.tol, p.gtol, p.minDist,
    flags, scratch, scratchBytes, outPtr, endUsedPtr, infoPtr, shiftsPtr);
  const info = a.copyF64(infoPtr, 4);
  if (st < 0) throw statusError(st, info, species, p.minDist);
  return { coords: a.copyF64(outPtr, 3 * n * nImg), endUsed: a.copyF64(endUsedPtr, 3 * n), iterations: st, converged: info[0] === 1 };
}

/** The same run with the plain-TypeScript twin. */
export function idppRawTs(cell: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>, moving: ArrayLike<number>, p: IdppParams, species: readonly string[], shifts: ArrayLike<number> | null = null): IdppRaw {
  const n = checkRaw(cell, start, end, moving, species);
  if (p.mode === 'fast') {
    if (shifts !== null) throw new RangeError('idpp: pair images cannot be given in fast mode (tied images share the weight)');
    if (idppScratchBytesTs(n, p.nInterior) < 0) throw tooLarge(n, p.nInterior);
    const coords = new Float64Array(3 * n * (p.nInterior + 2));
    const endUsed = new Float64Array(3 * n);
    const info = new Float64Array(4);
    const st = idppFastKernelTs(cell, start, end, n, p.nInterior, moving, p.spring, p.maxStep, p.maxIter, p.tol, p.gtol, p.minDist,
      p.mic ? IDPP_FLAG_MIC : 0, coords, endUsed, info);
    if (st < 0) throw statusError(st, info, species, p.minDist);
    return { coords, endUsed, iterations: st, converged: info[0] === 1 };
  }
  const flags = checkShifts(shifts, n, p.nInterior) | (p.mic ? IDPP_FLAG_MIC : 0);
  if (idppScratchBytesTs(n, p.nInterior) < 0) throw tooLarge(n, p.nInterior);
  const coords = new Float64Array(3 * n * (p.nInterior + 2));
  const endUsed = new Float64Array(3 * n);
  const info = new Float64Array(4);
  const st = idppKernelTs(cell, start, end, n, p.nInterior, moving, p.spring, p.step, p.maxDisp, p.maxIter, p.tol, p.gtol, p.minDist,
    flags, coords, endUsed, info, shifts);
  if (st < 0) throw statusError(st, info, species, p.minDist);
  return { coords, endUsed, iterations: st, converged: info[0] === 1 };
}

function checkNumber(name: string, v: unknown, ok: (x: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !ok(v)) throw new RangeError(`idpp: ${name} must be ${what}, got ${String(v)}`);
  return v;
}

/** Validates the options (each message names the option and the value) and fills in defaults. */
export function resolveIdppOptions(options: IdppOptions): IdppParams {
  const mode = options.mode ?? 'exact';
  if (!IDPP_MODES.includes(mode)) throw new RangeError(`idpp: mode must be 'exact' or 'fast', got ${String(mode)}`);
  const d = mode === 'fast' ? { ...IDPP_DEFAULTS, ...IDPP_FAST_DEFAULTS } : IDPP_DEFAULTS;
  const finitePos = (x: number) => Number.isFinite(x) && x > 0;
  const finiteNonNeg = (x: number) => Number.isFinite(x) && x >= 0;
  return {
    mode,
    maxStep: checkNumber('maxStepAng', options.maxStepAng ?? IDPP_FAST_DEFAULTS.maxStepAng, finitePos, 'a positive finite number of Å'),
    nInterior: checkNumber('images', options.images ?? d.images, (x) => Number.isInteger(x) && x >= 1 && x <= 1000, 'an integer from 1 to 1000'),
    spring: checkNumber('spring', options.spring ?? d.spring, finiteNonNeg, 'a finite number >= 0'),
    step: checkNumber('step', options.step ?? d.step, finitePos, 'a positive finite number'),
    maxDisp: checkNumber('maxDisplacementAng', options.maxDisplacementAng ?? d.maxDisplacementAng, finitePos, 'a positive finite number of Å'),
    maxIter: checkNumber('maxIter', options.maxIter ?? d.maxIter, (x) => Number.isInteger(x) && x >= 0 && x <= 2 ** 31 - 1, 'an integer >= 0'),
    tol: checkNumber('tol', options.tol ?? d.tol, finiteNonNeg, 'a finite number >= 0'),
    gtol: checkNumber('gtol', options.gtol ?? d.gtol, finiteNonNeg, 'a finite number >= 0'),
    minDist: checkNumber('minDistanceAng', options.minDistanceAng ?? d.minDistanceAng, finiteNonNeg, 'a finite number of Å >= 0'),
    mic: options.mic === true,
  };
}

/**
 * Relax the straight-line path from `start` to `end` (same lattice, same sites in the same order)
 * with IDPP. Returns `images + 2` structures (the endpoints as given — with `mic`, the end moved
 * to the images nearest the start), the iteration count and whether tol/gtol were met.
 *
 * ```ts
 * const { images, iterations, converged } = idpp(start, end, { images: 5 });
 * ```
 *
 * Throws {@link IdppGuardError} when a straight-line image brings two atoms closer than
 * `minDistanceAng` or the relaxation turns non-finite; RangeError for invalid options or endpoints.
 */
export function idpp(start: Structure, end: Structure, options: IdppOptions = {}): IdppResult {
  const p = resolveIdppOptions(options);
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'ts') throw new RangeError(`idpp: backend must be 'wasm' or 'ts', got ${String(backend)}`);
  const tieBreak = options.tieBreak ?? 'fractional';
  if (tieBreak !== 'fractional' && tieBreak !== 'pymatgen') throw new RangeError(`idpp: tieBreak must be 'fractional' or 'pymatgen', got ${String(tieBreak)}`);
  if (tieBreak === 'pymatgen' && p.mic) throw new RangeError("idpp: tieBreak 'pymatgen' interpolates the coordinates as given; it cannot be combined with mic");
  if (tieBreak === 'pymatgen' && p.mode === 'fast') throw new RangeError("idpp: tieBreak 'pymatgen' belongs to the exact mode; the fast mode gives tied pair images equal weight");
  const n = start.species.length;
  if (end.species.length !== n) throw new RangeError(`idpp: start has ${n} sites but end has ${end.species.length}; the endpoints must list the same sites in the same order`);
  for (let i = 0; i < n; i++) {
    if (start.species[i] !== end.species[i]) {
      throw new RangeError(`idpp: site ${i} is ${start.species[i]} in start but ${end.species[i]} in end; the endpoints must list the same sites in the same order`);
    }
  }
  for (let k = 0; k < 9; k++) {
    // pymatgen's Lattice equality (np.allclose: rtol 1e-5, atol 1e-8).
    const a = start.lattice[k]!, b = end.lattice[k]!;
    if (!(Math.abs(a - b) <= 1e-8 + 1e-5 * Math.abs(b))) {
      throw new RangeError(`idpp: start and end lattices differ (component ${k}: ${a} vs ${b}); IDPP needs one fixed cell`);
    }
  }
  let differs = false;
  for (let q = 0; q < 3 * n && !differs; q++) differs = start.frac[q] !== end.frac[q];
  if (!differs) throw new RangeError('idpp: start and end have identical coordinates; there is no path to relax');
  if (p.mic) {
    let shifted = true;
    for (let q = 0; q < 3 * n && shifted; q++) {
      const e = end.frac[q]! - start.frac[q]!;
      shifted = Math.abs(e - Math.round(e)) < 1e-12;
    }
    if (shifted) throw new RangeError('idpp: with mic, end differs from start only by whole lattice vectors per site; there is no path to relax');
  }
  const moving = new Int32Array(n);
  if (options.species === undefined) moving.fill(1);
  else {
    if (!Array.isArray(options.species) || options.species.length === 0) throw new RangeError(`idpp: species must be a non-empty list of element symbols, got ${JSON.stringify(options.species)}`);
    for (const sp of options.species) {
      if (typeof sp !== 'string' || !isElement(sp)) throw new RangeError(`idpp: species: unknown element ${JSON.stringify(sp)}`);
    }
    let any = false;
    for (let i = 0; i < n; i++) {
      if (options.species.includes(start.species[i]!)) {
        moving[i] = 1;
        any = true;
      }
    }
    if (!any) throw new RangeError(`idpp: species ${JSON.stringify(options.species)}: none of these elements is in the structure`);
  }
  if (tieBreak === 'pymatgen' && idppScratchBytesTs(n, p.nInterior) < 0) throw tooLarge(n, p.nInterior);
  const shifts = tieBreak === 'pymatgen' ? pymatgenPairShifts(start.lattice, start.frac, end.frac, n, p.nInterior) : null;
  const raw = (backend === 'wasm' ? idppRawWasm : idppRawTs)(start.lattice, start.frac, end.frac, moving, p, start.species, shifts);
  const nImg = p.nInterior + 2;
  const images: Structure[] = [];
  for (let k = 0; k < nImg; k++) {
    let frac: Float64Array;
    if (k === 0) frac = Float64Array.from(start.frac);
    else if (k === nImg - 1) frac = p.mic ? raw.endUsed : Float64Array.from(end.frac);
    else frac = cartToFrac(start.lattice, raw.coords.subarray(3 * n * k, 3 * n * (k + 1)));
    const src = k === nImg - 1 ? end : start;
    images.push({
      lattice: Float64Array.from(start.lattice),
      species: [...start.species],
      frac,
      oxidationStates: src.oxidationStates ? Float64Array.from(src.oxidationStates) : null,
      siteProperties: { ...src.siteProperties },
      info: { ...src.info, image: k },
    });
  }
  return { images, iterations: raw.iterations, converged: raw.converged };
}
