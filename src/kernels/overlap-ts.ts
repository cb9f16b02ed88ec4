/**
 * Ionic-radii overlap — the plain-TypeScript twin of `assembly/overlap.ts`.
 *
 * Same algorithm and floating-point operation order as the kernel (tests require identical output).
 * Conventions: cells nImages × 9 (rows = lattice vectors, Å), positions nImages × 3·n Cartesian;
 * radius per site (NaN = none), kind per site (0 cation, 1 anion, 2 neutral); a neighbour is (j, S)
 * with d = |r[j] − r[m] + S·cell| <= cutoff, only (m, m, 0) left out; overlap = (r_m + r_j) − d.
 */

/** Status codes shared with the WASM kernel. */
export const OVERLAP_STATUS = {
  BAD_CUTOFF: -1,
  SINGULAR_CELL: -2,
  NONFINITE_POSITION: -3,
  TOO_MANY_IMAGES: -4,
  BAD_MOVING_SITE: -5,
} as const;

/** Largest image half-range per axis before the input is refused. */
export const OVERLAP_MAX_RANGE_PER_AXIS = 64;

/** Raw per-image, per-kind output (index 3·image + kind; kinds 0 cation, 1 anion, 2 neutral). */
export interface OverlapArrays {
  /** Largest overlap (Å) over neighbours of the kind that have a radius; -Infinity if none. */
  max: Float64Array;
  /** Neighbours of the kind within the cutoff (with or without a radius). */
  count: Int32Array;
  /** Lowest index of a neighbour of the kind without a radius, or -1. */
  missing: Int32Array;
}

export class OverlapStatusError extends Error {
  constructor(
    readonly status: number,
    cutoff: number,
    moving: number,
  ) {
    super(describeOverlapStatus(status, cutoff, moving));
    this.name = 'OverlapStatusError';
  }
}

export function describeOverlapStatus(status: number, cutoff: number, moving: number): string {
  switch (status) {
    case OVERLAP_STATUS.BAD_CUTOFF:
      return `radii overlap: cutoff must be a positive finite number of Å, got ${cutoff}`;
    case OVERLAP_STATUS.SINGULAR_CELL:
      return 'radii overlap: a cell is singular (zero volume)';
    case OVERLAP_STATUS.NONFINITE_POSITION:
      return 'radii overlap: a position is NaN or infinite';
    case OVERLAP_STATUS.TOO_MANY_IMAGES:
      return `radii overlap: cutoff ${cutoff} Å needs more than ${OVERLAP_MAX_RANGE_PER_AXIS} cell images along one axis; the cell is too thin for this cutoff`;
    case OVERLAP_STATUS.BAD_MOVING_SITE:
      return `radii overlap: moving site ${moving} is not a site index`;
    default:
      return `radii overlap: status ${status}`;
  }
}

/** Slack on the image range, in cell fractions (see assembly/overlap.ts). */
const RANGE_EPS = 1e-9;

/** Returns the inverse (9) and x_k = cutoff/h_k (3), or a status code. */
function setupCell(c: ArrayLike<number>, o: number, cutoff: number): { inv: number[]; x: [number, number, number] } | number {
  const c0 = c[o]!, c1 = c[o + 1]!, c2 = c[o + 2]!;
  const c3 = c[o + 3]!, c4 = c[o + 4]!, c5 = c[o + 5]!;
  const c6 = c[o + 6]!, c7 = c[o + 7]!, c8 = c[o + 8]!;
  const det = c0 * (c4 * c8 - c5 * c7) - c1 * (c3 * c8 - c5 * c6) + c2 * (c3 * c7 - c4 * c6);
  if (!(Math.abs(det) > 1e-12) || !Number.isFinite(det)) return OVERLAP_STATUS.SINGULAR_CELL;
  const inv = [
    (c4 * c8 - c5 * c7) / det, (c2 * c7 - c1 * c8) / det, (c1 * c5 - c2 * c4) / det,
    (c5 * c6 - c3 * c8) / det, (c0 * c8 - c2 * c6) / det, (c2 * c3 - c0 * c5) / det,
    (c3 * c7 - c4 * c6) / det, (c1 * c6 - c0 * c7) / det, (c0 * c4 - c1 * c3) / det,
  ];
  const x0 = cutoff * Math.sqrt(inv[0]! * inv[0]! + inv[3]! * inv[3]! + inv[6]! * inv[6]!);
  const x1 = cutoff * Math.sqrt(inv[1]! * inv[1]! + inv[4]! * inv[4]! + inv[7]! * inv[7]!);
  const x2 = cutoff * Math.sqrt(inv[2]! * inv[2]! + inv[5]! * inv[5]! + inv[8]! * inv[8]!);
  const lim = OVERLAP_MAX_RANGE_PER_AXIS;
  if (!(x0 < lim) || !(x1 < lim) || !(x2 < lim)) return OVERLAP_STATUS.TOO_MANY_IMAGES;
  return { inv, x: [x0, x1, x2] };
}

/**
 * Per image and kind: largest overlap, neighbour count, first site without a radius. Throws
 * {@link OverlapStatusError} for a bad cutoff, moving index, cell or position.
 */
export function overlapTs(
  cells: ArrayLike<number>,
  pos: ArrayLike<number>,
  n: number,
  nImages: number,
  moving: number,
  radius: ArrayLike<number>,
  kind: ArrayLike<number>,
  cutoff: number,
): OverlapArrays {
  if (!(cutoff > 0) || !Number.isFinite(cutoff)) throw new OverlapStatusError(OVERLAP_STATUS.BAD_CUTOFF, cutoff, moving);
  if (!Number.isInteger(moving) || moving < 0 || moving >= n) throw new OverlapStatusError(OVERLAP_STATUS.BAD_MOVING_SITE, cutoff, moving);
  const out: OverlapArrays = { max: new Float64Array(3 * nImages), count: new Int32Array(3 * nImages), missing: new Int32Array(3 * nImages) };
  const rc2 = cutoff * cutoff;
  const rc2Hi = rc2 * (1 + 1e-12);
  const rm = radius[moving]!;
  for (let im = 0; im < nImages; im++) {
    const cs = setupCell(cells, 9 * im, cutoff);
    if (typeof cs === 'number') throw new OverlapStatusError(cs, cutoff, moving);
    const { inv } = cs;
    const [x0, x1, x2] = cs.x;
    const o = 9 * im;
    const c0 = cells[o]!, c1 = cells[o + 1]!, c2 = cells[o + 2]!;
    const c3 = cells[o + 3]!, c4 = cells[o + 4]!, c5 = cells[o + 5]!;
    const c6 = cells[o + 6]!, c7 = cells[o + 7]!, c8 = cells[o + 8]!;
    const p = 3 * n * im;
    const xm = pos[p + 3 * moving]!, ym = pos[p + 3 * moving + 1]!, zm = pos[p + 3 * moving + 2]!;
    if (!Number.isFinite(xm) || !Number.isFinite(ym) || !Number.isFinite(zm)) throw new OverlapStatusError(OVERLAP_STATUS.NONFINITE_POSITION, cutoff, moving);
    const max = [-Infinity, -Infinity, -Infinity];
    const cnt = [0, 0, 0];
    const miss = [-1, -1, -1];
    for (let j = 0; j < n; j++) {
      const bx = pos[p + 3 * j]! - xm, by = pos[p + 3 * j + 1]! - ym, bz = pos[p + 3 * j + 2]! - zm;
      if (!Number.isFinite(bx) || !Number.isFinite(by) || !Number.isFinite(bz)) throw new OverlapStatusError(OVERLAP_STATUS.NONFINITE_POSITION, cutoff, moving);
      const d0 = bx * inv[0]! + by * inv[3]! + bz * inv[6]!;
      const d1 = bx * inv[1]! + by * inv[4]! + bz * inv[7]!;
      const d2 = bx * inv[2]! + by * inv[5]! + bz * inv[8]!;
      const lo0 = Math.ceil(-x0 - d0 - RANGE_EPS), hi0 = Math.floor(x0 - d0 + RANGE_EPS);
      const lo1 = Math.ceil(-x1 - d1 - RANGE_EPS), hi1 = Math.floor(x1 - d1 + RANGE_EPS);
      const lo2 = Math.ceil(-x2 - d2 - RANGE_EPS), hi2 = Math.floor(x2 - d2 + RANGE_EPS);
      const rj = radius[j]!;
      const rsum = rm + rj;
      let c = 0;
      let best = -Infinity;
      for (let S0 = lo0; S0 <= hi0; S0++) {
        for (let S1 = lo1; S1 <= hi1; S1++) {
          const ox = bx + (S0 * c0 + S1 * c3);
          const oy = by + (S0 * c1 + S1 * c4);
          const oz = bz + (S0 * c2 + S1 * c5);
          for (let S2 = lo2; S2 <= hi2; S2++) {
            const dx = ox + S2 * c6, dy = oy + S2 * c7, dz = oz + S2 * c8;
            const r2 = dx * dx + dy * dy + dz * dz;
            if (r2 > rc2Hi) continue;
            const d = Math.sqrt(r2);
            if (d > cutoff) continue;
            if (j === moving && S0 === 0 && S1 === 0 && S2 === 0) continue;
            c++;
            const ov = rsum - d;
            if (ov > best) best = ov;
          }
        }
      }
      if (c === 0) continue;
      const k = kind[j]! === 0 ? 0 : kind[j]! === 1 ? 1 : 2;
      cnt[k]! += c;
      if (Number.isNaN(rj)) {
        if (miss[k]! < 0) miss[k] = j;
      } else if (best > max[k]!) max[k] = best;
    }
    for (let k = 0; k < 3; k++) {
      out.max[3 * im + k] = max[k]!;
      out.count[3 * im + k] = cnt[k]!;
      out.missing[3 * im + k] = miss[k]!;
    }
  }
  return out;
}
