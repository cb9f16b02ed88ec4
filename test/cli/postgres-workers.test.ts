/**
 * `fracflow worker` as three real processes of one stage on a real PostgreSQL server: while they
 * drain it together, `status` lists each (host, pid, stage, threads, heartbeat, rows done); one is
 * sent SIGTERM in the middle of the run, gives the rows in hand back and exits 0; the other two finish
 * the stage. Every row is done exactly once, with the right result.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { cli, cliAsync, exited } from '../engine/fixtures/run.js';
import { openQueue } from '../../src/store/index.js';
import type { StageStatus, WorkerRecord } from '../../src/store/interface.js';
import { skipWithoutPostgres, startPostgres, type PgServer } from '../support/postgres.js';

const skip = skipWithoutPostgres();
let server: PgServer | null = null;
let dir = '';
before(async () => {
  if (skip) return;
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'fracflow-pgworkers-'));
});
after(() => {
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// y = 3x + 1 after 400 ms asleep per 32-row batch: ~40 s of work for three workers.
const sleepyModule = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'store', 'fixtures', 'sleepy-stage.ts');
const ROWS = 3000;

type Status = (StageStatus & { processes: WorkerRecord[] })[];

test('three worker processes drain a stage on PostgreSQL exactly once; status lists them; SIGTERM gives the rows in hand back and exits 0', { skip, timeout: 8 * 60_000 }, async () => {
  const url = await server!.createDatabase('workers');
  const rowsFile = join(dir, 'rows.jsonl');
  writeFileSync(rowsFile, Array.from({ length: ROWS }, (_, i) => JSON.stringify({ key: `r${i}`, x: i })).join('\n') + '\n');
  const seeded = cli(['engine', 'enqueue', '--module', sleepyModule, 'sleepy', rowsFile, '--db', url]);
  assert.equal(seeded.status, 0, seeded.stderr);
  const status = (): Status => {
    const r = cli(['status', '--db', url, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Status;
  };
  const store = await openQueue(url);
  const ws: { child: ChildProcess; done: ReturnType<typeof exited> }[] = [];
  try {
    for (let k = 0; k < 3; k++) {
      const child = cliAsync(['worker', '--db', url, '--stage', 'sleepy', '--threads', '1', '--tick-ms', '100']);
      ws.push({ child, done: exited(child) });
    }
    // All three registered and working: status lists each with its host, pid, stage, threads, a
    // recent heartbeat and the rows it finished so far.
    let listed: WorkerRecord[] = [];
    for (const t0 = Date.now(); Date.now() - t0 < 120_000 && ws.every((w) => w.child.exitCode === null); ) {
      listed = status()[0]!.processes;
      if (listed.length === 3 && listed.every((w) => w.rowsDone > 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(listed.map((w) => w.pid).sort(), ws.map((w) => w.child.pid).sort(), JSON.stringify(listed));
    for (const w of listed) {
      assert.equal(w.host, hostname());
      assert.equal(w.stage, 'sleepy');
      assert.equal(w.threads, 1);
      assert.equal(w.stale, false);
      assert.ok(w.rowsDone > 0, `worker ${w.id} finished rows`);
      assert.ok(Date.now() - w.heartbeatAt < 15_000, `heartbeat ${Date.now() - w.heartbeatAt} ms ago`);
    }
    const table = cli(['status', '--db', url]).stdout;
    for (const w of listed) assert.match(table, new RegExp(`^${w.id}\\s+${hostname()}\\s+${w.pid}\\s+sleepy\\s+1\\s+\\d+s ago\\s+\\d+\\s+-\\s+live$`, 'm'), table);

    // SIGTERM to one of them in the middle of the run.
    const c = await store.counts('sleepy');
    assert.ok(c.done < ROWS - 500, `the run is still going (${c.done} of ${ROWS} done)`);
    const victim = ws[1]!;
    victim.child.kill('SIGTERM');
    const rv = await victim.done;
    assert.equal(rv.status, 0, rv.stderr);
    assert.match(rv.stdout, /^worker \S+: sleepy: \d+ rows done, 0 failed attempts in [\d.]+ s; ended: stopped$/m);
    const givenBack = Number(/^ {2}(\d+) rows in hand were given back unrun$/m.exec(rv.stdout)?.[1] ?? 0);
    assert.ok(givenBack > 0, `the stopped worker held rows and gave them back: ${rv.stdout}`);
    const victimId = listed.find((w) => w.pid === victim.child.pid)!.id;

    const others = await Promise.all([ws[0]!, ws[2]!].map((w) => w.done));
    for (const r of others) {
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^worker \S+: sleepy: \d+ rows done, 0 failed attempts in [\d.]+ s; ended: exhausted$/m);
    }
    const doneBy = [rv, ...others].map((r) => Number(/: sleepy: (\d+) rows done/.exec(r.stdout)![1]));
    assert.equal(doneBy.reduce((a, b) => a + b, 0), ROWS, `rows done per worker ${doneBy.join(' + ')}`);

    const rows = Buffer.from(await store.exportTable('sleepy', 'json')).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { x: number; y: number; state: string; attempts: number });
    assert.equal(rows.length, ROWS);
    const wrong = rows.filter((r) => r.state !== 'done' || r.y !== 3 * r.x + 1 || r.attempts !== 1);
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} rows not done once and right`);
    const attempts = Buffer.from(await store.exportTable('engine_attempts', 'json')).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { row_id: number; outcome: string; claimed_by: string });
    const done = attempts.filter((a) => a.outcome === 'done');
    assert.equal(done.length, ROWS, 'one done attempt per row');
    assert.equal(new Set(done.map((a) => a.row_id)).size, ROWS);
    assert.equal(attempts.filter((a) => a.outcome === 'released' && a.claimed_by === victimId).length, givenBack, 'the rows given back are released attempts of that worker');
    assert.equal(attempts.filter((a) => a.outcome === 'expired').length, 0, 'nobody died');
    assert.deepEqual(status()[0]!.processes, [], 'every worker deregistered');
  } finally {
    for (const w of ws) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await store.close();
  }
});
