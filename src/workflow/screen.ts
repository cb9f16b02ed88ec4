/**
 * The diffusion screen: stage 1 (import into `structures`) then stages 2–4 (`find_paths`, whose
 * pathways the `pathways` view lists one per row → `descriptors` → `images`) on the engine, in the
 * fractured or the fixed-workflow architecture, then a checkpoint (SQLite backup + CSV and Arrow per
 * stage table and view). Rerunning on the same store resumes:
 * the stage keys hold the structure's content hash and the parameters, so rows whose inputs did not
 * change are found present and not recomputed.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine, haltMessage, type RunReport, type ThreadSharing } from '../engine/engine.js';
import type { StageStatus } from '../store/interface.js';
import { openStores, describeLocation, DEFAULT_DB } from '../store/index.js';
import type { DiffusionStore, RankedPathway } from '../store/diffusion.js';
import type { ProgressMode } from '../engine/progress.js';
import { StageError, configureStage, type Stage } from '../stage-kit/stage.js';
import type { ImportReport } from './import.js';
import { importStructures, type StructureSource } from './structures.js';
import type { ReadLimits } from '../structure/limits.js';
import { findPathsStage, screenParams, type FindPathsSettings, type ScreenParams } from '../stages/pathways.js';
import { DEFAULT_SCREEN_IDPP, descriptorsStage, idppModeParam } from '../stages/descriptors.js';
import type { IdppMode } from '../kernels/idpp.js';
import { imagesParams, imagesStage } from '../stages/images.js';

export interface ScreenOptions extends Partial<ScreenParams> {
  /** Store: an SQLite file, `:memory:`, or a PostgreSQL URL (`postgres://user@host:port/db`). */
  db: string;
  /** Structures to import first; omitted: none (screen what the store holds). */
  source?: StructureSource;
  /** Size limits of the import's readers (sites per structure, bytes per file); see limits.ts. */
  limits?: Partial<ReadLimits>;
  /** Output folder: `images/` (per-pathway files) and `checkpoint/`. Default `screen-out`. */
  outDir?: string;
  /** Supercell rule length of the images stage, Å. Default 7. */
  supercellMinLengthAng?: number;
  /** IDPP mode of the descriptors and images stages (`exact`: the DDI numbers; `fast`). Default {@link DEFAULT_SCREEN_IDPP}. */
  idpp?: IdppMode;
  mode?: 'fractured' | 'fixed';
  /**
   * Workers per stage (fractured: the most of a stage's batches that run at once on the threads the
   * stages share) or workflows at a time (fixed). Default os.availableParallelism(): each stage may
   * take every core while the others have nothing to do; the CPU budget keeps the stages together
   * within the cores.
   */
  workers?: number;
  /** Batches of the CPU-bound stages running at once across stages (EngineOptions.cpuBudget). Default os.availableParallelism(). */
  cpuBudget?: number;
  progress?: ProgressMode;
  progressEverySec?: number;
  /** Skip the checkpoint (tests that only look at the tables). */
  checkpoint?: boolean;
  /** Pathways in the ranking returned. Default 20. */
  top?: number;
  /**
   * Last stage to run: `find_paths`, `descriptors` or `images` (default, the whole screen). The ranking
   * needs the images stage, so it is empty when the run stops earlier.
   */
  until?: ScreenStageName;
  /**
   * Stop cleanly (Ctrl-C, SIGTERM): claiming ends and every row in flight goes back unrun, no attempt
   * counted; no checkpoint or ranking is made. A rerun resumes.
   */
  signal?: AbortSignal;
  /**
   * Called with the engine once it is open: a caller that stops at once (a second Ctrl-C) calls its
   * `abandon()` (finished results written, every row in flight given back) before it exits.
   */
  onEngine?: (engine: Engine) => void;
  /** Fractured mode: batches handed to each worker thread at once (EngineOptions.batchesPerThread). Default 3. */
  batchesPerThread?: number;
  /** Fractured mode: threads shared by the stages (default) or a pool per stage (EngineOptions.threads). */
  threads?: ThreadSharing;
  /** find_paths refuses structures with more sites (a failed row naming the limit). Default DEFAULT_MAX_SITES (5000). */
  maxSites?: number;
}

/** Stages 2–4 of the screen, in feed order. */
export const SCREEN_STAGE_NAMES = ['find_paths', 'descriptors', 'images'] as const;
export type ScreenStageName = (typeof SCREEN_STAGE_NAMES)[number];

export interface ScreenReport {
  imports: ImportReport[];
  run: RunReport;
  checkpointFiles: string[];
  params: ScreenParams;
  /** Rows per state of each stage after the run. */
  status: StageStatus[];
  /** The top pathways by the images stage's priority ({@link topPathways}). */
  top: RankedPathway[];
  /**
   * Why the screen is not complete, if it is not: stopped by the caller, stages halted by a full disk
   * or a forbidden path, rows failed for reasons other than the science. Empty: every row is done or a
   * result of the science.
   */
  incomplete: string[];
}

/** Stages 2–4 for these parameters, in feed order (`images.idpp`: the IDPP mode of descriptors and images). */
export function screenStages(params: Partial<ScreenParams> = {}, images: { outDir?: string; supercellMinLengthAng?: number; idpp?: IdppMode } = {}, workers = 2, findPaths: FindPathsSettings = {}): Stage[] {
  if (!Number.isInteger(workers) || workers < 1) throw new StageError(`workers must be a positive integer, got ${JSON.stringify(workers)}`);
  return [
    configureStage(findPathsStage(params, findPaths), { workers }),
    configureStage(descriptorsStage(images.idpp, params), { workers }),
    configureStage(imagesStage(images), { workers, params: { ...imagesParams(images) } }),
  ];
}

export type { RankedPathway } from '../store/diffusion.js';

/**
 * The top `n` pathways of the current parameters by the images stage's priority (ewald_energy
 * ascending, then nsites_777), with their descriptors.
 */
export function topPathways(store: DiffusionStore, params: Partial<ScreenParams> = {}, n = 20, idpp: IdppMode = DEFAULT_SCREEN_IDPP): Promise<RankedPathway[]> {
  return store.topPathways({ ...screenParams(params), idpp: idppModeParam(idpp) }, n);
}

/**
 * The screen's batch sizing (EngineOptions.batchSizing): find_paths and images cost in proportion to
 * their rows (from a few ms to a second per structure), so their batches are held to about 150 ms of
 * work; a CPU token is then held about that long, which bounds how long a deeper stage's batch waits
 * for a core (at ~1.3 ms of main-thread CPU per batch, ~1 % overhead).
 */
export const SCREEN_BATCH_SIZING = { targetMs: 150 } as const;

/** Import (when a source is given), run stages 2–4 to the end, and write the checkpoint. */
export async function runScreen(opts: ScreenOptions): Promise<ScreenReport> {
  const params = screenParams(opts);
  const top = opts.top ?? 20;
  if (!Number.isInteger(top) || top < 0) throw new StageError(`top must be a non-negative integer, got ${JSON.stringify(opts.top)}`);
  const outDir = resolve(opts.outDir ?? 'screen-out');
  const until = opts.until ?? 'images';
  const last = SCREEN_STAGE_NAMES.indexOf(until);
  if (last < 0) throw new StageError(`until must be one of ${SCREEN_STAGE_NAMES.join(', ')}, got ${JSON.stringify(opts.until)}`);
  const idpp = idppModeParam(opts.idpp);
  const stages = screenStages(params, { outDir: join(outDir, 'images'), supercellMinLengthAng: opts.supercellMinLengthAng, idpp }, opts.workers ?? availableParallelism(), { maxSites: opts.maxSites }).slice(0, last + 1);
  const store = await openStores(opts.db);
  try {
    const imports = opts.source ? await importStructures(store, opts.source, { limits: opts.limits }) : [];
    const engine = await Engine.open({ db: store.queue, stages, progress: opts.progress ?? 'off', progressEverySec: opts.progressEverySec, batchesPerThread: opts.batchesPerThread, cpuBudget: opts.cpuBudget, batchSizing: SCREEN_BATCH_SIZING, threads: opts.threads });
    opts.onEngine?.(engine);
    const run = await engine.run({ mode: opts.mode ?? 'fractured', workflows: opts.workers ?? availableParallelism(), signal: opts.signal });
    const status = await store.queue.status(stages.map((s) => s.name));
    const incomplete = incompleteReasons(run, status, opts.db);
    const finished = !run.stopped && run.halted.length === 0;
    const checkpointFiles = opts.checkpoint === false || !finished ? [] : await store.queue.checkpoint(join(outDir, 'checkpoint'));
    return { imports, run, checkpointFiles, params, status, top: until === 'images' && !run.stopped ? await topPathways(store, params, top, idpp) : [], incomplete };
  } finally {
    await store.close();
  }
}

export interface SeedReport {
  imports: ImportReport[];
  /** The stages registered, in feed order. */
  stages: string[];
  /** Rows admitted into the first stage (and any later one whose upstream has finished rows). */
  admitted: number;
  params: ScreenParams;
}

/**
 * Seed a store for stage workers on other processes or hosts (`fracflow worker`, `fracflow launch`):
 * import, register stages 2–4 with the screen's parameters (the registration carries everything a
 * worker needs to run them), and admit the structures into `find_paths`. Runs no stage.
 */
export async function seedScreen(opts: Omit<ScreenOptions, 'mode' | 'progress' | 'progressEverySec' | 'checkpoint' | 'top' | 'signal' | 'onEngine'>): Promise<SeedReport> {
  const params = screenParams(opts);
  const outDir = resolve(opts.outDir ?? 'screen-out');
  const until = opts.until ?? 'images';
  const last = SCREEN_STAGE_NAMES.indexOf(until);
  if (last < 0) throw new StageError(`until must be one of ${SCREEN_STAGE_NAMES.join(', ')}, got ${JSON.stringify(opts.until)}`);
  const idpp = idppModeParam(opts.idpp);
  const stages = screenStages(params, { outDir: join(outDir, 'images'), supercellMinLengthAng: opts.supercellMinLengthAng, idpp }, opts.workers ?? 2, { maxSites: opts.maxSites }).slice(0, last + 1);
  const store = await openStores(opts.db);
  try {
    const imports = opts.source ? await importStructures(store, opts.source, { limits: opts.limits }) : [];
    const engine = await Engine.open({ db: store.queue, stages });
    const admitted = await engine.feedAll();
    return { imports, stages: stages.map((s) => s.name), admitted, params };
  } finally {
    await store.close();
  }
}

/**
 * What keeps a screen from being complete, each as a line that names the cause and the next command;
 * empty when every row is done or failed as a result of the science (no ion, a path through an atom).
 */
export function incompleteReasons(run: RunReport, status: readonly StageStatus[], db: string): string[] {
  const out: string[] = [];
  // The store as the user may type it again: never with its password.
  const dbArg = db === DEFAULT_DB ? '' : ` --db ${describeLocation(db)}`;
  if (run.stopped) out.push(`stopped before the end: ${run.released} rows in flight were given back unrun (no attempt counted); run the same command again to resume`);
  for (const h of run.halted) out.push(`${h.stage} halted: ${haltMessage(h)}; its rows were given back unrun, none failed: free space or fix the permission, then run the same command again to resume`);
  for (const s of status) {
    if (s.failedDied > 0)
      out.push(`${s.stage}: ${s.failedDied} rows failed because their worker died on every run up to the stage's death limit (a crash, a kill or a hang each time; not a result of the science): see \`fracflow errors ${s.stage}${dbArg}\`, then \`fracflow requeue ${s.stage} --failed${dbArg}\` and run the same command again`);
  }
  return out;
}
