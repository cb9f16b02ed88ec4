/**
 * Bond-valence oxidation states: a re-implementation of pymatgen's `BVAnalyzer.get_valences`
 * (pymatgen 2022.11.7, ordered structures), with the same parameters, priors and search.
 *
 * Method (O'Keeffe & Brese, J. Am. Chem. Soc. 113, 3226 (1991); Brese & O'Keeffe, Acta Cryst. B47,
 * 192 (1991); the MAP scheme is pymatgen's):
 *  1. Sites are grouped into symmetry orbits (spglib-style crystallographic orbits at symprec 0.1 Å;
 *     from ./symmetry.ts `symmetryOrbits`: moyo's orbits, found by the operation search of
 *     ./symops.ts where it applies, else by moyo; or orbits supplied by the caller, e.g. from a
 *     symmetry analysis the pipeline already made for the path finder).
 *     Groups are ordered by their first site, then
 *     stably by decreasing electronegativity.
 *  2. The bond-valence sum of each group's first site is taken over every neighbour within 4 Å
 *     (distances scaled by 1.015, the GGA over-binding correction), counting a bond only when one of
 *     the two elements is in O'Keeffe & Brese's electronegative list and the elements differ;
 *     R_ij = r_i + r_j - r_i r_j (√c_i - √c_j)² / (c_i r_i + c_j r_j), v_ij = exp((R_ij - d)/0.31),
 *     signed + when the site is the less electronegative one.
 *  3. P(oxi | BVS) ∝ exp(-(BVS - μ)²/2σ²)/σ · P(oxi) with the ICSD-mined μ, σ and occurrence
 *     counts (icsd_bv.json); states with σ = 0 or oxi = 0 are skipped; states below 1/100 of the most
 *     probable one are dropped.
 *  4. A depth-first search over the groups (states in decreasing probability) prunes branches that can
 *     no longer reach charge zero, rejects assignments where one element's states spread by more than
 *     1, and keeps the first assignment with the highest product of probabilities; it gives up after
 *     100 000 visited nodes (pymatgen's `max_permutations`).
 *
 * Every step follows pymatgen's operation order (dictionary order of the ICSD table, stable sorts,
 * left-to-right products and sums), so ties are broken the same way. Errors carry pymatgen's messages.
 */
import { readFileSync } from 'node:fs';
import { dataPath } from '../paths.js';
import { symmetryOrbits, SymmetryError } from '../structure/symmetry.js';
import { element } from '../structure/elements.js';
import type { Structure } from '../structure/structure.js';
import { neighborList } from '../kernels/neighbors.js';

/** O'Keeffe & Brese's electronegative elements: a bond counts only if one end is one of these. */
const ELECTRONEGATIVE = new Set(['H', 'B', 'C', 'Si', 'N', 'P', 'As', 'Sb', 'O', 'S', 'Se', 'Te', 'F', 'Cl', 'Br', 'I']);

export interface BondValenceOptions {
  /** Symmetry tolerance (Å, below 1) for grouping equivalent sites; 0 treats every site alone. Default 0.1. */
  symprec?: number;
  /**
   * Orbit of each site (any integer label per site; equal labels = symmetry-equivalent), e.g. from a
   * symmetry analysis already done by the caller. Replaces the symmetry analysis when given.
   */
  orbits?: ArrayLike<number>;
  /** Neighbour radius for the bond-valence sums, Å. Default 4. */
  maxRadiusAng?: number;
  /** Assignments to try before giving up (pymatgen's `max_permutations`). Default 100000. */
  maxPermutations?: number;
  /** Multiplies every distance (GGA structures are ~1.5 % too large). Default 1.015. */
  distanceScaleFactor?: number;
  /** Species that may not be assigned, e.g. `['O-']`. Default none. */
  forbiddenSpecies?: readonly string[];
}

export interface BondValenceResult {
  /** Integer oxidation state of each site. */
  valences: Int32Array;
  /** Bond-valence sum of each site, from its own neighbours (the search uses each group's first site). */
  bvSums: Float64Array;
  /** Group index of each site (groups in pymatgen's processing order; one site per group when the symmetry step was skipped). */
  groups: Int32Array;
  /**
   * Whether a symmetry analysis was run. It is skipped when the caller gives `orbits`, when symprec
   * is 0, and when every site of each element has the same single candidate state (then the grouping
   * cannot change the result).
   */
  symmetryUsed: boolean;
  /** Search nodes visited (pymatgen's `_n`). */
  permutations: number;
}

/** BVAnalyzer failed; `message` is pymatgen's text for the same case. */
export class BondValenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BondValenceError';
  }
}

interface BvParam {
  r: number;
  c: number;
}
interface IcsdEntry {
  element: string;
  oxi: number;
  mean: number;
  std: number;
  prior: number;
}

let bvParams: Map<string, BvParam> | null = null;
let icsd: IcsdEntry[] | null = null;
let occurrence: Map<string, number> | null = null;

/** Parses `Fe3+`, `F-`, `Ag0+` (pymatgen's Species.from_string forms used in icsd_bv.yaml). */
export function parseSpecies(label: string): { element: string; oxi: number } {
  const m = /^([A-Z][a-z]?)(\d*(?:\.\d+)?)([+-])$/.exec(label);
  if (!m) throw new Error(`invalid species ${JSON.stringify(label)}: expected an element and a signed charge, e.g. "Fe3+" or "F-"`);
  const mag = m[2] === '' ? 1 : Number(m[2]);
  return { element: m[1]!, oxi: m[3] === '-' ? -mag : mag };
}

function loadTables(): void {
  if (bvParams && icsd && occurrence) return;
  const bv = JSON.parse(readFileSync(dataPath('reference-tables', 'bvparam_1991.json'), 'utf8')) as { data: Record<string, BvParam> };
  bvParams = new Map(Object.entries(bv.data));
  const raw = JSON.parse(readFileSync(dataPath('reference-tables', 'icsd_bv.json'), 'utf8')) as {
    data: { bvsum: Record<string, { mean: number; std: number }>; occurrence: Record<string, number> };
  };
  occurrence = new Map();
  for (const [k, v] of Object.entries(raw.data.occurrence)) {
    const sp = parseSpecies(k);
    occurrence.set(`${sp.element}:${sp.oxi}`, v);
  }
  icsd = [];
  // Object key order = the YAML file's order, which is pymatgen's dict order (it decides ties).
  for (const [k, v] of Object.entries(raw.data.bvsum)) {
    const sp = parseSpecies(k);
    icsd.push({ element: sp.element, oxi: sp.oxi, mean: v.mean, std: v.std, prior: occurrence.get(`${sp.element}:${sp.oxi}`) ?? Number.NaN });
  }
}

/** ICSD occurrence count of `element` in oxidation state `oxi` (0 when never seen). */
export function icsdOccurrence(el: string, oxi: number): number {
  loadTables();
  return occurrence!.get(`${el}:${oxi}`) ?? 0;
}

/**
 * Groups of equivalent sites, each a list of site indices in site order; groups ordered by their
 * first site (pymatgen's SymmetrizedStructure order: np.unique over spglib's equivalent_atoms).
 */
function equivalentGroups(s: Structure, options: BondValenceOptions): number[][] {
  const n = s.species.length;
  const symprec = options.symprec ?? 0.1;
  let labels: ArrayLike<number>;
  if (options.orbits) labels = options.orbits;
  else if (symprec === 0) return Array.from({ length: n }, (_, i) => [i]);
  else {
    try {
      labels = symmetryOrbits(s, { symprec });
    } catch (e) {
      if (e instanceof SymmetryError) throw new BondValenceError(e.message);
      throw e;
    }
  }
  const byLabel = new Map<number, number[]>();
  const groups: number[][] = [];
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    let g = byLabel.get(l);
    if (!g) {
      g = [];
      byLabel.set(l, g);
      groups.push(g);
    }
    g.push(i);
  }
  return groups;
}

function validate(s: Structure, options: BondValenceOptions): void {
  const n = s.species.length;
  const check = (name: string, v: number | undefined, ok: (x: number) => boolean, what: string) => {
    if (v !== undefined && (typeof v !== 'number' || !ok(v))) throw new RangeError(`bond valence: ${name} must be ${what}, got ${String(v)}`);
  };
  check('symprec', options.symprec, (x) => x === 0 || (x > 0 && x < 1), '0 (no symmetry) or a distance in (0, 1) Å');
  check('maxRadiusAng', options.maxRadiusAng, (x) => Number.isFinite(x) && x > 0, 'a positive finite number of Å');
  check('maxPermutations', options.maxPermutations, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0');
  check('distanceScaleFactor', options.distanceScaleFactor, (x) => Number.isFinite(x) && x > 0, 'a positive finite number');
  if (options.orbits !== undefined) {
    if (options.orbits.length !== n) throw new RangeError(`bond valence: orbits has ${options.orbits.length} entries for ${n} sites`);
    for (let i = 0; i < n; i++) {
      if (!Number.isInteger(options.orbits[i])) throw new RangeError(`bond valence: orbits[${i}] must be an integer label, got ${String(options.orbits[i])}`);
    }
  }
  for (const sp of options.forbiddenSpecies ?? []) parseSpecies(sp);
}

/**
 * Oxidation states by bond valence, equal to pymatgen's `BVAnalyzer().get_valences(structure)`.
 * Throws {@link BondValenceError} where pymatgen raises (elements without parameters; no
 * charge-balanced assignment; an element with no usable ICSD statistics).
 */
export function bondValenceStates(s: Structure, options: BondValenceOptions = {}): BondValenceResult {
  validate(s, options);
  loadTables();
  const params = bvParams!;
  for (const sp of new Set(s.species)) {
    if (!params.has(sp)) throw new BondValenceError('Structure contains elements not in set of BV parameters!');
  }
  const forbidden = new Set((options.forbiddenSpecies ?? []).map((x) => {
    const p = parseSpecies(x);
    return `${p.element}:${p.oxi}`;
  }));
  const maxRadius = options.maxRadiusAng ?? 4;
  const scale = options.distanceScaleFactor ?? 1.015;
  const maxPermutations = options.maxPermutations ?? 100000;

  // Neighbours of every site within the radius; pymatgen includes d <= r + 1e-8.
  const n = s.species.length;
  const nl = neighborList(s, maxRadius + 1e-8, { distances: true });
  // Pairs of site i: pairOf[first[i] .. first[i+1]) (counting sort by i, pair order kept within a site).
  const first = new Int32Array(n + 1);
  for (let p = 0; p < nl.count; p++) first[nl.i[p]! + 1]!++;
  for (let i = 0; i < n; i++) first[i + 1]! += first[i]!;
  const fill = first.slice(0, n);
  const pairOf = new Int32Array(nl.count);
  for (let p = 0; p < nl.count; p++) pairOf[fill[nl.i[p]!]!++] = p;

  const bvSums = new Float64Array(n);
  const siteProb: Map<number, number>[] = [];
  const siteVals: number[][] = [];
  const siteError: (string | null)[] = [];
  for (let site = 0; site < n; site++) {
    const el1 = s.species[site]!;
    const p1 = params.get(el1)!;
    const x1 = element(el1).electronegativity;
    let bvsum = 0;
    for (let q = first[site]!; q < first[site + 1]!; q++) {
      const p = pairOf[q]!;
      const d = nl.d![p]!;
      if (!(d > 1e-8)) continue;
      const el2 = s.species[nl.j[p]!]!;
      if (el1 === el2 || !(ELECTRONEGATIVE.has(el1) || ELECTRONEGATIVE.has(el2))) continue;
      const p2 = params.get(el2)!;
      const sq = Math.sqrt(p1.c) - Math.sqrt(p2.c);
      const R = p1.r + p2.r - (p1.r * p2.r * (sq * sq)) / (p1.c * p1.r + p2.c * p2.r);
      const vij = Math.exp((R - d * scale) / 0.31);
      bvsum += vij * (x1 < element(el2).electronegativity ? 1 : -1);
    }
    bvSums[site] = bvsum;
    const prob = new Map<number, number>();
    for (const e of icsd!) {
      if (e.element !== el1 || e.oxi === 0 || !(e.std > 0) || forbidden.has(`${e.element}:${e.oxi}`)) continue;
      const dv = bvsum - e.mean;
      prob.set(e.oxi, (Math.exp(-(dv * dv) / 2 / (e.std * e.std)) / e.std) * e.prior);
    }
    let total = 0;
    for (const v of prob.values()) total += v;
    for (const [k, v] of prob) prob.set(k, total === 0 ? 0 : v / total);
    const vals = [...prob.keys()].sort((a, b) => prob.get(b)! - prob.get(a)!);
    let kept: number[] = [];
    let err: string | null = null;
    if (vals.length === 0) err = 'list index out of range';
    else {
      const top = prob.get(vals[0]!)!;
      kept = vals.filter((v) => prob.get(v)! > 0.01 * top);
      if (kept.length === 0) err = 'min() arg is an empty sequence';
    }
    siteProb.push(prob);
    siteVals.push(kept);
    siteError.push(err);
  }

  // Shortcut: when every site of each element has the same single candidate state, the search has
  // one leaf whatever the grouping (each group can only take that state), so the symmetry analysis
  // (most of the cost) cannot change the result and is skipped.
  let groups: number[][];
  let symmetryUsed = false;
  const single = new Map<string, number>();
  const trivial = !options.orbits && (options.symprec ?? 0.1) > 0 && s.species.every((el, i) => {
    if (siteVals[i]!.length !== 1) return false;
    const v = siteVals[i]![0]!;
    const prev = single.get(el);
    if (prev === undefined) single.set(el, v);
    return prev === undefined || prev === v;
  });
  if (trivial) groups = Array.from({ length: n }, (_, i) => [i]);
  else {
    groups = equivalentGroups(s, options);
    symmetryUsed = options.orbits === undefined && (options.symprec ?? 0.1) > 0;
  }
  // Stable sort by decreasing electronegativity of the group's element.
  const order = groups.map((_, g) => g);
  const xOf = (g: number) => element(s.species[groups[g]![0]!]!).electronegativity;
  order.sort((a, b) => xOf(b) - xOf(a));
  const sorted = order.map((g) => groups[g]!);

  const nG = sorted.length;
  const probs: Map<number, number>[] = [];
  const valences: number[][] = [];
  for (let g = 0; g < nG; g++) {
    const site = sorted[g]![0]!;
    if (siteError[site]) throw new BondValenceError(siteError[site]!);
    probs.push(siteProb[site]!);
    valences.push(siteVals[site]!);
  }

  const nsites = sorted.map((g) => g.length);
  const vmin = valences.map((v) => Math.min(...v));
  const vmax = valences.map((v) => Math.max(...v));
  // Element of each group as a small integer, for the "spread <= 1 per element" rule.
  const elIds = new Map<string, number>();
  const elOf = sorted.map((g) => {
    const el = s.species[g[0]!]!;
    if (!elIds.has(el)) elIds.set(el, elIds.size);
    return elIds.get(el)!;
  });
  const nEl = elIds.size;
  // Suffix sums of the bounds let each node test reachability of charge 0 in O(1); all terms are
  // integers, so this equals pymatgen's numpy sums exactly.
  const hiSuffix = new Float64Array(nG + 1);
  const loSuffix = new Float64Array(nG + 1);
  for (let g = nG - 1; g >= 0; g--) {
    hiSuffix[g] = hiSuffix[g + 1]! + vmax[g]! * nsites[g]!;
    loSuffix[g] = loSuffix[g + 1]! + vmin[g]! * nsites[g]!;
  }
  const assigned = new Float64Array(nG);
  const elMin = new Float64Array(nEl);
  const elMax = new Float64Array(nEl);
  let visited = 0;
  let bestScore = 0;
  let best: Float64Array | null = null;

  const evaluate = () => {
    elMin.fill(Infinity);
    elMax.fill(-Infinity);
    for (let g = 0; g < nG; g++) {
      const e = elOf[g]!, v = assigned[g]!;
      if (v < elMin[e]!) elMin[e] = v;
      if (v > elMax[e]!) elMax[e] = v;
    }
    for (let e = 0; e < nEl; e++) if (elMax[e]! - elMin[e]! > 1) return;
    let score = probs[0]!.get(assigned[0]!)!;
    for (let g = 1; g < nG; g++) score *= probs[g]!.get(assigned[g]!)!;
    if (score > bestScore) {
      bestScore = score;
      best = assigned.slice();
    }
  };
  const recurse = (i: number, charge: number) => {
    if (visited > maxPermutations) return;
    if (charge + hiSuffix[i]! < 0 || charge + loSuffix[i]! > 0) {
      visited++;
      return;
    }
    if (i === nG) {
      evaluate();
      visited++;
      return;
    }
    for (const v of valences[i]!) {
      assigned[i] = v;
      recurse(i + 1, charge + v * nsites[i]!);
    }
  };
  recurse(0, 0);
  if (!best) throw new BondValenceError('Valences cannot be assigned!');
  const bestSet: Float64Array = best;
  const out = new Int32Array(n);
  const groupOf = new Int32Array(n);
  for (let g = 0; g < nG; g++) {
    for (const site of sorted[g]!) {
      out[site] = Math.trunc(bestSet[g]!);
      groupOf[site] = g;
    }
  }
  return { valences: out, bvSums, groups: groupOf, symmetryUsed, permutations: visited };
}
