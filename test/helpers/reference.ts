/**
 * Access to the pymatgen/ASE reference data copied into test/fixtures/reference (see the README
 * there for how it was made).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStructure, type Structure } from '../../src/structure/structure.js';

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const referenceDir = join(fixturesDir, 'reference');

export interface ReferenceRecord {
  id: string;
  formula: string;
  n_sites: number;
  group: string;
  migrating: string;
  lattice: number[][];
  species: string[];
  frac_coords: number[][];
  oxidation_states: number[] | null;
}

let records: ReferenceRecord[] | null = null;

/** Every structure of structures.jsonl, in file order. */
export function referenceRecords(): ReferenceRecord[] {
  records ??= readFileSync(join(referenceDir, 'structures.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ReferenceRecord);
  return records;
}

/** A reference record as a Structure (left-handed cells allowed: two pymatgen test structures are). */
export function referenceStructure(r: ReferenceRecord, withOxidation = false): Structure {
  return createStructure(
    {
      lattice: r.lattice,
      species: r.species,
      frac: r.frac_coords,
      oxidationStates: withOxidation ? r.oxidation_states : null,
      info: { id: r.id },
    },
    { allowLeftHanded: true, checkOverlap: false },
  );
}

export function readReferenceJson<T>(...parts: string[]): T | null {
  const p = join(referenceDir, ...parts);
  if (!existsSync(p)) return null;
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}
