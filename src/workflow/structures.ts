/**
 * Stage 1, `structures`: import into the store's `structures` table from (a) the bundled data, (b)
 * structure files or folders (CIF/POSCAR/JSON/extxyz, MP API dumps as JSON or JSON lines), (c) the live
 * Materials Project API (see src/stages/import.ts and src/structure/mp-api.ts).
 *
 * The table stays the store's plain `structures` table (source id, dataset, formula, reduced formula,
 * nsites, volume, density, e_above_hull, formation energy, the structure as compact binary columns,
 * content hash, `duplicate_of`): every engine stage can take a plain table as its upstream
 * (`input.from`), every row feeds, and a re-import updates a source id in place instead of doubling
 * it. Source ids name where a structure was read (src/stages/import.ts); a structure whose content
 * equals an earlier one's is kept with `duplicate_of` set, and the find_paths stage admits only the
 * originals. Sanitising (primitive at
 * symprec 0.1, LLL, wrap, electronegativity order) and the space group belong to the `pathways` stage,
 * which works in the sanitised cell: the stored structure is the one the user gave.
 */
import type { Store } from '../store/sqlite/diffusion.js';
import type { MpApiOptions } from '../io/mp-api.js';
import { BUNDLED_DATASETS } from '../io/bundled.js';
import { ImportError, importBundled, importFiles, importMpApi, type ImportOptions, type ImportReport } from './import.js';

/** Where the structures of a screen come from. */
export type StructureSource =
  | { kind: 'bundled'; datasets?: readonly string[] }
  | { kind: 'files'; paths: readonly string[]; dataset?: string; recursive?: boolean }
  | { kind: 'mp-api'; options?: MpApiOptions; dataset?: string };

/** The bundled datasets a default screen imports (mp, curated, mp-task). */
export const DEFAULT_BUNDLED = BUNDLED_DATASETS.filter((d) => d.default).map((d) => d.name);

/**
 * Import `source` into the store; one report per dataset. Files and folders that give no structure
 * at all (every file failed, or no structure file in a folder) throw an {@link ImportError} after
 * their failures are recorded: there is nothing to screen. A path that does not exist throws before
 * anything is imported.
 */
export async function importStructures(store: Store, source: StructureSource, options: Pick<ImportOptions, 'limits'> = {}): Promise<ImportReport[]> {
  switch (source.kind) {
    case 'bundled':
      return (source.datasets ?? DEFAULT_BUNDLED).map((name) => importBundled(store, name));
    case 'files': {
      const since = store.lastImportErrorId();
      const r = importFiles(store, source.paths, source.dataset ?? 'user', undefined, { recursive: source.recursive ?? false, limits: options.limits });
      if (r.inserted + r.updated + r.unchanged === 0) {
        const errors = store.importErrors(since);
        const first = errors[0] ? `; the first: ${errors[0].message}` : '';
        throw new ImportError(
          `nothing to screen: ${source.paths.join(', ')} gave no structure (${r.failed} ${r.failed === 1 ? 'failure' : 'failures'} recorded in the store's import_errors, listed by \`fracflow errors import_errors\`${first})`,
        );
      }
      return [r];
    }
    case 'mp-api':
      return [await importMpApi(store, source.options ?? {}, source.dataset ?? 'mp-api')];
  }
}
