/**
 * Claims: the top ready pending rows of a stage, taken by one holder under a lease, in one UPDATE …
 * WHERE id IN (SELECT … ORDER BY boost DESC, priority DESC, id LIMIT n) RETURNING … inside an
 * immediate transaction, so that two claimers (threads or processes) never take the same row. The
 * queue index (state, boost, priority, id) serves the order.
 *
 * Rows in quarantine — {@link QUARANTINE_DEATHS} deaths or more — are left out of batch claims and
 * claimed alone by {@link claimSuspect}: a claimer runs one such row at a time per stage, so a row
 * that kills its whole process takes no other row of its stage with it (every row a dead process
 * held dies with it). A row with one death is claimed with the others and run alone by the engine.
 */
import type { Claim } from '../interface.js';
import type { SqlDb } from './connection.js';
import type { StagePlan } from './plan.js';

/** Deaths from which a row is in quarantine (claimed alone, one at a time per stage and claimer). */
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

/** Up to `n` ready pending rows not in quarantine, top of the queue first. Runs in the caller's transaction when there is one. */
export function claim(sql: SqlDb, plan: StagePlan, by: string, n: number, now: number): Claim {
  return toClaim(plan.table, sql.allRaw(claimText(plan), { by, lease: now + plan.stage.leaseMs, now, n }), plan.inputNames.length);
}

/** The batch claim's statement (parameters @by, @lease, @now, @n). */
export function claimText(plan: StagePlan): string {
  const t = plan.table;
  return `UPDATE ${t} ${SET}
    WHERE id IN (SELECT id FROM ${t} WHERE state = 'pending' AND available_at <= @now AND deaths < ${QUARANTINE_DEATHS}
                 ORDER BY boost DESC, priority DESC, id LIMIT @n)
    ${returning(plan)}`;
}

/**
 * The top ready row in quarantine, alone: found through the partial index of rows with deaths, so an
 * empty quarantine costs one index probe. The index is named: without statistics (no ANALYZE) SQLite
 * prefers the queue index for its order and walks every pending row, 6 ms per claim at 32,000
 * pending rows against 0.1 ms through the partial index.
 */
export function claimSuspect(sql: SqlDb, plan: StagePlan, by: string, now: number): Claim {
  return toClaim(plan.table, sql.allRaw(claimSuspectText(plan), { by, lease: now + plan.stage.leaseMs, now }), plan.inputNames.length);
}

/** The quarantine claim's statement (parameters @by, @lease, @now). */
export function claimSuspectText(plan: StagePlan): string {
  const t = plan.table;
  return `UPDATE ${t} ${SET}
    WHERE id = (SELECT id FROM ${t} INDEXED BY ${t}_suspects WHERE deaths > 0 AND state = 'pending' AND deaths >= ${QUARANTINE_DEATHS} AND available_at <= @now
                ORDER BY boost DESC, priority DESC, id LIMIT 1)
    ${returning(plan)}`;
}

/** The given keys, pending and ready: the fixed-workflow runner follows one entity at a time. */
export function claimKeys(sql: SqlDb, plan: StagePlan, by: string, keys: readonly string[], now: number): Claim {
  const t = plan.table;
  const text = `UPDATE ${t} ${SET}
    WHERE key IN (SELECT value FROM json_each(@keys)) AND state = 'pending' AND available_at <= @now
    ${returning(plan)}`;
  return sql.transaction(() => toClaim(t, sql.allRaw(text, { by, lease: now + plan.stage.leaseMs, now, keys: JSON.stringify(keys) }), plan.inputNames.length), 'immediate');
}
