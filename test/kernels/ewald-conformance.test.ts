/**
 * Conformance of the Ewald kernel with pymatgen 2022.11.7 `EwaldSummation` (reference data in
 * test/fixtures/reference/ewald, see its README) on every reference structure at acc_factor 12, 4
 * and 3: η and cutoffs to 1e-12, total / real / reciprocal / point / charged-cell energies and
 * every site energy to 1e-9 relative (1e-10 eV absolute near zero), the single-site path on a few
 * sites of each structure, and the WASM kernel against its TS twin to 1e-12.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ewald, ewaldSiteEnergy, EWALD_CONV_FACT } from '../../src/kernels/ewald.js';
import { createStructure } from '../../src/structure/structure.js';
import { referenceRecords, referenceStructure, readReferenceJson, referenceDir } from '../helpers/reference.js';

interface AccRef {
  eta: number;
  real_space_cut: number;
  recip_space_cut: number;
  total_energy: number;
  real_space_energy: number;
  reciprocal_space_energy: number;
  point_energy: number;
  charged_cell_energy: number;
  site_energies: number[];
}
interface EwaldRef {
  id: string;
  n_sites: number;
  net_charge: number;
  CONV_FACT: number;
  by_acc_factor: Record<string, AccRef>;
}

const REL = 1e-9;
const ABS = 1e-10;
function close(got: number, want: number, what: string, rel = REL): void {
  const tol = Math.max(rel * Math.abs(want), ABS);
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, pymatgen ${want} (|diff| ${Math.abs(got - want)} > ${tol})`);
}

/** The TS twin is checked on every structure up to this size (larger ones only take time). */
const TWIN_MAX_SITES = 200;

test('the conversion constant equals pymatgen CONV_FACT bit for bit', () => {
  const ref = readReferenceJson<EwaldRef>('ewald', 'CaF2.json')!;
  assert.equal(EWALD_CONV_FACT, ref.CONV_FACT);
});

const checked = new Set<string>();
for (const rec of referenceRecords()) {
  const ref = readReferenceJson<EwaldRef>('ewald', `${rec.id}.json`);
  if (!ref) continue;
  checked.add(rec.id);
  test(`Ewald matches pymatgen EwaldSummation: ${rec.id} (${rec.n_sites} sites)`, () => {
    const s = referenceStructure(rec, true);
    const n = rec.n_sites;
    let netCharge = 0;
    for (const q of rec.oxidation_states!) netCharge += q;
    assert.ok(Math.abs(netCharge - ref.net_charge) < 1e-12, 'net charge');
    for (const [acc, r] of Object.entries(ref.by_acc_factor)) {
      const where = `${rec.id} acc=${acc}`;
      const e = ewald(s, { accFactor: Number(acc) });
      close(e.eta, r.eta, `${where} eta`, 1e-12);
      close(e.realCutoffAng, r.real_space_cut, `${where} real_space_cut`, 1e-12);
      close(e.recipCutoff, r.recip_space_cut, `${where} recip_space_cut`, 1e-12);
      close(e.totalEnergyEv, r.total_energy, `${where} total_energy`);
      close(e.realSpaceEnergyEv, r.real_space_energy, `${where} real_space_energy`);
      close(e.reciprocalSpaceEnergyEv, r.reciprocal_space_energy, `${where} reciprocal_space_energy`);
      close(e.pointEnergyEv, r.point_energy, `${where} point_energy`);
      close(e.chargedCellEnergyEv, r.charged_cell_energy, `${where} charged_cell_energy`);
      assert.equal(e.siteEnergiesEv!.length, n);
      for (let i = 0; i < n; i++) close(e.siteEnergiesEv![i]!, r.site_energies[i]!, `${where} site ${i}`);
      // One site at a time, O(N): first, last and a middle site.
      for (const i of new Set([0, Math.floor(n / 2), n - 1])) {
        close(ewaldSiteEnergy(s, i, { accFactor: Number(acc) }), r.site_energies[i]!, `${where} ewaldSiteEnergy(${i})`);
      }
      if (n <= TWIN_MAX_SITES) {
        const t = ewald(s, { accFactor: Number(acc), backend: 'ts' });
        close(t.totalEnergyEv, e.totalEnergyEv, `${where} TS twin total`, 1e-12);
        close(t.realSpaceEnergyEv, e.realSpaceEnergyEv, `${where} TS twin real`, 1e-12);
        close(t.reciprocalSpaceEnergyEv, e.reciprocalSpaceEnergyEv, `${where} TS twin reciprocal`, 1e-12);
        for (let i = 0; i < n; i++) close(t.siteEnergiesEv![i]!, e.siteEnergiesEv![i]!, `${where} TS twin site ${i}`, 1e-12);
        close(ewaldSiteEnergy(s, n - 1, { accFactor: Number(acc), backend: 'ts' }), r.site_energies[n - 1]!, `${where} TS ewaldSiteEnergy(${n - 1})`);
      }
    }
  });
}

test('every Ewald reference file was checked', () => {
  const files = readdirSync(join(referenceDir, 'ewald')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  assert.equal(files.length, 69);
  // CaF2_2x2x2_Fvac carries its own structure (it is not in structures.jsonl): tested below.
  for (const id of files) assert.ok(checked.has(id) || id === 'CaF2_2x2x2_Fvac', `${id}.json was not checked`);
});

test('charged cell with one F vacancy (net charge +1) matches pymatgen at acc 12, 4, 3', () => {
  const ref = readReferenceJson<EwaldRef & { structure: { lattice: number[][]; species: string[]; frac_coords: number[][]; oxidation_states: number[] } }>('ewald', 'CaF2_2x2x2_Fvac.json')!;
  const st = ref.structure;
  const s = createStructure({ lattice: st.lattice, species: st.species, frac: st.frac_coords, oxidationStates: st.oxidation_states, info: { id: ref.id } });
  assert.equal(ref.net_charge, 1);
  for (const [acc, r] of Object.entries(ref.by_acc_factor)) {
    const where = `Fvac acc=${acc}`;
    for (const backend of ['wasm', 'ts'] as const) {
      const e = ewald(s, { accFactor: Number(acc), backend });
      assert.equal(e.netCharge, 1);
      close(e.totalEnergyEv, r.total_energy, `${where} ${backend} total_energy`);
      close(e.chargedCellEnergyEv, r.charged_cell_energy, `${where} ${backend} charged_cell_energy`);
      close(e.realSpaceEnergyEv, r.real_space_energy, `${where} ${backend} real_space_energy`);
      close(e.reciprocalSpaceEnergyEv, r.reciprocal_space_energy, `${where} ${backend} reciprocal_space_energy`);
      close(e.pointEnergyEv, r.point_energy, `${where} ${backend} point_energy`);
      e.siteEnergiesEv!.forEach((v, i) => close(v, r.site_energies[i]!, `${where} ${backend} site ${i}`));
      close(ewaldSiteEnergy(s, 0, { accFactor: Number(acc), backend }), r.site_energies[0]!, `${where} ${backend} ewaldSiteEnergy(0)`);
    }
  }
});

test('charged cell (one extra F- interstitial): the background term is in the total, not in the site energies', () => {
  const rec = referenceRecords().find((r) => r.id === 'CaF2_2x2x2_Fint')!;
  const ref = readReferenceJson<EwaldRef>('ewald', 'CaF2_2x2x2_Fint.json')!;
  assert.equal(ref.net_charge, -1);
  const e = ewald(referenceStructure(rec, true));
  assert.equal(e.netCharge, -1);
  assert.ok(e.chargedCellEnergyEv < -0.1, `charged-cell term ${e.chargedCellEnergyEv}`);
  close(e.chargedCellEnergyEv, ref.by_acc_factor['12.0']!.charged_cell_energy, 'charged_cell_energy');
  const sum = e.siteEnergiesEv!.reduce((a, b) => a + b, 0);
  close(sum, e.totalEnergyEv - e.chargedCellEnergyEv, 'Σ site = total − charged-cell term');
});

test('rock-salt NaCl (a = 5.64 Å, ±1): every site −4.4618 eV at convergence; Madelung constant 1.74756', () => {
  const frac: number[] = [];
  const species: string[] = [];
  const oxi: number[] = [];
  for (const [x, y, z] of [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]] as const) {
    species.push('Na', 'Cl');
    oxi.push(1, -1);
    frac.push(x, y, z, x + 0.5, y, z);
  }
  const a = 5.64;
  const s = createStructure({ lattice: [a, 0, 0, 0, a, 0, 0, 0, a], species, frac, oxidationStates: oxi });
  for (const backend of ['wasm', 'ts'] as const) {
    const e = ewald(s, { backend });
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(e.siteEnergiesEv![i]! + 4.4618) < 5e-5, `${backend} site ${i}: ${e.siteEnergiesEv![i]}`);
    assert.ok(Math.abs(ewaldSiteEnergy(s, 3, { backend }) + 4.4618) < 5e-5);
    // E per ion pair = −M·K/r0 with r0 = a/2: the Madelung constant of rock salt.
    const madelung = (-e.totalEnergyEv / 4) * (a / 2) / EWALD_CONV_FACT;
    assert.ok(Math.abs(madelung - 1.747565) < 1e-5, `Madelung constant ${madelung}`);
  }
});
