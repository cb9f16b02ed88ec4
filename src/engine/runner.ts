/**
 * Where a claimed batch runs: the seam between the schedulers and the work. The schedulers ask a
 * {@link BatchRunner} for pools (one per stage in the fractured mode, one for every stage in the fixed
 * mode) and hand each pool batches; the pool says when a batch begins (`began`) and what it returned.
 * The default, {@link threadRunner}, runs the stage's work function in worker threads (StagePool); a
 * simulation supplies a runner whose pools answer on a virtual clock with simulated durations, and the
 * schedulers above it — claims, priorities, admission, broadening, leases — are the same code.
 */
import type { Claim } from '../store/interface.js';
import type { ColumnDef } from '../stage-kit/arrow.js';
import type { Stage } from '../stage-kit/stage.js';
import { cpuTokens, giveCpu, tokenFlag, type CpuBudgetState } from './cpu-budget.js';
import { StagePool } from './pool.js';
import { wireFromColumns } from './wire.js';
import type { TaskResult } from './worker.js';

/** One batch of one stage, as claimed. */
export interface BatchTask {
  stage: Stage;
  claim: Claim;
  /** The batch's columns: `key`, then the stage's input columns (claim.inputs in this order). */
  inDefs: readonly ColumnDef[];
  /** The stage's output columns (the result batch carries `key`, `_error` and these). */
  outDefs: readonly ColumnDef[];
  /** The stage's depth in the stage graph (0: fed from outside the run); deeper stages' batches take the CPU first. */
  depth?: number;
}

export interface BatchRunOptions {
  /** Ends this batch (its slot with it). */
  signal?: AbortSignal;
  /** A one-element BigInt64Array the pool sets to the epoch ms (of the engine's clock) at which the batch's work begins. */
  began?: BigInt64Array;
}

/** A set of slots that run batches (see StagePool for the thread pool's semantics). */
export interface BatchPool {
  /** Resolves once the slots can take batches. */
  ready(): Promise<void>;
  run(task: BatchTask, opts?: BatchRunOptions): Promise<TaskResult>;
  /** A new number of slots; running batches finish where they are. */
  resize(size: number): void;
  /** End every running and queued batch now (they reject) and start fresh slots. */
  restart(): void;
  /** End every batch now, start nothing more; `close` then waits. */
  terminate(): void;
  close(): Promise<void>;
}

/** Slots shared by several stages (see {@link BatchRunner.shared}). */
export interface SharedPool {
  /** Resolves once the slots can take batches of every stage. */
  ready(): Promise<void>;
  /**
   * A stage's own view of the shared slots: at most `workers` of its batches run at once, and its
   * `resize` moves that number. Its `restart`, `terminate` and `close` act on the whole shared pool.
   */
  lane(stage: Stage, depth: number): BatchPool;
}

export interface BatchRunner {
  /**
   * A pool of `size` slots for batches of `stages`, handing `tasksPerSlot` batches to a slot at once
   * (batches beyond that wait in the pool).
   */
  pool(size: number, stages: readonly Stage[], tasksPerSlot: number): BatchPool;
  /**
   * One set of slots for several stages, each held to its `workers` (its allotment): a runner that can
   * share slots offers it (the thread runner with a CPU budget). The fractured scheduler then runs its
   * CPU-bound stages on it.
   */
  shared?(stages: readonly { stage: Stage; workers: number }[], tasksPerSlot: number): SharedPool;
}

/**
 * The stage's work function in piscina worker threads of this process. With a CPU budget
 * (cpu-budget.ts), a batch of a CPU-bound stage (`queueInThread`) begins only once it holds a token,
 * so the threads of every pool together run at most that many batches at once; a batch whose thread
 * is ended has its token given back here.
 */
export function threadRunnerWith(budget: CpuBudgetState | null): BatchRunner {
  /**
   * A batch packed for the threads (its buffers to be moved): packing throws here, in the caller,
   * when its columns do not pack. The returned function hands it to a pool.
   */
  const prepare = (task: BatchTask, opts: BatchRunOptions): ((p: StagePool) => Promise<TaskResult>) => {
    const { stage, claim } = task;
    const input = wireFromColumns(task.inDefs, [claim.keys, ...claim.inputs]);
    const cpu = budget && stage.queueInThread ? { budget, held: tokenFlag(), rank: task.depth ?? 0 } : undefined;
    return (p) => {
      const run = p.run({ module: stage.module, work: stage.workName, stage: stage.name, output: [...task.outDefs], params: { ...stage.params }, ...(cpu ? { cpu } : {}) }, input, opts);
      return cpu ? run.catch((e: unknown) => {
        giveCpu(cpu.budget, cpu.held);
        throw e;
      }) : run;
    };
  };
  return {
    pool(size, stages, tasksPerSlot) {
      const p = new StagePool(size, stages.map((s) => ({ module: s.module, work: s.workName })), tasksPerSlot);
      return {
        ready: () => p.ready(),
        run: (task, opts = {}) => prepare(task, opts)(p),
        resize: (n) => p.resize(n),
        restart: () => p.restart(),
        terminate: () => p.terminate(),
        close: () => p.close(),
      };
    },
    ...(budget ? { shared: (stages: readonly { stage: Stage; workers: number }[], tasksPerSlot: number) => sharedThreads(budget, stages, tasksPerSlot, prepare) } : {}),
  };
}

/**
 * Threads that load every stage given and run the batches of all of them: as many threads as the
 * stages' allotments add up to, at most the budget's tokens. No more of a stage's batches run at once
 * than its own threads would have run (see `limit`).
 *
 * Batches wait here, in the main thread, until a thread has room (`tasksPerSlot` each), and the
 * batches of the deepest stage go first (then in the order they came): a batch handed to piscina
 * would wait in its queue behind every batch sent before it. In the thread too the deepest waiting
 * batch runs next (worker.ts).
 */
function sharedThreads(
  budget: CpuBudgetState,
  stages: readonly { stage: Stage; workers: number }[],
  tasksPerSlot: number,
  prepare: (task: BatchTask, opts: BatchRunOptions) => (p: StagePool) => Promise<TaskResult>,
): SharedPool {
  const tokens = cpuTokens(budget);
  const caps = new Map(stages.map(({ stage, workers }) => [stage.name, { workers, sent: 0 }]));
  const threadsFor = () => Math.max(1, Math.min(tokens, [...caps.values()].reduce((n, c) => n + Math.max(1, c.workers), 0)));
  const p = new StagePool(threadsFor(), stages.map(({ stage }) => ({ module: stage.module, work: stage.workName })), tasksPerSlot);
  type Cap = { workers: number; sent: number };
  const queue: { send: (p: StagePool) => Promise<TaskResult>; rank: number; cap: Cap; go: (r: Promise<TaskResult>) => void }[] = [];
  let sent = 0;
  let ended = false;
  let closing: Promise<void> | null = null;
  // Batches of a stage in the threads at once, which holds the stage to its allotment: a stage allotted
  // fewer workers than there are threads has no more than its workers there, so no more of them run
  // at once and they begin in the order they were claimed (with one worker, one after the other, as on
  // a thread of its own); a stage allotted every thread has `tasksPerSlot` per worker, as on threads of
  // its own (the threads run no more at once than there are of them). A lowered allotment holds from
  // the batches sent after it; those in the threads finish where they are, as on a resized pool.
  const limit = (c: Cap) => (c.workers < p.size ? Math.max(1, c.workers) : c.workers * tasksPerSlot);
  const pump = () => {
    while (!ended && queue.length > 0 && sent < p.size * tasksPerSlot) {
      let next = -1;
      for (let i = 0; i < queue.length; i++) {
        const q = queue[i]!;
        if (q.cap.sent < limit(q.cap) && (next < 0 || q.rank > queue[next]!.rank)) next = i;
      }
      if (next < 0) return;
      const q = queue.splice(next, 1)[0]!;
      sent++;
      q.cap.sent++;
      const run = q.send(p);
      const done = () => {
        sent--;
        q.cap.sent--;
        pump();
      };
      void run.then(done, done);
      q.go(run);
    }
  };
  const end = () => {
    ended = true;
    for (const q of queue.splice(0)) q.go(Promise.reject(new Error('the stage threads were ended before the batch began')));
  };
  const terminate = () => {
    if (ended) return;
    end();
    p.terminate();
  };
  return {
    ready: () => p.ready(),
    lane(stage, depth) {
      const cap = caps.get(stage.name);
      if (!cap) throw new Error(`stage ${stage.name} does not share these threads`);
      return {
        ready: () => p.ready(),
        run: (task, opts = {}) => {
          if (ended) return Promise.reject(new Error('the stage threads were ended before the batch began'));
          const send = prepare(task, opts);
          const r = new Promise<Promise<TaskResult>>((go) => queue.push({ send, rank: task.depth ?? depth, cap, go })).then((x) => x);
          pump();
          return r;
        },
        resize(n) {
          const workers = Math.max(1, n);
          if (workers === cap.workers || ended) return;
          cap.workers = workers;
          const size = threadsFor();
          if (size !== p.size) p.resize(size);
          // The stage's share of the threads moved with it.
          pump();
        },
        restart: () => {
          if (!ended) p.restart();
        },
        terminate,
        close: () => {
          if (!closing) {
            if (!ended) end();
            closing = p.close();
          }
          return closing;
        },
      };
    },
  };
}

/** Worker threads without a CPU budget (every thread runs its batches as they come). */
export const threadRunner: BatchRunner = threadRunnerWith(null);

