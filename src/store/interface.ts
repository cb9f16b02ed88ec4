/**
 * The store interface: what the engine and the operator commands ask of a store, in the queue's own
 * words. One implementation per backend (src/store/sqlite/ and src/store/postgres/, one module per verb); the engine knows
 * nothing else of the database, and no SQL text exists outside src/store/ except the portable
 * priority and filter expressions users write (src/stage-kit/expressions.ts).
 *
 * Row lifecycle of a stage table: `pending → running (holder, lease, attempt + 1) → done | failed`.
 * A failed attempt (the work threw) goes back to `pending` after a back-off while attempts remain; a
 * run whose holder died (its lease expired) is a death, not an attempt (see {@link QueueStore.sweep}).
 * Every verb that moves a running row names its holder: a holder whose lease was swept and whose row
 * another holder now runs changes nothing. Each ended run is a row of the attempt history.
 *
 * Times are milliseconds since the Unix epoch. Every method is asynchronous; an implementation runs
 * each call as one unit of work (one transaction), and nothing of the caller's runs inside it.
 */
import type { ColumnType, PrioritySpec, Stage } from '../stage-kit/stage.js';

export type RowState = 'pending' | 'running' | 'done' | 'failed';

/** Rows claimed for one holder, in queue order. */
export interface Claim {
  stage: string;
  ids: number[];
  keys: string[];
  /** Attempt number of each row (this run included). */
  attempts: number[];
  /** Deaths of each row so far. */
  deaths: number[];
  /** Input columns, `inputs[c][row]`, in the order of the stage's input columns. */
  inputs: unknown[][];
}

/** What to claim for one stage in a {@link QueueStore.exchange}. */
export interface ClaimRequest {
  stage: string;
  /** Rows per batch. */
  batchSize: number;
  /** Batches wanted. */
  batches: number;
  /** Also claim one row in quarantine, alone (the holder has none of this stage in flight). */
  suspect: boolean;
}

/** The outcome of one finished batch (see {@link QueueStore.exchange}). */
export interface BatchOutcome {
  stage: string;
  /** Rows written as done, with their outputs `outputs[c][k]` in the stage's output column order. */
  done: { ids: number[]; outputs: unknown[][] };
  /** Rows whose work threw: an attempt each. */
  failed: { id: number; error: string }[];
  /** Rows of the stage's emitted table: their keys, the id of the row that emitted each, and the declared columns `columns[c][k]`. */
  emitted?: { keys: string[]; sourceIds: number[]; sourceKeys: string[]; columns: unknown[][] };
}

export interface ExchangeResult {
  /** Per batch outcome (same order): the ids actually written done (rows still held). */
  written: number[][];
  /** Rows admitted downstream by the finished rows, per downstream stage. */
  admitted: { stage: string; keys: string[] }[];
  claims: Claim[];
}

export interface StateCounts {
  pending: number;
  running: number;
  done: number;
  failed: number;
  /** Pending rows whose back-off has ended. */
  ready: number;
}

/** A stage's run settings that live in the store and may change while it runs. */
export interface StageControl {
  stage: string;
  workers: number;
  priority: PrioritySpec;
}

export interface BroadenResult {
  changes: { name: string; from: number; to: number }[];
  admitted: string[];
}

export interface StageStatus {
  stage: string;
  pending: number;
  running: number;
  done: number;
  failed: number;
  /**
   * Of the failed rows, those whose worker died on them `maxDeaths` times (a killed, crashed or hung
   * run each time) rather than rows whose work threw (a result of the work itself).
   */
  failedDied: number;
  workers: number;
  /** Rows finished per second over the last minute. */
  rowsPerSec: number;
  /** Seconds until pending + running rows are done at that rate; null when nothing moves. */
  etaSec: number | null;
}

export interface ErrorGroup {
  /** The stage, or `import_errors` for inputs that could not be imported. */
  stage: string;
  /**
   * The cause: the message with what differs from row to row taken out — the row's key and
   * structure id (`<key>`, `<id>`), for import errors the source id, file and record (`<id>`,
   * `<file>`, `<record>`), absolute paths (`<path>`), line numbers after a file (`:<line>`) and
   * list indices (`[<i>]`).
   */
  message: string;
  rows: number;
  /** Up to three keys (source ids for import errors) with this cause, in the order they failed. */
  examples: string[];
  /** Up to three distinct files or paths the messages named. */
  paths: string[];
  /** Highest attempt count among them (1 for import errors: an input is read once per import). */
  attempts: number;
  /** Import errors only: the dataset. */
  dataset?: string;
}

/** One entry of the run's event log: a control change, a broadening, a halt, a requeue. */
export interface EngineEventRecord {
  at: number;
  stage: string | null;
  kind: string;
  detail: unknown;
}

/** The rows a learned priority is fitted on (see {@link QueueStore.trainingRows}). */
export interface TrainingRows {
  keys: string[];
  /** Feature values, `x[row][feature]`. */
  x: number[][];
  /** The target column of the finished downstream row. */
  y: number[];
}

/**
 * A stage worker (`fracflow worker`: one stage's pool in one process, on any host that reaches the
 * store) as it registers itself.
 */
export interface WorkerRegistration {
  /** Its lease holder name (`host:pid:tag`). */
  id: string;
  host: string;
  pid: number;
  stage: string;
  /** Its allotment of threads; `scale` spreads a stage's count over the stage's live workers. */
  threads: number;
  /** The batch job it runs in (`slurm:1234_5`, `pbs:99[3].server`), or null. */
  job?: string | null;
}

/** A registered worker as `status` shows it. */
export interface WorkerRecord extends WorkerRegistration {
  job: string | null;
  startedAt: number;
  /** Its last heartbeat (the worker beats within every control tick; at least once per {@link WORKER_HEARTBEAT_MS}). */
  heartbeatAt: number;
  /** Rows it finished (done or failed) so far. */
  rowsDone: number;
  /**
   * No heartbeat for {@link WORKER_STALE_MS}, or a process of this host that no longer exists: it
   * died without deregistering (kill -9, a node lost, a job past its wall time); its rows come back
   * with their leases.
   */
  stale: boolean;
}

/** A worker beats at least this often (ms). */
export const WORKER_HEARTBEAT_MS = 1000;
/** A worker whose last heartbeat is older than this (ms) counts as stale, and gets no share of a `scale`. */
export const WORKER_STALE_MS = 30_000;

/** A batch job `fracflow launch --submit` submitted (a Slurm job array, a PBS array job). */
export interface BatchJobRecord {
  scheduler: 'slurm' | 'pbs';
  /** The scheduler's id of the job (the array's id). */
  jobId: string;
  stage: string;
  /** Array tasks it asked for (workers). */
  tasks: number;
  /** The script it was submitted from. */
  script: string;
  submittedAt: number;
  /** The last states the scheduler reported for its tasks, e.g. `RUNNING:2 PENDING:3`; null before any check. */
  state: string | null;
  checkedAt: number | null;
}

/** What a process needs to run a registered stage without the code that declared it (`fracflow worker`). */
export interface StageRegistration {
  stage: string;
  /** URL of the module that declares the stage's work function. */
  module: string;
  /** The stage (export of that module) whose work function runs. */
  work: string;
  workers: number;
  batchSize: number;
  priority: PrioritySpec;
  /** The declaration as registered (input, filter, output, emits, sink, retry, leaseMs, params, queueInThread, version). */
  spec: Record<string, unknown>;
}

/**
 * The queue verbs. `holder` names a lease holder (`host:pid:tag`); `now` defaults to the clock.
 */
export interface QueueStore {
  /** Where the store lives (a file path, `:memory:`, a URL without its password). */
  readonly location: string;

  /**
   * Create the tables of these stages (and their emitted tables) if missing and register them; a
   * registered table whose columns differ from the declaration is an error naming the way out. Checks
   * every stage's upstream, input columns and filter against the upstream's columns.
   */
  ensure(stages: readonly Stage[], now?: number): Promise<void>;
  /** The worker counts and priorities in force (`scale`, `priority` change them while a run goes on). */
  control(stages?: readonly string[]): Promise<StageControl[]>;
  /** Put entities into a source stage; rows whose key exists are left alone. Returns the keys added. */
  enqueue(stage: string, rows: readonly Record<string, unknown>[], now?: number): Promise<string[]>;
  /**
   * Admit upstream rows that pass the stage's filter and are not in its table yet: every upstream row,
   * or (`since`) those finished at or after that time. Returns the keys admitted.
   */
  admit(stage: string, options?: { since?: number }, now?: number): Promise<string[]>;
  /** Would {@link admit} admit anything? A read alone. */
  canAdmit(stage: string, options?: { since?: number }): Promise<boolean>;
  /**
   * One unit of work for a scheduler's flush: write the finished batches (done rows with their outputs
   * and emitted rows, failed attempts, each guarded by the holder), admit the finished rows into the
   * stages fed by them, then claim the requested batches.
   */
  exchange(holder: string, outcomes: readonly BatchOutcome[], requests: readonly ClaimRequest[], now?: number): Promise<ExchangeResult>;
  /** Claim these keys (pending and ready) of one stage: the fixed-workflow runner follows one entity. */
  claimKeys(stage: string, holder: string, keys: readonly string[], now?: number): Promise<Claim>;
  /** Move the lease of rows the holder still holds to `until`. Returns the rows renewed. */
  renew(stage: string, holder: string, ids: readonly number[], until: number): Promise<number>;
  /** Give rows back unrun (a stop, a halt): pending again, attempt not counted. Returns the rows released. */
  release(stage: string, holder: string, ids: readonly number[], now?: number): Promise<number>;
  /** Every row of a claim failed with one error (an attempt each). */
  fail(stage: string, holder: string, items: readonly { id: number; error: string }[], now?: number): Promise<{ retried: number; failed: number }>;
  /**
   * Take back running rows whose lease ended before `now` — all of them, or (`ids`, with the holder's
   * own `reason`) a batch this holder lost, whose lease it ends first. Each is a death, not an
   * attempt: back to pending while fewer than the stage's `maxDeaths`, else failed with
   * `fail_kind = 'died'`.
   */
  sweep(stage: string, options?: { holder?: string; ids?: readonly number[]; reason?: string }, now?: number): Promise<{ returned: number; failed: number }>;
  /**
   * End now the leases of this stage held by processes of this host that no longer exist, so that the
   * next sweep takes their rows back without waiting for the expiry.
   */
  reapDeadLocalHolders(stage: string, now?: number): Promise<number>;
  counts(stage: string, now?: number): Promise<StateCounts>;
  /** Latest finished_at of the stage (or creation time of its emitted table's rows); null when none. */
  lastFinished(table: string): Promise<number | null>;
  /** Has a holder other than `holder` running rows of this stage? */
  othersRunning(stage: string, holder: string): Promise<boolean>;
  /** Pending or running rows of a stage another process runs (an upstream this engine does not run). */
  unfinished(stage: string): Promise<number>;
  /** Is `table` a stage table or an emitted table registered in this store? */
  isStageTable(table: string): Promise<boolean>;
  /** Swap a stage's priority: recorded, pending rows re-scored, an event. */
  setPriority(stage: string, priority: PrioritySpec, now?: number): Promise<{ from: PrioritySpec; rescored: number }>;
  /**
   * Widen every cutoff that has room by its step, record it, and admit what the wider filter lets in;
   * null when none can widen. With `expected` (the cutoffs the caller saw when it found the stage
   * drained), null also when the cutoffs in force differ: another process broadened first, so two
   * processes broadening at once broaden once.
   */
  broaden(stage: string, now?: number, expected?: Readonly<Record<string, number>>): Promise<BroadenResult | null>;
  /** Current cutoffs of a stage. */
  cutoffs(stage: string): Promise<Record<string, number>>;
  recordEvent(stage: string | null, kind: string, detail: unknown, now?: number): Promise<void>;
  /**
   * A learned priority's training rows: the stage's rows (their `features` columns, all non-null) whose
   * key has a done row in `target.table` with a non-null `target.column`, in key order.
   */
  trainingRows(stage: string, target: { table: string; column: string }, features: readonly string[]): Promise<TrainingRows>;
  /** Per feature column, its mean over the stage's rows that have it (null: none has). */
  featureMeans(stage: string, features: readonly string[]): Promise<(number | null)[]>;
  /** Per stage (all registered, or those named): counts, failed rows that died, workers, rate, ETA. */
  status(stages?: readonly string[], liveWorkers?: ReadonlyMap<string, number>, now?: number): Promise<StageStatus[]>;
  /**
   * Wait until one of `stages` may have new ready rows, at most `timeoutMs`: an idle worker's sleep.
   * PostgreSQL wakes on LISTEN/NOTIFY (admissions, releases, sweeps, requeues and submits notify at
   * commit), and at once when a notification for one of them came at or after `sinceMs` (epoch ms:
   * when the caller last looked for rows, so that one arriving between that look and this call is not
   * lost); SQLite looks at the queues every few milliseconds. Resolves early or on time, never
   * rejects for the lack of work; the caller claims afterwards either way.
   */
  waitForWork(stages: readonly string[], timeoutMs: number, sinceMs?: number): Promise<void>;

  // ---- operator verbs (the commands `status`, `errors`, `requeue`, `submit`, `scale`, `reset`,
  // `cleanup`, `export`, `checkpoint`): they need no stage module, only the registry ----

  /** Stage tables registered in the store, in registration order. */
  stageNames(): Promise<string[]>;
  /** Failed rows grouped by cause (key, structure id and paths moved out of the message); one stage or all. */
  errorGroups(stage?: string): Promise<ErrorGroup[]>;
  /**
   * Back to pending: `failed` rows (attempts and deaths restart, history kept), or `stale` running rows
   * whose holder is gone (lease expired, or a process of this host that no longer runs), a death each.
   */
  requeue(stage: string, which: 'failed' | 'stale', now?: number): Promise<number>;
  /** One key at the head of a stage's queue (a failed one queued again). */
  submit(stage: string, key: string, now?: number): Promise<void>;
  /**
   * A stage's worker count; running engines apply it within a tick. Spread over the stage's live
   * registered workers as their thread allotments (in order of start, the first ones one more when it
   * does not divide; a worker whose share is 0 claims nothing), listed in `workers`.
   */
  scale(stage: string, workers: number, now?: number): Promise<{ from: number; to: number; workers: { id: string; threads: number }[] }>;
  /** The registration of a stage (null when the store has no such stage). */
  registration(stage: string): Promise<StageRegistration | null>;

  // ---- stage workers and batch jobs ----

  /** Register a worker (replacing an earlier registration of the same id). */
  registerWorker(w: WorkerRegistration, now?: number): Promise<void>;
  /**
   * A worker's heartbeat with its rows finished so far. Returns its allotment of threads in force (set
   * by `scale`), or null when it is not registered (any more: a `reset`).
   */
  heartbeatWorker(id: string, rowsDone: number, now?: number): Promise<{ threads: number } | null>;
  deregisterWorker(id: string, now?: number): Promise<void>;
  /** Registered workers (of one stage, or all), oldest first, stale ones marked. */
  workers(stage?: string, now?: number): Promise<WorkerRecord[]>;
  /** Record a submitted batch job (and an event). */
  recordJob(job: Omit<BatchJobRecord, 'state' | 'checkedAt'>, now?: number): Promise<void>;
  /** Recorded batch jobs (of one stage, or all), oldest first. */
  jobs(stage?: string): Promise<BatchJobRecord[]>;
  /** The states the scheduler reported for recorded jobs. */
  setJobStates(scheduler: 'slurm' | 'pbs', states: readonly { jobId: string; state: string }[], now?: number): Promise<void>;

  /** Drop every stage table and emitted table and the run metadata; returns the tables dropped. */
  reset(): Promise<string[]>;
  /** Purge run metadata of finished rows older than `olderThanMs`; results stay. */
  cleanup(olderThanMs: number, now?: number): Promise<{ attempts: number; events: number; rows: number }>;
  /** Tables and views `export` takes. */
  tables(): Promise<string[]>;
  /** One table or view as CSV, JSON lines or an Arrow IPC file. */
  exportTable(table: string, format: 'csv' | 'arrow' | 'json'): Promise<Uint8Array>;
  /** A consistent snapshot in `dir`: the store itself and every stage, emitted table and view as CSV and Arrow. */
  checkpoint(dir: string): Promise<string[]>;

  close(): Promise<void>;
}

export type { ColumnType };

// ---- dashboard reads (`fracflow serve`): what the web pages show, each a read of one unit of work.
// A backend implements them beside QueueStore (src/store/sqlite/dashboard-*.ts for SQLite); the server
// (src/server) is handed a store that has both. ----

/** Columns of the pathways table the dashboard may sort and filter on (descriptor columns and the images stage's state). */
export const PATHWAY_SORT_COLUMNS = [
  'structure_id', 'formula', 'hop_index', 'length', 'multiplicity', 'nsites', 'nsites_777', 'oxidation_state',
  'dimensionality', 'dimensionality_cumlengths', 'dimensionality_cumbarriers', 'percolation_1d', 'percolation_2d', 'percolation_3d',
  'ewald_energy', 'ionic_radii_overlap_cations', 'ionic_radii_overlap_anions', 'state', 'images_state',
] as const;
export type PathwaySortColumn = (typeof PATHWAY_SORT_COLUMNS)[number];

/** A page of the pathways table: filters, sort and window, all applied by the store. */
export interface PathwayQuery {
  /** Substring of the structure id or formula (case-insensitive). */
  search?: string;
  /** State of the descriptors row. */
  state?: RowState;
  /** Lowest dimensionality of the hop's class. */
  minDimensionality?: number;
  /** Highest ewald_energy (rows with a null ewald_energy are left out when set). */
  maxEwaldEnergy?: number;
  /** Sort column (default `ewald_energy`), then the row id; nulls last either way. */
  sort?: PathwaySortColumn;
  descending?: boolean;
  /** First row of the page (0-based) and rows per page (1..500). */
  offset: number;
  limit: number;
}

/** One row of the pathways table: the descriptor columns, and how far its images got. */
export interface PathwaySummary {
  key: string;
  state: RowState;
  structure_id: string;
  formula: string;
  hop_index: number;
  length: number;
  multiplicity: number;
  nsites: number;
  nsites_777: number;
  oxidation_state: number | null;
  dimensionality: number | null;
  dimensionality_cumlengths: number | null;
  dimensionality_cumbarriers: number | null;
  percolation_1d: number | null;
  percolation_2d: number | null;
  percolation_3d: number | null;
  ewald_energy: number | null;
  ionic_radii_overlap_cations: number | null;
  ionic_radii_overlap_anions: number | null;
  /** State of the images row of this pathway, null when it was not admitted (gate or not reached). */
  images_state: RowState | null;
  last_error: string | null;
}

export interface PathwayPage {
  /** Rows matching the filters (all pages). */
  total: number;
  rows: PathwaySummary[];
}

/** One pathway in full: its summary, the stored cell and hop list it was computed from, and its output folder. */
export interface PathwayDetail extends PathwaySummary {
  ion: string;
  /** The screen's parameters the row was computed with. */
  max_length: number;
  hop_limit: number;
  idpp: string;
  space_group: string | null;
  start_frac: string;
  end_frac: string;
  end_image: string;
  /** The sanitised cell (row-major lattice rows, Å), species, fractional coordinates and oxidation states. */
  lattice: Float64Array;
  species: string[];
  frac: Float64Array;
  oxidationStates: Float64Array | null;
  hops_json: string;
  ewald_reason: string | null;
  ionic_radii_overlap_cations_reason: string | null;
  ionic_radii_overlap_anions_reason: string | null;
  /** Folder the images stage wrote for this pathway, null when none. */
  out_dir: string | null;
}

/** A row at the head of a stage's queue. */
export interface QueueEntry {
  key: string;
  state: 'pending' | 'running';
  priority: number;
  /** Rows submitted with `submit` run first. */
  boost: number;
  attempts: number;
  /** Pending rows waiting for their back-off: when they become ready. */
  availableAt: number;
  claimedBy: string | null;
}

/** One ended run of a row (`engine_attempts`) — and the row's state now, with its last error and output tail. */
export interface AttemptRecord {
  attempt: number;
  claimedBy: string | null;
  startedAt: number | null;
  finishedAt: number;
  outcome: 'done' | 'error' | 'expired' | 'released';
  error: string | null;
}

export interface RowHistory {
  stage: string;
  key: string;
  state: RowState;
  attempts: number;
  deaths: number;
  lastError: string | null;
  /** A calc row's output tail (the last bytes of the program's output), when the stage keeps one. */
  outputTail: string | null;
  history: AttemptRecord[];
}

/**
 * One hop class of a structure with its descriptors in one IDPP mode: a class whose descriptors were
 * computed in both modes is listed once per mode; one without descriptors once, with `idpp` null.
 */
export interface StructureHop {
  /** The descriptors row's key (the pathway's key where it has none). */
  key: string;
  /** The IDPP mode of the descriptors (`exact`, `fast`), or null. */
  idpp: string | null;
  hop_index: number;
  length: number;
  multiplicity: number;
  state: RowState | null;
  dimensionality: number | null;
  dimensionality_cumlengths: number | null;
  dimensionality_cumbarriers: number | null;
  ewald_energy: number | null;
}

export interface StructureHops {
  structure_id: string;
  formula: string;
  space_group: string | null;
  nsites: number;
  /** Lengths (Å) at which all hops ≤ maxLength first percolate in 1, 2 and 3 dimensions (null: never). */
  percolation: { d1: number | null; d2: number | null; d3: number | null };
  hops: StructureHop[];
}

/** Rows finished per stage in one time bucket. */
export interface ThroughputPoint {
  /** Bucket start (ms since the epoch). */
  at: number;
  stage: string;
  done: number;
  failed: number;
}

/** The dashboard's reads. */
export interface DashboardStore {
  /** A filtered, sorted page of the pathways table (descriptors rows with their images state). */
  pathwaysPage(query: PathwayQuery): Promise<PathwayPage>;
  /** One pathway by its descriptors key, or null. */
  pathwayDetail(key: string): Promise<PathwayDetail | null>;
  /** The first `n` rows a claim of this stage would take (pending and ready first, then the rest), then the running ones. */
  queueHead(stage: string, n: number, now?: number): Promise<QueueEntry[]>;
  /** A row's attempt history, or null when the stage has no such key. */
  rowHistory(stage: string, key: string): Promise<RowHistory | null>;
  /** A structure's hops with their dimensionalities and its percolation lengths, or null. */
  structureHops(structureId: string): Promise<StructureHops | null>;
  /** Rows finished per stage per `bucketMs` from `since` on (buckets with none left out), ascending. */
  throughputHistory(bucketMs: number, since: number): Promise<ThroughputPoint[]>;
  /** Entries of the event log (priority swaps, broadened cutoffs, halts, scale changes), newest first. */
  events(limit: number): Promise<EngineEventRecord[]>;
  /**
   * A number that changes whenever a row of any stage changes state (the dashboard polls it to push
   * updates); equal numbers mean nothing to send.
   */
  changeMark(): Promise<string>;
  /**
   * Create what keeps these reads fast on a large store (indexes on the pathways table's sort and
   * filter columns) where missing; a store opened read-only creates nothing. Returns what it created.
   */
  prepareDashboard(): Promise<string[]>;
}
