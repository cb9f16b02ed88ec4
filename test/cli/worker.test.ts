/**
 * `fracflow worker` as real processes on one SQLite store: two workers drain a stage, `status` lists
 * them (host, pid, threads, heartbeat, rows done), `scale` spreads a count over them and each applies
 * its share within a tick, SIGTERM gives the rows in hand back and exits 0, a worker killed outright is
 * listed stale; `--max-rows` and `--idle-exit` end a worker; every validation message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliAsync, exited, toyModule } from '../engine/fixtures/run.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { squareOf, toyRows } from '../engine/fixtures/toy-stages.js';
import type { StageStatus, WorkerRecord } from '../../src/store/interface.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-worker-'));

function rowsFile(dir: string, from: number, to: number): string {
  const f = join(dir, `rows-${from}-${to}.jsonl`);
  writeFileSync(f, toyRows(from, to).map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
}

type Status = (StageStatus & { processes: WorkerRecord[] })[];

function status(db: string): Status {
  const r = cli(['status', '--db', db, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Status;
}

async function until<T>(what: string, f: () => T | undefined | false, ms = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('two worker processes drain a stage: status lists them, scale spreads threads, SIGTERM gives rows back and exits 0, kill -9 leaves a stale entry', async () => {
  const dir = tmp();
  const db = join(dir, 'w.db');
  const en = cli(['engine', 'enqueue', '--module', toyModule, 'naps', rowsFile(dir, 0, 600), '--db', db]);
  assert.equal(en.status, 0, en.stderr);
  const a = cliAsync(['worker', '--db', db, '--stage', 'naps', '--threads', '1', '--tick-ms', '100']);
  const b = cliAsync(['worker', '--db', db, '--stage', 'naps', '--threads', '1', '--tick-ms', '100']);
  const aDone = exited(a);
  const bDone = exited(b);
  const both = await until('both workers registered and working', () => {
    const p = status(db)[0]!.processes;
    return p.length === 2 && p.every((w) => w.rowsDone > 0) && p;
  });
  assert.deepEqual(both.map((w) => w.pid).sort(), [a.pid, b.pid].sort());
  for (const w of both) {
    assert.equal(w.host, hostname());
    assert.equal(w.stage, 'naps');
    assert.equal(w.threads, 1);
    assert.equal(w.stale, false);
    assert.match(w.id, new RegExp(`^${hostname()}:${w.pid}:[a-z0-9]+$`));
    assert.ok(Date.now() - w.heartbeatAt < 5000, `heartbeat ${Date.now() - w.heartbeatAt} ms ago`);
  }
  const table = cli(['status', '--db', db]);
  assert.match(table.stdout, /^worker\s+host\s+pid\s+stage\s+threads\s+heartbeat\s+rows done\s+job\s+state$/m);
  assert.match(table.stdout, new RegExp(`^${hostname()}:${a.pid}:\\S+\\s+${hostname()}\\s+${a.pid}\\s+naps\\s+1\\s+\\d+s ago\\s+\\d+\\s+-\\s+live$`, 'm'));

  // scale: 3 threads over two workers, the older one gets the extra thread; each applies it within a tick.
  const sc = cli(['scale', 'naps=3', '--db', db]);
  assert.equal(sc.status, 0, sc.stderr);
  assert.match(sc.stdout, /^naps: 1 -> 3 workers$/m);
  const shares = [...sc.stdout.matchAll(/^ {2}worker (\S+): (\d) threads$/gm)].map((m) => Number(m[2]));
  assert.deepEqual(shares, [2, 1], sc.stdout);
  assert.deepEqual(status(db)[0]!.processes.map((w) => w.threads), [2, 1]);

  // SIGTERM to one: it gives back what it holds and exits 0; the other finishes the stage.
  a.kill('SIGTERM');
  const ra = await aDone;
  assert.equal(ra.status, 0, ra.stderr);
  assert.match(ra.stdout, /ended: stopped/);
  assert.match(ra.stdout, /rows in hand were given back unrun/);
  const rb = await bDone;
  assert.equal(rb.status, 0, rb.stderr);
  assert.match(rb.stdout, /^worker \S+: naps: \d+ rows done, 0 failed attempts in [\d.]+ s; ended: exhausted$/m);
  // Whichever got the 2-thread share wrote that it applied it.
  assert.match(ra.stderr + rb.stderr, /naps: threads 1 -> 2 \(scale\)/);

  const s = openSql(db);
  try {
    const rows = s.all<{ x: number; y: number; state: string; attempts: number; deaths: number }>('SELECT x, y, state, attempts, deaths FROM naps ORDER BY x');
    assert.equal(rows.length, 600);
    for (const r of rows) assert.deepEqual([r.state, r.y, r.attempts, r.deaths], ['done', squareOf(r.x), 1, 0], `x=${r.x}`);
    // Released rows were not an attempt: each row ran to done once.
    const done = s.all<{ n: number }>("SELECT COUNT(*) AS n FROM engine_attempts WHERE stage = 'naps' AND outcome = 'done'")[0]!.n;
    assert.equal(done, 600);
    const ev = s.all<{ kind: string }>("SELECT kind FROM engine_events WHERE stage = 'naps' AND kind LIKE 'worker-%' ORDER BY id").map((e) => e.kind);
    assert.deepEqual(ev.sort(), ['worker-exit', 'worker-exit', 'worker-start', 'worker-start']);
  } finally {
    s.close();
  }
  assert.deepEqual(status(db)[0]!.processes, [], 'both deregistered');

  // A worker killed outright stays listed, marked stale (its pid is gone on this host).
  cli(['engine', 'enqueue', '--module', toyModule, 'naps', rowsFile(dir, 1000, 1400), '--db', db]);
  const c = cliAsync(['worker', '--db', db, '--stage', 'naps', '--tick-ms', '100']);
  const cDone = exited(c);
  await until('worker c registered', () => status(db)[0]!.processes.length === 1);
  c.kill('SIGKILL');
  await cDone;
  const stale = status(db)[0]!.processes;
  assert.equal(stale.length, 1);
  assert.equal(stale[0]!.pid, c.pid);
  assert.equal(stale[0]!.stale, true);
  assert.match(cli(['status', '--db', db]).stdout, new RegExp(`\\s${c.pid}\\s.*STALE$`, 'm'));
});

test('worker --max-rows ends after that many rows; --idle-exit ends a worker whose upstream never finishes', async () => {
  const dir = tmp();
  const db = join(dir, 'm.db');
  // square and plus_one registered by a run that drains them; then 10 more square rows.
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 0, 4), '--db', db]).status, 0);
  assert.equal(cli(['engine', 'run', '--module', toyModule, '--only', 'square,plus_one', '--db', db, '--progress', 'off', '--tick-ms', '50']).status, 0);
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 10, 20), '--db', db]).status, 0);
  const r = cli(['worker', '--db', db, '--stage', 'square', '--max-rows', '5', '--tick-ms', '50']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: square: 5 rows done, 0 failed attempts in [\d.]+ s; ended: max-rows$/m);
  const s = openSql(db);
  try {
    assert.equal(s.all<{ n: number }>("SELECT COUNT(*) AS n FROM square WHERE state = 'done'")[0]!.n, 9);
    assert.equal(s.all<{ n: number }>("SELECT COUNT(*) AS n FROM square WHERE state = 'pending'")[0]!.n, 5);
  } finally {
    s.close();
  }
  // plus_one is fed by square, whose 5 pending rows no process runs: its worker takes what there is, waits, then leaves.
  const t0 = Date.now();
  const idle = cli(['worker', '--db', db, '--stage', 'plus_one', '--idle-exit', '1s', '--tick-ms', '50']);
  assert.equal(idle.status, 0, idle.stderr);
  assert.match(idle.stdout, /: plus_one: \d+ rows done, 0 failed attempts in [\d.]+ s; ended: idle$/m);
  assert.ok(Date.now() - t0 < 20_000);
});

test('worker rejects bad options with a message naming the option and the value', () => {
  const dir = tmp();
  const db = join(dir, 'v.db');
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 0, 2), '--db', db]).status, 0);
  const cases: [string[], RegExp][] = [
    [['--stage', 'square', '--threads', '0'], /--threads must be an integer from 1 to 1024, got "0"/],
    [['--stage', 'square', '--threads', '2000'], /--threads must be an integer from 1 to 1024, got "2000"/],
    [['--stage', 'square', '--max-rows', '-3'], /--max-rows must be an integer from 1 to \d+, got "-3"/],
    [['--stage', 'square', '--idle-exit', 'soon'], /--idle-exit must be a duration such as 90, 30s, 10m or 2h, got "soon"/],
    [['--stage', 'nope'], /no stage named "nope" in .*v\.db \(stages: square\)/],
    [['--stage', 'square', '--module', join(dir, 'missing.ts')], /cannot load stage module .*missing\.ts/],
  ];
  for (const [args, re] of cases) {
    const r = cli(['worker', '--db', db, ...args]);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
