/**
 * Reliability with real processes and files: `kill -9` at random moments (each run killed after it has
 * finished 300 rows of its own, so every kill lands mid-run) then restart; two processes
 * on one SQLite file; a full disk and a read-only database file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sqlOf } from '../helpers/engine.js';
import { Engine } from '../../src/engine/engine.js';
import { openSql, openStore, StoreError } from '../../src/store/sqlite/diffusion.js';
import { configureStage } from '../../src/stage-kit/stage.js';
import { square, plusOne, spin, toyRows, squareOf } from './fixtures/toy-stages.js';
import { cli, cliAsync, exited, toyModule } from './fixtures/run.js';
import { rng } from '../helpers/random.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-rel-'));


function jsonl(rows: object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

test('kill -9 at random moments, then restart: every entity ends done exactly once with the right result', async () => {
  const seed = Number(process.env.FRACFLOW_TEST_SEED ?? Date.now() % 100000);
  const rand = rng(seed);
  const dir = tmp();
  const db = join(dir, 'k.db');
  const rows = join(dir, 'rows.jsonl');
  // Enough rows that none of the three runs can finish them all (~15 rows/ms here) before its kill.
  const n = 20000;
  writeFileSync(rows, jsonl(toyRows(0, n)));
  const enq = cli(['engine', 'enqueue', '--module', toyModule, 'square', rows, '--db', db]);
  assert.equal(enq.status, 0, enq.stderr);
  const kills: string[] = [];
  let killed = 0;
  for (let round = 0; round < 3; round++) {
    const child = cliAsync(['engine', 'run', '--module', toyModule, '--only', 'square,plus_one', '--db', db, '--progress', 'off', '--tick-ms', '50']);
    const end = exited(child);
    let over = false;
    void end.then(() => (over = true));
    // Kill once this run has itself finished 300 rows (counted from the rows done when it started, so
    // no round kills a child still starting up), after a seeded delay: every kill lands mid-run.
    const watch = openSql(db);
    const doneRows = () => watch.get<{ n: number }>("SELECT COUNT(*) AS n FROM square WHERE state = 'done'")!.n;
    const atStart = doneRows();
    const target = atStart + 300;
    try {
      while (!over && doneRows() < target) await new Promise((r) => setTimeout(r, 10));
    } finally {
      watch.close();
    }
    const delay = Math.round(rand() * 150);
    await new Promise((r) => setTimeout(r, delay));
    kills.push(`${target}+${delay}ms`);
    child.kill('SIGKILL');
    const r = await end;
    if (r.signal === 'SIGKILL') killed++;
    else assert.equal(r.status, 0, `seed ${seed}, kills ${kills.join(',')}: ${r.stderr}`);
    const after = openSql(db);
    const byThisRun = after.get<{ n: number }>("SELECT COUNT(*) AS n FROM square WHERE state = 'done'")!.n - atStart;
    after.close();
    assert.ok(byThisRun >= 300, `seed ${seed}, kills ${kills.join(',')}: run ${round + 1} was killed after finishing ${byThisRun} rows of its own`);
  }
  assert.equal(killed, 3, `seed ${seed}, kills ${kills.join(', ')}: only ${killed} of 3 runs were still going when killed`);
  const last = cli(['engine', 'run', '--module', toyModule, '--only', 'square,plus_one', '--db', db, '--progress', 'off', '--tick-ms', '50']);
  const ctx = `seed ${seed}, kill -9 after done rows (300 more than at the run's start) + delay ${kills.join(', ')}`;
  assert.equal(last.status, 0, `${ctx}: ${last.stderr}`);
  const s = openSql(db);
  try {
    const sq = s.all<{ x: number; y: number; state: string }>('SELECT x, y, state FROM square');
    assert.equal(sq.length, n, ctx);
    for (const r of sq) assert.deepEqual([r.state, r.y], ['done', squareOf(r.x)], `${ctx}: x=${r.x}`);
    const po = s.all<{ y: number; z: number; state: string }>('SELECT y, z, state FROM plus_one');
    assert.equal(po.length, 10, ctx);
    for (const r of po) assert.deepEqual([r.state, r.z], ['done', r.y + 1], ctx);
    const twice = s.all("SELECT stage, key FROM engine_attempts WHERE outcome = 'done' GROUP BY stage, key HAVING COUNT(*) > 1");
    assert.deepEqual(twice, [], `${ctx}: a row finished twice`);
    assert.equal(s.get<{ n: number }>("SELECT COUNT(*) AS n FROM engine_attempts WHERE outcome = 'done'")!.n, n + 10, ctx);
    assert.equal(s.pragma('integrity_check'), 'ok');
  } finally {
    s.close();
  }
});

test('two processes running workers on one SQLite file never claim the same row (10k rows)', async () => {
  const dir = tmp();
  const db = join(dir, 'two.db');
  const rows = join(dir, 'rows.jsonl');
  writeFileSync(rows, jsonl(toyRows(0, 10000)));
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'pair', rows, '--db', db]).status, 0);
  const args = ['engine', 'run', '--module', toyModule, '--only', 'pair', '--db', db, '--progress', 'off', '--tick-ms', '50'];
  // Both processes block in their first batches until each holds claimed rows; then they race.
  const barrier = join(dir, 'go');
  process.env['FRACFLOW_PAIR_BARRIER'] = barrier;
  const runs = [exited(cliAsync(args)), exited(cliAsync(args))];
  delete process.env['FRACFLOW_PAIR_BARRIER'];
  const watch = openSql(db);
  const t0 = Date.now();
  while (watch.get<{ n: number }>("SELECT COUNT(DISTINCT claimed_by) AS n FROM pair WHERE state = 'running'")!.n < 2 && Date.now() - t0 < 60_000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  watch.close();
  writeFileSync(barrier, '');
  const [a, b] = await Promise.all(runs);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const s = openSql(db);
  try {
    assert.deepEqual(s.all('SELECT state, COUNT(*) AS n, MIN(attempts) AS lo, MAX(attempts) AS hi FROM pair GROUP BY state'), [{ state: 'done', n: 10000, lo: 1, hi: 1 }]);
    const attempts = s.all<{ key: string; n: number }>('SELECT key, COUNT(*) AS n FROM engine_attempts GROUP BY key HAVING n != 1');
    assert.deepEqual(attempts, [], 'each row claimed (and finished) once');
    const holders = s.all<{ claimed_by: string; n: number }>('SELECT claimed_by, COUNT(*) AS n FROM engine_attempts GROUP BY claimed_by');
    assert.equal(holders.length, 2, `both processes took rows: ${JSON.stringify(holders)}`);
    for (const r of s.all<{ x: number; y: number }>('SELECT x, y FROM pair')) assert.equal(r.y, squareOf(r.x));
  } finally {
    s.close();
  }
});

test('a full database (SQLite max_page_count) is a clear error; the failed transaction leaves no partial rows; a run on a full store fails the same way', async () => {
  const dir = tmp();
  const db = join(dir, 'full.db');
  openStore(db).close();
  const sql = openSql(db, { maxPageCount: Number(openSql(db).pragma('page_count')) + 12 });
  const e = await Engine.open({ db: sql, stages: [square] });
  await e.enqueue('square', toyRows(0, 50));
  await assert.rejects(
    e.enqueue('square', toyRows(50, 20000)),
    (err: Error) => err instanceof StoreError && err.code === 'SQLITE_FULL' && /store .*full\.db: database or disk is full \(SQLITE_FULL\); the last transaction was rolled back/.test(err.message),
  );
  assert.equal(sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM square')!.n, 50);
  assert.equal(sql.pragma('integrity_check'), 'ok');
  await e.close();
  sql.close();
  // A run on a store with no room left fails with the same error; nothing is half-written.
  const db2 = join(dir, 'full-run.db');
  const seed = await Engine.open({ db: db2, stages: [square] });
  await seed.enqueue('square', toyRows(0, 2000));
  await seed.close();
  const room = openSql(db2);
  room.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  const pages = Number(room.pragma('page_count'));
  room.close();
  const tight = openSql(db2, { maxPageCount: pages });
  const run = await Engine.open({ db: tight, stages: [configureStage(square, { batchSize: 50 })] });
  await assert.rejects(run.run(), (err: Error) => err instanceof StoreError && err.code === 'SQLITE_FULL');
  assert.equal(tight.pragma('integrity_check'), 'ok');
  assert.equal(tight.get<{ n: number }>("SELECT COUNT(*) AS n FROM square WHERE state = 'done' AND y IS NULL")!.n, 0);
  await run.close();
  tight.close();
});

test('a full disk (1 MiB tmpfs) and a read-only file system: clear errors, tables intact', async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'fracflow-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    rmSync(mnt, { recursive: true, force: true });
    t.skip('cannot mount a tmpfs here (needs root in a mount-capable sandbox); the max_page_count test above covers a full database');
    return;
  }
  try {
    const db = join(mnt, 'disk.db');
    const e = await Engine.open({ db, stages: [configureStage(square, { batchSize: 50 })] });
    let added = 0;
    let err: unknown = null;
    try {
      for (let i = 0; i < 2000; i++) added += (await e.enqueue('square', toyRows(i * 500, (i + 1) * 500))).length;
    } catch (x) {
      err = x;
    }
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.match((err as Error).message, /database or disk is full \(SQLITE_FULL\)|disk I\/O error/);
    assert.equal(sqlOf(e).get<{ n: number }>('SELECT COUNT(*) AS n FROM square')!.n, added);
    await e.close();
    // Room again (the WAL is checkpointed into the file), then the same file on a read-only mount.
    const check = openSql(db);
    assert.equal(check.pragma('integrity_check'), 'ok');
    assert.equal(check.get<{ n: number }>('SELECT COUNT(*) AS n FROM square')!.n, added);
    check.close();
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    await assert.rejects(async () => (await Engine.open({ db, stages: [square] })).enqueue('square', toyRows(0, 1)), (x: Error) => x instanceof StoreError && /store .*disk\.db: (the database file is read-only|cannot open the database file)/.test(x.message));
    const r = cli(['requeue', 'square', '--failed', '--db', db]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /fracflow: store .*disk\.db: (the database file is read-only|cannot open the database file)/);
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test('a read-only database file (chmod 444) is refused with a clear error when the user cannot override permissions', (t) => {
  if (process.getuid?.() === 0) {
    t.skip('root ignores file permissions; the read-only case is covered by the read-only mount in the tmpfs test');
    return;
  }
  const dir = tmp();
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'ro.db');
  openStore(db).close();
  execFileSync('chmod', ['444', db]);
  assert.throws(() => openStore(db), (x: Error) => x instanceof StoreError && /read-only/.test(x.message));
});

test('a row that kills its whole process every time ends failed (fail_kind died) after maxDeaths; the rows that died beside it once finish', async () => {
  const dir = tmp();
  const db = join(dir, 'poison.db');
  const rows = join(dir, 'rows.jsonl');
  writeFileSync(rows, jsonl(toyRows(0, 24)));
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'kills_process', rows, '--db', db]).status, 0);
  const args = ['engine', 'run', '--module', toyModule, '--only', 'kills_process', '--db', db, '--progress', 'off', '--tick-ms', '50'];
  const runs: (number | string | null)[] = [];
  for (let i = 0; i < 8; i++) {
    const r = cli(args);
    runs.push(r.status ?? r.signal ?? null);
    if (r.status === 0) break;
  }
  // maxDeaths 4: the row dies with its process four times, then the fifth run finishes the rest.
  assert.deepEqual(runs, ['SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGKILL', 0]);
  const s = openSql(db);
  try {
    const all = s.all<{ x: number; state: string; deaths: number; attempts: number; fail_kind: string | null; last_error: string | null }>('SELECT x, state, deaths, attempts, fail_kind, last_error FROM kills_process ORDER BY x');
    const three = all.find((r) => r.x === 3)!;
    assert.deepEqual([three.state, three.deaths, three.attempts, three.fail_kind], ['failed', 4, 0, 'died']);
    assert.match(three.last_error!, /^lease expired \(holder .*, death 4 of 4\)$/);
    for (const r of all) if (r.x !== 3) assert.deepEqual([r.state, r.attempts, r.deaths < 4], ['done', 1, true], `x=${r.x}: ${JSON.stringify(r)}`);
    const st = cli(['status', '--db', db, '--json']);
    assert.equal(JSON.parse(st.stdout)[0].failedDied, 1);
  } finally {
    s.close();
  }
});

/**
 * Whether signal `signum` was sent to process `pid` and not yet delivered (its bit in the shared
 * pending set of /proc/PID/status). A second kill of the same signal before the first is delivered
 * merges with it: the process would see one Ctrl-C.
 */
function signalPending(pid: number, signum: number): boolean {
  const m = /^ShdPnd:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m !== null && ((BigInt(`0x${m[1]!}`) >> BigInt(signum - 1)) & 1n) === 1n;
}

/** Whether process `pid` has a child process whose command is `name` (from /proc/N/stat). */
function childNamed(pid: number, name: string): boolean {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const m = /^\d+ \((.*)\) \S+ (\d+) /.exec(stat);
    if (m && m[1] === name && Number(m[2]) === pid) return true;
  }
  return false;
}

test('Ctrl-C twice: the second one stops at once (within 2 s of a 6 s batch, without the run report), exits 130, and every claimed row is back to pending unrun', async () => {
  const dir = tmp();
  const db = join(dir, 'twice.db');
  const rows = join(dir, 'rows.jsonl');
  writeFileSync(rows, jsonl(toyRows(0, 40)));
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'sleeps', rows, '--db', db]).status, 0);
  // A `sleeps` batch blocks its thread for 6 s, so the clean stop of the first Ctrl-C waits that long
  // for the thread to end, and the second Ctrl-C lands while it waits (a thread running JavaScript
  // ends at once: its clean stop is over in milliseconds, before a second signal can be handled).
  // Either way the process exits only when the thread does (Node joins its threads on exit).
  const child = cliAsync(['engine', 'run', '--module', toyModule, '--only', 'sleeps', '--db', db, '--progress', 'off', '--tick-ms', '50']);
  const end = exited(child);
  let stderr = '';
  let atOnceMs = -1;
  const t0 = { ms: 0 };
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (atOnceMs < 0 && stderr.includes('stopped at once')) atOnceMs = performance.now() - t0.ms;
  });
  // Once a thread is blocked in its batch's `sleep` (a stop that comes while the batch is still on its
  // way to it ends the thread at once).
  while (!childNamed(child.pid!, 'sleep') && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
  assert.equal(child.exitCode, null, `the run ended before its first batch began: ${stderr}`);
  const running = (): string[] => {
    const watch = openSql(db, { readonly: true });
    try {
      return watch.all<{ key: string }>("SELECT key FROM sleeps WHERE state = 'running' ORDER BY key").map((r) => r.key);
    } finally {
      watch.close();
    }
  };
  const inHand = running();
  assert.ok(inHand.length > 0, 'a batch began, but no row is running');
  t0.ms = performance.now();
  child.kill('SIGINT');
  // The second Ctrl-C once the first is delivered: sent while the first is still pending, the two
  // would merge into one.
  while (signalPending(child.pid!, 2)) await new Promise((r) => setImmediate(r));
  child.kill('SIGINT');
  // The rows in hand are back in their queue while the batch still blocks its thread.
  while (atOnceMs < 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  const meanwhile = child.exitCode === null ? running() : null;
  const r = await end;
  const exitMs = performance.now() - t0.ms;
  const ctx = `"stopped at once" ${atOnceMs.toFixed(0)} ms and exit ${exitMs.toFixed(0)} ms after the first Ctrl-C; rows in hand ${inHand.join(',')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.status, 130, ctx);
  assert.match(r.stderr, /SIGINT: stopping; the rows in flight go back to their queues unrun \(Ctrl-C again to stop at once\)/, ctx);
  assert.match(r.stderr, /\nSIGINT: stopped at once; the rows in flight were given back unrun\n/, ctx);
  assert.ok(atOnceMs >= 0 && atOnceMs < 2000, `${ctx}: the second Ctrl-C did not stop the run within 2 s (its batch takes 6 s)`);
  assert.deepEqual(meanwhile, [], `${ctx}: rows still running after "stopped at once"`);
  // A clean stop prints its run report once the thread has ended; the stop at once exits without it.
  assert.doesNotMatch(r.stdout, /run (stopped|finished) in/, ctx);
  const s = openSql(db, { readonly: true });
  try {
    // What abandon promises (the first stop already gives back the rows of a batch whose thread it
    // ends): nothing was done, so nothing is written, and every row in flight is given back unrun:
    // pending, no attempt spent, no death counted, no holder, and a 'released' entry in its history.
    assert.deepEqual(s.all('SELECT state, COUNT(*) AS n FROM sleeps GROUP BY state'), [{ state: 'pending', n: 40 }], ctx);
    assert.deepEqual(s.all('SELECT key FROM sleeps WHERE attempts > 0 OR deaths > 0 OR claimed_by IS NOT NULL OR lease_until IS NOT NULL OR fail_kind IS NOT NULL'), [], ctx);
    const history = s.all<{ key: string; outcome: string }>('SELECT key, outcome FROM engine_attempts ORDER BY key, outcome');
    assert.deepEqual(history.filter((h) => h.outcome !== 'released'), [], `${ctx}: only releases in the attempt history`);
    const released = new Set(history.map((h) => h.key));
    for (const k of inHand) assert.ok(released.has(k), `${ctx}: ${k} was in hand but its release is not recorded`);
  } finally {
    s.close();
  }
});

test('abandon (the second Ctrl-C): the results already back are written and every row in flight is given back, synchronously', async () => {
  const e = await Engine.open({ db: join(tmp(), 'abandon.db'), stages: [configureStage(spin, { workers: 2, batchSize: 2, params: { ms: 100 } })], tickMs: 20 });
  await e.enqueue('spin', toyRows(0, 100));
  const stop = new AbortController();
  const run = e.run({ signal: stop.signal });
  while (sqlOf(e).get<{ n: number }>("SELECT COUNT(*) AS n FROM spin WHERE state = 'done'")!.n < 4) await new Promise((r) => setTimeout(r, 10));
  // No await between the call and the look at the table: with the embedded store the work is done when abandon() returns.
  const abandoned = e.abandon();
  const { released } = await abandoned;
  const counts = sqlOf(e).all<{ state: string; n: number }>('SELECT state, COUNT(*) AS n FROM spin GROUP BY state ORDER BY state');
  assert.ok(released >= 2, `released ${released}`);
  assert.deepEqual(counts.map((c) => c.state), ['done', 'pending'], 'nothing left running');
  assert.equal(sqlOf(e).get<{ n: number }>("SELECT COUNT(*) AS n FROM spin WHERE state = 'pending' AND (attempts > 0 OR deaths > 0)")!.n, 0);
  stop.abort();
  await run;
  await e.close();
});
