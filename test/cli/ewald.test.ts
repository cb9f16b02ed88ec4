/**
 * `fracflow ewald`, run as a real process: JSON output against pymatgen's EwaldSummation
 * (test/fixtures/reference/ewald), oxidation states from the file or from `--oxi`, `--site`, and
 * how bad input is reported (message naming the option and value, non-zero exit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { runCli } from '../helpers/cli.js';
import { referenceRecords, referenceStructure, readReferenceJson } from '../helpers/reference.js';
import { writeStructure } from '../../src/structure/io.js';
import { parseOxiOption, oxidationStatesFromSpec, register } from '../../src/cli/commands/ewald.js';

function runEwald(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return runCli(['ewald', ...args]);
}

interface AccRef {
  eta: number;
  real_space_cut: number;
  recip_space_cut: number;
  total_energy: number;
  site_energies: number[];
}
const tmp = mkdtempSync(join(tmpdir(), 'fracflow-ewald-cli-'));
const rec = referenceRecords().find((r) => r.id === 'CaF2_2x2x2_Fint')!;
const ref = readReferenceJson<{ by_acc_factor: Record<string, AccRef> }>('ewald', 'CaF2_2x2x2_Fint.json')!.by_acc_factor;
/** The charged CaF2 cell (one extra F⁻) with oxidation states, as pymatgen JSON. */
const withOxi = join(tmp, 'CaF2_Fint.json');
writeFileSync(withOxi, writeStructure(referenceStructure(rec, true), 'pymatgen-json'));
/** The same cell without oxidation states, as POSCAR. */
const noOxi = join(tmp, 'POSCAR_CaF2_Fint');
writeFileSync(noOxi, writeStructure(referenceStructure(rec, false), 'poscar'));

function close(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= Math.max(1e-9 * Math.abs(want), 1e-10), `${what}: got ${got}, pymatgen ${want}`);
}

test('ewald --json: oxidation states from the file; matches pymatgen at acc_factor 3 (charged cell)', () => {
  const r = runEwald([withOxi, '--accuracy', '3', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  const want = ref['3.0']!;
  close(out['eta'] as number, want.eta, 'eta');
  close(out['real_space_cut'] as number, want.real_space_cut, 'real_space_cut');
  close(out['recip_space_cut'] as number, want.recip_space_cut, 'recip_space_cut');
  close(out['total_energy'] as number, want.total_energy, 'total_energy');
  const sites = out['site_energies'] as number[];
  assert.equal(sites.length, rec.n_sites);
  sites.forEach((v, i) => close(v, want.site_energies[i]!, `site ${i}`));
  assert.equal(out['net_charge'], -1);
});

test('ewald: --oxi Ca=2,F=-1 on a file without oxidation states; --site with explicit --eta and cutoffs', () => {
  // η and both cutoffs given explicitly (pymatgen's acc_factor-4 values) instead of --accuracy 4.
  const r4 = ref['4.0']!;
  const one = runEwald([noOxi, '--oxi', 'Ca=2,F=-1', '--site', '5', '--eta', String(r4.eta), '--real-cutoff', String(r4.real_space_cut), '--recip-cutoff', String(r4.recip_space_cut), '--json']);
  assert.equal(one.status, 0, one.stderr);
  const s = JSON.parse(one.stdout) as { site: number; site_energy: number; eta: number };
  assert.equal(s.site, 5);
  close(s.site_energy, ref['4.0']!.site_energies[5]!, 'site 5 energy');
  close(s.eta, ref['4.0']!.eta, 'eta');
});

test('ewald: human-readable output lists parts and every site', () => {
  const r = runEwald([withOxi, '--accuracy', '3']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Ewald summation \(acc_factor 3, η = /);
  assert.match(r.stdout, /charged cell\s+-\d+\.\d{8} eV \(net charge -1\)/);
  assert.equal(r.stdout.trim().split('\n').length, 6 + 2 + rec.n_sites);
});

test('ewald: missing oxidation states is an error that says how to give them', () => {
  const r = runEwald([noOxi, '--json']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /has no oxidation states; give them in the file .* \(library: options\.oxidationStates; CLI: --oxi Ca=2,F=-1\)/);
  assert.equal(r.stdout, '');
});

/**
 * The same command in this process (no child process per case: each costs ~0.7 s of start-up).
 * Only failing invocations run here, so nothing is written to stdout; commander's own usage errors
 * are thrown (exitOverride) instead of exiting.
 */
async function ewaldError(args: string[]): Promise<string> {
  const program = new Command().name('fracflow').exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  register(program);
  try {
    await program.parseAsync(['ewald', ...args], { from: 'user' });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`ewald ${args.join(' ')} did not fail`);
}

test('ewald: bad option values are refused with a message naming the option and value', async () => {
  const cases: [string[], RegExp][] = [
    [[noOxi, '--oxi', 'Ca=2'], /--oxi gives no oxidation state for F, which the structure contains \(elements: Ca, F\)/],
    [[noOxi, '--oxi', 'Ca=2,Xx=1'], /--oxi: unknown element "Xx" in "Ca=2,Xx=1"/],
    [[withOxi, '--site', '500'], /--site must be below the number of sites \(97\), got 500/],
    [[withOxi, '--site', '-1'], /--site must be a site index \(integer ≥ 0\), got "-1"/],
    [[withOxi, '--accuracy', '0'], /--accuracy must be a positive number, got "0"/],
    [[withOxi, '--eta', 'x'], /--eta must be a positive number, got "x"/],
  ];
  for (const [args, re] of cases) assert.match(await ewaldError(args), re, args.join(' '));
});

test('parseOxiOption: accepted forms and every rejection', () => {
  assert.deepEqual(parseOxiOption('bv'), { kind: 'bv' });
  const spec = parseOxiOption('Ca=+2, F=-1,La=3.0,O=-2');
  assert.ok(spec.kind === 'per-element');
  assert.deepEqual([...spec.states], [['Ca', 2], ['F', -1], ['La', 3], ['O', -2]]);
  const bad: [string, RegExp][] = [
    ['bvs', /--oxi must be a comma-separated list of Element=charge/],
    ['', /--oxi must be a comma-separated list/],
    ['Ca=2,', /--oxi must be a comma-separated list/],
    ['ca=2', /--oxi must be a comma-separated list/],
    ['Ca=two', /--oxi must be a comma-separated list/],
    ['Qq=1', /--oxi: unknown element "Qq"/],
    ['Ca=2,Ca=3', /--oxi: element Ca is given twice in "Ca=2,Ca=3"/],
  ];
  for (const [v, re] of bad) {
    assert.throws(() => parseOxiOption(v), (e: Error) => e instanceof InvalidArgumentError && re.test(e.message), v);
  }
  const s = referenceStructure(rec, false);
  const q = oxidationStatesFromSpec(s, parseOxiOption('F=-1,Ca=2'));
  assert.deepEqual(Array.from(q), s.species.map((el) => (el === 'Ca' ? 2 : -1)));
});

test('ewald --oxi bv: bond-valence states give the same energies as the states pymatgen assigns; a charged cell is refused with the reason', () => {
  const neutral = referenceRecords().find((r) => r.id === 'CaF2')!;
  const file = join(tmp, 'CaF2_plain.cif');
  writeFileSync(file, writeStructure(referenceStructure(neutral, false), 'cif'));
  const r = runEwald([file, '--oxi', 'bv', '--accuracy', '3', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { total_energy: number };
  const want = readReferenceJson<{ by_acc_factor: Record<string, AccRef> }>('ewald', 'CaF2.json')!.by_acc_factor['3.0']!;
  close(out.total_energy, want.total_energy, 'CaF2 total, --oxi bv');
  const charged = runEwald([noOxi, '--oxi', 'bv']);
  assert.equal(charged.status, 2);
  assert.match(charged.stderr, /--oxi bv: no bond-valence oxidation states for this structure \(Valences cannot be assigned!\); give them per element instead/);
});
