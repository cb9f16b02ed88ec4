/**
 * `sanitize(structure)`: the canonical form fracflow stores and searches — the primitive cell found at
 * symprec 0.1 Å, its LLL-reduced basis (made right-handed by negating all three vectors when LLL
 * returns a left-handed one), fractional coordinates wrapped into [0, 1), and sites sorted
 * by electronegativity (then element symbol; the original order among equal elements is kept).
 *
 * The atoms keep their Cartesian positions (no symmetrisation, no rotation): the primitive lattice is
 * expressed in the input's Cartesian frame, so results on the sanitised structure map back onto the
 * input with the recorded {@link SanitizeTransform}.
 */
import { createStructure, type Structure } from './structure.js';
import { element } from './elements.js';
import { det3, fracToCart, inv3, mul3 } from './lattice.js';
import { lllReduce } from './lll.js';
import { DEFAULT_SYMPREC, checkSymprec, primitiveReduction } from './symmetry.js';

export interface SanitizeOptions {
  /** Symmetry tolerance for the primitive cell and for merging translated copies of a site, Å. Default 0.1. */
  symprec?: number;
}

/** How the sanitised structure relates to the input. */
export interface SanitizeTransform {
  /** `M` with `sanitized.lattice = M · input.lattice` (row-major; rows = lattice vectors). Rational in general. */
  latticeMatrix: Float64Array;
  /** For each sanitised site, the input site it was taken from (the lowest-index copy). */
  siteOrigin: Int32Array;
  /** For each input site, the sanitised site it coincides with (modulo the sanitised lattice). */
  inputToSanitized: Int32Array;
  /** Space group found (number, symbol) at the symprec used. */
  spaceGroup: { number: number; symbol: string };
  symprec: number;
}

export interface SanitizeResult {
  structure: Structure;
  transform: SanitizeTransform;
}

function wrap01(x: number): number {
  const w = x - Math.floor(x);
  // x slightly below an integer rounds to exactly 1 after the subtraction.
  return w >= 1 ? 0 : w;
}

/**
 * Primitive (symprec 0.1 Å), LLL-reduced, wrapped, electronegativity-sorted copy of `s`, with the
 * transformation back to `s`. Oxidation states and site properties follow their sites.
 */
export function sanitize(s: Structure, options: SanitizeOptions = {}): SanitizeResult {
  const symprec = options.symprec ?? DEFAULT_SYMPREC;
  checkSymprec(symprec);
  const red = primitiveReduction(s, { symprec });
  const n = s.species.length;
  const np = red.primitive.species.length;
  const reduced = lllReduce(red.primitive.lattice);
  const lattice = reduced.lattice;
  // input lattice = T · primitive, reduced = mapping · primitive, so reduced = mapping · T⁻¹ · input.
  const M = mul3(Float64Array.from(reduced.mapping), inv3(Float64Array.from(red.T)));
  // LLL may return a left-handed basis; negating all three vectors keeps it reduced (same lengths and
  // pairwise angles) and makes it right-handed, as VASP and most tools expect.
  if (det3(lattice) < 0) {
    for (let k = 0; k < 9; k++) {
      lattice[k] = -lattice[k]!;
      M[k] = -M[k]!;
    }
  }
  // The first input site of each primitive site is the one kept (its coordinates, charge, properties).
  const kept = new Int32Array(np).fill(-1);
  for (let i = 0; i < n; i++) {
    const q = red.siteToPrimitive[i]!;
    if (kept[q] === -1) kept[q] = i;
  }
  const frac = fracToCart(inv3(lattice), fracToCart(red.primitive.lattice, red.primitive.frac));
  for (let k = 0; k < frac.length; k++) frac[k] = wrap01(frac[k]!);

  const keyOf = (i: number) => {
    const x = element(s.species[i]!).electronegativity;
    return Number.isNaN(x) ? Infinity : x;
  };
  const order = Array.from({ length: np }, (_, q) => q).sort((p, q) => {
    const a = kept[p]!, b = kept[q]!;
    const xa = keyOf(a), xb = keyOf(b);
    if (xa !== xb) return xa - xb;
    const sa = s.species[a]!, sb = s.species[b]!;
    return sa < sb ? -1 : sa > sb ? 1 : p - q;
  });
  const rank = new Int32Array(np);
  order.forEach((q, r) => (rank[q] = r));

  const outSpecies = order.map((q) => s.species[kept[q]!]!);
  const outFrac = new Float64Array(3 * np);
  order.forEach((q, r) => outFrac.set(frac.subarray(3 * q, 3 * q + 3), 3 * r));
  const outOxi = s.oxidationStates ? order.map((q) => s.oxidationStates![kept[q]!]!) : null;
  const props: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(s.siteProperties)) props[k] = order.map((q) => v[kept[q]!]);
  const structure = createStructure(
    { lattice, species: outSpecies, frac: outFrac, oxidationStates: outOxi, siteProperties: props, info: { ...s.info } },
    { checkOverlap: false, allowLeftHanded: true },
  );
  const siteOrigin = Int32Array.from(order, (q) => kept[q]!);
  const inputToSanitized = Int32Array.from(red.siteToPrimitive, (q) => rank[q]!);
  return {
    structure,
    transform: { latticeMatrix: M, siteOrigin, inputToSanitized, spaceGroup: { number: red.inputSymmetry.number, symbol: red.inputSymmetry.symbol }, symprec },
  };
}
