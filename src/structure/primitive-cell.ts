/**
 * The two steps of a primitive-cell reduction that do not need the space group: the lattice spanned
 * by a cell's pure translations (held exactly, {@link TranslationLattice}), and the assignment of every
 * site to its first copy modulo a (primitive) lattice ({@link firstCopies}). With the translation
 * search of ./symops.ts they reduce a large supercell in time linear in its sites before any symmetry
 * analysis runs on it (see `primitiveReduction` in ./symmetry.ts).
 *
 * Conventions as in ./symmetry.ts: lattices are 9 numbers, rows = lattice vectors; fractional
 * coordinates are row vectors, cart = frac · lattice.
 */
import { perpendicularHeights } from './lattice.js';

/** Extended Euclid: [g, u, v] with u·a + v·b = g = gcd(a, b) ≥ 0. */
function extendedGcd(a: number, b: number): [number, number, number] {
  let r0 = a, r1 = b, s0 = 1, s1 = 0, t0 = 0, t1 = 1;
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return r0 < 0 ? [-r0, -s0, -t0] : [r0, s0, t0];
}

/** x mod m in [0, m). */
function mod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r;
}

/**
 * A lattice of translations of a cell, held exactly: vectors are fractional coordinates of the cell
 * in units of 1/`denominator` (integers), the lattice always contains the cell's own vectors
 * (`denominator`·e_i), and its basis is kept in Hermite normal form — upper triangular rows with a
 * positive diagonal, entries right of the diagonal reduced modulo the denominator (allowed because
 * denominator·e_q is a combination of the rows below row q's column alone, so the rows stay a basis).
 * A vector is folded in column by column with extended Euclid; membership is back-substitution.
 * Numbers stay below denominator², exact in doubles for any denominator under 2^26.
 *
 * The pure translations of a supercell form a group of order r that divides the number of sites of
 * every element, so with the denominator set to such a count they are integers in these units.
 */
export class TranslationLattice {
  /** Rows of the basis in units of 1/denominator, row-major. */
  private readonly H: number[];

  constructor(readonly denominator: number) {
    if (!(Number.isInteger(denominator) && denominator >= 1 && denominator < 2 ** 26)) throw new RangeError(`denominator must be an integer in [1, 2^26), got ${denominator}`);
    this.H = [denominator, 0, 0, 0, denominator, 0, 0, 0, denominator];
  }

  /** Adds the vector `g` (integers, units of 1/denominator) to the generators. */
  add(g: readonly number[]): void {
    const D = this.denominator, H = this.H;
    const v = g.map((x) => mod(x, D));
    for (let c = 0; c < 3; c++) {
      const a = H[4 * c]!, b = v[c]!;
      if (b === 0) continue;
      const [d, u, w] = extendedGcd(a, b);
      const ad = a / d, bd = b / d;
      for (let q = c; q < 3; q++) {
        const hq = H[3 * c + q]!, vq = v[q]!;
        H[3 * c + q] = u * hq + w * vq;
        v[q] = bd * hq - ad * vq;
      }
      for (let q = c + 1; q < 3; q++) {
        H[3 * c + q] = mod(H[3 * c + q]!, D);
        v[q] = mod(v[q]!, D);
      }
    }
  }

  /** Whether `g` (integers, units of 1/denominator) is a vector of the lattice. */
  contains(g: readonly number[]): boolean {
    const D = this.denominator, H = this.H;
    const v = g.map((x) => mod(x, D));
    for (let c = 0; c < 3; c++) {
      const k = v[c]! / H[4 * c]!;
      if (!Number.isInteger(k)) return false;
      for (let q = c; q < 3; q++) v[q] = mod(v[q]! - k * H[3 * c + q]!, D);
    }
    return true;
  }

  /** Lattice points per cell: the cell's volume over the lattice's. */
  get pointsPerCell(): number {
    const D = this.denominator, H = this.H;
    return (D * D * D) / (H[0]! * H[4]! * H[8]!);
  }

  /** The basis as rows of fractional coordinates of the cell (the primitive lattice is basis · lattice); same handedness as the cell. */
  basis(): Float64Array {
    return Float64Array.from(this.H, (h) => h / this.denominator);
  }
}

/** Sites of a cell assigned to their first copy modulo a lattice (see {@link firstCopies}). */
export interface FirstCopies {
  /** Input index of the first copy of each distinct site, in input order. */
  kept: number[];
  /** For each input site, the index into `kept` of its first copy. */
  siteToKept: Int32Array;
  /** For each input site (3 per site): frac = frac of its first copy + shift, in the lattice's coordinates. */
  shift: Int32Array;
}

/**
 * Each site assigned to the first earlier site of the same species that coincides with it modulo
 * `lattice` within `tolAng` (difference rounded per fractional component, then measured in Å), or
 * kept as a new distinct site. `frac` holds the sites in `lattice`'s fractional coordinates (any
 * range). The distinct sites are binned by wrapped coordinate, a bin at least `tolAng` high along
 * each axis, so a site is compared with the kept sites of 27 bins instead of all of them (linear in
 * the site count; the first match is the one of lowest index, as a scan of every kept site finds).
 */
export function firstCopies(species: readonly string[], frac: ArrayLike<number>, lattice: ArrayLike<number>, tolAng: number): FirstCopies {
  const n = species.length;
  const L = lattice;
  const tol2 = tolAng * tolAng;
  const h = perpendicularHeights(L);
  const cap = Math.max(1, Math.ceil(Math.cbrt(n)));
  const g0 = Math.max(1, Math.min(cap, Math.floor(h[0] / tolAng)));
  const g1 = Math.max(1, Math.min(cap, Math.floor(h[1] / tolAng)));
  const g2 = Math.max(1, Math.min(cap, Math.floor(h[2] / tolAng)));
  const binOf = (v: number, g: number) => Math.min(g - 1, Math.floor((v - Math.floor(v)) * g));
  const lo0 = g0 <= 3 ? 0 : -1, hi0 = g0 <= 3 ? g0 - 1 : 1;
  const lo1 = g1 <= 3 ? 0 : -1, hi1 = g1 <= 3 ? g1 - 1 : 1;
  const lo2 = g2 <= 3 ? 0 : -1, hi2 = g2 <= 3 ? g2 - 1 : 1;
  const bins: number[][] = Array.from({ length: g0 * g1 * g2 }, () => []);
  const kept: number[] = [];
  const siteToKept = new Int32Array(n);
  const shift = new Int32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const a = frac[3 * i]!, b = frac[3 * i + 1]!, c = frac[3 * i + 2]!;
    const ba = g0 <= 3 ? 0 : binOf(a, g0), bb = g1 <= 3 ? 0 : binOf(b, g1), bc = g2 <= 3 ? 0 : binOf(c, g2);
    let match = -1, s0 = 0, s1 = 0, s2 = 0;
    for (let d0 = lo0; d0 <= hi0; d0++) {
      const ia = (ba + d0 + g0) % g0;
      for (let d1 = lo1; d1 <= hi1; d1++) {
        const ib = (bb + d1 + g1) % g1;
        for (let d2 = lo2; d2 <= hi2; d2++) {
          const ic = (bc + d2 + g2) % g2;
          for (const q of bins[(ia * g1 + ib) * g2 + ic]!) {
            if (match >= 0 && q > match) continue;
            const j = kept[q]!;
            if (species[j] !== species[i]) continue;
            const da = a - frac[3 * j]!, db = b - frac[3 * j + 1]!, dc = c - frac[3 * j + 2]!;
            const ra = Math.round(da), rb = Math.round(db), rc = Math.round(dc);
            const qa = da - ra, qb = db - rb, qc = dc - rc;
            const x = qa * L[0]! + qb * L[3]! + qc * L[6]!;
            const y = qa * L[1]! + qb * L[4]! + qc * L[7]!;
            const z = qa * L[2]! + qb * L[5]! + qc * L[8]!;
            if (x * x + y * y + z * z <= tol2) {
              match = q;
              s0 = ra;
              s1 = rb;
              s2 = rc;
            }
          }
        }
      }
    }
    if (match < 0) {
      match = kept.length;
      kept.push(i);
      bins[(binOf(a, g0) * g1 + binOf(b, g1)) * g2 + binOf(c, g2)]!.push(match);
    } else {
      shift[3 * i] = s0;
      shift[3 * i + 1] = s1;
      shift[3 * i + 2] = s2;
    }
    siteToKept[i] = match;
  }
  return { kept, siteToKept, shift };
}
