/**
 * minimumPairDistance (structure validation's closest-pair check) against the full neighbour search
 * of the kernel's TS twin: the same closest pair and distance on random cells — triclinic, thin
 * (limit above a cell height), with sites on top of each other and far apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimumPairDistance } from '../../src/structure/pair-distance.js';
import { neighborSearchTs } from '../../src/kernels/neighbors-ts.js';
import { rng } from '../helpers/random.js';

function reference(cell: number[], pos: Float64Array, limit: number): { i: number; j: number; distance: number } | null {
  const r = neighborSearchTs(cell, pos, limit);
  if (r.count === 0) return null;
  let best = 0;
  for (let p = 1; p < r.count; p++) if (r.d![p]! < r.d![best]!) best = p;
  return { i: Math.min(r.i[best]!, r.j[best]!), j: Math.max(r.i[best]!, r.j[best]!), distance: r.d![best]! };
}

test('the closest pair within a limit equals the full neighbour search on 300 random cells (triclinic, thin, crowded, sparse)', () => {
  const seed = Number(process.env.FRACFLOW_TEST_SEED ?? 4242);
  const rand = rng(seed);
  let found = 0;
  for (let c = 0; c < 300; c++) {
    const thin = c % 5 === 0;
    const a = [2 + rand() * 8, (thin ? 0.3 : 2) + rand() * (thin ? 0.5 : 8), 2 + rand() * 8];
    const cell = [a[0]!, 0, 0, (rand() - 0.5) * a[1]!, a[1]!, 0, (rand() - 0.5) * a[2]!, (rand() - 0.5) * a[2]!, a[2]!];
    const n = 1 + Math.floor(rand() * (c % 3 === 0 ? 200 : 12));
    const pos = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      const f = [rand(), rand(), rand()];
      for (let k = 0; k < 3; k++) pos[3 * i + k] = f[0]! * cell[k]! + f[1]! * cell[3 + k]! + f[2]! * cell[6 + k]!;
    }
    const limit = [0.5, 1.2, 3][c % 3]!;
    const got = minimumPairDistance(cell, pos, limit);
    const want = reference(cell, pos, limit);
    const ctx = `seed ${seed}, cell ${c}: ${JSON.stringify(cell)} n=${n} limit=${limit}`;
    if (want === null) assert.equal(got, null, ctx);
    else {
      found++;
      assert.ok(got !== null, ctx);
      assert.ok(Math.abs(got.distance - want.distance) < 1e-12, `${ctx}: ${got.distance} vs ${want.distance}`);
    }
  }
  assert.ok(found > 100, `only ${found} cells had a pair within the limit`);
});

test('a site on top of another (or of its own image in a cell thinner than the limit) is found; a singular cell or no sites gives null', () => {
  const near = minimumPairDistance([5, 0, 0, 0, 5, 0, 0, 0, 5], [1, 1, 1, 1, 1, 1.1], 0.5)!;
  assert.deepEqual([near.i, near.j], [0, 1]);
  assert.ok(Math.abs(near.distance - 0.1) < 1e-12, String(near.distance));
  assert.equal(minimumPairDistance([0.3, 0, 0, 0, 5, 0, 0, 0, 5], [0, 0, 0], 0.5)!.distance, 0.3, 'a site and its own image 0.3 Å away');
  assert.equal(minimumPairDistance([1, 0, 0, 2, 0, 0, 0, 0, 5], [0, 0, 0], 0.5), null);
  assert.equal(minimumPairDistance([5, 0, 0, 0, 5, 0, 0, 0, 5], [], 0.5), null);
});
