/** `fracflow supercell`: a supercell by integer matrix, by the simmate/DDI minimum-length rule, or near-cubic. */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { loadStructure, positiveNumber } from '../common.js';
import { STRUCTURE_FORMATS, writeStructure, type StructureFormat } from '../../structure/io.js';
import { minLengthScaling, nearCubicSupercellMatrix, supercell, supercellMatrix } from '../../kernels/supercell.js';

/** Output formats offered by the command (`json` = pymatgen `Structure.as_dict()`). */
export const SUPERCELL_OUTPUT_FORMATS = ['poscar', 'cif', 'json', 'extxyz'] as const;

/** Parses `--matrix "2 0 0 0 2 0 0 0 2"` (spaces and/or commas): 3 or 9 integers. */
export function parseMatrixOption(v: string): number[] {
  const tokens = v.trim().split(/[\s,]+/).filter((t) => t.length > 0);
  const nums = tokens.map(Number);
  if ((tokens.length !== 3 && tokens.length !== 9) || nums.some((x) => !Number.isInteger(x))) {
    throw new InvalidArgumentError(`--matrix must be 3 integers (diagonal) or 9 integers (row-major, rows = new lattice vectors), got ${JSON.stringify(v)}`);
  }
  return nums;
}

interface SupercellOpts {
  minLength?: number;
  matrix?: number[];
  nearCubic?: boolean;
  format: (typeof SUPERCELL_OUTPUT_FORMATS)[number];
  inputFormat?: StructureFormat;
  allowLeftHanded?: boolean;
  out?: string;
  backend: 'wasm' | 'ts';
}

export function register(program: Command): void {
  program
    .command('supercell')
    .description('write a supercell: by integer matrix, by the DDI rule floor(L / a_i) + 1, or the smallest near-cubic cell with every height >= L')
    .argument('<file>', 'structure file')
    .option('--min-length <angstrom>', 'minimum length L, Å: scale_i = floor(L / a_i) + 1 (with --near-cubic: every perpendicular height >= L)', positiveNumber('--min-length'))
    .option('--matrix <integers>', 'scaling matrix: "na nb nc" or 9 integers row-major (rows = new lattice vectors in terms of the old ones)', parseMatrixOption)
    .option('--near-cubic', 'with --min-length: the smallest supercell whose three perpendicular heights are all >= L')
    .addOption(new Option('--format <format>', 'output format').choices([...SUPERCELL_OUTPUT_FORMATS]).default('poscar'))
    .addOption(new Option('--input-format <format>', 'input format (default: detected from name and content)').choices([...STRUCTURE_FORMATS]))
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .option('--out <file>', 'write to this file instead of stdout')
    .addOption(new Option('--backend <backend>', 'kernel').choices(['wasm', 'ts']).default('wasm'))
    .action((file: string, opts: SupercellOpts) => {
      if ((opts.minLength === undefined) === (opts.matrix === undefined)) {
        throw new InvalidArgumentError('give exactly one of --min-length <angstrom> or --matrix <integers>');
      }
      if (opts.nearCubic && opts.minLength === undefined) throw new InvalidArgumentError('--near-cubic needs --min-length <angstrom>');
      const s = loadStructure(file, { format: opts.inputFormat, allowLeftHanded: opts.allowLeftHanded });
      let matrix: number[];
      if (opts.matrix) matrix = supercellMatrix(opts.matrix);
      else if (opts.nearCubic) matrix = nearCubicSupercellMatrix(s, opts.minLength!);
      else matrix = supercellMatrix(minLengthScaling(s, opts.minLength!));
      const sc = supercell(s, matrix, { backend: opts.backend });
      const text = writeStructure(sc, opts.format);
      process.stderr.write(`supercell: matrix [${matrix.join(' ')}], ${sc.species.length} sites\n`);
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    });
}
