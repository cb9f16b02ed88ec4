/**
 * Space group and operations against spglib at the reference settings (symprec 0.1 Å, angle
 * tolerance 5°, through pymatgen's SpacegroupAnalyzer; test/fixtures/reference/symmetry, made by
 * scripts/ref/spglib_symmetry.py) on every bundled structure (data/, all four datasets) and every
 * reference structure: the same space-group number, the same number of operations in the given cell,
 * the same rotations, translations within symprec of spglib's (both are exact groups near the
 * structure; their origins may differ by a fraction of symprec), and the same equivalent sites in
 * pymatgen's class order. A difference fails unless listed with its evidence in differences.json; a
 * listed case that agrees fails too, and so does finding no structures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { symmetry, type SymmetryInfo } from '../../src/structure/symmetry.js';
import { loadBundled } from '../../src/io/bundled.js';
import type { Structure } from '../../src/structure/structure.js';
import { referenceDir, referenceRecords, referenceStructure } from '../helpers/reference.js';

const SYMPREC = 0.1;
/** Translations per rotation above which only the rotations are compared (see {@link differences}). */
const MAX_TRANSLATIONS_COMPARED = 64;

interface SpglibRow {
  id: string | null;
  index: number;
  n_sites: number;
  number: number;
  n_operations: number;
  rotations: string[];
  translations: [number, number, number][];
  classes: number[][];
  error?: string;
}
const reference = JSON.parse(gunzipSync(readFileSync(join(referenceDir, 'symmetry', 'spglib_symmetry.json.gz'))).toString()) as Record<string, SpglibRow[]> & {
  provenance: Record<string, string>;
};
const listed = (JSON.parse(readFileSync(join(referenceDir, 'symmetry', 'differences.json'), 'utf8')) as { differences: Record<string, { found: string; spglib: string; evidence: string }> }).differences;

const DATASETS = ['mp', 'curated', 'mp-task', 'perov5'] as const;

/** What differs between fracflow's symmetry and spglib's for one structure ([] = agreement). */
function differences(s: Structure, sym: SymmetryInfo, row: SpglibRow): string[] {
  const out: string[] = [];
  if (sym.number !== row.number) out.push(`space group ${sym.number}, spglib ${row.number}`);
  if (sym.operationCount !== row.n_operations) out.push(`${sym.operationCount} operations, spglib ${row.n_operations}`);
  const classes = JSON.stringify(sym.classes);
  if (classes !== JSON.stringify(row.classes)) out.push(`classes ${classes}, spglib ${JSON.stringify(row.classes)}`);
  if (out.length > 0) return out;
  // Rotations as a multiset; each operation's translation within symprec (Å) of one of spglib's with that rotation.
  const byRotation = new Map<string, [number, number, number][]>();
  row.rotations.forEach((r, k) => byRotation.set(r, [...(byRotation.get(r) ?? []), row.translations[k]!]));
  const used = new Map<string, number>();
  const L = s.lattice;
  for (let k = 0; k < sym.operationCount; k++) {
    const r = Array.from(sym.rotations.subarray(9 * k, 9 * k + 9)).join(',');
    const ts = byRotation.get(r);
    used.set(r, (used.get(r) ?? 0) + 1);
    if (!ts || used.get(r)! > ts.length) {
      out.push(`rotation ${r} is not spglib's (or occurs more often)`);
      continue;
    }
    // The large supercells (up to 48 rotations × 1008 translations) are left at the rotation count:
    // their translations are the primitive cell's combined with the pure translations.
    if (ts.length > MAX_TRANSLATIONS_COMPARED) continue;
    let best = Infinity;
    for (const u of ts) {
      const d = [0, 1, 2].map((q) => {
        const x = sym.translations[3 * k + q]! - u[q]!;
        return x - Math.round(x);
      });
      best = Math.min(best, Math.hypot(d[0]! * L[0]! + d[1]! * L[3]! + d[2]! * L[6]!, d[0]! * L[1]! + d[1]! * L[4]! + d[2]! * L[7]!, d[0]! * L[2]! + d[1]! * L[5]! + d[2]! * L[8]!));
    }
    if (best > SYMPREC) out.push(`translation of rotation ${r} is ${best.toFixed(4)} Å from spglib's`);
  }
  return out;
}

function structuresOf(name: string): Structure[] {
  return name === 'reference' ? referenceRecords().map((r) => referenceStructure(r)) : loadBundled(name);
}

test('the spglib reference covers every bundled and reference structure, made at symprec 0.1 Å and 5°', () => {
  assert.match(reference.provenance.call!, /symprec=0\.1, angle_tolerance=5\.0/);
  assert.equal(reference.provenance.spglib, '2.0.2');
  for (const name of [...DATASETS, 'reference']) {
    const rows = reference[name]!;
    const structures = structuresOf(name);
    assert.equal(rows.length, structures.length, `${name}: one reference row per structure`);
    // Records without an id of their own (curated prototypes named only by `name`) are matched by position.
    rows.forEach((row, k) => {
      const id = structures[k]!.info.id;
      if (id !== undefined) assert.equal(row.id, id, `${name} record ${k}`);
    });
  }
  for (const [key, d] of Object.entries(listed)) assert.ok(d.evidence.length > 100, `${key} needs evidence`);
});

test('space group, operations and equivalent sites agree with spglib on every bundled and reference structure', () => {
  let compared = 0;
  const unexplained: string[] = [];
  const nowAgreeing: string[] = [];
  for (const name of [...DATASETS, 'reference']) {
    const structures = structuresOf(name);
    reference[name]!.forEach((row, k) => {
      const key = `${name}:${row.index}:${row.id ?? ''}`;
      assert.equal(row.error, undefined, `${key}: spglib failed`);
      const s = structures[k]!;
      const diff = differences(s, symmetry(s, { symprec: SYMPREC }), row);
      compared++;
      if (listed[key]) {
        if (diff.length === 0) nowAgreeing.push(key);
      } else if (diff.length > 0) unexplained.push(`${key}: ${diff.join('; ')}`);
    });
  }
  assert.ok(compared >= 3100, `only ${compared} structures compared`);
  assert.deepEqual(unexplained, [], `${unexplained.length} of ${compared} differ from spglib without an entry in differences.json`);
  assert.deepEqual(nowAgreeing, [], 'listed differences that agree now: remove them from differences.json');
});
