/**
 * Leases: renewal by the holder, rows given back unrun (`release`), and the sweep that takes back
 * rows whose lease ended (their holder died, hung or lost its thread).
 *
 * A run taken back by the sweep is a death, not an attempt: the attempt is given back, `deaths` goes
 * up by one, and the row is `pending` again until the stage's `maxDeaths`, when it ends `failed` with
 * `fail_kind = 'died'`. Each death is an `expired` entry of the attempt history.
 */
import { hostname } from 'node:os';
import type { SqlDb } from './connection.js';
import { recordAttempt } from './complete.js';

/** Move the lease of running rows this holder still holds to `until`. Returns the rows renewed. */
export function renew(sql: SqlDb, table: string, by: string, ids: readonly number[], until: number): number {
  return sql.transaction(() => {
    let n = 0;
    for (const id of ids) n += sql.run(`UPDATE ${table} SET lease_until = ? WHERE id = ? AND claimed_by = ? AND state = 'running'`, [until, id, by]).changes;
    return n;
  }, 'immediate');
}

/** Give rows back unrun: pending again, the attempt not counted, history says `released`. */
export function release(sql: SqlDb, table: string, by: string, ids: readonly number[], now: number): number {
  const text = `UPDATE ${table} SET state = 'pending', attempts = attempts - 1, claimed_by = NULL, lease_until = NULL, updated_at = @now
    WHERE id = @id AND claimed_by = @by AND state = 'running' RETURNING key, attempts, started_at`;
  return sql.transaction(() => {
    let n = 0;
    for (const id of ids) {
      const r = sql.allRaw(text, { now, id, by })[0];
      if (!r) continue;
      recordAttempt(sql, table, id, r[0] as string, (r[1] as number) + 1, by, r[2] as number | null, now, 'released', null);
      n++;
    }
    return n;
  }, 'immediate');
}

/** End the lease of running rows this holder holds now (a lost batch), so the sweep takes them back. */
export function expire(sql: SqlDb, table: string, by: string, ids: readonly number[], now: number): void {
  for (const id of ids) sql.run(`UPDATE ${table} SET lease_until = ? WHERE id = ? AND claimed_by = ? AND state = 'running'`, [now - 1, id, by]);
}

/**
 * Running rows of `table` whose lease ended before `now` (all of them, or those of `ids`): a death
 * each (see the module comment). Back to `pending` while fewer than `maxDeaths` deaths (null: no
 * limit, an operator's requeue), otherwise `failed`. `reason`, the holder and the death count go to
 * `last_error`.
 */
export function sweep(sql: SqlDb, table: string, maxDeaths: number | null, now: number, reason: string, ids?: readonly number[]): { returned: number; failed: number } {
  const last = '@max IS NOT NULL AND deaths + 1 >= @max';
  const text = `UPDATE ${table} SET
      state = CASE WHEN ${last} THEN 'failed' ELSE 'pending' END,
      fail_kind = CASE WHEN ${last} THEN 'died' ELSE NULL END,
      finished_at = CASE WHEN ${last} THEN @now ELSE NULL END,
      last_error = @reason || ' (holder ' || COALESCE(claimed_by, '?') || ', death ' || (deaths + 1) || COALESCE(' of ' || CAST(@max AS INTEGER), '') || ')',
      attempts = MAX(attempts - 1, 0), deaths = deaths + 1,
      claimed_by = NULL, lease_until = NULL, updated_at = @now
    WHERE state = 'running' AND lease_until < @now${ids ? ' AND id IN (SELECT value FROM json_each(@ids))' : ''}
    RETURNING id, key, attempts, started_at, state, last_error`;
  return sql.transaction(() => {
    const params = { max: maxDeaths, now, reason, ...(ids ? { ids: JSON.stringify(ids) } : {}) };
    const rows = sql.allRaw(text, params);
    let failed = 0;
    for (const r of rows) {
      // The attempt that died: the one given back.
      recordAttempt(sql, table, r[0] as number, r[1] as string, (r[2] as number) + 1, null, r[3] as number | null, now, 'expired', r[5] as string);
      if (r[4] === 'failed') failed++;
    }
    return { returned: rows.length - failed, failed };
  }, 'immediate');
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
 * End now the leases of `table` held by a process of this host that no longer exists (killed,
 * crashed; holder ids are `host:pid:tag`), so they need not wait out their expiry. A reused pid looks
 * alive and waits for the normal expiry. Returns the number of rows whose lease ended.
 */
export function expireDeadLocalLeases(sql: SqlDb, table: string, now: number, self = process.pid): number {
  const host = hostname();
  let n = 0;
  for (const { claimed_by: by } of sql.all<{ claimed_by: string }>(`SELECT DISTINCT claimed_by FROM ${table} WHERE state = 'running' AND lease_until >= ?`, [now])) {
    const m = /^(.*):(\d+):[a-z0-9]+$/.exec(by);
    if (!m || m[1] !== host || Number(m[2]) === self || processAlive(Number(m[2]))) continue;
    n += sql.run(`UPDATE ${table} SET lease_until = ? WHERE state = 'running' AND claimed_by = ?`, [now - 1, by]).changes;
  }
  return n;
}
