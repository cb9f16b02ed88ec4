/**
 * Symmetry-distinct migration hops of one species, in two equivalence modes.
 *
 * Both modes share with pymatgen-analysis-diffusion's `DistinctPathFinder(structure, ion,
 * max_path_length=L, symprec=0.1)`: the space group and equivalent sites of spglib at symprec and 5°
 * (../structure/symops.ts follows its rules), hops between sites of the ion up to `round(L, 3) + 0.01`
 * Å, the automatic cutoff of `perc_mode = '1d' | '>1d'` when no L is given ({@link autoCutoff}), the
 * equivalence classes, their order and Wyckoff symbols; and both fix its two defects: issue #141
 * (hops of equal length with the same start, midpoint and end modulo the lattice but different end
 * images merged) and symmetry duplicates in a supercell whose lattice lacks some of the crystal's
 * operations (6 hops instead of 4 in a sheared 1×1×3 CaF2 cell).
 *
 * `equivalence: 'fracflow'` (default): a hop is a cluster of a symmetry orbit. Two directed hops are
 * in one orbit when an operation of the primitive cell maps the ordered endpoint pair of one
 * (start→end or end→start) onto the other, *including the lattice translation between the two ends*;
 * each operation is turned once into a permutation of the primitive sites plus lattice shifts, so
 * orbits are exact integer bookkeeping. In a cell symmetric only within symprec an operation may map
 * a hop onto one of another length; an orbit's members are then split wherever their sorted lengths
 * leave a gap of more than {@link HOP_LENGTH_TOL_ANG} (DistinctPathFinder's 1e-3 Å length test,
 * made transitive), see clusterOrbit. Near-duplicate members (within 1e-3 Å) are one hop.
 *
 * The member reported (the representative rule): the shortest member of the cluster among all hops of
 * the cell within the cutoff; members within {@link LENGTH_TIE_ANG} of it tie, and the tie goes to the
 * lowest start site, then end site, then image (in an exactly symmetric cell: a hop from the first
 * site of its class, as DistinctPathFinder reports). Lengths of a supercell whose copies of a site do
 * not coincide are compared with each site at the mean of its copies. The rule depends on the hops'
 * geometry alone, so the list, its order and its lengths are the same under rotation, origin shift,
 * unimodular change of cell, site order and supercells, also in cells symmetric only within symprec.
 *
 * `equivalence: 'pymatgen'`: DistinctPathFinder's own list, reproduced step by step (./pymatgen-hops.ts):
 * candidates from the first site of each class in pymatgen's neighbour order, equivalence judged at
 * 1e-3 (fractional coordinates) with the operations as pymatgen rounds them, the first candidate of
 * each class kept. Inside a group found at 0.1 Å that keeps near-duplicate members of one orbit
 * apart, so it lists at least the hops of the default mode in nearly every structure and more in
 * cells symmetric only within symprec; the members reported follow the cell given, as they do there.
 *
 * In both modes the order is fixed: by length (hops closer than {@link LENGTH_TIE_ANG} count as
 * equal), then (default mode) by the elements and site-symmetry orders of the two ends, then by the
 * sorted distances from the hop's midpoint to the atoms around it; the pymatgen mode keeps equal
 * lengths in the order DistinctPathFinder found them. The migrating ion is named by element (`F`),
 * also when the structure carries oxidation states; a label with a charge (`F-`, `F1-`) is accepted
 * and reduced to its element.
 */
import type { Structure } from '../structure/structure.js';
import { element, isElement, parseSpeciesLabel } from '../structure/elements.js';
import { latticeParameters, perpendicularHeights } from '../structure/lattice.js';
import {
  DEFAULT_SYMPREC,
  checkSymprec,
  primitiveReduction,
  sitePermutations,
  type PrimitiveReduction,
  type SitePermutations,
  type SymmetryInfo,
} from '../structure/symmetry.js';
import { checkSiteCount, maxSitesProblem } from './site-limit.js';
import { crystalOperations, pymatgenHops, pymatgenRounded } from './pymatgen-hops.js';
import type { ProgressCallback } from './progress.js';

/** Default maximum hop length, Å (the DDI screening setting). */
export const DEFAULT_MAX_LENGTH_ANG = 5;
/** Default number of shortest distinct hops kept (the DDI setting); 0 keeps all. */
export const DEFAULT_HOP_LIMIT = 5;
/** Hops whose lengths differ by less than this (Å) are ordered by their other keys, not by length. */
export const LENGTH_TIE_ANG = 1e-8;
/**
 * Members of one symmetry orbit whose sorted lengths leave a gap of more than this (Å) are distinct
 * hops in the default mode (DistinctPathFinder's pairwise length test, 1e-3 Å, made transitive).
 */
export const HOP_LENGTH_TOL_ANG = 1e-3;
/** Tolerance (Å) of the neighbour search around a site, as in pymatgen's `get_neighbors`. */
const NEIGHBOR_TOL_ANG = 1e-8;
/** Radius added to half the hop length for the midpoint environment used to order equal-length hops. */
const ENVIRONMENT_PAD_ANG = 2.5;
/** Distances of the environment fingerprint closer than this (Å) compare equal. */
const ENVIRONMENT_TOL_ANG = 1e-6;

export type Vec3 = [number, number, number];

/** One distinct migration hop. Coordinates are fractional in the cell of the structure searched. */
export interface Hop {
  /** 0-based rank in the ordered list. */
  index: number;
  /** Element of the migrating ion. */
  ion: string;
  /** Index of the start site (the first site of its equivalence class). */
  startSite: number;
  /** Index of the end site; the end point is that site's coordinates plus {@link image}. */
  endSite: number;
  /** Lattice translation applied to the end site. */
  image: Vec3;
  /** Fractional coordinates of the start (the start site's stored coordinates). */
  startFrac: Vec3;
  /** Fractional coordinates of the end; may lie outside [0, 1). */
  endFrac: Vec3;
  /** Midpoint, fractional. */
  midFrac: Vec3;
  /** Length, Å. */
  lengthAng: number;
  /** Equivalence-class index of the start and the end (index into {@link HopResult.classes}). */
  startClass: number;
  endClass: number;
  /** Wyckoff symbols of the start and end class (`8c`: multiplicity in this cell + letter). */
  startWyckoff: string;
  endWyckoff: string;
  /** Number of symmetry-equivalent hops per cell (undirected). */
  multiplicity: number;
}

/**
 * How hops are judged equivalent (see the module comment): `fracflow` (default) merges every member of
 * a symmetry orbit; `pymatgen` reproduces DistinctPathFinder's list, which keeps near-duplicate
 * members of an orbit apart in cells symmetric only within symprec (./pymatgen-hops.ts).
 */
export type HopEquivalence = 'fracflow' | 'pymatgen';
export const HOP_EQUIVALENCES: readonly HopEquivalence[] = ['fracflow', 'pymatgen'];

export interface FindHopsOptions {
  /** Migrating element (`F`; `F-` is read as `F`). Default `F`. */
  ion?: string;
  /** Maximum hop length, Å. Default {@link DEFAULT_MAX_LENGTH_ANG}; not allowed together with `auto`. */
  maxLengthAng?: number;
  /** Choose the maximum length automatically as DistinctPathFinder's `perc_mode` does when L is None. */
  auto?: '1d' | '>1d';
  /** Keep the N shortest distinct hops. Default {@link DEFAULT_HOP_LIMIT}; 0 keeps all. */
  limit?: number;
  /** Symmetry tolerance, Å. Default 0.1. */
  symprec?: number;
  /** Hop equivalence, {@link HopEquivalence}. Default `fracflow`. */
  equivalence?: HopEquivalence;
  /** Primitive reduction already computed for this structure at the same symprec (saves the search). */
  reduction?: PrimitiveReduction;
  /**
   * Most sites the structure may have (default {@link DEFAULT_MAX_SITES}); a larger one is refused with a
   * {@link SiteLimitError} that names the count and the limit.
   */
  maxSites?: number;
  /** Called at the start of each phase (see ./progress.ts). */
  onProgress?: ProgressCallback;
}

export interface HopResult {
  ion: string;
  /** Maximum hop length used, Å (the given one, or the automatic cutoff). */
  maxLengthAng: number;
  /** Neighbour cutoff actually searched: `round(maxLength, 3) + 0.01`. */
  cutoffAng: number;
  symprec: number;
  /** Hop equivalence used. */
  equivalence: HopEquivalence;
  spaceGroup: { number: number; symbol: string };
  /** Site indices of every equivalence class of the structure. */
  classes: number[][];
  /** Wyckoff symbol of each class. */
  classWyckoffSymbols: string[];
  /** Number of distinct hops within the cutoff before the limit was applied. */
  distinctCount: number;
  hops: Hop[];
}

/** Thrown for invalid options or an ion missing from the structure; the message names the input. */
export class PathfinderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathfinderError';
  }
}

/** Element of a migrating-ion label (`F`, `F-`, `Li+`). */
export function ionElement(label: string): string {
  if (isElement(label)) return label;
  const p = parseSpeciesLabel(label);
  if (!p || !isElement(p.element)) throw new PathfinderError(`ion ${JSON.stringify(label)} is not an element or species label`);
  return p.element;
}

interface Candidate {
  start: number;
  end: number;
  image: Vec3;
  length: number;
}

/**
 * Sites of `ion` around site `center` within `radius` Å (all periodic images, the site itself at zero
 * distance excluded), sorted by distance then (site, image). The cutoff includes distances up to
 * radius + 1e-8 Å, as pymatgen's `get_neighbors`.
 */
function neighborsOf(s: Structure, center: number, ion: string, radius: number): Candidate[] {
  const L = s.lattice, f = s.frac;
  const h = perpendicularHeights(L);
  const n = s.species.length;
  const cx = f[3 * center]!, cy = f[3 * center + 1]!, cz = f[3 * center + 2]!;
  // Differences are brought into [-0.5, 0.5] first, so images up to ceil(r/h + 0.5) cover the sphere.
  const ra = Math.ceil(radius / h[0] + 0.5), rb = Math.ceil(radius / h[1] + 0.5), rc = Math.ceil(radius / h[2] + 0.5);
  const r2 = (radius + NEIGHBOR_TOL_ANG) * (radius + NEIGHBOR_TOL_ANG);
  const out: Candidate[] = [];
  for (let j = 0; j < n; j++) {
    if (s.species[j] !== ion) continue;
    const dx0 = f[3 * j]! - cx, dy0 = f[3 * j + 1]! - cy, dz0 = f[3 * j + 2]! - cz;
    const wa = Math.round(dx0), wb = Math.round(dy0), wc = Math.round(dz0);
    for (let a = -ra; a <= ra; a++) {
      for (let b = -rb; b <= rb; b++) {
        for (let c = -rc; c <= rc; c++) {
          const ia = a - wa, ib = b - wb, ic = c - wc;
          const da = dx0 + ia, db = dy0 + ib, dc = dz0 + ic;
          const x = da * L[0]! + db * L[3]! + dc * L[6]!;
          const y = da * L[1]! + db * L[4]! + dc * L[7]!;
          const z = da * L[2]! + db * L[5]! + dc * L[8]!;
          const d2 = x * x + y * y + z * z;
          if (d2 > r2) continue;
          const d = Math.sqrt(d2);
          if (d < NEIGHBOR_TOL_ANG) continue;
          out.push({ start: center, end: j, image: [ia, ib, ic], length: d });
        }
      }
    }
  }
  out.sort((p, q) => p.length - q.length || p.end - q.end || p.image[0] - q.image[0] || p.image[1] - q.image[1] || p.image[2] - q.image[2]);
  return out;
}

/** Python's round(x, 3): round half to even on the decimal value, as DistinctPathFinder uses it. */
function pyRound3(x: number): number {
  // Both Python and toFixed round the exact binary value; they differ only on exact ties (x·1000 ending
  // in .5 exactly, possible only for multiples of 1/16), where Python rounds half to even.
  const n = x * 1000;
  if (Number.isInteger(x * 16) && n - Math.floor(n) === 0.5) {
    const f = Math.floor(n);
    return (f % 2 === 0 ? f : f + 1) / 1000;
  }
  return Number(x.toFixed(3));
}

/**
 * The maximum hop length DistinctPathFinder picks when `max_path_length` is None: for each class of
 * the migrating ion, the sorted distances to sites of the same element within min(a, b, c) of the
 * given cell; `1d` takes the largest second-neighbour distance, `>1d` the larger of that and the
 * smallest third-neighbour distance of the classes with three or more (junctions). A class with
 * fewer than two neighbours makes it min(a, b, c).
 */
export function autoCutoff(s: Structure, ion: string, mode: '1d' | '>1d', classes: readonly (readonly number[])[]): number {
  const abc = latticeParameters(s.lattice);
  const maxR = Math.min(abc.a, abc.b, abc.c);
  const lists: number[][] = [];
  let junc = 0;
  for (const cls of classes) {
    const site0 = cls[0]!;
    if (s.species[site0] !== ion) continue;
    const d = neighborsOf(s, site0, ion, maxR).map((c) => c.length);
    if (d.length > 2) junc++;
    lists.push(d);
  }
  if (lists.length === 0) throw new PathfinderError(`ion ${ion} has no sites in the structure`);
  let pathCutoff: number;
  let juncCutoff = maxR;
  if (Math.min(...lists.map((d) => d.length)) < 2) pathCutoff = maxR;
  else {
    pathCutoff = Math.max(...lists.map((d) => d[1]!));
    if (junc > 0) juncCutoff = Math.min(...lists.filter((d) => d.length >= 3).map((d) => d[2]!));
  }
  return mode === '1d' ? pathCutoff : Math.max(juncCutoff, pathCutoff);
}

/**
 * Directed hop key: start site, end site and the translation of the end relative to the start's
 * cell, packed into one exact integer: sites < nSites, translation components within ±127 cells
 * (checked once per search against the cutoff), nSites² · 256³ < 2^53 (also checked).
 */
function key(nSites: number, a: number, b: number, n0: number, n1: number, n2: number): number {
  return (((a * nSites + b) * KEY_SPAN + (n0 + KEY_OFFSET)) * KEY_SPAN + (n1 + KEY_OFFSET)) * KEY_SPAN + (n2 + KEY_OFFSET);
}
const KEY_SPAN = 256;
const KEY_OFFSET = 128;

/**
 * Whether every site of `s` coincides (to 1e-8 Å) with its primitive site moved by its lattice shift,
 * and the primitive cell with each site at the mean of its copies (the reduction's own primitive cell
 * where they coincide).
 */
function copiesGeometry(s: Structure, red: PrimitiveReduction): { exact: boolean; geometry: Structure } {
  const p = red.primitive, n = s.species.length, np = p.species.length;
  if (n === np) return { exact: true, geometry: p };
  const T = red.T;
  const sum = new Float64Array(3 * np);
  const count = new Int32Array(np);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const q = red.siteToPrimitive[i]!;
    // x_primitive = Tᵀ · x_input, less the site's lattice shift.
    const d = [0, 1, 2].map((k) => T[k]! * s.frac[3 * i]! + T[3 + k]! * s.frac[3 * i + 1]! + T[6 + k]! * s.frac[3 * i + 2]! - red.shift[3 * i + k]!);
    for (let k = 0; k < 3; k++) sum[3 * q + k]! += d[k]!;
    count[q]!++;
    const e = [0, 1, 2].map((k) => d[k]! - p.frac[3 * q + k]!);
    const L = p.lattice;
    worst = Math.max(worst, Math.hypot(e[0]! * L[0]! + e[1]! * L[3]! + e[2]! * L[6]!, e[0]! * L[1]! + e[1]! * L[4]! + e[2]! * L[7]!, e[0]! * L[2]! + e[1]! * L[5]! + e[2]! * L[8]!));
  }
  if (worst <= 1e-8) return { exact: true, geometry: p };
  const frac = Float64Array.from(sum, (x, k) => x / count[Math.floor(k / 3)]!);
  return { exact: false, geometry: { ...p, frac } };
}

/** Order by start site, end site, then image. */
function bySitesAndImage(x: Candidate, y: Candidate): number {
  return x.start - y.start || x.end - y.end || x.image[0] - y.image[0] || x.image[1] - y.image[1] || x.image[2] - y.image[2];
}

/** The directed hop of a key (see {@link key}). */
function unkey(nSites: number, k: number): Candidate {
  const n2 = (k % KEY_SPAN) - KEY_OFFSET;
  k = Math.floor(k / KEY_SPAN);
  const n1 = (k % KEY_SPAN) - KEY_OFFSET;
  k = Math.floor(k / KEY_SPAN);
  const n0 = (k % KEY_SPAN) - KEY_OFFSET;
  k = Math.floor(k / KEY_SPAN);
  return { start: Math.floor(k / nSites), end: k % nSites, image: [n0, n1, n2], length: 0 };
}

/**
 * The symmetry orbit of the directed hop `seed` in the primitive cell `p`, closed under the
 * operations (every image of every member, both orientations), split into clusters by length: sorted
 * by length, a new cluster starts wherever the next member is longer by more than
 * {@link HOP_LENGTH_TOL_ANG} (members are linked when their lengths differ by at most that, and a
 * cluster is a chain of links). In an exactly symmetric cell an orbit is one cluster; in a cell
 * symmetric only within symprec the operations may map a hop onto one of another length, and members
 * more than 1e-3 Å apart, with none between them, stay distinct hops, as DistinctPathFinder's pairwise
 * test (lengths within 1e-3 Å) keeps them. The split depends on the orbit's lengths alone, not on the
 * member it started from, so not on the cell given. Returns the clusters as lists of keys.
 */
function clusterOrbit(p: Structure, perms: SitePermutations, sym: SymmetryInfo, seed: number): number[][] {
  const nSites = p.species.length;
  const orbit = new Set<number>([seed]);
  const queue = [seed];
  while (queue.length > 0) {
    const c = unkey(nSites, queue.pop()!);
    for (const k of hopImages(p, perms, sym, c)) {
      if (orbit.has(k)) continue;
      orbit.add(k);
      queue.push(k);
    }
  }
  const byLength = [...orbit].map((k) => ({ k, len: hopLength(p, unkey(nSites, k)) })).sort((a, b) => a.len - b.len || a.k - b.k);
  const clusters: number[][] = [];
  for (let i = 0; i < byLength.length; i++) {
    if (i === 0 || byLength[i]!.len - byLength[i - 1]!.len > HOP_LENGTH_TOL_ANG) clusters.push([]);
    clusters[clusters.length - 1]!.push(byLength[i]!.k);
  }
  return clusters;
}

/** Keys of the images of the directed hop `c` under every operation, both orientations. */
function hopImages(p: Structure, perms: SitePermutations, sym: SymmetryInfo, c: Candidate): number[] {
  const nSites = p.species.length;
  const out: number[] = [];
  const { perm, shift } = perms;
  const R = sym.rotations;
  for (let k = 0; k < perms.operationCount; k++) {
    const o = 9 * k;
    const ia = k * nSites + c.start, ib = k * nSites + c.end;
    const pa = perm[ia]!, pb = perm[ib]!;
    const [n0, n1, n2] = c.image;
    const m0 = shift[3 * ib]! + R[o]! * n0 + R[o + 1]! * n1 + R[o + 2]! * n2 - shift[3 * ia]!;
    const m1 = shift[3 * ib + 1]! + R[o + 3]! * n0 + R[o + 4]! * n1 + R[o + 5]! * n2 - shift[3 * ia + 1]!;
    const m2 = shift[3 * ib + 2]! + R[o + 6]! * n0 + R[o + 7]! * n1 + R[o + 8]! * n2 - shift[3 * ia + 2]!;
    out.push(key(nSites, pa, pb, m0, m1, m2), key(nSites, pb, pa, -m0, -m1, -m2));
  }
  return out;
}

/** A hop of the input cell as a hop of the primitive cell (site indices and translation there). */
function toPrimitive(red: PrimitiveReduction, c: Candidate): Candidate {
  const T = red.T, sh = red.shift;
  const pa = red.siteToPrimitive[c.start]!, pb = red.siteToPrimitive[c.end]!;
  const [n0, n1, n2] = c.image;
  const m = [0, 1, 2].map((k) => sh[3 * c.end + k]! + n0 * T[k]! + n1 * T[3 + k]! + n2 * T[6 + k]! - sh[3 * c.start + k]!) as Vec3;
  return { start: pa, end: pb, image: m, length: c.length };
}

/**
 * A label of a site that does not depend on the cell setting: element and order of its site-symmetry
 * group (operations per cell / sites in its class; both scale alike in a supercell). Wyckoff letters
 * are not used for ordering because they depend on the origin moyo picks.
 */
function siteKey(s: Structure, red: PrimitiveReduction, site: number): string {
  const sym = red.symmetry;
  const order = sym.operationCount / sym.classes[sym.classOf[red.siteToPrimitive[site]!]!]!.length;
  return `${s.species[site]}:${String(order).padStart(3, '0')}`;
}

/**
 * The sites of a structure binned by wrapped fractional coordinate, for the midpoint environments of
 * {@link environment}: a query visits only the bins (and their periodic images) that a sphere of the
 * radius can reach, instead of every site with every image in range (which made ordering the hops of
 * a large low-symmetry cell quadratic in its sites: 1.4 of 2.7 s for a 2016-site defect cell).
 */
class SiteBins {
  readonly g: [number, number, number];
  readonly h: [number, number, number];
  readonly z: Int32Array;
  /** Sites per bin: `start[b] .. start[b + 1]` in `sites`. */
  private readonly start: Int32Array;
  private readonly sites: Int32Array;
  /** floor() of each site's stored coordinates (the wrapped coordinate is f − floor(f)). */
  private readonly floorOf: Int32Array;

  constructor(readonly s: Structure, binAng: number) {
    const n = s.species.length, f = s.frac;
    this.h = perpendicularHeights(s.lattice);
    const cap = Math.max(1, Math.ceil(2 * Math.cbrt(n)));
    this.g = [0, 1, 2].map((k) => Math.max(1, Math.min(cap, Math.floor(this.h[k]! / binAng)))) as [number, number, number];
    this.z = Int32Array.from(s.species, (sp) => element(sp).z);
    this.floorOf = new Int32Array(3 * n);
    const bin = new Int32Array(n);
    const count = new Int32Array(this.g[0] * this.g[1] * this.g[2] + 1);
    for (let j = 0; j < n; j++) {
      const c = [0, 0, 0];
      for (let k = 0; k < 3; k++) {
        const x = f[3 * j + k]!;
        const fl = Math.floor(x);
        this.floorOf[3 * j + k] = fl;
        c[k] = Math.min(this.g[k]! - 1, Math.floor((x - fl) * this.g[k]!));
      }
      bin[j] = (c[0]! * this.g[1] + c[1]!) * this.g[2] + c[2]!;
      count[bin[j]! + 1]!++;
    }
    for (let b = 0; b < count.length - 1; b++) count[b + 1]! += count[b]!;
    this.start = count.slice();
    this.sites = new Int32Array(n);
    const fill = count.slice();
    for (let j = 0; j < n; j++) this.sites[fill[bin[j]!]!++] = j;
  }

  /**
   * Calls `visit(j, n0, n1, n2)` once for every site j and lattice translation n (applied to its
   * stored coordinates) whose image may lie within `radius` of the fractional point `p`: every bin,
   * with its periodic images, that the box p ± radius/height (one bin of margin) touches.
   */
  around(p: Vec3, radius: number, visit: (j: number, n0: number, n1: number, n2: number) => void): void {
    const [g0, g1, g2] = this.g;
    const lo = [0, 1, 2].map((k) => Math.floor((p[k]! - radius / this.h[k]!) * this.g[k]!) - 1);
    const hi = [0, 1, 2].map((k) => Math.floor((p[k]! + radius / this.h[k]!) * this.g[k]!) + 1);
    const fl = this.floorOf;
    for (let e0 = lo[0]!; e0 <= hi[0]!; e0++) {
      const m0 = Math.floor(e0 / g0), c0 = e0 - m0 * g0;
      for (let e1 = lo[1]!; e1 <= hi[1]!; e1++) {
        const m1 = Math.floor(e1 / g1), c1 = e1 - m1 * g1;
        for (let e2 = lo[2]!; e2 <= hi[2]!; e2++) {
          const m2 = Math.floor(e2 / g2), c2 = e2 - m2 * g2;
          const b = (c0 * g1 + c1) * g2 + c2;
          for (let q = this.start[b]!; q < this.start[b + 1]!; q++) {
            const j = this.sites[q]!;
            // The image at wrapped coordinate + m is the stored coordinate + (m − floor).
            visit(j, m0 - fl[3 * j]!, m1 - fl[3 * j + 1]!, m2 - fl[3 * j + 2]!);
          }
        }
      }
    }
  }
}

/**
 * The same hops as {@link neighborsOf} (to the last bit: the same arithmetic per site and image),
 * unsorted, found through the cell list `bins`: linear in the neighbours instead of in the sites.
 */
function neighborsAround(bins: SiteBins, center: number, ion: string, radius: number): Candidate[] {
  const s = bins.s, L = s.lattice, f = s.frac;
  const cx = f[3 * center]!, cy = f[3 * center + 1]!, cz = f[3 * center + 2]!;
  const r2 = (radius + NEIGHBOR_TOL_ANG) * (radius + NEIGHBOR_TOL_ANG);
  const out: Candidate[] = [];
  bins.around([cx, cy, cz], radius + NEIGHBOR_TOL_ANG, (j, n0, n1, n2) => {
    if (s.species[j] !== ion) return;
    const da = f[3 * j]! - cx + n0, db = f[3 * j + 1]! - cy + n1, dc = f[3 * j + 2]! - cz + n2;
    const x = da * L[0]! + db * L[3]! + dc * L[6]!;
    const y = da * L[1]! + db * L[4]! + dc * L[7]!;
    const z = da * L[2]! + db * L[5]! + dc * L[8]!;
    const d2 = x * x + y * y + z * z;
    if (d2 > r2) return;
    const d = Math.sqrt(d2);
    if (d < NEIGHBOR_TOL_ANG) return;
    out.push({ start: center, end: j, image: [n0, n1, n2], length: d });
  });
  return out;
}

/** Sorted (Z, distance) pairs of every atom within `radius` of a fractional point. */
function environment(bins: SiteBins, p: Vec3, radius: number): number[] {
  const s = bins.s;
  const L = s.lattice, f = s.frac;
  const items: [number, number][] = [];
  bins.around(p, radius, (j, n0, n1, n2) => {
    const dx0 = f[3 * j]! - p[0], dy0 = f[3 * j + 1]! - p[1], dz0 = f[3 * j + 2]! - p[2];
    // The same arithmetic as a scan of images a = n + round(dx0) around the nearest one, so the
    // distances (and which of them fall within the radius) are the same to the last bit.
    const wa = Math.round(dx0), wb = Math.round(dy0), wc = Math.round(dz0);
    const da = dx0 + (n0 + wa) - wa, db = dy0 + (n1 + wb) - wb, dc = dz0 + (n2 + wc) - wc;
    const x = da * L[0]! + db * L[3]! + dc * L[6]!;
    const y = da * L[1]! + db * L[4]! + dc * L[7]!;
    const zz = da * L[2]! + db * L[5]! + dc * L[8]!;
    const d = Math.sqrt(x * x + y * y + zz * zz);
    if (d <= radius) items.push([bins.z[j]!, d]);
  });
  items.sort((u, v) => u[0] - v[0] || u[1] - v[1]);
  const out: number[] = [];
  for (const [z, d] of items) out.push(z, d);
  return out;
}

function compareEnvironments(x: number[], y: number[]): number {
  const n = Math.min(x.length, y.length);
  for (let k = 0; k < n; k += 2) {
    if (x[k] !== y[k]) return x[k]! - y[k]!;
    const dd = x[k + 1]! - y[k + 1]!;
    if (Math.abs(dd) > ENVIRONMENT_TOL_ANG) return dd;
  }
  return x.length - y.length;
}

interface Found {
  hop: Candidate;
  multiplicity: number;
  letters: string;
  env: number[] | null;
}

/** Checks the options of {@link findHops}; every message names the option and the value received. */
function checkOptions(o: FindHopsOptions): void {
  if (o.maxLengthAng !== undefined && !(Number.isFinite(o.maxLengthAng) && o.maxLengthAng > 0)) {
    throw new PathfinderError(`maxLengthAng must be a positive number of Å, got ${String(o.maxLengthAng)}`);
  }
  if (o.auto !== undefined && o.auto !== '1d' && o.auto !== '>1d') {
    throw new PathfinderError(`auto must be '1d' or '>1d', got ${JSON.stringify(o.auto)}`);
  }
  if (o.auto !== undefined && o.maxLengthAng !== undefined) {
    throw new PathfinderError(`give either maxLengthAng (${o.maxLengthAng}) or auto (${o.auto}), not both`);
  }
  if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit >= 0)) {
    throw new PathfinderError(`limit must be a non-negative integer (0 = all), got ${String(o.limit)}`);
  }
  if (o.symprec !== undefined) checkSymprec(o.symprec);
  if (o.equivalence !== undefined && !HOP_EQUIVALENCES.includes(o.equivalence)) {
    throw new PathfinderError(`equivalence must be ${HOP_EQUIVALENCES.map((m) => `'${m}'`).join(' or ')}, got ${JSON.stringify(o.equivalence)}`);
  }
  const limitProblem = maxSitesProblem(o.maxSites, 'maxSites');
  if (limitProblem) throw new PathfinderError(limitProblem);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new PathfinderError(`onProgress must be a function, got ${o.onProgress === null ? 'null' : typeof o.onProgress}`);
  if (o.reduction !== undefined && o.symprec !== undefined && o.reduction.symmetry.symprec !== o.symprec) {
    throw new PathfinderError(`the primitive reduction was computed at symprec ${o.reduction.symmetry.symprec}, but symprec ${o.symprec} was asked for`);
  }
}

/**
 * The symmetry-distinct migration hops of `ion` in `s`, shortest first, at most `limit` of them.
 * See the module comment for the semantics and the fixed order.
 */
export function findHops(s: Structure, options: FindHopsOptions = {}): HopResult {
  checkOptions(options);
  checkSiteCount(s, options.maxSites, 'the hop search');
  const ion = ionElement(options.ion ?? 'F');
  if (!s.species.includes(ion)) {
    throw new PathfinderError(`ion ${ion} has no sites in the structure (elements: ${[...new Set(s.species)].join(', ')})`);
  }
  const progress = options.onProgress;
  if (!options.reduction) progress?.({ phase: `primitive cell and symmetry (${s.species.length} sites)` });
  const red = options.reduction ?? primitiveReduction(s, { symprec: options.symprec ?? DEFAULT_SYMPREC });
  if (red.siteToPrimitive.length !== s.species.length) {
    throw new PathfinderError(`the primitive reduction is for ${red.siteToPrimitive.length} sites, the structure has ${s.species.length}`);
  }
  const psym = red.symmetry;
  const p = red.primitive;
  // Classes of the input sites: the orbits of their primitive sites, ordered by lowest input index
  // (DistinctPathFinder's order); Wyckoff letters as found in the input cell.
  const classOf = new Int32Array(s.species.length);
  const classes: number[][] = [];
  const classIndex = new Map<number, number>();
  for (let i = 0; i < s.species.length; i++) {
    const pc = psym.classOf[red.siteToPrimitive[i]!]!;
    let c = classIndex.get(pc);
    if (c === undefined) {
      c = classes.length;
      classIndex.set(pc, c);
      classes.push([]);
    }
    classes[c]!.push(i);
    classOf[i] = c;
  }
  // Space group and Wyckoff letters are read from moyo's dataset only when asked for (see lazyFields):
  // the hop search itself needs operations and classes alone.
  let wyckoffCache: string[] | null = null;
  const classWyckoffSymbols = (): string[] => (wyckoffCache ??= classes.map((c) => `${c.length}${red.inputSymmetry.wyckoffs[c[0]!]}`));
  const limit = options.limit ?? DEFAULT_HOP_LIMIT;
  const maxLength = options.auto ? autoCutoff(s, ion, options.auto, classes) : (options.maxLengthAng ?? DEFAULT_MAX_LENGTH_ANG);
  const cutoff = pyRound3(maxLength) + 0.01;
  progress?.({ phase: `distinct ${ion} hops up to ${cutoff.toFixed(3)} Å (${p.species.length}-site primitive cell, ${psym.operationCount} operations)` });
  const perms = sitePermutations(p, psym);
  const np = p.species.length;
  if (np * np * KEY_SPAN ** 3 > Number.MAX_SAFE_INTEGER || Math.ceil(cutoff / Math.min(...perpendicularHeights(p.lattice))) + 2 >= KEY_OFFSET) {
    throw new PathfinderError(`cell too large or too skewed for the hop search (${np} primitive sites, cutoff ${cutoff} Å, smallest cell height ${Math.min(...perpendicularHeights(p.lattice)).toPrecision(4)} Å): reduce it with sanitize() first`);
  }
  const cellsPerPrimitive = s.species.length / p.species.length;

  if (options.equivalence === 'pymatgen') {
    // DistinctPathFinder's list, sorted by length (stable: equal lengths in the order found).
    const list = pymatgenHops(s, ion, cutoff, pymatgenRounded(crystalOperations(red)), classes).sort((x, y) => x.lengthAng - y.lengthAng);
    const found = list.map((h): Found => {
      const c: Candidate = { start: h.start, end: h.end, image: h.image, length: h.lengthAng };
      const pc = toPrimitive(red, c);
      const k = key(np, pc.start, pc.end, pc.image[0], pc.image[1], pc.image[2]);
      // The multiplicity of the default mode's hop this one belongs to.
      const cluster = clusterOrbit(p, perms, psym, k).find((x) => x.includes(k))!;
      return { hop: c, multiplicity: (cluster.length / 2) * cellsPerPrimitive, letters: '', env: null };
    });
    return assemble(found);
  }

  // Candidates: every hop within the cutoff from every site of the ion, so every member of every
  // orbit is seen. In a supercell whose copies of a site coincide (to 1e-8 Å) the first copy of each
  // primitive site stands for all of them; where they do not (a supercell symmetric only within
  // symprec), every copy counts, and the orbits' lengths are measured in the primitive cell with each
  // site at the mean of its copies (independent of which copy comes first).
  const { exact, geometry } = copiesGeometry(s, red);
  const firstCopy = new Int32Array(np).fill(-1);
  for (let i = 0; i < s.species.length; i++) {
    const q = red.siteToPrimitive[i]!;
    if (firstCopy[q] === -1) firstCopy[q] = i;
  }
  const centers: number[] = [];
  for (let i = 0; i < s.species.length; i++) if (s.species[i] === ion && !(exact && firstCopy[red.siteToPrimitive[i]!] !== i)) centers.push(i);
  // Many centres (a large primitive cell): a cell list instead of a scan of every site per centre.
  const bins = centers.length > 16 ? new SiteBins(s, Math.max(1, cutoff / 2)) : null;
  const candidates: Candidate[] = [];
  for (const i of centers) candidates.push(...(bins ? neighborsAround(bins, i, ion, cutoff) : neighborsOf(s, i, ion, cutoff)));
  // Each distinct hop is a cluster of a symmetry orbit (see clusterOrbit), reported by its shortest
  // member; members within LENGTH_TIE_ANG of the shortest tie, and the tie goes to the lowest start
  // site, end site and image (the class's first site in an exactly symmetric cell).
  const clusterOf = new Map<number, number>();
  const clusterSize: number[] = [];
  const members: Candidate[][] = [];
  for (const c of candidates) {
    const pc = toPrimitive(red, c);
    const k = key(np, pc.start, pc.end, pc.image[0], pc.image[1], pc.image[2]);
    let id = clusterOf.get(k);
    if (id === undefined) {
      for (const cluster of clusterOrbit(geometry, perms, psym, k)) {
        for (const m of cluster) clusterOf.set(m, clusterSize.length);
        clusterSize.push(cluster.length);
        members.push([]);
      }
      id = clusterOf.get(k)!;
    }
    members[id]!.push(c);
  }
  const found: Found[] = [];
  members.forEach((list, id) => {
    if (list.length === 0) return;
    const shortest = Math.min(...list.map((c) => c.length));
    const c = list.filter((x) => x.length <= shortest + LENGTH_TIE_ANG).sort(bySitesAndImage)[0]!;
    const la = siteKey(s, red, c.start);
    const lb = siteKey(s, red, c.end);
    found.push({ hop: c, multiplicity: (clusterSize[id]! / 2) * cellsPerPrimitive, letters: la <= lb ? `${la}|${lb}` : `${lb}|${la}`, env: null });
  });

  return assemble(orderHops(s, found));

  /** The result from the distinct hops in their final order. */
  function assemble(ordered: Found[]): HopResult {
    const kept = limit === 0 ? ordered : ordered.slice(0, limit);
    const hops = kept.map((f, index) => toHop(s, classOf, classWyckoffSymbols, ion, f, index));
    const result = { ion, maxLengthAng: maxLength, cutoffAng: cutoff, symprec: psym.symprec, equivalence: options.equivalence ?? 'fracflow' } as Partial<HopResult>;
    lazyFields(result, {
      spaceGroup: () => ({ number: psym.number, symbol: psym.symbol }),
    });
    result.classes = classes;
    lazyFields(result, { classWyckoffSymbols });
    result.distinctCount = ordered.length;
    result.hops = hops;
    return result as HopResult;
  }
}

/**
 * Define `fields` on `target` as enumerable properties computed on first read and then kept (JSON,
 * structured clone and deep equality see ordinary values). For results whose moyo-only parts (space
 * group, Wyckoff letters) most callers never read.
 */
function lazyFields<T extends object>(target: T, fields: Record<string, () => unknown>): void {
  for (const [name, compute] of Object.entries(fields)) {
    Object.defineProperty(target, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = compute();
        Object.defineProperty(target, name, { value, enumerable: true, configurable: true, writable: true });
        return value;
      },
      set(value: unknown) {
        Object.defineProperty(target, name, { value, enumerable: true, configurable: true, writable: true });
      },
    });
  }
}

/** Length groups (ties within {@link LENGTH_TIE_ANG}), then endpoint letters, then midpoint environment. */
function orderHops(s: Structure, found: Found[]): Found[] {
  const byLength = found.slice().sort((p, q) => p.hop.length - q.hop.length);
  const out: Found[] = [];
  let bins: SiteBins | undefined;
  let g = 0;
  while (g < byLength.length) {
    let e = g + 1;
    while (e < byLength.length && byLength[e]!.hop.length - byLength[e - 1]!.hop.length < LENGTH_TIE_ANG) e++;
    const group = byLength.slice(g, e);
    if (group.length > 1) {
      bins ??= new SiteBins(s, ENVIRONMENT_PAD_ANG);
      for (const f of group) {
        const mid = midpoint(s, f.hop);
        f.env = environment(bins, mid, f.hop.length / 2 + ENVIRONMENT_PAD_ANG);
      }
      group.sort((p, q) => (p.letters < q.letters ? -1 : p.letters > q.letters ? 1 : 0) || compareEnvironments(p.env!, q.env!) || q.multiplicity - p.multiplicity);
    }
    out.push(...group);
    g = e;
  }
  return out;
}

function hopLength(s: Structure, c: Candidate): number {
  const f = s.frac, L = s.lattice;
  const da = f[3 * c.end]! + c.image[0] - f[3 * c.start]!;
  const db = f[3 * c.end + 1]! + c.image[1] - f[3 * c.start + 1]!;
  const dc = f[3 * c.end + 2]! + c.image[2] - f[3 * c.start + 2]!;
  return Math.hypot(da * L[0]! + db * L[3]! + dc * L[6]!, da * L[1]! + db * L[4]! + dc * L[7]!, da * L[2]! + db * L[5]! + dc * L[8]!);
}

function midpoint(s: Structure, c: Candidate): Vec3 {
  const f = s.frac;
  return [0, 1, 2].map((k) => (f[3 * c.start + k]! + f[3 * c.end + k]! + c.image[k]!) / 2) as Vec3;
}

function toHop(s: Structure, classOf: Int32Array, classWyckoffSymbols: () => string[], ion: string, f: Found, index: number): Hop {
  const c = f.hop;
  const fr = s.frac;
  const startFrac = [fr[3 * c.start]!, fr[3 * c.start + 1]!, fr[3 * c.start + 2]!] as Vec3;
  const endFrac = [0, 1, 2].map((k) => fr[3 * c.end + k]! + c.image[k]!) as Vec3;
  const midFrac = [0, 1, 2].map((k) => (startFrac[k]! + endFrac[k]!) / 2) as Vec3;
  const startClass = classOf[c.start]!, endClass = classOf[c.end]!;
  const hop = {
    index,
    ion,
    startSite: c.start,
    endSite: c.end,
    image: [c.image[0], c.image[1], c.image[2]],
    startFrac,
    endFrac,
    midFrac,
    lengthAng: c.length,
    startClass,
    endClass,
  } as Partial<Hop>;
  lazyFields(hop, {
    startWyckoff: () => classWyckoffSymbols()[startClass]!,
    endWyckoff: () => classWyckoffSymbols()[endClass]!,
  });
  hop.multiplicity = f.multiplicity;
  return hop as Hop;
}
