/**
 * One claiming worker process over a store, for the multi-process tests and the claims benchmark:
 * `node --import tsx claim-worker.ts LOCATION TAG BATCH [ensure]`. It opens the store, ensures the
 * `claims` stage, prints `ready`, waits for a line on stdin, then loops: one `exchange` completes the
 * batch it holds (y = 2x) and claims the next, until a claim comes back empty and nothing is pending.
 * It prints one JSON line: rows written, batches, wall time and every exchange's latency (ms).
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { hostname } from 'node:os';
import { openQueue } from '../../src/store/index.js';
import type { BatchOutcome, Claim } from '../../src/store/interface.js';
import { defineStage } from '../../src/stage-kit/stage.js';

/** The stage the workers claim from: x in, y = 2x out. */
export const claimsStage = defineStage({
  module: import.meta.url,
  name: 'claims',
  input: { columns: { x: 'float64' } },
  output: { y: 'float64' },
  priority: 'x',
  work: (b) => b,
  batchSize: 64,
});

export interface WorkerReport {
  holder: string;
  rows: number;
  batches: number;
  startMs: number;
  endMs: number;
  latenciesMs: number[];
}

async function main(): Promise<void> {
  const [location, tag, batchText] = process.argv.slice(2);
  const batchSize = Number(batchText ?? 64);
  const holder = `${hostname()}:${process.pid}:${tag}`;
  const store = await openQueue(location!, { maxConnections: 1 });
  await store.ensure([claimsStage]);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.once('line', () => {
      // Let go of stdin, or the open pipe keeps the process alive after its work.
      rl.close();
      process.stdin.destroy();
      resolve();
    });
  });
  const latenciesMs: number[] = [];
  let held: Claim | null = null;
  let rows = 0;
  let batches = 0;
  const startMs = Date.now();
  for (;;) {
    const outcomes: BatchOutcome[] = held ? [{ stage: 'claims', done: { ids: held.ids, outputs: [held.inputs[0]!.map((x) => 2 * (x as number))] }, failed: [] }] : [];
    const t0 = performance.now();
    const r = await store.exchange(holder, outcomes, [{ stage: 'claims', batchSize, batches: 1, suspect: false }]);
    latenciesMs.push(performance.now() - t0);
    if (held) {
      rows += r.written[0]!.length;
      batches++;
    }
    held = r.claims[0] ?? null;
    if (!held) {
      const c = await store.counts('claims');
      if (c.pending === 0) break;
      await store.waitForWork(['claims'], 100);
    }
  }
  const report: WorkerReport = { holder, rows, batches, startMs, endMs: Date.now(), latenciesMs };
  process.stdout.write(JSON.stringify(report) + '\n');
  await store.close();
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((e: unknown) => {
    process.stderr.write(`claim-worker: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
