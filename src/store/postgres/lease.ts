/**
 * Leases on PostgreSQL: renewal by the holder (the heartbeat), rows given back unrun (`release`), and
 * the sweep that takes back rows whose lease ended — run by whichever worker's tick sees them first.
 * Two workers sweeping at once take each row back once: the second one's UPDATE waits for the first's
 * row locks and then finds the row pending, no longer running. A run taken back is a death, not an
 * attempt (see src/store/sqlite/lease.ts).
 */
import { hostname } from 'node:os';
import type { PgTx } from './connection.js';
import { notifyWork } from './admit.js';

/** Move the lease of running rows this holder still holds to `until`. Returns the rows renewed. */
export async function renew(tx: PgTx, table: string, by: string, ids: readonly number[], until: number): Promise<number> {
  return tx.run(`UPDATE ${table} SET lease_until = @until WHERE id = ANY(@ids) AND claimed_by = @by AND state = 'running'`, { until, ids: [...ids], by });
}

/** Give rows back unrun: pending again, the attempt not counted, history says `released`. */
export async function release(tx: PgTx, table: string, by: string, ids: readonly number[], now: number): Promise<number> {
  const rows = await tx.raw(
    `UPDATE ${table} SET state = 'pending', attempts = attempts - 1, claimed_by = NULL, lease_until = NULL, updated_at = @now
      WHERE id = ANY(@ids) AND claimed_by = @by AND state = 'running' RETURNING id, key, attempts, started_at`,
    { now, ids: [...ids], by },
  );
  if (rows.length > 0) {
    await tx.run(
      `INSERT INTO engine_attempts (stage, row_id, key, attempt, claimed_by, started_at, finished_at, outcome, error)
       SELECT $1, r.id, r.key, r.attempt + 1, $2, r.started_at, $3, 'released', NULL
         FROM unnest($4::bigint[], $5::text[], $6::integer[], $7::double precision[]) AS r(id, key, attempt, started_at)`,
      [table, by, now, rows.map((r) => r[0] as number), rows.map((r) => r[1] as string), rows.map((r) => r[2] as number), rows.map((r) => r[3] as number)],
    );
    await notifyWork(tx, table);
  }
  return rows.length;
}

/** End the lease of running rows this holder holds now (a lost batch), so the sweep takes them back. */
export async function expire(tx: PgTx, table: string, by: string, ids: readonly number[], now: number): Promise<void> {
  await tx.run(`UPDATE ${table} SET lease_until = @t WHERE id = ANY(@ids) AND claimed_by = @by AND state = 'running'`, { t: now - 1, ids: [...ids], by });
}

/**
 * Running rows of `table` whose lease ended before `now` (all of them, or those of `ids`): a death
 * each. Back to `pending` while fewer than `maxDeaths` deaths (null: no limit), otherwise `failed`.
 */
export async function sweep(tx: PgTx, table: string, maxDeaths: number | null, now: number, reason: string, ids?: readonly number[]): Promise<{ returned: number; failed: number }> {
  const last = 'CAST(@max AS INTEGER) IS NOT NULL AND deaths + 1 >= CAST(@max AS INTEGER)';
  const text = `UPDATE ${table} SET
      state = CASE WHEN ${last} THEN 'failed' ELSE 'pending' END,
      fail_kind = CASE WHEN ${last} THEN 'died' ELSE NULL END,
      finished_at = CASE WHEN ${last} THEN CAST(@now AS DOUBLE PRECISION) ELSE NULL END,
      last_error = CAST(@reason AS TEXT) || ' (holder ' || COALESCE(claimed_by, '?') || ', death ' || (deaths + 1) || COALESCE(' of ' || CAST(@max AS INTEGER), '') || ')',
      attempts = GREATEST(attempts - 1, 0), deaths = deaths + 1,
      claimed_by = NULL, lease_until = NULL, updated_at = @now
    WHERE state = 'running' AND lease_until < @now${ids ? ' AND id = ANY(@ids)' : ''}
    RETURNING id, key, attempts, started_at, state, last_error`;
  const rows = await tx.raw(text, { max: maxDeaths, now, reason, ...(ids ? { ids: [...ids] } : {}) });
  let failed = 0;
  if (rows.length > 0) {
    await tx.run(
      `INSERT INTO engine_attempts (stage, row_id, key, attempt, claimed_by, started_at, finished_at, outcome, error)
       SELECT $1, r.id, r.key, r.attempt + 1, NULL, r.started_at, $2, 'expired', r.error
         FROM unnest($3::bigint[], $4::text[], $5::integer[], $6::double precision[], $7::text[]) AS r(id, key, attempt, started_at, error)`,
      [table, now, rows.map((r) => r[0] as number), rows.map((r) => r[1] as string), rows.map((r) => r[2] as number), rows.map((r) => r[3] as number), rows.map((r) => r[5] as string)],
    );
    for (const r of rows) if (r[4] === 'failed') failed++;
    if (failed < rows.length) await notifyWork(tx, table);
  }
  return { returned: rows.length - failed, failed };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * End now the leases of `table` held by a process of this host that no longer exists (holder ids are
 * `host:pid:tag`), so they need not wait out their expiry. Holders on other hosts wait for the expiry.
 */
export async function expireDeadLocalLeases(tx: PgTx, table: string, now: number, self = process.pid): Promise<number> {
  const host = hostname();
  let n = 0;
  for (const { claimed_by: by } of await tx.all<{ claimed_by: string }>(`SELECT DISTINCT claimed_by FROM ${table} WHERE state = 'running' AND lease_until >= @now`, { now })) {
    const m = /^(.*):(\d+):[a-z0-9]+$/.exec(by);
    if (!m || m[1] !== host || Number(m[2]) === self || processAlive(Number(m[2]))) continue;
    n += await tx.run(`UPDATE ${table} SET lease_until = @t WHERE state = 'running' AND claimed_by = @by`, { t: now - 1, by });
  }
  return n;
}
