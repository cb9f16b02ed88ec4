/**
 * `fracflow oxi`, run in-process through commander (the command is registered on a fresh program the
 * way src/cli/index.ts registers every command module).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Command } from 'commander';
import { register } from '../../src/cli/commands/oxi.js';
import { fixturesDir } from '../helpers/reference.js';

const caf2Poscar = join(fixturesDir, 'structures', 'POSCAR_CaF2_cartesian_sd');
const lifOxi = join(fixturesDir, 'structures', 'LiF_P1_oxidation.cif');

function run(args: string[]): { out: string; error: Error | null } {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  let error: Error | null = null;
  try {
    program.parse(['node', 'fracflow', 'oxi', ...args]);
  } catch (e) {
    error = e as Error;
  } finally {
    process.stdout.write = write;
  }
  return { out, error };
}

test('oxi --json prints the bond-valence states of CaF2 with the method and the skipped input step', () => {
  const r = run([caf2Poscar, '--json']);
  assert.equal(r.error, null);
  const j = JSON.parse(r.out) as Record<string, unknown>;
  assert.equal(j['formula'], 'CaF2');
  assert.equal(j['method'], 'bond-valence');
  assert.equal(j['charge_balanced'], true);
  const species = j['species'] as string[];
  const states = j['oxidation_states'] as number[];
  assert.deepEqual(states, species.map((s) => (s === 'Ca' ? 2 : -1)));
  assert.equal((j['bv_sums'] as number[]).length, species.length);
  assert.deepEqual(j['skipped'], [{ method: 'input', reason: 'the structure carries no oxidation states' }]);
});

test('oxi uses the states in the file first; --methods changes the order; text output is a table', () => {
  const a = JSON.parse(run([lifOxi, '--json']).out) as Record<string, unknown>;
  assert.equal(a['method'], 'input');
  assert.deepEqual(a['oxidation_states'], [1, -1]);
  const b = JSON.parse(run([lifOxi, '--json', '--methods', 'composition-guess']).out) as Record<string, unknown>;
  assert.equal(b['method'], 'composition-guess');
  assert.equal(b['bv_sums'], null);
  const t = run([caf2Poscar, '--symprec', '0']);
  assert.match(t.out, /^CaF2: oxidation states by bond-valence$/m);
  assert.match(t.out, /site\s+element\s+oxidation state\s+BV sum/);
  assert.match(t.out, /skipped input: the structure carries no oxidation states/);
});

test('oxi rejects bad options with a message naming the option and value', () => {
  assert.match(run([caf2Poscar, '--methods', 'magic']).error!.message, /--methods: unknown method "magic" \(choose from input, bond-valence, composition-guess\)/);
  assert.match(run([caf2Poscar, '--methods', ',']).error!.message, /--methods must list one or more of input, bond-valence, composition-guess, got ","/);
  assert.match(run([caf2Poscar, '--symprec', '-1']).error!.message, /--symprec must be 0 \(no symmetry\) or a distance in \(0, 1\) Å, got "-1"/);
  assert.match(run([join(fixturesDir, 'structures', 'missing.cif')]).error!.message, /missing\.cif/);
});
