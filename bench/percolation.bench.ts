/**
 * Percolation benchmark: Larsen dimensionality with the WASM kernel vs its plain-TS twin, and vs
 * pymatgen's `get_dimensionality_larsen` on the same graphs (its times were measured by
 * scripts/ref/dimensionality_reference.py and stored in test/fixtures/reference/dimensionality/larsen.json).
 *
 * Cases:
 * - every reference graph (F sublattice and all-site cutoff graphs of the reference structures);
 * - the F–F hop graphs (≤ 5 Å) of all 450 bundled MP fluorides: one timed call = the whole set, for
 *   `dimensionality` and for `firstPercolationLengths` (bisection over the distinct hop lengths);
 * - CaF2 supercells (12 … 3024 atoms), F–F hops ≤ 4 Å: growth with graph size.
 * Graph construction (neighbour search) is outside the timed closures. Writes bench/results/percolation.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStructure, type Structure } from '../src/structure/structure.js';
import { loadBundled } from '../src/io/bundled.js';
import { hopGraph, dimensionality, firstPercolationLengths, type HopGraph } from '../src/analysis/percolation.js';
import { wasmPath } from '../src/paths.js';
import { benchDir, perCall, writeResults, quick } from './common.js';

interface Rec {
  id: string;
  lattice: number[][];
  species: string[];
  frac_coords: number[][];
}
interface LarsenRef {
  structures: { id: string; graphs: { sites: 'F' | 'all'; cutoff: number; n_nodes: number; n_edges: number; dimensionality: number; larsen_ms: number }[] }[];
}

const perCallHere = (fn: () => void): number => perCall(fn, { roundMs: 15, maxReps: 5000 });
const refDir = join(benchDir, '..', 'test', 'fixtures', 'reference');
const records = new Map(readFileSync(join(refDir, 'structures.jsonl'), 'utf8').trim().split('\n').map((l) => {
  const r = JSON.parse(l) as Rec;
  return [r.id, r] as const;
}));
const larsen = JSON.parse(readFileSync(join(refDir, 'dimensionality', 'larsen.json'), 'utf8')) as LarsenRef;

/** CaF2 conventional cell (a = 5.463 Å) repeated na × nb × nc times. */
function caf2Supercell([na, nb, nc]: [number, number, number]): Structure {
  const a = 5.463;
  const base = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]];
  const fl = [0.25, 0.75];
  const sites: [string, number[]][] = base.map((f) => ['Ca', f]);
  for (const x of fl) for (const y of fl) for (const z of fl) sites.push(['F', [x, y, z]]);
  const species: string[] = [];
  const frac: number[] = [];
  for (const [el, f] of sites)
    for (let i = 0; i < na; i++)
      for (let j = 0; j < nb; j++)
        for (let k = 0; k < nc; k++) {
          species.push(el);
          frac.push((f[0]! + i) / na, (f[1]! + j) / nb, (f[2]! + k) / nc);
        }
  return createStructure({ lattice: [a * na, 0, 0, 0, a * nb, 0, 0, 0, a * nc], species, frac });
}


const t0 = performance.now();
new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath('percolation'))), { env: { abort() {} } });
const coldMs = performance.now() - t0;

const graphs: Record<string, unknown>[] = [];
for (const s of larsen.structures) {
  const r = records.get(s.id)!;
  const st = createStructure({ lattice: r.lattice, species: r.species, frac: r.frac_coords }, { allowLeftHanded: true, checkOverlap: false });
  for (const g of s.graphs) {
    const h = hopGraph(st, g.sites === 'F' ? 'F' : null, g.cutoff);
    const wasm = perCallHere(() => void dimensionality(h.nSites, h));
    const ts = perCallHere(() => void dimensionality(h.nSites, h, { backend: 'ts' }));
    graphs.push({ id: s.id, sites: g.sites, cutoff: g.cutoff, n_nodes: h.nSites, n_edges: h.i.length, wasm_ms: wasm, ts_ms: ts, pymatgen_ms: g.larsen_ms });
  }
}
console.log(`${graphs.length} reference graphs timed`);

const mp: HopGraph[] = [];
for (const s of loadBundled('mp')) {
  if (s.species.includes('F')) mp.push(hopGraph(s, 'F', 5));
}
const mpEdges = mp.reduce((a, g) => a + g.i.length, 0);
const mpDimW = perCallHere(() => {
  for (const g of mp) dimensionality(g.nSites, g);
});
const mpDimT = perCallHere(() => {
  for (const g of mp) dimensionality(g.nSites, g, { backend: 'ts' });
});
const mpFirstW = perCallHere(() => {
  for (const g of mp) firstPercolationLengths(g.nSites, g, g.lengths);
});
const mpFirstT = perCallHere(() => {
  for (const g of mp) firstPercolationLengths(g.nSites, g, g.lengths, { backend: 'ts' });
});
console.log(`MP fluorides (${mp.length} graphs, ${mpEdges} edges): dimensionality wasm ${mpDimW.toFixed(2)} ms, ts ${mpDimT.toFixed(2)} ms; firstPercolation wasm ${mpFirstW.toFixed(2)} ms, ts ${mpFirstT.toFixed(2)} ms`);

const scaling: Record<string, unknown>[] = [];
for (const sc of [[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4], [5, 5, 5], [6, 6, 7]] as [number, number, number][]) {
  const s: Structure = caf2Supercell(sc);
  const g = hopGraph(s, 'F', 4);
  const wasm = perCallHere(() => void dimensionality(g.nSites, g));
  const ts = perCallHere(() => void dimensionality(g.nSites, g, { backend: 'ts' }));
  const firstW = perCallHere(() => void firstPercolationLengths(g.nSites, g, g.lengths));
  scaling.push({ case: `CaF2_${sc.join('x')}`, n_nodes: g.nSites, n_edges: g.i.length, wasm_ms: wasm, ts_ms: ts, first_percolation_wasm_ms: firstW });
  console.log(`CaF2_${sc.join('x')} F nodes ${g.nSites} edges ${g.i.length}: wasm ${wasm.toFixed(4)} ms, ts ${ts.toFixed(4)} ms, first-percolation ${firstW.toFixed(4)} ms`);
}

writeResults('percolation', {
  cold_compile_instantiate_ms: coldMs,
  reference_graphs: graphs,
  mp_fluorides_F5: { graphs: mp.length, edges: mpEdges, dimensionality_wasm_ms: mpDimW, dimensionality_ts_ms: mpDimT, first_percolation_wasm_ms: mpFirstW, first_percolation_ts_ms: mpFirstT },
  caf2_scaling: scaling,
});
