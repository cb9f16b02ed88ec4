/**
 * Ewald summation — the plain-TypeScript twin of `assembly/ewald.ts`.
 *
 * Same algorithm and floating-point operation order: on the reference structures (≤ 400 sites,
 * acc_factor 3 and 12) the two differ by at most 1.2e-15 relative in the total and 2.9e-15 in a
 * site energy — only the cos/sin/exp of V8 and of AssemblyScript's std/math may differ in the last
 * bit. Tests require 1e-12. Used for
 * differential tests, honest benchmarks and where WebAssembly is not wanted. The sums, cutoffs and
 * the constant K are pymatgen's `EwaldSummation` ones; see the header of assembly/ewald.ts for the
 * formulas, the half-sphere reciprocal sum and the sorted translation table of the real-space sum.
 *
 * Conventions: cell = 9 numbers, rows are lattice vectors (Å); positions Cartesian (Å), xyz
 * interleaved; charges in e; energies in eV.
 */
import { erfc } from './erfc.js';

/** K = 1e10·e/(4π·ε0) in eV·Å/e² (CODATA 2018 e and ε0, as scipy.constants and pymatgen use). */
export const EWALD_CONV_FACT = (1e10 * 1.602176634e-19) / (4 * Math.PI * 8.8541878128e-12);

/** Status codes shared with the WASM kernel. */
export const EWALD_STATUS = {
  BAD_ETA: -1,
  BAD_REAL_CUTOFF: -2,
  BAD_RECIP_CUTOFF: -3,
  SINGULAR_CELL: -4,
  NONFINITE_POSITION: -5,
  NONFINITE_CHARGE: -6,
  TOO_MANY_IMAGES: -7,
  TOO_MANY_G: -8,
  SCRATCH_TOO_SMALL: -9,
  BAD_SITE: -10,
  BAD_COUNT: -11,
} as const;

/** Largest real-space reach in cell heights (rmax/h) before the input is refused. */
export const MAX_IMAGES_PER_AXIS = 256;
/** Largest reciprocal index |h|, |k| or |l| before the input is refused. */
export const MAX_G_INDEX = 256;
/** Largest lattice-translation table before the input is refused. */
export const MAX_SHIFTS = 1 << 20;

const TWO_PI = 2 * Math.PI;
const RANGE_EPS = 1e-9;
const MIN_R2 = 1e-16;

/** The three numbers that fix an Ewald sum. */
export interface EwaldParameters {
  /** Screening parameter η (Å⁻²): real-space terms are damped by erfc(√η·r). */
  eta: number;
  /** Real-space cutoff (Å). */
  realCutoffAng: number;
  /** Reciprocal-space cutoff |G| (Å⁻¹, 2π included). */
  recipCutoff: number;
}

/** Raw kernel output: energy parts (eV, no charged-cell term) and per-site energies when asked for. */
export interface EwaldParts {
  real: number;
  recip: number;
  point: number;
  /** Per-site energies (real + reciprocal + point), or null when not requested. */
  sites: Float64Array | null;
}

/** One site's energy parts (eV); their sum is pymatgen's `get_site_energy(site)`. */
export interface EwaldSiteParts {
  real: number;
  recip: number;
  point: number;
}

export class EwaldStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EwaldStatusError';
  }
}

/** A status code as an error whose message names the offending input and its value. */
export function ewaldStatusError(status: number, p: EwaldParameters, n: number, site?: number): EwaldStatusError {
  const S = EWALD_STATUS;
  let m: string;
  switch (status) {
    case S.BAD_ETA:
      m = `Ewald: eta must be a positive finite number (Å⁻²), got ${p.eta}`;
      break;
    case S.BAD_REAL_CUTOFF:
      m = `Ewald: real-space cutoff must be a positive finite number of Å, got ${p.realCutoffAng}`;
      break;
    case S.BAD_RECIP_CUTOFF:
      m = `Ewald: reciprocal-space cutoff must be a positive finite number (Å⁻¹), got ${p.recipCutoff}`;
      break;
    case S.SINGULAR_CELL:
      m = 'Ewald: the cell is singular (zero volume)';
      break;
    case S.NONFINITE_POSITION:
      m = 'Ewald: a position is NaN or infinite';
      break;
    case S.NONFINITE_CHARGE:
      m = 'Ewald: a charge (oxidation state) is NaN or infinite';
      break;
    case S.TOO_MANY_IMAGES:
      m = `Ewald: real-space cutoff ${p.realCutoffAng} Å needs too many cell images (more than ${MAX_IMAGES_PER_AXIS} cell heights along one axis or ${MAX_SHIFTS} lattice translations in all); the cell is too small for this cutoff`;
      break;
    case S.TOO_MANY_G:
      m = `Ewald: reciprocal-space cutoff ${p.recipCutoff} Å⁻¹ needs more than ${MAX_G_INDEX} reciprocal vectors along one axis (or more memory than a 32-bit module has); lower it or the accuracy`;
      break;
    case S.BAD_SITE:
      m = `Ewald: site index must be an integer in [0, ${n - 1}], got ${String(site)}`;
      break;
    case S.BAD_COUNT:
      m = `Ewald: the structure must have at least one site, got ${n}`;
      break;
    default:
      m = `Ewald: kernel status ${status}`;
  }
  return new EwaldStatusError(status, m);
}

/** Per-call cell state, as the kernel's module globals. */
interface Cell {
  c: Float64Array;
  inv: Float64Array;
  vol: number;
  reach: [number, number, number];
  m: [number, number, number];
  /** Translation half-box per axis and the reach rmax + dmax of the translation table. */
  box: [number, number, number];
  shiftReach: number;
}

function setup(cell: ArrayLike<number>, n: number, p: EwaldParameters): Cell | number {
  const { eta, realCutoffAng: rmax, recipCutoff: gmax } = p;
  if (!(n > 0)) return EWALD_STATUS.BAD_COUNT;
  if (!(eta > 0) || !Number.isFinite(eta)) return EWALD_STATUS.BAD_ETA;
  if (!(rmax > 0) || !Number.isFinite(rmax)) return EWALD_STATUS.BAD_REAL_CUTOFF;
  if (!(gmax > 0) || !Number.isFinite(gmax)) return EWALD_STATUS.BAD_RECIP_CUTOFF;
  const c = Float64Array.from(cell);
  const det = c[0]! * (c[4]! * c[8]! - c[5]! * c[7]!) - c[1]! * (c[3]! * c[8]! - c[5]! * c[6]!) + c[2]! * (c[3]! * c[7]! - c[4]! * c[6]!);
  if (!(Math.abs(det) > 1e-12) || !Number.isFinite(det)) return EWALD_STATUS.SINGULAR_CELL;
  const inv = new Float64Array(9);
  inv[0] = (c[4]! * c[8]! - c[5]! * c[7]!) / det;
  inv[1] = (c[2]! * c[7]! - c[1]! * c[8]!) / det;
  inv[2] = (c[1]! * c[5]! - c[2]! * c[4]!) / det;
  inv[3] = (c[5]! * c[6]! - c[3]! * c[8]!) / det;
  inv[4] = (c[0]! * c[8]! - c[2]! * c[6]!) / det;
  inv[5] = (c[2]! * c[3]! - c[0]! * c[5]!) / det;
  inv[6] = (c[3]! * c[7]! - c[4]! * c[6]!) / det;
  inv[7] = (c[1]! * c[6]! - c[0]! * c[7]!) / det;
  inv[8] = (c[0]! * c[4]! - c[1]! * c[3]!) / det;
  const reach: [number, number, number] = [
    rmax * Math.sqrt(inv[0] * inv[0] + inv[3] * inv[3] + inv[6] * inv[6]),
    rmax * Math.sqrt(inv[1] * inv[1] + inv[4] * inv[4] + inv[7] * inv[7]),
    rmax * Math.sqrt(inv[2] * inv[2] + inv[5] * inv[5] + inv[8] * inv[8]),
  ];
  if (reach[0] > MAX_IMAGES_PER_AXIS || reach[1] > MAX_IMAGES_PER_AXIS || reach[2] > MAX_IMAGES_PER_AXIS) return EWALD_STATUS.TOO_MANY_IMAGES;
  const len3 = (x: number, y: number, z: number) => Math.sqrt(x * x + y * y + z * z);
  const c0 = c[0]!, c1 = c[1]!, c2 = c[2]!, c3 = c[3]!, c4 = c[4]!, c5 = c[5]!, c6 = c[6]!, c7 = c[7]!, c8 = c[8]!;
  // Translations T = S·cell that can matter: |T| <= rmax + dmax, dmax = the largest |D| of a pair
  // reduced to fractional differences in [-1/2, 1/2] (half the longest cell diagonal).
  const dmax = 0.5 * Math.max(
    Math.max(len3(c0 + c3 + c6, c1 + c4 + c7, c2 + c5 + c8), len3(c0 + c3 - c6, c1 + c4 - c7, c2 + c5 - c8)),
    Math.max(len3(c0 - c3 + c6, c1 - c4 + c7, c2 - c5 + c8), len3(-c0 + c3 + c6, -c1 + c4 + c7, -c2 + c5 + c8)),
  );
  const shiftReach = rmax + dmax;
  const box: [number, number, number] = [
    Math.floor((shiftReach / rmax) * reach[0] + RANGE_EPS),
    Math.floor((shiftReach / rmax) * reach[1] + RANGE_EPS),
    Math.floor((shiftReach / rmax) * reach[2] + RANGE_EPS),
  ];
  if ((2 * box[0] + 1) * (2 * box[1] + 1) * (2 * box[2] + 1) > MAX_SHIFTS) return EWALD_STATUS.TOO_MANY_IMAGES;
  const g0 = (gmax * Math.sqrt(c[0]! * c[0]! + c[1]! * c[1]! + c[2]! * c[2]!)) / TWO_PI;
  const g1 = (gmax * Math.sqrt(c[3]! * c[3]! + c[4]! * c[4]! + c[5]! * c[5]!)) / TWO_PI;
  const g2 = (gmax * Math.sqrt(c[6]! * c[6]! + c[7]! * c[7]! + c[8]! * c[8]!)) / TWO_PI;
  if (g0 > MAX_G_INDEX || g1 > MAX_G_INDEX || g2 > MAX_G_INDEX) return EWALD_STATUS.TOO_MANY_G;
  const m: [number, number, number] = [Math.floor(g0 + RANGE_EPS), Math.floor(g1 + RANGE_EPS), Math.floor(g2 + RANGE_EPS)];
  return { c, inv, vol: Math.abs(det), reach, m, box, shiftReach };
}

interface Prepared {
  fw: Float64Array;
  wc: Float64Array;
  tc: [Float64Array, Float64Array, Float64Array];
  ts: [Float64Array, Float64Array, Float64Array];
}

function prepare(g: Cell, pos: ArrayLike<number>, q: ArrayLike<number>, n: number): Prepared | number {
  const { c, inv, m } = g;
  const fw = new Float64Array(3 * n);
  const wc = new Float64Array(3 * n);
  const tc: [Float64Array, Float64Array, Float64Array] = [new Float64Array((m[0] + 1) * n), new Float64Array((m[1] + 1) * n), new Float64Array((m[2] + 1) * n)];
  const ts: [Float64Array, Float64Array, Float64Array] = [new Float64Array((m[0] + 1) * n), new Float64Array((m[1] + 1) * n), new Float64Array((m[2] + 1) * n)];
  for (let j = 0; j < n; j++) {
    const x = pos[3 * j]!, y = pos[3 * j + 1]!, z = pos[3 * j + 2]!;
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) return EWALD_STATUS.NONFINITE_POSITION;
    if (!Number.isFinite(q[j]!)) return EWALD_STATUS.NONFINITE_CHARGE;
    const f0 = x * inv[0]! + y * inv[3]! + z * inv[6]!;
    const f1 = x * inv[1]! + y * inv[4]! + z * inv[7]!;
    const f2 = x * inv[2]! + y * inv[5]! + z * inv[8]!;
    const s0 = Math.floor(f0), s1 = Math.floor(f1), s2 = Math.floor(f2);
    fw[3 * j] = f0 - s0;
    fw[3 * j + 1] = f1 - s1;
    fw[3 * j + 2] = f2 - s2;
    wc[3 * j] = x - (s0 * c[0]! + s1 * c[3]! + s2 * c[6]!);
    wc[3 * j + 1] = y - (s0 * c[1]! + s1 * c[4]! + s2 * c[7]!);
    wc[3 * j + 2] = z - (s0 * c[2]! + s1 * c[5]! + s2 * c[8]!);
    fillTable(tc[0], ts[0], j, n, m[0], TWO_PI * (f0 - s0));
    fillTable(tc[1], ts[1], j, n, m[1], TWO_PI * (f1 - s1));
    fillTable(tc[2], ts[2], j, n, m[2], TWO_PI * (f2 - s2));
  }
  return { fw, wc, tc, ts };
}

function fillTable(tc: Float64Array, ts: Float64Array, j: number, n: number, mmax: number, theta: number): void {
  tc[j] = 1;
  ts[j] = 0;
  if (mmax === 0) return;
  const c = Math.cos(theta), s = Math.sin(theta);
  tc[n + j] = c;
  ts[n + j] = s;
  let pc = c, ps = s;
  for (let m = 2; m <= mmax; m++) {
    const nc = pc * c - ps * s;
    const ns = pc * s + ps * c;
    tc[m * n + j] = nc;
    ts[m * n + j] = ns;
    pc = nc;
    ps = ns;
  }
}

/** Translations T = S·cell with |T| <= rmax + dmax as (Tx, Ty, Tz, |T|) records, sorted by |T|. */
interface Shifts {
  tab: Float64Array;
  count: number;
  cand: Int32Array;
}

function buildShifts(g: Cell): Shifts {
  const c = g.c;
  const [b0, b1, b2] = g.box;
  const lim2 = g.shiftReach * g.shiftReach * (1 + 1e-12);
  const recs: number[][] = [];
  for (let s0 = -b0; s0 <= b0; s0++) {
    for (let s1 = -b1; s1 <= b1; s1++) {
      for (let s2 = -b2; s2 <= b2; s2++) {
        const tx = s0 * c[0]! + s1 * c[3]! + s2 * c[6]!;
        const ty = s0 * c[1]! + s1 * c[4]! + s2 * c[7]!;
        const tz = s0 * c[2]! + s1 * c[5]! + s2 * c[8]!;
        const t2 = tx * tx + ty * ty + tz * tz;
        if (t2 > lim2) continue;
        recs.push([tx, ty, tz, Math.sqrt(t2)]);
      }
    }
  }
  // By |T|, ties by Tx, Ty, Tz: the kernel's heapsort uses the same total order, so both sum the
  // images in the same sequence.
  recs.sort((a, b) => a[3]! - b[3]! || a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!);
  const tab = new Float64Array(4 * recs.length);
  recs.forEach((r, k) => tab.set(r, 4 * k));
  return { tab, count: recs.length, cand: new Int32Array(recs.length) };
}

/**
 * Σ_S erfc(√η|D|)/|D| over the images of pair (i, j) with 1e-8 < |D| <= rmax: the pair vector is
 * reduced to fractional differences in [-1/2, 1/2], then the sorted translations are walked up to
 * |T| <= rmax + |d| (see assembly/ewald.ts).
 */
function pairSum(g: Cell, fw: Float64Array, wc: Float64Array, sh: Shifts, i: number, j: number, sqrtEta: number, rmax: number, r2max: number): number {
  const c = g.c;
  const r0 = -Math.floor(fw[3 * j]! - fw[3 * i]! + 0.5);
  const r1 = -Math.floor(fw[3 * j + 1]! - fw[3 * i + 1]! + 0.5);
  const r2 = -Math.floor(fw[3 * j + 2]! - fw[3 * i + 2]! + 0.5);
  const dx = wc[3 * j]! - wc[3 * i]! + (r0 * c[0]! + r1 * c[3]! + r2 * c[6]!);
  const dy = wc[3 * j + 1]! - wc[3 * i + 1]! + (r0 * c[1]! + r1 * c[4]! + r2 * c[7]!);
  const dz = wc[3 * j + 2]! - wc[3 * i + 2]! + (r0 * c[2]! + r1 * c[5]! + r2 * c[8]!);
  const cut = rmax + Math.sqrt(dx * dx + dy * dy + dz * dz) + RANGE_EPS;
  const { tab, count, cand } = sh;
  let k = 0;
  for (let e = 0; e < count; e++) {
    if (tab[4 * e + 3]! > cut) break;
    const vx = dx + tab[4 * e]!, vy = dy + tab[4 * e + 1]!, vz = dz + tab[4 * e + 2]!;
    const d2 = vx * vx + vy * vy + vz * vz;
    cand[k] = e;
    k += (d2 <= r2max ? 1 : 0) & (d2 > MIN_R2 ? 1 : 0);
  }
  let sum = 0;
  for (let m = 0; m < k; m++) {
    const e = cand[m]!;
    const vx = dx + tab[4 * e]!, vy = dy + tab[4 * e + 1]!, vz = dz + tab[4 * e + 2]!;
    const r = Math.sqrt(vx * vx + vy * vy + vz * vz);
    sum += erfc(sqrtEta * r) / r;
  }
  return sum;
}

/** Reciprocal-space half-sphere sum without K·4π/V (see `reciprocal` in assembly/ewald.ts). */
function reciprocal(g: Cell, pr: Prepared, q: ArrayLike<number>, n: number, site: number, eta: number, gmax: number, sri: Float64Array | null): number {
  const inv = g.inv;
  const [m0, m1, m2] = g.m;
  const b00 = TWO_PI * inv[0]!, b01 = TWO_PI * inv[3]!, b02 = TWO_PI * inv[6]!;
  const b10 = TWO_PI * inv[1]!, b11 = TWO_PI * inv[4]!, b12 = TWO_PI * inv[7]!;
  const b20 = TWO_PI * inv[2]!, b21 = TWO_PI * inv[5]!, b22 = TWO_PI * inv[8]!;
  const bb = b20 * b20 + b21 * b21 + b22 * b22;
  const g2max = gmax * gmax;
  const fourEta = 4 * eta;
  const ar = new Float64Array(n), ai = new Float64Array(n);
  const [t0c, t1c, t2c] = pr.tc;
  const [t0s, t1s, t2s] = pr.ts;
  let total = 0;
  for (let h = 0; h <= m0; h++) {
    for (let k = -m1; k <= m1; k++) {
      if (h === 0 && k < 0) continue;
      const gx = h * b00 + k * b10, gy = h * b01 + k * b11, gz = h * b02 + k * b12;
      const gb = gx * b20 + gy * b21 + gz * b22;
      const gg = gx * gx + gy * gy + gz * gz;
      const disc = gb * gb - bb * (gg - g2max);
      if (disc < 0) continue;
      const sd = Math.sqrt(disc);
      let lo = Math.ceil((-gb - sd) / bb - RANGE_EPS);
      let hi = Math.floor((-gb + sd) / bb + RANGE_EPS);
      if (h === 0 && k === 0 && lo < 1) lo = 1;
      if (lo < -m2) lo = -m2;
      if (hi > m2) hi = m2;
      if (lo > hi) continue;
      const ka = k < 0 ? -k : k;
      const sk = k < 0 ? -1 : 1;
      const o0 = h * n, o1 = ka * n;
      for (let j = 0; j < n; j++) {
        const xc = t0c[o0 + j]!, xs = t0s[o0 + j]!;
        const yc = t1c[o1 + j]!, ys = sk * t1s[o1 + j]!;
        ar[j] = xc * yc - xs * ys;
        ai[j] = xc * ys + xs * yc;
      }
      for (let l = lo; l <= hi; l++) {
        const Gx = gx + l * b20, Gy = gy + l * b21, Gz = gz + l * b22;
        const g2 = Gx * Gx + Gy * Gy + Gz * Gz;
        if (g2 > g2max || g2 === 0) continue;
        const f = Math.exp(-g2 / fourEta) / g2;
        const o2 = (l < 0 ? -l : l) * n;
        const sl = l < 0 ? -1 : 1;
        let sr = 0, si = 0;
        for (let j = 0; j < n; j++) {
          const xc = ar[j]!, xs = ai[j]!;
          const yc = t2c[o2 + j]!, ys = sl * t2s[o2 + j]!;
          const qj = q[j]!;
          sr += qj * (xc * yc - xs * ys);
          si += qj * (xc * ys + xs * yc);
        }
        if (site >= 0) {
          const xc = ar[site]!, xs = ai[site]!;
          const yc = t2c[o2 + site]!, ys = sl * t2s[o2 + site]!;
          total += f * ((xc * yc - xs * ys) * sr + (xc * ys + xs * yc) * si);
          continue;
        }
        total += f * (sr * sr + si * si);
        if (sri) {
          const fsr = f * sr, fsi = f * si;
          for (let j = 0; j < n; j++) {
            const xc = ar[j]!, xs = ai[j]!;
            const yc = t2c[o2 + j]!, ys = sl * t2s[o2 + j]!;
            sri[j] = sri[j]! + (xc * yc - xs * ys) * fsr + (xc * ys + xs * yc) * fsi;
          }
        }
      }
    }
  }
  return total;
}

/**
 * Ewald energy parts (eV; no charged-cell term) and, with `wantSites`, every site's energy, on raw
 * arrays. Throws {@link EwaldStatusError} on invalid input.
 */
export function ewaldEnergyTs(cell: ArrayLike<number>, pos: ArrayLike<number>, q: ArrayLike<number>, p: EwaldParameters, wantSites: boolean): EwaldParts {
  const n = q.length;
  const g = setup(cell, n, p);
  if (typeof g === 'number') throw ewaldStatusError(g, p, n);
  if (pos.length !== 3 * n) throw new RangeError(`Ewald: ${pos.length} position components for ${n} charges (expected ${3 * n})`);
  const pr = prepare(g, pos, q, n);
  if (typeof pr === 'number') throw ewaldStatusError(pr, p, n);
  const sre = new Float64Array(n);
  const sri = new Float64Array(n);
  const sqrtEta = Math.sqrt(p.eta);
  const r2max = p.realCutoffAng * p.realCutoffAng;
  const sh = buildShifts(g);
  for (let i = 0; i < n; i++) {
    const qi = q[i]!;
    for (let j = i; j < n; j++) {
      const e = qi * q[j]! * pairSum(g, pr.fw, pr.wc, sh, i, j, sqrtEta, p.realCutoffAng, r2max);
      sre[i] = sre[i]! + e;
      if (j !== i) sre[j] = sre[j]! + e;
    }
  }
  const recip = reciprocal(g, pr, q, n, -1, p.eta, p.recipCutoff, wantSites ? sri : null);
  const kReal = 0.5 * EWALD_CONV_FACT;
  const kRecip = EWALD_CONV_FACT * ((4 * Math.PI) / g.vol);
  const kPoint = -EWALD_CONV_FACT * Math.sqrt(p.eta / Math.PI);
  let eReal = 0, ePoint = 0;
  const sites = wantSites ? new Float64Array(n) : null;
  for (let j = 0; j < n; j++) {
    const qj = q[j]!;
    const er = kReal * sre[j]!;
    const ep = kPoint * qj * qj;
    eReal += er;
    ePoint += ep;
    if (sites) sites[j] = er + kRecip * qj * sri[j]! + ep;
  }
  return { real: eReal, recip: kRecip * recip, point: ePoint, sites };
}

/** One site's energy parts (eV) on raw arrays, in O(n) work per image and per G. */
export function ewaldSiteEnergyTs(cell: ArrayLike<number>, pos: ArrayLike<number>, q: ArrayLike<number>, site: number, p: EwaldParameters): EwaldSiteParts {
  const n = q.length;
  const g = setup(cell, n, p);
  if (typeof g === 'number') throw ewaldStatusError(g, p, n, site);
  if (!Number.isInteger(site) || site < 0 || site >= n) throw ewaldStatusError(EWALD_STATUS.BAD_SITE, p, n, site);
  if (pos.length !== 3 * n) throw new RangeError(`Ewald: ${pos.length} position components for ${n} charges (expected ${3 * n})`);
  const pr = prepare(g, pos, q, n);
  if (typeof pr === 'number') throw ewaldStatusError(pr, p, n, site);
  const sqrtEta = Math.sqrt(p.eta);
  const r2max = p.realCutoffAng * p.realCutoffAng;
  const qs = q[site]!;
  const sh = buildShifts(g);
  let real = 0;
  for (let j = 0; j < n; j++) real += q[j]! * pairSum(g, pr.fw, pr.wc, sh, site, j, sqrtEta, p.realCutoffAng, r2max);
  const recip = reciprocal(g, pr, q, n, site, p.eta, p.recipCutoff, null);
  return {
    real: 0.5 * EWALD_CONV_FACT * qs * real,
    recip: EWALD_CONV_FACT * ((4 * Math.PI) / g.vol) * qs * recip,
    point: -EWALD_CONV_FACT * Math.sqrt(p.eta / Math.PI) * qs * qs,
  };
}
