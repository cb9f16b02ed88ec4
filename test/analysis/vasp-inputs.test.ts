/**
 * VASP inputs against pymatgen 2022.11.7's MITRelaxSet (test/fixtures/reference/vasp-inputs,
 * made by scripts/ref/vasp_inputs_reference.py): INCAR, KPOINTS text, POTCAR symbols and site
 * order byte for byte for 12 bundled fluorides × {plain, oxidation states, magmom} × the three
 * designs and the grid-density k-point rule; folders written; Python number formatting; every
 * validation message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DESIGN_OVERRIDES,
  PyFloat,
  pyFloatRepr,
  renderIncar,
  renderKpoints,
  renderPotcarSpec,
  vaspInputSet,
  type VaspDesign,
} from '../../src/analysis/vasp-inputs.js';
import { writeNebFolder, writeStaticFolders, writeVaspFolder } from '../../src/io/vasp-folders.js';
import { readPoscar } from '../../src/structure/poscar.js';
import { findHops } from '../../src/analysis/pathfinder.js';
import { hopImages } from '../../src/analysis/hop-images.js';
import { createStructure, type Structure } from '../../src/structure/structure.js';

interface RefCase { design: VaspDesign; grid_density: number | null; incar: string; kpoints: string; potcar_symbols: string[]; site_symbols: string[]; sorted_species: string[] }
interface RefStructure { id: string; variant: string; lattice: number[][]; species: string[]; frac_coords: number[][]; oxidation_states: number[] | null; magmom: (number | null)[] | null; cases: RefCase[] }
const REF = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/reference/vasp-inputs/mit_relax_set.json', import.meta.url)), 'utf8')) as {
  overrides: Record<string, Record<string, unknown>>;
  structures: RefStructure[];
};

function structureOf(r: RefStructure): Structure {
  return createStructure({
    lattice: r.lattice,
    species: r.species,
    frac: r.frac_coords,
    oxidationStates: r.oxidation_states,
    siteProperties: r.magmom ? { magmom: r.magmom } : {},
    info: { id: r.id },
  });
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'fracflow-vasp-in-'));
}

test('design overrides are the ones the reference was made with', () => {
  assert.deepEqual(DESIGN_OVERRIDES.static, REF.overrides['static']);
  assert.deepEqual(DESIGN_OVERRIDES.relax, REF.overrides['relax']);
  assert.deepEqual(DESIGN_OVERRIDES.neb, REF.overrides['neb']);
});

test('INCAR, KPOINTS, POTCAR symbols and site order equal MITRelaxSet on every reference case', () => {
  let n = 0;
  for (const r of REF.structures) {
    const s = structureOf(r);
    for (const c of r.cases) {
      const what = `${r.id} ${r.variant} ${c.design}${c.grid_density ? ` grid_density ${c.grid_density}` : ''}`;
      const set = vaspInputSet(s, c.design, {}, c.grid_density ? { kpoints: { gridDensity: c.grid_density } } : {});
      assert.equal(renderIncar(set.incar), c.incar, `${what}: INCAR`);
      assert.equal(renderKpoints(set.kpoints), c.kpoints, `${what}: KPOINTS`);
      assert.deepEqual(set.potcarSymbols, c.potcar_symbols, `${what}: POTCAR symbols`);
      assert.deepEqual(set.poscarSymbols, c.site_symbols, `${what}: POSCAR species blocks`);
      const labels = set.structure.species.map((el, i) => {
        const q = set.structure.oxidationStates?.[i];
        if (q === undefined || q === null) return el;
        return `${el}${Math.abs(q) === 1 ? '' : Math.abs(q)}${q < 0 ? '-' : '+'}`;
      });
      assert.deepEqual(labels, c.sorted_species, `${what}: site order`);
      n++;
    }
  }
  assert.ok(n >= 60, `${n} cases`);
});

test('the reference covers +U, no +U, f electrons, oxidation-state and site magmoms, both k-point styles', () => {
  const all = REF.structures.flatMap((r) => r.cases);
  assert.ok(all.some((c) => /LDAUU = .*4\.0/.test(c.incar)), 'an integral float U (Fe, W)');
  assert.ok(all.some((c) => c.design === 'relax' && !c.incar.includes('LDAU')), 'a relax set without +U');
  assert.ok(all.every((c) => c.design !== 'static' || !c.incar.includes('LDAU')), 'static: LDAU tags removed');
  assert.ok(all.some((c) => c.incar.includes('LMAXMIX = 6')));
  assert.ok(all.some((c) => c.incar.includes('2*4.0')), 'Mn3+ magmom');
  assert.ok(all.some((c) => c.incar.includes('1*-5.0')), 'site magmom');
  assert.ok(all.some((c) => c.kpoints.includes('Gamma')) && all.some((c) => c.kpoints.includes('Monkhorst')));
});

test('writeVaspFolder / writeStaticFolders / writeNebFolder write the files; POSCAR reads back in the sorted order', () => {
  const r = REF.structures.find((x) => x.id === 'mp-554517' && x.variant === 'oxi')!;
  const s = structureOf(r);
  const dir = scratch();
  try {
    const set = writeVaspFolder(join(dir, 'one'), s, 'static');
    assert.equal(readFileSync(join(dir, 'one', 'INCAR'), 'utf8'), r.cases[0]!.incar);
    assert.equal(readFileSync(join(dir, 'one', 'KPOINTS'), 'utf8'), r.cases[0]!.kpoints);
    assert.equal(readFileSync(join(dir, 'one', 'POTCAR.spec'), 'utf8'), 'Na\nMn\nF');
    const back = readPoscar(readFileSync(join(dir, 'one', 'POSCAR'), 'utf8'));
    assert.deepEqual(back.species, set.structure.species);
    for (let k = 0; k < back.frac.length; k++) assert.equal(back.frac[k], set.structure.frac[k]);

    const sets = writeStaticFolders(join(dir, 'static'), [s, s, s]);
    assert.equal(sets.length, 3);
    for (const sub of ['start', 'mid', 'end']) for (const f of ['INCAR', 'KPOINTS', 'POSCAR', 'POTCAR.spec']) assert.ok(existsSync(join(dir, 'static', sub, f)), `${sub}/${f}`);

    const out = writeNebFolder(join(dir, 'neb'), [s, s, s]);
    assert.equal(readFileSync(join(dir, 'neb', 'neb', 'INCAR'), 'utf8'), r.cases[2]!.incar);
    assert.equal(readFileSync(join(dir, 'neb', 'relax_start', 'INCAR'), 'utf8'), r.cases[1]!.incar);
    assert.equal(out.neb.incar['IMAGES'], 1);
    for (const sub of ['00', '01', '02']) assert.ok(existsSync(join(dir, 'neb', 'neb', sub, 'POSCAR')), sub);
    assert.ok(!existsSync(join(dir, 'neb', 'neb', 'POSCAR')));
    assert.ok(existsSync(join(dir, 'neb', 'relax_end', 'POSCAR')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('overrides: values set tags (strings normalised as Incar.proc_val), null removes them', () => {
  const s = structureOf(REF.structures.find((x) => x.id === 'mp-1138')!);
  const set = vaspInputSet(s, 'static', { ALGO: 'normal', LORBIT: null, NPAR: '4', LCHARG: '.FALSE.', EDIFFG: new PyFloat(-1), ISMEAR: 0 });
  const text = renderIncar(set.incar);
  assert.match(text, /^ALGO = Normal$/m);
  assert.doesNotMatch(text, /LORBIT/);
  assert.match(text, /^NPAR = 4$/m);
  assert.match(text, /^LCHARG = False$/m);
  assert.match(text, /^EDIFFG = -1\.0$/m);
  assert.match(text, /^ISMEAR = 0$/m);
  assert.match(renderIncar({ MAGMOM: [1, 1, 2], LDAUU: [new PyFloat(4), 3.1, 0] }), /^LDAUU = 4\.0 3\.1 0\nMAGMOM = 2\*1\.0 1\*2\.0\n$/);
  assert.equal(renderPotcarSpec(['Ca_sv', 'F']), 'Ca_sv\nF');
});

test('ISMEAR -5 becomes 0 when the k-point grid has fewer than 4 points', () => {
  const s = structureOf(REF.structures.find((x) => x.id === 'mp-1138')!);
  const set = vaspInputSet(s, 'static', {}, { kpoints: { gridDensity: 2 } });
  assert.deepEqual(set.kpoints.kpts, [1, 1, 1]);
  assert.equal(set.incar['ISMEAR'], 0);
});

test('pyFloatRepr writes numbers as Python repr does', () => {
  const cases: [number, string][] = [
    [1e-5, '1e-05'], [0.001, '0.001'], [1e-4, '0.0001'], [-0.1, '-0.1'], [4, '4.0'], [520, '520.0'], [0.05, '0.05'],
    [1.5e-5, '1.5e-05'], [1e16, '1e+16'], [1234567890123456.7, '1234567890123456.8'], [123.456, '123.456'], [0, '0.0'], [-0, '-0.0'],
    [Number.NaN, 'nan'], [Infinity, 'inf'], [-Infinity, '-inf'], [2.5e-300, '2.5e-300'], [1.7976931348623157e308, '1.7976931348623157e+308'],
  ];
  for (const [x, s] of cases) assert.equal(pyFloatRepr(x), s, String(x));
});

test('validation messages name the input and its value', () => {
  const s = structureOf(REF.structures.find((x) => x.id === 'mp-1138')!);
  assert.throws(() => vaspInputSet(s, 'md' as VaspDesign), { name: 'VaspInputError', message: 'unknown VASP design "md"; choose from static, relax, neb' });
  assert.throws(() => vaspInputSet(s, 'static', { encut: 500 }), { message: 'INCAR override "encut": tags are upper-case letters, digits and _' });
  assert.throws(() => vaspInputSet(s, 'static', { ENCUT: Number.NaN }), { message: 'INCAR override ENCUT: expected a boolean, string, finite number or list of finite numbers (or null to remove it), got NaN' });
  assert.throws(() => vaspInputSet(s, 'static', { MAGMOM: [1, Infinity] }), { message: 'INCAR override MAGMOM: expected a boolean, string, finite number or list of finite numbers (or null to remove it), got [1, Infinity]' });
  assert.throws(() => vaspInputSet(s, 'static', { LDAUU: { F: 1 } as unknown as number }), { message: 'INCAR override LDAUU: expected a boolean, string, finite number or list of finite numbers (or null to remove it), got {"F":1}' });
  assert.throws(() => vaspInputSet(s, 'static', {}, { kpoints: { gridDensity: -5 } }), { message: 'kpoints.gridDensity must be a positive number of k-points per reciprocal atom, got -5' });
  const vec = createStructure({ lattice: s.lattice, species: s.species, frac: s.frac, siteProperties: { magmom: [[0, 0, 1], null] } });
  assert.throws(() => vaspInputSet(vec, 'static'), { message: 'site property magmom of site 0 (Li): only scalar (collinear) magnetic moments are supported, got [0, 0, 1]' });
  assert.throws(() => writeVaspFolder('/nonexistent', s, 'neb' as 'static'), { message: 'writeVaspFolder: design must be static or relax (use writeNebFolder for neb), got "neb"' });
  assert.throws(() => writeNebFolder('/nonexistent', [s, s]), { message: 'writeNebFolder: expected 3 images (start, midpoint, end), got 2' });
  assert.throws(() => writeStaticFolders('/nonexistent', [s]), { message: 'writeStaticFolders: expected 3 images (start, midpoint, end), got 1' });
  const other = structureOf(REF.structures.find((x) => x.id === 'mp-1029')!);
  assert.throws(() => writeNebFolder('/nonexistent', [s, other, s]), { message: 'NEB midpoint image has species Ba F F after sorting, the start image Li F: the images must hold the same sites in the same order' });
});

test('stage use: BaF2 shortest F hop -> start/mid/end in a >= 7 Å supercell -> static and NEB folders keep the site correspondence', () => {
  const s = structureOf(REF.structures.find((x) => x.id === 'mp-1029')!);
  const hop = findHops(s, { ion: 'F', limit: 1 }).hops[0]!;
  const { images } = hopImages(s, hop, { images: 1, supercellMinLength: 7 });
  assert.equal(images.length, 3);
  const dir = scratch();
  try {
    const sets = writeStaticFolders(join(dir, 'static'), images);
    const neb = writeNebFolder(join(dir, 'neb'), images).neb;
    const nBa = images[0]!.species.filter((el) => el === 'Ba').length;
    for (const set of [...sets, neb]) {
      assert.deepEqual(set.potcarSymbols, ['Ba_sv', 'F']);
      assert.deepEqual(set.poscarSymbols, ['Ba', 'F']);
    }
    assert.match(renderIncar(sets[0]!.incar), /^IBRION = -1\nICHARG = 1\nISIF = 3\nISMEAR = -5\nISPIN = 2\nISYM = 0\nLMAXMIX = 4\n/m); // Ba: Z = 56, not above
    assert.doesNotMatch(renderIncar(sets[0]!.incar), /LDAU/);
    const polls = ['00', '01', '02'].map((k) => readPoscar(readFileSync(join(dir, 'neb', 'neb', k, 'POSCAR'), 'utf8')));
    const stat = ['start', 'mid', 'end'].map((k) => readPoscar(readFileSync(join(dir, 'static', k, 'POSCAR'), 'utf8')));
    for (let k = 0; k < 3; k++) {
      // the moving ion (site 0 of each image) is the first F after the Ba block in every POSCAR
      for (const p of [polls[k]!, stat[k]!]) {
        assert.equal(p.species.length, images[k]!.species.length);
        for (let c = 0; c < 3; c++) assert.equal(p.frac[3 * nBa + c], images[k]!.frac[c], `image ${k} axis ${c}`);
      }
    }
    // every other site is the same host site in all three POSCARs (straight-line images move only the ion)
    for (let i = 0; i < polls[0]!.species.length; i++) {
      if (i === nBa) continue;
      for (let c = 0; c < 3; c++) {
        assert.equal(polls[1]!.frac[3 * i + c], polls[0]!.frac[3 * i + c]);
        assert.equal(polls[2]!.frac[3 * i + c], polls[0]!.frac[3 * i + c]);
      }
    }
    const mid = polls[1]!;
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(mid.frac[3 * nBa + c]! - (polls[0]!.frac[3 * nBa + c]! + polls[2]!.frac[3 * nBa + c]!) / 2) < 1e-12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
