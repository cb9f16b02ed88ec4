/**
 * Claims across processes: 1, 4 and 16 worker processes (test/support/claim-worker.ts) drain one stage
 * of a store in batches of 64 — each `exchange` completes the batch a worker holds and claims its next
 * one in one transaction — on PostgreSQL (a server this benchmark starts, test/support/postgres.ts)
 * and on an SQLite file. Reported: claimed-and-completed rows per second over the window from the
 * first claim to the last completion, and the latency of one exchange (complete 64 + claim 64:
 * the store's overhead per 64-row batch), median and 99th percentile over every exchange of the run.
 * Worker start-up (tsx, opening the store) is outside the window: the workers start together once
 * all are ready.
 */
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openQueue } from '../src/store/index.js';
import { claimsStage } from '../test/support/claim-worker.js';
import { runClaimWorkers } from '../test/support/claim-workers.js';
import { postgresBin, startPostgres } from '../test/support/postgres.js';
import { quick, writeResults } from './common.js';

const ROWS = quick ? 4000 : 20000;
const BATCH = 64;
const WORKERS = [1, 4, 16];

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function fill(location: string): Promise<void> {
  const store = await openQueue(location);
  try {
    await store.ensure([claimsStage]);
    for (let k = 0; k < ROWS; k += 5000) await store.enqueue('claims', Array.from({ length: Math.min(5000, ROWS - k) }, (_, i) => ({ key: `r${k + i}`, x: k + i })));
  } finally {
    await store.close();
  }
}

interface Row {
  store: 'postgres' | 'sqlite';
  workers: number;
  rows: number;
  batch: number;
  rows_per_s: number;
  exchange_median_ms: number;
  exchange_p99_ms: number;
  exchanges: number;
  load_average: number[];
}

async function measure(store: Row['store'], location: string, workers: number): Promise<Row> {
  await fill(location);
  const load = loadavg();
  const reports = await runClaimWorkers(location, workers, BATCH);
  const rows = reports.reduce((n, r) => n + r.rows, 0);
  if (rows !== ROWS) throw new Error(`${store} ${workers} workers: ${rows} rows written, expected ${ROWS}`);
  const t0 = Math.min(...reports.map((r) => r.startMs));
  const t1 = Math.max(...reports.map((r) => r.endMs));
  const lat = reports.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const row: Row = { store, workers, rows, batch: BATCH, rows_per_s: (rows * 1000) / (t1 - t0), exchange_median_ms: quantile(lat, 0.5), exchange_p99_ms: quantile(lat, 0.99), exchanges: lat.length, load_average: load };
  console.log(`${store} ${workers} workers: ${row.rows_per_s.toFixed(0)} rows/s, exchange median ${row.exchange_median_ms.toFixed(2)} ms, p99 ${row.exchange_p99_ms.toFixed(2)} ms (load ${load.map((x) => x.toFixed(1)).join('/')})`);
  return row;
}

async function main(): Promise<void> {
  const results: Row[] = [];
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-claims-'));
  try {
    for (const w of WORKERS) results.push(await measure('sqlite', join(dir, `w${w}.db`), w));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  let postgres: string | null = null;
  if (postgresBin()) {
    const server = await startPostgres();
    try {
      postgres = (await import('node:child_process')).spawnSync(join(postgresBin()!, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim();
      for (const w of WORKERS) results.push(await measure('postgres', await server.createDatabase(`w${w}`), w));
    } finally {
      server.stop();
    }
  } else console.log('postgres: binaries not installed, skipped');
  writeResults('claims', { rows: ROWS, batch: BATCH, postgres, load_average_start: loadStart, load_average_end: loadavg(), results });
}

await main();
