/**
 * Stage 5, `calc`: run an external program (VASP, e.g. `mpirun -n 16 vasp_std`) in the folders the
 * images stage prepared, parse the final energies back and store the migration barrier.
 *
 * Input contract (the images stage, or any table of that shape): a table `images` with an integer
 * `id`, the pathway `key`, and the folder columns
 * - `static_dir`: folder holding `start/`, `mid/` and `end/` (writeStaticFolders in
 *   src/analysis/vasp-inputs.ts) — feeds the table `calc_static`;
 * - `neb_dir`: folder holding `relax_start/`, `relax_end/` and `neb/` with `00/ 01/ 02/`
 *   (writeNebFolder) — feeds the table `calc_neb`.
 * or, with the folder source `out_dir` (calcStages `folders`), the images stage's own output column
 * `out_dir` with its `vasp_static/` and `vasp_neb/` sub-folders of those layouts.
 * A NULL folder column leaves the pathway out of that table. When `images` is a stage table only its
 * `done` rows feed (the engine's rule), so its gate (dimensionality ≥ 1) is the calc stages' gate too.
 * Both tables are keyed by the pathway key; rows run in admission order (priority `0`): the images
 * stage admits in its own priority order.
 *
 * One row runs the command once per step folder, in order, with the step folder as working directory:
 * - static: `start`, `mid`, `end`; energies E_start, E_mid, E_end from those folders;
 * - neb: `relax_start`, `relax_end`, then `neb` (after copying each relaxed CONTCAR, when one was
 *   written, to `neb/00/POSCAR` and `neb/02/POSCAR` so the NEB starts from the relaxed endpoints);
 *   E_start / E_end from the relaxations, E_mid from `neb/01` (the single image).
 * Energies are pymatgen's final energies (vasprun.xml preferred, else OUTCAR; finalEnergyOfFolder in
 * src/analysis/vasp-outputs.ts); barrier = max(E_mid − E_start, E_mid − E_end) (`barrier` there).
 *
 * The command: a string runs through `/bin/sh -c` (the user wrote a shell command line: pipes,
 * variables and `mpirun -n 16 vasp_std` all work); an array of strings is an argv run directly,
 * no shell. Each run gets `timeLimitSec`; past it the whole process group (mpirun and its ranks) gets
 * SIGTERM, then SIGKILL after `killGraceSec`. A non-zero exit, a signal, a timeout or output without a
 * final energy fails the row, and the failure message carries the last `tailBytes` of the combined
 * stdout+stderr. Failed rows are not retried by default (a crashed or timed-out DFT run mostly fails
 * the same way again); `fracflow requeue calc_static --failed` queues them again.
 *
 * The work function runs the program through the engine's executor (`ctx.exec`: time limit, process
 * group kill, output) in the folders it is given and awaits it, and reads the outputs through the same
 * executor; the only files it writes (through the executor) are the two POSCAR copies of the NEB design.
 */
import { join, relative } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { checkBatchOptions, EXECUTOR_KINDS, OutputTail, type BatchOptions, type Executor, type ExecutorKind, type RunOutcome } from '../stage-kit/exec.js';
import { columnValues, makeBatch, type ColumnDef } from '../stage-kit/arrow.js';
import { configureStage, defineStage, StageError, type ColumnType, type Stage, type WorkContext } from '../stage-kit/stage.js';
import { barrier, finalEnergyOfFolder, VASP_OUTPUT_FILES, type VaspRunResult } from '../analysis/vasp-outputs.js';

export type CalcDesign = 'static' | 'neb';
export const CALC_DESIGNS: readonly CalcDesign[] = ['static', 'neb'];

/** Parameters of the calc stages (WorkContext.params). */
export interface CalcParams {
  /** Shell command line (run by `/bin/sh -c`) or argv (run directly). Required. */
  command: string | readonly string[];
  /** Wall-time limit of one run of the command, in seconds. Default 3600. */
  timeLimitSec?: number;
  /** Seconds between SIGTERM and SIGKILL of a timed-out process group. Default 10. */
  killGraceSec?: number;
  /** Bytes of combined stdout+stderr kept. Default 4096. */
  tailBytes?: number;
  /**
   * Where the command runs: `local` (default: children of the worker, on this machine), or each run
   * its own batch job through `slurm` or `pbs` (the engine's batch executor: sbatch/qsub with the
   * step folder as working directory and `timeLimitSec` as the limit, followed until it ends).
   */
  executor?: ExecutorKind;
  /** Batch executor options: partition/queue, account, CPUs per job, seconds between looks. */
  batch?: BatchOptions;
  /** Batch executors: how long a job may wait in the scheduler's queue before its row counts as lost, s. Default and most 172800 (two days). */
  queueWaitSec?: number;
}

interface CheckedParams {
  command: string | string[];
  timeLimitSec: number;
  killGraceSec: number;
  tailBytes: number;
  executor: ExecutorKind;
  batch: BatchOptions;
  queueWaitSec: number;
}

/** Stage parameters that name a bad option; the message names the option and the value. */
export class CalcError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalcError';
  }
}

function positive(name: string, v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new CalcError(`calc: ${name} must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

/** Validate calc parameters (the stage boundary) and fill in the defaults. */
export function checkCalcParams(p: Readonly<Record<string, unknown>>): CheckedParams {
  const c = p['command'];
  let command: string | string[];
  if (typeof c === 'string') {
    if (c.trim() === '') throw new CalcError('calc: command must be a non-empty shell command line or argv array, got ""');
    command = c;
  } else if (Array.isArray(c) && c.length > 0 && c.every((x) => typeof x === 'string') && (c[0] as string) !== '') {
    command = [...(c as string[])];
  } else {
    throw new CalcError(`calc: command must be a non-empty shell command line or argv array, got ${JSON.stringify(c ?? null)}`);
  }
  const tailBytes = positive('tailBytes', p['tailBytes'], 4096);
  if (!Number.isInteger(tailBytes)) throw new CalcError(`calc: tailBytes must be a positive integer, got ${JSON.stringify(tailBytes)}`);
  const executor = p['executor'] ?? 'local';
  if (typeof executor !== 'string' || !(EXECUTOR_KINDS as readonly string[]).includes(executor)) throw new CalcError(`calc: executor must be one of ${EXECUTOR_KINDS.join(', ')}, got ${JSON.stringify(executor)}`);
  let batch: BatchOptions;
  try {
    batch = checkBatchOptions('calc', p['batch']);
  } catch (e) {
    throw new CalcError((e as Error).message);
  }
  return {
    command,
    timeLimitSec: positive('timeLimitSec', p['timeLimitSec'], 3600),
    killGraceSec: positive('killGraceSec', p['killGraceSec'], 10),
    tailBytes,
    executor: executor as ExecutorKind,
    batch,
    queueWaitSec: Math.min(positive('queueWaitSec', p['queueWaitSec'], 172_800), 172_800),
  };
}

interface Step {
  /** Step folder name, relative to the row's folder. */
  name: string;
  /** Before the run (NEB: relaxed endpoints into the NEB folder). */
  before?: (dir: string, exec: Executor) => Promise<void>;
}

async function copyContcar(exec: Executor, dir: string, from: string, to: string): Promise<void> {
  const contcar = await exec.readFile(join(dir, from, 'CONTCAR'));
  // VASP creates CONTCAR empty and fills it at the end of each ionic step: an empty one is no structure.
  if (contcar !== null && contcar.length > 0) await exec.writeFile(join(dir, 'neb', to, 'POSCAR'), contcar);
}

const STEPS: Readonly<Record<CalcDesign, { steps: Step[]; start: string; mid: string; end: string }>> = {
  static: { steps: [{ name: 'start' }, { name: 'mid' }, { name: 'end' }], start: 'start', mid: 'mid', end: 'end' },
  neb: {
    steps: [
      { name: 'relax_start' },
      { name: 'relax_end' },
      { name: 'neb', before: async (dir, exec) => { await copyContcar(exec, dir, 'relax_start', '00'); await copyContcar(exec, dir, 'relax_end', '02'); } },
    ],
    start: 'relax_start',
    mid: join('neb', '01'),
    end: 'relax_end',
  },
};

export interface CalcResult {
  energyStartEv: number;
  energyMidEv: number;
  energyEndEv: number;
  barrierEv: number;
  exitCode: number;
  runtimeSec: number;
  /** Every energy came from a finished file with a converged last electronic step (null: unknown, e.g. OUTCAR). */
  electronicConverged: boolean | null;
  /** The files the three energies were read from, relative to the row's folder, start/mid/end. */
  energyFiles: string;
  outputTail: string;
}

function describeCommand(c: string | readonly string[]): string {
  return typeof c === 'string' ? c : JSON.stringify(c);
}

/** What a calc failure message puts between its cause and the program's output tail. */
export const OUTPUT_TAIL_MARK = '; output tail:\n';

/** The program's output tail a calc failure message carries (after {@link OUTPUT_TAIL_MARK}), or null when it carries none. */
export function outputTailOfError(message: string | null): string | null {
  // The first mark: the cause before it is ours, the tail after it is the program's and may hold anything.
  const at = message === null ? -1 : message.indexOf(OUTPUT_TAIL_MARK);
  return at < 0 ? null : message!.slice(at + OUTPUT_TAIL_MARK.length);
}

/**
 * Run one row: the design's steps in `dir`, then read the three energies. Throws a {@link CalcError}
 * whose message names the key, the step folder, the cause and the output tail.
 */
export async function runCalc(key: string, dir: string, design: string, params: Readonly<Record<string, unknown>>, exec: Executor): Promise<CalcResult> {
  const p = checkCalcParams(params);
  if (!(CALC_DESIGNS as readonly string[]).includes(design)) throw new CalcError(`calc ${key}: design must be one of ${CALC_DESIGNS.join(', ')}, got ${JSON.stringify(design)}`);
  const plan = STEPS[design as CalcDesign];
  if (typeof dir !== 'string' || dir === '' || !(await exec.isDirectory(dir))) throw new CalcError(`calc ${key}: folder ${JSON.stringify(dir)} does not exist`);
  const tail = new OutputTail(p.tailBytes);
  const onOutput = (b: Buffer) => tail.push(b);
  const failure = (what: string) => new CalcError(`calc ${key}: ${what}${OUTPUT_TAIL_MARK}${tail.text()}`);
  let runtimeSec = 0;
  for (const step of plan.steps) {
    const cwd = join(dir, step.name);
    if (!(await exec.isDirectory(cwd))) throw failure(`step folder ${cwd} does not exist (a ${design} design needs ${plan.steps.map((s) => s.name).join(', ')})`);
    await step.before?.(dir, exec);
    tail.push(Buffer.from(`[fracflow calc] ${step.name}$ ${describeCommand(p.command)}\n`));
    let r: RunOutcome;
    try {
      r = await exec.run(p.command, cwd, { timeLimitSec: p.timeLimitSec, killGraceSec: p.killGraceSec, onOutput });
    } catch (e) {
      throw failure(`command ${describeCommand(p.command)} could not start in ${cwd}: ${(e as Error).message}`);
    }
    runtimeSec += r.elapsedSec;
    const how = r.detail ? `; ${r.detail}` : '';
    if (r.timedOut) throw failure(`command timed out after ${p.timeLimitSec} s in ${cwd} (${r.detail ?? 'process group killed'})`);
    if (r.signal !== null) throw failure(`command was killed by ${r.signal} in ${cwd}${how}`);
    if (r.exitCode === null) throw failure(`command did not finish in ${cwd}${how}`);
    if (r.exitCode !== 0) throw failure(`command exited with code ${String(r.exitCode)} in ${cwd}${how}`);
  }
  const read = async (sub: string): Promise<VaspRunResult> => {
    const folder = join(dir, sub);
    try {
      if (!(await exec.isDirectory(folder))) throw new Error(`${folder}: folder not found`);
      return finalEnergyOfFolder(folder, await Promise.all(VASP_OUTPUT_FILES.map((f) => exec.readFile(join(folder, f.name)))));
    } catch (e) {
      throw failure(`unparsable output: ${(e as Error).message}`);
    }
  };
  const s = await read(plan.start);
  const m = await read(plan.mid);
  const e = await read(plan.end);
  const runs = [s, m, e];
  const conv = runs.map((r) => (r.electronicConverged === null ? null : r.electronicConverged && r.finished));
  let b: number;
  try {
    b = barrier(s.finalEnergyEv, m.finalEnergyEv, e.finalEnergyEv);
  } catch (err) {
    throw failure(`unusable energies: ${(err as Error).message}`);
  }
  return {
    energyStartEv: s.finalEnergyEv,
    energyMidEv: m.finalEnergyEv,
    energyEndEv: e.finalEnergyEv,
    barrierEv: b,
    exitCode: 0,
    runtimeSec,
    electronicConverged: conv.includes(false) ? false : conv.includes(null) ? null : true,
    energyFiles: runs.map((r) => relative(dir, r.file)).join(','),
    outputTail: tail.text(),
  };
}

const OUTPUT: Record<string, ColumnType> = {
  energy_start_ev: 'float64',
  energy_mid_ev: 'float64',
  energy_end_ev: 'float64',
  barrier_ev: 'float64',
  exit_code: 'int32',
  runtime_s: 'float64',
  electronic_converged: 'bool',
  energy_files: 'utf8',
  output_tail: 'utf8',
};
const OUTPUT_DEFS: ColumnDef[] = [{ name: 'key', type: 'utf8' }, ...Object.entries(OUTPUT).map(([name, type]) => ({ name, type }))];

/**
 * The work function of both calc stages: rows one at a time (batchSize 1: a row is hours of DFT, and
 * a row that throws would otherwise make the engine re-run its batch-mates while isolating it).
 */
async function work(batch: RecordBatch, ctx: WorkContext): Promise<RecordBatch> {
  const keys = columnValues(batch, 'key') as string[];
  const dirs = columnValues(batch, 'dir') as string[];
  const subs = columnValues(batch, 'sub') as (string | null)[];
  const designs = columnValues(batch, 'design') as string[];
  const cols: unknown[][] = OUTPUT_DEFS.map(() => []);
  for (let i = 0; i < keys.length; i++) {
    const r = await runCalc(keys[i]!, subs[i] ? join(dirs[i]!, subs[i]!) : dirs[i]!, designs[i]!, ctx.params, ctx.exec);
    const row = [keys[i], r.energyStartEv, r.energyMidEv, r.energyEndEv, r.barrierEv, r.exitCode, r.runtimeSec, r.electronicConverged, r.energyFiles, r.outputTail];
    row.forEach((v, c) => cols[c]!.push(v));
  }
  return makeBatch(OUTPUT_DEFS, cols);
}

/** The upstream table the calc stages read (see the module comment). */
export const CALC_INPUT_TABLE = 'images';

/**
 * Lease of a calc batch (ms), counted from its claim: a claimed batch can wait behind one running
 * batch (the engine claims two per worker for a stage that runs one batch per thread), and each runs
 * up to three steps of `timeLimitSec + killGraceSec`; one minute of slack for reading outputs. A
 * shorter lease would make the engine abort and re-run a healthy long run. With a batch executor each
 * step may also wait `queueWaitSec` in the scheduler's queue.
 */
export function calcLeaseMs(timeLimitSec: number, killGraceSec = 10, queueWaitSec = 0): number {
  return Math.ceil(2 * 3 * (timeLimitSec + killGraceSec + 1 + queueWaitSec) * 1000 + 60000);
}

/**
 * Where the folders come from in the `images` row: `columns` reads `static_dir` / `neb_dir`;
 * `out_dir` reads the images stage's pathway folder `out_dir` and its `vasp_static/`, `vasp_neb/`
 * sub-folders (src/stages/images.ts).
 */
export type CalcFolderSource = 'columns' | 'out_dir';
export const CALC_FOLDER_SOURCES: readonly CalcFolderSource[] = ['columns', 'out_dir'];

/** The `images` column naming a row's folder, and the sub-folder of it that holds the design. */
const DIR_COLUMN: Readonly<Record<CalcFolderSource, Readonly<Record<CalcDesign, { column: string; sub: string | null }>>>> = {
  columns: { static: { column: 'static_dir', sub: null }, neb: { column: 'neb_dir', sub: null } },
  out_dir: { static: { column: 'out_dir', sub: 'vasp_static' }, neb: { column: 'out_dir', sub: 'vasp_neb' } },
};

const STAGE_NAME: Readonly<Record<CalcDesign, string>> = { static: 'calc_static', neb: 'calc_neb' };

// The workers find the work function by stage name among this module's exports, so a stage declared
// with another folder source under the same name runs the same work.
function declare(design: CalcDesign, source: CalcFolderSource): Stage {
  const dir = DIR_COLUMN[source][design];
  return defineStage({
    module: import.meta.url,
    name: STAGE_NAME[design],
    input: {
      from: CALC_INPUT_TABLE,
      columns: { dir: { type: 'utf8', from: dir.column }, sub: { type: 'utf8', value: dir.sub }, design: { type: 'utf8', value: design } },
    },
    filter: { sql: `${dir.column} IS NOT NULL` },
    output: OUTPUT,
    work,
    workers: 1,
    batchSize: 1,
    leaseMs: calcLeaseMs(3600),
    retry: { maxAttempts: 1, backoffMs: 0 },
    // The work waits on an external program: one batch per thread, so workers = concurrent runs.
    queueInThread: false,
    // No command by default: a row run without one fails with a message saying so.
    params: { command: null, timeLimitSec: 3600, killGraceSec: 10, tailBytes: 4096 },
  });
}

/** Static start/mid/end design: table `calc_static`, fed by `images.static_dir`. */
export const calcStatic = declare('static', 'columns');
/** Endpoint relaxations + 1-image NEB: table `calc_neb`, fed by `images.neb_dir`. */
export const calcNeb = declare('neb', 'columns');

export interface CalcStageOptions extends CalcParams {
  /** Which designs to run. Default both. */
  designs?: readonly CalcDesign[];
  /** Worker threads (= concurrent runs of the command) per design. Default 1. */
  workers?: number;
  /** Which `images` columns name the folders. Default `columns` (static_dir, neb_dir). */
  folders?: CalcFolderSource;
}

/** The calc stages configured to run `command` (validated here, the public boundary). */
export function calcStages(options: CalcStageOptions): Stage[] {
  const p = checkCalcParams(options as unknown as Record<string, unknown>);
  const designs = options.designs ?? CALC_DESIGNS;
  if (designs.length === 0 || designs.some((d) => !(CALC_DESIGNS as readonly string[]).includes(d))) {
    throw new CalcError(`calc: designs must be a non-empty list of ${CALC_DESIGNS.join(', ')}, got ${JSON.stringify(designs)}`);
  }
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) throw new CalcError(`calc: workers must be a positive integer, got ${JSON.stringify(workers)}`);
  const folders = options.folders ?? 'columns';
  if (!(CALC_FOLDER_SOURCES as readonly string[]).includes(folders)) throw new CalcError(`calc: folders must be one of ${CALC_FOLDER_SOURCES.join(', ')}, got ${JSON.stringify(folders)}`);
  const params = {
    command: p.command, timeLimitSec: p.timeLimitSec, killGraceSec: p.killGraceSec, tailBytes: p.tailBytes,
    ...(p.executor !== 'local' ? { executor: p.executor, batch: { ...p.batch }, queueWaitSec: p.queueWaitSec } : {}),
  };
  // A batch job may wait in the scheduler's queue before it runs: that wait is part of the lease.
  const leaseMs = calcLeaseMs(p.timeLimitSec, p.killGraceSec, p.executor === 'local' ? 0 : p.queueWaitSec);
  try {
    return designs.map((d) => configureStage(folders === 'columns' ? (d === 'static' ? calcStatic : calcNeb) : declare(d, folders), { workers, leaseMs, params }));
  } catch (e) {
    if (e instanceof StageError) throw new CalcError(e.message);
    throw e;
  }
}
