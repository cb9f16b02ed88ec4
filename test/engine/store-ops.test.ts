/**
 * The store's own guarantees and the operator commands around it: migrations recorded in the same
 * transaction that applies them (a failing one leaves nothing behind); WAL, synchronous=NORMAL and
 * the busy timeout; store errors named once; read-only opens (status, errors, export, checkpoint)
 * that create nothing, refuse a file that is not a store, and read while another connection holds the
 * write lock; `requeue --stale` taking back rows of a dead local holder (an `expired` attempt each,
 * back to pending even at the last attempt) and leaving live holders alone; status rates and ETA; exports that keep a
 * stage's declared int32 and bool columns; a checkpoint that is one self-contained database file plus
 * the tables read from it; stores older or newer than the code refused with the way out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, openSql, openStore, StoreError, type SqlDb } from '../../src/store/sqlite/diffusion.js';
import { SqliteQueueStore } from '../../src/store/sqlite/index.js';
import { LATEST_MIGRATION } from '../../src/store/sqlite/migrations.js';
import { stageQueue } from '../helpers/queue.js';
import type { Stage } from '../../src/stage-kit/stage.js';
import { checkpoint, exportTable, requeue, stageStatus } from '../../src/store/sqlite/ops.js';
import { configureStage, defineStage } from '../../src/stage-kit/stage.js';
import { tableFromIPC } from 'apache-arrow';
import { flaky, square, toyRows } from './fixtures/toy-stages.js';
import { runCli } from '../helpers/cli.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'fracflow-store-ops-'));
}

test('a migration and its record commit together: a failing one leaves neither, and runs again once fixed', () => {
  const sql = openSql(':memory:');
  const good = { version: 1, name: 'one', component: 'engine' as const, sql: 'CREATE TABLE a (x INTEGER);' };
  const bad = { version: 2, name: 'two', component: 'engine' as const, sql: 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);' };
  assert.throws(() => migrate(sql, [good, bad]), (e: unknown) => e instanceof StoreError && /no such table: nowhere/.test(e.message));
  assert.deepEqual(sql.all('SELECT version FROM schema_migrations ORDER BY version'), [{ version: 1 }]);
  assert.equal(sql.get("SELECT name FROM sqlite_master WHERE name = 'b'"), undefined, 'the failed migration left no table');
  migrate(sql, [good, { ...bad, sql: 'CREATE TABLE b (x INTEGER);' }]);
  assert.deepEqual(sql.all('SELECT version FROM schema_migrations ORDER BY version'), [{ version: 1 }, { version: 2 }]);
  sql.close();
});

test('a store older than the code is refused read-only with the way out; one newer than the code is refused by every open', () => {
  const dir = tmp();
  try {
    const path = join(dir, 's.db');
    openStore(path).close();
    const raw = new Database(path);
    raw.exec('DELETE FROM schema_migrations WHERE version = 5');
    raw.close();
    assert.throws(() => openStore(path, { readonly: true }), (e: unknown) => e instanceof StoreError && e.code === 'FRACFLOW_OLD_SCHEMA' && /lacks migration 5, emitted tables/.test(e.message));
    openStore(path).close(); // a writing open migrates it
    const newer = new Database(path);
    newer.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)').run(LATEST_MIGRATION + 1, 'from the future');
    newer.close();
    const refusal = (e: unknown) => e instanceof StoreError && e.code === 'FRACFLOW_NEW_SCHEMA' && e.message.includes(`newer than this fracflow's ${LATEST_MIGRATION}`);
    assert.throws(() => openStore(path), refusal);
    assert.throws(() => openStore(path, { readonly: true }), refusal);
    const cli = runCli(['status', '--db', path]);
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr, /newer than this fracflow's/);
    const check = new Database(path, { readonly: true });
    assert.equal((check.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v, LATEST_MIGRATION + 1, 'nothing was changed');
    check.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file store runs in WAL with synchronous=NORMAL and a 10 s busy timeout', () => {
  const dir = tmp();
  try {
    const store = openStore(join(dir, 's.db'));
    assert.equal(store.sql.pragma('journal_mode'), 'wal');
    assert.equal(store.sql.pragma('synchronous'), 1);
    assert.equal(store.sql.pragma('busy_timeout'), 10000);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an error inside a transaction names the store once', () => {
  const store = openStore(':memory:');
  try {
    store.sql.transaction(() => store.sql.run('INSERT INTO no_such_table VALUES (1)'), 'immediate');
    assert.fail('the insert should have thrown');
  } catch (e) {
    assert.ok(e instanceof StoreError);
    assert.match(e.message, /^store :memory:: no such table: no_such_table \(SQLITE_ERROR\)$/);
  }
  store.close();
});

test('read-only opens create nothing, refuse a file that is not a store, and read while another connection writes', async () => {
  const dir = tmp();
  try {
    const missing = join(dir, 'missing.db');
    assert.throws(() => openStore(missing, { readonly: true }), (e: unknown) => e instanceof StoreError && e.code === 'SQLITE_CANTOPEN');
    assert.equal(existsSync(missing), false);
    const cli = runCli(['status', '--db', missing]);
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr, /cannot open the database file/);
    assert.equal(existsSync(missing), false, 'status created no file');

    const other = join(dir, 'other.db');
    new Database(other).exec('CREATE TABLE t (x)').close();
    assert.throws(() => openStore(other, { readonly: true }), /not a fracflow store \(no schema_migrations table\)/);

    const path = join(dir, 's.db');
    const writer = openStore(path);
    const t = await queueOf(writer.sql, square);
    await t.enqueue(toyRows(0, 5));
    writer.sql.exec('BEGIN IMMEDIATE');
    writer.sql.run("UPDATE square SET priority = 99 WHERE key = 'k0'");
    const reader = openStore(path, { readonly: true });
    assert.deepEqual(stageStatus(reader.sql).map((s) => [s.stage, s.pending]), [['square', 5]]);
    assert.throws(() => reader.sql.run('DELETE FROM square'), (e: unknown) => e instanceof StoreError && e.code.startsWith('SQLITE_READONLY'));
    reader.close();
    writer.sql.exec('COMMIT');
    writer.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requeue --stale takes back the rows of a dead holder on this host with a death each (no attempt spent, no death limit), and leaves live holders alone', async () => {
  const store = openStore(':memory:');
  const sql = store.sql;
  // Leases of 1 ms: the first holder's runs out at once; the others are checked at the claim's own millisecond.
  const t = await queueOf(sql, configureStage(flaky, { leaseMs: 1 }));
  await t.enqueue(toyRows(1, 4));
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const deadHolder = `${hostname()}:${dead}:abc123`;
  const liveHolder = `${hostname()}:${process.ppid}:def456`;
  const now = Date.now();
  // k1 goes to the dead holder after a first death: the first holder's lease ran out and the sweep took it back.
  const first = await t.claim('earlier', 1, now - 10_000);
  assert.deepEqual(first.keys, ['k1']);
  await t.sweep(now - 5_000);
  const a = await t.claim(deadHolder, 2, now);
  const b = await t.claim(liveHolder, 1, now);
  assert.deepEqual([a.keys, b.keys], [['k1', 'k2'], ['k3']]);
  assert.equal(requeue(sql, 'flaky', 'stale', now + 1), 2);
  const rows = sql.all<{ key: string; state: string; claimed_by: string | null; last_error: string | null }>('SELECT key, state, claimed_by, last_error FROM flaky ORDER BY key');
  assert.deepEqual(rows.map((r) => [r.key, r.state, r.claimed_by]), [['k1', 'pending', null], ['k2', 'pending', null], ['k3', 'running', liveHolder]]);
  assert.match(rows[0]!.last_error!, /^requeued as stale \(holder .*:\d+:abc123, death 2\)$/);
  assert.deepEqual(sql.all("SELECT key, attempts, deaths FROM flaky WHERE state = 'pending' ORDER BY key"), [{ key: 'k1', attempts: 0, deaths: 2 }, { key: 'k2', attempts: 0, deaths: 1 }]);
  const history = sql.all<{ key: string; attempt: number; outcome: string }>("SELECT key, attempt, outcome FROM engine_attempts WHERE stage = 'flaky' ORDER BY id");
  assert.deepEqual(history.map((h) => [h.key, h.attempt, h.outcome]), [['k1', 1, 'expired'], ['k1', 1, 'expired'], ['k2', 1, 'expired']]);
  store.close();
});

test('status: rows/s over the last minute of finished rows, and the ETA of what is left', async () => {
  const store = openStore(':memory:');
  const t = await queueOf(store.sql, square);
  await t.enqueue(toyRows(0, 10));
  const now = 1_000_000;
  const c = await t.claim('me', 5, now - 10_000);
  // Four rows finished over the last 4 s: 1 row/s; one still running and five pending: 6 s left.
  for (const [i, id] of c.ids.slice(0, 4).entries()) await t.finish('me', [id], [[0]], now - 4000 + 1000 * i);
  const [s] = stageStatus(store.sql, ['square'], undefined, now);
  assert.deepEqual({ pending: s!.pending, running: s!.running, done: s!.done, failed: s!.failed }, { pending: 5, running: 1, done: 4, failed: 0 });
  assert.equal(s!.rowsPerSec, 1);
  assert.equal(s!.etaSec, 6);
  const [later] = stageStatus(store.sql, ['square'], undefined, now + 120_000);
  assert.equal(later!.rowsPerSec, 0, 'nothing finished in the last minute');
  assert.equal(later!.etaSec, null, 'no rate, no ETA');
  store.close();
});

/** One stage's queue on an open connection (the stage's table created). */
async function queueOf(sql: SqlDb, stage: Stage) {
  const qs = new SqliteQueueStore(sql);
  await qs.ensure([stage]);
  return stageQueue(qs, stage.name);
}

const typed = defineStage({
  module: import.meta.url, name: 'typed', input: { columns: { x: 'float64' } }, output: { n: 'int32', ok: 'bool', note: 'utf8' },
  work: (b) => b,
});

test('an Arrow export keeps a stage\'s declared int32 and bool columns; a checkpoint is one database file plus the tables read from it', async () => {
  const dir = tmp();
  try {
    const store = openStore(join(dir, 's.db'));
    const t = await queueOf(store.sql, typed);
    await t.enqueue(toyRows(0, 3));
    const c = await t.claim('me', 3);
    await t.finish('me', c.ids, [[7, -1, 2147483647], [true, false, true], ['a', null, 'é']]);
    const read = tableFromIPC(exportTable(store.sql, 'typed', 'arrow') as Uint8Array);
    assert.equal(String(read.getChild('n')!.type), 'Int32');
    assert.equal(String(read.getChild('ok')!.type), 'Bool');
    assert.equal(String(read.getChild('x')!.type), 'Float64');
    const order = (read.getChild('key')!.toArray() as string[]).map(String);
    const byKey = (col: string) => Object.fromEntries(order.map((k, i) => [k, read.getChild(col)!.get(i)]));
    assert.deepEqual(byKey('n'), { k0: 7, k1: -1, k2: 2147483647 });
    assert.deepEqual(byKey('ok'), { k0: true, k1: false, k2: true });
    // A value that does not fit the declared int32 (a column whose declaration changed keeps older
    // values): the column exports with SQLite's type instead, every value exact.
    store.sql.run("UPDATE typed SET n = 3000000000 WHERE key = 'k0'");
    const wide = tableFromIPC(exportTable(store.sql, 'typed', 'arrow') as Uint8Array);
    assert.equal(String(wide.getChild('n')!.type), 'Float64');
    assert.deepEqual([...(wide.getChild('n')!.toArray() as Float64Array)].sort((a, b) => a - b), [-1, 2147483647, 3000000000]);
    const cp = join(dir, 'cp');
    const files = await checkpoint(store.sql, cp);
    store.close();
    assert.deepEqual(readdirSync(cp).sort(), ['fracflow.db', 'typed.arrow', 'typed.csv']);
    assert.deepEqual(files.map((f) => f.slice(cp.length + 1)).sort(), ['fracflow.db', 'typed.arrow', 'typed.csv']);
    assert.equal(tableFromIPC(readFileSync(join(cp, 'typed.arrow'))).numRows, 3);
    const copy = openStore(join(cp, 'fracflow.db'), { readonly: true });
    assert.equal(copy.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM typed WHERE state = 'done'")!.n, 3);
    copy.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint into the store\'s own directory is refused before anything is written', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'fracflow.db');
    const store = openStore(path);
    await queueOf(store.sql, square);
    await assert.rejects(checkpoint(store.sql, dir), { name: 'StageError', message: `checkpoint: ${path} is the store itself (--db ${path}); write the checkpoint to another directory` });
    assert.deepEqual(stageStatus(store.sql).map((s) => s.stage), ['square'], 'the store is intact');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
