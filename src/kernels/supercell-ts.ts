/**
 * Supercell coordinates — the plain-TypeScript twin of `assembly/supercell.ts`.
 *
 * Same algorithm and floating-point operation order, so both give identical coordinates (the tests
 * require bit equality). Conventions: M is 9 integers, row-major, rows = new lattice vectors in terms
 * of the old ones (A' = M·A, pymatgen's scaling_matrix); see assembly/supercell.ts for the lattice
 * points, their order (pymatgen's) and the exact coordinate formula.
 */

/** Status codes shared with the WASM kernel. */
export const SUPERCELL_STATUS = {
  BAD_MATRIX: -1,
  NONPOSITIVE_DETERMINANT: -2,
  NONFINITE_COORDINATE: -3,
  CAPACITY: -4,
} as const;

/** Largest |entry| of a supercell matrix (keeps integer arithmetic exact and loops finite). */
export const MAX_MATRIX_ENTRY = 1000;

/** An error from the supercell kernel (or its twin), with the status code. */
export class SupercellStatusError extends Error {
  constructor(
    readonly status: number,
    matrix: ArrayLike<number>,
  ) {
    super(describeSupercellStatus(status, matrix));
    this.name = 'SupercellStatusError';
  }
}

export function describeSupercellStatus(status: number, matrix: ArrayLike<number>): string {
  const m = `[${Array.from(matrix).join(', ')}]`;
  switch (status) {
    case SUPERCELL_STATUS.BAD_MATRIX:
      return `supercell: matrix ${m} must hold integers of magnitude <= ${MAX_MATRIX_ENTRY}`;
    case SUPERCELL_STATUS.NONPOSITIVE_DETERMINANT:
      return `supercell: matrix ${m} has determinant ${det3i(matrix)}; it must be > 0 (a right-handed, non-degenerate supercell)`;
    case SUPERCELL_STATUS.NONFINITE_COORDINATE:
      return 'supercell: a fractional coordinate is NaN or infinite';
    case SUPERCELL_STATUS.CAPACITY:
      return `supercell: output buffer too small for matrix ${m}`;
    default:
      return `supercell: status ${status}`;
  }
}

function det3i(m: ArrayLike<number>): number {
  return m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
}

interface Setup {
  adj: number[];
  det: number;
}

/** Checks M (integers, |entry| <= MAX_MATRIX_ENTRY, det > 0); returns adj(M), det or a status code. */
function setup(m: ArrayLike<number>): Setup | number {
  if (m.length !== 9) return SUPERCELL_STATUS.BAD_MATRIX;
  for (let k = 0; k < 9; k++) {
    const v = m[k]!;
    if (!Number.isFinite(v) || Math.floor(v) !== v || Math.abs(v) > MAX_MATRIX_ENTRY) return SUPERCELL_STATUS.BAD_MATRIX;
  }
  // Entries <= 1000 in magnitude: every product below is an exact integer in f64.
  const adj = [
    m[4]! * m[8]! - m[5]! * m[7]!, m[2]! * m[7]! - m[1]! * m[8]!, m[1]! * m[5]! - m[2]! * m[4]!,
    m[5]! * m[6]! - m[3]! * m[8]!, m[0]! * m[8]! - m[2]! * m[6]!, m[2]! * m[3]! - m[0]! * m[5]!,
    m[3]! * m[7]! - m[4]! * m[6]!, m[1]! * m[6]! - m[0]! * m[7]!, m[0]! * m[4]! - m[1]! * m[3]!,
  ];
  const det = m[0]! * adj[0]! + m[1]! * adj[3]! + m[2]! * adj[6]!;
  if (det <= 0) return SUPERCELL_STATUS.NONPOSITIVE_DETERMINANT;
  return { adj, det };
}

/** det(M) (images per site) or a status code < 0. */
export function supercellDeterminantTs(matrix: ArrayLike<number>): number {
  const s = setup(matrix);
  return typeof s === 'number' ? s : s.det;
}

/**
 * The det(M) old-lattice points inside the supercell (3 integers each), in pymatgen's order:
 * lexicographic over the bounding box of {0,1}³·M, kept when 0 <= p·adj(M) < det(M).
 * Throws {@link SupercellStatusError} for an invalid M.
 */
export function supercellLatticePointsTs(matrix: ArrayLike<number>): Int32Array {
  const s = setup(matrix);
  if (typeof s === 'number') throw new SupercellStatusError(s, matrix);
  const { adj: a, det } = s;
  const m = matrix;
  const lo = [0, 1, 2].map((c) => Math.min(0, m[c]!) + Math.min(0, m[3 + c]!) + Math.min(0, m[6 + c]!));
  const hi = [0, 1, 2].map((c) => Math.max(0, m[c]!) + Math.max(0, m[3 + c]!) + Math.max(0, m[6 + c]!));
  const out = new Int32Array(3 * det);
  let count = 0;
  for (let p0 = lo[0]!; p0 <= hi[0]!; p0++) {
    for (let p1 = lo[1]!; p1 <= hi[1]!; p1++) {
      for (let p2 = lo[2]!; p2 <= hi[2]!; p2++) {
        const q0 = p0 * a[0]! + p1 * a[3]! + p2 * a[6]!;
        const q1 = p0 * a[1]! + p1 * a[4]! + p2 * a[7]!;
        const q2 = p0 * a[2]! + p1 * a[5]! + p2 * a[8]!;
        if (q0 < 0 || q0 >= det || q1 < 0 || q1 >= det || q2 < 0 || q2 >= det) continue;
        if (count >= det) throw new SupercellStatusError(SUPERCELL_STATUS.CAPACITY, matrix);
        out[3 * count] = p0;
        out[3 * count + 1] = p1;
        out[3 * count + 2] = p2;
        count++;
      }
    }
  }
  return out;
}

function gcd(x: number, y: number): number {
  let a = Math.abs(x), b = Math.abs(y);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

const wrap01 = (x: number) => {
  const w = x - Math.floor(x);
  return w >= 1 ? 0 : w;
};

/** True when M has no off-diagonal entries (then no lattice-point table is needed). */
export function isDiagonalMatrix(m: ArrayLike<number>): boolean {
  return m[1] === 0 && m[2] === 0 && m[3] === 0 && m[5] === 0 && m[6] === 0 && m[7] === 0;
}

/**
 * New fractional coordinates (3·n·det, wrapped into [0, 1)) of every site of `frac` (3·n, old cell)
 * at every lattice point of `points` (from {@link supercellLatticePointsTs} for the same M; computed
 * here when null and M is not diagonal): site k·det + t is old site k moved by point t. Throws
 * {@link SupercellStatusError} on bad input.
 */
export function supercellCoordinatesTs(frac: ArrayLike<number>, matrix: ArrayLike<number>, points: Int32Array | null = null): Float64Array {
  const s = setup(matrix);
  if (typeof s === 'number') throw new SupercellStatusError(s, matrix);
  const { adj: a, det } = s;
  if (points !== null && points.length !== 3 * det) throw new SupercellStatusError(SUPERCELL_STATUS.CAPACITY, matrix);
  const n = frac.length / 3;
  const g0 = gcd(gcd(det, a[0]!), gcd(a[3]!, a[6]!));
  const g1 = gcd(gcd(det, a[1]!), gcd(a[4]!, a[7]!));
  const g2 = gcd(gcd(det, a[2]!), gcd(a[5]!, a[8]!));
  const n00 = a[0]! / g0, n10 = a[3]! / g0, n20 = a[6]! / g0, d0 = det / g0;
  const n01 = a[1]! / g1, n11 = a[4]! / g1, n21 = a[7]! / g1, d1 = det / g1;
  const n02 = a[2]! / g2, n12 = a[5]! / g2, n22 = a[8]! / g2, d2 = det / g2;
  const out = new Float64Array(3 * n * det);
  let w = 0;
  const m = matrix;
  if (isDiagonalMatrix(m)) {
    // Diagonal M: the general formula's values exactly, one division per loop level.
    const na = m[0]!, nb = m[4]!, nc = m[8]!;
    for (let k = 0; k < n; k++) {
      const f0 = frac[3 * k]!, f1 = frac[3 * k + 1]!, f2 = frac[3 * k + 2]!;
      if (!Number.isFinite(f0) || !Number.isFinite(f1) || !Number.isFinite(f2)) throw new SupercellStatusError(SUPERCELL_STATUS.NONFINITE_COORDINATE, matrix);
      for (let i = 0; i < na; i++) {
        const x0 = wrap01((f0 + i) / na);
        for (let j = 0; j < nb; j++) {
          const x1 = wrap01((f1 + j) / nb);
          for (let l = 0; l < nc; l++) {
            out[3 * w] = x0;
            out[3 * w + 1] = x1;
            out[3 * w + 2] = wrap01((f2 + l) / nc);
            w++;
          }
        }
      }
    }
    return out;
  }
  const pts = points ?? supercellLatticePointsTs(matrix);
  for (let k = 0; k < n; k++) {
    const f0 = frac[3 * k]!, f1 = frac[3 * k + 1]!, f2 = frac[3 * k + 2]!;
    if (!Number.isFinite(f0) || !Number.isFinite(f1) || !Number.isFinite(f2)) throw new SupercellStatusError(SUPERCELL_STATUS.NONFINITE_COORDINATE, matrix);
    for (let t = 0; t < det; t++) {
      const y0 = f0 + pts[3 * t]!;
      const y1 = f1 + pts[3 * t + 1]!;
      const y2 = f2 + pts[3 * t + 2]!;
      out[3 * w] = wrap01((y0 * n00 + y1 * n10 + y2 * n20) / d0);
      out[3 * w + 1] = wrap01((y0 * n01 + y1 * n11 + y2 * n21) / d1);
      out[3 * w + 2] = wrap01((y0 * n02 + y1 * n12 + y2 * n22) / d2);
      w++;
    }
  }
  return out;
}
