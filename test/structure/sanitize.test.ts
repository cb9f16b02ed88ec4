/**
 * sanitize(): primitive cell at symprec 0.1 Å, LLL-reduced right-handed basis, coordinates in [0, 1),
 * sites sorted by electronegativity, and a transformation that maps every input site onto its
 * sanitised site. Checked on every reference structure up to 100 sites.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitize } from '../../src/structure/sanitize.js';
import { symmetry } from '../../src/structure/symmetry.js';
import { lllReduce } from '../../src/structure/lll.js';
import { createStructure } from '../../src/structure/structure.js';
import { element } from '../../src/structure/elements.js';
import { det3, fracToCart, inv3, mul3 } from '../../src/structure/lattice.js';
import { referenceRecords, referenceStructure } from '../helpers/reference.js';

const records = referenceRecords().filter((r) => r.group !== 'scaling' && r.n_sites <= 100);

function xOf(sp: string): number {
  const x = element(sp).electronegativity;
  return Number.isNaN(x) ? Infinity : x;
}

test('sanitize: primitive, reduced, wrapped, sorted, and mapped back onto the input', () => {
  assert.ok(records.length >= 50);
  for (const r of records) {
    const s = referenceStructure(r, true);
    const { structure: p, transform: t } = sanitize(s);
    const sym = symmetry(s);
    const ratio = Math.abs(det3(s.lattice) / det3(p.lattice));
    assert.ok(Math.abs(ratio - Math.round(ratio)) < 1e-9, `${r.id}: volume ratio ${ratio}`);
    assert.equal(p.species.length * Math.round(ratio), s.species.length, `${r.id}: site count`);
    assert.ok(det3(p.lattice) > 0, `${r.id}: right-handed`);
    const l = mul3(t.latticeMatrix, s.lattice);
    for (let k = 0; k < 9; k++) assert.ok(Math.abs(l[k]! - p.lattice[k]!) < 1e-9, `${r.id}: lattice = M · input`);
    const again = lllReduce(p.lattice);
    assert.deepEqual(Array.from(again.mapping), [1, 0, 0, 0, 1, 0, 0, 0, 1], `${r.id}: the basis is already LLL-reduced`);
    for (const f of p.frac) assert.ok(f >= 0 && f < 1, `${r.id}: coordinate ${f} not in [0, 1)`);
    for (let k = 1; k < p.species.length; k++) assert.ok(xOf(p.species[k - 1]!) <= xOf(p.species[k]!), `${r.id}: electronegativity order at ${k}`);
    assert.equal(symmetry(p).number, sym.number, `${r.id}: space group kept`);
    // Every input site sits on its sanitised site modulo the sanitised lattice, with the same species and charge.
    const inv = inv3(p.lattice);
    const fin = fracToCart(inv, fracToCart(s.lattice, s.frac));
    for (let i = 0; i < s.species.length; i++) {
      const k = t.inputToSanitized[i]!;
      assert.equal(p.species[k], s.species[i], `${r.id}: species of input site ${i}`);
      if (s.oxidationStates) assert.equal(p.oxidationStates![k], s.oxidationStates[i]);
      const d = [0, 1, 2].map((c) => {
        const x = fin[3 * i + c]! - p.frac[3 * k + c]!;
        return x - Math.round(x);
      });
      const cart = fracToCart(p.lattice, d);
      assert.ok(Math.hypot(cart[0]!, cart[1]!, cart[2]!) < 0.1, `${r.id}: input site ${i} is ${Math.hypot(cart[0]!, cart[1]!, cart[2]!)} Å from sanitised site ${k}`);
    }
    for (let k = 0; k < p.species.length; k++) assert.equal(t.inputToSanitized[t.siteOrigin[k]!], k, `${r.id}: siteOrigin`);
  }
});

test('sanitize reduces a conventional, a supercell and a skewed CaF2 cell to the same 3-site cell', () => {
  const ids = ['CaF2', 'CaF2_2x2x2', 'CaF2_prim_skewed'];
  const cells = ids.map((id) => sanitize(referenceStructure(referenceRecords().find((r) => r.id === id)!)).structure);
  // A sheared 1×1×3 supercell (c' = 3c + a), where not every operation maps the cell onto itself.
  const c = referenceStructure(referenceRecords().find((r) => r.id === 'CaF2')!);
  const cart = fracToCart(c.lattice, c.frac);
  const species: string[] = [];
  const pos: number[] = [];
  for (let k = 0; k < 3; k++) for (let i = 0; i < 12; i++) {
    species.push(c.species[i]!);
    pos.push(cart[3 * i]! + k * c.lattice[6]!, cart[3 * i + 1]! + k * c.lattice[7]!, cart[3 * i + 2]! + k * c.lattice[8]!);
  }
  const sheared = sanitize(createStructure({ lattice: mul3([1, 0, 0, 0, 1, 0, 1, 0, 3], c.lattice), species, cart: pos }));
  assert.equal(Math.round(Math.abs(det3(sheared.transform.latticeMatrix)) * 12), 1, 'volume 1/12 of the 36-site sheared cell');
  cells.push(sheared.structure);
  for (const c of cells) {
    assert.equal(c.species.length, 3);
    assert.deepEqual(c.species, ['Ca', 'F', 'F']);
    const lengths = [0, 1, 2].map((i) => Math.hypot(c.lattice[3 * i]!, c.lattice[3 * i + 1]!, c.lattice[3 * i + 2]!));
    for (const a of lengths) assert.ok(Math.abs(a - 5.463 / Math.SQRT2) < 1e-9, `${a}`);
  }
});

test('sanitize keeps the order of same-element sites and carries site properties', () => {
  const s = createStructure({
    lattice: [4, 0, 0, 0, 4, 0, 0, 0, 4],
    species: ['F', 'Li', 'F', 'Li'],
    frac: [[0.5, 0.5, 0], [0, 0, 0], [0.5, 0, 0.5], [0.1, 0.6, 0.55]],
    siteProperties: { tag: ['f0', 'li0', 'f1', 'li1'] },
  });
  const { structure: p, transform: t } = sanitize(s);
  assert.deepEqual(p.species, ['Li', 'Li', 'F', 'F']);
  assert.deepEqual(p.siteProperties['tag'], ['li0', 'li1', 'f0', 'f1']);
  assert.deepEqual(Array.from(t.siteOrigin), [1, 3, 0, 2]);
});

test('sanitize validates symprec', () => {
  const s = referenceStructure(referenceRecords().find((r) => r.id === 'CaF2')!);
  assert.throws(() => sanitize(s, { symprec: 0 }), /symprec must be a distance in \(0, 1\) Å, got 0/);
  assert.throws(() => sanitize(s, { symprec: Number.NaN }), /symprec must be a distance in \(0, 1\) Å, got NaN/);
});
