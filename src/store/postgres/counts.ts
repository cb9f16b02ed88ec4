/**
 * Reads a scheduler makes on its control tick, on PostgreSQL (see src/store/sqlite/counts.ts).
 */
import type { RowState, StateCounts } from '../interface.js';
import type { PgTx } from './connection.js';
import { emitterOf } from './ensure.js';

/** Rows per state (and the pending rows whose back-off has ended). */
export async function counts(tx: PgTx, table: string, now: number): Promise<StateCounts> {
  const c: StateCounts = { pending: 0, running: 0, done: 0, failed: 0, ready: 0 };
  for (const r of await tx.all<{ state: RowState; n: number; ready: number }>(`SELECT state, COUNT(*) AS n, COUNT(*) FILTER (WHERE state = 'pending' AND available_at <= @now) AS ready FROM ${table} GROUP BY state`, { now })) {
    c[r.state] = r.n;
    if (r.state === 'pending') c.ready = r.ready;
  }
  return c;
}

/** The latest finished_at of a stage table, or creation time of an emitted table's rows; null when none. */
export async function lastFinished(tx: PgTx, table: string): Promise<number | null> {
  if ((await emitterOf(tx, table)) !== null) return (await tx.get<{ f: number }>(`SELECT created_at AS f FROM ${table} ORDER BY created_at DESC LIMIT 1`))?.f ?? null;
  return (await tx.get<{ f: number }>(`SELECT finished_at AS f FROM ${table} WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`))?.f ?? null;
}

/** Does a holder other than `holder` run rows of this stage (of an emitted table: of its emitting stage)? */
export async function othersRunning(tx: PgTx, table: string, holder: string): Promise<boolean> {
  const emitter = await emitterOf(tx, table);
  if (emitter !== null) return othersRunning(tx, emitter, holder);
  return (await tx.get(`SELECT 1 AS x FROM ${table} WHERE state = 'running' AND claimed_by <> @h LIMIT 1`, { h: holder })) !== undefined;
}

/** Pending or running rows of a stage (of an emitted table, of its emitting stage). */
export async function unfinished(tx: PgTx, table: string): Promise<number> {
  const emitter = await emitterOf(tx, table);
  if (emitter !== null) return unfinished(tx, emitter);
  return (await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE state IN ('pending', 'running')`))!.n;
}
