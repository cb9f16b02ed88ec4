/**
 * Percolation kernel: WASM against its plain-TS twin and against an independent algorithm (union-find
 * with image potentials: the rank of the lattice of cycle translations of each component), on random
 * periodic graphs; first-percolation thresholds against a brute-force scan; status-code errors.
 * Random cases print their seed on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dimensionalityWasm, firstPercolationWasm, dimensionalityTs, firstPercolationTs, PercolationStatusError, type EdgeArrays } from '../../src/kernels/percolation.js';
import { rng } from '../helpers/random.js';


function randomGraph(rand: () => number, n: number, m: number, maxImage: number): EdgeArrays {
  const e: EdgeArrays = { i: new Int32Array(m), j: new Int32Array(m), image: new Int32Array(3 * m) };
  for (let k = 0; k < m; k++) {
    e.i[k] = Math.floor(rand() * n);
    e.j[k] = Math.floor(rand() * n);
    for (let c = 0; c < 3; c++) e.image[3 * k + c] = rand() < 0.6 ? 0 : Math.floor(rand() * (2 * maxImage + 1)) - maxImage;
  }
  return e;
}

/** Rank of a set of integer 3-vectors (exact: Gaussian elimination on rationals via BigInt-free fraction-free steps). */
function rank(vectors: number[][]): number {
  const rows = vectors.map((v) => v.slice());
  let r = 0;
  for (let c = 0; c < 3 && r < rows.length; c++) {
    const p = rows.findIndex((row, k) => k >= r && row[c] !== 0);
    if (p < 0) continue;
    [rows[r], rows[p]] = [rows[p]!, rows[r]!];
    for (let k = 0; k < rows.length; k++) {
      if (k === r || rows[k]![c] === 0) continue;
      const f = rows[k]![c]!, g = rows[r]![c]!;
      rows[k] = rows[k]!.map((x, q) => x * g - rows[r]![q]! * f);
    }
    r++;
  }
  return r;
}

/**
 * Independent reference: union-find where each site carries its image relative to the root; an edge
 * inside a component closes a cycle whose translation p(i) + S - p(j) belongs to the component's
 * lattice. Dimensionality = rank of that lattice.
 */
function unionFindDims(n: number, e: EdgeArrays, keep: (k: number) => boolean = () => true): Int32Array {
  const parent = Array.from({ length: n }, (_, i) => i);
  const pot = Array.from({ length: n }, () => [0, 0, 0]);
  const find = (x: number): [number, number[]] => {
    let p = [0, 0, 0];
    let r = x;
    while (parent[r] !== r) {
      p = p.map((v, c) => v + pot[r]![c]!);
      r = parent[r]!;
    }
    return [r, p];
  };
  const cycles = new Map<number, number[][]>();
  for (let k = 0; k < e.i.length; k++) {
    if (!keep(k)) continue;
    const i = e.i[k]!, j = e.j[k]!;
    const S = [e.image[3 * k]!, e.image[3 * k + 1]!, e.image[3 * k + 2]!];
    const [ri, pi] = find(i);
    const [rj, pj] = find(j);
    // position of j's copy = pi + S; in rj's frame j sits at pj.
    if (ri === rj) {
      const t = [0, 1, 2].map((c) => pi[c]! + S[c]! - pj[c]!);
      if (!cycles.has(ri)) cycles.set(ri, []);
      cycles.get(ri)!.push(t);
    } else {
      // attach rj under ri: image of rj in ri's frame = pi + S - pj
      parent[rj] = ri;
      pot[rj] = [0, 1, 2].map((c) => pi[c]! + S[c]! - pj[c]!);
      const moved = cycles.get(rj) ?? [];
      cycles.delete(rj);
      if (!cycles.has(ri)) cycles.set(ri, []);
      cycles.get(ri)!.push(...moved);
    }
  }
  const out = new Int32Array(n);
  for (let s = 0; s < n; s++) out[s] = rank(cycles.get(find(s)[0]) ?? []);
  return out;
}

test('WASM, TS twin and the union-find reference agree on random periodic graphs (per site and overall)', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rand = rng(seed);
    const n = 1 + Math.floor(rand() * 12);
    const m = Math.floor(rand() * 3 * n);
    const e = randomGraph(rand, n, m, 1 + Math.floor(rand() * 2));
    const dw = new Int32Array(n), dt = new Int32Array(n);
    const w = dimensionalityWasm(n, e, null, 0, dw);
    const t = dimensionalityTs(n, e, null, 0, dt);
    const ref = unionFindDims(n, e);
    const msg = `seed ${seed}: n ${n}, edges ${JSON.stringify([Array.from(e.i), Array.from(e.j), Array.from(e.image)])}`;
    assert.deepEqual(Array.from(dw), Array.from(ref), msg);
    assert.deepEqual(Array.from(dt), Array.from(ref), msg);
    assert.equal(w, Math.max(...ref), msg);
    assert.equal(t, w, msg);
  }
});

test('keys select edges (key <= maxKey); firstPercolation equals a scan over every threshold', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const rand = rng(1000 + seed);
    const n = 1 + Math.floor(rand() * 8);
    const m = Math.floor(rand() * 4 * n);
    const e = randomGraph(rand, n, m, 1);
    const keys = Float64Array.from({ length: m }, () => Math.round(rand() * 10) / 2);
    const thresholds = Float64Array.from(new Set(keys)).sort();
    const msg = `seed ${1000 + seed}`;
    const scan = [Number.NaN, Number.NaN, Number.NaN];
    for (const t of thresholds) {
      const ref = Math.max(0, ...unionFindDims(n, e, (k) => keys[k]! <= t));
      assert.equal(dimensionalityWasm(n, e, keys, t), ref, msg);
      assert.equal(dimensionalityTs(n, e, keys, t), ref, msg);
      for (let d = 1; d <= 3; d++) if (ref >= d && Number.isNaN(scan[d - 1]!)) scan[d - 1] = t;
    }
    assert.deepEqual(Array.from(firstPercolationWasm(n, e, keys, thresholds)), scan, msg);
    assert.deepEqual(Array.from(firstPercolationTs(n, e, keys, thresholds)), scan, msg);
  }
});

test('textbook graphs: isolated site 0, chain 1, layer 2, bulk 3; self-edge at zero image does nothing', () => {
  const g = (edges: [number, number, number, number, number][]): EdgeArrays => ({
    i: Int32Array.from(edges.map((x) => x[0])),
    j: Int32Array.from(edges.map((x) => x[1])),
    image: Int32Array.from(edges.flatMap((x) => [x[2], x[3], x[4]])),
  });
  for (const [fn, name] of [[dimensionalityWasm, 'wasm'], [dimensionalityTs, 'ts']] as const) {
    assert.equal(fn(1, g([]), null, 0), 0, name);
    assert.equal(fn(1, g([[0, 0, 0, 0, 0]]), null, 0), 0, name);
    assert.equal(fn(1, g([[0, 0, 0, 0, 1]]), null, 0), 1, name);
    assert.equal(fn(1, g([[0, 0, 1, 0, 0], [0, 0, 0, 1, 0]]), null, 0), 2, name);
    assert.equal(fn(1, g([[0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]]), null, 0), 3, name);
    // Two sites zig-zag along c through a second site: still 1-D; plus an isolated third site.
    const d = new Int32Array(3);
    assert.equal(fn(3, g([[0, 1, 0, 0, 0], [1, 0, 0, 0, 1]]), null, 0, d), 1, name);
    assert.deepEqual(Array.from(d), [1, 1, 0], name);
    // A ring closing only through image (2, 0, 0): still a chain.
    assert.equal(fn(2, g([[0, 1, 1, 0, 0], [1, 0, 1, 0, 0]]), null, 0), 1, name);
  }
});

test('status codes become errors naming the input', () => {
  const e: EdgeArrays = { i: Int32Array.of(0, 5), j: Int32Array.of(1, 0), image: Int32Array.of(0, 0, 0, 0, 0, 1) };
  for (const fn of [dimensionalityWasm, dimensionalityTs]) {
    assert.throws(() => fn(2, e, null, 0), (x: unknown) => x instanceof PercolationStatusError && x.message === 'percolation: edge 1 (5, 0, [0, 0, 1]) names a site outside 0..1');
    assert.throws(() => fn(0, { i: new Int32Array(0), j: new Int32Array(0), image: new Int32Array(0) }, null, 0), /percolation: nSites must be >= 1 and the edge count >= 0, got nSites = 0, edges = 0/);
    const big: EdgeArrays = { i: Int32Array.of(0), j: Int32Array.of(0), image: Int32Array.of(0, 2000, 0) };
    assert.throws(() => fn(1, big, null, 0), /percolation: edge 0 \(0, 0, \[0, 2000, 0\]\) has an image component beyond ±1024/);
    const ok: EdgeArrays = { i: Int32Array.of(0), j: Int32Array.of(0), image: Int32Array.of(0, 0, 1) };
    assert.throws(() => fn(1, ok, Float64Array.of(Number.NaN), 0), /percolation: key of edge 0 is NaN \(must not be NaN\)/);
  }
  const ok: EdgeArrays = { i: Int32Array.of(0), j: Int32Array.of(0), image: Int32Array.of(0, 0, 1) };
  for (const fn of [firstPercolationWasm, firstPercolationTs]) {
    assert.throws(() => fn(1, ok, Float64Array.of(1), Float64Array.of(2, 1)), /percolation: thresholds must be strictly increasing numbers and keys must be given/);
  }
  // A ring of 20000 sites, each step 2 cells along a: the search reaches images near ±20000 > 2^14.
  const n = 20000;
  const chain: EdgeArrays = { i: new Int32Array(n), j: new Int32Array(n), image: new Int32Array(3 * n) };
  for (let k = 0; k < n; k++) {
    chain.i[k] = k;
    chain.j[k] = (k + 1) % n;
    chain.image[3 * k] = 2;
  }
  for (const fn of [dimensionalityWasm, dimensionalityTs]) {
    assert.throws(() => fn(n, chain, null, 0), /percolation: the search reached an image beyond ±16384/);
  }
});
