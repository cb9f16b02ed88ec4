/**
 * Periodic neighbour search — the plain-TypeScript twin of `assembly/neighbors.ts`.
 *
 * Same algorithm, same floating-point operation order, so the two agree bit for bit in practice
 * (tests require 1e-12 relative). Used for differential tests, honest benchmarks and as the
 * fallback where WebAssembly is not wanted.
 *
 * Conventions: cell = 9 f64, rows are lattice vectors (Å); positions Cartesian, xyz interleaved.
 * A pair (i, j, S) is reported when d = |r[j] - r[i] + S·cell| <= cutoff, excluding only i == j at
 * S = 0. See assembly/neighbors.ts for the cell-list stencil.
 */

export interface NeighborArrays {
  /** Number of directed pairs. */
  count: number;
  i: Int32Array;
  j: Int32Array;
  /** Image shifts, 3 per pair. */
  S: Int32Array;
  /** Distances, Å (present unless `distances: false`). */
  d: Float64Array | null;
  /** Pair vectors D = r[j] - r[i] + S·cell, 3 per pair (only with `vectors: true`). */
  D: Float64Array | null;
}

export interface NeighborKernelOptions {
  /** Compute distances (default true). */
  distances?: boolean;
  /** Compute pair vectors (default false). */
  vectors?: boolean;
}

/** Status codes shared with the WASM kernel. */
export const NEIGHBOR_STATUS = {
  BAD_CUTOFF: -1,
  SINGULAR_CELL: -2,
  NONFINITE_POSITION: -3,
  TOO_MANY_IMAGES: -4,
} as const;

/** Largest number of image cells searched per axis (|shift| bound); beyond it the input is refused. */
export const MAX_RANGE_PER_AXIS = 64;

interface Grid {
  inv: Float64Array;
  nb: [number, number, number];
  range: [number, number, number];
  wcart: Float64Array; // wrapped Cartesian positions r' = r - shift·cell, atom order
  sx: Float64Array; // the same in bin order, one array per axis
  sy: Float64Array;
  sz: Float64Array;
  img: [Int32Array, Int32Array, Int32Array]; // per axis: floor(t / nb) at t + range
  binT: [Int32Array, Int32Array, Int32Array]; // per axis: t mod nb at t + range
  shift: Int32Array; // floor of original fractional coords
  binOf: Int32Array;
  binStart: Int32Array;
  binAtoms: Int32Array;
}

function inverse(c: ArrayLike<number>): Float64Array | null {
  const det =
    c[0]! * (c[4]! * c[8]! - c[5]! * c[7]!) - c[1]! * (c[3]! * c[8]! - c[5]! * c[6]!) + c[2]! * (c[3]! * c[7]! - c[4]! * c[6]!);
  if (!(Math.abs(det) > 1e-12) || !Number.isFinite(det)) return null;
  const r = new Float64Array(9);
  r[0] = (c[4]! * c[8]! - c[5]! * c[7]!) / det;
  r[1] = (c[2]! * c[7]! - c[1]! * c[8]!) / det;
  r[2] = (c[1]! * c[5]! - c[2]! * c[4]!) / det;
  r[3] = (c[5]! * c[6]! - c[3]! * c[8]!) / det;
  r[4] = (c[0]! * c[8]! - c[2]! * c[6]!) / det;
  r[5] = (c[2]! * c[3]! - c[0]! * c[5]!) / det;
  r[6] = (c[3]! * c[7]! - c[4]! * c[6]!) / det;
  r[7] = (c[1]! * c[6]! - c[0]! * c[7]!) / det;
  r[8] = (c[0]! * c[4]! - c[1]! * c[3]!) / det;
  return r;
}

/** Bin count along an axis of height h (see chooseBins in assembly/neighbors.ts). */
function chooseBins(h: number, rc: number): number {
  const base = Math.min(Math.floor(h / rc), 1e6);
  const coarse = Math.max(1, base);
  if (base >= 3) return coarse;
  const fine = Math.floor((2 * h) / rc);
  if (fine <= coarse) return coarse;
  const coarseWidth = (2 * Math.ceil((rc * coarse) / h) + 1) / coarse;
  const fineWidth = (2 * Math.ceil((rc * fine) / h) + 1) / fine;
  return fineWidth < coarseWidth ? fine : coarse;
}

function buildGrid(cell: ArrayLike<number>, pos: ArrayLike<number>, n: number, cutoff: number): Grid | number {
  if (!(cutoff > 0) || !Number.isFinite(cutoff)) return NEIGHBOR_STATUS.BAD_CUTOFF;
  const inv = inverse(cell);
  if (!inv) return NEIGHBOR_STATUS.SINGULAR_CELL;
  // Perpendicular heights: h_k = 1 / |column k of inv| (the reciprocal vector b_k* has length 1/h_k).
  const nb: [number, number, number] = [1, 1, 1];
  const range: [number, number, number] = [1, 1, 1];
  const h = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    h[k] = 1 / Math.sqrt(inv[k]! * inv[k]! + inv[3 + k]! * inv[3 + k]! + inv[6 + k]! * inv[6 + k]!);
    nb[k] = chooseBins(h[k]!, cutoff);
  }
  // Keep the bin count near the atom count: more bins than atoms only adds empty-bin visits.
  const maxBins = Math.max(1, 2 * n);
  while (nb[0] * nb[1] * nb[2] > maxBins) {
    const k = nb[0] >= nb[1] && nb[0] >= nb[2] ? 0 : nb[1] >= nb[2] ? 1 : 2;
    nb[k] = Math.max(1, nb[k] >> 1);
  }
  for (let k = 0; k < 3; k++) {
    // A sphere of radius rc spans ±rc/h_k in fractional coordinate k, i.e. ±rc·nb/h_k bins.
    range[k] = Math.ceil((cutoff * nb[k]) / h[k]!);
    if (range[k] > MAX_RANGE_PER_AXIS * nb[k]) return NEIGHBOR_STATUS.TOO_MANY_IMAGES;
  }
  const c0 = cell[0]!, c1 = cell[1]!, c2 = cell[2]!, c3 = cell[3]!, c4 = cell[4]!, c5 = cell[5]!, c6 = cell[6]!, c7 = cell[7]!, c8 = cell[8]!;
  const wcart = new Float64Array(3 * n);
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  const sz = new Float64Array(n);
  const shift = new Int32Array(3 * n);
  const binOf = new Int32Array(n);
  const nbins = nb[0] * nb[1] * nb[2];
  const binStart = new Int32Array(nbins + 1);
  for (let a = 0; a < n; a++) {
    const x = pos[3 * a]!, y = pos[3 * a + 1]!, z = pos[3 * a + 2]!;
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) return NEIGHBOR_STATUS.NONFINITE_POSITION;
    let bin = 0;
    for (let k = 0; k < 3; k++) {
      const f = x * inv[k]! + y * inv[3 + k]! + z * inv[6 + k]!;
      const fl = Math.floor(f);
      let w = f - fl;
      let s = fl;
      if (w >= 1) {
        w -= 1;
        s += 1;
      }
      shift[3 * a + k] = s;
      let b = Math.floor(w * nb[k]);
      if (b >= nb[k]) b = nb[k] - 1;
      bin = bin * nb[k] + b;
    }
    const s0 = shift[3 * a]!, s1 = shift[3 * a + 1]!, s2 = shift[3 * a + 2]!;
    wcart[3 * a] = x - (s0 * c0 + s1 * c3 + s2 * c6);
    wcart[3 * a + 1] = y - (s0 * c1 + s1 * c4 + s2 * c7);
    wcart[3 * a + 2] = z - (s0 * c2 + s1 * c5 + s2 * c8);
    binOf[a] = bin;
    binStart[bin + 1]!++;
  }
  for (let b = 0; b < nbins; b++) binStart[b + 1]! += binStart[b]!;
  const fill = binStart.slice(0, nbins);
  const binAtoms = new Int32Array(n);
  for (let a = 0; a < n; a++) {
    const slot = fill[binOf[a]!]!++;
    binAtoms[slot] = a;
    sx[slot] = wcart[3 * a]!;
    sy[slot] = wcart[3 * a + 1]!;
    sz[slot] = wcart[3 * a + 2]!;
  }
  const img: [Int32Array, Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0), new Int32Array(0)];
  const binT: [Int32Array, Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0), new Int32Array(0)];
  for (let k = 0; k < 3; k++) {
    const len = nb[k] + 2 * range[k];
    img[k] = new Int32Array(len);
    binT[k] = new Int32Array(len);
    for (let q = 0; q < len; q++) {
      const t = q - range[k];
      const w = Math.floor(t / nb[k]);
      img[k][q] = w;
      binT[k][q] = t - w * nb[k];
    }
  }
  return { inv, nb, range, wcart, sx, sy, sz, img, binT, shift, binOf, binStart, binAtoms };
}

/**
 * Run the search. Writes up to `capacity` pairs into the given arrays and returns the total number
 * of pairs found (which may exceed capacity: grow and call again), or a negative status code.
 */
export function neighborSearchInto(
  cell: ArrayLike<number>,
  pos: ArrayLike<number>,
  n: number,
  cutoff: number,
  out: { i: Int32Array; j: Int32Array; S: Int32Array; d: Float64Array | null; D: Float64Array | null },
  capacity: number,
): number {
  const g = buildGrid(cell, pos, n, cutoff);
  if (typeof g === 'number') return g;
  const { nb, range, wcart, sx, sy, sz, img, binT, shift, binOf, binStart, binAtoms } = g;
  const c0 = cell[0]!, c1 = cell[1]!, c2 = cell[2]!, c3 = cell[3]!, c4 = cell[4]!, c5 = cell[5]!, c6 = cell[6]!, c7 = cell[7]!, c8 = cell[8]!;
  const rc2 = cutoff * cutoff;
  // d = sqrt(r2) is what callers see, so a pair whose rounded d equals the cutoff must be kept even
  // when r2 is an ulp above fl(cutoff²): re-check with sqrt only inside that sliver.
  const rc2Hi = rc2 * (1 + 1e-12);
  const nb1 = nb[1], nb2 = nb[2];
  const rg0 = range[0], rg1 = range[1], rg2 = range[2];
  const [img0, img1, img2] = img;
  const [bin0t, bin1t, bin2t] = binT;
  const cand = new Int32Array(Math.max(1, n));
  let count = 0;
  for (let a = 0; a < n; a++) {
    const bin = binOf[a]!;
    const b2 = bin % nb2;
    const b1 = ((bin - b2) / nb2) % nb1;
    const b0 = (bin - b2 - b1 * nb2) / (nb2 * nb1);
    const xa = wcart[3 * a]!, ya = wcart[3 * a + 1]!, za = wcart[3 * a + 2]!;
    const sa0 = shift[3 * a]!, sa1 = shift[3 * a + 1]!, sa2 = shift[3 * a + 2]!;
    for (let k0 = b0; k0 <= b0 + 2 * rg0; k0++) {
      const w0 = img0[k0]!;
      const q0 = bin0t[k0]!;
      for (let k1 = b1; k1 <= b1 + 2 * rg1; k1++) {
        const w1 = img1[k1]!;
        const q1 = bin1t[k1]!;
        const row = (q0 * nb1 + q1) * nb2;
        const k2end = b2 + 2 * rg2;
        for (let k2 = b2; k2 <= k2end; ) {
          const w2 = img2[k2]!;
          const qlo = bin2t[k2]!;
          const k2b = Math.min(k2end, k2 + (nb2 - 1 - qlo));
          const qhi = bin2t[k2b]!;
          k2 = k2b + 1;
          const begin = binStart[row + qlo]!;
          const end = binStart[row + qhi + 1]!;
          const ox = w0 * c0 + w1 * c3 + w2 * c6 - xa;
          const oy = w0 * c1 + w1 * c4 + w2 * c7 - ya;
          const oz = w0 * c2 + w1 * c5 + w2 * c8 - za;
          const self = w0 === 0 && w1 === 0 && w2 === 0;
          let k = 0;
          for (let p = begin; p < end; p++) {
            const dx = sx[p]! + ox;
            const dy = sy[p]! + oy;
            const dz = sz[p]! + oz;
            const r2 = dx * dx + dy * dy + dz * dz;
            cand[k] = p;
            k += r2 <= rc2Hi ? 1 : 0;
          }
          for (let m = 0; m < k; m++) {
            const p = cand[m]!;
            const dx = sx[p]! + ox;
            const dy = sy[p]! + oy;
            const dz = sz[p]! + oz;
            const r2 = dx * dx + dy * dy + dz * dz;
            if (r2 > rc2 && Math.sqrt(r2) > cutoff) continue;
            const bAtom = binAtoms[p]!;
            if (self && bAtom === a) continue;
            if (count < capacity) {
              // The wrapped image w of bAtom is the original image S = w + shift[a] - shift[b].
              out.i[count] = a;
              out.j[count] = bAtom;
              out.S[3 * count] = w0 + sa0 - shift[3 * bAtom]!;
              out.S[3 * count + 1] = w1 + sa1 - shift[3 * bAtom + 1]!;
              out.S[3 * count + 2] = w2 + sa2 - shift[3 * bAtom + 2]!;
              if (out.d) out.d[count] = Math.sqrt(r2);
              if (out.D) {
                out.D[3 * count] = dx;
                out.D[3 * count + 1] = dy;
                out.D[3 * count + 2] = dz;
              }
            }
            count++;
          }
        }
      }
    }
  }
  return count;
}

/** Rough upper estimate of the pair count, to size buffers before the first call. */
export function estimatePairs(cell: ArrayLike<number>, n: number, cutoff: number): number {
  const det =
    cell[0]! * (cell[4]! * cell[8]! - cell[5]! * cell[7]!) - cell[1]! * (cell[3]! * cell[8]! - cell[5]! * cell[6]!) + cell[2]! * (cell[3]! * cell[7]! - cell[4]! * cell[6]!);
  const vol = Math.abs(det) || 1;
  const sphere = (4 / 3) * Math.PI * cutoff * cutoff * cutoff;
  return Math.ceil(1.3 * n * n * (sphere / vol)) + 16 * n + 64;
}

/** Neighbour list with plain TypeScript (grows its buffers until everything fits). */
export function neighborSearchTs(
  cell: ArrayLike<number>,
  pos: ArrayLike<number>,
  cutoff: number,
  options: NeighborKernelOptions = {},
): NeighborArrays {
  const n = pos.length / 3;
  const wantD = options.distances !== false;
  const wantV = options.vectors === true;
  let cap = estimatePairs(cell, n, cutoff);
  for (;;) {
    const out = {
      i: new Int32Array(cap),
      j: new Int32Array(cap),
      S: new Int32Array(3 * cap),
      d: wantD ? new Float64Array(cap) : null,
      D: wantV ? new Float64Array(3 * cap) : null,
    };
    const count = neighborSearchInto(cell, pos, n, cutoff, out, cap);
    if (count < 0) throw new NeighborStatusError(count, cutoff);
    if (count <= cap) {
      return {
        count,
        i: out.i.subarray(0, count),
        j: out.j.subarray(0, count),
        S: out.S.subarray(0, 3 * count),
        d: out.d ? out.d.subarray(0, count) : null,
        D: out.D ? out.D.subarray(0, 3 * count) : null,
      };
    }
    cap = count;
  }
}

export class NeighborStatusError extends Error {
  constructor(
    readonly status: number,
    cutoff: number,
  ) {
    super(describeStatus(status, cutoff));
    this.name = 'NeighborStatusError';
  }
}

export function describeStatus(status: number, cutoff: number): string {
  switch (status) {
    case NEIGHBOR_STATUS.BAD_CUTOFF:
      return `neighbour search: cutoff must be a positive finite number of Å, got ${cutoff}`;
    case NEIGHBOR_STATUS.SINGULAR_CELL:
      return 'neighbour search: the cell is singular (zero volume)';
    case NEIGHBOR_STATUS.NONFINITE_POSITION:
      return 'neighbour search: a position is NaN or infinite';
    case NEIGHBOR_STATUS.TOO_MANY_IMAGES:
      return `neighbour search: cutoff ${cutoff} Å needs more than ${MAX_RANGE_PER_AXIS} cell images along one axis; the cell is too thin for this cutoff`;
    default:
      return `neighbour search: status ${status}`;
  }
}
