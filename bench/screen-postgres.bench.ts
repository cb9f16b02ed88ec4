/**
 * The bundled screen on PostgreSQL against the same screen on SQLite, through the real command line
 * (`dist/src/cli/index.js`, each run in its own child processes, fast IDPP mode, the screen's
 * defaults):
 *
 * 1. `sqlite`: `fracflow screen --db FILE` (one process, the screen's defaults on 2 cores);
 * 2. `postgres`: `fracflow screen --db postgres://…` (one process, the same threads);
 * 3. `postgres-2proc`: `fracflow screen --seed-only`, then two processes at once —
 *    `fracflow screen --workers 1` (every stage, one thread each) and `fracflow worker --stage
 *    descriptors --threads 1` (the screen's most expensive stage) — drain the same store.
 *
 * The PostgreSQL server is started by the benchmark on loopback (test/support/postgres.ts, fsync off
 * as in the tests); the password reaches the children through PGPASSWORD, never their argv. Each run's
 * `status --json` counts (done and failed per stage) must equal the SQLite run's, or the benchmark
 * fails. Writes bench/results/screen-postgres.json; `npm run bench:report` renders it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { postgresBin, startPostgres } from '../test/support/postgres.js';
import { benchDir, writeResults } from './common.js';

const CLI = join(benchDir, '..', 'dist', 'src', 'cli', 'index.js');

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Proc> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

function must(p: Proc, what: string): Proc {
  if (p.code !== 0) throw new Error(`${what} exited ${p.code}: ${p.stderr.slice(-2000)}`);
  return p;
}

type Counts = Record<string, { done: number; failed: number }>;

async function counts(db: string, env: NodeJS.ProcessEnv): Promise<Counts> {
  const p = must(await run(['status', '--json', '--db', db], env), 'status');
  const rows = JSON.parse(p.stdout) as { stage: string; done: number; failed: number }[];
  return Object.fromEntries(rows.map((r) => [r.stage, { done: r.done, failed: r.failed }] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1)));
}

interface Row {
  config: 'sqlite' | 'postgres' | 'postgres-2proc';
  processes: number;
  wall_s: number;
  seed_s: number | null;
  counts: Counts;
  load_average: number[];
}

async function main(): Promise<void> {
  if (!postgresBin()) {
    console.log('screen-postgres: PostgreSQL binaries not installed, nothing measured');
    return;
  }
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-screen-pg-'));
  const server = await startPostgres();
  const env = { PGPASSWORD: server.password };
  const common = ['--progress', 'off', '--top', '0'];
  const results: Row[] = [];
  try {
    const sqliteDb = join(dir, 'screen.db');
    let load = loadavg();
    const s = must(await run(['screen', '--db', sqliteDb, '--out', join(dir, 'out-sqlite'), ...common], {}), 'screen on SQLite');
    const reference = await counts(sqliteDb, {});
    results.push({ config: 'sqlite', processes: 1, wall_s: s.ms / 1000, seed_s: null, counts: reference, load_average: load });
    console.log(`sqlite: ${(s.ms / 1000).toFixed(1)} s`);

    await server.createDatabase('one');
    const one = server.urlWithoutPassword('one');
    load = loadavg();
    const p = must(await run(['screen', '--db', one, '--out', join(dir, 'out-pg'), ...common], env), 'screen on PostgreSQL');
    results.push({ config: 'postgres', processes: 1, wall_s: p.ms / 1000, seed_s: null, counts: await counts(one, env), load_average: load });
    console.log(`postgres: ${(p.ms / 1000).toFixed(1)} s`);

    await server.createDatabase('two');
    const two = server.urlWithoutPassword('two');
    load = loadavg();
    const seed = must(await run(['screen', '--seed-only', '--db', two, '--out', join(dir, 'out-pg2'), ...common], env), 'screen --seed-only');
    const [a, b] = await Promise.all([
      run(['screen', '--db', two, '--out', join(dir, 'out-pg2'), '--workers', '1', ...common], env),
      run(['worker', '--db', two, '--stage', 'descriptors', '--threads', '1', '--idle-exit', '3s'], env),
    ]);
    must(a, 'screen (first process)');
    must(b, 'worker (second process)');
    // The run is over when the screen process is: the worker's idle wait before it exits is not work.
    results.push({ config: 'postgres-2proc', processes: 2, wall_s: seed.ms / 1000 + a.ms / 1000, seed_s: seed.ms / 1000, counts: await counts(two, env), load_average: load });
    console.log(`postgres, two processes: ${(seed.ms / 1000 + a.ms / 1000).toFixed(1)} s (seed ${(seed.ms / 1000).toFixed(1)} s)`);

    for (const r of results) {
      if (JSON.stringify(r.counts) !== JSON.stringify(reference)) throw new Error(`${r.config}: status counts ${JSON.stringify(r.counts)} differ from the SQLite run's ${JSON.stringify(reference)}`);
    }
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  writeResults('screen-postgres', { load_average_start: loadStart, load_average_end: loadavg(), results });
}

await main();
