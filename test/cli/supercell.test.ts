/**
 * `fracflow supercell` and `fracflow overlap`, run as real processes (the CLI from source).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/reference.js';
import { readStructure, readStructures, writeStructure } from '../../src/structure/io.js';
import { createStructure } from '../../src/structure/structure.js';
import { minLengthScaling, nearCubicSupercellMatrix, supercell } from '../../src/kernels/supercell.js';
import { radiiOverlap } from '../../src/kernels/overlap.js';

const caf2Cif = join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif');
const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-supercell-cli-'));

const run = (args: string[]) => runCli(args);

test('supercell --min-length writes the DDI-rule supercell, identical to the library call', () => {
  const s = readStructure(caf2Cif);
  const want = supercell(s, minLengthScaling(s, 7));
  const r = run(['supercell', caf2Cif, '--min-length', '7', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /supercell: matrix \[2 0 0 0 2 0 0 0 2\], 96 sites/);
  const got = readStructure(r.stdout, 'pymatgen-json');
  assert.equal(got.species.length, 96);
  assert.deepEqual(got.species, want.species);
  for (let k = 0; k < 9; k++) assert.ok(Math.abs(got.lattice[k]! - want.lattice[k]!) < 1e-12);
  for (let k = 0; k < got.frac.length; k++) assert.ok(Math.abs(got.frac[k]! - want.frac[k]!) < 1e-12, `coordinate ${k}`);
});

test('supercell --matrix (9 integers or 3), --near-cubic and --out', () => {
  const dir = tmp();
  const s = readStructure(caf2Cif);
  const general = run(['supercell', caf2Cif, '--matrix', '1 1 0  0 1 1  1 0 1', '--format', 'extxyz', '--backend', 'ts']);
  assert.equal(general.status, 0, general.stderr);
  const g = readStructure(general.stdout, 'extxyz');
  assert.equal(g.species.length, 24);
  assert.equal(general.stdout, writeStructure(supercell(s, [1, 1, 0, 0, 1, 1, 1, 0, 1]), 'extxyz').replace(/\n?$/, '\n'));
  const out = join(dir, 'POSCAR');
  const diag = run(['supercell', caf2Cif, '--matrix', '1,1,2', '--out', out]);
  assert.equal(diag.status, 0, diag.stderr);
  assert.equal(diag.stdout, '');
  assert.equal(readStructure(readFileSync(out, 'utf8'), 'poscar').species.length, 24);
  const cubic = run(['supercell', caf2Cif, '--min-length', '7', '--near-cubic', '--format', 'json']);
  assert.equal(cubic.status, 0, cubic.stderr);
  const m = nearCubicSupercellMatrix(s, 7);
  assert.match(cubic.stderr, new RegExp(`matrix \\[${m.join(' ')}\\], 48 sites`));
  assert.equal(readStructure(cubic.stdout, 'pymatgen-json').species.length, 48);
});

test('supercell: bad options are reported with the option and value, exit status non-zero', () => {
  const both = run(['supercell', caf2Cif, '--min-length', '7', '--matrix', '2 2 2']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /give exactly one of --min-length <angstrom> or --matrix <integers>/);
  const nc = run(['supercell', caf2Cif, '--matrix', '2 2 2', '--near-cubic']);
  assert.equal(nc.status, 2);
  assert.match(nc.stderr, /--near-cubic needs --min-length <angstrom>/);
  const badMatrix = run(['supercell', caf2Cif, '--matrix', '2 x 2']);
  assert.notEqual(badMatrix.status, 0);
  assert.match(badMatrix.stderr, /--matrix must be 3 integers \(diagonal\) or 9 integers \(row-major, rows = new lattice vectors\), got "2 x 2"/);
  const singular = run(['supercell', caf2Cif, '--matrix', '1 0 0 0 1 0 0 0 0']);
  assert.equal(singular.status, 2);
  assert.match(singular.stderr, /supercell: matrix \[1, 0, 0, 0, 1, 0, 0, 0, 0\] has determinant 0; it must be > 0/);
});

function pathImages(): string {
  // Three images of an F- moving through LiF, with oxidation states, as one multi-frame extxyz.
  const base = {
    lattice: [4.03, 0, 0, 0, 4.03, 0, 0, 0, 4.03],
    species: ['F', 'Li', 'Li', 'Li', 'Li', 'F', 'F', 'F'],
    oxidationStates: [-1, 1, 1, 1, 1, -1, -1, -1],
  };
  const frames = [0, 1, 2].map((k) =>
    createStructure({
      ...base,
      frac: [0.5 + 0.06 * k, 0.5 - 0.02 * k, 0.5, 0, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5, 0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5],
    }),
  );
  return frames.map((f) => writeStructure(f, 'extxyz')).join('');
}

test('overlap --json on a multi-frame extxyz and on several files gives the library result', () => {
  const dir = tmp();
  const path = join(dir, 'path.extxyz');
  writeFileSync(path, pathImages());
  const images = readStructures(path);
  assert.equal(images.length, 3);
  const want = radiiOverlap(images, 0);
  const r = run(['overlap', path, '--site', '0', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), JSON.parse(JSON.stringify(want)));
  // The same images as three files, and a smaller cutoff.
  const parts = pathImages().split(/(?=^8\n)/m);
  const files = parts.map((text, k) => {
    const p = join(dir, `image${k}.extxyz`);
    writeFileSync(p, text);
    return p;
  });
  const r2 = run(['overlap', ...files, '--site', '0', '--cutoff', '5', '--json', '--backend', 'ts']);
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(JSON.parse(r2.stdout), JSON.parse(JSON.stringify(radiiOverlap(images, 0, { cutoffAng: 5 }))));
  const text = run(['overlap', path, '--site', '0']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^moving site 0 \(F-, r = 1\.19 Å\), 3 images, cutoff 8 Å/);
  assert.match(text.stdout, /largest change, neutral: null \(image 0: no neutral within 8 Å of site 0\)/);
});

test('overlap: a bad site and missing oxidation states are reported', () => {
  const dir = tmp();
  const path = join(dir, 'path.extxyz');
  writeFileSync(path, pathImages());
  const site = run(['overlap', path, '--site', 'x']);
  assert.notEqual(site.status, 0);
  assert.match(site.stderr, /--site must be a site index \(0, 1, 2, \.\.\.\), got "x"/);
  const far = run(['overlap', path, '--site', '9']);
  assert.equal(far.status, 2);
  assert.match(far.stderr, /radiiOverlap: movingSite must be a site index in \[0, 7\], got 9/);
  const poscar = join(dir, 'POSCAR');
  writeFileSync(poscar, 'LiF\n1.0\n4.03 0 0\n0 4.03 0\n0 0 4.03\nLi F\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n');
  const bare = run(['overlap', poscar, '--site', '0']);
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /image 0 has no oxidation states/);
});
