/**
 * Files a stage writes as its output (the images stage's extxyz, CIF and VASP folders). A write that
 * fails for a reason of the file system (a full disk, a read-only or forbidden folder) carries the
 * path it was writing: Node's own error names it for `open` and `mkdir` but not for `write`, which is
 * where a full disk shows. The engine halts the stage on such an error (worker.ts `HALT_CODES`) and
 * names the path.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';

function withPath(e: unknown, path: string): unknown {
  if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).path === undefined) {
    (e as NodeJS.ErrnoException).path = path;
  }
  return e;
}

/** Write one output file; an error of the file system names `path`. */
export function writeOutputFile(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw withPath(e, path);
  }
}

/**
 * Create an output folder and its parents; an error of the file system names the folder that could
 * not be made. A recursive mkdir reports ENOENT for the deepest folder when an ancestor could not be
 * created (a read-only or forbidden file system): the first missing ancestor is then made on its own,
 * to give the real cause (EROFS, EACCES, ENOSPC) and its path.
 */
export function makeOutputDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      let missing = resolve(path);
      while (!existsSync(dirname(missing)) && dirname(missing) !== missing) missing = dirname(missing);
      try {
        mkdirSync(missing);
      } catch (cause) {
        throw withPath(cause, missing);
      }
    }
    throw withPath(e, path);
  }
}

/** Run `write` (which writes under `path`); an error of the file system without a path of its own names `path`. */
export function withOutputPath<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    throw withPath(e, path);
  }
}

/**
 * A set of files as one binary value (what a stage's work function returns for its sink): a count,
 * then per file its path and its bytes, each length-prefixed (uint32, little-endian).
 */
export function packFiles(files: Readonly<Record<string, string | Uint8Array>>): Uint8Array {
  const enc = new TextEncoder();
  const parts = Object.entries(files).map(([name, data]) => {
    checkRelativePath(name);
    return [enc.encode(name), typeof data === 'string' ? enc.encode(data) : data] as const;
  });
  const size = 4 + parts.reduce((n, [a, b]) => n + 8 + a.length + b.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  view.setUint32(at, parts.length, true);
  at += 4;
  for (const [a, b] of parts) {
    view.setUint32(at, a.length, true);
    out.set(a, at + 4);
    at += 4 + a.length;
    view.setUint32(at, b.length, true);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** The files of a {@link packFiles} value, paths checked; throws on a malformed value, naming the problem. */
export function unpackFiles(bytes: Uint8Array): [string, Uint8Array][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const need = (at: number, n: number) => {
    if (at + n > bytes.length) throw new Error(`packed files: truncated at byte ${at} (${bytes.length} bytes)`);
  };
  need(0, 4);
  const count = view.getUint32(0, true);
  const out: [string, Uint8Array][] = [];
  let at = 4;
  for (let k = 0; k < count; k++) {
    need(at, 4);
    const nl = view.getUint32(at, true);
    need(at + 4, nl);
    const name = dec.decode(bytes.subarray(at + 4, at + 4 + nl));
    at += 4 + nl;
    need(at, 4);
    const dl = view.getUint32(at, true);
    need(at + 4, dl);
    checkRelativePath(name);
    out.push([name, bytes.subarray(at + 4, at + 4 + dl)]);
    at += 4 + dl;
  }
  if (at !== bytes.length) throw new Error(`packed files: ${bytes.length - at} bytes after the last file`);
  return out;
}

/**
 * A file path a stage may write below its row's folder: `/`-separated segments of letters, digits,
 * `.`, `_` and `-`, none empty, `.` or `..`.
 */
export function checkRelativePath(name: string): void {
  const segs = name.split('/');
  if (name === '' || segs.some((s) => s === '' || s === '.' || s === '..' || !/^[A-Za-z0-9._-]+$/.test(s)))
    throw new Error(`packed files: ${JSON.stringify(name)} is not a relative path of plain names (letters, digits, '.', '_', '-')`);
}

/** Characters of a key kept readable in its folder name (the hash part keeps names apart). */
const READABLE_CHARS = 96;

/**
 * The folder name of a row's files: the key with every character outside letters, digits, `.`, `_`
 * and `-` replaced by `_` (shortened to its first and last 48 characters when longer), then `-` and 16 hex digits
 * of the key's SHA-256. The readable part alone is not injective (`a/b`, `a_b` and `a:b` all read
 * `a_b`); the hash of the original key is what keeps two keys out of one folder (64 bits: a collision
 * among a million rows has a chance of about 3·10⁻⁸). The name never contains a path separator, is
 * never `.` or `..`, stays far below the 255-byte limit of file names whatever the key's length, and
 * differs between keys that differ only in letter case (the hash part does), so case-insensitive file
 * systems keep them apart too.
 */
export function keyFolderName(key: string): string {
  let readable = key.replace(/[^A-Za-z0-9._-]/g, '_');
  if (readable.length > READABLE_CHARS) readable = `${readable.slice(0, READABLE_CHARS / 2)}~${readable.slice(-READABLE_CHARS / 2)}`;
  return `${readable}-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16)}`;
}

/**
 * Write a row's files under `root/<keyFolderName(key)>` (the engine's sink; see Stage.sink). Returns
 * the folder and the number of files. An error of the file system names the path (and halts the stage).
 */
export function writeRowFiles(root: string, key: string, packed: Uint8Array): { dir: string; count: number } {
  const dir = join(root, keyFolderName(key));
  const files = unpackFiles(packed);
  for (const [name, data] of files) {
    const f = join(dir, ...name.split('/'));
    makeOutputDir(dirname(f));
    writeOutputFile(f, data);
  }
  return { dir, count: files.length };
}
