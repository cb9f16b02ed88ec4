/**
 * Lenient import of every structure file in a folder: the import stage's "folder of files" source.
 *
 * Which files are read:
 * - by name, as {@link detectFormat} recognises them: `*.cif`, `POSCAR*`, `CONTCAR*`, `*.vasp`,
 *   `*.poscar`, `*.extxyz`, `*.xyz`, `*.json`, `*.jsonl` (each also gzip-compressed as `*.gz`);
 * - any other file whose first {@link SNIFF_BYTES} bytes the content detection of io.ts recognises
 *   (a CIF `data_` block, a POSCAR header, an extxyz frame, a JSON structure layout) — so a
 *   `POSCAR`-shaped file called `relaxed_LiF` is found, while `INCAR`, `OUTCAR`, `README.md` or a
 *   binary file are listed in `skipped` without an error.
 * Names starting with a dot (hidden files and folders) are ignored.
 *
 * Nothing in the folder stops the import: a file that cannot be read or parsed (whatever the
 * exception), and each record, document, data block or frame of a multi-structure file that fails
 * validation, becomes an entry of `errors` naming the file (the import stage records them in
 * `import_errors`). Only a missing or unreadable top folder throws. {@link readFolderFiles} hands
 * the files over one at a time, so an import can store each file's structures before reading the
 * next.
 */
import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { StructureError } from '../structure/errors.js';
import { detectFormat, readStructuresLenient, type StructureFormat } from '../structure/io.js';
import { asStructureError } from '../structure/read-common.js';
import type { ReadLimits } from '../structure/limits.js';
import type { Structure } from '../structure/structure.js';

/** Bytes of a file without a structure-file name that are examined to recognise its format. */
export const SNIFF_BYTES = 64 * 1024;

export interface ReadFolderOptions {
  /** Descend into sub-folders (symbolic links followed, each real folder once). Default false. */
  recursive?: boolean;
  /** Accept left-handed lattices (negative determinant). Default false. */
  allowLeftHanded?: boolean;
  /** Size limits of the readers (see limits.ts). */
  limits?: Partial<ReadLimits>;
}

/** A structure read from the folder. */
export interface FolderStructure {
  structure: Structure;
  /** Path of the file (the folder argument joined with the relative path). */
  file: string;
  /** Path relative to the folder, `/`-separated. */
  relativePath: string;
  /** 0-based position of the structure in its file (record, data block, frame). */
  index: number;
}

/** A file, or one item of a file, that could not be imported. */
export interface FolderError {
  file: string;
  relativePath: string;
  /** Position of the failing item in its file; absent when the whole file failed. */
  index?: number;
  /** The item's own id when known (material_id, data block name, ...). */
  id?: string;
  message: string;
  error: Error;
}

/** What one file of the folder gave (see {@link readFolderFiles}). */
export interface FolderFileResult {
  file: string;
  relativePath: string;
  /** Structures read from the file, in file order. */
  structures: FolderStructure[];
  /** The file's own failure, or its records' failures, in file order. */
  errors: FolderError[];
  /** Not a structure file (left out without an error). */
  skipped: boolean;
  /** Items (records, blocks, frames) the file holds, good and bad; 0 when the file failed as a whole. */
  items: number;
}

export interface FolderReadResult {
  /** In order of relative path, then position in the file. */
  structures: FolderStructure[];
  /** In the same order. */
  errors: FolderError[];
  /** Relative paths of files that are not structure files. */
  skipped: string[];
}

const STRUCTURE_NAME = /\.(cif|vasp|poscar|extxyz|xyz|json|jsonl)$|^(poscar|contcar)/;

function hasStructureName(name: string): boolean {
  return STRUCTURE_NAME.test(name.toLowerCase().replace(/\.gz$/, ''));
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** File name without directory and extension(s), as io.ts derives a structure id from it. */
function fileStem(p: string): string {
  const b = basename(p).replace(/\.gz$/i, '');
  const dot = b.lastIndexOf('.');
  return dot > 0 ? b.slice(0, dot) : b;
}

function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

interface Candidate {
  path: string;
  rel: string;
}

/** Regular files under `dir` in sorted order of relative path; unreadable entries go to `errors`. */
function listFiles(root: string, recursive: boolean, errors: FolderError[]): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>([realpathSync(root)]);
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if (!isFsError(e)) throw e;
      const rel = toPosix(relative(root, dir));
      errors.push({ file: dir, relativePath: rel, message: `${dir}: cannot list the folder (${e.code})`, error: e });
      return;
    }
    // Code-point order keeps the result independent of the locale.
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const rel = toPosix(relative(root, path));
      let st;
      try {
        st = statSync(path);
      } catch (e) {
        if (!isFsError(e)) throw e;
        errors.push({ file: path, relativePath: rel, message: `${path}: cannot read (${e.code}${e.code === 'ENOENT' ? ': broken symbolic link' : ''})`, error: e });
        continue;
      }
      if (st.isDirectory()) {
        if (!recursive) continue;
        let real: string;
        try {
          real = realpathSync(path);
        } catch (e) {
          if (!isFsError(e)) throw e;
          errors.push({ file: path, relativePath: rel, message: `${path}: cannot read (${e.code})`, error: e });
          continue;
        }
        if (seen.has(real)) continue;
        seen.add(real);
        walk(path);
      } else if (st.isFile()) out.push({ path, rel });
    }
  };
  walk(root);
  return out;
}

/** The first bytes of a file. */
function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const n = readSync(fd, buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Format of a file without a structure-file name, from its first bytes; null when it is not a
 * structure file (binary, gzip of an unknown kind, or content io.ts does not recognise).
 */
function sniff(path: string): StructureFormat | null {
  const bytes = head(path);
  if (bytes.length === 0) return null;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return null;
  if (bytes.includes(0)) return null;
  try {
    return detectFormat('', bytes);
  } catch (e) {
    if (e instanceof StructureError) return null;
    throw e;
  }
}

/**
 * The files of folder `dir` one at a time (see the module comment for which files count), in order
 * of relative path, each with its structures and per-file or per-item errors instead of
 * exceptions. From a file holding one structure without an id of its own, `info.id` is the file
 * stem (as {@link readStructures} does), prefixed by its sub-folder in recursive mode
 * (`run1/POSCAR`), so that files of the same name in different folders keep distinct ids.
 * `info.file` is the file's path. Folders that cannot be listed and broken links come as results
 * with an error and no structures. Throws a {@link StructureError} when `dir` does not exist or is
 * not a folder (before the first file).
 */
export function readFolderFiles(dir: string, options: ReadFolderOptions = {}): Generator<FolderFileResult> {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    if (isFsError(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) throw new StructureError(`folder not found: ${dir}`);
    throw e;
  }
  if (!st.isDirectory()) throw new StructureError(`not a folder: ${dir}`);
  const listErrors: FolderError[] = [];
  const files = listFiles(dir, options.recursive ?? false, listErrors);
  return folderFiles(files, listErrors, options);
}

function* folderFiles(files: readonly Candidate[], listErrors: readonly FolderError[], options: ReadFolderOptions): Generator<FolderFileResult> {
  // Listing failures and files in one order of relative path.
  const failed = [...listErrors];
  for (const { path, rel } of files) {
    while (failed.length > 0 && failed[0]!.relativePath < rel) {
      const e = failed.shift()!;
      yield { file: e.file, relativePath: e.relativePath, structures: [], errors: [e], skipped: false, items: 0 };
    }
    yield readOne(path, rel, options);
  }
  for (const e of failed) yield { file: e.file, relativePath: e.relativePath, structures: [], errors: [e], skipped: false, items: 0 };
}

/** One file: its structures and errors; nothing it contains can throw out of here. */
function readOne(path: string, rel: string, options: ReadFolderOptions): FolderFileResult {
  const out: FolderFileResult = { file: path, relativePath: rel, structures: [], errors: [], skipped: false, items: 0 };
  try {
    let format: StructureFormat | undefined;
    if (!hasStructureName(basename(path))) {
      const f = sniff(path);
      if (f === null) {
        out.skipped = true;
        return out;
      }
      format = f;
    }
    const { structures, errors } = readStructuresLenient(path, format, { allowLeftHanded: options.allowLeftHanded, limits: options.limits });
    const slash = rel.lastIndexOf('/');
    if (structures.length === 1 && errors.length === 0 && slash > 0) {
      const info = structures[0]!.structure.info;
      if (info.id === fileStem(path)) info.id = `${rel.slice(0, slash)}/${info.id}`;
    }
    out.items = structures.length + errors.length;
    for (const { structure, index } of structures) out.structures.push({ structure, file: path, relativePath: rel, index });
    for (const e of errors) out.errors.push({ file: path, relativePath: rel, index: e.index, id: e.id, message: e.message, error: e.error });
    if (out.items === 0) {
      const error = new StructureError('the file holds no structure', { file: path });
      out.errors.push({ file: path, relativePath: rel, message: error.message, error });
    }
  } catch (e) {
    const error = isFsError(e) && !(e instanceof StructureError) ? new StructureError(`cannot read (${e.code})`, { file: path }) : asStructureError(e, { file: path });
    out.structures = [];
    out.errors = [{ file: path, relativePath: rel, message: error.message, error }];
    out.items = 0;
  }
  return out;
}

/**
 * Every structure in the files of folder `dir`, collected from {@link readFolderFiles}: with
 * per-file and per-item errors instead of exceptions. Throws a {@link StructureError} when `dir`
 * does not exist or is not a folder.
 */
export function readFolder(dir: string, options: ReadFolderOptions = {}): FolderReadResult {
  const result: FolderReadResult = { structures: [], errors: [], skipped: [] };
  for (const f of readFolderFiles(dir, options)) {
    if (f.skipped) result.skipped.push(f.relativePath);
    result.structures.push(...f.structures);
    result.errors.push(...f.errors);
  }
  return result;
}
