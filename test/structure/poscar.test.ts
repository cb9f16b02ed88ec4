import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStructure, readStructures } from '../../src/structure/io.js';
import { readPoscar } from '../../src/structure/poscar.js';
import { StructureError } from '../../src/structure/errors.js';
import { volume } from '../../src/structure/structure.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'structures');
const fx = (name: string) => join(fixtures, name);

test('VASP 5, Cartesian, scale factor, POTCAR suffix on the species, selective dynamics', () => {
  const s = readStructure(fx('POSCAR_CaF2_cartesian_sd'));
  assert.deepEqual(s.species, [...Array(4).fill('Ca'), ...Array(8).fill('F')]);
  assert.deepEqual(Array.from(s.lattice), [5.4631, 0, 0, 0, 5.4631, 0, 0, 0, 5.4631]);
  const f = Array.from(s.frac, (x) => Math.round(x * 1e12) / 1e12);
  assert.deepEqual(f.slice(0, 6), [0, 0, 0, 0, 0.5, 0.5]);
  assert.deepEqual(f.slice(30, 36), [0.75, 0.75, 0.25, 0.75, 0.75, 0.75]);
  const sd = s.siteProperties['selective_dynamics']!;
  assert.deepEqual(sd[0], [false, false, false]);
  assert.deepEqual(sd[1], [true, true, true]);
  assert.deepEqual(sd[10], [true, false, true]);
  assert.equal(s.info['comment'], 'CaF2 fluorite conventional cell (hand-written test fixture)');
  assert.equal(s.info.id, 'POSCAR_CaF2_cartesian_sd');
  assert.equal(s.oxidationStates, null);
});

test('negative scale factor = target volume; trailing per-site labels and velocity block ignored', () => {
  const s = readStructure(fx('CONTCAR_LiF_volume'));
  assert.ok(Math.abs(volume(s) - 17.02) < 1e-10);
  assert.deepEqual(s.species, ['Li', 'F']);
  assert.deepEqual(Array.from(s.frac), [0, 0, 0, 0.5, 0.5, 0.5]);
});

test('three per-axis scale factors', () => {
  // Cartesian positions are scaled per axis like the lattice
  const text = 'x\n2 3 4\n1 0 0\n0 1 0\n0 0 1\nNa F\n1 1\nCartesian\n0 0 0\n0.5 0.5 0.5\n';
  const s = readStructure(text, 'poscar');
  assert.deepEqual(Array.from(s.lattice), [2, 0, 0, 0, 3, 0, 0, 0, 4]);
  assert.deepEqual(Array.from(s.frac), [0, 0, 0, 0.5, 0.5, 0.5]);
});

test('VASP 4 file: read with options.species, clear error without', () => {
  const s = readStructure(fx('CaF2_vasp4.vasp'), 'poscar', { species: ['Ca', 'F'] });
  assert.deepEqual(s.species, ['Ca', 'F', 'F']);
  assert.throws(
    () => readStructure(fx('CaF2_vasp4.vasp')),
    (e: unknown) =>
      e instanceof StructureError &&
      /CaF2_vasp4\.vasp:6: species: VASP 4 POSCAR: line 6 holds the counts and there is no species line; add the element symbols as line 6 \(VASP 5\) or pass the species via options\.species$/.test(e.message),
  );
});

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const GOOD = `NaF test
1.0
4.0 0.0 0.0
0.0 4.0 0.0
0.0 0.0 4.0
Na F
1 1
Direct
0.0 0.0 0.0
0.5 0.5 0.5
`;

function bad(text: string, re: RegExp, options: { species?: string[] } = {}): void {
  assert.throws(
    () => readStructures(text, 'poscar', { name: 'POSCAR_bad', ...options }),
    (e: unknown) => {
      assert.ok(e instanceof StructureError, `expected a StructureError, got ${String(e)}`);
      assert.match(e.message, re);
      return true;
    },
  );
}

test('sanity: the base text of the error tests reads', () => {
  assert.equal(readPoscar(GOOD).species.length, 2);
});

test('error: truncated file (fewer coordinate lines than the counts say)', () => {
  bad(GOOD.replace('0.5 0.5 0.5\n', ''), /^POSCAR_bad:10: expected 2 coordinate lines \(counts 1 1 on line 7\) from line 9, found only 1: the file is truncated$/);
  bad('NaF\n1.0\n4 0 0\n0 4 0\n', /^POSCAR_bad:5: file ends after line 4; expected lattice vector 3 on line 5 \(truncated POSCAR\?\)$/);
  bad(GOOD.split('\n').slice(0, 7).join('\n'), /^POSCAR_bad:8: file ends after line 7; expected 'Direct' or 'Cartesian' on line 8/);
});

test('error: non-numeric coordinate, lattice and scale', () => {
  bad(GOOD.replace('0.5 0.5 0.5', '0.5 abc 0.5'), /^POSCAR_bad:10: coordinates: not a number: "abc"$/);
  bad(GOOD.replace('0.0 4.0 0.0', '0.0 4.0x 0.0'), /^POSCAR_bad:4: lattice: not a number: "4\.0x"$/);
  bad(GOOD.replace('1.0\n', 'one\n'), /^POSCAR_bad:2: scale: not a number: "one"$/);
  bad(GOOD.replace('1.0\n', '0\n'), /^POSCAR_bad:2: scale: scale factor is zero$/);
});

test('error: NaN / Inf coordinates', () => {
  bad(GOOD.replace('0.5 0.5 0.5', '0.5 nan 0.5'), /^POSCAR_bad:10: coordinates: not a finite number: "nan" \(NaN\/Inf\)$/);
  bad(GOOD.replace('0.5 0.5 0.5', '0.5 0.5 -Infinity'), /^POSCAR_bad:10: coordinates: not a finite number: "-Infinity"/);
  bad(GOOD.replace('0.0 0.0 4.0', 'NaN 0.0 4.0'), /^POSCAR_bad:5: lattice: not a finite number: "NaN"/);
});

test('error: zero and negative cell volume (negative allowed on request)', () => {
  bad(GOOD.replace('0.0 0.0 4.0', '4.0 0.0 0.0'), /^POSCAR_bad:3: lattice: cell volume is zero/);
  const left = GOOD.replace('0.0 0.0 4.0', '0.0 0.0 -4.0');
  bad(left, /^POSCAR_bad:3: lattice: cell volume is negative \(-64\.0000 Å³\): the lattice vectors form a left-handed set/);
  const s = readStructure(left, 'poscar', { allowLeftHanded: true });
  assert.equal(s.lattice[8], -4);
  bad(GOOD.replace('1.0\n', '-20\n').replace('0.0 0.0 4.0', '4.0 0.0 0.0'), /^POSCAR_bad:3: lattice: cell volume is zero .*cannot scale to the target volume 20$/);
});

test('error: unknown element, count mismatch, bad count', () => {
  bad(GOOD.replace('Na F', 'Na Xx'), /^POSCAR_bad:6: species: unknown element "Xx"$/);
  bad(GOOD.replace('1 1\n', '1 1 1\n'), /^POSCAR_bad:7: counts: 3 counts for 2 species \(Na F\)$/);
  bad(GOOD.replace('1 1\n', '1 x\n'), /^POSCAR_bad:7: counts: expected a non-negative integer count, got "x"$/);
  // options.species is only used (and validated) for VASP 4 files
  assert.deepEqual(readStructure(GOOD, 'poscar', { species: ['K', 'Cl'] }).species, ['Na', 'F']);
  bad(GOOD.replace('Na F\n', ''), /^POSCAR_bad:6: species: unknown element "Qq" in options\.species$/, { species: ['Na', 'Qq'] });
});

test('error: two sites closer than 0.5 Å names both lines', () => {
  bad(GOOD.replace('0.5 0.5 0.5', '0.05 0.0 0.0'), /^POSCAR_bad:10: sites 0 \(Na, line 9\) and 1 \(F, line 10\) are 0\.2000 Å apart \(closer than 0\.5 Å\): overlapping atoms$/);
});

test('error: selective dynamics flags missing or bad; missing coordinate mode', () => {
  const sd = GOOD.replace('Direct\n', 'Selective dynamics\nDirect\n');
  bad(sd, /^POSCAR_bad:10: selective dynamics: expected 3 selective-dynamics flags \(T\/F\) after the coordinates of site 0, found 0$/);
  bad(sd.replace('0.0 0.0 0.0\n', '0.0 0.0 0.0 T X T\n'), /^POSCAR_bad:10: selective dynamics: expected a T\/F selective-dynamics flag, got "X"$/);
  bad(GOOD.replace('Direct\n', ''), /^POSCAR_bad:8: coordinate mode: expected 'Direct' or 'Cartesian', found "0\.0 0\.0 0\.0"$/);
  bad(GOOD.replace('0.5 0.5 0.5', '0.5 0.5'), /^POSCAR_bad:10: coordinates: expected 3 coordinates for site 1 \(F\), found 2$/);
});
