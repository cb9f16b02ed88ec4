/**
 * Files a stage makes, as data: a set of files packed into one binary value (what a stage's work
 * function returns for its sink), the check that keeps every path inside the row's folder, and the
 * folder name of a row key. Writing them is the engine's (src/engine/sink.ts).
 */
import { createHash } from 'node:crypto';

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

