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
import { openQueueStore } from '../../src/store/index.js';
import { fileSourceId } from '../../src/workflow/import.js';
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
      assert.equal(it.filter((r) => !r.key.endsWith('@idpp-fast')).length, 9, 'exact: every pathway with oxidation states (9 of 10)');
      // The fast mode refuses a straight path that runs through (or within 0.01 Å of) another atom.
      assert.equal(it.filter((r) => r.key.endsWith('@idpp-fast')).length, 7, 'fast: the 9 less two straight paths through an atom');
      const refused = store.sql.all<{ key: string; why: string }>("SELECT key, ewald_reason AS why FROM descriptors WHERE idpp_iterations IS NULL AND ewald_reason LIKE 'IDPP failed:%'");
      assert.equal(refused.length, 2, JSON.stringify(refused));
      for (const r of refused) {
        assert.ok(r.key.endsWith('@idpp-fast'), r.key);
        assert.match(r.why, /^IDPP failed: idpp: straight-line image \d puts atoms 0 \(F\) and \d+ \(\w+\) [\d.e+-]+ Å apart, closer than minDistanceAng = 0\.01 Å/);
      }
    } finally {
      store.close();
    }
    // The dashboard's structure view lists each hop class once per mode, keyed by its descriptors row.
    const q = openQueueStore(db, { readonly: true });
    try {
      const caf2 = await q.structureHops(fileSourceId('user', join(structures, 'CaF2_fluorite_Fm-3m.cif')));
      assert.ok(caf2);
      assert.deepEqual(caf2.hops.map((h) => [h.hop_index, h.idpp]), [0, 1, 2, 3].flatMap((i) => [[i, 'exact'], [i, 'fast']]));
      for (const h of caf2.hops) {
        assert.equal(h.key.endsWith('@idpp-fast'), h.idpp === 'fast', h.key);
        assert.equal((await q.pathwayDetail(h.key))?.idpp, h.idpp, h.key);
      }
    } finally {
      await q.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the screen\'s default IDPP mode is fast; the stage factories follow it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-idpp-default-'));
  const db = join(dir, 'screen.db');
  try {
    const r = await runScreen({ db, source: { kind: 'files', paths: [structures] }, outDir: join(dir, 'out'), until: 'descriptors', checkpoint: false });
    assert.ok(r.run.stages['descriptors']!.rowsDone > 0);
    const store = openStore(db);
    try {
      const rows = store.sql.all<{ key: string; params: string }>('SELECT key, params FROM descriptors');
      assert.ok(rows.length > 0 && rows.every((x) => x.key.endsWith('@idpp-fast') && JSON.parse(x.params).idpp === 'fast'), JSON.stringify(rows.slice(0, 2)));
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(imagesParams({}).idpp, 'fast');
});

test('an unknown IDPP mode is named by the stage factories and the screen', async () => {
  assert.throws(() => descriptorsStage('slow' as 'fast'), new StageError(`idpp must be 'exact' or 'fast', got "slow"`));
  assert.throws(() => imagesParams({ idpp: 'slow' as 'fast' }), new StageError(`idpp must be 'exact' or 'fast', got "slow"`));
  await assert.rejects(runScreen({ db: ':memory:', idpp: 'slow' as 'fast' }), new StageError(`idpp must be 'exact' or 'fast', got "slow"`));
});
