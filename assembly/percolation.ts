// Larsen dimensionality of a periodic graph (P. M. Larsen, M. Pandey, M. Strange, K. W. Jacobsen,
// Phys. Rev. Materials 3, 034003 (2019), Algorithm 1 — the modified breadth-first search, with the
// operation order of pymatgen's `calculate_dimensionality_of_site`).
//
// Conventions (the kernel ABI):
//   nodes  0..n-1 (sites of the unit cell); an edge e = (i, j, S) joins site i in image 0 to site j
//          in image S (S = 3 i32, lattice translations); edges are undirected: (i, j, S) also
//          joins j to i in image -S. Self-edges (i, i, S≠0) are allowed; (i, i, 0) has no effect.
//   keys   optional f64 per edge (hop length, barrier, …): only edges with key <= maxKey are used;
//          keys = 0 (null pointer) uses every edge.
//   The caller owns every buffer (pointers into this module's memory); nothing is allocated here.
//   Return value >= 0: the result; < 0: a status code (STATUS_* below); for a bad edge,
//   percolationErrorEdge() names it.
//
// Algorithm. The graph is expanded into its periodic images lazily: vertices are (site, image).
// Starting from (s, 0), a FIFO queue visits neighbours (j, image_i + S); a vertex is kept only if
// its image raises the affine rank of the images already kept for that site (so each site keeps at
// most 4 images: 1 point, then a line, a plane, a volume). The component's dimensionality is the
// rank of the start site's kept images (0 molecule, 1 chain, 2 layer, 3 bulk); the graph's is the
// maximum over components, each started from its lowest-numbered site.
//
//     site s images kept:  (0,0,0) ──► (0,0,1) ──► (1,0,0) ──► (0,1,0)
//                           rank 0      rank 1      rank 2      rank 3
//
// pymatgen also keeps a set of every vertex ever visited and skips those; that set never changes
// the outcome (a vertex that did not raise the rank once cannot raise it later, since the kept
// images only grow), so it is left out here: a skipped vertex is simply popped and rejected.
// Bound: a site is expanded at most 4 times and each expansion pushes deg(site) vertices, so the
// queue holds at most 4·(2·edges) + n entries over a whole call.
//
// Rank test with exact integer arithmetic (i64): the kept images v0..v(c-1) are affinely
// independent, so adding u raises the rank iff u - v0 is independent of v1-v0, …: c = 1: u ≠ v0;
// c = 2: (v1-v0) × (u-v0) ≠ 0; c = 3: det ≠ 0; c = 4: never. Images are refused above ±2^14
// (status IMAGE_OVERFLOW) so the products stay exact.
//
// Scratch layout (i32; bytes from percolationScratchBytes):
//   start  n+1      CSR offsets of the adjacency
//   adj    4 × 2m   neighbour j and image S of each directed adjacency entry (m = edges kept)
//   count  n        images kept per site
//   img    12 × n   up to 4 kept images per site
//   queue  4 × (8m + n)   FIFO of (site, image)
//   comp   n        sites reached by the current component's search

const STATUS_BAD_COUNT: i32 = -1;
const STATUS_BAD_SITE: i32 = -2;
const STATUS_BAD_IMAGE: i32 = -3;
const STATUS_SCRATCH_TOO_SMALL: i32 = -4;
const STATUS_IMAGE_OVERFLOW: i32 = -5;
const STATUS_BAD_KEY: i32 = -6;
const STATUS_BAD_THRESHOLDS: i32 = -7;

/** Largest |S| component accepted on input. */
const MAX_INPUT_IMAGE: i32 = 1024;
/** Largest |image| component reached by the search (keeps the i64 rank test exact). */
const MAX_IMAGE: i32 = 16384;

let errorEdge: i32 = -1;

// Scratch pointers for the current call (module globals: no allocation, no GC).
let pStart: usize = 0;
let pAdj: usize = 0;
let pCount: usize = 0;
let pImg: usize = 0;
let pQueue: usize = 0;
let pComp: usize = 0;

@inline function ldi(p: usize, k: i32): i32 {
  return load<i32>(p + (<usize>k << 2));
}
@inline function sti(p: usize, k: i32, v: i32): void {
  store<i32>(p + (<usize>k << 2), v);
}
@inline function ldf(p: usize, k: i32): f64 {
  return load<f64>(p + (<usize>k << 3));
}

/** Bytes of scratch memory a call with n sites and nEdges edges needs (or a status code < 0). */
export function percolationScratchBytes(n: i32, nEdges: i32): i32 {
  if (n < 1 || nEdges < 0) return STATUS_BAD_COUNT;
  const words: i64 = <i64>(n + 1) + 8 * <i64>nEdges + <i64>n + 12 * <i64>n + 4 * (8 * <i64>nEdges + <i64>n) + <i64>n;
  const bytes = words * 4;
  if (bytes > <i64>0x7fffffff) return STATUS_BAD_COUNT;
  return <i32>bytes;
}

/** Index of the edge that caused the last STATUS_BAD_SITE / BAD_IMAGE / BAD_KEY (-1 if none). */
export function percolationErrorEdge(): i32 {
  return errorEdge;
}

/** Checks every edge once; returns 0 or a status code (errorEdge set). */
function checkEdges(n: i32, nEdges: i32, ei: usize, ej: usize, eS: usize, keys: usize): i32 {
  for (let e = 0; e < nEdges; e++) {
    const i = ldi(ei, e), j = ldi(ej, e);
    if (i < 0 || i >= n || j < 0 || j >= n) {
      errorEdge = e;
      return STATUS_BAD_SITE;
    }
    for (let k = 0; k < 3; k++) {
      const s = ldi(eS, 3 * e + k);
      if (s > MAX_INPUT_IMAGE || s < -MAX_INPUT_IMAGE) {
        errorEdge = e;
        return STATUS_BAD_IMAGE;
      }
    }
    if (keys != 0 && isNaN(ldf(keys, e))) {
      errorEdge = e;
      return STATUS_BAD_KEY;
    }
  }
  return 0;
}

function layout(n: i32, nEdges: i32, scratch: usize): void {
  pStart = scratch;
  pAdj = pStart + (<usize>(n + 1) << 2);
  pCount = pAdj + (<usize>(8 * nEdges) << 2);
  pImg = pCount + (<usize>n << 2);
  pQueue = pImg + (<usize>(12 * n) << 2);
  pComp = pQueue + (<usize>(4 * (8 * nEdges + n)) << 2);
}

/** CSR adjacency of the edges with key <= maxKey, both directions, in edge order. */
function buildAdjacency(n: i32, nEdges: i32, ei: usize, ej: usize, eS: usize, keys: usize, maxKey: f64): void {
  memory.fill(pStart, 0, <usize>(n + 1) << 2);
  for (let e = 0; e < nEdges; e++) {
    if (keys != 0 && !(ldf(keys, e) <= maxKey)) continue;
    const i = ldi(ei, e), j = ldi(ej, e);
    sti(pStart, i + 1, ldi(pStart, i + 1) + 1);
    sti(pStart, j + 1, ldi(pStart, j + 1) + 1);
  }
  for (let i = 0; i < n; i++) sti(pStart, i + 1, ldi(pStart, i + 1) + ldi(pStart, i));
  // pCount doubles as the fill cursor here; it is cleared before the search.
  memory.copy(pCount, pStart, <usize>n << 2);
  for (let e = 0; e < nEdges; e++) {
    if (keys != 0 && !(ldf(keys, e) <= maxKey)) continue;
    const i = ldi(ei, e), j = ldi(ej, e);
    const s0 = ldi(eS, 3 * e), s1 = ldi(eS, 3 * e + 1), s2 = ldi(eS, 3 * e + 2);
    let a = ldi(pCount, i);
    sti(pCount, i, a + 1);
    sti(pAdj, 4 * a, j);
    sti(pAdj, 4 * a + 1, s0);
    sti(pAdj, 4 * a + 2, s1);
    sti(pAdj, 4 * a + 3, s2);
    a = ldi(pCount, j);
    sti(pCount, j, a + 1);
    sti(pAdj, 4 * a, i);
    sti(pAdj, 4 * a + 1, -s0);
    sti(pAdj, 4 * a + 2, -s1);
    sti(pAdj, 4 * a + 3, -s2);
  }
}

/** Would image (x, y, z) raise the affine rank of site i's kept images? */
function rankIncrease(i: i32, x: i32, y: i32, z: i32): bool {
  const c = ldi(pCount, i);
  if (c == 0) return true;
  if (c >= 4) return false;
  const b = 12 * i;
  const x0 = ldi(pImg, b), y0 = ldi(pImg, b + 1), z0 = ldi(pImg, b + 2);
  const ux = <i64>(x - x0), uy = <i64>(y - y0), uz = <i64>(z - z0);
  if (c == 1) return ux != 0 || uy != 0 || uz != 0;
  const ax = <i64>(ldi(pImg, b + 3) - x0), ay = <i64>(ldi(pImg, b + 4) - y0), az = <i64>(ldi(pImg, b + 5) - z0);
  const cx = ay * uz - az * uy, cy = az * ux - ax * uz, cz = ax * uy - ay * ux;
  if (c == 2) return cx != 0 || cy != 0 || cz != 0;
  const wx = <i64>(ldi(pImg, b + 6) - x0), wy = <i64>(ldi(pImg, b + 7) - y0), wz = <i64>(ldi(pImg, b + 8) - z0);
  // det(a, w, u) = w · (u × a) = -(w · (a × u))
  return wx * cx + wy * cy + wz * cz != 0;
}

/**
 * Dimensionality of every component; returns the maximum (0..3) or a status code. siteDim (i32 × n,
 * optional) receives the dimensionality of each site's component.
 */
function search(n: i32, siteDim: usize): i32 {
  memory.fill(pCount, 0, <usize>n << 2);
  let best: i32 = 0;
  for (let s = 0; s < n; s++) {
    if (ldi(pCount, s) != 0) continue;
    let head: i32 = 0, tail: i32 = 0, reached: i32 = 0;
    sti(pQueue, 0, s);
    sti(pQueue, 1, 0);
    sti(pQueue, 2, 0);
    sti(pQueue, 3, 0);
    tail = 1;
    while (head < tail) {
      const q = 4 * head;
      head++;
      const i = ldi(pQueue, q), x = ldi(pQueue, q + 1), y = ldi(pQueue, q + 2), z = ldi(pQueue, q + 3);
      if (!rankIncrease(i, x, y, z)) continue;
      const c = ldi(pCount, i);
      if (c == 0) {
        sti(pComp, reached, i);
        reached++;
      }
      sti(pImg, 12 * i + 3 * c, x);
      sti(pImg, 12 * i + 3 * c + 1, y);
      sti(pImg, 12 * i + 3 * c + 2, z);
      sti(pCount, i, c + 1);
      const a1 = ldi(pStart, i + 1);
      for (let a = ldi(pStart, i); a < a1; a++) {
        const j = ldi(pAdj, 4 * a);
        const nx = x + ldi(pAdj, 4 * a + 1), ny = y + ldi(pAdj, 4 * a + 2), nz = z + ldi(pAdj, 4 * a + 3);
        if (!rankIncrease(j, nx, ny, nz)) continue;
        if (nx > MAX_IMAGE || nx < -MAX_IMAGE || ny > MAX_IMAGE || ny < -MAX_IMAGE || nz > MAX_IMAGE || nz < -MAX_IMAGE) return STATUS_IMAGE_OVERFLOW;
        const t = 4 * tail;
        sti(pQueue, t, j);
        sti(pQueue, t + 1, nx);
        sti(pQueue, t + 2, ny);
        sti(pQueue, t + 3, nz);
        tail++;
      }
    }
    const dim = ldi(pCount, s) - 1;
    if (dim > best) best = dim;
    if (siteDim != 0) {
      for (let r = 0; r < reached; r++) sti(siteDim, ldi(pComp, r), dim);
    }
  }
  return best;
}

/**
 * Larsen dimensionality (0..3) of the graph made of the edges with key <= maxKey (all edges when
 * keys = 0). siteDim (i32 × n, 0 to skip) receives each site's component dimensionality.
 */
export function dimensionality(
  n: i32, nEdges: i32, ei: usize, ej: usize, eS: usize, keys: usize, maxKey: f64,
  scratch: usize, scratchBytes: i32, siteDim: usize,
): i32 {
  errorEdge = -1;
  const need = percolationScratchBytes(n, nEdges);
  if (need < 0) return need;
  if (scratchBytes < need) return STATUS_SCRATCH_TOO_SMALL;
  const st = checkEdges(n, nEdges, ei, ej, eS, keys);
  if (st < 0) return st;
  layout(n, nEdges, scratch);
  buildAdjacency(n, nEdges, ei, ej, eS, keys, maxKey);
  return search(n, siteDim);
}

/**
 * Smallest threshold at which the graph first reaches dimensionality 1, 2 and 3: out (f64 × 3)
 * receives, for d = 1, 2, 3, the first of the ascending thresholds t[0..nt-1] whose graph (edges
 * with key <= t) has dimensionality >= d, or NaN if none does. Dimensionality never decreases as
 * edges are added (components only merge and their translation lattices only grow), so each d is
 * found by bisection: O(log nt) searches. Returns 0 or a status code.
 */
export function firstPercolation(
  n: i32, nEdges: i32, ei: usize, ej: usize, eS: usize, keys: usize,
  thresholds: usize, nt: i32, scratch: usize, scratchBytes: i32, out: usize,
): i32 {
  errorEdge = -1;
  const need = percolationScratchBytes(n, nEdges);
  if (need < 0) return need;
  if (scratchBytes < need) return STATUS_SCRATCH_TOO_SMALL;
  if (keys == 0 || nt < 0) return STATUS_BAD_THRESHOLDS;
  for (let t = 0; t < nt; t++) {
    const v = ldf(thresholds, t);
    if (isNaN(v) || (t > 0 && !(v > ldf(thresholds, t - 1)))) return STATUS_BAD_THRESHOLDS;
  }
  const st = checkEdges(n, nEdges, ei, ej, eS, keys);
  if (st < 0) return st;
  layout(n, nEdges, scratch);
  let lo: i32 = 0;
  for (let d = 1; d <= 3; d++) {
    // invariant: thresholds below lo give dimensionality < d
    let a = lo, b = nt;
    while (a < b) {
      const mid = (a + b) >>> 1;
      buildAdjacency(n, nEdges, ei, ej, eS, keys, ldf(thresholds, mid));
      const dim = search(n, 0);
      if (dim < 0) return dim;
      if (dim >= d) b = mid;
      else a = mid + 1;
    }
    store<f64>(out + (<usize>(d - 1) << 3), a < nt ? ldf(thresholds, a) : NaN);
    lo = a;
  }
  return 0;
}

/** First byte above the module's static data, 16-byte aligned: the caller's arena starts here. */
export function arenaBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
