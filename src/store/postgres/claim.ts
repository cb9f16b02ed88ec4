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
import type { PgTx } from './connection.js';
import type { StagePlan } from './plan.js';

export const QUARANTINE_DEATHS = 2;

/** RETURNING order is unspecified: put claimed rows back in queue order (boost, priority, id). */
function toClaim(stage: string, rows: unknown[][], nInputs: number): Claim {
  rows.sort((a, b) => (b[3] as number) - (a[3] as number) || (b[4] as number) - (a[4] as number) || (a[0] as number) - (b[0] as number));
  const inputs: unknown[][] = [];
  for (let c = 0; c < nInputs; c++) inputs.push(rows.map((r) => r[c + 6]));
  return { stage, ids: rows.map((r) => r[0] as number), keys: rows.map((r) => r[1] as string), attempts: rows.map((r) => r[2] as number), deaths: rows.map((r) => r[5] as number), inputs };
}

const SET = `SET state = 'running', claimed_by = @by, lease_until = @lease, attempts = attempts + 1, started_at = @now, updated_at = @now`;
const returning = (plan: StagePlan) => `RETURNING id, key, attempts, boost, priority, deaths${plan.inputNames.map((c) => ', ' + c).join('')}`;

/** Up to `n` ready pending rows not in quarantine, top of the queue first. Runs in the caller's transaction. */
export async function claim(tx: PgTx, plan: StagePlan, by: string, n: number, now: number): Promise<Claim> {
  const t = plan.table;
  const text = `UPDATE ${t} ${SET}
    WHERE id IN (SELECT id FROM ${t} WHERE state = 'pending' AND available_at <= @now AND deaths < ${QUARANTINE_DEATHS}
                 ORDER BY boost DESC, priority DESC, id LIMIT @n FOR UPDATE SKIP LOCKED)
    ${returning(plan)}`;
  return toClaim(t, await tx.raw(text, { by, lease: now + plan.stage.leaseMs, now, n }), plan.inputNames.length);
}

/** The top ready row in quarantine, alone. */
export async function claimSuspect(tx: PgTx, plan: StagePlan, by: string, now: number): Promise<Claim> {
  const t = plan.table;
  const text = `UPDATE ${t} ${SET}
    WHERE id = (SELECT id FROM ${t} WHERE deaths > 0 AND state = 'pending' AND deaths >= ${QUARANTINE_DEATHS} AND available_at <= @now
                ORDER BY boost DESC, priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    ${returning(plan)}`;
  return toClaim(t, await tx.raw(text, { by, lease: now + plan.stage.leaseMs, now }), plan.inputNames.length);
}

/** The given keys, pending and ready (rows another claimer holds locked are skipped). */
export async function claimKeys(tx: PgTx, plan: StagePlan, by: string, keys: readonly string[], now: number): Promise<Claim> {
  const t = plan.table;
  const text = `UPDATE ${t} ${SET}
    WHERE id IN (SELECT id FROM ${t} WHERE key = ANY(@keys) AND state = 'pending' AND available_at <= @now FOR UPDATE SKIP LOCKED)
    ${returning(plan)}`;
  return toClaim(t, await tx.raw(text, { by, lease: now + plan.stage.leaseMs, now, keys: [...keys] }), plan.inputNames.length);
}
