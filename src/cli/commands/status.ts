/**
 * `fracflow status`: per stage pending/running/done/failed, rows/s, ETA and worker count; then every
 * registered stage worker (host, pid, stage, threads, last heartbeat, rows done; stale ones marked) and
 * the batch jobs `launch --submit` recorded.
 */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueue } from '../../store/index.js';
import { formatTable } from '../table.js';

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
    .addOption(dbOption())
    .action(async (opts: { json?: boolean; db: string }) => {
      const store = await openQueue(opts.db, { readonly: true });
      try {
        const now = Date.now();
        const rows = await store.status(undefined, undefined, now);
        const workers = await store.workers(undefined, now);
        const jobs = await store.jobs();
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
            jobs.map((j) => [j.scheduler, j.jobId, j.stage, String(j.tasks), new Date(j.submittedAt).toISOString().slice(0, 19).replace('T', ' '), j.state === null ? '-' : `${j.state} (${ago(now - (j.checkedAt ?? now))})`]),
          ));
        }
      } finally {
        await store.close();
      }
    });
}
