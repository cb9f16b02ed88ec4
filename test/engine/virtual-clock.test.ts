/**
 * The engine on a virtual clock: the VirtualClock itself (timer order, time jumps, a run that waits on
 * nothing), and both schedulers driven by it through a simulated batch runner — a hand-checkable case
 * with known makespans in each mode, admission with broadening, priorities, and a lease that expires in
 * virtual time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock, VIRTUAL_EPOCH_MS, sleep } from '../../src/engine/clock.js';
import { defineStage, type Stage } from '../../src/stage-kit/stage.js';
import { simulate } from '../../src/workflow/study/simulate.js';
import type { BatchSizing } from '../../src/engine/engine.js';
import type { SimRow } from '../../src/workflow/study/sim-runner.js';

const H = 3600 * 1000;
const M = import.meta.url;
const never = (): never => {
  throw new Error('simulated only');
};

test('virtual clock: timers fire in time order (ties in the order set), time jumps, clearTimer cancels', async () => {
  const c = new VirtualClock();
  const seen: string[] = [];
  c.setTimer(() => seen.push(`b@${c.now() - VIRTUAL_EPOCH_MS}`), 20);
  c.setTimer(() => seen.push(`a@${c.now() - VIRTUAL_EPOCH_MS}`), 10);
  const x = c.setTimer(() => seen.push('cancelled'), 15);
  c.setTimer(() => seen.push(`b2@${c.now() - VIRTUAL_EPOCH_MS}`), 20);
  c.clearTimer(x);
  const work = (async () => {
    await sleep(c, 30);
    seen.push(`slept@${c.now() - VIRTUAL_EPOCH_MS}`);
    return 'done';
  })();
  assert.equal(await c.drive(work), 'done');
  assert.deepEqual(seen, ['a@10', 'b@20', 'b2@20', 'slept@30']);
});

test('virtual clock: work that waits with no timer pending is an error, not a hang', async () => {
  const c = new VirtualClock();
  await assert.rejects(c.drive(new Promise(() => undefined)), /the work waits but no timer is pending/);
  assert.throws(() => c.setTimer(() => undefined, Number.NaN), /a wait must be a finite number of ms, got NaN/);
});

// The tiny case: 3 structures, 2 stages (a: 1 h per row, b: 2 h per row, b fed by a), 2 cores.
const tinyA = defineStage({ module: M, name: 'a', input: { columns: { n: 'int32' } }, priority: '-n', output: { v: 'float64' }, work: never, batchSize: 1, queueInThread: false, workers: 1, leaseMs: 24 * H });
const tinyB = defineStage({ module: M, name: 'b', input: { from: 'a', columns: { v: 'float64' } }, output: { w: 'float64' }, work: never, batchSize: 1, queueInThread: false, workers: 1, leaseMs: 24 * H });
const tinyWork = (s: Stage, key: string): SimRow => ({ ms: s.name === 'a' ? 1 * H : 2 * H, out: s.name === 'a' ? { v: 1 } : { w: 2 } });
const tinyRows = [1, 2, 3].map((n) => ({ key: `s${n}`, n }));

function span(r: { t0: number; records: { startMs: number; endMs: number }[] }): number {
  return (Math.max(...r.records.map((b) => b.endMs)) - r.t0) / H;
}

test('tiny case, fractured: one core per stage, a = s1 s2 s3 back to back, b follows each: makespan 7 h', async () => {
  const r = await simulate({ stages: [tinyA, tinyB], source: { stage: 'a', rows: tinyRows }, work: tinyWork, cores: () => 1, mode: 'fractured', tickMs: 60_000 });
  assert.equal(span(r), 7);
  const at = (stage: string) => r.records.filter((b) => b.stage === stage).map((b) => [b.keys[0], (b.startMs - r.t0) / H, (b.endMs - r.t0) / H]);
  assert.deepEqual(at('a'), [['s1', 0, 1], ['s2', 1, 2], ['s3', 2, 3]]);
  assert.deepEqual(at('b'), [['s1', 1, 3], ['s2', 3, 5], ['s3', 5, 7]]);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.report.stages['b']!.rowsDone, 3);
});

test('tiny case, fixed: two workflows on two cores, each structure a then b: makespan 6 h', async () => {
  const r = await simulate({ stages: [tinyA, tinyB], source: { stage: 'a', rows: tinyRows }, work: tinyWork, cores: () => 1, mode: 'fixed', workflows: 2, coreBudget: 2, tickMs: 60_000 });
  assert.equal(span(r), 6);
  const s3 = r.records.filter((b) => b.keys[0] === 's3').map((b) => [b.stage, (b.startMs - r.t0) / H, (b.endMs - r.t0) / H]);
  assert.deepEqual(s3, [['a', 3, 4], ['b', 4, 6]]);
  assert.equal(r.report.stages['b']!.rowsDone, 3);
});

test('fixed mode on a core budget: a step that needs more cores than are free waits for them', async () => {
  // Two workflows, 3 cores; b needs 2 cores: the two b rows cannot run together.
  const r = await simulate({ stages: [tinyA, tinyB], source: { stage: 'a', rows: tinyRows.slice(0, 2) }, work: tinyWork, cores: (s) => (s === 'b' ? 2 : 1), mode: 'fixed', workflows: 2, coreBudget: 3, tickMs: 60_000 });
  const b = r.records.filter((x) => x.stage === 'b').map((x) => [(x.startMs - r.t0) / H, (x.endMs - r.t0) / H]);
  assert.deepEqual(b, [[1, 3], [3, 5]]);
});

test('idle fixed-mode workflows polling: 40 workflows on 3 structures wait for work instead of looking every tick', async () => {
  // Regression: each workflow with nothing to claim looked again every idle poll (here every tick),
  // so 37 idle workflows over a 3-hour run made ~6,700 timers. Now they wait to be woken: the timers
  // are the 180 ticks, the 6 batches and their lease timers, and nothing grows with idle workflows.
  const r = await simulate({ stages: [tinyA, tinyB], source: { stage: 'a', rows: tinyRows }, work: tinyWork, cores: () => 1, mode: 'fixed', workflows: 40, coreBudget: 40, tickMs: 60_000 });
  assert.equal(span(r), 3);
  assert.deepEqual(r.records.map((b) => [b.stage, b.keys[0], (b.startMs - r.t0) / H]), [['a', 's1', 0], ['a', 's2', 0], ['a', 's3', 0], ['b', 's1', 1], ['b', 's2', 1], ['b', 's3', 1]]);
  assert.ok(r.timers < 400, `${r.timers} timers fired`);
  assert.equal(r.report.stages['b']!.rowsDone, 3);
});

test('fixed mode: rows a broadening admits wake the idle workflows, which run them side by side', async () => {
  const up = defineStage({ module: M, name: 'up', input: { columns: { x: 'float64' } }, output: { y: 'float64' }, work: never, batchSize: 1, workers: 1, queueInThread: false, leaseMs: 24 * H });
  const down = defineStage({
    module: M, name: 'down', input: { from: 'up', columns: { y: 'float64' } }, filter: { sql: 'u.y <= :yMax', cutoffs: { yMax: { initial: 1, step: 2, max: 3 } } },
    output: { z: 'float64' }, work: never, batchSize: 1, workers: 1, queueInThread: false, leaseMs: 24 * H,
  });
  const r = await simulate({
    stages: [up, down], source: { stage: 'up', rows: [0, 1, 2, 3].map((x) => ({ key: `k${x}`, x })) },
    work: (s, _k, inp) => (s.name === 'up' ? { ms: H, out: { y: inp['x'] } } : { ms: 2 * H, out: { z: 0 } }),
    cores: () => 1, mode: 'fixed', workflows: 4, coreBudget: 4, tickMs: 60_000,
  });
  assert.deepEqual(r.report.broadened.map((b) => [b.name, b.from, b.to]), [['yMax', 1, 3]]);
  // k0 and k1 pass the first cutoff and go down at 1 h; the broadening comes when they finish (3 h),
  // and k2 and k3 start down at once, side by side.
  const down3 = r.records.filter((b) => b.stage === 'down').map((b) => [b.keys[0], (b.startMs - r.t0) / H]).sort();
  assert.deepEqual(down3, [['k0', 1], ['k1', 1], ['k2', 3], ['k3', 3]]);
  assert.equal(span(r), 5);
  assert.deepEqual(r.warnings, []);
});

test('fixed mode: a stop ends the workflows that wait for work as well as the busy ones', async () => {
  const stop = new AbortController();
  const r = await simulate({
    stages: [tinyA, tinyB], source: { stage: 'a', rows: tinyRows.slice(0, 1) }, work: tinyWork, cores: () => 1, mode: 'fixed', workflows: 4, coreBudget: 4, tickMs: 60_000,
    signal: stop.signal,
    setup: (_e, clock) => void clock.setTimer(() => stop.abort(), 30 * 60_000),
  });
  assert.equal(r.report.stopped, true);
  assert.equal(r.report.released, 1, 'the row in flight went back unrun');
  assert.deepEqual(r.records.map((b) => [b.stage, b.cut]), [['a', true]]);
});

test('virtual time: admission cutoff broadened when drained, queue ranked by priority, same result twice', async () => {
  const up = defineStage({ module: M, name: 'up', input: { columns: { x: 'float64' } }, priority: 'x', output: { y: 'float64' }, work: never, batchSize: 2, workers: 1 });
  const down = defineStage({
    module: M, name: 'down', input: { from: 'up', columns: { y: 'float64' } }, filter: { sql: 'u.y <= :yMax', cutoffs: { yMax: { initial: 3, step: 3, max: 6 } } },
    priority: '-y', output: { z: 'float64' }, work: never, batchSize: 1, workers: 1, queueInThread: false,
  });
  const run = () => simulate({
    stages: [up, down], source: { stage: 'up', rows: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, x: i })) },
    work: (s, _k, inp) => (s.name === 'up' ? { ms: 1000, out: { y: inp['x'] } } : { ms: 60_000, out: { z: -(inp['y'] as number) } }),
    cores: () => 1, mode: 'fractured', tickMs: 5_000,
  });
  const r = await run();
  assert.deepEqual(r.report.broadened.map((b) => [b.name, b.from, b.to]), [['yMax', 3, 6]]);
  const downOrder = r.records.filter((b) => b.stage === 'down').map((b) => b.keys[0]);
  assert.deepEqual([...downOrder].sort(), ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
  // Up runs highest x first (priority x); each down row is claimed as soon as admitted, so the first
  // down rows follow up's order, and rows 4–6 wait for the broadening.
  assert.deepEqual(downOrder.slice(-3).sort(), ['k4', 'k5', 'k6']);
  const again = await run();
  assert.deepEqual(again.records, r.records, 'same records twice');
  assert.equal(again.timers, r.timers);
});

test('virtual time: a batch past its lease is a death at the lease expiry; the row fails after maxDeaths', async () => {
  const slow = defineStage({
    module: M, name: 'slow', input: { columns: { x: 'float64' } }, output: { y: 'float64' }, work: never, batchSize: 1, workers: 1, queueInThread: false,
    leaseMs: 10 * 60_000, retry: { maxDeaths: 2 },
  });
  const r = await simulate({ stages: [slow], source: { stage: 'slow', rows: [{ key: 'k', x: 1 }] }, work: () => ({ ms: 3 * H, out: { y: 1 } }), cores: () => 1, mode: 'fractured', tickMs: 60_000 });
  const deaths = r.events.filter((e) => e.event.type === 'death').map((e) => (e.at - r.t0) / 60_000);
  assert.deepEqual(deaths, [10, 20], 'each attempt ended at its 10-minute lease');
  assert.ok(r.records.every((b) => b.cut), 'the batches were cut short');
  assert.equal(r.report.stages['slow']!.rowsDone, 0);
  assert.equal(r.report.swept, 2);
});

test('fractured mode: batches start at one row and double up to batchSize; with a target they hold to about that much work', async () => {
  const stage = (batchSize: number) => defineStage({
    module: M, name: 's', input: { columns: { p: 'float64' } }, priority: 'p', output: { y: 'float64' }, work: never,
    batchSize, workers: 1, queueInThread: false, leaseMs: 24 * H,
  });
  const rows = Array.from({ length: 60 }, (_, i) => ({ key: `r${String(i).padStart(2, '0')}`, p: 100 - i }));
  const sizes = async (batchSize: number, msPerRow: number, batchSizing?: BatchSizing) => {
    const r = await simulate({ stages: [stage(batchSize)], source: { stage: 's', rows }, work: () => ({ ms: msPerRow, out: { y: 1 } }), cores: () => 1, mode: 'fractured', tickMs: 5_000, batchSizing });
    assert.equal(r.report.stages['s']!.rowsDone, 60);
    return r.records.map((b) => b.keys.length);
  };
  // One worker runs one batch and has the next claimed (two claims of one row at the start).
  assert.deepEqual(await sizes(16, 10), [1, 1, 2, 4, 8, 16, 16, 12], 'ramp (the default): doubling up to batchSize');
  assert.deepEqual(await sizes(16, 400), [1, 1, 2, 4, 8, 16, 16, 12], 'ramp: the cost of a row does not hold the size down');
  // With a target of 150 ms, rows of 10 ms: 2, 4, 8, then 15.
  assert.deepEqual(await sizes(16, 10, { targetMs: 150 }), [1, 1, 2, 4, 8, 15, 15, 14]);
  assert.deepEqual(await sizes(16, 10, { targetMs: 40 }), [1, 1, 2, ...Array(14).fill(4)]);
  assert.deepEqual(await sizes(16, 400, { targetMs: 150 }), Array(60).fill(1), 'rows slower than the target run one at a time');
  assert.deepEqual(await sizes(4, 1, { targetMs: 150 }), [1, 1, 2, ...Array(14).fill(4)], 'the stage\'s batchSize below the fit is kept');
  assert.deepEqual(await sizes(16, 10, 'full'), [16, 16, 16, 12], 'full: every claim takes batchSize');
});

test('fractured mode, batchGroup: a full claim\'s last group is held back and runs with the next claim, never cut in two', async () => {
  const grouped = (batchGroup?: string) => defineStage({
    module: M, name: 'g', input: { columns: { grp: 'utf8', p: 'float64' } }, priority: 'p', output: { y: 'float64' }, work: never,
    batchSize: 4, workers: 2, leaseMs: 24 * H, ...(batchGroup ? { batchGroup } : {}),
  });
  // Five groups of three rows, one priority per group (the queue keeps a group together).
  const rows = Array.from({ length: 15 }, (_, i) => ({ key: `r${String(i).padStart(2, '0')}`, grp: `G${Math.floor(i / 3)}`, p: 10 - Math.floor(i / 3) }));
  const grp = new Map(rows.map((r) => [r.key, r.grp]));
  const run = (stage: ReturnType<typeof grouped>) => simulate({ stages: [stage], source: { stage: 'g', rows }, work: () => ({ ms: 60_000, out: { y: 1 } }), cores: () => 1, mode: 'fractured', tickMs: 5_000 });
  const cut = (r: Awaited<ReturnType<typeof run>>) => [...new Set(rows.map((x) => x.grp))].filter((g) => new Set(r.records.filter((b) => b.keys.some((k) => grp.get(k) === g)).map((b) => b.startMs + b.keys.join())).size > 1);
  const plain = await run(grouped());
  assert.ok(cut(plain).length > 0, 'without batchGroup some group is cut between batches (else this test shows nothing)');
  const r = await run(grouped('grp'));
  assert.deepEqual(cut(r), [], 'no group cut between batches');
  assert.deepEqual(r.records.flatMap((b) => b.keys).sort(), rows.map((x) => x.key), 'every row ran once');
  assert.ok(r.records.every((b) => b.keys.length <= 6), 'a batch is at most a batch and a held group');
  assert.equal(r.report.stages['g']!.rowsDone, 15);
  assert.deepEqual(r.warnings, []);
});

test('fractured mode, batchGroup: a stop gives the held-back rows back with those in flight; no batch starts after it', async () => {
  const g = defineStage({
    module: M, name: 'g', input: { columns: { grp: 'utf8', p: 'float64' } }, priority: 'p', output: { y: 'float64' }, work: never,
    batchSize: 4, workers: 1, queueInThread: false, leaseMs: 24 * H, batchGroup: 'grp',
  });
  const rows = Array.from({ length: 15 }, (_, i) => ({ key: `r${String(i).padStart(2, '0')}`, grp: `G${Math.floor(i / 3)}`, p: 10 - Math.floor(i / 3) }));
  const stop = new AbortController();
  let claimed = 0;
  const r = await simulate({
    stages: [g], source: { stage: 'g', rows }, work: () => ({ ms: 60_000, out: { y: 1 } }), cores: () => 1, mode: 'fractured', tickMs: 5_000,
    signal: stop.signal, setup: (_e, clock) => void clock.setTimer(() => stop.abort(), 4 * 60_000),
    events: (e) => void (e.type === 'claim' && (claimed += e.rows)),
  });
  const done = r.report.stages['g']!.rowsDone;
  assert.ok(done > 0 && claimed > done, `${done} rows done of ${claimed} claimed before the stop`);
  assert.equal(done + r.report.released, claimed, 'every claimed row not done went back unrun (held-back rows too: none left running under the lease)');
  // Regression (simulated pool): a batch cut by the stop gave its core back, which started the batch
  // queued behind it before the queue was emptied.
  assert.ok(r.records.every((b) => b.startMs < r.t0 + 4 * 60_000), 'no batch started at or after the stop');
});

test('batchGroup must name an input column: the message names the stage, the columns and the value', () => {
  assert.throws(
    () => defineStage({ module: M, name: 'g', input: { columns: { grp: 'utf8' } }, output: { y: 'float64' }, work: never, batchGroup: 'group' }),
    /stage g: batchGroup must name one of its input columns \(grp\), got "group"/,
  );
});
