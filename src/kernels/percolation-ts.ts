/**
 * Plain-TypeScript twin of assembly/percolation.ts: the same Larsen breadth-first search (Phys. Rev.
 * Materials 3, 034003 (2019), Algorithm 1), the same operation order and status codes. Used for
 * differential tests and honest benchmarks; see the kernel file for the algorithm and its bounds.
 */

/** Edges of a periodic graph: edge e joins site i[e] (image 0) to site j[e] in image image[3e..3e+2]. */
export interface EdgeArrays {
  i: Int32Array;
  j: Int32Array;
  /** Lattice translation of each edge, 3 per edge. */
  image: Int32Array;
}

export const PERCOLATION_STATUS = {
  BAD_COUNT: -1,
  BAD_SITE: -2,
  BAD_IMAGE: -3,
  SCRATCH_TOO_SMALL: -4,
  IMAGE_OVERFLOW: -5,
  BAD_KEY: -6,
  BAD_THRESHOLDS: -7,
} as const;

const MAX_INPUT_IMAGE = 1024;
const MAX_IMAGE = 16384;

/** A status code of the percolation kernel as an error naming the offending input. */
export class PercolationStatusError extends Error {
  constructor(
    readonly status: number,
    detail: { nSites: number; nEdges: number; edge?: number; edges?: EdgeArrays; keys?: ArrayLike<number> | null },
  ) {
    super(percolationStatusMessage(status, detail));
    this.name = 'PercolationStatusError';
  }
}

function percolationStatusMessage(status: number, d: { nSites: number; nEdges: number; edge?: number; edges?: EdgeArrays; keys?: ArrayLike<number> | null }): string {
  const e = d.edge ?? -1;
  const edge = () => (d.edges && e >= 0 ? `(${d.edges.i[e]}, ${d.edges.j[e]}, [${Array.from(d.edges.image.subarray(3 * e, 3 * e + 3)).join(', ')}])` : '');
  switch (status) {
    case PERCOLATION_STATUS.BAD_COUNT:
      return `percolation: nSites must be >= 1 and the edge count >= 0, got nSites = ${d.nSites}, edges = ${d.nEdges}`;
    case PERCOLATION_STATUS.BAD_SITE:
      return `percolation: edge ${e} ${edge()} names a site outside 0..${d.nSites - 1}`;
    case PERCOLATION_STATUS.BAD_IMAGE:
      return `percolation: edge ${e} ${edge()} has an image component beyond ±${MAX_INPUT_IMAGE}`;
    case PERCOLATION_STATUS.SCRATCH_TOO_SMALL:
      return 'percolation: scratch buffer too small';
    case PERCOLATION_STATUS.IMAGE_OVERFLOW:
      return `percolation: the search reached an image beyond ±${MAX_IMAGE} (edges with huge images?)`;
    case PERCOLATION_STATUS.BAD_KEY:
      return `percolation: key of edge ${e} is ${d.keys ? String(d.keys[e]) : 'NaN'} (must not be NaN)`;
    case PERCOLATION_STATUS.BAD_THRESHOLDS:
      return 'percolation: thresholds must be strictly increasing numbers and keys must be given';
    default:
      return `percolation: kernel status ${status}`;
  }
}

/** Mutable state of one call (mirrors the kernel's scratch blocks). */
class Graph {
  start: Int32Array;
  adj: Int32Array;
  count: Int32Array;
  img: Int32Array;
  queue: Int32Array;
  comp: Int32Array;
  constructor(
    readonly n: number,
    nEdges: number,
  ) {
    this.start = new Int32Array(n + 1);
    this.adj = new Int32Array(8 * nEdges);
    this.count = new Int32Array(n);
    this.img = new Int32Array(12 * n);
    this.queue = new Int32Array(4 * (8 * nEdges + n));
    this.comp = new Int32Array(n);
  }
}

function checkEdges(n: number, e: EdgeArrays, keys: ArrayLike<number> | null): { status: number; edge: number } {
  const m = e.i.length;
  for (let k = 0; k < m; k++) {
    const i = e.i[k]!, j = e.j[k]!;
    if (i < 0 || i >= n || j < 0 || j >= n) return { status: PERCOLATION_STATUS.BAD_SITE, edge: k };
    for (let c = 0; c < 3; c++) {
      const s = e.image[3 * k + c]!;
      if (s > MAX_INPUT_IMAGE || s < -MAX_INPUT_IMAGE) return { status: PERCOLATION_STATUS.BAD_IMAGE, edge: k };
    }
    if (keys && Number.isNaN(keys[k]!)) return { status: PERCOLATION_STATUS.BAD_KEY, edge: k };
  }
  return { status: 0, edge: -1 };
}

function buildAdjacency(g: Graph, e: EdgeArrays, keys: ArrayLike<number> | null, maxKey: number): void {
  const { start, adj, count } = g;
  const n = g.n;
  const m = e.i.length;
  start.fill(0);
  for (let k = 0; k < m; k++) {
    if (keys && !(keys[k]! <= maxKey)) continue;
    start[e.i[k]! + 1]!++;
    start[e.j[k]! + 1]!++;
  }
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  count.set(start.subarray(0, n));
  for (let k = 0; k < m; k++) {
    if (keys && !(keys[k]! <= maxKey)) continue;
    const i = e.i[k]!, j = e.j[k]!;
    const s0 = e.image[3 * k]!, s1 = e.image[3 * k + 1]!, s2 = e.image[3 * k + 2]!;
    let a = count[i]!++;
    adj[4 * a] = j;
    adj[4 * a + 1] = s0;
    adj[4 * a + 2] = s1;
    adj[4 * a + 3] = s2;
    a = count[j]!++;
    adj[4 * a] = i;
    adj[4 * a + 1] = -s0;
    adj[4 * a + 2] = -s1;
    adj[4 * a + 3] = -s2;
  }
}

function rankIncrease(g: Graph, i: number, x: number, y: number, z: number): boolean {
  const c = g.count[i]!;
  if (c === 0) return true;
  if (c >= 4) return false;
  const im = g.img;
  const b = 12 * i;
  const x0 = im[b]!, y0 = im[b + 1]!, z0 = im[b + 2]!;
  const ux = x - x0, uy = y - y0, uz = z - z0;
  if (c === 1) return ux !== 0 || uy !== 0 || uz !== 0;
  const ax = im[b + 3]! - x0, ay = im[b + 4]! - y0, az = im[b + 5]! - z0;
  const cx = ay * uz - az * uy, cy = az * ux - ax * uz, cz = ax * uy - ay * ux;
  if (c === 2) return cx !== 0 || cy !== 0 || cz !== 0;
  const wx = im[b + 6]! - x0, wy = im[b + 7]! - y0, wz = im[b + 8]! - z0;
  // Images stay within ±2^14: |cross| <= 2^31 and the dot product < 2^48, exact in doubles, like the kernel's i64.
  return wx * cx + wy * cy + wz * cz !== 0;
}

function search(g: Graph, siteDim: Int32Array | null): number {
  const { start, adj, count, img, queue, comp } = g;
  const n = g.n;
  count.fill(0);
  let best = 0;
  for (let s = 0; s < n; s++) {
    if (count[s] !== 0) continue;
    let head = 0, tail = 1, reached = 0;
    queue[0] = s;
    queue[1] = 0;
    queue[2] = 0;
    queue[3] = 0;
    while (head < tail) {
      const q = 4 * head++;
      const i = queue[q]!, x = queue[q + 1]!, y = queue[q + 2]!, z = queue[q + 3]!;
      if (!rankIncrease(g, i, x, y, z)) continue;
      const c = count[i]!;
      if (c === 0) comp[reached++] = i;
      img[12 * i + 3 * c] = x;
      img[12 * i + 3 * c + 1] = y;
      img[12 * i + 3 * c + 2] = z;
      count[i] = c + 1;
      const a1 = start[i + 1]!;
      for (let a = start[i]!; a < a1; a++) {
        const j = adj[4 * a]!;
        const nx = x + adj[4 * a + 1]!, ny = y + adj[4 * a + 2]!, nz = z + adj[4 * a + 3]!;
        if (!rankIncrease(g, j, nx, ny, nz)) continue;
        if (nx > MAX_IMAGE || nx < -MAX_IMAGE || ny > MAX_IMAGE || ny < -MAX_IMAGE || nz > MAX_IMAGE || nz < -MAX_IMAGE) return PERCOLATION_STATUS.IMAGE_OVERFLOW;
        const t = 4 * tail++;
        queue[t] = j;
        queue[t + 1] = nx;
        queue[t + 2] = ny;
        queue[t + 3] = nz;
      }
    }
    const dim = count[s]! - 1;
    if (dim > best) best = dim;
    if (siteDim) for (let r = 0; r < reached; r++) siteDim[comp[r]!] = dim;
  }
  return best;
}

/**
 * Larsen dimensionality (0..3) of the graph of the edges with key <= maxKey (all edges when keys is
 * null); siteDim, when given (length n), receives each site's component dimensionality. Throws
 * {@link PercolationStatusError} on bad input.
 */
export function dimensionalityTs(n: number, edges: EdgeArrays, keys: ArrayLike<number> | null, maxKey: number, siteDim: Int32Array | null = null): number {
  const m = edges.i.length;
  if (!(n >= 1)) throw new PercolationStatusError(PERCOLATION_STATUS.BAD_COUNT, { nSites: n, nEdges: m });
  const chk = checkEdges(n, edges, keys);
  if (chk.status < 0) throw new PercolationStatusError(chk.status, { nSites: n, nEdges: m, edge: chk.edge, edges, keys });
  const g = new Graph(n, m);
  buildAdjacency(g, edges, keys, maxKey);
  const r = search(g, siteDim);
  if (r < 0) throw new PercolationStatusError(r, { nSites: n, nEdges: m });
  return r;
}

/**
 * For d = 1, 2, 3: the first of the strictly increasing `thresholds` at which the graph of edges with
 * key <= threshold has dimensionality >= d, or NaN. Bisection per d (dimensionality is monotone).
 */
export function firstPercolationTs(n: number, edges: EdgeArrays, keys: ArrayLike<number>, thresholds: ArrayLike<number>): Float64Array {
  const m = edges.i.length;
  if (!(n >= 1)) throw new PercolationStatusError(PERCOLATION_STATUS.BAD_COUNT, { nSites: n, nEdges: m });
  const nt = thresholds.length;
  for (let t = 0; t < nt; t++) {
    if (Number.isNaN(thresholds[t]!) || (t > 0 && !(thresholds[t]! > thresholds[t - 1]!))) throw new PercolationStatusError(PERCOLATION_STATUS.BAD_THRESHOLDS, { nSites: n, nEdges: m });
  }
  const chk = checkEdges(n, edges, keys);
  if (chk.status < 0) throw new PercolationStatusError(chk.status, { nSites: n, nEdges: m, edge: chk.edge, edges, keys });
  const g = new Graph(n, m);
  const out = new Float64Array(3);
  let lo = 0;
  for (let d = 1; d <= 3; d++) {
    let a = lo, b = nt;
    while (a < b) {
      const mid = (a + b) >>> 1;
      buildAdjacency(g, edges, keys, thresholds[mid]!);
      const dim = search(g, null);
      if (dim < 0) throw new PercolationStatusError(dim, { nSites: n, nEdges: m });
      if (dim >= d) b = mid;
      else a = mid + 1;
    }
    out[d - 1] = a < nt ? thresholds[a]! : Number.NaN;
    lo = a;
  }
  return out;
}
