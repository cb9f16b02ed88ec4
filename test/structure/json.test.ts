/** pymatgen Structure JSON, Materials Project summary documents and bundled-data records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStructure, readStructures, readStructuresLenient } from '../../src/structure/io.js';
import { parseJsonDocuments } from '../../src/structure/read-common.js';
import { readRecords } from '../../src/structure/records.js';
import { StructureError } from '../../src/structure/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'structures');
const fx = (name: string) => join(fixtures, name);

function throwsStructureError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StructureError, `expected a StructureError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// pymatgen Structure.as_dict()
// ---------------------------------------------------------------------------------------------

const pmgText = () => readFileSync(fx('CaF2_pymatgen.json'), 'utf8');
const pmg = () => JSON.parse(pmgText()) as Record<string, any>;

test('pymatgen JSON fixture: lattice, fractional coordinates, oxidation states, site properties', () => {
  const s = readStructure(fx('CaF2_pymatgen.json'));
  assert.deepEqual(s.species, ['Ca', 'F', 'F']);
  assert.deepEqual(Array.from(s.lattice), [0, 2.73155, 2.73155, 2.73155, 0, 2.73155, 2.73155, 2.73155, 0]);
  assert.deepEqual(Array.from(s.frac), [0, 0, 0, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75]);
  assert.deepEqual(Array.from(s.oxidationStates!), [2, -1, -1]);
  assert.deepEqual(s.siteProperties['magmom'], [0, 0, 0]);
  assert.equal(s.info.id, 'CaF2_pymatgen');
});

test('pymatgen JSON: xyz used when abc is absent; element strings with oxidation; oxidation_state key may be absent', () => {
  const d = pmg();
  for (const site of d['sites']) delete site.abc;
  d['sites'][0].species = [{ element: 'Ca2+', occu: 1 }];
  const s = readStructure(JSON.stringify(d), 'pymatgen-json');
  const f = Array.from(s.frac, (x) => Math.round(x * 1e12) / 1e12);
  assert.deepEqual(f, [0, 0, 0, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75]);
  assert.deepEqual(Array.from(s.oxidationStates!), [2, -1, -1]);
  for (const site of d['sites']) for (const sp of site.species) delete sp.oxidation_state;
  d['sites'][0].species = [{ element: 'Ca', occu: 1 }];
  assert.equal(readStructure(JSON.stringify(d), 'pymatgen-json').oxidationStates, null);
});

test('pymatgen JSON: a list of structures and JSON lines', () => {
  const one = JSON.stringify(pmg());
  assert.equal(readStructures(`[${one}, ${one}]`, 'pymatgen-json').length, 2);
  assert.equal(readStructures(`${one}\n\n${one}\n${one}\n`, 'pymatgen-json').length, 3);
});

test('pymatgen JSON error: partial occupancy and mixed sites name the site', () => {
  const d = pmg();
  d['sites'][1].species[0].occu = 0.5;
  throwsStructureError(() => readStructure(JSON.stringify(d), 'pymatgen-json', { name: 'p.json' }), /^p\.json: sites\[1\]\.species\[0\]\.occu: partial occupancy \(0\.5\) at site 1 \(F-\): fracflow screens ordered structures only$/);
  const m = pmg();
  m['sites'][0].species = [
    { element: 'Ca', occu: 0.5 },
    { element: 'Sr', occu: 0.5 },
  ];
  throwsStructureError(() => readStructure(JSON.stringify(m), 'pymatgen-json', { name: 'p.json' }), /^p\.json: sites\[0\]\.species: partial occupancy at site 0 \(Ca2\+\): 2 species share it \(Ca:0\.5, Sr:0\.5\)/);
});

test('pymatgen JSON error: invalid JSON gives the parser position', () => {
  const text = pmgText().replace('"charge": 0,', '"charge": 0');
  throwsStructureError(() => readStructure(text, 'pymatgen-json', { name: 'p.json' }), /^p\.json:5: invalid JSON at line 5, column 3 \(position \d+\): unexpected "\\"lattice\\"/);
  // truncated file
  throwsStructureError(() => readStructure(pmgText().slice(0, 200), 'pymatgen-json', { name: 'p.json' }), /^p\.json:\d+: invalid JSON at line \d+, column \d+ \(position 200\): unexpected end of input \(truncated\?\)/);
});

test('pymatgen JSON error: non-numeric field, unknown element, zero volume, close sites, NaN-like values', () => {
  const nonNum = pmg();
  nonNum['sites'][2].abc = [0.75, 'abc', 0.75];
  throwsStructureError(() => readStructure(JSON.stringify(nonNum), 'pymatgen-json', { name: 'p.json' }), /^p\.json: sites\[2\]\.abc\[1\]: expected a number, got "abc"$/);
  const nul = pmg();
  nul['sites'][2].abc = [0.75, null, 0.75];
  throwsStructureError(() => readStructure(JSON.stringify(nul), 'pymatgen-json', { name: 'p.json' }), /^p\.json: sites\[2\]\.abc\[1\]: expected a number, got null$/);
  const unk = pmg();
  unk['sites'][1].species[0].element = 'Xx';
  throwsStructureError(() => readStructure(JSON.stringify(unk), 'pymatgen-json', { name: 'p.json' }), /^p\.json: sites\[1\]\.species\[0\]\.element: unknown element "Xx"$/);
  const flat = pmg();
  flat['lattice'].matrix[2] = [2.73155, 2.73155, 5.4631];
  throwsStructureError(() => readStructure(JSON.stringify(flat), 'pymatgen-json', { name: 'p.json' }), /^p\.json: lattice: cell volume is zero/);
  const close = pmg();
  close['sites'][2].abc = [0.26, 0.25, 0.25];
  throwsStructureError(() => readStructure(JSON.stringify(close), 'pymatgen-json', { name: 'p.json' }), /^p\.json: sites 1 \(F\) and 2 \(F\) are 0\.0386 Å apart \(closer than 0\.5 Å\): overlapping atoms$/);
  const badLattice = pmg();
  badLattice['lattice'].matrix = [[1, 0, 0], [0, 1]];
  throwsStructureError(() => readStructure(JSON.stringify(badLattice), 'pymatgen-json', { name: 'p.json' }), /^p\.json: lattice\.matrix: expected a 3x3 matrix \(3 rows of 3 numbers\), got an array of 2$/);
  const mol = pmg();
  mol['@class'] = 'Molecule';
  throwsStructureError(() => readStructure(JSON.stringify(mol), 'pymatgen-json', { name: 'p.json' }), /^p\.json: @class: @class is "Molecule", expected "Structure"/);
  const slab = pmg();
  slab['lattice'].pbc = [true, true, false];
  throwsStructureError(() => readStructure(JSON.stringify(slab), 'pymatgen-json', { name: 'p.json' }), /^p\.json: lattice\.pbc: pbc is \[true,true,false\]: fracflow handles structures periodic in all three directions only$/);
});

// ---------------------------------------------------------------------------------------------
// Materials Project summary documents
// ---------------------------------------------------------------------------------------------

test('MP summary document: id, energetics, oxidation states from possible_species', () => {
  const s = readStructure(fx('mp-2741_summary.json'));
  assert.equal(s.info.id, 'mp-2741');
  assert.equal(s.info['energy_above_hull'], 0);
  assert.equal(s.info['formation_energy_per_atom'], -4);
  assert.deepEqual(s.info['possible_species'], ['Ca2+', 'F-']);
  assert.equal(s.info['oxidation_source'], 'possible_species');
  assert.deepEqual(Array.from(s.oxidationStates!), [2, -1, -1]);
  assert.deepEqual(s.species, ['Ca', 'F', 'F']);
  assert.equal(s.info['formula_pretty'], 'CaF2');
});

test('MP document: oxidation states of the embedded structure win; ambiguous possible_species sets none', () => {
  const doc = JSON.parse(readFileSync(fx('mp-2741_summary.json'), 'utf8')) as Record<string, any>;
  doc['structure'] = JSON.parse(readFileSync(fx('CaF2_pymatgen.json'), 'utf8'));
  doc['possible_species'] = ['Ca+', 'F-'];
  const s = readStructure(JSON.stringify(doc), 'mp-json');
  assert.deepEqual(Array.from(s.oxidationStates!), [2, -1, -1]);
  assert.equal(s.info['oxidation_source'], 'structure');
  const amb = JSON.parse(readFileSync(fx('mp-2741_summary.json'), 'utf8')) as Record<string, any>;
  amb['possible_species'] = ['Ca2+', 'F-', 'F+'];
  assert.equal(readStructure(JSON.stringify(amb), 'mp-json').oxidationStates, null);
});

test('MP API envelope {"data": [...]}, arrays of documents and JSON lines', () => {
  const all = readStructures(fx('mp_api_envelope.json'));
  assert.deepEqual(all.map((s) => s.info.id), ['mp-2741', 'mp-1138']);
  assert.equal(all[1]!.oxidationStates, null); // empty possible_species
  assert.equal(all[1]!.info['formation_energy_per_atom'], null);
  const env = JSON.parse(readFileSync(fx('mp_api_envelope.json'), 'utf8')) as { data: unknown[] };
  assert.equal(readStructures(JSON.stringify(env.data), 'mp-json').length, 2);
  assert.equal(readStructures(env.data.map((d) => JSON.stringify(d)).join('\n'), 'mp-json').length, 2);
});

test('MP document errors name the document and field', () => {
  const env = JSON.parse(readFileSync(fx('mp_api_envelope.json'), 'utf8')) as { data: Record<string, any>[] };
  env.data[1]!['structure'].sites[1].abc = [0.5, 'x', 0.5];
  throwsStructureError(() => readStructures(JSON.stringify(env), 'mp-json', { name: 'env.json' }), /^env\.json: data\[1\]\.structure\.sites\[1\]\.abc\[1\]: expected a number, got "x"$/);
  const noStruct = { material_id: 'mp-1' };
  throwsStructureError(() => readStructure(JSON.stringify(noStruct), 'mp-json', { name: 'doc.json' }), /^doc\.json: structure: document has no "structure"$/);
  const doc = JSON.parse(readFileSync(fx('mp-2741_summary.json'), 'utf8')) as Record<string, any>;
  doc['possible_species'] = ['Ca2+', 'Fluoride'];
  throwsStructureError(() => readStructure(JSON.stringify(doc), 'mp-json', { name: 'doc.json' }), /^doc\.json: possible_species\[1\]: expected a species such as "Ca2\+" or "F-", got "Fluoride"$/);
  // JSON lines: the error names the line
  const lines = env.data.map((d) => JSON.stringify(d));
  lines[1] = lines[1]!.slice(0, 50);
  throwsStructureError(() => readStructures(lines.join('\n'), 'mp-json', { name: 'docs.jsonl' }), /^docs\.jsonl:2: invalid JSON at line 2, column 51 \(position 50\): unexpected end of input/);
  // lenient: the bad document is reported, the good one kept
  const r = readStructuresLenient(JSON.stringify(env), 'mp-json', { name: 'env.json' });
  assert.deepEqual(r.structures.map((x) => x.structure.info.id), ['mp-2741']);
  assert.deepEqual(r.errors.map((e) => [e.index, e.id]), [[1, 'mp-1138']]);
});

// ---------------------------------------------------------------------------------------------
// Bundled-data records
// ---------------------------------------------------------------------------------------------

test('bundled records: every file reads completely', () => {
  const counts: Record<string, number> = {
    'mp_fluorides.jsonl.gz': 450,
    'mp_task_input_fluorides.jsonl.gz': 483,
    'fluoride_conductors_curated.json': 43,
    'perov5_fluorine_perovskites.jsonl.gz': 2129,
  };
  for (const [file, n] of Object.entries(counts)) {
    const all = readStructures(join(root, 'data', file));
    assert.equal(all.length, n, file);
    for (const s of all) assert.ok(s.species.includes('F'), `${file}: ${s.info.id} has F`);
  }
});

test('bundled record info: id, formula_source, e_above_hull, band_gap, source tag', () => {
  const [first] = readStructures(join(root, 'data', 'mp_fluorides.jsonl.gz'));
  assert.equal(first!.info.id, 'mp-241');
  assert.equal(first!.info['formula_source'], 'CdF2');
  assert.equal(first!.info['e_above_hull'], null);
  assert.equal(first!.info['band_gap'], 2.9);
  assert.equal(first!.info.source, 'matminer-dielectric_constant(Petousis2017)');
  assert.equal((first!.info['provenance'] as Record<string, unknown>)['repo'], 'github:hackingmaterials/matminer');
  assert.equal(first!.info['file'], join(root, 'data', 'mp_fluorides.jsonl.gz'));
  const perov = readStructures(join(root, 'data', 'perov5_fluorine_perovskites.jsonl.gz'));
  assert.equal(perov[0]!.info.id, 'perov5-3961');
  assert.equal(perov[0]!.info['heat_of_formation_all_eV'], 1.16);
  const task = readStructures(join(root, 'data', 'mp_task_input_fluorides.jsonl.gz'));
  assert.equal(task[0]!.info.id, undefined); // material_id null, several records per file → no invented id
  assert.equal(task[0]!.info['orig_id'], 'mvc-3781');
  const curated = readStructures(join(root, 'data', 'fluoride_conductors_curated.json'));
  assert.equal(curated[0]!.info.id, 'mp-1138');
  assert.equal(curated[0]!.info['name'], 'LiF');
});

const REC = {
  material_id: 'mp-x',
  formula: 'NaF',
  nsites: 2,
  lattice: [
    [4, 0, 0],
    [0, 4, 0],
    [0, 0, 4],
  ],
  species: ['Na', 'F'],
  frac_coords: [
    [0, 0, 0],
    [0.5, 0.5, 0.5],
  ],
  e_above_hull: 0.01,
  band_gap: 6,
  source: { dataset: 'fixture' },
};

function recordsWith(patch: (r: Record<string, any>) => void): string {
  const r = JSON.parse(JSON.stringify(REC)) as Record<string, any>;
  patch(r);
  return [JSON.stringify(REC), JSON.stringify(r)].join('\n') + '\n';
}

test('records: {"records": [...]}, arrays, JSON lines, gzip bytes, oxidation_states', () => {
  assert.equal(readRecords(JSON.stringify({ description: 'x', records: [REC, REC] })).length, 2);
  assert.equal(readRecords(JSON.stringify([REC])).length, 1);
  const gz = gzipSync(Buffer.from(recordsWith(() => {})));
  const s = readStructures(gz, 'records', { name: 'r.jsonl.gz' });
  assert.equal(s.length, 2);
  assert.equal(s[1]!.info.source, 'fixture');
  const ox = readRecords(JSON.stringify({ ...REC, oxidation_states: [1, -1] }));
  assert.deepEqual(Array.from(ox[0]!.oxidationStates!), [1, -1]);
});

test('records errors: truncated line, nsites, counts, non-numeric, unknown element, zero volume, close sites, bad gzip', () => {
  const opts = { name: 'r.jsonl' };
  const text = recordsWith(() => {});
  throwsStructureError(() => readStructures(text.slice(0, text.length - 20), 'records', opts), /^r\.jsonl:2: invalid JSON at line 2, column \d+ \(position \d+\): unexpected end of input \(truncated\?\)/);
  throwsStructureError(() => readStructures(recordsWith((r) => (r['nsites'] = 3)), 'records', opts), /^r\.jsonl:2: nsites: nsites is 3 but there are 2 species$/);
  throwsStructureError(() => readStructures(recordsWith((r) => r['frac_coords'].pop()), 'records', opts), /^r\.jsonl:2: frac_coords: 1 coordinate triples for 2 sites$/);
  throwsStructureError(() => readStructures(recordsWith((r) => (r['frac_coords'][1][2] = '0.5x')), 'records', opts), /^r\.jsonl:2: frac_coords\[1\]\[2\]: expected a number, got "0\.5x"$/);
  throwsStructureError(() => readStructures(recordsWith((r) => (r['lattice'][0][0] = 'abc')), 'records', opts), /^r\.jsonl:2: lattice\[0\]\[0\]: expected a number, got "abc"$/);
  throwsStructureError(() => readStructures(recordsWith((r) => (r['species'][1] = 'Xx')), 'records', opts), /^r\.jsonl:2: species: unknown element "Xx" at site 1$/);
  throwsStructureError(() => readStructures(recordsWith((r) => (r['lattice'][2] = [4, 0, 0])), 'records', opts), /^r\.jsonl:2: lattice: cell volume is zero/);
  throwsStructureError(() => readStructures(recordsWith((r) => (r['frac_coords'][1] = [0.1, 0, 0])), 'records', opts), /^r\.jsonl:2: sites 0 \(Na\) and 1 \(F\) are 0\.4000 Å apart/);
  throwsStructureError(() => readStructures(JSON.stringify({ records: [REC, { ...REC, species: ['Na'] }] }), 'records', { name: 'r.json' }), /^r\.json: records\[1\]\.frac_coords: 2 coordinate triples for 1 sites$/);
  const gz = gzipSync(Buffer.from(text));
  throwsStructureError(() => readStructures(gz.subarray(0, 30), 'records', { name: 'r.jsonl.gz' }), /^r\.jsonl\.gz: not a valid gzip stream \(.*\): the file is truncated or corrupt$/);
});

test('records lenient: a bad record is reported with its index and id', () => {
  const text = recordsWith((r) => {
    r['material_id'] = 'mp-bad';
    r['species'][1] = 'Xx';
  });
  const r = readStructuresLenient(text, 'records', { name: 'r.jsonl' });
  assert.equal(r.structures.length, 1);
  assert.deepEqual(r.errors.map((e) => [e.index, e.id]), [[1, 'mp-bad']]);
  assert.match(r.errors[0]!.message, /^r\.jsonl:2: species: unknown element "Xx"/);
});

test('JSON parse errors carry line, column and position even where V8 gives none', () => {
  for (const [text, line, col] of [
    ['{"a": }', 1, 7],
    ['{\n "a": tru\n}', 2, 7],
    ['[1, 2,\n 3,, 4]', 2, 4],
  ] as const) {
    throwsStructureError(() => parseJsonDocuments(text, 'x.json'), new RegExp(`^x\\.json:${line}: invalid JSON at line ${line}, column ${col} \\(position \\d+\\)`));
  }
});
