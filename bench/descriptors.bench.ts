/**
 * DDI descriptor benchmark: `pathwayDescriptors` (sanitise, distinct hops, oxidation states, hop graph
 * and percolation, then per pathway 7-image IDPP in the ≥ 7 Å supercell, 7 Ewald site energies at
 * accuracy 3, radii overlap) on one thread.
 *
 * - `same_inputs`: the 24 pathways of test/fixtures/reference/descriptors on the given cells, timed as
 *   the reference was (per structure: the context once, then each pathway), against the reference's own
 *   per-pathway `timings_s.total` (pymatgen 2022.11.7 + pymatgen-analysis-diffusion d613b5e, same
 *   machine type, one thread; the context time is shared out over the structure's pathways).
 * - `bundled`: a fixed sample of the bundled Materials Project fluorides (every k-th structure of
 *   data/mp_fluorides.jsonl.gz), default options (sanitised cell, F, ≤ 5 Å, 5 hops): pathways/s and
 *   ms per pathway, against the issue's ~1.4 s per pathway for the Python stack.
 * Writes bench/results/descriptors.json.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStructure } from '../src/structure/structure.js';
import { loadBundled } from '../src/io/bundled.js';
import { hopBetween } from '../src/analysis/hop-images.js';
import { descriptorContext, descriptorsForHop, pathwayDescriptors } from '../src/analysis/descriptors.js';
import { benchDir, writeResults, quick } from './common.js';

const refDir = join(benchDir, '..', 'test', 'fixtures', 'reference');
interface Rec { id: string; lattice: number[][]; species: string[]; frac_coords: number[][] }
interface RefPath { index: number; isite_frac: number[]; esite_frac: number[]; timings_s: { total: number } }
const records = readFileSync(join(refDir, 'structures.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec);

const tCold = performance.now();
pathwayDescriptors(createStructure({ lattice: [4.03, 0, 0, 0, 4.03, 0, 0, 0, 4.03], species: ['Li', 'F'], frac: [[0, 0, 0], [0.5, 0.5, 0.5]] }), { limit: 1 });
const coldMs = performance.now() - tCold;

const same: Record<string, unknown>[] = [];
const rounds = quick ? 1 : 3;
for (const file of readdirSync(join(refDir, 'descriptors')).filter((f) => f.endsWith('.json')).sort()) {
  const ref = JSON.parse(readFileSync(join(refDir, 'descriptors', file), 'utf8')) as { id: string; pathways: RefPath[] };
  const rec = records.find((r) => r.id === ref.id)!;
  const s = createStructure({ lattice: rec.lattice, species: rec.species, frac: rec.frac_coords }, { allowLeftHanded: true, checkOverlap: false });
  let bestCtx = Infinity;
  const bestHop = ref.pathways.map(() => Infinity);
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    const ctx = descriptorContext(s, { sanitize: false });
    bestCtx = Math.min(bestCtx, performance.now() - t0);
    ref.pathways.forEach((p, k) => {
      const hop = { ...hopBetween(ctx.structure, 'F', p.isite_frac, p.esite_frac), index: p.index };
      const t1 = performance.now();
      descriptorsForHop(ctx, hop);
      bestHop[k] = Math.min(bestHop[k]!, performance.now() - t1);
    });
  }
  ref.pathways.forEach((p, k) => {
    same.push({ id: ref.id, index: p.index, context_ms: bestCtx, hop_ms: bestHop[k], ms: bestHop[k]! + bestCtx / ref.pathways.length, python_s: p.timings_s.total });
  });
  console.log(`${ref.id}: context ${bestCtx.toFixed(1)} ms, pathways ${bestHop.map((x) => x.toFixed(1)).join(', ')} ms`);
}

const mp = loadBundled('mp');
const sampleSize = quick ? 10 : 150;
const step = Math.max(1, Math.floor(mp.length / sampleSize));
const sample = mp.filter((_, k) => k % step === 0).slice(0, sampleSize);
let pathways = 0;
let nullEwald = 0;
const failed: { id: string; error: string }[] = [];
const perStructure: { id: string; n_sites: number; pathways: number; ms: number }[] = [];
const tAll = performance.now();
for (const s of sample) {
  const t0 = performance.now();
  try {
    const rows = pathwayDescriptors(s);
    pathways += rows.length;
    nullEwald += rows.filter((r) => r.ewald_energy === null).length;
    perStructure.push({ id: String(s.info.id), n_sites: s.species.length, pathways: rows.length, ms: performance.now() - t0 });
  } catch (e) {
    failed.push({ id: String(s.info.id), error: (e as Error).message.slice(0, 200) });
  }
}
const wallS = (performance.now() - tAll) / 1000;
console.log(`bundled mp sample: ${sample.length} structures, ${pathways} pathways in ${wallS.toFixed(1)} s = ${(pathways / wallS).toFixed(2)} pathways/s (${failed.length} failed)`);

writeResults('descriptors', {
  cold_first_call_ms: coldMs,
  python_s_per_pathway_issue: 1.4,
  same_inputs: same,
  bundled: {
    dataset: 'mp',
    structures_total: mp.length,
    sample_every: step,
    structures: sample.length,
    pathways,
    pathways_null_ewald: nullEwald,
    failed,
    wall_s: wallS,
    pathways_per_s: pathways / wallS,
    per_structure: perStructure,
  },
});
