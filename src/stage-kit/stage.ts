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
import { ExpressionError, portableExpression, type PortableExpression } from './expressions.js';
import type { Executor } from './exec.js';

/** Column types a stage table can hold (SQLite type / Arrow type). */
export type ColumnType = 'float64' | 'int32' | 'utf8' | 'binary' | 'bool';
export const COLUMN_TYPES: readonly ColumnType[] = ['float64', 'int32', 'utf8', 'binary', 'bool'];

/** What the work function receives besides its batch. */
export interface WorkContext {
  /** The stage's parameters (JSON values, fixed per declaration). */
  params: Readonly<Record<string, unknown>>;
  /** The stage name (a fork runs the work of its base stage under its own name). */
  stage: string;
  /** Runs an external program for the work (the engine's: time limit, process-group kill, output). */
  exec: Executor;
}

/**
 * What a fan-out stage's work function returns: `rows`, one row per input row it finished (column
 * `key` + the output columns, as a plain stage returns), and `emit`, the rows of the stage's emitted
 * table (column `key` = the emitted row's own key, column `source` = the input row's key, then the
 * emitted columns; any number per input row, none for a row that failed).
 */
export interface FanOut {
  rows: RecordBatch;
  emit: RecordBatch;
}

/**
 * The pure work function: one Arrow record batch in (column `key` + the input columns), one out
 * (column `key` + the output columns, one row per input row it finished, in any order), or a
 * {@link FanOut} for a stage that emits rows. It may throw: the engine then isolates the rows that
 * make it throw and runs the others. No SQL; files go out as data to the stage's sink.
 */
export type WorkFunction = (batch: RecordBatch, ctx: WorkContext) => RecordBatch | FanOut | Promise<RecordBatch | FanOut>;

/** A constant an input column can hold (a parameter recorded with each row). */
export type InputValue = string | number | boolean | null;

export interface InputColumn {
  type: ColumnType;
  /** The upstream column copied into it. Default: the column of the same name. */
  from?: string;
  /** Or a constant (a parameter of the stage recorded with each row); `from` and `value` exclude each other. */
  value?: InputValue;
}

export interface StageInput {
  /**
   * Upstream table: another stage (its `done` rows feed this one), a stage's emitted table (every row
   * feeds), or a plain table such as `structures` (every row feeds). Omitted: a source stage, filled
   * with `Engine.enqueue`.
   */
  from?: string;
  /**
   * The key of the new row as a template over the upstream row: literal text with `{column}` (the
   * column's value) or `{column:N}` (its first N characters), e.g. `{source_id}|F|5|{content_hash:12}`.
   * Default `{key}`.
   */
  key?: string;
  /** Input columns copied into the stage table when a row is admitted. */
  columns: Record<string, InputColumn | ColumnType>;
}

/** One piece of a key template: literal text, or a column (`{column}`, `{column:N}`). */
export type KeyPart = { text: string } | { column: string; chars: number | null };

/** A fan-out stage's emitted table (see {@link FanOut}). */
export interface Emits {
  /** Table name (lower-case letters, digits, `_`). */
  table: string;
  /** Its columns besides `id`, `key`, `source_id` (the emitting row), `source_key` and `created_at`. */
  columns: Record<string, ColumnType>;
}

/**
 * Files a stage makes, handed to the engine as data and written by it (in the worker thread, after the
 * work function returns): the work function's result carries them packed (`packFiles`) in an extra
 * binary column `column` (not an output column: it is not stored); the engine writes them under
 * `<params[rootParam]>/<keyFolderName(row key)>` and puts that folder into the output column
 * `dirColumn` and the number of files into `countColumn`. A full or read-only disk halts the stage
 * (see worker.ts).
 */
export interface Sink {
  column: string;
  rootParam: string;
  dirColumn: string;
  countColumn?: string;
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
  /**
   * Boolean over the upstream row's columns (written `name` or `u.name`) in the portable subset of
   * SQL (src/engine/expressions.ts); named cutoffs appear as `:name`.
   */
  sql: string;
  cutoffs?: Record<string, Cutoff>;
}

/**
 * Higher priority runs first. An expression over the stage table's columns (`key`, the input and the
 * output columns) in the portable subset of SQL (src/engine/expressions.ts), or a registered TS function.
 */
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
  /** Rows this stage emits into a table of their own (one structure → its pathways). */
  emits?: Emits;
  /** Files the stage makes, written by the engine (see {@link Sink}). */
  sink?: Sink;
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
  /**
   * An input column whose rows, equal in it, should share a batch (e.g. the pathways of one structure,
   * when the work is done per structure and a per-thread memo serves the other rows): in the fractured
   * mode, the rows of a full claim's last group are held back and run with the stage's next claim, so
   * a group the queue keeps together is not cut between two batches that two threads would each
   * compute. A group larger than a batch runs whole. Default none. Not carried to `fracflow worker`
   * processes on other hosts (their batches are cut as claimed: the same results, more repeated work).
   */
  batchGroup?: string;
}

/** A validated stage with every default filled in. */
export interface Stage {
  readonly module: string;
  readonly name: string;
  /** The stage whose work function runs (itself, or the base of a fork). */
  readonly workName: string;
  readonly input: { from: string | null; key: string; keyParts: readonly KeyPart[]; columns: Readonly<Record<string, Required<Pick<InputColumn, 'type'>> & { from: string | null; value: InputValue }>> };
  readonly filter: { sql: string; expr: PortableExpression; cutoffs: Readonly<Record<string, Required<Cutoff>>> } | null;
  readonly priority: PrioritySpec;
  /** The priority expression, parsed (null for a registered function). */
  readonly priorityExpr: PortableExpression | null;
  readonly output: Readonly<Record<string, ColumnType>>;
  readonly emits: Readonly<Emits> | null;
  readonly sink: Readonly<Sink> | null;
  readonly work: WorkFunction;
  readonly workers: number;
  readonly batchSize: number;
  readonly leaseMs: number;
  readonly retry: Required<RetryPolicy>;
  readonly params: Readonly<Record<string, unknown>>;
  readonly version: string;
  readonly queueInThread: boolean;
  readonly batchGroup: string | null;
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

/** Columns of an emitted table besides the declared ones. */
export const EMITTED_COLUMNS = new Set(['id', 'key', 'source_id', 'source_key', 'created_at']);

/**
 * Parse a key template: literal text with `{column}` or `{column:N}` pieces. The message names the
 * stage and the template.
 */
export function parseKeyTemplate(stage: string, template: unknown): KeyPart[] {
  if (typeof template !== 'string' || template === '') throw new StageError(`stage ${stage}: input.key must be a template such as "{key}" or "{source_id}|{content_hash:12}", got ${JSON.stringify(template)}`);
  const parts: KeyPart[] = [];
  const re = /\{([^{}]*)\}|([^{}]+)|([{}])/g;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m[3] !== undefined) throw new StageError(`stage ${stage}: input.key ${JSON.stringify(template)}: unmatched "${m[3]}"`);
    if (m[2] !== undefined) {
      parts.push({ text: m[2] });
      continue;
    }
    const piece = /^([a-z_][a-z0-9_]*)(?::([1-9][0-9]{0,3}))?$/.exec(m[1]!);
    if (!piece) throw new StageError(`stage ${stage}: input.key ${JSON.stringify(template)}: {${m[1]}} must be {column} or {column:N} with N a positive number of characters`);
    parts.push({ column: piece[1]!, chars: piece[2] === undefined ? null : Number(piece[2]) });
  }
  if (!parts.some((p) => 'column' in p)) throw new StageError(`stage ${stage}: input.key ${JSON.stringify(template)} names no column: every upstream row would get the same key`);
  return parts;
}

function inputColumn(stage: string, c: string, spec: unknown): Stage['input']['columns'][string] {
  if (typeof spec === 'string') return { type: columnType(stage, `input column ${c}`, spec), from: c, value: null };
  if (!spec || typeof spec !== 'object') throw new StageError(`stage ${stage}: input column ${c} must be a column type or { type, from? | value? }, got ${JSON.stringify(spec)}`);
  const o = spec as Record<string, unknown>;
  if ('expr' in o) throw new StageError(`stage ${stage}: input column ${c}: SQL expressions are not allowed in a declaration any more; copy an upstream column ({ type, from: 'name' }) or record a constant ({ type, value })`);
  const type = columnType(stage, `input column ${c}`, o['type']);
  if (o['from'] !== undefined && o['value'] !== undefined) throw new StageError(`stage ${stage}: input column ${c}: give from or value, not both`);
  if (o['value'] !== undefined) {
    const v = o['value'];
    if (!(v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))))
      throw new StageError(`stage ${stage}: input column ${c}: value must be a string, a finite number, a boolean or null, got ${JSON.stringify(v)}`);
    return { type, from: null, value: v as InputValue };
  }
  const from = o['from'] ?? c;
  if (typeof from !== 'string' || !NAME.test(from)) throw new StageError(`stage ${stage}: input column ${c}: from must be a column name, got ${JSON.stringify(from)}`);
  return { type, from, value: null };
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
  if ('join' in d.input) throw new StageError(`stage ${name}: input.join is not allowed any more (no SQL in a declaration); a stage that needs rows of another shape reads the emitted table of a fan-out stage`);
  const columns: Record<string, Stage['input']['columns'][string]> = {};
  for (const [c, spec] of Object.entries(d.input.columns ?? {})) {
    columnName(name, 'input', c);
    columns[c] = inputColumn(name, c, spec);
  }
  const from = d.input.from ?? null;
  if (from !== null && !NAME.test(from)) throw new StageError(`stage ${name}: input.from must be a table name, got ${JSON.stringify(from)}`);
  if (from === name) throw new StageError(`stage ${name}: input.from cannot be the stage itself`);
  const key = d.input.key ?? '{key}';
  const keyParts = parseKeyTemplate(name, key);
  if (from === null && d.input.key !== undefined) throw new StageError(`stage ${name}: input.key needs input.from (a source stage takes the keys it is given)`);
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
      cutoffs[c] = { initial: v.initial, step, max };
    }
    // The upstream's columns are checked when the stage is ensured on a store (they are the store's).
    const expr = declared(() => portableExpression(d.filter!.sql, `stage ${name}: filter`, null, Object.keys(cutoffs)));
    for (const c of Object.keys(cutoffs)) if (!expr.cutoffs.includes(c)) throw new StageError(`stage ${name}: cutoff ${c} is not used in filter.sql (write :${c})`);
    filter = { sql: d.filter.sql, expr, cutoffs };
  }
  const priority = d.priority ?? '0';
  checkPriority(name, priority);
  const own = ['key', ...Object.keys(columns), ...Object.keys(output)];
  const priorityExpr = typeof priority === 'string' ? declared(() => portableExpression(priority, `stage ${name}: priority`, own)) : null;
  let emits: Emits | null = null;
  if (d.emits !== undefined) {
    const e = d.emits;
    if (!e || typeof e !== 'object' || typeof e.table !== 'string' || !NAME.test(e.table)) throw new StageError(`stage ${name}: emits.table must be a table name, got ${JSON.stringify(e?.table)}`);
    if (e.table === name || e.table.startsWith('engine_') || ['structures', 'import_errors', 'schema_migrations'].includes(e.table)) throw new StageError(`stage ${name}: emits.table ${JSON.stringify(e.table)} is taken`);
    const ec: Record<string, ColumnType> = {};
    for (const [c, t] of Object.entries(e.columns ?? {})) {
      if (!NAME.test(c)) throw new StageError(`stage ${name}: emitted column ${JSON.stringify(c)} must match ${NAME.source}`);
      if (EMITTED_COLUMNS.has(c)) throw new StageError(`stage ${name}: emitted column ${JSON.stringify(c)} is reserved (${[...EMITTED_COLUMNS].join(', ')})`);
      ec[c] = columnType(name, `emitted column ${c}`, t);
    }
    if (Object.keys(ec).length === 0) throw new StageError(`stage ${name}: emits must declare at least one column`);
    emits = { table: e.table, columns: ec };
  }
  let sink: Sink | null = null;
  if (d.sink !== undefined) {
    const k = d.sink;
    const cols = (what: string, c: unknown, need?: ColumnType) => {
      if (typeof c !== 'string' || !(c in output)) throw new StageError(`stage ${name}: sink.${what} must name an output column, got ${JSON.stringify(c)}`);
      if (need && output[c] !== need) throw new StageError(`stage ${name}: sink.${what} column ${c} must be ${need}, got ${output[c]}`);
    };
    if (typeof k?.column !== 'string' || !NAME.test(k.column) || k.column in output || k.column in columns || k.column === 'key')
      throw new StageError(`stage ${name}: sink.column must name the result's packed-files column, not an input or output column, got ${JSON.stringify(k?.column)}`);
    cols('dirColumn', k.dirColumn, 'utf8');
    if (k.countColumn !== undefined) cols('countColumn', k.countColumn, 'int32');
    if (typeof k.rootParam !== 'string' || typeof d.params?.[k.rootParam] !== 'string') throw new StageError(`stage ${name}: sink.rootParam must name a string parameter (the root folder), got ${JSON.stringify(k?.rootParam)}`);
    sink = { column: k.column, rootParam: k.rootParam, dirColumn: k.dirColumn, ...(k.countColumn !== undefined ? { countColumn: k.countColumn } : {}) };
  }
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
    input: { from, key, keyParts, columns },
    filter,
    priority,
    priorityExpr,
    output,
    emits,
    sink,
    work: d.work,
    workers: positiveInt(name, 'workers', d.workers, 1),
    batchSize: positiveInt(name, 'batchSize', d.batchSize, 64),
    leaseMs: positiveInt(name, 'leaseMs', d.leaseMs, 300000),
    retry,
    params: d.params ?? {},
    version: d.version ?? '0.1.0',
    queueInThread: d.queueInThread ?? true,
    batchGroup: d.batchGroup ?? null,
  };
  if (stage.batchGroup !== null && !Object.hasOwn(columns, stage.batchGroup)) {
    throw new StageError(`stage ${name}: batchGroup must name one of its input columns (${Object.keys(columns).join(', ')}), got ${JSON.stringify(d.batchGroup)}`);
  }
  if (typeof stage.queueInThread !== 'boolean') throw new StageError(`stage ${name}: queueInThread must be true or false, got ${JSON.stringify(d.queueInThread)}`);
  Object.defineProperty(stage, STAGE_MARK, { value: true });
  return Object.freeze(stage);
}

/** An expression error at declaration, as a StageError. */
function declared<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ExpressionError) throw new StageError(e.message);
    throw e;
  }
}

export function checkPriority(stage: string, p: unknown): asserts p is PrioritySpec {
  if (typeof p === 'string') {
    if (p.trim() === '') throw new StageError(`stage ${stage}: priority must be one SQL expression, got ${JSON.stringify(p)}`);
    return;
  }
  if (p && typeof p === 'object' && typeof (p as { fn?: unknown }).fn === 'string') return;
  throw new StageError(`stage ${stage}: priority must be a SQL expression or { fn: name }, got ${JSON.stringify(p)}`);
}

/**
 * A priority expression of a stage, checked against the stage's columns (`key`, input and output
 * columns), as swapped in at run time (`fracflow engine priority`).
 */
export function priorityExpression(stage: Pick<Stage, 'name' | 'input' | 'output'>, text: string): PortableExpression {
  checkPriority(stage.name, text);
  return declared(() => portableExpression(text, `stage ${stage.name}: priority`, ['key', ...Object.keys(stage.input.columns), ...Object.keys(stage.output)]));
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
  const columns = Object.fromEntries(Object.entries(base.input.columns).map(([c, v]) => [c, v.from !== null ? { type: v.type, from: v.from } : { type: v.type, value: v.value }]));
  const s = defineStage({
    module: base.module,
    name: changes.name,
    input: base.input.from !== null ? { from: base.input.from, key: base.input.key, columns } : { columns },
    filter: changes.filter ?? (base.filter ? { sql: base.filter.sql, cutoffs: base.filter.cutoffs } : undefined),
    priority: changes.priority ?? base.priority,
    output: base.output,
    ...(base.emits ? { emits: base.emits } : {}),
    ...(base.sink ? { sink: base.sink } : {}),
    work: base.work,
    workers: changes.workers ?? base.workers,
    batchSize: changes.batchSize ?? base.batchSize,
    leaseMs: changes.leaseMs ?? base.leaseMs,
    retry: { ...base.retry, ...changes.retry },
    params: changes.params ?? base.params,
    version: base.version,
    queueInThread: base.queueInThread,
    ...(base.batchGroup !== null ? { batchGroup: base.batchGroup } : {}),
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

/** A stage as a store registered it (see QueueStore.registration): enough to run it without its declaring code. */
export interface RegisteredDeclaration {
  stage: string;
  workers: number;
  batchSize: number;
  priority: PrioritySpec;
  spec: Record<string, unknown>;
}

/**
 * The registered stage rebuilt around the work function of `base` (the stage its registration names
 * as `work`, imported from its module): table, input, filter, output, emits, sink, retries, lease and
 * parameters as the store recorded them, so a process on another host (`fracflow worker`) runs the
 * stage exactly as the process that registered it declared it.
 */
export function restoreStage(base: Stage, r: RegisteredDeclaration): Stage {
  const s = r.spec as {
    input?: { from: string | null; key: string; columns: Record<string, { type: ColumnType; from: string | null; value: InputValue }> };
    filter?: { sql: string; cutoffs: Record<string, Required<Cutoff>> } | null;
    output?: Record<string, ColumnType>;
    emits?: Emits | null;
    sink?: Sink | null;
    retry?: Required<RetryPolicy>;
    leaseMs?: number;
    params?: Record<string, unknown>;
    queueInThread?: boolean;
    version?: string;
  };
  if (!s.input || !s.output || s.params === undefined || s.queueInThread === undefined)
    throw new StageError(`stage ${r.stage}: its registration lacks the declaration a worker needs (registered by an older fracflow); run the command that declares it (e.g. \`fracflow screen --seed-only\`) once with this version`);
  const columns = Object.fromEntries(Object.entries(s.input.columns).map(([c, v]) => [c, v.from !== null ? { type: v.type, from: v.from } : { type: v.type, value: v.value }]));
  const stage = defineStage({
    module: base.module,
    name: r.stage,
    input: s.input.from !== null ? { from: s.input.from, key: s.input.key, columns } : { columns },
    ...(s.filter ? { filter: { sql: s.filter.sql, cutoffs: s.filter.cutoffs } } : {}),
    priority: r.priority,
    output: s.output,
    ...(s.emits ? { emits: s.emits } : {}),
    ...(s.sink ? { sink: s.sink } : {}),
    work: base.work,
    workers: r.workers,
    batchSize: r.batchSize,
    ...(s.leaseMs !== undefined ? { leaseMs: s.leaseMs } : {}),
    ...(s.retry ? { retry: s.retry } : {}),
    params: s.params,
    ...(s.version !== undefined ? { version: s.version } : {}),
    queueInThread: s.queueInThread,
  });
  const restored = { ...stage, workName: base.workName };
  Object.defineProperty(restored, STAGE_MARK, { value: true });
  return Object.freeze(restored);
}
