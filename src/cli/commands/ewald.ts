/** `fracflow ewald`: Ewald energy of a structure's point charges (pymatgen `EwaldSummation`). */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { formatOption, loadStructure, positiveNumber, type ReadOpts } from '../common.js';
import { isElement } from '../../structure/elements.js';
import type { Structure } from '../../structure/structure.js';
import { ewald, ewaldParameters, ewaldSiteEnergy, DEFAULT_ACC_FACTOR, type EwaldOptions } from '../../kernels/ewald.js';
import { volume } from '../../structure/structure.js';
import { formatTable } from '../table.js';
import { bondValenceStates } from '../../analysis/oxidation.js';

/** A parsed `--oxi` value: oxidation state per element, or `bv` (bond-valence assignment). */
export type OxiSpec = { kind: 'per-element'; states: Map<string, number> } | { kind: 'bv' };

const OXI_FORMAT = 'a comma-separated list of Element=charge (e.g. Ca=2,F=-1), or bv';

/**
 * Parses an `--oxi` value: `Ca=2,F=-1` (element symbols, signed integer or decimal charges) or `bv`
 * (bond-valence states as pymatgen BVAnalyzer assigns them). Throws commander's
 * InvalidArgumentError naming the value and the expected form.
 */
export function parseOxiOption(value: string): OxiSpec {
  if (value.trim() === 'bv') return { kind: 'bv' };
  const states = new Map<string, number>();
  const items = value.split(',').map((x) => x.trim());
  for (const item of items) {
    const m = /^([A-Z][a-z]?)\s*=\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))$/.exec(item);
    if (!m) throw new InvalidArgumentError(`--oxi must be ${OXI_FORMAT}, got ${JSON.stringify(value)}`);
    const el = m[1]!;
    if (!isElement(el)) throw new InvalidArgumentError(`--oxi: unknown element ${JSON.stringify(el)} in ${JSON.stringify(value)}`);
    if (states.has(el)) throw new InvalidArgumentError(`--oxi: element ${el} is given twice in ${JSON.stringify(value)}`);
    states.set(el, Number(m[2]!));
  }
  return { kind: 'per-element', states };
}

/** Per-site charges from an `--oxi` value; every element of the structure must be covered. */
export function oxidationStatesFromSpec(structure: Structure, spec: OxiSpec): Float64Array {
  if (spec.kind === 'bv') {
    try {
      return Float64Array.from(bondValenceStates(structure).valences);
    } catch (e) {
      throw new InvalidArgumentError(
        `--oxi bv: no bond-valence oxidation states for this structure (${(e as Error).message}); give them per element instead, e.g. --oxi Ca=2,F=-1`,
      );
    }
  }
  const q = new Float64Array(structure.species.length);
  structure.species.forEach((el, i) => {
    const v = spec.states.get(el);
    if (v === undefined) {
      throw new InvalidArgumentError(`--oxi gives no oxidation state for ${el}, which the structure contains (elements: ${[...new Set(structure.species)].join(', ')})`);
    }
    q[i] = v;
  });
  return q;
}

interface EwaldCliOpts extends ReadOpts {
  accuracy: number;
  oxi?: OxiSpec;
  site?: number;
  eta?: number;
  realCutoff?: number;
  recipCutoff?: number;
  backend: 'wasm' | 'ts';
  json?: boolean;
}

function siteIndex(v: string): number {
  const x = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(x)) throw new InvalidArgumentError(`--site must be a site index (integer ≥ 0), got ${JSON.stringify(v)}`);
  return x;
}

export function register(program: Command): void {
  program
    .command('ewald')
    .description('Ewald energy of the oxidation states as point charges (pymatgen EwaldSummation): total and per-site energies, eV')
    .argument('<file>', 'structure file (oxidation states are read from it when present)')
    .option('--accuracy <acc>', `accuracy factor: significant figures of each sum (pymatgen acc_factor)`, positiveNumber('--accuracy'), DEFAULT_ACC_FACTOR)
    .option('--oxi <spec>', 'oxidation states per element, e.g. Ca=2,F=-1, or bv for bond-valence states (replaces those in the file)', parseOxiOption)
    .option('--site <i>', "only this site's energy (O(N) work, no total)", siteIndex)
    .option('--eta <eta>', 'screening parameter η, Å⁻² (default: pymatgen formula)', positiveNumber('--eta'))
    .option('--real-cutoff <angstrom>', 'real-space cutoff, Å (default accf/√η)', positiveNumber('--real-cutoff'))
    .option('--recip-cutoff <inv-angstrom>', 'reciprocal-space cutoff, Å⁻¹ (default 2·√η·accf)', positiveNumber('--recip-cutoff'))
    .addOption(formatOption())
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .addOption(new Option('--backend <backend>', 'kernel').choices(['wasm', 'ts']).default('wasm'))
    .option('--json', 'print {"eta", "real_space_cut", "recip_space_cut", "total_energy", "site_energies": [...]} (with --site: "site", "site_energy")')
    .action((file: string, opts: EwaldCliOpts) => {
      const s = loadStructure(file, opts);
      const options: EwaldOptions = {
        accFactor: opts.accuracy,
        eta: opts.eta,
        realCutoffAng: opts.realCutoff,
        recipCutoff: opts.recipCutoff,
        backend: opts.backend,
      };
      if (opts.oxi) options.oxidationStates = oxidationStatesFromSpec(s, opts.oxi);
      const n = s.species.length;
      if (opts.site !== undefined) {
        if (opts.site >= n) throw new InvalidArgumentError(`--site must be below the number of sites (${n}), got ${opts.site}`);
        const energy = ewaldSiteEnergy(s, opts.site, options);
        const p = ewaldParameters(n, volume(s), options);
        if (opts.json) {
          process.stdout.write(JSON.stringify({ eta: p.eta, real_space_cut: p.realCutoffAng, recip_space_cut: p.recipCutoff, acc_factor: p.accFactor, site: opts.site, site_energy: energy }) + '\n');
          return;
        }
        process.stdout.write(
          [
            `Ewald site energy (acc_factor ${p.accFactor}, η = ${p.eta.toPrecision(10)} Å⁻², real cutoff ${p.realCutoffAng.toPrecision(10)} Å, reciprocal cutoff ${p.recipCutoff.toPrecision(10)} Å⁻¹)`,
            `site ${opts.site} (${s.species[opts.site]}): ${energy.toFixed(8)} eV`,
          ].join('\n') + '\n',
        );
        return;
      }
      const e = ewald(s, options);
      const sites = Array.from(e.siteEnergiesEv!);
      if (opts.json) {
        process.stdout.write(
          JSON.stringify({
            eta: e.eta,
            real_space_cut: e.realCutoffAng,
            recip_space_cut: e.recipCutoff,
            acc_factor: e.accFactor,
            total_energy: e.totalEnergyEv,
            real_space_energy: e.realSpaceEnergyEv,
            reciprocal_space_energy: e.reciprocalSpaceEnergyEv,
            point_energy: e.pointEnergyEv,
            charged_cell_energy: e.chargedCellEnergyEv,
            net_charge: e.netCharge,
            site_energies: sites,
          }) + '\n',
        );
        return;
      }
      const q = options.oxidationStates ?? s.oxidationStates!;
      const lines = [
        `Ewald summation (acc_factor ${e.accFactor}, η = ${e.eta.toPrecision(10)} Å⁻², real cutoff ${e.realCutoffAng.toPrecision(10)} Å, reciprocal cutoff ${e.recipCutoff.toPrecision(10)} Å⁻¹)`,
        `total energy      ${e.totalEnergyEv.toFixed(8)} eV`,
        `  real space      ${e.realSpaceEnergyEv.toFixed(8)} eV`,
        `  reciprocal      ${e.reciprocalSpaceEnergyEv.toFixed(8)} eV`,
        `  point (self)    ${e.pointEnergyEv.toFixed(8)} eV`,
        `  charged cell    ${e.chargedCellEnergyEv.toFixed(8)} eV (net charge ${e.netCharge})`,
        formatTable(['site', 'element', 'charge', 'energy (eV)'], sites.map((v, i) => [String(i), s.species[i]!, String(q[i]), v.toFixed(8)])),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
