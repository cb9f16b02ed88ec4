/**
 * One simulated run: the real engine (either scheduler) over an in-memory SQLite store, on a
 * VirtualClock, its batches run by a SimRunner. The caller gives the stages, the rows of the source
 * stage, what each row costs and returns, and the cores a slot holds; it gets back every batch as it
 * ran (stage, cores, start, end, keys) and the engine's run report. Nothing of the scheduling is
 * re-implemented here: the claims, priorities, admissions, broadenings and leases are the engine's and
 * the store's own.
 */
import { Engine, VirtualClock, type BatchSizing, type LearnedPrioritySpec, type RunReport } from '../../engine/engine.js';
import type { EngineEvent, Logger } from '../../engine/events.js';
import type { Stage } from '../../stage-kit/stage.js';
import { SimRunner, type BatchRecord, type SimWork } from './sim-runner.js';

export interface SimulationSpec {
  stages: readonly Stage[];
  /** Rows put into the source stage before the run. */
  source: { stage: string; rows: readonly Record<string, unknown>[] };
  work: SimWork;
  /** Cores one slot of a stage holds while it runs a batch. */
  cores: (stage: string) => number;
  mode: 'fractured' | 'fixed';
  /** Fixed mode: workflows at a time. */
  workflows?: number;
  /**
   * The cluster's cores, shared: fixed mode, by the workflows (each step takes the cores it needs);
   * fractured mode, by the stages' pools (each stage's workers a cap; see SimRunnerOptions.deepestFirst).
   */
  coreBudget?: number;
  /** With a coreBudget: the deepest stage's waiting batch takes freed cores first (SimRunnerOptions.deepestFirst). */
  deepestFirst?: boolean;
  /** The engine's control tick, in virtual ms. */
  tickMs: number;
  /** EngineOptions.batchSizing (default the engine's). */
  batchSizing?: BatchSizing;
  /** Called once the engine is open, before the run: schedule priority swaps, watch events. */
  setup?: (engine: Engine, clock: VirtualClock) => void;
  events?: (e: EngineEvent, clock: VirtualClock) => void;
  /** Learned priorities the engine refits on its tick (EngineOptions.learned). */
  learned?: readonly LearnedPrioritySpec[];
  /** Stops the run (RunOptions.signal), e.g. aborted from a timer of the clock set in `setup`. */
  signal?: AbortSignal;
  /** Stop with an error after this many timers (a run that would not end). Default 50 million. */
  maxTimers?: number;
}

export interface SimulationResult {
  /** Virtual epoch ms at which the run started. */
  t0: number;
  records: BatchRecord[];
  report: RunReport;
  /** Control changes, broadenings and the other events the engine recorded, with virtual times. */
  events: { at: number; event: EngineEvent }[];
  /** Timers the virtual clock fired (the simulation's own work). */
  timers: number;
  /** Warnings and errors the engine logged (none in a sound simulation). */
  warnings: string[];
}


export async function simulate(spec: SimulationSpec): Promise<SimulationResult> {
  const clock = new VirtualClock();
  const runner = new SimRunner({ clock, work: spec.work, cores: spec.cores, coreBudget: spec.coreBudget, deepestFirst: spec.deepestFirst });
  const events: { at: number; event: EngineEvent }[] = [];
  const warnings: string[] = [];
  const logger: Logger = { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  const engine = await Engine.open({
    db: ':memory:',
    stages: spec.stages,
    // A holder name no process of this host can have: the dead-holder reaper leaves it alone.
    workerId: 'study-sim:0:virtual',
    clock,
    runner,
    tickMs: spec.tickMs,
    ...(spec.batchSizing !== undefined ? { batchSizing: spec.batchSizing } : {}),
    flushMs: 0,
    logger,
    learned: spec.learned,
    events: (e) => {
      if (e.type !== 'claim' && e.type !== 'complete') events.push({ at: clock.now(), event: e });
      spec.events?.(e, clock);
    },
  });
  try {
    await engine.enqueue(spec.source.stage, spec.source.rows);
    spec.setup?.(engine, clock);
    const t0 = clock.now();
    const report = await clock.drive(engine.run({ mode: spec.mode, workflows: spec.workflows, signal: spec.signal }), spec.maxTimers ?? 50_000_000);
    return { t0, records: runner.records, report, events, timers: clock.fired, warnings };
  } finally {
    await engine.close();
  }
}
