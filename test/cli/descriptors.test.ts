/**
 * `fracflow descriptors`. One run is a real process (the CLI from source); the other cases parse in
 * this process with the same command module.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as descriptorsCommand from '../../src/cli/commands/descriptors.js';
import { runCli, runCommandsInProcess } from '../helpers/cli.js';
import { fixturesDir, referenceRecords, referenceStructure } from '../helpers/reference.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readStructure, writeStructure } from '../../src/structure/io.js';
import { pathwayDescriptors } from '../../src/analysis/descriptors.js';
import { loadBundled } from '../../src/io/bundled.js';

const cli = (args: string[]) => runCli(args);

const cliInProcess = (args: string[]) => runCommandsInProcess([descriptorsCommand], args);

const caf2 = join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif');

test('descriptors --json prints one object per pathway with the issue columns, equal to the library', () => {
  const r = cli(['descriptors', caf2, '--json', '--limit', '2']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const k of ['length', 'nsites_777', 'nsites_101010', 'nsites_121212', 'oxidation_state', 'dimensionality', 'dimensionality_cumlengths', 'dimensionality_cumbarriers', 'ewald_energy', 'ionic_radii_overlap_cations', 'ionic_radii_overlap_anions', 'structure_id']) {
    assert.ok(k in rows[0]!, `column ${k}`);
  }
  assert.equal(rows[0]!['structure_id'], 'CaF2_fluorite');
  const lib = pathwayDescriptors(readStructure(caf2), { limit: 2 });
  rows.forEach((row, k) => {
    const { structure_id: _id, ...rest } = row;
    assert.deepEqual(rest, JSON.parse(JSON.stringify(lib[k])));
  });
});

test('descriptors table; --no-sanitize keeps the conventional cell; --ion, --max-length, --limit are passed on', async () => {
  const t = await cliInProcess(['descriptors', caf2, '--limit', '1']);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^CaF2_fluorite: 1 F pathways up to 5 Å \(equivalence fracflow; percolation 1D\/2D\/3D at 2\.7315\/2\.7315\/2\.7316 Å; oxidation states: input\)/);
  assert.match(t.stdout, /^0 +2\.7315 +6 +24\/81\/192 +-1 +3 +3 +3 /m);
  const j = await cliInProcess(['descriptors', caf2, '--json', '--no-sanitize', '--limit', '1']);
  const row = JSON.parse(j.stdout.trim()) as { nsites: number; n_sites_per_image: number };
  assert.equal(row.nsites, 12);
  assert.equal(row.n_sites_per_image, 95);
  const ca = await cliInProcess(['descriptors', caf2, '--json', '--ion', 'Ca', '--max-length', '4', '--limit', '0']);
  assert.equal(ca.status, 0, ca.stderr);
  const cas = ca.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ion: string; length: number; oxidation_state: number });
  assert.equal(cas.length, 1);
  assert.equal(cas[0]!.ion, 'Ca');
  assert.equal(cas[0]!.oxidation_state, 2);
  assert.ok(Math.abs(cas[0]!.length - 3.8631) < 1e-3);
});

test('descriptors: the table lists null columns with their reasons (LiF 4.03 Å hop straight through Li)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-descriptors-'));
  const file = join(dir, 'POSCAR');
  writeFileSync(file, writeStructure(referenceStructure(referenceRecords().find((r) => r.id === 'LiF')!), 'poscar'));
  const t = await cliInProcess(['descriptors', file, '--no-sanitize', '--limit', '2']);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^1 +4\.0300 .* – +– +–$/m);
  assert.match(t.stdout, /^null values:$/m);
  assert.match(t.stdout, /^  hop 1 ewald: IDPP failed: /m);
  assert.match(t.stdout, /^  hop 1 ionic_radii_overlap_anions: IDPP failed: /m);
  assert.doesNotMatch(t.stdout, /^  hop 0 /m);
});

test('descriptors: invalid options name the option and the value', async () => {
  const cases: [string[], RegExp][] = [
    [['--limit', '-1'], /--limit must be a non-negative integer, got "-1"/],
    [['--limit', 'x'], /--limit must be a non-negative integer, got "x"/],
    [['--max-length', '0'], /--max-length must be a positive number, got "0"/],
    [['--supercell-min', 'abc'], /--supercell-min must be a positive number, got "abc"/],
    [['--equivalence', 'spglib'], /option '--equivalence <mode>' argument 'spglib' is invalid\. Allowed choices are fracflow, pymatgen/],
  ];
  for (const [extra, re] of cases) {
    const r = await cliInProcess(['descriptors', caf2, ...extra]);
    assert.equal(r.status, 1, extra.join(' '));
    assert.match(r.stderr, re);
  }
  const noIon = await cliInProcess(['descriptors', caf2, '--ion', 'Li']);
  assert.equal(noIon.status, 1);
  assert.match(noIon.stderr, /ion Li has no sites in the structure/);
});

test('descriptors --equivalence pymatgen: DistinctPathFinder\'s pathways (perov5-12534: three 3.90 Å hops instead of two)', async () => {
  const s = loadBundled('perov5').find((x) => x.info.id === 'perov5-12534')!;
  const file = join(mkdtempSync(join(tmpdir(), 'fracflow-descriptors-')), 'perov5-12534.json');
  writeFileSync(file, writeStructure(s, 'json'));
  const rows = async (extra: string[]) => {
    const r = await cliInProcess(['descriptors', file, '--json', '--no-sanitize', ...extra]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { length: number });
  };
  assert.equal((await rows([])).length, 2);
  const pm = await rows(['--equivalence', 'pymatgen']);
  assert.deepEqual(pm.map((r) => r.length), pathwayDescriptors(s, { sanitize: false, equivalence: 'pymatgen' }).map((r) => r.length));
  assert.equal(pm.length, 3);
  const table = await cliInProcess(['descriptors', file, '--no-sanitize', '--equivalence', 'pymatgen']);
  assert.match(table.stdout, /3 F pathways up to 5 Å \(equivalence pymatgen; percolation/);
});

test('descriptors --idpp fast: rows of the fast mode (the library call with idpp fast), exact by default', () => {
  const fast = cli(['descriptors', caf2, '--json', '--idpp', 'fast', '--limit', '1']);
  assert.equal(fast.status, 0, fast.stderr);
  const row = JSON.parse(fast.stdout.trim().split('\n')[0]!) as { ewald_energy: number; idpp_converged: boolean };
  const lib = pathwayDescriptors(readStructure(caf2), { idpp: 'fast', limit: 1 })[0]!;
  assert.equal(row.ewald_energy, lib.ewald_energy);
  assert.equal(row.idpp_converged, true);
  const bad = cli(['descriptors', caf2, '--idpp', 'slow']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /option '--idpp <mode>' argument 'slow' is invalid\. Allowed choices are exact, fast\./);
});
