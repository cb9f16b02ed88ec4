/**
 * The scheduler with real worker threads (piscina pools, Arrow batches): a two-stage flow with
 * adaptive broadening, rows that throw, a hung and a crashed worker thread, the fixed-workflow mode,
 * forks, scaling and stopping while running; a finished upstream row admitted downstream in the same
 * transaction (claimable before the upstream stage is through), and `scale` moving a running stage
 * onto a pool of the new size (the threads that ran each row); a stage whose upstream another engine
 * runs, fed while that engine works and not stopping before it is through, also when both run it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlOf } from '../helpers/engine.js';
import { Engine, haltMessage } from '../../src/engine/engine.js';
import { openStore } from '../../src/store/sqlite/diffusion.js';
import { openQueue } from '../../src/store/index.js';
import { scale, setPriority } from '../../src/store/sqlite/ops.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { StagePool } from '../../src/engine/pool.js';
import { wireFromColumns, wireValues } from '../../src/engine/wire.js';
import { configureStage, forkStage } from '../../src/stage-kit/stage.js';
import { square, plusOne, flaky, hangOnce, crashOnce, spin, spinNext, threadIdStage, waits, ghostStage, toyRows, squareOf, fullDisk, fullDiskNext, diesOnThree } from './fixtures/toy-stages.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-engine-'));

function checkChain(e: Engine, n: number) {
  const sq = sqlOf(e).all<{ key: string; x: number; y: number; state: string }>('SELECT key, x, y, state FROM square ORDER BY x');
  assert.equal(sq.length, n);
  for (const r of sq) {
    assert.equal(r.state, 'done', r.key);
    assert.equal(r.y, squareOf(r.x), r.key);
  }
  const po = sqlOf(e).all<{ key: string; y: number; z: number; state: string }>('SELECT key, y, z, state FROM plus_one ORDER BY y');
  // yMax broadens 40 -> 70 -> 100: every y = x² + 1/8 <= 100 is admitted in the end (x <= 9).
  assert.deepEqual(po.map((r) => r.key), sq.filter((r) => r.y <= 100).map((r) => r.key));
  for (const r of po) {
    assert.equal(r.state, 'done');
    assert.equal(r.z, r.y + 1);
  }
  const dup = sqlOf(e).all("SELECT stage, key, COUNT(*) AS n FROM engine_attempts WHERE outcome = 'done' GROUP BY stage, key HAVING n != 1");
  assert.deepEqual(dup, [], 'every row finished exactly once');
}

test('fractured run: two stages, downstream fed as upstream rows finish, cutoff broadened when drained', async () => {
  const e = await Engine.open({ db: ':memory:', stages: [square, plusOne], tickMs: 50 });
  await e.enqueue('square', toyRows(0, 30));
  const r = await e.run();
  checkChain(e, 30);
  assert.deepEqual(r.broadened.map((b) => [b.stage, b.name, b.from, b.to]), [['plus_one', 'yMax', 40, 70], ['plus_one', 'yMax', 70, 100]]);
  assert.equal(r.stages['square']!.rowsDone, 30);
  assert.equal(r.stages['plus_one']!.rowsDone, 10);
  assert.ok(r.stages['square']!.tasks >= 2, 'batches of 16');
  await e.close();
});

test('fixed-workflow run: same results on the same tables, each entity depth-first', async () => {
  const e = await Engine.open({ db: ':memory:', stages: [square, plusOne], tickMs: 50 });
  await e.enqueue('square', toyRows(0, 30));
  const r = await e.run({ mode: 'fixed', workflows: 1 });
  assert.equal(r.mode, 'fixed');
  checkChain(e, 30);
  // With one workflow, an admitted entity's plus_one row finishes right after its square row.
  const seq = sqlOf(e).all<{ stage: string; key: string }>("SELECT stage, key FROM engine_attempts WHERE outcome = 'done' ORDER BY id");
  for (let i = 0; i < seq.length; i++) {
    if (seq[i]!.stage !== 'plus_one') continue;
    const prev = seq[i - 1]!;
    if (prev.stage === 'square') assert.equal(prev.key, seq[i]!.key);
  }
  const stopped = await e.run({ mode: 'fixed', signal: AbortSignal.abort() });
  assert.equal(stopped.stopped, true);
  const direct = seq.filter((s, i) => s.stage === 'plus_one' && seq[i - 1]?.stage === 'square' && seq[i - 1]?.key === s.key).length;
  assert.equal(direct, 7, 'the 7 rows admitted at yMax = 40 (x = 0..6) ran depth-first; broadening admits the rest later');
  await e.close();
});

test('a work function that throws on some rows: those rows fail with the message and attempt count, every other row finishes', async () => {
  const e = await Engine.open({ db: ':memory:', stages: [flaky], tickMs: 50 });
  await e.enqueue('flaky', toyRows(1, 41));
  await e.run();
  const rows = sqlOf(e).all<{ x: number; y: number | null; state: string; attempts: number; last_error: string | null }>('SELECT x, y, state, attempts, last_error FROM flaky ORDER BY x');
  for (const r of rows) {
    if (r.x % 7 === 0) {
      assert.deepEqual([r.state, r.attempts, r.last_error, r.y], ['failed', 2, `bad input x=${r.x}`, null]);
    } else {
      // A batch with a bad row: the other rows still finish on their first attempt.
      assert.deepEqual([r.state, r.attempts, r.y], ['done', 1, squareOf(r.x)], `x=${r.x}`);
    }
  }
  assert.equal(sqlOf(e).get<{ n: number }>("SELECT COUNT(*) AS n FROM engine_attempts WHERE outcome = 'error'")!.n, 5 * 2);
  await e.close();
});

test('lease ending at the holder\'s own deadline: a sweep at that moment does not take back the hung batch before its holder ends it (one death, not two)', async () => {
  // Another process sweeps the store every few milliseconds while this engine's batch hangs. Were the
  // store's lease to end when the holder's own deadline does, the sweep would take the rows back while
  // the batch is still in flight, the holder would claim them again, and its own end of the old batch
  // would end the new claim too: two deaths per row.
  const dir = tmp();
  const db = join(dir, 'q.db');
  const flag = join(dir, 'hang.flag');
  // A lease long enough that the other batches' renewals (every half lease) are never late on a busy machine.
  const s = configureStage(hangOnce, { workers: 2, leaseMs: 3000, params: { flag } });
  const e = await Engine.open({ db, stages: [s], tickMs: 50, batchSizing: 'full' });
  await e.enqueue('hang_once', toyRows(0, 20));
  const other = await openQueue(db);
  await other.ensure([s]);
  let sweeping = true;
  // How far past a running row's claim its lease in the store reaches, at most (ms), by key.
  const reach = new Map<string, number>();
  const first = new Map<string, number>();
  const sweeper = (async () => {
    for (let k = 0; sweeping; k++) {
      await other.sweep('hang_once');
      await new Promise((r) => setTimeout(r, 5));
      if (k % 20 !== 0) continue;
      for (const l of Buffer.from(await other.exportTable('hang_once', 'json')).toString('utf8').split('\n').filter(Boolean)) {
        const r = JSON.parse(l) as { key: string; state: string; lease_until: number | null; started_at: number | null };
        // Its first run only (the rows of the hung batch run again afterwards).
        if (r.state === 'running' && r.lease_until !== null && r.started_at !== null && (first.get(r.key) ?? r.started_at) === r.started_at) {
          first.set(r.key, r.started_at);
          reach.set(r.key, Math.max(reach.get(r.key) ?? 0, r.lease_until - r.started_at));
        }
      }
    }
  })();
  try {
    await e.run();
  } finally {
    sweeping = false;
    await sweeper;
    await other.close();
  }
  const rows = sqlOf(e).all<{ state: string; deaths: number }>('SELECT state, deaths FROM hang_once');
  assert.ok(rows.every((x) => x.state === 'done'));
  assert.deepEqual(rows.map((x) => x.deaths).sort(), [...Array(15).fill(0), ...Array(5).fill(1)]);
  const expired = sqlOf(e).all<{ error: string }>("SELECT error FROM engine_attempts WHERE outcome = 'expired'");
  assert.equal(expired.length, 5);
  assert.ok(expired.every((x) => /batch ran past its lease \(3000 ms\)/.test(x.error)), JSON.stringify(expired));
  // The hung batch began at once after its claim: its lease in the store reached past the holder's
  // deadline (3000 ms from the start) by most of the grace (1500 ms).
  for (const { key } of sqlOf(e).all<{ key: string }>("SELECT key FROM engine_attempts WHERE outcome = 'expired'")) {
    assert.ok((reach.get(key) ?? 0) >= 3000 + 750, `${key}: the store's lease reached ${reach.get(key)} ms past the claim`);
  }
  await e.close();
});

test('a hung worker thread: its batch is aborted at the lease, its rows come back and finish elsewhere', async () => {
  const flag = join(tmp(), 'hang.flag');
  const s = configureStage(hangOnce, { workers: 2, leaseMs: 1500, params: { flag } });
  const e = await Engine.open({ db: ':memory:', stages: [s], tickMs: 50, batchSizing: 'full' });
  await e.enqueue('hang_once', toyRows(0, 20));
  const r = await e.run();
  const rows = sqlOf(e).all<{ x: number; y: number; state: string; attempts: number; deaths: number }>('SELECT x, y, state, attempts, deaths FROM hang_once');
  assert.ok(rows.every((x) => x.state === 'done' && x.y === squareOf(x.x) && x.attempts === 1), 'a hang is a death, not an attempt');
  assert.equal(rows.filter((x) => x.deaths === 1).length, 5, 'one batch of 5 ran twice');
  const lost = sqlOf(e).all<{ error: string }>("SELECT error FROM engine_attempts WHERE outcome = 'expired'");
  assert.equal(lost.length, 5);
  assert.match(lost[0]!.error, /batch ran past its lease \(1500 ms\)/);
  assert.equal(r.swept, 5);
  // A batch that waited in the hung thread (two per thread) died with it unrun: released, not charged.
  const hung = new Set(sqlOf(e).all<{ key: string }>("SELECT key FROM engine_attempts WHERE outcome = 'expired'").map((x) => x.key));
  const released = sqlOf(e).all<{ key: string; attempt: number }>("SELECT key, attempt FROM engine_attempts WHERE outcome = 'released'");
  assert.ok(released.every((x) => !hung.has(x.key) && x.attempt === 1));
  await e.close();
});

test('two batches per thread: the one queued behind a hung batch never starts; restart ends both and fresh threads take new work', async () => {
  const flag = join(tmp(), 'hang-pool.flag');
  const s = configureStage(hangOnce, { workers: 1, params: { flag } });
  const pool = new StagePool(1, [{ module: s.module, work: s.workName }], 2);
  try {
    await pool.ready();
    const task = { module: s.module, work: s.workName, stage: s.name, output: [{ name: 'y', type: 'float64' as const }], params: { ...s.params } };
    const batch = (x: number) => wireFromColumns([{ name: 'key', type: 'utf8' }, { name: 'x', type: 'float64' }], [[`k${x}`], [x]]);
    const flags = [new BigInt64Array(new SharedArrayBuffer(8)), new BigInt64Array(new SharedArrayBuffer(8))];
    // The first batch blocks its thread (the flag file picks it); the second is handed to the same thread.
    const outcomes = Promise.allSettled([pool.run(task, batch(0), { began: flags[0] }), pool.run(task, batch(1), { began: flags[1] })]);
    for (let i = 0; i < 200 && Atomics.load(flags[0]!, 0) === 0n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(Atomics.load(flags[0]!, 0) > 0n, 'the first batch began');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(Atomics.load(flags[1]!, 0), 0n, 'the second batch waits behind it');
    pool.restart();
    const [a, b] = await outcomes;
    assert.deepEqual([a.status, b.status], ['rejected', 'rejected'], 'both batches end with the thread');
    assert.equal(Atomics.load(flags[1]!, 0), 0n, 'the queued batch never began: the engine releases it without counting an attempt');
    const again = await pool.run(task, batch(3), {});
    assert.deepEqual(wireValues(again.batch!, 'y'), [squareOf(3)], 'fresh threads take the next batch');
  } finally {
    await pool.close();
  }
});

test('a stage whose work waits (queueInThread: false) runs one batch per thread at a time', async () => {
  const e = await Engine.open({ db: ':memory:', stages: [configureStage(waits, { workers: 1 })], tickMs: 50 });
  await e.enqueue('waits', toyRows(0, 8));
  await e.run();
  const rows = sqlOf(e).all<{ y: number; state: string }>('SELECT y, state FROM waits');
  assert.equal(rows.length, 8);
  assert.ok(rows.every((r) => r.state === 'done' && r.y === 1), JSON.stringify(rows));
  await e.close();
});

test('a stage whose threads cannot load its work function: the rows fail with the reason after their attempts, the run ends', async () => {
  const e = await Engine.open({ db: ':memory:', stages: [ghostStage()], tickMs: 50 });
  await e.enqueue('ghost', toyRows(0, 10));
  await e.run();
  const rows = sqlOf(e).all<{ state: string; attempts: number; last_error: string }>('SELECT state, attempts, last_error FROM ghost');
  assert.equal(rows.length, 10);
  for (const r of rows) {
    assert.equal(r.state, 'failed');
    assert.equal(r.attempts, 2);
    assert.match(r.last_error, /exports no stage named "ghost"/);
  }
  await e.close();
});

test('leases count from a batch\'s start: batches waiting behind a long one are renewed, not ended', async () => {
  // 0.9 s of work per batch, lease 1.5 s, one thread: the third batch begins ~1.8 s after its claim.
  const s = configureStage(spin, { workers: 1, batchSize: 1, leaseMs: 1500, params: { ms: 900 } });
  const e = await Engine.open({ db: ':memory:', stages: [s], tickMs: 50 });
  await e.enqueue('spin', toyRows(0, 3));
  const r = await e.run();
  const rows = sqlOf(e).all<{ state: string; attempts: number }>('SELECT state, attempts FROM spin');
  const history = sqlOf(e).all<{ key: string; outcome: string; error: string | null }>('SELECT key, outcome, error FROM engine_attempts ORDER BY id');
  assert.deepEqual(rows.map((x) => [x.state, x.attempts]), [['done', 1], ['done', 1], ['done', 1]], JSON.stringify(history));
  assert.equal(r.swept, 0);
  assert.equal(sqlOf(e).get<{ n: number }>("SELECT COUNT(*) AS n FROM engine_attempts WHERE outcome <> 'done'")!.n, 0);
  await e.close();
});

test('a worker thread that crashes: its rows come back through lease expiry and finish on a new thread', async () => {
  const flag = join(tmp(), 'crash.flag');
  const s = configureStage(crashOnce, { workers: 1, params: { flag } });
  const e = await Engine.open({ db: ':memory:', stages: [s], tickMs: 50, batchSizing: 'full' });
  await e.enqueue('crash_once', toyRows(0, 15));
  await e.run();
  const rows = sqlOf(e).all<{ x: number; y: number; state: string; attempts: number; deaths: number }>('SELECT x, y, state, attempts, deaths FROM crash_once');
  assert.ok(rows.every((x) => x.state === 'done' && x.y === squareOf(x.x) && x.attempts === 1));
  assert.equal(rows.filter((x) => x.deaths === 1).length, 5, 'the crashed batch: a death each, no attempt spent');
  const lost = sqlOf(e).all<{ error: string }>("SELECT error FROM engine_attempts WHERE outcome = 'expired'");
  assert.equal(lost.length, 5);
  assert.match(lost[0]!.error, /batch lost \(.*exit.*\); lease ended/i);
  await e.close();
});

test('forks: the same work under another table with its own priority; scale changes a pool while running; stop releases claimed rows', async () => {
  const db = join(tmp(), 'f.db');
  const slow = configureStage(spin, { batchSize: 1, params: { ms: 15 }, workers: 1 });
  const fork = forkStage(square, { name: 'square_rev', priority: { fn: 'negative_x' } });
  const events: EngineEvent[] = [];
  const e = await Engine.open({ db, stages: [slow, fork], tickMs: 20, events: (ev) => events.push(ev) });
  await e.enqueue('spin', toyRows(0, 400));
  await e.enqueue('square_rev', toyRows(0, 10));
  const stop = new AbortController();
  const running = e.run({ signal: stop.signal });
  const other = openStore(db);
  scale(other.sql, 'spin', 2);
  const t0 = Date.now();
  while (e.workerCounts()['spin'] !== 2 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(e.workerCounts()['spin'], 2);
  // A priority swapped by another connection is adopted by the running engine within a tick.
  setPriority(other.sql, 'spin', '-x');
  const adopted = () => events.some((ev) => ev.type === 'priority' && ev.stage === 'spin' && ev.to === '-x');
  while (!adopted() && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
  assert.ok(adopted(), 'the running engine adopted the new priority');
  assert.ok(events.some((ev) => ev.type === 'scale' && ev.stage === 'spin' && ev.from === 1 && ev.to === 2), 'a scale event');
  while (other.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM square_rev WHERE state = 'done'")!.n < 10) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  const r = await running;
  assert.equal(r.stopped, true);
  const c = other.sql.all<{ state: string; n: number }>('SELECT state, COUNT(*) AS n FROM spin GROUP BY state ORDER BY state');
  assert.ok(!c.some((x) => x.state === 'running'), 'no row left running after a stop');
  assert.ok(c.some((x) => x.state === 'pending'), 'the run was stopped before the end');
  assert.equal(other.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM spin WHERE state = 'pending' AND attempts > 0")!.n, 0, 'released rows keep their attempts');
  const rev = other.sql.all<{ x: number; y: number }>("SELECT x, y FROM square_rev WHERE state = 'done' ORDER BY x");
  assert.deepEqual(rev.map((x) => x.y), rev.map((x) => squareOf(x.x)));
  assert.match(other.sql.get<{ detail: string }>("SELECT detail FROM engine_events WHERE kind = 'scale'")!.detail, /"from":1,"to":2/);
  other.close();
  await e.close();
});

test('a finished upstream row is admitted downstream in the same transaction and claimed while the upstream stage is still running', async () => {
  // 6 upstream batches of 30 ms on one thread; the downstream stage has no filter, so nothing but the
  // admission at write time (no broadening) can bring rows into it during the run.
  const up = configureStage(spin, { workers: 1, batchSize: 4, params: { ms: 30 } });
  const e = await Engine.open({ db: ':memory:', stages: [up, configureStage(spinNext, { workers: 1 })], tickMs: 50 });
  await e.enqueue('spin', toyRows(0, 24));
  await e.run();
  const ups = sqlOf(e).all<{ key: string; finished_at: number; state: string }>('SELECT key, finished_at, state FROM spin ORDER BY id');
  const downs = sqlOf(e).all<{ key: string; y: number; z: number; state: string; created_at: number; started_at: number }>('SELECT key, y, z, state, created_at, started_at FROM spin_next ORDER BY id');
  assert.ok(ups.every((r) => r.state === 'done'));
  // Rows are admitted in the order their upstream batches finish: on threads the stages share, a later
  // batch of a one-worker stage may finish first (each thread takes its own next batch).
  assert.deepEqual(downs.map((r) => r.key).sort(), ups.map((r) => r.key).sort(), 'every upstream row reached the downstream stage');
  const finishedAt = new Map(ups.map((r) => [r.key, r.finished_at]));
  for (const r of downs) {
    assert.equal(r.created_at, finishedAt.get(r.key), `${r.key} admitted in the transaction that finished it upstream`);
    assert.deepEqual([r.state, r.z], ['done', r.y + 1], r.key);
  }
  const lastUp = Math.max(...ups.map((r) => r.finished_at));
  const firstClaim = Math.min(...downs.map((r) => r.started_at));
  assert.ok(firstClaim < lastUp, `a downstream row was claimed (at ${firstClaim}) before the last upstream row finished (at ${lastUp})`);
  await e.close();
});

for (const mode of ['fractured', 'fixed'] as const) {
test(`${mode}: a stage whose upstream another engine runs is fed as that engine finishes rows, and does not stop before it is through`, async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'fracflow-foreign-')), 'f.db');
  // The upstream engine: 8 batches of 150 ms on one thread (long enough for the downstream engine's
  // threads to start on a loaded machine). The downstream engine runs spin_next only.
  const upstream = await Engine.open({ db, stages: [configureStage(spin, { workers: 1, batchSize: 5, params: { ms: 150 } })], tickMs: 50 });
  await upstream.enqueue('spin', toyRows(0, 40));
  const downstream = await Engine.open({ db, stages: [configureStage(spinNext, { workers: 1, batchSize: 5 })], tickMs: 50 });
  const [, rep] = await Promise.all([upstream.run(), downstream.run({ mode })]);
  assert.equal(rep.stages['spin_next']!.rowsDone, 40, 'every upstream row was admitted and run in the same downstream run');
  const ups = sqlOf(upstream).all<{ key: string; finished_at: number }>('SELECT key, finished_at FROM spin ORDER BY id');
  const downs = sqlOf(downstream).all<{ key: string; started_at: number; z: number; y: number }>('SELECT key, started_at, z, y FROM spin_next ORDER BY key');
  assert.deepEqual(downs.map((r) => r.key), ups.map((r) => r.key).sort());
  for (const r of downs) assert.equal(r.z, r.y + 1, r.key);
  const lastUp = Math.max(...ups.map((r) => r.finished_at));
  assert.ok(Math.min(...downs.map((r) => r.started_at)) < lastUp, 'rows were taken downstream while the other engine was still running');
  await upstream.close();
  await downstream.close();
});
}

test('a stage fed by an upstream stage that this engine and another both run admits the other engine\'s rows too', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'fracflow-shared-')), 'f.db');
  const up = configureStage(spin, { workers: 1, batchSize: 2, params: { ms: 30 } });
  const one = await Engine.open({ db, stages: [up], tickMs: 50 });
  await one.enqueue('spin', toyRows(0, 40));
  const both = await Engine.open({ db, stages: [up, configureStage(spinNext, { workers: 1 })], tickMs: 50 });
  await Promise.all([one.run(), both.run()]);
  const holders = sqlOf(both).all<{ n: number }>("SELECT COUNT(*) AS n FROM engine_attempts WHERE stage = 'spin' AND outcome = 'done' GROUP BY claimed_by");
  assert.equal(holders.length, 2, 'both engines finished upstream rows');
  assert.equal(sqlOf(both).get<{ n: number }>("SELECT COUNT(*) AS n FROM spin_next WHERE state = 'done'")!.n, 40, 'every upstream row went through the downstream stage in this run');
  await one.close();
  await both.close();
});

test('scale resizes a running stage\'s pool: one thread runs every row at 1 worker, two fresh threads share the rows claimed after scaling to 2', async () => {
  const s = configureStage(threadIdStage, { workers: 1, params: { ms: 8 } });
  const e = await Engine.open({ db: ':memory:', stages: [s], tickMs: 20 });
  await e.enqueue('thread_id', toyRows(0, 120));
  const running = e.run();
  const done = () => sqlOf(e).get<{ n: number }>("SELECT COUNT(*) AS n FROM thread_id WHERE state = 'done'")!.n;
  const t0 = Date.now();
  while (done() < 8 && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 10));
  const scaledAt = Date.now();
  // Through the control table, as `fracflow scale` from another process does; the engine applies it on a tick.
  scale(sqlOf(e), 'thread_id', 2);
  while (e.workerCounts()['thread_id'] !== 2 && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 5));
  const appliedAt = Date.now();
  assert.equal(e.workerCounts()['thread_id'], 2);
  const left = sqlOf(e).get<{ n: number }>("SELECT COUNT(*) AS n FROM thread_id WHERE state = 'pending'")!.n;
  assert.ok(left >= 40, `rows left for the new pool: ${left}`);
  await running;
  const rows = sqlOf(e).all<{ y: number; state: string; started_at: number; finished_at: number }>('SELECT y, state, started_at, finished_at FROM thread_id ORDER BY id');
  assert.ok(rows.every((r) => r.state === 'done'));
  const before = new Set(rows.filter((r) => r.finished_at < scaledAt).map((r) => r.y));
  const after = new Set(rows.filter((r) => r.started_at > appliedAt).map((r) => r.y));
  assert.equal(before.size, 1, `threads before scaling: ${[...before].join(', ')}`);
  assert.equal(after.size, 2, `threads for rows claimed after scaling: ${[...after].join(', ')}`);
  assert.ok(![...after].some((t) => before.has(t)), 'the rows claimed after scaling ran on the new pool, not the retired thread');
  await e.close();
});

for (const mode of ['fractured', 'fixed'] as const) {
  test(`${mode}: a full disk halts the stage (no row failed, its rows back unrun), the stages below finish what they have, the run ends and reports the path`, async () => {
    const e = await Engine.open({ db: ':memory:', stages: [configureStage(fullDisk, { workers: 1 }), fullDiskNext], tickMs: 20 });
    await e.enqueue('full_disk', toyRows(0, 30));
    const r = await e.run({ mode, workflows: 1 });
    assert.equal(r.halted.length, 1);
    assert.deepEqual([r.halted[0]!.stage, r.halted[0]!.code, r.halted[0]!.path], ['full_disk', 'ENOSPC', '/dev/full']);
    assert.match(haltMessage(r.halted[0]!), /^cannot write \/dev\/full: no space left on device \(ENOSPC\)$/);
    const rows = sqlOf(e).all<{ x: number; state: string; attempts: number; deaths: number }>('SELECT x, state, attempts, deaths FROM full_disk ORDER BY x');
    assert.deepEqual(rows.filter((x) => x.state !== 'done' && x.state !== 'pending'), [], 'no row failed or left running');
    for (const x of rows) if (x.x >= 10) assert.deepEqual([x.state, x.attempts, x.deaths], ['pending', 0, 0], `x=${x.x}`);
    const done = rows.filter((x) => x.state === 'done').map((x) => x.x);
    assert.ok(done.length > 0 && done.every((x) => x < 10), `done: ${done}`);
    const below = sqlOf(e).all<{ state: string }>('SELECT state FROM full_disk_next');
    assert.equal(below.length, done.length);
    assert.ok(below.every((x) => x.state === 'done'), 'the stage below finished every row it got');
    const ev = sqlOf(e).all<{ stage: string; kind: string; detail: string }>("SELECT stage, kind, detail FROM engine_events WHERE kind = 'halt'");
    assert.equal(ev.length, 1);
    assert.equal((JSON.parse(ev[0]!.detail) as { path: string }).path, '/dev/full');
    await e.close();
  });
}

test('a row that kills its worker thread every time ends failed (fail_kind died) after maxDeaths with that reason; its batchmates run alone after one death and finish', async () => {
  const e = await Engine.open({ db: ':memory:', stages: [configureStage(diesOnThree, { workers: 1 })], tickMs: 20 });
  await e.enqueue('dies_on_three', toyRows(0, 12));
  await e.run();
  const rows = sqlOf(e).all<{ x: number; state: string; attempts: number; deaths: number; fail_kind: string | null; last_error: string | null }>('SELECT x, state, attempts, deaths, fail_kind, last_error FROM dies_on_three ORDER BY x');
  const three = rows.find((x) => x.x === 3)!;
  assert.deepEqual([three.state, three.deaths, three.attempts, three.fail_kind], ['failed', 3, 0, 'died']);
  assert.match(three.last_error!, /^batch lost \(worker exited with code: 7\); lease ended \(holder .*, death 3 of 3\)$/);
  for (const x of rows) if (x.x !== 3) assert.deepEqual([x.state, x.attempts, x.deaths <= 1], ['done', 1, true], `x=${x.x}`);
  const deaths = sqlOf(e).all<{ key: string }>("SELECT key FROM engine_attempts WHERE outcome = 'expired' AND key = 'k3'");
  assert.equal(deaths.length, 3, 'every death is in the attempt history');
  await e.close();
});

test('batchesPerThread: one batch per thread at a time runs every row once; a value out of range is refused naming it', async () => {
  const e = await Engine.open({ db: ':memory:', stages: [configureStage(square, { workers: 2, batchSize: 4 })], tickMs: 20, batchesPerThread: 1 });
  await e.enqueue('square', toyRows(0, 50));
  await e.run();
  const rows = sqlOf(e).all<{ x: number; y: number; state: string; attempts: number }>('SELECT x, y, state, attempts FROM square ORDER BY x');
  assert.equal(rows.length, 50);
  assert.ok(rows.every((r) => r.state === 'done' && r.y === squareOf(r.x) && r.attempts === 1));
  await e.close();
  for (const bad of [0, 1.5, 65]) {
    await assert.rejects(Engine.open({ db: ':memory:', stages: [square], batchesPerThread: bad }), new RangeError(`engine: batchesPerThread must be an integer from 1 to 64, got ${bad}`));
  }
  for (const bad of ['big', { targetMs: 0 }, { targetMs: -5 }, { targetMs: Infinity }, null]) {
    await assert.rejects(Engine.open({ db: ':memory:', stages: [square], batchSizing: bad as never }), new RangeError(`engine: batchSizing must be 'ramp', 'full' or { targetMs: a positive number of ms }, got ${JSON.stringify(bad)}`));
  }
});
