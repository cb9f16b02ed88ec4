/**
 * Property tests of the Ewald kernel: invariances that must hold for any input (rotation,
 * translation, cell setting, supercells at fixed η and cutoffs), the single-site path against the
 * all-sites one, WASM against the TS twin on random triclinic cells (cutoffs above the cell
 * height included), and every validation branch with its message.
 * Random cases print their seed and transform (17 significant digits) on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ewald,
  ewaldSiteEnergy,
  ewaldSiteEnergyParts,
  ewaldParameters,
  ewaldEnergyWasm,
  ewaldSiteEnergyWasm,
  ewaldEnergyTs,
  ewaldSiteEnergyTs,
  EwaldStatusError,
  MissingOxidationStatesError,
  type EwaldParameters,
} from '../../src/kernels/ewald.js';
import { EWALD_STATUS } from '../../src/kernels/ewald-ts.js';
import { loadKernel } from '../../src/kernels/wasm.js';
import { createStructure, cartesian, volume, type Structure } from '../../src/structure/structure.js';
import { referenceRecords, referenceStructure } from '../helpers/reference.js';
import { rng, fmt, randomRotation as rotation, rotate } from '../helpers/random.js';


function relClose(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b), 1e-1);
}

/** Random triclinic cell, n sites (≥ 0.5 Å apart, createStructure's check), integer charges summing to zero. */
function randomStructure(rand: () => number, n: number): Structure {
  for (;;) {
    const lat = [3 + 3 * rand(), 0, 0, (rand() - 0.5) * 3, 3 + 3 * rand(), 0, (rand() - 0.5) * 3, (rand() - 0.5) * 3, 3 + 3 * rand()];
    const frac: number[] = [];
    for (let i = 0; i < 3 * n; i++) frac.push(rand() * 1.4 - 0.2);
    const q: number[] = [];
    for (let i = 0; i < n - 1; i++) q.push(Math.round(rand() * 6 - 3));
    q.push(-q.reduce((x, y) => x + y, 0));
    try {
      return createStructure({ lattice: lat, species: Array(n).fill('F'), frac, oxidationStates: q });
    } catch {
      // overlapping draw: try again
    }
  }
}


function byId(id: string): Structure {
  return referenceStructure(referenceRecords().find((r) => r.id === id)!, true);
}

test('rotation and translation leave total and site energies unchanged (random triclinic cells)', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const rand = rng(seed);
    const s = randomStructure(rand, 3 + Math.floor(rand() * 12));
    const R = rotation(rand);
    const t = [rand() * 10 - 5, rand() * 10 - 5, rand() * 10 - 5];
    const cart = rotate(R, cartesian(s));
    for (let k = 0; k < cart.length; k++) cart[k]! += t[k % 3]!;
    const moved = createStructure({ lattice: rotate(R, s.lattice), species: s.species, cart, oxidationStates: s.oxidationStates });
    const ctx = `seed ${seed}, rotation [${fmt(R)}], translation [${fmt(t)}]`;
    const acc = [3, 12][seed % 2]!;
    const a = ewald(s, { accFactor: acc });
    const b = ewald(moved, { accFactor: acc });
    assert.ok(relClose(a.totalEnergyEv, b.totalEnergyEv, 1e-11), `total ${a.totalEnergyEv} vs ${b.totalEnergyEv}: ${ctx}`);
    for (let i = 0; i < s.species.length; i++) {
      assert.ok(relClose(a.siteEnergiesEv![i]!, b.siteEnergiesEv![i]!, 1e-11), `site ${i}: ${a.siteEnergiesEv![i]} vs ${b.siteEnergiesEv![i]}: ${ctx}`);
    }
  }
});

test('WASM and TS twin agree to 1e-12 on random triclinic cells, incl. cutoffs of several cell heights', () => {
  for (let seed = 11; seed <= 22; seed++) {
    const rand = rng(seed);
    const s = randomStructure(rand, 2 + Math.floor(rand() * 10));
    // Cutoffs from 1/3 to ~4 cell heights; η from the pymatgen default scaled by 0.3 … 3.
    const base = ewaldParameters(s.species.length, volume(s), { accFactor: 3 + 9 * rand() });
    const p = { eta: base.eta * (0.3 + 2.7 * rand()), realCutoffAng: 2 + 18 * rand(), recipCutoff: base.recipCutoff * (0.5 + rand()) };
    const ctx = `seed ${seed}, eta ${p.eta.toPrecision(17)}, rmax ${p.realCutoffAng.toPrecision(17)}, gmax ${p.recipCutoff.toPrecision(17)}`;
    const pos = cartesian(s);
    const q = s.oxidationStates!;
    const w = ewaldEnergyWasm(s.lattice, pos, q, p, true);
    const t = ewaldEnergyTs(s.lattice, pos, q, p, true);
    for (const k of ['real', 'recip', 'point'] as const) assert.ok(relClose(w[k], t[k], 1e-12), `${k}: wasm ${w[k]} ts ${t[k]}: ${ctx}`);
    for (let i = 0; i < q.length; i++) {
      assert.ok(relClose(w.sites![i]!, t.sites![i]!, 1e-12), `site ${i}: ${ctx}`);
      const sw = ewaldSiteEnergyWasm(s.lattice, pos, q, i, p);
      const st = ewaldSiteEnergyTs(s.lattice, pos, q, i, p);
      assert.ok(relClose(sw.real + sw.recip + sw.point, w.sites![i]!, 1e-11), `single site ${i} vs all-sites: ${ctx}`);
      assert.ok(relClose(st.real + st.recip + st.point, sw.real + sw.recip + sw.point, 1e-12), `single site ${i} wasm vs ts: ${ctx}`);
    }
    // Σ site energies = real + reciprocal + point (neutral cell: no background term).
    const sum = w.sites!.reduce((x, y) => x + y, 0);
    assert.ok(relClose(sum, w.real + w.recip + w.point, 1e-11), `Σ site vs parts: ${ctx}`);
  }
});

test('a 2×2×2 supercell at the same η and cutoffs has exactly 8× the energy and the same site energies', () => {
  for (const id of ['CaF2_prim_skewed', 'CeF3', 'CaF2_1x1x2']) {
    const s = byId(id);
    const n = s.species.length;
    const frac: number[] = [];
    const species: string[] = [];
    const oxi: number[] = [];
    const lat = s.lattice;
    for (let i = 0; i < n; i++)
      for (let a = 0; a < 2; a++)
        for (let b = 0; b < 2; b++)
          for (let c = 0; c < 2; c++) {
            frac.push((s.frac[3 * i]! + a) / 2, (s.frac[3 * i + 1]! + b) / 2, (s.frac[3 * i + 2]! + c) / 2);
            species.push(s.species[i]!);
            oxi.push(s.oxidationStates![i]!);
          }
    const big = createStructure({ lattice: Array.from(lat, (x) => 2 * x), species, frac, oxidationStates: oxi }, { allowLeftHanded: true, checkOverlap: false });
    const p = ewaldParameters(n, volume(s), { accFactor: 8 });
    const opts = { eta: p.eta, realCutoffAng: p.realCutoffAng, recipCutoff: p.recipCutoff };
    const e1 = ewald(s, opts);
    const e8 = ewald(big, opts);
    assert.ok(relClose(e8.realSpaceEnergyEv + e8.reciprocalSpaceEnergyEv + e8.pointEnergyEv, 8 * (e1.realSpaceEnergyEv + e1.reciprocalSpaceEnergyEv + e1.pointEnergyEv), 1e-10), `${id}: ${e8.totalEnergyEv} vs 8 × ${e1.totalEnergyEv}`);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 8; k++) assert.ok(relClose(e8.siteEnergiesEv![8 * i + k]!, e1.siteEnergiesEv![i]!, 1e-10), `${id}: site ${i} image ${k}`);
    }
  }
});

test('another setting of the same lattice (unimodular shear a′ = a + b − c) gives the same energies at fixed parameters', () => {
  const s = byId('CaF2');
  const L = s.lattice;
  // New rows: a' = a + b - c, b' = b, c' = c; fractional coordinates transform with the inverse.
  const L2 = [L[0]! + L[3]! - L[6]!, L[1]! + L[4]! - L[7]!, L[2]! + L[5]! - L[8]!, L[3]!, L[4]!, L[5]!, L[6]!, L[7]!, L[8]!];
  const s2 = createStructure({ lattice: L2, species: s.species, cart: cartesian(s), oxidationStates: s.oxidationStates });
  const p = ewaldParameters(s.species.length, volume(s), { accFactor: 6 });
  const a = ewald(s, { eta: p.eta, realCutoffAng: p.realCutoffAng, recipCutoff: p.recipCutoff });
  const b = ewald(s2, { eta: p.eta, realCutoffAng: p.realCutoffAng, recipCutoff: p.recipCutoff });
  assert.ok(relClose(a.totalEnergyEv, b.totalEnergyEv, 1e-12), `${a.totalEnergyEv} vs ${b.totalEnergyEv}`);
  for (let i = 0; i < s.species.length; i++) assert.ok(relClose(a.siteEnergiesEv![i]!, b.siteEnergiesEv![i]!, 1e-12), `site ${i}`);
});

test('converged energies do not depend on the cell: primitive and conventional LiF per formula unit', () => {
  const prim = ewald(byId('LiF_prim'));
  const conv = ewald(byId('LiF'));
  const nPrim = prim.siteEnergiesEv!.length, nConv = conv.siteEnergiesEv!.length;
  assert.ok(relClose(prim.totalEnergyEv / nPrim, conv.totalEnergyEv / nConv, 1e-9), `${prim.totalEnergyEv / nPrim} vs ${conv.totalEnergyEv / nConv}`);
});

test('ewaldSiteEnergyParts: the parts add up to the site energy; options that skip site energies', () => {
  const s = byId('CaF2');
  const parts = ewaldSiteEnergyParts(s, 4, { accFactor: 4 });
  assert.ok(parts.point < 0 && parts.real < 0);
  assert.equal(parts.real + parts.recip + parts.point, ewaldSiteEnergy(s, 4, { accFactor: 4 }));
  const e = ewald(s, { siteEnergies: false });
  assert.equal(e.siteEnergiesEv, null);
  assert.ok(relClose(e.totalEnergyEv, ewald(s).totalEnergyEv, 1e-13));
  // oxidationStates option replaces the structure's: doubling all charges quadruples the energy.
  const doubled = ewald(s, { oxidationStates: Array.from(s.oxidationStates!, (q) => 2 * q), eta: 0.3, realCutoffAng: 10, recipCutoff: 5 });
  const plain = ewald(s, { eta: 0.3, realCutoffAng: 10, recipCutoff: 5 });
  assert.ok(relClose(doubled.totalEnergyEv, 4 * plain.totalEnergyEv, 1e-13));
});

// ---------------------------------------------------------------- validation: every branch

const caf2 = () => byId('CaF2');
const P: EwaldParameters = { eta: 0.2, realCutoffAng: 8, recipCutoff: 4 };

test('missing oxidation states: a clear error saying how to provide them', () => {
  const rec = referenceRecords().find((r) => r.id === 'CaF2')!;
  const s = referenceStructure(rec, false);
  assert.throws(() => ewald(s), (e: Error) => {
    assert.ok(e instanceof MissingOxidationStatesError);
    assert.match(e.message, /structure CaF2 has no oxidation states; give them in the file .*--oxi Ca=2,F=-1/);
    return true;
  });
  assert.throws(() => ewaldSiteEnergy(s, 0), MissingOxidationStatesError);
});

test('public-boundary validation: options, site index, backend, oxidation states', () => {
  const s = caf2();
  const cases: [() => unknown, RegExp][] = [
    [() => ewald(s, { accFactor: 0 }), /accFactor must be a positive finite number, got 0/],
    [() => ewald(s, { accFactor: NaN }), /accFactor must be a positive finite number, got NaN/],
    [() => ewald(s, { eta: -1 }), /eta must be a positive finite number, got -1/],
    [() => ewald(s, { realCutoffAng: Infinity }), /realCutoffAng must be a positive finite number, got Infinity/],
    [() => ewald(s, { recipCutoff: 0 }), /recipCutoff must be a positive finite number, got 0/],
    [() => ewald(s, { backend: 'gpu' as 'ts' }), /backend must be 'wasm' or 'ts', got gpu/],
    [() => ewald(s, { oxidationStates: [1, 2] }), /oxidationStates has 2 values for 12 sites/],
    [() => ewald(s, { oxidationStates: [NaN, ...Array(11).fill(0)] }), /oxidationStates\[0\] is NaN \(not a finite number\)/],
    [() => ewaldSiteEnergy(s, 12), /site index must be an integer in \[0, 11\], got 12/],
    [() => ewaldSiteEnergy(s, -1), /site index must be an integer in \[0, 11\], got -1/],
    [() => ewaldSiteEnergy(s, 1.5), /site index must be an integer in \[0, 11\], got 1.5/],
    [() => ewaldParameters(0, 10), /nSites must be a positive integer, got 0/],
    [() => ewaldParameters(4, -10), /volumeAng3 must be a positive finite number, got -10/],
  ];
  for (const [f, re] of cases) assert.throws(f, re);
});

test('kernel status codes become errors naming the input and its value (WASM and TS twin alike)', () => {
  const s = caf2();
  const pos = cartesian(s);
  const q = s.oxidationStates!;
  const nanPos = Float64Array.from(pos);
  nanPos[4] = NaN;
  const nanQ = Float64Array.from(q);
  nanQ[3] = Infinity;
  const thin = [0.01, 0, 0, 0, 5, 0, 0, 0, 5];
  const cases: [string, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, EwaldParameters, number, RegExp][] = [
    ['BAD_ETA', s.lattice, pos, q, { ...P, eta: 0 }, EWALD_STATUS.BAD_ETA, /eta must be a positive finite number \(Å⁻²\), got 0/],
    ['BAD_REAL_CUTOFF', s.lattice, pos, q, { ...P, realCutoffAng: NaN }, EWALD_STATUS.BAD_REAL_CUTOFF, /real-space cutoff must be a positive finite number of Å, got NaN/],
    ['BAD_RECIP_CUTOFF', s.lattice, pos, q, { ...P, recipCutoff: -2 }, EWALD_STATUS.BAD_RECIP_CUTOFF, /reciprocal-space cutoff must be a positive finite number \(Å⁻¹\), got -2/],
    ['SINGULAR_CELL', [1, 0, 0, 2, 0, 0, 0, 0, 1], pos, q, P, EWALD_STATUS.SINGULAR_CELL, /the cell is singular/],
    ['NONFINITE_POSITION', s.lattice, nanPos, q, P, EWALD_STATUS.NONFINITE_POSITION, /a position is NaN or infinite/],
    ['NONFINITE_CHARGE', s.lattice, pos, nanQ, P, EWALD_STATUS.NONFINITE_CHARGE, /a charge \(oxidation state\) is NaN or infinite/],
    ['TOO_MANY_IMAGES', thin, pos, q, P, EWALD_STATUS.TOO_MANY_IMAGES, /real-space cutoff 8 Å needs too many cell images \(more than 256 cell heights along one axis or 1048576 lattice translations in all\)/],
    // Within 256 heights per axis, but (2·61 + 1)³ > 2^20 translations.
    ['TOO_MANY_IMAGES (table)', [1, 0, 0, 0, 1, 0, 0, 0, 1], pos, q, { ...P, realCutoffAng: 60 }, EWALD_STATUS.TOO_MANY_IMAGES, /real-space cutoff 60 Å needs too many cell images/],
    ['TOO_MANY_G', s.lattice, pos, q, { ...P, recipCutoff: 400 }, EWALD_STATUS.TOO_MANY_G, /reciprocal-space cutoff 400 Å⁻¹ needs more than 256 reciprocal vectors/],
    ['BAD_COUNT', s.lattice, [], [], P, EWALD_STATUS.BAD_COUNT, /at least one site, got 0/],
  ];
  for (const [name, cell, x, qq, p, status, re] of cases) {
    for (const [backend, f] of [['wasm', ewaldEnergyWasm], ['ts', ewaldEnergyTs]] as const) {
      assert.throws(() => f(cell, x, qq, p, true), (e: Error) => {
        assert.ok(e instanceof EwaldStatusError, `${name} ${backend}: ${e.message}`);
        assert.equal(e.status, status, `${name} ${backend}`);
        assert.match(e.message, re, `${name} ${backend}`);
        return true;
      });
    }
  }
  for (const f of [ewaldSiteEnergyWasm, ewaldSiteEnergyTs]) {
    assert.throws(() => f(s.lattice, pos, q, 12, P), /site index must be an integer in \[0, 11\], got 12/);
    assert.throws(() => f(s.lattice, pos, q, -3, P), (e: Error) => e instanceof EwaldStatusError && e.status === EWALD_STATUS.BAD_SITE);
  }
  for (const f of [ewaldEnergyWasm, ewaldEnergyTs]) {
    assert.throws(() => f(s.lattice, pos.subarray(3), q, P, true), /33 position components for 12 charges \(expected 36\)/);
  }
  assert.throws(() => ewaldEnergyWasm([1, 0, 0, 0, 1, 0, 0, 0], pos, q, P, true), /cell has 8 numbers, expected 9/);
});

test('kernel refuses a scratch buffer smaller than ewaldScratchBytes asks for, and a bad site index', () => {
  const k = loadKernel('ewald');
  const s = caf2();
  const a = k.arena;
  a.reset();
  const cell = a.alloc(72);
  const pos = a.alloc(24 * 12);
  const q = a.alloc(8 * 12);
  const parts = a.alloc(24);
  a.writeF64(cell, s.lattice);
  a.writeF64(pos, cartesian(s));
  a.writeF64(q, s.oxidationStates!);
  const need = (k.exports['ewaldScratchBytes'] as (c: number, n: number, e: number, r: number, g: number) => number)(cell, 12, P.eta, P.realCutoffAng, P.recipCutoff);
  assert.ok(need > 0);
  const scratch = a.alloc(need);
  const energy = k.exports['ewaldEnergy'] as (...args: number[]) => number;
  const site = k.exports['ewaldSiteEnergy'] as (...args: number[]) => number;
  assert.equal(energy(cell, pos, q, 12, P.eta, P.realCutoffAng, P.recipCutoff, scratch, need - 8, parts, 0), EWALD_STATUS.SCRATCH_TOO_SMALL);
  assert.equal(site(cell, pos, q, 12, 0, P.eta, P.realCutoffAng, P.recipCutoff, scratch, need - 8, parts), EWALD_STATUS.SCRATCH_TOO_SMALL);
  assert.equal(site(cell, pos, q, 12, 12, P.eta, P.realCutoffAng, P.recipCutoff, scratch, need, parts), EWALD_STATUS.BAD_SITE);
  assert.equal(energy(cell, pos, q, 12, P.eta, P.realCutoffAng, P.recipCutoff, scratch, need, parts, 0), 0);
  const erfcBatch = k.exports['erfcBatch'] as (x: number, n: number, out: number) => number;
  assert.equal(erfcBatch(pos, -1, parts), EWALD_STATUS.BAD_COUNT);
});
