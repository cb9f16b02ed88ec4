/**
 * The embedded store: the queue verbs ({@link QueueStore}) on one SQLite file or `:memory:`. Each verb
 * lives in a module of its own (ensure, admit, claim, complete, lease, control, counts); this class
 * keeps the stages it was given (their plans and the priority in force) and runs each call as one
 * transaction. better-sqlite3 is synchronous, so every promise here is already settled when returned.
 */
import { StageError, type PrioritySpec, type Stage } from '../../stage-kit/stage.js';
import type {
  BatchJobRecord, BatchOutcome, BroadenResult, Claim, ClaimRequest, DashboardStore, EngineEventRecord, ErrorGroup, ExchangeResult, PathwayDetail, PathwayPage, PathwayQuery,
  QueueEntry, QueueStore, RowHistory, StageControl, StageRegistration, StageStatus, StateCounts, StructureHops, ThroughputPoint, TrainingRows, WorkerRecord, WorkerRegistration,
} from '../interface.js';
import * as workers from './workers.js';
import type { SqlDb } from './connection.js';
import { admit, canAdmit, cutoffs, enqueue } from './admit.js';
import { claim, claimKeys, claimSuspect } from './claim.js';
import { fail, finish, insertEmitted } from './complete.js';
import { broaden, readControl, recordEvent, setPriority } from './control.js';
import { counts, hasReady, lastFinished, othersRunning, unfinished } from './counts.js';
import { checkUpstream, emitterOf, ensureEmitted, ensureStage, isStageTable } from './ensure.js';
import { expire, expireDeadLocalLeases, release, renew, sweep } from './lease.js';
import { planOf, type StagePlan } from './plan.js';
import { stageStatus } from './status.js';
import { featureMeans, trainingRows } from './training.js';
import * as ops from './ops.js';
import { pathwaysPage } from './dashboard/pathways-page.js';
import { pathwayDetail } from './dashboard/pathway-detail.js';
import { queueHead } from './dashboard/queue-head.js';
import { rowHistory } from './dashboard/row-history.js';
import { structureHops } from './dashboard/structure-hops.js';
import { throughputHistory } from './dashboard/throughput.js';
import { recentEvents } from './dashboard/events.js';
import { changeMark } from './dashboard/change-mark.js';
import { prepareDashboard } from './dashboard/prepare.js';

/** How often {@link SqliteQueueStore.waitForWork} looks at the queues (ms). */
export const WAIT_POLL_MS = 50;

export class SqliteQueueStore implements QueueStore, DashboardStore {
  readonly sql: SqlDb;
  readonly location: string;
  private readonly plans = new Map<string, StagePlan>();
  private readonly priorities = new Map<string, PrioritySpec>();
  /** Stages fed by each stage, among the stages given to {@link ensure}. */
  private readonly downstream = new Map<string, StagePlan[]>();

  constructor(sql: SqlDb) {
    this.sql = sql;
    this.location = sql.path;
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
      this.priorities.set(plan.table, ensureStage(this.sql, plan, now));
      ensureEmitted(this.sql, plan.stage);
      this.plans.set(plan.table, plan);
    }
    // Once every table exists: each admission against its upstream's columns.
    for (const plan of plans) checkUpstream(this.sql, plan);
    this.downstream.clear();
    const fedBy = new Map<string, string>();
    for (const p of this.plans.values()) {
      fedBy.set(p.table, p.table);
      if (p.stage.emits) fedBy.set(p.stage.emits.table, p.stage.emits.table);
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
    const rows = readControl(this.sql, stages);
    for (const r of rows) if (this.plans.has(r.stage)) this.priorities.set(r.stage, r.priority);
    return rows;
  }

  async enqueue(stage: string, rows: readonly Record<string, unknown>[], now = Date.now()): Promise<string[]> {
    return enqueue(this.sql, this.plan(stage), this.priority(stage), rows, now);
  }

  async admit(stage: string, options: { since?: number } = {}, now = Date.now()): Promise<string[]> {
    return this.sql.transaction(() => admit(this.sql, this.plan(stage), this.priority(stage), now, undefined, options.since), 'immediate');
  }

  async canAdmit(stage: string, options: { since?: number } = {}): Promise<boolean> {
    return canAdmit(this.sql, this.plan(stage), options.since);
  }

  async exchange(holder: string, outcomes: readonly BatchOutcome[], requests: readonly ClaimRequest[], now = Date.now()): Promise<ExchangeResult> {
    return this.sql.transaction(() => {
      const written: number[][] = [];
      const admitted: { stage: string; keys: string[] }[] = [];
      for (const o of outcomes) {
        const plan = this.plan(o.stage);
        const ids = o.done.ids.length ? finish(this.sql, plan, holder, o.done.ids, o.done.outputs, now) : [];
        if (o.failed.length) fail(this.sql, plan, holder, o.failed, now);
        written.push(ids);
        if (ids.length) for (const down of this.downstream.get(o.stage) ?? []) admitted.push({ stage: down.table, keys: admit(this.sql, down, this.priority(down.table), now, ids) });
        const e = plan.stage.emits;
        if (e && o.emitted && ids.length) {
          const keys = new Map(o.emitted.sourceIds.map((id, k) => [id, o.emitted!.sourceKeys[k]!]));
          const rows = insertEmitted(this.sql, plan.stage, new Set(ids), o.emitted, keys, now);
          if (rows.length) for (const down of this.downstream.get(e.table) ?? []) admitted.push({ stage: down.table, keys: admit(this.sql, down, this.priority(down.table), now, rows) });
        }
      }
      const claims: Claim[] = [];
      for (const r of requests) {
        const plan = this.plan(r.stage);
        if (r.suspect) {
          const q = claimSuspect(this.sql, plan, holder, now);
          if (q.ids.length) claims.push(q);
        }
        for (let b = 0; b < r.batches; b++) {
          const c = claim(this.sql, plan, holder, r.batchSize, now);
          if (c.ids.length === 0) break;
          claims.push(c);
        }
      }
      return { written, admitted, claims };
    }, 'immediate');
  }

  async claimKeys(stage: string, holder: string, keys: readonly string[], now = Date.now()): Promise<Claim> {
    return claimKeys(this.sql, this.plan(stage), holder, keys, now);
  }

  async renew(stage: string, holder: string, ids: readonly number[], until: number): Promise<number> {
    return renew(this.sql, stage, holder, ids, until);
  }

  async release(stage: string, holder: string, ids: readonly number[], now = Date.now()): Promise<number> {
    return release(this.sql, stage, holder, ids, now);
  }

  async fail(stage: string, holder: string, items: readonly { id: number; error: string }[], now = Date.now()): Promise<{ retried: number; failed: number }> {
    return this.sql.transaction(() => fail(this.sql, this.plan(stage), holder, items, now), 'immediate');
  }

  async sweep(stage: string, options: { holder?: string; ids?: readonly number[]; reason?: string } = {}, now = Date.now()): Promise<{ returned: number; failed: number }> {
    const plan = this.plan(stage);
    return this.sql.transaction(() => {
      if (options.ids && options.holder !== undefined) expire(this.sql, stage, options.holder, options.ids, now);
      return sweep(this.sql, stage, plan.stage.retry.maxDeaths, now, options.reason ?? 'lease expired', options.ids);
    }, 'immediate');
  }

  async reapDeadLocalHolders(stage: string, now = Date.now()): Promise<number> {
    return expireDeadLocalLeases(this.sql, stage, now);
  }

  async counts(stage: string, now = Date.now()): Promise<StateCounts> {
    return counts(this.sql, stage, now);
  }

  async lastFinished(table: string): Promise<number | null> {
    return lastFinished(this.sql, table);
  }

  async othersRunning(stage: string, holder: string): Promise<boolean> {
    return othersRunning(this.sql, stage, holder);
  }

  async unfinished(stage: string): Promise<number> {
    return unfinished(this.sql, stage);
  }

  async isStageTable(table: string): Promise<boolean> {
    return isStageTable(this.sql, table) || emitterOf(this.sql, table) !== null;
  }

  async setPriority(stage: string, priority: PrioritySpec, now = Date.now()): Promise<{ from: PrioritySpec; rescored: number }> {
    const r = setPriority(this.sql, stage, priority, now, this.plans.get(stage));
    if (this.plans.has(stage)) this.priorities.set(stage, priority);
    return r;
  }

  async broaden(stage: string, now = Date.now(), expected?: Readonly<Record<string, number>>): Promise<BroadenResult | null> {
    return broaden(this.sql, this.plan(stage), this.priority(stage), now, expected);
  }

  async cutoffs(stage: string): Promise<Record<string, number>> {
    return cutoffs(this.sql, stage);
  }

  async recordEvent(stage: string | null, kind: string, detail: unknown, now = Date.now()): Promise<void> {
    recordEvent(this.sql, stage, kind, detail, now);
  }

  async trainingRows(stage: string, target: { table: string; column: string }, features: readonly string[]): Promise<TrainingRows> {
    return trainingRows(this.sql, stage, target, features);
  }

  async featureMeans(stage: string, features: readonly string[]): Promise<(number | null)[]> {
    return featureMeans(this.sql, stage, features);
  }

  async status(stages?: readonly string[], liveWorkers?: ReadonlyMap<string, number>, now = Date.now()): Promise<StageStatus[]> {
    return stageStatus(this.sql, stages, liveWorkers, now);
  }

  /**
   * Polls the stages' ready rows every {@link WAIT_POLL_MS} (SQLite has no notifications across
   * processes); it looks at the rows themselves, so nothing that came since the caller's last look is missed.
   */
  async waitForWork(stages: readonly string[], timeoutMs: number, _sinceMs?: number): Promise<void> {
    const end = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      const now = Date.now();
      for (const s of stages) if (isStageTable(this.sql, s) && hasReady(this.sql, s, now)) return;
      if (now >= end) return;
      await new Promise((r) => setTimeout(r, Math.min(WAIT_POLL_MS, end - now)));
    }
  }

  async stageNames(): Promise<string[]> {
    return ops.stageNames(this.sql);
  }

  async errorGroups(stage?: string): Promise<ErrorGroup[]> {
    return ops.errorGroups(this.sql, stage);
  }

  async requeue(stage: string, which: 'failed' | 'stale', now = Date.now()): Promise<number> {
    return ops.requeue(this.sql, stage, which, now);
  }

  async submit(stage: string, key: string, now = Date.now()): Promise<void> {
    ops.submit(this.sql, stage, key, now);
  }

  async scale(stage: string, count: number, now = Date.now()): Promise<{ from: number; to: number; workers: { id: string; threads: number }[] }> {
    return ops.scale(this.sql, stage, count, now);
  }

  async registration(stage: string): Promise<StageRegistration | null> {
    return ops.registration(this.sql, stage);
  }

  async registerWorker(w: WorkerRegistration, now = Date.now()): Promise<void> {
    workers.registerWorker(this.sql, w, now);
  }

  async heartbeatWorker(id: string, rowsDone: number, now = Date.now()): Promise<{ threads: number } | null> {
    return workers.heartbeatWorker(this.sql, id, rowsDone, now);
  }

  async deregisterWorker(id: string, now = Date.now()): Promise<void> {
    workers.deregisterWorker(this.sql, id, now);
  }

  async workers(stage?: string, now = Date.now()): Promise<WorkerRecord[]> {
    return workers.listWorkers(this.sql, stage, now);
  }

  async recordJob(job: Omit<BatchJobRecord, 'state' | 'checkedAt'>, now = Date.now()): Promise<void> {
    workers.recordJob(this.sql, job, now);
  }

  async jobs(stage?: string): Promise<BatchJobRecord[]> {
    return workers.listJobs(this.sql, stage);
  }

  async setJobStates(scheduler: 'slurm' | 'pbs', states: readonly { jobId: string; state: string }[], now = Date.now()): Promise<void> {
    workers.setJobStates(this.sql, scheduler, states, now);
  }

  async reset(): Promise<string[]> {
    return ops.resetEngine(this.sql);
  }

  async cleanup(olderThanMs: number, now = Date.now()): Promise<{ attempts: number; events: number; rows: number }> {
    return ops.cleanup(this.sql, olderThanMs, now);
  }

  async tables(): Promise<string[]> {
    return ops.exportableTables(this.sql);
  }

  async exportTable(table: string, format: 'csv' | 'arrow' | 'json'): Promise<Uint8Array> {
    return ops.exportTable(this.sql, table, format);
  }

  async checkpoint(dir: string): Promise<string[]> {
    return ops.checkpoint(this.sql, dir);
  }

  // ---- dashboard reads (src/store/sqlite/dashboard/, one module per verb) ----

  async pathwaysPage(query: PathwayQuery): Promise<PathwayPage> {
    return this.sql.transaction(() => pathwaysPage(this.sql, query));
  }

  async pathwayDetail(key: string): Promise<PathwayDetail | null> {
    return pathwayDetail(this.sql, key);
  }

  async queueHead(stage: string, n: number, now = Date.now()): Promise<QueueEntry[]> {
    return this.sql.transaction(() => queueHead(this.sql, stage, n, now));
  }

  async rowHistory(stage: string, key: string): Promise<RowHistory | null> {
    return this.sql.transaction(() => rowHistory(this.sql, stage, key));
  }

  async structureHops(structureId: string): Promise<StructureHops | null> {
    return structureHops(this.sql, structureId);
  }

  async throughputHistory(bucketMs: number, since: number): Promise<ThroughputPoint[]> {
    return this.sql.transaction(() => throughputHistory(this.sql, bucketMs, since));
  }

  async events(limit: number): Promise<EngineEventRecord[]> {
    return recentEvents(this.sql, limit);
  }

  async changeMark(): Promise<string> {
    return changeMark(this.sql);
  }

  async prepareDashboard(): Promise<string[]> {
    return prepareDashboard(this.sql);
  }

  async close(): Promise<void> {
    this.sql.close();
  }
}
