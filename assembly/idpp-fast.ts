// Fast IDPP: the objective of pymatgen-analysis-diffusion's IDPPSolver (assembly/idpp.ts, Smidstrup
// et al., J. Chem. Phys. 140, 214106 (2014)) minimised with L-BFGS to a tight tolerance instead of
// capped steepest descent; src/kernels/idpp-fast-ts.ts is its bit-identical TypeScript twin.
// Built with WebAssembly SIMD (scripts/build-wasm.mjs): the pair loop and the vector operations of
// L-BFGS run on f64x2 lanes.
//
// Conventions (the kernel ABI, as assembly/idpp.ts):
//   cell  = 9 f64, ROWS ARE LATTICE VECTORS (Å)
//   start, end = 3·n f64 FRACTIONAL coordinates (not wrapped)
//   out   = (nInterior + 2)·3·n f64 Cartesian coordinates (Å), image-major: out[(k·n + a)·3 + c]
//   pair  (i, j), i < j, image S: vec = (x_i − x_j) − S·cell
//   Return >= 0: force evaluations (info[0] = 1 if converged); < 0: status with info = [image, i, j, value].
//
// What is the same as the exact mode: straight-line images (fractional, optional minimum-image end),
// per interior image and pair the target d0 + (k/(m+1))·(d1 − d0) and weight 1/((t + d_k)/2)⁴, each
// pair's periodic image fixed from the straight line, the objective Σ (d − t)²·w, the NEB force
// (bisector tangent, spring k_s(|v1| − |v2|) along it, true force perpendicular to it), and the
// convergence measure (Σ_images |Δ objective| < tol and largest force component < gtol).
//
// What differs, and why:
//   1. Ties. Where several periodic images of a pair lie within TIE_ANG (1e-5 Å) of the shortest
//      (pairs at half a supercell vector in exact high-symmetry cells), the exact mode keeps one,
//      chosen by the last bits of the input (pymatgen) or a basis-dependent rule; here every tied image
//      is a term with weight w/m. The objective is then the same for any cell setting, orientation,
//      origin or atom order of the same structure, and changes continuously with the coordinates
//      until a near-tie opens by 1e-5 Å.
//   2. Translations. Every image's objective is invariant under a rigid translation of that image;
//      when all sites move, the net force of each image is removed (with steepest descent or L-BFGS
//      on the raw NEB force the band drifts along these zero modes: measured, the objective kept
//      falling by ~1e-7 per step after 3000 steps and the maximum force stayed ~1e-4).
//   3. Optimiser. L-BFGS (two-loop recursion, MEMORY = 20 pairs, initial inverse Hessian s·y/y·y),
//      every atom moving at most maxStep (Å) per step, a trust radius that is quartered when a step
//      more than quadruples the norm of the NEB force (the step is then undone and the history
//      dropped) and doubled after an accepted step. The NEB force is not the gradient of a function,
//      so there is no line search. Measured on 491 pathways of the bundled set (15–191 atoms) to gtol
//      1e-5: mean 127 force evaluations (median 89); with 10 pairs and rejection at a doubled force,
//      185 (135); the exact mode takes a mean 487 steps to its gtol 1e-3. FIRE (Bitzek et al. 2006)
//      needed a median ~300; L-BFGS without the rejection diverged on 5 of 60; L-BFGS preconditioned
//      with the weighted pair Laplacian of each image (a Cholesky factor per image) needed fewer
//      evaluations at the median (91) but did not converge on 8 % of the runs.
//   A run that does not converge within maxIter (a straight line through another atom, where the
//   objective is singular) returns the accepted state with the smallest force norm, not the last.
//
// Layout. Each image is held as structure of arrays, [X(n) | Y(n) | Z(n)], padded to a stride n3p =
// 3n rounded up to a multiple of 4, so the band state of all interior images, Dp = m·n3p words, splits
// into f64x2 pairs of pairs; padding words stay zero in coordinates, forces, mask and steps. Per
// interior image the pair terms are five arrays over the pairs i < j (row by row): Tx, Ty, Tz (the
// translation S·cell, Å), target (Å), weight. Row i's pairs j = i+1 … n−1 are then contiguous in every
// array and in the coordinates, so the pair loop handles two pairs j, j+1 per f64x2 operation (per
// lane the operations of a scalar loop). The further images of tied pairs (tie terms; in the small
// supercells of the screen up to ~0.7 per pair) follow their row in the same lanes, x_j gathered.
// Measured on 497 pathways of the bundled set (one process, CPU time, load 5–12): the IDPP went from
// 24.0 ms per pathway (array-of-structures records, scalar, tie terms in a separate indexed loop,
// 10 L-BFGS pairs) to 9.8 ms: 1.45× fewer force evaluations, each ~1.7× cheaper; set-up 2.0 → 0.5 ms.
//
// Summation order (what the TS twin reproduces): per image, the objective is ((lane 0 + lane 1) of
// the paired pair terms + the odd last pair of each row, in row order) + ((lane 0 + lane 1) of the
// paired tie terms + the odd last tie term of each row, in row order); the force on site i from its
// row is (lane 0 + lane 1) of pair and tie terms, + the odd last pair, + the odd last tie term; every
// dot product over the band state is four partial sums over q mod 4 added as (s0 + s1) + (s2 + s3).
//
// Scratch layout (f64 words; size from idppFastScratchBytes), P = n(n−1)/2 pairs, Pp = P rounded up
// to even, m interior images, Dp = m·n3p, capE = extraCap rounded up to even:
//   frac (m+2)·3n | band (m+2)·n3p | terms 5·m·Pp | dEnds 2P (even) | extraStart m+1 (even) |
//   funcs m (even) | eAcc m (even) | tangent n3p | force Dp | mask Dp | xAcc Dp | fAcc Dp | step Dp |
//   xBest Dp | S M·Dp | Y M·Dp | rho M | alpha M | extra 7·extraCap [i, j, Tx, Ty, Tz, target, weight]
//   | ties 6·capE (J, Tx, Ty, Tz, target, weight as arrays) | rowStart m·(n+1)
// Extra terms beyond extraCap: STATUS_EXTRA_TERMS with info[3] = the number needed (grow and call again).

import { invertCell, inverseHeight } from './lib/cell';

const STATUS_TOO_CLOSE: i32 = -1;
const STATUS_NON_FINITE: i32 = -2;
const STATUS_SINGULAR_CELL: i32 = -3;
const STATUS_SCRATCH_TOO_SMALL: i32 = -4;
const STATUS_TOO_MANY_IMAGES: i32 = -5;
const STATUS_EXTRA_TERMS: i32 = -7;
const STATUS_PATH_TOO_CLOSE: i32 = -8;

const FLAG_MIC: i32 = 1;
const TIE_ANG: f64 = 1e-5;
const MAX_TIES: i32 = 16;
const MAX_IMAGE_RANGE: f64 = 64;
const MEMORY: i32 = 20;
const REJECT_FACTOR: f64 = 4;
const STALL_STEPS: i32 = 40;

let c0: f64 = 0, c1: f64 = 0, c2: f64 = 0, c3: f64 = 0, c4: f64 = 0, c5: f64 = 0, c6: f64 = 0, c7: f64 = 0, c8: f64 = 0;
let h0: f64 = 0, h1: f64 = 0, h2: f64 = 0;
// Result of nearImages: count, shortest squared length, shifts in TIES (3 f64 each).
let tieCount: i32 = 0, tieD2: f64 = 0;
const TIES: usize = memory.data(8 * 3 * 16, 8);

@inline function ld(p: usize, k: i32): f64 {
  return load<f64>(p + (<usize>k << 3));
}
@inline function st(p: usize, k: i32, v: f64): void {
  store<f64>(p + (<usize>k << 3), v);
}
@inline function words(p: usize, k: i32): usize {
  return p + (<usize>k << 3);
}
@inline function even(k: i32): i32 {
  return (k + 1) & ~1;
}
/** The image stride: 3n rounded up to a multiple of 4, so the band state splits into f64x2 pairs of pairs. */
@inline function stride(n: i32): i32 {
  return (3 * n + 3) & ~3;
}

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

/** Every image of e = f_j − f_i within TIE_ANG of the shortest (see the twin's nearImages). */
function nearImages(e0: f64, e1: f64, e2: f64): bool {
  const r0 = Math.round(e0), r1 = Math.round(e1), r2 = Math.round(e2);
  const v0 = e0 - r0, v1 = e1 - r1, v2 = e2 - r2;
  const x0 = v0 * c0 + v1 * c3 + v2 * c6;
  const y0 = v0 * c1 + v1 * c4 + v2 * c7;
  const z0 = v0 * c2 + v1 * c5 + v2 * c8;
  const r = (Math.sqrt(x0 * x0 + y0 * y0 + z0 * z0) + TIE_ANG) * (1 + 1e-9) + 1e-12;
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
  const lim = Math.sqrt(best) + TIE_ANG;
  const limit = lim * lim;
  let count: i32 = 0;
  for (let m0 = lo0; m0 <= hi0; m0++)
    for (let m1 = lo1; m1 <= hi1; m1++)
      for (let m2 = lo2; m2 <= hi2; m2++) {
        const a = v0 + m0, b = v1 + m1, g = v2 + m2;
        const x = a * c0 + b * c3 + g * c6;
        const y = a * c1 + b * c4 + g * c7;
        const z = a * c2 + b * c5 + g * c8;
        if (x * x + y * y + z * z > limit) continue;
        if (count == MAX_TIES) return false;
        st(TIES, 3 * count, m0 - r0);
        st(TIES, 3 * count + 1, m1 - r1);
        st(TIES, 3 * count + 2, m2 - r2);
        count++;
      }
  tieCount = count;
  tieD2 = best;
  return true;
}

@inline function setInfo(info: usize, image: i32, i: i32, j: i32, v: f64): void {
  st(info, 0, <f64>image);
  st(info, 1, <f64>i);
  st(info, 2, <f64>j);
  st(info, 3, v);
}

/** Bytes of scratch for n sites, nInterior images and room for extraCap tie terms, or -1 over 2 GiB. */
export function idppFastScratchBytes(n: i32, nInterior: i32, extraCap: i32): i32 {
  const nn = <i64>n, m = <i64>nInterior, M = <i64>MEMORY;
  const pairs = (nn * (nn - 1)) / 2;
  const pp = (pairs + 1) & ~(<i64>1);
  const n3p = (3 * nn + 3) & ~(<i64>3);
  const D = m * n3p;
  const ev = (x: i64): i64 => (x + 1) & ~(<i64>1);
  const words = (m + 2) * 3 * nn + (m + 2) * n3p + 5 * m * pp + ev(2 * pairs) + ev(m + 1) + 2 * ev(m) + n3p + 7 * D + ev(m) + 2 * M * D + 2 * M + 7 * <i64>extraCap + 6 * ev(<i64>extraCap) + m * (nn + 1);
  const bytes = words * 8;
  return bytes > <i64>0x7fffffff ? -1 : <i32>bytes;
}

/**
 * Relaxes the straight-line path from `start` to `end` (fractional, n sites, nInterior interior
 * images) to the converged NEB-IDPP band; see the header. `moving` = i32 per site. spring: k_s;
 * maxStep: largest displacement of one atom per step (Å); maxIter: force evaluations at most; tol,
 * gtol: the convergence measure; minDist: straight-line guard (Å, 0 = off); flags: 1 = minimum-image
 * interpolation. Writes all images (Cartesian) to `out` and the end used (fractional) to `endUsed`.
 */
export function idppFast(
  cell: usize, start: usize, end: usize, n: i32, nInterior: i32, moving: usize,
  spring: f64, maxStep: f64, maxIter: i32, tol: f64, gtol: f64, minDist: f64, flags: i32,
  scratch: usize, scratchBytes: i32, extraCap: i32, out: usize, endUsed: usize, info: usize,
): i32 {
  if (!setupCell(cell)) return STATUS_SINGULAR_CELL;
  const need = idppFastScratchBytes(n, nInterior, extraCap);
  if (need < 0 || need > scratchBytes) return STATUS_SCRATCH_TOO_SMALL;
  const m = nInterior;
  const nImg = m + 2;
  const n3 = 3 * n;
  const n3p = stride(n);
  const P = <i32>((<i64>n * <i64>(n - 1)) / 2);
  const Pp = even(P);
  const D = m * n3p;
  const frac = scratch;
  const band = words(frac, nImg * n3);
  const terms = words(band, nImg * n3p);
  const dEnds = words(terms, 5 * m * Pp);
  const extraStart = words(dEnds, even(2 * P));
  const funcs = words(extraStart, even(m + 1));
  const eAcc = words(funcs, even(m));
  const tangent = words(eAcc, even(m));
  const force = words(tangent, n3p);
  const mask = words(force, D);
  const xAcc = words(mask, D);
  const fAcc = words(xAcc, D);
  const stepV = words(fAcc, D);
  const xBest = words(stepV, D);
  const fBest = words(xBest, D);
  const eBest = words(fBest, D);
  const S = words(eBest, even(m));
  const Y = words(S, MEMORY * D);
  const rho = words(Y, MEMORY * D);
  const alpha = words(rho, MEMORY);
  const extra = words(alpha, MEMORY);
  const capE = even(extraCap);
  const ties = words(extra, 7 * extraCap);
  const rowStart = words(ties, 6 * capE);

  for (let a: i32 = 0; a < n; a++) {
    for (let q: i32 = 3 * a; q < 3 * a + 3; q++) st(endUsed, q, ld(end, q));
    if ((flags & FLAG_MIC) != 0) {
      const e0 = ld(end, 3 * a) - ld(start, 3 * a), e1 = ld(end, 3 * a + 1) - ld(start, 3 * a + 1), e2 = ld(end, 3 * a + 2) - ld(start, 3 * a + 2);
      if (!nearImages(e0, e1, e2)) {
        setInfo(info, nImg - 1, a, a, 0);
        return STATUS_TOO_MANY_IMAGES;
      }
      st(endUsed, 3 * a, ld(start, 3 * a) + (e0 + ld(TIES, 0)));
      st(endUsed, 3 * a + 1, ld(start, 3 * a + 1) + (e1 + ld(TIES, 1)));
      st(endUsed, 3 * a + 2, ld(start, 3 * a + 2) + (e2 + ld(TIES, 2)));
    }
  }
  memory.fill(band, 0, <usize>(nImg * n3p) << 3);
  for (let k: i32 = 0; k < nImg; k++) {
    const x = <f64>k / <f64>(nImg - 1);
    for (let q: i32 = 0; q < n3; q++) st(frac, k * n3 + q, k == 0 ? ld(start, q) : k == nImg - 1 ? ld(endUsed, q) : ld(start, q) + x * (ld(endUsed, q) - ld(start, q)));
    const b = words(band, k * n3p);
    for (let a: i32 = 0; a < n; a++) {
      const p = k * n3 + 3 * a;
      const f0 = ld(frac, p), f1 = ld(frac, p + 1), f2 = ld(frac, p + 2);
      const x0 = f0 * c0 + f1 * c3 + f2 * c6;
      const y0 = f0 * c1 + f1 * c4 + f2 * c7;
      const z0 = f0 * c2 + f1 * c5 + f2 * c8;
      st(out, p, x0);
      st(out, p + 1, y0);
      st(out, p + 2, z0);
      st(b, a, x0);
      st(b, n + a, y0);
      st(b, 2 * n + a, z0);
    }
  }

  // A site whose end equals its start (bit for bit) has the same fractional coordinates in every
  // straight-line image, so a pair of two such sites has the same images, distances, target (t = d0)
  // and weight (d_k = d0) in all of them: its terms come from the start image's search and are copied
  // to the other images (in a vacancy hop, every pair but those of the moving ion). Image 1 is done in
  // the pass over the endpoints. Measured on 497 pathways: the set-up went from 2.0 to 0.5 ms.
  let closest: f64 = Infinity;
  let cImg: i32 = -1, cI: i32 = -1, cJ: i32 = -1;
  const endBase = (nImg - 1) * n3;
  const x1f = 1 / <f64>(m + 1);
  st(extraStart, 0, 0);
  let nExtra: i32 = 0;
  let p: i32 = 0;
  for (let i: i32 = 0; i < n; i++) {
    const si = isStatic(start, endUsed, i);
    for (let j: i32 = i + 1; j < n; j++, p++) {
      if (!nearImages(ld(frac, 3 * j) - ld(frac, 3 * i), ld(frac, 3 * j + 1) - ld(frac, 3 * i + 1), ld(frac, 3 * j + 2) - ld(frac, 3 * i + 2))) {
        setInfo(info, 0, i, j, 0);
        return STATUS_TOO_MANY_IMAGES;
      }
      const d0 = Math.sqrt(tieD2);
      if (d0 < closest) { closest = d0; cImg = 0; cI = i; cJ = j; }
      st(dEnds, 2 * p, d0);
      if (si && isStatic(start, endUsed, j)) {
        st(dEnds, 2 * p + 1, d0);
        nExtra = pairTerms(terms, extra, extraCap, nExtra, Pp, 1, p, i, j, d0 + x1f * (d0 - d0), d0);
        continue;
      }
      if (!nearImages(ld(frac, endBase + 3 * j) - ld(frac, endBase + 3 * i), ld(frac, endBase + 3 * j + 1) - ld(frac, endBase + 3 * i + 1), ld(frac, endBase + 3 * j + 2) - ld(frac, endBase + 3 * i + 2))) {
        setInfo(info, nImg - 1, i, j, 0);
        return STATUS_TOO_MANY_IMAGES;
      }
      const d1 = Math.sqrt(tieD2);
      if (d1 < closest) { closest = d1; cImg = nImg - 1; cI = i; cJ = j; }
      st(dEnds, 2 * p + 1, d1);
      if (!nearImages(ld(frac, n3 + 3 * j) - ld(frac, n3 + 3 * i), ld(frac, n3 + 3 * j + 1) - ld(frac, n3 + 3 * i + 1), ld(frac, n3 + 3 * j + 2) - ld(frac, n3 + 3 * i + 2))) {
        setInfo(info, 1, i, j, 0);
        return STATUS_TOO_MANY_IMAGES;
      }
      const dk = Math.sqrt(tieD2);
      if (dk < closest) { closest = dk; cImg = 1; cI = i; cJ = j; }
      nExtra = pairTerms(terms, extra, extraCap, nExtra, Pp, 1, p, i, j, d0 + x1f * (d1 - d0), dk);
    }
  }
  // Images 2 … m, image-major, so each image's tie terms are contiguous and in pair order.
  for (let k: i32 = 2; k <= m; k++) {
    st(extraStart, k - 1, <f64>nExtra);
    const b = k * n3;
    const x = <f64>k / <f64>(m + 1);
    const rec = words(terms, 5 * (k - 1) * Pp);
    // Cursor over image 1's tie terms, which are in the same pair order (only when they all fit;
    // otherwise every pair is searched again, which only counts the terms for the retry).
    let e1 = 0;
    const e1End = <i32>ld(extraStart, 1);
    const copy = e1End <= extraCap;
    p = 0;
    for (let i: i32 = 0; i < n; i++) {
      const si = isStatic(start, endUsed, i);
      for (let j: i32 = i + 1; j < n; j++, p++) {
        const stat = si && isStatic(start, endUsed, j);
        if (copy && stat) {
          for (let f: i32 = 0; f < 5; f++) st(rec, f * Pp + p, ld(terms, f * Pp + p));
          while (e1 < e1End && <i32>ld(extra, 7 * e1) == i && <i32>ld(extra, 7 * e1 + 1) == j) {
            if (nExtra < extraCap) memory.copy(words(extra, 7 * nExtra), words(extra, 7 * e1), 56);
            nExtra++;
            e1++;
          }
          continue;
        }
        if (copy) while (e1 < e1End && <i32>ld(extra, 7 * e1) == i && <i32>ld(extra, 7 * e1 + 1) == j) e1++;
        if (!nearImages(ld(frac, b + 3 * j) - ld(frac, b + 3 * i), ld(frac, b + 3 * j + 1) - ld(frac, b + 3 * i + 1), ld(frac, b + 3 * j + 2) - ld(frac, b + 3 * i + 2))) {
          setInfo(info, k, i, j, 0);
          return STATUS_TOO_MANY_IMAGES;
        }
        const dk = Math.sqrt(tieD2);
        if (dk < closest) { closest = dk; cImg = k; cI = i; cJ = j; }
        const d0 = ld(dEnds, 2 * p), d1 = ld(dEnds, 2 * p + 1);
        nExtra = pairTerms(terms, extra, extraCap, nExtra, Pp, k, p, i, j, d0 + x * (d1 - d0), dk);
      }
    }
  }
  st(extraStart, m, <f64>nExtra);
  if (nExtra > extraCap) {
    setInfo(info, -1, -1, -1, <f64>nExtra);
    return STATUS_EXTRA_TERMS;
  }
  tieRows(extra, ties, capE, rowStart, extraStart, n, m);
  if (closest < minDist) {
    setInfo(info, cImg, cI, cJ, closest);
    return STATUS_TOO_CLOSE;
  }
  if (minDist > 0 && !pathGuard(band, terms, n, m, n3p, Pp, start, endUsed, minDist, info)) return STATUS_PATH_TOO_CLOSE;

  let allMoving = true;
  memory.fill(mask, 0, <usize>D << 3);
  for (let a: i32 = 0; a < n; a++) {
    if (load<i32>(moving + (<usize>a << 2)) == 0) allMoving = false;
    else for (let k: i32 = 0; k < m; k++) for (let c: i32 = 0; c < 3; c++) st(mask, k * n3p + c * n + a, 1);
  }
  memory.fill(force, 0, <usize>D << 3);
  memory.fill(stepV, 0, <usize>D << 3);
  let stored: i32 = 0, newest: i32 = 0;
  let trust = maxStep;
  let converged = false;
  let evaluations: i32 = 0;
  const x1 = words(band, n3p);
  let status = bandForces(band, force, funcs, tangent, terms, ties, capE, rowStart, n, m, Pp, spring, info);
  if (status < 0) return status;
  let maxForce = finishForce(force, mask, n, m, allMoving);
  memory.copy(xAcc, x1, <usize>D << 3);
  memory.copy(fAcc, force, <usize>D << 3);
  memory.copy(eAcc, funcs, <usize>m << 3);
  let fAccN2 = dot(force, force, D);
  memory.copy(xBest, xAcc, <usize>D << 3);
  memory.copy(fBest, fAcc, <usize>D << 3);
  memory.copy(eBest, eAcc, <usize>m << 3);
  let bestN2 = fAccN2, bestMax = maxForce;
  let sinceBest: i32 = 0;
  let totRes: f64 = Infinity;
  while (evaluations < maxIter) {
    if (totRes < tol && maxForce < gtol) {
      converged = true;
      break;
    }
    lbfgsDirection(fAcc, mask, S, Y, rho, alpha, stored, newest, D, stepV);
    let big: f64 = 0;
    for (let k: i32 = 0; k < m; k++) {
      const s = words(stepV, k * n3p);
      for (let a: i32 = 0; a < n; a++) {
        const sx = ld(s, a), sy = ld(s, n + a), sz = ld(s, 2 * n + a);
        big = Math.max(big, sx * sx + sy * sy + sz * sz);
      }
    }
    big = Math.sqrt(big);
    const scale = big > trust ? trust / big : 1;
    const vs = f64x2.splat(scale);
    for (let q: i32 = 0; q < D; q += 2) {
      const s = f64x2.mul(v128.load(words(stepV, q)), vs);
      v128.store(words(stepV, q), s);
      v128.store(words(x1, q), f64x2.add(v128.load(words(xAcc, q)), s));
    }
    status = bandForces(band, force, funcs, tangent, terms, ties, capE, rowStart, n, m, Pp, spring, info);
    if (status < 0) return status;
    evaluations++;
    const mf = finishForce(force, mask, n, m, allMoving);
    const fn2 = dot(force, force, D);
    if (fn2 > REJECT_FACTOR * REJECT_FACTOR * fAccN2) {
      memory.copy(x1, xAcc, <usize>D << 3);
      stored = 0;
      trust = Math.max(trust / 4, 1e-6);
      continue;
    }
    const slot = stored == 0 ? 0 : (newest + 1) % MEMORY;
    const so = words(S, slot * D), yo = words(Y, slot * D);
    for (let q: i32 = 0; q < D; q += 2) {
      v128.store(words(so, q), f64x2.sub(v128.load(words(x1, q)), v128.load(words(xAcc, q))));
      v128.store(words(yo, q), f64x2.sub(v128.load(words(fAcc, q)), v128.load(words(force, q))));
    }
    const sy = dot(so, yo, D), yy = dot(yo, yo, D), ss = dot(so, so, D);
    if (sy > 1e-12 * Math.sqrt(ss * yy)) {
      st(rho, slot, 1 / sy);
      newest = slot;
      stored = min(stored + 1, MEMORY);
    } else if (stored == MEMORY) stored = MEMORY - 1;
    totRes = 0;
    for (let k: i32 = 0; k < m; k++) totRes += Math.abs(ld(eAcc, k) - ld(funcs, k));
    memory.copy(xAcc, x1, <usize>D << 3);
    memory.copy(fAcc, force, <usize>D << 3);
    memory.copy(eAcc, funcs, <usize>m << 3);
    fAccN2 = fn2;
    maxForce = mf;
    trust = Math.min(trust * 2, maxStep);
    if (fn2 < bestN2) {
      bestN2 = fn2;
      bestMax = mf;
      memory.copy(xBest, xAcc, <usize>D << 3);
      memory.copy(fBest, fAcc, <usize>D << 3);
      memory.copy(eBest, eAcc, <usize>m << 3);
      sinceBest = 0;
    } else if (++sinceBest == STALL_STEPS) {
      // No smaller force for STALL_STEPS accepted steps (the band wanders: the NEB force is not a
      // gradient): back to the best state, history dropped, shorter steps. Measured on the 56
      // pathways of the bundled set that did not converge: 11 of 30 converge within 1000 force
      // evaluations (none without it); the other pathways are unchanged.
      memory.copy(x1, xBest, <usize>D << 3);
      memory.copy(xAcc, xBest, <usize>D << 3);
      memory.copy(fAcc, fBest, <usize>D << 3);
      memory.copy(eAcc, eBest, <usize>m << 3);
      fAccN2 = bestN2;
      maxForce = bestMax;
      totRes = Infinity;
      stored = 0;
      trust = Math.max(trust / 4, 1e-6);
      sinceBest = 0;
    }
  }
  const fin = converged ? xAcc : xBest;
  for (let k: i32 = 1; k <= m; k++) {
    const b = words(fin, (k - 1) * n3p);
    for (let a: i32 = 0; a < n; a++) {
      const o = k * n3 + 3 * a;
      st(out, o, ld(b, a));
      st(out, o + 1, ld(b, n + a));
      st(out, o + 2, ld(b, 2 * n + a));
    }
  }
  setInfo(info, converged ? 1 : 0, 0, 0, 0);
  return evaluations;
}

/**
 * Writes the terms of pair p (sites i < j) in interior image k from the tie set of the last
 * nearImages call, with target t and straight-line distance dk: the first tied image into the pair
 * arrays, the others as extra terms [i, j, Tx, Ty, Tz, t, w] (counted beyond extraCap, written only
 * within it). Returns the new extra count.
 */
function pairTerms(terms: usize, extra: usize, extraCap: i32, nExtra: i32, Pp: i32, k: i32, p: i32, i: i32, j: i32, t: f64, dk: f64): i32 {
  const avg = (t + dk) / 2;
  const w = 1 / (avg * avg * (avg * avg)) / <f64>tieCount;
  const rec = words(terms, 5 * (k - 1) * Pp);
  for (let q: i32 = 0; q < tieCount; q++) {
    const s0 = ld(TIES, 3 * q), s1 = ld(TIES, 3 * q + 1), s2 = ld(TIES, 3 * q + 2);
    const tx = s0 * c0 + s1 * c3 + s2 * c6;
    const ty = s0 * c1 + s1 * c4 + s2 * c7;
    const tz = s0 * c2 + s1 * c5 + s2 * c8;
    if (q == 0) {
      st(rec, p, tx);
      st(rec, Pp + p, ty);
      st(rec, 2 * Pp + p, tz);
      st(rec, 3 * Pp + p, t);
      st(rec, 4 * Pp + p, w);
    } else {
      if (nExtra < extraCap) {
        const e = 7 * nExtra;
        st(extra, e, <f64>i); st(extra, e + 1, <f64>j); st(extra, e + 2, tx); st(extra, e + 3, ty); st(extra, e + 4, tz); st(extra, e + 5, t); st(extra, e + 6, w);
      }
      nExtra++;
    }
  }
  return nExtra;
}

/**
 * The straight path between the images, not only at them: for every pair with a moving site and every
 * interior image's periodic image T of the pair (the nearest near that image), the closest approach
 * of (x_i(t) − x_j(t)) − T over t in [0, 1], where the Cartesian positions move linearly from the
 * start to the end. A path on which two atoms come closer than minDist is refused (false, info = [t,
 * i, j, distance]): where a straight line runs through another atom the objective is singular and
 * the side the relaxed path takes around it follows the last bits of the input.
 */
function pathGuard(band: usize, terms: usize, n: i32, m: i32, n3p: i32, Pp: i32, start: usize, endUsed: usize, minDist: f64, info: usize): bool {
  const e = words(band, (m + 1) * n3p);
  let p: i32 = 0;
  for (let i: i32 = 0; i < n; i++) {
    const si = isStatic(start, endUsed, i);
    for (let j: i32 = i + 1; j < n; j++, p++) {
      if (si && isStatic(start, endUsed, j)) continue;
      const a0 = ld(band, i) - ld(band, j), a1 = ld(band, n + i) - ld(band, n + j), a2 = ld(band, 2 * n + i) - ld(band, 2 * n + j);
      const b0 = (ld(e, i) - ld(e, j)) - a0, b1 = (ld(e, n + i) - ld(e, n + j)) - a1, b2 = (ld(e, 2 * n + i) - ld(e, 2 * n + j)) - a2;
      const bb = b0 * b0 + b1 * b1 + b2 * b2;
      for (let k: i32 = 0; k < m; k++) {
        const rec = words(terms, 5 * k * Pp);
        const c0 = a0 - ld(rec, p), c1 = a1 - ld(rec, Pp + p), c2 = a2 - ld(rec, 2 * Pp + p);
        let t = bb > 0 ? -(c0 * b0 + c1 * b1 + c2 * b2) / bb : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const x = c0 + t * b0, y = c1 + t * b1, z = c2 + t * b2;
        const d = Math.sqrt(x * x + y * y + z * z);
        if (d < minDist) {
          setInfo(info, -1, i, j, d);
          st(info, 0, t);
          return false;
        }
      }
    }
  }
  return true;
}

/** True when site a's end coordinates equal its start coordinates bit for bit. */
@inline function isStatic(start: usize, endUsed: usize, a: i32): bool {
  return ld(start, 3 * a) == ld(endUsed, 3 * a) && ld(start, 3 * a + 1) == ld(endUsed, 3 * a + 1) && ld(start, 3 * a + 2) == ld(endUsed, 3 * a + 2);
}

/**
 * Σ a_q·b_q over D (a multiple of 4) words as four partial sums over q mod 4 (two f64x2 accumulators,
 * so consecutive additions do not wait on each other), added as (s0 + s1) + (s2 + s3): the twin's `dot`.
 */
function dot(a: usize, b: usize, D: i32): f64 {
  let s = f64x2.splat(0), t = f64x2.splat(0);
  for (let q: i32 = 0; q < D; q += 4) {
    s = f64x2.add(s, f64x2.mul(v128.load(words(a, q)), v128.load(words(b, q))));
    t = f64x2.add(t, f64x2.mul(v128.load(words(a, q + 2)), v128.load(words(b, q + 2))));
  }
  return sum4(s, t);
}

@inline function sum4(s: v128, t: v128): f64 {
  return (f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1)) + (f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1));
}

/**
 * d_q += c·v_q over D words, and returns Σ u_q·d_q of the updated d (as `dot`): one pass for the
 * update of one L-BFGS loop step and the dot product of the next.
 */
function axpyDot(d: usize, c: f64, v: usize, u: usize, D: i32): f64 {
  const cv = f64x2.splat(c);
  let s = f64x2.splat(0), t = f64x2.splat(0);
  for (let q: i32 = 0; q < D; q += 4) {
    const d0 = f64x2.add(v128.load(words(d, q)), f64x2.mul(cv, v128.load(words(v, q))));
    const d1 = f64x2.add(v128.load(words(d, q + 2)), f64x2.mul(cv, v128.load(words(v, q + 2))));
    v128.store(words(d, q), d0);
    v128.store(words(d, q + 2), d1);
    s = f64x2.add(s, f64x2.mul(v128.load(words(u, q)), d0));
    t = f64x2.add(t, f64x2.mul(v128.load(words(u, q + 2)), d1));
  }
  return sum4(s, t);
}

/** Masks the force to moving sites, removes each image's net force when all move; returns max |component|. */
function finishForce(force: usize, mask: usize, n: i32, m: i32, allMoving: bool): f64 {
  const n3p = stride(n);
  if (allMoving) {
    for (let k: i32 = 0; k < m; k++) {
      for (let c: i32 = 0; c < 3; c++) {
        const g = words(force, k * n3p + c * n);
        let mean: f64 = 0;
        for (let a: i32 = 0; a < n; a++) mean += ld(g, a);
        mean /= <f64>n;
        for (let a: i32 = 0; a < n; a++) st(g, a, ld(g, a) - mean);
      }
    }
  }
  let maxForce: f64 = 0;
  const D = m * n3p;
  for (let q: i32 = 0; q < D; q++) {
    const f = ld(force, q) * ld(mask, q);
    st(force, q, f);
    const af = Math.abs(f);
    if (af > maxForce) maxForce = af;
  }
  return maxForce;
}

/**
 * L-BFGS two-loop direction for the gradient −F (see the twin's lbfgsDirection). Each step's update
 * and the next step's dot product share one pass (axpyDot); the sums are those of separate passes.
 */
function lbfgsDirection(F: usize, mask: usize, S: usize, Y: usize, rho: usize, alpha: usize, stored: i32, newest: i32, D: i32, d: usize): void {
  memory.copy(d, F, <usize>D << 3);
  let gamma: f64 = 0.05;
  let idx = newest;
  let sd = stored > 0 ? dot(words(S, idx * D), d, D) : 0;
  for (let q: i32 = 0; q < stored; q++) {
    const a = sd * ld(rho, idx);
    st(alpha, idx, a);
    const nextIdx = (idx + MEMORY - 1) % MEMORY;
    // After the last step no dot product is needed; that pass dots with the newest y, unused.
    const u = q + 1 < stored ? words(S, nextIdx * D) : words(Y, newest * D);
    sd = axpyDot(d, -a, words(Y, idx * D), u, D);
    idx = nextIdx;
  }
  if (stored > 0) {
    const yo = words(Y, newest * D);
    gamma = 1 / (ld(rho, newest) * dot(yo, yo, D));
  }
  const gv = f64x2.splat(gamma);
  idx = (newest + MEMORY - stored + 1) % MEMORY;
  let yd: f64 = 0;
  if (stored > 0) {
    const yo = words(Y, idx * D);
    let s = f64x2.splat(0), t = f64x2.splat(0);
    for (let q: i32 = 0; q < D; q += 4) {
      const d0 = f64x2.mul(v128.load(words(d, q)), gv);
      const d1 = f64x2.mul(v128.load(words(d, q + 2)), gv);
      v128.store(words(d, q), d0);
      v128.store(words(d, q + 2), d1);
      s = f64x2.add(s, f64x2.mul(v128.load(words(yo, q)), d0));
      t = f64x2.add(t, f64x2.mul(v128.load(words(yo, q + 2)), d1));
    }
    yd = sum4(s, t);
  } else {
    for (let q: i32 = 0; q < D; q += 2) v128.store(words(d, q), f64x2.mul(v128.load(words(d, q)), gv));
  }
  for (let q: i32 = 0; q < stored; q++) {
    const b = yd * ld(rho, idx);
    const nextIdx = (idx + 1) % MEMORY;
    const u = q + 1 < stored ? words(Y, nextIdx * D) : mask;
    yd = axpyDot(d, ld(alpha, idx) - b, words(S, idx * D), u, D);
    idx = nextIdx;
  }
  let df = f64x2.splat(0), dg = f64x2.splat(0);
  for (let q: i32 = 0; q < D; q += 4) {
    const v0 = f64x2.mul(v128.load(words(d, q)), v128.load(words(mask, q)));
    const v1 = f64x2.mul(v128.load(words(d, q + 2)), v128.load(words(mask, q + 2)));
    v128.store(words(d, q), v0);
    v128.store(words(d, q + 2), v1);
    df = f64x2.add(df, f64x2.mul(v0, v128.load(words(F, q))));
    dg = f64x2.add(dg, f64x2.mul(v1, v128.load(words(F, q + 2))));
  }
  if (!(sum4(df, dg) > 0)) {
    const c = f64x2.splat(0.05);
    for (let q: i32 = 0; q < D; q += 2) v128.store(words(d, q), f64x2.mul(c, v128.load(words(F, q))));
  }
}

/** [c[i0], c[i1]] */
@inline function pair2(c: usize, i0: i32, i1: i32): v128 {
  return f64x2.replace_lane(f64x2.splat(ld(c, i0)), 1, ld(c, i1));
}

/**
 * Copies the tie terms from `extra` (records [i, j, Tx, Ty, Tz, t, w], per image in pair order, so
 * by row i) to the arrays J, Tx, Ty, Tz, t, w of `ties` (each capE long, same order), and sets
 * rowStart[k·(n + 1) + i] = the first tie term of row i in interior image k + 1 (…[k·(n + 1) + n] = the end).
 */
function tieRows(extra: usize, ties: usize, capE: i32, rowStart: usize, extraStart: usize, n: i32, m: i32): void {
  for (let k: i32 = 0; k < m; k++) {
    const e0 = <i32>ld(extraStart, k), e1 = <i32>ld(extraStart, k + 1);
    const rs = words(rowStart, k * (n + 1));
    let e = e0;
    for (let i: i32 = 0; i <= n; i++) {
      st(rs, i, <f64>e);
      while (e < e1 && <i32>ld(extra, 7 * e) == i) e++;
    }
    for (let q = e0; q < e1; q++) for (let f: i32 = 0; f < 6; f++) st(ties, f * capE + q, ld(extra, 7 * q + 1 + f));
  }
}

/**
 * NEB forces and objectives of every interior image (as the twin's bandForces); 0 or NON_FINITE.
 * `band` holds all m + 2 images (stride n3p, [X | Y | Z]); `terms` the pair arrays per interior image.
 */
function bandForces(
  band: usize, force: usize, funcs: usize, tangent: usize, terms: usize, ties: usize, capE: i32, rowStart: usize,
  n: i32, m: i32, Pp: i32, spring: f64, info: usize,
): i32 {
  const n3 = 3 * n, n3p = stride(n);
  const zero = f64x2.splat(0);
  for (let k: i32 = 1; k <= m; k++) {
    const X = words(band, k * n3p), Yc = words(X, n), Z = words(X, 2 * n);
    const g = words(force, (k - 1) * n3p), gY = words(g, n), gZ = words(g, 2 * n);
    const tx = words(terms, 5 * (k - 1) * Pp), ty = words(tx, Pp), tz = words(tx, 2 * Pp), tt = words(tx, 3 * Pp), tw = words(tx, 4 * Pp);
    memory.fill(g, 0, <usize>n3p << 3);
    const TJ = ties, TX = words(ties, capE), TY = words(ties, 2 * capE), TZ = words(ties, 3 * capE), TT = words(ties, 4 * capE), TW = words(ties, 5 * capE);
    const rs = words(rowStart, (k - 1) * (n + 1));
    let func2 = zero, fe2 = zero;
    let funcR: f64 = 0, feR: f64 = 0;
    let p: i32 = 0;
    for (let i: i32 = 0; i < n; i++) {
      const xi = ld(X, i), yi = ld(Yc, i), zi = ld(Z, i);
      const xi2 = f64x2.splat(xi), yi2 = f64x2.splat(yi), zi2 = f64x2.splat(zi);
      let gx2 = zero, gy2 = zero, gz2 = zero;
      let j = i + 1;
      // Two pairs (i, j), (i, j + 1) per step: per lane the scalar loop's operations.
      for (; j + 1 < n; j += 2, p += 2) {
        const dx = f64x2.sub(f64x2.sub(xi2, v128.load(words(X, j))), v128.load(words(tx, p)));
        const dy = f64x2.sub(f64x2.sub(yi2, v128.load(words(Yc, j))), v128.load(words(ty, p)));
        const dz = f64x2.sub(f64x2.sub(zi2, v128.load(words(Z, j))), v128.load(words(tz, p)));
        const d = f64x2.sqrt(f64x2.add(f64x2.add(f64x2.mul(dx, dx), f64x2.mul(dy, dy)), f64x2.mul(dz, dz)));
        const diff = f64x2.sub(d, v128.load(words(tt, p)));
        const wd = f64x2.mul(diff, v128.load(words(tw, p)));
        func2 = f64x2.add(func2, f64x2.mul(diff, wd));
        const aux = f64x2.div(wd, d);
        const ax = f64x2.mul(aux, dx), ay = f64x2.mul(aux, dy), az = f64x2.mul(aux, dz);
        gx2 = f64x2.add(gx2, ax);
        gy2 = f64x2.add(gy2, ay);
        gz2 = f64x2.add(gz2, az);
        v128.store(words(g, j), f64x2.sub(v128.load(words(g, j)), ax));
        v128.store(words(gY, j), f64x2.sub(v128.load(words(gY, j)), ay));
        v128.store(words(gZ, j), f64x2.sub(v128.load(words(gZ, j)), az));
      }
      // Row i's tie terms (pairs (i, j) at their further equally near images, j ascending), two per
      // f64x2 step into the same lane sums; x_j gathered and the forces on j updated lane after lane
      // (consecutive terms may share j).
      const rEnd = <i32>ld(rs, i + 1);
      let e = <i32>ld(rs, i);
      for (; e + 1 < rEnd; e += 2) {
        const j0 = <i32>ld(TJ, e), j1 = <i32>ld(TJ, e + 1);
        const dx = f64x2.sub(f64x2.sub(xi2, pair2(X, j0, j1)), v128.load(words(TX, e)));
        const dy = f64x2.sub(f64x2.sub(yi2, pair2(Yc, j0, j1)), v128.load(words(TY, e)));
        const dz = f64x2.sub(f64x2.sub(zi2, pair2(Z, j0, j1)), v128.load(words(TZ, e)));
        const d = f64x2.sqrt(f64x2.add(f64x2.add(f64x2.mul(dx, dx), f64x2.mul(dy, dy)), f64x2.mul(dz, dz)));
        const diff = f64x2.sub(d, v128.load(words(TT, e)));
        const wd = f64x2.mul(diff, v128.load(words(TW, e)));
        fe2 = f64x2.add(fe2, f64x2.mul(diff, wd));
        const aux = f64x2.div(wd, d);
        const ax = f64x2.mul(aux, dx), ay = f64x2.mul(aux, dy), az = f64x2.mul(aux, dz);
        gx2 = f64x2.add(gx2, ax);
        gy2 = f64x2.add(gy2, ay);
        gz2 = f64x2.add(gz2, az);
        st(g, j0, ld(g, j0) - f64x2.extract_lane(ax, 0));
        st(gY, j0, ld(gY, j0) - f64x2.extract_lane(ay, 0));
        st(gZ, j0, ld(gZ, j0) - f64x2.extract_lane(az, 0));
        st(g, j1, ld(g, j1) - f64x2.extract_lane(ax, 1));
        st(gY, j1, ld(gY, j1) - f64x2.extract_lane(ay, 1));
        st(gZ, j1, ld(gZ, j1) - f64x2.extract_lane(az, 1));
      }
      let gx = f64x2.extract_lane(gx2, 0) + f64x2.extract_lane(gx2, 1);
      let gy = f64x2.extract_lane(gy2, 0) + f64x2.extract_lane(gy2, 1);
      let gz = f64x2.extract_lane(gz2, 0) + f64x2.extract_lane(gz2, 1);
      if (j < n) {
        const dx = (xi - ld(X, j)) - ld(tx, p);
        const dy = (yi - ld(Yc, j)) - ld(ty, p);
        const dz = (zi - ld(Z, j)) - ld(tz, p);
        const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
        const diff = d - ld(tt, p);
        const wd = diff * ld(tw, p);
        funcR += diff * wd;
        const aux = wd / d;
        gx += aux * dx;
        gy += aux * dy;
        gz += aux * dz;
        st(g, j, ld(g, j) - aux * dx);
        st(gY, j, ld(gY, j) - aux * dy);
        st(gZ, j, ld(gZ, j) - aux * dz);
        p++;
      }
      if (e < rEnd) {
        const je = <i32>ld(TJ, e);
        const dx = (xi - ld(X, je)) - ld(TX, e);
        const dy = (yi - ld(Yc, je)) - ld(TY, e);
        const dz = (zi - ld(Z, je)) - ld(TZ, e);
        const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
        const diff = d - ld(TT, e);
        const wd = diff * ld(TW, e);
        feR += diff * wd;
        const aux = wd / d;
        gx += aux * dx;
        gy += aux * dy;
        gz += aux * dz;
        st(g, je, ld(g, je) - aux * dx);
        st(gY, je, ld(gY, je) - aux * dy);
        st(gZ, je, ld(gZ, je) - aux * dz);
      }
      st(g, i, ld(g, i) + gx);
      st(gY, i, ld(gY, i) + gy);
      st(gZ, i, ld(gZ, i) + gz);
    }
    const func = ((f64x2.extract_lane(func2, 0) + f64x2.extract_lane(func2, 1)) + funcR) + ((f64x2.extract_lane(fe2, 0) + f64x2.extract_lane(fe2, 1)) + feR);
    if (!isFinite(func)) {
      setInfo(info, k, -1, -1, func);
      return STATUS_NON_FINITE;
    }
    st(funcs, k - 1, func);
    for (let q: i32 = 0; q < n3; q++) st(g, q, -2 * ld(g, q));
  }
  // The NEB projection per image, in three passes and without divisions: τ_raw = v1/|v1| + v2/|v2|
  // with reciprocal norms, F·τ = (F·τ_raw)/|τ_raw| (the exact mode divides per component to keep
  // pymatgen's rounding; the fast mode has no rounding to reproduce).
  for (let k: i32 = 1; k <= m; k++) {
    const prev = words(band, (k - 1) * n3p);
    const cur = words(prev, n3p), next = words(cur, n3p);
    const g = words(force, (k - 1) * n3p);
    let s1: f64 = 0, s2: f64 = 0;
    for (let q: i32 = 0; q < n3; q++) {
      const v1 = ld(next, q) - ld(cur, q);
      const v2 = ld(cur, q) - ld(prev, q);
      s1 += v1 * v1;
      s2 += v2 * v2;
    }
    const n1 = Math.sqrt(s1), n2 = Math.sqrt(s2);
    const r1 = 1 / n1, r2 = 1 / n2;
    let stt: f64 = 0, gt: f64 = 0;
    for (let q: i32 = 0; q < n3; q++) {
      const tr = (ld(next, q) - ld(cur, q)) * r1 + (ld(cur, q) - ld(prev, q)) * r2;
      st(tangent, q, tr);
      stt += tr * tr;
      gt += ld(g, q) * tr;
    }
    const rt = 1 / Math.sqrt(stt);
    const fdot = gt * rt;
    const sp = spring * (n1 - n2);
    let check: f64 = 0;
    for (let q: i32 = 0; q < n3; q++) {
      const t = ld(tangent, q) * rt;
      const f = ld(g, q) + (sp * t - fdot * t);
      st(g, q, f);
      check += f * 0;
    }
    if (!isFinite(check)) {
      setInfo(info, k, -1, -1, NaN);
      return STATUS_NON_FINITE;
    }
  }
  return 0;
}

/** First byte above the module's static data, 16-byte aligned: the caller's arena starts here. */
export function arenaBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
