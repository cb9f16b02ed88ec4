/**
 * Percolation descriptors: pymatgen get_dimensionality_larsen conformance on graphs built from fixed
 * cutoffs (test/fixtures/reference/dimensionality, see its README), the CaF2 F–F network, layered and
 * chain fluorides, the cumulative / per-class / per-cost variants, and validation messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dimensionality,
  componentDimensionalities,
  dimensionalityOfClass,
  dimensionalityCumLengths,
  dimensionalityCumCosts,
  firstPercolationLengths,
  hopGraph,
} from '../../src/analysis/percolation.js';
import { createStructure, type Structure } from '../../src/structure/structure.js';
import { referenceRecords, referenceStructure, readReferenceJson } from '../helpers/reference.js';

interface LarsenRef {
  structures: { id: string; graphs: { sites: 'F' | 'all'; cutoff: number; n_nodes: number; n_edges: number; dimensionality: number }[] }[];
}

function byId(id: string): Structure {
  return referenceStructure(referenceRecords().find((r) => r.id === id)!);
}

test('equals pymatgen get_dimensionality_larsen on every reference graph (F sublattice and all-site cutoffs), both backends', () => {
  const ref = readReferenceJson<LarsenRef>('dimensionality', 'larsen.json')!;
  let graphs = 0;
  const seen = new Set<number>();
  for (const s of ref.structures) {
    const st = byId(s.id);
    for (const g of s.graphs) {
      const h = hopGraph(st, g.sites === 'F' ? 'F' : null, g.cutoff);
      const where = `${s.id} ${g.sites} ${g.cutoff} Å`;
      assert.equal(h.nSites, g.n_nodes, where);
      assert.equal(h.i.length, g.n_edges, where);
      assert.equal(dimensionality(h.nSites, h), g.dimensionality, where);
      assert.equal(dimensionality(h.nSites, h, { backend: 'ts' }), g.dimensionality, where);
      seen.add(g.dimensionality);
      graphs++;
    }
  }
  assert.ok(graphs > 300, `${graphs} graphs`);
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3]);
});

test("CaF2: the 2.73 Å F–F hop alone is 3-D; first percolation in 1, 2 and 3 D at that length", () => {
  for (const id of ['CaF2', 'CaF2_prim', 'CaF2_prim_skewed', 'CaF2_2x2x2']) {
    const g = hopGraph(byId(id), 'F', 4.5);
    const shortest = Math.min(...g.lengths);
    assert.ok(Math.abs(shortest - 2.7315) < 1e-3, `${id} shortest ${shortest}`);
    const cls = Array.from(g.lengths, (d) => (Math.abs(d - shortest) < 1e-6 ? 0 : 1));
    assert.equal(dimensionalityOfClass(g.nSites, g, cls, 0), 3, id);
    assert.equal(dimensionalityCumLengths(g.nSites, g, g.lengths, shortest), 3, id);
    assert.equal(dimensionalityCumLengths(g.nSites, g, g.lengths, shortest - 1e-3), 0, id);
    const f = firstPercolationLengths(g.nSites, g, g.lengths);
    // Equal hops differ in the last bits of their computed lengths: compare to 1e-9 Å.
    for (const v of [f.oneD, f.twoD, f.threeD]) assert.ok(v !== null && Math.abs(v - shortest) < 1e-9, `${id} ${JSON.stringify(f)}`);
  }
});

test('layered and chain fluorides: La2CoO4F F layers are 2-D, SiC(ClF)3 F chains 1-D; first-percolation lengths follow', () => {
  const layered = hopGraph(byId('pmg_La2CoO4F'), 'F', 5.0);
  assert.equal(dimensionality(layered.nSites, layered), 2);
  const lf = firstPercolationLengths(layered.nSites, layered, layered.lengths);
  assert.ok(lf.twoD !== null && lf.threeD === null && lf.oneD === lf.twoD, JSON.stringify(lf));

  const chain = hopGraph(byId('mp_mp-554491'), 'F', 3.6);
  assert.equal(dimensionality(chain.nSites, chain), 1);
  const cf = firstPercolationLengths(chain.nSites, chain, chain.lengths);
  assert.ok(cf.oneD !== null && cf.twoD === null && cf.threeD === null, JSON.stringify(cf));
  assert.equal(dimensionalityCumLengths(chain.nSites, chain, chain.lengths, cf.oneD - 1e-3), 0);

  const mixed = hopGraph(byId('mp_mp-29269'), 'F', 3.2);
  const mf = firstPercolationLengths(mixed.nSites, mixed, mixed.lengths);
  assert.ok(mf.oneD! < mf.twoD!, JSON.stringify(mf));
  assert.equal(dimensionalityCumLengths(mixed.nSites, mixed, mixed.lengths, mf.oneD!), 1);
  assert.equal(dimensionalityCumLengths(mixed.nSites, mixed, mixed.lengths, mf.twoD!), 2);
});

test('cumulative by cost: edges open in order of a caller-supplied cost; Infinity never opens', () => {
  const g = hopGraph(byId('CaF2'), 'F', 2.8);
  const m = g.i.length;
  const costs = Float64Array.from({ length: m }, (_, e) => (g.image[3 * e + 2] !== 0 ? Number.POSITIVE_INFINITY : 0.5));
  // With every hop that crosses the c boundary closed, the F cube network is a layer in a, b.
  assert.equal(dimensionalityCumCosts(g.nSites, g, costs, 0.4), 0);
  assert.equal(dimensionalityCumCosts(g.nSites, g, costs, 0.5), 2);
  assert.equal(dimensionalityCumCosts(g.nSites, g, costs, 1e9), 2);
  assert.equal(dimensionalityCumCosts(g.nSites, g, costs, Number.POSITIVE_INFINITY), 3);
  const per = componentDimensionalities(g.nSites, g);
  assert.deepEqual(Array.from(per), Array(g.nSites).fill(3));
});

test('edges as objects give the same answer as typed arrays; a synthetic chain and layer', () => {
  const s = createStructure({ lattice: [10, 0, 0, 0, 10, 0, 0, 0, 2.5], species: ['F'], frac: [0, 0, 0] });
  const chain = hopGraph(s, 'F', 3);
  assert.equal(dimensionality(1, chain), 1);
  assert.equal(dimensionality(1, [{ i: 0, j: 0, image: [0, 0, 1] }]), 1);
  assert.equal(dimensionality(1, [{ i: 0, j: 0, image: [0, 0, 1] }, { i: 0, j: 0, image: [1, 0, 0] }]), 2);
  const layer = createStructure({ lattice: [2.5, 0, 0, 0, 2.5, 0, 0, 0, 10], species: ['F'], frac: [0, 0, 0] });
  assert.equal(dimensionality(1, hopGraph(layer, 'F', 3)), 2);
});

test('validation messages name the argument and the value', () => {
  const e = [{ i: 0, j: 0, image: [0, 0, 1] }];
  assert.throws(() => dimensionality(0, e), /dimensionality: nSites must be a positive integer, got 0/);
  assert.throws(() => dimensionality(1, [{ i: 0, j: 0, image: [0, 1] }]), /dimensionality: edge 0 must have i, j and a 3-component image/);
  assert.throws(() => dimensionality(1, [{ i: 0.5, j: 0, image: [0, 0, 1] }]), /dimensionality: edge 0 i must be an integer, got 0.5/);
  assert.throws(() => dimensionality(1, { i: [0], j: [0, 0], image: [0, 0, 1] }), /dimensionality: edges need i and j of equal length and image of 3 per edge, got 1, 2, 3/);
  assert.throws(() => dimensionality(1, { i: [0], j: [0], image: [0, 0.25, 1] }), /dimensionality: edge 0 image\[1\] must be an integer, got 0.25/);
  assert.throws(() => dimensionality(1, e, { backend: 'gpu' as never }), /dimensionality: backend must be 'wasm' or 'ts', got gpu/);
  assert.throws(() => dimensionality(3, [{ i: 0, j: 7, image: [0, 0, 0] }]), /percolation: edge 0 \(0, 7, \[0, 0, 0\]\) names a site outside 0..2/);
  assert.throws(() => dimensionalityOfClass(1, e, [0, 1], 0), /dimensionalityOfClass: classes must have one label per edge \(1\), got 2/);
  assert.throws(() => dimensionalityOfClass(1, e, [0], 0.5), /dimensionalityOfClass: target must be an integer class label, got 0.5/);
  assert.throws(() => dimensionalityCumLengths(1, e, [Number.NaN], 1), /dimensionalityCumLengths: lengths\[0\] must be a finite number, got NaN/);
  assert.throws(() => dimensionalityCumLengths(1, e, [1], Number.NaN), /dimensionalityCumLengths: lengthAng must be a finite number, got NaN/);
  assert.throws(() => dimensionalityCumLengths(1, e, [1], 1, { toleranceAng: -1 }), /dimensionalityCumLengths: toleranceAng must be a finite number >= 0, got -1/);
  assert.throws(() => dimensionalityCumCosts(1, e, [Number.NaN], 1), /dimensionalityCumCosts: costs\[0\] must be a number, got NaN/);
  assert.throws(() => dimensionalityCumCosts(1, e, [1], Number.NaN), /dimensionalityCumCosts: cost must be a number, got NaN/);
  assert.throws(() => firstPercolationLengths(1, e, []), /firstPercolationLengths: lengths must have one value per edge \(1\), got 0/);
  assert.throws(() => componentDimensionalities(-1, e), /componentDimensionalities: nSites must be a positive integer, got -1/);
  assert.throws(() => hopGraph(byId('CaF2'), 'F', 0), /hopGraph: maxLengthAng must be a positive finite number of Å, got 0/);
  assert.throws(() => hopGraph(byId('CaF2'), 'Li', 3), /hopGraph: the structure has no "Li" site/);
});

/** The n0 × n1 × n2 supercell of `s` (rows scaled, sites repeated). */
function supercell(s: Structure, [n0, n1, n2]: [number, number, number]): Structure {
  const lattice = Array.from(s.lattice, (v, k) => v * [n0, n1, n2][Math.floor(k / 3)]!);
  const species: string[] = [];
  const frac: number[] = [];
  for (let i = 0; i < s.species.length; i++)
    for (let a = 0; a < n0; a++)
      for (let b = 0; b < n1; b++)
        for (let c = 0; c < n2; c++) {
          species.push(s.species[i]!);
          frac.push((s.frac[3 * i]! + a) / n0, (s.frac[3 * i + 1]! + b) / n1, (s.frac[3 * i + 2]! + c) / n2);
        }
  return createStructure({ lattice, species, frac }, { allowLeftHanded: true, checkOverlap: false });
}

test('supercell consistency: the same hop network in a 2×1×3 supercell has the same dimensionality and first-percolation lengths', () => {
  const ref = readReferenceJson<LarsenRef>('dimensionality', 'larsen.json')!;
  for (const id of ['pmg_La2CoO4F', 'mp_mp-554491', 'mp_mp-29269', 'CeF3', 'mp_mp-13946']) {
    const s = byId(id);
    const big = supercell(s, [2, 1, 3]);
    for (const g of ref.structures.find((x) => x.id === id)!.graphs.filter((x) => x.sites === 'F')) {
      const h = hopGraph(big, 'F', g.cutoff);
      assert.equal(h.i.length, 6 * g.n_edges, `${id} ${g.cutoff}`);
      assert.equal(dimensionality(h.nSites, h), g.dimensionality, `${id} ${g.cutoff}`);
    }
    const a = hopGraph(s, 'F', 4), b = hopGraph(big, 'F', 4);
    const fa = firstPercolationLengths(a.nSites, a, a.lengths), fb = firstPercolationLengths(b.nSites, b, b.lengths);
    for (const k of ['oneD', 'twoD', 'threeD'] as const) {
      assert.equal(fa[k] === null, fb[k] === null, `${id} ${k}`);
      if (fa[k] !== null) assert.ok(Math.abs(fa[k]! - fb[k]!) < 1e-9, `${id} ${k}: ${fa[k]} vs ${fb[k]}`);
    }
  }
});
