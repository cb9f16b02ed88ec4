// IDPP path relaxation (image-dependent pair potential, Smidstrup et al., J. Chem. Phys. 140,
// 214106 (2014)), step for step as pymatgen-analysis-diffusion's IDPPSolver (commit d613b5e):
// tested against its images to 1e-6 Å per atom on 162 vacancy hops after up to 1000 iterations
// (observed: < 1e-13 Å).
//
// Conventions (the kernel ABI, one for every kernel):
//   cell  = 9 f64, ROWS ARE LATTICE VECTORS (Å)
//   start, end = 3·n f64 FRACTIONAL coordinates (not wrapped; the end may lie outside the cell)
//   out   = (nInterior + 2)·3·n f64 Cartesian coordinates (Å), image-major: out[(k·n + a)·3 + c]
//   pair  (i, j), i < j, image S: D = r[j] - r[i] + S·cell; the force code uses vec = -D
//   The caller owns every buffer; nothing is allocated here. Return >= 0: iterations performed
//   (info[0] = 1 if converged); < 0: status code with info = [image, i, j, value].
//
// Method (pymatgen's IDPPSolver, operation order kept where it decides convergence):
//   1. Straight-line images in fractional coordinates, f_k = f_0 + (k/(m+1))·(f_end − f_0)
//      (Structure.interpolate, pbc=False; with FLAG_MIC the end is first moved to the image of
//      each atom nearest its start), then Cartesian r = f·cell.
//   2. Per interior image k and pair: the minimum image S of j seen from i in the STRAIGHT-LINE
//      image k, kept fixed for the whole run; target t = d0 + (k/(m+1))·(d1 − d0) from the endpoint
//      minimum-image distances; weight w = 1/((t + d_k)/2)⁴ with d_k the straight-line distance.
//   3. Iterate: objective ½Σ (d − t)²·w and true force −2Σ_j ((d − t)·w/d)·vec_ij per image; the
//      NEB tangent τ = unit(unit(r_{k+1} − r_k) + unit(r_k − r_{k−1})); total force
//      F + k_s(|r_{k+1} − r_k| − |r_k − r_{k−1}|)·τ − (F·τ)·τ; every moving atom's component moves
//      by step·F clipped to ±maxDisp; stop after the step if Σ|Δobjective| < tol and max|F| < gtol.
//   Each pair is visited once (i < j) and its contribution added to both atoms; vec is exactly
//   antisymmetric, so this equals pymatgen's full-matrix sum up to summation order (measured
//   effect on the images after 1000 iterations: < 1e-13 Å).
//
// Minimum-image tie-break. In exact high-symmetry cells a pair can sit at exactly half a lattice
// vector; its two images are then equally near and pymatgen's choice flips with the last bit of
// the input (moving the relaxed path by up to 0.16 Å after 20 steps). Here images whose squared
// distances lie within a relative 1e-10 of the shortest count as tied, and the tie goes to the
// LARGEST FRACTIONAL DISPLACEMENT f_j + S − f_i compared along a, then b, then c (i < j by site
// index). The rule depends only on the lattice basis and the displacement, not on Cartesian
// orientation or on how coordinates were wrapped, so rotating the input (lattice and Cartesian
// coordinates together) gives the same choice; rounding from a rotation is ~1e-16 relative,
// far inside the margin, while physically distinct images (e.g. the reference set's 1e-3 Å
// jitter) differ by ~1e-4 relative, far outside it.
//
// Given shifts (flags & 2): the caller decides the image of every pair in every interior image
// instead (i32 triplets S, image-major then pair i < j row by row: shifts[3·((k−1)·P + p) + c]),
// e.g. pymatgen's own tie-break reproduced from its fractional coordinates (src/kernels/idpp-ts.ts,
// pymatgenPairShifts). Each given image must be a nearest one (squared length within the relative
// 1e-10 margin of the minimum), else STATUS_SHIFT_NOT_NEAREST with info = [image, i, j, its length].
//
// Search bound: with v the displacement rounded to the nearest cell and r = |v·cell|, any image at
// most r long has |fractional component k| <= r / h_k (h_k = perpendicular cell height), so the
// search box per axis is exact for any cell shape (1-3 candidates per axis in sane cells).
//
// Guards: the closest pair over all straight-line images (endpoints included) must be at least
// minDist apart (STATUS_TOO_CLOSE names it; pymatgen returns NaN images when a straight path runs
// through an atom), and the objective and every force must stay finite (STATUS_NON_FINITE).
//
// Scratch layout (f64 blocks; size from idppScratchBytes), P = n(n−1)/2 pairs, m interior images:
//   frac  (m + 2)·3n      straight-line fractional coordinates
//   pairs 5·m·P           per pair (i < j, row by row) one record [Tx, Ty, Tz, target, weight]:
//                         translation S·cell (Å), target distance (Å), weight. Interior images
//                         1-2, 3-4, … share one block of 10·P words whose records interleave the
//                         two images field by field (80 bytes: Tx₁ Tx₂ Ty₁ Ty₂ … w₁ w₂), so one
//                         f64x2 load gives a field for both. An odd last image interleaves the
//                         pairs (i, j), (i, j + 1) of each row the same way (j = i + 1, i + 3, …;
//                         a row of odd length ends with a plain 40-byte record). One record
//                         stream instead of five arrays: the inner loop walks three pointers by
//                         constant strides (measured on the 95-atom hop: 41 → 38 ms against five
//                         arrays indexed by pair number)
//   force m·3n, funcs m, oldFuncs m, tangent 3n
//   lanes 12n             two images' coordinates and forces interleaved (x₁ x₂ y₁ y₂ z₁ z₂ per
//                         atom), or one image's as x, y, z, gx, gy, gz arrays of n
//
// f64x2 without changing a digit. WebAssembly's f64x2 add/sub/mul/div/sqrt round as the scalar
// operations and nothing fuses a multiply-add, so a lane that performs the scalar operations in the
// scalar order gives the scalar result bit for bit. Images k and k + 1 are independent computations:
// lane 0 computes image k and lane 1 image k + 1 (pairedForces). An odd last image (the only image of
// a one-image path) takes two pairs (i, j), (i, j + 1) per f64x2 for everything per pair, and adds
// the two lanes' terms to the objective and to atom i's force one after the other, in the order of
// j, as the scalar loop does (singleForces). The images, iteration counts and every digit are those of
// the scalar kernel (the conformance tests against pymatgen and the scalar TypeScript twin hold bit
// for bit). Measured on the bundled screen's pathways: see BENCHMARKS.md "IDPP modes".

import { invertCell, inverseHeight } from './lib/cell';

const STATUS_TOO_CLOSE: i32 = -1;
const STATUS_NON_FINITE: i32 = -2;
const STATUS_SINGULAR_CELL: i32 = -3;
const STATUS_SCRATCH_TOO_SMALL: i32 = -4;
const STATUS_TOO_MANY_IMAGES: i32 = -5;
const STATUS_SHIFT_NOT_NEAREST: i32 = -6;

const FLAG_MIC: i32 = 1;
const FLAG_GIVEN_SHIFTS: i32 = 2;
const TIE_RELATIVE_D2: f64 = 1e-10;
const MAX_IMAGE_RANGE: f64 = 64;

let c0: f64 = 0, c1: f64 = 0, c2: f64 = 0, c3: f64 = 0, c4: f64 = 0, c5: f64 = 0, c6: f64 = 0, c7: f64 = 0, c8: f64 = 0;
let h0: f64 = 0, h1: f64 = 0, h2: f64 = 0;
// Result of minimumImage.
let imS0: f64 = 0, imS1: f64 = 0, imS2: f64 = 0, imD2: f64 = 0;

@inline function ld(p: usize, k: i32): f64 {
  return load<f64>(p + (<usize>k << 3));
}
@inline function st(p: usize, k: i32, v: f64): void {
  store<f64>(p + (<usize>k << 3), v);
}

/** Loads the cell and its perpendicular heights; false if singular. */
function setupCell(cell: usize): bool {
  c0 = ld(cell, 0); c1 = ld(cell, 1); c2 = ld(cell, 2);
  c3 = ld(cell, 3); c4 = ld(cell, 4); c5 = ld(cell, 5);
  c6 = ld(cell, 6); c7 = ld(cell, 7); c8 = ld(cell, 8);
  if (invertCell(cell) == 0.0) return false;
  h0 = 1.0 / inverseHeight(0);
  h1 = 1.0 / inverseHeight(1);
  h2 = 1.0 / inverseHeight(2);
  return true;
}

/**
 * Minimum image of the fractional displacement e = f_j − f_i: sets imS (integer shift as f64) and
 * imD2 (squared length); false if the search box exceeds MAX_IMAGE_RANGE. See the header for
 * the bound and the tie-break.
 */
function minimumImage(e0: f64, e1: f64, e2: f64): bool {
  const r0 = Math.round(e0), r1 = Math.round(e1), r2 = Math.round(e2);
  const v0 = e0 - r0, v1 = e1 - r1, v2 = e2 - r2;
  const x0 = v0 * c0 + v1 * c3 + v2 * c6;
  const y0 = v0 * c1 + v1 * c4 + v2 * c7;
  const z0 = v0 * c2 + v1 * c5 + v2 * c8;
  const r = Math.sqrt(x0 * x0 + y0 * y0 + z0 * z0) * (1 + 1e-9) + 1e-12;
  const lo0 = Math.ceil(-r / h0 - v0), hi0 = Math.floor(r / h0 - v0);
  const lo1 = Math.ceil(-r / h1 - v1), hi1 = Math.floor(r / h1 - v1);
  const lo2 = Math.ceil(-r / h2 - v2), hi2 = Math.floor(r / h2 - v2);
  if (hi0 - lo0 > 2 * MAX_IMAGE_RANGE || hi1 - lo1 > 2 * MAX_IMAGE_RANGE || hi2 - lo2 > 2 * MAX_IMAGE_RANGE) return false;
  let best: f64 = Infinity;
  for (let m0 = lo0; m0 <= hi0; m0++)
    for (let m1 = lo1; m1 <= hi1; m1++)
      for (let m2 = lo2; m2 <= hi2; m2++) {
        const a = v0 + m0, b = v1 + m1, g = v2 + m2;
        const x = a * c0 + b * c3 + g * c6;
        const y = a * c1 + b * c4 + g * c7;
        const z = a * c2 + b * c5 + g * c8;
        const d2 = x * x + y * y + z * z;
        if (d2 < best) best = d2;
      }
  const limit = best * (1 + TIE_RELATIVE_D2);
  let found = false;
  let b0: f64 = 0, b1: f64 = 0, b2: f64 = 0, bd2: f64 = 0;
  for (let m0 = lo0; m0 <= hi0; m0++)
    for (let m1 = lo1; m1 <= hi1; m1++)
      for (let m2 = lo2; m2 <= hi2; m2++) {
        const a = v0 + m0, b = v1 + m1, g = v2 + m2;
        const x = a * c0 + b * c3 + g * c6;
        const y = a * c1 + b * c4 + g * c7;
        const z = a * c2 + b * c5 + g * c8;
        const d2 = x * x + y * y + z * z;
        if (d2 > limit) continue;
        // Candidates differ by whole cells, so the comparison below is exact.
        if (!found || m0 > b0 || (m0 == b0 && (m1 > b1 || (m1 == b1 && m2 > b2)))) {
          found = true;
          b0 = m0;
          b1 = m1;
          b2 = m2;
          bd2 = d2;
        }
      }
  imS0 = b0 - r0;
  imS1 = b1 - r1;
  imS2 = b2 - r2;
  imD2 = bd2;
  return true;
}

@inline function setInfo(info: usize, image: i32, i: i32, j: i32, v: f64): void {
  st(info, 0, <f64>image);
  st(info, 1, <f64>i);
  st(info, 2, <f64>j);
  st(info, 3, v);
}

/** Bytes of scratch a call with n sites and nInterior images needs, or -1 if over 2 GiB. */
export function idppScratchBytes(n: i32, nInterior: i32): i32 {
  const nn = <i64>n, m = <i64>nInterior;
  const pairs = (nn * (nn - 1)) / 2;
  const words = (m + 2) * 3 * nn + 5 * m * pairs + m * 3 * nn + 2 * m + 3 * nn + 12 * nn;
  const bytes = words * 8;
  return bytes > <i64>0x7fffffff ? -1 : <i32>bytes;
}

/**
 * Relaxes the straight-line path from `start` to `end` (fractional, n sites) with nInterior
 * interior images; see the header. `moving` = i32 per site (0: stays on the straight line).
 * Parameters as pymatgen's IDPPSolver.run: spring_const, step_size, max_disp (Å), maxiter, tol,
 * gtol; minDist (Å) is the straight-line guard (0 disables it); flags: 1 = minimum-image
 * interpolation, 2 = pair images given in `shifts` (see the header; ignored without the flag).
 * Writes all images' Cartesian coordinates to `out` and the end coordinates used (fractional) to
 * `endUsed`.
 */
export function idpp(
  cell: usize, start: usize, end: usize, n: i32, nInterior: i32, moving: usize,
  spring: f64, step: f64, maxDisp: f64, maxIter: i32, tol: f64, gtol: f64, minDist: f64, flags: i32,
  scratch: usize, scratchBytes: i32, out: usize, endUsed: usize, info: usize, shifts: usize,
): i32 {
  if (!setupCell(cell)) return STATUS_SINGULAR_CELL;
  const need = idppScratchBytes(n, nInterior);
  if (need < 0 || need > scratchBytes) return STATUS_SCRATCH_TOO_SMALL;
  const nImg = nInterior + 2;
  const n3 = 3 * n;
  const P = <i32>((<i64>n * <i64>(n - 1)) / 2);
  const frac = scratch;
  const pairs = frac + (<usize>(nImg * n3) << 3);
  const force = pairs + (<usize>(5 * nInterior * P) << 3);
  const funcs = force + (<usize>(nInterior * n3) << 3);
  const oldFuncs = funcs + (<usize>nInterior << 3);
  const tangent = oldFuncs + (<usize>nInterior << 3);
  const lanesX = tangent + (<usize>n3 << 3);
  const lanesG = lanesX + (<usize>(2 * n3) << 3);

  for (let a: i32 = 0; a < n; a++) {
    for (let c: i32 = 0; c < 3; c++) st(endUsed, 3 * a + c, ld(end, 3 * a + c));
    if ((flags & FLAG_MIC) != 0) {
      const e0 = ld(end, 3 * a) - ld(start, 3 * a);
      const e1 = ld(end, 3 * a + 1) - ld(start, 3 * a + 1);
      const e2 = ld(end, 3 * a + 2) - ld(start, 3 * a + 2);
      if (!minimumImage(e0, e1, e2)) {
        setInfo(info, nImg - 1, a, a, 0);
        return STATUS_TOO_MANY_IMAGES;
      }
      st(endUsed, 3 * a, ld(start, 3 * a) + (e0 + imS0));
      st(endUsed, 3 * a + 1, ld(start, 3 * a + 1) + (e1 + imS1));
      st(endUsed, 3 * a + 2, ld(start, 3 * a + 2) + (e2 + imS2));
    }
  }
  for (let k: i32 = 0; k < nImg; k++) {
    const x = <f64>k / <f64>(nImg - 1);
    const base = k * n3;
    for (let q: i32 = 0; q < n3; q++) {
      const s = ld(start, q);
      const f = k == 0 ? s : k == nImg - 1 ? ld(endUsed, q) : s + x * (ld(endUsed, q) - s);
      st(frac, base + q, f);
    }
    for (let a: i32 = 0; a < n; a++) {
      const p = base + 3 * a;
      const f0 = ld(frac, p), f1 = ld(frac, p + 1), f2 = ld(frac, p + 2);
      st(out, p, f0 * c0 + f1 * c3 + f2 * c6);
      st(out, p + 1, f0 * c1 + f1 * c4 + f2 * c7);
      st(out, p + 2, f0 * c2 + f1 * c5 + f2 * c8);
    }
  }

  let closest: f64 = Infinity;
  let cImg: i32 = -1, cI: i32 = -1, cJ: i32 = -1;
  const endBase = (nImg - 1) * n3;
  let p: i32 = 0;
  for (let i: i32 = 0; i < n; i++) {
    for (let j: i32 = i + 1; j < n; j++, p++) {
      if (!minimumImage(ld(frac, 3 * j) - ld(frac, 3 * i), ld(frac, 3 * j + 1) - ld(frac, 3 * i + 1), ld(frac, 3 * j + 2) - ld(frac, 3 * i + 2))) {
        setInfo(info, 0, i, j, 0);
        return STATUS_TOO_MANY_IMAGES;
      }
      const d0 = Math.sqrt(imD2);
      if (d0 < closest) { closest = d0; cImg = 0; cI = i; cJ = j; }
      if (!minimumImage(
        ld(frac, endBase + 3 * j) - ld(frac, endBase + 3 * i),
        ld(frac, endBase + 3 * j + 1) - ld(frac, endBase + 3 * i + 1),
        ld(frac, endBase + 3 * j + 2) - ld(frac, endBase + 3 * i + 2),
      )) {
        setInfo(info, nImg - 1, i, j, 0);
        return STATUS_TOO_MANY_IMAGES;
      }
      const d1 = Math.sqrt(imD2);
      if (d1 < closest) { closest = d1; cImg = nImg - 1; cI = i; cJ = j; }
      for (let k: i32 = 1; k <= nInterior; k++) {
        const b = k * n3;
        if (!minimumImage(ld(frac, b + 3 * j) - ld(frac, b + 3 * i), ld(frac, b + 3 * j + 1) - ld(frac, b + 3 * i + 1), ld(frac, b + 3 * j + 2) - ld(frac, b + 3 * i + 2))) {
          setInfo(info, k, i, j, 0);
          return STATUS_TOO_MANY_IMAGES;
        }
        if ((flags & FLAG_GIVEN_SHIFTS) != 0) {
          const sp = shifts + (<usize>(3 * ((k - 1) * P + p)) << 2);
          const g0 = <f64>load<i32>(sp), g1 = <f64>load<i32>(sp, 4), g2 = <f64>load<i32>(sp, 8);
          const a = ld(frac, b + 3 * j) - ld(frac, b + 3 * i) + g0;
          const bb = ld(frac, b + 3 * j + 1) - ld(frac, b + 3 * i + 1) + g1;
          const g = ld(frac, b + 3 * j + 2) - ld(frac, b + 3 * i + 2) + g2;
          const x = a * c0 + bb * c3 + g * c6;
          const y = a * c1 + bb * c4 + g * c7;
          const z = a * c2 + bb * c5 + g * c8;
          const d2 = x * x + y * y + z * z;
          if (!(d2 <= imD2 * (1 + TIE_RELATIVE_D2))) {
            setInfo(info, k, i, j, Math.sqrt(d2));
            return STATUS_SHIFT_NOT_NEAREST;
          }
          imS0 = g0;
          imS1 = g1;
          imS2 = g2;
        }
        const rec = pairRecord(pairs, k, nInterior, P, n, i, j, p);
        const fs = recFs;
        store<f64>(rec, imS0 * c0 + imS1 * c3 + imS2 * c6);
        store<f64>(rec + fs, imS0 * c1 + imS1 * c4 + imS2 * c7);
        store<f64>(rec + 2 * fs, imS0 * c2 + imS1 * c5 + imS2 * c8);
        const dk = Math.sqrt(imD2);
        if (dk < closest) { closest = dk; cImg = k; cI = i; cJ = j; }
        const t = d0 + (<f64>k / <f64>(nInterior + 1)) * (d1 - d0);
        const avg = (t + dk) / 2.0;
        store<f64>(rec + 3 * fs, t);
        store<f64>(rec + 4 * fs, 1.0 / (avg * avg * (avg * avg)));
      }
    }
  }
  if (closest < minDist) {
    setInfo(info, cImg, cI, cJ, closest);
    return STATUS_TOO_CLOSE;
  }

  memory.fill(oldFuncs, 0, <usize>nInterior << 3);
  let iterations: i32 = 0;
  let converged = false;
  for (let it: i32 = 0; it < maxIter; it++) {
    for (let k: i32 = 1; k <= nInterior; k++) {
      const rec = recordOf(pairs, k, nInterior, P);
      if (k < nInterior) {
        // Images k and k + 1 in the two lanes; checked in order, as the scalar loop would stop.
        pairedForces(out + (<usize>(k * n3) << 3), force + (<usize>((k - 1) * n3) << 3), rec, n, lanesX, lanesG, funcs + (<usize>(k - 1) << 3));
        for (let q: i32 = 0; q < 2; q++) {
          const func = ld(funcs, k - 1 + q);
          if (!isFinite(func)) return nonFinitePair(out + (<usize>((k + q) * n3) << 3), pairs, n, k + q, -1, func, info, nInterior, P);
        }
        k++;
        continue;
      }
      const func = singleForces(out + (<usize>(k * n3) << 3), force + (<usize>((k - 1) * n3) << 3), rec, n, lanesX, lanesG);
      if (!isFinite(func)) return nonFinitePair(out + (<usize>(k * n3) << 3), pairs, n, k, -1, func, info, nInterior, P);
      st(funcs, k - 1, func);
    }
    for (let k: i32 = 1; k <= nInterior; k++) {
      const g = force + (<usize>((k - 1) * n3) << 3);
      const check = projectForces(out + (<usize>((k - 1) * n3) << 3), g, tangent, n3, spring);
      // Checked before any image moves, so the offending pair can still be found.
      if (!isFinite(check)) {
        let q: i32 = 0;
        while (q < n3 - 1 && isFinite(ld(g, q))) q++;
        return nonFinitePair(out + (<usize>(k * n3) << 3), pairs, n, k, q / 3, ld(g, q), info, nInterior, P);
      }
    }
    let maxForce: f64 = 0;
    for (let k: i32 = 1; k <= nInterior; k++) {
      const g = force + (<usize>((k - 1) * n3) << 3);
      const x = out + (<usize>(k * n3) << 3);
      for (let a: i32 = 0; a < n; a++) {
        if (load<i32>(moving + (<usize>a << 2)) == 0) continue;
        for (let c: i32 = 0; c < 3; c++) {
          const f = ld(g, 3 * a + c);
          let disp = step * f;
          if (Math.abs(disp) > maxDisp) disp = disp > 0 ? maxDisp : -maxDisp;
          st(x, 3 * a + c, ld(x, 3 * a + c) + disp);
          const af = Math.abs(f);
          if (af > maxForce) maxForce = af;
        }
      }
    }
    iterations = it + 1;
    let totRes: f64 = 0;
    for (let k: i32 = 0; k < nInterior; k++) totRes += Math.abs(ld(oldFuncs, k) - ld(funcs, k));
    if (totRes < tol && maxForce < gtol) {
      converged = true;
      break;
    }
    memory.copy(oldFuncs, funcs, <usize>nInterior << 3);
  }
  setInfo(info, converged ? 1 : 0, 0, 0, 0);
  return iterations;
}

/**
 * Address of image k's first pair record (see the scratch layout): images 2q+1 and 2q+2 (q ≥ 0)
 * share the block at image 2q+1's offset, lane 0 and lane 1 of each interleaved record; an odd
 * last image has plain records.
 */
@inline function recordOf(pairs: usize, k: i32, nInterior: i32, P: i32): usize {
  const first = ((k - 1) & ~1) + 1;
  const block = pairs + (<usize>(5 * (first - 1) * P) << 3);
  return first < nInterior ? block + (<usize>(k - first) << 3) : block;
}
// Field step (bytes from Tx to Ty, …) of the record pairRecord returned last: 16 interleaved, 8 plain.
let recFs: usize = 8;

/** Address of the record of pair (i, j), pair number p, of image k; sets recFs (see the layout). */
function pairRecord(pairs: usize, k: i32, nInterior: i32, P: i32, n: i32, i: i32, j: i32, p: i32): usize {
  const base = recordOf(pairs, k, nInterior, P);
  if (((k - 1) & ~1) + 1 < nInterior) {
    recFs = 16;
    return base + (<usize>p) * 80;
  }
  // Odd last image: row i starts at pair p − (j − i − 1); its entries go two by two.
  const q = j - i - 1, len = n - 1 - i;
  const row = base + (<usize>(p - q)) * 40 + (<usize>(q >> 1)) * 80;
  if ((q >> 1) < (len >> 1)) {
    recFs = 16;
    return row + (<usize>(q & 1) << 3);
  }
  recFs = 8;
  return row;
}

/**
 * True forces and objectives of images k (lane 0, coordinates at x, forces into g) and k + 1 (lane 1,
 * at x + 3n and g + 3n), records interleaved from rec; objectives to funcs[0], funcs[1]. Per lane the
 * operations and their order are those of the scalar loop (trueForces in src/kernels/idpp-ts.ts). xs,
 * gs: 6n words of lane scratch.
 */
function pairedForces(x: usize, g: usize, rec: usize, n: i32, xs: usize, gs: usize, funcs: usize): void {
  const n3 = 3 * n;
  const x2 = x + (<usize>n3 << 3), g2 = g + (<usize>n3 << 3);
  for (let q: i32 = 0; q < n3; q++) {
    st(xs, 2 * q, ld(x, q));
    st(xs, 2 * q + 1, ld(x2, q));
  }
  memory.fill(gs, 0, <usize>(6 * n) << 3);
  let func = f64x2.splat(0);
  let r = rec;
  const gEnd = gs + (<usize>(6 * n) << 3);
  for (let i: i32 = 0; i < n; i++) {
    const xp = xs + (<usize>(6 * i) << 3);
    const xi = v128.load(xp), yi = v128.load(xp, 16), zi = v128.load(xp, 32);
    let gx = f64x2.splat(0), gy = f64x2.splat(0), gz = f64x2.splat(0);
    let xj = xp + 48;
    let gj = gs + (<usize>(6 * i + 6) << 3);
    for (; gj < gEnd; gj += 48, xj += 48, r += 80) {
      const dx = f64x2.sub(f64x2.sub(xi, v128.load(xj)), v128.load(r));
      const dy = f64x2.sub(f64x2.sub(yi, v128.load(xj, 16)), v128.load(r, 16));
      const dz = f64x2.sub(f64x2.sub(zi, v128.load(xj, 32)), v128.load(r, 32));
      const d = f64x2.sqrt(f64x2.add(f64x2.add(f64x2.mul(dx, dx), f64x2.mul(dy, dy)), f64x2.mul(dz, dz)));
      const diff = f64x2.sub(d, v128.load(r, 48));
      const wd = f64x2.mul(diff, v128.load(r, 64));
      func = f64x2.add(func, f64x2.mul(diff, wd));
      const aux = f64x2.div(wd, d);
      const ax = f64x2.mul(aux, dx), ay = f64x2.mul(aux, dy), az = f64x2.mul(aux, dz);
      gx = f64x2.add(gx, ax);
      gy = f64x2.add(gy, ay);
      gz = f64x2.add(gz, az);
      v128.store(gj, f64x2.sub(v128.load(gj), ax));
      v128.store(gj, f64x2.sub(v128.load(gj, 16), ay), 16);
      v128.store(gj, f64x2.sub(v128.load(gj, 32), az), 32);
    }
    const gi = gs + (<usize>(6 * i) << 3);
    v128.store(gi, f64x2.add(v128.load(gi), gx));
    v128.store(gi, f64x2.add(v128.load(gi, 16), gy), 16);
    v128.store(gi, f64x2.add(v128.load(gi, 32), gz), 32);
  }
  const m2 = f64x2.splat(-2);
  for (let q: i32 = 0; q < n3; q++) {
    const v = f64x2.mul(m2, v128.load(gs + (<usize>(2 * q) << 3)));
    st(g, q, f64x2.extract_lane(v, 0));
    st(g2, q, f64x2.extract_lane(v, 1));
  }
  st(funcs, 0, f64x2.extract_lane(func, 0));
  st(funcs, 1, f64x2.extract_lane(func, 1));
}

/**
 * True forces of the odd last image into g (3n) and its objective Σ_{i<j} (d − t)²·w (= pymatgen's
 * ½ Σ_ij over the full matrix), records from rec in the row-pair layout; returns the objective. Per
 * pair the operations of the scalar loop; the objective and atom i's force add the terms of (i, j)
 * then (i, j + 1), as the scalar loop does. xs, gs: 3n words each of lane scratch.
 */
function singleForces(x: usize, g: usize, rec: usize, n: i32, xs: usize, gs: usize): f64 {
  const nb = <usize>n << 3;
  const X = xs, Y = xs + nb, Z = xs + 2 * nb;
  const GX = gs, GY = gs + nb, GZ = gs + 2 * nb;
  for (let a: i32 = 0; a < n; a++) {
    const o = <usize>a << 3;
    store<f64>(X + o, ld(x, 3 * a));
    store<f64>(Y + o, ld(x, 3 * a + 1));
    store<f64>(Z + o, ld(x, 3 * a + 2));
  }
  memory.fill(gs, 0, 3 * nb);
  let func: f64 = 0;
  let r = rec;
  for (let i: i32 = 0; i < n; i++) {
    const oi = <usize>i << 3;
    const xi = load<f64>(X + oi), yi = load<f64>(Y + oi), zi = load<f64>(Z + oi);
    const xi2 = f64x2.splat(xi), yi2 = f64x2.splat(yi), zi2 = f64x2.splat(zi);
    let gx: f64 = 0, gy: f64 = 0, gz: f64 = 0;
    let j = i + 1;
    for (; j + 1 < n; j += 2, r += 80) {
      const oj = <usize>j << 3;
      const dx = f64x2.sub(f64x2.sub(xi2, v128.load(X + oj)), v128.load(r));
      const dy = f64x2.sub(f64x2.sub(yi2, v128.load(Y + oj)), v128.load(r, 16));
      const dz = f64x2.sub(f64x2.sub(zi2, v128.load(Z + oj)), v128.load(r, 32));
      const d = f64x2.sqrt(f64x2.add(f64x2.add(f64x2.mul(dx, dx), f64x2.mul(dy, dy)), f64x2.mul(dz, dz)));
      const diff = f64x2.sub(d, v128.load(r, 48));
      const wd = f64x2.mul(diff, v128.load(r, 64));
      const fw = f64x2.mul(diff, wd);
      func += f64x2.extract_lane(fw, 0);
      func += f64x2.extract_lane(fw, 1);
      const aux = f64x2.div(wd, d);
      const ax = f64x2.mul(aux, dx), ay = f64x2.mul(aux, dy), az = f64x2.mul(aux, dz);
      gx += f64x2.extract_lane(ax, 0);
      gx += f64x2.extract_lane(ax, 1);
      gy += f64x2.extract_lane(ay, 0);
      gy += f64x2.extract_lane(ay, 1);
      gz += f64x2.extract_lane(az, 0);
      gz += f64x2.extract_lane(az, 1);
      v128.store(GX + oj, f64x2.sub(v128.load(GX + oj), ax));
      v128.store(GY + oj, f64x2.sub(v128.load(GY + oj), ay));
      v128.store(GZ + oj, f64x2.sub(v128.load(GZ + oj), az));
    }
    if (j < n) {
      // A row of odd length ends with one plain record.
      const oj = <usize>j << 3;
      const dx = (xi - load<f64>(X + oj)) - load<f64>(r);
      const dy = (yi - load<f64>(Y + oj)) - load<f64>(r, 8);
      const dz = (zi - load<f64>(Z + oj)) - load<f64>(r, 16);
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const diff = d - load<f64>(r, 24);
      const wd = diff * load<f64>(r, 32);
      func += diff * wd;
      const aux = wd / d;
      gx += aux * dx;
      gy += aux * dy;
      gz += aux * dz;
      store<f64>(GX + oj, load<f64>(GX + oj) - aux * dx);
      store<f64>(GY + oj, load<f64>(GY + oj) - aux * dy);
      store<f64>(GZ + oj, load<f64>(GZ + oj) - aux * dz);
      r += 40;
    }
    store<f64>(GX + oi, load<f64>(GX + oi) + gx);
    store<f64>(GY + oi, load<f64>(GY + oi) + gy);
    store<f64>(GZ + oi, load<f64>(GZ + oi) + gz);
  }
  for (let a: i32 = 0; a < n; a++) {
    const o = <usize>a << 3;
    st(g, 3 * a, -2 * load<f64>(GX + o));
    st(g, 3 * a + 1, -2 * load<f64>(GY + o));
    st(g, 3 * a + 2, -2 * load<f64>(GZ + o));
  }
  return func;
}

/**
 * NEB projection for the image whose predecessor starts at `prev` (then cur = prev + n3, next =
 * cur + n3): g += k_s(|v1| − |v2|)·τ − (g·τ)·τ with v1 = next − cur, v2 = cur − prev. Returns
 * Σ g·0: 0, or NaN iff some component is not finite.
 */
function projectForces(prev: usize, g: usize, tan: usize, n3: i32, spring: f64): f64 {
  const cur = prev + (<usize>n3 << 3), next = cur + (<usize>n3 << 3);
  let s1: f64 = 0, s2: f64 = 0;
  for (let q: i32 = 0; q < n3; q++) {
    const v1 = ld(next, q) - ld(cur, q);
    const v2 = ld(cur, q) - ld(prev, q);
    s1 += v1 * v1;
    s2 += v2 * v2;
  }
  const n1 = Math.sqrt(s1), n2 = Math.sqrt(s2);
  // The tangent is stored once (pymatgen's unit(unit(v1) + unit(v2)), same divisions) instead of
  // being recomputed in each pass: the passes were 7 divisions per component, now 3 (measured:
  // the 11-atom CaF2 hop went from 4.1 to 3.3 ms). Measured alternative: multiplying by the
  // reciprocals of the norms saved another ~5 % there, but rounds the tangent differently from
  // pymatgen's division; not taken. Fusing the passes (all dot products in one pass, |τ_raw|² and
  // F·τ_raw assembled from them) was slower: 3.1 → 3.7 ms.
  let stt: f64 = 0;
  for (let q: i32 = 0; q < n3; q++) {
    const tr = (ld(next, q) - ld(cur, q)) / n1 + (ld(cur, q) - ld(prev, q)) / n2;
    st(tan, q, tr);
    stt += tr * tr;
  }
  const nt = Math.sqrt(stt);
  let fdot: f64 = 0;
  for (let q: i32 = 0; q < n3; q++) {
    const t = ld(tan, q) / nt;
    st(tan, q, t);
    fdot += ld(g, q) * t;
  }
  const sp = spring * (n1 - n2);
  let check: f64 = 0;
  for (let q: i32 = 0; q < n3; q++) {
    const t = ld(tan, q);
    const f = ld(g, q) + (sp * t - fdot * t);
    st(g, q, f);
    // f·0 is 0 for every finite f and NaN otherwise (a sum of |f| could overflow on finite forces).
    check += f * 0;
  }
  return check;
}

/**
 * Names what went non-finite in image k. With atom < 0 (the objective): the first pair at zero or
 * non-finite distance, else the pair with the largest term (d − t)²·w (an overflow). With atom >= 0
 * (a force): such a pair if there is one, else that atom and the offending `value`.
 */
function nonFinitePair(x: usize, pairs: usize, n: i32, k: i32, atom: i32, value: f64, info: usize, nInterior: i32, P: i32): i32 {
  let worst: f64 = -1, wi: i32 = -1, wj: i32 = -1, wd: f64 = 0;
  let p: i32 = 0;
  for (let i: i32 = 0; i < n; i++)
    for (let j: i32 = i + 1; j < n; j++, p++) {
      const r = pairRecord(pairs, k, nInterior, P, n, i, j, p);
      const fs = recFs;
      const dx = (ld(x, 3 * i) - ld(x, 3 * j)) - load<f64>(r);
      const dy = (ld(x, 3 * i + 1) - ld(x, 3 * j + 1)) - load<f64>(r + fs);
      const dz = (ld(x, 3 * i + 2) - ld(x, 3 * j + 2)) - load<f64>(r + 2 * fs);
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      if (!(d > 0) || !isFinite(d)) {
        setInfo(info, k, i, j, d);
        return STATUS_NON_FINITE;
      }
      const diff = d - load<f64>(r + 3 * fs);
      const term = diff * diff * load<f64>(r + 4 * fs);
      if (!(term <= worst)) {
        worst = term;
        wi = i;
        wj = j;
        wd = d;
      }
    }
  if (atom < 0 && wi >= 0) setInfo(info, k, wi, wj, wd);
  else setInfo(info, k, atom, -1, value);
  return STATUS_NON_FINITE;
}

/** First byte above the module's static data, 16-byte aligned: the caller's arena starts here. */
export function arenaBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
