/**
 * A store with many pathways made fast through the store interface alone, for the dashboard's server
 * tests and benchmark: find_paths rows enqueued, claimed and completed by `exchange` with the pathways
 * they emit (every one a copy of a real pathway row of rutile MgF2 — its sanitised cell and hop list,
 * as find_paths makes them — under another structure id and formula), which admits the descriptors
 * rows; those are claimed and completed with seeded descriptor values (2 % failed with a message),
 * which admits the images rows of dimensionality ≥ 1 (left pending). Nothing is computed. Either
 * backend: `db` is an SQLite path or a PostgreSQL URL.
 */
import { join } from 'node:path';
import { openStores } from '../../src/store/index.js';
import { screenStages } from '../../src/workflow/screen.js';
import { findPathsParams, pathwaysOfRow, PATHWAY_COLUMNS } from '../../src/stages/pathways.js';
import { readStructure } from '../../src/structure/io.js';
import type { BatchOutcome, Claim } from '../../src/store/interface.js';
import { rng } from './random.js';

const TEMPLATE = join(import.meta.dirname, '..', 'stages', 'fixtures', 'structures', 'MgF2_rutile_symop.cif');
const FORMULAS = ['MgF2', 'CaF2', 'LiF', 'NaF', 'KMgF3', 'BaF2', 'SrF2', 'LaF3', 'YF3', 'PbF2', 'AlF3', 'ZnF2'];
const HOLDER = 'fixture:1:pathways-store';

function f64Bytes(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

export interface PathwaysStoreReport {
  structures: number;
  pathways: number;
  failed: number;
  /** Rows admitted to the images stage (dimensionality ≥ 1). */
  imagesPending: number;
  ms: number;
}

/**
 * Fill a new store at `db` with about `pathways` pathways (5 per structure). Times are those of a run
 * that started `agoMs` before now and wrote one batch a second (default an hour ago), so the status's
 * one-minute rate window holds what a running screen's would, not the whole store.
 */
export async function buildPathwaysStore(db: string, pathways: number, seed = 1, agoMs = 3600000): Promise<PathwaysStoreReport> {
  let clock = Date.now() - agoMs;
  const tick = () => (clock += 1000);
  const t0 = performance.now();
  const rand = rng(seed);
  const store = await openStores(db);
  const q = store.queue;
  try {
    // The exact IDPP mode's keys (no `@idpp-fast` suffix): the dashboard's structure view joins them to the pathways.
    const stages = screenStages({}, { idpp: 'exact' });
    await q.ensure(stages);
    const [findPaths, descriptors] = stages as [(typeof stages)[0], (typeof stages)[1]];
    const s = readStructure(TEMPLATE);
    const params = findPathsParams({});
    const input = {
      key: 'template', structure_id: 'template', content_hash: 'h', formula: 'MgF2', ion: 'F', max_length: params.maxLengthAng, hop_limit: params.limit, equivalence: params.equivalence,
      lattice: f64Bytes(s.lattice), species: s.species.join(' '), frac_coords: f64Bytes(s.frac), oxidation_states: null,
    };
    const tmpl = pathwaysOfRow(input, params);
    const perStructure = tmpl.pathways.length;
    const nStructures = Math.ceil(pathways / perStructure);
    const fpInputs = Object.keys(findPaths.input.columns);
    for (let j = 0; j < nStructures; j += 2000) {
      const rows: Record<string, unknown>[] = [];
      for (let k = j; k < Math.min(nStructures, j + 2000); k++) {
        const id = `mp-${100000 + k}`;
        const hash = (k * 2654435761 >>> 0).toString(16).padStart(12, '0');
        const row: Record<string, unknown> = { ...input, key: `${id}|F|${params.maxLengthAng}|${params.limit}|${hash}`, structure_id: id, content_hash: hash, formula: FORMULAS[k % FORMULAS.length], nsites: 6 };
        rows.push(Object.fromEntries([['key', row['key']], ...fpInputs.map((c) => [c, row[c] ?? null])]));
      }
      await q.enqueue('find_paths', rows, tick());
    }
    const fpOut = Object.keys(findPaths.output);
    const emitCols = Object.keys(PATHWAY_COLUMNS);
    const completeFindPaths = (c: Claim): BatchOutcome => {
      const outputs = fpOut.map(() => [] as unknown[]);
      const emitted = { keys: [] as string[], sourceIds: [] as number[], sourceKeys: [] as string[], columns: emitCols.map(() => [] as unknown[]) };
      c.keys.forEach((key, r) => {
        fpOut.forEach((col, i) => outputs[i]!.push(tmpl.row[col] ?? null));
        const sid = c.inputs[Object.keys(findPaths.input.columns).indexOf('structure_id')]![r] as string;
        const formula = c.inputs[Object.keys(findPaths.input.columns).indexOf('formula')]![r] as string;
        const hash = c.inputs[Object.keys(findPaths.input.columns).indexOf('content_hash')]![r] as string;
        for (const p of tmpl.pathways) {
          const row: Record<string, unknown> = { ...p, structure_id: sid, formula, content_hash: hash, length: (p['length'] as number) * (0.9 + 0.2 * rand()) };
          emitted.keys.push(`${key}#${String(p['hop_index'])}`);
          emitted.sourceIds.push(c.ids[r]!);
          emitted.sourceKeys.push(key);
          emitCols.forEach((col, i) => emitted.columns[i]!.push(row[col] ?? null));
        }
      });
      return { stage: 'find_paths', done: { ids: c.ids, outputs }, failed: [], emitted };
    };
    const dOut = Object.keys(descriptors.output);
    let failed = 0;
    const completeDescriptors = (c: Claim): BatchOutcome => {
      const outputs = dOut.map(() => [] as unknown[]);
      const done: number[] = [];
      const fails: { id: number; error: string }[] = [];
      c.ids.forEach((id, r) => {
        if (rand() < 0.02) {
          failed++;
          fails.push({ id, error: `${c.keys[r]!.split('|')[0]}: IdppGuardError: the straight-line path passes within 0.4 Å of site ${Math.floor(rand() * 6)}` });
          return;
        }
        done.push(id);
        const dim = Math.floor(rand() * 4);
        const ewald = rand() < 0.05 ? null : 0.5 * rand() ** 2;
        const v: Record<string, unknown> = {
          oxidation_state: -1, oxidation_method: 'bond-valence', dimensionality: dim, dimensionality_cumlengths: Math.max(dim, Math.floor(rand() * 4)),
          dimensionality_cumbarriers: ewald === null ? null : dim, dimensionality_cumbarriers_reason: ewald === null ? 'ewald_energy is null' : null,
          percolation_1d: 2.5 + rand(), percolation_2d: 3 + rand(), percolation_3d: rand() < 0.2 ? null : 3.5 + rand(), supercell_scaling: '3x2x2', n_sites_per_image: 70,
          idpp_iterations: 100 + Math.floor(rand() * 300), idpp_converged: true, ewald_energy: ewald, ewald_reason: ewald === null ? 'no oxidation states' : null,
          ionic_radii_overlap_cations: rand() - 0.5, ionic_radii_overlap_anions: rand() - 0.5,
        };
        dOut.forEach((col, i) => outputs[i]!.push(v[col] ?? null));
      });
      // Outputs of the done rows only (failed rows carry none).
      return { stage: 'descriptors', done: { ids: done, outputs }, failed: fails };
    };
    for (const [stage, complete] of [['find_paths', completeFindPaths], ['descriptors', completeDescriptors]] as const) {
      let outcomes: BatchOutcome[] = [];
      for (;;) {
        const r = await q.exchange(HOLDER, outcomes, [{ stage, batchSize: 1000, batches: 1, suspect: false }], tick());
        if (r.claims.length === 0) break;
        outcomes = r.claims.map(complete);
      }
    }
    const status = await q.status();
    return {
      structures: nStructures,
      pathways: status.find((x) => x.stage === 'descriptors')!.done + failed,
      failed,
      imagesPending: status.find((x) => x.stage === 'images')!.pending,
      ms: performance.now() - t0,
    };
  } finally {
    await store.close();
  }
}
