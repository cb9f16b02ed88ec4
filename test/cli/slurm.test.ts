/**
 * A real single-node Slurm (test/helpers/slurm.ts: munged, slurmctld and slurmd started here with a
 * slurm.conf generated for this host, stopped in the after-hook): `launch slurm --submit` drains a
 * stage through array tasks, each a `fracflow worker`, and `--keep` tops the queue up; the calc stage
 * with `--executor slurm` runs the VASP stand-in as one batch job per step, stores the barrier, fails
 * a crash with its output tail and a run past its time limit with its reason.
 *
 * Skipped only when the Slurm binaries are absent and CI is not set (.ci/run installs them).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { slurmSkipReason, startSlurm, type SlurmCluster } from '../helpers/slurm.js';
import { toyModule } from '../engine/fixtures/run.js';
import { toyRows } from '../engine/fixtures/toy-stages.js';
import { repoRoot, tsxLoader } from '../helpers/cli.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { readVaspRun } from '../../src/io/vasp-outputs.js';
import { barrier } from '../../src/analysis/vasp-outputs.js';
import type { BatchJobRecord, StageStatus } from '../../src/store/interface.js';

const skip = slurmSkipReason();
const here = dirname(fileURLToPath(import.meta.url));
const standIn = join(here, '..', 'fixtures', 'calc', 'stand-in.mjs');
let cluster: SlurmCluster | null = null;

before(async () => {
  if (!skip) cluster = await startSlurm();
});
after(async () => {
  await cluster?.stop();
});

function ff(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', tsxLoader, join(repoRoot, 'src', 'cli', 'index.ts'), ...args], { env: { ...cluster!.env, NODE_OPTIONS: '' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: { status: number | null; stdout: string; stderr: string }): string {
  assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

async function until<T>(what: string, f: () => T | undefined | false, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${cluster?.logs() ?? ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('launch slurm --submit: array tasks run fracflow worker and drain the stage; --keep tops the queue up; status lists the jobs', { skip: skip ?? false }, async () => {
  const c = cluster!;
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-launch-'));
  const db = join(dir, 'l.db');
  const rows = (from: number, to: number) => {
    const f = join(dir, `rows-${from}.jsonl`);
    writeFileSync(f, toyRows(from, to).map((r) => JSON.stringify(r)).join('\n') + '\n');
    return f;
  };
  // square and plus_one registered by a run that drains both; then square rows that wait: the array
  // tasks' plus_one workers stay in the queue until this test lets their upstream finish.
  ok(ff(['engine', 'enqueue', '--module', toyModule, 'square', rows(0, 4), '--db', db]));
  ok(ff(['engine', 'run', '--module', toyModule, '--only', 'square,plus_one', '--db', db, '--progress', 'off', '--tick-ms', '50']));
  ok(ff(['engine', 'enqueue', '--module', toyModule, 'square', rows(4, 10), '--db', db]));
  const out = join(dir, 'jobs');
  const first = ok(ff(['launch', 'slurm', '--db', db, '--stage', 'plus_one', '--keep', '2', '--cpus-per-worker', '1', '--time', '00:10:00', '--partition', c.partition, '--out', out]));
  const id1 = /^submitted slurm job (\d+): 2 workers of plus_one \(.*\.sbatch\)$/m.exec(first)?.[1];
  assert.ok(id1, first);
  // Both tasks are in the queue (pending or running): --keep 2 submits nothing, --keep 3 one more.
  assert.match(ok(ff(['launch', 'slurm', '--db', db, '--stage', 'plus_one', '--keep', '2', '--time', '00:10:00', '--out', out])), /^plus_one: 2 tasks pending or running, --keep 2: nothing submitted$/m);
  const third = ok(ff(['launch', 'slurm', '--db', db, '--stage', 'plus_one', '--keep', '3', '--time', '00:10:00', '--out', out]));
  const id2 = /^submitted slurm job (\d+): 1 workers of plus_one/m.exec(third)?.[1];
  assert.ok(id2, third);
  const queued = JSON.parse(ok(ff(['status', '--db', db, '--json']))) as (StageStatus & { jobs: BatchJobRecord[] })[];
  assert.deepEqual(queued[1]!.jobs.map((j) => [j.scheduler, j.jobId, j.stage, j.tasks]), [['slurm', id1, 'plus_one', 2], ['slurm', id2, 'plus_one', 1]]);
  // status asks squeue for the jobs' states now: both tasks of the first job are in the queue.
  assert.match(ok(ff(['status', '--db', db])), new RegExp(`^slurm\\s+${id1}\\s+plus_one\\s+2\\s+\\S+ \\S+\\s+((PENDING|RUNNING|CONFIGURING):\\d ?){1,2} \\(now\\)$`, 'm'));
  // The upstream finishes here; the array tasks drain plus_one and end.
  ok(ff(['worker', '--db', db, '--stage', 'square', '--tick-ms', '50']));

  const script = readFileSync(readdirSync(out).filter((f) => f.endsWith('.sbatch')).map((f) => join(out, f)).sort()[0]!, 'utf8');
  assert.match(script, /^#SBATCH --array=0-1$/m);
  assert.match(script, new RegExp(`^#SBATCH --partition=${c.partition}$`, 'm'));
  assert.match(script, new RegExp(`^exec '${process.execPath}' '--import' '[^']+' '[^']+/src/cli/index\\.ts' worker --db '${db}' --stage 'plus_one' --threads 1$`, 'm'));

  await until('the array tasks done', () => {
    const st = JSON.parse(ok(ff(['status', '--db', db, '--json']))) as StageStatus[];
    return st[1]!.done === 10 && c.client('squeue', ['-h', '-r', '-o', '%i']).trim() === '';
  }, 150_000);
  const s = openSql(db);
  try {
    const done = s.all<{ key: string; y: number; z: number; state: string; attempts: number }>('SELECT key, y, z, state, attempts FROM plus_one ORDER BY key');
    assert.deepEqual(done.map((r) => r.key), toyRows(0, 10).map((r) => r.key));
    for (const r of done) assert.deepEqual([r.state, r.z, r.attempts], ['done', r.y + 1, 1], r.key);
    // Each worker registered with its array task, and deregistered when the stage was exhausted.
    const starts = s.all<{ detail: string }>("SELECT detail FROM engine_events WHERE kind = 'worker-start' AND stage = 'plus_one'").map((e) => (JSON.parse(e.detail) as { job: string }).job).sort();
    assert.deepEqual(starts, [`slurm:${id1}_0`, `slurm:${id1}_1`, `slurm:${id2}_0`].sort());
    assert.equal(s.all<{ n: number }>('SELECT COUNT(*) AS n FROM engine_workers')[0]!.n, 0);
  } finally {
    s.close();
  }
  // Finished: status shows the tasks' final states, live from the scheduler (the controller keeps finished jobs for MinJobAge).
  const finished = ok(ff(['status', '--db', db]));
  assert.match(finished, new RegExp(`^slurm\\s+${id1}\\s+plus_one\\s+2\\s+\\S+ \\S+\\s+COMPLETED:2 \\(now\\)$`, 'm'), finished);
  assert.match(finished, new RegExp(`^slurm\\s+${id2}\\s+plus_one\\s+1\\s+\\S+ \\S+\\s+COMPLETED:1 \\(now\\)$`, 'm'), finished);
  const logs = readdirSync(out).filter((f) => f.endsWith('.log'));
  assert.equal(logs.length, 3, logs.join(', '));
  for (const l of logs) assert.match(readFileSync(join(out, l), 'utf8'), /^worker \S+: plus_one: \d+ rows done, 0 failed attempts in [\d.]+ s; ended: exhausted$/m);
});

function step(dir: string, plan: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stand-in.json'), JSON.stringify(plan));
}

test('calc --executor slurm: each step a batch job; the barrier stored, a crash failed with its tail, a run past its time limit failed with the reason', { skip: skip ?? false }, async () => {
  const c = cluster!;
  const root = mkdtempSync(join(tmpdir(), 'fracflow-calc-slurm-'));
  const good = join(root, 'ok');
  step(join(good, 'start'), { copy: { 'vasprun.xml.gz': 'static_silicon.vasprun.xml.gz' } });
  step(join(good, 'mid'), { copy: { 'vasprun.xml.gz': 'fe_monomer.vasprun.xml.gz' } });
  step(join(good, 'end'), { copy: { 'vasprun.xml.gz': 'LiF.vasprun.xml.gz' } });
  const crash = join(root, 'crash');
  step(join(crash, 'start'), { printErr: 'VERY BAD NEWS\n', exit: 3 });
  step(join(crash, 'mid'), {});
  step(join(crash, 'end'), {});
  const slow = join(root, 'slow');
  step(join(slow, 'start'), { print: 'starting a long run\n', sleepSec: 120 });
  step(join(slow, 'mid'), {});
  step(join(slow, 'end'), {});
  const db = join(root, 'c.db');
  const sql = openSql(db);
  sql.exec('CREATE TABLE images (id INTEGER PRIMARY KEY, key TEXT NOT NULL, static_dir TEXT, neb_dir TEXT)');
  sql.run('INSERT INTO images (key, static_dir, neb_dir) VALUES (?, ?, NULL), (?, ?, NULL), (?, ?, NULL)', ['mp-1:0', good, 'mp-2:0', crash, 'mp-3:0', slow]);
  sql.close();
  const r = ff(['calc', '--db', db, '--command', `"${process.execPath}" "${standIn}"`, '--time-limit', '20', '--kill-grace', '2', '--workers', '3', '--executor', 'slurm', '--partition', c.partition, '--poll', '0.5', '--json']);
  assert.equal(r.status, 0, `${r.stderr}\n${c.logs()}`);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const byKey = new Map(rows.map((x) => [x['key'] as string, x]));
  const es = readVaspRun(join(good, 'start')).finalEnergyEv;
  const em = readVaspRun(join(good, 'mid')).finalEnergyEv;
  const ee = readVaspRun(join(good, 'end')).finalEnergyEv;
  assert.deepEqual(byKey.get('mp-1:0'), { stage: 'calc_static', key: 'mp-1:0', state: 'done', barrier_ev: barrier(es, em, ee), energy_start_ev: es, energy_mid_ev: em, energy_end_ev: ee, exit_code: 0, last_error: null });
  // Each step ran as a job of its own, in its folder, with its log there.
  for (const s of ['start', 'mid', 'end']) assert.ok(existsSync(join(good, s, 'fracflow-job.log')), s);
  assert.equal(byKey.get('mp-2:0')!['state'], 'failed');
  assert.match(byKey.get('mp-2:0')!['last_error'] as string, /^calc mp-2:0: command exited with code 3 in .*\/crash\/start; Slurm job \d+ ended FAILED; output tail:\n\[fracflow calc\] start\$ .*\nVERY BAD NEWS\n$/);
  assert.equal(byKey.get('mp-3:0')!['state'], 'failed');
  assert.match(byKey.get('mp-3:0')!['last_error'] as string, /^calc mp-3:0: command timed out after 20 s in .*\/slow\/start \(Slurm job \d+ cancelled at the time limit\); output tail:\n\[fracflow calc\] start\$ .*\nstarting a long run\n/);
  // The sleeper of the cancelled job is gone with it, and no job is left in the queue.
  const sleeper = Number(readFileSync(join(slow, 'start', 'sleeper.pid'), 'utf8'));
  await until('the timed-out job\'s processes gone', () => {
    try {
      process.kill(sleeper, 0);
      return false;
    } catch {
      return true;
    }
  }, 30_000);
  await until('an empty queue', () => c.client('squeue', ['-h', '-o', '%i']).trim() === '', 30_000);
});
