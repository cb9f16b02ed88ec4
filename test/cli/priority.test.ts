/**
 * `fracflow priority STAGE --model ridge --target T.C --features …` as a process: a fit on finished
 * rows swapped in as the stage's priority (what running engines adopt), and each bad input refused
 * with a message naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, toyModule } from '../engine/fixtures/run.js';
import { toyRows } from '../engine/fixtures/toy-stages.js';
import { openQueueStore } from '../../src/store/index.js';

test('priority: a ridge fit of square.y on x swapped in as the priority of square; bad inputs named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-cli-priority-'));
  const db = join(dir, 'f.db');
  const rows = join(dir, 'rows.jsonl');
  writeFileSync(rows, toyRows(0, 20).map((r) => JSON.stringify(r)).join('\n') + '\n');
  assert.equal(cli(['engine', 'enqueue', '--module', toyModule, 'square', rows, '--db', db]).status, 0);
  const run = cli(['engine', 'run', '--module', toyModule, '--only', 'square', '--db', db, '--tick-ms', '50']);
  assert.equal(run.status, 0, run.stderr);
  const r = cli(['priority', 'square', '--model', 'ridge', '--target', 'square.y', '--features', 'x', '--alpha', '0', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^square: ridge fit of square\.y on 20 rows \(R² 0\.\d+, RMSE [\d.]+; intercept [-\d.e+]+, x [\d.e+]+\); priority -\(\(/m);
  const store = openQueueStore(db);
  try {
    const p = (await store.control(['square']))[0]!.priority;
    assert.match(String(p), /^-\(\([-\d.e]+\) \+ \([\d.e]+\) \* coalesce\(x, \([\d.e]+\)\)\)$/);
  } finally {
    await store.close();
  }
  const bad: [string[], RegExp][] = [
    [['square', '--model', 'ridge', '--target', 'square', '--features', 'x'], /--target must be TABLE\.COLUMN \(e\.g\. calc_static\.barrier_ev\), got "square"/],
    [['square', '--model', 'forest', '--target', 'square.y', '--features', 'x'], /option '--model <model>' argument 'forest' is invalid/],
    [['square', '--model', 'ridge', '--target', 'square.y', '--features', 'x,'], /--features must be a comma-separated list of column names, got "x,"/],
    [['square', '--model', 'ridge', '--target', 'square.y', '--features', 'w'], /learned priority: feature "w" is not a column of square/],
    [['nope', '--model', 'ridge', '--target', 'square.y', '--features', 'x'], /priority: no stage "nope" in .*f\.db \(stages: square/],
    [['square', '--model', 'ridge', '--target', 'square.y', '--features', 'x', '--alpha', '-1'], /--alpha must be a non-negative number, got "-1"/],
    [['square', '--model', 'ridge', '--target', 'square.y', '--features', 'x', '--every', '0'], /--every must be a positive integer, got "0"/],
  ];
  for (const [args, message] of bad) {
    const b = cli(['priority', ...args, '--db', db]);
    assert.notEqual(b.status, 0, args.join(' '));
    assert.match(b.stderr, message, args.join(' '));
  }
});
