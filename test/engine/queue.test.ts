/**
 * Stage tables without worker threads: admission with named cutoffs, claims in priority order,
 * leases (only the holder finishes), failures with back-off and attempt history, sweeps, broadening,
 * priority swaps, and the declaration checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryQueues } from '../helpers/queue.js';
import { configureStage, defineStage, forkStage, StageError, type StageDeclaration } from '../../src/stage-kit/stage.js';
import { square, plusOne, toyRows } from './fixtures/toy-stages.js';

async function setup(stages = [square, plusOne]) {
  const { sql, store, queues } = await memoryQueues(stages);
  return { sql, store, tables: queues };
}

test('claims take the highest priority first, ties by insertion order, and never the same row twice', async () => {
  const { sql, tables: [sq] } = await setup();
  await sq!.enqueue(toyRows(0, 10));
  const a = await sq!.claim('A', 3, 1000);
  assert.deepEqual(a.keys, ['k9', 'k8', 'k7']);
  assert.deepEqual(a.attempts, [1, 1, 1]);
  assert.deepEqual(a.deaths, [0, 0, 0]);
  assert.deepEqual(a.inputs, [[9, 8, 7]]);
  const b = await sq!.claim('B', 100, 1000);
  assert.equal(b.keys.length, 7);
  assert.equal(new Set([...a.ids, ...b.ids]).size, 10);
  assert.equal((await sq!.claim('C', 5, 1000)).ids.length, 0);
  assert.deepEqual(sql.all('SELECT claimed_by, COUNT(*) AS n FROM square GROUP BY claimed_by ORDER BY claimed_by'), [{ claimed_by: 'A', n: 3 }, { claimed_by: 'B', n: 7 }]);
});

test('only the lease holder can finish a row; a swept and re-claimed row ignores its old holder', async () => {
  const { sql, tables: [sq] } = await setup([configureStage(square, { leaseMs: 500 })]);
  await sq!.enqueue(toyRows(0, 2));
  const a = await sq!.claim('A', 1, 1000);
  assert.deepEqual(await sq!.finish('B', a.ids, [[1]], 1100), []);
  assert.deepEqual(await sq!.sweep(1600), { returned: 1, failed: 0 });
  const b = await sq!.claim('B', 1, 1700);
  assert.deepEqual(b.ids, a.ids);
  // The holder died: a death, not an attempt.
  assert.deepEqual([b.attempts, b.deaths], [[1], [1]]);
  assert.deepEqual(await sq!.finish('A', a.ids, [[99]], 1800), []);
  assert.deepEqual(await sq!.finish('B', b.ids, [[1.5]], 1800), b.ids);
  assert.deepEqual(sql.get('SELECT state, y, attempts, deaths, claimed_by FROM square WHERE id = ?', [a.ids[0]!]), { state: 'done', y: 1.5, attempts: 1, deaths: 1, claimed_by: 'B' });
  assert.deepEqual(
    sql.all('SELECT attempt, outcome, claimed_by FROM engine_attempts WHERE stage = ? ORDER BY id', ['square']),
    [{ attempt: 1, outcome: 'expired', claimed_by: null }, { attempt: 1, outcome: 'done', claimed_by: 'B' }],
  );
  const expired = sql.get<{ error: string }>("SELECT error FROM engine_attempts WHERE outcome = 'expired'")!;
  assert.equal(expired.error, 'lease expired (holder A, death 1 of 10)');
});

test('a failed attempt backs off exponentially; after maxAttempts the row is failed with its message and every attempt is history', async () => {
  const s = configureStage(square, { retry: { maxAttempts: 3, backoffMs: 100, maxBackoffMs: 150 } });
  const { sql, tables: [sq] } = await setup([s]);
  await sq!.enqueue([{ key: 'a', x: 1 }]);
  let c = await sq!.claim('W', 1, 0);
  assert.deepEqual(await sq!.fail('W', [{ id: c.ids[0]!, error: 'boom 1' }], 10), { retried: 1, failed: 0 });
  assert.equal((await sq!.claim('W', 1, 109)).ids.length, 0, 'still backing off (100 ms after attempt 1)');
  c = await sq!.claim('W', 1, 110);
  assert.equal(c.ids.length, 1);
  await sq!.fail('W', [{ id: c.ids[0]!, error: 'boom 2' }], 200);
  assert.equal((await sq!.claim('W', 1, 349)).ids.length, 0, 'back-off capped at 150 ms after attempt 2');
  c = await sq!.claim('W', 1, 350);
  assert.deepEqual(await sq!.fail('W', [{ id: c.ids[0]!, error: 'boom 3' }], 400), { retried: 0, failed: 1 });
  assert.deepEqual(sql.get('SELECT state, attempts, last_error FROM square'), { state: 'failed', attempts: 3, last_error: 'boom 3' });
  assert.deepEqual(sql.all('SELECT attempt, outcome, error FROM engine_attempts ORDER BY id').map((r) => Object.values(r as object)), [
    [1, 'error', 'boom 1'], [2, 'error', 'boom 2'], [3, 'error', 'boom 3'],
  ]);
  assert.equal((await sq!.claim('W', 1, 10000)).ids.length, 0);
});

test('an expired lease spends a death, not an attempt: the row goes back even at its last attempt, and ends failed (fail_kind died) only after maxDeaths; release spends neither', async () => {
  const s = configureStage(square, { leaseMs: 10, retry: { maxAttempts: 1, maxDeaths: 3 } });
  const { sql, tables: [sq] } = await setup([s]);
  await sq!.enqueue(toyRows(0, 2));
  const c = await sq!.claim('A', 2, 0);
  assert.equal(await sq!.release('A', [c.ids[0]!], 5), 1);
  assert.deepEqual(await sq!.sweep(100), { returned: 1, failed: 0 });
  const row = () => sql.get<{ state: string; attempts: number; deaths: number; fail_kind: string | null; last_error: string | null }>("SELECT state, attempts, deaths, fail_kind, last_error FROM square WHERE key = 'k0'")!;
  assert.deepEqual(row(), { state: 'pending', attempts: 0, deaths: 1, fail_kind: null, last_error: 'lease expired (holder A, death 1 of 3)' });
  for (let death = 2; death <= 3; death++) {
    const again = await sq!.claimKeys(`H${death}`, ['k0'], death * 1000);
    assert.deepEqual([again.attempts, again.deaths], [[1], [death - 1]]);
    assert.deepEqual(await sq!.sweep(death * 1000 + 100, 'batch lost (worker exited with code: 3); lease ended'), death < 3 ? { returned: 1, failed: 0 } : { returned: 0, failed: 1 });
  }
  assert.deepEqual(row(), { state: 'failed', attempts: 0, deaths: 3, fail_kind: 'died', last_error: 'batch lost (worker exited with code: 3); lease ended (holder H3, death 3 of 3)' });
  assert.deepEqual(sql.get("SELECT state, attempts, deaths FROM square WHERE key = 'k1'"), { state: 'pending', attempts: 0, deaths: 0 });
  assert.deepEqual(sql.all('SELECT key, attempt, outcome FROM engine_attempts ORDER BY id').map((r) => Object.values(r as object)), [
    ['k1', 1, 'released'], ['k0', 1, 'expired'], ['k0', 1, 'expired'], ['k0', 1, 'expired'],
  ]);
});

test('rows in quarantine (two deaths or more) are left out of claims and claimed one at a time, top priority first', async () => {
  const { sql, tables: [sq] } = await setup([configureStage(square, { retry: { maxDeaths: 9 } })]);
  await sq!.enqueue(toyRows(0, 6));
  sql.run("UPDATE square SET deaths = 2 WHERE key IN ('k1', 'k4')");
  sql.run("UPDATE square SET deaths = 1 WHERE key = 'k5'");
  assert.deepEqual((await sq!.claim('A', 10)).keys, ['k5', 'k3', 'k2', 'k0']);
  assert.deepEqual((await sq!.claimSuspect('A')).keys, ['k4']);
  assert.deepEqual((await sq!.claimSuspect('A')).deaths, [2]);
  assert.deepEqual((await sq!.claimSuspect('A')).keys, []);
  assert.match(JSON.stringify(sql.all("EXPLAIN QUERY PLAN SELECT id FROM square WHERE deaths > 0 AND state = 'pending' AND deaths >= 2")), /square_suspects/);
});

test('a row whose work threw its last attempt is failed with fail_kind error; requeue --failed gives back its attempts and deaths', async () => {
  const { requeue } = await import('../../src/store/sqlite/ops.js');
  const s = configureStage(square, { leaseMs: 10, retry: { maxAttempts: 1, maxDeaths: 5 } });
  const { sql, tables: [sq] } = await setup([s]);
  await sq!.enqueue(toyRows(0, 1));
  await sq!.claim('A', 1, 0);
  await sq!.sweep(100);
  const c = await sq!.claim('B', 1, 200);
  assert.deepEqual(await sq!.fail('B', [{ id: c.ids[0]!, error: 'no F in the structure' }], 210), { retried: 0, failed: 1 });
  assert.deepEqual(sql.get('SELECT state, attempts, deaths, fail_kind FROM square'), { state: 'failed', attempts: 1, deaths: 1, fail_kind: 'error' });
  assert.equal(requeue(sql, 'square', 'failed'), 1);
  assert.deepEqual(sql.get('SELECT state, attempts, deaths, fail_kind FROM square'), { state: 'pending', attempts: 0, deaths: 0, fail_kind: null });
});

test('submit puts one key at the head of the queue above every priority; failed keys go back too', async () => {
  const { submit, scale } = await import('../../src/store/sqlite/ops.js');
  const { sql, tables: [sq] } = await setup();
  await sq!.enqueue(toyRows(0, 5));
  submit(sql, 'square', 'k1');
  submit(sql, 'square', 'k3');
  assert.deepEqual((await sq!.claim('A', 3)).keys, ['k3', 'k1', 'k4']);
  assert.throws(() => submit(sql, 'square', 'k3'), /stage square: key "k3" is running; only pending or failed rows can be submitted/);
  assert.throws(() => submit(sql, 'square', 'nope'), /stage square has no row with key "nope" \(not admitted yet\?\)/);
  assert.throws(() => submit(sql, 'cube', 'k1'), /no stage named "cube" in this store \(stages: square, plus_one\)/);
  assert.deepEqual(scale(sql, 'square', 4), { from: 1, to: 4 });
  const { requeue } = await import('../../src/store/sqlite/ops.js');
  const held = await sq!.claim('gone', 1, 1000);
  assert.equal(requeue(sql, 'square', 'stale', 1000 + 299_999), 0, 'lease still running');
  assert.equal(requeue(sql, 'square', 'stale', 1000 + 300_001), 1);
  assert.deepEqual(sql.get('SELECT state, claimed_by FROM square WHERE id = ?', [held.ids[0]!]), { state: 'pending', claimed_by: null });
  assert.throws(() => scale(sql, 'square', 0), /scale square: worker count must be an integer from 1 to 1024, got 0/);
});

test('admission: a downstream stage takes finished upstream rows that pass its cutoff; broadening widens step by step and records each change', async () => {
  const { sql, tables: [sq, po] } = await setup();
  await sq!.enqueue(toyRows(0, 12));
  const c = await sq!.claim('A', 12, 0);
  const admitted = () => sql.all<{ key: string }>('SELECT key FROM plus_one ORDER BY id').map((r) => r.key);
  // Finished rows are admitted downstream in the same unit of work that writes them.
  await sq!.finish('A', c.ids.slice(0, 6), [c.inputs[0]!.slice(0, 6).map((x) => (x as number) ** 2)], 1);
  // y = x² for x = 11..6 (claimed in priority order): 121, 100, 81, 64, 49, 36 -> only 36 <= 40.
  assert.deepEqual(admitted(), ['k6']);
  await sq!.finish('A', c.ids.slice(6), [c.inputs[0]!.slice(6).map((x) => (x as number) ** 2)], 2);
  assert.deepEqual(admitted(), ['k6', 'k0', 'k1', 'k2', 'k3', 'k4', 'k5'], 'in upstream order');
  assert.deepEqual(await po!.admit(), [], 'admitted once');
  assert.deepEqual((await po!.broaden(10))!.admitted, ['k7', 'k8']);
  assert.deepEqual(await po!.cutoffs(), { yMax: 70 });
  assert.deepEqual((await po!.broaden(20))!.admitted, ['k9', 'k10']);
  assert.equal(await po!.broaden(30), null, 'no cutoff can widen any more');
  assert.deepEqual(sql.all("SELECT stage, detail FROM engine_events WHERE kind = 'broaden' ORDER BY id").map((r) => (r as { detail: string }).detail), [
    '{"cutoff":"yMax","from":40,"to":70}', '{"cutoff":"yMax","from":70,"to":100}',
  ]);
  const p = sql.get<{ params: string; input_hash: string; code_version: string }>("SELECT params, input_hash, code_version FROM plus_one WHERE key = 'k9'")!;
  assert.deepEqual(JSON.parse(p.params), { cutoffs: { yMax: 100 } });
  assert.match(p.input_hash, /^[0-9a-f]{32}$/);
  assert.equal(p.code_version, '0.1.0');
});

test('a fork of a downstream stage feeds from the same upstream through its own filter and cutoffs, into its own table', async () => {
  const wide = forkStage(plusOne, { name: 'plus_one_wide', filter: { sql: 'u.y >= 100 - :band', cutoffs: { band: { initial: 50, step: 25, max: 75 } } }, priority: 'y' });
  const { sql, tables: [sq, po, pw] } = await setup([square, plusOne, wide]);
  await sq!.enqueue(toyRows(0, 10));
  const c = await sq!.claim('A', 10, 0);
  await sq!.finish('A', c.ids, [c.inputs[0]!.map((x) => (x as number) ** 2)], 1);
  // y = x²: 0, 1, 4, 9, 16, 25, 36, 49, 64, 81. Both forks were admitted into as the rows finished.
  const keys = (t: string) => sql.all<{ key: string }>(`SELECT key FROM ${t} ORDER BY key`).map((r) => r.key);
  assert.deepEqual(keys('plus_one'), ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
  assert.deepEqual(keys('plus_one_wide'), ['k8', 'k9']);
  assert.deepEqual([await po!.admit(), await pw!.admit()], [[], []]);
  assert.deepEqual((await pw!.claim('B', 1)).keys, ['k9'], 'the fork ranks by its own priority');
  assert.deepEqual(sql.all('SELECT key FROM plus_one_wide ORDER BY key').map((r) => (r as { key: string }).key), ['k8', 'k9']);
  assert.deepEqual((await pw!.broaden())!.admitted.sort(), ['k5', 'k6', 'k7']);
  assert.deepEqual(await pw!.cutoffs(), { band: 75 });
  assert.equal(sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM plus_one')!.n, 7, 'the base stage keeps its own rows');
});

test('only the lease holder can fail a row: another holder\'s failure changes nothing', async () => {
  const { sql, tables: [sq] } = await setup();
  await sq!.enqueue(toyRows(0, 2));
  const c = await sq!.claim('A', 2, 1000);
  await sq!.fail('B', c.ids.map((id) => ({ id, error: 'not mine' })), 1001);
  assert.deepEqual(sql.all('SELECT state, claimed_by, attempts, last_error FROM square ORDER BY id'), [
    { state: 'running', claimed_by: 'A', attempts: 1, last_error: null },
    { state: 'running', claimed_by: 'A', attempts: 1, last_error: null },
  ]);
  assert.equal(sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM engine_attempts WHERE outcome = 'error'")!.n, 0);
});

test('priority swaps at run time re-score pending rows: SQL expression or registered TS function', async () => {
  const { sql, tables: [sq] } = await setup();
  await sq!.enqueue(toyRows(0, 6));
  await sq!.setPriority({ fn: 'negative_x' });
  assert.deepEqual((await sq!.claim('A', 2)).keys, ['k0', 'k1']);
  await sq!.setPriority('x % 3');
  assert.deepEqual((await sq!.claim('A', 4)).keys, ['k2', 'k5', 'k4', 'k3']);
  assert.deepEqual(JSON.parse(sql.get<{ priority: string }>("SELECT priority FROM engine_stages WHERE name = 'square'")!.priority), 'x % 3');
  assert.equal(sql.all("SELECT * FROM engine_events WHERE kind = 'priority'").length, 2);
  await assert.rejects(sq!.setPriority({ fn: 'nope' }), /stage square: priority function "nope" is not registered \(registered: .*negative_x/);
  const { setPriority } = await import('../../src/store/sqlite/ops.js');
  await sq!.enqueue(toyRows(6, 9));
  // Swapped from the registry side (the CLI, another process): the pending rows are re-scored at once.
  assert.deepEqual(setPriority(sql, 'square', '-x'), { from: 'x % 3', rescored: 3 });
  assert.deepEqual((await sq!.claim('A', 3)).keys, ['k6', 'k7', 'k8']);
  assert.throws(() => setPriority(sql, 'square', 'no_such_column'), /stage square: priority "no_such_column": no column no_such_column \(columns: key, x, y\)/);
  assert.throws(() => setPriority(sql, 'square', 'x; DELETE FROM square'), /stage square: priority "x; DELETE FROM square": one expression only \(no ";"\)/);
  assert.throws(() => setPriority(sql, 'square', ''), /stage square: priority must be one SQL expression, got ""/);
  const withFn = forkStage(square, { name: 'square_by_fn', priority: { fn: 'negative_x' } });
  const { tables: [t] } = await setup([withFn]);
  await t!.enqueue(toyRows(0, 3));
  assert.deepEqual((await t!.claim('A', 3)).keys, ['k0', 'k1', 'k2']);
});

test('a registered stage table with other columns is refused with the way out', async () => {
  const { store } = await setup();
  const other = defineStage({ ...decl(), name: 'square', output: { w: 'float64' } });
  await assert.rejects(store.ensure([other]), /stage square: table square exists with other columns \(missing w\); run `fracflow reset --yes` or rename the stage/);
});

function decl(): StageDeclaration {
  return { module: 'file:///m.ts', name: 's', input: { columns: { x: 'float64' } }, output: { y: 'float64' }, work: (b) => b };
}

test('stage declarations: every bad option is named with its value', async () => {
  const cases: [Partial<StageDeclaration> | Record<string, unknown>, RegExp][] = [
    [{ name: 'Bad-Name' }, /stage name must match .*, got "Bad-Name"/],
    [{ name: 'engine_x' }, /stage name "engine_x" is taken by a store table/],
    [{ module: '' }, /stage s: module must be the declaring module's URL \(import.meta.url\), got ""/],
    [{ work: 3 }, /stage s: work must be a function, got number/],
    [{ input: undefined }, /stage s: input is required/],
    [{ input: { columns: { id: 'float64' } } }, /stage s: input column "id" is reserved/],
    [{ input: { columns: { X: 'float64' } } }, /stage s: input column "X" must match/],
    [{ input: { columns: { x: 'float32' } } }, /stage s: input column x: type must be one of float64, int32, utf8, binary, bool, got "float32"/],
    [{ input: { from: 'Up!', columns: {} } }, /stage s: input.from must be a table name, got "Up!"/],
    [{ input: { from: 's', columns: {} } }, /stage s: input.from cannot be the stage itself/],
    [{ output: { x: 'float64' } }, /stage s: output column "x" is also an input column/],
    [{ output: {} }, /stage s: output must declare at least one column/],
    [{ filter: { sql: 'u.x < 1' } }, /stage s: filter needs input.from/],
    [{ input: { from: 'up', columns: {} }, filter: { sql: 'u.x < :c', cutoffs: { 'c-1': { initial: 1 } } } }, /stage s: cutoff name "c-1" must be an identifier/],
    [{ input: { from: 'up', columns: {} }, filter: { sql: 'u.x < :c', cutoffs: { c: { initial: NaN } } } }, /stage s: cutoff c: initial must be a finite number, got null/],
    [{ input: { from: 'up', columns: {} }, filter: { sql: 'u.x < :c', cutoffs: { c: { initial: 1, step: -1 } } } }, /stage s: cutoff c: step must be a non-negative number, got -1/],
    [{ input: { from: 'up', columns: {} }, filter: { sql: 'u.x < :c', cutoffs: { c: { initial: 1, max: 0 } } } }, /stage s: cutoff c: max must be a number >= initial \(1\), got 0/],
    [{ input: { from: 'up', columns: {} }, filter: { sql: 'u.x < 1', cutoffs: { c: { initial: 1 } } } }, /stage s: cutoff c is not used in filter.sql \(write :c\)/],
    [{ priority: 'x; DROP TABLE s' }, /stage s: priority "x; DROP TABLE s": one expression only \(no ";"\)/],
    [{ priority: 'random() * x' }, /stage s: priority "random\(\) \* x": function random\(\) is not in the portable subset/],
    [{ priority: 'z + 1' }, /stage s: priority "z \+ 1": no column z \(columns: key, x, y\)/],
    [{ input: { from: 'up', columns: {} }, filter: { sql: 'x IN (SELECT 1)' } }, /stage s: filter "x IN \(SELECT 1\)": expected "\)" before 1/],
    [{ input: { from: 'up', columns: { x: { type: 'float64', expr: 'u.x * 2' } as never } } }, /stage s: input column x: SQL expressions are not allowed in a declaration any more/],
    [{ input: { from: 'up', key: '{key', columns: {} } }, /stage s: input.key "\{key": unmatched "\{"/],
    [{ input: { from: 'up', key: 'fixed', columns: {} } }, /stage s: input.key "fixed" names no column/],
    [{ input: { from: 'up', key: '{key:0}', columns: {} } }, /stage s: input.key "\{key:0\}": \{key:0\} must be \{column\} or \{column:N\}/],
    [{ input: { from: 'up', join: 'JOIN t', columns: {} } as never }, /stage s: input.join is not allowed any more/],
    [{ emits: { table: 's', columns: { a: 'utf8' } } }, /stage s: emits.table "s" is taken/],
    [{ emits: { table: 'e', columns: { key: 'utf8' } } }, /stage s: emitted column "key" is reserved/],
    [{ sink: { column: 'y', rootParam: 'out', dirColumn: 'y' } }, /stage s: sink.column must name the result's packed-files column, not an input or output column, got "y"/],
    [{ priority: { name: 'f' } }, /stage s: priority must be a SQL expression or \{ fn: name \}, got \{"name":"f"\}/],
    [{ workers: 0 }, /stage s: workers must be a positive integer, got 0/],
    [{ batchSize: 1.5 }, /stage s: batchSize must be a positive integer, got 1.5/],
    [{ leaseMs: -1 }, /stage s: leaseMs must be a positive integer, got -1/],
    [{ retry: { maxAttempts: 0 } }, /stage s: retry.maxAttempts must be a positive integer, got 0/],
    [{ retry: { backoffMs: 10, maxBackoffMs: 5 } }, /stage s: retry.backoffMs must be >= 0 and <= retry.maxBackoffMs, got 10 \/ 5/],
  ];
  for (const [change, re] of cases) {
    assert.throws(() => defineStage({ ...decl(), ...change } as StageDeclaration), (e: Error) => e instanceof StageError && re.test(e.message), JSON.stringify(change));
  }
});
