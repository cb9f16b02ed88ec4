/**
 * Ionic-radii overlap of a moving ion along a set of images (the DDI "empirical measure"):
 * TS wrapper of the WASM kernel (assembly/overlap.ts) and the public `radiiOverlap(images, site)`.
 *
 * For every neighbour j of the moving site m within the cutoff (periodic images included, also m's
 * own images): overlap = (r_m + r_j) − d, with r the ionic radius of the site's element at its
 * oxidation state (pymatgen `Species.ionic_radius`, see src/structure/ionic-radii.ts). Per image the
 * maximum over cation (oxidation state > 0), anion (< 0) and neutral (0) neighbours; per kind the
 * signed largest change relative to the first image: rel_k = max_k − max_0, the rel with the largest
 * |rel| (sign kept, first of equal magnitudes wins, as Python's max(rel, key=abs)).
 * Undefined values are null with a reason: a neighbour of that kind without a radius, no neighbour of
 * that kind within the cutoff, or a moving site without a radius. Never a sentinel such as −999.
 */
import type { Structure } from '../structure/structure.js';
import { fracToCart } from '../structure/lattice.js';
import { ionicRadius, speciesLabel } from '../structure/ionic-radii.js';
import { loadKernel, type Arena } from './wasm.js';
import { OverlapStatusError, overlapTs, type OverlapArrays } from './overlap-ts.js';

export { overlapTs, OverlapStatusError, type OverlapArrays } from './overlap-ts.js';

export type NeighborKind = 'cation' | 'anion' | 'neutral';
const KINDS: readonly NeighborKind[] = ['cation', 'anion', 'neutral'];

export interface OverlapKindResult {
  /** Largest overlap (Å) per image; null where undefined (reason in `reasonPerImage`). */
  maxPerImage: (number | null)[];
  /** Why `maxPerImage[k]` is null, else null. */
  reasonPerImage: (string | null)[];
  /** Neighbours of this kind within the cutoff, per image (periodic images counted separately). */
  neighborCounts: number[];
  /** Signed largest change relative to the first image (Å); null when any image's maximum is null. */
  change: number | null;
  /** Why `change` is null, else null. */
  changeReason: string | null;
}

export interface OverlapResult {
  movingSite: number;
  /** The moving site's species label, e.g. `F-`. */
  movingSpecies: string;
  /** Its ionic radius (Å), or null when it has none (then every maximum is null). */
  movingRadiusAng: number | null;
  cutoffAng: number;
  nImages: number;
  cations: OverlapKindResult;
  anions: OverlapKindResult;
  neutral: OverlapKindResult;
}

export interface RadiiOverlapOptions {
  /** Neighbour cutoff, Å. Default 8 (DDI). */
  cutoffAng?: number;
  /** `wasm` (default) or the plain-TypeScript twin `ts`. */
  backend?: 'wasm' | 'ts';
}

type OverlapFn = (
  cells: number, pos: number, n: number, nImages: number, moving: number,
  radius: number, kind: number, cutoff: number,
  outMax: number, outCount: number, outMissing: number,
) => number;

interface BoundKernel {
  arena: Arena;
  run: OverlapFn;
}

let kernel: BoundKernel | null = null;

function bindKernel(): BoundKernel {
  const k = loadKernel('overlap');
  kernel = { arena: k.arena, run: k.exports['overlap'] as OverlapFn };
  return kernel;
}

/** The WASM kernel on raw arrays; same contract as {@link overlapTs}. */
export function overlapWasm(
  cells: ArrayLike<number>,
  pos: ArrayLike<number>,
  n: number,
  nImages: number,
  moving: number,
  radius: ArrayLike<number>,
  kind: ArrayLike<number>,
  cutoff: number,
): OverlapArrays {
  const k = kernel ?? bindKernel();
  const a = k.arena;
  a.reset();
  const cPtr = a.alloc(72 * nImages);
  const pPtr = a.alloc(24 * n * nImages);
  const rPtr = a.alloc(8 * n);
  const kPtr = a.alloc(4 * n);
  const maxPtr = a.alloc(24 * nImages);
  const cntPtr = a.alloc(12 * nImages);
  const missPtr = a.alloc(12 * nImages);
  a.writeF64(cPtr, cells);
  a.writeF64(pPtr, pos);
  a.writeF64(rPtr, radius);
  a.i32(kPtr, n).set(kind);
  const st = k.run(cPtr, pPtr, n, nImages, Number.isInteger(moving) ? moving : -1, rPtr, kPtr, cutoff, maxPtr, cntPtr, missPtr);
  if (st < 0) throw new OverlapStatusError(st, cutoff, moving);
  return { max: a.copyF64(maxPtr, 3 * nImages), count: a.copyI32(cntPtr, 3 * nImages), missing: a.copyI32(missPtr, 3 * nImages) };
}

/**
 * Ionic-radii overlap of site `movingSite` along `images` (e.g. the 7 IDPP images of a hop). Every
 * image must have the same species and oxidation states in the same site order (the lattice may
 * differ); oxidation states are required.
 *
 * ```ts
 * const r = radiiOverlap(readStructures('path.extxyz'), 0);
 * console.log(r.cations.change, r.anions.maxPerImage);
 * ```
 */
export function radiiOverlap(images: Structure[], movingSite: number, options: RadiiOverlapOptions = {}): OverlapResult {
  if (!Array.isArray(images) || images.length === 0) throw new RangeError(`radiiOverlap: images must be a non-empty array of structures, got ${Array.isArray(images) ? 'an empty array' : String(images)}`);
  const first = images[0]!;
  const n = first.species.length;
  if (!Number.isInteger(movingSite) || movingSite < 0 || movingSite >= n) {
    throw new RangeError(`radiiOverlap: movingSite must be a site index in [0, ${n - 1}], got ${String(movingSite)}`);
  }
  const cutoff = options.cutoffAng ?? 8;
  if (typeof cutoff !== 'number' || !(cutoff > 0) || !Number.isFinite(cutoff)) throw new RangeError(`radiiOverlap: cutoffAng must be a positive finite number of Å, got ${String(cutoff)}`);
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'ts') throw new RangeError(`radiiOverlap: backend must be 'wasm' or 'ts', got ${String(backend)}`);
  const oxi = first.oxidationStates;
  if (!oxi) throw new RangeError('radiiOverlap: image 0 has no oxidation states; ionic radii need one per site (decorate the structure first)');
  images.forEach((im, k) => {
    if (im.species.length !== n) throw new RangeError(`radiiOverlap: image ${k} has ${im.species.length} sites, image 0 has ${n}`);
    if (!im.oxidationStates) throw new RangeError(`radiiOverlap: image ${k} has no oxidation states; ionic radii need one per site`);
    for (let j = 0; j < n; j++) {
      if (im.species[j] !== first.species[j] || im.oxidationStates[j] !== oxi[j]) {
        throw new RangeError(
          `radiiOverlap: image ${k} site ${j} is ${speciesLabel(im.species[j]!, im.oxidationStates[j]!)}, image 0 has ${speciesLabel(first.species[j]!, oxi[j]!)}: images must list the same species in the same order`,
        );
      }
    }
  });
  const radius = new Float64Array(n);
  const kind = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    radius[j] = ionicRadius(first.species[j]!, oxi[j]!) ?? Number.NaN;
    kind[j] = oxi[j]! > 0 ? 0 : oxi[j]! < 0 ? 1 : 2;
  }
  const nImages = images.length;
  const cells = new Float64Array(9 * nImages);
  const pos = new Float64Array(3 * n * nImages);
  images.forEach((im, k) => {
    cells.set(im.lattice, 9 * k);
    pos.set(fracToCart(im.lattice, im.frac), 3 * n * k);
  });
  const raw = backend === 'wasm'
    ? overlapWasm(cells, pos, n, nImages, movingSite, radius, kind, cutoff)
    : overlapTs(cells, pos, n, nImages, movingSite, radius, kind, cutoff);
  const movingSpecies = speciesLabel(first.species[movingSite]!, oxi[movingSite]!);
  const rm = radius[movingSite]!;
  const label = (j: number) => `${speciesLabel(first.species[j]!, oxi[j]!)} (site ${j})`;
  const perKind = KINDS.map((kindName, kk): OverlapKindResult => {
    const maxPerImage: (number | null)[] = [];
    const reasonPerImage: (string | null)[] = [];
    const neighborCounts: number[] = [];
    for (let im = 0; im < nImages; im++) {
      const idx = 3 * im + kk;
      neighborCounts.push(raw.count[idx]!);
      let reason: string | null = null;
      if (Number.isNaN(rm)) reason = `no ionic radius for the moving site ${label(movingSite)}`;
      else if (raw.missing[idx]! >= 0) reason = `no ionic radius for ${kindName} neighbour ${label(raw.missing[idx]!)}`;
      else if (raw.count[idx] === 0) reason = `no ${kindName} within ${cutoff} Å of site ${movingSite}`;
      maxPerImage.push(reason === null ? raw.max[idx]! : null);
      reasonPerImage.push(reason);
    }
    let change: number | null = null;
    let changeReason: string | null = null;
    const bad = maxPerImage.findIndex((x) => x === null);
    if (bad >= 0) changeReason = `image ${bad}: ${reasonPerImage[bad]!}`;
    else {
      const m0 = maxPerImage[0]!;
      change = 0;
      for (const m of maxPerImage) {
        const rel = m! - m0;
        if (Math.abs(rel) > Math.abs(change)) change = rel;
      }
    }
    return { maxPerImage, reasonPerImage, neighborCounts, change, changeReason };
  });
  return {
    movingSite,
    movingSpecies,
    movingRadiusAng: Number.isNaN(rm) ? null : rm,
    cutoffAng: cutoff,
    nImages,
    cations: perKind[0]!,
    anions: perKind[1]!,
    neutral: perKind[2]!,
  };
}
