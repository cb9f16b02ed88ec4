/**
 * The PostgreSQL store: the queue verbs ({@link QueueStore}) on one PostgreSQL database, for workers on
 * many hosts. Each verb lives in a module of its own (ensure, admit, claim, complete, lease, control,
 * counts, status, ops), as in the SQLite store; this class keeps the stages it was given (their plans
 * and the priority in force) and runs each call as one transaction (src/store/postgres/connection.ts:
 * retried from the start after a dropped connection or a serialization failure).
 *
 * Idle workers wait on LISTEN/NOTIFY ({@link PgQueueStore.waitForWork}): every admission, release,
 * sweep, requeue and submit that makes rows pending notifies the stage's name at commit.
 */
import { StageError, type PrioritySpec, type Stage } from '../../stage-kit/stage.js';
import type {
  BatchJobRecord, BatchOutcome, BroadenResult, Claim, ClaimRequest, DashboardStore, EngineEventRecord, ErrorGroup, ExchangeResult, PathwayDetail, PathwayPage, PathwayQuery,
  QueueEntry, QueueStore, RowHistory, StageControl, StageRegistration, StageStatus, StateCounts, StructureHops, ThroughputPoint, TrainingRows, WorkerRecord, WorkerRegistration,
} from '../interface.js';
import type { PgDb } from './connection.js';
import { admit, canAdmit, cutoffs, enqueue, WORK_CHANNEL } from './admit.js';
import { claim, claimKeys, claimSuspect } from './claim.js';
import { fail, finish, insertEmitted } from './complete.js';
import { broaden, readControl, recordEvent, setPriority } from './control.js';
import { counts, lastFinished, othersRunning, unfinished } from './counts.js';
import { checkUpstream, emitterOf, ensureEmitted, ensureStage, isStageTable } from './ensure.js';
import { expire, expireDeadLocalLeases, release, renew, sweep } from './lease.js';
import { planOf, type StagePlan } from './plan.js';
import { stageNames, stageStatus } from './status.js';
import * as ops from './ops.js';
import * as workers from './workers.js';
import { featureMeans, trainingRows } from './training.js';
import { pathwaysPage } from './dashboard/pathways-page.js';
import { pathwayDetail } from './dashboard/pathway-detail.js';
import { queueHead } from './dashboard/queue-head.js';
import { rowHistory } from './dashboard/row-history.js';
import { structureHops } from './dashboard/structure-hops.js';
import { throughputHistory } from './dashboard/throughput.js';
import { recentEvents } from './dashboard/events.js';
import { changeMark } from './dashboard/change-mark.js';
import { prepareDashboard } from './dashboard/prepare.js';

export class PgQueueStore implements QueueStore, DashboardStore {
  readonly db: PgDb;
  readonly location: string;
  private readonly plans = new Map<string, StagePlan>();
  private readonly priorities = new Map<string, PrioritySpec>();
  private readonly downstream = new Map<string, StagePlan[]>();
  private readonly waiters = new Set<{ stages: ReadonlySet<string>; wake: () => void }>();
  private unlisten: (() => void) | null = null;

  constructor(db: PgDb) {
    this.db = db;
    this.location = db.display;
  }

  private plan(stage: string): StagePlan {
    const p = this.plans.get(stage);
    if (!p) throw new Error(`store: stage ${stage} was not given to ensure()`);
    return p;
  }

  private priority(stage: string): PrioritySpec {
    return this.priorities.get(stage) ?? this.plan(stage).stage.priority;
  }

  async ensure(stages: readonly Stage[], now = Date.now()): Promise<void> {
    const emitted = new Map<string, string>();
    for (const s of stages) {
      if (s.emits) {
        const other = emitted.get(s.emits.table);
        if (other !== undefined && other !== s.name) throw new StageError(`stage ${s.name}: emits into ${s.emits.table}, as stage ${other} does; give the fork its own emits.table`);
        emitted.set(s.emits.table, s.name);
      }
    }
    const plans = stages.map(planOf);
    for (const plan of plans) {
      const p = await this.db.transaction(async (tx) => {
        const pr = await ensureStage(tx, plan, now);
        await ensureEmitted(tx, plan.stage);
        return pr;
      });
      this.priorities.set(plan.table, p);
      this.plans.set(plan.table, plan);
    }
    await this.db.transaction(async (tx) => {
      for (const plan of plans) await checkUpstream(tx, plan);
    });
    this.downstream.clear();
    const fedBy = new Set<string>();
    for (const p of this.plans.values()) {
      fedBy.add(p.table);
      if (p.stage.emits) fedBy.add(p.stage.emits.table);
    }
    for (const p of this.plans.values()) {
      const from = p.stage.input.from;
      if (from !== null && fedBy.has(from)) {
        const list = this.downstream.get(from) ?? [];
        list.push(p);
        this.downstream.set(from, list);
      }
    }
  }

  async control(stages?: readonly string[]): Promise<StageControl[]> {
    const rows = await this.db.transaction((tx) => readControl(tx, stages));
    for (const r of rows) if (this.plans.has(r.stage)) this.priorities.set(r.stage, r.priority);
    return rows;
  }

  async enqueue(stage: string, rows: readonly Record<string, unknown>[], now = Date.now()): Promise<string[]> {
    const plan = this.plan(stage);
    return this.db.transaction((tx) => enqueue(tx, plan, this.priority(stage), rows, now));
  }

  async admit(stage: string, options: { since?: number } = {}, now = Date.now()): Promise<string[]> {
    const plan = this.plan(stage);
    return this.db.transaction((tx) => admit(tx, plan, this.priority(stage), now, undefined, options.since));
  }

  async canAdmit(stage: string, options: { since?: number } = {}): Promise<boolean> {
    const plan = this.plan(stage);
    return this.db.transaction((tx) => canAdmit(tx, plan, options.since));
  }

  async exchange(holder: string, outcomes: readonly BatchOutcome[], requests: readonly ClaimRequest[], now = Date.now()): Promise<ExchangeResult> {
    for (const o of outcomes) this.plan(o.stage);
    for (const r of requests) this.plan(r.stage);
    return this.db.transaction(async (tx) => {
      const written: number[][] = [];
      const admitted: { stage: string; keys: string[] }[] = [];
      for (const o of outcomes) {
        const plan = this.plan(o.stage);
        const ids = o.done.ids.length ? await finish(tx, plan, holder, o.done.ids, o.done.outputs, now) : [];
        if (o.failed.length) await fail(tx, plan, holder, o.failed, now);
        written.push(ids);
        if (ids.length) for (const down of this.downstream.get(o.stage) ?? []) admitted.push({ stage: down.table, keys: await admit(tx, down, this.priority(down.table), now, ids) });
        const e = plan.stage.emits;
        if (e && o.emitted && ids.length) {
          const keys = new Map(o.emitted.sourceIds.map((id, k) => [id, o.emitted!.sourceKeys[k]!]));
          const rows = await insertEmitted(tx, plan.stage, new Set(ids), o.emitted, keys, now);
          if (rows.length) for (const down of this.downstream.get(e.table) ?? []) admitted.push({ stage: down.table, keys: await admit(tx, down, this.priority(down.table), now, rows) });
        }
      }
      const claims: Claim[] = [];
      for (const r of requests) {
        const plan = this.plan(r.stage);
        if (r.suspect) {
          const q = await claimSuspect(tx, plan, holder, now);
          if (q.ids.length) claims.push(q);
        }
        // All batches in one statement (one round trip), cut into batches in queue order.
        if (r.batches > 0) {
          const c = await claim(tx, plan, holder, r.batchSize * r.batches, now);
          for (let k = 0; k < c.ids.length; k += r.batchSize) {
            const end = Math.min(c.ids.length, k + r.batchSize);
            claims.push({ stage: c.stage, ids: c.ids.slice(k, end), keys: c.keys.slice(k, end), attempts: c.attempts.slice(k, end), deaths: c.deaths.slice(k, end), inputs: c.inputs.map((col) => col.slice(k, end)) });
          }
        }
      }
      return { written, admitted, claims };
    });
  }

  async claimKeys(stage: string, holder: string, keys: readonly string[], now = Date.now()): Promise<Claim> {
    const plan = this.plan(stage);
    return this.db.transaction((tx) => claimKeys(tx, plan, holder, keys, now));
  }

  async renew(stage: string, holder: string, ids: readonly number[], until: number): Promise<number> {
    return this.db.transaction((tx) => renew(tx, stage, holder, ids, until));
  }

  async release(stage: string, holder: string, ids: readonly number[], now = Date.now()): Promise<number> {
    return this.db.transaction((tx) => release(tx, stage, holder, ids, now));
  }

  async fail(stage: string, holder: string, items: readonly { id: number; error: string }[], now = Date.now()): Promise<{ retried: number; failed: number }> {
    const plan = this.plan(stage);
    return this.db.transaction((tx) => fail(tx, plan, holder, items, now));
  }

  async sweep(stage: string, options: { holder?: string; ids?: readonly number[]; reason?: string } = {}, now = Date.now()): Promise<{ returned: number; failed: number }> {
    const plan = this.plan(stage);
    return this.db.transaction(async (tx) => {
      if (options.ids && options.holder !== undefined) await expire(tx, stage, options.holder, options.ids, now);
      return sweep(tx, stage, plan.stage.retry.maxDeaths, now, options.reason ?? 'lease expired', options.ids);
    });
  }

  async reapDeadLocalHolders(stage: string, now = Date.now()): Promise<number> {
    return this.db.transaction((tx) => expireDeadLocalLeases(tx, stage, now));
  }

  async counts(stage: string, now = Date.now()): Promise<StateCounts> {
    return this.db.transaction((tx) => counts(tx, stage, now));
  }

  async lastFinished(table: string): Promise<number | null> {
    return this.db.transaction((tx) => lastFinished(tx, table));
  }

  async othersRunning(stage: string, holder: string): Promise<boolean> {
    return this.db.transaction((tx) => othersRunning(tx, stage, holder));
  }

  async unfinished(stage: string): Promise<number> {
    return this.db.transaction((tx) => unfinished(tx, stage));
  }

  async isStageTable(table: string): Promise<boolean> {
    return this.db.transaction(async (tx) => (await isStageTable(tx, table)) || (await emitterOf(tx, table)) !== null);
  }

  async setPriority(stage: string, priority: PrioritySpec, now = Date.now()): Promise<{ from: PrioritySpec; rescored: number }> {
    const plan = this.plans.get(stage);
    const r = await this.db.transaction(async (tx) => {
      if (!plan) await ops.requireStage(tx, stage);
      return setPriority(tx, stage, priority, now, plan);
    });
    if (plan) this.priorities.set(stage, priority);
    return r;
  }

  async broaden(stage: string, now = Date.now(), expected?: Readonly<Record<string, number>>): Promise<BroadenResult | null> {
    const plan = this.plan(stage);
    return this.db.transaction((tx) => broaden(tx, plan, this.priority(stage), now, expected));
  }

  async cutoffs(stage: string): Promise<Record<string, number>> {
    return this.db.transaction((tx) => cutoffs(tx, stage));
  }

  async recordEvent(stage: string | null, kind: string, detail: unknown, now = Date.now()): Promise<void> {
    await this.db.transaction((tx) => recordEvent(tx, stage, kind, detail, now));
  }

  async status(stages?: readonly string[], liveWorkers?: ReadonlyMap<string, number>, now = Date.now()): Promise<StageStatus[]> {
    return this.db.transaction((tx) => stageStatus(tx, stages, liveWorkers, now));
  }

  /**
   * Resolve when a NOTIFY says one of `stages` has new pending rows, or after `timeoutMs` (a
   * notification sent while the listening connection was down is lost; the caller looks anyway).
   */
  async waitForWork(stages: readonly string[], timeoutMs: number): Promise<void> {
    if (!this.unlisten) {
      this.unlisten = await this.db.listen(WORK_CHANNEL, (payload) => {
        for (const w of [...this.waiters]) if (w.stages.has(payload)) w.wake();
      });
    }
    await new Promise<void>((resolve) => {
      const w = {
        stages: new Set(stages),
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve();
        },
      };
      const timer = setTimeout(w.wake, Math.max(0, timeoutMs));
      this.waiters.add(w);
    });
  }

  async stageNames(): Promise<string[]> {
    return this.db.transaction((tx) => stageNames(tx));
  }

  async errorGroups(stage?: string): Promise<ErrorGroup[]> {
    return this.db.transaction((tx) => ops.errorGroups(tx, stage));
  }

  async requeue(stage: string, which: 'failed' | 'stale', now = Date.now()): Promise<number> {
    return this.db.transaction((tx) => ops.requeue(tx, stage, which, now));
  }

  async submit(stage: string, key: string, now = Date.now()): Promise<void> {
    await this.db.transaction((tx) => ops.submit(tx, stage, key, now));
  }

  async scale(stage: string, workers: number, now = Date.now()): Promise<{ from: number; to: number; workers: { id: string; threads: number }[] }> {
    return this.db.transaction((tx) => ops.scale(tx, stage, workers, now));
  }

  async registration(stage: string): Promise<StageRegistration | null> {
    return this.db.transaction((tx) => ops.registration(tx, stage));
  }

  async registerWorker(w: WorkerRegistration, now = Date.now()): Promise<void> {
    await this.db.transaction((tx) => workers.registerWorker(tx, w, now));
  }

  async heartbeatWorker(id: string, rowsDone: number, now = Date.now()): Promise<{ threads: number } | null> {
    return this.db.transaction((tx) => workers.heartbeatWorker(tx, id, rowsDone, now));
  }

  async deregisterWorker(id: string, now = Date.now()): Promise<void> {
    await this.db.transaction((tx) => workers.deregisterWorker(tx, id, now));
  }

  async workers(stage?: string, now = Date.now()): Promise<WorkerRecord[]> {
    return this.db.transaction((tx) => workers.listWorkers(tx, stage, now));
  }

  async recordJob(job: Omit<BatchJobRecord, 'state' | 'checkedAt'>, now = Date.now()): Promise<void> {
    await this.db.transaction((tx) => workers.recordJob(tx, job, now));
  }

  async jobs(stage?: string): Promise<BatchJobRecord[]> {
    return this.db.transaction((tx) => workers.listJobs(tx, stage));
  }

  async setJobStates(scheduler: 'slurm' | 'pbs', states: readonly { jobId: string; state: string }[], now = Date.now()): Promise<void> {
    await this.db.transaction((tx) => workers.setJobStates(tx, scheduler, states, now));
  }

  async trainingRows(stage: string, target: { table: string; column: string }, features: readonly string[]): Promise<TrainingRows> {
    return this.db.transaction((tx) => trainingRows(tx, stage, target, features));
  }

  async featureMeans(stage: string, features: readonly string[]): Promise<(number | null)[]> {
    return this.db.transaction((tx) => featureMeans(tx, stage, features));
  }

  async reset(): Promise<string[]> {
    const names = await this.db.transaction((tx) => ops.resetEngine(tx));
    this.plans.clear();
    this.priorities.clear();
    this.downstream.clear();
    return names;
  }

  async cleanup(olderThanMs: number, now = Date.now()): Promise<{ attempts: number; events: number; rows: number }> {
    return this.db.transaction((tx) => ops.cleanup(tx, olderThanMs, now));
  }

  async tables(): Promise<string[]> {
    return this.db.transaction((tx) => ops.exportableTables(tx));
  }

  async exportTable(table: string, format: 'csv' | 'arrow' | 'json'): Promise<Uint8Array> {
    return this.db.transaction((tx) => ops.exportTable(tx, table, format), 'repeatable read');
  }

  async checkpoint(dir: string): Promise<string[]> {
    return this.db.transaction((tx) => ops.checkpoint(tx, dir), 'repeatable read');
  }

  // ---- dashboard reads (src/store/postgres/dashboard/, one module per verb) ----

  async pathwaysPage(query: PathwayQuery): Promise<PathwayPage> {
    // One snapshot for the count and the page's two reads.
    return this.db.transaction((tx) => pathwaysPage(tx, query), 'repeatable read');
  }

  async pathwayDetail(key: string): Promise<PathwayDetail | null> {
    return this.db.transaction((tx) => pathwayDetail(tx, key));
  }

  async queueHead(stage: string, n: number, now = Date.now()): Promise<QueueEntry[]> {
    return this.db.transaction((tx) => queueHead(tx, stage, n, now));
  }

  async rowHistory(stage: string, key: string): Promise<RowHistory | null> {
    return this.db.transaction((tx) => rowHistory(tx, stage, key));
  }

  async structureHops(structureId: string): Promise<StructureHops | null> {
    return this.db.transaction((tx) => structureHops(tx, structureId));
  }

  async throughputHistory(bucketMs: number, since: number): Promise<ThroughputPoint[]> {
    return this.db.transaction((tx) => throughputHistory(tx, bucketMs, since));
  }

  async events(limit: number): Promise<EngineEventRecord[]> {
    return this.db.transaction((tx) => recentEvents(tx, limit));
  }

  async changeMark(): Promise<string> {
    return this.db.transaction((tx) => changeMark(tx));
  }

  async prepareDashboard(): Promise<string[]> {
    return prepareDashboard(this.db, this.db.readonly);
  }

  async close(): Promise<void> {
    for (const w of [...this.waiters]) w.wake();
    this.unlisten?.();
    await this.db.close();
  }
}
