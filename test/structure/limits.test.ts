/**
 * Values that are not what they claim, and sizes checked before allocating: every message of the
 * size limits (src/structure/limits.ts) and of the magnitude and type checks of the readers, each
 * naming the file, the line or field, the value and the limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readStructure, readStructures, readStructuresLenient } from '../../src/structure/io.js';
import { decodeContent } from '../../src/structure/records.js';
import { parseSymmetryOperation } from '../../src/structure/cif.js';
import { createStructure } from '../../src/structure/structure.js';
import { buildItems } from '../../src/structure/read-common.js';
import { StructureError } from '../../src/structure/errors.js';
import { DEFAULT_READ_LIMITS, MAX_TEXT_BYTES, MIB, readLimits } from '../../src/structure/limits.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'structures');
const fx = (name: string) => join(fixtures, name);
const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-limits-'));

/** The message of the StructureError that `f` throws. */
function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof StructureError, `not a StructureError: ${String(e)}`);
    return e.message;
  }
  assert.fail('no error');
}

const LIF = (lattice: string, coords = '0 0 0\n0.5 0.5 0.5', mode = 'Direct') => `LiF\n1.0\n${lattice}\nLi F\n1 1\n${mode}\n${coords}\n`;
const CUBE = '4 0 0\n0 4 0\n0 0 4';

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

test('readLimits: defaults, and bad values named with the option', () => {
  assert.deepEqual(readLimits(), { maxSites: 100_000, maxBytes: 256 * MIB });
  assert.deepEqual(readLimits({ maxSites: 7 }), { maxSites: 7, maxBytes: DEFAULT_READ_LIMITS.maxBytes });
  assert.throws(() => readLimits({ maxSites: 0 }), new RangeError('maxSites must be a positive integer, got 0'));
  assert.throws(() => readLimits({ maxSites: 1.5 }), new RangeError('maxSites must be a positive integer, got 1.5'));
  assert.throws(() => readLimits({ maxBytes: -1 }), new RangeError('maxBytes must be a positive integer, got -1'));
  assert.throws(() => readLimits({ maxBytes: MAX_TEXT_BYTES + 1 }), /^RangeError: maxBytes must be at most 536870888 \(512\.0 MiB, the longest text Node\.js can hold\), got 536870889$/);
});

test('POSCAR counts beyond the site limit are refused before anything is allocated, naming the counts and the limit', () => {
  const text = `x\n1\n${CUBE}\nLi F\n1 999999999\nDirect\n0 0 0\n0.5 0.5 0.5\n`;
  assert.equal(
    message(() => readStructure(text, 'poscar', { name: 'POSCAR_huge' })),
    'POSCAR_huge:7: counts: the counts 1 999999999 give 1000000000 sites, over the limit of 100000 sites per structure; raise it with --max-sites (ReadOptions.limits.maxSites) if the structure is genuine',
  );
  // Raised limit: the lines are counted before the arrays are made.
  assert.equal(
    message(() => readStructure(text, 'poscar', { name: 'POSCAR_huge', limits: { maxSites: 2e9 } })),
    'POSCAR_huge:11: expected 1000000000 coordinate lines (counts 1 999999999 on line 7) from line 9, found only 2: the file is truncated',
  );
  const digits = `x\n1\n${CUBE}\nLi F\n1 ${'9'.repeat(30)}\nDirect\n0 0 0\n`;
  assert.match(message(() => readStructure(digits, 'poscar', { name: 'P' })), /^P:7: counts: the counts 1 9{30} give more sites than can be counted, over the limit of 100000 sites per structure;/);
  assert.match(message(() => readStructure(LIF(CUBE), 'poscar', { name: 'P', limits: { maxSites: 1 } })), /^P:7: counts: the counts 1 1 give 2 sites, over the limit of 1 sites per structure/);
});

test('extxyz atom count beyond the site limit', () => {
  const text = `99999999999\nLattice="4 0 0 0 4 0 0 0 4"\nF 0 0 0\n`;
  assert.match(message(() => readStructures(text, 'extxyz', { name: 'big.xyz' })), /^big\.xyz:1: atom count: the atom count 99999999999 would give 99999999999 sites, over the limit of 100000 sites per structure; raise it with --max-sites/);
});

test('CIF expansion beyond the site limit names the loop, the operations and the limit', () => {
  assert.match(
    message(() => readStructure(fx('CaF2_fluorite_Fm-3m.cif'), undefined, { limits: { maxSites: 8 } })),
    /CaF2_fluorite_Fm-3m\.cif:\d+: _atom_site_fract_x: the 2 sites of the atom-site loop expand under 192 symmetry operations to more than 8 sites, the limit per structure; raise it with --max-sites/,
  );
  assert.equal(readStructure(fx('CaF2_fluorite_Fm-3m.cif'), undefined, { limits: { maxSites: 12 } }).species.length, 12, 'a limit the structure meets');
});

test('JSON structures with more sites than the limit', () => {
  const rec = { material_id: 'mp-1', lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], [0.5, 0.5, 0.5]] };
  assert.match(message(() => readStructures(JSON.stringify(rec), 'records', { name: 'r.json', limits: { maxSites: 1 } })), /^r\.json: species: the 2 species give 2 sites, over the limit of 1 sites per structure/);
  const pmg = readFileSync(fx('CaF2_pymatgen.json'), 'utf8');
  assert.match(message(() => readStructures(pmg, 'pymatgen-json', { name: 'p.json', limits: { maxSites: 2 } })), /^p\.json: sites: the \d+ sites give \d+ sites, over the limit of 2 sites per structure/);
});

test('content beyond the byte limit: raw text, a file (refused before it is read) and a gzip stream (refused while inflating)', () => {
  assert.equal(
    message(() => decodeContent('x'.repeat(2000), 'a.cif', { maxBytes: 1024 })),
    'a.cif: content is 2.0 KiB, over the limit of 1 KiB; raise it with --max-file-mb (ReadOptions.limits.maxBytes) if the file is genuine',
  );
  const d = tmp();
  const big = join(d, 'big.cif');
  writeFileSync(big, `data_x\n${'#'.repeat(3 * 1024)}\n`);
  assert.match(message(() => readStructure(big, undefined, { limits: { maxBytes: 2048 } })), /big\.cif: the file is 3\.0 KiB, over the limit of 2 KiB; raise it with --max-file-mb/);
  const bomb = gzipSync(Buffer.alloc(8 * MIB, 0x20));
  assert.equal(
    message(() => decodeContent(bomb, 'bomb.json.gz', { maxBytes: MIB })),
    `bomb.json.gz: gzip content decompresses to more than 1 MiB (from ${(bomb.length / 1024).toFixed(1)} KiB compressed): refused as over the size limit (a gzip bomb?); raise it with --max-file-mb (ReadOptions.limits.maxBytes) if the file is genuine`,
  );
  assert.equal(decodeContent(gzipSync(Buffer.from('abc')), 'ok.gz', { maxBytes: 3 }), 'abc', 'content at the limit is read');
});

// ---------------------------------------------------------------------------------------------
// Magnitudes
// ---------------------------------------------------------------------------------------------

test('a lattice of 1e308 is refused naming the file and the lattice, not reported later as a singular cell', () => {
  const huge = '1e308 0 0\n0 1e308 0\n0 0 1e308';
  assert.equal(
    message(() => readStructure(LIF(huge), 'poscar', { name: 'POSCAR_big' })),
    'POSCAR_big:3: lattice: lattice vector 1 is 1.00000e+308 Å long, over the limit of 10000 Å: a unit mistake or a corrupt number, not a crystal cell',
  );
  const cif = `data_x\n_cell_length_a 1e308\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nF1 0 0 0\n`;
  assert.equal(message(() => readStructure(cif, 'cif', { name: 'big.cif' })), 'big.cif:2: _cell_length_a: cell length 1e+308 Å is over the limit of 10000 Å: a unit mistake or a corrupt number, not a crystal cell');
  const rec = { lattice: [[2e4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['F'], frac_coords: [[0, 0, 0]] };
  assert.match(message(() => readStructure(JSON.stringify(rec), 'records', { name: 'r.json' })), /^r\.json: lattice: lattice vector 1 is 20000\.0 Å long, over the limit of 10000 Å/);
  const xyz = `1\nLattice="4 0 0 0 4 0 0 0 1e5"\nF 0 0 0\n`;
  assert.match(message(() => readStructure(xyz, 'extxyz', { name: 'x.xyz' })), /^x\.xyz:2: Lattice: lattice vector 3 is 100000 Å long, over the limit of 10000 Å/);
});

test('a fractional coordinate of 1e308 is refused naming the file, line and site, not wrapped to 0', () => {
  assert.equal(
    message(() => readStructure(LIF(CUBE, '0 0 0\n1e308 0.5 0.5'), 'poscar', { name: 'POSCAR_frac' })),
    'POSCAR_frac:10: coordinates: site 1 (F) has the fractional coordinate 1e+308, beyond ±1000 cells: a Cartesian value given as fractional or a corrupt number (wrapping it into the cell would lose its digits)',
  );
  assert.match(
    message(() => readStructure(LIF(CUBE, '0 0 0\n2 2 1e6', 'Cartesian'), 'poscar', { name: 'POSCAR_cart' })),
    /^POSCAR_cart:10: coordinates: site 1 \(F\) has the fractional coordinate 250000 \(from its Cartesian position\), beyond ±1000 cells/,
  );
  const cif = readFileSync(fx('CaF2_fluorite_Fm-3m.cif'), 'utf8');
  const bad = cif.replace('F1  F1-  8 c 0.25     0.25', 'F1  F1-  8 c 0.25     1e308');
  assert.notEqual(bad, cif);
  const line = bad.split('\n').findIndex((l) => l.includes('1e308')) + 1;
  // Refused before the symmetry expansion wraps it (1e308 - floor(1e308) is 0).
  assert.equal(
    message(() => readStructure(bad, 'cif', { name: 'f.cif' })),
    `f.cif:${line}: _atom_site_fract_y: site F1 has the fractional coordinate 1e+308, beyond ±1000 cells: a Cartesian value given as fractional or a corrupt number (wrapping it into the cell would lose its digits)`,
  );
  const rec = { lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], [0.5, -2000, 0.5]] };
  assert.match(message(() => readStructure(JSON.stringify(rec), 'records', { name: 'r.json' })), /^r\.json: frac_coords\[1\]: site 1 \(F\) has the fractional coordinate -2000, beyond ±1000 cells/);
  const xyz = `2\nLattice="4 0 0 0 4 0 0 0 4"\nLi 0 0 0\nF 2 2 1e9\n`;
  assert.match(message(() => readStructure(xyz, 'extxyz', { name: 'x.xyz' })), /^x\.xyz:4: pos: site 1 \(F\) has the fractional coordinate 250000000 \(from its Cartesian position\), beyond ±1000 cells/);
});

test('oxidation states beyond ±12 are refused, naming the site\'s line or field', () => {
  const cif = readFileSync(fx('LiF_P1_oxidation.cif'), 'utf8').replace(/^(\s*F-\s+)-1\.0$/m, '$1-99.0');
  assert.notEqual(cif, readFileSync(fx('LiF_P1_oxidation.cif'), 'utf8'));
  const fLine = cif.split('\n').findIndex((l) => /^\s*F-\s+F\d/.test(l)) + 1;
  assert.ok(fLine > 0);
  assert.equal(message(() => readStructure(cif, 'cif', { name: 'o.cif' })), `o.cif:${fLine}: _atom_site_type_symbol: oxidation state of site 1 (F) is -99, beyond ±12: not an oxidation state`);
  const xyz = `1\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3:oxi:R:1\nF 0 0 0 40\n`;
  assert.equal(message(() => readStructure(xyz, 'extxyz', { name: 'x.xyz' })), 'x.xyz:3: oxi: oxidation state of site 0 (F) is 40, beyond ±12: not an oxidation state');
  const rec = { lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], [0.5, 0.5, 0.5]], oxidation_states: [1e300, -1] };
  assert.match(message(() => readStructure(JSON.stringify(rec), 'records', { name: 'r.json' })), /^r\.json: oxidation_states\[0\]: oxidation state of site 0 \(Li\) is 1e\+300, beyond ±12: not an oxidation state$/);
});

test('CIF symmetry operations: non-integral coefficients and far translations are refused', () => {
  assert.throws(() => parseSymmetryOperation('x/2, y, z'), /cannot parse symmetry operation "x\/2, y, z": the coefficient 0\.5 of x in component 1 is not an integer, so the operation does not map the lattice onto itself/);
  assert.throws(() => parseSymmetryOperation('x, y, z+100000'), /cannot parse symmetry operation "x, y, z\+100000": the translation 100000 of component 3 is beyond ±1000 cells/);
});

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

const REC = { lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], [0.5, 0.5, 0.5]] };
const rec = (extra: Record<string, unknown>) => message(() => readStructure(JSON.stringify({ ...REC, ...extra }), 'records', { name: 'r.json' }));

test('a material_id that is an object is refused, not stored as [object Object]', () => {
  assert.equal(rec({ material_id: { a: 1 } }), 'r.json: material_id: expected an id (a string or a number), got an object');
  assert.equal(rec({ material_id: ['mp-1'] }), 'r.json: material_id: expected an id (a string or a number), got an array of 1');
  assert.equal(rec({ id: true }), 'r.json: id: expected an id (a string or a number), got true');
  assert.equal(rec({ material_id: ' ' }), 'r.json: material_id: the id is empty');
  assert.match(rec({ material_id: 'm'.repeat(300) }), /^r\.json: material_id: the id is 300 characters long, over the limit of 256/);
  assert.equal(rec({ material_id: 'a\nb' }), 'r.json: material_id: the id "a\\nb" holds a line break or NUL character');
  assert.equal(rec({ source: { dataset: 'x', orig_id: { v: 1 } } }), 'r.json: source.orig_id: expected an id (a string or a number), got an object');
  assert.equal(readStructure(JSON.stringify({ ...REC, material_id: 241 }), 'records').info.id, '241', 'a numeric id is its decimal text');
});

test('numeric record fields of the wrong type are refused', () => {
  assert.equal(rec({ e_above_hull: '0.1' }), 'r.json: e_above_hull: expected a number, got "0.1"');
  assert.equal(rec({ band_gap: { v: 1 } }), 'r.json: band_gap: expected a number, got an object');
  assert.equal(readStructure(JSON.stringify({ ...REC, e_above_hull: null }), 'records').info['e_above_hull'], null, 'null stays allowed');
});

test('pymatgen JSON: properties.id, properties and charge of the wrong type', () => {
  const d = JSON.parse(readFileSync(fx('CaF2_pymatgen.json'), 'utf8')) as Record<string, unknown>;
  const pmg = (change: Record<string, unknown>) => message(() => readStructure(JSON.stringify({ ...d, ...change }), 'pymatgen-json', { name: 'p.json' }));
  assert.equal(pmg({ properties: { id: { x: 1 } } }), 'p.json: properties.id: expected an id (a string or a number), got an object');
  assert.equal(pmg({ properties: [1] }), 'p.json: properties: expected an object, got an array of 1');
  assert.equal(pmg({ charge: '2' }), 'p.json: charge: expected a number, got "2"');
});

test('MP documents: summary fields of the wrong type and an id object without its string', () => {
  const doc = JSON.parse(readFileSync(fx('mp-2741_summary.json'), 'utf8')) as Record<string, unknown>;
  const mp = (change: Record<string, unknown>) => message(() => readStructure(JSON.stringify({ ...doc, ...change }), 'mp-json', { name: 'd.json' }));
  assert.equal(mp({ material_id: { '@class': 'MPID' } }), 'd.json: material_id: expected a material id string, got an object');
  assert.equal(mp({ band_gap: 'wide' }), 'd.json: band_gap: expected a number or null, got "wide"');
  assert.equal(mp({ is_stable: 1 }), 'd.json: is_stable: expected a boolean or null, got 1');
  assert.equal(readStructure(JSON.stringify({ ...doc, material_id: { '@class': 'MPID', string: 'mp-9' } }), 'mp-json').info.id, 'mp-9');
});

test('extxyz id that is a flag or a list is refused', () => {
  const frame = (kv: string) => `1\nLattice="4 0 0 0 4 0 0 0 4" ${kv}\nF 0 0 0\n`;
  assert.equal(message(() => readStructure(frame('id=T'), 'extxyz', { name: 'x.xyz' })), 'x.xyz:2: id: expected an id (a string or a number), got true');
  assert.equal(message(() => readStructure(frame('id="1 2 3"'), 'extxyz', { name: 'x.xyz' })), 'x.xyz:2: id: expected an id (a string or a number), got [1,2,3]');
  assert.equal(readStructure(frame('id=241'), 'extxyz').info.id, '241');
});

test('createStructure refuses an info.id that is not a string', () => {
  assert.throws(
    () => createStructure({ ...{ lattice: [4, 0, 0, 0, 4, 0, 0, 0, 4], species: ['F'], frac: [0, 0, 0] }, info: { id: 5 as unknown as string } }),
    new StructureError('info.id must be a string, got number', { field: 'id' }),
  );
});

// ---------------------------------------------------------------------------------------------
// Isolation
// ---------------------------------------------------------------------------------------------

test('lenient reading: an unexpected exception from one record becomes that record\'s error and the others go on', () => {
  const items = buildItems(
    [1, 2, 3],
    true,
    (n) => {
      if (n === 2) throw new TypeError('boom');
      return createStructure({ lattice: [4, 0, 0, 0, 4, 0, 0, 0, 4], species: ['F'], frac: [0, 0, 0] });
    },
    (n) => `rec-${n}`,
    (_n, k) => ({ file: 'f.json', field: `[${k}]` }),
  );
  assert.deepEqual(items.map((i) => [i.index, i.structure !== undefined, i.id]), [[0, true, undefined], [1, false, 'rec-2'], [2, true, undefined]]);
  assert.equal(items[1]!.error!.message, 'f.json: [1]: unexpected TypeError: boom (while reading this input; please report it)');
  assert.throws(() => buildItems([2], false, () => { throw new TypeError('boom'); }, () => undefined), TypeError, 'strict reading lets it through');
});

test('a multi-record file with a huge record count: each bad record is its own error', () => {
  const good = { ...REC, material_id: 'ok' };
  const lines = [good, { ...REC, material_id: { x: 1 } }, { ...REC, lattice: [[1e9, 0, 0], [0, 4, 0], [0, 0, 4]] }].map((r) => JSON.stringify(r)).join('\n');
  const r = readStructuresLenient(lines, 'records', { name: 'd.jsonl' });
  assert.deepEqual(r.structures.map((s) => s.index), [0]);
  assert.deepEqual(r.errors.map((e) => [e.index, e.message]), [
    [1, 'd.jsonl:2: material_id: expected an id (a string or a number), got an object'],
    [2, 'd.jsonl:3: lattice: lattice vector 1 is 1.00000e+9 Å long, over the limit of 10000 Å: a unit mistake or a corrupt number, not a crystal cell'],
  ]);
});

test('CIF expansion of a large cell: every site kept, and coincident sites found across the cell boundary (binned search)', () => {
  const n = 16; // 4096 sites on a 2 Å grid
  const a = 2 * n;
  const head = ['data_big', `_cell_length_a ${a}`, `_cell_length_b ${a}`, `_cell_length_c ${a}`, '_cell_angle_alpha 90', '_cell_angle_beta 90', '_cell_angle_gamma 90', 'loop_', '_atom_site_label', '_atom_site_type_symbol', '_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z'];
  const rows: string[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let l = 0; l < n; l++) rows.push(`F${rows.length} F ${i / n} ${j / n} ${l / n}`);
  const s = readStructure([...head, ...rows].join('\n') + '\n', 'cif');
  assert.equal(s.species.length, n ** 3);
  // 0.9999 × 32 Å is 0.0032 Å from site F0 at the origin, through the periodic boundary.
  const text = [...head, ...rows, 'Cl1 Cl 0.9999 0 0'].join('\n') + '\n';
  assert.equal(
    message(() => readStructure(text, 'cif', { name: 'big.cif' })),
    `big.cif:${head.length + rows.length + 1}: sites F0 (F, line ${head.length + 1}) and Cl1 (Cl) occupy the same position (0.9999, 0.0000, 0.0000): disordered/mixed site; fracflow screens ordered structures only`,
  );
});
