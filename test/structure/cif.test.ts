import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStructure, readStructures, readStructuresLenient } from '../../src/structure/io.js';
import { parseSymmetryOperation, readCif } from '../../src/structure/cif.js';
import { StructureError } from '../../src/structure/errors.js';
import { cartesian, composition, type Structure } from '../../src/structure/structure.js';
import { latticeParameters } from '../../src/structure/lattice.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'structures');
const fx = (name: string) => join(fixtures, name);

/** The 192 operations of Fm-3m: 48 signed permutations × 4 face-centring translations. */
function fm3mOperations(style: 'spaced' | 'compact'): string[] {
  const perms = [
    ['x', 'y', 'z'],
    ['x', 'z', 'y'],
    ['y', 'x', 'z'],
    ['y', 'z', 'x'],
    ['z', 'x', 'y'],
    ['z', 'y', 'x'],
  ];
  const centrings = [
    ['', '', ''],
    ['', '1/2', '1/2'],
    ['1/2', '', '1/2'],
    ['1/2', '1/2', ''],
  ];
  const ops: string[] = [];
  for (const t of centrings)
    for (const p of perms)
      for (let signs = 0; signs < 8; signs++) {
        const comps = p.map((v, r) => {
          const neg = (signs >> r) & 1;
          if (style === 'compact') return (t[r] ? `${t[r]}${neg ? '-' : '+'}` : neg ? '-' : '') + v.toUpperCase();
          return `${neg ? '-' : ''}${v}${t[r] ? `+${t[r]}` : ''}`;
        });
        ops.push(comps.join(style === 'compact' ? ',' : ', '));
      }
  return ops;
}

function fluoriteCif(ops: string[], extra = ''): string {
  return [
    'data_fluorite_generated',
    '_cell_length_a 5.4631',
    '_cell_length_b 5.4631',
    '_cell_length_c 5.4631',
    '_cell_angle_alpha 90',
    '_cell_angle_beta 90',
    '_cell_angle_gamma 90',
    "_symmetry_space_group_name_H-M 'F m -3 m'",
    'loop_',
    '_space_group_symop.operation_xyz',
    ...ops.map((o) => `'${o}'`),
    'loop_',
    '_atom_site_label',
    '_atom_site_fract_x',
    '_atom_site_fract_y',
    '_atom_site_fract_z',
    'Ca1 0 0 0',
    'F1 0.25 0.25 0.25',
    extra,
  ].join('\n');
}

function assertFluorite(s: Structure): void {
  assert.deepEqual([...composition(s)], [
    ['Ca', 4],
    ['F', 8],
  ]);
  const p = latticeParameters(s.lattice);
  assert.ok(Math.abs(p.a - 5.4631) < 1e-12 && Math.abs(p.b - 5.4631) < 1e-12 && Math.abs(p.c - 5.4631) < 1e-12);
  assert.ok(Math.abs(p.alpha - 90) < 1e-9 && Math.abs(p.beta - 90) < 1e-9 && Math.abs(p.gamma - 90) < 1e-9);
  // Ca on the fcc positions, F on the 8 (±1/4, ±1/4, ±1/4) positions
  const key = (i: number) => Array.from(s.frac.subarray(3 * i, 3 * i + 3), (x) => Math.round(x * 4) % 4).join(',');
  const ca = s.species.map((e, i) => (e === 'Ca' ? key(i) : null)).filter((x) => x !== null).sort();
  const f = s.species.map((e, i) => (e === 'F' ? key(i) : null)).filter((x) => x !== null).sort();
  assert.deepEqual(ca, ['0,0,0', '0,2,2', '2,0,2', '2,2,0']);
  assert.deepEqual(f, ['1,1,1', '1,1,3', '1,3,1', '1,3,3', '3,1,1', '3,1,3', '3,3,1', '3,3,3']);
  for (let k = 0; k < s.frac.length; k++) assert.ok(s.frac[k]! >= 0 && s.frac[k]! < 1);
  // shortest Ca-F distance a·√3/4
  const c = cartesian(s);
  let best = Infinity;
  for (let i = 0; i < 4; i++) for (let j = 4; j < 12; j++) best = Math.min(best, Math.hypot(c[3 * i]! - c[3 * j]!, c[3 * i + 1]! - c[3 * j + 1]!, c[3 * i + 2]! - c[3 * j + 2]!));
  assert.ok(Math.abs(best - (5.4631 * Math.sqrt(3)) / 4) < 1e-9);
}

test('fluorite fixture (Fm-3m, 192 operations) expands to exactly 4 Ca + 8 F with oxidation states', () => {
  const text = readFileSync(fx('CaF2_fluorite_Fm-3m.cif'), 'utf8');
  assert.equal((text.match(/^\s*\d+\s+'[^']+'$/gm) ?? []).length, 192);
  const s = readStructure(fx('CaF2_fluorite_Fm-3m.cif'));
  assertFluorite(s);
  // site order: asymmetric sites in file order, images in operation order; the first image is the site itself
  assert.deepEqual(s.species, ['Ca', 'Ca', 'Ca', 'Ca', 'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F']);
  assert.deepEqual(Array.from(s.frac.subarray(0, 3)), [0, 0, 0]);
  assert.deepEqual(Array.from(s.frac.subarray(12, 15)), [0.25, 0.25, 0.25]);
  assert.deepEqual(Array.from(s.oxidationStates!), [2, 2, 2, 2, -1, -1, -1, -1, -1, -1, -1, -1]);
  assert.equal(s.info.id, 'CaF2_fluorite');
  assert.equal(s.info['spacegroup'], 'F m -3 m');
  assert.equal(s.info.source, fx('CaF2_fluorite_Fm-3m.cif'));
});

test('operations generated programmatically, in spaced and compact (1/2+X) styles, DDLm tag', () => {
  for (const style of ['spaced', 'compact'] as const) {
    const ops = fm3mOperations(style);
    assert.equal(new Set(ops).size, 192);
    assertFluorite(readStructure(fluoriteCif(ops), 'cif'));
  }
});

test('expansion order is deterministic: each asymmetric site, then its images in operation order', () => {
  const s = readCif(fluoriteCif(fm3mOperations('spaced')))[0]!;
  const f = Array.from(s.frac.subarray(12), (x) => x);
  // images of F (1/4,1/4,1/4) under x,y,z ; x,y,-z ; x,-y,z ; x,-y,-z ; -x,y,z ... (the generator's sign order)
  assert.deepEqual(f.slice(0, 9), [0.25, 0.25, 0.25, 0.75, 0.25, 0.25, 0.25, 0.75, 0.25]);
});

test('P1 CIF with _atom_type_oxidation_number (pymatgen CifWriter layout)', () => {
  const s = readStructure(fx('LiF_P1_oxidation.cif'));
  assert.deepEqual(s.species, ['Li', 'F']);
  assert.deepEqual(Array.from(s.oxidationStates!), [1, -1]);
  assert.deepEqual(Array.from(s.frac), [0, 0, 0, 0.5, 0.5, 0.5]);
  const p = latticeParameters(s.lattice);
  assert.ok(Math.abs(p.a - 2.887437) < 1e-9 && Math.abs(p.alpha - 60) < 1e-9);
  // block name = reduced formula → not an id; readStructure uses the file stem
  assert.equal(s.info.id, 'LiF_P1_oxidation');
  assert.equal(s.info['cif_block'], 'LiF');
});

test('CIF with _space_group_symop_operation_xyz (rutile MgF2, P4_2/mnm)', () => {
  const s = readStructure(fx('MgF2_rutile_symop.cif'));
  assert.deepEqual([...composition(s)], [
    ['Mg', 2],
    ['F', 4],
  ]);
  const p = latticeParameters(s.lattice);
  assert.ok(Math.abs(p.a - 4.621) < 1e-12 && Math.abs(p.c - 3.052) < 1e-12);
  const fs = [];
  for (let i = 2; i < 6; i++) fs.push(Array.from(s.frac.subarray(3 * i, 3 * i + 3), (x) => x.toFixed(3)).join(' '));
  assert.deepEqual(fs.sort(), ['0.197 0.803 0.500', '0.303 0.303 0.000', '0.697 0.697 0.000', '0.803 0.197 0.500']);
  assert.equal(s.oxidationStates, null);
});

test('multi-block CIF: a block without sites is skipped, the others are read in order', () => {
  const all = readStructures(fx('multi_block.cif'));
  assert.equal(all.length, 2);
  assert.deepEqual(all.map((s) => s.info.id), ['mp-1138', 'mp-463']);
  assert.deepEqual(all.map((s) => s.species.join(' ')), ['Li F', 'K F']);
  assert.equal(readStructure(fx('multi_block.cif')).info.id, 'mp-1138');
});

test('tokenizer: comments, quotes closed only before whitespace, text fields, s.u., ? and .', () => {
  const text = `# leading comment
data_tok_test   # comment after a block header
_publ_section_title
;
 A title; with 'quotes' and "double quotes"
 _not_a_tag loop_ data_not_a_block
;
_journal_name_full 'O'Brien's journal'
_chemical_name_common "a"b c"
_cell_length_a 4.0(12)
_cell_length_b 4.00e0
_cell_length_c .4e1
_cell_angle_alpha 90.0(1)
_cell_angle_beta 90
_cell_angle_gamma 90.
_symmetry_space_group_name_H-M ?
loop_
_atom_site_label _atom_site_type_symbol _atom_site_fract_x _atom_site_fract_y _atom_site_fract_z _atom_site_occupancy
Na1 Na+ 0.0 0.0 0.0 ?
Cl1 Cl- 0.5(1) 0.5 0.5 1.0000(2)
`;
  const s = readStructure(text);
  assert.deepEqual(s.species, ['Na', 'Cl']);
  assert.deepEqual(Array.from(s.oxidationStates!), [1, -1]);
  assert.equal(latticeParameters(s.lattice).a, 4);
  assert.equal(s.info.id, 'tok_test');
});

test('Cartesian _atom_site_Cartn_x/y/z (CIF default frame: a along x)', () => {
  const text = `data_cart
_cell_length_a 4.0
_cell_length_b 5.0
_cell_length_c 6.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
loop_
_atom_site_type_symbol _atom_site_Cartn_x _atom_site_Cartn_y _atom_site_Cartn_z
Li 0 0 0
F 2.0 0 3.0
F -1.25 2.1650635094610966 0
`;
  const s = readStructure(text);
  const f = Array.from(s.frac, (x) => Math.round(x * 1e9) / 1e9);
  assert.deepEqual(f, [0, 0, 0, 0.5, 0, 0.5, 0, 0.5, 0]);
});

test('parseSymmetryOperation handles common spellings', () => {
  const cases: [string, number[], number[]][] = [
    ['x, y, z', [1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0]],
    ['-x+1/2, y, -z', [-1, 0, 0, 0, 1, 0, 0, 0, -1], [0.5, 0, 0]],
    ['x-y, x, z+1/2', [1, -1, 0, 1, 0, 0, 0, 0, 1], [0, 0, 0.5]],
    ['1/2+X,0.5-y,Z', [1, 0, 0, 0, -1, 0, 0, 0, 1], [0.5, 0.5, 0]],
    ['+y, -x+y, -z+2/3', [0, 1, 0, -1, 1, 0, 0, 0, -1], [0, 0, 2 / 3]],
  ];
  for (const [op, rot, t] of cases) {
    const r = parseSymmetryOperation(op);
    assert.deepEqual(r.rotation.map((v) => v + 0), rot, op);
    assert.deepEqual(r.translation, t, op);
  }
  assert.throws(() => parseSymmetryOperation('x, y'), /cannot parse symmetry operation "x, y": expected 3 comma-separated components/);
  assert.throws(() => parseSymmetryOperation('x, x, z'), /determinant 0/);
  assert.throws(() => parseSymmetryOperation('x, y, q'), /cannot parse symmetry operation/);
});

// ---------------------------------------------------------------------------------------------
// Errors: every message names the file, the line and the tag/cause
// ---------------------------------------------------------------------------------------------

const GOOD = `data_good
_cell_length_a 4.0
_cell_length_b 4.0
_cell_length_c 4.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Na1 Na 0.0 0.0 0.0 1.0
F1 F 0.5 0.5 0.5 1.0
`;

function bad(text: string, re: RegExp): void {
  assert.throws(
    () => readStructures(text, 'cif', { name: 'bad.cif' }),
    (e: unknown) => {
      assert.ok(e instanceof StructureError, `expected a StructureError, got ${String(e)}`);
      assert.match(e.message, re);
      return true;
    },
  );
}

test('sanity: the base text of the error tests reads', () => {
  assert.equal(readStructure(GOOD, 'cif').species.length, 2);
});

test('error: loop truncated (value count not a multiple of the columns)', () => {
  bad(GOOD.replace('F1 F 0.5 0.5 0.5 1.0\n', 'F1 F 0.5 0.5\n'), /^bad\.cif:8: _atom_site_label: loop of 6 columns .* has 10 values, not a multiple of 6: the loop is truncated/);
});

test('error: non-numeric cell length', () => {
  bad(GOOD.replace('_cell_length_a 4.0', '_cell_length_a 5.4x'), /^bad\.cif:2: _cell_length_a: not a number: "5\.4x"$/);
});

test('error: non-numeric coordinate', () => {
  bad(GOOD.replace('F1 F 0.5 0.5 0.5', 'F1 F 0.5 abc 0.5'), /^bad\.cif:16: _atom_site_fract_y: not a number: "abc"$/);
});

test('error: zero cell volume', () => {
  bad(GOOD.replace(/_cell_angle_(alpha|beta|gamma) 90/g, '_cell_angle_$1 120'), /^bad\.cif:2: _cell_length_a: cell volume is zero/);
});

test('error: bad cell length and angle', () => {
  bad(GOOD.replace('_cell_length_b 4.0', '_cell_length_b -4.0'), /^bad\.cif:3: _cell_length_b: cell length must be positive, got -4/);
  bad(GOOD.replace('_cell_angle_beta 90', '_cell_angle_beta 180'), /^bad\.cif:6: _cell_angle_beta: cell angle must be between 0 and 180 degrees/);
  bad(GOOD.replace('_cell_length_c 4.0\n', ''), /^bad\.cif:1: _cell_length_c: missing _cell_length_c$/);
  bad(GOOD.replace('_cell_length_c 4.0', '_cell_length_c ?'), /^bad\.cif:4: _cell_length_c: _cell_length_c is unknown/);
});

test('error: unknown element', () => {
  bad(GOOD.replace('F1 F 0.5', 'Xx1 Xx 0.5'), /^bad\.cif:16: _atom_site_type_symbol: unknown element in "Xx" at site Xx1$/);
});

test('error: two sites closer than 0.5 Å', () => {
  bad(GOOD.replace('F1 F 0.5 0.5 0.5', 'F1 F 0.05 0.0 0.0'), /^bad\.cif:16: sites 0 \(Na, line 15\) and 1 \(F, line 16\) are 0\.2000 Å apart \(closer than 0\.5 Å\): overlapping atoms \(sites Na1 and F1/);
});

test('error: partial occupancy, names site label and occupancy', () => {
  bad(GOOD.replace('Na1 Na 0.0 0.0 0.0 1.0', 'Na1 Na 0.0 0.0 0.0 0.5'), /^bad\.cif:15: _atom_site_occupancy: partial occupancy \(0\.5\) at site Na1: fracflow screens ordered structures only$/);
  bad(GOOD.replace('F1 F 0.5 0.5 0.5 1.0', 'F1 F 0.5 0.5 0.5 1.2(1)'), /^bad\.cif:16: _atom_site_occupancy: occupancy 1\.2 > 1 at site F1/);
});

test('error: disorder: two different atoms on the same position', () => {
  bad(GOOD + 'K1 K 0.0 0.0 0.0 1.0\n', /^bad\.cif:17: sites Na1 \(Na, line 15\) and K1 \(K\) occupy the same position \(0\.0000, 0\.0000, 0\.0000\): disordered\/mixed site/);
});

test('error: space group given but no symmetry operations', () => {
  bad(GOOD.replace('data_good', "data_good\n_symmetry_space_group_name_H-M 'F m -3 m'"), /^bad\.cif:2: _symmetry_space_group_name_h-m: space group given \(F m -3 m\) but no symmetry operations; expand the CIF with its operations/);
  bad(GOOD.replace('data_good', 'data_good\n_space_group_IT_number 225'), /space group given \(number 225\) but no symmetry operations/);
  // P 1 without operations is fine
  assert.equal(readStructure(GOOD.replace('data_good', "data_good\n_symmetry_space_group_name_H-M 'P 1'"), 'cif').species.length, 2);
});

test('error: unparseable symmetry operation names its line', () => {
  bad(GOOD.replace('loop_', "loop_\n_symmetry_equiv_pos_as_xyz\n'x, y, z'\n'x, y, w'\nloop_"), /^bad\.cif:11: _symmetry_equiv_pos_as_xyz: cannot parse symmetry operation "x, y, w"/);
});

test('error: syntax: unterminated quote, unterminated text field, value without tag, no data block', () => {
  bad(GOOD.replace("data_good", "data_good\n_journal_name_full 'unterminated"), /^bad\.cif:2: unterminated single-quoted value/);
  bad(GOOD.replace('data_good', 'data_good\n_publ_section_title\n;\nnever closed'), /^bad\.cif:3: unterminated text field: the ';' field opened on line 3 is never closed$/);
  bad(GOOD.replace('_cell_length_a 4.0', '_cell_length_a 4.0 4.1'), /^bad\.cif:2: value "4\.1" without a tag$/);
  bad('_cell_length_a 4.0\n', /^bad\.cif:1: "_cell_length_a" appears before the first data_ block$/);
  bad('data_empty\n_cell_length_a 4.0\n', /^bad\.cif:1: no data block has an atom-site loop/);
  bad(GOOD.replace('_cell_length_a 4.0', '_cell_length_a'), /^bad\.cif:2: _cell_length_a: tag _cell_length_a has no value/);
});

test('error: oxidation states on some sites only', () => {
  bad(GOOD.replace('Na1 Na 0.0', 'Na1 Na+ 0.0'), /^bad\.cif:16: _atom_site_type_symbol: site F1 has no oxidation state while other sites do/);
});

test('lenient reading reports a bad block and keeps the good ones', () => {
  const text = GOOD + '\n' + GOOD.replace('data_good', 'data_bad').replace('Na1 Na 0.0 0.0 0.0 1.0', 'Na1 Na 0.0 0.0 0.0 0.5') + '\n' + GOOD.replace('data_good', 'data_good2');
  const r = readStructuresLenient(text, 'cif', { name: 'three.cif' });
  assert.deepEqual(r.structures.map((x) => [x.index, x.structure.info.id]), [
    [0, 'good'],
    [2, 'good2'],
  ]);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.index, 1);
  assert.equal(r.errors[0]!.id, 'bad');
  assert.match(r.errors[0]!.message, /^three\.cif:32: _atom_site_occupancy: partial occupancy \(0\.5\) at site Na1/);
  assert.throws(() => readStructures(text, 'cif', { name: 'three.cif' }), /partial occupancy/);
});
