/**
 * `status`: per stage, rows by state, how many failed rows died, the worker count in force, the rate
 * over the last minute and the ETA of what is left. Reads only the queue index, the finished_at index
 * and the partial index of rows with deaths.
 */
import type { RowState, StageStatus } from '../interface.js';
import type { SqlDb } from './connection.js';

/** Window over which `rows/s` is measured (ms). */
export const RATE_WINDOW_MS = 60000;

/** Names of the stage tables registered in the store, in registration order. */
export function stageNames(sql: SqlDb): string[] {
  return sql.all<{ name: string }>('SELECT name FROM engine_stages ORDER BY rowid').map((r) => r.name);
}

/** Per-stage counts, rate and ETA. `liveWorkers` overrides the registered worker counts (a running engine's). */
export function stageStatus(sql: SqlDb, names: readonly string[] = stageNames(sql), liveWorkers?: ReadonlyMap<string, number>, now = Date.now()): StageStatus[] {
  return names.map((stage) => {
    const c: Record<RowState, number> = { pending: 0, running: 0, done: 0, failed: 0 };
    for (const r of sql.all<{ state: RowState; n: number }>(`SELECT state, COUNT(*) AS n FROM ${stage} GROUP BY state`)) c[r.state] = r.n;
    // `+state`: the state is tested on the rows of the window, never used to pick an index — on a stage
    // with 50,000 done rows the state index would have the query read all of them (360 ms) to find the
    // last minute's few (0.1 ms by the finished_at index).
    const recent = sql.get<{ n: number; t0: number | null }>(`SELECT COUNT(*) AS n, MIN(finished_at) AS t0 FROM ${stage} WHERE finished_at >= ? AND +state = 'done'`, [now - RATE_WINDOW_MS])!;
    const span = recent.t0 === null ? 0 : Math.max(1000, now - recent.t0);
    const rate = span > 0 ? (recent.n * 1000) / span : 0;
    const left = c.pending + c.running;
    const workers = liveWorkers?.get(stage) ?? sql.get<{ workers: number }>('SELECT workers FROM engine_stages WHERE name = ?', [stage])?.workers ?? 0;
    const failedDied = c.failed === 0 ? 0 : sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${stage} WHERE state = 'failed' AND fail_kind = 'died'`)!.n;
    return { stage, ...c, failedDied, workers, rowsPerSec: rate, etaSec: left === 0 ? 0 : rate > 0 ? left / rate : null };
  });
}
