/**
 * `fracflow status`: per stage pending/running/done/failed, rows/s, ETA and worker count; then every
 * registered stage worker (host, pid, stage, threads, last heartbeat, rows done; stale ones marked) and
 * the batch jobs `launch --submit` recorded, with their states asked of the scheduler now (squeue and
 * sacct, or qstat) when this host has its commands.
 */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueue } from '../../store/index.js';
import { formatTable } from '../table.js';
import { liveJobStates, onPath, SCHEDULERS, STATE_COMMAND } from '../../engine/batch.js';
import { parseDurationMs } from './worker.js';

function eta(s: number | null): string {
  if (s === null) return '-';
  return s < 60 ? `${s.toFixed(0)}s` : s < 3600 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;
}

function ago(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 60 ? `${s.toFixed(0)}s ago` : s < 3600 ? `${(s / 60).toFixed(1)}m ago` : `${(s / 3600).toFixed(1)}h ago`;
}

export function register(program: Command): void {
  program
    .command('status')
    .description('per stage: pending, running, done, failed, rows/s over the last minute, ETA, workers; then the stage workers and the batch jobs')
    .option('--json', 'JSON instead of tables: one object per stage, its registered workers under `processes` and its batch jobs under `jobs`')
    .option('--scheduler-timeout <duration>', 'how long squeue/sacct or qstat may take to answer for the batch jobs\' states (e.g. 10s)', (v) => parseDurationMs('--scheduler-timeout', v), 10_000)
    .addOption(dbOption())
    .action(async (opts: { json?: boolean; db: string; schedulerTimeout: number }) => {
      const store = await openQueue(opts.db, { readonly: true });
      try {
        const now = Date.now();
        const rows = await store.status(undefined, undefined, now);
        const workers = await store.workers(undefined, now);
        const jobs = await store.jobs();
        // The jobs' states now, from the scheduler's own commands where this host has them; the
        // states last recorded (by `launch --keep`) otherwise. Status only reads the store.
        const live = new Map<string, string>();
        for (const scheduler of SCHEDULERS) {
          const ids = jobs.filter((j) => j.scheduler === scheduler).map((j) => j.jobId);
          if (ids.length === 0 || !onPath(STATE_COMMAND[scheduler])) continue;
          try {
            const r = liveJobStates(scheduler, ids, process.env, opts.schedulerTimeout);
            for (const [id, st] of r.states) live.set(`${scheduler}:${id}`, st);
            for (const n of r.notes) console.error(`fracflow: status: ${n}`);
          } catch (e) {
            console.error(`fracflow: status: could not ask ${scheduler === 'slurm' ? 'Slurm' : 'PBS'} for the jobs' states (${e instanceof Error ? e.message : String(e)}); showing the states last recorded`);
          }
        }
        for (const j of jobs) {
          const st = live.get(`${j.scheduler}:${j.jobId}`);
          if (st !== undefined) {
            j.state = st;
            j.checkedAt = now;
          }
        }
        if (opts.json) {
          console.log(JSON.stringify(rows.map((r) => ({ ...r, processes: workers.filter((w) => w.stage === r.stage), jobs: jobs.filter((j) => j.stage === r.stage) }))));
          return;
        }
        if (rows.length === 0) {
          console.log('no stages yet (run `fracflow engine run`)');
          return;
        }
        console.log(formatTable(
          ['stage', 'pending', 'running', 'done', 'failed', 'rows/s', 'ETA', 'workers'],
          rows.map((r) => [r.stage, String(r.pending), String(r.running), String(r.done), String(r.failed), r.rowsPerSec.toFixed(1), eta(r.etaSec), String(r.workers)]),
        ));
        if (workers.length > 0) {
          console.log('');
          console.log(formatTable(
            ['worker', 'host', 'pid', 'stage', 'threads', 'heartbeat', 'rows done', 'job', 'state'],
            workers.map((w) => [w.id, w.host, String(w.pid), w.stage, String(w.threads), ago(now - w.heartbeatAt), String(w.rowsDone), w.job ?? '-', w.stale ? 'STALE' : 'live']),
          ));
        }
        if (jobs.length > 0) {
          console.log('');
          console.log(formatTable(
            ['scheduler', 'job', 'stage', 'tasks', 'submitted', 'last state'],
            jobs.map((j) => [j.scheduler, j.jobId, j.stage, String(j.tasks), new Date(j.submittedAt).toISOString().slice(0, 19).replace('T', ' '), j.state === null ? '-' : live.has(`${j.scheduler}:${j.jobId}`) ? `${j.state} (now)` : `${j.state} (${ago(now - (j.checkedAt ?? now))})`]),
          ));
        }
      } finally {
        await store.close();
      }
    });
}
