/**
 * Learned priorities: ridge regression against its closed forms, the priority expression it makes,
 * the queue reordered as the fit predicts, refits every K results on the engine's tick (virtual
 * clock) with the fits recorded as events, and the validation messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLearnedSpec, Engine, fitRidge, learnedExpression, LearnedPriority, VirtualClock } from '../../src/engine/engine.js';
import { defineStage } from '../../src/stage-kit/stage.js';
import { SimRunner } from '../../src/workflow/study/sim-runner.js';
import { simulate } from '../../src/workflow/study/simulate.js';
import { uniform } from '../../src/workflow/study/corpus.js';
import { sqlOf } from '../helpers/engine.js';

const M = import.meta.url;
const never = (): never => {
  throw new Error('simulated only');
};
const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

/** y = 1 + 2a − 3b, exactly. */
const truth = (a: number, b: number) => 1 + 2 * a - 3 * b;

test('ridge: alpha 0 recovers an exact linear law (R² 1); alpha > 0 matches the one-feature closed form', () => {
  const u = uniform(4);
  const x = Array.from({ length: 40 }, () => [u() * 10, u() * 5]);
  const y = x.map(([a, b]) => truth(a!, b!));
  const f = fitRidge(x, y, 0);
  close(f.intercept, 1, 1e-8);
  close(f.coefficients[0]!, 2, 1e-8);
  close(f.coefficients[1]!, -3, 1e-8);
  close(f.r2, 1, 1e-12);
  assert.ok(f.rmse < 1e-8);
  // One feature: β on the standardised feature is Σz·(y − ȳ) / (n + α) (Σz² = n), β = that / sd.
  const xs = [1, 2, 4, 7, 11];
  const ys = [2, 3, 9, 8, 20];
  const n = xs.length;
  const mx = xs.reduce((s, v) => s + v, 0) / n;
  const my = ys.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(xs.reduce((s, v) => s + (v - mx) ** 2, 0) / n);
  const alpha = 2.5;
  const bz = xs.reduce((s, v, i) => s + ((v - mx) / sd) * (ys[i]! - my), 0) / (n + alpha);
  const r = fitRidge(xs.map((v) => [v]), ys, alpha);
  close(r.coefficients[0]!, bz / sd);
  close(r.intercept, my - (bz / sd) * mx);
  // A constant feature gets coefficient 0.
  assert.equal(fitRidge([[1, 3], [2, 3], [3, 3]], [1, 2, 3], 0).coefficients[1], 0);
  assert.throws(() => fitRidge([[1]], [1], 1), /ridge: need at least 2 rows/);
});

test('learned expression: the negated prediction with each feature defaulting to its mean', () => {
  const e = learnedExpression({ intercept: 1, coefficients: [2, -3.5], r2: 1, rmse: 0 }, ['a', 'b'], [0.5, null], true);
  assert.equal(e, '-((1) + (2) * coalesce(a, (0.5)) + (-3.5) * coalesce(b, (0)))');
  assert.equal(learnedExpression({ intercept: 0.25, coefficients: [1], r2: 1, rmse: 0 }, ['a'], [2], false), '((0.25) + (1) * coalesce(a, (2)))');
});

// `measured` has the target (its work returns y = truth(a, b)); `scored` is the queue to rank.
const measured = defineStage({ module: M, name: 'measured', input: { columns: { a: 'float64', b: 'float64' } }, output: { y: 'float64' }, work: never, batchSize: 1, workers: 1, queueInThread: false, leaseMs: 3600_000 });
const scored = defineStage({ module: M, name: 'scored', input: { columns: { a: 'float64', b: 'float64' } }, priority: '0', output: { y: 'float64' }, work: never, batchSize: 1, workers: 1, queueInThread: false, leaseMs: 3600_000 });

function rows(n: number, seed: number) {
  const u = uniform(seed);
  return Array.from({ length: n }, (_, i) => ({ key: `k${String(i).padStart(2, '0')}`, a: Math.round(u() * 100) / 10, b: Math.round(u() * 50) / 10 }));
}

test('learned priority: fitted on finished downstream rows, it reorders the pending queue as its fit predicts', async () => {
  const clock = new VirtualClock();
  const runner = new SimRunner({ clock, cores: () => 1, work: (_s, _k, inp) => ({ ms: 1000, out: { y: truth(inp['a'] as number, inp['b'] as number) } }) });
  const all = rows(30, 9);
  const e = await Engine.open({ db: ':memory:', stages: [measured, scored], clock, runner, tickMs: 60_000, workerId: 'test:0:x' });
  try {
    await e.enqueue('measured', all.slice(0, 12));
    await e.enqueue('scored', all);
    // Only `measured` runs; `scored` keeps its 30 rows pending.
    const only = await Engine.open({ db: e.store, stages: [measured], clock, runner, tickMs: 60_000, workerId: 'test:0:y' });
    await clock.drive(only.run());
    const lp = new LearnedPriority(e.store, { stage: 'scored', model: 'ridge', target: { table: 'measured', column: 'y' }, features: ['a', 'b'], alpha: 0 });
    const fit = await lp.fit(clock.now());
    assert.ok(fit, 'a fit on 12 rows');
    assert.equal(fit.rows, 12);
    close(fit.coefficients[0]!, 2, 1e-8);
    close(fit.coefficients[1]!, -3, 1e-8);
    // Claim the whole queue: its order is the predicted y, lowest first.
    const r = await e.store.exchange('test:0:z', [], [{ stage: 'scored', batchSize: 30, batches: 1, suspect: false }], clock.now());
    const expected = [...all].sort((p, q) => truth(p.a, p.b) - truth(q.a, q.b) || (p.key < q.key ? -1 : 1)).map((p) => p.key);
    assert.deepEqual(r.claims[0]!.keys, expected);
    const ev = sqlOf(e).all<{ kind: string; detail: string }>("SELECT kind, detail FROM engine_events WHERE kind = 'priority-fit'");
    assert.equal(ev.length, 1);
    assert.equal(JSON.parse(ev[0]!.detail).rows, 12);
  } finally {
    await e.close();
  }
});

test('learned priority in a run: refitted on the tick every K finished target rows, each fit an event, the queue re-ranked live', async () => {
  const all = rows(30, 5);
  const r = await simulate({
    stages: [measured, scored],
    source: { stage: 'measured', rows: all },
    work: (s, _k, inp) => ({ ms: s.name === 'measured' ? 60_000 : 1000, out: { y: truth(inp['a'] as number, inp['b'] as number) } }),
    cores: () => 1, mode: 'fractured', tickMs: 30_000,
    learned: [{ stage: 'measured', model: 'ridge', target: { table: 'measured', column: 'y' }, features: ['a', 'b'], every: 10, minRows: 5, alpha: 0 }],
  });
  const fits = r.events.filter((e) => e.event.type === 'priority-fit');
  // 30 rows one a minute, ticks every 30 s: a fit at ≥ 5 finished rows, then after every 10 more.
  assert.deepEqual(fits.map((f) => (f.event as { rows: number }).rows), [5, 15, 25]);
  assert.ok(r.events.some((e) => e.event.type === 'priority' && e.event.stage === 'measured'), 'the engine adopted the learned priority');
  // After the first fit, the rows still pending run lowest predicted y first.
  const firstFitAt = fits[0]!.at;
  const after = r.records.filter((b) => b.stage === 'measured' && b.startMs > firstFitAt + 60_000).map((b) => all.find((x) => x.key === b.keys[0])!);
  const ys = after.map((x) => truth(x.a, x.b));
  assert.ok(ys.length > 10);
  for (let i = 1; i < ys.length; i++) assert.ok(ys[i]! >= ys[i - 1]!, `row ${i} after the first fit: ${ys[i - 1]} then ${ys[i]}`);
  assert.deepEqual(r.warnings, []);
});

test('learned priority: bad specs and unknown columns are refused with messages naming them', async () => {
  const base = { stage: 'scored', model: 'ridge' as const, target: { table: 'measured', column: 'y' }, features: ['a'] };
  assert.throws(() => checkLearnedSpec({ ...base, model: 'forest' as 'ridge' }), /learned priority: model must be one of ridge, got "forest"/);
  assert.throws(() => checkLearnedSpec({ ...base, features: [] }), /learned priority: features must name at least one column, got \[\]/);
  assert.throws(() => checkLearnedSpec({ ...base, features: ['a', 'a'] }), /learned priority: features name a column twice: a,a/);
  assert.throws(() => checkLearnedSpec({ ...base, features: ['a;drop'] }), /learned priority: feature "a;drop" is not a column name/);
  assert.throws(() => checkLearnedSpec({ ...base, alpha: -1 }), /learned priority: alpha must be a non-negative number, got -1/);
  assert.throws(() => checkLearnedSpec({ ...base, every: 0 }), /learned priority: every must be a positive integer, got 0/);
  assert.throws(() => checkLearnedSpec({ ...base, target: { table: 'measured', column: '' } }), /learned priority: target must be TABLE.COLUMN/);
  const e = await Engine.open({ db: ':memory:', stages: [measured, scored] });
  try {
    await assert.rejects(new LearnedPriority(e.store, { ...base, features: ['c'] }).fit(0), /learned priority: feature "c" is not a column of scored \(columns: .*a, b/);
    await assert.rejects(new LearnedPriority(e.store, { ...base, target: { table: 'measured', column: 'z' } }).fit(0), /learned priority: target column "z" is not a column of measured/);
    await assert.rejects(new LearnedPriority(e.store, { ...base, target: { table: 'nowhere', column: 'y' } }).fit(0), /learned priority: target table "nowhere" is not a stage table of this store/);
    assert.equal(await new LearnedPriority(e.store, base).fit(0), null, 'no finished target rows: no fit');
  } finally {
    await e.close();
  }
  await assert.rejects(Engine.open({ db: ':memory:', stages: [measured], learned: [base] }), /engine: no stage named "scored"/);
});
