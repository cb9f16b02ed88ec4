/**
 * Element table: atomic numbers, masses, Pauling electronegativities, common oxidation states.
 *
 * Loaded once from `data/reference-tables/elements.json` (pymatgen 2022.11.7 periodic_table.json,
 * MIT; see data/README.md for provenance).
 */
import { readFileSync } from 'node:fs';
import { dataPath } from '../paths.js';

export interface ElementData {
  symbol: string;
  /** Atomic number Z. */
  z: number;
  /** Standard atomic mass, g/mol (u). */
  massAmu: number;
  /** Pauling electronegativity; NaN where pymatgen has none (noble gases). */
  electronegativity: number;
  /** Common oxidation states. */
  commonOxidationStates: readonly number[];
  /** ICSD-observed oxidation states. */
  icsdOxidationStates: readonly number[];
}

let table: Map<string, ElementData> | null = null;

function load(): Map<string, ElementData> {
  if (table) return table;
  const raw = JSON.parse(readFileSync(dataPath('reference-tables', 'elements.json'), 'utf8')) as {
    elements: Record<string, Record<string, unknown>>;
  };
  const map = new Map<string, ElementData>();
  for (const [symbol, e] of Object.entries(raw.elements)) {
    const x = e['X'];
    map.set(symbol, {
      symbol,
      z: Number(e['Atomic no']),
      massAmu: Number(e['Atomic mass']),
      electronegativity: typeof x === 'number' ? x : Number.NaN,
      commonOxidationStates: (e['Common oxidation states'] as number[] | undefined) ?? [],
      icsdOxidationStates: (e['ICSD oxidation states'] as number[] | undefined) ?? [],
    });
  }
  table = map;
  return map;
}

/** True if `symbol` is an element symbol (case-sensitive, e.g. `Ca`, not `CA`). */
export function isElement(symbol: string): boolean {
  return load().has(symbol);
}

/** Data for one element; throws for an unknown symbol. */
export function element(symbol: string): ElementData {
  const e = load().get(symbol);
  if (!e) throw new Error(`unknown element symbol ${JSON.stringify(symbol)}`);
  return e;
}

/** All element symbols known to the table. */
export function elementSymbols(): string[] {
  return [...load().keys()];
}

/**
 * Parse a species label such as `Ca`, `Ca2+`, `F-`, `O2-`, `Fe3+`, `Ca1`, `F2a` into an element and an
 * optional oxidation state. Site labels in CIF files (`Ca1`, `F2a`) give the element only; a
 * trailing sign makes the digits an oxidation state. Returns null when no element matches.
 */
export function parseSpeciesLabel(label: string): { element: string; oxidationState: number | null } | null {
  const m = /^([A-Z][a-z]?)(.*)$/.exec(label.trim());
  if (!m) return null;
  let el = m[1]!;
  let rest = m[2]!;
  if (!isElement(el)) {
    // A one-letter element followed by a lower-case label suffix (e.g. "Oa") is still that element.
    if (el.length === 2 && isElement(el[0]!)) {
      rest = el[1]! + rest;
      el = el[0]!;
    } else {
      return null;
    }
  }
  const ox = /^(\d*(?:\.\d+)?)([+-])$/.exec(rest);
  if (ox) {
    const mag = ox[1] === '' ? 1 : Number(ox[1]);
    return { element: el, oxidationState: ox[2] === '-' ? -mag : mag };
  }
  return { element: el, oxidationState: null };
}
