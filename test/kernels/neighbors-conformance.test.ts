/**
 * Conformance of the neighbour-search kernel with pymatgen `Structure.get_all_neighbors(r)`
 * (pymatgen 2022.11.7; reference data in test/fixtures/reference/neighbors, distances rounded to
 * 1e-8 Å) on every reference structure at r = 3, 5, 8 Å, and WASM ↔ TS-twin agreement to 1e-12.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neighborList, sortNeighborList, type NeighborList } from '../../src/kernels/neighbors.js';
import { referenceRecords, referenceStructure, readReferenceJson } from '../helpers/reference.js';

/** The scaling cells carry only `total_pairs`; the others per-site data too. */
interface RadiusRef {
  counts?: number[];
  total_pairs: number;
  min_dist?: number;
  sorted_distances?: number[][];
  neighbors_j_image_d?: number[][][];
}
interface NeighborRef {
  id: string;
  n_sites: number;
  radii: Record<string, RadiusRef>;
}

/** Reference distances are rounded to 1e-8 Å: allow half a unit of rounding plus float noise. */
const DIST_TOL = 5e-9 + 1e-12;

function perSiteDistances(nl: NeighborList, n: number): number[][] {
  const out: number[][] = Array.from({ length: n }, () => []);
  for (let p = 0; p < nl.count; p++) out[nl.i[p]!]!.push(nl.d![p]!);
  for (const row of out) row.sort((a, b) => a - b);
  return out;
}

for (const rec of referenceRecords()) {
  const ref = readReferenceJson<NeighborRef>('neighbors', `${rec.id}.json`);
  if (!ref) continue;
  test(`neighbours match pymatgen get_all_neighbors: ${rec.id} (${rec.n_sites} sites)`, () => {
    const s = referenceStructure(rec);
    for (const [radius, r] of Object.entries(ref.radii)) {
      const cutoff = Number(radius);
      const wasm = neighborList(s, cutoff, { sorted: true });
      const ts = neighborList(s, cutoff, { sorted: true, backend: 'ts' });
      const where = `${rec.id} r=${radius}`;
      assert.equal(wasm.count, r.total_pairs, `${where}: pair count`);
      // WASM and TS twin: identical pair sets, distances to 1e-12 relative.
      assert.deepEqual(wasm.i, ts.i, `${where}: i differs between wasm and ts`);
      assert.deepEqual(wasm.j, ts.j, `${where}: j differs between wasm and ts`);
      assert.deepEqual(wasm.S, ts.S, `${where}: S differs between wasm and ts`);
      for (let p = 0; p < wasm.count; p++) {
        const a = wasm.d![p]!, b = ts.d![p]!;
        assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(a, b), `${where}: pair ${p} wasm ${a} vs ts ${b}`);
      }
      if (r.counts) {
        const counts = new Array<number>(rec.n_sites).fill(0);
        for (let p = 0; p < wasm.count; p++) counts[wasm.i[p]!]!++;
        assert.deepEqual(counts, r.counts, `${where}: per-site counts`);
      }
      if (r.min_dist !== undefined && wasm.count > 0) {
        const min = wasm.d!.reduce((m, v) => Math.min(m, v), Infinity);
        assert.ok(Math.abs(min - r.min_dist) <= DIST_TOL, `${where}: shortest distance ${min} vs ${r.min_dist}`);
      }
      if (r.sorted_distances) {
        const mine = perSiteDistances(wasm, rec.n_sites);
        for (let i = 0; i < rec.n_sites; i++) {
          const want: number[] = r.sorted_distances[i]!;
          assert.equal(mine[i]!.length, want.length, `${where}: site ${i} neighbour count`);
          for (let k = 0; k < want.length; k++) {
            assert.ok(Math.abs(mine[i]![k]! - want[k]!) <= DIST_TOL, `${where}: site ${i} distance #${k}: ${mine[i]![k]} vs pymatgen ${want[k]}`);
          }
        }
      }
      if (r.neighbors_j_image_d) {
        // Full pair set: (i, j, S) must be identical after sorting; distances to the rounding.
        const refPairs: [number, number, number, number, number, number][] = [];
        r.neighbors_j_image_d.forEach((rows, i) => {
          for (const [j, a, b, c, d] of rows) refPairs.push([i, j!, a!, b!, c!, d!]);
        });
        refPairs.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || x[3] - y[3] || x[4] - y[4]);
        assert.equal(refPairs.length, wasm.count, `${where}: full pair list length`);
        for (let p = 0; p < wasm.count; p++) {
          const [i, j, a, b, c, d] = refPairs[p]!;
          const got = [wasm.i[p], wasm.j[p], wasm.S[3 * p], wasm.S[3 * p + 1], wasm.S[3 * p + 2]];
          assert.deepEqual(got, [i, j, a, b, c], `${where}: pair ${p}`);
          assert.ok(Math.abs(wasm.d![p]! - d) <= DIST_TOL, `${where}: pair ${p} distance ${wasm.d![p]} vs ${d}`);
        }
      }
    }
  });
}

test('sortNeighborList orders by (i, j, S) and keeps distances with their pairs', () => {
  const rec = referenceRecords().find((r) => r.id === 'CaF2_prim_skewed')!;
  const nl = neighborList(referenceStructure(rec), 5, { vectors: true });
  const sorted = sortNeighborList(nl);
  for (let p = 1; p < sorted.count; p++) {
    const a = [sorted.i[p - 1]!, sorted.j[p - 1]!, ...sorted.S.subarray(3 * p - 3, 3 * p)];
    const b = [sorted.i[p]!, sorted.j[p]!, ...sorted.S.subarray(3 * p, 3 * p + 3)];
    const cmp = a.findIndex((v, k) => v !== b[k]);
    assert.ok(cmp >= 0 && a[cmp]! < b[cmp]!, `pairs ${p - 1} and ${p} out of order`);
    const D = sorted.D!.subarray(3 * p, 3 * p + 3);
    assert.ok(Math.abs(Math.hypot(D[0]!, D[1]!, D[2]!) - sorted.d![p]!) < 1e-12);
  }
});
