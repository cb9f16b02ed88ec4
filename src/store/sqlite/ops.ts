/**
 * Operations on a store's stage tables that need no stage module: status, errors, requeue, submit,
 * scale, reset, cleanup, checkpoint and export. They read the registry (`engine_stages`) for the
 * stage names and columns, so they work from any process, also while another one is running stages.
 */
import { join, resolve } from 'node:path';
import type { Table } from 'apache-arrow';
import { openSql, type SqlDb } from './connection.js';
import { encodeFile, makeTable, type ColumnDef } from '../../stage-kit/arrow.js';
import { makeOutputDir, writeOutputFile } from '../../io/output-files.js';
import { setPriority as setStagePriority } from './control.js';
import { expireDeadLocalLeases, sweep as sweepRows } from './lease.js';
import type { RowState } from '../interface.js';
import { StageError, checkPriority, type ColumnType, type PrioritySpec } from '../../stage-kit/stage.js';

export { RATE_WINDOW_MS, stageStatus } from './status.js';
export type { StageStatus } from '../interface.js';

/** Names of the stage tables registered in the store. */
export function stageNames(sql: SqlDb): string[] {
  return sql.all<{ name: string }>('SELECT name FROM engine_stages ORDER BY rowid').map((r) => r.name);
}

function requireStage(sql: SqlDb, stage: string): void {
  if (!sql.get('SELECT 1 AS x FROM engine_stages WHERE name = ?', [stage])) {
    const names = stageNames(sql);
    throw new StageError(`no stage named ${JSON.stringify(stage)} in this store (stages: ${names.join(', ') || 'none yet'})`);
  }
}

import type { ErrorGroup } from '../interface.js';
export type { ErrorGroup } from '../interface.js';

const ABSOLUTE_PATH = /(^|[\s'"`(=[,])((?:\/|[A-Za-z]:\\)[^\s'"`,;:()[\]{}<>]*[^\s'"`,;:()[\]{}<>.])/g;

function escapeRegExp(t: string): string {
  return t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `message` with each value of `parts` (where it stands as a whole word) replaced by its
 * placeholder, absolute paths by `<path>` (collected into `paths`), `:<digits>` after a path or file
 * placeholder by `:<line>`, and `[<digits>]` by `[<i>]`.
 */
export function errorCause(message: string, parts: readonly [string | null | undefined, string][], paths: string[]): string {
  // Paths first: a path that holds the key (an output folder named after it) goes out whole.
  let m = message.replace(ABSOLUTE_PATH, (all: string, pre: string, path: string) => {
    if (parts.some(([v]) => v === path)) return all;
    paths.push(path);
    return `${pre}<path>`;
  });
  // Longest first, so that a key holding the structure id is replaced as a whole.
  for (const [value, placeholder] of [...parts].sort((a, b) => (b[0]?.length ?? 0) - (a[0]?.length ?? 0))) {
    if (!value || value.length < 2) continue;
    m = m.replace(new RegExp(`(?<![A-Za-z0-9_])${escapeRegExp(value)}(?![A-Za-z0-9_])`, 'g'), placeholder);
  }
  return m.replace(/(<path>|<file>):\d+(?=:)/g, '$1:<line>').replace(/\[\d+\]/g, '[<i>]');
}

export interface Grouping {
  group: ErrorGroup;
  paths: Set<string>;
}

export function addToGroup(groups: Map<string, Grouping>, key: string, make: () => ErrorGroup, example: string, paths: readonly string[], attempts: number): void {
  let g = groups.get(key);
  if (!g) groups.set(key, (g = { group: make(), paths: new Set() }));
  g.group.rows++;
  if (g.group.examples.length < 3) g.group.examples.push(example);
  g.group.attempts = Math.max(g.group.attempts, attempts);
  for (const p of paths) if (g.paths.size < 3) g.paths.add(p);
}

export function sortedGroups(groups: Map<string, Grouping>): ErrorGroup[] {
  return [...groups.values()]
    .map((g) => ({ ...g.group, paths: [...g.paths] }))
    .sort((a, b) => b.rows - a.rows || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
}

/** Failed rows of one stage grouped by cause, most frequent first. */
function stageErrorGroups(sql: SqlDb, stage: string): ErrorGroup[] {
  const hasId = sql.get('SELECT 1 AS x FROM pragma_table_info(?) WHERE name = ?', [stage, 'structure_id']) !== undefined;
  const rows = sql.allRaw(`SELECT key, last_error, attempts${hasId ? ', structure_id' : ''} FROM ${stage} WHERE state = 'failed' ORDER BY id`);
  const groups = new Map<string, Grouping>();
  for (const [key, error, attempts, id] of rows as [string, string | null, number, string | null | undefined][]) {
    const paths: string[] = [];
    const message = error === null ? '(no message)' : errorCause(error, [[key, '<key>'], [id, '<id>']], paths);
    addToGroup(groups, message, () => ({ stage, message, rows: 0, examples: [], paths: [], attempts: 0 }), key, paths, attempts);
  }
  return sortedGroups(groups);
}

/**
 * Failed rows grouped by their cause (see {@link ErrorGroup.message}: rows whose messages differ only
 * by their key, structure id or a path form one group), stage by stage, most frequent first; `stage`
 * narrows to one stage.
 */
export function errorGroups(sql: SqlDb, stage?: string): ErrorGroup[] {
  if (stage !== undefined) {
    requireStage(sql, stage);
    return stageErrorGroups(sql, stage);
  }
  return stageNames(sql).flatMap((s) => stageErrorGroups(sql, s));
}

/**
 * Back to `pending`: `failed` rows (attempt counter restarts, history kept), or `stale` ones — running
 * rows whose holder is gone (lease expired, or held by a process of this host that no longer runs) —
 * without waiting for a sweep. Each stale row is an `expired` attempt in the history and goes back to
 * `pending` even at the stage's last attempt (a sweep would fail it there).
 */
export function requeue(sql: SqlDb, stage: string, which: 'failed' | 'stale', now = Date.now()): number {
  requireStage(sql, stage);
  return sql.transaction(() => {
    let n: number;
    if (which === 'failed') {
      n = sql.run(`UPDATE ${stage} SET state = 'pending', attempts = 0, deaths = 0, fail_kind = NULL, available_at = 0, finished_at = NULL, updated_at = ? WHERE state = 'failed'`, [now]).changes;
    } else {
      expireDeadLocalLeases(sql, stage, now);
      // Back to pending whatever the attempt count: the operator asked for these rows to run again.
      n = sweepRows(sql, stage, null, now, 'requeued as stale').returned;
    }
    sql.run('INSERT INTO engine_events (at, stage, kind, detail) VALUES (?, ?, ?, ?)', [now, stage, 'requeue', JSON.stringify({ which, rows: n })]);
    return n;
  }, 'immediate');
}

/**
 * Put one entity at the head of a stage's queue (above every priority). A failed row is re-queued
 * at the head; a running or done row is an error that says so.
 */
export function submit(sql: SqlDb, stage: string, key: string, now = Date.now()): void {
  requireStage(sql, stage);
  sql.transaction(() => {
    const row = sql.get<{ state: RowState }>(`SELECT state FROM ${stage} WHERE key = ?`, [key]);
    if (!row) throw new StageError(`stage ${stage} has no row with key ${JSON.stringify(key)} (not admitted yet?)`);
    if (row.state === 'running' || row.state === 'done') throw new StageError(`stage ${stage}: key ${JSON.stringify(key)} is ${row.state}; only pending or failed rows can be submitted`);
    sql.run(`UPDATE ${stage} SET boost = (SELECT COALESCE(MAX(boost), 0) + 1 FROM ${stage}), state = 'pending', available_at = 0,
             attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END, deaths = CASE WHEN state = 'failed' THEN 0 ELSE deaths END,
             fail_kind = NULL, finished_at = NULL, updated_at = ? WHERE key = ?`, [now, key]);
    sql.run('INSERT INTO engine_events (at, stage, kind, detail) VALUES (?, ?, ?, ?)', [now, stage, 'submit', JSON.stringify({ key })]);
  }, 'immediate');
}

/** Set a stage's worker count; running engines pick it up within a tick. */
export function scale(sql: SqlDb, stage: string, workers: number, now = Date.now()): { from: number; to: number } {
  requireStage(sql, stage);
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) throw new StageError(`scale ${stage}: worker count must be an integer from 1 to 1024, got ${JSON.stringify(workers)}`);
  return sql.transaction(() => {
    const from = sql.get<{ workers: number }>('SELECT workers FROM engine_stages WHERE name = ?', [stage])!.workers;
    sql.run('UPDATE engine_stages SET workers = ?, updated_at = ? WHERE name = ?', [workers, now, stage]);
    sql.run('INSERT INTO engine_events (at, stage, kind, detail) VALUES (?, ?, ?, ?)', [now, stage, 'scale', JSON.stringify({ from, to: workers })]);
    return { from, to: workers };
  }, 'immediate');
}

/**
 * Swap a stage's priority for a SQL expression over its columns (higher runs first): pending rows are
 * re-scored now, and running engines adopt it within a tick. (A registered TS function is swapped in
 * through `StageTable.setPriority` in a process that registered it.)
 */
export function setPriority(sql: SqlDb, stage: string, expr: string, now = Date.now()): { from: PrioritySpec; rescored: number } {
  requireStage(sql, stage);
  return setStagePriority(sql, stage, expr, now);
}

/** Drop every stage table and the engine's run metadata; imported structures stay. */
export function resetEngine(sql: SqlDb): string[] {
  const names = [...stageNames(sql), ...emittedNames(sql)];
  sql.transaction(() => {
    // Views over stage tables (e.g. the `pathways` view of earlier stores over `find_paths`) go with
    // them; other views stay.
    const over = (text: string) => names.some((n) => new RegExp(`\\b${n}\\b`).test(text));
    for (const v of sql.all<{ name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'view'")) if (over(v.sql)) sql.exec(`DROP VIEW IF EXISTS ${v.name}`);
    for (const n of names) sql.exec(`DROP TABLE IF EXISTS ${n}`);
    sql.exec('DELETE FROM engine_stages; DELETE FROM engine_cutoffs; DELETE FROM engine_events; DELETE FROM engine_attempts; DELETE FROM engine_emits;');
  }, 'immediate');
  return names;
}

/**
 * Purge run metadata older than `olderThanMs`: attempt history and events of rows that are done,
 * and the lease/error bookkeeping of those rows. Results and input columns stay.
 */
export function cleanup(sql: SqlDb, olderThanMs: number, now = Date.now()): { attempts: number; events: number; rows: number } {
  const before = now - olderThanMs;
  return sql.transaction(() => {
    let attempts = 0;
    let rows = 0;
    for (const s of stageNames(sql)) {
      attempts += sql.run(`DELETE FROM engine_attempts WHERE stage = ? AND finished_at < ? AND row_id IN (SELECT id FROM ${s} WHERE state = 'done')`, [s, before]).changes;
      rows += sql.run(`UPDATE ${s} SET claimed_by = NULL, lease_until = NULL, last_error = NULL, started_at = NULL WHERE state = 'done' AND finished_at < ? AND (claimed_by IS NOT NULL OR last_error IS NOT NULL OR started_at IS NOT NULL)`, [before]).changes;
    }
    const events = sql.run('DELETE FROM engine_events WHERE at < ?', [before]).changes;
    return { attempts, events, rows };
  }, 'immediate');
}

/** Parse `7d`, `12h`, `30m`, `45s` into milliseconds; the message names the value. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!m) throw new StageError(`duration must look like 7d, 12h, 30m or 45s, got ${JSON.stringify(text)}`);
  return Number(m[1]) * { s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

const SQLITE_TO_COLUMN: Record<string, ColumnType> = { REAL: 'float64', INTEGER: 'float64', TEXT: 'utf8', BLOB: 'binary' };

/** Tables `export` accepts: stage tables, the store's own tables, and views (e.g. `pathways`). */
export function exportableTables(sql: SqlDb): string[] {
  return sql.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name`).map((r) => r.name);
}

/** Emitted tables of fan-out stages (e.g. `pathways`), by name. */
export function emittedNames(sql: SqlDb): string[] {
  if (!sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'engine_emits'")) return [];
  return sql.all<{ name: string }>('SELECT name FROM engine_emits ORDER BY rowid').map((r) => r.name);
}

/** Views in the store, by name. */
export function viewNames(sql: SqlDb): string[] {
  return sql.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name`).map((r) => r.name);
}

/** The column type of values whose SQL type is not declared (view columns computed by expressions). */
function inferredType(values: readonly unknown[]): ColumnType {
  let kind: ColumnType | null = null;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const k: ColumnType = typeof v === 'number' || typeof v === 'bigint' ? 'float64' : v instanceof Uint8Array ? 'binary' : 'utf8';
    if (kind !== null && kind !== k) return 'utf8';
    kind = k;
  }
  return kind ?? 'utf8';
}

/**
 * The declared types of a stage table's input and output columns (its `engine_stages` spec), so
 * int32 and bool columns export as such rather than as SQLite's INTEGER. Empty for other tables.
 */
function stageColumnTypes(sql: SqlDb, table: string): Map<string, ColumnType> {
  const out = new Map<string, ColumnType>();
  if (!sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'engine_stages'")) return out;
  const row = sql.get<{ spec_json: string }>('SELECT spec_json FROM engine_stages WHERE name = ?', [table]);
  if (!row) return out;
  let spec: { input?: { columns?: Record<string, { type?: unknown } | unknown> }; output?: Record<string, unknown> };
  try {
    spec = JSON.parse(row.spec_json) as typeof spec;
  } catch {
    return out;
  }
  const known = (t: unknown): t is ColumnType => t === 'float64' || t === 'int32' || t === 'utf8' || t === 'binary' || t === 'bool';
  for (const [name, c] of Object.entries(spec.input?.columns ?? {})) {
    const t = typeof c === 'object' && c !== null ? (c as { type?: unknown }).type : c;
    if (known(t)) out.set(name, t);
  }
  for (const [name, t] of Object.entries(spec.output ?? {})) if (known(t)) out.set(name, t);
  return out;
}

/**
 * A whole table or view as column definitions + column arrays (INTEGER as float64: ids and epochs
 * exceed int32). Tables come in rowid order, views in their own order; a view column without a
 * declared type takes the type of its values (mixed values are written as text).
 */
export function readTable(sql: SqlDb, table: string): { defs: ColumnDef[]; columns: unknown[][] } {
  if (!exportableTables(sql).includes(table)) throw new StageError(`no table named ${JSON.stringify(table)} (tables: ${exportableTables(sql).join(', ')})`);
  const view = viewNames(sql).includes(table);
  const declaredByStage = stageColumnTypes(sql, table);
  const info = sql.all<{ name: string; type: string }>('SELECT name, type FROM pragma_table_info(?) ORDER BY cid', [table]);
  const rows = sql.allRaw(`SELECT ${info.map((c) => `"${c.name}"`).join(', ')} FROM ${table}${view ? '' : ' ORDER BY rowid'}`);
  const columns = info.map((_, c) => rows.map((r) => r[c]));
  const defs = info.map((c, i) => {
    // A stage's int32 or bool column keeps its type only when every value fits it (a column whose
    // declaration changed may still hold older values): otherwise SQLite's own type, exact.
    const byStage = declaredByStage.get(c.name);
    const fits = byStage === 'int32' ? columns[i]!.every((v) => v === null || (Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647))
      : byStage === 'bool' ? columns[i]!.every((v) => v === null || v === 0 || v === 1)
      : byStage !== undefined;
    const declared = (fits ? byStage : undefined) ?? SQLITE_TO_COLUMN[c.type.toUpperCase()];
    const type = declared ?? (view ? inferredType(columns[i]!) : 'utf8');
    if (type === 'utf8') columns[i] = columns[i]!.map((v) => (v === null || v === undefined || typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : String(v)));
    return { name: c.name, type };
  });
  return { defs, columns };
}

export function tableAsArrow(sql: SqlDb, table: string): Table {
  const { defs, columns } = readTable(sql, table);
  return makeTable(defs, columns);
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV (header row; BLOBs as base64; NULL as an empty cell). */
export function tableAsCsv(sql: SqlDb, table: string): string {
  const { defs, columns } = readTable(sql, table);
  const n = columns[0]?.length ?? 0;
  const lines = [defs.map((d) => csvCell(d.name)).join(',')];
  for (let r = 0; r < n; r++) lines.push(columns.map((c) => csvCell(c[r])).join(','));
  return lines.join('\n') + '\n';
}

/** JSON lines, one object per row (BLOBs as base64). */
export function tableAsJsonLines(sql: SqlDb, table: string): string {
  const { defs, columns } = readTable(sql, table);
  const n = columns[0]?.length ?? 0;
  const out: string[] = [];
  for (let r = 0; r < n; r++) {
    const o: Record<string, unknown> = {};
    defs.forEach((d, c) => {
      const v = columns[c]![r];
      o[d.name] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
    });
    out.push(JSON.stringify(o));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

export type ExportFormat = 'csv' | 'arrow' | 'json';

export function exportTable(sql: SqlDb, table: string, format: ExportFormat): Uint8Array {
  if (format === 'arrow') return encodeFile(tableAsArrow(sql, table));
  return Buffer.from(format === 'csv' ? tableAsCsv(sql, table) : tableAsJsonLines(sql, table), 'utf8');
}

/**
 * A checkpoint in `dir`: an online SQLite backup (`fracflow.db`) plus every stage table, every
 * emitted table (e.g. `pathways`) and every view as CSV and as an Arrow IPC file. Returns the files written.
 */
export async function checkpoint(sql: SqlDb, dir: string): Promise<string[]> {
  const db = join(dir, 'fracflow.db');
  if (sql.path !== ':memory:' && resolve(db) === resolve(sql.path)) {
    throw new StageError(`checkpoint: ${db} is the store itself (--db ${sql.path}); write the checkpoint to another directory`);
  }
  makeOutputDir(dir);
  const files: string[] = [];
  await sql.backup(db);
  files.push(db);
  // The CSV and Arrow files are read from the backup, so every file of the checkpoint shows the same
  // moment even while a run goes on writing to the store. The backup is left as one self-contained
  // file (rollback journal, no -wal/-shm beside it); fracflow turns WAL back on when it opens it.
  const copy = openSql(db);
  try {
    copy.pragma('journal_mode = DELETE');
    for (const s of [...stageNames(copy), ...emittedNames(copy), ...viewNames(copy)]) {
      const csv = join(dir, `${s}.csv`);
      writeOutputFile(csv, tableAsCsv(copy, s));
      const arrow = join(dir, `${s}.arrow`);
      writeOutputFile(arrow, encodeFile(tableAsArrow(copy, s)));
      files.push(csv, arrow);
    }
  } finally {
    copy.close();
  }
  return files;
}

