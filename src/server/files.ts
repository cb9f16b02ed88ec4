/**
 * Files of a pathway's output folder, served only from inside that folder: the path asked for must be
 * relative, without `..`, NUL or backslash segments (checked after URL decoding), and its real path
 * (symlinks resolved) must lie inside the folder's real path — a link that points out of the folder
 * is refused like a `..`.
 */
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

export class FileRefused extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'FileRefused';
  }
}

/** The real path of `rel` inside `root`, or a FileRefused naming why not (status 400, 403 or 404). */
export function resolveInside(root: string, rel: string): string {
  if (typeof rel !== 'string' || rel === '') throw new FileRefused('no file named (path is empty)', 400);
  if (rel.includes('\0')) throw new FileRefused('path holds a NUL byte', 400);
  if (isAbsolute(rel) || /^[A-Za-z]:/.test(rel) || rel.includes('\\')) throw new FileRefused(`path ${JSON.stringify(rel)} is absolute or holds a backslash; give a path inside the pathway's folder`, 403);
  if (rel.split('/').some((p) => p === '..' || p === '.')) throw new FileRefused(`path ${JSON.stringify(rel)} holds a '..' or '.' segment`, 403);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new FileRefused('the pathway\'s output folder does not exist', 404);
  }
  let real: string;
  try {
    real = realpathSync(join(realRoot, rel));
  } catch {
    throw new FileRefused(`no file ${JSON.stringify(rel)} in the pathway's output folder`, 404);
  }
  const r = relative(realRoot, real);
  if (r === '' || r.startsWith('..') || isAbsolute(r) || r.split(sep).includes('..')) throw new FileRefused(`path ${JSON.stringify(rel)} leads out of the pathway's output folder`, 403);
  return real;
}

/** Files under `dir` (relative, `/`-separated, sorted), not following links out of it. */
export function listFiles(root: string, dir = ''): string[] {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return [];
  }
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(realRoot, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(realRoot, r));
      if (st.isDirectory()) walk(r);
      else if (st.isFile()) out.push(r);
    }
  };
  if (dir) {
    const start = resolveInside(realRoot, dir);
    if (!statSync(start).isDirectory()) return [];
    walk(relative(realRoot, start).split(sep).join('/'));
  } else walk('');
  return out;
}
