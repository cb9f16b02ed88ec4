/**
 * `fracflow worker` as real processes on one SQLite store: two workers drain a stage, `status` lists
 * them (host, pid, threads, heartbeat, rows done), `scale` spreads a count over them and each applies
 * its share within a tick, SIGTERM gives the rows in hand back and exits 0, a worker killed outright is
 * listed stale; `--max-rows` and `--idle-exit` end a worker; every validation message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliAsync, exited, toyModule } from '../engine/fixtures/run.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { toyRows } from '../engine/fixtures/toy-stages.js';
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

test('worker processes of a stage: status lists them, scale spreads threads, SIGTERM exits 0, they drain what their upstream finishes, kill -9 leaves a stale entry', async () => {
  const dir = tmp();
  const db = join(dir, 'w.db');
  // square and plus_one registered (a run drains both), then square rows no process runs yet: the
  // plus_one workers wait for them, alive, however slow the machine.
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 0, 4), '--db', db]).status, 0);
  assert.equal(cli(['engine', 'run', '--module', toyModule, '--only', 'square,plus_one', '--db', db, '--progress', 'off', '--tick-ms', '50']).status, 0);
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 4, 10), '--db', db]).status, 0);
  const a = cliAsync(['worker', '--db', db, '--stage', 'plus_one', '--threads', '1', '--tick-ms', '100']);
  const aDone = exited(a);
  await until('worker a registered', () => status(db)[1]!.processes.length === 1);
  const b = cliAsync(['worker', '--db', db, '--stage', 'plus_one', '--threads', '1', '--tick-ms', '100']);
  const bDone = exited(b);
  const both = await until('both workers registered', () => {
    const p = status(db)[1]!.processes;
    return p.length === 2 && p;
  });
  assert.deepEqual(both.map((w) => w.pid), [a.pid, b.pid], 'oldest first');
  for (const w of both) {
    assert.equal(w.host, hostname());
    assert.equal(w.stage, 'plus_one');
    assert.equal(w.threads, 1);
    assert.equal(w.stale, false);
    assert.equal(w.job, null);
    assert.match(w.id, new RegExp(`^${hostname()}:${w.pid}:[a-z0-9]+$`));
    assert.ok(Date.now() - w.heartbeatAt < 10_000, `heartbeat ${Date.now() - w.heartbeatAt} ms ago`);
  }
  const table = cli(['status', '--db', db]);
  assert.match(table.stdout, /^worker\s+host\s+pid\s+stage\s+threads\s+heartbeat\s+rows done\s+job\s+state$/m);
  assert.match(table.stdout, new RegExp(`^${hostname()}:${a.pid}:\\S+\\s+${hostname()}\\s+${a.pid}\\s+plus_one\\s+1\\s+\\d+s ago\\s+0\\s+-\\s+live$`, 'm'));

  // scale: 3 threads over two workers, the older one gets the extra thread; each applies it within a tick.
  const sc = cli(['scale', 'plus_one=3', '--db', db]);
  assert.equal(sc.status, 0, sc.stderr);
  assert.match(sc.stdout, /^plus_one: 1 -> 3 workers$/m);
  assert.deepEqual([...sc.stdout.matchAll(/^ {2}worker (\S+): (\d) threads$/gm)].map((m) => [m[1], Number(m[2])]), [[both[0]!.id, 2], [both[1]!.id, 1]], sc.stdout);
  assert.deepEqual(status(db)[1]!.processes.map((w) => w.threads), [2, 1]);

  // SIGTERM to a: it gives back what it holds (nothing here) and exits 0, after it applied its share.
  await new Promise((r) => setTimeout(r, 1500));
  a.kill('SIGTERM');
  const ra = await aDone;
  assert.equal(ra.status, 0, ra.stderr);
  assert.match(ra.stdout, /: plus_one: 0 rows done, 0 failed attempts in [\d.]+ s; ended: stopped$/m);
  assert.match(ra.stderr, /plus_one: threads 1 -> 2 \(scale\)/);
  // A square worker finishes the upstream; b takes what it admits and ends when plus_one is exhausted.
  const sq = cli(['worker', '--db', db, '--stage', 'square', '--tick-ms', '50']);
  assert.equal(sq.status, 0, sq.stderr);
  assert.match(sq.stdout, /: square: 6 rows done, 0 failed attempts/);
  const rb = await bDone;
  assert.equal(rb.status, 0, rb.stderr);
  assert.match(rb.stdout, /^worker \S+: plus_one: [1-9]\d* rows done, 0 failed attempts in [\d.]+ s; ended: exhausted$/m);

  const s = openSql(db);
  try {
    const rows = s.all<{ key: string; y: number; z: number; state: string; attempts: number }>('SELECT key, y, z, state, attempts FROM plus_one ORDER BY key');
    // y = x² + 1/8 <= 100 (the cutoff broadened to its max): x = 0..9, every one done once.
    assert.deepEqual(rows.map((r) => r.key), toyRows(0, 10).map((r) => r.key));
    for (const r of rows) assert.deepEqual([r.state, r.z, r.attempts], ['done', r.y + 1, 1], r.key);
    const ev = s.all<{ kind: string }>("SELECT kind FROM engine_events WHERE stage = 'plus_one' AND kind LIKE 'worker-%' ORDER BY id").map((e) => e.kind);
    assert.deepEqual(ev.sort(), ['worker-exit', 'worker-exit', 'worker-start', 'worker-start']);
  } finally {
    s.close();
  }
  assert.deepEqual(status(db)[1]!.processes, [], 'both deregistered');

  // A worker killed outright stays listed, marked stale (its pid is gone on this host).
  cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 20, 22), '--db', db]);
  const c = cliAsync(['worker', '--db', db, '--stage', 'plus_one', '--tick-ms', '100']);
  const cDone = exited(c);
  await until('worker c registered', () => status(db)[1]!.processes.length === 1);
  c.kill('SIGKILL');
  await cDone;
  const stale = status(db)[1]!.processes;
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

test('a worker admits the rows of the registered stages its stage feeds as its own rows finish, with no downstream process running', () => {
  const dir = tmp();
  const db = join(dir, 'd.db');
  // square and plus_one registered by a run that drains them (plus_one's cutoff broadened to 100); then 4 more square rows.
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 0, 4), '--db', db]).status, 0);
  assert.equal(cli(['engine', 'run', '--module', toyModule, '--only', 'square,plus_one', '--db', db, '--progress', 'off', '--tick-ms', '50']).status, 0);
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 5, 9), '--db', db]).status, 0);
  const r = cli(['worker', '--db', db, '--stage', 'square', '--tick-ms', '50']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: square: 4 rows done/);
  const s = openSql(db);
  try {
    // y = x² + 1/8 ≤ 100 for x = 5..8: all four pending in plus_one, admitted by the square worker.
    assert.deepEqual(s.all<{ key: string }>("SELECT key FROM plus_one WHERE state = 'pending' ORDER BY key").map((x) => x.key), toyRows(5, 9).map((x) => x.key));
  } finally {
    s.close();
  }
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

test('launch writes the job script without submitting; bad values are refused naming the option and the value', () => {
  const dir = tmp();
  const db = join(dir, 'l.db');
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 0, 2), '--db', db]).status, 0);
  const out = join(dir, 'jobs');
  const w = cli(['launch', 'pbs', '--db', db, '--stage', 'square', '--workers', '3', '--cpus-per-worker', '2', '--time', '01:00:00', '--partition', 'workq', '--out', out]);
  assert.equal(w.status, 0, w.stderr);
  const path = /^wrote (\S+\.pbs) \(3 workers of square\); submit it with qsub \S+\.pbs, or run this command with --submit$/m.exec(w.stdout)?.[1];
  assert.ok(path, w.stdout);
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^#PBS -J 0-2$/m);
  assert.match(text, /^#PBS -l select=1:ncpus=2$/m);
  assert.match(text, /^#PBS -q workq$/m);
  assert.match(text, new RegExp(`worker --db '${db}' --stage 'square' --threads 2$`, 'm'));
  const cases: [string[], RegExp][] = [
    [['launch', 'slurm', '--db', ':memory:', '--stage', 'square', '--time', '01:00:00'], /--db: workers on other hosts cannot share :memory:/],
    [['launch', 'slurm', '--db', db, '--stage', 'nope', '--time', '01:00:00'], /--stage: no stage named "nope" in .*l\.db \(stages: square\)/],
    [['launch', 'slurm', '--db', db, '--stage', 'square', '--time', '1h'], /--time must be HH:MM:SS \(e\.g\. 02:00:00\), got "1h"/],
    [['launch', 'slurm', '--db', db, '--stage', 'square', '--time', '01:00:00', '--idle-exit', 'whenever'], /--idle-exit must be a duration such as 90, 30s, 10m or 2h, got "whenever"/],
    [['launch', 'slurm', '--db', db, '--stage', 'square', '--time', '01:00:00', '--workers', '0'], /--workers must be a positive integer, got "0"/],
    [['launch', 'slurm', '--db', db, '--stage', 'square', '--time', '01:00:00', '--partition', 'a;b'], /--partition must be a name of letters, digits, _ \. - \(starting with a letter or digit\), got "a;b"/],
    [['calc', '--db', db, '--command', 'true', '--partition', 'compute'], /calc: --partition, --account, --cpus-per-job and --poll are for --executor slurm or pbs/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
