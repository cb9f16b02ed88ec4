/** Shared benchmark plumbing: machine facts and the JSON results files under bench/results/. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import { cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
/** `FRACFLOW_BENCH_QUICK=1` shortens every timing window (smoke runs; numbers are noisier). */
export const quick = process.env.FRACFLOW_BENCH_QUICK === '1';

export function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    quick,
  };
}

export function writeResults(name: string, data: Record<string, unknown>): string {
  const dir = join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ benchmark: name, machine: machine(), ...data }, null, 1) + '\n');
  console.log(`wrote ${file}`);
  return file;
}

/**
 * Best-of-rounds time per call (ms): one probe call sizes a round to ~`roundMs` of calls (at most
 * `maxReps`), then the fastest of 5 rounds (2 in quick mode) is kept — robust against a shared host.
 */
export function perCall(fn: () => void, options: { roundMs?: number; maxReps?: number } = {}): number {
  const probe = performance.now();
  fn();
  const once = Math.max(performance.now() - probe, 1e-3);
  const roundMs = quick ? Math.min(5, options.roundMs ?? 20) : (options.roundMs ?? 20);
  const reps = Math.max(1, Math.min(options.maxReps ?? 500, Math.ceil(roundMs / once)));
  let best = Infinity;
  for (let round = 0; round < (quick ? 2 : 5); round++) {
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) fn();
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return best;
}

/**
 * tinybench medians (ms per call) of a WASM function and its TS twin on the same input, with their
 * relative margins of error.
 */
export async function timePair(name: string, fnW: () => unknown, fnT: () => unknown, timeMs = 300): Promise<{ w: number; t: number; wr: number; tr: number }> {
  const bench = new Bench({ time: quick ? 60 : timeMs, warmupTime: quick ? 20 : 100, iterations: 5 });
  bench.add(`${name} wasm`, fnW).add(`${name} ts`, fnT);
  await bench.run();
  const res = bench.tasks.map((t) => {
    const r = t.result as { state: string; latency?: { p50: number; rme: number } };
    if (r.state !== 'completed' || !r.latency) throw new Error(`benchmark ${t.name} did not complete (${r.state})`);
    return r.latency;
  });
  return { w: res[0]!.p50, t: res[1]!.p50, wr: res[0]!.rme, tr: res[1]!.rme };
}
