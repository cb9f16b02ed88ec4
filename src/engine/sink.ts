/**
 * The engine's sink (Stage.sink): a row's packed files written under the stage's root folder, in the
 * worker thread after the work function returns. An error of the file system names the path (see
 * src/io/output-files.ts) and halts the stage (worker.ts).
 */
import { dirname, join } from 'node:path';
import { keyFolderName, unpackFiles } from '../stage-kit/files.js';
import { makeOutputDir, writeOutputFile } from '../io/output-files.js';

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
