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
export const IDPP_FAST_MEMORY = 10;

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

/** The pair terms of one run: a dense record per (image, pair i < j) and the extra images of tied pairs. */
interface Terms {
  /** 5 per (image, pair): Tx, Ty, Tz (Å), target (Å), weight. */
  dense: Float64Array;
  /** 7 per extra term: i, j, Tx, Ty, Tz, target, weight. */
  extra: Float64Array;
  /** Extra terms of interior image k (1-based) are extraStart[k − 1] … extraStart[k] − 1. */
  extraStart: Int32Array;
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
  const nImg = nInterior + 2;
  const n3 = 3 * n;
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
  const frac = new Float64Array(nImg * n3);
  for (let k = 0; k < nImg; k++) {
    const x = k / (nImg - 1);
    for (let q = 0; q < n3; q++) frac[k * n3 + q] = k === 0 ? start[q]! : k === nImg - 1 ? endUsed[q]! : start[q]! + x * (endUsed[q]! - start[q]!);
    for (let a = 0; a < n; a++) {
      const p = k * n3 + 3 * a;
      const f0 = frac[p]!, f1 = frac[p + 1]!, f2 = frac[p + 2]!;
      out[p] = f0 * c[0]! + f1 * c[3]! + f2 * c[6]!;
      out[p + 1] = f0 * c[1]! + f1 * c[4]! + f2 * c[7]!;
      out[p + 2] = f0 * c[2]! + f1 * c[5]! + f2 * c[8]!;
    }
  }

  const P = (n * (n - 1)) / 2;
  const dense = new Float64Array(5 * nInterior * P);
  let extra = new Float64Array(7 * 64);
  const extraStart = new Int32Array(nInterior + 1);
  let nExtra = 0;
  let closest = Infinity, cImg = -1, cI = -1, cJ = -1;
  const endBase = (nImg - 1) * n3;
  const dEnds = new Float64Array(2 * P);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, p++) {
      if (!nearImages(c, h0, h1, h2, frac[3 * j]! - frac[3 * i]!, frac[3 * j + 1]! - frac[3 * i + 1]!, frac[3 * j + 2]! - frac[3 * i + 2]!)) {
        return fail(info, 0, i, j, 0, IDPP_STATUS.TOO_MANY_IMAGES);
      }
      const d0 = Math.sqrt(tie.d2);
      if (d0 < closest) { closest = d0; cImg = 0; cI = i; cJ = j; }
      if (!nearImages(c, h0, h1, h2, frac[endBase + 3 * j]! - frac[endBase + 3 * i]!, frac[endBase + 3 * j + 1]! - frac[endBase + 3 * i + 1]!, frac[endBase + 3 * j + 2]! - frac[endBase + 3 * i + 2]!)) {
        return fail(info, nImg - 1, i, j, 0, IDPP_STATUS.TOO_MANY_IMAGES);
      }
      const d1 = Math.sqrt(tie.d2);
      if (d1 < closest) { closest = d1; cImg = nImg - 1; cI = i; cJ = j; }
      dEnds[2 * p] = d0;
      dEnds[2 * p + 1] = d1;
    }
  }
  // Image-major, so each image's extra terms are contiguous.
  for (let k = 1; k <= nInterior; k++) {
    extraStart[k - 1] = nExtra;
    const b = k * n3;
    const x = k / (nInterior + 1);
    p = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++, p++) {
        if (!nearImages(c, h0, h1, h2, frac[b + 3 * j]! - frac[b + 3 * i]!, frac[b + 3 * j + 1]! - frac[b + 3 * i + 1]!, frac[b + 3 * j + 2]! - frac[b + 3 * i + 2]!)) {
          return fail(info, k, i, j, 0, IDPP_STATUS.TOO_MANY_IMAGES);
        }
        const dk = Math.sqrt(tie.d2);
        if (dk < closest) { closest = dk; cImg = k; cI = i; cJ = j; }
        const d0 = dEnds[2 * p]!, d1 = dEnds[2 * p + 1]!;
        const t = d0 + x * (d1 - d0);
        const avg = (t + dk) / 2;
        const w = 1 / (avg * avg * (avg * avg)) / tie.count;
        for (let m = 0; m < tie.count; m++) {
          const s0 = tie.s[3 * m]!, s1 = tie.s[3 * m + 1]!, s2 = tie.s[3 * m + 2]!;
          const tx = s0 * c[0]! + s1 * c[3]! + s2 * c[6]!;
          const ty = s0 * c[1]! + s1 * c[4]! + s2 * c[7]!;
          const tz = s0 * c[2]! + s1 * c[5]! + s2 * c[8]!;
          if (m === 0) {
            const q = 5 * ((k - 1) * P + p);
            dense[q] = tx; dense[q + 1] = ty; dense[q + 2] = tz; dense[q + 3] = t; dense[q + 4] = w;
          } else {
            if (7 * (nExtra + 1) > extra.length) {
              const grown = new Float64Array(2 * extra.length);
              grown.set(extra);
              extra = grown;
            }
            const q = 7 * nExtra++;
            extra[q] = i; extra[q + 1] = j; extra[q + 2] = tx; extra[q + 3] = ty; extra[q + 4] = tz; extra[q + 5] = t; extra[q + 6] = w;
          }
        }
      }
    }
  }
  extraStart[nInterior] = nExtra;
  if (closest < minDist) return fail(info, cImg, cI, cJ, closest, IDPP_STATUS.TOO_CLOSE);
  const terms: Terms = { dense, extra, extraStart };

  const dim = nInterior * n3;
  const force = new Float64Array(dim);
  const funcs = new Float64Array(nInterior);
  const tangent = new Float64Array(n3);
  const mask = new Float64Array(dim);
  let allMoving = true;
  for (let a = 0; a < n; a++) {
    if (moving[a] === 0) allMoving = false;
    else for (let k = 0; k < nInterior; k++) mask.fill(1, k * n3 + 3 * a, k * n3 + 3 * a + 3);
  }
  // Accepted state: coordinates of the interior images, force, objectives.
  const xAcc = new Float64Array(dim);
  const fAcc = new Float64Array(dim);
  const eAcc = new Float64Array(nInterior);
  const step = new Float64Array(dim);
  const M = IDPP_FAST_MEMORY;
  const S = new Float64Array(M * dim), Y = new Float64Array(M * dim), rho = new Float64Array(M), alpha = new Float64Array(M);
  let stored = 0, newest = 0;
  let trust = maxStep;
  let converged = false;
  let evaluations = 0;
  let status = bandForces(out, force, funcs, tangent, terms, n, nInterior, P, spring, info);
  if (status < 0) return status;
  let maxForce = finishForce(force, mask, n, nInterior, allMoving);
  xAcc.set(out.subarray(n3, n3 + dim));
  fAcc.set(force);
  eAcc.set(funcs);
  let fAccN2 = 0;
  for (let q = 0; q < dim; q++) fAccN2 += force[q]! * force[q]!;
  const xBest = Float64Array.from(xAcc);
  let bestN2 = fAccN2;
  let totRes = Infinity;
  while (evaluations < maxIter) {
    if (totRes < tol && maxForce < gtol) {
      converged = true;
      break;
    }
    lbfgsDirection(fAcc, mask, S, Y, rho, alpha, stored, newest, M, dim, step);
    let big = 0;
    for (let q = 0; q < dim; q += 3) big = Math.max(big, step[q]! * step[q]! + step[q + 1]! * step[q + 1]! + step[q + 2]! * step[q + 2]!);
    big = Math.sqrt(big);
    const scale = big > trust ? trust / big : 1;
    for (let q = 0; q < dim; q++) {
      step[q] = step[q]! * scale;
      out[n3 + q] = xAcc[q]! + step[q]!;
    }
    status = bandForces(out, force, funcs, tangent, terms, n, nInterior, P, spring, info);
    if (status < 0) return status;
    evaluations++;
    const mf = finishForce(force, mask, n, nInterior, allMoving);
    let fn2 = 0;
    for (let q = 0; q < dim; q++) fn2 += force[q]! * force[q]!;
    if (fn2 > REJECT_FACTOR * REJECT_FACTOR * fAccN2) {
      // The force more than doubled: back to the accepted state, forget the history, shorter steps.
      out.set(xAcc, n3);
      stored = 0;
      trust = Math.max(trust / 4, 1e-6);
      continue;
    }
    const slot = stored === 0 ? 0 : (newest + 1) % M;
    const so = slot * dim;
    let sy = 0, yy = 0, ss = 0;
    for (let q = 0; q < dim; q++) {
      const sq = out[n3 + q]! - xAcc[q]!;
      const y = fAcc[q]! - force[q]!;
      S[so + q] = sq;
      Y[so + q] = y;
      sy += sq * y;
      yy += y * y;
      ss += sq * sq;
    }
    if (sy > 1e-12 * Math.sqrt(ss * yy)) {
      rho[slot] = 1 / sy;
      newest = slot;
      stored = Math.min(stored + 1, M);
    } else if (stored === M) stored = M - 1; // the slot written was the oldest pair's
    totRes = 0;
    for (let k = 0; k < nInterior; k++) totRes += Math.abs(eAcc[k]! - funcs[k]!);
    xAcc.set(out.subarray(n3, n3 + dim));
    fAcc.set(force);
    eAcc.set(funcs);
    fAccN2 = fn2;
    maxForce = mf;
    trust = Math.min(trust * 2, maxStep);
    if (fn2 < bestN2) {
      bestN2 = fn2;
      xBest.set(xAcc);
    }
  }
  // Not converged (a path through another atom, mostly): the state with the smallest force seen.
  out.set(converged ? xAcc : xBest, n3);
  const iterations = evaluations;
  info[0] = converged ? 1 : 0;
  info[1] = 0; info[2] = 0; info[3] = 0;
  return iterations;
}

/**
 * A trial step is rejected when it more than doubles the norm of the NEB force (the NEB force is not
 * the gradient of one function, so there is no objective to search along).
 */
const REJECT_FACTOR = 2;

/**
 * Masks the force to the moving sites and, when every site moves, removes each image's net force:
 * a rigid translation of one image leaves its objective unchanged, and without this the band drifts
 * along that zero mode and never converges. Returns the largest force component left.
 */
function finishForce(force: Float64Array, mask: Float64Array, n: number, nInterior: number, allMoving: boolean): number {
  const n3 = 3 * n;
  if (allMoving) {
    for (let k = 0; k < nInterior; k++) {
      const g = k * n3;
      let m0 = 0, m1 = 0, m2 = 0;
      for (let a = 0; a < n; a++) {
        m0 += force[g + 3 * a]!;
        m1 += force[g + 3 * a + 1]!;
        m2 += force[g + 3 * a + 2]!;
      }
      m0 /= n;
      m1 /= n;
      m2 /= n;
      for (let a = 0; a < n; a++) {
        force[g + 3 * a] = force[g + 3 * a]! - m0;
        force[g + 3 * a + 1] = force[g + 3 * a + 1]! - m1;
        force[g + 3 * a + 2] = force[g + 3 * a + 2]! - m2;
      }
    }
  }
  let maxForce = 0;
  for (let q = 0; q < n3 * nInterior; q++) {
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
  stored: number, newest: number, M: number, dim: number, d: Float64Array,
): void {
  for (let q = 0; q < dim; q++) d[q] = F[q]!;
  let gamma = 0.05;
  let idx = newest;
  for (let m = 0; m < stored; m++) {
    const o = idx * dim;
    let a = 0;
    for (let q = 0; q < dim; q++) a += S[o + q]! * d[q]!;
    a *= rho[idx]!;
    alpha[idx] = a;
    for (let q = 0; q < dim; q++) d[q] = d[q]! - a * Y[o + q]!;
    idx = (idx + M - 1) % M;
  }
  if (stored > 0) {
    const o = newest * dim;
    let yy = 0;
    for (let q = 0; q < dim; q++) yy += Y[o + q]! * Y[o + q]!;
    gamma = 1 / (rho[newest]! * yy);
  }
  for (let q = 0; q < dim; q++) d[q] = d[q]! * gamma;
  idx = (newest + M - stored + 1) % M;
  for (let m = 0; m < stored; m++) {
    const o = idx * dim;
    let b = 0;
    for (let q = 0; q < dim; q++) b += Y[o + q]! * d[q]!;
    b *= rho[idx]!;
    const c = alpha[idx]! - b;
    for (let q = 0; q < dim; q++) d[q] = d[q]! + c * S[o + q]!;
    idx = (idx + 1) % M;
  }
  let df = 0;
  for (let q = 0; q < dim; q++) {
    d[q] = d[q]! * mask[q]!;
    df += d[q]! * F[q]!;
  }
  if (!(df > 0)) for (let q = 0; q < dim; q++) d[q] = 0.05 * F[q]!;
}

/**
 * NEB forces of every interior image into `force` (true IDPP force perpendicular to the tangent plus
 * the spring force along it, as the exact kernel) and the objectives into `funcs`. Returns 0, or a
 * NON_FINITE status with `info` naming the image and pair.
 */
function bandForces(
  out: Float64Array, force: Float64Array, funcs: Float64Array, tangent: Float64Array, terms: Terms,
  n: number, nInterior: number, P: number, spring: number, info: Float64Array,
): number {
  const n3 = 3 * n;
  const { dense, extra, extraStart } = terms;
  for (let k = 1; k <= nInterior; k++) {
    const x = k * n3;
    const g = (k - 1) * n3;
    force.fill(0, g, g + n3);
    let func = 0;
    let q = 5 * (k - 1) * P;
    for (let i = 0; i < n; i++) {
      const xi = out[x + 3 * i]!, yi = out[x + 3 * i + 1]!, zi = out[x + 3 * i + 2]!;
      let gx = 0, gy = 0, gz = 0;
      for (let j = i + 1; j < n; j++, q += 5) {
        const dx = (xi - out[x + 3 * j]!) - dense[q]!;
        const dy = (yi - out[x + 3 * j + 1]!) - dense[q + 1]!;
        const dz = (zi - out[x + 3 * j + 2]!) - dense[q + 2]!;
        const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
        const diff = d - dense[q + 3]!;
        const wd = diff * dense[q + 4]!;
        func += diff * wd;
        const aux = wd / d;
        gx += aux * dx;
        gy += aux * dy;
        gz += aux * dz;
        force[g + 3 * j] = force[g + 3 * j]! - aux * dx;
        force[g + 3 * j + 1] = force[g + 3 * j + 1]! - aux * dy;
        force[g + 3 * j + 2] = force[g + 3 * j + 2]! - aux * dz;
      }
      force[g + 3 * i] = force[g + 3 * i]! + gx;
      force[g + 3 * i + 1] = force[g + 3 * i + 1]! + gy;
      force[g + 3 * i + 2] = force[g + 3 * i + 2]! + gz;
    }
    for (let e = extraStart[k - 1]!; e < extraStart[k]!; e++) {
      const r = 7 * e;
      const i = extra[r]!, j = extra[r + 1]!;
      const dx = (out[x + 3 * i]! - out[x + 3 * j]!) - extra[r + 2]!;
      const dy = (out[x + 3 * i + 1]! - out[x + 3 * j + 1]!) - extra[r + 3]!;
      const dz = (out[x + 3 * i + 2]! - out[x + 3 * j + 2]!) - extra[r + 4]!;
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const diff = d - extra[r + 5]!;
      const wd = diff * extra[r + 6]!;
      func += diff * wd;
      const aux = wd / d;
      force[g + 3 * i] = force[g + 3 * i]! + aux * dx;
      force[g + 3 * i + 1] = force[g + 3 * i + 1]! + aux * dy;
      force[g + 3 * i + 2] = force[g + 3 * i + 2]! + aux * dz;
      force[g + 3 * j] = force[g + 3 * j]! - aux * dx;
      force[g + 3 * j + 1] = force[g + 3 * j + 1]! - aux * dy;
      force[g + 3 * j + 2] = force[g + 3 * j + 2]! - aux * dz;
    }
    if (!Number.isFinite(func)) return fail(info, k, -1, -1, func, IDPP_STATUS.NON_FINITE);
    funcs[k - 1] = func;
    for (let q3 = g; q3 < g + n3; q3++) force[q3] = -2 * force[q3]!;
  }
  for (let k = 1; k <= nInterior; k++) {
    const prev = (k - 1) * n3, cur = k * n3, next = (k + 1) * n3;
    const g = (k - 1) * n3;
    let s1 = 0, s2 = 0;
    for (let q3 = 0; q3 < n3; q3++) {
      const v1 = out[next + q3]! - out[cur + q3]!;
      const v2 = out[cur + q3]! - out[prev + q3]!;
      s1 += v1 * v1;
      s2 += v2 * v2;
    }
    const n1 = Math.sqrt(s1), n2 = Math.sqrt(s2);
    let st = 0;
    for (let q3 = 0; q3 < n3; q3++) {
      const tr = (out[next + q3]! - out[cur + q3]!) / n1 + (out[cur + q3]! - out[prev + q3]!) / n2;
      tangent[q3] = tr;
      st += tr * tr;
    }
    const nt = Math.sqrt(st);
    let fdot = 0;
    for (let q3 = 0; q3 < n3; q3++) {
      const t = tangent[q3]! / nt;
      tangent[q3] = t;
      fdot += force[g + q3]! * t;
    }
    const sp = spring * (n1 - n2);
    let check = 0;
    for (let q3 = 0; q3 < n3; q3++) {
      const t = tangent[q3]!;
      const f = force[g + q3]! + (sp * t - fdot * t);
      force[g + q3] = f;
      check += f * 0;
    }
    if (!Number.isFinite(check)) return fail(info, k, -1, -1, NaN, IDPP_STATUS.NON_FINITE);
  }
  return 0;
}
