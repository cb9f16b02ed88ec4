/**
 * The DDI empirical descriptors of migration pathways (the 2021 fluoride screen, recomputed with
 * pymatgen + pymatgen-analysis-diffusion as recorded in test/fixtures/reference/descriptors), one row per
 * distinct hop of the migrating ion:
 *
 * - pathway columns: hop index, start/end fractional coordinates and end image, length, multiplicity,
 *   atomic fraction of the ion, nsites_777 / _101010 / _121212 = N · Π_i (floor(L / a_i) + 1), dmin
 *   (shortest hop of the structure) and (length − dmin) / dmin;
 * - oxidation state of the moving ion (input states, else bond valence, else composition guess; the
 *   method is a column);
 * - Larsen dimensionality of the F–F hop graph of the cell: the hop's symmetry class alone (edges are
 *   labelled by the space-group orbit of the hop, not by length: two classes of equal length differ,
 *   e.g. KMgF3's two 3.99 Å hops give 1 and 3), all hops no longer than it (`cumlengths`, tolerance
 *   1e-6 Å), all hops whose ewald_energy is not above its own (`cumbarriers`; hops of classes beyond the
 *   kept ones count as closed), and the lengths at which the graph of all hops ≤ maxLength first
 *   percolates in 1, 2 and 3 dimensions;
 * - the 7 structures of `MigrationHop.get_structures(nimages=5, vac_mode=True, idpp=True)` in the supercell
 *   scaled by floor(7 / a_i) + 1 (moving ion = site 0, both endpoint sites empty, charge +1 for F⁻), and on
 *   them `ewald_energy` = max_k (E_k − E_0) / |E_0| of the moving ion's site energy at accuracy 3 and the
 *   signed largest change of the ionic-radii overlap with cations / anions within 8 Å.
 *
 * A descriptor that cannot be computed (no charge-balanced oxidation states, a missing ionic radius, an
 * IDPP path through another atom) is null and its `*_reason` column says why; the call does not fail for
 * those. It throws only for invalid options or a structure without the ion (PathfinderError).
 */
import { withChanges, type Structure } from '../structure/structure.js';
import { sanitize } from '../structure/sanitize.js';
import { DEFAULT_SYMPREC, primitiveReduction, sitePermutations, type PrimitiveReduction, type SitePermutations } from '../structure/symmetry.js';
import { BondValenceError, bondValenceStates, oxidationStates, type OxidationMethod, type OxidationResult } from './oxidation.js';
import { minLengthScaling } from '../kernels/supercell.js';
import { ewaldSiteEnergy } from '../kernels/ewald.js';
import { radiiOverlap } from '../kernels/overlap.js';
import { IdppGuardError, IDPP_MODES, type IdppMode } from '../kernels/idpp.js';
import { DEFAULT_HOP_LIMIT, DEFAULT_MAX_LENGTH_ANG, HOP_EQUIVALENCES, HOP_LENGTH_TOL_ANG, findHops, ionElement, type Hop, type HopEquivalence, type HopResult, type Vec3 } from './pathfinder.js';
import { hopImages, screenHopImages, type HopImages } from './hop-images.js';
import { dimensionalityCumCosts, dimensionalityCumLengths, dimensionalityOfClass, firstPercolationLengths, hopGraph, type HopGraph } from './percolation.js';
import { checkSiteCount, maxSitesProblem } from './site-limit.js';
import type { ProgressCallback } from './progress.js';

/** DDI supercell rule lengths for the nsites_* columns, Å. */
const NSITES_LENGTHS_ANG = [7, 10, 12] as const;
/** Interior images of the DDI path (pymatgen `nimages`). */
const DDI_IMAGES = 5;
/** Ewald accuracy factor of the DDI site energies (matminer's EwaldSiteEnergy setting). */
const DDI_EWALD_ACC = 3;
/** Neighbour cutoff of the radii overlap, Å. */
const DDI_OVERLAP_CUTOFF_ANG = 8;
/**
 * The hop graph is built up to the longest hop plus this (Å), as MigrationGraph.with_distance(length +
 * 1e-5) does, so every member of a hop's orbit is an edge even when symprec-equivalent lengths differ.
 */
const GRAPH_PAD_ANG = 1e-5;
/** `cumlengths` keeps edges with length − 1e-6 ≤ the hop's length (the DDI test). */
const CUMLENGTH_TOL_ANG = 1e-6;

export interface DescriptorOptions {
  /** Migrating element (`F`; `F-` is read as `F`). Default `F`. */
  ion?: string;
  /** Maximum hop length, Å. Default 5. */
  maxLengthAng?: number;
  /** Keep the N shortest distinct hops (0 = all). Default 5. */
  limit?: number;
  /** Reduce to the primitive, LLL-reduced, wrapped cell first (default true); false keeps the given cell. */
  sanitize?: boolean;
  /** Supercell rule length for the IDPP/Ewald/overlap images: every axis scaled by floor(L / a_i) + 1. Default 7 Å. */
  supercellMinLengthAng?: number;
  /** Symmetry tolerance, Å. Default 0.1. */
  symprec?: number;
  /**
   * Which hops are distinct (`findHops`' `equivalence`): `fracflow` (default) merges the members of a
   * symmetry orbit, `pymatgen` lists DistinctPathFinder's hops (the DDI pathway set).
   */
  equivalence?: HopEquivalence;
  /**
   * The distinct hops of the (sanitised) cell, found already by `findHops` with these options (the
   * screen's find_paths stage): used as they are instead of searching again. Give them with
   * `sanitize: false` and the cell they were found in.
   */
  hops?: HopResult;
  /**
   * IDPP mode of the images (src/kernels/idpp.ts): `exact` (default) reproduces pymatgen's IDPPSolver
   * and so the DDI numbers, including their sensitivity to the last bits of the input in high-symmetry
   * cells; `fast` converges the same objective with L-BFGS, ~2–3× fewer force evaluations, and gives
   * the same descriptors for any cell setting, orientation or format of the structure.
   */
  idpp?: IdppMode;
  /**
   * Most sites the structure may have, counted as given (before the primitive reduction). Default
   * {@link DEFAULT_MAX_SITES}; a larger one is refused with a SiteLimitError naming the count and the limit.
   */
  maxSites?: number;
  /** Called at the start of each phase and of each hop's descriptors (see ./progress.ts). */
  onProgress?: ProgressCallback;
}

/** One pathway's row: the columns of the pathways and descriptors stages (snake_case as in the store). */
export interface PathwayDescriptors {
  hop_index: number;
  ion: string;
  start_site: number;
  end_site: number;
  start_frac: Vec3;
  end_frac: Vec3;
  end_image: Vec3;
  /** Hop length, Å. */
  length: number;
  /** Symmetry-equivalent hops per cell (undirected). */
  multiplicity: number;
  /** Atomic fraction of the migrating element in the structure. */
  ion_fraction: number;
  nsites: number;
  nsites_777: number;
  nsites_101010: number;
  nsites_121212: number;
  /** Shortest distinct hop of the structure, Å, and (length − dmin) / dmin. */
  dmin: number;
  length_rel_dmin: number;
  oxidation_state: number | null;
  oxidation_method: OxidationMethod | null;
  oxidation_reason: string | null;
  /** Larsen dimensionality of this hop's symmetry class alone. */
  dimensionality: number;
  dimensionality_cumlengths: number;
  /** Dimensionality of all hops with ewald_energy ≤ this hop's; null when its ewald_energy is null. */
  dimensionality_cumbarriers: number | null;
  dimensionality_cumbarriers_reason: string | null;
  /** Hop lengths (Å) at which all hops ≤ maxLength first percolate in 1, 2, 3 dimensions (null: never). */
  percolation_1d: number | null;
  percolation_2d: number | null;
  percolation_3d: number | null;
  supercell_scaling: Vec3;
  /** Sites per image (supercell sites − 1 in vacancy mode). */
  n_sites_per_image: number;
  idpp_iterations: number | null;
  idpp_converged: boolean | null;
  /** max_k (E_k − E_0) / |E_0| of the moving ion's Ewald site energy over the 7 structures. */
  ewald_energy: number | null;
  ewald_reason: string | null;
  /** Signed largest change (Å) of the overlap with cations / anions relative to the start structure. */
  ionic_radii_overlap_cations: number | null;
  ionic_radii_overlap_cations_reason: string | null;
  ionic_radii_overlap_anions: number | null;
  ionic_radii_overlap_anions_reason: string | null;
}

/** Per-structure state shared by the pathways of one structure (see {@link descriptorContext}). */
export interface DescriptorContext {
  /** The cell the descriptors are computed in (sanitised or as given), with oxidation states when balanced. */
  structure: Structure;
  ion: string;
  maxLengthAng: number;
  supercellMinLengthAng: number;
  /** IDPP mode of the images. */
  idpp: IdppMode;
  hops: HopResult;
  oxidation: { states: Float64Array | null; method: OxidationMethod | null; reason: string | null };
  /** Every hop of the ion up to max(maxLength, longest kept hop) + 1e-5 Å. */
  graph: HopGraph;
  percolation: { oneD: number | null; twoD: number | null; threeD: number | null };
  reduction: PrimitiveReduction;
  permutations: SitePermutations;
  /** Primitive-cell hop key of every graph edge. */
  edgeKeys: string[];
}

/** Invalid descriptor options; the message names the option and the value received. */
export class DescriptorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DescriptorError';
  }
}

function checkOptions(o: DescriptorOptions): void {
  if (o === null || typeof o !== 'object') throw new DescriptorError(`options must be an object, got ${String(o)}`);
  if (o.maxLengthAng !== undefined && !(typeof o.maxLengthAng === 'number' && Number.isFinite(o.maxLengthAng) && o.maxLengthAng > 0)) {
    throw new DescriptorError(`maxLengthAng must be a positive number of Å, got ${String(o.maxLengthAng)}`);
  }
  if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit >= 0)) {
    throw new DescriptorError(`limit must be a non-negative integer (0 = all), got ${String(o.limit)}`);
  }
  if (o.sanitize !== undefined && typeof o.sanitize !== 'boolean') throw new DescriptorError(`sanitize must be true or false, got ${String(o.sanitize)}`);
  if (o.supercellMinLengthAng !== undefined && !(typeof o.supercellMinLengthAng === 'number' && Number.isFinite(o.supercellMinLengthAng) && o.supercellMinLengthAng > 0)) {
    throw new DescriptorError(`supercellMinLengthAng must be a positive number of Å, got ${String(o.supercellMinLengthAng)}`);
  }
  if (o.ion !== undefined && typeof o.ion !== 'string') throw new DescriptorError(`ion must be an element symbol, got ${String(o.ion)}`);
  if (o.equivalence !== undefined && !HOP_EQUIVALENCES.includes(o.equivalence)) {
    throw new DescriptorError(`equivalence must be ${HOP_EQUIVALENCES.map((m) => `'${m}'`).join(' or ')}, got ${JSON.stringify(o.equivalence)}`);
  }
  // Hops found in the other mode would be a different pathway set under this option's name.
  if (o.equivalence !== undefined && o.hops !== undefined && o.hops.equivalence !== o.equivalence) {
    throw new DescriptorError(`equivalence '${o.equivalence}' does not match the given hops, found with equivalence ${JSON.stringify(o.hops.equivalence)}`);
  }
  const limitProblem = maxSitesProblem(o.maxSites, 'maxSites');
  if (limitProblem) throw new DescriptorError(limitProblem);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new DescriptorError(`onProgress must be a function, got ${o.onProgress === null ? 'null' : typeof o.onProgress}`);
  if (o.idpp !== undefined && !IDPP_MODES.includes(o.idpp)) throw new DescriptorError(`idpp must be 'exact' or 'fast', got ${JSON.stringify(o.idpp)}`);
}

type Move = { start: number; end: number; image: Vec3 };

/** A hop of the input cell as a key of the primitive cell: primitive sites and translation. */
function primitiveKey(red: PrimitiveReduction, c: Move): string {
  const T = red.T, sh = red.shift;
  const pa = red.siteToPrimitive[c.start]!, pb = red.siteToPrimitive[c.end]!;
  const [n0, n1, n2] = c.image;
  const m = [0, 1, 2].map((k) => sh[3 * c.end + k]! + n0 * T[k]! + n1 * T[3 + k]! + n2 * T[6 + k]! - sh[3 * c.start + k]!);
  return `${pa},${pb},${m[0]},${m[1]},${m[2]}`;
}

function primitiveHopLength(p: Structure, a: number, b: number, m: number[]): number {
  const f = p.frac, L = p.lattice;
  const d = [0, 1, 2].map((k) => f[3 * b + k]! + m[k]! - f[3 * a + k]!);
  return Math.hypot(
    d[0]! * L[0]! + d[1]! * L[3]! + d[2]! * L[6]!,
    d[0]! * L[1]! + d[1]! * L[4]! + d[2]! * L[7]!,
    d[0]! * L[2]! + d[1]! * L[5]! + d[2]! * L[8]!,
  );
}

/**
 * Keys of every directed hop (both orientations) that a space-group operation of the primitive cell maps
 * the hop onto. As in the pathfinder, an operation that changes the length by more than 1e-3 Å (possible
 * with approximate symmetry at symprec 0.1) does not count.
 */
function orbitKeys(ctx: Pick<DescriptorContext, 'reduction' | 'permutations'>, hop: Move, lengthAng: number): Set<string> {
  const red = ctx.reduction, perms = ctx.permutations;
  const p = red.primitive;
  const R = red.symmetry.rotations;
  const T = red.T, sh = red.shift;
  const a = red.siteToPrimitive[hop.start]!, b = red.siteToPrimitive[hop.end]!;
  const n = [0, 1, 2].map((k) => sh[3 * hop.end + k]! + hop.image[0] * T[k]! + hop.image[1] * T[3 + k]! + hop.image[2] * T[6 + k]! - sh[3 * hop.start + k]!);
  const np = p.species.length;
  const out = new Set<string>();
  for (let k = 0; k < perms.operationCount; k++) {
    const o = 9 * k;
    const ia = k * np + a, ib = k * np + b;
    const pa = perms.perm[ia]!, pb = perms.perm[ib]!;
    // R(x_a) + t = x_pa + s_a and R(x_b + n) + t = x_pb + s_b + R n: relative to x_pa the end is
    // x_pb + (s_b + R n − s_a).
    const m = [0, 1, 2].map((r) => perms.shift[3 * ib + r]! + R[o + 3 * r]! * n[0]! + R[o + 3 * r + 1]! * n[1]! + R[o + 3 * r + 2]! * n[2]! - perms.shift[3 * ia + r]!);
    if (Math.abs(primitiveHopLength(p, pa, pb, m) - lengthAng) > HOP_LENGTH_TOL_ANG) continue;
    out.add(`${pa},${pb},${m[0]},${m[1]},${m[2]}`);
    out.add(`${pb},${pa},${-m[0]!},${-m[1]!},${-m[2]!}`);
  }
  return out;
}

/**
 * The per-structure part of the descriptors: the cell (sanitised unless `sanitize: false`), its
 * distinct hops, oxidation states, hop graph and percolation cutoffs. Pass it to {@link descriptorsForHop}.
 */
export function descriptorContext(structure: Structure, options: DescriptorOptions = {}): DescriptorContext {
  checkOptions(options);
  const ion = ionElement(options.ion ?? 'F');
  const symprec = options.symprec ?? DEFAULT_SYMPREC;
  const maxLengthAng = options.maxLengthAng ?? DEFAULT_MAX_LENGTH_ANG;
  const supercellMinLengthAng = options.supercellMinLengthAng ?? 7;
  checkSiteCount(structure, options.maxSites, 'the descriptors');
  const progress = options.onProgress;
  progress?.({ phase: `${options.sanitize === false ? 'primitive cell and symmetry' : 'sanitize: primitive cell and symmetry'} (${structure.species.length} sites)` });
  let s = options.sanitize === false ? structure : sanitize(structure, { symprec }).structure;
  const reduction = primitiveReduction(s, { symprec });
  // Hops found already (the screen's find_paths stage, on this same cell) are taken as they are.
  const hops = options.hops ?? findHops(s, { ion, maxLengthAng, limit: options.limit ?? DEFAULT_HOP_LIMIT, symprec, reduction, maxSites: options.maxSites, equivalence: options.equivalence, onProgress: progress });

  progress?.({ phase: `oxidation states (${s.species.length} sites)` });
  let oxidation: DescriptorContext['oxidation'];
  const ox = assignOxidationStates(s);
  if (ox.chargeBalanced) {
    oxidation = { states: ox.states, method: ox.method, reason: null };
    s = withChanges(s, { oxidationStates: ox.states });
  } else {
    const tried = ox.skipped.map((x) => `${x.method}: ${x.reason}`).join('; ');
    const what = ox.method === 'composition-guess' ? 'composition-guess: no charge-balanced combination of common oxidation states' : `${ox.method}: net charge ${sum(ox.states)}`;
    oxidation = { states: null, method: null, reason: `no charge-balanced oxidation states (${what}${tried ? `; ${tried}` : ''})` };
    s = withChanges(s, { oxidationStates: null });
  }

  const longest = hops.hops.reduce((m, h) => Math.max(m, h.lengthAng), 0);
  progress?.({ phase: `${ion} hop graph and percolation` });
  const graph = hopGraph(s, ion, Math.max(maxLengthAng, longest) + GRAPH_PAD_ANG);
  const keep: number[] = [];
  for (let e = 0; e < graph.lengths.length; e++) if (graph.lengths[e]! <= maxLengthAng) keep.push(e);
  const sub = {
    i: keep.map((e) => graph.i[e]!),
    j: keep.map((e) => graph.j[e]!),
    image: keep.flatMap((e) => [graph.image[3 * e]!, graph.image[3 * e + 1]!, graph.image[3 * e + 2]!]),
  };
  const percolation = firstPercolationLengths(graph.nSites, sub, keep.map((e) => graph.lengths[e]!));
  const permutations = sitePermutations(reduction.primitive, reduction.symmetry);
  const edgeKeys: string[] = [];
  for (let e = 0; e < graph.i.length; e++) {
    const image: Vec3 = [graph.image[3 * e]!, graph.image[3 * e + 1]!, graph.image[3 * e + 2]!];
    edgeKeys.push(primitiveKey(reduction, { start: graph.siteIndex[graph.i[e]!]!, end: graph.siteIndex[graph.j[e]!]!, image }));
  }
  return { structure: s, ion, maxLengthAng, supercellMinLengthAng, idpp: options.idpp ?? 'exact', hops, oxidation, graph, percolation, reduction, permutations, edgeKeys };
}

/**
 * Input states, else bond valence, else — as pymatgen's ValenceIonicRadiusEvaluator does before its
 * last fallback — bond valence again with every site on its own (BVAnalyzer(symm_tol=0)), which
 * succeeds on cells where the symmetry-grouped assignment finds no valid combination; only then the
 * composition guess.
 */
function assignOxidationStates(s: Structure): OxidationResult {
  const first = oxidationStates(s);
  if (first.method !== 'composition-guess' || !first.skipped.some((x) => x.method === 'bond-valence')) return first;
  try {
    const bv = bondValenceStates(s, { symprec: 0 });
    const states = Float64Array.from(bv.valences);
    return { states, method: 'bond-valence', chargeBalanced: Math.abs(sum(states)) <= 1e-8, skipped: first.skipped, bvSums: bv.bvSums };
  } catch (e) {
    if (!(e instanceof BondValenceError)) throw e;
    return { ...first, skipped: [...first.skipped, { method: 'bond-valence', reason: `with every site on its own: ${e.message}` }] };
  }
}

function sum(x: ArrayLike<number>): number {
  let q = 0;
  for (let k = 0; k < x.length; k++) q += x[k]!;
  return q;
}

function nsitesFor(s: Structure, lengthAng: number): number {
  const sc = minLengthScaling(s, lengthAng);
  return s.species.length * sc[0] * sc[1] * sc[2];
}

/** Graph edges (0/1 per edge) in the symmetry orbit of `hop`. */
function classMask(ctx: DescriptorContext, hop: Hop): Int32Array {
  const orbit = orbitKeys(ctx, { start: hop.startSite, end: hop.endSite, image: hop.image }, hop.lengthAng);
  return Int32Array.from(ctx.edgeKeys, (k) => (orbit.has(k) ? 1 : 0));
}

/** The image-based DDI descriptors of one path (see {@link imageDescriptors}). */
export interface ImageDescriptors {
  ewald_energy: number | null;
  ewald_reason: string | null;
  ionic_radii_overlap_cations: number | null;
  ionic_radii_overlap_cations_reason: string | null;
  ionic_radii_overlap_anions: number | null;
  ionic_radii_overlap_anions_reason: string | null;
}

/**
 * ewald_energy and the ionic-radii overlaps of a path given as structures (start, images, end) with the
 * moving ion at site 0 and oxidation states on every site: max_k (E_k − E_0) / |E_0| of site 0's Ewald
 * energy at accuracy 3, and the signed largest change of the overlap with cations / anions within 8 Å.
 */
export function imageDescriptors(images: Structure[]): ImageDescriptors {
  if (!Array.isArray(images) || images.length < 2) throw new DescriptorError(`images must be at least 2 structures (start … end), got ${Array.isArray(images) ? images.length : String(images)}`);
  images.forEach((im, k) => {
    if (!im.oxidationStates) throw new DescriptorError(`images[${k}] has no oxidation states; Ewald energies and ionic radii need one per site`);
  });
  let ewald_energy: number | null = null;
  let ewald_reason: string | null = null;
  const e0 = ewaldSiteEnergy(images[0]!, 0, { accFactor: DDI_EWALD_ACC });
  if (e0 === 0) ewald_reason = 'the moving ion has zero Ewald site energy in the start structure (relative change undefined)';
  else {
    let best = -Infinity;
    for (let k = 0; k < images.length; k++) {
      const ek = k === 0 ? e0 : ewaldSiteEnergy(images[k]!, 0, { accFactor: DDI_EWALD_ACC });
      best = Math.max(best, (ek - e0) / Math.abs(e0));
    }
    ewald_energy = best;
  }
  const ov = radiiOverlap(images, 0, { cutoffAng: DDI_OVERLAP_CUTOFF_ANG });
  return {
    ewald_energy,
    ewald_reason,
    ionic_radii_overlap_cations: ov.cations.change,
    ionic_radii_overlap_cations_reason: ov.cations.changeReason,
    ionic_radii_overlap_anions: ov.anions.change,
    ionic_radii_overlap_anions_reason: ov.anions.changeReason,
  };
}

/**
 * The 7 IDPP structures the image descriptors of `hop` are computed on (start, 5 images, end; moving
 * ion = site 0) in the DDI supercell, as pymatgen-analysis-diffusion's `get_structures(nimages=5,
 * vac_mode=True, idpp=True)` gives them: supercell and endpoint coordinates with pymatgen's rounding
 * and pymatgen's choice between equally near periodic images of a pair (pairs at half a supercell
 * vector), which otherwise moves the relaxed path by up to tenths of an Å. With `ctx.idpp` 'fast' the
 * fast IDPP mode instead (see screenHopImages). Only a non-finite relaxation (a straight line through
 * another atom, where pymatgen yields NaN) is refused (IdppGuardError); close approaches that pymatgen
 * relaxes are relaxed here too. Needs oxidation states only for what is computed on the images, not
 * for the images themselves.
 */
export function descriptorImages(ctx: DescriptorContext, hop: Hop): HopImages {
  return screenHopImages(ctx.structure, hop, { images: DDI_IMAGES, supercellMinLength: ctx.supercellMinLengthAng, idpp: ctx.idpp });
}

/**
 * The descriptors of one hop of `ctx.structure` (a hop of `ctx.hops`, or any hop of the ion in the same
 * cell, e.g. from hopBetween). `dimensionality_cumbarriers` needs the ewald_energy of every class and is
 * filled by {@link pathwayDescriptors} / {@link cumBarrierDimensionalities}; here it is null with that reason.
 */
export function descriptorsForHop(ctx: DescriptorContext, hop: Hop): PathwayDescriptors {
  const s = ctx.structure;
  if (hop.ion !== ctx.ion) throw new DescriptorError(`hop ion ${hop.ion} is not the context's ion ${ctx.ion}`);
  const n = s.species.length;
  const nIon = s.species.filter((x) => x === ctx.ion).length;
  const dmin = ctx.hops.hops.length > 0 ? Math.min(hop.lengthAng, ctx.hops.hops[0]!.lengthAng) : hop.lengthAng;
  const mask = classMask(ctx, hop);
  if (!mask.includes(1)) throw new DescriptorError(`hop ${hop.startSite}→${hop.endSite} [${hop.image.join(', ')}] is not an edge of the ${ctx.ion} hop graph of this structure`);
  const g = ctx.graph;
  const dimensionality = dimensionalityOfClass(g.nSites, g, mask, 1);
  const cum = dimensionalityCumLengths(g.nSites, g, g.lengths, hop.lengthAng, { toleranceAng: CUMLENGTH_TOL_ANG });
  const scaling = minLengthScaling(s, ctx.supercellMinLengthAng);
  const ox = ctx.oxidation;
  const row: PathwayDescriptors = {
    hop_index: hop.index,
    ion: ctx.ion,
    start_site: hop.startSite,
    end_site: hop.endSite,
    start_frac: [...hop.startFrac],
    end_frac: [...hop.endFrac],
    end_image: [...hop.image],
    length: hop.lengthAng,
    multiplicity: hop.multiplicity,
    ion_fraction: nIon / n,
    nsites: n,
    nsites_777: nsitesFor(s, NSITES_LENGTHS_ANG[0]),
    nsites_101010: nsitesFor(s, NSITES_LENGTHS_ANG[1]),
    nsites_121212: nsitesFor(s, NSITES_LENGTHS_ANG[2]),
    dmin,
    length_rel_dmin: (hop.lengthAng - dmin) / dmin,
    oxidation_state: ox.states ? ox.states[hop.startSite]! : null,
    oxidation_method: ox.method,
    oxidation_reason: ox.reason,
    dimensionality,
    dimensionality_cumlengths: cum,
    dimensionality_cumbarriers: null,
    dimensionality_cumbarriers_reason: 'needs the ewald_energy of every hop class (pathwayDescriptors or cumBarrierDimensionalities)',
    percolation_1d: ctx.percolation.oneD,
    percolation_2d: ctx.percolation.twoD,
    percolation_3d: ctx.percolation.threeD,
    supercell_scaling: scaling,
    n_sites_per_image: 0,
    idpp_iterations: null,
    idpp_converged: null,
    ewald_energy: null,
    ewald_reason: null,
    ionic_radii_overlap_cations: null,
    ionic_radii_overlap_cations_reason: null,
    ionic_radii_overlap_anions: null,
    ionic_radii_overlap_anions_reason: null,
  };
  if (!ox.states) {
    const why = `no oxidation states: ${ox.reason}`;
    row.ewald_reason = why;
    row.ionic_radii_overlap_cations_reason = why;
    row.ionic_radii_overlap_anions_reason = why;
    row.n_sites_per_image = hopImages(s, hop, { images: DDI_IMAGES, supercellMinLength: ctx.supercellMinLengthAng }).images[0]!.species.length;
    return row;
  }
  let images: Structure[];
  try {
    const r = descriptorImages(ctx, hop);
    images = r.images;
    row.idpp_iterations = r.idpp!.iterations;
    row.idpp_converged = r.idpp!.converged;
  } catch (e) {
    if (!(e instanceof IdppGuardError)) throw e;
    const why = `IDPP failed: ${e.message}`;
    row.ewald_reason = why;
    row.ionic_radii_overlap_cations_reason = why;
    row.ionic_radii_overlap_anions_reason = why;
    row.n_sites_per_image = hopImages(s, hop, { images: DDI_IMAGES, supercellMinLength: ctx.supercellMinLengthAng }).images[0]!.species.length;
    return row;
  }
  row.n_sites_per_image = images[0]!.species.length;
  if (ctx.idpp === 'fast' && !row.idpp_converged) {
    // The fast mode describes the converged band; a band stopped by the evaluation cap is not at a
    // minimum, and where it stopped depends on the rounding of the input.
    const why = `IDPP (fast) did not converge within ${row.idpp_iterations} force evaluations; the band is not at a minimum`;
    row.ewald_reason = why;
    row.ionic_radii_overlap_cations_reason = why;
    row.ionic_radii_overlap_anions_reason = why;
    return row;
  }

  Object.assign(row, imageDescriptors(images));
  return row;
}

/**
 * Fills `dimensionality_cumbarriers` of `rows` (the rows of `ctx.hops`, in any order): each hop-graph
 * edge costs the ewald_energy of its class; edges of classes without a row or with a null ewald_energy
 * never open. A row with a null ewald_energy stays null with the reason.
 */
export function cumBarrierDimensionalities(ctx: DescriptorContext, rows: PathwayDescriptors[]): void {
  const g = ctx.graph;
  const costs = new Float64Array(g.i.length).fill(Infinity);
  const hopsByIndex = new Map(ctx.hops.hops.map((h) => [h.index, h]));
  for (const r of rows) {
    const h = hopsByIndex.get(r.hop_index);
    if (!h) throw new DescriptorError(`row hop_index ${r.hop_index} is not a hop of the context (${ctx.hops.hops.length} hops)`);
    if (r.ewald_energy === null) continue;
    const mask = classMask(ctx, h);
    for (let e = 0; e < mask.length; e++) if (mask[e]) costs[e] = Math.min(costs[e]!, r.ewald_energy);
  }
  for (const r of rows) {
    if (r.ewald_energy === null) {
      r.dimensionality_cumbarriers = null;
      r.dimensionality_cumbarriers_reason = `ewald_energy is null: ${r.ewald_reason}`;
    } else {
      r.dimensionality_cumbarriers = dimensionalityCumCosts(g.nSites, g, costs, r.ewald_energy);
      r.dimensionality_cumbarriers_reason = null;
    }
  }
}

/**
 * The DDI descriptors of the `limit` shortest distinct hops of `options.ion` in `structure`, one row per
 * hop in the pathfinder's canonical order. A pure function of the structure and options.
 *
 * ```ts
 * const rows = pathwayDescriptors(readStructure('CaF2.cif'), { ion: 'F', maxLengthAng: 5, limit: 5 });
 * rows[0].length;          // 2.7315…
 * rows[0].dimensionality;  // 3
 * ```
 */
export function pathwayDescriptors(structure: Structure, options: DescriptorOptions = {}): PathwayDescriptors[] {
  const ctx = descriptorContext(structure, options);
  const hops = ctx.hops.hops;
  const rows = hops.map((h, k) => {
    options.onProgress?.({ phase: `hop descriptors (IDPP images, Ewald, radii overlap; ${ctx.structure.species.length} sites)`, done: k, total: hops.length });
    return descriptorsForHop(ctx, h);
  });
  cumBarrierDimensionalities(ctx, rows);
  return rows;
}
