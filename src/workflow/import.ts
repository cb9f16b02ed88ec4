/**
 * Import of structures into the `structures` table: the bundled datasets, user files and folders,
 * or the live Materials Project API.
 *
 * One bad input never sinks an import: each file is read, validated and stored on its own (one
 * transaction per file), and each record / data block / frame of a multi-structure file on its own
 * within it; a file or record that fails becomes an `import_errors` row naming the file, the record
 * and the cause, and the rest goes on. Only a path that does not exist stops an import before it
 * starts ({@link ImportError}).
 *
 * Identity (the `source_id` a structure is stored under) comes from where it was read, never from a
 * name inside the file, so two inputs never overwrite each other:
 * - bundled data and the MP API: `<dataset>:<id>`, the record's own id (material_id, id, else
 *   source.orig_id), else `<dataset>:#<index>`; an id that repeats within one file gets `#<index>`
 *   from its second occurrence on (`mp:mp-241`, `curated:mp-1138`, `mp-task:mvc-3781#212`);
 * - user files: `<dataset>:<path>` (dataset `user` unless `--dataset`), the path as given,
 *   normalised, relative to the working directory when below it and absolute otherwise, with
 *   `#<index>` (0-based) for each record of a file that holds more than one (`user:runs/a.cif#1`).
 * Re-importing the same source updates its row in place (or leaves it, when the content is the same).
 * Two sources with the same content are both kept; the later one is marked `duplicate_of` the first
 * (see Store.upsertStructures), counted as a duplicate in the report, and not screened again.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { statSync } from 'node:fs';
import { readFolderFiles, type FolderFileResult } from '../io/folder-import.js';
import { mpSummaryPages, type MpApiOptions } from '../io/mp-api.js';
import type { DuplicatePair, ImportCounts, Store, StructureRow } from '../store/sqlite/diffusion.js';
import { readStructuresLenient, type StructureFormat } from '../structure/io.js';
import { bundledDataset, bundledPath } from '../io/bundled.js';
import { readLimits, type ReadLimits } from '../structure/limits.js';
import { asStructureError } from '../structure/read-common.js';
import { StructureError } from '../structure/errors.js';
import type { Structure } from '../structure/structure.js';

export interface ImportReport extends ImportCounts {
  dataset: string;
  /** Files, records and documents recorded in `import_errors`. */
  failed: number;
  /** Up to {@link DUPLICATE_EXAMPLES} duplicate pairs of this import, for the summary. */
  duplicateExamples: DuplicatePair[];
}

/** Duplicate pairs an import report keeps as examples. */
export const DUPLICATE_EXAMPLES = 3;

export interface ImportOptions {
  /** Descend into sub-folders of folder arguments. Default false. */
  recursive?: boolean;
  /** Read every file as this format instead of detecting it. */
  format?: StructureFormat;
  /** Reader size limits (sites per structure, bytes per file); see limits.ts. */
  limits?: Partial<ReadLimits>;
  /**
   * Folder that user paths in source ids are written relative to (when below it). Default the
   * working directory; the paths themselves are always read relative to the working directory.
   */
  cwd?: string;
}

/** An import that cannot start (a path that does not exist) or that gave nothing to work on. */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

function emptyReport(dataset: string): ImportReport {
  return { dataset, inserted: 0, updated: 0, unchanged: 0, duplicates: 0, failed: 0, duplicateExamples: [] };
}

function add(total: ImportReport, c: ImportCounts & { duplicatePairs: DuplicatePair[] }): void {
  total.inserted += c.inserted;
  total.updated += c.updated;
  total.unchanged += c.unchanged;
  total.duplicates += c.duplicates;
  for (const p of c.duplicatePairs) if (total.duplicateExamples.length < DUPLICATE_EXAMPLES) total.duplicateExamples.push(p);
}

// ---------------------------------------------------------------------------------------------
// Source ids
// ---------------------------------------------------------------------------------------------

/**
 * The source id of a record of a dataset read by id (bundled data, MP API): `<dataset>:<id>` with
 * the record's own id (info.id, else info.orig_id), else `<dataset>:#<index>`. `seen` holds the ids
 * given so far in this file: a repeated id gets `#<index>` appended.
 */
export function recordSourceId(s: Structure, dataset: string, index: number, seen?: Set<string>): string {
  const own = [s.info.id, s.info['orig_id']].find((v): v is string => typeof v === 'string' && v !== '');
  let id = own !== undefined ? `${dataset}:${own}` : `${dataset}:#${index}`;
  if (seen) {
    if (seen.has(id)) id = `${id}#${index}`;
    seen.add(id);
  }
  return id;
}

/**
 * `<dataset>:<path>[#<index>]` for a record of a user file: the path resolved against `cwd`,
 * written relative to it when below it (`runs/a.cif`) and absolute otherwise, with `/` separators;
 * `index` is given for files that hold more than one record.
 */
export function fileSourceId(dataset: string, file: string, index?: number, cwd = process.cwd()): string {
  const abs = resolve(cwd, file);
  const rel = relative(cwd, abs);
  const below = rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  const p = (below ? rel : abs).split(sep).join('/');
  return `${dataset}:${p}${index !== undefined ? `#${index}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Datasets read by id: bundled data, MP API
// ---------------------------------------------------------------------------------------------

/** Import one bundled dataset (see BUNDLED_DATASETS); one transaction for the file. */
export function importBundled(store: Store, name: string): ImportReport {
  bundledDataset(name);
  const file = bundledPath(name);
  const report = emptyReport(name);
  const { structures, errors } = readStructuresLenient(file, 'records');
  const seen = new Set<string>();
  const rows = structures.map(({ structure, index }) => ({ sourceId: recordSourceId(structure, name, index, seen), dataset: name, structure }));
  for (const e of errors) {
    store.recordImportError(name, e.id !== undefined ? `${name}:${e.id}` : `${name}:#${e.index}`, e.message, { file, record: e.index, recordId: e.id });
  }
  add(report, store.upsertStructures(rows));
  report.failed = errors.length;
  return report;
}

/**
 * Import from the live Materials Project API (paginated summary query by element, see mp-api.ts):
 * each page is written as it arrives, documents that fail validation are recorded as failed.
 */
export async function importMpApi(store: Store, options: MpApiOptions = {}, dataset = 'mp-api'): Promise<ImportReport> {
  const total = emptyReport(dataset);
  const seen = new Set<string>();
  for await (const page of mpSummaryPages({ ...options, lenient: true })) {
    for (const e of page.errors) {
      store.recordImportError(dataset, e.id !== undefined ? `${dataset}:${e.id}` : `${dataset}:#${e.index}`, e.message, { file: `page ${page.page}`, record: e.index, recordId: e.id });
    }
    const rows = page.structures.map(({ structure, index }) => ({ sourceId: recordSourceId(structure, dataset, index, seen), dataset, structure }));
    add(total, store.upsertStructures(rows));
    total.failed += page.errors.length;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// User files and folders
// ---------------------------------------------------------------------------------------------

/** Store what one file gave: its structures in one transaction, each failure as an import_errors row. */
function storeFile(store: Store, dataset: string, f: FolderFileResult, cwd: string, total: ImportReport): void {
  const multi = f.items > 1;
  // Files were read relative to the process's working directory; `cwd` only says how ids write them.
  const rows: StructureRow[] = f.structures.map(({ structure, index }) => ({ sourceId: fileSourceId(dataset, resolve(f.file), multi ? index : undefined, cwd), dataset, structure }));
  for (const e of f.errors) {
    const record = e.index !== undefined && multi ? e.index : undefined;
    store.recordImportError(dataset, fileSourceId(dataset, resolve(e.file), record, cwd), e.message, { file: e.file, record: e.index, recordId: e.id });
  }
  total.failed += f.errors.length;
  if (rows.length > 0) add(total, store.upsertStructures(rows));
}

/** One file given by the user, whatever it holds: never throws for its content. */
function readFile(file: string, options: ImportOptions): FolderFileResult {
  const out: FolderFileResult = { file, relativePath: file, structures: [], errors: [], skipped: false, items: 0 };
  try {
    const { structures, errors } = readStructuresLenient(file, options.format, { limits: options.limits });
    out.items = structures.length + errors.length;
    for (const { structure, index } of structures) out.structures.push({ structure, file, relativePath: file, index });
    for (const e of errors) out.errors.push({ file, relativePath: file, index: e.index, id: e.id, message: e.message, error: e.error });
    if (out.items === 0) {
      const error = new StructureError('the file holds no structure', { file });
      out.errors.push({ file, relativePath: file, message: error.message, error });
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const error = !(e instanceof StructureError) && typeof code === 'string' && /^E[A-Z]+$/.test(code) ? new StructureError(`cannot read (${code})`, { file }) : asStructureError(e, { file });
    out.errors.push({ file, relativePath: file, message: error.message, error });
  }
  return out;
}

/**
 * Import structure files or folders given by the user (any supported format; multi-structure files
 * too; a folder contributes every structure file in it, sub-folders with `recursive`). Each file is
 * stored before the next is read. A folder without any structure file is a failure of its own.
 * Throws an {@link ImportError} naming them when paths do not exist (before importing anything).
 */
export function importFiles(store: Store, files: readonly string[], dataset = 'user', format?: StructureFormat, options: ImportOptions = {}): ImportReport {
  const opts: ImportOptions = { ...options, format: format ?? options.format, limits: readLimits(options.limits) };
  const cwd = options.cwd ?? process.cwd();
  const missing: string[] = [];
  const kinds = files.map((f) => {
    try {
      return statSync(f).isDirectory() ? 'folder' : 'file';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        missing.push(f);
        return 'missing';
      }
      return 'file'; // reading it will record why it cannot be read
    }
  });
  if (missing.length > 0) throw new ImportError(`no such file or folder: ${missing.join(', ')}`);
  const total = emptyReport(dataset);
  files.forEach((f, k) => {
    if (kinds[k] === 'file') {
      storeFile(store, dataset, readFile(f, opts), cwd, total);
      return;
    }
    let structureFiles = 0;
    const skipped: string[] = [];
    for (const r of readFolderFiles(f, { recursive: opts.recursive, limits: opts.limits })) {
      if (r.skipped) {
        skipped.push(r.relativePath);
        continue;
      }
      structureFiles++;
      storeFile(store, dataset, r, cwd, total);
    }
    if (structureFiles === 0) {
      const shown = skipped.slice(0, 5).join(', ') + (skipped.length > 5 ? `, … (${skipped.length} in all)` : '');
      const message = `${f}: no structure file in the folder${skipped.length > 0 ? ` (not structure files: ${shown})` : ' (it is empty)'}${opts.recursive ? '' : '; sub-folders are read with --recursive'}`;
      store.recordImportError(dataset, fileSourceId(dataset, resolve(f), undefined, cwd), message, { file: f });
      total.failed++;
    }
  });
  return total;
}
