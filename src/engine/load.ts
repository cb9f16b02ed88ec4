/**
 * Loading stage modules by path or URL, in the main thread (CLI) and in worker threads alike.
 *
 * A module written in TypeScript is loaded through tsx's require hook when this module was itself
 * loaded by it, otherwise through tsx's `tsImport` (a dev dependency), when a plain import() cannot
 * load it: from compiled JS, and also in a worker thread under `node --import tsx`,
 * whose hooks Node 20 does not apply to a worker's import(). Stage identity survives a second module
 * instance because `isStage` checks a registered symbol.
 */
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isStage, StageError, type Stage } from '../stage-kit/stage.js';

/** Import a module given as a file URL or a path (relative to the working directory). */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  const u = url.startsWith('file:') ? new URL(url) : pathToFileURL(resolve(url));
  // A module loaded by tsImport sees its import.meta.url with tsx's namespace query; the file is the same.
  u.search = '';
  u.hash = '';
  const href = u.href;
  try {
    return (await import(href)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (!/\.[cm]?ts$/.test(new URL(href).pathname) || code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    if (typeof require === 'function') {
      // This module itself was loaded by tsx's require hook (a piscina worker under tsx): require the
      // stage module through the same hook, sharing already-loaded modules (much faster than tsImport).
      try {
        return createRequire(import.meta.url)(fileURLToPath(href)) as Record<string, unknown>;
      } catch {
        // Not loadable as CommonJS (e.g. top-level await): fall through to tsx's ESM loader.
      }
    }
    const api = (await import('tsx/esm/api')) as { tsImport: (specifier: string, parent: string) => Promise<Record<string, unknown>> };
    return await api.tsImport(href, import.meta.url);
  }
}

/** Every stage a module exports (in the module namespace's order: by export name). */
export async function loadStages(module: string): Promise<Stage[]> {
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(module);
  } catch (e) {
    throw new StageError(`cannot load stage module ${module}: ${(e as Error).message}`);
  }
  const stages = Object.values(mod).filter(isStage);
  if (stages.length === 0) throw new StageError(`stage module ${module} exports no stage (declare them with defineStage)`);
  return stages;
}

/** The stages named in `only` (all when omitted), checked against what the module exports. */
export async function selectStages(module: string, only?: readonly string[]): Promise<Stage[]> {
  const all = await loadStages(module);
  if (!only || only.length === 0) return all;
  return only.map((n) => {
    const s = all.find((x) => x.name === n);
    if (!s) throw new StageError(`stage module ${module} has no stage ${JSON.stringify(n)} (it has: ${all.map((x) => x.name).join(', ')})`);
    return s;
  });
}
