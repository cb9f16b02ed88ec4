/**
 * `runScreen({until})`: the screen stopped after an earlier stage runs only the stages up to it (no
 * later stage table is made, the ranking is empty), a later run on the same store goes on from there
 * without recomputing the earlier stage, and a bad stage name is refused before anything runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/sqlite/diffusion.js';
import { StageError } from '../../src/stage-kit/stage.js';
import { runScreen, type ScreenStageName } from '../../src/workflow/screen.js';

const here = dirname(fileURLToPath(import.meta.url));
const structures = join(here, 'fixtures', 'structures');

function tables(db: string): string[] {
  const s = openStore(db);
  try {
    return s.sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('find_paths', 'descriptors', 'images') ORDER BY name").map((r) => r.name);
  } finally {
    s.close();
  }
}

test('runScreen until find_paths, then until descriptors on the same store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-until-'));
  const db = join(dir, 'screen.db');
  const outDir = join(dir, 'out');
  const a = await runScreen({ db, source: { kind: 'files', paths: [structures] }, outDir, until: 'find_paths', checkpoint: false });
  assert.deepEqual(a.status.map((s) => [s.stage, s.done, s.failed, s.pending + s.running]), [['find_paths', 3, 1, 0]]);
  assert.deepEqual(Object.keys(a.run.stages), ['find_paths']);
  assert.deepEqual(a.top, []);
  assert.deepEqual(tables(db), ['find_paths']);

  const b = await runScreen({ db, outDir, until: 'descriptors', checkpoint: false });
  assert.deepEqual(b.status.map((s) => s.stage), ['find_paths', 'descriptors']);
  assert.equal(b.run.stages['find_paths']!.rowsDone, 0, 'the find_paths rows of the first run are found, not recomputed');
  const d = b.status.find((s) => s.stage === 'descriptors')!;
  assert.ok(d.done > 0 && d.pending + d.running === 0, JSON.stringify(d));
  assert.equal(b.run.stages['descriptors']!.rowsDone, d.done);
  assert.deepEqual(b.top, []);
  assert.deepEqual(tables(db), ['descriptors', 'find_paths']);
  rmSync(dir, { recursive: true, force: true });
});

test('runScreen: an unknown last stage is named before anything runs', async () => {
  await assert.rejects(runScreen({ db: ':memory:', until: 'dft' as ScreenStageName }), new StageError('until must be one of find_paths, descriptors, images, got "dft"'));
});
