/**
 * The fractured scheduler: every stage has its own pool and its own queue, and keeps four batches per
 * worker in flight, three of them handed to the thread (StagePool `tasksPerThread` 3): when one ends
 * the thread starts the next at once, without waiting for the main thread's write and claim. Stages
 * whose work waits on something else (`queueInThread: false`, e.g. the calc stages) keep two batches
 * per worker, one per thread, each with its own AbortSignal.
 *
 * A finished batch is written through the store's `exchange` — its rows done or failed, the finished
 * rows admitted downstream, the pools' next batches claimed — in one unit of work, so a finished
 * upstream row is claimable at once. Batches that finish within `flushMs` of each other share it.
 * Claims are started only once their unit of work has committed: a task never runs on rows whose
 * claim could still roll back.
 *
 * A row that died once runs alone in its batch; one in quarantine is claimed alone, one at a time.
 */
import type { Claim, ClaimRequest } from '../store/interface.js';
import type { RunCore } from './core.js';
import { sleep, systemClock, type ClockTimer } from './clock.js';
import type { BatchPool } from './runner.js';
import { endedWithThread, inQuarantine, isolateSuspects, messageOf, subClaim, type Inflight, type Runtime } from './runtime.js';
import type { TaskResult } from './worker.js';

/**
 * Batches handed to each thread at once in the fractured mode (StagePool tasksPerThread), and batches
 * in flight per worker: three in the thread and one in the pool's queue. piscina hands a thread its
 * next task from the main thread's message handler, so while the main thread is in a long flush (a
 * commit with a WAL checkpoint, or a slice lost to the two workers on 2 cores: 6 ms at the 90th
 * percentile, 12 ms at the 99th, at 64 rows per batch) only the batches already inside the thread
 * keep it busy. Measured with 2 workers, 2,000 batches of 5 ms, 64 rows: 10–12 % overhead with two
 * per thread (the thread ran dry in ~9 % of its batches, ~4 ms each time), 7.0–9.5 % with three.
 */
export const TASKS_PER_THREAD = 3;
export const BATCHES_AHEAD_PER_WORKER = TASKS_PER_THREAD + 1;

/** Whether the fractured mode's CPU-bound stages share threads (EngineOptions.threads). */
export type ThreadSharing = 'shared' | 'per-stage';

/** How the fractured scheduler sizes claims (EngineOptions.batchSizing). */
export type BatchSizing = 'ramp' | 'full' | { targetMs: number };

/**
 * How long the store's lease of a running batch outlasts the holder's own deadline for it (ms): half
 * the lease, at most 30 s (see `start`). A holder that died loses its rows after the lease and this.
 */
export function leaseGraceMs(leaseMs: number): number {
  return Math.min(Math.round(leaseMs / 2), 30_000);
}

let taskSeq = 0;

/** Run one batch of a stage on a pool. */
export function runBatch(rt: Runtime, pool: BatchPool, claim: Claim, opts: { signal?: AbortSignal; began?: BigInt64Array }): Promise<TaskResult> {
  return pool.run({ stage: rt.stage, claim, inDefs: rt.inDefs, outDefs: rt.outDefs, depth: rt.depth }, opts);
}

export interface FracturedOptions {
  tickMs: number;
  flushMs: number;
  /** Batches handed to each thread at once (stages with `queueInThread`); one more waits in the pool's queue. Default {@link TASKS_PER_THREAD}. */
  batchesPerThread?: number;
  /** How claims are sized (see {@link FracturedScheduler.sized}). */
  batchSizing: BatchSizing;
  /** Threads shared by the CPU-bound stages (default, where the runner offers it) or a pool per stage (EngineOptions.threads). */
  threads?: ThreadSharing;
  signal?: AbortSignal;
  /** End once this many rows are finished (claims are cut to fit): a worker's share. */
  maxRows?: number;
  /** End after this long (ms) with nothing in flight and nothing claimed. */
  idleExitMs?: number;
}

export class FracturedScheduler {
  private readonly core: RunCore;
  private readonly o: FracturedOptions;
  private stopping = false;
  private failedWith: unknown = null;
  private finish!: () => void;
  private readonly done = new Promise<void>((res) => (this.finish = res));
  private flushScheduled = false;
  private flushing = false;
  private tickTimer: ClockTimer | null = null;
  /** Set once the run is over: no tick is scheduled after it. */
  private over = false;
  /** When this run last had work in flight or claimed some (epoch ms). */
  private busyAt = Date.now();
  /** Set when a worker's limit ended the run. */
  private limitEnded: 'max-rows' | 'idle' | null = null;
  /** Rows of the finished batches a flush is writing. */
  private writingRows = 0;
  /** When the last claim was sent (epoch ms): a NOTIFY after it is new work for an idle wait. */
  private lookedAt = 0;
  /** Did the last claim take rows? */
  private claimedLast = false;
  /** Was the tick running now brought forward by the store's wake-up (see scheduleTick)? */
  private wokeLast = false;
  /** Stages whose batches run on the shared threads (a restart of them ends the batches of them all). */
  private readonly sharing = new Set<Runtime>();
  /** Per stage, the size of its next batches and the work time per row seen so far (see {@link sized}). */
  private readonly sizing = new Map<Runtime, { rows: number; msPerRow: number | null }>();
  /** Rows held back per stage with a `batchGroup` (see {@link regroup}); kept on the core, so a second Ctrl-C gives them back too. */
  private get held(): Map<Runtime, Claim> {
    return this.core.held;
  }

  constructor(core: RunCore, o: FracturedOptions) {
    this.core = core;
    this.o = o;
  }

  private get perThread(): number {
    return this.o.batchesPerThread ?? TASKS_PER_THREAD;
  }

  private get rts(): readonly Runtime[] {
    return this.core.rts;
  }

  async run(): Promise<void> {
    const { report, clock, runner } = this.core;
    // A worker whose allotment is 0 threads keeps one idle thread and claims nothing.
    //
    // Shared threads (the default where the runner offers them): the CPU-bound stages run on one set
    // of threads, as many as the cores (or fewer, when the allotments add up to fewer), each loading
    // every stage, and each stage is held to its allotment by how many of its batches are sent to
    // them. On 2 cores the bundled screen then starts 2 threads instead of 6, and its first
    // descriptors row follows its first structure as closely as in the fixed mode.
    //
    // Per-stage threads: the pools of the stages fed from outside the run (the source stages) start
    // first, and the run begins once they are ready; the downstream pools start then and load their
    // modules while the first batches run (their batches wait in the pool until a thread is up).
    // Starting every pool at once had all the threads load together: on 2 cores the bundled screen's
    // six threads took 1.6 s before the first claim, against 0.34 s for the fixed mode's two.
    const t0 = clock.elapsed();
    const share = this.o.threads !== 'per-stage' && runner.shared ? this.rts.filter((rt) => rt.stage.queueInThread) : [];
    if (share.length > 0) {
      const sp = runner.shared!(share.map((rt) => ({ stage: rt.stage, workers: Math.max(1, rt.workers) })), this.perThread);
      for (const rt of share) {
        rt.pool = sp.lane(rt.stage, rt.depth);
        this.sharing.add(rt);
      }
      await sp.ready();
    }
    const makePool = (rt: Runtime) => (rt.pool = runner.pool(Math.max(1, rt.workers), [rt.stage], rt.stage.queueInThread ? this.perThread : 1));
    const sources = this.rts.filter((rt) => rt.upstream === null && !rt.pool);
    await Promise.all(sources.map((rt) => makePool(rt).ready()));
    for (const rt of this.rts) if (!rt.pool) makePool(rt);
    report.startupMs = clock.elapsed() - t0;
    const onAbort = () => this.stop();
    if (this.o.signal?.aborted) onAbort();
    this.o.signal?.addEventListener('abort', onAbort, { once: true });
    // Listening starts before the first claim (PostgreSQL): rows that arrive after it wake an idle wait.
    if (clock === systemClock) await this.core.store.waitForWork(this.rts.map((rt) => rt.stage.name), 0).catch((e: unknown) => this.core.logger.warn(`waiting for work: ${messageOf(e)}`));
    const tActive = clock.elapsed();
    try {
      this.scheduleTick(0);
      await this.done;
      report.activeMs = clock.elapsed() - tActive;
    } finally {
      this.over = true;
      clock.clearTimer(this.tickTimer);
      this.o.signal?.removeEventListener('abort', onAbort);
      this.stopping = true;
      for (const rt of this.rts) if (rt.inflight.size > 0) rt.pool?.terminate();
      while (this.rts.some((rt) => rt.inflight.size > 0)) await sleep(clock, 5);
      try {
        if (this.core.pending.length) await this.core.serial(() => this.core.write(this.core.pending.splice(0)));
        await this.releaseHeld();
      } catch (e) {
        // The store refused the last writes (disk full, read-only): report that, after the pools close.
        this.fail(e);
      }
      await this.core.serial(async () => undefined);
      for (const rt of this.rts) {
        await rt.pool?.close();
        rt.pool = null;
      }
      this.sharing.clear();
      report.stopped = this.o.signal?.aborted === true;
      report.ended = report.stopped ? 'stopped' : this.limitEnded ?? 'exhausted';
    }
    if (this.failedWith !== null) throw this.failedWith;
  }

  /** The caller's signal: claiming ends, batches in flight end with their threads and go back unrun. */
  private stop(): void {
    this.stopping = true;
    for (const rt of this.rts) {
      for (const t of rt.inflight.values()) t.collateral = true;
      if (rt.inflight.size > 0) rt.pool?.terminate();
    }
    void this.checkDone();
  }

  /** A store error: the run ends with it (the first one; later ones are logged). */
  private fail(e: unknown): void {
    if (this.failedWith === null) this.failedWith = e;
    else if (e !== this.failedWith) this.core.logger.warn(`after the run's error, also: ${messageOf(e)}`);
    this.stopping = true;
    this.finish();
  }

  /** What to claim now: each stage's batches ahead less those in flight, and a suspect row when none is out. */
  private requests(): ClaimRequest[] {
    if (this.stopping) return [];
    const out: ClaimRequest[] = [];
    let room = this.room();
    for (const rt of this.rts) {
      if (rt.halted || rt.workers === 0 || room <= 0) continue;
      const ahead = rt.workers * (rt.stage.queueInThread ? this.perThread + 1 : 2);
      let batches = Math.max(0, ahead - rt.inflight.size);
      const batchSize = Math.min(this.o.batchSizing === 'full' || rt.stage.batchGroup !== null ? rt.stage.batchSize : this.sizing.get(rt)?.rows ?? 1, room);
      batches = Math.min(batches, Math.ceil(room / batchSize));
      const suspect = rt.quarantined === 0;
      room -= batches * batchSize + (suspect ? 1 : 0);
      if (batches > 0 || suspect) out.push({ stage: rt.stage.name, batchSize, batches, suspect });
    }
    return out;
  }

  private inHand(): number {
    let n = 0;
    for (const rt of this.rts) for (const t of rt.inflight.values()) n += t.claim.ids.length;
    for (const d of this.core.pending) n += d.claim.ids.length;
    for (const c of this.held.values()) n += c.ids.length;
    return n + this.writingRows;
  }

  /** Rows this run may still claim (maxRows less those finished and those in hand). */
  private room(): number {
    if (this.o.maxRows === undefined) return Infinity;
    return this.o.maxRows - this.core.rowsFinished() - this.inHand();
  }

  private startClaims(claims: readonly Claim[], requests: readonly ClaimRequest[]): void {
    if (claims.length) this.busyAt = Date.now();
    const claimed = new Set<string>();
    for (const c of claims) {
      const rt = this.rts.find((r) => r.stage.name === c.stage)!;
      claimed.add(rt.stage.name);
      const asked = requests.find((q) => q.stage === c.stage)?.batchSize ?? rt.stage.batchSize;
      const run = rt.stage.batchGroup !== null ? this.regroup(rt, c, asked) : c;
      if (run) for (const part of isolateSuspects(run)) this.start(rt, part);
    }
    // Rows held back for a stage that asked for more and got none: nothing of their group is left
    // ready in the queue, so they run now. A stage that asked for nothing (its threads are full) keeps
    // them for its next claim.
    // (A stopping run gives them back instead: releaseHeld.)
    if (this.stopping) return;
    for (const [rt, h] of this.held) {
      const asked = requests.some((q) => q.stage === rt.stage.name && q.batches > 0);
      if (claimed.has(rt.stage.name) || (!asked && rt.inflight.size > 0 && !rt.halted)) continue;
      this.held.delete(rt);
      if (rt.halted) this.core.serial(() => this.core.release(rt, h, 'halt')).catch((e) => this.fail(e));
      else this.start(rt, h);
    }
  }

  /** Rows held back go back unrun (the run is stopping or ending). */
  private async releaseHeld(): Promise<void> {
    const held = [...this.held];
    this.held.clear();
    for (const [rt, h] of held) await this.core.serial(() => this.core.release(rt, h, 'stop'));
  }

  /**
   * A claim of a stage with a `batchGroup`: the rows held back from its previous claim first, then the
   * claim's own; when the claim is full (more of its last group may wait in the queue), the rows of
   * its last group are held back for the next claim — unless they are the whole batch. Returns what
   * to run now (null: all held). Rows that died before run as claimed (they are isolated anyway).
   * `asked`: the batch size the claim was made with.
   */
  private regroup(rt: Runtime, c: Claim, asked: number): Claim | null {
    const prev = this.held.get(rt);
    this.held.delete(rt);
    if (c.deaths.some((d) => d > 0)) {
      if (prev) this.start(rt, prev);
      return c;
    }
    const all: Claim = prev
      ? { stage: c.stage, ids: [...prev.ids, ...c.ids], keys: [...prev.keys, ...c.keys], attempts: [...prev.attempts, ...c.attempts], deaths: [...prev.deaths, ...c.deaths], inputs: c.inputs.map((col, k) => [...prev.inputs[k]!, ...col]) }
      : c;
    if (c.ids.length < asked || this.stopping) return all;
    const col = all.inputs[rt.inDefs.findIndex((d) => d.name === rt.stage.batchGroup) - 1]!;
    const n = all.ids.length;
    let cut = n - 1;
    while (cut > 0 && col[cut - 1] === col[n - 1]) cut--;
    if (cut === 0) return all;
    this.held.set(rt, subClaim(all, Array.from({ length: n - cut }, (_, i) => cut + i)));
    return subClaim(all, Array.from({ length: cut }, (_, i) => i));
  }

  /** Claim what the pools have room for (outside a flush: after a broadening, on a tick, after a lost batch). */
  private async pump(): Promise<void> {
    let requests: ClaimRequest[] = [];
    const r = await this.core.serial(() => {
      this.lookedAt = Date.now();
      return this.core.write([], (requests = this.requests()));
    });
    this.claimedLast = r.claims.length > 0;
    this.startClaims(r.claims, requests);
  }

  /**
   * A batch of a stage that queues batches in its threads runs without an AbortSignal (see StagePool):
   * one past its lease is ended by restarting the stage's threads, and the other batches ended with
   * them were not at fault. A stage that runs one batch per thread passes a signal, and piscina ends
   * only that batch's thread.
   */
  private endThreads(rt: Runtime, culprit: number, reason: string): void {
    // The batches that began are ended with the threads. One that has not begun either waits in a
    // thread or the pool's queue, and comes back unrun with the threads ended (its `began` still 0), or
    // waits for the shared threads in the main thread and runs on the fresh ones: marked, it would be
    // given back unrun were it to fail for a cause of its own later.
    const ended = this.sharing.has(rt) ? [...this.sharing] : [rt];
    for (const r of ended) for (const [id, t] of r.inflight) if (id !== culprit && t.began && Atomics.load(t.began, 0) !== 0n) t.collateral = true;
    rt.pool?.restart();
    this.core.emit({ type: 'pool-restart', stage: rt.stage.name, reason });
  }

  private start(rt: Runtime, claim: Claim): void {
    const id = ++taskSeq;
    const abort = new AbortController();
    // Epoch ms at which the thread began the batch's work function (0 until then).
    const began = new BigInt64Array(new SharedArrayBuffer(8));
    const entry: Inflight = { claim, abort, collateral: false, began };
    rt.inflight.set(id, entry);
    const suspect = inQuarantine(claim);
    if (suspect) rt.quarantined++;
    const lease = rt.stage.leaseMs;
    const queued = rt.stage.queueInThread;
    // The lease runs from the claim while the batch waits (behind another batch in its thread, or in
    // the pool's queue) and from its start once it has begun: checked every half lease, the store's
    // lease renewed each time, so a sweep never takes back a batch that is only waiting. The store's
    // lease reaches past this process's own deadline by a grace period: the holder ends a batch that
    // ran past its lease itself (a death with its cause), and a sweep — this process's own tick, or
    // another process — that saw the store's lease end at the same moment would take the rows back
    // while the batch is still in flight here, and they would be claimed again (by this very holder)
    // before the holder's own check ends the old batch and, with it, the new claim.
    const grace = leaseGraceMs(lease);
    const clock = this.core.clock;
    let timer: ClockTimer;
    const check = () => {
      if (this.stopping) return;
      const t0 = Number(Atomics.load(began, 0));
      const now = clock.now();
      if (t0 === 0 || now < t0 + lease) {
        this.core.serial(() => this.core.store.renew(rt.stage.name, this.core.holder, claim.ids, (t0 === 0 ? now + lease : t0 + lease) + grace)).catch((e) => {
          // The next check tries again; a lease that runs out meanwhile makes the rows a death, not a loss.
          this.core.logger.warn(`stage ${rt.stage.name}: could not renew the lease of ${claim.ids.length} rows (${messageOf(e)}); retrying at the next check`);
        });
        timer = clock.setTimer(check, t0 === 0 ? lease / 2 : Math.max(1, Math.min(lease / 2, t0 + lease - now)));
        return;
      }
      const reason = `batch ran past its lease (${lease} ms)`;
      abort.abort(new Error(reason));
      if (queued) this.endThreads(rt, id, reason);
    };
    timer = clock.setTimer(check, lease / 2);
    const settle = () => {
      clock.clearTimer(timer);
      rt.inflight.delete(id);
      if (suspect) rt.quarantined--;
    };
    runBatch(rt, rt.pool!, claim, queued ? { began } : { began, signal: abort.signal }).then(
      (result) => {
        settle();
        this.sized(rt, claim.ids.length, result.workMs);
        if (result.halt) {
          this.core.serial(() => this.core.halt(rt, claim, result.halt!)).then(() => this.checkDone(), (e) => this.fail(e));
          return;
        }
        this.core.pending.push({ rt, claim, result });
        this.scheduleFlush();
      },
      (cause: unknown) => {
        settle();
        // A thread that died or a batch past its lease is a death of the batch's rows; an error the
        // thread threw before the work began (a stage module that does not load) fails them. Back
        // unrun, the attempt not counted: a stop, threads ended for another batch, and a batch still
        // waiting in a thread that died.
        const end = (): Promise<void> => {
          if (this.stopping) return this.core.release(rt, claim, 'stop');
          if (abort.signal.aborted) return this.core.lost(rt, claim, abort.signal.reason);
          if (entry.collateral || (Atomics.load(began, 0) === 0n && endedWithThread(cause))) return this.core.release(rt, claim, 'collateral');
          if (endedWithThread(cause)) return this.core.lost(rt, claim, cause);
          return this.core.failAll(rt, claim, cause);
        };
        this.core.serial(end).then(() => (this.stopping ? this.checkDone() : this.pump()), (e) => this.fail(e));
      },
    );
  }

  /**
   * Batch sizes (`batchSizing`): a stage's first claims take one row and each finished batch doubles
   * the next size, up to the stage's batchSize; with a `targetMs` the size is also held to about that
   * much work at the rows' measured cost (a moving average). The first rows of a stage then finish in
   * a row's time rather than a whole batch's, so the stages below get work at once; with a target, a
   * batch of slow rows does not hold a CPU token (and a deeper stage's rows waiting for one) for
   * seconds. A stage with a `batchGroup` claims its batchSize (a smaller claim would cut its groups).
   */
  private sized(rt: Runtime, rows: number, workMs: number): void {
    const s = this.sizing.get(rt) ?? { rows: 1, msPerRow: null };
    if (rows > 0 && Number.isFinite(workMs) && workMs >= 0) {
      const per = workMs / rows;
      s.msPerRow = s.msPerRow === null ? per : 0.5 * s.msPerRow + 0.5 * per;
    }
    const sizing = this.o.batchSizing;
    const target = typeof sizing === 'object' ? sizing.targetMs : Infinity;
    const fit = s.msPerRow === null || s.msPerRow <= 0 ? Infinity : Math.floor(target / s.msPerRow);
    s.rows = Math.max(1, Math.min(rt.stage.batchSize, 2 * s.rows, fit));
    this.sizing.set(rt, s);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    this.core.clock.setTimer(() => {
      this.flushScheduled = false;
      void this.flush();
    }, this.o.flushMs);
  }

  /** Write the finished batches and claim the pools' next ones in one unit of work. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      const batch = this.core.pending.splice(0);
      // Rows being written are still in hand for maxRows until the report counts them.
      this.writingRows = batch.reduce((n, d) => n + d.claim.ids.length, 0);
      let requests: ClaimRequest[] = [];
      const r = await this.core.serial(() => {
        this.lookedAt = Date.now();
        return this.core.write(batch, (requests = this.requests()));
      }).finally(() => (this.writingRows = 0));
      this.claimedLast = r.claims.length > 0;
      this.startClaims(r.claims, requests);
    } catch (e) {
      this.fail(e);
    } finally {
      this.flushing = false;
    }
    if (this.core.pending.length) this.scheduleFlush();
    await this.checkDone();
  }

  /**
   * The next tick in `delay` ms — or sooner, when the engine is idle (nothing in flight or waiting to
   * be written) and the store says work arrived for one of its stages (PostgreSQL: a NOTIFY from
   * another process's commit; SQLite: a look at the queues), so idle workers wake on new rows instead
   * of polling fast.
   */
  private scheduleTick(delay = this.o.tickMs, noWait = false): void {
    let fired = false;
    const go = () => {
      if (fired || this.over) return;
      fired = true;
      this.core.clock.clearTimer(this.tickTimer);
      void this.tick();
    };
    this.tickTimer = this.core.clock.setTimer(go, delay);
    // Only on the machine's clock (a simulated run's time is not the store's), only when idle, and
    // not again right after a wake-up that found nothing to claim (rows ready that this run does not
    // take — a share used up, a row in quarantine behind another — would otherwise wake it at once,
    // again and again): the timer alone brings the next tick then.
    const idle = delay > 0 && this.core.clock === systemClock && !this.stopping && this.core.pending.length === 0 && this.rts.every((rt) => rt.inflight.size === 0);
    const stages = this.rts.filter((rt) => !rt.halted && rt.workers > 0).map((rt) => rt.stage.name);
    if (idle && stages.length > 0 && !noWait) {
      this.core.store.waitForWork(stages, delay, this.lookedAt).then(
        () => {
          if (!fired) this.wokeLast = true;
          go();
        },
        // The timer still fires: a failed wait only loses the early wake-up.
        (e: unknown) => this.core.logger.warn(`waiting for work: ${messageOf(e)}`),
      );
    }
  }

  /** The control tick, then new claims, progress and the end check; the next tick is set when this one ends. */
  private async tick(): Promise<void> {
    const woken = this.wokeLast;
    try {
      if (!this.stopping) {
        await this.core.serial(() => this.core.tick((rt, workers) => rt.pool?.resize(Math.max(1, workers))));
        await this.core.serial(() => this.core.tryBroaden());
        await this.pump();
      }
      await this.core.showProgress();
      if (this.rts.some((rt) => rt.inflight.size > 0) || this.core.pending.length > 0) this.busyAt = Date.now();
      else if (!this.stopping && this.o.idleExitMs !== undefined && Date.now() - this.busyAt >= this.o.idleExitMs) this.endBy('idle');
      await this.checkDone();
    } catch (e) {
      this.fail(e);
    }
    // A tick the store's wake-up brought that found nothing to claim: the next one comes by the timer alone.
    const noWait = woken && !this.claimedLast;
    this.wokeLast = false;
    if (this.failedWith === null && !this.over) this.scheduleTick(this.o.tickMs, noWait);
  }

  /** A worker's limit reached: nothing more is claimed; the run ends once nothing is in hand. */
  private endBy(why: 'max-rows' | 'idle'): void {
    this.limitEnded ??= why;
    this.stopping = true;
  }

  private async checkDone(): Promise<void> {
    if (!this.stopping && this.o.maxRows !== undefined && this.core.rowsFinished() >= this.o.maxRows) this.endBy('max-rows');
    if (this.stopping) {
      if (this.held.size) await this.releaseHeld().catch((e) => this.fail(e));
      if (this.rts.every((rt) => rt.inflight.size === 0) && this.core.pending.length === 0 && !this.flushing) this.finish();
      return;
    }
    if (this.rts.some((rt) => rt.inflight.size > 0) || this.core.pending.length > 0 || this.flushing || this.flushScheduled) return;
    try {
      const settled = await this.core.serial(() => this.core.allSettled());
      // Nothing started meanwhile (a claim made by a tick between the question and its answer).
      if (settled && this.rts.every((rt) => rt.inflight.size === 0) && this.core.pending.length === 0) this.finish();
    } catch (e) {
      this.fail(e);
    }
  }
}
