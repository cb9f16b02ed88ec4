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
 * Nothing in the folder stops the import: a file that cannot be read or parsed, and each record,
 * document, data block or frame of a multi-structure file that fails validation, becomes an entry
 * of `errors` naming the file (the import stage records them as failed rows). Only a missing or
 * unreadable top folder throws.
 */
import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { StructureError } from './errors.js';
import { detectFormat, readStructuresLenient, type StructureFormat } from './io.js';
import type { Structure } from './structure.js';

/** Bytes of a file without a structure-file name that are examined to recognise its format. */
export const SNIFF_BYTES = 64 * 1024;

export interface ReadFolderOptions {
  /** Descend into sub-folders (symbolic links followed, each real folder once). Default false. */
  recursive?: boolean;
  /** Accept left-handed lattices (negative determinant). Default false. */
  allowLeftHanded?: boolean;
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
        const real = realpathSync(path);
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
 * Every structure in the files of folder `dir` (see the module comment for which files count),
 * with per-file and per-item errors instead of exceptions. From a file holding one structure
 * without an id of its own, `info.id` is the file stem (as {@link readStructures} does), prefixed
 * by its sub-folder in recursive mode (`run1/POSCAR`), so that files of the same name in different
 * folders keep distinct ids. `info.file` is the file's path. Throws a {@link StructureError} when
 * `dir` does not exist or is not a folder.
 */
export function readFolder(dir: string, options: ReadFolderOptions = {}): FolderReadResult {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    if (isFsError(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) throw new StructureError(`folder not found: ${dir}`);
    throw e;
  }
  if (!st.isDirectory()) throw new StructureError(`not a folder: ${dir}`);

  const result: FolderReadResult = { structures: [], errors: [], skipped: [] };
  for (const { path, rel } of listFiles(dir, options.recursive ?? false, result.errors)) {
    try {
      let format: StructureFormat | undefined;
      if (!hasStructureName(basename(path))) {
        const f = sniff(path);
        if (f === null) {
          result.skipped.push(rel);
          continue;
        }
        format = f;
      }
      const { structures, errors } = readStructuresLenient(path, format, { allowLeftHanded: options.allowLeftHanded });
      const slash = rel.lastIndexOf('/');
      if (structures.length === 1 && errors.length === 0 && slash > 0) {
        const info = structures[0]!.structure.info;
        if (info.id === fileStem(path)) info.id = `${rel.slice(0, slash)}/${info.id}`;
      }
      for (const { structure, index } of structures) result.structures.push({ structure, file: path, relativePath: rel, index });
      for (const e of errors) result.errors.push({ file: path, relativePath: rel, index: e.index, id: e.id, message: e.message, error: e.error });
    } catch (e) {
      if (e instanceof StructureError) {
        result.errors.push({ file: path, relativePath: rel, message: e.message, error: e });
      } else if (isFsError(e)) {
        result.errors.push({ file: path, relativePath: rel, message: `${path}: cannot read (${e.code})`, error: e });
      } else throw e;
    }
  }
  // Listing failures were found before the reading ones: one order for both (sort is stable, so
  // the items of one file keep their order).
  result.errors.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  return result;
}
