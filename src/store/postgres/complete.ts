/**
 * Ending runs on PostgreSQL: finished rows written `done` with their outputs, failed attempts, each
 * guarded by its holder (`claimed_by = holder AND state = 'running'`): a holder whose lease was swept
 * changes nothing, also when another holder runs the row now. Every ended run is a row of the attempt
 * history. Set-based: one UPDATE … FROM unnest(…) per batch writes every row's outputs (a round trip
 * per row would cost ~0.1 ms each on a local socket).
 */
import type { Stage } from '../../stage-kit/stage.js';
import type { BatchOutcome } from '../interface.js';
import type { PgTx, PgValue } from './connection.js';
import { PG_TYPE, toPg, type StagePlan } from './plan.js';

/** One ended run in the attempt history. */
export async function recordAttempt(tx: PgTx, table: string, id: number, key: string, attempt: number, by: string | null, startedAt: number | null, now: number, outcome: string, error: string | null): Promise<void> {
  await tx.run(
    'INSERT INTO engine_attempts (stage, row_id, key, attempt, claimed_by, started_at, finished_at, outcome, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
    [table, id, key, attempt, by, startedAt, now, outcome, error],
  );
}

/** Array parameter types of the stage's columns (unnest needs them typed). */
const ARRAY_TYPE: Record<string, string> = { 'DOUBLE PRECISION': 'double precision[]', INTEGER: 'integer[]', TEXT: 'text[]', BYTEA: 'bytea[]' };

/**
 * Write results of rows held by `by` (`outputs[c][k]` for row `ids[k]`); rows no longer held are
 * skipped. Returns the ids written. Runs in the caller's transaction.
 */
export async function finish(tx: PgTx, plan: StagePlan, by: string, ids: readonly number[], outputs: readonly (readonly unknown[])[], now: number): Promise<number[]> {
  const t = plan.table;
  const outs = plan.outputNames;
  const types = outs.map((c) => ARRAY_TYPE[PG_TYPE[plan.stage.output[c]!]]!);
  const values: PgValue[] = [[...ids] as number[], now, by];
  for (let c = 0; c < outs.length; c++) values.push(outputs[c]!.map(toPg) as unknown as PgValue);
  // One statement (one round trip): the guarded UPDATE, and the history rows of what it wrote.
  const text = `WITH fin AS (
      UPDATE ${t} SET state = 'done'${outs.map((c) => `, ${c} = v.${c}`).join('')}, finished_at = $2, updated_at = $2,
          lease_until = NULL, last_error = NULL
        FROM unnest($1::bigint[]${types.map((ty, c) => `, $${c + 4}::${ty}`).join('')}) AS v(id${outs.map((c) => ', ' + c).join('')})
        WHERE ${t}.id = v.id AND ${t}.claimed_by = $3 AND ${t}.state = 'running'
        RETURNING ${t}.id, ${t}.key, ${t}.attempts, ${t}.started_at),
    hist AS (
      INSERT INTO engine_attempts (stage, row_id, key, attempt, claimed_by, started_at, finished_at, outcome, error)
        SELECT '${t}', id, key, attempts, $3, started_at, $2, 'done', NULL FROM fin ORDER BY id)
    SELECT id FROM fin`;
  const rows = await tx.raw(text, values);
  const written = new Set(rows.map((r) => r[0] as number));
  return ids.filter((id) => written.has(id));
}

/**
 * A failed attempt of rows held by `by`: back to `pending` after a back-off while attempts remain,
 * otherwise `failed` (`fail_kind = 'error'`). Runs in the caller's transaction.
 */
export async function fail(tx: PgTx, plan: StagePlan, by: string, items: readonly { id: number; error: string }[], now: number): Promise<{ retried: number; failed: number }> {
  const { maxAttempts, backoffMs, maxBackoffMs } = plan.stage.retry;
  const text = `UPDATE ${plan.table} SET
      state = CASE WHEN attempts >= @max THEN 'failed' ELSE 'pending' END,
      available_at = @now + LEAST(CAST(@cap AS DOUBLE PRECISION), @base * power(2, LEAST(attempts - 1, 30))),
      finished_at = CASE WHEN attempts >= @max THEN CAST(@now AS DOUBLE PRECISION) ELSE NULL END,
      fail_kind = CASE WHEN attempts >= @max THEN 'error' ELSE NULL END,
      last_error = @error, claimed_by = NULL, lease_until = NULL, updated_at = @now
    WHERE id = @id AND claimed_by = @by AND state = 'running' RETURNING key, attempts, started_at, state`;
  let retried = 0;
  let failed = 0;
  for (const it of items) {
    const r = (await tx.raw(text, { max: maxAttempts, now, cap: maxBackoffMs, base: backoffMs, error: it.error, id: it.id, by }))[0];
    if (!r) continue;
    await recordAttempt(tx, plan.table, it.id, r[0] as string, r[1] as number, by, r[2] as number | null, now, 'error', it.error);
    if (r[3] === 'failed') failed++;
    else retried++;
  }
  return { retried, failed };
}

/**
 * Rows of a fan-out stage's emitted table, for the source rows just written done. A key already in
 * the table is left alone. Returns the ids of the rows inserted. Runs in the caller's transaction.
 */
export async function insertEmitted(tx: PgTx, stage: Stage, written: ReadonlySet<number>, emitted: NonNullable<BatchOutcome['emitted']>, sourceKeys: ReadonlyMap<number, string>, now: number): Promise<number[]> {
  const e = stage.emits!;
  const cols = Object.keys(e.columns);
  const keep: number[] = [];
  for (let k = 0; k < emitted.keys.length; k++) if (written.has(emitted.sourceIds[k]!)) keep.push(k);
  if (keep.length === 0) return [];
  const types = cols.map((c) => ARRAY_TYPE[PG_TYPE[e.columns[c]!]]!);
  const values: PgValue[] = [
    keep.map((k) => emitted.keys[k]!),
    keep.map((k) => emitted.sourceIds[k]!),
    keep.map((k) => sourceKeys.get(emitted.sourceIds[k]!)!),
    now,
  ];
  for (let c = 0; c < cols.length; c++) values.push(keep.map((k) => toPg(emitted.columns[c]![k])) as unknown as PgValue);
  // WITH ORDINALITY keeps the rows in the order given (ids follow it, as in the SQLite store).
  const text = `INSERT INTO ${e.table} (key, source_id, source_key, created_at${cols.map((c) => ', ' + c).join('')})
    SELECT v.key, v.source_id, v.source_key, $4${cols.map((c) => ', v.' + c).join('')}
      FROM unnest($1::text[], $2::bigint[], $3::text[]${types.map((ty, c) => `, $${c + 5}::${ty}`).join('')}) WITH ORDINALITY AS v(key, source_id, source_key${cols.map((c) => ', ' + c).join('')}, ord)
     ORDER BY v.ord
    ON CONFLICT (key) DO NOTHING RETURNING id`;
  return (await tx.raw(text, values)).map((r) => r[0] as number).sort((a, b) => a - b);
}
