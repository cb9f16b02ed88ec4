/**
 * Admission: rows into a stage's queue — entities enqueued into a source stage, or upstream rows that
 * pass the stage's filter (all of them, those finished since a time, or those just finished in the
 * same transaction). A key already in the table is left alone, so admission is idempotent. Each new
 * row gets its priority (the SQL expression in force, or a registered function), its input hash and
 * its parameters (with the cutoffs in force).
 */
import { createHash } from 'node:crypto';
import { StageError, priorityExpression, priorityFunction, type PrioritySpec } from '../../stage-kit/stage.js';
import { renderExpression } from '../../stage-kit/expressions.js';
import type { SqlDb, SqlValue } from './connection.js';
import { isStageTable } from './ensure.js';
import { UPSTREAM, inputSql, keySql, prioritySql, toSql, type StagePlan } from './plan.js';

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
export function cutoffs(sql: SqlDb, stage: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of sql.all<{ name: string; value: number }>('SELECT name, value FROM engine_cutoffs WHERE stage = ?', [stage])) out[r.name] = r.value;
  return out;
}

/** Insert admitted rows (keys taken are skipped) and score them. Returns the keys added. */
function insertRows(sql: SqlDb, plan: StagePlan, priority: PrioritySpec, keys: readonly string[], inputs: readonly (readonly unknown[])[], cuts: Record<string, number>, now: number): string[] {
  const { table, stage } = plan;
  const names = plan.inputNames;
  const insert = `INSERT OR IGNORE INTO ${table} (key, priority, created_at, updated_at, input_hash, params, code_version${names.map((c) => ', ' + c).join('')})
    VALUES (?, ?, ?, ?, ?, ?, ?${names.map(() => ', ?').join('')})`;
  const params = JSON.stringify({ ...stage.params, ...(Object.keys(cuts).length ? { cutoffs: cuts } : {}) });
  const fn = typeof priority === 'object' ? priorityFunction(table, priority.fn) : null;
  const before = sql.get<{ m: number | null }>(`SELECT MAX(id) AS m FROM ${table}`)!.m ?? 0;
  const added: string[] = [];
  const row = new Array<unknown>(names.length);
  for (let r = 0; r < keys.length; r++) {
    const values: SqlValue[] = [];
    for (let c = 0; c < names.length; c++) {
      row[c] = inputs[c]![r];
      values.push(toSql(row[c]));
    }
    let prio = 0;
    if (fn) {
      const obj: Record<string, unknown> = { key: keys[r] };
      for (let c = 0; c < names.length; c++) obj[names[c]!] = row[c];
      prio = fn(obj);
      if (!Number.isFinite(prio)) throw new StageError(`stage ${table}: priority function ${JSON.stringify((priority as { fn: string }).fn)} returned ${prio} for key ${keys[r]}`);
    }
    const res = sql.run(insert, [keys[r]!, prio, now, now, hashInputs(row), params, stage.version, ...values]);
    if (res.changes > 0) added.push(keys[r]!);
  }
  if (!fn && added.length > 0 && priority !== '0') sql.run(`UPDATE ${table} SET priority = COALESCE((${prioritySqlOf(plan, priority as string)}), 0) WHERE id > ?`, [before]);
  return added;
}

/** Put entities into a source stage (rows whose key exists already are left alone). Returns the keys added. */
export function enqueue(sql: SqlDb, plan: StagePlan, priority: PrioritySpec, rows: readonly Record<string, unknown>[], now: number): string[] {
  const keys: string[] = [];
  const inputs = plan.inputNames.map(() => [] as unknown[]);
  for (const r of rows) {
    const k = r['key'];
    if (typeof k !== 'string' || k === '') throw new StageError(`stage ${plan.table}: enqueue: every row needs a non-empty string key, got ${JSON.stringify(k)}`);
    keys.push(k);
    plan.inputNames.forEach((c, i) => inputs[i]!.push(r[c] ?? null));
  }
  return sql.transaction(() => insertRows(sql, plan, priority, keys, inputs, cutoffs(sql, plan.table), now), 'immediate');
}

interface FeedQuery {
  select: string;
  params: Record<string, SqlValue>;
  cutoffs: Record<string, number>;
  bounded: boolean;
}

/** What kind of table an upstream is: a stage table (its done rows feed), a stage's emitted table, or a plain table. */
export function upstreamKind(sql: SqlDb, table: string): 'stage' | 'emitted' | 'plain' {
  if (isStageTable(sql, table)) return 'stage';
  if (sql.get('SELECT 1 AS x FROM engine_emits WHERE name = ?', [table])) return 'emitted';
  return 'plain';
}

function feedQuery(sql: SqlDb, plan: StagePlan, upstreamIds?: readonly number[], finishedSince?: number): FeedQuery | null {
  const { stage, table } = plan;
  const from = stage.input.from;
  if (from === null) return null;
  const keyExpr = keySql(stage.input.keyParts);
  const where: string[] = [];
  const kind = upstreamKind(sql, from);
  const since = kind !== 'plain' && finishedSince !== undefined;
  // With a time bound the rows come from the upstream's finished_at (created_at) index (`+` keeps
  // the planner off the queue index, which would walk every done row).
  if (kind === 'stage') where.push(since ? `+u.state = 'done'` : `u.state = 'done'`);
  if (since) where.push(kind === 'stage' ? 'u.finished_at >= @since' : 'u.created_at >= @since');
  if (stage.filter) where.push(`(${renderExpression(stage.filter.expr, UPSTREAM)})`);
  if (upstreamIds) where.push('u.id IN (SELECT value FROM json_each(@ids))');
  where.push(`NOT EXISTS (SELECT 1 FROM ${table} x WHERE x.key = (${keyExpr}))`);
  const select = `SELECT u.id AS _uid, (${keyExpr}) AS key${plan.inputNames.map((c) => `, ${inputSql(stage.input.columns[c]!)} AS ${c}`).join('')}
    FROM ${from} u WHERE ${where.join(' AND ')}`;
  const cuts = cutoffs(sql, table);
  const params: Record<string, SqlValue> = {};
  for (const c of stage.filter?.expr.cutoffs ?? []) params[c] = cuts[c] ?? stage.filter!.cutoffs[c]!.initial;
  if (upstreamIds) params['ids'] = JSON.stringify(upstreamIds);
  if (since) params['since'] = finishedSince;
  return { select, params, cutoffs: cuts, bounded: since };
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

/**
 * Admit upstream rows that pass the filter and are not in the table yet. With `upstreamIds`, only
 * those upstream rows are considered (the ones just finished); without, the whole upstream table,
 * or with `finishedSince` (a stage-table upstream) its rows finished at or after that time. Runs in
 * the caller's transaction when there is one (atomic with the upstream write).
 */
export function admit(sql: SqlDb, plan: StagePlan, priority: PrioritySpec, now: number, upstreamIds?: readonly number[], finishedSince?: number): string[] {
  const q = feedQuery(sql, plan, upstreamIds, finishedSince);
  if (!q) return [];
  // Upstream order (u.id, the first column). A time-bounded feed sorts its few rows here: in SQL,
  // ORDER BY u.id makes the planner walk the whole upstream table in rowid order instead of its
  // finished_at index.
  const rows = q.bounded ? sql.allRaw(q.select, q.params).sort((a, b) => (a[0] as number) - (b[0] as number)) : sql.allRaw(`${q.select} ORDER BY u.id`, q.params);
  if (rows.length === 0) return [];
  const keys = rows.map((r) => String(r[1]));
  const inputs = plan.inputNames.map((_, c) => rows.map((r) => r[c + 2]));
  return insertRows(sql, plan, priority, keys, inputs, q.cutoffs, now);
}

/** Would {@link admit} admit anything? A read alone (no write lock): one row is enough to say. */
export function canAdmit(sql: SqlDb, plan: StagePlan, finishedSince?: number): boolean {
  const q = feedQuery(sql, plan, undefined, finishedSince);
  return q !== null && sql.allRaw(`${q.select} LIMIT 1`, q.params).length > 0;
}
