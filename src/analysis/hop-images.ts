/**
 * Images along a migration hop, and the hop exports: a hop list as JSON (round-trippable), one
 * multi-frame extxyz per hop, and one CIF with all images overlaid (the `write_path` picture).
 *
 * Image semantics follow pymatgen-analysis-diffusion's `MigrationHop.get_structures(nimages, vac_mode)`
 * (Nov 2025 behaviour): the moving ion is site 0 of every image; the other sites keep their order; in
 * vacancy mode the start and end sites are both removed from the host (the end site is empty in the
 * start image, the start site empty in the end image), so each image has host − 1 sites (host sites
 * for a hop to a periodic image of its own start site, where only that one site is emptied); in
 * interstitial mode every other site of the migrating element is removed. Straight-line images
 * interpolate fractional coordinates without wrapping (the end may lie outside [0, 1)); IDPP
 * relaxation is optional and done by src/kernels/idpp.ts.
 */
import { createStructure, type Structure } from '../structure/structure.js';
import { writeExtxyz } from '../structure/extxyz.js';
import { writeCif } from '../structure/cif.js';
import { fracToCart } from '../structure/lattice.js';
import { numpyDot3, numpyInv3, pyMod1 } from '../structure/numpy-arith.js';
import { supercell, minLengthScaling } from '../kernels/supercell.js';
import { lllReduce } from '../structure/lll.js';
import { det3, inv3 } from '../structure/lattice.js';
import { idpp, IdppShiftError, IDPP_MODES, type IdppMode, type IdppOptions } from '../kernels/idpp.js';
import { HOP_EQUIVALENCES, PathfinderError, type Hop, type HopEquivalence, type HopResult, type Vec3 } from './pathfinder.js';

/** Sites closer than this (Å, periodic) to a hop endpoint are taken as that endpoint's site. */
const ENDPOINT_TOL_ANG = 1e-3;

export interface HopImagesOptions {
  /** Interior images between start and end (pymatgen `nimages`). Integer ≥ 1, default 5. */
  images?: number;
  /** Vacancy mechanism (default true); false: interstitial, the other sites of the ion are removed. */
  vacancyMode?: boolean;
  /**
   * Build a supercell first, scaled along each axis by floor(L / a_i) + 1 (the DDI/simmate rule) so every
   * lattice vector is longer than this many Å; the hop's endpoints are mapped into it.
   */
  supercellMinLength?: number;
  /** Relax the interior images with IDPP (true: pymatgen's defaults; or options for src/kernels/idpp.ts). */
  idpp?: boolean | Omit<IdppOptions, 'images'>;
  /**
   * With `supercellMinLength`: build the supercell and endpoint coordinates bit for bit as pymatgen
   * 2022.11.7 does (see {@link pymatgenSupercellFrac}) instead of exactly in fractional arithmetic.
   * The two differ by rounding only (~1e-16), but that rounding decides pymatgen's IDPP image choice
   * between equally near periodic images; use it with `idpp: { tieBreak: 'pymatgen' }` to reproduce
   * pymatgen's paths. Default false.
   */
  pymatgenCoordinates?: boolean;
  /**
   * With `supercellMinLength`: the basis the supercell is built on. `given` (default, the DDI rule):
   * each vector of the given cell repeated. `shortest`: each vector of the cell's shortest-vector basis
   * repeated (see {@link shortestBasisSupercell}), so the supercell — and with it every pair's
   * periodic images — is the same lattice in any setting of the cell.
   */
  supercellBasis?: 'given' | 'shortest';
}

export interface HopImages {
  /** images + 2 structures: start, interior images, end. The moving ion is site 0. */
  images: Structure[];
  /**
   * Repeats along each supercell axis, or null: of the given cell's vectors, or with `supercellBasis:
   * 'shortest'` of the shortest-vector basis (`supercellMatrix` then gives the supercell in the given cell).
   */
  scaling: [number, number, number] | null;
  /** The supercell's vectors in units of the given cell's (row-major integer 3×3), or null. */
  supercellMatrix: number[] | null;
  /** Host sites (before removing the moving ion and vacancies), in the cell the images use. */
  hostSites: number;
  /** IDPP iterations and convergence, when IDPP was run. */
  idpp: { iterations: number; converged: boolean } | null;
}

/** Thrown for invalid image options or a hop that does not belong to the structure. */
export class HopImagesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HopImagesError';
  }
}

/** Index of the site of `element` at fractional point `p` modulo the lattice, and the lattice shift p − x_site. */
function siteAt(s: Structure, element: string, p: ArrayLike<number>): { site: number; shift: Vec3 } | null {
  const L = s.lattice, f = s.frac;
  let best: { site: number; shift: Vec3 } | null = null;
  let bestD = ENDPOINT_TOL_ANG;
  for (let i = 0; i < s.species.length; i++) {
    if (s.species[i] !== element) continue;
    const d = [0, 1, 2].map((k) => p[k]! - f[3 * i + k]!);
    const r = d.map((x) => Math.round(x)) as Vec3;
    const c = fracToCart(L, d.map((x, k) => x - r[k]!));
    const dist = Math.hypot(c[0]!, c[1]!, c[2]!);
    if (dist <= bestD) {
      best = { site: i, shift: r };
      bestD = dist;
    }
  }
  return best;
}

/**
 * The hop of `ion` from fractional point `startFrac` to `endFrac` (both must sit on sites of `ion`
 * within 1e-3 Å, modulo the lattice), as a {@link Hop} with multiplicity and classes unknown (0 / -1).
 */
export function hopBetween(s: Structure, ion: string, startFrac: ArrayLike<number>, endFrac: ArrayLike<number>): Hop {
  const a = siteAt(s, ion, startFrac);
  const b = siteAt(s, ion, endFrac);
  if (!a) throw new HopImagesError(`no ${ion} site at the hop start [${Array.from(startFrac).join(', ')}]`);
  if (!b) throw new HopImagesError(`no ${ion} site at the hop end [${Array.from(endFrac).join(', ')}]`);
  const f = s.frac;
  const start = [0, 1, 2].map((k) => f[3 * a.site + k]!) as Vec3;
  const image = [0, 1, 2].map((k) => b.shift[k]! - a.shift[k]!) as Vec3;
  const end = [0, 1, 2].map((k) => f[3 * b.site + k]! + image[k]!) as Vec3;
  const c = fracToCart(s.lattice, [0, 1, 2].map((k) => end[k]! - start[k]!));
  return {
    index: 0,
    ion,
    startSite: a.site,
    endSite: b.site,
    image,
    startFrac: start,
    endFrac: end,
    midFrac: [0, 1, 2].map((k) => (start[k]! + end[k]!) / 2) as Vec3,
    lengthAng: Math.hypot(c[0]!, c[1]!, c[2]!),
    startClass: -1,
    endClass: -1,
    startWyckoff: '',
    endWyckoff: '',
    multiplicity: 0,
  };
}

function checkImageOptions(o: HopImagesOptions): void {
  if (o.images !== undefined && !(Number.isInteger(o.images) && o.images >= 1)) {
    throw new HopImagesError(`images must be an integer >= 1, got ${String(o.images)}`);
  }
  if (o.supercellMinLength !== undefined && !(Number.isFinite(o.supercellMinLength) && o.supercellMinLength > 0)) {
    throw new HopImagesError(`supercellMinLength must be a positive number of Å, got ${String(o.supercellMinLength)}`);
  }
  if (o.vacancyMode !== undefined && typeof o.vacancyMode !== 'boolean') {
    throw new HopImagesError(`vacancyMode must be true or false, got ${String(o.vacancyMode)}`);
  }
  if (o.pymatgenCoordinates !== undefined && typeof o.pymatgenCoordinates !== 'boolean') {
    throw new HopImagesError(`pymatgenCoordinates must be true or false, got ${String(o.pymatgenCoordinates)}`);
  }
  if (o.supercellBasis !== undefined && o.supercellBasis !== 'given' && o.supercellBasis !== 'shortest') {
    throw new HopImagesError(`supercellBasis must be 'given' or 'shortest', got ${JSON.stringify(o.supercellBasis)}`);
  }
  if (o.supercellBasis === 'shortest' && o.pymatgenCoordinates) {
    throw new HopImagesError(`pymatgenCoordinates needs the given cell's supercell (supercellBasis 'given'), got supercellBasis 'shortest'`);
  }
}

/**
 * Fractional coordinates of a diagonal supercell as pymatgen 2022.11.7 computes them: the new lattice
 * is scaling · lattice; each site's Cartesian position (numpy's f · L) plus the Cartesian lattice
 * points (points · inv(scaling), then · new lattice), converted back with numpy's inverse of the new
 * lattice and wrapped twice with numpy's `% 1` (`Structure.make_supercell`, site order: for each site its
 * images, points ordered a, then b, then c). `points` are extra fractional positions of the original
 * cell (e.g. a hop's endpoints) returned unwrapped in the new basis, as pymatgen's
 * `PeriodicSite(species, cart, new_lattice, coords_are_cartesian=True)` gives them.
 */
export function pymatgenSupercellFrac(structure: Structure, scaling: readonly [number, number, number], points: readonly ArrayLike<number>[] = []): { frac: Float64Array; points: Float64Array[] } {
  const L = structure.lattice;
  const big = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) big[3 * r + c] = scaling[r]! * L[3 * r + c]!;
  const inv = numpyInv3(big);
  if (!inv) throw new HopImagesError('the supercell lattice is singular');
  const step = scaling.map((x) => 1 / x);
  const cLat: Float64Array[] = [];
  for (let a = 0; a < scaling[0]; a++)
    for (let b = 0; b < scaling[1]; b++)
      for (let c = 0; c < scaling[2]; c++) cLat.push(numpyDot3([a * step[0]!, b * step[1]!, c * step[2]!], big) as Float64Array);
  const n = structure.species.length;
  const frac = new Float64Array(3 * n * cLat.length);
  const cart = new Float64Array(3);
  const f = new Float64Array(3);
  let w = 0;
  for (let i = 0; i < n; i++) {
    numpyDot3(structure.frac.subarray(3 * i, 3 * i + 3), L, cart);
    for (const v of cLat) {
      numpyDot3([cart[0]! + v[0]!, cart[1]! + v[1]!, cart[2]! + v[2]!], inv, f);
      // Wrapped twice (Structure.from_sites(to_unit_cell=True), then make_supercell's own
      // to_unit_cell): −1e-17 becomes 1.0 and then 0.0.
      frac[w++] = pyMod1(pyMod1(f[0]!));
      frac[w++] = pyMod1(pyMod1(f[1]!));
      frac[w++] = pyMod1(pyMod1(f[2]!));
    }
  }
  const out = points.map((p) => numpyDot3(numpyDot3(p, L), inv) as Float64Array);
  return { frac, points: out };
}

/**
 * A supercell that does not depend on the setting of the cell: the three shortest linearly independent
 * lattice vectors (taken in order of length from the vectors n·B, |n_k| ≤ 2, of the LLL-reduced basis B,
 * which contain them in three dimensions), each repeated floor(L / length) + 1 times as in
 * {@link minLengthScaling}. Another setting of the same lattice has the same shortest vectors up to
 * sign; where several vectors tie in length they get the same repeat, and then any choice among them
 * spans the same supercell lattice. Returns the repeats and the supercell matrix in units of the
 * given cell's vectors (determinant > 0: the supercell keeps the given cell's handedness).
 */
export function shortestBasisSupercell(lattice: ArrayLike<number>, minLengthAng: number): { scaling: [number, number, number]; matrix: number[] } {
  const { lattice: B, mapping: T } = lllReduce(lattice);
  const cands: { v: number[]; c: number[]; len2: number }[] = [];
  for (let a = -2; a <= 2; a++) {
    for (let b = -2; b <= 2; b++) {
      for (let c = -2; c <= 2; c++) {
        // One of ±v: the first non-zero coefficient positive.
        const first = a !== 0 ? a : b !== 0 ? b : c;
        if (first <= 0) continue;
        const v = [0, 1, 2].map((k) => a * B[k]! + b * B[3 + k]! + c * B[6 + k]!);
        const coef = [0, 1, 2].map((k) => a * T[k]! + b * T[3 + k]! + c * T[6 + k]!);
        cands.push({ v, c: coef, len2: v[0]! * v[0]! + v[1]! * v[1]! + v[2]! * v[2]! });
      }
    }
  }
  cands.sort((x, y) => x.len2 - y.len2);
  const picked: (typeof cands)[number][] = [];
  for (const x of cands) {
    if (picked.length === 0) picked.push(x);
    else if (picked.length === 1) {
      const u = picked[0]!.v, v = x.v;
      const cx = [u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!];
      if (Math.hypot(cx[0]!, cx[1]!, cx[2]!) > 1e-6 * Math.sqrt(picked[0]!.len2 * x.len2)) picked.push(x);
    } else {
      const d = det3([...picked[0]!.v, ...picked[1]!.v, ...x.v]);
      if (Math.abs(d) > 1e-6 * Math.sqrt(picked[0]!.len2 * picked[1]!.len2 * x.len2)) {
        // The handedness of the given cell, so the supercell matrix has a positive determinant.
        picked.push(d * det3(lattice) > 0 ? x : { ...x, v: x.v.map((q) => -q), c: x.c.map((q) => -q) });
        break;
      }
    }
  }
  if (picked.length < 3) throw new HopImagesError(`no three independent lattice vectors found for the supercell (lattice [${Array.from(lattice).join(', ')}])`);
  const scaling = picked.map((x) => Math.floor(minLengthAng / Math.sqrt(x.len2)) + 1) as [number, number, number];
  const matrix = picked.flatMap((x, k) => x.c.map((q) => q * scaling[k]!));
  return { scaling, matrix };
}

/**
 * Start, interior and end structures of `hop` in `structure` (the structure the hop was found in).
 * See the module comment for the site order and vacancy/interstitial semantics.
 */
export function hopImages(structure: Structure, hop: Hop, options: HopImagesOptions = {}): HopImages {
  checkImageOptions(options);
  const nInterior = options.images ?? 5;
  const vacancy = options.vacancyMode ?? true;
  const ion = hop.ion;
  for (const [name, site] of [['startSite', hop.startSite], ['endSite', hop.endSite]] as const) {
    if (!(Number.isInteger(site) && site >= 0 && site < structure.species.length)) {
      throw new HopImagesError(`hop ${name} ${site} is not a site of the structure (${structure.species.length} sites)`);
    }
    if (structure.species[site] !== ion) throw new HopImagesError(`hop ${name} ${site} is ${structure.species[site]}, not the migrating ion ${ion}`);
  }
  for (let k = 0; k < 3; k++) {
    if (Math.abs(hop.startFrac[k]! - structure.frac[3 * hop.startSite + k]!) > 1e-9) {
      throw new HopImagesError(`hop start [${hop.startFrac.join(', ')}] is not on site ${hop.startSite}: the hop belongs to another structure or cell`);
    }
  }

  let host = structure;
  let start: Vec3 = [...hop.startFrac];
  let end: Vec3 = [...hop.endFrac];
  let scaling: [number, number, number] | null = null;
  let matrix: number[] | null = null;
  if (options.supercellMinLength !== undefined && options.supercellBasis === 'shortest') {
    ({ scaling, matrix } = shortestBasisSupercell(structure.lattice, options.supercellMinLength));
    host = supercell(structure, matrix);
    // Fractional coordinates in the supercell: f · M⁻¹.
    const mi = inv3(matrix);
    const toSuper = (p: Vec3) => [0, 1, 2].map((k) => p[0] * mi[k]! + p[1] * mi[3 + k]! + p[2] * mi[6 + k]!) as Vec3;
    start = toSuper(start);
    end = toSuper(end);
  } else if (options.supercellMinLength !== undefined) {
    scaling = minLengthScaling(structure, options.supercellMinLength);
    matrix = [scaling[0], 0, 0, 0, scaling[1], 0, 0, 0, scaling[2]];
    host = supercell(structure, scaling);
    start = [0, 1, 2].map((k) => start[k]! / scaling![k]!) as Vec3;
    end = [0, 1, 2].map((k) => end[k]! / scaling![k]!) as Vec3;
  }
  const a = siteAt(host, ion, start);
  const b = siteAt(host, ion, end);
  if (!a || !b) throw new HopImagesError(`hop endpoints are not on ${ion} sites of the ${scaling ? 'supercell' : 'structure'}`);
  let f = host.frac;
  if (options.pymatgenCoordinates && scaling) {
    const pm = pymatgenSupercellFrac(structure, scaling, [hop.startFrac, hop.endFrac]);
    f = pm.frac;
    start = [...pm.points[0]!] as Vec3;
    end = [...pm.points[1]!] as Vec3;
  } else {
    // Keep the start exactly at its site's stored coordinates (the end follows with the hop vector).
    const startExact = [0, 1, 2].map((k) => f[3 * a.site + k]! + a.shift[k]!) as Vec3;
    const delta = [0, 1, 2].map((k) => end[k]! - start[k]!);
    start = startExact;
    end = [0, 1, 2].map((k) => start[k]! + delta[k]!) as Vec3;
  }

  const others: number[] = [];
  for (let i = 0; i < host.species.length; i++) {
    if (i === a.site || i === b.site) continue;
    if (!vacancy && host.species[i] === ion) continue;
    others.push(i);
  }
  // A hop to a periodic image of its own site (a translation hop) empties one site, not two.
  const nIon = host.species.filter((x) => x === ion).length;
  const emptied = a.site === b.site ? 1 : 2;
  const expected = vacancy ? host.species.length - emptied + 1 : host.species.length - nIon + 1;
  if (others.length + 1 !== expected) {
    throw new HopImagesError(`image has ${others.length + 1} sites, expected ${expected} (${vacancy ? 'host − 1' : 'host without the ion + 1'})`);
  }
  const species = [ion, ...others.map((i) => host.species[i]!)];
  const oxi = host.oxidationStates ? [host.oxidationStates[a.site]!, ...others.map((i) => host.oxidationStates![i]!)] : null;
  const frame = (t: number): Structure => {
    const frac = new Float64Array(3 * species.length);
    for (let k = 0; k < 3; k++) frac[k] = start[k]! + t * (end[k]! - start[k]!);
    others.forEach((i, q) => frac.set(f.subarray(3 * i, 3 * i + 3), 3 * (q + 1)));
    return createStructure(
      { lattice: host.lattice, species, frac, oxidationStates: oxi, info: { ...host.info } },
      { checkOverlap: false, allowLeftHanded: true },
    );
  };
  const total = nInterior + 1;
  const first = frame(0);
  const last = frame(1);
  if (options.idpp) {
    const opts = options.idpp === true ? {} : options.idpp;
    const r = idpp(first, last, { ...opts, images: nInterior });
    return { images: r.images, scaling, supercellMatrix: matrix, hostSites: host.species.length, idpp: { iterations: r.iterations, converged: r.converged } };
  }
  const images: Structure[] = [first];
  for (let k = 1; k < total; k++) images.push(frame(k / total));
  images.push(last);
  return { images, scaling, supercellMatrix: matrix, hostSites: host.species.length, idpp: null };
}

/**
 * IDPP images of `hop` (vacancy mode) in the supercell whose axes are all ≥ `supercellMinLength` Å, as
 * pymatgen-analysis-diffusion builds them (`get_sc_structures` + `IDPPSolver`): coordinates with
 * pymatgen's rounding and pymatgen's choice between equally near periodic images of a pair. Only a
 * non-finite relaxation (a straight line through another atom) is refused (IdppGuardError). Where
 * pymatgen's image search would keep a pair image that is not a nearest one (very skewed cells), the
 * nearest images are taken instead.
 */
export function pymatgenHopImages(structure: Structure, hop: Hop, options: { images: number; supercellMinLength: number }): HopImages {
  const opts = { images: options.images, supercellMinLength: options.supercellMinLength, pymatgenCoordinates: true };
  try {
    return hopImages(structure, hop, { ...opts, idpp: { minDistanceAng: 0, tieBreak: 'pymatgen' } });
  } catch (e) {
    if (!(e instanceof IdppShiftError)) throw e;
    return hopImages(structure, hop, { ...opts, idpp: { minDistanceAng: 0 } });
  }
}

/**
 * How close (Å) the straight path of the fast IDPP mode may bring the moving ion to another atom in the
 * screen. Closer, the path is refused (IdppGuardError): a straight line through an atom — common where
 * the two F sites sit on either side of a cation on a symmetry axis — makes the IDPP objective
 * singular, and the side the relaxed path takes around the atom, with it the descriptors, would be
 * decided by the last bits of the input (measured on the bundled set: 263 of 3,778 pathways run within
 * 1e-3 Å of an atom, 248 of them exactly through one; between 1e-3 and 0.05 Å another 16). 0.01 Å lies
 * far above the rounding of any structure format with 5 or more decimals and far below a real
 * near-miss, which the relaxation resolves.
 */
export const FAST_MIN_PATH_DISTANCE_ANG = 0.01;

/**
 * The IDPP images the screen computes for `hop` (vacancy mode, supercell with every axis ≥
 * `supercellMinLength` Å): with `idpp: 'exact'` {@link pymatgenHopImages} (the DDI numbers, supercell
 * of the given cell's vectors); with `'fast'` the supercell of the shortest-vector basis
 * ({@link shortestBasisSupercell}: the same lattice in any cell setting) in exact fractional
 * arithmetic, relaxed by the fast IDPP mode, which needs no
 * pymatgen rounding (tied pair images share the weight), refusing a straight path that runs within
 * {@link FAST_MIN_PATH_DISTANCE_ANG} of another atom (IdppGuardError). One definition for the
 * descriptors and the images stage, so the path written is the path described.
 */
export function screenHopImages(structure: Structure, hop: Hop, options: { images: number; supercellMinLength: number; idpp: IdppMode }): HopImages {
  if (!IDPP_MODES.includes(options.idpp)) throw new HopImagesError(`idpp must be 'exact' or 'fast', got ${JSON.stringify(options.idpp)}`);
  if (options.idpp === 'exact') return pymatgenHopImages(structure, hop, options);
  return hopImages(structure, hop, { images: options.images, supercellMinLength: options.supercellMinLength, supercellBasis: 'shortest', idpp: { mode: 'fast', minDistanceAng: FAST_MIN_PATH_DISTANCE_ANG } });
}

/** Multi-frame extended XYZ of the images (one frame per image, in order). */
export function imagesToExtxyz(images: readonly Structure[]): string {
  return images.map((s) => writeExtxyz(s)).join('');
}

/**
 * One CIF with all images overlaid: the host sites of the start image once, then the moving ion at
 * every image position (start … end) — the picture pymatgen's `write_path` gives in VESTA, without
 * repeating the fixed host atoms. Only meaningful for straight-line or IDPP images where the host
 * atoms stay put; for IDPP images the host is taken from the start image.
 */
export function imagesToOverlayCif(images: readonly Structure[]): string {
  if (images.length < 2) throw new HopImagesError(`need at least 2 images to overlay, got ${images.length}`);
  const s0 = images[0]!;
  const n = s0.species.length;
  const species: string[] = [];
  const frac: number[] = [];
  for (const im of images) {
    species.push(im.species[0]!);
    frac.push(im.frac[0]!, im.frac[1]!, im.frac[2]!);
  }
  for (let i = 1; i < n; i++) {
    species.push(s0.species[i]!);
    frac.push(s0.frac[3 * i]!, s0.frac[3 * i + 1]!, s0.frac[3 * i + 2]!);
  }
  const overlay = createStructure({ lattice: s0.lattice, species, frac, info: { ...s0.info } }, { checkOverlap: false, allowLeftHanded: true });
  return writeCif(overlay);
}

export const HOP_JSON_FORMAT = 'fracflow-hops/1';

/** A hop list as JSON text (all fields, full double precision); {@link hopsFromJson} reads it back. */
export function hopsToJson(result: HopResult): string {
  return JSON.stringify({ format: HOP_JSON_FORMAT, ...result }, null, 1) + '\n';
}

function isVec3(v: unknown): v is Vec3 {
  return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Reads a hop list written by {@link hopsToJson}; the message names the field that is wrong. */
export function hopsFromJson(text: string): HopResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PathfinderError(`hop list: not JSON: ${(e as Error).message}`);
  }
  const o = raw as Record<string, unknown>;
  if (!o || typeof o !== 'object' || o['format'] !== HOP_JSON_FORMAT) {
    throw new PathfinderError(`hop list: format must be "${HOP_JSON_FORMAT}", got ${JSON.stringify(o?.['format'])}`);
  }
  if (!Array.isArray(o['hops'])) throw new PathfinderError('hop list: "hops" must be an array');
  (o['hops'] as unknown[]).forEach((h, k) => {
    const x = h as Record<string, unknown>;
    for (const f of ['startFrac', 'endFrac', 'midFrac', 'image']) {
      if (!isVec3(x[f])) throw new PathfinderError(`hop list: hops[${k}].${f} must be 3 finite numbers`);
    }
    for (const f of ['index', 'startSite', 'endSite', 'startClass', 'endClass', 'multiplicity', 'lengthAng']) {
      if (typeof x[f] !== 'number' || !Number.isFinite(x[f])) throw new PathfinderError(`hop list: hops[${k}].${f} must be a number`);
    }
    if (typeof x['ion'] !== 'string') throw new PathfinderError(`hop list: hops[${k}].ion must be a string`);
  });
  // Lists written before the equivalence modes existed are the default mode's.
  if (o['equivalence'] !== undefined && !HOP_EQUIVALENCES.includes(o['equivalence'] as HopEquivalence)) {
    throw new PathfinderError(`hop list: "equivalence" must be ${HOP_EQUIVALENCES.map((m) => `"${m}"`).join(' or ')}, got ${JSON.stringify(o['equivalence'])}`);
  }
  const rest: Record<string, unknown> = { equivalence: 'fracflow', ...o };
  delete rest['format'];
  return rest as unknown as HopResult;
}
