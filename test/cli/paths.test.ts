/**
 * `fracflow symmetry`, `fracflow paths` and `fracflow path-images`. One run of each command is a real
 * process (the CLI from source); the other cases parse in this process with the same command modules
 * (a process start costs ~1 s under tsx).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as symmetryCommand from '../../src/cli/commands/symmetry.js';
import * as pathsCommand from '../../src/cli/commands/paths.js';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCommandsInProcess } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/reference.js';
import { hopsFromJson, hopImages, screenHopImages, HopImagesError } from '../../src/analysis/hop-images.js';
import { pathwayDescriptors, DescriptorError } from '../../src/analysis/descriptors.js';
import { findHops } from '../../src/analysis/pathfinder.js';
import { readStructure, writeStructure } from '../../src/structure/io.js';
import { loadBundled } from '../../src/io/bundled.js';
import { readExtxyz } from '../../src/structure/extxyz.js';

const cli = (args: string[]) => runCli(args);

/** Parses `args` with the two command modules in this process; output and errors are captured. */
const cliInProcess = (args: string[]) => runCommandsInProcess([symmetryCommand, pathsCommand], args);

const caf2 = join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif');
const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-paths-'));

test('symmetry prints the space group and classes; --json gives operations, classes and the primitive cell', async () => {
  const text = cli(['symmetry', caf2]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /space group F m -3 m \(225\)/);
  const j = await cliInProcess(['symmetry', caf2, '--json', '--symprec', '0.01']);
  assert.equal(j.status, 0, j.stderr);
  const out = JSON.parse(j.stdout) as { number: number; symprec: number; n_operations: number; equivalent_sites: number[][]; wyckoff_symbols: string[]; primitive_standard: { species: string[] } };
  assert.equal(out.number, 225);
  assert.equal(out.symprec, 0.01);
  assert.equal(out.n_operations, 192);
  assert.deepEqual(out.wyckoff_symbols.sort(), ['4a', '8c']);
  assert.equal(out.primitive_standard.species.length, 3);
});

test('paths lists the distinct hops; --json round-trips and equals the library result', async () => {
  const t = await cliInProcess(['paths', caf2]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^4 of 4 distinct F hops up to 5 Å/);
  assert.match(t.stdout, /^0 +2\.73155\d +4 +5 +8c-8c +24 /m);
  const j = cli(['paths', caf2, '--json', '--limit', '0', '--max-length', '4']);
  assert.equal(j.status, 0, j.stderr);
  const res = hopsFromJson(j.stdout);
  const lib = findHops(readStructure(caf2), { maxLengthAng: 4, limit: 0 });
  assert.deepEqual(res, JSON.parse(JSON.stringify(lib)));
  assert.equal(res.hops.length, 2);
  const auto = hopsFromJson((await cliInProcess(['paths', caf2, '--json', '--auto', '1d'])).stdout);
  assert.equal(auto.hops.length, 1);
});

test('path-images writes extxyz, the overlaid CIF and VASP NEB folders', async () => {
  const x = await cliInProcess(['path-images', caf2, '--hop', '0', '--images', '3']);
  assert.equal(x.status, 0, x.stderr);
  const frames = readExtxyz(x.stdout);
  assert.equal(frames.length, 5);
  for (const f of frames) assert.equal(f.species.length, 11);
  const dir = tmp();
  const cifPath = join(dir, 'path.cif');
  const c = await cliInProcess(['path-images', caf2, '--hop', '1', '--format', 'cif', '--out', cifPath]);
  assert.equal(c.status, 0, c.stderr);
  assert.match(readFileSync(cifPath, 'utf8'), /_atom_site_fract_x/);
  const neb = join(dir, 'neb');
  const p = cli(['path-images', caf2, '--hop', '0', '--format', 'poscar-dirs', '--out', neb, '--supercell-min', '7']);
  assert.equal(p.status, 0, p.stderr);
  assert.deepEqual(readdirSync(neb).sort(), ['00', '01', '02', '03', '04', '05', '06']);
  const first = readStructure(join(neb, '00', 'POSCAR'), 'poscar');
  assert.equal(first.species.length, 95);
  assert.ok(existsSync(join(neb, '06', 'POSCAR')));
});

test('bad options and arguments are reported with the option and the value', async () => {
  const cases: [string[], RegExp][] = [
    [['symmetry', caf2, '--symprec', '0'], /--symprec must be a distance in \(0, 1\) Å, got "0"/],
    [['paths', caf2, '--limit', '-1'], /--limit must be a non-negative integer, got "-1"/],
    [['paths', caf2, '--max-length', 'abc'], /--max-length must be a positive number, got "abc"/],
    [['paths', caf2, '--max-length', '4', '--auto', '1d'], /give either --max-length \(4\) or --auto \(1d\), not both/],
    [['paths', caf2, '--ion', 'Li'], /ion Li has no sites in the structure \(elements: Ca, F\)/],
    [['path-images', caf2, '--hop', '9'], /--hop 9: the structure has 4 distinct F hops up to 5 Å \(0 … 3\)/],
    [['path-images', caf2, '--hop', '0', '--images', '0'], /--images must be a positive integer, got "0"/],
    [['path-images', caf2, '--hop', '0', '--format', 'poscar-dirs'], /--format poscar-dirs needs --out <folder>/],
    [['path-images', caf2, '--hop', '0', '--supercell-min', '-3'], /--supercell-min must be a positive number, got "-3"/],
  ];
  // One through a real process (exit status and main's message format), the rest in this process.
  const real = cli(cases[5]![0]);
  assert.equal(real.status, 2);
  assert.match(real.stderr, /^fracflow: --hop 9: the structure has 4 distinct F hops/);
  for (const [args, re] of cases) {
    const r = await cliInProcess(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('paths --equivalence pymatgen lists DistinctPathFinder\'s hops; a bad mode is named', async () => {
  const s = loadBundled('perov5').find((x) => x.info.id === 'perov5-12534')!;
  const file = join(tmp(), 'perov5-12534.json');
  writeFileSync(file, writeStructure(s, 'json'));
  const def = hopsFromJson((await cliInProcess(['paths', file, '--json', '--limit', '0'])).stdout);
  assert.equal(def.equivalence, 'fracflow');
  assert.equal(def.hops.length, 2);
  const pm = await cliInProcess(['paths', file, '--json', '--limit', '0', '--equivalence', 'pymatgen']);
  assert.equal(pm.status, 0, pm.stderr);
  const res = hopsFromJson(pm.stdout);
  assert.equal(res.equivalence, 'pymatgen');
  assert.deepEqual(res, JSON.parse(JSON.stringify(findHops(s, { limit: 0, equivalence: 'pymatgen' }))));
  assert.equal(res.hops.length, 3);
  const table = await cliInProcess(['paths', file, '--equivalence', 'pymatgen']);
  assert.match(table.stdout, /^3 of 3 distinct F hops up to 5 Å \(space group P 4\/m m m \(123\), symprec 0\.1 Å, equivalence pymatgen\)/);
  const bad = await cliInProcess(['paths', file, '--equivalence', 'ddi']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /option '--equivalence <mode>' argument 'ddi' is invalid\. Allowed choices are fracflow, pymatgen/);
  // A hop list without the field (written before the modes) reads as the default mode's; a wrong one is named.
  const old = JSON.parse(pm.stdout) as Record<string, unknown>;
  delete old['equivalence'];
  assert.equal(hopsFromJson(JSON.stringify(old)).equivalence, 'fracflow');
  assert.throws(() => hopsFromJson(JSON.stringify({ ...old, equivalence: 'x' })), /hop list: "equivalence" must be "fracflow" or "pymatgen", got "x"/);
});

test('path-images --idpp [mode]: a bare --idpp is exact, --idpp fast the fast mode (the library result), another word is named', async () => {
  const s = readStructure(caf2);
  const hop = findHops(s, { ion: 'F' }).hops[0]!;
  const framesOf = (text: string) => readExtxyz(text);
  const bare = await cliInProcess(['path-images', caf2, '--hop', '0', '--images', '3', '--supercell-min', '7', '--idpp']);
  assert.equal(bare.status, 0, bare.stderr);
  const fast = await cliInProcess(['path-images', caf2, '--hop', '0', '--images', '3', '--supercell-min', '7', '--idpp', 'fast']);
  assert.equal(fast.status, 0, fast.stderr);
  const lib = (mode: 'exact' | 'fast') => hopImages(s, hop, { images: 3, supercellMinLength: 7, idpp: { mode } }).images;
  const mid = (text: string) => Array.from(framesOf(text)[2]!.frac);
  const near = (a: number[], b: ArrayLike<number>) => a.every((x, q) => Math.abs(x - b[q]!) < 1e-9);
  assert.ok(near(mid(bare.stdout), lib('exact')[2]!.frac));
  assert.ok(near(mid(fast.stdout), lib('fast')[2]!.frac));
  const bad = await cliInProcess(['path-images', caf2, '--hop', '0', '--idpp', 'slow']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--idpp must be exact or fast, got "slow"/);
});

test('the IDPP mode is checked where it enters the library: screenHopImages and pathwayDescriptors name the value', () => {
  const s = readStructure(caf2);
  const hop = findHops(s, { ion: 'F' }).hops[0]!;
  assert.throws(() => screenHopImages(s, hop, { images: 5, supercellMinLength: 7, idpp: 'slow' as 'fast' }), new HopImagesError(`idpp must be 'exact' or 'fast', got "slow"`));
  assert.throws(() => pathwayDescriptors(s, { idpp: 'slow' as 'fast' }), new DescriptorError(`idpp must be 'exact' or 'fast', got "slow"`));
});
