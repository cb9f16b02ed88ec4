/**
 * Ionic-radii overlap benchmark: the WASM kernel vs its plain-TS twin on the DDI pathways of
 * test/fixtures/reference/supercell/ddi-overlap.json (7 IDPP images each, 23–95 sites, 8 Å), and the
 * pymatgen recipe (DDI step 6: `get_neighbors` + `Species.ionic_radius` per image) timed by
 * scripts/ref/supercell_timings.py on the same images (bench/reference/pymatgen-supercell.json).
 *
 * Two levels: `radiiOverlap()` (the public call: validation, radius lookup, Cartesian conversion,
 * result objects) and the kernel alone on prepared arrays (`overlapWasm` vs `overlapTs`, including the
 * JS↔WASM copies). Writes bench/results/overlap.json.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { createStructure, type Structure } from '../src/structure/structure.js';
import { parseSpeciesLabel } from '../src/structure/elements.js';
import { fracToCart } from '../src/structure/lattice.js';
import { ionicRadius } from '../src/structure/ionic-radii.js';
import { radiiOverlap, overlapTs, overlapWasm } from '../src/kernels/overlap.js';
import { wasmPath } from '../src/paths.js';
import { benchDir, quick, writeResults, timePair } from './common.js';

interface Pathway {
  id: string;
  index: number;
  supercell_lattice: number[][];
  start_species: string[];
  images_all_cart: number[][][];
  images_have_nan: boolean;
}

const timePairHere = (name: string, fnW: () => unknown, fnT: () => unknown) => timePair(name, fnW, fnT, 400);

async function main(): Promise<void> {
  const t0 = performance.now();
  new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath('overlap'))), { env: { abort() {} } });
  const coldMs = performance.now() - t0;

  const fixture = JSON.parse(readFileSync(join(benchDir, '..', 'test', 'fixtures', 'reference', 'supercell', 'ddi-overlap.json'), 'utf8')) as { pathways: Pathway[] };
  const rows: { id: string; index: number; n_sites: number; n_images: number; wasm_ms: number; ts_ms: number; kernel_wasm_ms: number; kernel_ts_ms: number }[] = [];
  for (const p of fixture.pathways) {
    if (p.images_have_nan) continue;
    const sp = p.start_species.map((x) => parseSpeciesLabel(x)!);
    const images: Structure[] = p.images_all_cart.map((cart) =>
      createStructure({ lattice: p.supercell_lattice, species: sp.map((x) => x.element), cart, oxidationStates: sp.map((x) => x.oxidationState) }, { checkOverlap: false }),
    );
    const n = images[0]!.species.length;
    const nImages = images.length;
    const cells = new Float64Array(9 * nImages);
    const pos = new Float64Array(3 * n * nImages);
    images.forEach((im, k) => {
      cells.set(im.lattice, 9 * k);
      pos.set(fracToCart(im.lattice, im.frac), 3 * n * k);
    });
    const radius = Float64Array.from(sp, (x) => ionicRadius(x.element, x.oxidationState!) ?? Number.NaN);
    const kind = Int32Array.from(sp, (x) => (x.oxidationState! > 0 ? 0 : x.oxidationState! < 0 ? 1 : 2));
    const name = `${p.id}#${p.index}`;
    const full = await timePairHere(name, () => radiiOverlap(images, 0), () => radiiOverlap(images, 0, { backend: 'ts' }));
    const kern = await timePairHere(
      `${name} kernel`,
      () => overlapWasm(cells, pos, n, nImages, 0, radius, kind, 8),
      () => overlapTs(cells, pos, n, nImages, 0, radius, kind, 8),
    );
    rows.push({ id: p.id, index: p.index, n_sites: n, n_images: nImages, wasm_ms: full.w, ts_ms: full.t, kernel_wasm_ms: kern.w, kernel_ts_ms: kern.t });
    console.log(`${name.padEnd(16)} ${n} sites × ${nImages}: radiiOverlap wasm ${full.w.toFixed(4)} ms, ts ${full.t.toFixed(4)} ms; kernel wasm ${kern.w.toFixed(4)} ms, ts ${kern.t.toFixed(4)} ms`);
  }
  writeResults('overlap', { cold_compile_instantiate_ms: coldMs, cutoff: 8, pathways: rows });
}

if (process.argv[1]?.endsWith('overlap.bench.ts')) await main();
