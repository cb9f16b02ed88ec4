/**
 * `fracflow descriptors FILE`: the DDI descriptors of the shortest distinct hops of an ion (one row per
 * pathway), as a table or, with `--json`, one JSON object per line with the store's snake_case columns.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { basename } from 'node:path';
import { formatOption, loadStructure, positiveNumber, type ReadOpts } from '../common.js';
import { DEFAULT_HOP_LIMIT, DEFAULT_MAX_LENGTH_ANG, type HopEquivalence } from '../../analysis/pathfinder.js';
import { equivalenceOption } from './paths.js';
import { pathwayDescriptors, type PathwayDescriptors } from '../../analysis/descriptors.js';
import { formatTable } from '../table.js';
import { addLargeInputOptions, progressLines, type LargeInputOpts } from '../progress.js';
import { IDPP_MODES, type IdppMode } from '../../kernels/idpp.js';

function nonNegativeInteger(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
}

function num(x: number | null, digits: number): string {
  return x === null ? '–' : x.toFixed(digits);
}

function tableRow(r: PathwayDescriptors): string[] {
  return [
    String(r.hop_index),
    r.length.toFixed(4),
    String(r.multiplicity),
    `${r.nsites_777}/${r.nsites_101010}/${r.nsites_121212}`,
    r.oxidation_state === null ? '–' : String(r.oxidation_state),
    String(r.dimensionality),
    String(r.dimensionality_cumlengths),
    r.dimensionality_cumbarriers === null ? '–' : String(r.dimensionality_cumbarriers),
    num(r.ewald_energy, 5),
    num(r.ionic_radii_overlap_cations, 4),
    num(r.ionic_radii_overlap_anions, 4),
  ];
}

export function register(program: Command): void {
  addLargeInputOptions(program
    .command('descriptors')
    .description('DDI descriptors of the shortest distinct hops of an ion: dimensionality, Ewald energy and radii overlap along IDPP images')
    .argument('<file>', 'structure file')
    .option('--ion <element>', 'migrating element', 'F')
    .option('--max-length <angstrom>', 'maximum hop length, Å', positiveNumber('--max-length'), DEFAULT_MAX_LENGTH_ANG)
    .option('--limit <n>', 'keep the n shortest distinct hops (0 = all)', nonNegativeInteger('--limit'), DEFAULT_HOP_LIMIT)
    .option('--supercell-min <angstrom>', 'supercell rule length for the images (floor(L / a_i) + 1 per axis), Å', positiveNumber('--supercell-min'), 7)
    .option('--no-sanitize', 'keep the given cell (default: primitive, LLL-reduced, wrapped)')
    .addOption(equivalenceOption())
    .addOption(new Option('--idpp <mode>', 'IDPP of the images: exact (pymatgen\'s IDPPSolver, the DDI numbers) or fast (converged L-BFGS, independent of cell setting and format)').choices([...IDPP_MODES]).default('exact'))
    .addOption(formatOption())
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .option('--json', 'one JSON object per pathway per line (snake_case columns)'))
    .action((file: string, opts: ReadOpts & LargeInputOpts & { ion: string; maxLength: number; limit: number; supercellMin: number; sanitize: boolean; equivalence: HopEquivalence; idpp: IdppMode; json?: boolean }) => {
      const s = loadStructure(file, opts);
      const progress = progressLines('descriptors', opts.progress ? opts.progressAfter : null);
      const rows = pathwayDescriptors(s, {
        ion: opts.ion,
        maxLengthAng: opts.maxLength,
        limit: opts.limit,
        sanitize: opts.sanitize,
        supercellMinLengthAng: opts.supercellMin,
        maxSites: opts.maxSites,
        equivalence: opts.equivalence,
        onProgress: progress.onProgress,
        idpp: opts.idpp,
      });
      progress.finish();
      const id = s.info.id ?? basename(file);
      if (opts.json) {
        process.stdout.write(rows.map((r) => JSON.stringify({ structure_id: id, ...r })).join('\n') + (rows.length ? '\n' : ''));
        return;
      }
      const reasons = rows.flatMap((r) =>
        (['oxidation_reason', 'ewald_reason', 'ionic_radii_overlap_cations_reason', 'ionic_radii_overlap_anions_reason'] as const)
          .filter((k) => r[k] !== null)
          .map((k) => `  hop ${r.hop_index} ${k.replace(/_reason$/, '')}: ${r[k]}`),
      );
      const first = rows[0];
      const lines = [
        `${id}: ${rows.length} ${opts.ion} pathways up to ${opts.maxLength} Å (equivalence ${opts.equivalence}` +
          (first ? `; percolation 1D/2D/3D at ${[first.percolation_1d, first.percolation_2d, first.percolation_3d].map((x) => num(x, 4)).join('/')} Å; oxidation states: ${first.oxidation_method ?? 'none'}` : '') +
          ')',
        formatTable(['#', 'length (Å)', 'mult', 'nsites 7/10/12', 'oxi', 'dim', 'dim cum', 'dim cumE', 'ewald', 'overlap cat', 'overlap an'], rows.map(tableRow)),
        ...(reasons.length ? ['null values:', ...reasons] : []),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
