/**
 * Operations on a store's stage tables that need no stage module: status, errors, requeue, submit,
 * scale, reset, cleanup, checkpoint and export. They read the registry (`engine_stages`) for the
 * stage names and columns, so they work from any process, also while another one is running stages.
 */
import { join, resolve } from 'node:path';
import type { Table } from 'apache-arrow';
import { openSql, type SqlDb } from './connection.js';
import { encodeFile, makeTable } from '../../stage-kit/arrow.js';
import { csvOf, jsonLinesOf, specColumnTypes, tableData, type TableData } from '../table-files.js';
import { makeOutputDir, writeOutputFile } from '../../io/output-files.js';
import { setPriority as setStagePriority } from './control.js';
import { expireDeadLocalLeases, sweep as sweepRows } from './lease.js';
import type { RowState, StageRegistration } from '../interface.js';
import { spreadThreads } from './workers.js';
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
import { groupStageErrors } from '../error-groups.js';
export type { ErrorGroup } from '../interface.js';

export { errorCause, addToGroup, sortedGroups, type Grouping } from '../error-groups.js';

/** Failed rows of one stage grouped by cause, most frequent first. */
function stageErrorGroups(sql: SqlDb, stage: string): ErrorGroup[] {
  const hasId = sql.get('SELECT 1 AS x FROM pragma_table_info(?) WHERE name = ?', [stage, 'structure_id']) !== undefined;
  const rows = sql.allRaw(`SELECT key, last_error, attempts${hasId ? ', structure_id' : ''} FROM ${stage} WHERE state = 'failed' ORDER BY id`);
  return groupStageErrors(stage, rows as [string, string | null, number, string | null | undefined][]);
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
export function scale(sql: SqlDb, stage: string, workers: number, now = Date.now()): { from: number; to: number; workers: { id: string; threads: number }[] } {
  requireStage(sql, stage);
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) throw new StageError(`scale ${stage}: worker count must be an integer from 1 to 1024, got ${JSON.stringify(workers)}`);
  return sql.transaction(() => {
    const from = sql.get<{ workers: number }>('SELECT workers FROM engine_stages WHERE name = ?', [stage])!.workers;
    sql.run('UPDATE engine_stages SET workers = ?, updated_at = ? WHERE name = ?', [workers, now, stage]);
    // The stage's registered workers (`fracflow worker`) share the count as their thread allotments.
    const spread = spreadThreads(sql, stage, workers, now);
    sql.run('INSERT INTO engine_events (at, stage, kind, detail) VALUES (?, ?, ?, ?)', [now, stage, 'scale', JSON.stringify({ from, to: workers, ...(spread.length ? { workers: spread } : {}) })]);
    return { from, to: workers, workers: spread };
  }, 'immediate');
}

/** A stage's registration (module, work function, declaration) for a process without its code. */
export function registration(sql: SqlDb, stage: string): StageRegistration | null {
  const r = sql.get<{ work: string; module: string; spec_json: string; workers: number; batch_size: number; priority: string }>('SELECT work, module, spec_json, workers, batch_size, priority FROM engine_stages WHERE name = ?', [stage]);
  if (!r) return null;
  return { stage, module: r.module, work: r.work, workers: r.workers, batchSize: r.batch_size, priority: JSON.parse(r.priority) as PrioritySpec, spec: JSON.parse(r.spec_json) as Record<string, unknown> };
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
    sql.exec('DELETE FROM engine_stages; DELETE FROM engine_cutoffs; DELETE FROM engine_events; DELETE FROM engine_attempts; DELETE FROM engine_emits; DELETE FROM engine_workers; DELETE FROM engine_jobs;');
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

/**
 * The declared types of a stage table's input and output columns (its `engine_stages` spec), so
 * int32 and bool columns export as such rather than as SQLite's INTEGER. Empty for other tables.
 */
function stageColumnTypes(sql: SqlDb, table: string): Map<string, ColumnType> {
  if (!sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'engine_stages'")) return new Map();
  return specColumnTypes(sql.get<{ spec_json: string }>('SELECT spec_json FROM engine_stages WHERE name = ?', [table])?.spec_json);
}

/**
 * A whole table or view as column definitions + column arrays (INTEGER as float64: ids and epochs
 * exceed int32). Tables come in rowid order, views in their own order; a view column without a
 * declared type takes the type of its values (mixed values are written as text).
 */
export function readTable(sql: SqlDb, table: string): TableData {
  if (!exportableTables(sql).includes(table)) throw new StageError(`no table named ${JSON.stringify(table)} (tables: ${exportableTables(sql).join(', ')})`);
  const view = viewNames(sql).includes(table);
  const info = sql.all<{ name: string; type: string }>('SELECT name, type FROM pragma_table_info(?) ORDER BY cid', [table]);
  const rows = sql.allRaw(`SELECT ${info.map((c) => `"${c.name}"`).join(', ')} FROM ${table}${view ? '' : ' ORDER BY rowid'}`);
  const columns = info.map((_, c) => rows.map((r) => r[c]));
  return tableData(info.map((c) => c.name), info.map((c) => SQLITE_TO_COLUMN[c.type.toUpperCase()]), stageColumnTypes(sql, table), columns, view);
}

export function tableAsArrow(sql: SqlDb, table: string): Table {
  const { defs, columns } = readTable(sql, table);
  return makeTable(defs, columns);
}

/** RFC 4180 CSV (header row; BLOBs as base64; NULL as an empty cell). */
export function tableAsCsv(sql: SqlDb, table: string): string {
  return csvOf(readTable(sql, table));
}

/** JSON lines, one object per row (BLOBs as base64). */
export function tableAsJsonLines(sql: SqlDb, table: string): string {
  return jsonLinesOf(readTable(sql, table));
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

