/**
 * The run's CPU budget: the token counter itself (take, give back once, a waiting thread served when
 * a token comes back), and the engine with it: two CPU-bound stages of two threads each never run more
 * batches at once than the budget allows, and run side by side without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createCpuBudget, freeCpu, giveCpu, takeCpu, tokenFlag } from '../../src/engine/cpu-budget.js';
import { Engine } from '../../src/engine/engine.js';
import { sqlOf } from '../helpers/engine.js';
import { toyRows, windowA, windowB } from './fixtures/toy-stages.js';

test('cpu budget: a token taken is given back once; the count never goes above the budget', async () => {
  const b = createCpuBudget(2);
  const f1 = tokenFlag();
  const f2 = tokenFlag();
  await takeCpu(b, f1, false);
  await takeCpu(b, f2, false);
  assert.equal(freeCpu(b), 0);
  assert.equal(giveCpu(b, f1), true);
  assert.equal(giveCpu(b, f1), false, 'a second give-back of the same batch is ignored (thread ended after it gave back)');
  assert.equal(freeCpu(b), 1);
  assert.equal(giveCpu(b, f2), true);
  assert.equal(freeCpu(b), 2);
});

test('cpu budget: a thread waiting for a token gets it when another thread gives one back', async () => {
  const b = createCpuBudget(1);
  const mine = tokenFlag();
  await takeCpu(b, mine, false);
  const theirs = tokenFlag();
  const url = new URL('../../src/engine/cpu-budget.ts', import.meta.url).href;
  // The other thread takes the token (waiting until it is free), says so, and gives it back. A pending
  // Atomics.waitAsync does not keep a thread's event loop alive (a stage thread is kept alive by its
  // pool's port): the timer holds this bare thread open while it waits, or it would exit silently.
  const w = new Worker(
    `const { tsImport } = await import('tsx/esm/api'); const { takeCpu, giveCpu } = await tsImport(${JSON.stringify(url)}, ${JSON.stringify(url)});
     const { parentPort, workerData } = await import('node:worker_threads');
     const alive = setInterval(() => {}, 1000);
     await takeCpu(workerData.b, workerData.f, false); parentPort.postMessage('took'); giveCpu(workerData.b, workerData.f); clearInterval(alive);`,
    { eval: true, workerData: { b, f: theirs } },
  );
  try {
    const took = new Promise((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
      w.once('exit', (code) => rej(new Error(`the other thread exited (code ${code}) before it took the token`)));
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(Atomics.load(theirs, 0), 0, 'the other thread waits while the only token is held');
    giveCpu(b, mine);
    assert.equal(await took, 'took');
    await new Promise((r) => w.once('exit', r));
  } finally {
    await w.terminate();
  }
  assert.equal(freeCpu(b), 1);
});

test('cpu budget: a token given back goes to the waiting thread of the deepest stage, then to the others', async () => {
  for (const order of [[0, 2], [2, 0]]) {
    const b = createCpuBudget(1);
    const mine = tokenFlag();
    await takeCpu(b, mine, false);
    const flags = new Map(order.map((rank) => [rank, tokenFlag()]));
    const got: number[] = [];
    const waits = order.map((rank) => takeCpu(b, flags.get(rank)!, false, rank).then(() => got.push(rank)));
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(got, [], 'both wait while the only token is held');
    giveCpu(b, mine);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, [2], `rank 2 takes the token first (waiting order ${order.join(', ')})`);
    assert.equal(Atomics.load(flags.get(0)!, 0), 0, 'rank 0 still waits');
    giveCpu(b, flags.get(2)!);
    await Promise.all(waits);
    assert.deepEqual(got, [2, 0]);
    giveCpu(b, flags.get(0)!);
    assert.equal(freeCpu(b), 1);
  }
});

test('cpu budget: a lower rank takes a free token when no deeper thread waits', async () => {
  const b = createCpuBudget(1);
  const f = tokenFlag();
  await takeCpu(b, f, false, 0);
  assert.equal(Atomics.load(f, 0), 1);
  giveCpu(b, f);
});

test('cpu budget: the engine refuses a budget that is not a positive integer, naming it', async () => {
  await assert.rejects(Engine.open({ db: ':memory:', stages: [windowA], cpuBudget: 0 }), /engine: cpuBudget must be a positive integer or null, got 0/);
  await assert.rejects(Engine.open({ db: ':memory:', stages: [windowA], cpuBudget: 1.5 }), /engine: cpuBudget must be a positive integer or null, got 1.5/);
});

async function windows(cpuBudget: number | null): Promise<{ t0: number; t1: number }[]> {
  const e = await Engine.open({ db: ':memory:', stages: [windowA, windowB], tickMs: 50, cpuBudget });
  try {
    await e.enqueue('window_a', toyRows(0, 8));
    await e.enqueue('window_b', toyRows(0, 8));
    await e.run();
    return sqlOf(e).all<{ t0: number; t1: number }>("SELECT t0, t1 FROM window_a WHERE state = 'done' UNION ALL SELECT t0, t1 FROM window_b WHERE state = 'done'");
  } finally {
    await e.close();
  }
}

/** Most batches whose work windows overlap at one time. */
function maxOverlap(ws: { t0: number; t1: number }[]): number {
  const ev = ws.flatMap((w) => [[w.t0, 1], [w.t1, -1]] as [number, number][]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0;
  let m = 0;
  for (const [, d] of ev) m = Math.max(m, (n += d));
  return m;
}

test('cpu budget: two CPU-bound stages of two threads each run one batch at a time with a budget of 1, several without', async () => {
  const one = await windows(1);
  assert.equal(one.length, 16);
  assert.equal(maxOverlap(one), 1, `work windows overlap under a budget of 1: ${JSON.stringify(one)}`);
  const free = await windows(null);
  assert.equal(free.length, 16);
  assert.ok(maxOverlap(free) >= 2, 'without a budget the four threads run batches side by side');
});
