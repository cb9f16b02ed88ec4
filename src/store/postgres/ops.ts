/**
 * Operator verbs on PostgreSQL that need no stage module (status, errors, requeue, submit, scale,
 * reset, cleanup, export, checkpoint): they read the registry for stage names and columns, so they
 * work from any process and any host, also while workers run (see src/store/sqlite/ops.ts).
 *
 * `checkpoint` reads every table in one REPEATABLE READ transaction, so all its files show one moment
 * while workers go on writing.
 */
import { join } from 'node:path';
import { StageError, type ColumnType, type PrioritySpec } from '../../stage-kit/stage.js';
import type { ErrorGroup, RowState, StageRegistration } from '../interface.js';
import { groupImportErrors, groupStageErrors, IMPORT_ERRORS } from '../error-groups.js';
import { arrowOf, csvOf, fileOf, specColumnTypes, tableData, type TableData } from '../table-files.js';
import { makeOutputDir, writeOutputFile } from '../../io/output-files.js';
import type { PgTx } from './connection.js';
import { expireDeadLocalLeases, sweep } from './lease.js';
import { recordEvent } from './control.js';
import { stageNames } from './status.js';
import { tableColumns } from './ensure.js';
import { notifyWork } from './admit.js';
import { spreadThreads } from './workers.js';

/** A stage registered in this store, or a StageError naming the stages there are. */
export async function requireStage(tx: PgTx, stage: string): Promise<void> {
  if (!(await tx.get('SELECT 1 AS x FROM engine_stages WHERE name = @s', { s: stage }))) {
    const names = await stageNames(tx);
    throw new StageError(`no stage named ${JSON.stringify(stage)} in this store (stages: ${names.join(', ') || 'none yet'})`);
  }
}

async function stageErrorGroups(tx: PgTx, stage: string): Promise<ErrorGroup[]> {
  const hasId = (await tableColumns(tx, stage)).includes('structure_id');
  const rows = await tx.raw(`SELECT key, last_error, attempts${hasId ? ', structure_id' : ''} FROM ${stage} WHERE state = 'failed' ORDER BY id`);
  return groupStageErrors(stage, rows as [string, string | null, number, string | null | undefined][]);
}

/** Failed rows grouped by cause, stage by stage; `stage` narrows to one. */
export async function errorGroups(tx: PgTx, stage?: string): Promise<ErrorGroup[]> {
  if (stage !== undefined) {
    await requireStage(tx, stage);
    return stageErrorGroups(tx, stage);
  }
  const out: ErrorGroup[] = [];
  for (const s of await stageNames(tx)) out.push(...(await stageErrorGroups(tx, s)));
  return out;
}

/** Import errors grouped by dataset and cause (none in a store without the table). */
export async function importErrorGroups(tx: PgTx): Promise<ErrorGroup[]> {
  if ((await tableColumns(tx, IMPORT_ERRORS)).length === 0) return [];
  return groupImportErrors(await tx.all('SELECT dataset, source_id, message, file, record_id FROM import_errors ORDER BY id'));
}

/** Back to `pending`: failed rows, or stale running rows whose holder is gone (a death each). */
export async function requeue(tx: PgTx, stage: string, which: 'failed' | 'stale', now: number): Promise<number> {
  await requireStage(tx, stage);
  let n: number;
  if (which === 'failed') {
    n = await tx.run(`UPDATE ${stage} SET state = 'pending', attempts = 0, deaths = 0, fail_kind = NULL, available_at = 0, finished_at = NULL, updated_at = @now WHERE state = 'failed'`, { now });
    if (n > 0) await notifyWork(tx, stage);
  } else {
    await expireDeadLocalLeases(tx, stage, now);
    n = (await sweep(tx, stage, null, now, 'requeued as stale')).returned;
  }
  await recordEvent(tx, stage, 'requeue', { which, rows: n }, now);
  return n;
}

/** One entity at the head of a stage's queue (a failed one queued again). */
export async function submit(tx: PgTx, stage: string, key: string, now: number): Promise<void> {
  await requireStage(tx, stage);
  const row = await tx.get<{ state: RowState }>(`SELECT state FROM ${stage} WHERE key = @k FOR UPDATE`, { k: key });
  if (!row) throw new StageError(`stage ${stage} has no row with key ${JSON.stringify(key)} (not admitted yet?)`);
  if (row.state === 'running' || row.state === 'done') throw new StageError(`stage ${stage}: key ${JSON.stringify(key)} is ${row.state}; only pending or failed rows can be submitted`);
  await tx.run(`UPDATE ${stage} SET boost = (SELECT COALESCE(MAX(boost), 0) + 1 FROM ${stage}), state = 'pending', available_at = 0,
           attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END, deaths = CASE WHEN state = 'failed' THEN 0 ELSE deaths END,
           fail_kind = NULL, finished_at = NULL, updated_at = @now WHERE key = @k`, { now, k: key });
  await recordEvent(tx, stage, 'submit', { key }, now);
  await notifyWork(tx, stage);
}

/** A stage's worker count; running engines apply it within a tick. */
export async function scale(tx: PgTx, stage: string, workers: number, now: number): Promise<{ from: number; to: number; workers: { id: string; threads: number }[] }> {
  await requireStage(tx, stage);
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) throw new StageError(`scale ${stage}: worker count must be an integer from 1 to 1024, got ${JSON.stringify(workers)}`);
  const from = (await tx.get<{ workers: number }>('SELECT workers FROM engine_stages WHERE name = @s FOR UPDATE', { s: stage }))!.workers;
  await tx.run('UPDATE engine_stages SET workers = @w, updated_at = @now WHERE name = @s', { w: workers, now, s: stage });
  // The stage's registered workers (`fracflow worker`) share the count as their thread allotments.
  const spread = await spreadThreads(tx, stage, workers, now);
  await recordEvent(tx, stage, 'scale', { from, to: workers, ...(spread.length ? { workers: spread } : {}) }, now);
  return { from, to: workers, workers: spread };
}

/** A stage's registration (module, work function, declaration) for a process without its code. */
export async function registration(tx: PgTx, stage: string): Promise<StageRegistration | null> {
  const r = await tx.get<{ work: string; module: string; spec_json: string; workers: number; batch_size: number; priority: string }>('SELECT work, module, spec_json, workers, batch_size, priority FROM engine_stages WHERE name = @s', { s: stage });
  if (!r) return null;
  return { stage, module: r.module, work: r.work, workers: r.workers, batchSize: r.batch_size, priority: JSON.parse(r.priority) as PrioritySpec, spec: JSON.parse(r.spec_json) as Record<string, unknown> };
}

/** Emitted tables of fan-out stages, in registration order. */
export async function emittedNames(tx: PgTx): Promise<string[]> {
  if ((await tableColumns(tx, 'engine_emits')).length === 0) return [];
  return (await tx.all<{ name: string }>('SELECT name FROM engine_emits ORDER BY seq')).map((r) => r.name);
}

/** Drop every stage table and emitted table and the run metadata; imported structures stay. */
export async function resetEngine(tx: PgTx): Promise<string[]> {
  const names = [...(await stageNames(tx)), ...(await emittedNames(tx))];
  for (const n of names) await tx.exec(`DROP TABLE IF EXISTS ${n}`);
  await tx.exec('DELETE FROM engine_stages; DELETE FROM engine_cutoffs; DELETE FROM engine_events; DELETE FROM engine_attempts; DELETE FROM engine_emits; DELETE FROM engine_workers; DELETE FROM engine_jobs;');
  return names;
}

/** Purge run metadata of finished rows older than `olderThanMs`; results stay. */
export async function cleanup(tx: PgTx, olderThanMs: number, now: number): Promise<{ attempts: number; events: number; rows: number }> {
  const before = now - olderThanMs;
  let attempts = 0;
  let rows = 0;
  for (const s of await stageNames(tx)) {
    attempts += await tx.run(`DELETE FROM engine_attempts a USING ${s} r WHERE a.stage = @s AND a.finished_at < @b AND r.id = a.row_id AND r.state = 'done'`, { s, b: before });
    rows += await tx.run(`UPDATE ${s} SET claimed_by = NULL, lease_until = NULL, last_error = NULL, started_at = NULL WHERE state = 'done' AND finished_at < @b AND (claimed_by IS NOT NULL OR last_error IS NOT NULL OR started_at IS NOT NULL)`, { b: before });
  }
  const events = await tx.run('DELETE FROM engine_events WHERE at < @b', { b: before });
  return { attempts, events, rows };
}

/** Tables `export` accepts: the store's tables and views in its schema, by name. */
export async function exportableTables(tx: PgTx): Promise<string[]> {
  return (await tx.all<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`)).map((r) => r.name);
}

const PG_TO_COLUMN: Record<string, ColumnType> = { 'double precision': 'float64', real: 'float64', integer: 'float64', bigint: 'float64', smallint: 'float64', numeric: 'float64', text: 'utf8', 'character varying': 'utf8', bytea: 'binary' };

/** A whole table as column definitions + column arrays, in id order (as the SQLite store's rowid order). */
export async function readTable(tx: PgTx, table: string): Promise<TableData> {
  const tables = await exportableTables(tx);
  if (!tables.includes(table)) throw new StageError(`no table named ${JSON.stringify(table)} (tables: ${tables.join(', ')})`);
  const info = await tx.all<{ name: string; type: string }>(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @t ORDER BY ordinal_position`,
    { t: table },
  );
  const names = info.map((c) => c.name);
  const order = names.includes('id') ? ' ORDER BY id' : names.includes('version') ? ' ORDER BY version' : names.includes('seq') ? ' ORDER BY seq' : '';
  const rows = await tx.raw(`SELECT ${names.map((c) => `"${c}"`).join(', ')} FROM ${table}${order}`);
  const columns = names.map((_, c) => rows.map((r) => r[c]));
  const spec = tables.includes('engine_stages') ? (await tx.get<{ spec_json: string }>('SELECT spec_json FROM engine_stages WHERE name = @t', { t: table }))?.spec_json : undefined;
  return tableData(names, info.map((c) => PG_TO_COLUMN[c.type]), specColumnTypes(spec), columns, false);
}

export async function exportTable(tx: PgTx, table: string, format: 'csv' | 'arrow' | 'json'): Promise<Uint8Array> {
  return fileOf(await readTable(tx, table), format);
}

/**
 * A checkpoint in `dir` from one REPEATABLE READ transaction (the caller's): every table of the store
 * as CSV and as an Arrow IPC file (`<table>.csv`, `<table>.arrow`) — the stage tables, the emitted
 * tables, the workflow's and the engine's own tables — all of one moment.
 */
export async function checkpoint(tx: PgTx, dir: string): Promise<string[]> {
  makeOutputDir(dir);
  const files: string[] = [];
  for (const s of await exportableTables(tx)) {
    const t = await readTable(tx, s);
    const csv = join(dir, `${s}.csv`);
    writeOutputFile(csv, csvOf(t));
    const arrow = join(dir, `${s}.arrow`);
    writeOutputFile(arrow, arrowOf(t));
    files.push(csv, arrow);
  }
  return files;
}
