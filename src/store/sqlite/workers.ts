/**
 * Stage workers and batch jobs: a `fracflow worker` registers itself, beats (its rows done; the beat
 * returns its thread allotment, which `scale` sets), and deregisters when it ends; `fracflow launch
 * --submit` records the jobs it submitted and the states the scheduler reports for them.
 */
import { hostname } from 'node:os';
import { isStale } from '../worker-liveness.js';
import type { BatchJobRecord, WorkerRecord, WorkerRegistration } from '../interface.js';
import type { SqlDb } from './connection.js';
import { recordEvent } from './control.js';

interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  stage: string;
  threads: number;
  started_at: number;
  heartbeat_at: number;
  rows_done: number;
  job: string | null;
}

export function registerWorker(sql: SqlDb, w: WorkerRegistration, now: number): void {
  sql.transaction(() => {
    sql.run(
      `INSERT INTO engine_workers (id, host, pid, stage, threads, started_at, heartbeat_at, rows_done, job) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, stage = excluded.stage, threads = excluded.threads,
         started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, rows_done = 0, job = excluded.job`,
      [w.id, w.host, w.pid, w.stage, w.threads, now, now, w.job ?? null],
    );
    recordEvent(sql, w.stage, 'worker-start', { id: w.id, threads: w.threads, job: w.job ?? null }, now);
  }, 'immediate');
}

export function heartbeatWorker(sql: SqlDb, id: string, rowsDone: number, now: number): { threads: number } | null {
  const r = sql.get<{ threads: number }>('UPDATE engine_workers SET heartbeat_at = ?, rows_done = ? WHERE id = ? RETURNING threads', [now, rowsDone, id]);
  return r ? { threads: r.threads } : null;
}

export function deregisterWorker(sql: SqlDb, id: string, now: number): void {
  sql.transaction(() => {
    const w = sql.get<{ stage: string; rows_done: number }>('DELETE FROM engine_workers WHERE id = ? RETURNING stage, rows_done', [id]);
    if (w) recordEvent(sql, w.stage, 'worker-exit', { id, rowsDone: w.rows_done }, now);
  }, 'immediate');
}

export function listWorkers(sql: SqlDb, stage: string | undefined, now: number): WorkerRecord[] {
  const rows = stage === undefined
    ? sql.all<WorkerRow>('SELECT * FROM engine_workers ORDER BY started_at, id')
    : sql.all<WorkerRow>('SELECT * FROM engine_workers WHERE stage = ? ORDER BY started_at, id', [stage]);
  const host = hostname();
  return rows.map((r) => {
    const w = { id: r.id, host: r.host, pid: r.pid, stage: r.stage, threads: r.threads, job: r.job, startedAt: r.started_at, heartbeatAt: r.heartbeat_at, rowsDone: r.rows_done };
    return { ...w, stale: isStale(w, now, host) };
  });
}

/**
 * Spread `total` threads over the stage's live workers (oldest first get the remainder); runs inside
 * the caller's transaction (`scale`).
 */
export function spreadThreads(sql: SqlDb, stage: string, total: number, now: number): { id: string; threads: number }[] {
  const live = listWorkers(sql, stage, now).filter((w) => !w.stale);
  const base = Math.floor(total / Math.max(1, live.length));
  const extra = total - base * live.length;
  return live.map((w, i) => {
    const threads = base + (i < extra ? 1 : 0);
    sql.run('UPDATE engine_workers SET threads = ? WHERE id = ?', [threads, w.id]);
    return { id: w.id, threads };
  });
}

interface JobRow {
  scheduler: 'slurm' | 'pbs';
  job_id: string;
  stage: string;
  tasks: number;
  script: string;
  submitted_at: number;
  state: string | null;
  checked_at: number | null;
}

export function recordJob(sql: SqlDb, j: Omit<BatchJobRecord, 'state' | 'checkedAt'>, now: number): void {
  sql.transaction(() => {
    sql.run('INSERT INTO engine_jobs (scheduler, job_id, stage, tasks, script, submitted_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scheduler, job_id) DO NOTHING', [j.scheduler, j.jobId, j.stage, j.tasks, j.script, j.submittedAt]);
    recordEvent(sql, j.stage, 'job-submitted', { scheduler: j.scheduler, jobId: j.jobId, tasks: j.tasks, script: j.script }, now);
  }, 'immediate');
}

export function listJobs(sql: SqlDb, stage?: string): BatchJobRecord[] {
  const rows = stage === undefined
    ? sql.all<JobRow>('SELECT scheduler, job_id, stage, tasks, script, submitted_at, state, checked_at FROM engine_jobs ORDER BY id')
    : sql.all<JobRow>('SELECT scheduler, job_id, stage, tasks, script, submitted_at, state, checked_at FROM engine_jobs WHERE stage = ? ORDER BY id', [stage]);
  return rows.map((r) => ({ scheduler: r.scheduler, jobId: r.job_id, stage: r.stage, tasks: r.tasks, script: r.script, submittedAt: r.submitted_at, state: r.state, checkedAt: r.checked_at }));
}

export function setJobStates(sql: SqlDb, scheduler: 'slurm' | 'pbs', states: readonly { jobId: string; state: string }[], now: number): void {
  sql.transaction(() => {
    for (const s of states) sql.run('UPDATE engine_jobs SET state = ?, checked_at = ? WHERE scheduler = ? AND job_id = ?', [s.state, now, scheduler, s.jobId]);
  }, 'immediate');
}
