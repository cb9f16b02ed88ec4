/**
 * The architecture study: the cost model against its documented formula and its validation messages,
 * the synthetic truth's correlation, the cluster plans, the barriers CSV reader's messages, the same
 * result twice for a seed, the shared cores of fractured-shared (deepest stage first, never more than
 * the cluster), and the files a study writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costModel, DEFAULT_COST_MODEL, nebCoreHours, singlePointCoreHours, spreadFactor, staticCoreHours, wallMs } from '../../src/workflow/study/cost-model.js';
import { buildCorpus, normal, readBarriersCsv, uniform } from '../../src/workflow/study/corpus.js';
import { clusterPlan, runStudy, sharedWorkers, studyRun, type RunSpec } from '../../src/workflow/study/study.js';
import { SimRunner } from '../../src/workflow/study/sim-runner.js';
import { VirtualClock } from '../../src/engine/clock.js';
import type { BatchTask } from '../../src/engine/runner.js';
import type { Stage } from '../../src/stage-kit/stage.js';
import { fakeCostData } from './fake-costs.js';

const close = (a: number, b: number, rel = 1e-12) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('cost model: the documented formula, number by number', () => {
  const m = costModel();
  // t_sp(N) = 4 · (N/100)^2.5 core-hours.
  close(singlePointCoreHours(m, 100), 4);
  close(singlePointCoreHours(m, 200), 4 * 2 ** 2.5); // 22.627…
  close(singlePointCoreHours(m, 50), 4 * 0.5 ** 2.5);
  // Static: 3 single points in the ≥ 7 Å cell.
  close(staticCoreHours(m, 200), 3 * 4 * 2 ** 2.5);
  // NEB: (2 · 8 + 12 · 1) = 28 single points in the ≥ 10 Å cell.
  close(nebCoreHours(m, 300), 28 * 4 * 3 ** 2.5); // 1745.9…
  close(nebCoreHours(costModel({ images: 3 }), 100), (16 + 36) * 4);
  close(staticCoreHours(costModel({ exponent: 3, spCoreHours100: 2 }), 200), 3 * 2 * 8);
  // Spread: mean-one log-normal factor exp(σg − σ²/2).
  close(spreadFactor(m, 0), Math.exp(-0.045));
  close(spreadFactor(m, 1), Math.exp(0.3 - 0.045));
  assert.equal(spreadFactor(costModel({ spreadSigma: 0 }), 2.5), 1);
  // 64 core-hours on 32 cores: 2 hours.
  assert.equal(wallMs(64, 32), 2 * 3600 * 1000);
  // The spread's sample mean is 1 within sampling error (200,000 draws: σ of the mean ≈ 0.0007).
  const g = normal(uniform(11));
  let s = 0;
  for (let i = 0; i < 200_000; i++) s += spreadFactor(m, g());
  assert.ok(Math.abs(s / 200_000 - 1) < 0.004, `mean spread ${s / 200_000}`);
});

test('cost model: each parameter is checked, the message naming it and the value', () => {
  assert.throws(() => costModel({ exponent: 5 }), /cost model: exponent must be within 1–4 \(published VASP scaling is 2–3\), got 5/);
  assert.throws(() => costModel({ spCoreHours100: 0 }), /cost model: spCoreHours100 must be a positive number, got 0/);
  assert.throws(() => costModel({ spreadSigma: -1 }), /cost model: spreadSigma must be a positive number, got -1/);
  assert.throws(() => costModel({ nebCores: 1.5 }), /cost model: nebCores must be a positive integer, got 1.5/);
  assert.throws(() => costModel({ images: Number.NaN }), /cost model: images must be a positive number, got NaN/);
  assert.throws(() => singlePointCoreHours(DEFAULT_COST_MODEL, 0), /cost model: atoms must be positive, got 0/);
});

test('synthetic truth: log barrier correlates with the latent descriptor score at ρ; static overestimates', () => {
  for (const rho of [0.3, 0.9]) {
    const c = buildCorpus({ size: 4000, rho, seed: 3, data: fakeCostData(50) });
    const ps = [...c.pathways.values()];
    const x = ps.map((p) => 0.8 * p.x1 + 0.6 * p.x2);
    const y = ps.map((p) => Math.log(p.barrierEv / 0.5) / 0.5);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const mx = mean(x);
    const my = mean(y);
    const cov = mean(x.map((v, i) => (v - mx) * (y[i]! - my)));
    const r = cov / Math.sqrt(mean(x.map((v) => (v - mx) ** 2)) * mean(y.map((v) => (v - my) ** 2)));
    assert.ok(ps.length > 5000, `${ps.length} pathways`);
    assert.ok(Math.abs(r - rho) < 0.04, `rho ${rho}: sample correlation ${r.toFixed(3)} (seed 3)`);
    assert.ok(ps.every((p) => p.staticEv >= p.barrierEv + 0.1), 'the static barrier is at least 0.1 eV above the true one');
  }
  assert.throws(() => buildCorpus({ size: 'bundled', rho: 1.2, seed: 1, data: fakeCostData(2) }), /study: rho must be within 0–1, got 1.2/);
  assert.throws(() => buildCorpus({ size: 0, rho: 0.5, seed: 1, data: fakeCostData(2) }), /study: corpus must be 'bundled' or a positive integer, got 0/);
});

test('synthetic truth: a corpus of N structures repeats the bundled ones under new keys; real barriers replace synthetic ones by pathway id', () => {
  const data = fakeCostData(3);
  const c = buildCorpus({ size: 7, rho: 0.5, seed: 1, data, barriers: new Map([['fake-1#0', 0.123]]) });
  assert.deepEqual(c.structures.map((s) => s.key), ['fake-0', 'fake-1', 'fake-2', 'fake-0~1', 'fake-1~1', 'fake-2~1', 'fake-0~2']);
  assert.equal(c.pathways.get('fake-1#0')!.barrierEv, 0.123);
  assert.equal(c.pathways.get('fake-1~1#0')!.barrierEv, 0.123, 'a copy takes its original\'s real barrier');
});

test('barriers CSV: header and values checked, the message naming the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-study-'));
  const f = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  assert.deepEqual([...readBarriersCsv(f('ok.csv', 'pathway,barrier_ev\nmp-1#0,0.25\nmp-2#3, 1.5\n'))], [['mp-1#0', 0.25], ['mp-2#3', 1.5]]);
  assert.throws(() => readBarriersCsv(f('head.csv', 'key,barrier\nmp-1#0,0.2\n')), /head\.csv: line 1: header must name the columns pathway and barrier_ev, got "key,barrier"/);
  assert.throws(() => readBarriersCsv(f('value.csv', 'pathway,barrier_ev\nmp-1#0,abc\n')), /value\.csv: line 2: barrier_ev must be a number, got "abc"/);
  assert.throws(() => readBarriersCsv(f('id.csv', 'pathway,barrier_ev\n,0.3\n')), /id\.csv: line 2: empty pathway id/);
  assert.throws(() => readBarriersCsv(f('empty.csv', '')), /empty\.csv: empty barriers file/);
});

test('cluster plans: cores per calculation, allotments and workflows for 64, 1,000 and 10,000 cores', () => {
  const m = costModel();
  const p64 = clusterPlan(64, m, 0.2);
  assert.deepEqual([p64.staticCores, p64.nebCores, p64.workflows], [8, 16, 4]);
  // Cheap stages 1 core each; of the other 61, 20 % → one 8-core static slot; the remaining 53 → three 16-core NEB slots.
  assert.deepEqual(p64.workers, { find_paths: 1, descriptors: 1, images: 1, calc_static: 1, calc_neb: 3 });
  const p1k = clusterPlan(1000, m, 0.2);
  assert.deepEqual([p1k.staticCores, p1k.nebCores, p1k.workflows], [32, 64, 15]);
  assert.deepEqual(p1k.workers, { find_paths: 2, descriptors: 2, images: 2, calc_static: 6, calc_neb: 12 });
  const p10k = clusterPlan(10000, m, 0.2);
  assert.deepEqual(p10k.workers, { find_paths: 20, descriptors: 20, images: 20, calc_static: 62, calc_neb: 124 });
  for (const p of [p64, p1k, p10k]) {
    const used = p.workers.find_paths + p.workers.descriptors + p.workers.images + p.workers.calc_static * p.staticCores + p.workers.calc_neb * p.nebCores;
    assert.ok(used <= p.cores, `${used} cores allotted of ${p.cores}`);
  }
  assert.throws(() => clusterPlan(4, m), /study: cores must be an integer ≥ 8, got 4/);
  assert.throws(() => clusterPlan(64, m, 1), /study: staticShare must be within \(0, 1\), got 1/);
});

function spec(variant: RunSpec['variant'], corpus = buildCorpus({ size: 'bundled', rho: 0.6, seed: 5, data: fakeCostData(25) })): RunSpec {
  return { corpus, cores: 256, rho: 0.6, seed: 5, variant, model: costModel(), staticShare: null, nebCutoffEv: { initial: 0.5, step: 0.25, max: 1 }, tickMin: null, topN: 10, ks: [1, 5, 10], steps: 20 };
}

test('study run: the same metrics and batch records twice for a seed, in both modes', async () => {
  for (const variant of ['fixed', 'fractured'] as const) {
    const a = await studyRun(spec(variant));
    const b = await studyRun(spec(variant));
    const strip = (m: typeof a.metrics) => ({ ...m, sim_s: 0, cpu_s: 0 });
    assert.deepEqual(strip(b.metrics), strip(a.metrics), variant);
    assert.deepEqual(b.sim.records, a.sim.records, variant);
    assert.deepEqual(a.sim.warnings, []);
    assert.ok(a.metrics.neb_runs > 0 && a.metrics.static_runs > 0, `${variant}: calculations ran`);
    assert.ok(a.metrics.t_top_h[10] !== null, `${variant}: the top 10 were all found`);
  }
});

test('study run: swapping the priority mid-run is recorded, no broadening leaves pathways out', async () => {
  const corpus = buildCorpus({ size: 'bundled', rho: 0.6, seed: 5, data: fakeCostData(25) });
  const fr = await studyRun(spec('fractured', corpus));
  const nb = await studyRun(spec('fractured-no-broadening', corpus));
  const sw = await studyRun(spec('fractured-swap', corpus));
  assert.ok(fr.metrics.broadenings > 0, 'the NEB cutoff broadened');
  assert.equal(nb.metrics.broadenings, 0);
  assert.ok(nb.metrics.neb_runs < fr.metrics.neb_runs, `${nb.metrics.neb_runs} NEB runs without broadening, ${fr.metrics.neb_runs} with`);
  assert.equal(sw.metrics.priority_swaps, 1);
  assert.ok(sw.sim.events.some((e) => e.event.type === 'priority' && e.event.stage === 'calc_static'), 'the running engine adopted the swapped priority');
});

/** Each batch of the two pools as it ran: stage, start and end (virtual ms from the start). */
async function twoPools(deepestFirst: boolean): Promise<{ stage: string; start: number; end: number }[]> {
  const clock = new VirtualClock();
  const t0 = clock.now();
  // Stage `up` (depth 0): 1-core batches of 10 ms; stage `down` (depth 1): one 2-core batch of 10 ms.
  const runner = new SimRunner({ clock, work: () => ({ ms: 10 }), cores: (s) => (s === 'down' ? 2 : 1), coreBudget: 2, deepestFirst });
  const task = (name: string, depth: number, key: string): BatchTask => ({
    stage: { name } as unknown as Stage, claim: { stage: name, ids: [1], keys: [key], attempts: [0], deaths: [0], inputs: [] }, inDefs: [{ name: 'key', type: 'utf8' }], outDefs: [], depth,
  });
  const up = runner.pool(2, []);
  const down = runner.pool(1, []);
  const runs = [0, 1, 2, 3].map((i) => up.run(task('up', 0, `u${i}`)));
  // The downstream batch arrives while both cores are busy with upstream batches, two more waiting.
  const later = new Promise<void>((res) => clock.setTimer(res, 5)).then(() => down.run(task('down', 1, 'd0')));
  await clock.drive(Promise.all([...runs, later]));
  return runner.records.map((r) => ({ stage: r.stage, start: r.startMs - t0, end: r.endMs - t0 })).sort((a, b) => a.start - b.start || a.stage.localeCompare(b.stage));
}

test('sim runner: with deepestFirst, cores given back go to the deepest stage\'s waiting batch before the upstream ones queued ahead of it', async () => {
  const deep = await twoPools(true);
  assert.deepEqual(deep.find((r) => r.stage === 'down'), { stage: 'down', start: 10, end: 20 }, JSON.stringify(deep));
  assert.deepEqual(deep.filter((r) => r.stage === 'up').map((r) => r.start), [0, 0, 20, 20]);
  // First come, first served: the two upstream batches queued first take the cores at 10 ms.
  const fifo = await twoPools(false);
  assert.deepEqual(fifo.find((r) => r.stage === 'down'), { stage: 'down', start: 20, end: 30 }, JSON.stringify(fifo));
});

/** Most cores busy at once over the batch records (of one stage, when given). */
function mostBusy(records: readonly { stage: string; cores: number; startMs: number; endMs: number }[], stage?: string): number {
  const ev = records.filter((r) => !stage || r.stage === stage).flatMap((r) => [[r.startMs, r.cores], [r.endMs, -r.cores]] as [number, number][]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let n = 0;
  let m = 0;
  for (const [, d] of ev) m = Math.max(m, (n += d));
  return m;
}

test('sim runner: deepest first, one pool serving two stages (the fixed mode\'s) is not held back by its own deeper batches; a batch larger than the cluster is refused', async () => {
  const clock = new VirtualClock();
  const runner = new SimRunner({ clock, work: () => ({ ms: 10 }), cores: (s) => (s === 'big' ? 3 : 1), coreBudget: 2, deepestFirst: true });
  const task = (name: string, depth: number, key: string): BatchTask => ({
    stage: { name } as unknown as Stage, claim: { stage: name, ids: [1], keys: [key], attempts: [0], deaths: [0], inputs: [] }, inDefs: [{ name: 'key', type: 'utf8' }], outDefs: [], depth,
  });
  const pool = runner.pool(4, []);
  const runs = [pool.run(task('down', 1, 'd0')), pool.run(task('up', 0, 'u0')), pool.run(task('up', 0, 'u1'))];
  await clock.drive(Promise.all(runs));
  assert.equal(runner.records.length, 3, 'every batch ran');
  await assert.rejects(runner.pool(1, []).run(task('big', 2, 'b0')), /sim: a batch of stage big needs 3 cores, more than the 2 of the cluster/);
});

test('study run: fractured-shared draws the calculations\' cores from the whole cluster, never more than it has, beyond the fractured allotments', async () => {
  const corpus = buildCorpus({ size: 'bundled', rho: 0.6, seed: 5, data: fakeCostData(25) });
  const a = await studyRun(spec('fractured-shared', corpus));
  const b = await studyRun(spec('fractured-shared', corpus));
  const strip = (m: typeof a.metrics) => ({ ...m, sim_s: 0, cpu_s: 0 });
  assert.deepEqual(strip(b.metrics), strip(a.metrics), 'the same metrics twice');
  assert.deepEqual(b.sim.records, a.sim.records);
  assert.deepEqual(a.sim.warnings, []);
  assert.ok(a.metrics.t_top_h[10] !== null, 'the top 10 were all found');
  assert.ok(mostBusy(a.sim.records) <= 256, `${mostBusy(a.sim.records)} cores busy at once on a 256-core cluster`);
  const plan = clusterPlan(256, costModel(), 0.2);
  assert.equal(sharedWorkers(plan).calc_neb, 256 / plan.nebCores);
  assert.equal(sharedWorkers(plan).calc_static, 256 / plan.staticCores);
  const fr = await studyRun(spec('fractured', corpus));
  const shared = mostBusy(a.sim.records, 'calc_static');
  const own = mostBusy(fr.sim.records, 'calc_static');
  assert.ok(shared > own, `cores running statics at once: ${shared} shared against ${own} in the static allotment`);
  assert.ok(a.metrics.utilisation > fr.metrics.utilisation, `cluster utilisation ${a.metrics.utilisation.toFixed(2)} shared against ${fr.metrics.utilisation.toFixed(2)} with fixed allotments`);
});

test('study: writes runs.csv, steps.csv, summary.md and the plots', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-study-out-'));
  const r = await runStudy({ corpus: 'bundled', cores: [64], rho: [0.6], seed: 2, variants: ['fixed', 'fractured'], data: fakeCostData(12), topN: 5, ks: [1, 5], steps: 10 }, dir);
  assert.equal(r.runs.length, 2);
  assert.deepEqual([...r.files].sort(), ['runs.csv', 'steps.csv', 'summary.md', 'topk_bundled_c64_rho0.6_s2.svg', 'utilisation_bundled_c64_rho0.6_s2_fixed.svg', 'utilisation_bundled_c64_rho0.6_s2_fractured.svg']);
  const runs = readFileSync(join(dir, 'runs.csv'), 'utf8').trim().split('\n');
  assert.equal(runs.length, 3);
  assert.match(runs[0]!, /^run,corpus,cores,rho,seed,variant,makespan_h,/);
  assert.equal(readFileSync(join(dir, 'steps.csv'), 'utf8').trim().split('\n').length, 1 + 2 * 10);
  assert.match(readFileSync(join(dir, 'topk_bundled_c64_rho0.6_s2.svg'), 'utf8'), /^<svg [^]*<polyline[^]*<\/svg>\n$/);
  assert.match(readFileSync(join(dir, 'summary.md'), 'utf8'), /\| bundled \| 64 \| 0\.6 \| fixed \|/);
});

test('study run: the learned priority is refitted on finished statics and swapped in while the run goes on', async () => {
  const r = await studyRun(spec('fractured-learned'));
  assert.ok(r.metrics.priority_fits >= 2, `${r.metrics.priority_fits} fits`);
  const fits = r.sim.events.filter((e) => e.event.type === 'priority-fit' && e.event.stage === 'calc_static');
  assert.ok(fits.length >= 1);
  assert.ok(r.sim.events.some((e) => e.event.type === 'priority' && e.event.stage === 'calc_static'), 'the running engine adopted the fitted priority');
  assert.deepEqual(r.sim.warnings, []);
});
