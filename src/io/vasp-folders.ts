/**
 * VASP input folders on disk: the folders of src/analysis/vasp-inputs.ts (INCAR, KPOINTS, POSCAR,
 * POTCAR.spec; the static and NEB designs) written under a directory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Structure } from '../structure/structure.js';
import { nebFolderFiles, staticFolderFiles, vaspFolderFiles, type FolderFiles, type IncarOverrides, type VaspInputSet, type VaspInputSetOptions } from '../analysis/vasp-inputs.js';

/** Write `files` under `dir` (folders made as needed). */
function writeFiles(dir: string, files: FolderFiles): void {
  for (const [name, text] of Object.entries(files)) {
    const f = join(dir, ...name.split('/'));
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
}

/**
 * Write one VASP input folder (INCAR, KPOINTS, POSCAR, POTCAR.spec) for `structure` with the
 * `static` or `relax` design. Returns the input set written.
 */
export function writeVaspFolder(dir: string, structure: Structure, design: 'static' | 'relax', overrides: IncarOverrides = {}, options: VaspInputSetOptions = {}): VaspInputSet {
  const { set, files } = vaspFolderFiles(structure, design, overrides, options);
  writeFiles(dir, files);
  return set;
}

/** Write the NEB design (see {@link nebFolderFiles}) in `dir`. */
export function writeNebFolder(dir: string, images: readonly Structure[], overrides: IncarOverrides = {}, options: VaspInputSetOptions = {}): { relaxStart: VaspInputSet; relaxEnd: VaspInputSet; neb: VaspInputSet } {
  const { files, ...sets } = nebFolderFiles(images, overrides, options);
  writeFiles(dir, files);
  return sets;
}

/** Write the static design (see {@link staticFolderFiles}) in `dir`. */
export function writeStaticFolders(dir: string, images: readonly Structure[], overrides: IncarOverrides = {}, options: VaspInputSetOptions = {}): VaspInputSet[] {
  const { sets, files } = staticFolderFiles(images, overrides, options);
  writeFiles(dir, files);
  return sets;
}
