/**
 * Large inputs through the descriptors and the site limit: a supercell gives the descriptors of its
 * primitive cell; the site limit refuses larger structures with a message naming the count, the limit
 * and the option; progress callbacks see the phases in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHops, PathfinderError } from '../../src/analysis/pathfinder.js';
import { DescriptorError, pathwayDescriptors, type PathwayDescriptors } from '../../src/analysis/descriptors.js';
import { DEFAULT_MAX_SITES, SiteLimitError } from '../../src/analysis/site-limit.js';
import type { ProgressEvent } from '../../src/analysis/progress.js';
import { clearSymmetryCache } from '../../src/structure/symmetry.js';
import { sanitize } from '../../src/structure/sanitize.js';
import { supercell } from '../../src/kernels/supercell.js';
import { referenceRecords, referenceStructure } from '../helpers/reference.js';

const record = (id: string) => referenceStructure(referenceRecords().find((r) => r.id === id)!);

/** A supercell matrix of determinant k³ that is not diagonal (the supercell is sheared). */
const sheared = (k: number) => [k, 1, 0, 0, k, 0, 0, 1, k];

/** Descriptor columns that do not depend on the cell the images are built in. */
const CELL_INDEPENDENT = [
  'hop_index', 'length', 'ion_fraction', 'nsites', 'dmin', 'length_rel_dmin', 'oxidation_state', 'oxidation_method',
  'dimensionality', 'dimensionality_cumlengths', 'percolation_1d', 'percolation_2d', 'percolation_3d',
] as const satisfies readonly (keyof PathwayDescriptors)[];

/** Whether two cells have the same lattice vectors up to their order and sign. */
function sameVectors(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const row = (m: ArrayLike<number>, r: number) => [m[3 * r]!, m[3 * r + 1]!, m[3 * r + 2]!];
  const used = new Set<number>();
  for (let i = 0; i < 3; i++) {
    const u = row(a, i);
    const j = [0, 1, 2].find((k) => !used.has(k) && [1, -1].some((sign) => row(b, k).every((x, q) => Math.abs(sign * x - u[q]!) < 1e-9)));
    if (j === undefined) return false;
    used.add(j);
  }
  return true;
}

/** Columns in the coordinates of the sanitised cell (its vectors may come in another order and sign). */
const SETTING: readonly (keyof PathwayDescriptors)[] = ['start_site', 'end_site', 'start_frac', 'end_frac', 'end_image', 'supercell_scaling'];

function close(a: unknown, b: unknown, tol: number): boolean {
  return typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= tol : JSON.stringify(a) === JSON.stringify(b);
}

test('a supercell gives the descriptors of its primitive cell; all of them where both sanitise to the same cell vectors', () => {
  // The image-based columns (IDPP, Ewald, radii overlap, cumbarriers) are computed in a supercell of
  // the sanitised cell, whose basis is the LLL reduction of the primitive basis found: a supercell may
  // reach another reduced basis of the same lattice than its primitive cell does (rock-salt LiF here),
  // and the capped IDPP descent then ends elsewhere. Where the sanitised cells coincide every column
  // agrees.
  for (const [id, m, same] of [['mp_mp-1195732', sheared(3), true], ['KMgF3', [3, 0, 0, 0, 3, 0, 0, 0, 3], true], ['LiF', sheared(3), false]] as const) {
    const s = record(id);
    const sc = supercell(s, m);
    const msg = `${id} [${m.join(' ')}] (${sc.species.length} sites)`;
    clearSymmetryCache();
    const a = pathwayDescriptors(s);
    const b = pathwayDescriptors(sc);
    assert.equal(b.length, a.length, msg);
    const sameCell = sameVectors(sanitize(s).structure.lattice, sanitize(sc).structure.lattice);
    assert.equal(sameCell, same, `${msg}: the sanitised cells ${same ? 'coincide' : 'differ'}`);
    a.forEach((row, q) => {
      const columns = same ? (Object.keys(row) as (keyof PathwayDescriptors)[]).filter((c) => !SETTING.includes(c)) : CELL_INDEPENDENT;
      for (const c of columns) {
        if (c === 'multiplicity') continue;
        // 1e-6: hop lengths of the rounded reference coordinates differ by ~1e-9 Å between orbit members.
        assert.ok(close(row[c], b[q]![c], 1e-6), `${msg}: hop ${q} ${c}: ${JSON.stringify(b[q]![c])} vs ${JSON.stringify(row[c])}`);
      }
      assert.equal(b[q]!.multiplicity, row.multiplicity, `${msg}: hop ${q} multiplicity per primitive cell`);
      if (same) assert.deepEqual(b[q]!.supercell_scaling.slice().sort(), row.supercell_scaling.slice().sort(), `${msg}: hop ${q} supercell scaling`);
    });
  }
});

test('the site limit: findHops and pathwayDescriptors refuse a larger structure with the count, the limit and the option; bad values are named', () => {
  const s = { ...record('CaF2'), info: { id: 'caf2-conv' } };
  assert.throws(() => findHops(s, { maxSites: 11 }), (e: unknown) => {
    assert.ok(e instanceof SiteLimitError);
    assert.equal(e.message, 'structure caf2-conv has 12 sites, more than the limit of 11 sites per structure for the hop search; to analyse it whole, raise the limit with --max-sites 12 (maxSites in the library)');
    assert.equal(e.sites, 12);
    assert.equal(e.maxSites, 11);
    return true;
  });
  assert.throws(() => pathwayDescriptors(s, { maxSites: 11 }), /structure caf2-conv has 12 sites, more than the limit of 11 sites per structure for the descriptors; to analyse it whole, raise the limit with --max-sites 12 \(maxSites in the library\)$/);
  // Counted as given: the 3-site primitive cell is not what the limit looks at.
  assert.equal(findHops(s, { maxSites: 12 }).hops.length, 4);
  assert.equal(pathwayDescriptors(s, { maxSites: 12, limit: 1 }).length, 1);
  // The default holds every structure below it.
  assert.ok(DEFAULT_MAX_SITES >= 5000);
  assert.throws(() => findHops(supercell(record('LiF'), [9, 0, 0, 0, 9, 0, 0, 0, 9])), /has 5832 sites, more than the limit of 5000 sites per structure for the hop search/);
  for (const bad of [0, -1, 1.5, Number.NaN, '10' as unknown as number]) {
    const shown = typeof bad === 'string' ? JSON.stringify(bad) : String(bad);
    assert.throws(() => findHops(s, { maxSites: bad }), new PathfinderError(`maxSites must be a positive integer (sites per structure), got ${shown}`));
    assert.throws(() => pathwayDescriptors(s, { maxSites: bad }), new DescriptorError(`maxSites must be a positive integer (sites per structure), got ${shown}`));
  }
  assert.throws(() => findHops(s, { onProgress: 3 as unknown as () => void }), new PathfinderError('onProgress must be a function, got number'));
  assert.throws(() => pathwayDescriptors(s, { onProgress: null as unknown as () => void }), new DescriptorError('onProgress must be a function, got null'));
});

test('progress callbacks: the phases of findHops and pathwayDescriptors in order, one event per hop', () => {
  const s = supercell(record('CaF2'), [3, 0, 0, 0, 3, 0, 0, 0, 3]);
  clearSymmetryCache();
  const hopEvents: ProgressEvent[] = [];
  findHops(s, { onProgress: (e) => hopEvents.push(e) });
  assert.deepEqual(hopEvents.map((e) => e.phase), ['primitive cell and symmetry (324 sites)', 'distinct F hops up to 5.010 Å (3-site primitive cell, 48 operations)']);
  const events: ProgressEvent[] = [];
  const rows = pathwayDescriptors(s, { limit: 2, onProgress: (e) => events.push(e) });
  assert.deepEqual(events.map((e) => e.phase.replace(/ \(.*\)$/, '')), [
    'sanitize: primitive cell and symmetry', 'distinct F hops up to 5.010 Å', 'oxidation states', 'F hop graph and percolation', 'hop descriptors', 'hop descriptors',
  ]);
  assert.deepEqual(events.filter((e) => e.total !== undefined).map((e) => [e.done, e.total]), [[0, 2], [1, 2]]);
  assert.equal(rows.length, 2);
});
