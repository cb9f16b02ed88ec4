/**
 * `fracflow study architecture` as a process: a small run on the measured bundled costs writes its
 * files and prints a line per run, with the library's defaults (the benchmark's figures are the
 * command's); each option's bad value is refused with a message naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../engine/fixtures/run.js';
import { runStudy } from '../../src/workflow/study/study.js';

test('study architecture: 20 structures of the bundled costs, 64 cores, fixed and fractured, as runStudy gives them', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'fracflow-cli-study-')), 'out');
  const r = cli(['study', 'architecture', '--corpus', '20', '--cores', '64', '--rho', '0.6', '--seed', '3', '--variants', 'fixed,fractured', '--top-n', '10', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^corpus-20 64 cores ρ=0\.6 fixed: makespan [\d.]+ h, utilisation \d+ %, top-10 [\d.]+ h/m);
  assert.match(r.stdout, /^corpus-20 64 cores ρ=0\.6 fractured: makespan/m);
  assert.match(r.stdout, /^2 runs; wrote 6 files to /m);
  for (const f of ['runs.csv', 'steps.csv', 'summary.md', 'topk_corpus-20_c64_rho0.6_s3.svg']) assert.ok(existsSync(join(out, f)), f);
  assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /\| corpus-20 \| 64 \| 0\.6 \| fractured \|/);
  // The command's defaults (static share, control tick) are the library's, which the benchmark uses.
  const [head, ...rows] = readFileSync(join(out, 'runs.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const col = (name: string) => head!.indexOf(name);
  const lib = await runStudy({ corpus: 20, cores: [64], rho: [0.6], seed: 3, variants: ['fixed', 'fractured'], topN: 10 }, join(out, '..', 'lib'));
  for (const m of lib.runs) {
    const row = rows.find((r) => r[col('variant')] === m.variant)!;
    // runs.csv keeps 6 significant digits.
    assert.deepEqual([row[col('makespan_h')], Number(row[col('static_runs')]), Number(row[col('neb_runs')])], [m.makespan_h.toPrecision(6), m.static_runs, m.neb_runs], m.variant);
  }
});

test('study architecture: bad option values are refused, the message naming the option and the value', () => {
  const bad: [string[], RegExp][] = [
    [['--cores', '64,4'], /--cores must be a comma-separated list of integers ≥ 8, got "4" in "64,4"/],
    [['--rho', '0.5,1.5'], /--rho must be a comma-separated list of numbers within 0–1, got "1\.5" in "0\.5,1\.5"/],
    [['--rho', '0.5,'], /--rho must be a comma-separated list of numbers within 0–1, got "0\.5,"/],
    [['--corpus', 'big'], /--corpus must be 'bundled' or a positive integer \(structures\), got "big"/],
    [['--variants', 'fixed,fast'], /--variants: unknown variant "fast" \(choose from fixed, fractured/],
    [['--seed', '1,2'], /--seed takes one value, got 1,2/],
    [['--static-share', '1'], /--static-share must be a comma-separated list of numbers within \(0, 1\), got "1"/],
    [['--tick-min', '0'], /--tick-min must be a comma-separated list of positive numbers, got "0"/],
    [['--top-n', '0'], /--top-n must be a comma-separated list of positive integers, got "0"/],
  ];
  for (const [args, message] of bad) {
    const r = cli(['study', 'architecture', ...args, '--out', join(tmpdir(), 'never-written')]);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
  const csv = cli(['study', 'architecture', '--barriers', join(tmpdir(), 'no-such-barriers.csv'), '--out', join(tmpdir(), 'never-written')]);
  assert.notEqual(csv.status, 0);
  assert.match(csv.stderr, /no-such-barriers\.csv/);
});
