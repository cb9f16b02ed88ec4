/**
 * Ending runs on PostgreSQL: finished rows written `done` with their outputs, failed attempts, each
 * guarded by its holder (`claimed_by = holder AND state = 'running'`): a holder whose lease was swept
 * changes nothing, also when another holder runs the row now. Every ended run is a row of the attempt
 * history. Set-based: one statement per batch writes every row (the CTEs below also make up the
 * single statement of an exchange, src/store/postgres/exchange.ts).
 */
import type { Stage } from '../../stage-kit/stage.js';
import type { BatchOutcome } from '../interface.js';
import { Params, type PgTx, type PgValue } from './connection.js';
import { PG_TYPE, toPg, type StagePlan } from './plan.js';

/** Array parameter types of the stage's columns (unnest needs them typed). */
const ARRAY_TYPE: Record<string, string> = { 'DOUBLE PRECISION': 'double precision[]', INTEGER: 'integer[]', TEXT: 'text[]', BYTEA: 'bytea[]' };

/**
 * The guarded write of finished rows as two CTEs of a larger statement: `name` (the UPDATE, returning
 * the ids written) and `name_hist` (their history rows). `outputs[c][k]` belongs to row `ids[k]`;
 * rows `by` no longer holds are skipped. One set-based UPDATE … FROM unnest(…) writes every row's
 * outputs (a round trip per row would cost ~0.1 ms each on a local socket).
 */
export function finishCte(p: Params, plan: StagePlan, by: string, ids: readonly number[], outputs: readonly (readonly unknown[])[], now: number, name: string): string {
  const t = plan.table;
  const outs = plan.outputNames;
  const idsP = p.add([...ids], 'bigint[]');
  const cols = outs.map((c, k) => p.add(outputs[k]!.map(toPg) as unknown as PgValue, ARRAY_TYPE[PG_TYPE[plan.stage.output[c]!]]!));
  const nowP = p.add(now, 'double precision');
  const byP = p.add(by, 'text');
  return `${name} AS (
      UPDATE ${t} SET state = 'done'${outs.map((c) => `, ${c} = v.${c}`).join('')}, finished_at = ${nowP}, updated_at = ${nowP},
          lease_until = NULL, last_error = NULL
        FROM unnest(${idsP}${cols.map((c) => `, ${c}`).join('')}) AS v(id${outs.map((c) => ', ' + c).join('')})
        WHERE ${t}.id = v.id AND ${t}.claimed_by = ${byP} AND ${t}.state = 'running'
        RETURNING ${t}.id, ${t}.key, ${t}.attempts, ${t}.started_at),
    ${name}_hist AS (
      INSERT INTO engine_attempts (stage, row_id, key, attempt, claimed_by, started_at, finished_at, outcome, error)
        SELECT '${t}', id, key, attempts, ${byP}, started_at, ${nowP}, 'done', NULL FROM ${name} ORDER BY id)`;
}

/**
 * A failed attempt of rows held by `by`, as two CTEs of a larger statement: `name` (the UPDATE,
 * returning each row's id and new state) and `name_hist` (the history rows). Back to `pending` after
 * a back-off while attempts remain, otherwise `failed` (`fail_kind = 'error'`). A row given twice
 * fails once, with its first error.
 */
export function failCte(p: Params, plan: StagePlan, by: string, items: readonly { id: number; error: string }[], now: number, name: string): string {
  const { maxAttempts, backoffMs, maxBackoffMs } = plan.stage.retry;
  const t = plan.table;
  const seen = new Set<number>();
  const once = items.filter((it) => !seen.has(it.id) && seen.add(it.id));
  const idsP = p.add(once.map((it) => it.id), 'bigint[]');
  const errP = p.add(once.map((it) => it.error), 'text[]');
  const nowP = p.add(now, 'double precision');
  const byP = p.add(by, 'text');
  const max = p.add(maxAttempts, 'integer');
  const last = `${t}.attempts >= ${max}`;
  return `${name} AS (
      UPDATE ${t} SET
        state = CASE WHEN ${last} THEN 'failed' ELSE 'pending' END,
        available_at = ${nowP} + LEAST(${p.add(maxBackoffMs, 'double precision')}, ${p.add(backoffMs, 'double precision')} * power(2, LEAST(${t}.attempts - 1, 30))),
        finished_at = CASE WHEN ${last} THEN ${nowP} ELSE NULL END,
        fail_kind = CASE WHEN ${last} THEN 'error' ELSE NULL END,
        last_error = v.error, claimed_by = NULL, lease_until = NULL, updated_at = ${nowP}
        FROM unnest(${idsP}, ${errP}) AS v(id, error)
        WHERE ${t}.id = v.id AND ${t}.claimed_by = ${byP} AND ${t}.state = 'running'
        RETURNING ${t}.id, ${t}.key, ${t}.attempts, ${t}.started_at, ${t}.state, v.error),
    ${name}_hist AS (
      INSERT INTO engine_attempts (stage, row_id, key, attempt, claimed_by, started_at, finished_at, outcome, error)
        SELECT '${t}', id, key, attempts, ${byP}, started_at, ${nowP}, 'error', error FROM ${name} ORDER BY id)`;
}

/**
 * Write results of rows held by `by` (`outputs[c][k]` for row `ids[k]`); rows no longer held are
 * skipped. Returns the ids written. Runs in the caller's transaction.
 */
export async function finish(tx: PgTx, plan: StagePlan, by: string, ids: readonly number[], outputs: readonly (readonly unknown[])[], now: number): Promise<number[]> {
  const p = new Params();
  const rows = await tx.raw(`WITH ${finishCte(p, plan, by, ids, outputs, now, 'fin')} SELECT id FROM fin`, p.values);
  const written = new Set(rows.map((r) => r[0] as number));
  return ids.filter((id) => written.has(id));
}

/** A failed attempt of rows held by `by` (see {@link failCte}), in one statement. Runs in the caller's transaction. */
export async function fail(tx: PgTx, plan: StagePlan, by: string, items: readonly { id: number; error: string }[], now: number): Promise<{ retried: number; failed: number }> {
  const p = new Params();
  const rows = await tx.raw(`WITH ${failCte(p, plan, by, items, now, 'err')} SELECT state FROM err`, p.values);
  const failed = rows.filter((r) => r[0] === 'failed').length;
  return { retried: rows.length - failed, failed };
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
