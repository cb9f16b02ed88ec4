/**
 * The screen's site limit: a structure with more sites than `maxSites` is a failed find_paths row
 * whose message names the count, the limit, the option that raises it and how to screen it again
 * (a result of the science: the other structures go on); the row comes back after a requeue with
 * the limit raised; a bad limit is named before anything runs; the stages after find_paths take any
 * structure find_paths took (its limit, not the default, applies).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/sqlite/diffusion.js';
import { StageError } from '../../src/stage-kit/stage.js';
import { errorGroups, requeue } from '../../src/store/sqlite/ops.js';
import { findPathsStage, pathwaysOfRow } from '../../src/stages/pathways.js';
import { descriptorsOfRow } from '../../src/stages/descriptors.js';
import { supercell } from '../../src/kernels/supercell.js';
import { DEFAULT_MAX_SITES } from '../../src/analysis/site-limit.js';
import { runScreen } from '../../src/workflow/screen.js';
import { readStructure } from '../../src/structure/io.js';
import { SiteLimitError } from '../../src/analysis/site-limit.js';

const here = dirname(fileURLToPath(import.meta.url));
const structures = join(here, 'fixtures', 'structures');

const blob = (a: ArrayLike<number>) => new Uint8Array(Float64Array.from(a).buffer);

test('pathwaysOfRow refuses a structure above maxSites with a SiteLimitError naming the count, the limit and the way on', () => {
  const s = readStructure(join(structures, 'CaF2_fluorite_Fm-3m.cif'));
  const row = { key: 'k', ion: 'F', max_length: 5, hop_limit: 5, lattice: blob(s.lattice), species: s.species.join(' '), frac_coords: blob(s.frac), oxidation_states: null };
  assert.throws(() => pathwaysOfRow(row, { ion: 'F', maxLengthAng: 5, limit: 5, equivalence: 'fracflow', maxSites: 11 }), (e: unknown) => {
    assert.ok(e instanceof SiteLimitError);
    assert.equal(e.message, 'the structure has 12 sites, more than the limit of 11 sites per structure for the find_paths stage; to analyse it whole, raise the limit with --max-sites 12 (maxSites in the library), then `fracflow requeue find_paths --failed` and screen again');
    return true;
  });
  assert.equal(pathwaysOfRow(row, { ion: 'F', maxLengthAng: 5, limit: 5, equivalence: 'fracflow', maxSites: 12 }).row['n_hops'], 4);
  for (const bad of [0, 2.5, -3]) assert.throws(() => findPathsStage({}, { maxSites: bad }), new StageError(`maxSites must be a positive integer (sites per structure), got ${bad}`));
});

test('runScreen with maxSites: the larger structure is a failed find_paths row with the limit in its message; raised and requeued, it is screened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-site-limit-'));
  const db = join(dir, 'screen.db');
  try {
    const a = await runScreen({ db, source: { kind: 'files', paths: [structures] }, outDir: join(dir, 'out'), until: 'find_paths', checkpoint: false, maxSites: 10 });
    const fp = a.status.find((s) => s.stage === 'find_paths')!;
    const store = openStore(db);
    let groups;
    try {
      groups = errorGroups(store.sql, 'find_paths');
      const limited = groups.filter((g) => g.message.includes('more than the limit of 10 sites'));
      assert.equal(limited.length, 1, JSON.stringify(groups));
      // errors groups by cause: the structure id is replaced by <id>, and the group names it among its examples.
      assert.match(limited[0]!.message, /^<id>: SiteLimitError: the structure has 12 sites, more than the limit of 10 sites per structure for the find_paths stage; to analyse it whole, raise the limit with --max-sites 12 \(maxSites in the library\), then `fracflow requeue find_paths --failed` and screen again$/);
      assert.equal(limited[0]!.rows, 1);
      assert.match(limited[0]!.examples[0]!, /CaF2_fluorite/);
      // The other structures (8 sites or fewer) went on as without the limit: NaCl fails for its own reason.
      assert.equal(fp.done + fp.failed, 4);
      assert.equal(fp.failed, 2, JSON.stringify(groups));
      assert.equal(requeue(store.sql, 'find_paths', 'failed'), 2);
    } finally {
      store.close();
    }
    const b = await runScreen({ db, outDir: join(dir, 'out'), until: 'find_paths', checkpoint: false });
    const fp2 = b.status.find((s) => s.stage === 'find_paths')!;
    assert.equal(fp2.done, fp.done + 1, 'the CaF2 row is screened with the default limit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('regression (default limit applied again after find_paths): a structure above the default that find_paths took goes through descriptors', () => {
  const s = supercell(readStructure(join(structures, 'CaF2_fluorite_Fm-3m.cif')), [8, 0, 0, 0, 8, 0, 0, 0, 8]);
  assert.ok(s.species.length > DEFAULT_MAX_SITES);
  const row = {
    key: 'big|F|5|1|h', find_paths_key: 'big|F|5|1|h', structure_id: 'big', ion: 'F', max_length: 5, hop_limit: 1,
    lattice: blob(s.lattice), species: s.species.join(' '), frac_coords: blob(s.frac), oxidation_states: null,
  };
  const p = { ion: 'F', maxLengthAng: 5, limit: 1, equivalence: 'fracflow' as const };
  assert.throws(() => pathwaysOfRow(row, { ...p, maxSites: DEFAULT_MAX_SITES }), /has 6144 sites, more than the limit of 5000 sites per structure for the find_paths stage/);
  const paths = pathwaysOfRow(row, { ...p, maxSites: 6144 });
  assert.equal(paths.row['sanitized_nsites'], 3);
  const d = descriptorsOfRow({ ...paths.pathways[0]!, find_paths_key: row.key }, { ...p, idpp: 'exact' });
  assert.equal(d['dimensionality'], 3);
});
