/**
 * `fracflow paths`: the symmetry-distinct migration hops of an ion; `fracflow path-images`: the images
 * along one of them (straight line or IDPP, optionally in a supercell) as extxyz, an overlaid CIF or
 * VASP NEB folders (00/POSCAR … NN/POSCAR).
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatOption, loadStructure, positiveNumber, type ReadOpts } from '../common.js';
import { STRUCTURE_FORMATS, type StructureFormat } from '../../structure/io.js';
import { writeStructure } from '../../structure/io.js';
import { DEFAULT_SYMPREC } from '../../structure/symmetry.js';
import { DEFAULT_HOP_LIMIT, DEFAULT_MAX_LENGTH_ANG, HOP_EQUIVALENCES, findHops, type FindHopsOptions, type HopEquivalence } from '../../analysis/pathfinder.js';
import { hopImages, hopsToJson, imagesToExtxyz, imagesToOverlayCif } from '../../analysis/hop-images.js';
import { formatTable } from '../table.js';
import { symprecOption } from './symmetry.js';
import { addLargeInputOptions, progressLines, type LargeInputOpts } from '../progress.js';

function nonNegativeInteger(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isInteger(x)) throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return x;
  };
}

function positiveInteger(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!/^\d+$/.test(v.trim()) || !(x >= 1)) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return x;
  };
}

interface HopOpts extends LargeInputOpts {
  ion: string;
  maxLength?: number;
  auto?: '1d' | '>1d';
  symprec: number;
  equivalence: HopEquivalence;
}

function hopOptions(o: HopOpts, limit: number): FindHopsOptions {
  if (o.auto !== undefined && o.maxLength !== undefined) {
    throw new InvalidArgumentError(`give either --max-length (${o.maxLength}) or --auto (${o.auto}), not both`);
  }
  const common = { ion: o.ion, limit, symprec: o.symprec, maxSites: o.maxSites, equivalence: o.equivalence };
  return o.auto !== undefined ? { ...common, auto: o.auto } : { ...common, maxLengthAng: o.maxLength ?? DEFAULT_MAX_LENGTH_ANG };
}

function addHopOptions(cmd: Command): Command {
  return addLargeInputOptions(
    cmd
      .option('--ion <element>', 'migrating element', 'F')
      .option('--max-length <angstrom>', `maximum hop length, Å (default ${DEFAULT_MAX_LENGTH_ANG})`, positiveNumber('--max-length'))
      .addOption(new Option('--auto <mode>', "automatic maximum length (DistinctPathFinder's perc_mode)").choices(['1d', '>1d']))
      .option('--symprec <angstrom>', 'symmetry tolerance, Å', symprecOption, DEFAULT_SYMPREC)
      .addOption(equivalenceOption())
      .option('--allow-left-handed', 'accept a lattice with negative determinant'),
  );
}

/**
 * `--equivalence fracflow|pymatgen`: which hops are distinct (findHops' `equivalence`). `fracflow`
 * merges the members of a symmetry orbit; `pymatgen` lists DistinctPathFinder's hops (the DDI set).
 */
export function equivalenceOption(): Option {
  return new Option('--equivalence <mode>', 'hop equivalence: fracflow merges every member of a symmetry orbit; pymatgen lists DistinctPathFinder\'s hops (the DDI pathway set)')
    .choices([...HOP_EQUIVALENCES])
    .default('fracflow');
}

export function register(program: Command): void {
  addHopOptions(
    program
      .command('paths')
      .description('symmetry-distinct migration hops of an ion, shortest first')
      .argument('<file>', 'structure file'),
  )
    .option('--limit <n>', `keep the n shortest hops (0 = all)`, nonNegativeInteger('--limit'), DEFAULT_HOP_LIMIT)
    .addOption(formatOption())
    .option('--json', 'print the hop list as JSON (read back with hopsFromJson)')
    .action((file: string, opts: ReadOpts & HopOpts & { limit: number; json?: boolean }) => {
      const s = loadStructure(file, opts);
      const progress = progressLines('paths', opts.progress ? opts.progressAfter : null);
      const res = findHops(s, { ...hopOptions(opts, opts.limit), onProgress: progress.onProgress });
      // The space group and Wyckoff letters are computed on first read (moyo on the primitive cell).
      progress.onProgress?.({ phase: 'space group and Wyckoff letters' });
      void res.spaceGroup;
      void res.classWyckoffSymbols;
      progress.finish();
      if (opts.json) {
        process.stdout.write(hopsToJson(res));
        return;
      }
      const f3 = (v: number[]) => v.map((x) => x.toFixed(4)).join(' ');
      const lines = [
        `${res.hops.length} of ${res.distinctCount} distinct ${res.ion} hops up to ${res.maxLengthAng} Å (space group ${res.spaceGroup.symbol} (${res.spaceGroup.number}), symprec ${res.symprec} Å, equivalence ${res.equivalence})`,
        formatTable(
          ['#', 'length (Å)', 'from', 'to', 'Wyckoff', 'mult', 'start (frac)', 'end (frac)'],
          res.hops.map((h) => [String(h.index), h.lengthAng.toFixed(6), String(h.startSite), String(h.endSite), `${h.startWyckoff}-${h.endWyckoff}`, String(h.multiplicity), f3(h.startFrac), f3(h.endFrac)]),
        ),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });

  addHopOptions(
    program
      .command('path-images')
      .description('images along one distinct hop (vacancy mechanism by default) as extxyz, overlaid CIF or VASP NEB folders')
      .argument('<file>', 'structure file'),
  )
    .requiredOption('--hop <k>', 'hop number in the list of `fracflow paths` (0 = shortest)', nonNegativeInteger('--hop'))
    .option('--images <n>', 'interior images', positiveInteger('--images'), 5)
    .option('--idpp [mode]', 'relax the interior images with IDPP: exact (pymatgen\'s IDPPSolver, the default when no mode is given) or fast (converged L-BFGS)')
    .option('--supercell-min <angstrom>', 'build a supercell with every lattice vector longer than this first, Å', positiveNumber('--supercell-min'))
    .option('--interstitial', 'interstitial mechanism: remove the other sites of the ion (default: vacancy)')
    .addOption(new Option('--format <format>', 'output format').choices(['extxyz', 'cif', 'poscar-dirs']).default('extxyz'))
    .addOption(new Option('--input-format <format>', 'input format (default: detected from name and content)').choices([...STRUCTURE_FORMATS]))
    .option('--out <path>', 'output file (extxyz, cif; default stdout) or folder (poscar-dirs, required)')
    .action((file: string, opts: HopOpts & {
      hop: number; images: number; idpp?: boolean | string; supercellMin?: number; interstitial?: boolean;
      format: 'extxyz' | 'cif' | 'poscar-dirs'; inputFormat?: StructureFormat; out?: string; allowLeftHanded?: boolean;
    }) => {
      if (opts.format === 'poscar-dirs' && !opts.out) throw new InvalidArgumentError('--format poscar-dirs needs --out <folder>');
      if (typeof opts.idpp === 'string' && opts.idpp !== 'exact' && opts.idpp !== 'fast') throw new InvalidArgumentError(`--idpp must be exact or fast, got ${JSON.stringify(opts.idpp)}`);
      const s = loadStructure(file, { format: opts.inputFormat, allowLeftHanded: opts.allowLeftHanded });
      const progress = progressLines('path-images', opts.progress ? opts.progressAfter : null);
      const res = findHops(s, { ...hopOptions(opts, 0), onProgress: progress.onProgress });
      const hop = res.hops[opts.hop];
      if (!hop) throw new InvalidArgumentError(`--hop ${opts.hop}: the structure has ${res.hops.length} distinct ${res.ion} hops up to ${res.maxLengthAng} Å (0 … ${res.hops.length - 1})`);
      progress.onProgress?.({ phase: `images of hop ${hop.index}${opts.idpp ? ' (IDPP)' : ''}` });
      const r = hopImages(s, hop, {
        images: opts.images,
        vacancyMode: !opts.interstitial,
        supercellMinLength: opts.supercellMin,
        idpp: opts.idpp === undefined ? false : { mode: opts.idpp === true ? 'exact' : opts.idpp as 'exact' | 'fast' },
      });
      progress.finish();
      if (opts.format === 'poscar-dirs') {
        const width = Math.max(2, String(r.images.length - 1).length);
        r.images.forEach((im, k) => {
          const dir = join(opts.out!, String(k).padStart(width, '0'));
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, 'POSCAR'), writeStructure(im, 'poscar'));
        });
        process.stderr.write(`wrote ${r.images.length} POSCAR folders under ${opts.out} (hop ${hop.index}, ${hop.lengthAng.toFixed(4)} Å, ${r.images[0]!.species.length} sites)\n`);
        return;
      }
      const text = opts.format === 'cif' ? imagesToOverlayCif(r.images) : imagesToExtxyz(r.images);
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });
}
