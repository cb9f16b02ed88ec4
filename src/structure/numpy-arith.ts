/**
 * Bit-exact twins of the few numpy operations whose last bits decide pymatgen's results in exact
 * high-symmetry cells (which of two equally near periodic images a pair gets): the 3-vector × 3×3
 * product `np.dot(x, M)`, the 3×3 inverse `np.linalg.inv` (OpenBLAS `dgesv` against the identity:
 * left-looking LU with partial pivoting, reciprocal pivots, triangular solves) and Python's float
 * modulo.
 *
 * The operations are those of numpy 1.24 + OpenBLAS 0.3.21 (Debian bookworm) running its SSE
 * kernels (OpenBLAS core types Prescott … Nehalem, Barcelona: no AVX, no fused multiply-add), the
 * arithmetic the DDI descriptor reference (test/fixtures/reference/descriptors) was computed with:
 * with it the reference's 21 IDPP pathways are reproduced to 1e-14 with identical iteration counts.
 * The same Python stack rounds differently where OpenBLAS picks other kernels (AVX without FMA:
 * the inverse's sums run in another order; Haswell/Zen: fused multiply-adds) and then moves some
 * of those paths by up to 3e-2 Å. Checked against numpy with `OPENBLAS_CORETYPE` = Prescott, Core2,
 * Penryn, Nehalem and Barcelona: identical bits on 2000 random products and 3021 random and
 * lattice-like inverses each.
 */

/** numpy's `np.dot(x, M)` for a 3-vector and a row-major 3×3 matrix: y_j = (x0·M0j + x1·M1j) + x2·M2j. */
export function numpyDot3(x: ArrayLike<number>, M: ArrayLike<number>, out: Float64Array | number[] = new Float64Array(3), o = 0): Float64Array | number[] {
  const x0 = x[0]!, x1 = x[1]!, x2 = x[2]!;
  for (let j = 0; j < 3; j++) out[o + j] = x0 * M[j]! + x1 * M[3 + j]! + x2 * M[6 + j]!;
  return out;
}

/** numpy's `np.linalg.inv` of a row-major 3×3 matrix; null when an exactly zero pivot occurs. */
export function numpyInv3(m: ArrayLike<number>): Float64Array | null {
  if (m.length !== 9) throw new RangeError(`numpyInv3: expected 9 numbers, got ${m.length}`);
  const a = Float64Array.from(m as ArrayLike<number>);
  const piv = [0, 1, 2];
  const at = (i: number, j: number) => a[3 * i + j]!;
  for (let j = 0; j < 3; j++) {
    // Earlier row interchanges reach column j only now (left-looking factorisation).
    for (let i = 0; i < j; i++) {
      const ip = piv[i]!;
      if (ip !== i) {
        const t = at(i, j);
        a[3 * i + j] = at(ip, j);
        a[3 * ip + j] = t;
      }
    }
    // U part of column j, then its L part: a_ij −= Σ_k l_ik·u_kj, the sum formed first.
    if (j === 2) a[3 + j] = at(1, j) - at(1, 0) * at(0, j);
    for (let i = j; i < 3 && j > 0; i++) a[3 * i + j] = at(i, j) - (j === 1 ? at(i, 0) * at(0, j) : at(i, 0) * at(0, j) + at(i, 1) * at(1, j));
    let jp = j;
    for (let i = j + 1; i < 3; i++) if (Math.abs(at(i, j)) > Math.abs(at(jp, j))) jp = i;
    piv[j] = jp;
    if (at(jp, j) === 0) return null;
    if (jp !== j) {
      for (let k = 0; k <= j; k++) {
        const t = at(j, k);
        a[3 * j + k] = at(jp, k);
        a[3 * jp + k] = t;
      }
    }
    const r = 1 / at(j, j);
    for (let i = j + 1; i < 3; i++) a[3 * i + j] = at(i, j) * r;
  }
  const B = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (let i = 0; i < 3; i++) {
    const ip = piv[i]!;
    if (ip === i) continue;
    for (let c = 0; c < 3; c++) {
      const t = B[3 * i + c]!;
      B[3 * i + c] = B[3 * ip + c]!;
      B[3 * ip + c] = t;
    }
  }
  // Unit-lower then upper triangular solve, multiplying by reciprocal pivots.
  const r0 = 1 / at(0, 0), r1 = 1 / at(1, 1), r2 = 1 / at(2, 2);
  for (let c = 0; c < 3; c++) {
    const c0 = B[c]!;
    const c1 = B[3 + c]! - at(1, 0) * c0;
    const c2 = B[6 + c]! - (at(2, 0) * c0 + at(2, 1) * c1);
    const x2 = c2 * r2;
    const x1 = (c1 - at(1, 2) * x2) * r1;
    const x0 = ((c0 - at(0, 2) * x2) - at(0, 1) * x1) * r0;
    B[c] = x0;
    B[3 + c] = x1;
    B[6 + c] = x2;
  }
  return B;
}

/** Python's (and numpy's) float `x % 1`: in [0, 1] with the sign of the divisor (−1e-17 % 1 is 1.0). */
export function pyMod1(x: number): number {
  const r = x % 1;
  return r !== 0 && r < 0 ? r + 1 : r === 0 ? 0 : r;
}
