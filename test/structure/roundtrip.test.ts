/**
 * Round trips through every writer: write → read gives the same species, fractional coordinates
 * (1e-10; modulo 1 for CIF, whose reader wraps), lattice (1e-8; lattice parameters for CIF, whose
 * reader uses pymatgen's standard orientation), oxidation states and id where the format carries
 * them, on a cubic cell, a skewed triclinic cell and the first 20 bundled MP records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStructure, readStructures, writeStructure, type WriteFormat } from '../../src/structure/io.js';
import { createStructure, cartesian, type Structure } from '../../src/structure/structure.js';
import { latticeParameters } from '../../src/structure/lattice.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Fluorite CaF2, conventional cubic cell: 4 Ca + 8 F. */
function caf2Conventional(): Structure {
  const a = 5.4631;
  const ca = [
    [0, 0, 0],
    [0, 0.5, 0.5],
    [0.5, 0, 0.5],
    [0.5, 0.5, 0],
  ];
  const f: number[][] = [];
  for (const x of [0.25, 0.75]) for (const y of [0.25, 0.75]) for (const z of [0.25, 0.75]) f.push([x, y, z]);
  return createStructure({
    lattice: [
      [a, 0, 0],
      [0, a, 0],
      [0, 0, a],
    ],
    species: [...ca.map(() => 'Ca'), ...f.map(() => 'F')],
    frac: [...ca, ...f],
    oxidationStates: [...ca.map(() => 2), ...f.map(() => -1)],
    info: { id: 'caf2-conventional' },
  });
}

/** A skewed triclinic cell in a non-standard orientation, with coordinates outside [0, 1). */
function triclinic(): Structure {
  return createStructure({
    lattice: [
      [4.9, 0.0, 0.0],
      [-2.1, 5.6, 0.3],
      [1.2, -0.9, 7.1],
    ],
    species: ['K', 'Al', 'F', 'F', 'F', 'F'],
    frac: [
      [0.1, 0.2, 0.3],
      [0.61, -0.27, 0.74],
      [0.35, 0.48, 1.05],
      [0.87, 0.12, 0.52],
      [-0.05, 0.71, 0.66],
      [0.42, 0.93, 0.18],
    ],
    oxidationStates: [1, 3, -1, -1, -1, -1],
    siteProperties: { magmom: [0, 0.5, 0, 0, 0, 0] },
    info: { id: 'tri-1' },
  });
}

function bundledFirst20(): Structure[] {
  return readStructures(join(root, 'data', 'mp_fluorides.jsonl.gz')).slice(0, 20);
}

/** Periodic difference in (-0.5, 0.5]. */
function pdiff(a: number, b: number): number {
  const d = a - b;
  return d - Math.round(d);
}

/** Sorted periodic distances from every site to every site (shifts −2..2), Å. */
function distances(s: Structure): number[] {
  const c = cartesian(s);
  const n = s.species.length;
  const l = s.lattice;
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let best = Infinity;
      for (let x = -2; x <= 2; x++)
        for (let y = -2; y <= 2; y++)
          for (let z = -2; z <= 2; z++) {
            const dx = c[3 * j]! - c[3 * i]! + x * l[0]! + y * l[3]! + z * l[6]!;
            const dy = c[3 * j + 1]! - c[3 * i + 1]! + x * l[1]! + y * l[4]! + z * l[7]!;
            const dz = c[3 * j + 2]! - c[3 * i + 2]! + x * l[2]! + y * l[5]! + z * l[8]!;
            if (i === j && x === 0 && y === 0 && z === 0) continue;
            best = Math.min(best, Math.hypot(dx, dy, dz));
          }
      out.push(best);
    }
  return out;
}

interface Carries {
  oxidation: boolean;
  id: boolean;
  wraps: boolean;
  reorients: boolean;
}

const CARRIES: Record<Exclude<WriteFormat, 'json'>, Carries> = {
  cif: { oxidation: true, id: true, wraps: true, reorients: true },
  poscar: { oxidation: false, id: false, wraps: false, reorients: false },
  'pymatgen-json': { oxidation: true, id: true, wraps: false, reorients: false },
  extxyz: { oxidation: true, id: true, wraps: false, reorients: false },
};

function assertSame(orig: Structure, back: Structure, format: keyof typeof CARRIES, what: string): void {
  const c = CARRIES[format];
  const tag = `${format} ${what}`;
  assert.deepEqual(back.species, orig.species, `${tag}: species`);
  assert.equal(back.frac.length, orig.frac.length);
  for (let k = 0; k < orig.frac.length; k++) {
    const d = c.wraps ? pdiff(back.frac[k]!, orig.frac[k]!) : back.frac[k]! - orig.frac[k]!;
    assert.ok(Math.abs(d) < 1e-10, `${tag}: frac[${k}] ${back.frac[k]} vs ${orig.frac[k]}`);
    if (c.wraps) assert.ok(back.frac[k]! >= 0 && back.frac[k]! < 1, `${tag}: frac[${k}] wrapped`);
  }
  if (c.reorients) {
    const p = latticeParameters(orig.lattice), q = latticeParameters(back.lattice);
    for (const key of ['a', 'b', 'c', 'alpha', 'beta', 'gamma'] as const) assert.ok(Math.abs(p[key] - q[key]) < 1e-8, `${tag}: ${key} ${q[key]} vs ${p[key]}`);
    const d0 = distances(orig), d1 = distances(back);
    d0.forEach((d, k) => assert.ok(Math.abs(d - d1[k]!) < 1e-8, `${tag}: distance ${k} ${d1[k]} vs ${d}`));
  } else {
    for (let k = 0; k < 9; k++) assert.ok(Math.abs(back.lattice[k]! - orig.lattice[k]!) < 1e-8, `${tag}: lattice[${k}]`);
  }
  if (c.oxidation && orig.oxidationStates) assert.deepEqual(Array.from(back.oxidationStates ?? []), Array.from(orig.oxidationStates), `${tag}: oxidation states`);
  if (!orig.oxidationStates) assert.equal(back.oxidationStates, null, `${tag}: no oxidation states`);
  if (c.id && orig.info.id !== undefined) assert.equal(back.info.id, orig.info.id, `${tag}: id`);
}

for (const format of ['cif', 'poscar', 'pymatgen-json', 'extxyz'] as const) {
  test(`${format} round trip: cubic CaF2 (12 sites) and skewed triclinic`, () => {
    for (const s of [caf2Conventional(), triclinic()]) {
      const text = writeStructure(s, format);
      const back = readStructure(text, format, { name: `rt.${format}` });
      assertSame(s, back, format, String(s.info.id));
      // The format is also detected from the content alone.
      const auto = readStructure(text);
      assert.deepEqual(auto.species, s.species);
    }
  });

  test(`${format} round trip: first 20 bundled MP records`, () => {
    const recs = bundledFirst20();
    assert.equal(recs.length, 20);
    for (const s of recs) {
      const back = readStructure(writeStructure(s, format), format);
      assertSame(s, back, format, String(s.info.id));
    }
  });
}

test("'json' is pymatgen-json", () => {
  const s = triclinic();
  assert.equal(writeStructure(s, 'json'), writeStructure(s, 'pymatgen-json'));
});

test('pymatgen-json and extxyz keep numeric site properties; POSCAR keeps selective dynamics', () => {
  const s = triclinic();
  for (const format of ['pymatgen-json', 'extxyz'] as const) {
    const back = readStructure(writeStructure(s, format), format);
    assert.deepEqual(back.siteProperties['magmom'], [0, 0.5, 0, 0, 0, 0], format);
  }
  const sd = createStructure({
    lattice: s.lattice,
    species: s.species,
    frac: s.frac,
    siteProperties: { selective_dynamics: s.species.map((_, i) => [i % 2 === 0, true, false]) },
  });
  const text = writeStructure(sd, 'poscar');
  assert.match(text, /^Selective dynamics$/m);
  const back = readStructure(text, 'poscar');
  assert.deepEqual(back.siteProperties['selective_dynamics'], sd.siteProperties['selective_dynamics']);
});

test('POSCAR writer keeps site order and writes separate blocks for non-contiguous species', () => {
  const s = createStructure({
    lattice: [5, 0, 0, 0, 5, 0, 0, 0, 5],
    species: ['F', 'Ca', 'Ca', 'F'],
    frac: [
      [0, 0, 0],
      [0.5, 0.5, 0.5],
      [0.5, 0, 0],
      [0, 0.5, 0],
    ],
  });
  const text = writeStructure(s, 'poscar');
  const lines = text.split('\n');
  assert.deepEqual(lines[5]!.trim().split(/\s+/), ['F', 'Ca', 'F']);
  assert.deepEqual(lines[6]!.trim().split(/\s+/), ['1', '2', '1']);
  assert.equal(lines[7], 'Direct');
  // 16 significant digits
  assert.match(lines[2]!, /5\.000000000000000/);
  const back = readStructure(text, 'poscar');
  assert.deepEqual(back.species, ['F', 'Ca', 'Ca', 'F']);
});

test('CIF writer layout: P1, identity operation, atom types with oxidation numbers', () => {
  const text = writeStructure(caf2Conventional(), 'cif');
  assert.match(text, /^data_caf2-conventional$/m);
  assert.match(text, /^_symmetry_space_group_name_H-M\s+'P 1'$/m);
  assert.match(text, /^_symmetry_Int_Tables_number\s+1$/m);
  assert.match(text, /^_cell_length_a\s+5\.4631000000$/m);
  assert.match(text, /'x, y, z'/);
  assert.match(text, /^ _atom_type_oxidation_number$/m);
  assert.match(text, /^\s+Ca2\+\s+2\.0$/m);
  assert.match(text, /^\s+F-\s+-1\.0$/m);
  assert.match(text, /^\s+Ca2\+\s+Ca1\s+1\s+0\.0\s+0\.0\s+0\.0\s+1$/m);
  const noId = createStructure({ lattice: [3, 0, 0, 0, 3, 0, 0, 0, 3], species: ['Li', 'F'], frac: [0, 0, 0, 0.5, 0.5, 0.5] });
  assert.match(writeStructure(noId, 'cif'), /^data_LiF$/m);
  // a block named after the formula does not become an id
  assert.equal(readStructure(writeStructure(noId, 'cif'), 'cif').info.id, undefined);
});

test('extxyz writer layout (ASE-compatible header)', () => {
  const text = writeStructure(caf2Conventional(), 'extxyz');
  const [count, header] = text.split('\n');
  assert.equal(count, '12');
  assert.match(header!, /^Lattice="5\.4631 0 0 0 5\.4631 0 0 0 5\.4631" Properties=species:S:1:pos:R:3:oxi:R:1 /);
  assert.match(header!, / id="caf2-conventional"/);
  assert.match(header!, / pbc="T T T"$/);
});

test('pymatgen-json writer produces the as_dict() shape', () => {
  const d = JSON.parse(writeStructure(triclinic(), 'pymatgen-json')) as Record<string, any>;
  assert.equal(d['@module'], 'pymatgen.core.structure');
  assert.equal(d['@class'], 'Structure');
  assert.equal(d['charge'], 0);
  assert.deepEqual(Object.keys(d['lattice']), ['matrix', 'pbc', 'a', 'b', 'c', 'alpha', 'beta', 'gamma', 'volume']);
  assert.deepEqual(d['lattice'].matrix[1], [-2.1, 5.6, 0.3]);
  assert.deepEqual(d['lattice'].pbc, [true, true, true]);
  assert.deepEqual(Object.keys(d['sites'][0]), ['species', 'abc', 'xyz', 'label', 'properties']);
  assert.deepEqual(d['sites'][1].species, [{ element: 'Al', oxidation_state: 3, occu: 1 }]);
  assert.equal(d['sites'][2].label, 'F-');
  assert.deepEqual(d['sites'][1].properties, { magmom: 0.5 });
  assert.equal(d['properties'].id, 'tri-1');
});
