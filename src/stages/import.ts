/**
 * Import of structures into the `structures` table: the bundled datasets or user files. A record
 * that fails to parse or validate is recorded in `import_errors` with its message; the others go on.
 */
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { readFolder } from '../structure/folder-import.js';
import { mpSummaryPages, type MpApiOptions } from '../structure/mp-api.js';
import type { Store, ImportCounts } from '../engine/store.js';
import { readStructuresLenient, type StructureFormat } from '../structure/io.js';
import { bundledDataset, bundledPath } from '../structure/bundled.js';
import type { Structure } from '../structure/structure.js';

export interface ImportReport extends ImportCounts {
  dataset: string;
  failed: number;
}

/**
 * The key a structure is stored under: its source id (an mp-id where there is one), otherwise an id
 * derived from its origin, prefixed by the dataset so that ids of different datasets never collide.
 */
export function sourceIdOf(s: Structure, dataset: string, index: number): string {
  const id = s.info.id;
  if (typeof id === 'string' && /^mp-\d+$/.test(id)) return id;
  const orig = s.info['orig_id'];
  if (typeof id === 'string' && id) return `${dataset}:${id}`;
  if (typeof orig === 'string' && orig) return `${dataset}:${orig}`;
  return `${dataset}:${index}`;
}

function importMany(store: Store, dataset: string, file: string, format?: StructureFormat): ImportReport {
  const { structures, errors } = readStructuresLenient(file, format);
  for (const e of errors) store.recordImportError(dataset, e.id ?? `${basename(file)}#${e.index}`, e.message);
  const rows = structures.map(({ structure, index }) => ({ sourceId: sourceIdOf(structure, dataset, index), dataset, structure }));
  const counts = store.upsertStructures(rows);
  return { dataset, ...counts, failed: errors.length };
}

/** Import one bundled dataset (see BUNDLED_DATASETS). */
export function importBundled(store: Store, name: string): ImportReport {
  bundledDataset(name);
  return importMany(store, name, bundledPath(name), 'records');
}

/** Every structure file in a folder (see readFolder); unreadable files and records are recorded as failed. */
function importFolder(store: Store, dataset: string, dir: string, recursive: boolean): ImportReport {
  const { structures, errors } = readFolder(dir, { recursive });
  for (const e of errors) store.recordImportError(dataset, e.relativePath + (e.index !== undefined ? `#${e.index}` : ''), e.message);
  const rows = structures.map(({ structure, index }) => ({ sourceId: sourceIdOf(structure, dataset, index), dataset, structure }));
  return { dataset, ...store.upsertStructures(rows), failed: errors.length };
}

/**
 * Import structure files or folders given by the user (any supported format; multi-structure files
 * too; a folder contributes every structure file in it, sub-folders with `recursive`).
 */
export function importFiles(store: Store, files: readonly string[], dataset = 'user', format?: StructureFormat, options: { recursive?: boolean } = {}): ImportReport {
  const total: ImportReport = { dataset, inserted: 0, updated: 0, unchanged: 0, failed: 0 };
  for (const f of files) {
    let r: ImportReport;
    try {
      let isDir = false;
      try {
        isDir = statSync(f).isDirectory();
      } catch {
        isDir = false;
      }
      r = isDir ? importFolder(store, dataset, f, options.recursive ?? false) : importMany(store, dataset, f, format);
    } catch (e) {
      store.recordImportError(dataset, f, (e as Error).message);
      total.failed++;
      continue;
    }
    total.inserted += r.inserted;
    total.updated += r.updated;
    total.unchanged += r.unchanged;
    total.failed += r.failed;
  }
  return total;
}

/**
 * Import from the live Materials Project API (paginated summary query by element, see mp-api.ts):
 * each page is written as it arrives, documents that fail validation are recorded as failed.
 */
export async function importMpApi(store: Store, options: MpApiOptions = {}, dataset = 'mp-api'): Promise<ImportReport> {
  const total: ImportReport = { dataset, inserted: 0, updated: 0, unchanged: 0, failed: 0 };
  for await (const page of mpSummaryPages({ ...options, lenient: true })) {
    for (const e of page.errors) store.recordImportError(dataset, e.id ?? `page ${page.page}#${e.index}`, e.message);
    const rows = page.structures.map(({ structure, index }) => ({ sourceId: sourceIdOf(structure, dataset, index), dataset, structure }));
    const c = store.upsertStructures(rows);
    total.inserted += c.inserted;
    total.updated += c.updated;
    total.unchanged += c.unchanged;
    total.failed += page.errors.length;
  }
  return total;
}
