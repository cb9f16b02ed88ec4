/**
 * The engine commands as real processes: engine enqueue/run (both modes, progress output), status,
 * errors, requeue, submit, scale, cleanup, reset, checkpoint and export, and how each rejects bad
 * input (message naming the option and value, exit code 2); `errors` grouping rows that failed with
 * one message (row count, three example keys in id order, most frequent message first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { cli, toyModule } from '../engine/fixtures/run.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { squareOf, toyRows } from '../engine/fixtures/toy-stages.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-cli-engine-'));

function rowsFile(dir: string, from: number, to: number): string {
  const f = join(dir, `rows-${from}-${to}.jsonl`);
  writeFileSync(f, toyRows(from, to).map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
}

function ok(r: { status: number | null; stderr: string }) {
  assert.equal(r.status, 0, r.stderr);
}

test('engine run (fractured), status, checkpoint and export: results, counts, backup, CSV and Arrow files', () => {
  const dir = tmp();
  const db = join(dir, 'f.db');
  ok(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 0, 30), '--db', db]));
  const run = cli(['engine', 'run', '--module', toyModule, '--only', 'square,plus_one', '--db', db, '--progress', 'lines', '--tick-ms', '50']);
  ok(run);
  assert.match(run.stdout, /^fractured run finished in [\d.]+ s$/m);
  assert.match(run.stdout, /^ {2}square: 30 rows done in \d+ batches, 0 failed attempts$/m);
  assert.match(run.stdout, /^ {2}broadened plus_one\.yMax: 70 -> 100$/m);
  assert.match(run.stderr, /^\[\d\d:\d\d:\d\d\] square: 30\/30 done, 0 failed, 0 running, 0 pending, [\d.]+ rows\/s, ETA 0s, 1 workers$/m);

  const status = cli(['status', '--db', db, '--json']);
  ok(status);
  const st = JSON.parse(status.stdout) as { stage: string; pending: number; done: number; workers: number; rowsPerSec: number }[];
  assert.deepEqual(st.map((s) => [s.stage, s.pending, s.done, s.workers]), [['square', 0, 30, 1], ['plus_one', 0, 10, 1]]);
  assert.ok(st[0]!.rowsPerSec > 0);
  const table = cli(['status', '--db', db]);
  assert.match(table.stdout, /^stage\s+pending\s+running\s+done\s+failed\s+rows\/s\s+ETA\s+workers$/m);
  assert.match(table.stdout, /^square\s+0\s+0\s+30\s+0\s+[\d.]+\s+0s\s+1$/m);

  const cp = join(dir, 'cp');
  ok(cli(['checkpoint', cp, '--db', db]));
  for (const f of ['fracflow.db', 'square.csv', 'square.arrow', 'plus_one.csv', 'plus_one.arrow']) assert.ok(existsSync(join(cp, f)), f);
  const arrow = readFileSync(join(cp, 'square.arrow'));
  assert.equal(arrow.subarray(0, 6).toString(), 'ARROW1');
  assert.equal(arrow.subarray(arrow.length - 6).toString(), 'ARROW1');
  const t = tableFromIPC(arrow);
  assert.equal(t.numRows, 30);
  const xs = t.getChild('x')!.toArray() as Float64Array;
  const ys = t.getChild('y')!.toArray() as Float64Array;
  xs.forEach((x, i) => assert.equal(ys[i], squareOf(x)));
  const csv = readFileSync(join(cp, 'plus_one.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 11);
  assert.match(csv[0]!, /^id,key,state,priority,boost,claimed_by,lease_until,attempts,deaths,fail_kind,available_at,last_error,created_at,started_at,finished_at,updated_at,input_hash,params,code_version,y,z$/);
  const backup = openSql(join(cp, 'fracflow.db'));
  assert.equal(backup.get<{ n: number }>("SELECT COUNT(*) AS n FROM square WHERE state = 'done'")!.n, 30);
  backup.close();

  const json = cli(['export', 'plus_one', '--format', 'json', '--db', db]);
  ok(json);
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; y: number; z: number });
  assert.equal(lines.length, 10);
  for (const l of lines) assert.equal(l.z, l.y + 1);
  const out = join(dir, 'sq.arrow');
  ok(cli(['export', 'square', '--format', 'arrow', '--out', out, '--db', db]));
  assert.equal(tableFromIPC(readFileSync(out)).numRows, 30);
  const bad = cli(['export', 'nope', '--db', db]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /fracflow: no table named "nope" \(tables: .*square/);
});

test('errors, requeue, submit, scale, cleanup and reset on a stage with failing rows; fixed mode finishes the requeued rows', () => {
  const dir = tmp();
  const db = join(dir, 'e.db');
  ok(cli(['engine', 'enqueue', '--module', toyModule, 'flaky', rowsFile(dir, 1, 30), '--db', db]));
  ok(cli(['engine', 'run', '--module', toyModule, '--only', 'flaky', '--db', db, '--progress', 'off']));
  const errs = cli(['errors', 'flaky', '--db', db]);
  ok(errs);
  assert.match(errs.stdout, /^flaky: 1 rows \(up to 2 attempts\): bad input x=7\n {2}e\.g\. k7$/m);
  assert.match(errs.stdout, /^flaky: 1 rows \(up to 2 attempts\): bad input x=14$/m);
  const errJson = JSON.parse(cli(['errors', '--json', '--db', db]).stdout) as { rows: number }[];
  assert.equal(errJson.reduce((a, g) => a + g.rows, 0), 4);

  const sub = cli(['submit', 'flaky', 'k7', '--db', db]);
  ok(sub);
  assert.match(sub.stdout, /flaky: k7 is at the head of the queue/);
  const subDone = cli(['submit', 'flaky', 'k1', '--db', db]);
  assert.equal(subDone.status, 2);
  assert.match(subDone.stderr, /stage flaky: key "k1" is done; only pending or failed rows can be submitted/);
  const pr = cli(['engine', 'priority', 'flaky', '100 - x', '--db', db]);
  ok(pr);
  assert.match(pr.stdout, /flaky: priority "0" -> "100 - x", 1 pending rows re-scored/);
  const rq = cli(['requeue', 'flaky', '--failed', '--db', db]);
  assert.match(rq.stdout, /flaky: 3 failed rows back to pending/);
  const stale = cli(['requeue', 'flaky', '--stale', '--db', db]);
  assert.match(stale.stdout, /flaky: 0 stale rows back to pending/);
  const both = cli(['requeue', 'flaky', '--db', db]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /requeue: give exactly one of --failed or --stale/);

  const sc = cli(['scale', 'flaky=3', '--db', db]);
  assert.match(sc.stdout, /flaky: 1 -> 3 workers/);
  const badScale = cli(['scale', 'flaky', '--db', db]);
  assert.equal(badScale.status, 2);
  assert.match(badScale.stderr, /scale: expected STAGE=N \(N a positive integer\), got "flaky"/);

  const pre = openSql(db);
  const lastId = pre.get<{ m: number }>('SELECT MAX(id) AS m FROM engine_attempts')!.m;
  pre.close();
  const fixed = cli(['engine', 'run', '--module', toyModule, '--only', 'flaky', '--mode', 'fixed', '--workflows', '1', '--db', db, '--progress', 'off', '--json']);
  ok(fixed);
  const rep = JSON.parse(fixed.stdout) as { mode: string; stages: Record<string, { rowsFailedAttempts: number }> };
  assert.equal(rep.mode, 'fixed');
  assert.equal(rep.stages['flaky']!.rowsFailedAttempts, 8, '4 bad rows x 2 attempts (requeue restarts the count)');
  const s = openSql(db);
  assert.equal(s.get<{ n: number }>("SELECT COUNT(*) AS n FROM flaky WHERE state = 'done'")!.n, 25);
  const firstFixed = s.get<{ key: string }>('SELECT key FROM engine_attempts WHERE id > ? ORDER BY id LIMIT 1', [lastId]);
  assert.equal(firstFixed!.key, 'k7', 'the submitted key ran first');
  assert.equal(s.get<{ workers: number }>("SELECT workers FROM engine_stages WHERE name = 'flaky'")!.workers, 3);
  s.close();

  const cleanKeep = cli(['cleanup', '--older-than', '7d', '--db', db]);
  assert.match(cleanKeep.stdout, /purged 0 attempt records, 0 events, bookkeeping of 0 rows/);
  const clean = cli(['cleanup', '--older-than', '0s', '--db', db]);
  assert.match(clean.stdout, /purged 25 attempt records, \d+ events, bookkeeping of 25 rows/);
  const badAge = cli(['cleanup', '--older-than', 'week', '--db', db]);
  assert.equal(badAge.status, 1);
  assert.match(badAge.stderr, /--older-than: duration must look like 7d, 12h, 30m or 45s, got "week"/);
  const after = openSql(db);
  assert.equal(after.get<{ n: number }>("SELECT COUNT(*) AS n FROM flaky WHERE state = 'done' AND y IS NOT NULL AND claimed_by IS NULL")!.n, 25, 'results kept');
  assert.equal(after.get<{ n: number }>("SELECT COUNT(*) AS n FROM engine_attempts WHERE outcome = 'error'")!.n, 16, 'history of rows that never finished is kept (2 runs x 4 rows x 2 attempts)');
  after.close();

  // A view over a stage table (as the screen's `pathways` over `find_paths`) is exported like a table
  // (undeclared column types taken from the values) and dropped by reset with its table.
  const withView = openSql(db);
  withView.exec("CREATE VIEW flaky_done AS SELECT key, y, y * 2 AS y2, 'ok' AS tag FROM flaky WHERE state = 'done' ORDER BY x");
  withView.exec("CREATE VIEW my_stages AS SELECT name FROM engine_stages");
  withView.close();
  const viewJson = cli(['export', 'flaky_done', '--format', 'json', '--db', db]);
  assert.equal(viewJson.status, 0, viewJson.stderr);
  const viewRows = viewJson.stdout.trim().split('\n').map((l) => JSON.parse(l) as { y: number; y2: number; tag: string });
  assert.equal(viewRows.length, 25);
  assert.ok(viewRows.every((r) => r.y2 === 2 * r.y && r.tag === 'ok'));
  const viewArrow = cli(['export', 'flaky_done', '--format', 'arrow', '--db', db, '--out', join(dir, 'v.arrow')]);
  assert.equal(viewArrow.status, 0, viewArrow.stderr);
  const t = tableFromIPC(readFileSync(join(dir, 'v.arrow')));
  assert.deepEqual(t.schema.fields.map((x) => [x.name, String(x.type)]), [['key', 'Utf8'], ['y', 'Float64'], ['y2', 'Float64'], ['tag', 'Utf8']]);

  const noYes = cli(['reset', '--db', db]);
  assert.equal(noYes.status, 2);
  assert.match(noYes.stderr, /reset drops every stage table and its results; add --yes to confirm/);
  const reset = cli(['reset', '--yes', '--db', db]);
  assert.match(reset.stdout, /dropped 1 stage tables: flaky/);
  const empty = cli(['status', '--db', db]);
  assert.match(empty.stdout, /no stages yet/);
  const gone = openSql(db);
  assert.equal(gone.get<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'flaky_done'")!.n, 0, 'the view went with its table');
  assert.equal(gone.get<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'my_stages'")!.n, 1, 'a view over no stage table stays');
  gone.close();
});

test('errors groups failed rows by message: one line per message with its row count, most frequent first, and the first three keys in id order', () => {
  const dir = tmp();
  const db = join(dir, 'g.db');
  // x = 1..39: `bad input` on 7, 14, 21, 28, 35; `out of range` on 11, 22, 33.
  ok(cli(['engine', 'enqueue', '--module', toyModule, 'shared_error', rowsFile(dir, 1, 40), '--db', db]));
  ok(cli(['engine', 'run', '--module', toyModule, '--only', 'shared_error', '--db', db, '--progress', 'off']));
  const errs = cli(['errors', 'shared_error', '--db', db]);
  ok(errs);
  // Ids follow x, so id order (k7, k14, k21) is not the keys' text order (k14, k21, k28).
  assert.equal(
    errs.stdout,
    'shared_error: 5 rows (up to 1 attempts): bad input\n  e.g. k7, k14, k21\n' + 'shared_error: 3 rows (up to 1 attempts): out of range\n  e.g. k11, k22, k33\n',
  );
  const json = cli(['errors', '--json', '--db', db]);
  ok(json);
  assert.deepEqual(JSON.parse(json.stdout), [
    { stage: 'shared_error', message: 'bad input', rows: 5, examples: ['k7', 'k14', 'k21'], paths: [], attempts: 1 },
    { stage: 'shared_error', message: 'out of range', rows: 3, examples: ['k11', 'k22', 'k33'], paths: [], attempts: 1 },
  ]);
});

test('engine run: bars on a terminal-like stream, and bad module/stage/option values are named', () => {
  const dir = tmp();
  const db = join(dir, 'b.db');
  ok(cli(['engine', 'enqueue', '--module', toyModule, 'square', rowsFile(dir, 0, 5), '--db', db]));
  const bars = cli(['engine', 'run', '--module', toyModule, '--only', 'square', '--db', db, '--progress', 'bars']);
  ok(bars);
  assert.match(bars.stderr, /\x1b\[2Ksquare \[#{30}\] +5\/5 fail 0/);
  const cases: [string[], RegExp][] = [
    [['engine', 'run', '--module', join(dir, 'missing.ts'), '--db', db], /cannot load stage module .*missing\.ts/],
    [['engine', 'run', '--module', toyModule, '--only', 'cube', '--db', db], /stage module .*toy-stages\.ts has no stage "cube" \(it has: copy, copy_plus, crash_once, dies_on_three, flaky/],
    [['engine', 'run', '--module', toyModule, '--workflows', '0', '--db', db], /--workflows must be a positive integer, got "0"/],
    [['engine', 'enqueue', '--module', toyModule, 'plus_one', rowsFile(dir, 0, 1), '--db', db], /engine: stage plus_one is fed from square; enqueue only into a source stage/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
