/**
 * Progress.wants(): the scheduler builds the status (a scan of every stage table) only when an update
 * would print, so wants() must agree with what update() prints in every mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Progress } from '../../src/engine/progress.js';

const status = [{ stage: 'square', pending: 1, running: 0, done: 2, failed: 0, failedDied: 0, workers: 1, rowsPerSec: 0, etaSec: null }];

function sink(isTTY: boolean) {
  const out = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

test('off: wants nothing, prints nothing', () => {
  const s = sink(false);
  const p = new Progress('off', s.out, 1000);
  assert.equal(p.enabled, false);
  assert.equal(p.wants(0), false);
  p.update(status, 0);
  p.finish(status);
  assert.equal(s.text(), '');
});

test('lines: wants an update exactly when the interval has passed since the last line', () => {
  const s = sink(false);
  const p = new Progress('lines', s.out, 1000);
  assert.equal(p.enabled, true);
  assert.equal(p.wants(5000), true);
  p.update(status, 5000);
  const printed = s.text();
  assert.match(printed, /square/);
  assert.equal(p.wants(5999), false);
  p.update(status, 5999);
  assert.equal(s.text(), printed);
  assert.equal(p.wants(6000), true);
  p.update(status, 6000);
  assert.notEqual(s.text(), printed);
});

test('bars (auto in a terminal): wants every update', () => {
  const s = sink(true);
  const p = new Progress('auto', s.out, 1000);
  assert.equal(p.wants(0), true);
  p.update(status, 0);
  assert.equal(p.wants(1), true);
  assert.match(s.text(), /\[#+\.*\]/);
});
