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
import { configureStage } from '../../src/stage-kit/stage.js';
import { toyRows, windowA, windowB, windowNext } from './fixtures/toy-stages.js';

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

/**
 * Another thread that waits for a token of `b` at `rank` with the batch flag `f`; once it holds one it
 * says `took`, gives it back and ends. A pending Atomics.waitAsync does not keep a thread's event loop
 * alive (a stage thread is kept alive by its pool's port): the timer holds this bare thread open
 * while it waits, or it would exit silently.
 */
function waiter(b: Int32Array, f: Int32Array, rank: number): Worker {
  const url = new URL('../../src/engine/cpu-budget.ts', import.meta.url).href;
  return new Worker(
    `const { tsImport } = await import('tsx/esm/api'); const { takeCpu, giveCpu } = await tsImport(${JSON.stringify(url)}, ${JSON.stringify(url)});
     const { parentPort, workerData } = await import('node:worker_threads');
     const alive = setInterval(() => {}, 1000);
     await takeCpu(workerData.b, workerData.f, false, workerData.rank); parentPort.postMessage('took'); giveCpu(workerData.b, workerData.f); clearInterval(alive);`,
    { eval: true, workerData: { b, f, rank } },
  );
}

/** A budget of one token, held here, and another thread waiting for it at `rank` (its flag counted as waiting). */
async function heldAndWaiting(rank: number): Promise<{ b: Int32Array; mine: Int32Array; theirs: Int32Array; w: Worker }> {
  const b = createCpuBudget(1);
  const mine = tokenFlag();
  await takeCpu(b, mine, false);
  const theirs = tokenFlag();
  const w = waiter(b, theirs, rank);
  const t0 = Date.now();
  while (Atomics.load(theirs, 0) === 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 10));
  return { b, mine, theirs, w };
}

test('cpu budget: a thread waiting for a token gets it when another thread gives one back', async () => {
  // The other thread takes the token (waiting until it is free), says so, and gives it back.
  const { b, mine, theirs, w } = await heldAndWaiting(0);
  try {
    const took = new Promise((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
      w.once('exit', (code) => rej(new Error(`the other thread exited (code ${code}) before it took the token`)));
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(Atomics.load(theirs, 0), -1, 'the other thread waits while the only token is held (its flag: counted as waiting at rank 0)');
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
    assert.equal(Atomics.load(flags.get(0)!, 0), -1, 'rank 0 still waits');
    giveCpu(b, flags.get(2)!);
    await Promise.all(waits);
    assert.deepEqual(got, [2, 0]);
    giveCpu(b, flags.get(0)!);
    assert.equal(freeCpu(b), 1);
  }
});

test('cpu budget: a deeper batch whose thread ended while it waited is taken off the waiting counts from its flag, and holds back no other', async () => {
  // A thread waits for the only token at rank 3 and is ended while it waits (a restart, a stop).
  const { b, mine, theirs: deep, w } = await heldAndWaiting(3);
  assert.equal(Atomics.load(deep, 0), -4, 'counted as waiting at rank 3');
  await w.terminate();
  // The main thread's clean-up of the ended batch (runner.ts), then a shallower batch takes the token.
  assert.equal(giveCpu(b, deep), false, 'no token to give back');
  assert.equal(Atomics.load(deep, 0), 0);
  giveCpu(b, mine);
  const low = tokenFlag();
  await Promise.race([takeCpu(b, low, false, 0), new Promise((_, rej) => setTimeout(() => rej(new Error('rank 0 still held back by the ended rank-3 waiter')), 1000))]);
  assert.equal(Atomics.load(low, 0), 1);
  giveCpu(b, low);
  assert.equal(freeCpu(b), 1);
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
  await assert.rejects(Engine.open({ db: ':memory:', stages: [windowA], threads: 'pooled' as 'shared' }), /engine: threads must be 'shared' or 'per-stage', got "pooled"/);
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

async function run(stages: Parameters<typeof Engine.open>[0]['stages'], cpuBudget: number, threads: 'shared' | 'per-stage', rows: number): Promise<Record<string, { key: string; t0: number; t1: number; thread: number }[]>> {
  const e = await Engine.open({ db: ':memory:', stages, tickMs: 50, cpuBudget, threads });
  try {
    for (const s of stages) if (!s.input.from) await e.enqueue(s.name, toyRows(0, rows));
    await e.run();
    const out: Record<string, { key: string; t0: number; t1: number; thread: number }[]> = {};
    for (const s of stages) out[s.name] = sqlOf(e).all(`SELECT key, t0, t1, thread FROM ${s.name} WHERE state = 'done' ORDER BY t0`);
    return out;
  } finally {
    await e.close();
  }
}

test('shared threads: two CPU-bound stages of two workers each run on the budget\'s two threads together; a pool per stage starts four', async () => {
  const shared = await run([windowA, windowB], 2, 'shared', 10);
  const threads = (r: typeof shared) => new Set(Object.values(r).flat().map((w) => w.thread));
  assert.equal(Object.values(shared).flat().length, 20);
  assert.ok(threads(shared).size <= 2, `threads: ${[...threads(shared)].join(', ')}`);
  const a = new Set(shared['window_a']!.map((w) => w.thread));
  assert.ok(shared['window_b']!.some((w) => a.has(w.thread)), 'a thread ran batches of both stages');
  const own = await run([windowA, windowB], 2, 'per-stage', 10);
  assert.ok(threads(own).size > 2, `per-stage threads: ${[...threads(own)].join(', ')}`);
});

test('shared threads: a stage of one worker never runs two batches at once, while the two threads run the stages side by side', async () => {
  const r = await run([configureStage(windowA, { workers: 1 }), configureStage(windowB, { workers: 1 })], 2, 'shared', 10);
  assert.equal(maxOverlap(r['window_a']!), 1, `window_a batches overlapped: ${JSON.stringify(r['window_a'])}`);
  assert.equal(maxOverlap(r['window_b']!), 1);
  assert.ok(maxOverlap([...r['window_a']!, ...r['window_b']!]) >= 2, 'the two stages ran side by side');
});

test('shared threads: on one thread a downstream batch runs before the upstream batches waiting ahead of it', async () => {
  const r = await run([configureStage(windowA, { workers: 1, params: { ms: 20 } }), configureStage(windowNext, { workers: 1, params: { ms: 20 } })], 1, 'shared', 16);
  const up = r['window_a']!;
  const down = r['window_next']!;
  assert.equal(up.length, 16);
  assert.equal(down.length, 16);
  assert.equal(new Set([...up, ...down].map((w) => w.thread)).size, 1, 'one thread');
  // Upstream batches that began between a row's upstream batch ending and its downstream batch beginning.
  // A shared thread holds three batches (fractured TASKS_PER_THREAD): the downstream batch reaches the
  // thread once one of them ends, and goes ahead of those still waiting there. In first-come order it
  // would wait behind every upstream batch claimed before it (4 in flight: 4 4 4 … 3 2 1 0).
  const upOf = new Map(up.map((w) => [w.key, w]));
  const behind = down.map((d) => up.filter((u) => u.t0 > upOf.get(d.key)!.t1 && u.t0 < d.t0).length);
  const mean = behind.reduce((a, b) => a + b, 0) / behind.length;
  assert.ok(Math.max(...behind) <= 3 && mean <= 2, `upstream batches run ahead of a waiting downstream batch: ${behind.join(' ')}`);
});

test('shared threads: a stage at its allotment does not hold a thread that another stage\'s batch could use', async () => {
  // Two source stages of one worker each on 2 shared threads: window_b's 200 ms batches one at a time,
  // window_a's 20 ms batches one at a time beside them. With window_b's batches spread over both
  // threads, a thread whose next batch was window_b's waited while the other ran window_b's only
  // allotted batch, and window_a ran beside window_b about a quarter of the time (0.26–0.27, measured);
  // with no more of a stage's batches in the threads than its workers, 0.75–0.77.
  const e = await Engine.open({
    db: ':memory:', tickMs: 50, cpuBudget: 2, threads: 'shared', batchSizing: 'full',
    stages: [configureStage(windowA, { workers: 1, params: { ms: 20 } }), configureStage(windowB, { workers: 1, params: { ms: 200 } })],
  });
  try {
    await e.enqueue('window_a', toyRows(0, 40));
    await e.enqueue('window_b', toyRows(0, 4));
    await e.run();
    const a = sqlOf(e).all<{ t0: number; t1: number }>("SELECT t0, t1 FROM window_a WHERE state = 'done'");
    const b = sqlOf(e).all<{ t0: number; t1: number }>("SELECT t0, t1 FROM window_b WHERE state = 'done'");
    assert.deepEqual([a.length, b.length], [40, 4]);
    assert.equal(maxOverlap(b), 1, 'window_b held to one batch at a time');
    let beside = 0;
    for (const x of a) for (const y of b) beside += Math.max(0, Math.min(x.t1, y.t1) - Math.max(x.t0, y.t0));
    const aBusy = a.reduce((s, x) => s + x.t1 - x.t0, 0);
    const bSpan = Math.max(...b.map((y) => y.t1)) - Math.min(...b.map((y) => y.t0));
    const share = beside / Math.min(aBusy, bSpan);
    assert.ok(share >= 0.5, `window_a ran beside window_b ${(100 * share).toFixed(0)} % of the time`);
  } finally {
    await e.close();
  }
});
