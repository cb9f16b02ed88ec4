/**
 * What both schedulers share: the one outcome writer (finished batches, failures, deaths, releases and
 * halts go to the store through here), the one control tick (leases swept, worker counts and
 * priorities adopted, rows other processes finished admitted, drained stages broadened), and the
 * questions "is this stage finished for good" and "has it nothing more to do in this run".
 *
 * Store calls are made one at a time (`serial`): a scheduler's flush, claims, releases and tick never
 * interleave, so a stage's in-flight count and the store agree at every call.
 */
import { WORKER_HEARTBEAT_MS, type ClaimRequest, type QueueStore } from '../store/interface.js';
import type { EngineEvent, Logger } from './events.js';
import type { Progress } from './progress.js';
import { haltMessage, messageOf, outcomeOf, type Runtime } from './runtime.js';
import type { PrioritySpec } from '../stage-kit/stage.js';
import type { TaskHalt, TaskResult } from './worker.js';
import type { Claim } from '../store/interface.js';
import type { Clock } from './clock.js';
import type { BatchRunner } from './runner.js';
import type { LearnedPriority } from './learned-priority.js';

/**
 * How far back (ms) the per-tick look for upstream rows finished by other processes reaches past the
 * previous look: a row's finished_at is stamped inside its writer's transaction, just before the
 * commit, so a row committed just after a look can carry an earlier time.
 */
const OTHERS_FEED_MARGIN_MS = 5_000;

/** A finished batch waiting to be written. */
export interface Done {
  rt: Runtime;
  claim: Claim;
  result: TaskResult;
}

/** The report of a run (see Engine.run). */
export interface RunReport {
  mode: 'fractured' | 'fixed';
  wallMs: number;
  /** Part of wallMs spent starting the pools (threads up, stage modules loaded; fractured: the source stages' pools, the others start meanwhile). */
  startupMs: number;
  /** From the pools being ready to the last result written (no start-up, no shutdown). */
  activeMs: number;
  stages: Record<string, import('./runtime.js').StageReport>;
  /** Rows taken back by lease sweeps and lost batches during the run (a death each). */
  swept: number;
  /** Rows given back unrun (a stop, a halt, threads ended for another batch): no attempt counted. */
  released: number;
  /** Cutoff changes made by adaptive broadening. */
  broadened: { stage: string; name: string; from: number; to: number }[];
  /**
   * Stages halted by their environment (a full disk, a read-only or forbidden output path): the batch
   * that met it came back unrun, the stage claimed nothing more, and the other stages went on.
   */
  halted: StageHalt[];
  /** Ended by the caller's signal: claiming stopped and the rows in flight were released. */
  stopped: boolean;
  /**
   * Why the run ended: every stage `exhausted` (or halted), `stopped` by the caller, or a worker's
   * limit: `max-rows` (it finished its share) or `idle` (nothing to claim for its idle time).
   */
  ended?: 'exhausted' | 'stopped' | 'max-rows' | 'idle';
}

/** A stage halted by its environment (see {@link RunReport.halted}). */
export interface StageHalt extends TaskHalt {
  stage: string;
}

export interface CoreOptions {
  holder: string;
  /** The run's time: every store call is stamped with its `now()`. */
  clock: Clock;
  /** Where batches run. */
  runner: BatchRunner;
  /** Learned priorities refitted on the control tick. */
  learned?: readonly LearnedPriority[];
  logger: Logger;
  events?: (e: EngineEvent) => void;
  /**
   * This process is a registered worker of one stage (`fracflow worker`): each tick beats (at most
   * every {@link WORKER_HEARTBEAT_MS}) and takes its thread allotment from the beat instead of the
   * stage's worker count.
   */
  worker?: { stage: string };
}

export class RunCore {
  readonly store: QueueStore;
  readonly holder: string;
  readonly rts: readonly Runtime[];
  readonly report: RunReport;
  readonly progress: Progress;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly runner: BatchRunner;
  private readonly learned: readonly LearnedPriority[];
  /** Finished batches not written yet (a second Ctrl-C writes them before it exits). */
  readonly pending: Done[] = [];
  /**
   * Fractured mode, stages with a `batchGroup`: the rows of a full claim's last group, claimed and held
   * back to run with the stage's next claim (a second Ctrl-C gives them back with those in flight).
   */
  readonly held = new Map<Runtime, Claim>();
  private readonly onEvent?: (e: EngineEvent) => void;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly priorities = new Map<string, string>();
  private readonly worker: { stage: string } | null;
  private beatAt = 0;

  constructor(store: QueueStore, rts: readonly Runtime[], report: RunReport, progress: Progress, o: CoreOptions) {
    this.store = store;
    this.rts = rts;
    this.report = report;
    this.progress = progress;
    this.holder = o.holder;
    this.logger = o.logger;
    this.clock = o.clock;
    this.runner = o.runner;
    this.learned = o.learned ?? [];
    this.onEvent = o.events;
    this.worker = o.worker ?? null;
  }

  emit(e: EngineEvent): void {
    this.onEvent?.(e);
  }

  /** Run `f` after every store call queued before it (one store call at a time). */
  serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.queue.then(f, f);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Write finished batches (each row done or failed under this holder's lease, finished rows admitted
   * downstream in the same unit of work) and claim the requested batches. Returns the keys admitted
   * downstream and the claims.
   */
  async write(done: readonly Done[], requests: readonly ClaimRequest[] = []): Promise<{ admitted: { stage: string; keys: string[] }[]; claims: Claim[] }> {
    const outcomes = done.map((d) => outcomeOf(d.rt, d.claim, d.result));
    const r = await this.store.exchange(this.holder, outcomes, requests, this.clock.now());
    done.forEach((d, i) => {
      d.rt.report.workMs += d.result.workMs;
      d.rt.report.taskMs += d.result.taskMs;
      d.rt.report.tasks++;
      d.rt.report.rowsDone += r.written[i]!.length;
      d.rt.report.rowsFailedAttempts += outcomes[i]!.failed.length;
      this.emit({ type: 'complete', stage: d.rt.stage.name, done: r.written[i]!.length, failed: outcomes[i]!.failed.length });
    });
    const byStage = new Map<string, { rows: number; batches: number }>();
    for (const c of r.claims) {
      const s = byStage.get(c.stage) ?? { rows: 0, batches: 0 };
      s.rows += c.ids.length;
      s.batches++;
      byStage.set(c.stage, s);
    }
    for (const [stage, s] of byStage) this.emit({ type: 'claim', stage, ...s });
    return { admitted: r.admitted, claims: r.claims };
  }

  /** Give a claim's rows back unrun (no attempt counted). */
  async release(rt: Runtime, claim: Claim, why: 'stop' | 'halt' | 'collateral'): Promise<void> {
    const n = await this.store.release(rt.stage.name, this.holder, claim.ids, this.clock.now());
    this.report.released += n;
    if (n) this.emit({ type: 'release', stage: rt.stage.name, rows: n, why });
  }

  /**
   * A batch stopped by its environment: its rows go back unrun, and the stage claims nothing more in
   * this run (the first halt is recorded as an event and reported; the user frees the space or fixes
   * the permission and runs again).
   */
  async halt(rt: Runtime, claim: Claim, h: TaskHalt): Promise<void> {
    await this.release(rt, claim, 'halt');
    if (rt.halted) return;
    rt.halted = h;
    this.report.halted.push({ stage: rt.stage.name, ...h });
    await this.store.recordEvent(rt.stage.name, 'halt', h, this.clock.now());
    this.emit({ type: 'halt', stage: rt.stage.name, halt: h });
    this.progress.note(`${rt.stage.name}: halted: ${haltMessage(h)}`);
  }

  /** A batch that did not come back (its thread died, it ran past its lease): a death for each of its rows. */
  async lost(rt: Runtime, claim: Claim, cause: unknown): Promise<void> {
    const reason = `batch lost (${messageOf(cause)}); lease ended`;
    const s = await this.store.sweep(rt.stage.name, { holder: this.holder, ids: claim.ids, reason }, this.clock.now());
    this.report.swept += s.returned + s.failed;
    this.emit({ type: 'death', stage: rt.stage.name, rows: claim.ids.length, reason });
  }

  /** Every row of a claim failed with one error (the attempt counts): an error the thread threw outside the work function. */
  async failAll(rt: Runtime, claim: Claim, cause: unknown): Promise<void> {
    const error = messageOf(cause);
    await this.store.fail(rt.stage.name, this.holder, claim.ids.map((id) => ({ id, error })), this.clock.now());
    rt.report.rowsFailedAttempts += claim.ids.length;
    this.emit({ type: 'fail', stage: rt.stage.name, rows: claim.ids.length, error });
  }

  // ---- the control tick ----

  /**
   * One control tick: leases of dead local holders ended and expired leases swept, worker counts and
   * priorities changed in the store adopted (`resize` applies a worker count), rows that other
   * processes finished upstream admitted. Broadening is asked separately ({@link tryBroaden}).
   */
  async tick(resize: (rt: Runtime, workers: number) => void): Promise<void> {
    await this.refitLearned();
    await this.applyControl(resize);
    await this.sweepAll();
    for (const rt of this.rts) await this.feedFromOthers(rt, false);
  }

  /** Learned priorities with enough new finished target rows: refitted and swapped in (adopted below, like any swap). */
  private async refitLearned(): Promise<void> {
    for (const l of this.learned) {
      const f = await l.refitIfDue(this.clock.now());
      if (f) this.emit({ type: 'priority-fit', stage: f.stage, rows: f.rows, r2: f.r2, rmse: f.rmse, expression: f.expression });
    }
  }

  /** Worker counts and priorities recorded in the store (by `scale`, `priority` or another process). */
  private async applyControl(resize: (rt: Runtime, workers: number) => void): Promise<void> {
    const allotment = await this.beat();
    for (const c of await this.store.control(this.rts.map((rt) => rt.stage.name))) {
      const rt = this.rts.find((r) => r.stage.name === c.stage);
      if (!rt) continue;
      const workers = this.worker?.stage === c.stage ? allotment ?? rt.workers : c.workers;
      if (workers !== rt.workers) {
        this.emit({ type: 'scale', stage: c.stage, from: rt.workers, to: workers });
        rt.workers = workers;
        resize(rt, workers);
      }
      const p = JSON.stringify(c.priority);
      const before = this.priorities.get(c.stage);
      if (before !== undefined && before !== p) this.emit({ type: 'priority', stage: c.stage, to: c.priority as PrioritySpec });
      this.priorities.set(c.stage, p);
    }
  }

  /** Rows this process finished (done, or an attempt failed) in this run. */
  rowsFinished(): number {
    return this.rts.reduce((n, rt) => n + rt.report.rowsDone + rt.report.rowsFailedAttempts, 0);
  }

  /**
   * A registered worker's heartbeat (at most every WORKER_HEARTBEAT_MS): its rows finished, and its
   * thread allotment back (null between beats, or when it is not a worker or no longer registered).
   */
  async beat(force = false): Promise<number | null> {
    if (!this.worker) return null;
    const now = Date.now();
    if (!force && now - this.beatAt < WORKER_HEARTBEAT_MS) return null;
    this.beatAt = now;
    const r = await this.store.heartbeatWorker(this.holder, this.rowsFinished(), now);
    if (r === null) this.logger.warn(`worker ${this.holder} is not registered in ${this.store.location} any more (a reset?); it keeps its ${this.rts[0]?.workers ?? 0} threads`);
    return r?.threads ?? null;
  }

  /**
   * Leases held by a process of this host that no longer exists (killed, crashed) end now instead of
   * at their expiry, then every expired lease is swept: a restart after `kill -9` does not wait out
   * the lease. A reused pid looks alive and simply waits for the normal expiry.
   */
  async sweepAll(): Promise<void> {
    for (const rt of this.rts) {
      await this.store.reapDeadLocalHolders(rt.stage.name, this.clock.now());
      const s = await this.store.sweep(rt.stage.name, {}, this.clock.now());
      this.report.swept += s.returned + s.failed;
      if (s.returned + s.failed > 0) this.emit({ type: 'lease-expired', stage: rt.stage.name, ...s });
    }
  }

  /**
   * Admit upstream rows of a stage-table upstream that other processes finished (this engine admits
   * its own as it writes them). While another holder has upstream rows running, each tick looks at the
   * rows finished since its previous look, less a margin, and takes the write lock only when there is
   * something to admit. `full` (a stage about to count as finished) looks at every done row, once per
   * change of the upstream's latest finished_at. A plain upstream table (e.g. `structures`) is
   * admitted at the start of a run and when drained.
   */
  async feedFromOthers(rt: Runtime, full: boolean): Promise<number> {
    const from = rt.stage.input.from;
    if (from === null || !(await this.store.isStageTable(from))) return 0;
    const now = this.clock.now();
    let since: number | undefined;
    if (full) {
      const mark = await this.store.lastFinished(from);
      if (mark === rt.fullFeedMark) return 0;
      rt.fullFeedMark = mark;
    } else {
      // Only while another holder works on the upstream: with none, the window stays open from the
      // previous look, and the full feed covers a holder that came and went.
      if (!(await this.store.othersRunning(from, this.holder))) return 0;
      since = (rt.othersCheckedAt || now) - OTHERS_FEED_MARGIN_MS;
      rt.othersCheckedAt = now;
    }
    if (!(await this.store.canAdmit(rt.stage.name, { since }))) return 0;
    return (await this.store.admit(rt.stage.name, { since }, now)).length;
  }

  /** Is this stage finished for good: nothing pending/running, upstream exhausted, no cutoff left to widen? */
  async exhausted(rt: Runtime): Promise<boolean> {
    if (rt.halted || rt.inflight.size > 0) return false;
    const c = await this.store.counts(rt.stage.name, this.clock.now());
    if (c.pending > 0 || c.running > 0) return false;
    if (!(await this.upstreamExhausted(rt))) return false;
    // Rows other processes finished upstream since the last look: admit them before counting this
    // stage finished.
    if ((await this.feedFromOthers(rt, true)) > 0) return false;
    return !(await this.canBroaden(rt));
  }

  private async upstreamExhausted(rt: Runtime): Promise<boolean> {
    if (rt.upstream) return this.exhausted(rt.upstream);
    const from = rt.stage.input.from;
    if (from && (await this.store.isStageTable(from))) return (await this.store.unfinished(from)) === 0;
    return true;
  }

  /**
   * Has this stage nothing more to do in this run: exhausted, or halted (its rows wait for the next
   * run), or drained below a halted stage (nothing more can arrive; no broadening)?
   */
  async settled(rt: Runtime): Promise<boolean> {
    if (rt.inflight.size > 0) return false;
    if (rt.halted) return true;
    let haltedAbove = false;
    for (let u = rt.upstream; u; u = u.upstream) if (u.halted) haltedAbove = true;
    if (!haltedAbove) return this.exhausted(rt);
    const c = await this.store.counts(rt.stage.name, this.clock.now());
    return c.pending === 0 && c.running === 0;
  }

  async allSettled(): Promise<boolean> {
    for (const rt of this.rts) if (!(await this.settled(rt))) return false;
    return true;
  }

  private async canBroaden(rt: Runtime): Promise<boolean> {
    const spec = rt.stage.filter?.cutoffs ?? {};
    if (!Object.values(spec).some((c) => c.step > 0)) return false;
    const cur = await this.store.cutoffs(rt.stage.name);
    return Object.entries(spec).some(([n, c]) => c.step > 0 && (cur[n] ?? c.initial) < c.max);
  }

  /** Broaden every drained stage whose upstream is exhausted; true when rows were admitted. */
  async tryBroaden(): Promise<boolean> {
    let admitted = false;
    for (const rt of this.rts) {
      for (;;) {
        // Cheapest checks first: counts() scans the table, and runs on every tick.
        if (rt.halted || rt.inflight.size > 0 || !(await this.canBroaden(rt))) break;
        // The cutoffs in force before the stage is seen drained: another process that broadens it
        // after this read makes the broaden below a no-op (the stage is broadened once), and one that
        // broadened before it left rows that the counts see.
        const seen = await this.store.cutoffs(rt.stage.name);
        const c = await this.store.counts(rt.stage.name, this.clock.now());
        if (c.pending > 0 || c.running > 0 || !(await this.upstreamExhausted(rt))) break;
        const r = await this.store.broaden(rt.stage.name, this.clock.now(), seen);
        if (!r) break;
        for (const ch of r.changes) {
          this.report.broadened.push({ stage: rt.stage.name, ...ch });
          this.emit({ type: 'broaden', stage: rt.stage.name, cutoff: ch.name, from: ch.from, to: ch.to, admitted: r.admitted.length });
        }
        if (r.admitted.length > 0) {
          admitted = true;
          break;
        }
      }
    }
    return admitted;
  }

  /** Progress lines or bars, when they would print (building the status costs a scan of every stage). */
  async showProgress(): Promise<void> {
    if (this.progress.wants()) this.progress.update(await this.store.status(this.rts.map((r) => r.stage.name), new Map(this.rts.map((r) => [r.stage.name, r.workers])), this.clock.now()));
  }
}
