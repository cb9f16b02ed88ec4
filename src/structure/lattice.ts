/**
 * 3×3 lattice helpers. A lattice is 9 numbers, **rows are lattice vectors** (Å):
 * `[ax, ay, az, bx, by, bz, cx, cy, cz]`. Cartesian r = f · L (row vector times matrix).
 */

export type Mat3 = Float64Array;

/** Determinant = signed cell volume (Å³). */
export function det3(m: ArrayLike<number>): number {
  return (
    m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) -
    m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) +
    m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!)
  );
}

/** Inverse of a 3×3 matrix (row-major). Throws on a singular matrix. */
export function inv3(m: ArrayLike<number>): Mat3 {
  const d = det3(m);
  if (d === 0 || !Number.isFinite(d)) throw new Error('singular 3x3 matrix');
  const r = new Float64Array(9);
  r[0] = (m[4]! * m[8]! - m[5]! * m[7]!) / d;
  r[1] = (m[2]! * m[7]! - m[1]! * m[8]!) / d;
  r[2] = (m[1]! * m[5]! - m[2]! * m[4]!) / d;
  r[3] = (m[5]! * m[6]! - m[3]! * m[8]!) / d;
  r[4] = (m[0]! * m[8]! - m[2]! * m[6]!) / d;
  r[5] = (m[2]! * m[3]! - m[0]! * m[5]!) / d;
  r[6] = (m[3]! * m[7]! - m[4]! * m[6]!) / d;
  r[7] = (m[1]! * m[6]! - m[0]! * m[7]!) / d;
  r[8] = (m[0]! * m[4]! - m[1]! * m[3]!) / d;
  return r;
}

/** Product a·b of two row-major 3×3 matrices. */
export function mul3(a: ArrayLike<number>, b: ArrayLike<number>): Mat3 {
  const r = new Float64Array(9);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) r[3 * i + j] = a[3 * i]! * b[j]! + a[3 * i + 1]! * b[3 + j]! + a[3 * i + 2]! * b[6 + j]!;
  return r;
}

/** Lattice parameters a, b, c (Å) and α, β, γ (degrees). */
export function latticeParameters(l: ArrayLike<number>): { a: number; b: number; c: number; alpha: number; beta: number; gamma: number } {
  const len = (i: number) => Math.hypot(l[3 * i]!, l[3 * i + 1]!, l[3 * i + 2]!);
  const dot = (i: number, j: number) => l[3 * i]! * l[3 * j]! + l[3 * i + 1]! * l[3 * j + 1]! + l[3 * i + 2]! * l[3 * j + 2]!;
  const a = len(0), b = len(1), c = len(2);
  const ang = (x: number) => (Math.acos(Math.max(-1, Math.min(1, x))) * 180) / Math.PI;
  return { a, b, c, alpha: ang(dot(1, 2) / (b * c)), beta: ang(dot(0, 2) / (a * c)), gamma: ang(dot(0, 1) / (a * b)) };
}

/** Lattice rows from a, b, c (Å) and α, β, γ (degrees), in pymatgen's `Lattice.from_parameters` orientation. */
export function latticeFromParameters(a: number, b: number, c: number, alphaDeg: number, betaDeg: number, gammaDeg: number): Mat3 {
  const rad = Math.PI / 180;
  const [ca, cb, cg] = [Math.cos(alphaDeg * rad), Math.cos(betaDeg * rad), Math.cos(gammaDeg * rad)];
  const [sa, sb] = [Math.sin(alphaDeg * rad), Math.sin(betaDeg * rad)];
  // pymatgen: vector_a = [a sinβ, 0, a cosβ]; vector_b = [-b sinα cosγ*, b sinα sinγ*, b cosα]; vector_c = [0, 0, c]
  let valStar = (ca * cb - cg) / (sa * sb);
  valStar = Math.max(-1, Math.min(1, valStar));
  const gammaStar = Math.acos(valStar);
  return new Float64Array([
    a * sb, 0, a * cb,
    -b * sa * Math.cos(gammaStar), b * sa * Math.sin(gammaStar), b * ca,
    0, 0, c,
  ]);
}

/**
 * Perpendicular heights of the cell (Å): distance between opposite faces, h_i = V / |a_j × a_k|.
 * A sphere of radius r fits inside the cell's images 0..n along axis i when n·h_i ≥ r.
 */
export function perpendicularHeights(l: ArrayLike<number>): [number, number, number] {
  const v = Math.abs(det3(l));
  const cross = (i: number, j: number) => {
    const x = l[3 * i + 1]! * l[3 * j + 2]! - l[3 * i + 2]! * l[3 * j + 1]!;
    const y = l[3 * i + 2]! * l[3 * j]! - l[3 * i]! * l[3 * j + 2]!;
    const z = l[3 * i]! * l[3 * j + 1]! - l[3 * i + 1]! * l[3 * j]!;
    return Math.hypot(x, y, z);
  };
  return [v / cross(1, 2), v / cross(2, 0), v / cross(0, 1)];
}

/** Cartesian coordinates (3·N) from fractional ones. */
export function fracToCart(lattice: ArrayLike<number>, frac: ArrayLike<number>): Float64Array {
  const n = frac.length / 3;
  const out = new Float64Array(frac.length);
  const l = lattice;
  for (let i = 0; i < n; i++) {
    const f0 = frac[3 * i]!, f1 = frac[3 * i + 1]!, f2 = frac[3 * i + 2]!;
    out[3 * i] = f0 * l[0]! + f1 * l[3]! + f2 * l[6]!;
    out[3 * i + 1] = f0 * l[1]! + f1 * l[4]! + f2 * l[7]!;
    out[3 * i + 2] = f0 * l[2]! + f1 * l[5]! + f2 * l[8]!;
  }
  return out;
}

/** Fractional coordinates (3·N) from Cartesian ones. */
export function cartToFrac(lattice: ArrayLike<number>, cart: ArrayLike<number>): Float64Array {
  const inv = inv3(lattice);
  return fracToCart(inv, cart);
}
