/**
 * Admission on PostgreSQL: rows into a stage's queue — entities enqueued into a source stage, or
 * upstream rows that pass the stage's filter (all of them, those finished since a time, or those just
 * finished in the same transaction). `INSERT … ON CONFLICT (key) DO NOTHING`: a key already in the
 * table is left alone, also when another process admits it at the same moment (the second insert
 * waits for the first's commit, then skips). Each new row gets its priority, input hash and parameters
 * exactly as in the SQLite store (src/store/sqlite/admit.ts), and a NOTIFY on the work channel wakes
 * idle workers of the stage when the transaction commits.
 */
import { createHash } from 'node:crypto';
import { StageError, priorityExpression, priorityFunction, type PrioritySpec } from '../../stage-kit/stage.js';
import type { PgTx, PgValue } from './connection.js';
import { emitterOf, isStageTable } from './ensure.js';
import { cutoffParams, filterSql, inputSql, keySql, prioritySql, toPg, type StagePlan } from './plan.js';

/** The channel NOTIFY announces new pending rows on; the payload is the stage's name. */
export const WORK_CHANNEL = 'fracflow_work';

/** Rows one admission or enqueue inserts from which it refreshes the table's planner statistics. */
const ANALYZE_AFTER_ROWS = 1000;

function hashInputs(values: readonly unknown[]): string {
  const h = createHash('sha256');
  for (const v of values) {
    if (v instanceof Uint8Array) h.update(v);
    else h.update(JSON.stringify(v ?? null));
    h.update('\u0000');
  }
  return h.digest('hex').slice(0, 32);
}

/** Current admission cutoffs of a stage by name. */
export async function cutoffs(tx: PgTx, stage: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await tx.all<{ name: string; value: number }>('SELECT name, value FROM engine_cutoffs WHERE stage = @s ORDER BY name', { s: stage })) out[r.name] = r.value;
  return out;
}

/** Wake the idle workers of `stage` when this transaction commits. */
export async function notifyWork(tx: PgTx, stage: string): Promise<void> {
  await tx.all('SELECT pg_notify(@ch, @s)', { ch: WORK_CHANNEL, s: stage });
}

/** The SQL of a priority expression in force (validated against the stage's columns, once per text). */
const parsedPriorities = new Map<string, string>();
export function prioritySqlOf(plan: StagePlan, text: string): string {
  const id = `${plan.table}\u0000${text}`;
  let out = parsedPriorities.get(id);
  if (out === undefined) {
    out = prioritySql(plan.stage.priorityExpr && plan.stage.priority === text ? plan.stage.priorityExpr : priorityExpression(plan.stage, text));
    parsedPriorities.set(id, out);
  }
  return out;
}

/** Insert admitted rows (keys taken are skipped) and score them. Returns the keys added, in the order given. */
async function insertRows(tx: PgTx, plan: StagePlan, priority: PrioritySpec, keys: readonly string[], inputs: readonly (readonly unknown[])[], cuts: Record<string, number>, now: number): Promise<string[]> {
  const { table, stage } = plan;
  const names = plan.inputNames;
  const params = JSON.stringify({ ...stage.params, ...(Object.keys(cuts).length ? { cutoffs: cuts } : {}) });
  const fn = typeof priority === 'object' ? priorityFunction(table, priority.fn) : null;
  const width = 7 + names.length;
  // PostgreSQL binds at most 65,535 parameters per statement.
  const perStatement = Math.max(1, Math.floor(60000 / width));
  const added = new Set<string>();
  const ids: number[] = [];
  const row = new Array<unknown>(names.length);
  for (let start = 0; start < keys.length; start += perStatement) {
    const end = Math.min(keys.length, start + perStatement);
    const values: PgValue[] = [];
    const tuples: string[] = [];
    for (let r = start; r < end; r++) {
      for (let c = 0; c < names.length; c++) row[c] = inputs[c]![r];
      let prio = 0;
      if (fn) {
        const obj: Record<string, unknown> = { key: keys[r] };
        for (let c = 0; c < names.length; c++) obj[names[c]!] = row[c];
        prio = fn(obj);
        if (!Number.isFinite(prio)) throw new StageError(`stage ${table}: priority function ${JSON.stringify((priority as { fn: string }).fn)} returned ${prio} for key ${keys[r]}`);
      }
      const base = values.length;
      values.push(keys[r]!, prio, now, now, hashInputs(row), params, stage.version, ...row.map(toPg));
      tuples.push(`(${Array.from({ length: width }, (_, k) => `$${base + k + 1}`).join(', ')})`);
    }
    const text = `INSERT INTO ${table} (key, priority, created_at, updated_at, input_hash, params, code_version${names.map((c) => ', ' + c).join('')})
      VALUES ${tuples.join(', ')} ON CONFLICT (key) DO NOTHING RETURNING id, key`;
    for (const [id, key] of await tx.raw(text, values)) {
      ids.push(id as number);
      added.add(key as string);
    }
  }
  if (!fn && ids.length > 0 && priority !== '0') await tx.run(`UPDATE ${table} SET priority = COALESCE((${prioritySqlOf(plan, priority as string)}), 0) WHERE id = ANY(@ids)`, { ids });
  if (ids.length > 0) await notifyWork(tx, table);
  // Fresh statistics after a bulk insert: with none (a table just filled; autovacuum analyzes it only
  // after up to a minute), the planner takes the table for a few hundred rows and answers a claim by
  // sorting every pending row instead of reading the queue index in order — measured 30 ms instead of
  // well under 1 ms per 64-row claim with 13,600 rows pending. ANALYZE counts this transaction's own
  // inserted rows, and locks no row.
  if (ids.length >= ANALYZE_AFTER_ROWS) await tx.exec(`ANALYZE ${table}`);
  return keys.filter((k) => added.delete(k));
}

/** Put entities into a source stage (rows whose key exists already are left alone). Returns the keys added. */
export async function enqueue(tx: PgTx, plan: StagePlan, priority: PrioritySpec, rows: readonly Record<string, unknown>[], now: number): Promise<string[]> {
  const keys: string[] = [];
  const inputs = plan.inputNames.map(() => [] as unknown[]);
  for (const r of rows) {
    const k = r['key'];
    if (typeof k !== 'string' || k === '') throw new StageError(`stage ${plan.table}: enqueue: every row needs a non-empty string key, got ${JSON.stringify(k)}`);
    keys.push(k);
    plan.inputNames.forEach((c, i) => inputs[i]!.push(r[c] ?? null));
  }
  return insertRows(tx, plan, priority, keys, inputs, await cutoffs(tx, plan.table), now);
}

/** What kind of table an upstream is: a stage table (its done rows feed), a stage's emitted table, or a plain table. */
export type UpstreamKind = 'stage' | 'emitted' | 'plain';

export async function upstreamKind(tx: PgTx, table: string): Promise<UpstreamKind> {
  if (await isStageTable(tx, table)) return 'stage';
  if ((await emitterOf(tx, table)) !== null) return 'emitted';
  return 'plain';
}

interface FeedQuery {
  select: string;
  params: Record<string, PgValue>;
  cutoffs: Record<string, number>;
}

async function feedQuery(tx: PgTx, plan: StagePlan, upstreamIds?: readonly number[], finishedSince?: number, known?: UpstreamKind): Promise<FeedQuery | null> {
  const { stage, table } = plan;
  const from = stage.input.from;
  if (from === null) return null;
  const keyExpr = keySql(stage.input.keyParts);
  const where: string[] = [];
  const kind = known ?? (await upstreamKind(tx, from));
  const since = kind !== 'plain' && finishedSince !== undefined;
  if (kind === 'stage') where.push(`u.state = 'done'`);
  if (since) where.push(kind === 'stage' ? 'u.finished_at >= @since' : 'u.created_at >= @since');
  if (stage.filter) where.push(`(${filterSql(stage.filter.expr)})`);
  if (upstreamIds) where.push('u.id = ANY(@ids)');
  where.push(`NOT EXISTS (SELECT 1 FROM ${table} x WHERE x.key = (${keyExpr}))`);
  const select = `SELECT u.id AS _uid, (${keyExpr}) AS key${plan.inputNames.map((c) => `, ${inputSql(stage.input.columns[c]!)} AS ${c}`).join('')}
    FROM ${from} u WHERE ${where.join(' AND ')}`;
  const cuts = await cutoffs(tx, table);
  const values: Record<string, number> = {};
  for (const c of stage.filter?.expr.cutoffs ?? []) values[c] = cuts[c] ?? stage.filter!.cutoffs[c]!.initial;
  const params: Record<string, PgValue> = { ...cutoffParams(values) };
  if (upstreamIds) params['ids'] = [...upstreamIds];
  if (since) params['since'] = finishedSince;
  return { select, params, cutoffs: cuts };
}

/**
 * Admit upstream rows that pass the filter and are not in the table yet (see the SQLite store). Runs
 * in the caller's transaction (atomic with the upstream write). `kind`: what the upstream is, when
 * the caller knows (an exchange does: it admits from the stages it writes), saving the look-up.
 */
export async function admit(tx: PgTx, plan: StagePlan, priority: PrioritySpec, now: number, upstreamIds?: readonly number[], finishedSince?: number, kind?: UpstreamKind): Promise<string[]> {
  if (upstreamIds && upstreamIds.length === 0) return [];
  const q = await feedQuery(tx, plan, upstreamIds, finishedSince, kind);
  if (!q) return [];
  const rows = await tx.raw(`${q.select} ORDER BY u.id`, q.params);
  if (rows.length === 0) return [];
  const keys = rows.map((r) => String(r[1]));
  const inputs = plan.inputNames.map((_, c) => rows.map((r) => r[c + 2]));
  return insertRows(tx, plan, priority, keys, inputs, q.cutoffs, now);
}

/** Would {@link admit} admit anything? A read alone: one row is enough to say. */
export async function canAdmit(tx: PgTx, plan: StagePlan, finishedSince?: number): Promise<boolean> {
  const q = await feedQuery(tx, plan, undefined, finishedSince);
  return q !== null && (await tx.raw(`${q.select} LIMIT 1`, q.params)).length > 0;
}
