/**
 * Seeded randomness for property tests: failures print the seed (and the transform, with
 * {@link fmt}), so a failing case can be replayed exactly.
 */
import { mul3 } from '../../src/structure/lattice.js';

/** Small deterministic PRNG (mulberry32): uniform numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Numbers with 17 significant digits (enough to reproduce a double exactly), comma-separated. */
export const fmt = (xs: ArrayLike<number>): string => Array.from(xs, (x) => x.toPrecision(17)).join(', ');

/** A rotation matrix (row-major 3×3) from a random unit quaternion. */
export function randomRotation(rand: () => number): number[] {
  let q = [rand() - 0.5, rand() - 0.5, rand() - 0.5, rand() - 0.5];
  const qn = Math.hypot(...q);
  q = q.map((x) => x / qn);
  const [w, x, y, z] = q as [number, number, number, number];
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ];
}

/** R·v for every xyz triple of `v` (rows or Cartesian coordinates). */
export function rotate(R: readonly number[], v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(v.length);
  for (let k = 0; k < v.length; k += 3)
    for (let r = 0; r < 3; r++) out[k + r] = R[3 * r]! * v[k]! + R[3 * r + 1]! * v[k + 1]! + R[3 * r + 2]! * v[k + 2]!;
  return out;
}

/** A unimodular integer matrix (det +1), row-major: a product of a few elementary shears. */
export function randomUnimodular(r: () => number): number[] {
  let m: Float64Array = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (let k = 0; k < 3; k++) {
    const i = Math.floor(r() * 3), j = (i + 1 + Math.floor(r() * 2)) % 3;
    const e = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    e[3 * i + j] = r() < 0.5 ? -1 : 1;
    m = mul3(e, m);
  }
  return Array.from(m);
}
