/**
 * Worker-thread entry (piscina `filename`): one task = one batch of one stage.
 *
 * The task names the stage module (URL) and the work function's stage name; the module is imported
 * once per thread and the stage found among its exports (TypeScript modules: see load.ts).
 *
 * Input: one batch in the thread wire format (wire.ts; buffers moved). Output: a {@link TaskResult}:
 * one batch with `key`, `_error` (null for a finished row) and the output columns, its buffers moved
 * back, and the time spent in the work function (`workMs`), which the benchmark uses to split wall time.
 *
 * When the work function throws on a batch, the batch is bisected until the rows that make it throw
 * are alone: those get `_error`, every other row still gets its result.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { RecordBatch } from 'apache-arrow';
import { performance } from 'node:perf_hooks';
import { columnValues, type ColumnDef } from '../stage-kit/arrow.js';
import { fromWire, nullColumn, sameUtf8, wireFromBatch, wireFromColumns, type WireBatch, type WireColumn } from './wire.js';
import { isStage, type FanOut, type Stage, type WorkContext } from '../stage-kit/stage.js';
import { executorFor } from './batch-executor.js';
import { writeRowFiles } from './sink.js';
import { importModule } from './load.js';
import { giveCpu, takeCpu } from './cpu-budget.js';

export interface WorkTask {
  module: string;
  work: string;
  stage: string;
  output: ColumnDef[];
  /** The stage's parameters as the scheduler declared them. */
  params: Record<string, unknown>;
  batch: WireBatch;
  /** Shared slot the thread sets to the epoch ms at which the batch's work function begins (see StagePool.run). */
  began?: BigInt64Array;
  /** The run's CPU budget and this batch's token flag: the batch begins only once it holds a token (cpu-budget.ts). */
  cpu?: { budget: Int32Array; held: Int32Array; rank?: number };
}

/**
 * A batch stopped by its environment rather than its rows: the work function threw an operating-system
 * error such as a full disk or a denied write ({@link HALT_CODES}). Retrying or bisecting would only
 * fail every row the same way, so the batch comes back whole and the engine halts the stage.
 */
export interface TaskHalt {
  /** The error code, e.g. `ENOSPC`. */
  code: string;
  /** The file or folder the failing call named, when it named one. */
  path: string | null;
  /** The system call, e.g. `write`, when known. */
  syscall: string | null;
  message: string;
}

/**
 * Error codes that halt a stage instead of failing rows: the disk or quota is full, the file system is
 * read-only, a write is not permitted, the device failed, or the process ran out of file handles.
 */
export const HALT_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EMFILE', 'ENFILE']);

/** The halt an error stands for, or null when it is an error of the row. */
export function haltOf(e: unknown): TaskHalt | null {
  if (!(e instanceof Error)) return null;
  const x = e as NodeJS.ErrnoException;
  if (typeof x.code !== 'string' || !HALT_CODES.has(x.code) || typeof x.syscall !== 'string') return null;
  return { code: x.code, path: typeof x.path === 'string' ? x.path : null, syscall: x.syscall, message: x.message };
}

export interface TaskResult {
  /** The result rows; absent when the batch halted. */
  batch: WireBatch | null;
  /** Set when the batch was stopped by its environment (see {@link TaskHalt}). */
  halt?: TaskHalt;
  /** A fan-out stage's emitted rows: `key`, `source` (the input row's key), then the emitted columns. */
  emit?: WireBatch;
  /** Time inside the work function (ms). */
  workMs: number;
  /** Time in the thread from the batch's turn to its result packed (decode, work, result batch) (ms). */
  taskMs: number;
}

const stages = new Map<string, Promise<Stage>>();
/** Stages already loaded in this thread, taken without a promise turn. */
const loaded = new Map<string, Stage>();

function loadStage(module: string, work: string): Promise<Stage> {
  const id = `${module}#${work}`;
  let hit = stages.get(id);
  if (!hit) {
    hit = importModule(module).then((mod) => {
      const s = Object.values(mod).find((v): v is Stage => isStage(v) && v.name === work);
      if (!s) throw new Error(`stage module ${module} exports no stage named ${JSON.stringify(work)}`);
      loaded.set(id, s);
      return s;
    });
    stages.set(id, hit);
  }
  return hit;
}

interface Piece {
  keys: unknown[];
  errors: (string | null)[];
  outputs: unknown[][];
  /** A sink stage's packed files per row (aligned with keys). */
  files: unknown[] | null;
  /** A fan-out stage's emitted rows. */
  emit: { keys: unknown[]; source: unknown[]; columns: unknown[][] } | null;
}

function emptyPiece(stage: Stage): Piece {
  return {
    keys: [], errors: [], outputs: [], files: stage.sink ? [] : null,
    emit: stage.emits ? { keys: [], source: [], columns: Object.keys(stage.emits.columns).map(() => []) } : null,
  };
}

function concat(stage: Stage, a: Piece, b: Piece): Piece {
  const out = emptyPiece(stage);
  out.keys = a.keys.concat(b.keys);
  out.errors = a.errors.concat(b.errors);
  out.outputs = a.outputs.map((col, c) => col.concat(b.outputs[c]!));
  if (out.files) out.files = a.files!.concat(b.files!);
  if (out.emit) out.emit = { keys: a.emit!.keys.concat(b.emit!.keys), source: a.emit!.source.concat(b.emit!.source), columns: a.emit!.columns.map((col, c) => col.concat(b.emit!.columns[c]!)) };
  return out;
}

/** Time inside work functions, summed per task (a synchronous one timed around the call itself). */
interface WorkClock {
  ms: number;
}

type Ctx = WorkContext;

type Result = RecordBatch | FanOut;

const isBatch = (x: unknown): x is RecordBatch => !!x && typeof (x as RecordBatch).getChild === 'function';

/** The work function on one batch, timed; throws what it throws, or when it returns no batch (or no FanOut for a fan-out stage). */
async function callWork(stage: Stage, batch: RecordBatch, ctx: Ctx, clock: WorkClock): Promise<Result> {
  const t0 = performance.now();
  const ret = stage.work(batch, ctx);
  const out = ret instanceof Promise ? await ret : ret;
  clock.ms += performance.now() - t0;
  if (stage.emits) {
    const f = out as FanOut | null;
    if (!f || !isBatch(f.rows) || !isBatch(f.emit)) throw new Error(`work function of stage ${ctx.stage} (emits into ${stage.emits.table}) must return { rows, emit }, two Arrow RecordBatches`);
    return f;
  }
  if (!isBatch(out)) throw new Error(`work function of stage ${ctx.stage} returned ${typeof out}, not an Arrow RecordBatch`);
  return out;
}

/**
 * The rows of a work function's result, checked against its input: a key that is not in the input,
 * or twice, throws; an input key with no row gets an error of its own.
 */
function toPiece(stage: Stage, result: Result, batch: RecordBatch, ctx: Ctx, output: ColumnDef[]): Piece {
  const out = isBatch(result) ? result : result.rows;
  const inKeys = new Set(columnValues(batch, 'key'));
  const keys = columnValues(out, 'key');
  const seen = new Set<unknown>();
  for (const k of keys) {
    if (!inKeys.has(k)) throw new Error(`work function of stage ${ctx.stage} returned key ${JSON.stringify(k)}, which is not in its input batch`);
    if (seen.has(k)) throw new Error(`work function of stage ${ctx.stage} returned key ${JSON.stringify(k)} twice`);
    seen.add(k);
  }
  const outputs = output.map((d) => columnValues(out, d.name));
  let files: unknown[] | null = null;
  if (stage.sink) {
    if (!out.schema.fields.some((f) => f.name === stage.sink!.column)) throw new Error(`work function of stage ${ctx.stage} returned no column ${stage.sink.column} (its packed files)`);
    files = columnValues(out, stage.sink.column);
  }
  const errors: (string | null)[] = keys.map(() => null);
  for (const k of inKeys) {
    if (seen.has(k)) continue;
    keys.push(k);
    errors.push(`work function of stage ${ctx.stage} returned no row for key ${JSON.stringify(k)}`);
    for (const o of outputs) o.push(null);
    files?.push(null);
  }
  let emit: Piece['emit'] = null;
  if (stage.emits) {
    const e = (result as FanOut).emit;
    const ekeys = columnValues(e, 'key');
    const source = columnValues(e, 'source');
    const eseen = new Set<unknown>();
    ekeys.forEach((k, i) => {
      if (typeof k !== 'string' || k === '') throw new Error(`work function of stage ${ctx.stage} emitted a row without a key (row ${i})`);
      if (eseen.has(k)) throw new Error(`work function of stage ${ctx.stage} emitted key ${JSON.stringify(k)} twice`);
      eseen.add(k);
      if (!inKeys.has(source[i])) throw new Error(`work function of stage ${ctx.stage} emitted ${JSON.stringify(k)} from source ${JSON.stringify(source[i])}, which is not in its input batch`);
    });
    emit = { keys: ekeys, source, columns: Object.keys(stage.emits.columns).map((c) => columnValues(e, c)) };
  }
  return { keys, errors, outputs, files, emit };
}

/** A halting error travels up through the bisection untouched. */
class Halt extends Error {
  readonly halt: TaskHalt;
  constructor(halt: TaskHalt) {
    super(halt.message);
    this.halt = halt;
  }
}

/** A batch whose work threw `e`: alone, the row gets the message; otherwise each half is tried. */
async function isolate(stage: Stage, batch: RecordBatch, ctx: Ctx, output: ColumnDef[], clock: WorkClock, e: unknown): Promise<Piece> {
  if (e instanceof Halt) throw e;
  const halt = haltOf(e);
  if (halt) throw new Halt(halt);
  if (batch.numRows <= 1) {
    const message = e instanceof Error ? e.message : String(e);
    const p = emptyPiece(stage);
    p.keys = columnValues(batch, 'key');
    p.errors = [message || 'work function threw'];
    p.outputs = output.map(() => [null]);
    p.files?.push(null);
    return p;
  }
  const mid = batch.numRows >> 1;
  const a = await runIsolating(stage, batch.slice(0, mid), ctx, output, clock);
  const b = await runIsolating(stage, batch.slice(mid), ctx, output, clock);
  return concat(stage, a, b);
}

async function runIsolating(stage: Stage, batch: RecordBatch, ctx: Ctx, output: ColumnDef[], clock: WorkClock): Promise<Piece> {
  try {
    return toPiece(stage, await callWork(stage, batch, ctx, clock), batch, ctx, output);
  } catch (e) {
    return isolate(stage, batch, ctx, output, clock, e);
  }
}

/**
 * The engine's sink (Stage.sink): each finished row's files written under the stage's root folder,
 * its folder and file count into the declared output columns. A malformed packed value fails its row;
 * an error of the file system halts the stage (it travels as a Halt).
 */
function applySink(stage: Stage, piece: Piece, ctx: Ctx, output: ColumnDef[]): void {
  const sink = stage.sink!;
  const root = ctx.params[sink.rootParam];
  if (typeof root !== 'string' || root === '') throw new Error(`stage ${ctx.stage}: parameter ${sink.rootParam} (the sink's root folder) must be a path, got ${JSON.stringify(root)}`);
  const dirAt = output.findIndex((d) => d.name === sink.dirColumn);
  const countAt = sink.countColumn === undefined ? -1 : output.findIndex((d) => d.name === sink.countColumn);
  for (let i = 0; i < piece.keys.length; i++) {
    if (piece.errors[i] !== null) continue;
    const packed = piece.files![i];
    try {
      if (!(packed instanceof Uint8Array)) throw new Error(`returned no packed files in ${sink.column}`);
      const w = writeRowFiles(root, String(piece.keys[i]), packed);
      piece.outputs[dirAt]![i] = w.dir;
      if (countAt >= 0) piece.outputs[countAt]![i] = w.count;
    } catch (e) {
      const halt = haltOf(e);
      if (halt) throw new Halt(halt);
      piece.errors[i] = `${String(piece.keys[i])}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
}

/**
 * The result batch of a task. The common case (every input row back once, in input order, columns of
 * the declared types) copies the work function's buffers as they are; anything else is checked row
 * by row (toPiece), and a batch that throws is bisected.
 */
async function resultOf(stage: Stage, input: RecordBatch, inKeys: WireColumn, ctx: Ctx, output: ColumnDef[], clock: WorkClock): Promise<Packed> {
  let piece: Piece;
  let out: Result;
  try {
    out = await callWork(stage, input, ctx, clock);
  } catch (e) {
    return pack(stage, await isolate(stage, input, ctx, output, clock, e), ctx, output);
  }
  // A plain stage's batch (a Table or another object with getChild takes the checked path).
  if (out instanceof RecordBatch && !stage.sink) {
    const keyAt = out.schema.fields.findIndex((f) => f.name === 'key');
    if (keyAt >= 0 && out.numRows === inKeys.length && sameUtf8(out.data.children[keyAt]!, inKeys)) {
      const fast = wireFromBatch(out, [{ name: 'key', type: 'utf8' }, ...output]);
      if (fast) {
        fast.wire.columns.splice(1, 0, nullColumn('_error', 'utf8', out.numRows));
        const e = fast.wire.columns[1]!;
        fast.transfer.push(e.values.buffer as ArrayBuffer, e.valueOffsets!.buffer as ArrayBuffer, e.nullBitmap!.buffer as ArrayBuffer);
        return { ...fast, emit: null };
      }
    }
  }
  try {
    piece = toPiece(stage, out, input, ctx, output);
  } catch (e) {
    piece = await isolate(stage, input, ctx, output, clock, e);
  }
  return pack(stage, piece, ctx, output);
}

interface Packed {
  wire: WireBatch;
  transfer: ArrayBuffer[];
  emit: WireBatch | null;
}

/** A checked result as wire batches (rows; a fan-out stage's emitted rows), the sink's files written first. */
function pack(stage: Stage, piece: Piece, ctx: Ctx, output: ColumnDef[]): Packed {
  if (stage.sink) applySink(stage, piece, ctx, output);
  const rows = wireFromColumns([{ name: 'key', type: 'utf8' }, { name: '_error', type: 'utf8' }, ...output], [piece.keys, piece.errors, ...piece.outputs]);
  if (!piece.emit) return { ...rows, emit: null };
  const defs: ColumnDef[] = [{ name: 'key', type: 'utf8' }, { name: 'source', type: 'utf8' }, ...Object.entries(stage.emits!.columns).map(([name, type]) => ({ name, type }))];
  const emit = wireFromColumns(defs, [piece.emit.keys, piece.emit.source, ...piece.emit.columns]);
  return { wire: rows.wire, transfer: [...rows.transfer, ...emit.transfer], emit: emit.wire };
}

// Stage modules named by the pool start loading as the thread starts; a `ping` task waits for them,
// so the pool's ready() keeps the first batch's lease from being spent compiling the module. (Not a
// top-level await: piscina loads this entry with require() under tsx, which refuses top-level await.)
const preloaded = Promise.all(
  ((workerData as { preload?: { module: string; work: string }[] } | undefined)?.preload ?? []).map((p) => loadStage(p.module, p.work).catch(() => undefined)),
);

/**
 * One batch at a time per thread, each result posted before the next batch begins. Several batches
 * are handed to a thread at once (StagePool tasksPerThread; 3 in the fractured mode), and their async
 * steps would otherwise interleave: the next batch's work could run between one batch's work and the posting of its
 * result, holding that result back a whole batch (and, for a lease counted from the batch's start,
 * making it look twice as long). A batch waits for the previous one's turn to end. The turn is
 * released from process.nextTick, which runs once the microtasks of the resolution have: piscina
 * posts the result in the promise continuation of runTask, so it has gone out by then (one
 * event-loop turn later, with setImmediate, cost ~0.1 ms per batch: 1.5–2 % of a 5 ms batch).
 *
 * The next turn goes to the waiting batch of the deepest stage (its CPU rank), the first to arrive
 * among equals: a thread that serves several stages (the fractured mode's shared threads) runs a
 * descriptors batch before the find_paths batches queued ahead of it, as the CPU budget does between
 * threads.
 */
let busy = false;
const waiting: { rank: number; go: () => void }[] = [];

function enter(rank: number): Promise<void> {
  if (!busy) {
    busy = true;
    return Promise.resolve();
  }
  return new Promise<void>((go) => waiting.push({ rank, go }));
}

function leave(): void {
  if (waiting.length === 0) {
    busy = false;
    return;
  }
  let next = 0;
  for (let i = 1; i < waiting.length; i++) if (waiting[i]!.rank > waiting[next]!.rank) next = i;
  waiting.splice(next, 1)[0]!.go();
}

/** This thread gave a CPU token back at the end of its previous batch (it lets a waiting thread go first). */
let gaveBack = false;

export default async function runTask(task: WorkTask | { ping: true }): Promise<unknown> {
  if ('ping' in task) {
    await preloaded;
    return true;
  }
  const turn = enter(task.cpu?.rank ?? 0);
  try {
    await turn;
    if (task.cpu) {
      await takeCpu(task.cpu.budget, task.cpu.held, gaveBack, task.cpu.rank ?? 0);
      gaveBack = false;
    }
    const tTask = performance.now();
    const stage = loaded.get(`${task.module}#${task.work}`) ?? (await loadStage(task.module, task.work));
    const inKeys = task.batch.columns.find((c) => c.name === 'key')!;
    const input = fromWire(task.batch);
    const ctx: Ctx = { params: task.params, stage: task.stage, exec: executorFor(task.params) };
    if (task.began) Atomics.store(task.began, 0, BigInt(Date.now()));
    const clock: WorkClock = { ms: 0 };
    let packed: Packed;
    try {
      packed = await resultOf(stage, input, inKeys, ctx, task.output, clock);
    } catch (e) {
      if (!(e instanceof Halt)) throw e;
      return { batch: null, halt: e.halt, workMs: clock.ms, taskMs: performance.now() - tTask } satisfies TaskResult;
    }
    const { wire, transfer, emit } = packed;
    // The benchmark splits a task's round trip with taskMs.
    const result: TaskResult = { batch: wire, ...(emit ? { emit } : {}), workMs: clock.ms, taskMs: performance.now() - tTask };
    // piscina moves (not copies) the buffers listed under transferableSymbol and resolves with valueSymbol.
    return move({ [transferableSymbol]: transfer, [valueSymbol]: result });
  } finally {
    if (task.cpu && giveCpu(task.cpu.budget, task.cpu.held)) gaveBack = true;
    process.nextTick(leave);
  }
}
