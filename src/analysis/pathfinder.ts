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
 * made transitive), see HopOrbits.clusters. Near-duplicate members (within 1e-3 Å) are one hop.
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
 * Directed hops in flat arrays (start, end, translation, length per hop): the hop search handles
 * thousands of them per structure, and one object (plus its translation array) per hop was a fifth of
 * its time in the garbage collector.
 */
class HopList {
  count = 0;
  start = new Int32Array(64);
  end = new Int32Array(64);
  image = new Int32Array(3 * 64);
  length = new Float64Array(64);

  push(a: number, b: number, n0: number, n1: number, n2: number, d: number): void {
    if (this.count === this.start.length) this.grow();
    const q = this.count++;
    this.start[q] = a;
    this.end[q] = b;
    this.image[3 * q] = n0;
    this.image[3 * q + 1] = n1;
    this.image[3 * q + 2] = n2;
    this.length[q] = d;
  }

  /** Hop q as a {@link Candidate}. */
  at(q: number): Candidate {
    return { start: this.start[q]!, end: this.end[q]!, image: [this.image[3 * q]!, this.image[3 * q + 1]!, this.image[3 * q + 2]!], length: this.length[q]! };
  }

  /** Order of hops q, r by start site, end site, then image. */
  compareSites(q: number, r: number): number {
    const im = this.image;
    return this.start[q]! - this.start[r]! || this.end[q]! - this.end[r]! || im[3 * q]! - im[3 * r]! || im[3 * q + 1]! - im[3 * r + 1]! || im[3 * q + 2]! - im[3 * r + 2]!;
  }

  private grow(): void {
    const m = 2 * this.start.length;
    const start = new Int32Array(m), end = new Int32Array(m), image = new Int32Array(3 * m), length = new Float64Array(m);
    start.set(this.start);
    end.set(this.end);
    image.set(this.image);
    length.set(this.length);
    Object.assign(this, { start, end, image, length });
  }
}

/**
 * Sites of `ion` around site `center` within `radius` Å (all periodic images, the site itself at zero
 * distance excluded), appended to `out` sorted by distance then (site, image). The cutoff includes
 * distances up to radius + 1e-8 Å, as pymatgen's `get_neighbors`.
 */
function neighborsOf(s: Structure, center: number, ion: string, radius: number, out: HopList): void {
  const L = s.lattice, f = s.frac;
  const h = perpendicularHeights(L);
  const n = s.species.length;
  const cx = f[3 * center]!, cy = f[3 * center + 1]!, cz = f[3 * center + 2]!;
  // Differences are brought into [-0.5, 0.5] first, so images up to ceil(r/h + 0.5) cover the sphere.
  const ra = Math.ceil(radius / h[0] + 0.5), rb = Math.ceil(radius / h[1] + 0.5), rc = Math.ceil(radius / h[2] + 0.5);
  const r2 = (radius + NEIGHBOR_TOL_ANG) * (radius + NEIGHBOR_TOL_ANG);
  const first = out.count;
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
          out.push(center, j, ia, ib, ic, d);
        }
      }
    }
  }
  // Sort this centre's hops by length, end site, then image (the start is the same for all).
  const m = out.count - first;
  if (m < 2) return;
  const len = out.length, end = out.end, im = out.image;
  const order = Array.from({ length: m }, (_, q) => first + q).sort(
    (q, r) => len[q]! - len[r]! || end[q]! - end[r]! || im[3 * q]! - im[3 * r]! || im[3 * q + 1]! - im[3 * r + 1]! || im[3 * q + 2]! - im[3 * r + 2]!,
  );
  const e = end.slice(first, first + m), i3 = im.slice(3 * first, 3 * (first + m)), l = len.slice(first, first + m);
  order.forEach((q, k) => {
    const src = q - first, dst = first + k;
    end[dst] = e[src]!;
    im[3 * dst] = i3[3 * src]!;
    im[3 * dst + 1] = i3[3 * src + 1]!;
    im[3 * dst + 2] = i3[3 * src + 2]!;
    len[dst] = l[src]!;
  });
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
    const list = new HopList();
    neighborsOf(s, site0, ion, maxR, list);
    const d = Array.from(list.length.subarray(0, list.count));
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

/**
 * The symmetry orbits of directed hops of the primitive cell `p` under the operations, split into
 * clusters by length ({@link HopOrbits.clusters}). An orbit is the smallest set of hops that holds the
 * seed and is closed under every operation and under reversal (start ↔ end).
 *
 * Where the operations' actions on the sites (permutation plus lattice shifts, with the rotation on the
 * translation between the ends) are closed under composition — checked once per structure, see
 * {@link actionsClosed} — that set is the images of the seed under one pass of the operations (both
 * orientations): every member's images are images of the seed already. Where they are not (an operation
 * set that tolerance made inconsistent), members are expanded until nothing new appears. Both give the
 * same set; the one pass costs |G| images per orbit instead of |G| per member of the orbit.
 */
class HopOrbits {
  private readonly nSites: number;
  private readonly closed: boolean;
  private readonly seen = new Set<number>();

  /** `sites`: the sites of the migrating ion in the primitive cell (every hop's ends are among them). */
  constructor(private readonly perms: SitePermutations, private readonly sym: SymmetryInfo, nSites: number, sites: Int32Array) {
    this.nSites = nSites;
    this.closed = actionsClosed(perms, sym, nSites, sites);
  }

  /** Keys of the orbit of `seed` (unordered, each once). */
  orbit(seed: number): number[] {
    const nSites = this.nSites;
    const { perm, shift, operationCount } = this.perms;
    const R = this.sym.rotations;
    const seen = this.seen;
    seen.clear();
    seen.add(seed);
    const out = [seed];
    for (let q = 0; q < out.length; q++) {
      // Decode (see key): start a, end b, translation (n0, n1, n2).
      let k = out[q]!;
      const n2 = (k % KEY_SPAN) - KEY_OFFSET;
      k = Math.floor(k / KEY_SPAN);
      const n1 = (k % KEY_SPAN) - KEY_OFFSET;
      k = Math.floor(k / KEY_SPAN);
      const n0 = (k % KEY_SPAN) - KEY_OFFSET;
      k = Math.floor(k / KEY_SPAN);
      const a = Math.floor(k / nSites), b = k % nSites;
      for (let op = 0; op < operationCount; op++) {
        const o = 9 * op;
        const ia = op * nSites + a, ib = op * nSites + b;
        const pa = perm[ia]!, pb = perm[ib]!;
        const m0 = shift[3 * ib]! + R[o]! * n0 + R[o + 1]! * n1 + R[o + 2]! * n2 - shift[3 * ia]!;
        const m1 = shift[3 * ib + 1]! + R[o + 3]! * n0 + R[o + 4]! * n1 + R[o + 5]! * n2 - shift[3 * ia + 1]!;
        const m2 = shift[3 * ib + 2]! + R[o + 6]! * n0 + R[o + 7]! * n1 + R[o + 8]! * n2 - shift[3 * ia + 2]!;
        const fwd = key(nSites, pa, pb, m0, m1, m2), back = key(nSites, pb, pa, -m0, -m1, -m2);
        if (!seen.has(fwd)) {
          seen.add(fwd);
          out.push(fwd);
        }
        if (!seen.has(back)) {
          seen.add(back);
          out.push(back);
        }
      }
      // Closed actions: the seed's images are the whole orbit.
      if (this.closed) break;
    }
    return out;
  }

  /**
   * The orbit of `seed` split into clusters by length, lengths measured in `geometry` (the primitive
   * cell, or its sites at the mean of their copies): sorted by length, a new cluster starts wherever
   * the next member is longer by more than {@link HOP_LENGTH_TOL_ANG} (members are linked when their
   * lengths differ by at most that, and a cluster is a chain of links). In an exactly symmetric cell
   * an orbit is one cluster; in a cell symmetric only within symprec the operations may map a hop onto
   * one of another length, and members more than 1e-3 Å apart, with none between them, stay distinct
   * hops, as DistinctPathFinder's pairwise test (lengths within 1e-3 Å) keeps them. The split depends
   * on the orbit's lengths alone, not on the member it started from, so not on the cell given. Returns
   * the clusters as lists of keys, each sorted by length then key.
   */
  clusters(geometry: Structure, seed: number): number[][] {
    const keys = this.orbit(seed);
    const m = keys.length;
    const len = new Float64Array(m);
    const nSites = this.nSites;
    for (let q = 0; q < m; q++) len[q] = keyLength(geometry, nSites, keys[q]!);
    const order = Array.from({ length: m }, (_, q) => q).sort((x, y) => len[x]! - len[y]! || keys[x]! - keys[y]!);
    const clusters: number[][] = [];
    for (let i = 0; i < m; i++) {
      if (i === 0 || len[order[i]!]! - len[order[i - 1]!]! > HOP_LENGTH_TOL_ANG) clusters.push([]);
      clusters[clusters.length - 1]!.push(keys[order[i]!]!);
    }
    return clusters;
  }
}

/**
 * Whether the operations' actions on directed hops between the sites `sites` (those of the migrating
 * ion: an operation maps them among themselves) are closed under composition. Operation k acts on the
 * sites as i ↦ perm_k(i) + shift_k(i) with rotation R_k on the translation between the ends, so its
 * action on hops is fixed by (R_k, perm_k, shift_k up to a constant vector); "b after a" acts as
 * (R_b·R_a, perm_b∘perm_a, R_b·shift_a(i) + shift_b(perm_a(i))). The check needs an identity action and
 * that s∘x is an action of the set for every x reached from the identity and every s of a generating
 * subset (grown until every operation is reached): then every product of operations is one of them.
 * Rotations with an entry beyond ±8 (none in a reduced primitive cell) are not hashed: reported as not
 * closed, which only costs the member-by-member closure.
 */
function actionsClosed(perms: SitePermutations, sym: SymmetryInfo, n: number, sites: Int32Array): boolean {
  const nop = perms.operationCount;
  const R = sym.rotations, { perm, shift } = perms;
  const ns = sites.length;
  const rotationKey = (m: ArrayLike<number>, o: number): number => {
    let h = 0;
    for (let q = 0; q < 9; q++) {
      const v = m[o + q]!;
      if (v < -8 || v > 8) return -1;
      h = h * 17 + (v + 8);
    }
    return h;
  };
  const byRotation = new Map<number, number[]>();
  for (let k = 0; k < nop; k++) {
    const h = rotationKey(R, 9 * k);
    if (h < 0) return false;
    const list = byRotation.get(h);
    if (list) list.push(k);
    else byRotation.set(h, [k]);
  }
  // Whether operation k acts on `sites` as the permutation cp with shifts cs (up to a constant vector);
  // cp and cs are indexed by position in `sites`.
  const actsAs = (k: number, cp: Int32Array, cs: Int32Array): boolean => {
    const base = k * n;
    const i0 = 3 * (base + sites[0]!);
    const d0 = shift[i0]! - cs[0]!, d1 = shift[i0 + 1]! - cs[1]!, d2 = shift[i0 + 2]! - cs[2]!;
    for (let q = 0; q < ns; q++) {
      const i = sites[q]!;
      if (perm[base + i] !== cp[q]) return false;
      const o = 3 * (base + i);
      if (shift[o]! - cs[3 * q]! !== d0 || shift[o + 1]! - cs[3 * q + 1]! !== d1 || shift[o + 2]! - cs[3 * q + 2]! !== d2) return false;
    }
    return true;
  };
  const rot = new Int32Array(9), cp = new Int32Array(ns), cs = new Int32Array(3 * ns);
  cp.set(sites);
  let id = -1;
  for (const k of byRotation.get(rotationKey([1, 0, 0, 0, 1, 0, 0, 0, 1], 0)) ?? []) {
    if (actsAs(k, cp, cs)) {
      id = k;
      break;
    }
  }
  if (id < 0) return false;
  // The operation acting as "s after x", or -1.
  const compose = (s: number, x: number): number => {
    const os = 9 * s, ox = 9 * x;
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) rot[3 * r + c] = R[os + 3 * r]! * R[ox + c]! + R[os + 3 * r + 1]! * R[ox + 3 + c]! + R[os + 3 * r + 2]! * R[ox + 6 + c]!;
    }
    const list = byRotation.get(rotationKey(rot, 0));
    if (!list) return -1;
    for (let q = 0; q < ns; q++) {
      const i = sites[q]!;
      const px = perm[x * n + i]!;
      cp[q] = perm[s * n + px]!;
      const ox3 = 3 * (x * n + i), os3 = 3 * (s * n + px);
      const a0 = shift[ox3]!, a1 = shift[ox3 + 1]!, a2 = shift[ox3 + 2]!;
      for (let r = 0; r < 3; r++) cs[3 * q + r] = R[os + 3 * r]! * a0 + R[os + 3 * r + 1]! * a1 + R[os + 3 * r + 2]! * a2 + shift[os3 + r]!;
    }
    for (const k of list) if (actsAs(k, cp, cs)) return k;
    return -1;
  };
  // reached: the operations reached from the identity; done[x]: generators x has been multiplied by.
  const reached: number[] = [id];
  const isReached = new Uint8Array(nop);
  const done = new Int32Array(nop);
  isReached[id] = 1;
  const generators: number[] = [];
  while (reached.length < nop) {
    generators.push(isReached.indexOf(0));
    for (let q = 0; q < reached.length; q++) {
      const x = reached[q]!;
      for (; done[x]! < generators.length; done[x]!++) {
        const y = compose(generators[done[x]!]!, x);
        if (y < 0) return false;
        if (!isReached[y]) {
          isReached[y] = 1;
          reached.push(y);
        }
      }
    }
  }
  // Every operation is reached and g∘x stays in the set for every generator g and every x: closed.
  return true;
}

/** Length (Å) in `s` of the directed hop with key `k`. */
function keyLength(s: Structure, nSites: number, k: number): number {
  const n2 = (k % KEY_SPAN) - KEY_OFFSET;
  k = Math.floor(k / KEY_SPAN);
  const n1 = (k % KEY_SPAN) - KEY_OFFSET;
  k = Math.floor(k / KEY_SPAN);
  const n0 = (k % KEY_SPAN) - KEY_OFFSET;
  k = Math.floor(k / KEY_SPAN);
  const a = Math.floor(k / nSites), b = k % nSites;
  const f = s.frac, L = s.lattice;
  const da = f[3 * b]! + n0 - f[3 * a]!;
  const db = f[3 * b + 1]! + n1 - f[3 * a + 1]!;
  const dc = f[3 * b + 2]! + n2 - f[3 * a + 2]!;
  return Math.hypot(da * L[0]! + db * L[3]! + dc * L[6]!, da * L[1]! + db * L[4]! + dc * L[7]!, da * L[2]! + db * L[5]! + dc * L[8]!);
}

/** Key (see {@link key}) of a hop of the input cell as a hop of the primitive cell (`np` sites). */
function primitiveKey(red: PrimitiveReduction, np: number, start: number, end: number, n0: number, n1: number, n2: number): number {
  const T = red.T, sh = red.shift;
  const ia = 3 * start, ib = 3 * end;
  const m0 = sh[ib]! + n0 * T[0]! + n1 * T[3]! + n2 * T[6]! - sh[ia]!;
  const m1 = sh[ib + 1]! + n0 * T[1]! + n1 * T[4]! + n2 * T[7]! - sh[ia + 1]!;
  const m2 = sh[ib + 2]! + n0 * T[2]! + n1 * T[5]! + n2 * T[8]! - sh[ia + 2]!;
  return key(np, red.siteToPrimitive[start]!, red.siteToPrimitive[end]!, m0, m1, m2);
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

  /** Hits of the last {@link gather}: site j and lattice translation n as 4 integers each. */
  hits = new Int32Array(256);

  /**
   * Lists in {@link hits} every site j and lattice translation n (applied to its stored coordinates)
   * whose image may lie within `radius` of the fractional point `p`: every bin, with its periodic
   * images, that the box p ± radius/height (one bin of margin) touches. Returns the number of hits.
   * (A buffer rather than a callback per site: the callback was a third of the hop search's time.)
   */
  gather(p0: number, p1: number, p2: number, radius: number): number {
    const [g0, g1, g2] = this.g;
    const h = this.h;
    const lo0 = Math.floor((p0 - radius / h[0]) * g0) - 1, hi0 = Math.floor((p0 + radius / h[0]) * g0) + 1;
    const lo1 = Math.floor((p1 - radius / h[1]) * g1) - 1, hi1 = Math.floor((p1 + radius / h[1]) * g1) + 1;
    const lo2 = Math.floor((p2 - radius / h[2]) * g2) - 1, hi2 = Math.floor((p2 + radius / h[2]) * g2) + 1;
    const fl = this.floorOf, start = this.start, sites = this.sites;
    let hits = this.hits;
    let count = 0;
    for (let e0 = lo0; e0 <= hi0; e0++) {
      const m0 = Math.floor(e0 / g0), c0 = e0 - m0 * g0;
      for (let e1 = lo1; e1 <= hi1; e1++) {
        const m1 = Math.floor(e1 / g1), c1 = e1 - m1 * g1;
        for (let e2 = lo2; e2 <= hi2; e2++) {
          const m2 = Math.floor(e2 / g2), c2 = e2 - m2 * g2;
          const b = (c0 * g1 + c1) * g2 + c2;
          const end = start[b + 1]!;
          for (let q = start[b]!; q < end; q++) {
            const j = sites[q]!;
            if (4 * count + 4 > hits.length) {
              const grown = new Int32Array(2 * hits.length);
              grown.set(hits);
              this.hits = hits = grown;
            }
            // The image at wrapped coordinate + m is the stored coordinate + (m − floor).
            hits[4 * count] = j;
            hits[4 * count + 1] = m0 - fl[3 * j]!;
            hits[4 * count + 2] = m1 - fl[3 * j + 1]!;
            hits[4 * count + 3] = m2 - fl[3 * j + 2]!;
            count++;
          }
        }
      }
    }
    return count;
  }
}

/**
 * The same hops as {@link neighborsOf} (to the last bit: the same arithmetic per site and image),
 * appended to `out` unsorted, found through the cell list `bins`: linear in the neighbours instead of in the sites.
 */
function neighborsAround(bins: SiteBins, center: number, ion: string, radius: number, out: HopList): void {
  const s = bins.s, L = s.lattice, f = s.frac;
  const cx = f[3 * center]!, cy = f[3 * center + 1]!, cz = f[3 * center + 2]!;
  const r2 = (radius + NEIGHBOR_TOL_ANG) * (radius + NEIGHBOR_TOL_ANG);
  const count = bins.gather(cx, cy, cz, radius + NEIGHBOR_TOL_ANG);
  const hits = bins.hits;
  for (let q = 0; q < count; q++) {
    const j = hits[4 * q]!;
    if (s.species[j] !== ion) continue;
    const n0 = hits[4 * q + 1]!, n1 = hits[4 * q + 2]!, n2 = hits[4 * q + 3]!;
    const da = f[3 * j]! - cx + n0, db = f[3 * j + 1]! - cy + n1, dc = f[3 * j + 2]! - cz + n2;
    const x = da * L[0]! + db * L[3]! + dc * L[6]!;
    const y = da * L[1]! + db * L[4]! + dc * L[7]!;
    const z = da * L[2]! + db * L[5]! + dc * L[8]!;
    const d2 = x * x + y * y + z * z;
    if (d2 > r2) continue;
    const d = Math.sqrt(d2);
    if (d < NEIGHBOR_TOL_ANG) continue;
    out.push(center, j, n0, n1, n2, d);
  }
}

/** Sorted (Z, distance) pairs of every atom within `radius` of a fractional point. */
function environment(bins: SiteBins, p: Vec3, radius: number): number[] {
  const s = bins.s;
  const L = s.lattice, f = s.frac;
  const zs: number[] = [], ds: number[] = [];
  const count = bins.gather(p[0], p[1], p[2], radius);
  const hits = bins.hits;
  for (let q = 0; q < count; q++) {
    const j = hits[4 * q]!;
    const dx0 = f[3 * j]! - p[0], dy0 = f[3 * j + 1]! - p[1], dz0 = f[3 * j + 2]! - p[2];
    // The same arithmetic as a scan of images a = n + round(dx0) around the nearest one, so the
    // distances (and which of them fall within the radius) are the same to the last bit.
    const wa = Math.round(dx0), wb = Math.round(dy0), wc = Math.round(dz0);
    const da = dx0 + (hits[4 * q + 1]! + wa) - wa, db = dy0 + (hits[4 * q + 2]! + wb) - wb, dc = dz0 + (hits[4 * q + 3]! + wc) - wc;
    const x = da * L[0]! + db * L[3]! + dc * L[6]!;
    const y = da * L[1]! + db * L[4]! + dc * L[7]!;
    const zz = da * L[2]! + db * L[5]! + dc * L[8]!;
    const d = Math.sqrt(x * x + y * y + zz * zz);
    if (d <= radius) {
      zs.push(bins.z[j]!);
      ds.push(d);
    }
  }
  const order = Array.from({ length: zs.length }, (_, q) => q).sort((u, v) => zs[u]! - zs[v]! || ds[u]! - ds[v]!);
  const out: number[] = new Array(2 * order.length);
  for (let q = 0; q < order.length; q++) {
    out[2 * q] = zs[order[q]!]!;
    out[2 * q + 1] = ds[order[q]!]!;
  }
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
  const orbits = new HopOrbits(perms, psym, p.species.length, Int32Array.from(p.species.flatMap((e, i) => (e === ion ? [i] : []))));
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
      const k = primitiveKey(red, np, c.start, c.end, c.image[0], c.image[1], c.image[2]);
      // The multiplicity of the default mode's hop this one belongs to.
      const cluster = orbits.clusters(p, k).find((x) => x.includes(k))!;
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
  const candidates = new HopList();
  for (const i of centers) {
    if (bins) neighborsAround(bins, i, ion, cutoff, candidates);
    else neighborsOf(s, i, ion, cutoff, candidates);
  }
  // Each distinct hop is a cluster of a symmetry orbit (see HopOrbits.clusters), reported by its shortest
  // member; members within LENGTH_TIE_ANG of the shortest tie, and the tie goes to the lowest start
  // site, end site and image (the class's first site in an exactly symmetric cell).
  const clusterOf = new Map<number, number>();
  const clusterSize: number[] = [];
  const members: number[][] = [];
  const cimg = candidates.image;
  for (let q = 0; q < candidates.count; q++) {
    const k = primitiveKey(red, np, candidates.start[q]!, candidates.end[q]!, cimg[3 * q]!, cimg[3 * q + 1]!, cimg[3 * q + 2]!);
    let id = clusterOf.get(k);
    if (id === undefined) {
      for (const cluster of orbits.clusters(geometry, k)) {
        for (const m of cluster) clusterOf.set(m, clusterSize.length);
        clusterSize.push(cluster.length);
        members.push([]);
      }
      id = clusterOf.get(k)!;
    }
    members[id]!.push(q);
  }
  const found: Found[] = [];
  const clen = candidates.length;
  for (let id = 0; id < members.length; id++) {
    const list = members[id]!;
    if (list.length === 0) continue;
    let shortest = Infinity;
    for (const q of list) shortest = Math.min(shortest, clen[q]!);
    let best = -1;
    for (const q of list) if (clen[q]! <= shortest + LENGTH_TIE_ANG && (best < 0 || candidates.compareSites(q, best) < 0)) best = q;
    const c = candidates.at(best);
    const la = siteKey(s, red, c.start);
    const lb = siteKey(s, red, c.end);
    found.push({ hop: c, multiplicity: (clusterSize[id]! / 2) * cellsPerPrimitive, letters: la <= lb ? `${la}|${lb}` : `${lb}|${la}`, env: null });
  }

  return assemble(orderHops(s, found));

  /** The result from the distinct hops in their final order. */
  function assemble(ordered: Found[]): HopResult {
    const kept = limit === 0 ? ordered : ordered.slice(0, limit);
    const wyckoffFields = hopWyckoffFields(classWyckoffSymbols);
    const hops = kept.map((f, index) => toHop(s, classOf, wyckoffFields, ion, f, index));
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

function midpoint(s: Structure, c: Candidate): Vec3 {
  const f = s.frac;
  return [0, 1, 2].map((k) => (f[3 * c.start + k]! + f[3 * c.end + k]! + c.image[k]!) / 2) as Vec3;
}

function toHop(s: Structure, classOf: Int32Array, wyckoffFields: PropertyDescriptorMap, ion: string, f: Found, index: number): Hop {
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
  Object.defineProperties(hop, wyckoffFields);
  hop.multiplicity = f.multiplicity;
  return hop as Hop;
}

/**
 * `startWyckoff` and `endWyckoff` as fields computed on first read (see {@link lazyFields}), one set of
 * property descriptors for all hops of a result: the getters read the hop's own class indices.
 */
function hopWyckoffFields(classWyckoffSymbols: () => string[]): PropertyDescriptorMap {
  const field = (name: 'startWyckoff' | 'endWyckoff', cls: 'startClass' | 'endClass'): PropertyDescriptor => ({
    enumerable: true,
    configurable: true,
    get(this: Hop) {
      const value = classWyckoffSymbols()[this[cls]]!;
      Object.defineProperty(this, name, { value, enumerable: true, configurable: true, writable: true });
      return value;
    },
    set(this: Hop, value: unknown) {
      Object.defineProperty(this, name, { value, enumerable: true, configurable: true, writable: true });
    },
  });
  return { startWyckoff: field('startWyckoff', 'startClass'), endWyckoff: field('endWyckoff', 'endClass') };
}
