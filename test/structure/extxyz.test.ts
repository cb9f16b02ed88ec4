import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStructure, readStructures, readStructuresLenient, writeStructure } from '../../src/structure/io.js';
import { readExtxyz } from '../../src/structure/extxyz.js';
import { StructureError } from '../../src/structure/errors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'structures');
const fx = (name: string) => join(fixtures, name);

test('multi-frame file: every frame, oxi column, initial_charges as site property, info values', () => {
  const all = readStructures(fx('frames.extxyz'));
  assert.equal(all.length, 2);
  const [caf2, lif] = all as [(typeof all)[0], (typeof all)[0]];
  assert.deepEqual(caf2.species, ['Ca', 'F', 'F']);
  assert.deepEqual(Array.from(caf2.frac, (x) => Math.round(x * 1e12) / 1e12), [0, 0, 0, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75]);
  assert.deepEqual(Array.from(caf2.oxidationStates!), [2, -1, -1]);
  assert.deepEqual(caf2.siteProperties['initial_charges'], [1.5, -0.75, -0.75]);
  assert.equal(caf2.info.id, 'mp-2741');
  assert.equal(caf2.info['energy'], -18.5);
  assert.equal(caf2.info['comment'], 'CaF2 primitive, hand-written fixture');
  assert.deepEqual(caf2.info['stress'], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.equal(caf2.info['converged'], true);
  assert.equal(caf2.info.source, fx('frames.extxyz'));
  assert.equal(lif.info.id, 'mp-1138');
  assert.equal(lif.oxidationStates, null);
  // readStructure gives the first frame
  assert.equal(readStructure(fx('frames.extxyz')).info.id, 'mp-2741');
});

test('default Properties, integer/logical/string columns, quoted values with escapes', () => {
  const text = [
    '2',
    'Lattice="4 0 0 0 4 0 0 0 4" name="a \\"quoted\\" name" flag',
    'Na 0 0 0',
    'F 2 2 2',
    '2',
    'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3:tags:I:1:fixed:L:3:kind:S:1 pbc="T T T"',
    'Na 0 0 0 1 T F T core',
    'F 2 2 2 -2 F F F shell',
  ].join('\n');
  const [a, b] = readExtxyz(text);
  assert.deepEqual(a!.species, ['Na', 'F']);
  assert.equal(a!.info['name'], 'a "quoted" name');
  assert.equal(a!.info['flag'], true);
  assert.deepEqual(b!.siteProperties['tags'], [1, -2]);
  assert.deepEqual(b!.siteProperties['fixed'], [
    [true, false, true],
    [false, false, false],
  ]);
  assert.deepEqual(b!.siteProperties['kind'], ['core', 'shell']);
  // the writer keeps the columns it can represent
  const back = readExtxyz(writeStructure(b!, 'extxyz'))[0]!;
  assert.deepEqual(back.siteProperties['fixed'], b!.siteProperties['fixed']);
  assert.deepEqual(back.siteProperties['kind'], ['core', 'shell']);
});

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const GOOD = `2
Lattice="4.0 0.0 0.0 0.0 4.0 0.0 0.0 0.0 4.0" Properties=species:S:1:pos:R:3 pbc="T T T"
Na 0.0 0.0 0.0
F 2.0 2.0 2.0
`;

function bad(text: string, re: RegExp): void {
  assert.throws(
    () => readStructures(text, 'extxyz', { name: 'bad.extxyz' }),
    (e: unknown) => {
      assert.ok(e instanceof StructureError, `expected a StructureError, got ${String(e)}`);
      assert.match(e.message, re);
      return true;
    },
  );
}

test('sanity: the base text of the error tests reads', () => {
  assert.equal(readExtxyz(GOOD)[0]!.species.length, 2);
});

test('error: truncated file (fewer atom lines than declared)', () => {
  bad(GOOD.replace('F 2.0 2.0 2.0\n', ''), /^bad\.extxyz:4: frame declares 2 atoms \(line 1\) but has only 1 atom lines: the file is truncated$/);
  bad(GOOD + GOOD.replace('F 2.0 2.0 2.0\n', ''), /^bad\.extxyz:8: frame declares 2 atoms \(line 5\) but has only 1 atom lines/);
  bad('2', /^bad\.extxyz:1: file ends after the atom count: the comment line \(with Lattice=\) is missing$/);
  bad('2\n', /^bad\.extxyz:3: frame declares 2 atoms \(line 1\) but has only 0 atom lines: the file is truncated$/);
  bad('two\n' + GOOD.slice(2), /^bad\.extxyz:1: atom count: expected the number of atoms \(an integer\) at the start of a frame, got "two"$/);
});

test('error: no Lattice (periodic structures only)', () => {
  bad(GOOD.replace(/Lattice="[^"]*" /, ''), /^bad\.extxyz:2: Lattice: no Lattice="ax ay az bx by bz cx cy cz" on the comment line: fracflow reads periodic structures only$/);
  bad('2\nplain xyz comment\nNa 0 0 0\nF 2 2 2\n', /^bad\.extxyz:2: Lattice: no Lattice=/);
  bad(GOOD.replace('pbc="T T T"', 'pbc="T T F"'), /^bad\.extxyz:2: pbc: pbc="T T F": fracflow handles structures periodic in all three directions only$/);
  bad(GOOD.replace('Lattice="4.0 0.0 0.0 0.0 4.0 0.0 0.0 0.0 4.0"', 'Lattice="4.0 0.0 0.0"'), /^bad\.extxyz:2: Lattice: expected 9 numbers, got 3$/);
});

test('error: non-numeric and NaN fields', () => {
  bad(GOOD.replace('F 2.0 2.0 2.0', 'F 2.0 abc 2.0'), /^bad\.extxyz:4: pos: not a number: "abc"$/);
  bad(GOOD.replace('F 2.0 2.0 2.0', 'F 2.0 nan 2.0'), /^bad\.extxyz:4: pos: not a finite number: "nan" \(NaN\/Inf\)$/);
  bad(GOOD.replace('0.0 4.0 0.0', '0.0 4.0x 0.0'), /^bad\.extxyz:2: Lattice: not a number: "4\.0x"$/);
  bad(GOOD.replace('F 2.0 2.0 2.0', 'F 2.0 2.0'), /^bad\.extxyz:4: expected 4 columns \(species:1, pos:3\), found 3$/);
});

test('error: zero volume, unknown element, close sites', () => {
  bad(GOOD.replace('0.0 0.0 4.0"', '4.0 0.0 0.0"'), /^bad\.extxyz:2: Lattice: cell volume is zero/);
  bad(GOOD.replace('F 2.0', 'Xx 2.0'), /^bad\.extxyz:4: species: unknown element "Xx"$/);
  bad(GOOD.replace('F 2.0 2.0 2.0', 'F 0.2 0.0 0.0'), /^bad\.extxyz:4: sites 0 \(Na, line 3\) and 1 \(F, line 4\) are 0\.2000 Å apart \(closer than 0\.5 Å\): overlapping atoms$/);
});

test('error: bad Properties and bad quoting', () => {
  bad(GOOD.replace('Properties=species:S:1:pos:R:3', 'Properties=species:S:1:pos:R'), /^bad\.extxyz:2: Properties: Properties=species:S:1:pos:R: expected name:type:count triples$/);
  bad(GOOD.replace('Properties=species:S:1:pos:R:3', 'Properties=species:S:1:xyz:R:3'), /^bad\.extxyz:2: Properties: Properties must include pos:R:3$/);
  bad(GOOD.replace('pbc="T T T"', 'pbc="T T T'), /^bad\.extxyz:2: unterminated quoted value for key "pbc"$/);
});

test('lenient reading reports a bad frame and keeps the others', () => {
  const text = GOOD + GOOD.replace('F 2.0', 'Xx 2.0') + GOOD;
  const r = readStructuresLenient(text, 'extxyz', { name: 'three.extxyz' });
  assert.deepEqual(r.structures.map((x) => x.index), [0, 2]);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!.message, /^three\.extxyz:8: species: unknown element "Xx"$/);
});
