/**
 * Stage workers and batch jobs on PostgreSQL (the SQLite store's workers.ts in this dialect): a
 * `fracflow worker` registers itself, beats (its rows done; the beat returns its thread allotment,
 * which `scale` sets), and deregisters when it ends; `fracflow launch --submit` records the jobs it
 * submitted and the states the scheduler reports for them.
 */
import { hostname } from 'node:os';
import type { BatchJobRecord, WorkerRecord, WorkerRegistration } from '../interface.js';
import { isStale } from '../worker-liveness.js';
import type { PgTx } from './connection.js';
import { recordEvent } from './control.js';

interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  stage: string;
  threads: number;
  started_at: number;
  heartbeat_at: number;
  rows_done: string | number;
  job: string | null;
}

export async function registerWorker(tx: PgTx, w: WorkerRegistration, now: number): Promise<void> {
  await tx.run(
    `INSERT INTO engine_workers (id, host, pid, stage, threads, started_at, heartbeat_at, rows_done, job) VALUES (@id, @host, @pid, @stage, @threads, @now, @now, 0, @job)
     ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, stage = excluded.stage, threads = excluded.threads,
       started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, rows_done = 0, job = excluded.job`,
    { id: w.id, host: w.host, pid: w.pid, stage: w.stage, threads: w.threads, now, job: w.job ?? null },
  );
  await recordEvent(tx, w.stage, 'worker-start', { id: w.id, threads: w.threads, job: w.job ?? null }, now);
}

export async function heartbeatWorker(tx: PgTx, id: string, rowsDone: number, now: number): Promise<{ threads: number } | null> {
  const r = await tx.get<{ threads: number }>('UPDATE engine_workers SET heartbeat_at = @now, rows_done = @rows WHERE id = @id RETURNING threads', { now, rows: rowsDone, id });
  return r ? { threads: r.threads } : null;
}

export async function deregisterWorker(tx: PgTx, id: string, now: number): Promise<void> {
  const w = await tx.get<{ stage: string; rows_done: string | number }>('DELETE FROM engine_workers WHERE id = @id RETURNING stage, rows_done', { id });
  if (w) await recordEvent(tx, w.stage, 'worker-exit', { id, rowsDone: Number(w.rows_done) }, now);
}

export async function listWorkers(tx: PgTx, stage: string | undefined, now: number): Promise<WorkerRecord[]> {
  const rows = stage === undefined
    ? await tx.all<WorkerRow>('SELECT * FROM engine_workers ORDER BY started_at, id')
    : await tx.all<WorkerRow>('SELECT * FROM engine_workers WHERE stage = @stage ORDER BY started_at, id', { stage });
  const host = hostname();
  return rows.map((r) => {
    const w = { id: r.id, host: r.host, pid: r.pid, stage: r.stage, threads: r.threads, job: r.job, startedAt: r.started_at, heartbeatAt: r.heartbeat_at, rowsDone: Number(r.rows_done) };
    return { ...w, stale: isStale(w, now, host) };
  });
}

/** Spread `total` threads over the stage's live workers (oldest first get the remainder), in the caller's transaction. */
export async function spreadThreads(tx: PgTx, stage: string, total: number, now: number): Promise<{ id: string; threads: number }[]> {
  const live = (await listWorkers(tx, stage, now)).filter((w) => !w.stale);
  const base = Math.floor(total / Math.max(1, live.length));
  const extra = total - base * live.length;
  const out: { id: string; threads: number }[] = [];
  for (let i = 0; i < live.length; i++) {
    const threads = base + (i < extra ? 1 : 0);
    await tx.run('UPDATE engine_workers SET threads = @threads WHERE id = @id', { threads, id: live[i]!.id });
    out.push({ id: live[i]!.id, threads });
  }
  return out;
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

export async function recordJob(tx: PgTx, j: Omit<BatchJobRecord, 'state' | 'checkedAt'>, now: number): Promise<void> {
  await tx.run(
    'INSERT INTO engine_jobs (scheduler, job_id, stage, tasks, script, submitted_at) VALUES (@scheduler, @job, @stage, @tasks, @script, @at) ON CONFLICT (scheduler, job_id) DO NOTHING',
    { scheduler: j.scheduler, job: j.jobId, stage: j.stage, tasks: j.tasks, script: j.script, at: j.submittedAt },
  );
  await recordEvent(tx, j.stage, 'job-submitted', { scheduler: j.scheduler, jobId: j.jobId, tasks: j.tasks, script: j.script }, now);
}

export async function listJobs(tx: PgTx, stage?: string): Promise<BatchJobRecord[]> {
  const cols = 'SELECT scheduler, job_id, stage, tasks, script, submitted_at, state, checked_at FROM engine_jobs';
  const rows = stage === undefined ? await tx.all<JobRow>(`${cols} ORDER BY id`) : await tx.all<JobRow>(`${cols} WHERE stage = @stage ORDER BY id`, { stage });
  return rows.map((r) => ({ scheduler: r.scheduler, jobId: r.job_id, stage: r.stage, tasks: r.tasks, script: r.script, submittedAt: r.submitted_at, state: r.state, checkedAt: r.checked_at }));
}

export async function setJobStates(tx: PgTx, scheduler: 'slurm' | 'pbs', states: readonly { jobId: string; state: string }[], now: number): Promise<void> {
  for (const s of states) await tx.run('UPDATE engine_jobs SET state = @state, checked_at = @now WHERE scheduler = @scheduler AND job_id = @job', { state: s.state, now, scheduler, job: s.jobId });
}
