// The cell inverse shared by the kernels.
//
// Conventions: cell = 9 f64 at `cell`, ROWS ARE LATTICE VECTORS (Å); inv = cell⁻¹ (row-major), so
// fractional f = r · inv, and |column k of inv| = |b*_k| = 1/h_k with h_k the perpendicular height
// of the cell along axis k (the distance between the two faces spanned by the other two vectors).

export let inv0: f64 = 0, inv1: f64 = 0, inv2: f64 = 0, inv3: f64 = 0, inv4: f64 = 0, inv5: f64 = 0, inv6: f64 = 0, inv7: f64 = 0, inv8: f64 = 0;

/**
 * Inverts the cell into inv0…inv8 and returns its determinant (signed volume, Å³). Returns 0 and
 * leaves inv0…inv8 unchanged when |det| ≤ 1e-12 Å³ or det is not finite (a singular cell), so
 * callers test `det == 0`.
 */
export function invertCell(cell: usize): f64 {
  const c0 = load<f64>(cell), c1 = load<f64>(cell, 8), c2 = load<f64>(cell, 16);
  const c3 = load<f64>(cell, 24), c4 = load<f64>(cell, 32), c5 = load<f64>(cell, 40);
  const c6 = load<f64>(cell, 48), c7 = load<f64>(cell, 56), c8 = load<f64>(cell, 64);
  const det = c0 * (c4 * c8 - c5 * c7) - c1 * (c3 * c8 - c5 * c6) + c2 * (c3 * c7 - c4 * c6);
  if (!(Math.abs(det) > 1e-12) || !isFinite(det)) return 0.0;
  inv0 = (c4 * c8 - c5 * c7) / det;
  inv1 = (c2 * c7 - c1 * c8) / det;
  inv2 = (c1 * c5 - c2 * c4) / det;
  inv3 = (c5 * c6 - c3 * c8) / det;
  inv4 = (c0 * c8 - c2 * c6) / det;
  inv5 = (c2 * c3 - c0 * c5) / det;
  inv6 = (c3 * c7 - c4 * c6) / det;
  inv7 = (c1 * c6 - c0 * c7) / det;
  inv8 = (c0 * c4 - c1 * c3) / det;
  return det;
}

/** 1/h_k (Å⁻¹) along axis k = 0, 1, 2 of the cell last inverted by {@link invertCell}. */
export function inverseHeight(k: i32): f64 {
  if (k == 0) return Math.sqrt(inv0 * inv0 + inv3 * inv3 + inv6 * inv6);
  if (k == 1) return Math.sqrt(inv1 * inv1 + inv4 * inv4 + inv7 * inv7);
  return Math.sqrt(inv2 * inv2 + inv5 * inv5 + inv8 * inv8);
}
