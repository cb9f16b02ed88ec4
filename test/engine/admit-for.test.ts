/**
 * A worker's downstream admission (`EngineOptions.admitFor`, what `fracflow worker` passes): the rows a
 * stage's worker finishes are admitted to the registered stages it feeds in the same unit of work, so
 * they are pending as soon as the worker's rows are done — without any process running the downstream
 * stage. Without it they wait for a downstream worker's tick.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { openQueue } from '../../src/store/index.js';
import { square, plusOne, toyRows } from './fixtures/toy-stages.js';

async function workerRun(db: string, admitFor: boolean): Promise<{ pending: number; done: number }> {
  const seed = await Engine.open({ db, stages: [square, plusOne] });
  await seed.enqueue('square', toyRows(0, 10));
  await seed.close();
  const e = await Engine.open({ db, stages: [square], worker: { threads: 1 }, ...(admitFor ? { admitFor: [plusOne] } : {}) });
  try {
    const r = await e.run();
    assert.equal(r.stages['square']!.rowsDone, 10);
  } finally {
    await e.close();
  }
  const store = await openQueue(db);
  try {
    const [s] = await store.status(['plus_one']);
    return { pending: s!.pending, done: s!.done };
  } finally {
    await store.close();
  }
}

test('admitFor: a worker of square admits plus_one rows (y ≤ 40: x = 0…6) as its rows finish; without it none are admitted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-admit-for-'));
  try {
    assert.deepEqual(await workerRun(join(dir, 'with.db'), true), { pending: 7, done: 0 });
    assert.deepEqual(await workerRun(join(dir, 'without.db'), false), { pending: 0, done: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('admitFor: a stage the engine also runs, or one not fed by its stages, is refused with the reason', async () => {
  await assert.rejects(Engine.open({ db: ':memory:', stages: [square, plusOne], admitFor: [plusOne] }), /engine: stage plus_one is both run and admitted for/);
  await assert.rejects(Engine.open({ db: ':memory:', stages: [plusOne], admitFor: [square] }), /engine: admitFor stage square is fed by null, not by a stage this engine runs \(plus_one\)/);
});
