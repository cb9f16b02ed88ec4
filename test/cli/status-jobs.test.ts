/**
 * `status` asks the scheduler for the recorded batch jobs' states now, through stand-ins for Slurm's
 * `squeue`/`sacct` and PBS's `qstat` on PATH: the live states shown `(now)`; jobs squeue no longer
 * lists from sacct; a scheduler command that fails or does not answer within `--scheduler-timeout`
 * gives a message naming it and the states last recorded; a host without the commands shows the
 * recorded states without a word. (The real Slurm: test/cli/slurm.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { toyModule } from '../engine/fixtures/run.js';
import { openQueue } from '../../src/store/index.js';
import { parseSacct } from '../../src/engine/batch.js';
import type { BatchJobRecord, StageStatus } from '../../src/store/interface.js';

function stub(dir: string, name: string, body: string): void {
  const f = join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
}

test('parseSacct: array tasks, ranges and "CANCELLED by N" counted per array id; other jobs ignored', () => {
  const out = ['4242_0|COMPLETED', '4242_1|CANCELLED by 0', '4242_[2-4]|PENDING', '77|FAILED', '5_0|COMPLETED', ''].join('\n');
  const m = parseSacct(out, new Set(['4242', '77']));
  assert.deepEqual([...m].map(([id, s]) => [id, Object.fromEntries(s)]), [['4242', { COMPLETED: 1, CANCELLED: 1, PENDING: 3 }], ['77', { FAILED: 1 }]]);
});

test('status refreshes the batch jobs\' states from squeue/sacct and qstat; a failing or silent scheduler is named, the recorded states shown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-status-jobs-'));
  const db = join(dir, 's.db');
  const rows = join(dir, 'rows.jsonl');
  writeFileSync(rows, '{"key":"k0","x":0}\n');
  assert.equal(runCli(['engine', 'enqueue', '--module', toyModule, 'square', rows, '--db', db]).status, 0);
  const store = await openQueue(db);
  try {
    await store.recordJob({ scheduler: 'slurm', jobId: '4242', stage: 'square', tasks: 2, script: '/j/a.sbatch', submittedAt: Date.now() });
    await store.recordJob({ scheduler: 'slurm', jobId: '4300', stage: 'square', tasks: 1, script: '/j/b.sbatch', submittedAt: Date.now() });
    await store.recordJob({ scheduler: 'pbs', jobId: '88[].pbs1', stage: 'square', tasks: 2, script: '/j/c.pbs', submittedAt: Date.now() });
    await store.setJobStates('slurm', [{ jobId: '4242', state: 'PENDING:2' }]);
  } finally {
    await store.close();
  }
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // Only the stand-ins on PATH: no real scheduler command can be found.
  const env = (extra: Record<string, string> = {}) => ({ PATH: bin, ...extra });
  const jobsOf = (stdout: string) => (JSON.parse(stdout) as (StageStatus & { jobs: BatchJobRecord[] })[])[0]!.jobs;

  // No scheduler commands on this host: the recorded states, no message.
  let r = runCli(['status', '--db', db], { env: env() });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^slurm\s+4242\s+square\s+2\s+\S+ \S+\s+PENDING:2 \(\d+s ago\)$/m);
  assert.match(r.stdout, /^slurm\s+4300\s+square\s+1\s+\S+ \S+\s+-$/m);

  // squeue lists 4242's tasks (and someone else's job); 4300 is gone from it and sacct has it; qstat has the PBS array's subjobs.
  stub(bin, 'squeue', `echo '4242|4242_0|RUNNING'\necho '4242|4242_1|COMPLETED'\necho '9|9_0|RUNNING'`);
  stub(bin, 'sacct', `case "$*" in *4300*) echo '4300_0|TIMEOUT';; esac`);
  stub(bin, 'qstat', [
    `echo 'Job id            Name             User              Time Use S Queue'`,
    `echo '----------------  ---------------- ----------------  -------- - -----'`,
    `echo '88[].pbs1         ff-square        me                       0 B workq'`,
    `echo '88[0].pbs1        ff-square        me                00:00:01 R workq'`,
    `echo '88[1].pbs1        ff-square        me                00:00:02 F workq'`,
  ].join('\n'));
  r = runCli(['status', '--db', db], { env: env() });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^slurm\s+4242\s+square\s+2\s+\S+ \S+\s+COMPLETED:1 RUNNING:1 \(now\)$/m, r.stdout);
  assert.match(r.stdout, /^slurm\s+4300\s+square\s+1\s+\S+ \S+\s+TIMEOUT:1 \(now\)$/m, r.stdout);
  assert.match(r.stdout, /^pbs\s+88\[\]\.pbs1\s+square\s+2\s+\S+ \S+\s+F:1 R:1 \(now\)$/m, r.stdout);
  r = runCli(['status', '--db', db, '--json'], { env: env() });
  assert.deepEqual(jobsOf(r.stdout).map((j) => j.state), ['COMPLETED:1 RUNNING:1', 'TIMEOUT:1', 'F:1 R:1']);

  // sacct without accounting: 4300 shown gone, and why.
  stub(bin, 'sacct', `echo 'sacct: error: Slurm accounting storage is disabled' >&2; exit 1`);
  r = runCli(['status', '--db', db], { env: env() });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^slurm\s+4300\s+square\s+1\s+\S+ \S+\s+gone \(now\)$/m);
  assert.match(r.stderr, /^fracflow: status: jobs squeue no longer lists are shown as gone: sacct -n -X -P -o JobID,State -j 4300 failed \(exit 1\): sacct: error: Slurm accounting storage is disabled$/m);

  // squeue fails: named with its message; the recorded states.
  stub(bin, 'squeue', `echo 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)' >&2; exit 1`);
  r = runCli(['status', '--db', db], { env: env() });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^fracflow: status: could not ask Slurm for the jobs' states \(squeue -h -r --states=all -u \S+ -o %F\|%i\|%T failed \(exit 1\): slurm_load_jobs error: Unable to contact slurm controller \(connect failure\)\); showing the states last recorded$/m);
  assert.match(r.stdout, /^slurm\s+4242\s+square\s+2\s+\S+ \S+\s+PENDING:2 \(\d+s ago\)$/m);
  assert.match(r.stdout, /^pbs\s+88\[\]\.pbs1\s+square\s+2\s+\S+ \S+\s+F:1 R:1 \(now\)$/m, 'PBS still answered');

  // squeue does not answer: given up after --scheduler-timeout.
  stub(bin, 'squeue', 'exec /bin/sleep 30');
  const t0 = Date.now();
  r = runCli(['status', '--db', db, '--scheduler-timeout', '1s'], { env: env() });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Date.now() - t0 < 20_000, 'status did not wait for squeue');
  assert.match(r.stderr, /^fracflow: status: could not ask Slurm for the jobs' states \(squeue gave no answer within 1 s \(is the scheduler's controller reachable\?\)\); showing the states last recorded$/m);

  r = runCli(['status', '--db', db, '--scheduler-timeout', 'soon'], { env: env() });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--scheduler-timeout must be a duration such as 90, 30s, 10m or 2h, got "soon"/);
});
