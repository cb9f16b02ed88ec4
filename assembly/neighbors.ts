// Periodic neighbour search (cell lists, triclinic cells, any cutoff).
//
// Conventions (the kernel ABI, one for every kernel):
//   cell  = 9 f64, ROWS ARE LATTICE VECTORS (Å): a = cell[0..2], b = cell[3..5], c = cell[6..8]
//   pos   = 3·n f64, Cartesian, xyz interleaved
//   pair  (i, j, S) with D = r[j] - r[i] + S·cell and d = |D| <= cutoff; only (i, i, 0) is left out
//   The caller owns every buffer (pointers into this module's memory); nothing is allocated here.
//   Return value >= 0: number of pairs found (may exceed `capacity`: then only `capacity` were
//   written; grow the buffers and call again); < 0: a status code (see STATUS_* below).
//
// Cell-list stencil. Fractional coordinates are wrapped into [0,1); axis k is cut into
// nb_k = floor(h_k / rc) bins, h_k being the perpendicular height of the cell along k, so a bin is
// at least rc thick. A sphere of radius rc spans ±rc/h_k in fractional coordinate k, i.e.
// range_k = ceil(rc·nb_k/h_k) bins: 1 for a normal cell, more when rc > h_k (then nb_k = 1 and the
// stencil walks several periodic images). Each stencil offset t = b + d maps to bin t mod nb and
// image floor(t / nb), so every (bin, image) pair is visited exactly once.
//
//        d = -1      0     +1            (2D sketch, nb = 4, range = 1)
//       +-----+-----+-----+
//       |     |     |     |     the home bin of atom i is the centre; the 3×3(×3) block around
//       +-----+-----+-----+     it, wrapped with image shifts, holds every j within rc.
//       |     |  i  |     |
//       +-----+-----+-----+     Measured alternative: bins of rc/2 with range 2 (5³ stencil,
//       |     |     |     |     ~15.6 rc³ searched instead of 27 rc³) was not faster on the
//       +-----+-----+-----+     MP-sized cells that dominate the workload, where nb = 1.
//
// Distances are computed from wrapped positions r' = r - shift·cell (shift = floor of the fractional
// coordinates), stored in bin order as separate x, y, z arrays so the inner loop streams through
// contiguous memory; the offset o = w·cell - r'_i of a stencil cell is hoisted out of that loop.
// The image reported is S = w + shift_i - shift_j, so D = r_j - r_i + S·cell equals the D computed
// (to rounding). Measured alternative: D from the original positions with S·cell per candidate
// (one more i32 load and 9 flops per candidate) took 1.5-2x longer on MP-sized cells.
//
// The candidate loop is branch-free: every candidate's slot is written to a small buffer and the
// buffer index advances by (r2 <= rc²); the accepted few are then emitted. About 5-15 % of the
// candidates are accepted, in no predictable pattern, so a branch per candidate mispredicts often
// (measured: the branchy loop was ~1.6x slower on CaF2 cells).
//
// Scratch layout (8-byte aligned f64 blocks first; size given by neighborsScratchBytes):
//   wcart  f64 × 3n   wrapped Cartesian position of each atom (atom order, xyz interleaved)
//   sx, sy, sz  f64 × n each   the same in bin order, one array per axis
//   cand   i32 × n    candidate slots of one stencil cell
//   shift  i32 × 3n   floor of each atom's fractional coordinates (its image of origin)
//   binOf  i32 × n    home bin of each atom
//   start  i32 × (nbins + 1)   counting-sort offsets
//   atoms  i32 × n    atoms sorted by bin
//   fill   i32 × nbins

import { invertCell, inverseHeight, inv0, inv1, inv2, inv3, inv4, inv5, inv6, inv7, inv8 } from './lib/cell';

const STATUS_BAD_CUTOFF: i32 = -1;
const STATUS_SINGULAR_CELL: i32 = -2;
const STATUS_NONFINITE_POSITION: i32 = -3;
const STATUS_TOO_MANY_IMAGES: i32 = -4;
const STATUS_SCRATCH_TOO_SMALL: i32 = -5;

/** Largest stencil half-width, in cell images per axis, before the input is refused. */
const MAX_RANGE_PER_AXIS: i32 = 64;

/** Output flags. */
const WANT_DISTANCES: i32 = 1;
const WANT_VECTORS: i32 = 2;

// Grid state for one call (module globals: no allocation, no GC).
let nb0: i32 = 1, nb1: i32 = 1, nb2: i32 = 1;
let rg0: i32 = 1, rg1: i32 = 1, rg2: i32 = 1;

@inline function ld(p: usize, k: i32): f64 {
  return load<f64>(p + (<usize>k << 3));
}
@inline function ldi(p: usize, k: i32): i32 {
  return load<i32>(p + (<usize>k << 2));
}
@inline function sti(p: usize, k: i32, v: i32): void {
  store<i32>(p + (<usize>k << 2), v);
}

/** Sets inverse, bin counts and ranges; returns 0 or a status code. */
function setupGrid(cell: usize, n: i32, cutoff: f64): i32 {
  if (!(cutoff > 0.0) || !isFinite(cutoff)) return STATUS_BAD_CUTOFF;
  if (invertCell(cell) == 0.0) return STATUS_SINGULAR_CELL;
  const h0 = 1.0 / inverseHeight(0);
  const h1 = 1.0 / inverseHeight(1);
  const h2 = 1.0 / inverseHeight(2);
  nb0 = chooseBins(h0, cutoff);
  nb1 = chooseBins(h1, cutoff);
  nb2 = chooseBins(h2, cutoff);
  // More bins than atoms only adds empty-bin visits: keep nbins <= 2n by halving the largest axis.
  const maxBins: i64 = max<i64>(1, 2 * <i64>n);
  while (<i64>nb0 * <i64>nb1 * <i64>nb2 > maxBins) {
    if (nb0 >= nb1 && nb0 >= nb2) nb0 = max<i32>(1, nb0 >> 1);
    else if (nb1 >= nb2) nb1 = max<i32>(1, nb1 >> 1);
    else nb2 = max<i32>(1, nb2 >> 1);
  }
  const r0 = Math.ceil((cutoff * <f64>nb0) / h0);
  const r1 = Math.ceil((cutoff * <f64>nb1) / h1);
  const r2 = Math.ceil((cutoff * <f64>nb2) / h2);
  if (r0 > <f64>(MAX_RANGE_PER_AXIS * nb0) || r1 > <f64>(MAX_RANGE_PER_AXIS * nb1) || r2 > <f64>(MAX_RANGE_PER_AXIS * nb2)) {
    return STATUS_TOO_MANY_IMAGES;
  }
  rg0 = <i32>r0;
  rg1 = <i32>r1;
  rg2 = <i32>r2;
  return 0;
}

/**
 * Bins along an axis of height h. Bins at least rc thick need a stencil of 3 bins, but when
 * h/rc is between 1 and 3 that stencil covers 3 whole cell heights; bins of ~rc/2 (stencil 5)
 * search a thinner slab. Take the count whose stencil spans less of the axis,
 * (2·ceil(rc·nb/h) + 1) / nb, preferring fewer bins on ties. Measured (best of 7, 100 calls):
 * ~rc/2 bins cut an 80-atom MP cell (h = 8.7 Å, 5 Å) from 0.27 to 0.14 ms and the 450 MP cells
 * from 21.9 to 19.4 ms in all; also trying ~rc/3 bins (stencil 7) made the set slower again
 * (20.9 ms): more stencil rows with fewer atoms each.
 */
function chooseBins(h: f64, rc: f64): i32 {
  const base = Math.min(Math.floor(h / rc), 1e6);
  const coarse: i32 = max<i32>(1, <i32>base);
  // Only for thin axes (h < 3·rc): on larger cells the saving is small and more stencil rows cost more.
  if (base >= 3.0) return coarse;
  const fine = <i32>Math.floor((2.0 * h) / rc);
  if (fine <= coarse) return coarse;
  const coarseWidth = (2.0 * Math.ceil((rc * <f64>coarse) / h) + 1.0) / <f64>coarse;
  const fineWidth = (2.0 * Math.ceil((rc * <f64>fine) / h) + 1.0) / <f64>fine;
  return fineWidth < coarseWidth ? fine : coarse;
}

/** Bytes of scratch memory a call with this cell, atom count and cutoff needs (or a status code < 0). */
export function neighborsScratchBytes(cell: usize, n: i32, cutoff: f64): i32 {
  const st = setupGrid(cell, n, cutoff);
  if (st < 0) return st;
  return scratchBytesFor(n, nb0 * nb1 * nb2);
}

/** Length of the per-axis (image, bin) lookup table: t runs over [-range, nb - 1 + range]. */
@inline function tableLen(nb: i32, rg: i32): i32 {
  return nb + 2 * rg;
}

@inline function scratchBytesFor(n: i32, nbins: i32): i32 {
  const tables = 2 * (tableLen(nb0, rg0) + tableLen(nb1, rg1) + tableLen(nb2, rg2));
  return ((6 * n) << 3) + ((n + 3 * n + n + (nbins + 1) + n + nbins + tables) << 2);
}

/**
 * Fills img[t + rg] = floor(t / nb) and bin[t + rg] = t mod nb for t in [-rg, nb - 1 + rg]: the
 * stencil's image and wrapped bin along one axis, looked up instead of divided (an i32 division
 * per stencil cell cost ~40 % of the run time on 3000-atom cells at 3 Å).
 */
function fillAxisTable(img: usize, bin: usize, nb: i32, rg: i32): void {
  const len = tableLen(nb, rg);
  for (let k: i32 = 0; k < len; k++) {
    const t = k - rg;
    const w = floorDiv(t, nb);
    sti(img, k, w);
    sti(bin, k, t - w * nb);
  }
}

/**
 * All directed pairs within `cutoff`. Writes i, j (i32), S (3 × i32), and — per `flags` — d (f64)
 * and D (3 × f64) for the first `capacity` pairs; returns the total pair count or a status code.
 * Pairs come grouped by i in increasing order.
 */
export function neighbors(
  cell: usize, pos: usize, n: i32, cutoff: f64, flags: i32,
  scratch: usize, scratchBytes: i32,
  outI: usize, outJ: usize, outS: usize, outD: usize, outV: usize, capacity: i32,
): i32 {
  if (n < 0) return STATUS_NONFINITE_POSITION;
  const st = setupGrid(cell, n, cutoff);
  if (st < 0) return st;
  const nbins = nb0 * nb1 * nb2;
  if (scratchBytesFor(n, nbins) > scratchBytes) return STATUS_SCRATCH_TOO_SMALL;
  const wcart = scratch;
  const sx = wcart + (<usize>(3 * n) << 3);
  const sy = sx + (<usize>n << 3);
  const sz = sy + (<usize>n << 3);
  const cand = sz + (<usize>n << 3);
  const shift = cand + (<usize>n << 2);
  const binOf = shift + (<usize>(3 * n) << 2);
  const start = binOf + (<usize>n << 2);
  const atoms = start + (<usize>(nbins + 1) << 2);
  const fill = atoms + (<usize>n << 2);
  const img0 = fill + (<usize>nbins << 2);
  const bin0t = img0 + (<usize>tableLen(nb0, rg0) << 2);
  const img1 = bin0t + (<usize>tableLen(nb0, rg0) << 2);
  const bin1t = img1 + (<usize>tableLen(nb1, rg1) << 2);
  const img2 = bin1t + (<usize>tableLen(nb1, rg1) << 2);
  const bin2t = img2 + (<usize>tableLen(nb2, rg2) << 2);
  fillAxisTable(img0, bin0t, nb0, rg0);
  fillAxisTable(img1, bin1t, nb1, rg1);
  fillAxisTable(img2, bin2t, nb2, rg2);
  memory.fill(start, 0, <usize>(nbins + 1) << 2);

  const c0 = ld(cell, 0), c1 = ld(cell, 1), c2 = ld(cell, 2);
  const c3 = ld(cell, 3), c4 = ld(cell, 4), c5 = ld(cell, 5);
  const c6 = ld(cell, 6), c7 = ld(cell, 7), c8 = ld(cell, 8);

  // Bin every atom (wrapped fractional coordinates), remember its image of origin.
  for (let a: i32 = 0; a < n; a++) {
    const x = ld(pos, 3 * a), y = ld(pos, 3 * a + 1), z = ld(pos, 3 * a + 2);
    if (!isFinite(x) || !isFinite(y) || !isFinite(z)) return STATUS_NONFINITE_POSITION;
    const f0 = x * inv0 + y * inv3 + z * inv6;
    const f1 = x * inv1 + y * inv4 + z * inv7;
    const f2 = x * inv2 + y * inv5 + z * inv8;
    const bin0 = wrapBin(shift, 3 * a, f0, nb0);
    const bin1 = wrapBin(shift, 3 * a + 1, f1, nb1);
    const bin2 = wrapBin(shift, 3 * a + 2, f2, nb2);
    const s0 = <f64>ldi(shift, 3 * a), s1 = <f64>ldi(shift, 3 * a + 1), s2 = <f64>ldi(shift, 3 * a + 2);
    const w = wcart + (<usize>(3 * a) << 3);
    store<f64>(w, x - (s0 * c0 + s1 * c3 + s2 * c6));
    store<f64>(w, y - (s0 * c1 + s1 * c4 + s2 * c7), 8);
    store<f64>(w, z - (s0 * c2 + s1 * c5 + s2 * c8), 16);
    const bin = (bin0 * nb1 + bin1) * nb2 + bin2;
    sti(binOf, a, bin);
    sti(start, bin + 1, ldi(start, bin + 1) + 1);
  }
  for (let b: i32 = 0; b < nbins; b++) sti(start, b + 1, ldi(start, b + 1) + ldi(start, b));
  memory.copy(fill, start, <usize>nbins << 2);
  for (let a: i32 = 0; a < n; a++) {
    const b = ldi(binOf, a);
    const slot = ldi(fill, b);
    sti(atoms, slot, a);
    sti(fill, b, slot + 1);
    const w = wcart + (<usize>(3 * a) << 3);
    store<f64>(sx + (<usize>slot << 3), load<f64>(w));
    store<f64>(sy + (<usize>slot << 3), load<f64>(w, 8));
    store<f64>(sz + (<usize>slot << 3), load<f64>(w, 16));
  }

  const rc2 = cutoff * cutoff;
  // Callers see d = sqrt(r2); keep a pair whose rounded d equals the cutoff even when r2 is an ulp
  // above fl(cutoff²): re-check with sqrt only inside that sliver.
  const rc2Hi = rc2 * (1.0 + 1e-12);
  const wantD = (flags & WANT_DISTANCES) != 0;
  const wantV = (flags & WANT_VECTORS) != 0;
  let count: i32 = 0;
  for (let a: i32 = 0; a < n; a++) {
    const bin = ldi(binOf, a);
    const b2 = bin % nb2;
    const b1 = (bin / nb2) % nb1;
    const b0 = bin / (nb2 * nb1);
    const wa = wcart + (<usize>(3 * a) << 3);
    const xa = load<f64>(wa), ya = load<f64>(wa, 8), za = load<f64>(wa, 16);
    const sa0 = ldi(shift, 3 * a), sa1 = ldi(shift, 3 * a + 1), sa2 = ldi(shift, 3 * a + 2);
    // Table index of offset d is b + d + rg, running over [b, b + 2·rg].
    for (let k0: i32 = b0; k0 <= b0 + 2 * rg0; k0++) {
      const w0 = ldi(img0, k0);
      const q0 = ldi(bin0t, k0);
      for (let k1: i32 = b1; k1 <= b1 + 2 * rg1; k1++) {
        const w1 = ldi(img1, k1);
        const q1 = ldi(bin1t, k1);
        const row = (q0 * nb1 + q1) * nb2;
        // Along the last axis, consecutive bins of one image are consecutive in the bin-sorted
        // arrays, so each run of the stencil row with the same image w2 is one slot range
        // (usually one or two runs instead of 2·rg2 + 1 bins: longer loops, fewer exits).
        const k2end = b2 + 2 * rg2;
        for (let k2: i32 = b2; k2 <= k2end; ) {
          const w2 = ldi(img2, k2);
          const qlo = ldi(bin2t, k2);
          const k2b = min<i32>(k2end, k2 + (nb2 - 1 - qlo));
          const qhi = ldi(bin2t, k2b);
          k2 = k2b + 1;
          const begin = ldi(start, row + qlo);
          const end = ldi(start, row + qhi + 1);
          const fw0 = <f64>w0, fw1 = <f64>w1, fw2 = <f64>w2;
          const ox = (fw0 * c0 + fw1 * c3 + fw2 * c6) - xa;
          const oy = (fw0 * c1 + fw1 * c4 + fw2 * c7) - ya;
          const oz = (fw0 * c2 + fw1 * c5 + fw2 * c8) - za;
          const self = w0 == 0 && w1 == 0 && w2 == 0;
          let k: i32 = 0;
          for (let p = begin; p < end; p++) {
            const q = <usize>p << 3;
            const dx = load<f64>(sx + q) + ox;
            const dy = load<f64>(sy + q) + oy;
            const dz = load<f64>(sz + q) + oz;
            const r2 = dx * dx + dy * dy + dz * dz;
            sti(cand, k, p);
            k += <i32>(r2 <= rc2Hi);
          }
          for (let m: i32 = 0; m < k; m++) {
            const p = ldi(cand, m);
            const q = <usize>p << 3;
            const dx = load<f64>(sx + q) + ox;
            const dy = load<f64>(sy + q) + oy;
            const dz = load<f64>(sz + q) + oz;
            const r2 = dx * dx + dy * dy + dz * dz;
            if (r2 > rc2 && Math.sqrt(r2) > cutoff) continue;
            const bAtom = ldi(atoms, p);
            if (self && bAtom == a) continue;
            if (count < capacity) {
              // The wrapped image w of bAtom is the original image S = w + shift[a] - shift[b].
              sti(outI, count, a);
              sti(outJ, count, bAtom);
              sti(outS, 3 * count, w0 + sa0 - ldi(shift, 3 * bAtom));
              sti(outS, 3 * count + 1, w1 + sa1 - ldi(shift, 3 * bAtom + 1));
              sti(outS, 3 * count + 2, w2 + sa2 - ldi(shift, 3 * bAtom + 2));
              if (wantD) store<f64>(outD + (<usize>count << 3), Math.sqrt(r2));
              if (wantV) {
                const v = outV + (<usize>(3 * count) << 3);
                store<f64>(v, dx);
                store<f64>(v, dy, 8);
                store<f64>(v, dz, 16);
              }
            }
            count++;
          }
        }
      }
    }
  }
  return count;
}

/** Wraps fractional coordinate f into [0,1), stores floor(f) at shift[k], returns the bin index. */
@inline function wrapBin(shift: usize, k: i32, f: f64, nb: i32): i32 {
  const fl = Math.floor(f);
  let w = f - fl;
  let s = <i32>fl;
  if (w >= 1.0) {
    w -= 1.0;
    s += 1;
  }
  sti(shift, k, s);
  let b = <i32>Math.floor(w * <f64>nb);
  if (b >= nb) b = nb - 1;
  return b;
}

/** floor(t / m) for m > 0. */
@inline function floorDiv(t: i32, m: i32): i32 {
  const q = t / m;
  return (t % m != 0 && t < 0) ? q - 1 : q;
}

/** First byte above the module's static data, 16-byte aligned: the caller's arena starts here. */
export function arenaBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
