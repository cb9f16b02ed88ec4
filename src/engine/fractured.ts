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
import { performance } from 'node:perf_hooks';
import type { Claim, ClaimRequest } from '../store/interface.js';
import type { RunCore } from './core.js';
import { StagePool } from './pool.js';
import { endedWithThread, inQuarantine, isolateSuspects, messageOf, type Inflight, type Runtime } from './runtime.js';
import { wireFromColumns } from './wire.js';
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

let taskSeq = 0;

/** Run one batch of a stage on a pool. */
export function runBatch(rt: Runtime, pool: StagePool, claim: Claim, opts: { signal?: AbortSignal; began?: BigInt64Array }): Promise<TaskResult> {
  const input = wireFromColumns(rt.inDefs, [claim.keys, ...claim.inputs]);
  return pool.run({ module: rt.stage.module, work: rt.stage.workName, stage: rt.stage.name, output: rt.outDefs, params: { ...rt.stage.params } }, input, opts);
}

export interface FracturedOptions {
  tickMs: number;
  flushMs: number;
  /** Batches handed to each thread at once (stages with `queueInThread`); one more waits in the pool's queue. Default {@link TASKS_PER_THREAD}. */
  batchesPerThread?: number;
  signal?: AbortSignal;
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
  private tickTimer: NodeJS.Timeout | null = null;
  /** Set once the run is over: no tick is scheduled after it. */
  private over = false;

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
    const { report } = this.core;
    for (const rt of this.rts) rt.pool = new StagePool(rt.workers, [{ module: rt.stage.module, work: rt.stage.workName }], rt.stage.queueInThread ? this.perThread : 1);
    const t0 = performance.now();
    await Promise.all(this.rts.map((rt) => rt.pool!.ready()));
    report.startupMs = performance.now() - t0;
    const onAbort = () => this.stop();
    if (this.o.signal?.aborted) onAbort();
    this.o.signal?.addEventListener('abort', onAbort, { once: true });
    const tActive = performance.now();
    try {
      this.scheduleTick(0);
      await this.done;
      report.activeMs = performance.now() - tActive;
    } finally {
      this.over = true;
      if (this.tickTimer) clearTimeout(this.tickTimer);
      this.o.signal?.removeEventListener('abort', onAbort);
      this.stopping = true;
      for (const rt of this.rts) if (rt.inflight.size > 0) rt.pool?.terminate();
      while (this.rts.some((rt) => rt.inflight.size > 0)) await new Promise((r) => setTimeout(r, 5));
      try {
        if (this.core.pending.length) await this.core.serial(() => this.core.write(this.core.pending.splice(0)));
      } catch (e) {
        // The store refused the last writes (disk full, read-only): report that, after the pools close.
        this.fail(e);
      }
      await this.core.serial(async () => undefined);
      for (const rt of this.rts) {
        await rt.pool?.close();
        rt.pool = null;
      }
      report.stopped = this.o.signal?.aborted === true;
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
    for (const rt of this.rts) {
      if (rt.halted) continue;
      const ahead = rt.workers * (rt.stage.queueInThread ? this.perThread + 1 : 2);
      const batches = Math.max(0, ahead - rt.inflight.size);
      const suspect = rt.quarantined === 0;
      if (batches > 0 || suspect) out.push({ stage: rt.stage.name, batchSize: rt.stage.batchSize, batches, suspect });
    }
    return out;
  }

  private startClaims(claims: readonly Claim[]): void {
    for (const c of claims) {
      const rt = this.rts.find((r) => r.stage.name === c.stage)!;
      for (const part of isolateSuspects(c)) this.start(rt, part);
    }
  }

  /** Claim what the pools have room for (outside a flush: after a broadening, on a tick, after a lost batch). */
  private async pump(): Promise<void> {
    const r = await this.core.serial(() => this.core.write([], this.requests()));
    this.startClaims(r.claims);
  }

  /**
   * A batch of a stage that queues batches in its threads runs without an AbortSignal (see StagePool):
   * one past its lease is ended by restarting the stage's threads, and the other batches ended with
   * them were not at fault. A stage that runs one batch per thread passes a signal, and piscina ends
   * only that batch's thread.
   */
  private endThreads(rt: Runtime, culprit: number, reason: string): void {
    for (const [id, t] of rt.inflight) if (id !== culprit) t.collateral = true;
    rt.pool?.restart();
    this.core.emit({ type: 'pool-restart', stage: rt.stage.name, reason });
  }

  private start(rt: Runtime, claim: Claim): void {
    const id = ++taskSeq;
    const abort = new AbortController();
    const entry: Inflight = { claim, abort, collateral: false };
    rt.inflight.set(id, entry);
    const suspect = inQuarantine(claim);
    if (suspect) rt.quarantined++;
    const lease = rt.stage.leaseMs;
    const queued = rt.stage.queueInThread;
    // Epoch ms at which the thread began the batch's work function (0 until then).
    const began = new BigInt64Array(new SharedArrayBuffer(8));
    // The lease runs from the claim while the batch waits (behind another batch in its thread, or in
    // the pool's queue) and from its start once it has begun: checked every half lease, the store's
    // lease renewed each time, so a sweep never takes back a batch that is only waiting.
    let timer: NodeJS.Timeout;
    const check = () => {
      if (this.stopping) return;
      const t0 = Number(Atomics.load(began, 0));
      const now = Date.now();
      if (t0 === 0 || now < t0 + lease) {
        this.core.serial(() => this.core.store.renew(rt.stage.name, this.core.holder, claim.ids, t0 === 0 ? now + lease : t0 + lease)).catch((e) => {
          // The next check tries again; a lease that runs out meanwhile makes the rows a death, not a loss.
          this.core.logger.warn(`stage ${rt.stage.name}: could not renew the lease of ${claim.ids.length} rows (${messageOf(e)}); retrying at the next check`);
        });
        timer = setTimeout(check, t0 === 0 ? lease / 2 : Math.max(1, Math.min(lease / 2, t0 + lease - now)));
        return;
      }
      const reason = `batch ran past its lease (${lease} ms)`;
      abort.abort(new Error(reason));
      if (queued) this.endThreads(rt, id, reason);
    };
    timer = setTimeout(check, lease / 2);
    const settle = () => {
      clearTimeout(timer);
      rt.inflight.delete(id);
      if (suspect) rt.quarantined--;
    };
    runBatch(rt, rt.pool!, claim, queued ? { began } : { began, signal: abort.signal }).then(
      (result) => {
        settle();
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

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    const flushMs = this.o.flushMs;
    (flushMs > 0 ? (f: () => void) => setTimeout(f, flushMs) : setImmediate)(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  /** Write the finished batches and claim the pools' next ones in one unit of work. */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      const batch = this.core.pending.splice(0);
      const r = await this.core.serial(() => this.core.write(batch, this.requests()));
      this.startClaims(r.claims);
    } catch (e) {
      this.fail(e);
    } finally {
      this.flushing = false;
    }
    if (this.core.pending.length) this.scheduleFlush();
    await this.checkDone();
  }

  private scheduleTick(delay = this.o.tickMs): void {
    this.tickTimer = setTimeout(() => void this.tick(), delay);
  }

  /** The control tick, then new claims, progress and the end check; the next tick is set when this one ends. */
  private async tick(): Promise<void> {
    try {
      if (!this.stopping) {
        await this.core.serial(() => this.core.tick((rt, workers) => rt.pool?.resize(workers)));
        await this.core.serial(() => this.core.tryBroaden());
        await this.pump();
      }
      await this.core.showProgress();
      await this.checkDone();
    } catch (e) {
      this.fail(e);
    }
    if (this.failedWith === null && !this.over) this.scheduleTick();
  }

  private async checkDone(): Promise<void> {
    if (this.stopping) {
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
