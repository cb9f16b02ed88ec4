/**
 * Reads a scheduler makes on its control tick: the counts of a stage by state, the time of its latest
 * finished row, whether another holder runs rows of it, how many rows of an upstream another process
 * runs are unfinished.
 */
import type { RowState, StateCounts } from '../interface.js';
import type { SqlDb } from './connection.js';
import { emitterOf } from './ensure.js';

/** Rows per state (and the pending rows whose back-off has ended), from the queue index. */
export function counts(sql: SqlDb, table: string, now: number): StateCounts {
  const c: StateCounts = { pending: 0, running: 0, done: 0, failed: 0, ready: 0 };
  for (const r of sql.all<{ state: RowState; n: number }>(`SELECT state, COUNT(*) AS n FROM ${table} GROUP BY state`)) c[r.state] = r.n;
  if (c.pending > 0) c.ready = sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE state = 'pending' AND available_at <= ?`, [now])!.n;
  return c;
}

/** The latest finished_at of a stage table (its finished_at index), or creation time of an emitted table's rows; null when none. */
export function lastFinished(sql: SqlDb, table: string): number | null {
  if (emitterOf(sql, table) !== null) return sql.get<{ f: number }>(`SELECT created_at AS f FROM ${table} ORDER BY created_at DESC LIMIT 1`)?.f ?? null;
  return sql.get<{ f: number }>(`SELECT finished_at AS f FROM ${table} WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`)?.f ?? null;
}

/** Does a holder other than `holder` run rows of this stage (of an emitted table: of its emitting stage)? */
export function othersRunning(sql: SqlDb, table: string, holder: string): boolean {
  const emitter = emitterOf(sql, table);
  if (emitter !== null) return othersRunning(sql, emitter, holder);
  return sql.get(`SELECT 1 AS x FROM ${table} WHERE state = 'running' AND claimed_by <> ? LIMIT 1`, [holder]) !== undefined;
}

/** Pending or running rows of a stage (one another process runs); of an emitted table, of its emitting stage. */
export function unfinished(sql: SqlDb, table: string): number {
  const emitter = emitterOf(sql, table);
  if (emitter !== null) return unfinished(sql, emitter);
  return sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE state IN ('pending', 'running')`)!.n;
}
