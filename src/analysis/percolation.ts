/**
 * Percolation dimensionality of a migration network (Larsen et al., Phys. Rev. Materials 3, 034003
 * (2019)), as pymatgen's `get_dimensionality_larsen` computes it on a bonded structure, and the
 * DDI descriptors built on it:
 *
 * - {@link dimensionality}: the whole hop graph (0 = isolated pockets, 1 = channels, 2 = layers, 3 = bulk);
 * - {@link dimensionalityOfClass}: one hop class alone (DDI `dimensionality`);
 * - {@link dimensionalityCumLengths}: all hops no longer than a given length (DDI `dimensionality_cumlengths`);
 * - {@link dimensionalityCumCosts}: all hops with a cost not above a given cost (`_cumbarriers`; the
 *   caller supplies the cost, e.g. an NEB barrier);
 * - {@link firstPercolationLengths}: the shortest hop length at which the network first percolates in
 *   1, 2 and 3 dimensions.
 *
 * A graph is `nSites` sites and edges (i, j, image): site i in the home cell joined to site j in the
 * cell translated by `image` (integer lattice vector). Edges are undirected; give each hop once.
 * {@link hopGraph} builds the graph of all hops between sites of one element up to a length.
 *
 * ```ts
 * const g = hopGraph(readStructure('CaF2.cif'), 'F', 3.0);          // F–F hops ≤ 3 Å
 * dimensionality(g.nSites, g);                                     // 3
 * firstPercolationLengths(g.nSites, g, g.lengths);                 // { oneD: 2.73…, twoD: 2.73…, threeD: 2.73… }
 * ```
 */
import type { Structure } from '../structure/structure.js';
import { neighborList } from '../kernels/neighbors.js';
import { dimensionalityWasm, firstPercolationWasm, dimensionalityTs, firstPercolationTs, type EdgeArrays } from '../kernels/percolation.js';

export { PercolationStatusError } from '../kernels/percolation.js';
export type { EdgeArrays } from '../kernels/percolation.js';

/** One hop: site i (home cell) to site j in the cell shifted by `image`. */
export interface HopEdge {
  i: number;
  j: number;
  image: readonly [number, number, number] | readonly number[];
}

/** Edges as objects, or as parallel arrays (`image` flat, 3 per edge). */
export type HopEdges = readonly HopEdge[] | { i: ArrayLike<number>; j: ArrayLike<number>; image: ArrayLike<number> };

export interface PercolationOptions {
  /** `wasm` (default) or the plain-TypeScript twin `ts`. */
  backend?: 'wasm' | 'ts';
}

function fail(fn: string, msg: string): never {
  throw new RangeError(`${fn}: ${msg}`);
}

function checkSites(fn: string, nSites: number): void {
  if (!Number.isInteger(nSites) || nSites < 1) fail(fn, `nSites must be a positive integer, got ${String(nSites)}`);
}

function toArrays(fn: string, edges: HopEdges): EdgeArrays {
  if (Array.isArray(edges)) {
    const list = edges as readonly HopEdge[];
    const m = list.length;
    const out: EdgeArrays = { i: new Int32Array(m), j: new Int32Array(m), image: new Int32Array(3 * m) };
    for (let e = 0; e < m; e++) {
      const h = list[e]!;
      if (!h || !h.image || h.image.length !== 3) fail(fn, `edge ${e} must have i, j and a 3-component image`);
      out.i[e] = intOf(fn, `edge ${e} i`, h.i);
      out.j[e] = intOf(fn, `edge ${e} j`, h.j);
      for (let k = 0; k < 3; k++) out.image[3 * e + k] = intOf(fn, `edge ${e} image[${k}]`, h.image[k]!);
    }
    return out;
  }
  const a = edges as { i: ArrayLike<number>; j: ArrayLike<number>; image: ArrayLike<number> };
  const m = a.i?.length;
  if (m === undefined || a.j?.length !== m || a.image?.length !== 3 * m) {
    fail(fn, `edges need i and j of equal length and image of 3 per edge, got ${String(a.i?.length)}, ${String(a.j?.length)}, ${String(a.image?.length)}`);
  }
  // Int32Arrays hold integers by construction: hand them over as they are (the kernel checks ranges).
  if (a.i instanceof Int32Array && a.j instanceof Int32Array && a.image instanceof Int32Array) return { i: a.i, j: a.j, image: a.image };
  const out: EdgeArrays = { i: new Int32Array(m), j: new Int32Array(m), image: new Int32Array(3 * m) };
  for (let e = 0; e < m; e++) {
    out.i[e] = intOf(fn, `edge ${e} i`, a.i[e]!);
    out.j[e] = intOf(fn, `edge ${e} j`, a.j[e]!);
  }
  for (let k = 0; k < 3 * m; k++) out.image[k] = intOf(fn, `edge ${Math.floor(k / 3)} image[${k % 3}]`, a.image[k]!);
  return out;
}

function intOf(fn: string, what: string, v: number): number {
  if (!Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) fail(fn, `${what} must be an integer, got ${String(v)}`);
  return v;
}

function perEdge(fn: string, name: string, values: ArrayLike<number>, m: number, finite = true): Float64Array {
  if (!values || values.length !== m) fail(fn, `${name} must have one value per edge (${m}), got ${values ? values.length : String(values)}`);
  const out = Float64Array.from(values);
  for (let e = 0; e < m; e++) {
    if (finite ? !Number.isFinite(out[e]!) : Number.isNaN(out[e]!)) fail(fn, `${name}[${e}] must be a ${finite ? 'finite ' : ''}number, got ${String(values[e])}`);
  }
  return out;
}

function backendOf(fn: string, options: PercolationOptions): 'wasm' | 'ts' {
  const b = options.backend ?? 'wasm';
  if (b !== 'wasm' && b !== 'ts') fail(fn, `backend must be 'wasm' or 'ts', got ${String(b)}`);
  return b;
}

function run(fn: string, nSites: number, e: EdgeArrays, keys: Float64Array | null, maxKey: number, options: PercolationOptions, siteDim: Int32Array | null = null): number {
  return backendOf(fn, options) === 'wasm' ? dimensionalityWasm(nSites, e, keys, maxKey, siteDim) : dimensionalityTs(nSites, e, keys, maxKey, siteDim);
}

/** Larsen dimensionality (0..3) of the whole graph: the highest dimensionality of its components. */
export function dimensionality(nSites: number, edges: HopEdges, options: PercolationOptions = {}): number {
  checkSites('dimensionality', nSites);
  return run('dimensionality', nSites, toArrays('dimensionality', edges), null, 0, options);
}

/** Dimensionality of each site's component (Int32Array of length nSites). */
export function componentDimensionalities(nSites: number, edges: HopEdges, options: PercolationOptions = {}): Int32Array {
  checkSites('componentDimensionalities', nSites);
  const out = new Int32Array(nSites);
  run('componentDimensionalities', nSites, toArrays('componentDimensionalities', edges), null, 0, options, out);
  return out;
}

/** Dimensionality of the hops of one class alone: edges whose `classes[e] === target`. */
export function dimensionalityOfClass(nSites: number, edges: HopEdges, classes: ArrayLike<number>, target: number, options: PercolationOptions = {}): number {
  const fn = 'dimensionalityOfClass';
  checkSites(fn, nSites);
  const e = toArrays(fn, edges);
  const m = e.i.length;
  if (!classes || classes.length !== m) fail(fn, `classes must have one label per edge (${m}), got ${classes ? classes.length : String(classes)}`);
  if (!Number.isInteger(target)) fail(fn, `target must be an integer class label, got ${String(target)}`);
  const keys = new Float64Array(m);
  for (let k = 0; k < m; k++) keys[k] = classes[k] === target ? 0 : 1;
  return run(fn, nSites, e, keys, 0, options);
}

/**
 * Dimensionality of all hops no longer than `lengthAng` (DDI `dimensionality_cumlengths`: an edge is
 * dropped when `length - toleranceAng > lengthAng`; tolerance default 1e-6 Å).
 */
export function dimensionalityCumLengths(
  nSites: number, edges: HopEdges, lengths: ArrayLike<number>, lengthAng: number,
  options: PercolationOptions & { toleranceAng?: number } = {},
): number {
  const fn = 'dimensionalityCumLengths';
  checkSites(fn, nSites);
  const e = toArrays(fn, edges);
  const keys = perEdge(fn, 'lengths', lengths, e.i.length);
  if (!Number.isFinite(lengthAng)) fail(fn, `lengthAng must be a finite number, got ${String(lengthAng)}`);
  const tol = options.toleranceAng ?? 1e-6;
  if (!(tol >= 0) || !Number.isFinite(tol)) fail(fn, `toleranceAng must be a finite number >= 0, got ${String(tol)}`);
  for (let k = 0; k < keys.length; k++) keys[k] = keys[k]! - tol;
  return run(fn, nSites, e, keys, lengthAng, options);
}

/**
 * Dimensionality of all hops whose cost is not above `cost` (DDI `_cumbarriers`; costs from the
 * caller, e.g. barriers in eV; +Infinity marks a hop that is never open).
 */
export function dimensionalityCumCosts(nSites: number, edges: HopEdges, costs: ArrayLike<number>, cost: number, options: PercolationOptions = {}): number {
  const fn = 'dimensionalityCumCosts';
  checkSites(fn, nSites);
  const e = toArrays(fn, edges);
  const keys = perEdge(fn, 'costs', costs, e.i.length, false);
  if (Number.isNaN(cost)) fail(fn, `cost must be a number, got ${String(cost)}`);
  return run(fn, nSites, e, keys, cost, options);
}

export interface FirstPercolation {
  /** Shortest hop length (Å) at which some component is at least a chain; null if never. */
  oneD: number | null;
  /** … at least a layer. */
  twoD: number | null;
  /** … fully 3-D. */
  threeD: number | null;
}

/**
 * The smallest hop length at which the network of all hops no longer than it first reaches
 * dimensionality 1, 2 and 3 (each one of the given lengths, or null).
 */
export function firstPercolationLengths(nSites: number, edges: HopEdges, lengths: ArrayLike<number>, options: PercolationOptions = {}): FirstPercolation {
  const fn = 'firstPercolationLengths';
  checkSites(fn, nSites);
  const e = toArrays(fn, edges);
  const keys = perEdge(fn, 'lengths', lengths, e.i.length);
  const thresholds = Float64Array.from(new Set(keys)).sort();
  const r = backendOf(fn, options) === 'wasm' ? firstPercolationWasm(nSites, e, keys, thresholds) : firstPercolationTs(nSites, e, keys, thresholds);
  const v = (x: number) => (Number.isNaN(x) ? null : x);
  return { oneD: v(r[0]!), twoD: v(r[1]!), threeD: v(r[2]!) };
}

export interface HopGraph extends EdgeArrays {
  /** Number of sites of the element (the graph's nodes). */
  nSites: number;
  /** Structure index of each graph node. */
  siteIndex: Int32Array;
  /** Length of each hop, Å. */
  lengths: Float64Array;
}

/**
 * Every hop between sites of `element` (every site when `element` is null) no longer than
 * `maxLengthAng` (each undirected hop once: i < j, or i = j with the image's first non-zero
 * component positive), in (i, j, image) order. Node k of the graph is structure site `siteIndex[k]`.
 */
export function hopGraph(structure: Structure, element: string | null, maxLengthAng: number): HopGraph {
  const fn = 'hopGraph';
  if (!(maxLengthAng > 0) || !Number.isFinite(maxLengthAng)) fail(fn, `maxLengthAng must be a positive finite number of Å, got ${String(maxLengthAng)}`);
  const siteIndex: number[] = [];
  structure.species.forEach((sp, k) => {
    if (element === null || sp === element) siteIndex.push(k);
  });
  if (siteIndex.length === 0) fail(fn, `the structure has no ${JSON.stringify(element)} site`);
  const n = siteIndex.length;
  const frac = new Float64Array(3 * n);
  siteIndex.forEach((k, a) => frac.set(structure.frac.subarray(3 * k, 3 * k + 3), 3 * a));
  const sub: Structure = { ...structure, species: siteIndex.map((k) => structure.species[k]!), frac, oxidationStates: null, siteProperties: {} };
  const nl = neighborList(sub, maxLengthAng, { sorted: true });
  const keep: number[] = [];
  for (let p = 0; p < nl.count; p++) {
    const i = nl.i[p]!, j = nl.j[p]!;
    if (i < j) keep.push(p);
    else if (i === j) {
      const s0 = nl.S[3 * p]!, s1 = nl.S[3 * p + 1]!, s2 = nl.S[3 * p + 2]!;
      if (s0 > 0 || (s0 === 0 && (s1 > 0 || (s1 === 0 && s2 > 0)))) keep.push(p);
    }
  }
  const m = keep.length;
  const g: HopGraph = { nSites: n, siteIndex: Int32Array.from(siteIndex), i: new Int32Array(m), j: new Int32Array(m), image: new Int32Array(3 * m), lengths: new Float64Array(m) };
  keep.forEach((p, e) => {
    g.i[e] = nl.i[p]!;
    g.j[e] = nl.j[p]!;
    g.image.set(nl.S.subarray(3 * p, 3 * p + 3), 3 * e);
    g.lengths[e] = nl.d![p]!;
  });
  return g;
}
