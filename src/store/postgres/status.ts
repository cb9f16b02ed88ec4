/**
 * `status` on PostgreSQL: per stage, rows by state, failed rows that died, the worker count in force,
 * the rate over the last minute and the ETA (see src/store/sqlite/status.ts).
 */
import type { RowState, StageStatus } from '../interface.js';
import type { PgTx } from './connection.js';

export const RATE_WINDOW_MS = 60000;

/** Names of the stage tables registered in the store, in registration order. */
export async function stageNames(tx: PgTx): Promise<string[]> {
  return (await tx.all<{ name: string }>('SELECT name FROM engine_stages ORDER BY seq')).map((r) => r.name);
}

export async function stageStatus(tx: PgTx, names: readonly string[] | undefined, liveWorkers: ReadonlyMap<string, number> | undefined, now: number): Promise<StageStatus[]> {
  const out: StageStatus[] = [];
  for (const stage of names ?? (await stageNames(tx))) {
    const c: Record<RowState, number> = { pending: 0, running: 0, done: 0, failed: 0 };
    let failedDied = 0;
    // Two reads: the counts by state read the state alone, which an index-only scan of an index led by
    // it answers on a vacuumed table (50,000 rows: 10 ms, against 120 ms for a scan of the rows that
    // also reads fail_kind); the failed rows that died are few and found through the same index.
    for (const r of await tx.all<{ state: RowState; n: number }>(`SELECT state, COUNT(*) AS n FROM ${stage} GROUP BY state`)) c[r.state] = r.n;
    if (c.failed > 0) failedDied = (await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${stage} WHERE state = 'failed' AND fail_kind = 'died'`))!.n;
    const recent = (await tx.get<{ n: number; t0: number | null }>(`SELECT COUNT(*) AS n, MIN(finished_at) AS t0 FROM ${stage} WHERE finished_at >= @since AND state = 'done'`, { since: now - RATE_WINDOW_MS }))!;
    const span = recent.t0 === null ? 0 : Math.max(1000, now - recent.t0);
    const rate = span > 0 ? (recent.n * 1000) / span : 0;
    const left = c.pending + c.running;
    const workers = liveWorkers?.get(stage) ?? (await tx.get<{ workers: number }>('SELECT workers FROM engine_stages WHERE name = @s', { s: stage }))?.workers ?? 0;
    out.push({ stage, ...c, failedDied, workers, rowsPerSec: rate, etaSec: left === 0 ? 0 : rate > 0 ? left / rate : null });
  }
  return out;
}
