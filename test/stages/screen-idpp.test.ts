/**
 * The screen's IDPP mode: a stage parameter of descriptors and images and a suffix of their row keys,
 * so a run in the other mode is new work next to the old rows (never a silent mix), the images stage
 * admits only descriptors rows of its own mode, and the ranking reads the rows of the mode asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/sqlite/diffusion.js';
import { StageError } from '../../src/stage-kit/stage.js';
import { runScreen, topPathways } from '../../src/workflow/screen.js';
import { descriptorsStage } from '../../src/stages/descriptors.js';
import { imagesParams } from '../../src/stages/images.js';

const here = dirname(fileURLToPath(import.meta.url));
const structures = join(here, 'fixtures', 'structures');

test('screen --idpp fast: keyed and parameterised apart from exact rows; images follow the mode of their descriptors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-idpp-'));
  const db = join(dir, 'screen.db');
  try {
    const fast = await runScreen({ db, source: { kind: 'files', paths: [structures] }, outDir: join(dir, 'out'), idpp: 'fast', checkpoint: false });
    const exact = await runScreen({ db, outDir: join(dir, 'out'), idpp: 'exact', checkpoint: false });
    assert.equal(exact.run.stages['find_paths']!.rowsDone, 0, 'find_paths does not depend on the mode');
    const store = openStore(db);
    try {
      const rows = store.sql.all<{ key: string; params: string; state: string }>('SELECT key, params, state FROM descriptors ORDER BY key');
      const f = rows.filter((r) => r.key.endsWith('@idpp-fast'));
      const e = rows.filter((r) => !r.key.endsWith('@idpp-fast'));
      assert.ok(f.length > 0 && f.length === e.length, `${f.length} fast rows, ${e.length} exact rows`);
      assert.ok(f.every((r) => JSON.parse(r.params).idpp === 'fast') && e.every((r) => JSON.parse(r.params).idpp === 'exact'));
      const images = store.sql.all<{ key: string; params: string }>('SELECT key, params FROM images');
      assert.equal(images.length, 16, '8 pathways of dimensionality >= 1, in each mode');
      for (const r of images) assert.equal(JSON.parse(r.params).idpp, r.key.endsWith('@idpp-fast') ? 'fast' : 'exact', r.key);
      assert.ok(fast.top.length > 0 && fast.top.every((r) => r.key.endsWith('@idpp-fast')));
      assert.ok(exact.top.length > 0 && exact.top.every((r) => !r.key.endsWith('@idpp-fast')));
      assert.deepEqual(topPathways(store, {}, 100, 'fast').map((r) => r.key), fast.top.map((r) => r.key));
      // The idpp column of a fast row was converged by the fast mode.
      const it = store.sql.all<{ key: string; it: number }>('SELECT key, idpp_iterations AS it FROM descriptors WHERE idpp_iterations IS NOT NULL');
      assert.equal(it.length, 18, 'every pathway with oxidation states (9 of 10), in each mode');
      assert.equal(it.filter((r) => r.key.endsWith('@idpp-fast')).length, 9);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown IDPP mode is named by the stage factories and the screen', async () => {
  assert.throws(() => descriptorsStage('slow' as 'fast'), new StageError(`idpp must be 'exact' or 'fast', got "slow"`));
  assert.throws(() => imagesParams({ idpp: 'slow' as 'fast' }), new StageError(`idpp must be 'exact' or 'fast', got "slow"`));
  await assert.rejects(runScreen({ db: ':memory:', idpp: 'slow' as 'fast' }), new StageError(`idpp must be 'exact' or 'fast', got "slow"`));
});
