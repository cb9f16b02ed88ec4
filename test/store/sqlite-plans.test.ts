/**
 * The SQLite claims' query plans on a store without statistics (fracflow never runs ANALYZE): the
 * batch claim walks the queue index in its order, and the quarantine claim probes the partial index
 * of rows with deaths. Without the named index SQLite chose the queue index for the quarantine claim's
 * ORDER BY and walked every pending row on each exchange (6 ms per claim at 32,000 pending rows, which
 * more than doubled the main thread's cost per batch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openQueue } from '../../src/store/index.js';
import { SqliteQueueStore } from '../../src/store/sqlite/index.js';
import { claimSuspectText, claimText } from '../../src/store/sqlite/claim.js';
import { planOf } from '../../src/store/sqlite/plan.js';
import { configureStage } from '../../src/stage-kit/stage.js';
import { square, toyRows } from '../engine/fixtures/toy-stages.js';

test('quarantine claim without statistics: probes the partial index of rows with deaths, not the queue of every pending row', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-plans-'));
  const stage = configureStage(square, { batchSize: 64 });
  const store = await openQueue(join(dir, 'q.db'));
  try {
    assert.ok(store instanceof SqliteQueueStore);
    await store.ensure([stage]);
    await store.enqueue(stage.name, toyRows(0, 5000));
    const plan = (text: string) => store.sql.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, { by: 'h', lease: 1, now: 1, n: 64 }).map((r) => r.detail);
    const suspect = plan(claimSuspectText(planOf(stage)));
    assert.ok(suspect.some((d) => d.includes(`USING INDEX ${stage.name}_suspects`)), suspect.join('\n'));
    assert.ok(!suspect.some((d) => d.includes(`${stage.name}_queue`)), suspect.join('\n'));
    const batch = plan(claimText(planOf(stage)));
    assert.ok(batch.some((d) => d.includes(`USING INDEX ${stage.name}_queue`)), batch.join('\n'));
    assert.ok(!batch.some((d) => d.includes('TEMP B-TREE FOR ORDER BY')), `the batch claim is served in index order:\n${batch.join('\n')}`);
    // And the claims themselves: the quarantine is empty, the batch takes the head of the queue (priority x).
    const x = await store.exchange('h', [], [{ stage: stage.name, batchSize: 64, batches: 1, suspect: true }]);
    assert.deepEqual(x.claims.map((c) => c.ids.length), [64]);
    assert.deepEqual(x.claims[0]!.keys.slice(0, 2), toyRows(4998, 5000).map((r) => r.key).reverse());
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
