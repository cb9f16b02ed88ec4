// Ewald summation of point charges in a periodic cell: total energy, per-site energies, and one
// site's energy without building N×N matrices.
//
// Conventions (the kernel ABI, one for every kernel):
//   cell = 9 f64, ROWS ARE LATTICE VECTORS (Å): a = cell[0..2], b = cell[3..5], c = cell[6..8]
//   pos  = 3·n f64, Cartesian (Å), xyz interleaved;  q = n f64, charges (e)
//   pair vector D = r[j] - r[i] + S·cell; energies out in eV
//   The caller owns every buffer (pointers into this module's memory); nothing is allocated here.
//   Return value 0 = done, < 0 = a status code (STATUS_* below).
//
// The sums are those of pymatgen's `EwaldSummation` (pymatgen/analysis/ewald.py; Toukmaji & Board,
// Comput. Phys. Commun. 95 (1996) 73), with η the screening parameter (erfc(√η·r) real-space
// damping) and the same cutoffs, the same inclusion tests (|D| <= rmax, pairs with |D| <= 1e-8
// left out; |G| <= gmax, G = 0 left out) and the same constant:
//   E_real,i  = ½·K·Σ_j Σ_S q_i q_j erfc(√η |D|)/|D|             over |D| <= rmax
//   E_recip,i = K·(2π/V)·q_i Σ_{G≠0} exp(-G²/4η)/G² · Re[e^{iG·r_i} Σ_j q_j e^{-iG·r_j}]
//   E_point,i = -K·q_i²·√(η/π)
// with K = 1e10·e/(4π ε0) = 14.39964547842567 eV·Å/e² (CODATA 2018, as scipy.constants gives it).
// pymatgen's reciprocal matrix term is √2·sin(G·(r_i - r_j) + π/4) = cos(..) + sin(..); the sine
// part cancels between G and -G, so only the cosine remains and the sum runs over half of the
// G sphere (h > 0, or h = 0 and k > 0, or h = k = 0 and l > 0), doubled.
//
// Reciprocal space. With f = fractional coordinates, G(h,k,l)·r = 2π(h f0 + k f1 + l f2), so
// e^{iG·r} = E0[h]·E1[k]·E2[l] with per-atom tables Ek[m] = e^{2πi m fk} for 0 <= m <= Mk
// (negative m by conjugation), Mk = floor(gmax·|a_k|/2π) being the largest |index| on the sphere.
// One pass per G gives the structure factor S(G) = Σ_j q_j e^{iG·r_j} (the energy needs only |S|²);
// a second pass, only when per-site energies are wanted, projects each site onto S.
// The tables are filled by the recurrence Ek[m] = Ek[m-1]·Ek[1] (one complex product per entry,
// instead of a cos and a sin call; the phase error grows by ~1 ulp per step, at most ~6e-14 rad at
// the largest allowed index 256, far below the tolerance of the sums).
//
// Tested (test/kernels/ewald-conformance.test.ts) against pymatgen 2022.11.7 on 68 structures at
// acc_factor 3, 4 and 12: η and cutoffs to 1e-12, energies and every site energy to 1e-9 relative
// (1e-10 eV absolute); the largest differences seen are ~3e-14 relative (per-site, 1500 atoms).
//
// Real space. Each pair (i, j) is visited once (j >= i) and credited to both sites, which halves
// the erfc count. Its vector is first reduced to fractional differences in [-1/2, 1/2]: d, with
// |d| <= dmax = half the longest cell diagonal. An image d + T (T = S·cell) can be within rmax only
// if |T| <= rmax + |d| (triangle inequality), so one table of the translations with
// |T| <= rmax + dmax, sorted by |T|, serves every pair: each pair walks it up to rmax + |d|.
//
//        T sorted by |T|:  0  |a|  |b|  |a+b| ...  rmax+|d|  ...  rmax+dmax
//        pair (i, j):      [======== walked, branch-free =======]  stop
//
// The walk is branch-free (every entry's index is written to a candidate buffer, the count
// advances only when 1e-8 < |d + T| <= rmax, as in the neighbour kernel); erfc then runs over the
// hits only. Measured alternative (best of 7, same process): enumerating each pair's images
// exactly, S0 and S1 over the slabs |f_j - f_i + S_k| <= rmax/h_k and S2 over the chord where
// the line crosses the sphere (a square root and two index conversions per (S0, S1) row): 114 ms
// against 76 ms for 960-atom CaF2 at acc 12 (29 against 26 ms at acc 3). The table costs a little
// on tiny cells with many images (2-atom LiF at acc 12: 0.05 against 0.02 ms). A cell list is not
// used: at pymatgen's η the real cutoff is about the cell size (rmax/h ≈ 1.1 for 960-atom CaF2 at
// acc 12), so all pairs are within reach anyway.
//
// Scratch layout (f64 blocks; size given by ewaldScratchBytes):
//   fw     3n   wrapped fractional coordinates, in [0, 1)
//   wc     3n   wrapped Cartesian coordinates  r - floor(f)·cell
//   T0c T0s, T1c T1s, T2c T2s   (Mk + 1)·n each: cos / sin of 2π m fk, row m, column atom
//   ar ai  n each  e^{i(G0+G1)·r_j} for the current (h, k)
//   sre sri  n each  per-site real / reciprocal accumulators
//   tab    4 × (2·box0+1)(2·box1+1)(2·box2+1)  translation records (Tx, Ty, Tz, |T|), sorted
//   cand   i32 × the same count  candidate buffer of the branch-free walk

import { erfc } from './lib/erfc';

import { invertCell, inverseHeight, inv0, inv1, inv2, inv3, inv4, inv5, inv6, inv7, inv8 } from './lib/cell';

const STATUS_BAD_ETA: i32 = -1;
const STATUS_BAD_REAL_CUTOFF: i32 = -2;
const STATUS_BAD_RECIP_CUTOFF: i32 = -3;
const STATUS_SINGULAR_CELL: i32 = -4;
const STATUS_NONFINITE_POSITION: i32 = -5;
const STATUS_NONFINITE_CHARGE: i32 = -6;
const STATUS_TOO_MANY_IMAGES: i32 = -7;
const STATUS_TOO_MANY_G: i32 = -8;
const STATUS_SCRATCH_TOO_SMALL: i32 = -9;
const STATUS_BAD_SITE: i32 = -10;
const STATUS_BAD_COUNT: i32 = -11;

/** Largest real-space reach in cell heights (rmax/h) before the input is refused. */
const MAX_IMAGES_PER_AXIS: f64 = 256.0;
/** Largest reciprocal index |h|, |k| or |l| before the input is refused. */
const MAX_G_INDEX: i32 = 256;
/** Largest lattice-translation table (entries of 32 bytes) before the input is refused. */
const MAX_SHIFTS: i64 = 1 << 20;

/** K = 1e10·e/(4π·ε0) in eV·Å/e² with e = 1.602176634e-19 C, ε0 = 8.8541878128e-12 F/m. */
const CONV: f64 = 1e10 * 1.602176634e-19 / (4.0 * Math.PI * 8.8541878128e-12);
const TWO_PI: f64 = 2.0 * Math.PI;
/** Slack (in lattice-index units) on the computed index ranges; each candidate is re-checked exactly. */
const RANGE_EPS: f64 = 1e-9;
/** pymatgen leaves out pairs with |D| <= 1e-8 Å (a site and itself at S = 0). */
const MIN_R2: f64 = 1e-16;

// Cell state for one call (module globals: no allocation, no GC).
let c0: f64 = 0, c1: f64 = 0, c2: f64 = 0, c3: f64 = 0, c4: f64 = 0, c5: f64 = 0, c6: f64 = 0, c7: f64 = 0, c8: f64 = 0;
let vol: f64 = 0;
let reach0: f64 = 0, reach1: f64 = 0, reach2: f64 = 0;
let m0: i32 = 0, m1: i32 = 0, m2: i32 = 0;
let box0: i32 = 0, box1: i32 = 0, box2: i32 = 0;
let shiftCap: i32 = 0;
let shiftReach: f64 = 0;
let nShift: i32 = 0;

@inline function ld(p: usize, k: i32): f64 {
  return load<f64>(p + (<usize>k << 3));
}
@inline function st(p: usize, k: i32, v: f64): void {
  store<f64>(p + (<usize>k << 3), v);
}

/** Reads the cell, sets inverse, volume, real-space reach and reciprocal index bounds. */
function setup(cell: usize, n: i32, eta: f64, rmax: f64, gmax: f64): i32 {
  if (n <= 0) return STATUS_BAD_COUNT;
  if (!(eta > 0.0) || !isFinite(eta)) return STATUS_BAD_ETA;
  if (!(rmax > 0.0) || !isFinite(rmax)) return STATUS_BAD_REAL_CUTOFF;
  if (!(gmax > 0.0) || !isFinite(gmax)) return STATUS_BAD_RECIP_CUTOFF;
  c0 = ld(cell, 0); c1 = ld(cell, 1); c2 = ld(cell, 2);
  c3 = ld(cell, 3); c4 = ld(cell, 4); c5 = ld(cell, 5);
  c6 = ld(cell, 6); c7 = ld(cell, 7); c8 = ld(cell, 8);
  const det = invertCell(cell);
  if (det == 0.0) return STATUS_SINGULAR_CELL;
  vol = Math.abs(det);
  // rmax/h_k = rmax·|column k of inv| (the reciprocal vector b_k without 2π has length 1/h_k).
  reach0 = rmax * inverseHeight(0);
  reach1 = rmax * inverseHeight(1);
  reach2 = rmax * inverseHeight(2);
  if (reach0 > MAX_IMAGES_PER_AXIS || reach1 > MAX_IMAGES_PER_AXIS || reach2 > MAX_IMAGES_PER_AXIS) return STATUS_TOO_MANY_IMAGES;
  // Translations T = S·cell that can matter: |T| <= rmax + dmax, dmax = the largest |D| of a
  // pair reduced to fractional differences in [-1/2, 1/2] (half the longest cell diagonal).
  const dmax = 0.5 * Math.max(
    Math.max(len3(c0 + c3 + c6, c1 + c4 + c7, c2 + c5 + c8), len3(c0 + c3 - c6, c1 + c4 - c7, c2 + c5 - c8)),
    Math.max(len3(c0 - c3 + c6, c1 - c4 + c7, c2 - c5 + c8), len3(-c0 + c3 + c6, -c1 + c4 + c7, -c2 + c5 + c8)),
  );
  shiftReach = rmax + dmax;
  box0 = <i32>Math.floor((shiftReach / rmax) * reach0 + RANGE_EPS);
  box1 = <i32>Math.floor((shiftReach / rmax) * reach1 + RANGE_EPS);
  box2 = <i32>Math.floor((shiftReach / rmax) * reach2 + RANGE_EPS);
  const cap = <i64>(2 * box0 + 1) * <i64>(2 * box1 + 1) * <i64>(2 * box2 + 1);
  if (cap > MAX_SHIFTS) return STATUS_TOO_MANY_IMAGES;
  shiftCap = <i32>cap;
  // |h| = |G·a|/2π <= gmax·|a|/2π.
  const g0 = (gmax * Math.sqrt(c0 * c0 + c1 * c1 + c2 * c2)) / TWO_PI;
  const g1 = (gmax * Math.sqrt(c3 * c3 + c4 * c4 + c5 * c5)) / TWO_PI;
  const g2 = (gmax * Math.sqrt(c6 * c6 + c7 * c7 + c8 * c8)) / TWO_PI;
  if (g0 > <f64>MAX_G_INDEX || g1 > <f64>MAX_G_INDEX || g2 > <f64>MAX_G_INDEX) return STATUS_TOO_MANY_G;
  m0 = <i32>Math.floor(g0 + RANGE_EPS);
  m1 = <i32>Math.floor(g1 + RANGE_EPS);
  m2 = <i32>Math.floor(g2 + RANGE_EPS);
  return 0;
}

@inline function len3(x: f64, y: f64, z: f64): f64 {
  return Math.sqrt(x * x + y * y + z * z);
}

@inline function scratchBytesFor(n: i32): i32 {
  return ((6 * n + 2 * n * (m0 + m1 + m2 + 3) + 4 * n + 4 * shiftCap) << 3) + (shiftCap << 2);
}

/** Block addresses of the scratch layout (set by layoutScratch; see the layout in the header). */
let sFw: usize = 0, sWc: usize = 0, sT0c: usize = 0, sT0s: usize = 0, sT1c: usize = 0, sT1s: usize = 0, sT2c: usize = 0, sT2s: usize = 0;
let sAr: usize = 0, sAi: usize = 0, sSre: usize = 0, sSri: usize = 0, sTab: usize = 0, sCand: usize = 0;

/**
 * One scratch layout for every entry point (its size is scratchBytesFor(n)): wrapped fractional
 * and Cartesian positions (3n each), cos/sin tables per reciprocal axis ((m_k + 1)·n each),
 * structure-factor parts ar, ai (n each), per-site accumulators sre, sri (n each), the
 * lattice-translation table (shiftCap × 32 bytes) and its candidate list (shiftCap × i32).
 */
function layoutScratch(scratch: usize, n: i32): void {
  sFw = scratch;
  sWc = sFw + (<usize>(3 * n) << 3);
  sT0c = sWc + (<usize>(3 * n) << 3);
  sT0s = sT0c + (<usize>((m0 + 1) * n) << 3);
  sT1c = sT0s + (<usize>((m0 + 1) * n) << 3);
  sT1s = sT1c + (<usize>((m1 + 1) * n) << 3);
  sT2c = sT1s + (<usize>((m1 + 1) * n) << 3);
  sT2s = sT2c + (<usize>((m2 + 1) * n) << 3);
  sAr = sT2s + (<usize>((m2 + 1) * n) << 3);
  sAi = sAr + (<usize>n << 3);
  sSre = sAi + (<usize>n << 3);
  sSri = sSre + (<usize>n << 3);
  sTab = sSri + (<usize>n << 3);
  sCand = sTab + (<usize>shiftCap << 5);
}

/** Bytes of scratch memory a call with these inputs needs (or a status code < 0). */
export function ewaldScratchBytes(cell: usize, n: i32, eta: f64, rmax: f64, gmax: f64): i32 {
  const s = setup(cell, n, eta, rmax, gmax);
  if (s < 0) return s;
  const bytes = ((6 * <i64>n + 2 * <i64>n * <i64>(m0 + m1 + m2 + 3) + 4 * <i64>n + 4 * <i64>shiftCap) << 3) + (<i64>shiftCap << 2);
  if (bytes > <i64>0x7fffffff) return STATUS_TOO_MANY_G;
  return <i32>bytes;
}

/** Wraps positions, checks charges, fills the phase tables. Returns 0 or a status code. */
function prepare(pos: usize, q: usize, n: i32, fw: usize, wc: usize, t0c: usize, t0s: usize, t1c: usize, t1s: usize, t2c: usize, t2s: usize): i32 {
  for (let j: i32 = 0; j < n; j++) {
    const x = ld(pos, 3 * j), y = ld(pos, 3 * j + 1), z = ld(pos, 3 * j + 2);
    if (!isFinite(x) || !isFinite(y) || !isFinite(z)) return STATUS_NONFINITE_POSITION;
    if (!isFinite(ld(q, j))) return STATUS_NONFINITE_CHARGE;
    const f0 = x * inv0 + y * inv3 + z * inv6;
    const f1 = x * inv1 + y * inv4 + z * inv7;
    const f2 = x * inv2 + y * inv5 + z * inv8;
    const s0 = Math.floor(f0), s1 = Math.floor(f1), s2 = Math.floor(f2);
    st(fw, 3 * j, f0 - s0);
    st(fw, 3 * j + 1, f1 - s1);
    st(fw, 3 * j + 2, f2 - s2);
    st(wc, 3 * j, x - (s0 * c0 + s1 * c3 + s2 * c6));
    st(wc, 3 * j + 1, y - (s0 * c1 + s1 * c4 + s2 * c7));
    st(wc, 3 * j + 2, z - (s0 * c2 + s1 * c5 + s2 * c8));
    fillTable(t0c, t0s, j, n, m0, TWO_PI * (f0 - s0));
    fillTable(t1c, t1s, j, n, m1, TWO_PI * (f1 - s1));
    fillTable(t2c, t2s, j, n, m2, TWO_PI * (f2 - s2));
  }
  return 0;
}

/** Column j of a phase table: (cos mθ, sin mθ) for m = 0..mmax by repeated multiplication by e^{iθ}. */
@inline function fillTable(tc: usize, ts: usize, j: i32, n: i32, mmax: i32, theta: f64): void {
  st(tc, j, 1.0);
  st(ts, j, 0.0);
  if (mmax == 0) return;
  const c = Math.cos(theta), s = Math.sin(theta);
  st(tc, n + j, c);
  st(ts, n + j, s);
  let pc = c, ps = s;
  for (let m: i32 = 2; m <= mmax; m++) {
    const nc = pc * c - ps * s;
    const ns = pc * s + ps * c;
    st(tc, m * n + j, nc);
    st(ts, m * n + j, ns);
    pc = nc;
    ps = ns;
  }
}

/**
 * Fills the translation table: every T = S·cell with |T| <= shiftReach, as (Tx, Ty, Tz, |T|)
 * records of 32 bytes, sorted by |T|. Returns the number of records.
 */
function buildShifts(tab: usize): i32 {
  const lim2 = shiftReach * shiftReach * (1.0 + 1e-12);
  let k: i32 = 0;
  for (let s0: i32 = -box0; s0 <= box0; s0++) {
    for (let s1: i32 = -box1; s1 <= box1; s1++) {
      for (let s2: i32 = -box2; s2 <= box2; s2++) {
        const a0 = <f64>s0, a1 = <f64>s1, a2 = <f64>s2;
        const tx = a0 * c0 + a1 * c3 + a2 * c6;
        const ty = a0 * c1 + a1 * c4 + a2 * c7;
        const tz = a0 * c2 + a1 * c5 + a2 * c8;
        const t2 = tx * tx + ty * ty + tz * tz;
        if (t2 > lim2) continue;
        const p = tab + (<usize>k << 5);
        store<f64>(p, tx);
        store<f64>(p, ty, 8);
        store<f64>(p, tz, 16);
        store<f64>(p, Math.sqrt(t2), 24);
        k++;
      }
    }
  }
  heapSortByLength(tab, k);
  return k;
}

@inline function swapRecords(tab: usize, a: i32, b: i32): void {
  const pa = tab + (<usize>a << 5), pb = tab + (<usize>b << 5);
  for (let o: usize = 0; o < 32; o += 8) {
    const t = load<f64>(pa + o);
    store<f64>(pa + o, load<f64>(pb + o));
    store<f64>(pb + o, t);
  }
}

/** Record order: by |T|, ties by Tx, Ty, Tz (a total order, the same as the TS twin's sort). */
@inline function before(tab: usize, a: i32, b: i32): bool {
  const pa = tab + (<usize>a << 5), pb = tab + (<usize>b << 5);
  const la = load<f64>(pa, 24), lb = load<f64>(pb, 24);
  if (la != lb) return la < lb;
  const xa = load<f64>(pa), xb = load<f64>(pb);
  if (xa != xb) return xa < xb;
  const ya = load<f64>(pa, 8), yb = load<f64>(pb, 8);
  if (ya != yb) return ya < yb;
  return load<f64>(pa, 16) < load<f64>(pb, 16);
}

/** In-place heapsort of the translation records (no allocation; O(k log k)). */
function heapSortByLength(tab: usize, k: i32): void {
  for (let start = (k >> 1) - 1; start >= 0; start--) siftDown(tab, start, k);
  for (let end = k - 1; end > 0; end--) {
    swapRecords(tab, 0, end);
    siftDown(tab, 0, end);
  }
}

function siftDown(tab: usize, root: i32, end: i32): void {
  let r = root;
  for (;;) {
    let child = 2 * r + 1;
    if (child >= end) return;
    if (child + 1 < end && before(tab, child, child + 1)) child++;
    if (!before(tab, r, child)) return;
    swapRecords(tab, r, child);
    r = child;
  }
}

/**
 * Σ_S erfc(√η|D|)/|D| over the images S of pair (i, j) with 1e-8 < |D| <= rmax. The pair vector is
 * first reduced to fractional differences in [-1/2, 1/2] (d); an image d + T can only be within
 * rmax if |T| <= rmax + |d|, so the sorted table is walked up to there.
 */
function pairSum(fw: usize, wc: usize, tab: usize, cand: usize, i: i32, j: i32, sqrtEta: f64, rmax: f64, r2max: f64): f64 {
  const r0 = -Math.floor(ld(fw, 3 * j) - ld(fw, 3 * i) + 0.5);
  const r1 = -Math.floor(ld(fw, 3 * j + 1) - ld(fw, 3 * i + 1) + 0.5);
  const r2 = -Math.floor(ld(fw, 3 * j + 2) - ld(fw, 3 * i + 2) + 0.5);
  const dx = ld(wc, 3 * j) - ld(wc, 3 * i) + (r0 * c0 + r1 * c3 + r2 * c6);
  const dy = ld(wc, 3 * j + 1) - ld(wc, 3 * i + 1) + (r0 * c1 + r1 * c4 + r2 * c7);
  const dz = ld(wc, 3 * j + 2) - ld(wc, 3 * i + 2) + (r0 * c2 + r1 * c5 + r2 * c8);
  const cut = rmax + Math.sqrt(dx * dx + dy * dy + dz * dz) + RANGE_EPS;
  // Branch-free pass: every entry's index is written, the count advances only for hits.
  let k: i32 = 0;
  for (let e: i32 = 0; e < nShift; e++) {
    const p = tab + (<usize>e << 5);
    if (load<f64>(p, 24) > cut) break;
    const vx = dx + load<f64>(p), vy = dy + load<f64>(p, 8), vz = dz + load<f64>(p, 16);
    const d2 = vx * vx + vy * vy + vz * vz;
    store<i32>(cand + (<usize>k << 2), e);
    k += <i32>(d2 <= r2max) & <i32>(d2 > MIN_R2);
  }
  let sum: f64 = 0.0;
  for (let m: i32 = 0; m < k; m++) {
    const p = tab + (<usize>load<i32>(cand + (<usize>m << 2)) << 5);
    const vx = dx + load<f64>(p), vy = dy + load<f64>(p, 8), vz = dz + load<f64>(p, 16);
    const r = Math.sqrt(vx * vx + vy * vy + vz * vz);
    sum += erfc(sqrtEta * r) / r;
  }
  return sum;
}

/**
 * Total Ewald energy parts and (when outSites != 0) every site's energy.
 * outParts (3 f64): real-space, reciprocal-space and point energy, eV (no charged-cell term).
 * outSites (n f64): per-site energy, eV (real + reciprocal + point; pymatgen `get_site_energy`).
 */
export function ewaldEnergy(
  cell: usize, pos: usize, q: usize, n: i32, eta: f64, rmax: f64, gmax: f64,
  scratch: usize, scratchBytes: i32, outParts: usize, outSites: usize,
): i32 {
  const s = setup(cell, n, eta, rmax, gmax);
  if (s < 0) return s;
  if (scratchBytesFor(n) > scratchBytes) return STATUS_SCRATCH_TOO_SMALL;
  layoutScratch(scratch, n);
  const fw = sFw, wc = sWc, t0c = sT0c, t0s = sT0s, t1c = sT1c, t1s = sT1s, t2c = sT2c, t2s = sT2s;
  const ar = sAr, ai = sAi, sre = sSre, sri = sSri, tab = sTab, cand = sCand;
  const ps = prepare(pos, q, n, fw, wc, t0c, t0s, t1c, t1s, t2c, t2s);
  if (ps < 0) return ps;
  nShift = buildShifts(tab);
  const wantSites = outSites != 0;
  memory.fill(sre, 0, <usize>(2 * n) << 3);

  // Real space: each pair once, credited to both sites.
  const sqrtEta = Math.sqrt(eta);
  const r2max = rmax * rmax;
  for (let i: i32 = 0; i < n; i++) {
    const qi = ld(q, i);
    for (let j: i32 = i; j < n; j++) {
      const e = qi * ld(q, j) * pairSum(fw, wc, tab, cand, i, j, sqrtEta, rmax, r2max);
      st(sre, i, ld(sre, i) + e);
      if (j != i) st(sre, j, ld(sre, j) + e);
    }
  }

  // Reciprocal space over the half sphere.
  const recip = reciprocal(q, n, -1, eta, gmax, t0c, t0s, t1c, t1s, t2c, t2s, ar, ai, wantSites ? sri : 0);

  const kReal = 0.5 * CONV;
  const kRecip = CONV * (4.0 * Math.PI / vol);
  const kPoint = -CONV * Math.sqrt(eta / Math.PI);
  let eReal: f64 = 0.0, ePoint: f64 = 0.0;
  for (let j: i32 = 0; j < n; j++) {
    const qj = ld(q, j);
    const er = kReal * ld(sre, j);
    const ep = kPoint * qj * qj;
    eReal += er;
    ePoint += ep;
    if (wantSites) st(outSites, j, er + kRecip * qj * ld(sri, j) + ep);
  }
  st(outParts, 0, eReal);
  st(outParts, 1, kRecip * recip);
  st(outParts, 2, ePoint);
  return 0;
}

/**
 * The energy of one site (pymatgen `get_site_energy(site)`) in O(n) work per image and per G:
 * no pair matrix, one structure-factor pass. outParts (3 f64): the site's real, reciprocal and
 * point parts, eV; their sum is the site energy.
 */
export function ewaldSiteEnergy(
  cell: usize, pos: usize, q: usize, n: i32, site: i32, eta: f64, rmax: f64, gmax: f64,
  scratch: usize, scratchBytes: i32, outParts: usize,
): i32 {
  const s = setup(cell, n, eta, rmax, gmax);
  if (s < 0) return s;
  if (site < 0 || site >= n) return STATUS_BAD_SITE;
  if (scratchBytesFor(n) > scratchBytes) return STATUS_SCRATCH_TOO_SMALL;
  layoutScratch(scratch, n);
  const fw = sFw, wc = sWc, t0c = sT0c, t0s = sT0s, t1c = sT1c, t1s = sT1s, t2c = sT2c, t2s = sT2s;
  const ar = sAr, ai = sAi, tab = sTab, cand = sCand;
  const ps = prepare(pos, q, n, fw, wc, t0c, t0s, t1c, t1s, t2c, t2s);
  if (ps < 0) return ps;
  nShift = buildShifts(tab);

  const sqrtEta = Math.sqrt(eta);
  const r2max = rmax * rmax;
  const qs = ld(q, site);
  let real: f64 = 0.0;
  for (let j: i32 = 0; j < n; j++) real += ld(q, j) * pairSum(fw, wc, tab, cand, site, j, sqrtEta, rmax, r2max);
  const recip = reciprocal(q, n, site, eta, gmax, t0c, t0s, t1c, t1s, t2c, t2s, ar, ai, 0);
  st(outParts, 0, 0.5 * CONV * qs * real);
  st(outParts, 1, CONV * (4.0 * Math.PI / vol) * qs * recip);
  st(outParts, 2, -CONV * Math.sqrt(eta / Math.PI) * qs * qs);
  return 0;
}

/**
 * Reciprocal-space sum over the half sphere 0 < |G| <= gmax, without the factor K·4π/V:
 *   site < 0:  Σ_G f(G)·|S(G)|²  and, if sri != 0, sri[j] += Σ_G f(G)·Re[e^{iG·r_j} S*(G)]
 *   site >= 0: Σ_G f(G)·Re[e^{iG·r_site} S*(G)]
 * with f(G) = exp(-G²/4η)/G² and S(G) = Σ_j q_j e^{iG·r_j}.
 */
function reciprocal(
  q: usize, n: i32, site: i32, eta: f64, gmax: f64,
  t0c: usize, t0s: usize, t1c: usize, t1s: usize, t2c: usize, t2s: usize, ar: usize, ai: usize, sri: usize,
): f64 {
  // Reciprocal lattice vectors (rows): b_k = 2π·(column k of inv).
  const b00 = TWO_PI * inv0, b01 = TWO_PI * inv3, b02 = TWO_PI * inv6;
  const b10 = TWO_PI * inv1, b11 = TWO_PI * inv4, b12 = TWO_PI * inv7;
  const b20 = TWO_PI * inv2, b21 = TWO_PI * inv5, b22 = TWO_PI * inv8;
  const bb = b20 * b20 + b21 * b21 + b22 * b22;
  const g2max = gmax * gmax;
  const fourEta = 4.0 * eta;
  let total: f64 = 0.0;
  for (let h: i32 = 0; h <= m0; h++) {
    const fh = <f64>h;
    for (let k: i32 = -m1; k <= m1; k++) {
      if (h == 0 && k < 0) continue;
      const fk = <f64>k;
      const gx = fh * b00 + fk * b10, gy = fh * b01 + fk * b11, gz = fh * b02 + fk * b12;
      const gb = gx * b20 + gy * b21 + gz * b22;
      const gg = gx * gx + gy * gy + gz * gz;
      const disc = gb * gb - bb * (gg - g2max);
      if (disc < 0.0) continue;
      const sd = Math.sqrt(disc);
      let lo = <i32>Math.ceil((-gb - sd) / bb - RANGE_EPS);
      let hi = <i32>Math.floor((-gb + sd) / bb + RANGE_EPS);
      if (h == 0 && k == 0 && lo < 1) lo = 1;
      if (lo < -m2) lo = -m2;
      if (hi > m2) hi = m2;
      if (lo > hi) continue;
      // A_j = E0[h]·E1[k] (E1[-k] = conj E1[k]).
      const ka = k < 0 ? -k : k;
      const sk: f64 = k < 0 ? -1.0 : 1.0;
      const r0c = t0c + (<usize>(h * n) << 3), r0s = t0s + (<usize>(h * n) << 3);
      const r1c = t1c + (<usize>(ka * n) << 3), r1s = t1s + (<usize>(ka * n) << 3);
      for (let j: i32 = 0; j < n; j++) {
        const xc = ld(r0c, j), xs = ld(r0s, j);
        const yc = ld(r1c, j), ys = sk * ld(r1s, j);
        st(ar, j, xc * yc - xs * ys);
        st(ai, j, xc * ys + xs * yc);
      }
      for (let l: i32 = lo; l <= hi; l++) {
        const fl = <f64>l;
        const Gx = gx + fl * b20, Gy = gy + fl * b21, Gz = gz + fl * b22;
        const g2 = Gx * Gx + Gy * Gy + Gz * Gz;
        if (g2 > g2max || g2 == 0.0) continue;
        const f = Math.exp(-g2 / fourEta) / g2;
        const la = l < 0 ? -l : l;
        const sl: f64 = l < 0 ? -1.0 : 1.0;
        const r2c = t2c + (<usize>(la * n) << 3), r2s = t2s + (<usize>(la * n) << 3);
        let sr: f64 = 0.0, si: f64 = 0.0;
        for (let j: i32 = 0; j < n; j++) {
          const xc = ld(ar, j), xs = ld(ai, j);
          const yc = ld(r2c, j), ys = sl * ld(r2s, j);
          const qj = ld(q, j);
          sr += qj * (xc * yc - xs * ys);
          si += qj * (xc * ys + xs * yc);
        }
        if (site >= 0) {
          const xc = ld(ar, site), xs = ld(ai, site);
          const yc = ld(r2c, site), ys = sl * ld(r2s, site);
          total += f * ((xc * yc - xs * ys) * sr + (xc * ys + xs * yc) * si);
          continue;
        }
        total += f * (sr * sr + si * si);
        if (sri != 0) {
          const fsr = f * sr, fsi = f * si;
          for (let j: i32 = 0; j < n; j++) {
            const xc = ld(ar, j), xs = ld(ai, j);
            const yc = ld(r2c, j), ys = sl * ld(r2s, j);
            st(sri, j, ld(sri, j) + (xc * yc - xs * ys) * fsr + (xc * ys + xs * yc) * fsi);
          }
        }
      }
    }
  }
  return total;
}

/** erfc of n values (x → out), for testing the kernel's erfc against high-precision tables. */
export function erfcBatch(x: usize, n: i32, out: usize): i32 {
  if (n < 0) return STATUS_BAD_COUNT;
  for (let k: i32 = 0; k < n; k++) st(out, k, erfc(ld(x, k)));
  return n;
}

/** First byte above the module's static data, 16-byte aligned: the caller's arena starts here. */
export function arenaBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
