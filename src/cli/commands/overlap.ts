/** `fracflow overlap`: ionic-radii overlap of a moving site along a set of images. */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { positiveNumber } from '../common.js';
import { readStructures, STRUCTURE_FORMATS, type StructureFormat } from '../../structure/io.js';
import type { Structure } from '../../structure/structure.js';
import { radiiOverlap } from '../../kernels/overlap.js';
import { formatTable } from '../table.js';

function siteIndex(v: string): number {
  const x = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(x)) throw new InvalidArgumentError(`--site must be a site index (0, 1, 2, ...), got ${JSON.stringify(v)}`);
  return x;
}

interface OverlapOpts {
  site: number;
  cutoff: number;
  json?: boolean;
  format?: StructureFormat;
  allowLeftHanded?: boolean;
  backend: 'wasm' | 'ts';
}

export function register(program: Command): void {
  program
    .command('overlap')
    .description('ionic-radii overlap of a moving site with its cation / anion / neutral neighbours along images (multi-frame extxyz, or several files in order)')
    .argument('<files...>', 'image files, in path order (each may hold several frames)')
    .requiredOption('--site <index>', 'index of the moving site (0-based)', siteIndex)
    .option('--cutoff <angstrom>', 'neighbour cutoff, Å', positiveNumber('--cutoff'), 8)
    .option('--json', 'print the result as JSON')
    .addOption(new Option('--format <format>', 'input format (default: detected from name and content)').choices([...STRUCTURE_FORMATS]))
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .addOption(new Option('--backend <backend>', 'kernel').choices(['wasm', 'ts']).default('wasm'))
    .action((files: string[], opts: OverlapOpts) => {
      const images: Structure[] = [];
      for (const f of files) images.push(...readStructures(f, opts.format, { allowLeftHanded: opts.allowLeftHanded }));
      const r = radiiOverlap(images, opts.site, { cutoffAng: opts.cutoff, backend: opts.backend });
      if (opts.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      const v = (x: number | null) => (x === null ? '-' : x.toFixed(6));
      const lines = [
        `moving site ${r.movingSite} (${r.movingSpecies}, r = ${r.movingRadiusAng === null ? 'none' : `${r.movingRadiusAng} Å`}), ${r.nImages} images, cutoff ${r.cutoffAng} Å`,
        formatTable(
          ['image', 'cation max Å', 'anion max Å', 'neutral max Å'],
          Array.from({ length: r.nImages }, (_, k) => [String(k), v(r.cations.maxPerImage[k]!), v(r.anions.maxPerImage[k]!), v(r.neutral.maxPerImage[k]!)]),
        ),
      ];
      for (const [name, kr] of [['cations', r.cations], ['anions', r.anions], ['neutral', r.neutral]] as const) {
        lines.push(`largest change, ${name}: ${kr.change === null ? `null (${kr.changeReason})` : `${kr.change.toFixed(6)} Å`}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
