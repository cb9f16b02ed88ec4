/**
 * Larsen dimensionality of a periodic graph: TS wrapper of the WASM kernel (assembly/percolation.ts).
 * Same contract as the plain-TS twin ({@link dimensionalityTs}, {@link firstPercolationTs}).
 */
import { loadKernel, type Arena } from './wasm.js';
import { PercolationStatusError, PERCOLATION_STATUS, type EdgeArrays } from './percolation-ts.js';

export { dimensionalityTs, firstPercolationTs, PercolationStatusError, PERCOLATION_STATUS } from './percolation-ts.js';
export type { EdgeArrays } from './percolation-ts.js';

type DimFn = (n: number, m: number, ei: number, ej: number, eS: number, keys: number, maxKey: number, scratch: number, scratchBytes: number, siteDim: number) => number;
type FirstFn = (n: number, m: number, ei: number, ej: number, eS: number, keys: number, thresholds: number, nt: number, scratch: number, scratchBytes: number, out: number) => number;

interface BoundKernel {
  arena: Arena;
  dimensionality: DimFn;
  firstPercolation: FirstFn;
  scratchBytes: (n: number, m: number) => number;
  errorEdge: () => number;
}

let kernel: BoundKernel | null = null;

function bindKernel(): BoundKernel {
  const k = loadKernel('percolation');
  kernel = {
    arena: k.arena,
    dimensionality: k.exports['dimensionality'] as DimFn,
    firstPercolation: k.exports['firstPercolation'] as FirstFn,
    scratchBytes: k.exports['percolationScratchBytes'] as BoundKernel['scratchBytes'],
    errorEdge: k.exports['percolationErrorEdge'] as () => number,
  };
  return kernel;
}

/** Writes the edges (and keys) into the arena; returns their pointers. */
function writeEdges(k: BoundKernel, n: number, edges: EdgeArrays, keys: ArrayLike<number> | null) {
  const m = edges.i.length;
  const a = k.arena;
  a.reset();
  const scratchBytes = k.scratchBytes(n, m);
  if (scratchBytes < 0) throw new PercolationStatusError(scratchBytes, { nSites: n, nEdges: m });
  const ei = a.alloc(4 * m);
  const ej = a.alloc(4 * m);
  const eS = a.alloc(12 * m);
  const kp = keys ? a.alloc(8 * m) : 0;
  const scratch = a.alloc(scratchBytes);
  a.i32(ei, m).set(edges.i);
  a.i32(ej, m).set(edges.j);
  a.i32(eS, 3 * m).set(edges.image);
  if (keys) a.writeF64(kp, keys);
  return { ei, ej, eS, kp, scratch, scratchBytes };
}

function fail(k: BoundKernel, status: number, n: number, edges: EdgeArrays, keys: ArrayLike<number> | null): never {
  throw new PercolationStatusError(status, { nSites: n, nEdges: edges.i.length, edge: k.errorEdge(), edges, keys });
}

/**
 * Larsen dimensionality (0..3) of the edges with key <= maxKey (every edge when keys is null), with
 * the WASM kernel; siteDim (length n), when given, receives each site's component dimensionality.
 */
export function dimensionalityWasm(n: number, edges: EdgeArrays, keys: ArrayLike<number> | null, maxKey: number, siteDim: Int32Array | null = null): number {
  const k = kernel ?? bindKernel();
  if (!(n >= 1)) throw new PercolationStatusError(PERCOLATION_STATUS.BAD_COUNT, { nSites: n, nEdges: edges.i.length });
  const p = writeEdges(k, n, edges, keys);
  const out = siteDim ? k.arena.alloc(4 * n) : 0;
  const r = k.dimensionality(n, edges.i.length, p.ei, p.ej, p.eS, p.kp, maxKey, p.scratch, p.scratchBytes, out);
  if (r < 0) fail(k, r, n, edges, keys);
  if (siteDim) siteDim.set(k.arena.i32(out, n));
  return r;
}

/** {@link firstPercolationTs} with the WASM kernel. */
export function firstPercolationWasm(n: number, edges: EdgeArrays, keys: ArrayLike<number>, thresholds: ArrayLike<number>): Float64Array {
  const k = kernel ?? bindKernel();
  if (!(n >= 1)) throw new PercolationStatusError(PERCOLATION_STATUS.BAD_COUNT, { nSites: n, nEdges: edges.i.length });
  const p = writeEdges(k, n, edges, keys);
  const nt = thresholds.length;
  const tp = k.arena.alloc(8 * nt);
  const out = k.arena.alloc(24);
  k.arena.writeF64(tp, thresholds);
  const r = k.firstPercolation(n, edges.i.length, p.ei, p.ej, p.eS, p.kp, tp, nt, p.scratch, p.scratchBytes, out);
  if (r < 0) fail(k, r, n, edges, keys);
  return k.arena.copyF64(out, 3);
}
