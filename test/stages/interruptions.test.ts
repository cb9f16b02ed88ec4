/**
 * Nothing lost, with real processes, real signals and real file systems: a screen of 30 structures is
 * interrupted five times at random moments (kill -9, Ctrl-C and SIGTERM, each at least once), then
 * resumed, and its rows equal an uninterrupted run's; a full output disk (a tiny tmpfs) and a
 * read-only output folder halt the images stage with a message naming the path, fail no row, and a
 * rerun once there is room (or the folder is writable) completes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { bundledPath } from '../../src/io/bundled.js';
import { cli, cliAsync, exited } from '../engine/fixtures/run.js';
import { rng } from '../helpers/random.js';

const STAGES = ['find_paths', 'descriptors', 'images'] as const;
/** Bookkeeping that differs between runs of the same work (times, holders, counters, run order). */
const BOOKKEEPING = new Set(['id', 'priority', 'boost', 'claimed_by', 'lease_until', 'attempts', 'deaths', 'available_at', 'created_at', 'started_at', 'finished_at', 'updated_at']);

const root = mkdtempSync(join(tmpdir(), 'fracflow-interrupt-'));
const input = join(root, 'in.jsonl');
let baseline: Map<string, unknown[]>;

/** Every stage row, keyed by stage and key, without bookkeeping; paths relative to `out`. */
function snapshot(db: string, out: string): Map<string, unknown[]> {
  const sql = openSql(db, { readonly: true });
  try {
    const rows = new Map<string, unknown[]>();
    for (const stage of STAGES) {
      const cols = sql.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [stage]).map((c) => c.name).filter((c) => !BOOKKEEPING.has(c));
      for (const r of sql.all<Record<string, unknown>>(`SELECT ${cols.join(', ')} FROM ${stage}`)) {
        for (const c of cols) if (typeof r[c] === 'string') r[c] = (r[c] as string).replaceAll(out, '<out>');
        rows.set(`${stage} ${String(r['key'])}`, cols.map((c) => (r[c] instanceof Uint8Array ? Buffer.from(r[c] as Uint8Array).toString('base64') : r[c])));
      }
    }
    return rows;
  } finally {
    sql.close();
  }
}

function assertSameRows(actual: Map<string, unknown[]>, context: string): void {
  assert.equal(actual.size, baseline.size, `${context}: row count`);
  for (const [k, v] of baseline) assert.deepEqual(actual.get(k), v, `${context}: ${k}`);
}

function rowsIn(db: string, where: string): number {
  if (!existsSync(db)) return 0;
  const sql = openSql(db, { readonly: true });
  try {
    let n = 0;
    for (const stage of STAGES) {
      if (!sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [stage])) continue;
      n += sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${stage} WHERE ${where}`)!.n;
    }
    return n;
  } catch {
    return 0; // not created yet
  } finally {
    sql.close();
  }
}

/** `stage key` of every failed row. */
function failedRows(db: string): string[] {
  const sql = openSql(db, { readonly: true });
  try {
    return STAGES.flatMap((stage) => sql.all<{ key: string }>(`SELECT key FROM ${stage} WHERE state = 'failed'`).map((r) => `${stage} ${r.key}`));
  } finally {
    sql.close();
  }
}

// The exact IDPP mode: its runs are long enough for five signals to land mid-run on a quiet machine.
const screenArgs = (db: string, out: string) => ['screen', '--input', input, '--db', db, '--out', out, '--progress', 'off', '--top', '3', '--idpp', 'exact'];

before(() => {
  const lines = gunzipSync(readFileSync(bundledPath('mp'))).toString('utf8').split('\n').filter(Boolean);
  writeFileSync(input, lines.slice(0, 30).join('\n') + '\n');
  const out = join(root, 'base-out');
  const r = cli(screenArgs(join(root, 'base.db'), out));
  assert.equal(r.status, 0, r.stderr);
  // The failures of this set are results of the science (paths through atoms): reported, exit 0.
  assert.match(r.stdout, /\n4 rows failed as results of the science \(e\.g\. no F in the structure, a path through an atom\): `fracflow errors --db .*base\.db` lists them\n/);
  assert.doesNotMatch(r.stdout, /incomplete:/);
  baseline = snapshot(join(root, 'base.db'), out);
  assert.ok(baseline.size > 100, `the baseline screen made ${baseline.size} rows`);
});

test('kill -9, Ctrl-C and SIGTERM at random moments of a real screen, five times, then resume: the rows equal an uninterrupted run, none failed that it did not fail', async () => {
  const seed = Number(process.env.FRACFLOW_TEST_SEED ?? Date.now() % 100000);
  const rand = rng(seed);
  const db = join(root, 'int.db');
  const out = join(root, 'int-out');
  const log: string[] = [];
  // Every signal at least once: the three, plus two drawn at random, in a seeded random order (the
  // moments stay random too).
  const SIGNALS = ['SIGKILL', 'SIGINT', 'SIGTERM'] as const;
  const plan: (typeof SIGNALS)[number][] = [...SIGNALS, SIGNALS[Math.floor(rand() * 3)]!, SIGNALS[Math.floor(rand() * 3)]!];
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  assert.equal(new Set(plan).size, 3, `seed ${seed}: signals ${plan.join(', ')}`);
  for (const signal of plan) {
    const before = rowsIn(db, "state IN ('done', 'failed')");
    const child = cliAsync(screenArgs(db, out));
    const end = exited(child);
    let over = false;
    void end.then(() => (over = true));
    // Once this run has finished a row of its own, after a seeded delay: the signal lands mid-run.
    while (!over && rowsIn(db, "state IN ('done', 'failed')") <= before) await new Promise((r) => setTimeout(r, 20));
    const delay = Math.round(rand() * 800);
    await new Promise((r) => setTimeout(r, delay));
    log.push(`${signal}@+${delay}ms`);
    const ctx = `seed ${seed}, signals ${plan.join(', ')}, rounds ${log.join(', ')}`;
    assert.equal(over, false, `${ctx}: the run ended before its signal`);
    child.kill(signal);
    const r = await end;
    if (signal === 'SIGKILL') assert.equal(r.signal, 'SIGKILL', ctx);
    else {
      assert.equal(r.status, signal === 'SIGINT' ? 130 : 143, `${ctx}: ${r.stderr}`);
      assert.match(r.stdout, /stopped before the end: \d+ rows in flight were given back unrun \(no attempt counted\); run the same command again to resume/, ctx);
      assert.equal(rowsIn(db, "state = 'running'"), 0, `${ctx}: a clean stop leaves no row running`);
    }
    assert.equal(rowsIn(db, "state = 'failed' AND fail_kind = 'died'"), 0, ctx);
  }
  const last = cli(screenArgs(db, out));
  const ctx = `seed ${seed}, signals ${plan.join(', ')}, rounds ${log.join(', ')}`;
  assert.equal(last.status, 0, `${ctx}: ${last.stdout}\n${last.stderr}`);
  assert.doesNotMatch(last.stdout, /incomplete:/, ctx);
  assertSameRows(snapshot(db, out), ctx);
  const sql = openSql(db, { readonly: true });
  try {
    assert.deepEqual(sql.all("SELECT stage, key FROM engine_attempts WHERE outcome = 'done' GROUP BY stage, key HAVING COUNT(*) > 1"), [], `${ctx}: a row finished twice`);
  } finally {
    sql.close();
  }
});

test('rows that failed because their worker kept dying make the screen exit 1, naming the stage, the count and the commands to run', async () => {
  const db = join(root, 'died.db');
  const out = join(root, 'base-out');
  const src = openSql(join(root, 'base.db'), { readonly: true });
  try {
    await src.backup(db);
  } finally {
    src.close();
  }
  {
    const w = openSql(db);
    w.run("UPDATE descriptors SET state = 'failed', fail_kind = 'died', deaths = 10, last_error = 'lease expired (holder h:1:x, death 10 of 10)' WHERE id IN (SELECT id FROM descriptors ORDER BY id LIMIT 2)");
    w.close();
    const r = cli(screenArgs(db, out));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`incomplete: descriptors: 2 rows failed because their worker died on every run up to the stage's death limit \\(a crash, a kill or a hang each time; not a result of the science\\): see \`fracflow errors descriptors --db ${db.replace(/[/.]/g, '\\$&')}\`, then \`fracflow requeue descriptors --failed --db ${db.replace(/[/.]/g, '\\$&')}\` and run the same command again`));
    const again = cli(['requeue', 'descriptors', '--failed', '--db', db]);
    assert.equal(again.status, 0, again.stderr);
    const last = cli(screenArgs(db, out));
    assert.equal(last.status, 0, last.stdout + last.stderr);
  }
});

/** A tmpfs at `dir` (root in a mount-capable sandbox, as CI runs); null when it cannot be mounted. */
function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('a full output disk halts the images stage with a message naming the path, fails no row, and a rerun with room completes', (t) => {
  const mnt = join(root, 'small');
  if (!mountTmpfs(mnt, '2m')) {
    t.skip('cannot mount a tmpfs here (needs root in a mount-capable sandbox)');
    return;
  }
  try {
    const db = join(root, 'full.db');
    const out = join(mnt, 'out');
    const r = cli(screenArgs(db, out));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const where = new RegExp(`incomplete: images halted: cannot (write|open|mkdir) ${out.replace(/[/.]/g, '\\$&')}/images/[^:]+: no space left on device \\(ENOSPC\\); its rows were given back unrun, none failed`);
    assert.match(r.stdout, where);
    assert.match(r.stderr, /images: halted: cannot \w+ .*: no space left on device \(ENOSPC\)/);
    assert.match(r.stdout, /checkpoint: not written \(the run did not finish\)/);
    assert.equal(rowsIn(db, "state = 'running'"), 0);
    for (const k of failedRows(db)) assert.ok(baseline.get(k)?.includes('failed'), `${k} failed, but not in the uninterrupted run`);
    execFileSync('mount', ['-o', 'remount,size=64m', mnt]);
    const again = cli(screenArgs(db, out));
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assertSameRows(snapshot(db, out), 'after freeing space');
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('a read-only output folder halts the images stage with a message naming the path, and a rerun once it is writable completes', (t) => {
  const mnt = join(root, 'ro');
  if (!mountTmpfs(mnt, '64m')) {
    t.skip('cannot mount a tmpfs here (needs root in a mount-capable sandbox)');
    return;
  }
  try {
    const db = join(root, 'ro.db');
    const out = join(mnt, 'out');
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    const r = cli(screenArgs(db, out));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`incomplete: images halted: cannot mkdir ${out.replace(/[/.]/g, '\\$&')}[^:]*: read-only file system \\(EROFS\\)`));
    assert.equal(rowsIn(db, "state = 'running'"), 0);
    execFileSync('mount', ['-o', 'remount,rw', mnt]);
    const again = cli(screenArgs(db, out));
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assertSameRows(snapshot(db, out), 'after the folder became writable');
  } finally {
    execFileSync('umount', [mnt]);
  }
});

after(() => rmSync(root, { recursive: true, force: true }));
