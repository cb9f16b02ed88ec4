/**
 * Stage declarations. A stage is declared once, in its own module, and the same declaration is read by
 * the scheduler (main thread: table, input, filter, priority, pool size) and by the worker threads
 * (which import the module by its URL and run its pure work function).
 *
 * ```ts
 * export const square = defineStage({
 *   module: import.meta.url,          // workers import this module to find `work`
 *   name: 'square',                   // table name
 *   input: { from: 'seed', columns: { x: { type: 'float64', expr: 'u.x' } } },
 *   filter: { sql: 'u.x <= :xMax', cutoffs: { xMax: { initial: 10, step: 5, max: 20 } } },
 *   priority: 'x',                    // SQL over the stage's columns, or { fn: 'registered-name' }
 *   output: { y: 'float64' },
 *   work: (batch) => ...,             // Arrow RecordBatch in → RecordBatch out, pure
 *   workers: 2, batchSize: 256,
 * });
 * ```
 */
import type { RecordBatch } from 'apache-arrow';

/** Column types a stage table can hold (SQLite type / Arrow type). */
export type ColumnType = 'float64' | 'int32' | 'utf8' | 'binary' | 'bool';
export const COLUMN_TYPES: readonly ColumnType[] = ['float64', 'int32', 'utf8', 'binary', 'bool'];

/** What the work function receives besides its batch. */
export interface WorkContext {
  /** The stage's parameters (JSON values, fixed per declaration). */
  params: Readonly<Record<string, unknown>>;
  /** The stage name (a fork runs the work of its base stage under its own name). */
  stage: string;
}

/**
 * The pure work function: one Arrow record batch in (column `key` + the input columns), one out
 * (column `key` + the output columns, one row per input row it finished, in any order). It may throw:
 * the engine then isolates the rows that make it throw and runs the others. No SQL, no files.
 */
export type WorkFunction = (batch: RecordBatch, ctx: WorkContext) => RecordBatch | Promise<RecordBatch>;

export interface InputColumn {
  type: ColumnType;
  /** SQL expression over the upstream row (alias `u`) and anything `join` brings in. */
  expr: string;
}

export interface StageInput {
  /**
   * Upstream table: another stage (its `done` rows feed this one) or a plain table such as
   * `structures` (every row feeds). Omitted: a source stage, filled with `Engine.enqueue`.
   */
  from?: string;
  /** SQL giving the entity key of the new row from the upstream row `u`. Default `u.key`. */
  key?: string;
  /** Extra joins after `FROM <from> u`, e.g. `JOIN structures s ON s.source_id = u.key`. */
  join?: string;
  /** Input columns copied into the stage table when a row is admitted. */
  columns: Record<string, InputColumn | ColumnType>;
}

export interface Cutoff {
  /** Starting value. */
  initial: number;
  /** Adaptive broadening: added when the queue is empty and upstream is done. Omitted: fixed cutoff. */
  step?: number;
  /** Broadening stops here. */
  max?: number;
}

export interface AdmissionFilter {
  /** SQL boolean over the upstream row `u`; named cutoffs appear as `:name`. */
  sql: string;
  cutoffs?: Record<string, Cutoff>;
}

/** Higher priority runs first. A SQL expression over the stage table's columns, or a registered TS function. */
export type PrioritySpec = string | { fn: string };

export interface RetryPolicy {
  /** Attempts before a row is `failed`: runs whose work function threw. Default 3. */
  maxAttempts?: number;
  /**
   * Deaths before a row is `failed`: runs that ended without a result because their holder died (a
   * killed or crashed process, a worker thread that exited, a batch past its lease). A death does not
   * spend an attempt, and a row that died before runs alone in its next batch, so a row that kills
   * its worker every time takes no other row with it. Default {@link DEFAULT_MAX_DEATHS}.
   */
  maxDeaths?: number;
  /** Back-off before attempt k+1: backoffMs · 2^(k-1), at most maxBackoffMs. Default 1000. */
  backoffMs?: number;
  /** Default 60000. */
  maxBackoffMs?: number;
}

export interface StageDeclaration {
  /** URL or path of the module that declares (and exports) this stage: workers import it. */
  module: string;
  /** Table name: lower-case letters, digits and `_`, starting with a letter. */
  name: string;
  input: StageInput;
  filter?: AdmissionFilter;
  /** Default `0` (first in, first out among equals). */
  priority?: PrioritySpec;
  output: Record<string, ColumnType>;
  work: WorkFunction;
  /** Worker threads of this stage's pool. Default 1. */
  workers?: number;
  /** Rows per task. Default 64. */
  batchSize?: number;
  /** A batch running longer than this is aborted and its rows come back (ms). Default 300000. */
  leaseMs?: number;
  retry?: RetryPolicy;
  params?: Record<string, unknown>;
  /** Recorded with each row (`code_version`). Default the package version. */
  version?: string;
  /**
   * Hand a thread its next batch while it runs one (default true): right for synchronous CPU work.
   * Set false for work that waits on something else (an external program, I/O), which a thread
   * would run side by side with the next batch: such a stage runs one batch per thread, and a batch
   * past its lease ends only its own thread.
   */
  queueInThread?: boolean;
}

/** A validated stage with every default filled in. */
export interface Stage {
  readonly module: string;
  readonly name: string;
  /** The stage whose work function runs (itself, or the base of a fork). */
  readonly workName: string;
  readonly input: { from: string | null; key: string; join: string; columns: Readonly<Record<string, InputColumn>> };
  readonly filter: { sql: string; cutoffs: Readonly<Record<string, Required<Cutoff>>> } | null;
  readonly priority: PrioritySpec;
  readonly output: Readonly<Record<string, ColumnType>>;
  readonly work: WorkFunction;
  readonly workers: number;
  readonly batchSize: number;
  readonly leaseMs: number;
  readonly retry: Required<RetryPolicy>;
  readonly params: Readonly<Record<string, unknown>>;
  readonly version: string;
  readonly queueInThread: boolean;
}

/** A stage declaration that names a bad option; the message names the stage, the option and the value. */
export class StageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageError';
  }
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
/**
 * Deaths a row may have before it ends failed (see {@link RetryPolicy.maxDeaths}): generous, because
 * every interruption that cannot release its rows (kill -9, a power cut) costs each row in flight one.
 */
export const DEFAULT_MAX_DEATHS = 10;
/** Columns every stage table has; input/output columns may not reuse them. */
export const RESERVED_COLUMNS = new Set([
  'id', 'key', 'state', 'priority', 'boost', 'claimed_by', 'lease_until', 'attempts', 'deaths', 'fail_kind', 'available_at', 'last_error',
  'created_at', 'started_at', 'finished_at', 'updated_at', 'input_hash', 'params', 'code_version',
]);
const STAGE_MARK = Symbol.for('fracflow.stage');

function positiveInt(stage: string, option: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new StageError(`stage ${stage}: ${option} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function columnType(stage: string, where: string, t: unknown): ColumnType {
  if (typeof t !== 'string' || !(COLUMN_TYPES as readonly string[]).includes(t))
    throw new StageError(`stage ${stage}: ${where}: type must be one of ${COLUMN_TYPES.join(', ')}, got ${JSON.stringify(t)}`);
  return t as ColumnType;
}

function columnName(stage: string, where: string, c: string): void {
  if (!NAME.test(c)) throw new StageError(`stage ${stage}: ${where} column ${JSON.stringify(c)} must match ${NAME.source}`);
  if (RESERVED_COLUMNS.has(c)) throw new StageError(`stage ${stage}: ${where} column ${JSON.stringify(c)} is reserved (engine bookkeeping)`);
}

/** Validate a declaration and fill in the defaults. */
export function defineStage(d: StageDeclaration): Stage {
  const name = d.name;
  if (typeof name !== 'string' || !NAME.test(name)) throw new StageError(`stage name must match ${NAME.source}, got ${JSON.stringify(name)}`);
  if (name.startsWith('engine_') || name === 'structures' || name === 'import_errors' || name === 'schema_migrations')
    throw new StageError(`stage name ${JSON.stringify(name)} is taken by a store table`);
  if (typeof d.module !== 'string' || d.module.length === 0) throw new StageError(`stage ${name}: module must be the declaring module's URL (import.meta.url), got ${JSON.stringify(d.module)}`);
  if (typeof d.work !== 'function') throw new StageError(`stage ${name}: work must be a function, got ${typeof d.work}`);
  if (!d.input || typeof d.input !== 'object') throw new StageError(`stage ${name}: input is required`);
  const columns: Record<string, InputColumn> = {};
  for (const [c, spec] of Object.entries(d.input.columns ?? {})) {
    columnName(name, 'input', c);
    const col = typeof spec === 'string' ? { type: spec, expr: `u.${c}` } : spec;
    columns[c] = { type: columnType(name, `input column ${c}`, col.type), expr: col.expr };
  }
  const from = d.input.from ?? null;
  if (from !== null && !NAME.test(from)) throw new StageError(`stage ${name}: input.from must be a table name, got ${JSON.stringify(from)}`);
  if (from === name) throw new StageError(`stage ${name}: input.from cannot be the stage itself`);
  const output: Record<string, ColumnType> = {};
  for (const [c, t] of Object.entries(d.output ?? {})) {
    columnName(name, 'output', c);
    if (c in columns) throw new StageError(`stage ${name}: output column ${JSON.stringify(c)} is also an input column`);
    output[c] = columnType(name, `output column ${c}`, t);
  }
  if (Object.keys(output).length === 0) throw new StageError(`stage ${name}: output must declare at least one column`);
  let filter: Stage['filter'] = null;
  if (d.filter) {
    if (from === null) throw new StageError(`stage ${name}: filter needs input.from (a source stage admits what is enqueued)`);
    const cutoffs: Record<string, Required<Cutoff>> = {};
    for (const [c, v] of Object.entries(d.filter.cutoffs ?? {})) {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(c)) throw new StageError(`stage ${name}: cutoff name ${JSON.stringify(c)} must be an identifier`);
      if (!Number.isFinite(v.initial)) throw new StageError(`stage ${name}: cutoff ${c}: initial must be a finite number, got ${JSON.stringify(v.initial)}`);
      const step = v.step ?? 0;
      if (!Number.isFinite(step) || step < 0) throw new StageError(`stage ${name}: cutoff ${c}: step must be a non-negative number, got ${JSON.stringify(v.step)}`);
      const max = v.max ?? v.initial;
      if (!Number.isFinite(max) || max < v.initial) throw new StageError(`stage ${name}: cutoff ${c}: max must be a number >= initial (${v.initial}), got ${JSON.stringify(v.max)}`);
      if (!d.filter.sql.includes(`:${c}`)) throw new StageError(`stage ${name}: cutoff ${c} is not used in filter.sql (write :${c})`);
      cutoffs[c] = { initial: v.initial, step, max };
    }
    filter = { sql: d.filter.sql, cutoffs };
  }
  const priority = d.priority ?? '0';
  checkPriority(name, priority);
  const retry = {
    maxAttempts: positiveInt(name, 'retry.maxAttempts', d.retry?.maxAttempts, 3),
    maxDeaths: positiveInt(name, 'retry.maxDeaths', d.retry?.maxDeaths, DEFAULT_MAX_DEATHS),
    backoffMs: d.retry?.backoffMs ?? 1000,
    maxBackoffMs: d.retry?.maxBackoffMs ?? 60000,
  };
  if (!(retry.backoffMs >= 0) || !(retry.maxBackoffMs >= retry.backoffMs))
    throw new StageError(`stage ${name}: retry.backoffMs must be >= 0 and <= retry.maxBackoffMs, got ${JSON.stringify(d.retry?.backoffMs)} / ${JSON.stringify(d.retry?.maxBackoffMs)}`);
  const stage: Stage = {
    module: d.module,
    name,
    workName: name,
    input: { from, key: d.input.key ?? 'u.key', join: d.input.join ?? '', columns },
    filter,
    priority,
    output,
    work: d.work,
    workers: positiveInt(name, 'workers', d.workers, 1),
    batchSize: positiveInt(name, 'batchSize', d.batchSize, 64),
    leaseMs: positiveInt(name, 'leaseMs', d.leaseMs, 300000),
    retry,
    params: d.params ?? {},
    version: d.version ?? '0.1.0',
    queueInThread: d.queueInThread ?? true,
  };
  if (typeof stage.queueInThread !== 'boolean') throw new StageError(`stage ${name}: queueInThread must be true or false, got ${JSON.stringify(d.queueInThread)}`);
  Object.defineProperty(stage, STAGE_MARK, { value: true });
  return Object.freeze(stage);
}

export function checkPriority(stage: string, p: unknown): asserts p is PrioritySpec {
  if (typeof p === 'string') {
    if (p.trim() === '' || p.includes(';')) throw new StageError(`stage ${stage}: priority must be one SQL expression, got ${JSON.stringify(p)}`);
    return;
  }
  if (p && typeof p === 'object' && typeof (p as { fn?: unknown }).fn === 'string') return;
  throw new StageError(`stage ${stage}: priority must be a SQL expression or { fn: name }, got ${JSON.stringify(p)}`);
}

/** True for a value made by {@link defineStage} or {@link forkStage}. */
export function isStage(v: unknown): v is Stage {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[STAGE_MARK] === true;
}

/**
 * A fork: the same work under another table name, with its own priority and/or filter (and pool).
 * Its work function is looked up in the base stage's module under the base's name.
 */
export function forkStage(
  base: Stage,
  changes: { name: string; priority?: PrioritySpec; filter?: AdmissionFilter; workers?: number; batchSize?: number; leaseMs?: number; retry?: RetryPolicy; params?: Record<string, unknown> },
): Stage {
  const s = defineStage({
    module: base.module,
    name: changes.name,
    input: { from: base.input.from ?? undefined, key: base.input.key, join: base.input.join, columns: base.input.columns },
    filter: changes.filter ?? base.filter ?? undefined,
    priority: changes.priority ?? base.priority,
    output: base.output,
    work: base.work,
    workers: changes.workers ?? base.workers,
    batchSize: changes.batchSize ?? base.batchSize,
    leaseMs: changes.leaseMs ?? base.leaseMs,
    retry: { ...base.retry, ...changes.retry },
    params: changes.params ?? base.params,
    version: base.version,
    queueInThread: base.queueInThread,
  });
  const fork = { ...s, workName: base.workName };
  Object.defineProperty(fork, STAGE_MARK, { value: true });
  return Object.freeze(fork);
}

/** The same stage with other run settings (pool size, batch size, lease, retries, params); same table. */
export function configureStage(base: Stage, changes: { workers?: number; batchSize?: number; leaseMs?: number; retry?: RetryPolicy; params?: Record<string, unknown> }): Stage {
  return forkStage(base, { ...changes, name: base.name });
}

/** Registered TS priority functions: name → score of a row (its input columns). Per thread/process. */
const PRIORITY_FUNCTIONS = new Map<string, (row: Readonly<Record<string, unknown>>) => number>();

/** Register a TS priority function under `name` (stages refer to it as `{ fn: name }`). */
export function registerPriority(name: string, fn: (row: Readonly<Record<string, unknown>>) => number): void {
  PRIORITY_FUNCTIONS.set(name, fn);
}

export function priorityFunction(stage: string, name: string): (row: Readonly<Record<string, unknown>>) => number {
  const f = PRIORITY_FUNCTIONS.get(name);
  if (!f) throw new StageError(`stage ${stage}: priority function ${JSON.stringify(name)} is not registered (registered: ${[...PRIORITY_FUNCTIONS.keys()].join(', ') || 'none'})`);
  return f;
}
