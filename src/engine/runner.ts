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
import { giveCpu, tokenFlag, type CpuBudgetState } from './cpu-budget.js';
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

export interface BatchRunner {
  /**
   * A pool of `size` slots for batches of `stages`, handing `tasksPerSlot` batches to a slot at once
   * (batches beyond that wait in the pool).
   */
  pool(size: number, stages: readonly Stage[], tasksPerSlot: number): BatchPool;
}

/**
 * The stage's work function in piscina worker threads of this process. With a CPU budget
 * (cpu-budget.ts), a batch of a CPU-bound stage (`queueInThread`) begins only once it holds a token,
 * so the threads of every pool together run at most that many batches at once; a batch whose thread
 * is ended has its token given back here.
 */
export function threadRunnerWith(budget: CpuBudgetState | null): BatchRunner {
  return {
    pool(size, stages, tasksPerSlot) {
      const p = new StagePool(size, stages.map((s) => ({ module: s.module, work: s.workName })), tasksPerSlot);
      return {
        ready: () => p.ready(),
        run(task, opts = {}) {
          const { stage, claim } = task;
          const input = wireFromColumns(task.inDefs, [claim.keys, ...claim.inputs]);
          const cpu = budget && stage.queueInThread ? { budget, held: tokenFlag(), rank: task.depth ?? 0 } : undefined;
          const run = p.run({ module: stage.module, work: stage.workName, stage: stage.name, output: [...task.outDefs], params: { ...stage.params }, ...(cpu ? { cpu } : {}) }, input, opts);
          return cpu ? run.catch((e: unknown) => {
            giveCpu(cpu.budget, cpu.held);
            throw e;
          }) : run;
        },
        resize: (n) => p.resize(n),
        restart: () => p.restart(),
        terminate: () => p.terminate(),
        close: () => p.close(),
      };
    },
  };
}

/** Worker threads without a CPU budget (every thread runs its batches as they come). */
export const threadRunner: BatchRunner = threadRunnerWith(null);

