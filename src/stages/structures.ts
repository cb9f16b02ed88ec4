/**
 * Stage 1, `structures`: import into the store's `structures` table from (a) the bundled data, (b)
 * structure files or folders (CIF/POSCAR/JSON/extxyz, MP API dumps as JSON or JSON lines), (c) the live
 * Materials Project API (see src/stages/import.ts and src/structure/mp-api.ts).
 *
 * The table stays the store's plain `structures` table (source id, dataset, formula, reduced formula,
 * nsites, volume, density, e_above_hull, formation energy, the structure as compact binary columns,
 * content hash): every engine stage can take a plain table as its upstream (`input.from`), every row
 * feeds, and a re-import updates a source id in place instead of doubling it. Sanitising (primitive at
 * symprec 0.1, LLL, wrap, electronegativity order) and the space group belong to the `pathways` stage,
 * which works in the sanitised cell: the stored structure is the one the user gave.
 */
import type { Store } from '../engine/store.js';
import type { MpApiOptions } from '../structure/mp-api.js';
import { BUNDLED_DATASETS } from '../structure/bundled.js';
import { importBundled, importFiles, importMpApi, type ImportReport } from './import.js';

/** Where the structures of a screen come from. */
export type StructureSource =
  | { kind: 'bundled'; datasets?: readonly string[] }
  | { kind: 'files'; paths: readonly string[]; dataset?: string; recursive?: boolean }
  | { kind: 'mp-api'; options?: MpApiOptions; dataset?: string };

/** The bundled datasets a default screen imports (mp, curated, mp-task). */
export const DEFAULT_BUNDLED = BUNDLED_DATASETS.filter((d) => d.default).map((d) => d.name);

/** Import `source` into the store; one report per dataset. */
export async function importStructures(store: Store, source: StructureSource): Promise<ImportReport[]> {
  switch (source.kind) {
    case 'bundled':
      return (source.datasets ?? DEFAULT_BUNDLED).map((name) => importBundled(store, name));
    case 'files':
      return [importFiles(store, source.paths, source.dataset ?? 'user', undefined, { recursive: source.recursive ?? false })];
    case 'mp-api':
      return [await importMpApi(store, source.options ?? {}, source.dataset ?? 'mp-api')];
  }
}
