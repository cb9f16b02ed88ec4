/**
 * Claims on PostgreSQL: the top ready pending rows of a stage, taken by one holder under a lease, in
 * one statement — `UPDATE … WHERE id IN (SELECT id … ORDER BY boost DESC, priority DESC, id LIMIT n
 * FOR UPDATE SKIP LOCKED) RETURNING …`. Rows another claimer has locked are skipped rather than waited
 * for, so any number of workers on any number of hosts claim at once and never take the same row. The
 * queue index (state, boost, priority, id) serves the order.
 *
 * Quarantine as in the SQLite store (src/store/sqlite/claim.ts): rows with {@link QUARANTINE_DEATHS}
 * deaths or more are claimed alone, through the partial index of rows with deaths.
 */
import type { Claim } from '../interface.js';
import { Params, type PgTx } from './connection.js';
import type { StagePlan } from './plan.js';

export const QUARANTINE_DEATHS = 2;

/** RETURNING order is unspecified: put claimed rows back in queue order (boost, priority, id). */
export function toClaim(stage: string, rows: unknown[][], nInputs: number): Claim {
  rows.sort((a, b) => (b[3] as number) - (a[3] as number) || (b[4] as number) - (a[4] as number) || (a[0] as number) - (b[0] as number));
  const inputs: unknown[][] = [];
  for (let c = 0; c < nInputs; c++) inputs.push(rows.map((r) => r[c + 6]));
  return { stage, ids: rows.map((r) => r[0] as number), keys: rows.map((r) => r[1] as string), attempts: rows.map((r) => r[2] as number), deaths: rows.map((r) => r[5] as number), inputs };
}

/**
 * The claim of up to `n` ready pending rows not in quarantine (or, `suspect`, of the top ready row in
 * quarantine, alone), top of the queue first, as the body of a CTE or a statement:
 * `UPDATE … RETURNING id, key, attempts, boost, priority, deaths, <inputs>`.
 */
export function claimSql(p: Params, plan: StagePlan, by: string, n: number, now: number, suspect: boolean): string {
  const t = plan.table;
  const nowP = p.add(now, 'double precision');
  const pick = suspect
    ? `id = (SELECT id FROM ${t} WHERE deaths > 0 AND state = 'pending' AND deaths >= ${QUARANTINE_DEATHS} AND available_at <= ${nowP}
              ORDER BY boost DESC, priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)`
    : `id IN (SELECT id FROM ${t} WHERE state = 'pending' AND available_at <= ${nowP} AND deaths < ${QUARANTINE_DEATHS}
               ORDER BY boost DESC, priority DESC, id LIMIT ${p.add(n, 'bigint')} FOR UPDATE SKIP LOCKED)`;
  return `UPDATE ${t} SET state = 'running', claimed_by = ${p.add(by, 'text')}, lease_until = ${p.add(now + plan.stage.leaseMs, 'double precision')},
      attempts = attempts + 1, started_at = ${nowP}, updated_at = ${nowP}
    WHERE ${pick}
    RETURNING id, key, attempts, boost, priority, deaths${plan.inputNames.map((c) => ', ' + c).join('')}`;
}

/** The given keys, pending and ready (rows another claimer holds locked are skipped). */
export async function claimKeys(tx: PgTx, plan: StagePlan, by: string, keys: readonly string[], now: number): Promise<Claim> {
  const t = plan.table;
  const text = `UPDATE ${t} SET state = 'running', claimed_by = @by, lease_until = @lease, attempts = attempts + 1, started_at = @now, updated_at = @now
    WHERE id IN (SELECT id FROM ${t} WHERE key = ANY(@keys) AND state = 'pending' AND available_at <= @now FOR UPDATE SKIP LOCKED)
    RETURNING id, key, attempts, boost, priority, deaths${plan.inputNames.map((c) => ', ' + c).join('')}`;
  return toClaim(t, await tx.raw(text, { by, lease: now + plan.stage.leaseMs, now, keys: [...keys] }), plan.inputNames.length);
}
