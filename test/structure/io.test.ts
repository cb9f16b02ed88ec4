import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  detectFormat,
  readStructure,
  readStructures,
  readStructuresLenient,
  writeStructure,
  STRUCTURE_FORMATS,
  WRITE_FORMATS,
  type WriteFormat,
} from '../../src/structure/io.js';
import { StructureError } from '../../src/structure/errors.js';
import { createStructure } from '../../src/structure/structure.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'structures');
const fx = (name: string) => join(fixtures, name);
const text = (name: string) => readFileSync(fx(name), 'utf8');

function throwsStructureError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StructureError, `expected a StructureError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

test('format lists', () => {
  assert.deepEqual([...STRUCTURE_FORMATS], ['cif', 'poscar', 'pymatgen-json', 'mp-json', 'records', 'extxyz']);
  assert.deepEqual([...WRITE_FORMATS], ['cif', 'poscar', 'pymatgen-json', 'extxyz', 'json']);
});

test('detectFormat by file name', () => {
  assert.equal(detectFormat('x/CaF2.cif'), 'cif');
  assert.equal(detectFormat('CaF2.CIF'), 'cif');
  assert.equal(detectFormat('CaF2.cif.gz'), 'cif');
  assert.equal(detectFormat('runs/POSCAR'), 'poscar');
  assert.equal(detectFormat('POSCAR_relaxed'), 'poscar');
  assert.equal(detectFormat('CONTCAR'), 'poscar');
  assert.equal(detectFormat('contcar.gz'), 'poscar');
  assert.equal(detectFormat('CaF2.vasp'), 'poscar');
  assert.equal(detectFormat('CaF2.poscar'), 'poscar');
  assert.equal(detectFormat('traj.extxyz'), 'extxyz');
  assert.equal(detectFormat('traj.xyz'), 'extxyz');
});

test('detectFormat for JSON names looks at the content', () => {
  assert.equal(detectFormat('a.json', text('CaF2_pymatgen.json')), 'pymatgen-json');
  assert.equal(detectFormat('a.json', text('mp-2741_summary.json')), 'mp-json');
  assert.equal(detectFormat('a.json', text('mp_api_envelope.json')), 'mp-json');
  assert.equal(detectFormat(join(root, 'data', 'fluoride_conductors_curated.json')), 'records');
  assert.equal(detectFormat(join(root, 'data', 'mp_fluorides.jsonl.gz')), 'records');
  assert.equal(detectFormat(join(root, 'data', 'perov5_fluorine_perovskites.jsonl.gz')), 'records');
  const gz = gzipSync(Buffer.from(text('mp-2741_summary.json')));
  assert.equal(detectFormat('doc.json.gz', gz), 'mp-json');
  // pymatgen dict without @class, recognised by lattice.matrix + sites
  const d = JSON.parse(text('CaF2_pymatgen.json')) as Record<string, unknown>;
  delete d['@class'];
  delete d['@module'];
  assert.equal(detectFormat('s.json', JSON.stringify(d)), 'pymatgen-json');
  assert.equal(detectFormat('list.json', `[${JSON.stringify(d)}]`), 'pymatgen-json');
  throwsStructureError(() => detectFormat('x.json', '{"foo": 1}'), /^x\.json: JSON content matches none of the supported layouts/);
  throwsStructureError(() => detectFormat('x.json', '{"foo": '), /^x\.json:1: invalid JSON at line 1, column 9/);
  throwsStructureError(() => detectFormat('x.json'), /^x\.json: cannot tell which JSON layout/);
});

test('detectFormat by content', () => {
  assert.equal(detectFormat('', text('CaF2_fluorite_Fm-3m.cif')), 'cif');
  assert.equal(detectFormat('', text('multi_block.cif')), 'cif');
  assert.equal(detectFormat('', text('frames.extxyz')), 'extxyz');
  assert.equal(detectFormat('', text('POSCAR_CaF2_cartesian_sd')), 'poscar');
  assert.equal(detectFormat('', text('CONTCAR_LiF_volume')), 'poscar');
  assert.equal(detectFormat('structure.txt', text('CaF2_pymatgen.json')), 'pymatgen-json');
  assert.equal(detectFormat('', text('mp_api_envelope.json')), 'mp-json');
  assert.equal(detectFormat('', readFileSync(join(root, 'data', 'mp_fluorides.jsonl.gz'))), 'records');
  // a POSCAR whose comment line is a number is still a POSCAR
  assert.equal(detectFormat('', '42\n1.0\n4 0 0\n0 4 0\n0 0 4\nNa\n1\nDirect\n0 0 0\n'), 'poscar');
  // a plain XYZ (atom count, no Lattice) is extxyz, so that the reader can say what is missing
  assert.equal(detectFormat('', '1\nplain\nNa 0 0 0\n'), 'extxyz');
  // existing file without a known extension: content decides
  assert.equal(detectFormat(fx('LiF_P1_no_extension')), 'cif');
  assert.equal(readStructure(fx('LiF_P1_no_extension')).info.id, 'LiF_P1_no_extension');
  throwsStructureError(() => detectFormat('', 'hello\nworld\n'), /^<string>: cannot detect the structure format; supported formats: cif .*poscar .*extxyz .*pymatgen-json, mp-json and records/);
  throwsStructureError(() => detectFormat('notes.txt', 'hello\nworld\n'), /^notes\.txt: cannot detect the structure format/);
  throwsStructureError(() => detectFormat('unknown.dat'), /^unknown\.dat: cannot detect the structure format from the name alone; supported formats/);
});

test('readStructures: path vs text, missing files, labels', () => {
  throwsStructureError(() => readStructures('does/not/exist.cif'), /^does\/not\/exist\.cif: file not found: does\/not\/exist\.cif$/);
  throwsStructureError(() => readStructures('POSCAR'), /^POSCAR: file not found: POSCAR$/);
  throwsStructureError(() => readStructures(fixtures), /not a regular file/);
  // text (with newlines) is parsed, labelled <string> or options.name
  const badCif = 'data_x\n_cell_length_a 4x\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nNa1 0 0 0\n';
  throwsStructureError(() => readStructures(badCif, 'cif'), /^<string>:2: _cell_length_a: not a number: "4x"$/);
  throwsStructureError(() => readStructures(badCif, undefined, { name: 'mine.cif' }), /^mine\.cif:2: /);
  // a single-line JSON document is text, not a path
  const one = JSON.stringify(JSON.parse(text('CaF2_pymatgen.json')));
  assert.equal(readStructure(one).species.length, 3);
  // Buffers are accepted (and gunzipped)
  assert.equal(readStructures(Buffer.from(text('frames.extxyz')), 'extxyz').length, 2);
  assert.equal(readStructures(gzipSync(Buffer.from(text('multi_block.cif'))), undefined, { name: 'm.cif.gz' }).length, 2);
  // the format can be given explicitly
  assert.equal(readStructures(fx('CaF2_vasp4.vasp'), 'poscar', { species: ['Ca', 'F'] }).length, 1);
});

test('readStructure: info.source = path, info.file = path, id = file stem when missing', () => {
  const s = readStructure(fx('CaF2_fluorite_Fm-3m.cif'));
  assert.equal(s.info.source, fx('CaF2_fluorite_Fm-3m.cif'));
  assert.equal(s.info['file'], fx('CaF2_fluorite_Fm-3m.cif'));
  const p = readStructure(fx('POSCAR_CaF2_cartesian_sd'));
  assert.equal(p.info.id, 'POSCAR_CaF2_cartesian_sd');
  // ids from the file win over the stem
  assert.equal(readStructure(fx('mp-2741_summary.json')).info.id, 'mp-2741');
  // formats that carry a source (bundled records: dataset tag) keep it
  assert.equal(readStructure(join(root, 'data', 'mp_fluorides.jsonl.gz')).info.source, 'matminer-dielectric_constant(Petousis2017)');
  // from text: no source, no invented id
  const t = readStructure(text('CaF2_vasp4.vasp'), 'poscar', { species: ['Ca', 'F'] });
  assert.equal(t.info.source, undefined);
  assert.equal(t.info.id, undefined);
  throwsStructureError(() => readStructure('{"data": []}', 'mp-json'), /^<string>: the file holds no structure$/);
});

test('readStructuresLenient: file-level errors still throw', () => {
  throwsStructureError(() => readStructuresLenient('{"records": [', 'records', { name: 'r.json' }), /^r\.json:1: invalid JSON/);
  const r = readStructuresLenient(join(root, 'data', 'mp_fluorides.jsonl.gz'));
  assert.equal(r.structures.length, 450);
  assert.equal(r.errors.length, 0);
  assert.deepEqual(r.structures.slice(0, 3).map((x) => x.index), [0, 1, 2]);
});

test('allowLeftHanded is passed to every reader', () => {
  const left = createStructure(
    { lattice: [4, 0, 0, 0, 4, 0, 0, 0, -4], species: ['Na', 'F'], frac: [0, 0, 0, 0.5, 0.5, 0.5], info: { id: 'left' } },
    { allowLeftHanded: true },
  );
  for (const format of ['poscar', 'pymatgen-json', 'extxyz'] as const) {
    const t = writeStructure(left, format);
    throwsStructureError(() => readStructure(t, format), /cell volume is negative/);
    assert.equal(readStructure(t, format, { allowLeftHanded: true }).lattice[8], -4, format);
  }
  const rec = JSON.stringify({ lattice: [[4, 0, 0], [0, 4, 0], [0, 0, -4]], species: ['Na', 'F'], frac_coords: [[0, 0, 0], [0.5, 0.5, 0.5]] });
  throwsStructureError(() => readStructure(rec, 'records'), /cell volume is negative/);
  assert.equal(readStructure(rec, 'records', { allowLeftHanded: true }).species.length, 2);
});

test('writeStructure: every write format, unknown format rejected', () => {
  const s = createStructure({ lattice: [4, 0, 0, 0, 4, 0, 0, 0, 4], species: ['Na', 'F'], frac: [0, 0, 0, 0.5, 0.5, 0.5] });
  for (const f of WRITE_FORMATS) assert.ok(writeStructure(s, f).length > 0, f);
  throwsStructureError(() => writeStructure(s, 'records' as WriteFormat), /cannot write format "records"; writable formats: cif, poscar, pymatgen-json, extxyz, json/);
});
