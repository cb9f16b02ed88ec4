/**
 * The store contract (src/store/interface.ts), run against every backend: SQLite and a real
 * PostgreSQL server (test/support/postgres.ts). Rows are read back through the store's own export,
 * so the same assertions hold for both.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openQueue } from '../../src/store/index.js';
import type { Claim, QueueStore } from '../../src/store/interface.js';
import { configureStage, defineStage, type Stage } from '../../src/stage-kit/stage.js';
import { square, plusOne, toyRows } from '../engine/fixtures/toy-stages.js';
import { BACKENDS } from '../support/backends.js';

type Row = Record<string, unknown>;

async function rows(store: QueueStore, table: string): Promise<Row[]> {
  const text = Buffer.from(await store.exportTable(table, 'json')).toString('utf8');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
}

function pick(r: Row, ...cols: string[]): Row {
  return Object.fromEntries(cols.map((c) => [c, r[c]]));
}

function queue(store: QueueStore, stage: string) {
  const empty = (): Claim => ({ stage, ids: [], keys: [], attempts: [], deaths: [], inputs: [] });
  return {
    claim: async (by: string, n: number, now = Date.now()) => (await store.exchange(by, [], [{ stage, batchSize: n, batches: 1, suspect: false }], now)).claims[0] ?? empty(),
    claimSuspect: async (by: string, now = Date.now()) => (await store.exchange(by, [], [{ stage, batchSize: 1, batches: 0, suspect: true }], now)).claims[0] ?? empty(),
    finish: async (by: string, ids: readonly number[], outputs: unknown[][], now?: number) => (await store.exchange(by, [{ stage, done: { ids: [...ids], outputs }, failed: [] }], [], now)).written[0]!,
  };
}

/** A stage whose priority uses every function of the portable subset and whose filter uses a cutoff. */
const exprSource = defineStage({
  module: import.meta.url,
  name: 'expr_src',
  input: { columns: { x: 'float64', tag: 'utf8' } },
  output: { y: 'float64' },
  priority: "CASE WHEN tag = 'top' THEN 1000 ELSE 0 END + round(x / 4.0, 1) + max(x, 2) - min(x, 5) + coalesce(NULL, abs(-0.5)) + nullif(x, 3) * 0 - (x % 3)",
  work: (b) => b,
});
const exprSink = defineStage({
  module: import.meta.url,
  name: 'expr_sink',
  input: { from: 'expr_src', columns: { y: 'float64' } },
  filter: { sql: "u.y BETWEEN 1 AND :yMax AND u.tag IN ('a', 'top') AND NOT u.y IS NULL", cutoffs: { yMax: { initial: 5, step: 5, max: 20 } } },
  priority: '-y',
  output: { z: 'float64' },
  work: (b) => b,
});

/**
 * The portable priority computed in JS, as SQLite and PostgreSQL must agree on it: round half away
 * from zero, `%` on truncated integers, and `nullif(3, 3) * 0` NULL, which makes the whole priority
 * NULL and so 0 (a NULL priority counts as 0).
 */
function exprPriority(x: number, tag: string): number {
  if (x === 3) return 0;
  const round1 = (v: number) => Math.sign(v) * Math.round(Math.abs(v) * 10) / 10;
  return (tag === 'top' ? 1000 : 0) + round1(x / 4) + Math.max(x, 2) - Math.min(x, 5) + 0.5 - (Math.trunc(x) % 3);
}

for (const make of BACKENDS) {
  const backend = make();
  describe(`store contract on ${backend.name}`, { skip: backend.skip }, () => {
    const open: QueueStore[] = [];
    before(() => backend.start());
    after(async () => {
      for (const s of open) await s.close().catch(() => undefined);
      backend.stop();
    });
    async function fresh(stages: readonly Stage[] = [square, plusOne]): Promise<{ location: string; store: QueueStore; other: () => Promise<QueueStore> }> {
      const location = await backend.fresh();
      const store = await openQueue(location);
      open.push(store);
      await store.ensure(stages);
      const other = async () => {
        const s = await openQueue(location);
        open.push(s);
        await s.ensure(stages);
        return s;
      };
      return { location, store, other };
    }

    test('claims take the highest priority first and never the same row twice, also across two connections', async () => {
      const { store, other } = await fresh();
      await store.enqueue('square', toyRows(0, 10), 0);
      const a = await queue(store, 'square').claim('A', 3, 1000);
      assert.deepEqual(a.keys, ['k9', 'k8', 'k7']);
      assert.deepEqual([a.attempts, a.deaths, a.inputs], [[1, 1, 1], [0, 0, 0], [[9, 8, 7]]]);
      const second = await other();
      const [b, c] = await Promise.all([queue(store, 'square').claim('B', 4, 1000), queue(second, 'square').claim('C', 4, 1000)]);
      assert.equal(b.ids.length + c.ids.length, 7);
      assert.equal(new Set([...a.ids, ...b.ids, ...c.ids]).size, 10);
      assert.equal((await queue(store, 'square').claim('D', 5, 1000)).ids.length, 0);
    });

    test('completion is guarded by holder and lease: a worker whose lease expired cannot complete a row another worker now holds', async () => {
      const { store } = await fresh([configureStage(square, { leaseMs: 500 })]);
      const q = queue(store, 'square');
      await store.enqueue('square', toyRows(0, 2), 0);
      const a = await q.claim('A', 1, 1000);
      assert.deepEqual(await q.finish('B', a.ids, [[1]], 1100), [], 'another holder cannot finish it');
      assert.equal(await store.renew('square', 'B', a.ids, 5000), 0, 'nor renew it');
      assert.equal(await store.renew('square', 'A', a.ids, 1400), 1, 'the holder renews (heartbeat)');
      assert.deepEqual(await store.sweep('square', {}, 1300), { returned: 0, failed: 0 }, 'a renewed lease is not swept');
      assert.deepEqual(await store.sweep('square', {}, 1500), { returned: 1, failed: 0 });
      const b = await q.claim('B', 1, 1700);
      assert.deepEqual([b.ids, b.attempts, b.deaths], [a.ids, [1], [1]]);
      assert.deepEqual(await q.finish('A', a.ids, [[99]], 1800), [], 'the old holder writes nothing');
      assert.deepEqual(await store.fail('square', 'A', [{ id: a.ids[0]!, error: 'late' }], 1800), { retried: 0, failed: 0 });
      assert.deepEqual(await q.finish('B', b.ids, [[1.5]], 1800), b.ids);
      const r = (await rows(store, 'square')).find((x) => x['id'] === a.ids[0])!;
      assert.deepEqual(pick(r, 'state', 'y', 'attempts', 'deaths', 'claimed_by'), { state: 'done', y: 1.5, attempts: 1, deaths: 1, claimed_by: 'B' });
      const hist = (await rows(store, 'engine_attempts')).map((x) => pick(x, 'attempt', 'outcome', 'claimed_by', 'error'));
      assert.deepEqual(hist, [
        { attempt: 1, outcome: 'expired', claimed_by: null, error: 'lease expired (holder A, death 1 of 10)' },
        { attempt: 1, outcome: 'done', claimed_by: 'B', error: null },
      ]);
    });

    test('deaths, not attempts: sweeps fail a row (fail_kind died) only at maxDeaths; release spends neither; two sweepers take a row back once', async () => {
      const { store, other } = await fresh([configureStage(square, { leaseMs: 10, retry: { maxAttempts: 1, maxDeaths: 3 } })]);
      await store.enqueue('square', toyRows(0, 2), 0);
      const c = await queue(store, 'square').claim('A', 2, 0);
      assert.equal(await store.release('square', 'B', [c.ids[0]!], 5), 0, 'only the holder releases');
      assert.equal(await store.release('square', 'A', [c.ids[0]!], 5), 1);
      const second = await other();
      const swept = await Promise.all([store.sweep('square', {}, 100), second.sweep('square', {}, 100)]);
      assert.equal(swept[0].returned + swept[1].returned, 1, JSON.stringify(swept));
      for (let death = 2; death <= 3; death++) {
        const again = await store.claimKeys('square', `H${death}`, ['k0'], death * 1000);
        assert.deepEqual([again.attempts, again.deaths], [[1], [death - 1]]);
        assert.deepEqual(await store.sweep('square', { reason: 'batch lost (worker exited with code: 3); lease ended' }, death * 1000 + 100), death < 3 ? { returned: 1, failed: 0 } : { returned: 0, failed: 1 });
      }
      const byKey = new Map((await rows(store, 'square')).map((r) => [r['key'], r]));
      assert.deepEqual(pick(byKey.get('k0')!, 'state', 'attempts', 'deaths', 'fail_kind', 'last_error'), { state: 'failed', attempts: 0, deaths: 3, fail_kind: 'died', last_error: 'batch lost (worker exited with code: 3); lease ended (holder H3, death 3 of 3)' });
      assert.deepEqual(pick(byKey.get('k1')!, 'state', 'attempts', 'deaths'), { state: 'pending', attempts: 0, deaths: 0 });
      assert.deepEqual((await rows(store, 'engine_attempts')).map((r) => [r['key'], r['attempt'], r['outcome']]), [['k1', 1, 'released'], ['k0', 1, 'expired'], ['k0', 1, 'expired'], ['k0', 1, 'expired']]);
      assert.deepEqual((await store.status(['square'], undefined, 10_000))[0]!, { stage: 'square', pending: 1, running: 0, done: 0, failed: 1, failedDied: 1, workers: 1, rowsPerSec: 0, etaSec: null });
    });

    test('failed attempts back off and end failed; requeue gives them back; stale rows are requeued; quarantine claims one at a time', async () => {
      const { store } = await fresh([configureStage(square, { leaseMs: 10, retry: { maxAttempts: 2, backoffMs: 100, maxBackoffMs: 150, maxDeaths: 9 } })]);
      const q = queue(store, 'square');
      await store.enqueue('square', [{ key: 'a', x: 1 }], 0);
      let c = await q.claim('W', 1, 0);
      assert.deepEqual(await store.fail('square', 'W', [{ id: c.ids[0]!, error: 'boom 1' }], 10), { retried: 1, failed: 0 });
      assert.equal((await q.claim('W', 1, 109)).ids.length, 0, 'backing off');
      c = await q.claim('W', 1, 110);
      assert.deepEqual(await store.fail('square', 'W', [{ id: c.ids[0]!, error: 'boom 2' }], 200), { retried: 0, failed: 1 });
      assert.deepEqual((await store.errorGroups('square')).map((g) => [g.message, g.rows, g.attempts]), [['boom 2', 1, 2]]);
      assert.equal(await store.requeue('square', 'failed', 300), 1);
      c = await q.claim('X', 1, 400);
      assert.deepEqual(c.attempts, [1]);
      assert.equal(await store.requeue('square', 'stale', 405), 0, 'lease still running');
      assert.equal(await store.requeue('square', 'stale', 500), 1);
      // Quarantine: two deaths or more.
      await store.enqueue('square', toyRows(0, 3), 600);
      for (let d = 0; d < 2; d++) {
        await store.claimKeys('square', 'Q', ['k2'], 700 + d * 100);
        await store.sweep('square', {}, 750 + d * 100);
      }
      assert.deepEqual((await q.claim('A', 10, 1000)).keys.sort(), ['a', 'k0', 'k1']);
      assert.deepEqual((await q.claimSuspect('A', 1000)).keys, ['k2']);
      assert.deepEqual((await q.claimSuspect('A', 1000)).keys, []);
    });

    test('downstream admission happens in the completing unit of work; broadening widens step by step; submit and scale', async () => {
      const { store } = await fresh();
      const q = queue(store, 'square');
      await store.enqueue('square', toyRows(0, 12), 0);
      const c = await q.claim('A', 12, 0);
      const r = await store.exchange('A', [{ stage: 'square', done: { ids: c.ids.slice(0, 6), outputs: [c.inputs[0]!.slice(0, 6).map((x) => (x as number) ** 2)] }, failed: [] }], [], 1);
      assert.deepEqual(r.admitted, [{ stage: 'plus_one', keys: ['k6'] }]);
      await q.finish('A', c.ids.slice(6), [c.inputs[0]!.slice(6).map((x) => (x as number) ** 2)], 2);
      assert.deepEqual((await rows(store, 'plus_one')).map((x) => x['key']), ['k6', 'k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
      assert.deepEqual(await store.admit('plus_one'), [], 'admitted once');
      assert.deepEqual((await store.broaden('plus_one', 10))!.admitted, ['k7', 'k8']);
      assert.deepEqual(await store.cutoffs('plus_one'), { yMax: 70 });
      assert.equal(await store.broaden('plus_one', 15, { yMax: 40 }), null, 'cutoffs no longer the ones seen');
      assert.deepEqual((await store.broaden('plus_one', 20, { yMax: 70 }))!.admitted, ['k9', 'k10']);
      assert.equal(await store.broaden('plus_one', 30), null);
      const p = (await rows(store, 'plus_one')).find((x) => x['key'] === 'k9')!;
      assert.deepEqual(JSON.parse(p['params'] as string), { cutoffs: { yMax: 100 } });
      await store.submit('plus_one', 'k2', 40);
      assert.deepEqual((await queue(store, 'plus_one').claim('B', 2, 50)).keys, ['k2', 'k6']);
      assert.deepEqual(await store.scale('plus_one', 4, 60), { from: 1, to: 4, workers: [] });
      assert.deepEqual((await store.control(['plus_one']))[0]!.workers, 4);
      await assert.rejects(store.scale('cube', 2), /no stage named "cube" in this store \(stages: square, plus_one\)/);
      await assert.rejects(store.submit('plus_one', 'k2'), /stage plus_one: key "k2" is running; only pending or failed rows can be submitted/);
      assert.deepEqual((await rows(store, 'engine_events')).map((e) => e['kind']), ['broaden', 'broaden', 'submit', 'scale']);
    });

    test('two processes broadening at once broaden once', async () => {
      const { store, other } = await fresh();
      const second = await other();
      await store.enqueue('square', toyRows(0, 12), 0);
      const c = await queue(store, 'square').claim('A', 12, 0);
      await queue(store, 'square').finish('A', c.ids, [c.inputs[0]!.map((x) => (x as number) ** 2)], 1);
      // Both drain plus_one's first rows, then both find it drained with the cutoffs they read.
      const first = await queue(store, 'plus_one').claim('A', 100, 2);
      await queue(store, 'plus_one').finish('A', first.ids, [first.ids.map(() => 0)], 3);
      const seenA = await store.cutoffs('plus_one');
      const seenB = await second.cutoffs('plus_one');
      const results = await Promise.all([store.broaden('plus_one', 10, seenA), second.broaden('plus_one', 10, seenB)]);
      assert.equal(results.filter((x) => x !== null).length, 1, JSON.stringify(results));
      assert.deepEqual(await store.cutoffs('plus_one'), { yMax: 70 });
      assert.equal((await rows(store, 'engine_events')).filter((e) => e['kind'] === 'broaden').length, 1);
    });

    test('the portable priority and filter expressions give the same order and admissions as computed by hand', async () => {
      const { store } = await fresh([exprSource, exprSink]);
      const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8.5, 9, 10, 12];
      await store.enqueue('expr_src', xs.map((x, i) => ({ key: `e${i}`, x, tag: i === 4 ? 'top' : i % 3 === 0 ? 'b' : 'a' })), 0);
      const c = await queue(store, 'expr_src').claim('A', 100, 0);
      const expect = xs.map((x, i) => ({ key: `e${i}`, p: exprPriority(x, i === 4 ? 'top' : i % 3 === 0 ? 'b' : 'a') })).sort((a, b) => b.p - a.p || Number(a.key.slice(1)) - Number(b.key.slice(1)));
      assert.deepEqual(c.keys, expect.map((e) => e.key));
      const prio = new Map((await rows(store, 'expr_src')).map((r) => [r['key'], r['priority']]));
      for (const e of expect) assert.ok(Math.abs((prio.get(e.key) as number) - e.p) < 1e-12, `${e.key}: ${prio.get(e.key)} vs ${e.p}`);
      // y = x: admitted when 1 <= y <= 5 and tag a|top.
      await queue(store, 'expr_src').finish('A', c.ids, [c.inputs[0]!], 1);
      const admitted = (await rows(store, 'expr_sink')).map((r) => r['key']).sort();
      assert.deepEqual(admitted, ['e1', 'e2', 'e4', 'e5']);
      assert.deepEqual((await store.broaden('expr_sink', 2))!.admitted.sort(), ['e10', 'e7', 'e8'], 'yMax 10: x = 7, 8.5, 10 with tag a');
      await store.setPriority('expr_sink', 'y', 3);
      assert.deepEqual((await queue(store, 'expr_sink').claim('B', 3, 4)).keys, ['e10', 'e8', 'e7'], 'a priority swap re-scores the pending rows');
    });

    test('waitForWork wakes an idle worker when rows arrive and times out when none do', async () => {
      const { store, other } = await fresh();
      const t0 = Date.now();
      await store.waitForWork(['square'], 150);
      assert.ok(Date.now() - t0 >= 140, 'no work: waits its time');
      const second = await other();
      const waiting = store.waitForWork(['square'], 10_000);
      setTimeout(() => void second.enqueue('square', toyRows(0, 1)), 100);
      const t1 = Date.now();
      await waiting;
      assert.ok(Date.now() - t1 < 5000, `woke after ${Date.now() - t1} ms`);
    });

    test('export and checkpoint: every stage table as CSV and Arrow, all of one moment', async () => {
      const { store, location } = await fresh();
      await store.enqueue('square', toyRows(0, 5), 0);
      const c = await queue(store, 'square').claim('A', 5, 1);
      await queue(store, 'square').finish('A', c.ids, [c.inputs[0]!.map((x) => (x as number) + 0.5)], 2);
      const csv = Buffer.from(await store.exportTable('square', 'csv')).toString('utf8').split('\n');
      assert.equal(csv.length, 7);
      assert.match(csv[0]!, /^id,key,state,priority,boost,claimed_by,lease_until,attempts,deaths,fail_kind,available_at,last_error,created_at,started_at,finished_at,updated_at,input_hash,params,code_version,x,y$/);
      assert.deepEqual(csv.slice(1, 6).map((l) => l.split(',')[1]), ['k0', 'k1', 'k2', 'k3', 'k4']);
      await assert.rejects(store.exportTable('nope', 'csv'), /no table named "nope"/);
      const dir = mkdtempSync(join(tmpdir(), 'fracflow-cp-'));
      try {
        const files = await store.checkpoint(join(dir, 'cp'));
        for (const t of ['square', 'plus_one']) {
          assert.ok(files.includes(join(dir, 'cp', `${t}.csv`)) && files.includes(join(dir, 'cp', `${t}.arrow`)), `${t} in ${files.join(', ')}`);
        }
        assert.equal(readFileSync(join(dir, 'cp', 'square.csv'), 'utf8'), csv.join('\n'));
        assert.equal(readFileSync(join(dir, 'cp', 'plus_one.csv'), 'utf8').split('\n').filter(Boolean).length, 6, 'x = 0..4 → y ≤ 40 admits all five');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      assert.ok(location.length > 0);
    });

    test('worker registry: register, beat, scale spreads the count over live workers, deregister; jobs and their states; the registration a worker runs from', async () => {
      const { store } = await fresh();
      const now = Date.now();
      await store.registerWorker({ id: 'h:1:a', host: 'elsewhere', pid: 1, stage: 'square', threads: 1, job: 'slurm:7_0' }, now);
      await store.registerWorker({ id: 'h:2:b', host: 'elsewhere', pid: 2, stage: 'square', threads: 1 }, now + 1);
      assert.deepEqual(await store.heartbeatWorker('h:1:a', 12, now + 2), { threads: 1 });
      assert.equal(await store.heartbeatWorker('nobody', 1, now + 2), null);
      const s = await store.scale('square', 5, now + 3);
      assert.deepEqual([s.from, s.to, s.workers], [1, 5, [{ id: 'h:1:a', threads: 3 }, { id: 'h:2:b', threads: 2 }]]);
      assert.deepEqual(await store.heartbeatWorker('h:2:b', 0, now + 4), { threads: 2 });
      const ws = await store.workers('square', now + 5);
      assert.deepEqual(ws.map((w) => [w.id, w.threads, w.rowsDone, w.job, w.stale]), [['h:1:a', 3, 12, 'slurm:7_0', false], ['h:2:b', 2, 0, null, false]]);
      assert.deepEqual((await store.workers('square', now + 600_000)).map((w) => w.stale), [true, true], 'no beat for long: stale');
      await store.deregisterWorker('h:1:a', now + 6);
      assert.deepEqual((await store.workers(undefined, now + 6)).map((w) => w.id), ['h:2:b']);
      await store.recordJob({ scheduler: 'slurm', jobId: '77', stage: 'square', tasks: 2, script: '/x/job.sbatch', submittedAt: now }, now);
      await store.recordJob({ scheduler: 'slurm', jobId: '77', stage: 'square', tasks: 2, script: '/x/job.sbatch', submittedAt: now }, now);
      await store.setJobStates('slurm', [{ jobId: '77', state: 'RUNNING' }], now + 7);
      assert.deepEqual((await store.jobs('square')).map((j) => [j.jobId, j.tasks, j.state, j.checkedAt]), [['77', 2, 'RUNNING', now + 7]]);
      const reg = await store.registration('square');
      assert.deepEqual([reg?.module, reg?.work, reg?.workers, (reg?.spec as { queueInThread?: boolean }).queueInThread], [square.module, square.workName, 5, square.queueInThread]);
      assert.equal(await store.registration('nope'), null);
    });

    test('learned-priority training rows: features of the ranked stage joined to the finished target downstream; means; names checked', async () => {
      const { store } = await fresh();
      await store.enqueue('square', toyRows(0, 4), 0);
      const q = queue(store, 'square');
      const c = await q.claim('A', 4, 1000);
      await q.finish('A', c.ids, [c.inputs[0]!.map((x) => (x as number) ** 2)], 1001);
      const p = queue(store, 'plus_one');
      const d = await p.claim('A', 2, 1002);
      await p.finish('A', d.ids, [d.inputs[0]!.map((y) => (y as number) + 1)], 1003);
      const t = await store.trainingRows('square', { table: 'plus_one', column: 'z' }, ['x']);
      assert.deepEqual([t.keys, t.x, t.y], [[...d.keys].sort(), [...d.keys].sort().map((k) => [Number(k.slice(1))]), [...d.keys].sort().map((k) => Number(k.slice(1)) ** 2 + 1)]);
      assert.deepEqual(await store.featureMeans('square', ['x']), [1.5]);
      await assert.rejects(store.trainingRows('square', { table: 'plus_one', column: 'nope' }, ['x']), /target column "nope" is not a column of plus_one/);
      await assert.rejects(store.trainingRows('square', { table: 'plus_one', column: 'z' }, ['w']), /feature "w" is not a column of square/);
    });

    test('reset drops the stage tables and the run metadata', async () => {
      const { store } = await fresh();
      await store.enqueue('square', toyRows(0, 2), 0);
      assert.deepEqual((await store.reset()).sort(), ['plus_one', 'square']);
      assert.deepEqual(await store.stageNames(), []);
      assert.ok(!(await store.tables()).includes('square'));
    });
  });
}
