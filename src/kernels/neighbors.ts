/**
 * Periodic neighbour list: TS wrapper of the WASM kernel (assembly/neighbors.ts) and the public
 * `neighborList(structure, cutoffAng, options)`.
 *
 * Pairs (i, j, S): D = r[j] - r[i] + S·cell, d = |D| <= cutoffAng; every directed pair is listed
 * (both (i, j, S) and (j, i, -S)); only a site with itself at S = 0 is left out.
 */
import type { Structure } from '../structure/structure.js';
import { fracToCart } from '../structure/lattice.js';
import { loadKernel, type Arena } from './wasm.js';
import { estimatePairs, neighborSearchTs, NeighborStatusError, type NeighborArrays } from './neighbors-ts.js';

export type { NeighborArrays } from './neighbors-ts.js';
export { neighborSearchTs } from './neighbors-ts.js';

export interface NeighborListOptions {
  /** Return distances `d` (Å). Default true. */
  distances?: boolean;
  /** Return pair vectors `D` (Å, 3 per pair). Default false. */
  vectors?: boolean;
  /** Sort pairs by (i, j, S) — the order used to compare with pymatgen. Default false (grouped by i). */
  sorted?: boolean;
  /** `wasm` (default) or the plain-TypeScript twin `ts`. */
  backend?: 'wasm' | 'ts';
}

/** A neighbour list: `count` pairs as parallel typed arrays (own memory, not views into WASM). */
export type NeighborList = NeighborArrays;

type NeighborsFn = (
  cell: number, pos: number, n: number, cutoff: number, flags: number,
  scratch: number, scratchBytes: number,
  outI: number, outJ: number, outS: number, outD: number, outV: number, capacity: number,
) => number;

/**
 * Neighbour search with the WASM kernel on raw arrays (cell rows = lattice vectors, Cartesian
 * positions, Å). Same contract as {@link neighborSearchTs}.
 */
export function neighborSearchWasm(
  cell: ArrayLike<number>,
  pos: ArrayLike<number>,
  cutoff: number,
  options: { distances?: boolean; vectors?: boolean } = {},
): NeighborArrays {
  const k = kernel ?? bindKernel();
  const n = pos.length / 3;
  const wantD = options.distances !== false;
  const wantV = options.vectors === true;
  const flags = (wantD ? 1 : 0) | (wantV ? 2 : 0);
  let cap = estimatePairs(cell, n, cutoff);
  const a = k.arena;
  for (;;) {
    a.reset();
    const cellPtr = a.alloc(72);
    const posPtr = a.alloc(24 * n);
    a.writeF64(cellPtr, cell);
    a.writeF64(posPtr, pos);
    const scratchBytes = k.scratchBytes(cellPtr, n, cutoff);
    if (scratchBytes < 0) throw new NeighborStatusError(scratchBytes, cutoff);
    const scratch = a.alloc(scratchBytes);
    const iPtr = a.alloc(4 * cap);
    const jPtr = a.alloc(4 * cap);
    const sPtr = a.alloc(12 * cap);
    const dPtr = wantD ? a.alloc(8 * cap) : 0;
    const vPtr = wantV ? a.alloc(24 * cap) : 0;
    // Inputs were written before any later growth: memory.grow keeps contents, only views go stale.
    const count = k.run(cellPtr, posPtr, n, cutoff, flags, scratch, scratchBytes, iPtr, jPtr, sPtr, dPtr, vPtr, cap);
    if (count < 0) throw new NeighborStatusError(count, cutoff);
    if (count <= cap) {
      return {
        count,
        i: a.copyI32(iPtr, count),
        j: a.copyI32(jPtr, count),
        S: a.copyI32(sPtr, 3 * count),
        d: wantD ? a.copyF64(dPtr, count) : null,
        D: wantV ? a.copyF64(vPtr, 3 * count) : null,
      };
    }
    cap = count;
  }
}

interface BoundKernel {
  arena: Arena;
  run: NeighborsFn;
  scratchBytes: (cell: number, n: number, cutoff: number) => number;
}

let kernel: BoundKernel | null = null;

function bindKernel(): BoundKernel {
  const k = loadKernel('neighbors');
  kernel = {
    arena: k.arena,
    run: k.exports['neighbors'] as NeighborsFn,
    scratchBytes: k.exports['neighborsScratchBytes'] as BoundKernel['scratchBytes'],
  };
  return kernel;
}

/**
 * All directed neighbour pairs of `structure` within `cutoffAng` (Å).
 *
 * ```ts
 * const nl = neighborList(readStructure('CaF2.cif'), 5.0);
 * for (let p = 0; p < nl.count; p++) console.log(nl.i[p], nl.j[p], nl.S.subarray(3 * p, 3 * p + 3), nl.d![p]);
 * ```
 */
export function neighborList(structure: Structure, cutoffAng: number, options: NeighborListOptions = {}): NeighborList {
  if (typeof cutoffAng !== 'number' || !(cutoffAng > 0) || !Number.isFinite(cutoffAng)) {
    throw new RangeError(`neighborList: cutoffAng must be a positive finite number of Å, got ${String(cutoffAng)}`);
  }
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'ts') throw new RangeError(`neighborList: backend must be 'wasm' or 'ts', got ${String(backend)}`);
  const pos = fracToCart(structure.lattice, structure.frac);
  const opts = { distances: options.distances, vectors: options.vectors };
  const nl = backend === 'wasm' ? neighborSearchWasm(structure.lattice, pos, cutoffAng, opts) : neighborSearchTs(structure.lattice, pos, cutoffAng, opts);
  return options.sorted ? sortNeighborList(nl) : nl;
}

/** The same pairs ordered by (i, j, S[0], S[1], S[2]). */
export function sortNeighborList(nl: NeighborList): NeighborList {
  const order = new Uint32Array(nl.count);
  for (let p = 0; p < nl.count; p++) order[p] = p;
  const { i, j, S } = nl;
  order.sort((a, b) => i[a]! - i[b]! || j[a]! - j[b]! || S[3 * a]! - S[3 * b]! || S[3 * a + 1]! - S[3 * b + 1]! || S[3 * a + 2]! - S[3 * b + 2]!);
  const out: NeighborList = {
    count: nl.count,
    i: new Int32Array(nl.count),
    j: new Int32Array(nl.count),
    S: new Int32Array(3 * nl.count),
    d: nl.d ? new Float64Array(nl.count) : null,
    D: nl.D ? new Float64Array(3 * nl.count) : null,
  };
  for (let q = 0; q < nl.count; q++) {
    const p = order[q]!;
    out.i[q] = i[p]!;
    out.j[q] = j[p]!;
    out.S[3 * q] = S[3 * p]!;
    out.S[3 * q + 1] = S[3 * p + 1]!;
    out.S[3 * q + 2] = S[3 * p + 2]!;
    if (out.d) out.d[q] = nl.d![p]!;
    if (out.D) {
      out.D[3 * q] = nl.D![3 * p]!;
      out.D[3 * q + 1] = nl.D![3 * p + 1]!;
      out.D[3 * q + 2] = nl.D![3 * p + 2]!;
    }
  }
  return out;
}
