/**
 * VASP output files read from this machine's disk and parsed by src/analysis/vasp-outputs.ts
 * (pymatgen's final energy; see that module for the rules).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { finalEnergyOfFolder, parseOutcar, parseVasprun, VASP_OUTPUT_FILES, VaspOutputError, type VaspRunResult } from '../analysis/vasp-outputs.js';

function readBytes(file: string): Buffer {
  if (!existsSync(file)) throw new VaspOutputError(file, 'file not found');
  if (!statSync(file).isFile()) throw new VaspOutputError(file, 'not a regular file');
  return readFileSync(file);
}

/**
 * Read a vasprun.xml (or vasprun.xml.gz). Throws {@link VaspOutputError} naming the file when it
 * is missing, is not a vasprun.xml, has mismatched tags, or has no complete calculation with a
 * final energy.
 */
export function readVasprun(file: string): VaspRunResult {
  return parseVasprun(readBytes(file), file);
}

/**
 * Read the final energies of an OUTCAR (or OUTCAR.gz). Throws {@link VaspOutputError} when the
 * file is missing or holds no `energy(sigma->0)` line.
 */
export function readOutcar(file: string): VaspRunResult {
  return parseOutcar(readBytes(file), file);
}

/**
 * Final energy of the VASP run in folder `dir`: vasprun.xml(.gz) when present and readable,
 * else OUTCAR(.gz). When both fail, the error names both files and their causes.
 */
export function readVaspRun(dir: string): VaspRunResult {
  if (!existsSync(dir)) throw new VaspOutputError(dir, 'folder not found');
  return finalEnergyOfFolder(dir, VASP_OUTPUT_FILES.map(({ name }) => {
    const f = join(dir, name);
    return existsSync(f) && statSync(f).isFile() ? readFileSync(f) : null;
  }));
}
