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
// Scratch layout (bytes, from `scratch`, size given by neighborsScratchBytes):
//   shift  i32 × 3n   floor of each atom's fractional coordinates (its image of origin)
//   binOf  i32 × n    home bin of each atom
//   start  i32 × (nbins + 1)   counting-sort offsets
//   atoms  i32 × n    atoms sorted by bin
//   fill   i32 × nbins

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
let inv0: f64 = 0, inv1: f64 = 0, inv2: f64 = 0, inv3: f64 = 0, inv4: f64 = 0, inv5: f64 = 0, inv6: f64 = 0, inv7: f64 = 0, inv8: f64 = 0;
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
  const c0 = ld(cell, 0), c1 = ld(cell, 1), c2 = ld(cell, 2);
  const c3 = ld(cell, 3), c4 = ld(cell, 4), c5 = ld(cell, 5);
  const c6 = ld(cell, 6), c7 = ld(cell, 7), c8 = ld(cell, 8);
  const det = c0 * (c4 * c8 - c5 * c7) - c1 * (c3 * c8 - c5 * c6) + c2 * (c3 * c7 - c4 * c6);
  if (!(Math.abs(det) > 1e-12) || !isFinite(det)) return STATUS_SINGULAR_CELL;
  inv0 = (c4 * c8 - c5 * c7) / det;
  inv1 = (c2 * c7 - c1 * c8) / det;
  inv2 = (c1 * c5 - c2 * c4) / det;
  inv3 = (c5 * c6 - c3 * c8) / det;
  inv4 = (c0 * c8 - c2 * c6) / det;
  inv5 = (c2 * c3 - c0 * c5) / det;
  inv6 = (c3 * c7 - c4 * c6) / det;
  inv7 = (c1 * c6 - c0 * c7) / det;
  inv8 = (c0 * c4 - c1 * c3) / det;
  // h_k = 1 / |column k of inv|: the reciprocal vector b_k* has length 1/h_k.
  const h0 = 1.0 / Math.sqrt(inv0 * inv0 + inv3 * inv3 + inv6 * inv6);
  const h1 = 1.0 / Math.sqrt(inv1 * inv1 + inv4 * inv4 + inv7 * inv7);
  const h2 = 1.0 / Math.sqrt(inv2 * inv2 + inv5 * inv5 + inv8 * inv8);
  nb0 = max<i32>(1, <i32>Math.min(Math.floor(h0 / cutoff), 1e6));
  nb1 = max<i32>(1, <i32>Math.min(Math.floor(h1 / cutoff), 1e6));
  nb2 = max<i32>(1, <i32>Math.min(Math.floor(h2 / cutoff), 1e6));
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

/** Bytes of scratch memory a call with this cell, atom count and cutoff needs (or a status code < 0). */
export function neighborsScratchBytes(cell: usize, n: i32, cutoff: f64): i32 {
  const st = setupGrid(cell, n, cutoff);
  if (st < 0) return st;
  const nbins = nb0 * nb1 * nb2;
  return (3 * n + n + (nbins + 1) + n + nbins) << 2;
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
  if (((3 * n + n + (nbins + 1) + n + nbins) << 2) > scratchBytes) return STATUS_SCRATCH_TOO_SMALL;
  const shift = scratch;
  const binOf = shift + (<usize>(3 * n) << 2);
  const start = binOf + (<usize>n << 2);
  const atoms = start + (<usize>(nbins + 1) << 2);
  const fill = atoms + (<usize>n << 2);
  memory.fill(start, 0, <usize>(nbins + 1) << 2);

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
  }

  const c0 = ld(cell, 0), c1 = ld(cell, 1), c2 = ld(cell, 2);
  const c3 = ld(cell, 3), c4 = ld(cell, 4), c5 = ld(cell, 5);
  const c6 = ld(cell, 6), c7 = ld(cell, 7), c8 = ld(cell, 8);
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
    const xa = ld(pos, 3 * a), ya = ld(pos, 3 * a + 1), za = ld(pos, 3 * a + 2);
    const sa0 = ldi(shift, 3 * a), sa1 = ldi(shift, 3 * a + 1), sa2 = ldi(shift, 3 * a + 2);
    for (let d0: i32 = -rg0; d0 <= rg0; d0++) {
      const t0 = b0 + d0;
      const w0 = floorDiv(t0, nb0);
      const q0 = t0 - w0 * nb0;
      for (let d1: i32 = -rg1; d1 <= rg1; d1++) {
        const t1 = b1 + d1;
        const w1 = floorDiv(t1, nb1);
        const q1 = t1 - w1 * nb1;
        for (let d2: i32 = -rg2; d2 <= rg2; d2++) {
          const t2 = b2 + d2;
          const w2 = floorDiv(t2, nb2);
          const q2 = t2 - w2 * nb2;
          const tb = (q0 * nb1 + q1) * nb2 + q2;
          const end = ldi(start, tb + 1);
          for (let p = ldi(start, tb); p < end; p++) {
            const bAtom = ldi(atoms, p);
            // The wrapped image w of bAtom is the original image S = w + shift[a] - shift[b].
            const s0 = w0 + sa0 - ldi(shift, 3 * bAtom);
            const s1 = w1 + sa1 - ldi(shift, 3 * bAtom + 1);
            const s2 = w2 + sa2 - ldi(shift, 3 * bAtom + 2);
            if (bAtom == a && s0 == 0 && s1 == 0 && s2 == 0) continue;
            const fs0 = <f64>s0, fs1 = <f64>s1, fs2 = <f64>s2;
            const dx = ld(pos, 3 * bAtom) - xa + (fs0 * c0 + fs1 * c3 + fs2 * c6);
            const dy = ld(pos, 3 * bAtom + 1) - ya + (fs0 * c1 + fs1 * c4 + fs2 * c7);
            const dz = ld(pos, 3 * bAtom + 2) - za + (fs0 * c2 + fs1 * c5 + fs2 * c8);
            const r2 = dx * dx + dy * dy + dz * dz;
            if (r2 > rc2 && (r2 > rc2Hi || Math.sqrt(r2) > cutoff)) continue;
            if (count < capacity) {
              sti(outI, count, a);
              sti(outJ, count, bAtom);
              sti(outS, 3 * count, s0);
              sti(outS, 3 * count + 1, s1);
              sti(outS, 3 * count + 2, s2);
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
