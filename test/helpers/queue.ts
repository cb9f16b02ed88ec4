/**
 * One stage's queue verbs on a {@link SqliteQueueStore}, for tests that drive a queue by hand with
 * explicit times: each call is one verb of the store interface.
 */
import type { Claim } from '../../src/store/interface.js';
import { SqliteQueueStore } from '../../src/store/sqlite/index.js';
import { openSql, type SqlDb } from '../../src/store/sqlite/connection.js';
import { migrateStore } from '../../src/store/sqlite/migrations.js';
import type { PrioritySpec, Stage } from '../../src/stage-kit/stage.js';

export function stageQueue(store: SqliteQueueStore, stage: string) {
  const empty = (): Claim => ({ stage, ids: [], keys: [], attempts: [], deaths: [], inputs: [] });
  return {
    enqueue: (rows: readonly Record<string, unknown>[], now?: number) => store.enqueue(stage, rows, now),
    claim: async (by: string, n: number, now = Date.now()) => (await store.exchange(by, [], [{ stage, batchSize: n, batches: 1, suspect: false }], now)).claims[0] ?? empty(),
    claimSuspect: async (by: string, now = Date.now()) => (await store.exchange(by, [], [{ stage, batchSize: 1, batches: 0, suspect: true }], now)).claims[0] ?? empty(),
    claimKeys: (by: string, keys: readonly string[], now?: number) => store.claimKeys(stage, by, keys, now),
    finish: async (by: string, ids: readonly number[], outputs: unknown[][], now?: number) => (await store.exchange(by, [{ stage, done: { ids: [...ids], outputs }, failed: [] }], [], now)).written[0]!,
    fail: (by: string, items: readonly { id: number; error: string }[], now?: number) => store.fail(stage, by, items, now),
    release: (by: string, ids: readonly number[], now?: number) => store.release(stage, by, ids, now),
    sweep: (now?: number, reason?: string) => store.sweep(stage, { reason }, now),
    admit: () => store.admit(stage),
    broaden: (now?: number) => store.broaden(stage, now),
    cutoffs: () => store.cutoffs(stage),
    setPriority: (p: PrioritySpec) => store.setPriority(stage, p),
  };
}

/** An in-memory store with these stages ensured, and a queue per stage. */
export async function memoryQueues(stages: readonly Stage[]): Promise<{ sql: SqlDb; store: SqliteQueueStore; queues: ReturnType<typeof stageQueue>[] }> {
  const sql = openSql(':memory:');
  migrateStore(sql);
  const store = new SqliteQueueStore(sql);
  await store.ensure(stages);
  return { sql, store, queues: stages.map((s) => stageQueue(store, s.name)) };
}
