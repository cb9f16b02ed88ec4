/**
 * Oxidation states of a structure, with a recorded method and a fallback order:
 *
 *   1. `input`             the states the structure already carries (CIF oxidation numbers,
 *                          pymatgen JSON species, MP `possible_species`);
 *   2. `bond-valence`      pymatgen's BVAnalyzer (see ./bond-valence.ts);
 *   3. `composition-guess` pymatgen's `Structure.add_oxidation_state_by_guess`: the most probable
 *                          charge-balanced combination of the elements' ICSD oxidation states,
 *                          averaged per element (all zeros, `chargeBalanced: false`, when none exists,
 *                          as pymatgen does).
 *
 * ```ts
 * const r = oxidationStates(readStructure('CaF2.cif'));
 * r.method;  // 'bond-valence'
 * r.states;  // Float64Array [2, 2, 2, 2, -1, ...]
 * ```
 *
 * Results are cached by (reduced formula, structure hash, options): the screening pipeline asks for
 * the same structure once per pathway.
 */
import { structureHash } from '../structure/hash.js';
import { readFileSync } from 'node:fs';
import { dataPath } from '../paths.js';
import { reducedFormula, type Structure } from '../structure/structure.js';
import { bondValenceStates, BondValenceError, icsdOccurrence, type BondValenceOptions } from './bond-valence.js';

export { bondValenceStates, BondValenceError, parseSpecies } from './bond-valence.js';
export type { BondValenceOptions, BondValenceResult } from './bond-valence.js';

export type OxidationMethod = 'input' | 'bond-valence' | 'composition-guess';

export const OXIDATION_METHODS: readonly OxidationMethod[] = ['input', 'bond-valence', 'composition-guess'];

export interface OxidationOptions extends BondValenceOptions {
  /** Methods to try, in order; the first that succeeds is used. Default all three, in the order above. */
  methods?: readonly OxidationMethod[];
  /** Use and fill the result cache. Default true. */
  cache?: boolean;
}

export interface OxidationResult {
  /** Oxidation state of each site (averages per element may be fractional for `composition-guess`). */
  states: Float64Array;
  /** The method that produced `states`. */
  method: OxidationMethod;
  /** Whether the states sum to zero (within 1e-8). */
  chargeBalanced: boolean;
  /** Methods tried before `method` and why each was not used, in the order tried. */
  skipped: { method: OxidationMethod; reason: string }[];
  /** Bond-valence sum of each site when `method` is `bond-valence`, else null. */
  bvSums: Float64Array | null;
}

/** No method could assign oxidation states (only possible when `methods` leaves out the guess). */
export class OxidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OxidationError';
  }
}

let allOxidationStates: Map<string, number[]> | null = null;

/** pymatgen's `Element.oxidation_states` (the full list), used when an element has no ICSD states. */
function elementOxidationStates(el: string): { icsd: number[]; all: number[] } {
  if (!allOxidationStates) {
    const raw = JSON.parse(readFileSync(dataPath('reference-tables', 'elements.json'), 'utf8')) as { elements: Record<string, Record<string, unknown>> };
    allOxidationStates = new Map();
    for (const [sym, e] of Object.entries(raw.elements)) {
      allOxidationStates.set(`icsd:${sym}`, (e['ICSD oxidation states'] as number[] | undefined) ?? []);
      allOxidationStates.set(`all:${sym}`, (e['Oxidation states'] as number[] | undefined) ?? []);
    }
  }
  return { icsd: allOxidationStates.get(`icsd:${el}`) ?? [], all: allOxidationStates.get(`all:${el}`) ?? [] };
}

/** Above this many multisets per element the guess is refused instead of running for minutes. */
const MAX_GUESS_COMBINATIONS = 20_000_000;

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/**
 * Charge-balanced oxidation-state guesses for a composition (element → count, in the order given),
 * most probable first: pymatgen's `Composition.oxi_state_guesses()` with default arguments. Each
 * guess maps an element to its average oxidation state. Empty when no combination balances.
 *
 * Per element, every multiset of its ICSD oxidation states (pymatgen's
 * `combinations_with_replacement`) is scored by the sum of ICSD occurrence counts; each possible
 * sum keeps its best score. Solutions are the products of per-element sums that add to zero,
 * ranked by total score (stable: equal scores keep enumeration order).
 */
export function compositionOxidationGuesses(comp: ReadonlyMap<string, number>, limit = Infinity): Record<string, number>[] {
  const elements = [...comp.keys()];
  const sums: number[][] = [];
  const scores: Map<number, number>[] = [];
  for (const el of elements) {
    const amt = comp.get(el)!;
    if (!Number.isInteger(amt) || amt < 1) throw new RangeError(`oxidation guess: count of ${el} must be a positive integer, got ${amt}`);
    const { icsd, all } = elementOxidationStates(el);
    const oxids = icsd.length > 0 ? icsd : all;
    const k = oxids.length;
    const elSums: number[] = [];
    const elScores = new Map<number, number>();
    if (k > 0) {
      const count = binomial(amt + k - 1, k - 1);
      if (count > MAX_GUESS_COMBINATIONS) {
        throw new RangeError(`oxidation guess: ${el}${amt} with ${k} candidate states has ${count.toExponential(2)} combinations (limit ${MAX_GUESS_COMBINATIONS.toExponential(0)})`);
      }
      const occ = oxids.map((o) => icsdOccurrence(el, o));
      // Multisets a_1 <= ... <= a_amt of state indices in lexicographic order, as Python's
      // combinations_with_replacement yields them (same stepping rule, no recursion: amt may be
      // in the thousands); the order decides which sums come first, which breaks score ties later.
      const idx = new Int32Array(amt);
      let sum = oxids[0]! * amt;
      let score = occ[0]! * amt;
      for (;;) {
        if (!elScores.has(sum)) {
          elSums.push(sum);
          elScores.set(sum, score);
        } else if (score > elScores.get(sum)!) elScores.set(sum, score);
        let i = amt - 1;
        while (i >= 0 && idx[i] === k - 1) i--;
        if (i < 0) break;
        const v = idx[i]! + 1;
        for (let q = i; q < amt; q++) {
          sum += oxids[v]! - oxids[idx[q]!]!;
          score += occ[v]! - occ[idx[q]!]!;
          idx[q] = v;
        }
      }
    }
    sums.push(elSums);
    scores.push(elScores);
  }
  const solutions: { score: number; x: number[] }[] = [];
  const m = elements.length;
  const x = new Array<number>(m).fill(0);
  // The last element's sum is fixed by charge balance; look it up instead of looping over it.
  const walk = (idx: number, partial: number) => {
    if (idx === m - 1) {
      const need = -partial;
      if (!scores[idx]!.has(need)) return;
      x[idx] = need;
      let score = 0;
      for (let e = 0; e < m; e++) score += scores[e]!.get(x[e]!)!;
      solutions.push({ score, x: x.slice() });
      return;
    }
    for (const v of sums[idx]!) {
      x[idx] = v;
      walk(idx + 1, partial + v);
    }
  };
  if (m > 0 && sums.every((s) => s.length > 0)) walk(0, 0);
  solutions.sort((a, b) => b.score - a.score);
  return solutions.slice(0, limit).map((sol) => Object.fromEntries(elements.map((el, e) => [el, sol.x[e]! / comp.get(el)!])));
}

/** Element → count in first-appearance order (pymatgen's Composition order for a structure). */
function siteComposition(s: Structure): Map<string, number> {
  const c = new Map<string, number>();
  for (const sp of s.species) c.set(sp, (c.get(sp) ?? 0) + 1);
  return c;
}

/**
 * pymatgen's `add_oxidation_state_by_guess`: the first guess, per site; all zeros when none balances.
 */
export function compositionGuessStates(s: Structure): { states: Float64Array; chargeBalanced: boolean } {
  const guesses = compositionOxidationGuesses(siteComposition(s), 1);
  const states = new Float64Array(s.species.length);
  if (guesses.length === 0) return { states, chargeBalanced: false };
  const g = guesses[0]!;
  s.species.forEach((sp, i) => (states[i] = g[sp]!));
  return { states, chargeBalanced: true };
}

const CACHE_LIMIT = 4096;
const cache = new Map<string, OxidationResult>();

/** Empty the result cache (e.g. between benchmark rounds). */
export function clearOxidationCache(): void {
  cache.clear();
}

function copyResult(r: OxidationResult): OxidationResult {
  return { ...r, states: r.states.slice(), bvSums: r.bvSums ? r.bvSums.slice() : null, skipped: r.skipped.map((x) => ({ ...x })) };
}

function isBalanced(states: Float64Array): boolean {
  let q = 0;
  for (const v of states) q += v;
  return Math.abs(q) <= 1e-8;
}

/**
 * Oxidation states of every site, from the first method in `options.methods` that succeeds
 * (default: input states, then bond valence, then the composition guess). The result names the
 * method used and why earlier ones were skipped. Throws {@link OxidationError} only when every
 * requested method fails, and RangeError for invalid options.
 */
export function oxidationStates(s: Structure, options: OxidationOptions = {}): OxidationResult {
  const methods = options.methods ?? OXIDATION_METHODS;
  if (!Array.isArray(methods) || methods.length === 0) throw new RangeError(`oxidationStates: methods must be a non-empty list of ${OXIDATION_METHODS.join(', ')}, got ${JSON.stringify(methods)}`);
  for (const m of methods) {
    if (!OXIDATION_METHODS.includes(m)) throw new RangeError(`oxidationStates: unknown method ${JSON.stringify(m)} (expected one of ${OXIDATION_METHODS.join(', ')})`);
  }
  const useCache = options.cache !== false;
  let key = '';
  if (useCache) {
    const { cache: _c, ...rest } = options;
    key = `${reducedFormula(s)}|${structureHash(s)}|${JSON.stringify({ ...rest, orbits: rest.orbits ? Array.from(rest.orbits) : undefined })}`;
    const hit = cache.get(key);
    if (hit) return copyResult(hit);
  }
  const skipped: OxidationResult['skipped'] = [];
  let result: OxidationResult | null = null;
  for (const method of methods) {
    if (method === 'input') {
      if (s.oxidationStates) {
        const states = s.oxidationStates.slice();
        result = { states, method, chargeBalanced: isBalanced(states), skipped, bvSums: null };
        break;
      }
      skipped.push({ method, reason: 'the structure carries no oxidation states' });
    } else if (method === 'bond-valence') {
      try {
        const bv = bondValenceStates(s, options);
        const states = Float64Array.from(bv.valences);
        result = { states, method, chargeBalanced: isBalanced(states), skipped, bvSums: bv.bvSums };
        break;
      } catch (e) {
        if (!(e instanceof BondValenceError)) throw e;
        skipped.push({ method, reason: e.message });
      }
    } else {
      const g = compositionGuessStates(s);
      result = { states: g.states, method, chargeBalanced: g.chargeBalanced, skipped, bvSums: null };
      break;
    }
  }
  if (!result) {
    throw new OxidationError(`no oxidation states for ${reducedFormula(s)}: ${skipped.map((x) => `${x.method}: ${x.reason}`).join('; ')}`);
  }
  if (useCache) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, copyResult(result));
  }
  return result;
}
