/**
 * Workers on PostgreSQL survive what a cluster does to them: four `fracflow engine run` processes
 * work one stage; at seeded random moments three of them, each holding rows at that moment, are
 * killed with SIGKILL (a replacement starts each time) and the PostgreSQL server is restarted (`pg_ctl restart -m fast`: every
 * connection dropped) in the middle of the run. The survivors ride out the restart (their
 * transactions are run again) and take back the rows of the killed ones: every row ends done exactly
 * once (one `done` attempt), with the right result, and every worker not killed exits 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { openQueue } from '../../src/store/index.js';
import { cliAsync, exited } from '../engine/fixtures/run.js';
import { rng } from '../helpers/random.js';
import { slow } from './fixtures/slow-stage.js';
import { skipWithoutPostgres, startPostgres, type PgServer } from '../support/postgres.js';

const skip = skipWithoutPostgres();
let server: PgServer | null = null;
before(async () => {
  if (!skip) server = await startPostgres();
});
after(() => server?.stop());

const slowModule = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'slow-stage.ts');
// Enough rows that four events spaced 150–400 finished rows apart land mid-run: the victim search and the restart each let 1,000–5,000 rows finish at the one-statement exchange's rate.
const ROWS = 20000;

test('kill -9 of workers at random moments and a PostgreSQL restart mid-run lose and duplicate nothing', { skip, timeout: 8 * 60_000 }, async (t) => {
  const seed = Number(process.env['FRACFLOW_SEED'] ?? Date.now() % 100000);
  const rand = rng(seed);
  const url = await server!.createDatabase('kills');
  const store = await openQueue(url);
  const events: string[] = [];
  const ctx = () => `seed ${seed} (FRACFLOW_SEED=${seed} repeats it); ${events.join('; ')}`;
  const workers: { child: ChildProcess; done: ReturnType<typeof exited>; killed: boolean }[] = [];
  try {
    await store.ensure([slow]);
    await store.enqueue('slow', Array.from({ length: ROWS }, (_, i) => ({ key: `r${i}`, x: i })));
    const start = () => {
      const c = cliAsync(['engine', 'run', '--module', slowModule, '--db', url, '--progress', 'off', '--tick-ms', '100']);
      return { child: c, done: exited(c) };
    };
    for (let k = 0; k < 4; k++) workers.push({ ...start(), killed: false });
    const doneRows = async () => (await store.counts('slow')).done;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Every event waits until more rows are done than at the previous one, so each lands mid-run.
    let mark = 0;
    const plan = ['kill', 'restart', 'kill', 'kill'];
    for (const what of plan) {
      const target = mark + 150 + Math.floor(rand() * 250);
      while ((await doneRows()) < target) await sleep(50);
      await sleep(Math.floor(rand() * 300));
      mark = await doneRows();
      if (mark >= ROWS - 200) assert.fail(`the run ended before the ${what}: ${ctx()}`);
      if (what === 'restart') {
        events.push(`restart at ${mark} rows`);
        server!.restart();
      } else {
        // The victim is a worker that holds rows at that moment (one still starting holds none, and
        // its death would prove nothing): rows running under its pid in the store.
        let held: typeof workers = [];
        for (let waited = 0; held.length === 0; waited += 50) {
          if (waited > 60_000) assert.fail(`no live worker held rows for a minute before the ${what}: ${ctx()}`);
          const running = Buffer.from(await store.exportTable('slow', 'json')).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { state: string; claimed_by: string | null });
          const pids = new Set(running.filter((r) => r.state === 'running' && r.claimed_by).map((r) => Number(r.claimed_by!.split(':')[1])));
          held = workers.filter((w) => !w.killed && w.child.exitCode === null && pids.has(w.child.pid!));
          if (held.length === 0) await sleep(50);
        }
        const w = held[Math.floor(rand() * held.length)]!;
        events.push(`kill -9 pid ${w.child.pid} (holding rows) at ${mark} rows`);
        w.killed = true;
        w.child.kill('SIGKILL');
        workers.push({ ...start(), killed: false });
      }
    }
    for (const w of workers) {
      const r = await w.done;
      if (w.killed) assert.equal(r.signal, 'SIGKILL', ctx());
      else assert.equal(r.status, 0, `${ctx()}: ${r.stderr}`);
    }
    const rows = Buffer.from(await store.exportTable('slow', 'json')).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { x: number; y: number; state: string });
    assert.equal(rows.length, ROWS, ctx());
    const wrong = rows.filter((r) => r.state !== 'done' || r.y !== 3 * r.x + 1);
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} rows not done right: ${ctx()}`);
    const attempts = Buffer.from(await store.exportTable('engine_attempts', 'json')).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { row_id: number; outcome: string });
    const done = attempts.filter((a) => a.outcome === 'done');
    assert.equal(done.length, ROWS, `one done attempt per row: ${ctx()}`);
    assert.equal(new Set(done.map((a) => a.row_id)).size, ROWS, ctx());
    assert.ok(attempts.some((a) => a.outcome === 'expired'), `the killed workers' rows came back as deaths: ${ctx()}`);
    t.diagnostic(ctx());
  } finally {
    // A failed assertion mid-run leaves workers running: end them, or the file waits for its timeout.
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await store.close();
  }
});
