/**
 * Large inputs on the command line: `paths`, `path-images` and `descriptors` print progress lines on
 * stderr (never stdout, which stays valid JSON) once they have run `--progress-after` seconds, none
 * with `--no-progress`; `--max-sites` refuses a larger structure with a message naming the count,
 * the limit and the option; bad option values are named. Progress timing is injected, never measured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pathsCommand from '../../src/cli/commands/paths.js';
import * as descriptorsCommand from '../../src/cli/commands/descriptors.js';
import * as screenCommand from '../../src/cli/commands/screen.js';
import { progressLines } from '../../src/cli/progress.js';
import { hopsFromJson } from '../../src/analysis/hop-images.js';
import { findHops } from '../../src/analysis/pathfinder.js';
import { supercell } from '../../src/kernels/supercell.js';
import { readStructure, writeStructure } from '../../src/structure/io.js';
import { runCli, runCommandsInProcess } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/reference.js';

const caf2 = join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif');
const inProcess = (args: string[]) => runCommandsInProcess([pathsCommand, descriptorsCommand, screenCommand], args);

/** A 5×5×5 CaF2 cell (1500 sites) as a POSCAR in a fresh folder. */
function largeCell(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-large-'));
  const file = join(dir, 'POSCAR_CaF2_5x5x5');
  writeFileSync(file, writeStructure(supercell(readStructure(caf2), [5, 0, 0, 0, 5, 0, 0, 0, 5]), 'poscar'));
  return { dir, file };
}

test('paths on a 1500-site cell: JSON on stdout, progress lines on stderr (phases, elapsed time, done); none with --no-progress', () => {
  const { dir, file } = largeCell();
  try {
    const r = runCli(['paths', file, '--json', '--progress-after', '0']);
    assert.equal(r.status, 0, r.stderr);
    const hops = hopsFromJson(r.stdout);
    const unit = findHops(readStructure(caf2));
    assert.deepEqual(hops.hops.map((h) => h.lengthAng.toFixed(9)), unit.hops.map((h) => h.lengthAng.toFixed(9)));
    assert.deepEqual(hops.hops.map((h) => h.multiplicity), unit.hops.map((h) => 125 * h.multiplicity));
    const lines = r.stderr.trimEnd().split('\n');
    for (const l of lines) assert.match(l, /^fracflow paths: .* \(\d+\.\d s\)$/, r.stderr);
    assert.match(lines[0]!, /^fracflow paths: primitive cell and symmetry \(1500 sites\) \(/);
    assert.ok(lines.some((l) => l.startsWith('fracflow paths: distinct F hops up to 5.010 Å (3-site primitive cell, 48 operations)')), r.stderr);
    assert.match(lines.at(-1)!, /^fracflow paths: done \(\d+\.\d s\)$/);
    const quiet = runCli(['paths', file, '--json', '--progress-after', '0', '--no-progress']);
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    assert.equal(quiet.stdout, r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('descriptors --json: one JSON object per stdout line, one progress line per hop on stderr', () => {
  const r = runCli(['descriptors', caf2, '--json', '--limit', '2', '--progress-after', '0']);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { hop_index: number });
  assert.deepEqual(rows.map((x) => x.hop_index), [0, 1]);
  const lines = r.stderr.trimEnd().split('\n');
  for (const l of lines) assert.match(l, /^fracflow descriptors: /);
  assert.deepEqual(lines.filter((l) => l.includes('hop descriptors')).map((l) => / (\d\/\d) \(/.exec(l)![1]), ['1/2', '2/2']);
  assert.match(lines.at(-1)!, /^fracflow descriptors: done \(/);
});

test('--max-sites: paths, path-images and descriptors refuse a larger structure, naming the count, the limit and the option', () => {
  const { dir, file } = largeCell();
  try {
    const r = runCli(['paths', file, '--max-sites', '1000']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^fracflow: (structure \S+|the structure) has 1500 sites, more than the limit of 1000 sites per structure for the hop search; to analyse it whole, raise the limit with --max-sites 1500 \(maxSites in the library\)\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--max-sites and --progress-after: in-process runs of the three commands', async () => {
  const d = await inProcess(['descriptors', caf2, '--max-sites', '11']);
  assert.equal(d.status, 1);
  assert.match(d.stderr, /has 12 sites, more than the limit of 11 sites per structure for the descriptors; to analyse it whole, raise the limit with --max-sites 12 \(maxSites in the library\)/);
  const p = await inProcess(['path-images', caf2, '--hop', '0', '--max-sites', '11']);
  assert.equal(p.status, 1);
  assert.match(p.stderr, /has 12 sites, more than the limit of 11 sites per structure for the hop search/);
  const ok = await inProcess(['paths', caf2, '--max-sites', '12', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(hopsFromJson(ok.stdout).hops.length, 4);
  for (const [cmd, extra] of [['paths', []], ['descriptors', []], ['screen', ['--db', ':memory:']]] as const) {
    for (const bad of ['0', '-5', '2.5', 'many']) {
      const r = await inProcess([cmd, ...(cmd === 'screen' ? [] : [caf2]), ...extra, '--max-sites', bad]);
      assert.equal(r.status, 1, `${cmd} --max-sites ${bad}`);
      assert.match(r.stderr, new RegExp(`--max-sites must be a positive integer \\(sites per structure\\), got "${bad}"`), `${cmd}: ${r.stderr}`);
    }
  }
  for (const bad of ['-1', 'soon', '']) {
    const r = await inProcess(['paths', caf2, '--progress-after', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`--progress-after must be a number of seconds >= 0, got "${bad}"`), r.stderr);
  }
});

test('progressLines: silent before the threshold, one line per event after it, a closing line only if lines were shown', () => {
  let now = 0;
  let out = '';
  const sink = { write: (s: string) => (out += s) };
  const p = progressLines('paths', 2, sink, () => now);
  p.onProgress!({ phase: 'symmetry' });
  now = 1999;
  p.onProgress!({ phase: 'hops' });
  assert.equal(out, '');
  now = 2500;
  p.onProgress!({ phase: 'hop descriptors', done: 0, total: 5 });
  now = 12_040;
  p.onProgress!({ phase: 'hop descriptors', done: 4, total: 5 });
  p.finish();
  assert.equal(out, 'fracflow paths: hop descriptors 1/5 (2.5 s)\nfracflow paths: hop descriptors 5/5 (12.0 s)\nfracflow paths: done (12.0 s)\n');
  out = '';
  const quick = progressLines('paths', 2, sink, () => 0);
  quick.onProgress!({ phase: 'symmetry' });
  quick.finish();
  assert.equal(out, '');
  const off = progressLines('paths', null, sink);
  assert.equal(off.onProgress, undefined);
  off.finish();
  assert.equal(out, '');
});
