/**
 * Output files (the engine's sink, checkpoints). A write that fails for a reason of the file system (a
 * full disk, a read-only or forbidden folder) carries the path it was writing: Node's own error names
 * it for `open` and `mkdir` but not for `write`, which is where a full disk shows. The engine halts a
 * stage on such an error (worker.ts `HALT_CODES`) and names the path.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

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


