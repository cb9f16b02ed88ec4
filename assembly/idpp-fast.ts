// Fast IDPP: the objective of pymatgen-analysis-diffusion's IDPPSolver (assembly/idpp.ts, Smidstrup
// et al., J. Chem. Phys. 140, 214106 (2014)) minimised with L-BFGS to a tight tolerance instead of
// capped steepest descent; src/kernels/idpp-fast-ts.ts is its bit-identical TypeScript twin.
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
//   3. Optimiser. L-BFGS (two-loop recursion, 10 pairs, initial inverse Hessian s·y/y·y), every atom
//      moving at most maxStep (Å) per step, a trust radius that is quartered when a step more than
//      doubles the norm of the NEB force (the step is then undone and the history dropped) and doubled
//      after an accepted step. The NEB force is not the gradient of a function, so there is no line
//      search. Measured on 60 bundled pathways (23–107 atoms) to gtol 1e-5: median 144 force
//      evaluations against 444 for the exact mode to its gtol 1e-3; FIRE (Bitzek et al. 2006) needed
//      a median ~300 to gtol 1e-5 and up to 2200; L-BFGS without the rejection diverged on 5 of 60.
//   A run that does not converge within maxIter (a straight line through another atom, where the
//   objective is singular) returns the accepted state with the smallest force norm, not the last.
//
// Scratch layout (f64 words; size from idppFastScratchBytes), P = n(n−1)/2 pairs, m interior images,
// D = 3·n·m:
//   frac (m+2)·3n | dense 5·m·P [Tx, Ty, Tz, target, weight] per image then pair | dEnds 2P |
//   extraStart m+1 | force D | funcs m | tangent 3n | mask D | xAcc D | fAcc D | eAcc m | step D |
//   S 10·D | Y 10·D | rho 10 | alpha 10 | xBest D | extra 7·extraCap [i, j, Tx, Ty, Tz, target, weight]
// Extra terms beyond extraCap: STATUS_EXTRA_TERMS with info[3] = the number needed (grow and call again).

import { invertCell, inverseHeight } from './lib/cell';

const STATUS_TOO_CLOSE: i32 = -1;
const STATUS_NON_FINITE: i32 = -2;
const STATUS_SINGULAR_CELL: i32 = -3;
const STATUS_SCRATCH_TOO_SMALL: i32 = -4;
const STATUS_TOO_MANY_IMAGES: i32 = -5;
const STATUS_EXTRA_TERMS: i32 = -7;

const FLAG_MIC: i32 = 1;
const TIE_ANG: f64 = 1e-5;
const MAX_TIES: i32 = 16;
const MAX_IMAGE_RANGE: f64 = 64;
const MEMORY: i32 = 10;
const REJECT_FACTOR: f64 = 2;

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
  const D = 3 * nn * m;
  const words = (m + 2) * 3 * nn + 5 * m * pairs + 2 * pairs + (m + 1) + D + m + 3 * nn + D + D + D + m + D + 2 * M * D + 2 * M + D + 7 * <i64>extraCap;
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
  const nImg = nInterior + 2;
  const n3 = 3 * n;
  const P = <i32>((<i64>n * <i64>(n - 1)) / 2);
  const D = n3 * nInterior;
  const frac = scratch;
  const dense = frac + (<usize>(nImg * n3) << 3);
  const dEnds = dense + (<usize>(5 * nInterior * P) << 3);
  const extraStart = dEnds + (<usize>(2 * P) << 3);
  const force = extraStart + (<usize>(nInterior + 1) << 3);
  const funcs = force + (<usize>D << 3);
  const tangent = funcs + (<usize>nInterior << 3);
  const mask = tangent + (<usize>n3 << 3);
  const xAcc = mask + (<usize>D << 3);
  const fAcc = xAcc + (<usize>D << 3);
  const eAcc = fAcc + (<usize>D << 3);
  const stepV = eAcc + (<usize>nInterior << 3);
  const S = stepV + (<usize>D << 3);
  const Y = S + (<usize>(MEMORY * D) << 3);
  const rho = Y + (<usize>(MEMORY * D) << 3);
  const alpha = rho + (<usize>MEMORY << 3);
  const xBest = alpha + (<usize>MEMORY << 3);
  const extra = xBest + (<usize>D << 3);

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
  for (let k: i32 = 0; k < nImg; k++) {
    const x = <f64>k / <f64>(nImg - 1);
    for (let q: i32 = 0; q < n3; q++) st(frac, k * n3 + q, k == 0 ? ld(start, q) : k == nImg - 1 ? ld(endUsed, q) : ld(start, q) + x * (ld(endUsed, q) - ld(start, q)));
    for (let a: i32 = 0; a < n; a++) {
      const p = k * n3 + 3 * a;
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
      if (!nearImages(ld(frac, 3 * j) - ld(frac, 3 * i), ld(frac, 3 * j + 1) - ld(frac, 3 * i + 1), ld(frac, 3 * j + 2) - ld(frac, 3 * i + 2))) {
        setInfo(info, 0, i, j, 0);
        return STATUS_TOO_MANY_IMAGES;
      }
      const d0 = Math.sqrt(tieD2);
      if (d0 < closest) { closest = d0; cImg = 0; cI = i; cJ = j; }
      if (!nearImages(ld(frac, endBase + 3 * j) - ld(frac, endBase + 3 * i), ld(frac, endBase + 3 * j + 1) - ld(frac, endBase + 3 * i + 1), ld(frac, endBase + 3 * j + 2) - ld(frac, endBase + 3 * i + 2))) {
        setInfo(info, nImg - 1, i, j, 0);
        return STATUS_TOO_MANY_IMAGES;
      }
      const d1 = Math.sqrt(tieD2);
      if (d1 < closest) { closest = d1; cImg = nImg - 1; cI = i; cJ = j; }
      st(dEnds, 2 * p, d0);
      st(dEnds, 2 * p + 1, d1);
    }
  }
  let nExtra: i32 = 0;
  for (let k: i32 = 1; k <= nInterior; k++) {
    st(extraStart, k - 1, <f64>nExtra);
    const b = k * n3;
    const x = <f64>k / <f64>(nInterior + 1);
    p = 0;
    for (let i: i32 = 0; i < n; i++) {
      for (let j: i32 = i + 1; j < n; j++, p++) {
        if (!nearImages(ld(frac, b + 3 * j) - ld(frac, b + 3 * i), ld(frac, b + 3 * j + 1) - ld(frac, b + 3 * i + 1), ld(frac, b + 3 * j + 2) - ld(frac, b + 3 * i + 2))) {
          setInfo(info, k, i, j, 0);
          return STATUS_TOO_MANY_IMAGES;
        }
        const dk = Math.sqrt(tieD2);
        if (dk < closest) { closest = dk; cImg = k; cI = i; cJ = j; }
        const d0 = ld(dEnds, 2 * p), d1 = ld(dEnds, 2 * p + 1);
        const t = d0 + x * (d1 - d0);
        const avg = (t + dk) / 2;
        const w = 1 / (avg * avg * (avg * avg)) / <f64>tieCount;
        for (let m: i32 = 0; m < tieCount; m++) {
          const s0 = ld(TIES, 3 * m), s1 = ld(TIES, 3 * m + 1), s2 = ld(TIES, 3 * m + 2);
          const tx = s0 * c0 + s1 * c3 + s2 * c6;
          const ty = s0 * c1 + s1 * c4 + s2 * c7;
          const tz = s0 * c2 + s1 * c5 + s2 * c8;
          if (m == 0) {
            const q = 5 * ((k - 1) * P + p);
            st(dense, q, tx); st(dense, q + 1, ty); st(dense, q + 2, tz); st(dense, q + 3, t); st(dense, q + 4, w);
          } else {
            if (nExtra < extraCap) {
              const q = 7 * nExtra;
              st(extra, q, <f64>i); st(extra, q + 1, <f64>j); st(extra, q + 2, tx); st(extra, q + 3, ty); st(extra, q + 4, tz); st(extra, q + 5, t); st(extra, q + 6, w);
            }
            nExtra++;
          }
        }
      }
    }
  }
  st(extraStart, nInterior, <f64>nExtra);
  if (nExtra > extraCap) {
    setInfo(info, -1, -1, -1, <f64>nExtra);
    return STATUS_EXTRA_TERMS;
  }
  if (closest < minDist) {
    setInfo(info, cImg, cI, cJ, closest);
    return STATUS_TOO_CLOSE;
  }

  let allMoving = true;
  memory.fill(mask, 0, <usize>D << 3);
  for (let a: i32 = 0; a < n; a++) {
    if (load<i32>(moving + (<usize>a << 2)) == 0) allMoving = false;
    else for (let k: i32 = 0; k < nInterior; k++) for (let c: i32 = 0; c < 3; c++) st(mask, k * n3 + 3 * a + c, 1);
  }
  let stored: i32 = 0, newest: i32 = 0;
  let trust = maxStep;
  let converged = false;
  let evaluations: i32 = 0;
  let status = bandForces(out, force, funcs, tangent, dense, extra, extraStart, n, nInterior, P, spring, info);
  if (status < 0) return status;
  let maxForce = finishForce(force, mask, n, nInterior, allMoving);
  memory.copy(xAcc, out + (<usize>n3 << 3), <usize>D << 3);
  memory.copy(fAcc, force, <usize>D << 3);
  memory.copy(eAcc, funcs, <usize>nInterior << 3);
  let fAccN2: f64 = 0;
  for (let q: i32 = 0; q < D; q++) fAccN2 += ld(force, q) * ld(force, q);
  memory.copy(xBest, xAcc, <usize>D << 3);
  let bestN2 = fAccN2;
  let totRes: f64 = Infinity;
  const x1 = out + (<usize>n3 << 3);
  while (evaluations < maxIter) {
    if (totRes < tol && maxForce < gtol) {
      converged = true;
      break;
    }
    lbfgsDirection(fAcc, mask, S, Y, rho, alpha, stored, newest, D, stepV);
    let big: f64 = 0;
    for (let q: i32 = 0; q < D; q += 3) big = Math.max(big, ld(stepV, q) * ld(stepV, q) + ld(stepV, q + 1) * ld(stepV, q + 1) + ld(stepV, q + 2) * ld(stepV, q + 2));
    big = Math.sqrt(big);
    const scale = big > trust ? trust / big : 1;
    for (let q: i32 = 0; q < D; q++) {
      const s = ld(stepV, q) * scale;
      st(stepV, q, s);
      st(x1, q, ld(xAcc, q) + s);
    }
    status = bandForces(out, force, funcs, tangent, dense, extra, extraStart, n, nInterior, P, spring, info);
    if (status < 0) return status;
    evaluations++;
    const mf = finishForce(force, mask, n, nInterior, allMoving);
    let fn2: f64 = 0;
    for (let q: i32 = 0; q < D; q++) fn2 += ld(force, q) * ld(force, q);
    if (fn2 > REJECT_FACTOR * REJECT_FACTOR * fAccN2) {
      memory.copy(x1, xAcc, <usize>D << 3);
      stored = 0;
      trust = Math.max(trust / 4, 1e-6);
      continue;
    }
    const slot = stored == 0 ? 0 : (newest + 1) % MEMORY;
    const so = S + (<usize>(slot * D) << 3), yo = Y + (<usize>(slot * D) << 3);
    let sy: f64 = 0, yy: f64 = 0, ss: f64 = 0;
    for (let q: i32 = 0; q < D; q++) {
      const sq = ld(x1, q) - ld(xAcc, q);
      const y = ld(fAcc, q) - ld(force, q);
      st(so, q, sq);
      st(yo, q, y);
      sy += sq * y;
      yy += y * y;
      ss += sq * sq;
    }
    if (sy > 1e-12 * Math.sqrt(ss * yy)) {
      st(rho, slot, 1 / sy);
      newest = slot;
      stored = min(stored + 1, MEMORY);
    } else if (stored == MEMORY) stored = MEMORY - 1;
    totRes = 0;
    for (let k: i32 = 0; k < nInterior; k++) totRes += Math.abs(ld(eAcc, k) - ld(funcs, k));
    memory.copy(xAcc, x1, <usize>D << 3);
    memory.copy(fAcc, force, <usize>D << 3);
    memory.copy(eAcc, funcs, <usize>nInterior << 3);
    fAccN2 = fn2;
    maxForce = mf;
    trust = Math.min(trust * 2, maxStep);
    if (fn2 < bestN2) {
      bestN2 = fn2;
      memory.copy(xBest, xAcc, <usize>D << 3);
    }
  }
  memory.copy(x1, converged ? xAcc : xBest, <usize>D << 3);
  setInfo(info, converged ? 1 : 0, 0, 0, 0);
  return evaluations;
}

/** Masks the force to moving sites, removes each image's net force when all move; returns max |component|. */
function finishForce(force: usize, mask: usize, n: i32, nInterior: i32, allMoving: bool): f64 {
  const n3 = 3 * n;
  if (allMoving) {
    for (let k: i32 = 0; k < nInterior; k++) {
      const g = k * n3;
      let m0: f64 = 0, m1: f64 = 0, m2: f64 = 0;
      for (let a: i32 = 0; a < n; a++) {
        m0 += ld(force, g + 3 * a);
        m1 += ld(force, g + 3 * a + 1);
        m2 += ld(force, g + 3 * a + 2);
      }
      m0 /= <f64>n;
      m1 /= <f64>n;
      m2 /= <f64>n;
      for (let a: i32 = 0; a < n; a++) {
        st(force, g + 3 * a, ld(force, g + 3 * a) - m0);
        st(force, g + 3 * a + 1, ld(force, g + 3 * a + 1) - m1);
        st(force, g + 3 * a + 2, ld(force, g + 3 * a + 2) - m2);
      }
    }
  }
  let maxForce: f64 = 0;
  for (let q: i32 = 0; q < n3 * nInterior; q++) {
    const f = ld(force, q) * ld(mask, q);
    st(force, q, f);
    const af = Math.abs(f);
    if (af > maxForce) maxForce = af;
  }
  return maxForce;
}

/** L-BFGS two-loop direction for the gradient −F (see the twin's lbfgsDirection). */
function lbfgsDirection(F: usize, mask: usize, S: usize, Y: usize, rho: usize, alpha: usize, stored: i32, newest: i32, D: i32, d: usize): void {
  memory.copy(d, F, <usize>D << 3);
  let gamma: f64 = 0.05;
  let idx = newest;
  for (let m: i32 = 0; m < stored; m++) {
    const o = S + (<usize>(idx * D) << 3), yo = Y + (<usize>(idx * D) << 3);
    let a: f64 = 0;
    for (let q: i32 = 0; q < D; q++) a += ld(o, q) * ld(d, q);
    a *= ld(rho, idx);
    st(alpha, idx, a);
    for (let q: i32 = 0; q < D; q++) st(d, q, ld(d, q) - a * ld(yo, q));
    idx = (idx + MEMORY - 1) % MEMORY;
  }
  if (stored > 0) {
    const yo = Y + (<usize>(newest * D) << 3);
    let yy: f64 = 0;
    for (let q: i32 = 0; q < D; q++) yy += ld(yo, q) * ld(yo, q);
    gamma = 1 / (ld(rho, newest) * yy);
  }
  for (let q: i32 = 0; q < D; q++) st(d, q, ld(d, q) * gamma);
  idx = (newest + MEMORY - stored + 1) % MEMORY;
  for (let m: i32 = 0; m < stored; m++) {
    const o = S + (<usize>(idx * D) << 3), yo = Y + (<usize>(idx * D) << 3);
    let b: f64 = 0;
    for (let q: i32 = 0; q < D; q++) b += ld(yo, q) * ld(d, q);
    b *= ld(rho, idx);
    const c = ld(alpha, idx) - b;
    for (let q: i32 = 0; q < D; q++) st(d, q, ld(d, q) + c * ld(o, q));
    idx = (idx + 1) % MEMORY;
  }
  let df: f64 = 0;
  for (let q: i32 = 0; q < D; q++) {
    const v = ld(d, q) * ld(mask, q);
    st(d, q, v);
    df += v * ld(F, q);
  }
  if (!(df > 0)) for (let q: i32 = 0; q < D; q++) st(d, q, 0.05 * ld(F, q));
}

/** NEB forces and objectives of every interior image (as the twin's bandForces); 0 or NON_FINITE. */
function bandForces(
  out: usize, force: usize, funcs: usize, tangent: usize, dense: usize, extra: usize, extraStart: usize,
  n: i32, nInterior: i32, P: i32, spring: f64, info: usize,
): i32 {
  const n3 = 3 * n;
  for (let k: i32 = 1; k <= nInterior; k++) {
    const x = out + (<usize>(k * n3) << 3);
    const g = force + (<usize>((k - 1) * n3) << 3);
    memory.fill(g, 0, <usize>n3 << 3);
    let func: f64 = 0;
    let r = dense + (<usize>(5 * (k - 1) * P) << 3);
    const gEnd = g + (<usize>n3 << 3);
    for (let i: i32 = 0; i < n; i++) {
      const xp = x + (<usize>(3 * i) << 3);
      const xi = load<f64>(xp), yi = load<f64>(xp, 8), zi = load<f64>(xp, 16);
      let gx: f64 = 0, gy: f64 = 0, gz: f64 = 0;
      let xj = xp + 24;
      let gj = g + (<usize>(3 * i + 3) << 3);
      for (; gj < gEnd; gj += 24, xj += 24, r += 40) {
        const dx = (xi - load<f64>(xj)) - load<f64>(r);
        const dy = (yi - load<f64>(xj, 8)) - load<f64>(r, 8);
        const dz = (zi - load<f64>(xj, 16)) - load<f64>(r, 16);
        const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
        const diff = d - load<f64>(r, 24);
        const wd = diff * load<f64>(r, 32);
        func += diff * wd;
        const aux = wd / d;
        gx += aux * dx;
        gy += aux * dy;
        gz += aux * dz;
        store<f64>(gj, load<f64>(gj) - aux * dx);
        store<f64>(gj, load<f64>(gj, 8) - aux * dy, 8);
        store<f64>(gj, load<f64>(gj, 16) - aux * dz, 16);
      }
      const gi = g + (<usize>(3 * i) << 3);
      store<f64>(gi, load<f64>(gi) + gx);
      store<f64>(gi, load<f64>(gi, 8) + gy, 8);
      store<f64>(gi, load<f64>(gi, 16) + gz, 16);
    }
    const e1 = <i32>ld(extraStart, k);
    for (let e = <i32>ld(extraStart, k - 1); e < e1; e++) {
      const q = 7 * e;
      const i = <i32>ld(extra, q), j = <i32>ld(extra, q + 1);
      const dx = (ld(x, 3 * i) - ld(x, 3 * j)) - ld(extra, q + 2);
      const dy = (ld(x, 3 * i + 1) - ld(x, 3 * j + 1)) - ld(extra, q + 3);
      const dz = (ld(x, 3 * i + 2) - ld(x, 3 * j + 2)) - ld(extra, q + 4);
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const diff = d - ld(extra, q + 5);
      const wd = diff * ld(extra, q + 6);
      func += diff * wd;
      const aux = wd / d;
      st(g, 3 * i, ld(g, 3 * i) + aux * dx);
      st(g, 3 * i + 1, ld(g, 3 * i + 1) + aux * dy);
      st(g, 3 * i + 2, ld(g, 3 * i + 2) + aux * dz);
      st(g, 3 * j, ld(g, 3 * j) - aux * dx);
      st(g, 3 * j + 1, ld(g, 3 * j + 1) - aux * dy);
      st(g, 3 * j + 2, ld(g, 3 * j + 2) - aux * dz);
    }
    if (!isFinite(func)) {
      setInfo(info, k, -1, -1, func);
      return STATUS_NON_FINITE;
    }
    st(funcs, k - 1, func);
    for (let q: i32 = 0; q < n3; q++) st(g, q, -2 * ld(g, q));
  }
  for (let k: i32 = 1; k <= nInterior; k++) {
    const prev = out + (<usize>((k - 1) * n3) << 3);
    const cur = prev + (<usize>n3 << 3), next = cur + (<usize>n3 << 3);
    const g = force + (<usize>((k - 1) * n3) << 3);
    let s1: f64 = 0, s2: f64 = 0;
    for (let q: i32 = 0; q < n3; q++) {
      const v1 = ld(next, q) - ld(cur, q);
      const v2 = ld(cur, q) - ld(prev, q);
      s1 += v1 * v1;
      s2 += v2 * v2;
    }
    const n1 = Math.sqrt(s1), n2 = Math.sqrt(s2);
    let stt: f64 = 0;
    for (let q: i32 = 0; q < n3; q++) {
      const tr = (ld(next, q) - ld(cur, q)) / n1 + (ld(cur, q) - ld(prev, q)) / n2;
      st(tangent, q, tr);
      stt += tr * tr;
    }
    const nt = Math.sqrt(stt);
    let fdot: f64 = 0;
    for (let q: i32 = 0; q < n3; q++) {
      const t = ld(tangent, q) / nt;
      st(tangent, q, t);
      fdot += ld(g, q) * t;
    }
    const sp = spring * (n1 - n2);
    let check: f64 = 0;
    for (let q: i32 = 0; q < n3; q++) {
      const t = ld(tangent, q);
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
