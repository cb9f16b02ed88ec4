/**
 * IDPP path relaxation — the plain-TypeScript twin of `assembly/idpp.ts`.
 *
 * Same algorithm and the same floating-point operation order as the WASM kernel, so the two agree
 * to the last bit (tested on the conformance set; see the header of assembly/idpp.ts for the
 * method, the minimum-image tie-break, the given-shifts flag and the guards), with the same
 * ABI shape: raw arrays in, iteration count or a negative status code out, details of a failure in
 * `info`. Used for differential tests, honest benchmarks and where WebAssembly is not wanted.
 *
 * Conventions: cell = 9 numbers, rows are lattice vectors (Å); start/end are fractional
 * coordinates, xyz interleaved; `out` receives the Cartesian coordinates (Å) of all
 * nInterior + 2 images, image-major: out[(k·n + a)·3 + c].
 */

import { lllReduce } from '../structure/lll.js';
import { numpyDot3, numpyInv3, pyMod1 } from '../structure/numpy-arith.js';

/** Status codes shared with the WASM kernel. */
export const IDPP_STATUS = {
  /** Two atoms of a straight-line image are closer than minDistanceAng (info: image, i, j, d). */
  TOO_CLOSE: -1,
  /** The objective or a force became NaN/infinite (info: image, i, j or -1, value). */
  NON_FINITE: -2,
  /** The cell is singular or not finite. */
  SINGULAR_CELL: -3,
  /** Scratch buffer too small (WASM only). */
  SCRATCH_TOO_SMALL: -4,
  /** A pair's minimum image needs more than MAX_IMAGE_RANGE cells along one axis (a degenerate cell). */
  TOO_MANY_IMAGES: -5,
  /** A given pair image (IDPP_FLAG_GIVEN_SHIFTS) is not a nearest one (info: image, i, j, its length). */
  SHIFT_NOT_NEAREST: -6,
  /** Fast mode, WASM only: more tie terms than the scratch holds (info[3]: the number needed). */
  EXTRA_TERMS: -7,
  /** Fast mode: two atoms come closer than minDistanceAng between the straight-line images (info: t, i, j, d). */
  PATH_TOO_CLOSE: -8,
} as const;

/** Flag: interpolate along minimum-image displacements (start → nearest image of the end position). */
export const IDPP_FLAG_MIC = 1;

/**
 * Flag: the image of every pair in every interior image is given (`shifts`: integer triplets,
 * image-major, then pairs i < j row by row) instead of decided by this kernel's tie-break.
 */
export const IDPP_FLAG_GIVEN_SHIFTS = 2;

/** Ties between periodic images: squared distances within this relative margin count as equal. */
export const TIE_RELATIVE_D2 = 1e-10;

/** Largest image offset searched per axis for one pair, beyond the nearest-integer guess. */
export const MAX_IMAGE_RANGE = 64;

/**
 * Bytes of working memory one run needs (the WASM kernel's scratch; the twin allocates the same
 * arrays but the kernel's 12n words of f64x2 lane buffers), or -1 above 2 GiB.
 */
export function idppScratchBytesTs(n: number, nInterior: number): number {
  const pairs = (n * (n - 1)) / 2;
  const bytes = 8 * ((nInterior + 2) * 3 * n + 5 * nInterior * pairs + nInterior * 3 * n + 2 * nInterior + 3 * n + 12 * n);
  return bytes > 0x7fffffff ? -1 : bytes;
}

/** Scratch state of the minimum-image search (module-level: no allocation per pair). */
const img = { s0: 0, s1: 0, s2: 0, d2: 0 };

/**
 * Minimum image of the fractional displacement (e0, e1, e2) = f_j − f_i. Sets img.s = integer
 * shift S (so that (e + S)·cell is shortest) and img.d2 = its squared length; returns false when
 * the search would exceed MAX_IMAGE_RANGE. Ties (squared lengths within TIE_RELATIVE_D2 of the
 * shortest) go to the largest fractional displacement e + S, compared in a, then b, then c.
 */
function minimumImage(c: ArrayLike<number>, h0: number, h1: number, h2: number, e0: number, e1: number, e2: number): boolean {
  const r0 = Math.round(e0), r1 = Math.round(e1), r2 = Math.round(e2);
  const v0 = e0 - r0, v1 = e1 - r1, v2 = e2 - r2;
  const x0 = v0 * c[0]! + v1 * c[3]! + v2 * c[6]!;
  const y0 = v0 * c[1]! + v1 * c[4]! + v2 * c[7]!;
  const z0 = v0 * c[2]! + v1 * c[5]! + v2 * c[8]!;
  // Every image at most as long as this one has |fractional component k| <= r / h_k.
  const r = Math.sqrt(x0 * x0 + y0 * y0 + z0 * z0) * (1 + 1e-9) + 1e-12;
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
  const limit = best * (1 + TIE_RELATIVE_D2);
  let found = false;
  let b0 = 0, b1 = 0, b2 = 0, bd2 = 0;
  for (let m0 = lo0; m0 <= hi0; m0++)
    for (let m1 = lo1; m1 <= hi1; m1++)
      for (let m2 = lo2; m2 <= hi2; m2++) {
        const a = v0 + m0, b = v1 + m1, g = v2 + m2;
        const x = a * c[0]! + b * c[3]! + g * c[6]!;
        const y = a * c[1]! + b * c[4]! + g * c[7]!;
        const z = a * c[2]! + b * c[5]! + g * c[8]!;
        const d2 = x * x + y * y + z * z;
        if (d2 > limit) continue;
        // Candidates differ by whole cells, so the comparison below is exact.
        if (!found || m0 > b0 || (m0 === b0 && (m1 > b1 || (m1 === b1 && m2 > b2)))) {
          found = true;
          b0 = m0;
          b1 = m1;
          b2 = m2;
          bd2 = d2;
        }
      }
  img.s0 = b0 - r0;
  img.s1 = b1 - r1;
  img.s2 = b2 - r2;
  img.d2 = bd2;
  return true;
}

/** Perpendicular heights of the cell from its inverse (h_k = 1 / |column k of inv|), or null if singular. */
function heights(c: ArrayLike<number>): [number, number, number] | null {
  const det = c[0]! * (c[4]! * c[8]! - c[5]! * c[7]!) - c[1]! * (c[3]! * c[8]! - c[5]! * c[6]!) + c[2]! * (c[3]! * c[7]! - c[4]! * c[6]!);
  if (!(Math.abs(det) > 1e-12) || !Number.isFinite(det)) return null;
  const i0 = (c[4]! * c[8]! - c[5]! * c[7]!) / det, i3 = (c[5]! * c[6]! - c[3]! * c[8]!) / det, i6 = (c[3]! * c[7]! - c[4]! * c[6]!) / det;
  const i1 = (c[2]! * c[7]! - c[1]! * c[8]!) / det, i4 = (c[0]! * c[8]! - c[2]! * c[6]!) / det, i7 = (c[1]! * c[6]! - c[0]! * c[7]!) / det;
  const i2 = (c[1]! * c[5]! - c[2]! * c[4]!) / det, i5 = (c[2]! * c[3]! - c[0]! * c[5]!) / det, i8 = (c[0]! * c[4]! - c[1]! * c[3]!) / det;
  return [1 / Math.sqrt(i0 * i0 + i3 * i3 + i6 * i6), 1 / Math.sqrt(i1 * i1 + i4 * i4 + i7 * i7), 1 / Math.sqrt(i2 * i2 + i5 * i5 + i8 * i8)];
}

/**
 * The IDPP relaxation on raw arrays (see assembly/idpp.ts for the full contract; this twin has the
 * same arguments minus the scratch buffer). `endUsed` receives the end fractional coordinates the
 * interpolation used (equal to `end`, or its nearest images with IDPP_FLAG_MIC). Returns the
 * number of iterations (>= 0; info[0] = 1 if converged, else 0) or a status code < 0 with
 * info = [image, i, j, value].
 */
export function idppKernelTs(
  cell: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>, n: number, nInterior: number,
  moving: ArrayLike<number>, spring: number, step: number, maxDisp: number, maxIter: number,
  tol: number, gtol: number, minDist: number, flags: number,
  out: Float64Array, endUsed: Float64Array, info: Float64Array, shifts: ArrayLike<number> | null = null,
): number {
  const c = cell;
  const h = heights(c);
  if (!h) return IDPP_STATUS.SINGULAR_CELL;
  const [h0, h1, h2] = h;
  const nImg = nInterior + 2;
  const n3 = 3 * n;
  // End coordinates: as given, or start + minimum-image displacement.
  for (let a = 0; a < n; a++) {
    if ((flags & IDPP_FLAG_MIC) !== 0) {
      if (!minimumImage(c, h0, h1, h2, end[3 * a]! - start[3 * a]!, end[3 * a + 1]! - start[3 * a + 1]!, end[3 * a + 2]! - start[3 * a + 2]!)) {
        info[0] = nImg - 1;
        info[1] = a;
        info[2] = a;
        info[3] = 0;
        return IDPP_STATUS.TOO_MANY_IMAGES;
      }
      endUsed[3 * a] = start[3 * a]! + ((end[3 * a]! - start[3 * a]!) + img.s0);
      endUsed[3 * a + 1] = start[3 * a + 1]! + ((end[3 * a + 1]! - start[3 * a + 1]!) + img.s1);
      endUsed[3 * a + 2] = start[3 * a + 2]! + ((end[3 * a + 2]! - start[3 * a + 2]!) + img.s2);
    } else {
      endUsed[3 * a] = end[3 * a]!;
      endUsed[3 * a + 1] = end[3 * a + 1]!;
      endUsed[3 * a + 2] = end[3 * a + 2]!;
    }
  }
  // Straight-line images in fractional coordinates (pymatgen's Structure.interpolate, pbc=False),
  // then Cartesian.
  const frac = new Float64Array(nImg * n3);
  for (let k = 0; k < nImg; k++) {
    const x = k / (nImg - 1);
    for (let q = 0; q < n3; q++) {
      const f = k === 0 ? start[q]! : k === nImg - 1 ? endUsed[q]! : start[q]! + x * (endUsed[q]! - start[q]!);
      frac[k * n3 + q] = f;
    }
    for (let a = 0; a < n; a++) {
      const p = k * n3 + 3 * a;
      const f0 = frac[p]!, f1 = frac[p + 1]!, f2 = frac[p + 2]!;
      out[p] = f0 * c[0]! + f1 * c[3]! + f2 * c[6]!;
      out[p + 1] = f0 * c[1]! + f1 * c[4]! + f2 * c[7]!;
      out[p + 2] = f0 * c[2]! + f1 * c[5]! + f2 * c[8]!;
    }
  }

  // Per interior image and pair (i < j, packed row by row) one record [Tx, Ty, Tz, target,
  // weight]: translation T (Å), target distance (Å), weight. The pair vector used throughout is
  // vec_ij = (x_i − x_j) − T_ij.
  const P = (n * (n - 1)) / 2;
  const rec = new Float64Array(5 * nInterior * P);
  let closest = Infinity, cImg = -1, cI = -1, cJ = -1;
  const endBase = (nImg - 1) * n3;
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, p++) {
      if (!minimumImage(c, h0, h1, h2, frac[3 * j]! - frac[3 * i]!, frac[3 * j + 1]! - frac[3 * i + 1]!, frac[3 * j + 2]! - frac[3 * i + 2]!)) {
        info[0] = 0; info[1] = i; info[2] = j; info[3] = 0;
        return IDPP_STATUS.TOO_MANY_IMAGES;
      }
      const d0 = Math.sqrt(img.d2);
      if (d0 < closest) { closest = d0; cImg = 0; cI = i; cJ = j; }
      if (!minimumImage(c, h0, h1, h2, frac[endBase + 3 * j]! - frac[endBase + 3 * i]!, frac[endBase + 3 * j + 1]! - frac[endBase + 3 * i + 1]!, frac[endBase + 3 * j + 2]! - frac[endBase + 3 * i + 2]!)) {
        info[0] = nImg - 1; info[1] = i; info[2] = j; info[3] = 0;
        return IDPP_STATUS.TOO_MANY_IMAGES;
      }
      const d1 = Math.sqrt(img.d2);
      if (d1 < closest) { closest = d1; cImg = nImg - 1; cI = i; cJ = j; }
      for (let k = 1; k <= nInterior; k++) {
        const b = k * n3;
        if (!minimumImage(c, h0, h1, h2, frac[b + 3 * j]! - frac[b + 3 * i]!, frac[b + 3 * j + 1]! - frac[b + 3 * i + 1]!, frac[b + 3 * j + 2]! - frac[b + 3 * i + 2]!)) {
          info[0] = k; info[1] = i; info[2] = j; info[3] = 0;
          return IDPP_STATUS.TOO_MANY_IMAGES;
        }
        if ((flags & IDPP_FLAG_GIVEN_SHIFTS) !== 0) {
          const sp = 3 * ((k - 1) * P + p);
          const g0 = shifts![sp]!, g1 = shifts![sp + 1]!, g2 = shifts![sp + 2]!;
          const a = frac[b + 3 * j]! - frac[b + 3 * i]! + g0;
          const bb = frac[b + 3 * j + 1]! - frac[b + 3 * i + 1]! + g1;
          const g = frac[b + 3 * j + 2]! - frac[b + 3 * i + 2]! + g2;
          const x = a * c[0]! + bb * c[3]! + g * c[6]!;
          const y = a * c[1]! + bb * c[4]! + g * c[7]!;
          const z = a * c[2]! + bb * c[5]! + g * c[8]!;
          const d2 = x * x + y * y + z * z;
          if (!(d2 <= img.d2 * (1 + TIE_RELATIVE_D2))) {
            info[0] = k; info[1] = i; info[2] = j; info[3] = Math.sqrt(d2);
            return IDPP_STATUS.SHIFT_NOT_NEAREST;
          }
          img.s0 = g0;
          img.s1 = g1;
          img.s2 = g2;
        }
        const s0 = img.s0, s1 = img.s1, s2 = img.s2;
        const q = 5 * ((k - 1) * P + p);
        rec[q] = s0 * c[0]! + s1 * c[3]! + s2 * c[6]!;
        rec[q + 1] = s0 * c[1]! + s1 * c[4]! + s2 * c[7]!;
        rec[q + 2] = s0 * c[2]! + s1 * c[5]! + s2 * c[8]!;
        const dk = Math.sqrt(img.d2);
        if (dk < closest) { closest = dk; cImg = k; cI = i; cJ = j; }
        const t = d0 + (k / (nInterior + 1)) * (d1 - d0);
        const avg = (t + dk) / 2.0;
        rec[q + 3] = t;
        rec[q + 4] = 1.0 / (avg * avg * (avg * avg));
      }
    }
  }
  if (closest < minDist) {
    info[0] = cImg; info[1] = cI; info[2] = cJ; info[3] = closest;
    return IDPP_STATUS.TOO_CLOSE;
  }

  const force = new Float64Array(nInterior * n3);
  const funcs = new Float64Array(nInterior);
  const oldFuncs = new Float64Array(nInterior);
  const tangent = new Float64Array(n3);
  let iterations = 0;
  let converged = false;
  for (let it = 0; it < maxIter; it++) {
    // True forces −2·Σ_j aux_ij·vec_ij and objectives ½·Σ_ij (d − t)²·w, image by image.
    for (let k = 1; k <= nInterior; k++) {
      const x = k * n3;
      const g = (k - 1) * n3;
      const base = 5 * (k - 1) * P;
      force.fill(0, g, g + n3);
      let func = 0;
      let q = base;
      for (let i = 0; i < n; i++) {
        const xi = out[x + 3 * i]!, yi = out[x + 3 * i + 1]!, zi = out[x + 3 * i + 2]!;
        let gx = 0, gy = 0, gz = 0;
        for (let j = i + 1; j < n; j++, q += 5) {
          const dx = (xi - out[x + 3 * j]!) - rec[q]!;
          const dy = (yi - out[x + 3 * j + 1]!) - rec[q + 1]!;
          const dz = (zi - out[x + 3 * j + 2]!) - rec[q + 2]!;
          const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
          const diff = d - rec[q + 3]!;
          const wd = diff * rec[q + 4]!;
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
      if (!Number.isFinite(func)) return nonFinitePair(out, x, rec, base, n, k, -1, func, info);
      funcs[k - 1] = func;
      for (let q3 = g; q3 < g + n3; q3++) force[q3] = -2 * force[q3]!;
    }
    // NEB projection: spring force along the bisector tangent plus the perpendicular true force.
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
      // The tangent is stored once (pymatgen's unit(unit(v1) + unit(v2)), same divisions) instead
      // of being recomputed in each pass: the passes were 7 divisions per component, now 3.
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
        // f·0 is 0 for every finite f and NaN otherwise (a sum of |f| could overflow on finite forces).
        check += f * 0;
      }
      // Checked before any image moves, so the offending pair can still be found.
      if (!Number.isFinite(check)) {
        let q3 = 0;
        while (q3 < n3 - 1 && Number.isFinite(force[g + q3]!)) q3++;
        return nonFinitePair(out, cur, rec, 5 * (k - 1) * P, n, k, Math.floor(q3 / 3), force[g + q3]!, info);
      }
    }
    // Steepest-descent step of the moving atoms, each component clipped to ±maxDisp.
    let maxForce = 0;
    for (let k = 1; k <= nInterior; k++) {
      const g = (k - 1) * n3, x = k * n3;
      for (let a = 0; a < n; a++) {
        if (moving[a] === 0) continue;
        for (let cc = 0; cc < 3; cc++) {
          const f = force[g + 3 * a + cc]!;
          let disp = step * f;
          if (Math.abs(disp) > maxDisp) disp = disp > 0 ? maxDisp : -maxDisp;
          out[x + 3 * a + cc] = out[x + 3 * a + cc]! + disp;
          const af = Math.abs(f);
          if (af > maxForce) maxForce = af;
        }
      }
    }
    iterations = it + 1;
    let totRes = 0;
    for (let k = 0; k < nInterior; k++) totRes += Math.abs(oldFuncs[k]! - funcs[k]!);
    if (totRes < tol && maxForce < gtol) {
      converged = true;
      break;
    }
    oldFuncs.set(funcs);
  }
  info[0] = converged ? 1 : 0;
  info[1] = 0; info[2] = 0; info[3] = 0;
  return iterations;
}

/**
 * Names what went non-finite in image k. With atom < 0 (the objective): the first pair at zero or
 * non-finite distance, else the pair with the largest term (d − t)²·w (an overflow). With atom >= 0
 * (a force): such a pair if there is one, else that atom and the offending `value`.
 */
function nonFinitePair(
  out: Float64Array, x: number, rec: Float64Array, base: number, n: number, k: number,
  atom: number, value: number, info: Float64Array,
): number {
  let q = base;
  let worst = -1, wi = -1, wj = -1, wd = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++, q += 5) {
      const dx = (out[x + 3 * i]! - out[x + 3 * j]!) - rec[q]!;
      const dy = (out[x + 3 * i + 1]! - out[x + 3 * j + 1]!) - rec[q + 1]!;
      const dz = (out[x + 3 * i + 2]! - out[x + 3 * j + 2]!) - rec[q + 2]!;
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      if (!(d > 0) || !Number.isFinite(d)) {
        info[0] = k; info[1] = i; info[2] = j; info[3] = d;
        return IDPP_STATUS.NON_FINITE;
      }
      const diff = d - rec[q + 3]!;
      const term = diff * diff * rec[q + 4]!;
      if (!(term <= worst)) {
        worst = term;
        wi = i;
        wj = j;
        wd = d;
      }
    }
  if (atom < 0 && wi >= 0) {
    info[0] = k; info[1] = wi; info[2] = wj; info[3] = wd;
  } else {
    info[0] = k; info[1] = atom; info[2] = -1; info[3] = value;
  }
  return IDPP_STATUS.NON_FINITE;
}

/**
 * The pair images pymatgen-analysis-diffusion's `IDPPSolver` (d613b5e) fixes for a run, for
 * IDPP_FLAG_GIVEN_SHIFTS: for every interior straight-line image k (f_0 + k/(m+1)·(f_end − f_0), as
 * the kernel builds it) and pair i < j, the integer shift S of `Lattice.get_distance_and_image(f_i,
 * f_j)` in pymatgen 2022.11.7. That search (`pbc_shortest_vectors`) works in the LLL-reduced basis:
 * fractional coordinates are mapped with numpy's product by the inverse LLL mapping, wrapped with
 * Python's `% 1`, turned Cartesian with plain (unfused) sums, and the 27 neighbouring cells are
 * scanned in itertools.product([-1, 0, 1]) order keeping the first strictly shorter one. Where two
 * images are exactly equally near (pairs at half a supercell vector) the winner is decided by the
 * rounding of these steps, so they are repeated operation for operation; given the same
 * fractional coordinates the shifts equal pymatgen's (checked on all 204,415 pair images of the 21
 * non-NaN DDI reference pathways; three of them are test fixtures). The products by the integer
 * LLL mapping are exact, so the result does not depend on numpy's BLAS kernels. Returns 3 integers
 * per (image, pair), image-major.
 */
export function pymatgenPairShifts(cell: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>, n: number, nInterior: number): Int32Array {
  const lll = lllReduce(cell);
  const lm = lll.lattice, map = lll.mapping;
  const li = numpyInv3(Float64Array.from(map));
  if (!li) throw new RangeError('pymatgenPairShifts: the LLL mapping is singular');
  const cim = new Float64Array(81);
  for (let k = 0; k < 27; k++) {
    const a = Math.floor(k / 9) - 1, b = (Math.floor(k / 3) % 3) - 1, g = (k % 3) - 1;
    for (let j = 0; j < 3; j++) cim[3 * k + j] = ((0 + a * lm[j]!) + b * lm[3 + j]!) + g * lm[6 + j]!;
  }
  const P = (n * (n - 1)) / 2;
  const out = new Int32Array(3 * nInterior * P);
  const f = new Float64Array(3 * n);
  const w = new Float64Array(3 * n);
  const cart = new Float64Array(3 * n);
  const lf = new Float64Array(3);
  for (let k = 1; k <= nInterior; k++) {
    const x = k / (nInterior + 1);
    for (let q = 0; q < 3 * n; q++) f[q] = start[q]! + x * (end[q]! - start[q]!);
    for (let i = 0; i < n; i++) {
      numpyDot3(f.subarray(3 * i, 3 * i + 3), li, lf);
      const m0 = pyMod1(lf[0]!), m1 = pyMod1(lf[1]!), m2 = pyMod1(lf[2]!);
      w[3 * i] = m0;
      w[3 * i + 1] = m1;
      w[3 * i + 2] = m2;
      for (let j = 0; j < 3; j++) cart[3 * i + j] = ((0 + m0 * lm[j]!) + m1 * lm[3 + j]!) + m2 * lm[6 + j]!;
    }
    let o = 3 * (k - 1) * P;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++, o += 3) {
        const p0 = cart[3 * j]! - cart[3 * i]!, p1 = cart[3 * j + 1]! - cart[3 * i + 1]!, p2 = cart[3 * j + 2]! - cart[3 * i + 2]!;
        let best = 1e100, bk = 0;
        for (let t = 0; t < 27; t++) {
          const da = p0 + cim[3 * t]!, db = p1 + cim[3 * t + 1]!, dc = p2 + cim[3 * t + 2]!;
          const d = da * da + db * db + dc * dc;
          if (d < best) {
            best = d;
            bk = t;
          }
        }
        // The chosen vector in the LLL basis, back to the cell's basis; S = its offset from f_j − f_i.
        const g0 = w[3 * j]! - w[3 * i]! + (Math.floor(bk / 9) - 1);
        const g1 = w[3 * j + 1]! - w[3 * i + 1]! + ((Math.floor(bk / 3) % 3) - 1);
        const g2 = w[3 * j + 2]! - w[3 * i + 2]! + ((bk % 3) - 1);
        for (let c = 0; c < 3; c++) {
          const d = g0 * map[c]! + g1 * map[3 + c]! + g2 * map[6 + c]!;
          out[o + c] = Math.round(d - (f[3 * j + c]! - f[3 * i + c]!));
        }
      }
    }
  }
  return out;
}
