/**
 * The screen's stages 2–4 on the engine over a few small structures (fluorite CaF2, rutile MgF2, a
 * charge-unbalanced CaF, F-free NaCl): CaF2's shortest F hop percolates in 3-D, every row ends done or
 * failed with a reason, the NaCl row fails with the reason, null-with-reason descriptors, the
 * dimensionality gate before images, the files written, a rerun that recomputes nothing, and the fixed
 * mode giving the same results.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/sqlite/diffusion.js';
import { runScreen, type ScreenReport } from '../../src/workflow/screen.js';
import { fileSourceId } from '../../src/workflow/import.js';
import { pathwayDescriptors } from '../../src/analysis/descriptors.js';
import { readStructure } from '../../src/structure/io.js';

const here = dirname(fileURLToPath(import.meta.url));
const structures = join(here, 'fixtures', 'structures');
const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-screen-'));

type Row = Record<string, unknown>;

function rows(db: string, sql: string): Row[] {
  const s = openStore(db);
  try {
    return s.sql.all<Row>(sql);
  } finally {
    s.close();
  }
}

const DESCRIPTOR_COLUMNS = `key, state, structure_id, hop_index, length, multiplicity, nsites, nsites_777, nsites_101010, nsites_121212,
  dmin, length_rel_dmin, ion_fraction, oxidation_state, oxidation_method, oxidation_reason, dimensionality, dimensionality_cumlengths,
  dimensionality_cumbarriers, dimensionality_cumbarriers_reason, percolation_1d, percolation_2d, percolation_3d, ewald_energy, ewald_reason,
  ionic_radii_overlap_cations, ionic_radii_overlap_cations_reason, ionic_radii_overlap_anions, ionic_radii_overlap_anions_reason`;

let first: { dir: string; db: string; report: ScreenReport } | null = null;

async function screened(): Promise<{ dir: string; db: string; report: ScreenReport }> {
  if (!first) {
    const dir = tmp();
    const db = join(dir, 'screen.db');
    const report = await runScreen({ db, source: { kind: 'files', paths: [structures] }, outDir: join(dir, 'out'), idpp: 'exact' });
    first = { dir, db, report };
  }
  return first;
}

test('screen: CaF2 shortest F hop (2.7315 Å) is 3-D, every row done or failed with a reason, NaCl failed', async () => {
  const { db, report } = await screened();
  assert.deepEqual(report.imports.map((r) => [r.inserted, r.failed]), [[4, 0]]);
  const caf2 = rows(db, `SELECT ${DESCRIPTOR_COLUMNS} FROM descriptors WHERE structure_id LIKE '%CaF2%' ORDER BY hop_index`);
  assert.equal(caf2.length, 4, 'fluorite has 4 distinct F hops <= 5 Å');
  assert.ok(Math.abs((caf2[0]!['length'] as number) - 2.73155) < 1e-4, String(caf2[0]!['length']));
  assert.equal(caf2[0]!['dimensionality'], 3);
  assert.equal(caf2[0]!['oxidation_state'], -1);
  assert.equal(caf2[0]!['nsites'], 3, 'descriptors are computed in the primitive cell');
  assert.equal(caf2[0]!['nsites_777'], 24);
  // The stage computes what the library computes on the same file, to the last bit.
  const direct = pathwayDescriptors(readStructure(join(structures, 'CaF2_fluorite_Fm-3m.cif')));
  assert.deepEqual(caf2.map((r) => r['ewald_energy']), direct.map((d) => d.ewald_energy));
  assert.ok(Math.abs((caf2[0]!['ewald_energy'] as number) - 0.0050443) < 1e-6, String(caf2[0]!['ewald_energy']));
  for (const t of ['find_paths', 'descriptors', 'images']) {
    for (const r of rows(db, `SELECT key, state, last_error FROM ${t}`)) {
      assert.ok(r['state'] === 'done' || (r['state'] === 'failed' && typeof r['last_error'] === 'string' && r['last_error'] !== ''), `${t} ${String(r['key'])}: ${String(r['state'])}`);
    }
  }
  const nacl = rows(db, `SELECT state, last_error FROM find_paths WHERE structure_id LIKE '%NaCl%'`);
  assert.equal(nacl.length, 1);
  assert.equal(nacl[0]!['state'], 'failed');
  assert.equal(nacl[0]!['last_error'], 'user:test/stages/fixtures/structures/NaCl_rocksalt.vasp: PathfinderError: ion F has no sites in the structure (elements: Na, Cl)');
  assert.equal(rows(db, `SELECT COUNT(*) AS n FROM descriptors WHERE structure_id LIKE '%NaCl%'`)[0]!['n'], 0);
  const counts = report.status.map((s) => [s.stage, s.done, s.failed]);
  assert.deepEqual(counts.find((c) => c[0] === 'find_paths'), ['find_paths', 3, 1]);
  assert.equal(rows(db, `SELECT COUNT(*) AS n FROM pathways WHERE structure_id LIKE '%NaCl%'`)[0]!['n'], 0, 'a failed structure has no pathways');
});

test('screen: the pathways table has one row per pathway with the per-pathway and per-structure columns, as the descriptors stage admitted them', async () => {
  const { db, report } = await screened();
  const cols = 'key, structure_id, hop_index, start_frac, end_frac, end_image, length, multiplicity, ion_fraction, nsites_777, nsites_101010, nsites_121212, dmin, length_rel_dmin';
  const paths = rows(db, `SELECT ${cols} FROM pathways ORDER BY key`);
  const admitted = rows(db, `SELECT ${cols} FROM descriptors ORDER BY key`);
  assert.equal(paths.length, 10, 'CaF2 4, MgF2 5, CaF rocksalt 1; NaCl none');
  assert.deepEqual(paths, admitted);
  const caf2 = rows(db, `SELECT ${cols} FROM pathways WHERE structure_id LIKE '%CaF2%' ORDER BY hop_index`);
  assert.deepEqual(caf2.map((r) => r['hop_index']), [0, 1, 2, 3]);
  assert.equal(caf2[0]!['dmin'], caf2[0]!['length']);
  assert.equal(caf2[0]!['length_rel_dmin'], 0);
  for (const r of caf2) {
    assert.ok(Math.abs((r['length_rel_dmin'] as number) - ((r['length'] as number) - (r['dmin'] as number)) / (r['dmin'] as number)) < 1e-12);
    for (const c of ['start_frac', 'end_frac', 'end_image']) assert.equal((JSON.parse(String(r[c])) as number[]).length, 3, c);
  }
  assert.ok(Math.abs((caf2[0]!['ion_fraction'] as number) - 2 / 3) < 1e-12);
  const files = report.checkpointFiles.filter((f) => /[/\\]pathways\.(csv|arrow)$/.test(f));
  assert.equal(files.length, 2, 'the checkpoint holds the pathways table as CSV and Arrow');
  const csv = readFileSync(files.find((f) => f.endsWith('.csv'))!, 'utf8').trim().split('\n');
  assert.equal(csv.length, paths.length + 1);
});

test('screen: no charge-balanced oxidation states -> null descriptors with reasons, the rows still done', async () => {
  const { db } = await screened();
  const caf = rows(db, `SELECT ${DESCRIPTOR_COLUMNS} FROM descriptors WHERE structure_id LIKE '%CaF_rocksalt%'`);
  assert.equal(caf.length, 1);
  for (const r of caf) {
    assert.equal(r['state'], 'done');
    assert.equal(r['oxidation_state'], null);
    assert.match(String(r['oxidation_reason']), /no charge-balanced oxidation states/);
    for (const [c, why] of [['ewald_energy', 'ewald_reason'], ['ionic_radii_overlap_cations', 'ionic_radii_overlap_cations_reason'],
      ['ionic_radii_overlap_anions', 'ionic_radii_overlap_anions_reason'], ['dimensionality_cumbarriers', 'dimensionality_cumbarriers_reason']] as const) {
      assert.equal(r[c], null, c);
      assert.match(String(r[why]), /oxidation states/, why);
    }
    assert.equal(typeof r['dimensionality'], 'number');
  }
});

test('screen: images admitted only with dimensionality >= 1, ranked by ewald_energy, files and VASP inputs written', async () => {
  const { db, report } = await screened();
  const gated = rows(db, `SELECT key FROM descriptors WHERE state = 'done' AND dimensionality >= 1 ORDER BY key`).map((r) => r['key']);
  const imaged = rows(db, `SELECT key FROM images ORDER BY key`).map((r) => r['key']);
  assert.deepEqual(imaged, gated);
  assert.ok(rows(db, `SELECT COUNT(*) AS n FROM descriptors WHERE dimensionality < 1`)[0]!['n'] as number > 0, 'the fixtures include pathways below the gate');
  assert.ok(report.top.length > 0 && report.top.length <= 20);
  const ewald = report.top.map((r) => r.ewald_energy ?? Infinity);
  for (let i = 1; i < ewald.length; i++) assert.ok(ewald[i - 1]! <= ewald[i]!, `ranking order at ${i}: ${ewald[i - 1]} > ${ewald[i]}`);
  const best = report.top[0]!;
  assert.ok(best.out_dir !== null);
  const dir = best.out_dir!;
  for (const f of ['path_1image.extxyz', 'path_1image.cif', 'path_5image.extxyz', 'path_5image.cif']) assert.ok(existsSync(join(dir, f)), f);
  assert.equal(readFileSync(join(dir, 'path_5image.extxyz'), 'utf8').split('\n').filter((l) => /^\d+$/.test(l.trim())).length, 7, '7 frames');
  for (const sub of ['start', 'mid', 'end']) {
    const incar = readFileSync(join(dir, 'vasp_static', sub, 'INCAR'), 'utf8');
    for (const [k, v] of [['ISYM', '0'], ['NSW', '0'], ['IBRION', '-1'], ['EDIFF', '0.001']]) assert.match(incar, new RegExp(`^${k} = ${v}$`, 'm'), `${sub} ${k}`);
    for (const f of ['POSCAR', 'KPOINTS', 'POTCAR.spec']) assert.ok(existsSync(join(dir, 'vasp_static', sub, f)), `${sub}/${f}`);
  }
  const neb = readFileSync(join(dir, 'vasp_neb', 'neb', 'INCAR'), 'utf8');
  for (const [k, v] of [['IMAGES', '1'], ['ISYM', '0'], ['EDIFFG', '-0.1']]) assert.match(neb, new RegExp(`^${k} = ${v}$`, 'm'), `neb ${k}`);
  assert.deepEqual(readdirSync(join(dir, 'vasp_neb', 'neb')).filter((f) => /^\d\d$/.test(f)).sort(), ['00', '01', '02']);
  const written = rows(db, `SELECT files FROM images WHERE key = '${best.key}'`)[0]!['files'];
  assert.equal(written, 4 + 3 * 4 + 2 * 4 + 3 + 3);
  assert.ok(report.checkpointFiles.some((f) => f.endsWith('descriptors.arrow')) && report.checkpointFiles.some((f) => f.endsWith('images.csv')));
});

test('screen: a rerun on the same store and inputs recomputes nothing; fixed mode gives the same results', async () => {
  const { dir, db } = await screened();
  const before = rows(db, `SELECT ${DESCRIPTOR_COLUMNS} FROM descriptors ORDER BY key`);
  const again = await runScreen({ db, source: { kind: 'files', paths: [structures] }, outDir: join(dir, 'out'), checkpoint: false, idpp: 'exact' });
  assert.deepEqual(again.imports.map((r) => [r.inserted, r.updated, r.unchanged]), [[0, 0, 4]]);
  for (const [name, s] of Object.entries(again.run.stages)) assert.equal(s.tasks, 0, `${name} ran ${s.tasks} tasks on a rerun`);
  assert.deepEqual(rows(db, `SELECT ${DESCRIPTOR_COLUMNS} FROM descriptors ORDER BY key`), before);

  const fixedDb = join(dir, 'fixed.db');
  const fixed = await runScreen({ db: fixedDb, source: { kind: 'files', paths: [structures] }, outDir: join(dir, 'out-fixed'), mode: 'fixed', checkpoint: false, idpp: 'exact' });
  assert.equal(fixed.run.mode, 'fixed');
  assert.deepEqual(rows(fixedDb, `SELECT ${DESCRIPTOR_COLUMNS} FROM descriptors ORDER BY key`), before);
  const strip = (r: Row[]) => r.map((x) => ({ ...x, out_dir: null }));
  assert.deepEqual(strip(rows(fixedDb, `SELECT key, state, files, supercell_scaling, n_sites_per_image, out_dir FROM images ORDER BY key`)),
    strip(rows(db, `SELECT key, state, files, supercell_scaling, n_sites_per_image, out_dir FROM images ORDER BY key`)));
  assert.deepEqual(fixed.top.map((r) => r.key), (await screened()).report.top.map((r) => r.key));
});

test('screen: a copy of a screened file is a content duplicate and is not screened again; changed in place, it is re-imported and screened, and the ranking shows its new rows', async () => {
  const { dir, db } = await screened();
  const changed = join(dir, 'changed');
  mkdirSync(changed);
  const file = join(changed, 'CaF2_fluorite_Fm-3m.cif');
  const original = readFileSync(join(structures, 'CaF2_fluorite_Fm-3m.cif'), 'utf8');
  writeFileSync(file, original);
  const copy = await runScreen({ db, source: { kind: 'files', paths: [changed] }, outDir: join(dir, 'out'), checkpoint: false, idpp: 'exact' });
  assert.deepEqual(copy.imports.map((x) => [x.inserted, x.updated, x.unchanged, x.duplicates]), [[1, 0, 0, 1]]);
  const id = fileSourceId('user', file);
  assert.deepEqual(copy.imports[0]!.duplicateExamples, [{ sourceId: id, duplicateOf: fileSourceId('user', join(structures, 'CaF2_fluorite_Fm-3m.cif')) }]);
  assert.equal(copy.run.stages['find_paths']!.rowsDone, 0, 'the duplicate is not admitted');
  assert.equal(rows(db, `SELECT COUNT(*) AS n FROM find_paths WHERE structure_id = '${id}'`)[0]!['n'], 0);

  const cif = original.replace(/^(_cell_length_[abc]\s+)5\.4631\(2\)$/gm, '$15.5000');
  assert.notEqual(cif, original);
  writeFileSync(file, cif);
  const r = await runScreen({ db, source: { kind: 'files', paths: [changed] }, outDir: join(dir, 'out'), checkpoint: false, idpp: 'exact' });
  assert.deepEqual(r.imports.map((x) => [x.inserted, x.updated, x.unchanged, x.duplicates]), [[0, 1, 0, 0]]);
  assert.equal(r.run.stages['find_paths']!.rowsDone, 1);
  const caf2 = r.top.filter((x) => x.structure_id === id);
  assert.equal(caf2.length, 4, 'the changed cell\'s four hops are ranked');
  const hash = rows(db, `SELECT substr(content_hash, 1, 12) AS h FROM structures WHERE source_id = '${id}'`)[0]!['h'] as string;
  for (const x of caf2) assert.ok(x.key.includes(`|${hash}#`), x.key);
  // 2.7315 Å scales with the cell: a/2 = 2.75 Å.
  assert.ok(caf2.some((x) => Math.abs(x.length - 2.75) < 1e-9));
});
