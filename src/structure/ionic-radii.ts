/**
 * Ionic radii per element and oxidation state, with the lookup rules of pymatgen 2022.11.7's
 * `Species.ionic_radius`.
 *
 * Loaded once from `data/reference-tables/elements.json` (pymatgen's periodic_table.json; Shannon,
 * Acta Cryst. A32 (1976) 751; see data/README.md). Lookup, in pymatgen's order:
 *   1. `Ionic radii` at the oxidation state itself (keys are integers, so 2.5 never matches);
 *   2. for a non-zero state, `Ionic radii hs` at the state truncated towards zero (`str(int(x))`);
 *   3. then `Ionic radii ls` at that key;
 *   otherwise there is no radius (pymatgen returns None). A neutral site (state 0) has none: no
 *   element has a `0` key.
 */
import { readFileSync } from 'node:fs';
import { dataPath } from '../paths.js';

/** Which table of elements.json a radius came from. */
export type IonicRadiusTable = 'Ionic radii' | 'Ionic radii hs' | 'Ionic radii ls';

export interface IonicRadius {
  /** Radius, Å. */
  radiusAng: number;
  table: IonicRadiusTable;
}

type RadiiTables = Map<string, Partial<Record<IonicRadiusTable, Record<string, number>>>>;

let tables: RadiiTables | null = null;

function load(): RadiiTables {
  if (tables) return tables;
  const raw = JSON.parse(readFileSync(dataPath('reference-tables', 'elements.json'), 'utf8')) as {
    elements: Record<string, Record<string, unknown>>;
  };
  const map: RadiiTables = new Map();
  for (const [symbol, e] of Object.entries(raw.elements)) {
    const entry: Partial<Record<IonicRadiusTable, Record<string, number>>> = {};
    for (const t of ['Ionic radii', 'Ionic radii hs', 'Ionic radii ls'] as const) {
      const v = e[t];
      if (v && typeof v === 'object') entry[t] = v as Record<string, number>;
    }
    map.set(symbol, entry);
  }
  tables = map;
  return map;
}

/**
 * The ionic radius of `element` at `oxidationState` with the table it came from, or null when
 * pymatgen's `Species(element, oxidationState).ionic_radius` is None. Throws for an unknown element
 * or a non-finite oxidation state.
 */
export function ionicRadiusEntry(element: string, oxidationState: number): IonicRadius | null {
  const e = load().get(element);
  if (!e) throw new RangeError(`ionicRadius: unknown element ${JSON.stringify(element)}`);
  if (!Number.isFinite(oxidationState)) throw new RangeError(`ionicRadius: oxidation state of ${element} must be a finite number, got ${oxidationState}`);
  if (Number.isInteger(oxidationState)) {
    const v = e['Ionic radii']?.[String(oxidationState)];
    if (v !== undefined) return { radiusAng: v, table: 'Ionic radii' };
  }
  if (oxidationState !== 0) {
    const key = String(Math.trunc(oxidationState));
    const hs = e['Ionic radii hs']?.[key];
    if (hs !== undefined) return { radiusAng: hs, table: 'Ionic radii hs' };
    const ls = e['Ionic radii ls']?.[key];
    if (ls !== undefined) return { radiusAng: ls, table: 'Ionic radii ls' };
  }
  return null;
}

/** The ionic radius (Å) of `element` at `oxidationState`, or null (see {@link ionicRadiusEntry}). */
export function ionicRadius(element: string, oxidationState: number): number | null {
  return ionicRadiusEntry(element, oxidationState)?.radiusAng ?? null;
}

/** A species label in pymatgen's style: `F-`, `Ca2+`, `Fe2.5+`, `Xe` (state 0). */
export function speciesLabel(element: string, oxidationState: number): string {
  if (oxidationState === 0) return element;
  const mag = Math.abs(oxidationState);
  return `${element}${mag === 1 ? '' : String(mag)}${oxidationState > 0 ? '+' : '-'}`;
}
