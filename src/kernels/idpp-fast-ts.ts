/**
 * Fast IDPP — the plain-TypeScript twin of `assembly/idpp-fast.ts` (same algorithm, same operation
 * order, bit-identical results; see that file's header for the method, the tie rule and the ABI).
 *
 * Conventions: cell = 9 numbers, rows are lattice vectors (Å); start/end are fractional coordinates,
 * xyz interleaved; `out` receives the Cartesian coordinates (Å) of all nInterior + 2 images,
 * image-major: out[(k·n + a)·3 + c]. Returns iterations (>= 0; info[0] = 1 if converged) or a
 * status code < 0 (IDPP_STATUS) with info = [image, i, j, value].
 */
import { IDPP_FLAG_MIC, IDPP_STATUS, MAX_IMAGE_RANGE } from './idpp-ts.js';

/** Periodic images of a pair whose straight-line distances lie within this of the shortest share its weight, Å. */
export const IDPP_FAST_TIE_ANG = 1e-5;
/** Most equally near images one pair may have (8 at the corner of a rectangular cell). */
export const IDPP_FAST_MAX_TIES = 16;
/** Steps kept by the L-BFGS history. */
export const IDPP_FAST_MEMORY = 20;
/** Accepted steps without a new smallest force after which the run restarts from its best state. */
export const IDPP_FAST_STALL_STEPS = 40;

/** Scratch state of the image search (module-level: no allocation per pair). */
const tie = { count: 0, d2: 0, s: new Float64Array(3 * IDPP_FAST_MAX_TIES) };

/**
 * Every image of the fractional displacement (e0, e1, e2) = f_j − f_i whose length is within
 * IDPP_FAST_TIE_ANG of the shortest: tie.s = their integer shifts (enumeration order a, b, c
 * ascending), tie.count, tie.d2 = the shortest squared length. Returns false when the search box
 * exceeds MAX_IMAGE_RANGE or more than IDPP_FAST_MAX_TIES images tie.
 */
function nearImages(c: ArrayLike<number>, h0: number, h1: number, h2: number, e0: number, e1: number, e2: number): boolean {
  const r0 = Math.round(e0), r1 = Math.round(e1), r2 = Math.round(e2);
  const v0 = e0 - r0, v1 = e1 - r1, v2 = e2 - r2;
  const x0 = v0 * c[0]! + v1 * c[3]! + v2 * c[6]!;
  const y0 = v0 * c[1]! + v1 * c[4]! + v2 * c[7]!;
  const z0 = v0 * c[2]! + v1 * c[5]! + v2 * c[8]!;
  // Every image within the tie margin of the shortest is at most r long, so |component k| <= r / h_k.
  const r = (Math.sqrt(x0 * x0 + y0 * y0 + z0 * z0) + IDPP_FAST_TIE_ANG) * (1 + 1e-9) + 1e-12;
  const lo0 = Math.ceil(-r / h0 - v0), hi0 = Math.floor(r / h0 - v0);
  const lo1 = Math.ceil(-r / h1 - v1), hi1 = Math.floor(r / h1 - v1);
  const lo2 = Math.ceil(-r / h2 - v2), hi2 = Math.floor(r / h2 - v2);
  if (hi0 - lo0 > 2 * MAX_IMAGE_RANGE || hi1 - lo1 > 2 * MAX_IMAGE_RANGE || hi2 - lo2 > 2 * MAX_IMAGE_RANGE) return false;
  let best = Infinity;
  for (let m0 = lo0; m0 <= hi0; m0++)
    for (let m1 = lo1; m1 <= hi1; m1++)
      for (let m2 = lo2; m2 <= hi2; m2++) {
        const a = v0 + m0, b = v1 + m1, g = v2 + m2;
        const x = a * c[0]! + b * c[3]! + g * c[6]!;
        const y = a * c[1]! + b * c[4]! + g * c[7]!;
        const z = a * c[2]! + b * c[5]! + g * c[8]!;
        const d2 = x * x + y * y + z * z;
        if (d2 < best) best = d2;
      }
  const lim = Math.sqrt(best) + IDPP_FAST_TIE_ANG;
  const limit = lim * lim;
  let count = 0;
  for (let m0 = lo0; m0 <= hi0; m0++)
    for (let m1 = lo1; m1 <= hi1; m1++)
      for (let m2 = lo2; m2 <= hi2; m2++) {
        const a = v0 + m0, b = v1 + m1, g = v2 + m2;
        const x = a * c[0]! + b * c[3]! + g * c[6]!;
        const y = a * c[1]! + b * c[4]! + g * c[7]!;
        const z = a * c[2]! + b * c[5]! + g * c[8]!;
        if (x * x + y * y + z * z > limit) continue;
        if (count === IDPP_FAST_MAX_TIES) return false;
        tie.s[3 * count] = m0 - r0;
        tie.s[3 * count + 1] = m1 - r1;
        tie.s[3 * count + 2] = m2 - r2;
        count++;
      }
  tie.count = count;
  tie.d2 = best;
  return true;
}

/** Perpendicular heights of the cell (h_k = 1 / |column k of the inverse|), or null if singular. */
function heights(c: ArrayLike<number>): [number, number, number] | null {
  const det = c[0]! * (c[4]! * c[8]! - c[5]! * c[7]!) - c[1]! * (c[3]! * c[8]! - c[5]! * c[6]!) + c[2]! * (c[3]! * c[7]! - c[4]! * c[6]!);
  if (!(Math.abs(det) > 1e-12) || !Number.isFinite(det)) return null;
  const i0 = (c[4]! * c[8]! - c[5]! * c[7]!) / det, i3 = (c[5]! * c[6]! - c[3]! * c[8]!) / det, i6 = (c[3]! * c[7]! - c[4]! * c[6]!) / det;
  const i1 = (c[2]! * c[7]! - c[1]! * c[8]!) / det, i4 = (c[0]! * c[8]! - c[2]! * c[6]!) / det, i7 = (c[1]! * c[6]! - c[0]! * c[7]!) / det;
  const i2 = (c[1]! * c[5]! - c[2]! * c[4]!) / det, i5 = (c[2]! * c[3]! - c[0]! * c[5]!) / det, i8 = (c[0]! * c[4]! - c[1]! * c[3]!) / det;
  return [1 / Math.sqrt(i0 * i0 + i3 * i3 + i6 * i6), 1 / Math.sqrt(i1 * i1 + i4 * i4 + i7 * i7), 1 / Math.sqrt(i2 * i2 + i5 * i5 + i8 * i8)];
}

function fail(info: Float64Array, image: number, i: number, j: number, v: number, status: number): number {
  info[0] = image;
  info[1] = i;
  info[2] = j;
  info[3] = v;
  return status;
}

/** k rounded up to even. */
function even(k: number): number {
  return (k + 1) & ~1;
}

/** The image stride: 3n rounded up to a multiple of 4 (the kernel's f64x2 loops take 4 words a step). */
function stride(n: number): number {
  return (3 * n + 3) & ~3;
}

/**
 * The straight path between the images (see the kernel's pathGuard): false, with info = [t, i, j,
 * distance], when two atoms come closer than minDist anywhere along it.
 */
function pathGuard(band: Float64Array, pairs: Float64Array, Pp: number, n: number, m: number, n3p: number, start: ArrayLike<number>, endUsed: ArrayLike<number>, minDist: number, info: Float64Array): boolean {
  const e = (m + 1) * n3p;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const si = isStatic(start, endUsed, i);
    for (let j = i + 1; j < n; j++, p++) {
      if (si && isStatic(start, endUsed, j)) continue;
      const a0 = band[i]! - band[j]!, a1 = band[n + i]! - band[n + j]!, a2 = band[2 * n + i]! - band[2 * n + j]!;
      const b0 = (band[e + i]! - band[e + j]!) - a0, b1 = (band[e + n + i]! - band[e + n + j]!) - a1, b2 = (band[e + 2 * n + i]! - band[e + 2 * n + j]!) - a2;
      const bb = b0 * b0 + b1 * b1 + b2 * b2;
      for (let k = 0; k < m; k++) {
        const rec = 5 * k * Pp;
        const c0 = a0 - pairs[rec + p]!, c1 = a1 - pairs[rec + Pp + p]!, c2 = a2 - pairs[rec + 2 * Pp + p]!;
        let t = bb > 0 ? -(c0 * b0 + c1 * b1 + c2 * b2) / bb : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const x = c0 + t * b0, y = c1 + t * b1, z = c2 + t * b2;
        const d = Math.sqrt(x * x + y * y + z * z);
        if (d < minDist) {
          info[0] = t; info[1] = i; info[2] = j; info[3] = d;
          return false;
        }
      }
    }
  }
  return true;
}

/** True when site a's end coordinates equal its start coordinates bit for bit. */
function isStatic(start: ArrayLike<number>, endUsed: ArrayLike<number>, a: number): boolean {
  return start[3 * a] === endUsed[3 * a] && start[3 * a + 1] === endUsed[3 * a + 1] && start[3 * a + 2] === endUsed[3 * a + 2];
}

/** The pair terms of one run (layout of the kernel's scratch, see assembly/idpp-fast.ts). */
interface Terms {
  /** Per interior image k (1-based) at 5·(k − 1)·Pp: Tx, Ty, Tz (Å), target (Å), weight, each Pp long. */
  pairs: Float64Array;
  /** Pairs rounded up to even: the stride of the arrays in `pairs`. */
  Pp: number;
  /** 7 per extra term: i, j, Tx, Ty, Tz, target, weight. */
  extra: Float64Array;
  /** Extra terms of interior image k (1-based) are extraStart[k − 1] … extraStart[k] − 1. */
  extraStart: Int32Array;
  /** Extra terms of row i (site i, partners j > i) in interior image k: rowStart[(k − 1)·(n + 1) + i] … [… + i + 1] − 1. */
  rowStart: Int32Array;
}

/**
 * The fast IDPP relaxation on raw arrays (see assembly/idpp-fast.ts for the contract). `maxStep`:
 * largest displacement of one atom per iteration, Å.
 */
export function idppFastKernelTs(
  cell: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>, n: number, nInterior: number,
  moving: ArrayLike<number>, spring: number, maxStep: number, maxIter: number, tol: number, gtol: number, minDist: number, flags: number,
  out: Float64Array, endUsed: Float64Array, info: Float64Array,
): number {
  const c = cell;
  const h = heights(c);
  if (!h) return IDPP_STATUS.SINGULAR_CELL;
  const [h0, h1, h2] = h;
  const m = nInterior;
  const nImg = m + 2;
  const n3 = 3 * n;
  const n3p = stride(n);
  const D = m * n3p;
  for (let a = 0; a < n; a++) {
    for (let q = 3 * a; q < 3 * a + 3; q++) endUsed[q] = end[q]!;
    if ((flags & IDPP_FLAG_MIC) !== 0) {
      const e0 = end[3 * a]! - start[3 * a]!, e1 = end[3 * a + 1]! - start[3 * a + 1]!, e2 = end[3 * a + 2]! - start[3 * a + 2]!;
      if (!nearImages(c, h0, h1, h2, e0, e1, e2)) return fail(info, nImg - 1, a, a, 0, IDPP_STATUS.TOO_MANY_IMAGES);
      // A tie here (an atom moving by exactly half a lattice vector) goes to the first image found.
      endUsed[3 * a] = start[3 * a]! + (e0 + tie.s[0]!);
      endUsed[3 * a + 1] = start[3 * a + 1]! + (e1 + tie.s[1]!);
      endUsed[3 * a + 2] = start[3 * a + 2]! + (e2 + tie.s[2]!);
    }
  }
  // Straight-line images: fractional (for the image search), Cartesian into `out` and into the band
  // (structure of arrays per image, [X | Y | Z], stride n3p).
  const frac = new Float64Array(nImg * n3);
  const band = new Float64Array(nImg * n3p);
  for (let k = 0; k < nImg; k++) {
    const x = k / (nImg - 1);
    for (let q = 0; q < n3; q++) frac[k * n3 + q] = k === 0 ? start[q]! : k === nImg - 1 ? endUsed[q]! : start[q]! + x * (endUsed[q]! - start[q]!);
    const b = k * n3p;
    for (let a = 0; a < n; a++) {
      const p = k * n3 + 3 * a;
      const f0 = frac[p]!, f1 = frac[p + 1]!, f2 = frac[p + 2]!;
      const x0 = f0 * c[0]! + f1 * c[3]! + f2 * c[6]!;
      const y0 = f0 * c[1]! + f1 * c[4]! + f2 * c[7]!;
      const z0 = f0 * c[2]! + f1 * c[5]! + f2 * c[8]!;
      out[p] = x0;
      out[p + 1] = y0;
      out[p + 2] = z0;
      band[b + a] = x0;
      band[b + n + a] = y0;
      band[b + 2 * n + a] = z0;
    }
  }

  const P = (n * (n - 1)) / 2;
  const Pp = even(P);
  const pairs = new Float64Array(5 * m * Pp);
  let extra = new Float64Array(7 * 64);
  const extraStart = new Int32Array(m + 1);
  let nExtra = 0;
  let closest = Infinity, cImg = -1, cI = -1, cJ = -1;
  const endBase = (nImg - 1) * n3;
  const dEnds = new Float64Array(2 * P);
  const push = (i: number, j: number, tx: number, ty: number, tz: number, t: number, w: number): void => {
    if (7 * (nExtra + 1) > extra.length) {
      const grown = new Float64Array(2 * extra.length);
      grown.set(extra);
      extra = grown;
    }
    const q = 7 * nExtra++;
    extra[q] = i; extra[q + 1] = j; extra[q + 2] = tx; extra[q + 3] = ty; extra[q + 4] = tz; extra[q + 5] = t; extra[q + 6] = w;
  };
  /** Terms of pair p in interior image k from the last nearImages call (the kernel's pairTerms). */
  const pairTerms = (k: number, p: number, i: number, j: number, t: number, dk: number): void => {
    const avg = (t + dk) / 2;
    const w = 1 / (avg * avg * (avg * avg)) / tie.count;
    const rec = 5 * (k - 1) * Pp;
    for (let q = 0; q < tie.count; q++) {
      const s0 = tie.s[3 * q]!, s1 = tie.s[3 * q + 1]!, s2 = tie.s[3 * q + 2]!;
      const tx = s0 * c[0]! + s1 * c[3]! + s2 * c[6]!;
      const ty = s0 * c[1]! + s1 * c[4]! + s2 * c[7]!;
      const tz = s0 * c[2]! + s1 * c[5]! + s2 * c[8]!;
      if (q === 0) {
        pairs[rec + p] = tx; pairs[rec + Pp + p] = ty; pairs[rec + 2 * Pp + p] = tz; pairs[rec + 3 * Pp + p] = t; pairs[rec + 4 * Pp + p] = w;
      } else push(i, j, tx, ty, tz, t, w);
    }
  };
  // A pair of two sites whose ends equal their starts has the same terms in every image: they come
  // from the start image's search (see the kernel). Image 1 is done in the pass over the endpoints.
  const x1f = 1 / (m + 1);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const si = isStatic(start, endUsed, i);
    for (let j = i + 1; j < n; j++, p++) {
      if (!nearImages(c, h0, h1, h2, frac[3 * j]! - frac[3 * i]!, frac[3 * j + 1]! - frac[3 * i + 1]!, frac[3 * j + 2]! - frac[3 * i + 2]!)) {
        return fail(info, 0, i, j, 0, IDPP_STATUS.TOO_MANY_IMAGES);
      }
      const d0 = Math.sqrt(tie.d2);
      if (d0 < closest) { closest = d0; cImg = 0; cI = i; cJ = j; }
      dEnds[2 * p] = d0;
      if (si && isStatic(start, endUsed, j)) {
        dEnds[2 * p + 1] = d0;
        pairTerms(1, p, i, j, d0 + x1f * (d0 - d0), d0);
        continue;
      }
      if (!nearImages(c, h0, h1, h2, frac[endBase + 3 * j]! - frac[endBase + 3 * i]!, frac[endBase + 3 * j + 1]! - frac[endBase + 3 * i + 1]!, frac[endBase + 3 * j + 2]! - frac[endBase + 3 * i + 2]!)) {
        return fail(info, nImg - 1, i, j, 0, IDPP_STATUS.TOO_MANY_IMAGES);
      }
      const d1 = Math.sqrt(tie.d2);
      if (d1 < closest) { closest = d1; cImg = nImg - 1; cI = i; cJ = j; }
      dEnds[2 * p + 1] = d1;
      if (!nearImages(c, h0, h1, h2, frac[n3 + 3 * j]! - frac[n3 + 3 * i]!, frac[n3 + 3 * j + 1]! - frac[n3 + 3 * i + 1]!, frac[n3 + 3 * j + 2]! - frac[n3 + 3 * i + 2]!)) {
        return fail(info, 1, i, j, 0, IDPP_STATUS.TOO_MANY_IMAGES);
      }
      const dk = Math.sqrt(tie.d2);
      if (dk < closest) { closest = dk; cImg = 1; cI = i; cJ = j; }
      pairTerms(1, p, i, j, d0 + x1f * (d1 - d0), dk);
    }
  }
  // Images 2 … m, image-major, so each image's extra terms are contiguous and in pair order.
  for (let k = 2; k <= m; k++) {
    extraStart[k - 1] = nExtra;
    const b = k * n3;
    const x = k / (m + 1);
    const rec = 5 * (k - 1) * Pp;
    // Cursor over image 1's tie terms (same pair order); static pairs copy theirs.
    let e1 = 0;
    const e1End = extraStart[1]!;
    p = 0;
    for (let i = 0; i < n; i++) {
      const si = isStatic(start, endUsed, i);
      for (let j = i + 1; j < n; j++, p++) {
        if (si && isStatic(start, endUsed, j)) {
          for (let f = 0; f < 5; f++) pairs[rec + f * Pp + p] = pairs[f * Pp + p]!;
          while (e1 < e1End && extra[7 * e1] === i && extra[7 * e1 + 1] === j) {
            const q = 7 * e1;
            push(extra[q]!, extra[q + 1]!, extra[q + 2]!, extra[q + 3]!, extra[q + 4]!, extra[q + 5]!, extra[q + 6]!);
            e1++;
          }
          continue;
        }
        while (e1 < e1End && extra[7 * e1] === i && extra[7 * e1 + 1] === j) e1++;
        if (!nearImages(c, h0, h1, h2, frac[b + 3 * j]! - frac[b + 3 * i]!, frac[b + 3 * j + 1]! - frac[b + 3 * i + 1]!, frac[b + 3 * j + 2]! - frac[b + 3 * i + 2]!)) {
          return fail(info, k, i, j, 0, IDPP_STATUS.TOO_MANY_IMAGES);
        }
        const dk = Math.sqrt(tie.d2);
        if (dk < closest) { closest = dk; cImg = k; cI = i; cJ = j; }
        const d0 = dEnds[2 * p]!, d1 = dEnds[2 * p + 1]!;
        pairTerms(k, p, i, j, d0 + x * (d1 - d0), dk);
      }
    }
  }
  extraStart[m] = nExtra;
  if (closest < minDist) return fail(info, cImg, cI, cJ, closest, IDPP_STATUS.TOO_CLOSE);
  if (minDist > 0 && !pathGuard(band, pairs, Pp, n, m, n3p, start, endUsed, minDist, info)) return IDPP_STATUS.PATH_TOO_CLOSE;
  // Extra terms are in pair order, so by row: where each row's start in each image.
  const rowStart = new Int32Array(m * (n + 1));
  for (let k = 0; k < m; k++) {
    let e = extraStart[k]!;
    for (let i = 0; i <= n; i++) {
      rowStart[k * (n + 1) + i] = e;
      while (e < extraStart[k + 1]! && extra[7 * e] === i) e++;
    }
  }
  const terms: Terms = { pairs, Pp, extra, extraStart, rowStart };

  const force = new Float64Array(D);
  const funcs = new Float64Array(m);
  const tangent = new Float64Array(n3p);
  const mask = new Float64Array(D);
  let allMoving = true;
  for (let a = 0; a < n; a++) {
    if (moving[a] === 0) allMoving = false;
    else for (let k = 0; k < m; k++) for (let cc = 0; cc < 3; cc++) mask[k * n3p + cc * n + a] = 1;
  }
  // Accepted state: coordinates of the interior images, force, objectives.
  const xAcc = new Float64Array(D);
  const fAcc = new Float64Array(D);
  const eAcc = new Float64Array(m);
  const step = new Float64Array(D);
  const M = IDPP_FAST_MEMORY;
  const S = new Float64Array(M * D), Y = new Float64Array(M * D), rho = new Float64Array(M), alpha = new Float64Array(M);
  let stored = 0, newest = 0;
  let trust = maxStep;
  let converged = false;
  let evaluations = 0;
  const x1 = band.subarray(n3p, n3p + D);
  let status = bandForces(band, force, funcs, tangent, terms, n, m, spring, info);
  if (status < 0) return status;
  let maxForce = finishForce(force, mask, n, m, allMoving);
  xAcc.set(x1);
  fAcc.set(force);
  eAcc.set(funcs);
  let fAccN2 = dot(force, 0, force, 0, D);
  const xBest = Float64Array.from(xAcc);
  const fBest = Float64Array.from(fAcc);
  const eBest = Float64Array.from(eAcc);
  let bestN2 = fAccN2, bestMax = maxForce;
  let sinceBest = 0;
  let totRes = Infinity;
  while (evaluations < maxIter) {
    if (totRes < tol && maxForce < gtol) {
      converged = true;
      break;
    }
    lbfgsDirection(fAcc, mask, S, Y, rho, alpha, stored, newest, M, D, step);
    let big = 0;
    for (let k = 0; k < m; k++) {
      const s = k * n3p;
      for (let a = 0; a < n; a++) {
        const sx = step[s + a]!, sy = step[s + n + a]!, sz = step[s + 2 * n + a]!;
        big = Math.max(big, sx * sx + sy * sy + sz * sz);
      }
    }
    big = Math.sqrt(big);
    const scale = big > trust ? trust / big : 1;
    for (let q = 0; q < D; q++) {
      step[q] = step[q]! * scale;
      x1[q] = xAcc[q]! + step[q]!;
    }
    status = bandForces(band, force, funcs, tangent, terms, n, m, spring, info);
    if (status < 0) return status;
    evaluations++;
    const mf = finishForce(force, mask, n, m, allMoving);
    const fn2 = dot(force, 0, force, 0, D);
    if (fn2 > REJECT_FACTOR * REJECT_FACTOR * fAccN2) {
      // The force more than quadrupled: back to the accepted state, forget the history, shorter steps.
      x1.set(xAcc);
      stored = 0;
      trust = Math.max(trust / 4, 1e-6);
      continue;
    }
    const slot = stored === 0 ? 0 : (newest + 1) % M;
    const so = slot * D;
    for (let q = 0; q < D; q++) {
      S[so + q] = x1[q]! - xAcc[q]!;
      Y[so + q] = fAcc[q]! - force[q]!;
    }
    const sy = dot(S, so, Y, so, D), yy = dot(Y, so, Y, so, D), ss = dot(S, so, S, so, D);
    if (sy > 1e-12 * Math.sqrt(ss * yy)) {
      rho[slot] = 1 / sy;
      newest = slot;
      stored = Math.min(stored + 1, M);
    } else if (stored === M) stored = M - 1; // the slot written was the oldest pair's
    totRes = 0;
    for (let k = 0; k < m; k++) totRes += Math.abs(eAcc[k]! - funcs[k]!);
    xAcc.set(x1);
    fAcc.set(force);
    eAcc.set(funcs);
    fAccN2 = fn2;
    maxForce = mf;
    trust = Math.min(trust * 2, maxStep);
    if (fn2 < bestN2) {
      bestN2 = fn2;
      bestMax = mf;
      xBest.set(xAcc);
      fBest.set(fAcc);
      eBest.set(eAcc);
      sinceBest = 0;
    } else if (++sinceBest === IDPP_FAST_STALL_STEPS) {
      // No smaller force for a while (the NEB force is not a gradient, so the band can wander):
      // back to the best state, history dropped, shorter steps.
      x1.set(xBest);
      xAcc.set(xBest);
      fAcc.set(fBest);
      eAcc.set(eBest);
      fAccN2 = bestN2;
      maxForce = bestMax;
      totRes = Infinity;
      stored = 0;
      trust = Math.max(trust / 4, 1e-6);
      sinceBest = 0;
    }
  }
  // Not converged (a path through another atom, mostly): the state with the smallest force seen.
  const fin = converged ? xAcc : xBest;
  for (let k = 1; k <= m; k++) {
    const b = (k - 1) * n3p;
    for (let a = 0; a < n; a++) {
      const o = k * n3 + 3 * a;
      out[o] = fin[b + a]!;
      out[o + 1] = fin[b + n + a]!;
      out[o + 2] = fin[b + 2 * n + a]!;
    }
  }
  info[0] = converged ? 1 : 0;
  info[1] = 0; info[2] = 0; info[3] = 0;
  return evaluations;
}

/**
 * A trial step is rejected when it more than quadruples the norm of the NEB force (the NEB force is
 * not the gradient of one function, so there is no objective to search along). Measured: rejecting
 * at a doubled norm (and dropping the history) cost ~30 % more force evaluations.
 */
const REJECT_FACTOR = 4;

/**
 * Σ a[ao + q]·b[bo + q] over D (a multiple of 4) entries as four partial sums over q mod 4, added as
 * (s0 + s1) + (s2 + s3): the kernel's two f64x2 accumulators.
 */
function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, D: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let q = 0; q < D; q += 4) {
    s0 += a[ao + q]! * b[bo + q]!;
    s1 += a[ao + q + 1]! * b[bo + q + 1]!;
    s2 += a[ao + q + 2]! * b[bo + q + 2]!;
    s3 += a[ao + q + 3]! * b[bo + q + 3]!;
  }
  return (s0 + s1) + (s2 + s3);
}

/**
 * Masks the force to the moving sites and, when every site moves, removes each image's net force:
 * a rigid translation of one image leaves its objective unchanged, and without this the band drifts
 * along that zero mode and never converges. Returns the largest force component left.
 */
function finishForce(force: Float64Array, mask: Float64Array, n: number, m: number, allMoving: boolean): number {
  const n3p = stride(n);
  if (allMoving) {
    for (let k = 0; k < m; k++) {
      for (let cc = 0; cc < 3; cc++) {
        const g = k * n3p + cc * n;
        let mean = 0;
        for (let a = 0; a < n; a++) mean += force[g + a]!;
        mean /= n;
        for (let a = 0; a < n; a++) force[g + a] = force[g + a]! - mean;
      }
    }
  }
  let maxForce = 0;
  const D = m * n3p;
  for (let q = 0; q < D; q++) {
    const f = force[q]! * mask[q]!;
    force[q] = f;
    const af = Math.abs(f);
    if (af > maxForce) maxForce = af;
  }
  return maxForce;
}

/**
 * L-BFGS direction (Nocedal, Math. Comp. 35, 773 (1980), two-loop recursion) for the gradient −F
 * from the `stored` newest pairs (s, y) ending at slot `newest`, initial inverse Hessian
 * (s·y / y·y) of the newest pair (a fixed 0.05, the exact mode's step, before any pair). Falls back
 * to that scaled force when the result is not a descent direction along F.
 */
function lbfgsDirection(
  F: Float64Array, mask: Float64Array, S: Float64Array, Y: Float64Array, rho: Float64Array, alpha: Float64Array,
  stored: number, newest: number, M: number, D: number, d: Float64Array,
): void {
  d.set(F);
  let gamma = 0.05;
  let idx = newest;
  for (let k = 0; k < stored; k++) {
    const o = idx * D;
    const a = dot(S, o, d, 0, D) * rho[idx]!;
    alpha[idx] = a;
    const na = -a;
    for (let q = 0; q < D; q++) d[q] = d[q]! + na * Y[o + q]!;
    idx = (idx + M - 1) % M;
  }
  if (stored > 0) {
    const o = newest * D;
    gamma = 1 / (rho[newest]! * dot(Y, o, Y, o, D));
  }
  for (let q = 0; q < D; q++) d[q] = d[q]! * gamma;
  idx = (newest + M - stored + 1) % M;
  for (let k = 0; k < stored; k++) {
    const o = idx * D;
    const b = dot(Y, o, d, 0, D) * rho[idx]!;
    const cf = alpha[idx]! - b;
    for (let q = 0; q < D; q++) d[q] = d[q]! + cf * S[o + q]!;
    idx = (idx + 1) % M;
  }
  for (let q = 0; q < D; q++) d[q] = d[q]! * mask[q]!;
  if (!(dot(d, 0, F, 0, D) > 0)) for (let q = 0; q < D; q++) d[q] = 0.05 * F[q]!;
}

/**
 * NEB forces of every interior image into `force` (true IDPP force perpendicular to the tangent plus
 * the spring force along it, as the exact kernel) and the objectives into `funcs`. Returns 0, or a
 * NON_FINITE status with `info` naming the image. Pairs (i, j), (i, j + 1) are taken two at a time
 * with separate sums, as the kernel's f64x2 lanes (see the kernel header for the summation order).
 */
function bandForces(
  band: Float64Array, force: Float64Array, funcs: Float64Array, tangent: Float64Array, terms: Terms,
  n: number, m: number, spring: number, info: Float64Array,
): number {
  const n3 = 3 * n, n3p = stride(n);
  const { pairs, Pp, extra, rowStart } = terms;
  for (let k = 1; k <= m; k++) {
    const X = k * n3p, Yc = X + n, Z = X + 2 * n;
    const g = (k - 1) * n3p, gY = g + n, gZ = g + 2 * n;
    const tx = 5 * (k - 1) * Pp, ty = tx + Pp, tz = tx + 2 * Pp, tt = tx + 3 * Pp, tw = tx + 4 * Pp;
    force.fill(0, g, g + n3p);
    const rs = (k - 1) * (n + 1);
    let f0 = 0, f1 = 0, funcR = 0, fe0 = 0, fe1 = 0, feR = 0;
    let p = 0;
    for (let i = 0; i < n; i++) {
      const xi = band[X + i]!, yi = band[Yc + i]!, zi = band[Z + i]!;
      let gx0 = 0, gy0 = 0, gz0 = 0, gx1 = 0, gy1 = 0, gz1 = 0;
      let j = i + 1;
      for (; j + 1 < n; j += 2, p += 2) {
        for (let l = 0; l < 2; l++) {
          const jl = j + l, pl = p + l;
          const dx = (xi - band[X + jl]!) - pairs[tx + pl]!;
          const dy = (yi - band[Yc + jl]!) - pairs[ty + pl]!;
          const dz = (zi - band[Z + jl]!) - pairs[tz + pl]!;
          const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
          const diff = d - pairs[tt + pl]!;
          const wd = diff * pairs[tw + pl]!;
          const aux = wd / d;
          const ax = aux * dx, ay = aux * dy, az = aux * dz;
          if (l === 0) {
            f0 += diff * wd;
            gx0 += ax; gy0 += ay; gz0 += az;
          } else {
            f1 += diff * wd;
            gx1 += ax; gy1 += ay; gz1 += az;
          }
          force[g + jl] = force[g + jl]! - ax;
          force[gY + jl] = force[gY + jl]! - ay;
          force[gZ + jl] = force[gZ + jl]! - az;
        }
      }
      // Row i's tie terms, two at a time into the same lane sums (the kernel's gathered f64x2 step);
      // the forces on j lane after lane.
      const rEnd = rowStart[rs + i + 1]!;
      let e = rowStart[rs + i]!;
      for (; e + 1 < rEnd; e += 2) {
        for (let l = 0; l < 2; l++) {
          const r = 7 * (e + l);
          const je = extra[r + 1]!;
          const dx = (xi - band[X + je]!) - extra[r + 2]!;
          const dy = (yi - band[Yc + je]!) - extra[r + 3]!;
          const dz = (zi - band[Z + je]!) - extra[r + 4]!;
          const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
          const diff = d - extra[r + 5]!;
          const wd = diff * extra[r + 6]!;
          const aux = wd / d;
          const ax = aux * dx, ay = aux * dy, az = aux * dz;
          if (l === 0) {
            fe0 += diff * wd;
            gx0 += ax; gy0 += ay; gz0 += az;
          } else {
            fe1 += diff * wd;
            gx1 += ax; gy1 += ay; gz1 += az;
          }
          force[g + je] = force[g + je]! - ax;
          force[gY + je] = force[gY + je]! - ay;
          force[gZ + je] = force[gZ + je]! - az;
        }
      }
      let gx = gx0 + gx1, gy = gy0 + gy1, gz = gz0 + gz1;
      if (j < n) {
        const dx = (xi - band[X + j]!) - pairs[tx + p]!;
        const dy = (yi - band[Yc + j]!) - pairs[ty + p]!;
        const dz = (zi - band[Z + j]!) - pairs[tz + p]!;
        const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
        const diff = d - pairs[tt + p]!;
        const wd = diff * pairs[tw + p]!;
        funcR += diff * wd;
        const aux = wd / d;
        gx += aux * dx;
        gy += aux * dy;
        gz += aux * dz;
        force[g + j] = force[g + j]! - aux * dx;
        force[gY + j] = force[gY + j]! - aux * dy;
        force[gZ + j] = force[gZ + j]! - aux * dz;
        p++;
      }
      if (e < rEnd) {
        const r = 7 * e;
        const je = extra[r + 1]!;
        const dx = (xi - band[X + je]!) - extra[r + 2]!;
        const dy = (yi - band[Yc + je]!) - extra[r + 3]!;
        const dz = (zi - band[Z + je]!) - extra[r + 4]!;
        const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
        const diff = d - extra[r + 5]!;
        const wd = diff * extra[r + 6]!;
        feR += diff * wd;
        const aux = wd / d;
        gx += aux * dx;
        gy += aux * dy;
        gz += aux * dz;
        force[g + je] = force[g + je]! - aux * dx;
        force[gY + je] = force[gY + je]! - aux * dy;
        force[gZ + je] = force[gZ + je]! - aux * dz;
      }
      force[g + i] = force[g + i]! + gx;
      force[gY + i] = force[gY + i]! + gy;
      force[gZ + i] = force[gZ + i]! + gz;
    }
    const func = ((f0 + f1) + funcR) + ((fe0 + fe1) + feR);
    if (!Number.isFinite(func)) return fail(info, k, -1, -1, func, IDPP_STATUS.NON_FINITE);
    funcs[k - 1] = func;
    for (let q3 = g; q3 < g + n3; q3++) force[q3] = -2 * force[q3]!;
  }
  // The NEB projection without divisions (reciprocal norms; F·τ = (F·τ_raw)/|τ_raw|), as the kernel.
  for (let k = 1; k <= m; k++) {
    const prev = (k - 1) * n3p, cur = k * n3p, next = (k + 1) * n3p;
    const g = (k - 1) * n3p;
    let s1 = 0, s2 = 0;
    for (let q3 = 0; q3 < n3; q3++) {
      const v1 = band[next + q3]! - band[cur + q3]!;
      const v2 = band[cur + q3]! - band[prev + q3]!;
      s1 += v1 * v1;
      s2 += v2 * v2;
    }
    const n1 = Math.sqrt(s1), n2 = Math.sqrt(s2);
    const r1 = 1 / n1, r2 = 1 / n2;
    let st = 0, gt = 0;
    for (let q3 = 0; q3 < n3; q3++) {
      const tr = (band[next + q3]! - band[cur + q3]!) * r1 + (band[cur + q3]! - band[prev + q3]!) * r2;
      tangent[q3] = tr;
      st += tr * tr;
      gt += force[g + q3]! * tr;
    }
    const rt = 1 / Math.sqrt(st);
    const fdot = gt * rt;
    const sp = spring * (n1 - n2);
    let check = 0;
    for (let q3 = 0; q3 < n3; q3++) {
      const t = tangent[q3]! * rt;
      const f = force[g + q3]! + (sp * t - fdot * t);
      force[g + q3] = f;
      check += f * 0;
    }
    if (!Number.isFinite(check)) return fail(info, k, -1, -1, NaN, IDPP_STATUS.NON_FINITE);
  }
  return 0;
}
