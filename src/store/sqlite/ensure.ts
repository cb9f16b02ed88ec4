/**
 * `ensure`: a stage's table, its indexes and its registry entries (`engine_stages`, `engine_cutoffs`).
 *
 * Table columns: the engine's bookkeeping (id, key, state, priority, boost, holder and lease, attempts,
 * deaths, fail_kind, back-off, last error, times, input hash, parameters, code version), then the
 * stage's input and output columns. Indexes: the queue order (state, boost, priority, id), the rows
 * with deaths (a partial index: quarantine claims probe it), and finished_at (rates, feeds of other
 * processes' rows).
 */
import { StageError, type PrioritySpec, type Stage } from '../../stage-kit/stage.js';
import type { SqlDb } from './connection.js';
import { SQL_TYPE, upstreamColumnsUsed, type StagePlan } from './plan.js';

/**
 * Create the table and its registry entries if missing. A registered table whose columns differ from
 * the declaration is an error (the results would not match their code). Returns the priority in force
 * (the declaration's, or one swapped in since).
 */
export function ensureStage(sql: SqlDb, plan: StagePlan, now: number): PrioritySpec {
  const { stage, table: t } = plan;
  const cols = [
    ...plan.inputNames.map((c) => `${c} ${SQL_TYPE[stage.input.columns[c]!.type]}`),
    ...plan.outputNames.map((c) => `${c} ${SQL_TYPE[stage.output[c]!]}`),
  ];
  return sql.transaction(() => {
    const existing = sql.all<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, [t]).map((r) => r.name);
    if (existing.length > 0) {
      const missing = [...plan.inputNames, ...plan.outputNames].filter((c) => !existing.includes(c));
      if (missing.length > 0 || !existing.includes('lease_until'))
        throw new StageError(`stage ${t}: table ${t} exists with other columns (missing ${missing.join(', ') || 'engine columns'}); run \`fracflow reset --yes\` or rename the stage`);
    } else {
      sql.exec(`CREATE TABLE ${t} (
        id           INTEGER PRIMARY KEY,
        key          TEXT NOT NULL UNIQUE,
        state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
        priority     REAL NOT NULL DEFAULT 0,
        boost        INTEGER NOT NULL DEFAULT 0,
        claimed_by   TEXT,
        lease_until  REAL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        deaths       INTEGER NOT NULL DEFAULT 0,
        fail_kind    TEXT,
        available_at REAL NOT NULL DEFAULT 0,
        last_error   TEXT,
        created_at   REAL NOT NULL,
        started_at   REAL,
        finished_at  REAL,
        updated_at   REAL NOT NULL,
        input_hash   TEXT NOT NULL,
        params       TEXT NOT NULL,
        code_version TEXT NOT NULL${cols.length ? ',\n        ' + cols.join(',\n        ') : ''}
      );
      CREATE INDEX ${t}_queue ON ${t} (state, boost DESC, priority DESC, id);
      CREATE INDEX ${t}_suspects ON ${t} (state) WHERE deaths > 0;
      CREATE INDEX ${t}_finished ON ${t} (finished_at) WHERE finished_at IS NOT NULL;`);
    }
    const spec = JSON.stringify({
      input: { from: stage.input.from, key: stage.input.key, columns: stage.input.columns },
      filter: stage.filter ? { sql: stage.filter.sql, cutoffs: stage.filter.cutoffs } : null,
      output: stage.output, emits: stage.emits, retry: stage.retry, leaseMs: stage.leaseMs,
    });
    const row = sql.get<{ priority: string }>('SELECT priority FROM engine_stages WHERE name = ?', [t]);
    let priority: PrioritySpec = stage.priority;
    if (!row) {
      sql.run(
        `INSERT INTO engine_stages (name, work, module, spec_json, workers, batch_size, priority, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [t, stage.workName, stage.module, spec, stage.workers, stage.batchSize, JSON.stringify(stage.priority), now, now],
      );
    } else {
      sql.run('UPDATE engine_stages SET work = ?, module = ?, spec_json = ?, batch_size = ?, updated_at = ? WHERE name = ?', [stage.workName, stage.module, spec, stage.batchSize, now, t]);
      priority = JSON.parse(row.priority) as PrioritySpec;
    }
    for (const [c, v] of Object.entries(stage.filter?.cutoffs ?? {}))
      sql.run('INSERT OR IGNORE INTO engine_cutoffs (stage, name, value) VALUES (?, ?, ?)', [t, c, v.initial]);
    return priority;
  }, 'immediate');
}

/** Is `name` a stage table registered in this store? */
export function isStageTable(sql: SqlDb, name: string): boolean {
  return sql.get('SELECT 1 AS x FROM engine_stages WHERE name = ?', [name]) !== undefined;
}

/** Columns of a table (empty when there is no such table). */
export function tableColumns(sql: SqlDb, table: string): string[] {
  return sql.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [table]).map((r) => r.name);
}

/**
 * Check a stage's admission against its upstream table as the store has it: the table exists, and the
 * key template, the copied columns and the filter name columns it has. The message names the stage,
 * the piece and the columns the upstream offers.
 */
export function checkUpstream(sql: SqlDb, plan: StagePlan): void {
  const { stage } = plan;
  const from = stage.input.from;
  if (from === null) return;
  const cols = tableColumns(sql, from);
  if (cols.length === 0) throw new StageError(`stage ${stage.name}: input.from: no table named ${from} in this store (run its stage, or import, first)`);
  for (const c of upstreamColumnsUsed(stage)) {
    if (!cols.includes(c)) throw new StageError(`stage ${stage.name}: the upstream table ${from} has no column ${c} (columns: ${cols.join(', ')})`);
  }
}

/**
 * Create a fan-out stage's emitted table if missing and register it: `id`, `key` (unique), `source_id`
 * and `source_key` (the emitting row), `created_at`, then the declared columns; indexes on
 * created_at (feeds of rows emitted by other processes) and source_id. A table or view of that name
 * with other columns (an earlier fracflow's) is an error naming the way out.
 */
export function ensureEmitted(sql: SqlDb, stage: Stage): void {
  const e = stage.emits;
  if (!e) return;
  const t = e.table;
  sql.transaction(() => {
    const owner = sql.get<{ stage: string }>('SELECT stage FROM engine_emits WHERE name = ?', [t]);
    if (owner && owner.stage !== stage.name) throw new StageError(`stage ${stage.name}: emits into ${t}, which stage ${owner.stage} emits into; give the fork its own emits.table`);
    if (sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'view' AND name = ?", [t]))
      throw new StageError(`stage ${stage.name}: ${t} is a view in this store (made by an earlier fracflow); run \`fracflow reset --yes\` (imported structures stay) and run again`);
    const existing = tableColumns(sql, t);
    if (existing.length > 0) {
      const missing = ['source_id', ...Object.keys(e.columns)].filter((c) => !existing.includes(c));
      if (missing.length) throw new StageError(`stage ${stage.name}: table ${t} exists with other columns (missing ${missing.join(', ')}); run \`fracflow reset --yes\` or rename the table`);
    } else {
      sql.exec(`CREATE TABLE ${t} (
        id         INTEGER PRIMARY KEY,
        key        TEXT NOT NULL UNIQUE,
        source_id  INTEGER NOT NULL,
        source_key TEXT NOT NULL,
        created_at REAL NOT NULL${Object.entries(e.columns).map(([c, ty]) => `,\n        ${c} ${SQL_TYPE[ty]}`).join('')}
      );
      CREATE INDEX ${t}_created ON ${t} (created_at);
      CREATE INDEX ${t}_source ON ${t} (source_id);`);
    }
    sql.run('INSERT INTO engine_emits (name, stage, spec_json) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET stage = excluded.stage, spec_json = excluded.spec_json', [t, stage.name, JSON.stringify(e)]);
  }, 'immediate');
}

/** Is `name` a registered emitted table? Its emitting stage, or null. */
export function emitterOf(sql: SqlDb, name: string): string | null {
  return sql.get<{ stage: string }>('SELECT stage FROM engine_emits WHERE name = ?', [name])?.stage ?? null;
}
