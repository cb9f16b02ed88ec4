/**
 * The calc stages through the engine on a temporary SQLite file, with a stand-in for VASP
 * (test/fixtures/calc/stand-in.mjs) that copies real VASP outputs, crashes, prints or sleeps past the
 * time limit; plus every validation branch of the stage parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sqlOf } from '../helpers/engine.js';
import { Engine } from '../../src/engine/engine.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { readVaspRun } from '../../src/io/vasp-outputs.js';
import { barrier } from '../../src/analysis/vasp-outputs.js';
import { calcLeaseMs, calcNeb, calcStages, calcStatic, checkCalcParams, runCalc as runCalcWith, CalcError } from '../../src/stages/calc.js';
import { localExecutor, trackProcessGroups } from '../../src/engine/executor.js';

const runCalc = (key: string, dir: string, design: string, params: Readonly<Record<string, unknown>>) => runCalcWith(key, dir, design, params, localExecutor);

const here = dirname(fileURLToPath(import.meta.url));
const standIn = join(here, '..', 'fixtures', 'calc', 'stand-in.mjs');
const shellCommand = `"${process.execPath}" "${standIn}"`;

/** A step folder with a stand-in plan. */
function step(dir: string, plan: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stand-in.json'), JSON.stringify(plan));
}

function staticFolder(root: string, name: string, plans: [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]): string {
  const d = join(root, name);
  step(join(d, 'start'), plans[0]);
  step(join(d, 'mid'), plans[1]);
  step(join(d, 'end'), plans[2]);
  return d;
}

/** A process that exists and is not a zombie waiting for its (re)parent to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Wait up to `ms` for a signalled process to be gone. */
async function gone(pid: number, ms = 3000): Promise<boolean> {
  const t0 = Date.now();
  while (alive(pid)) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

interface CalcRow {
  key: string;
  state: string;
  attempts: number;
  last_error: string | null;
  energy_start_ev: number | null;
  energy_mid_ev: number | null;
  energy_end_ev: number | null;
  barrier_ev: number | null;
  exit_code: number | null;
  electronic_converged: number | null;
  energy_files: string | null;
  output_tail: string | null;
}

test('calc stages through the engine: energies and barrier from readVaspRun, a crash, a timeout and unparsable output fail with their output tail, the other rows go on', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fracflow-calc-'));
  const ok = staticFolder(root, 'ok', [
    { copy: { 'vasprun.xml.gz': 'relaxation.vasprun.xml.gz' }, print: 'start done\n' },
    { copy: { 'vasprun.xml.gz': 'LiF.vasprun.xml.gz' } },
    // OUTCAR fallback: no vasprun.xml in this folder.
    { copy: { 'OUTCAR.gz': 'etest1.OUTCAR.gz' }, print: 'end done\n' },
  ]);
  const crash = staticFolder(root, 'crash', [
    { copy: { 'vasprun.xml.gz': 'LiF.vasprun.xml.gz' } },
    { print: `${'x'.repeat(99)}\n`, repeat: 100, printErr: 'E', exit: 3 },
    { copy: { 'vasprun.xml.gz': 'LiF.vasprun.xml.gz' } },
  ]);
  const slow = staticFolder(root, 'slow', [{ print: 'about to hang\n', sleepSec: 60 }, {}, {}]);
  const garbage = staticFolder(root, 'garbage', [
    { copy: { 'vasprun.xml.gz': 'LiF.vasprun.xml.gz' } },
    { write: { 'vasprun.xml': 'segmentation fault left this' }, print: 'mid wrote junk\n' },
    { copy: { 'vasprun.xml.gz': 'LiF.vasprun.xml.gz' } },
  ]);
  const neb = join(root, 'neb');
  step(join(neb, 'relax_start'), { copy: { 'vasprun.xml.gz': 'fe_monomer.vasprun.xml.gz' }, write: { CONTCAR: 'relaxed start\n' } });
  step(join(neb, 'relax_end'), { copy: { 'vasprun.xml.gz': 'static_silicon.vasprun.xml.gz' }, write: { CONTCAR: 'relaxed end\n' } });
  step(join(neb, 'neb'), { copy: { '01/vasprun.xml.gz': 'etest3.vasprun.xml.gz' } });
  for (const img of ['00', '01', '02']) mkdirSync(join(neb, 'neb', img), { recursive: true });

  const db = join(root, 'calc.db');
  const sql = openSql(db);
  sql.exec('CREATE TABLE images (id INTEGER PRIMARY KEY, key TEXT NOT NULL, static_dir TEXT, neb_dir TEXT)');
  for (const [key, s, n] of [['p-ok', ok, null], ['p-crash', crash, null], ['p-slow', slow, null], ['p-garbage', garbage, null], ['p-neb', null, neb]]) {
    sql.run('INSERT INTO images (key, static_dir, neb_dir) VALUES (?, ?, ?)', [key, s, n]);
  }
  sql.close();

  // The static design through a shell command line, the NEB design as an argv (no shell).
  const [st] = calcStages({ command: shellCommand, timeLimitSec: 3, killGraceSec: 0.5, designs: ['static'], workers: 2 });
  const [nb] = calcStages({ command: [process.execPath, standIn], timeLimitSec: 3, killGraceSec: 0.5, designs: ['neb'] });
  const e = await Engine.open({ db, stages: [st!, nb!], tickMs: 50 });
  await e.run();

  const rows = new Map(sqlOf(e).all<CalcRow>('SELECT * FROM calc_static').map((r) => [r.key, r]));
  assert.deepEqual([...rows.keys()].sort(), ['p-crash', 'p-garbage', 'p-ok', 'p-slow'], 'a NULL static_dir is not admitted');

  const r = rows.get('p-ok')!;
  const es = readVaspRun(join(ok, 'start')).finalEnergyEv;
  const em = readVaspRun(join(ok, 'mid')).finalEnergyEv;
  const ee = readVaspRun(join(ok, 'end')).finalEnergyEv;
  assert.equal(r.state, 'done', r.last_error ?? '');
  assert.deepEqual([r.energy_start_ev, r.energy_mid_ev, r.energy_end_ev, r.barrier_ev], [es, em, ee, barrier(es, em, ee)]);
  const ref = JSON.parse(readFileSync(join(here, '..', 'fixtures', 'vasp', 'reference.json'), 'utf8')) as { vasprun: Record<string, { final_energy: number }>; outcar: Record<string, { final_energy: number }> };
  assert.deepEqual([es, em, ee], [ref.vasprun['relaxation.vasprun.xml.gz']!.final_energy, ref.vasprun['LiF.vasprun.xml.gz']!.final_energy, ref.outcar['etest1.OUTCAR.gz']!.final_energy], 'pymatgen 2022.11.7 final energies');
  assert.equal(r.exit_code, 0);
  assert.equal(r.energy_files, 'start/vasprun.xml.gz,mid/vasprun.xml.gz,end/OUTCAR.gz');
  assert.equal(r.electronic_converged, null, 'an OUTCAR cannot tell electronic convergence');
  assert.match(r.output_tail!, /\[fracflow calc\] start\$ .*\nstart done\n[\s\S]*\[fracflow calc\] end\$ .*\nend done\n$/);

  const c = rows.get('p-crash')!;
  assert.equal(c.state, 'failed');
  assert.equal(c.attempts, 1, 'a crashed run is not retried by default');
  assert.match(c.last_error!, new RegExp(`^calc p-crash: command exited with code 3 in ${crash}/mid; output tail:\\n`));
  const tail = c.last_error!.slice(c.last_error!.indexOf('output tail:\n') + 'output tail:\n'.length);
  assert.equal(Buffer.byteLength(tail), 4096, 'the last 4 KB of 10 KB of output');
  assert.match(tail, /x{99}\n/);
  assert.equal(c.barrier_ev, null);
  assert.ok(!existsSync(join(crash, 'end', 'vasprun.xml.gz')), 'no step runs after a failed one');

  const s = rows.get('p-slow')!;
  assert.equal(s.state, 'failed');
  assert.match(s.last_error!, new RegExp(`^calc p-slow: command timed out after 3 s in ${slow}/start \\(process group killed\\); output tail:\\n\\[fracflow calc\\] start\\$ .*\\nabout to hang\\n$`));
  const sleeper = Number(readFileSync(join(slow, 'start', 'sleeper.pid'), 'utf8'));
  assert.ok(sleeper > 0 && (await gone(sleeper)), `the stand-in's child (pid ${sleeper}) died with its process group`);

  const g = rows.get('p-garbage')!;
  assert.equal(g.state, 'failed');
  assert.match(g.last_error!, new RegExp(`^calc p-garbage: unparsable output: ${garbage}/mid: no final energy: ${garbage}/mid/vasprun.xml: .*; output tail:\\n[\\s\\S]*mid wrote junk\\n`));

  const n = sqlOf(e).get<CalcRow>('SELECT * FROM calc_neb')!;
  assert.equal(n.key, 'p-neb');
  assert.equal(n.state, 'done', n.last_error ?? '');
  const ns = readVaspRun(join(neb, 'relax_start')).finalEnergyEv;
  const nm = readVaspRun(join(neb, 'neb', '01')).finalEnergyEv;
  const ne = readVaspRun(join(neb, 'relax_end')).finalEnergyEv;
  assert.deepEqual([n.energy_start_ev, n.energy_mid_ev, n.energy_end_ev, n.barrier_ev], [ns, nm, ne, barrier(ns, nm, ne)]);
  assert.equal(n.energy_files, 'relax_start/vasprun.xml.gz,neb/01/vasprun.xml.gz,relax_end/vasprun.xml.gz');
  assert.equal(readFileSync(join(neb, 'neb', '00', 'POSCAR'), 'utf8'), 'relaxed start\n', 'the NEB starts from the relaxed endpoints');
  assert.equal(readFileSync(join(neb, 'neb', '02', 'POSCAR'), 'utf8'), 'relaxed end\n');
  await e.close();
});

test('calc stage parameters: every validation branch names the option and the value', () => {
  const bad: [Record<string, unknown>, string][] = [
    [{}, 'calc: command must be a non-empty shell command line or argv array, got null'],
    [{ command: '  ' }, 'calc: command must be a non-empty shell command line or argv array, got ""'],
    [{ command: [] }, 'calc: command must be a non-empty shell command line or argv array, got []'],
    [{ command: ['vasp', 3] }, 'calc: command must be a non-empty shell command line or argv array, got ["vasp",3]'],
    [{ command: [''] }, 'calc: command must be a non-empty shell command line or argv array, got [""]'],
    [{ command: 'vasp', timeLimitSec: 0 }, 'calc: timeLimitSec must be a positive number, got 0'],
    [{ command: 'vasp', timeLimitSec: '60' }, 'calc: timeLimitSec must be a positive number, got "60"'],
    [{ command: 'vasp', killGraceSec: -1 }, 'calc: killGraceSec must be a positive number, got -1'],
    [{ command: 'vasp', tailBytes: 10.5 }, 'calc: tailBytes must be a positive integer, got 10.5'],
  ];
  for (const [p, msg] of bad) assert.throws(() => checkCalcParams(p), (e: Error) => e instanceof CalcError && e.message === msg, JSON.stringify(p));
  assert.deepEqual(checkCalcParams({ command: 'vasp_std' }), { command: 'vasp_std', timeLimitSec: 3600, killGraceSec: 10, tailBytes: 4096 });
  assert.throws(() => calcStages({ command: 'x', designs: [] }), { message: 'calc: designs must be a non-empty list of static, neb, got []' });
  assert.throws(() => calcStages({ command: 'x', designs: ['relax' as 'static'] }), { message: 'calc: designs must be a non-empty list of static, neb, got ["relax"]' });
  assert.throws(() => calcStages({ command: 'x', folders: 'dirs' as 'columns' }), { message: 'calc: folders must be one of columns, out_dir, got "dirs"' });
  const [so, no] = calcStages({ command: 'x', folders: 'out_dir' });
  const dirOf = (st: typeof so) => [st!.input.columns['dir']!.from, st!.input.columns['sub']!.value];
  assert.deepEqual([so!.name, dirOf(so), so!.filter!.sql, dirOf(no)], ['calc_static', ['out_dir', 'vasp_static'], 'out_dir IS NOT NULL', ['out_dir', 'vasp_neb']]);
  assert.throws(() => calcStages({ command: 'x', workers: 0 }), { message: 'calc: workers must be a positive integer, got 0' });
  assert.throws(() => calcStages({ command: 5 as unknown as string }), { message: 'calc: command must be a non-empty shell command line or argv array, got 5' });
  const [s, n] = calcStages({ command: 'vasp_std', timeLimitSec: 100, killGraceSec: 5, workers: 3 });
  assert.deepEqual([s!.name, n!.name, s!.workers, s!.batchSize, s!.retry.maxAttempts], ['calc_static', 'calc_neb', 3, 1, 1]);
  assert.equal(s!.leaseMs, calcLeaseMs(100, 5));
  assert.ok(s!.leaseMs > 2 * 3 * 105 * 1000, 'a queued batch behind a running one, three steps each, fits in the lease');
  assert.deepEqual(s!.params, { command: 'vasp_std', timeLimitSec: 100, killGraceSec: 5, tailBytes: 4096 });
  assert.deepEqual([calcStatic.input.from, calcNeb.input.from, dirOf(calcStatic), dirOf(calcNeb)], ['images', 'images', ['static_dir', null], ['neb_dir', null]]);
});

test('runCalc: bad design, missing folder or step folder, a program that cannot start, an unconfigured stage', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fracflow-calc-v-'));
  const params = { command: shellCommand };
  await assert.rejects(runCalc('k', root, 'relax', params), { message: 'calc k: design must be one of static, neb, got "relax"' });
  await assert.rejects(runCalc('k', join(root, 'nope'), 'static', params), { message: `calc k: folder ${JSON.stringify(join(root, 'nope'))} does not exist` });
  step(join(root, 'half', 'start'), { copy: { 'vasprun.xml.gz': 'LiF.vasprun.xml.gz' } });
  await assert.rejects(runCalc('k', join(root, 'half'), 'static', params), {
    message: new RegExp(`^calc k: step folder ${join(root, 'half', 'mid')} does not exist \\(a static design needs start, mid, end\\); output tail:\\n\\[fracflow calc\\] start\\$ `),
  });
  step(join(root, 'argv', 'start'), {});
  await assert.rejects(runCalc('k', join(root, 'argv'), 'static', { command: [join(root, 'no-such-program')] }), {
    message: new RegExp(`^calc k: command \\[".*no-such-program"\\] could not start in ${join(root, 'argv', 'start')}: spawn .*ENOENT`),
  });
  // A shell that cannot find the program exits 127 (the shell's own message is in the tail).
  await assert.rejects(runCalc('k', join(root, 'argv'), 'static', { command: 'no-such-program-fracflow' }), {
    message: /^calc k: command exited with code 127 in .*\/argv\/start; output tail:\n[\s\S]*no-such-program-fracflow/,
  });
  await assert.rejects(runCalc('k', join(root, 'argv'), 'static', calcStatic.params), { message: 'calc: command must be a non-empty shell command line or argv array, got null' });
  // A program that ignores SIGTERM: SIGKILL follows after the grace time.
  const t0 = Date.now();
  await assert.rejects(runCalc('k', join(root, 'argv'), 'static', { command: 'trap "" TERM; echo stubborn; sleep 30', timeLimitSec: 0.3, killGraceSec: 0.3 }), {
    message: /^calc k: command timed out after 0.3 s in .*\/argv\/start \(process group killed\); output tail:\n\[fracflow calc\] start\$ .*\nstubborn\n$/,
  });
  assert.ok(Date.now() - t0 < 10000, `SIGKILL after the grace time (took ${Date.now() - t0} ms)`);
  // Killed by a signal rather than exiting.
  await assert.rejects(runCalc('k', join(root, 'argv'), 'static', { command: 'kill -9 $$' }), { message: /^calc k: command was killed by SIGKILL in .*\/argv\/start; output tail:/ });
});

test('a stopped engine: the running program is killed with its process group (trackProcessGroups) and its row goes back to pending', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fracflow-calc-stop-'));
  const d = staticFolder(root, 'long', [{ sleepSec: 60 }, {}, {}]);
  const db = join(root, 'calc.db');
  const sql = openSql(db);
  sql.exec('CREATE TABLE images (id INTEGER PRIMARY KEY, key TEXT NOT NULL, static_dir TEXT, neb_dir TEXT)');
  sql.run('INSERT INTO images (key, static_dir) VALUES (?, ?)', ['p-long', d]);
  sql.close();
  const groups = trackProcessGroups();
  const e = await Engine.open({ db, stages: calcStages({ command: shellCommand, timeLimitSec: 120, designs: ['static'] }), tickMs: 50 });
  const stop = new AbortController();
  const running = e.run({ signal: stop.signal });
  const pidFile = join(d, 'start', 'sleeper.pid');
  const t0 = Date.now();
  while ((groups.running().length === 0 || !existsSync(pidFile)) && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(groups.running().length, 1, 'the running command was announced');
  stop.abort();
  const report = await running;
  assert.equal(report.stopped, true);
  const sleeper = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(alive(sleeper), 'terminating the worker thread leaves the detached group running');
  assert.equal(groups.killAll().length, 1);
  groups.close();
  assert.ok(await gone(sleeper), `the program's child (pid ${sleeper}) was killed with its group`);
  assert.equal(sqlOf(e).get<{ state: string }>("SELECT state FROM calc_static WHERE key = 'p-long'")!.state, 'pending');
  await e.close();
});
