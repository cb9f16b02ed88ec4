/**
 * Locations of the package's own files (bundled data, compiled WASM), resolved from this module so
 * they work from the source tree (tsx), from `dist/` and from an installed package alike.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'data'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('fracflow: cannot find the package root (package.json next to data/)');
}

/** Absolute path of the package root. */
export const packageRoot: string = findPackageRoot();

/** Path inside the bundled `data/` folder. */
export function dataPath(...parts: string[]): string {
  return join(packageRoot, 'data', ...parts);
}

/** Path of a compiled kernel, `build/<name>.wasm`. */
export function wasmPath(name: string): string {
  return join(packageRoot, 'build', `${name}.wasm`);
}
