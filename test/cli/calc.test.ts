/**
 * `fracflow calc` over an `images` table made here (the images stage's output contract: id, key,
 * static_dir, neb_dir), with the VASP stand-in of test/fixtures/calc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { runCli } from '../helpers/cli.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { register } from '../../src/cli/commands/calc.js';
import { sqlOf } from '../helpers/engine.js';
import { Engine } from '../../src/engine/engine.js';
import { defineStage } from '../../src/stage-kit/stage.js';
import { readVaspRun } from '../../src/io/vasp-outputs.js';
import { barrier } from '../../src/analysis/vasp-outputs.js';

const here = dirname(fileURLToPath(import.meta.url));
const standIn = join(here, '..', 'fixtures', 'calc', 'stand-in.mjs');

function runCalcCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return runCli(['calc', ...args]);
}

function step(dir: string, plan: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stand-in.json'), JSON.stringify(plan));
}

function setup(): { root: string; db: string; ok: string; crash: string } {
  const root = mkdtempSync(join(tmpdir(), 'fracflow-calc-cli-'));
  const ok = join(root, 'ok');
  step(join(ok, 'start'), { copy: { 'vasprun.xml.gz': 'static_silicon.vasprun.xml.gz' } });
  step(join(ok, 'mid'), { copy: { 'vasprun.xml.gz': 'fe_monomer.vasprun.xml.gz' } });
  step(join(ok, 'end'), { copy: { 'vasprun.xml.gz': 'LiF.vasprun.xml.gz' } });
  const crash = join(root, 'crash');
  step(join(crash, 'start'), { printErr: 'VERY BAD NEWS\n', exit: 139 });
  step(join(crash, 'mid'), {});
  step(join(crash, 'end'), {});
  const db = join(root, 'f.db');
  const sql = openSql(db);
  sql.exec('CREATE TABLE images (id INTEGER PRIMARY KEY, key TEXT NOT NULL, static_dir TEXT, neb_dir TEXT)');
  sql.run('INSERT INTO images (key, static_dir, neb_dir) VALUES (?, ?, NULL), (?, ?, NULL)', ['mp-1:0', ok, 'mp-2:0', crash]);
  sql.close();
  return { root, db, ok, crash };
}

test('fracflow calc --command: runs every prepared folder, prints the barrier per row (JSON and table), a rerun recomputes nothing', () => {
  const { db, ok } = setup();
  const r = runCalcCli(['--db', db, '--command', `"${process.execPath}" "${standIn}"`, '--time-limit', '60', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const es = readVaspRun(join(ok, 'start')).finalEnergyEv;
  const em = readVaspRun(join(ok, 'mid')).finalEnergyEv;
  const ee = readVaspRun(join(ok, 'end')).finalEnergyEv;
  assert.deepEqual(rows[0], { stage: 'calc_static', key: 'mp-1:0', state: 'done', barrier_ev: barrier(es, em, ee), energy_start_ev: es, energy_mid_ev: em, energy_end_ev: ee, exit_code: 0, last_error: null });
  assert.equal(rows[1]!['key'], 'mp-2:0');
  assert.equal(rows[1]!['state'], 'failed');
  assert.match(rows[1]!['last_error'] as string, /^calc mp-2:0: command exited with code 139 in .*\/crash\/start; output tail:\n\[fracflow calc\] start\$ .*\nVERY BAD NEWS\n$/);
  assert.equal(rows.length, 2, 'the table has no neb_dir values: calc_neb has no rows');

  // A rerun that ran the command again would now fail in ok/start; the stored rows stay as they were.
  step(join(ok, 'start'), { exit: 1 });
  rmSync(join(ok, 'start', 'vasprun.xml.gz'));
  const again = runCalcCli(['--db', db, '--', process.execPath, standIn]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /^calc_static: 1 done, 1 failed, 0 not run\n/);
  assert.match(again.stdout, new RegExp(`mp-1:0\\s+done\\s+${barrier(es, em, ee).toFixed(6)}\\s+${es.toFixed(6)}`));
  assert.match(again.stdout, /mp-2:0\s+failed\s+calc mp-2:0: command exited with code 139 in .*; output tail:\n/);
  assert.match(again.stdout, /^calc_neb: 0 done, 0 failed, 0 not run$/m);
});

test('fracflow calc: argv after -- runs without a shell; --design picks one design', () => {
  const { db, ok } = setup();
  rmSync(join(ok, '..', 'crash'), { recursive: true });
  const r = runCalcCli(['--db', db, '--design', 'static', '--workers', '2', '--json', '--', process.execPath, standIn]);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(rows.map((x) => [x['stage'], x['key'], x['state']]), [['calc_static', 'mp-1:0', 'done'], ['calc_static', 'mp-2:0', 'failed']]);
  assert.match(rows[1]!['last_error'] as string, /^calc mp-2:0: folder ".*crash" does not exist$/);
});

async function parseInProcess(args: string[]): Promise<string> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  register(program);
  try {
    await program.parseAsync(['calc', ...args], { from: 'user' });
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

test('fracflow calc: options and the input table are checked, messages name the option and the value', async () => {
  const { root, db } = setup();
  const cases: [string[], RegExp][] = [
    [['--db', db], /^calc: give the program either as --command "<shell line>" or after -- as argv, not neither$/],
    [['--db', db, '--command', 'vasp', '--', 'vasp'], /^calc: give the program .* not both$/],
    [['--db', db, '--command', 'vasp', '--time-limit', '0'], /--time-limit must be a positive number, got "0"/],
    [['--db', db, '--command', 'vasp', '--kill-grace', 'x'], /--kill-grace must be a positive number, got "x"/],
    [['--db', db, '--command', 'vasp', '--workers', '1.5'], /--workers must be a positive integer, got "1.5"/],
    [['--db', db, '--command', 'vasp', '--design', 'relax'], /argument 'relax' is invalid. Allowed choices are static, neb, both/],
    [['--db', join(root, 'empty.db'), '--command', 'vasp'], /^calc: .*empty\.db has no images table \(run the images stage first; calc reads images\(id, key, static_dir, neb_dir\)\)$/],
  ];
  for (const [args, re] of cases) assert.match(await parseInProcess(args), re, args.join(' '));
  const sql = openSql(db);
  sql.exec('ALTER TABLE images DROP COLUMN neb_dir');
  sql.close();
  assert.match(await parseInProcess(['--db', db, '--command', 'vasp', '--design', 'neb']), /^calc: table images in .*f\.db has no column neb_dir \(--design neb\) and no out_dir$/);
  const sql2 = openSql(db);
  sql2.exec('ALTER TABLE images DROP COLUMN key');
  sql2.close();
  assert.match(await parseInProcess(['--db', db, '--command', 'vasp']), /^calc: table images in .*f\.db has no column key$/);
});

test('fracflow calc over an images stage table with unfinished rows: runs the done ones, stops when no calc row is left, says what was not ready', async () => {
  const { db, ok } = setup();
  const sql = openSql(db);
  sql.exec('DROP TABLE images');
  sql.close();
  // A stand-in for the images stage: a stage table of that name whose rows are set done by hand.
  const images = defineStage({
    module: import.meta.url,
    name: 'images',
    input: { columns: { x: 'float64' } },
    output: { static_dir: 'utf8', neb_dir: 'utf8' },
    work: () => {
      throw new Error('not run in this test');
    },
  });
  const e = await Engine.open({ db, stages: [images] });
  await e.enqueue('images', [{ key: 'mp-1:0', x: 0 }, { key: 'mp-9:0', x: 1 }]);
  sqlOf(e).run("UPDATE images SET state = 'done', static_dir = ? WHERE key = 'mp-1:0'", [ok]);
  await e.close();
  const logs: string[] = [];
  const errs: string[] = [];
  const { log, error } = console;
  console.log = (m: string) => logs.push(m);
  console.error = (m: string) => errs.push(m);
  try {
    assert.equal(await parseInProcess(['--db', db, '--command', `"${process.execPath}" "${standIn}"`, '--json']), '');
  } finally {
    console.log = log;
    console.error = error;
  }
  assert.deepEqual(logs.map((l) => { const r = JSON.parse(l) as Record<string, unknown>; return [r['stage'], r['key'], r['state']]; }), [['calc_static', 'mp-1:0', 'done']]);
  assert.deepEqual(errs, ['calc: 1 images rows were not finished yet; run calc again after the images stage']);
});

test('fracflow calc over the images stage layout (out_dir with vasp_static/ and vasp_neb/)', async () => {
  const { root, db } = setup();
  const out = join(root, 'images', 'mp-5_0');
  step(join(out, 'vasp_static', 'start'), { copy: { 'vasprun.xml.gz': 'LiF.vasprun.xml.gz' } });
  step(join(out, 'vasp_static', 'mid'), { copy: { 'vasprun.xml.gz': 'fe_monomer.vasprun.xml.gz' } });
  step(join(out, 'vasp_static', 'end'), { copy: { 'vasprun.xml.gz': 'static_silicon.vasprun.xml.gz' } });
  const sql = openSql(db);
  sql.exec('DROP TABLE images');
  sql.exec('CREATE TABLE images (id INTEGER PRIMARY KEY, key TEXT NOT NULL, out_dir TEXT)');
  sql.run('INSERT INTO images (key, out_dir) VALUES (?, ?)', ['mp-5:0', out]);
  sql.close();
  const logs: string[] = [];
  const { log } = console;
  console.log = (m: string) => logs.push(m);
  try {
    assert.equal(await parseInProcess(['--db', db, '--command', `"${process.execPath}" "${standIn}"`, '--json']), '');
  } finally {
    console.log = log;
  }
  const rows = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  const d = join(out, 'vasp_static');
  const [es, em, ee] = ['start', 'mid', 'end'].map((s) => readVaspRun(join(d, s)).finalEnergyEv) as [number, number, number];
  assert.deepEqual([rows[0]!['stage'], rows[0]!['key'], rows[0]!['state'], rows[0]!['barrier_ev']], ['calc_static', 'mp-5:0', 'done', barrier(es, em, ee)]);
  assert.deepEqual([rows[1]!['stage'], rows[1]!['state'], rows[1]!['last_error']], ['calc_neb', 'failed', `calc mp-5:0: folder ${JSON.stringify(join(out, 'vasp_neb'))} does not exist`]);
});
