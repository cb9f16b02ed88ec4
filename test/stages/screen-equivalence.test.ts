/**
 * The screen's hop equivalence: a parameter of find_paths and descriptors and a part of the find_paths
 * key (and so of every pathways, descriptors and images key after it), so a screen in the pymatgen
 * mode is new work next to the default rows, the descriptors stage admits only the pathways of its own
 * mode, and the ranking reads the rows of the mode asked for. The default keeps the keys it had before
 * the modes existed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, SqliteDiffusionStore } from '../../src/store/sqlite/diffusion.js';
import { StageError } from '../../src/stage-kit/stage.js';
import { runScreen, topPathways } from '../../src/workflow/screen.js';
import { findPathsStage, structurePathways } from '../../src/stages/pathways.js';
import { loadBundled } from '../../src/io/bundled.js';
import { writeStructure } from '../../src/structure/io.js';

const here = dirname(fileURLToPath(import.meta.url));
const caf2 = join(here, 'fixtures', 'structures', 'CaF2_fluorite_Fm-3m.cif');

test('screen --equivalence pymatgen: keyed and parameterised apart from the default rows; descriptors and ranking follow the mode', { timeout: 10 * 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-equivalence-'));
  const db = join(dir, 'screen.db');
  // A perovskite whose two modes differ: the default merges the near-equal members of one 3.90 Å
  // orbit (2 pathways), DistinctPathFinder keeps them apart (3 pathways).
  const perov = loadBundled('perov5').find((s) => s.info.id === 'perov5-12534')!;
  const perovFile = join(dir, 'perov5-12534.json');
  writeFileSync(perovFile, writeStructure(perov, 'json'));
  const expected = (equivalence: 'fracflow' | 'pymatgen') => structurePathways(perov, { ion: 'F', maxLengthAng: 5, limit: 5, equivalence }).hops.hops.map((h) => h.lengthAng);
  assert.equal(expected('fracflow').length, 2);
  assert.equal(expected('pymatgen').length, 3);
  try {
    const def = await runScreen({ db, source: { kind: 'files', paths: [perovFile, caf2] }, outDir: join(dir, 'out'), checkpoint: false });
    const pm = await runScreen({ db, outDir: join(dir, 'out'), equivalence: 'pymatgen', checkpoint: false });
    assert.deepEqual(def.params, { ion: 'F', maxLengthAng: 5, limit: 5, equivalence: 'fracflow' });
    assert.equal(pm.params.equivalence, 'pymatgen');
    assert.equal(pm.run.stages['find_paths']!.rowsDone, 2, 'the pymatgen mode is new find_paths work for both structures');
    const again = await runScreen({ db, outDir: join(dir, 'out'), checkpoint: false });
    for (const st of ['find_paths', 'descriptors', 'images']) assert.equal(again.run.stages[st]!.rowsDone, 0, `${st}: a default rerun recomputes nothing`);
    const store = openStore(db);
    try {
      const isPm = (key: string) => key.includes('|hops-pymatgen|');
      const fp = store.sql.all<{ key: string; params: string; equivalence: string }>('SELECT key, params, equivalence FROM find_paths ORDER BY key');
      assert.equal(fp.length, 4);
      for (const r of fp) {
        const mode = isPm(r.key) ? 'pymatgen' : 'fracflow';
        assert.equal(JSON.parse(r.params).equivalence, mode, r.key);
        assert.equal(r.equivalence, mode, r.key);
      }
      // The default keys are those of stores made before the modes: no equivalence part.
      assert.ok(fp.filter((r) => !isPm(r.key)).every((r) => /^user:.*\|F\|5\|5\|[0-9a-f]{12}$/.test(r.key)), JSON.stringify(fp.map((r) => r.key)));
      const pathways = store.sql.all<{ key: string; structure_id: string; equivalence: string; length: number }>('SELECT key, structure_id, equivalence, length FROM pathways ORDER BY key');
      for (const mode of ['fracflow', 'pymatgen'] as const) {
        const rows = pathways.filter((r) => r.equivalence === mode);
        assert.ok(rows.every((r) => isPm(r.key) === (mode === 'pymatgen')), mode);
        assert.deepEqual(rows.filter((r) => r.structure_id.endsWith('perov5-12534.json')).map((r) => r.length), expected(mode), mode);
        assert.equal(rows.filter((r) => r.structure_id.endsWith('.cif')).length, 4, `${mode}: CaF2 has 4 pathways in both modes`);
      }
      const descriptors = store.sql.all<{ key: string; params: string; equivalence: string }>('SELECT key, params, equivalence FROM descriptors');
      assert.equal(descriptors.length, pathways.length, 'one descriptors row per pathway of its own mode, no row admitted twice');
      for (const r of descriptors) {
        assert.equal(r.equivalence, isPm(r.key) ? 'pymatgen' : 'fracflow', r.key);
        assert.equal(JSON.parse(r.params).equivalence, r.equivalence, r.key);
      }
      assert.ok(def.top.length > 0 && def.top.every((r) => !isPm(r.key)));
      assert.ok(pm.top.length > 0 && pm.top.every((r) => isPm(r.key)));
      const ranked = new SqliteDiffusionStore(store);
      assert.deepEqual((await topPathways(ranked, { equivalence: 'pymatgen' }, 100)).map((r) => r.key), pm.top.map((r) => r.key));
      assert.deepEqual((await topPathways(ranked, {}, 100)).map((r) => r.key), again.top.map((r) => r.key));
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a store whose find_paths and pathways tables predate the equivalence column is refused with the way out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-equivalence-old-'));
  const db = join(dir, 'screen.db');
  try {
    await runScreen({ db, source: { kind: 'files', paths: [caf2] }, outDir: join(dir, 'out'), until: 'find_paths', checkpoint: false });
    const store = openStore(db);
    try {
      // The tables as the previous release made them: the same columns without `equivalence`.
      store.sql.exec('ALTER TABLE find_paths DROP COLUMN equivalence');
      store.sql.exec('ALTER TABLE pathways DROP COLUMN equivalence');
    } finally {
      store.close();
    }
    await assert.rejects(runScreen({ db, outDir: join(dir, 'out'), until: 'find_paths', checkpoint: false }), new StageError('stage find_paths: table find_paths exists with other columns (missing equivalence); run `fracflow reset --yes` or rename the stage'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown equivalence mode is named by the stage factory and the screen', async () => {
  assert.throws(() => findPathsStage({ equivalence: 'ddi' as 'pymatgen' }), new StageError(`equivalence must be 'fracflow' or 'pymatgen', got "ddi"`));
  await assert.rejects(runScreen({ db: ':memory:', equivalence: 'ddi' as 'pymatgen' }), new StageError(`equivalence must be 'fracflow' or 'pymatgen', got "ddi"`));
});
