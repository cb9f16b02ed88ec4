/** `fracflow symmetry`: space group, equivalence classes and Wyckoff letters of a structure file (moyo). */
import type { Command } from 'commander';
import { formatOption, loadStructure, type ReadOpts } from '../common.js';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_SYMPREC, symmetry } from '../../structure/symmetry.js';
import { formatTable } from '../table.js';

/** Parser of `--symprec`: a distance in (0, 1) Å; the message names the option and the value. */
export function symprecOption(v: string): number {
  const x = Number(v);
  if (!(Number.isFinite(x) && x > 0 && x < 1)) throw new InvalidArgumentError(`--symprec must be a distance in (0, 1) Å, got ${JSON.stringify(v)}`);
  return x;
}

export function register(program: Command): void {
  program
    .command('symmetry')
    .description('space group, operations, equivalent sites, Wyckoff letters and primitive cell (moyo)')
    .argument('<file>', 'structure file')
    .option('--symprec <angstrom>', 'distance tolerance, Å', symprecOption, DEFAULT_SYMPREC)
    .addOption(formatOption())
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .option('--json', 'print JSON')
    .action((file: string, opts: ReadOpts & { symprec: number; json?: boolean }) => {
      const s = loadStructure(file, opts);
      const sym = symmetry(s, { symprec: opts.symprec });
      const ops = [];
      for (let k = 0; k < sym.operationCount; k++) {
        const R = Array.from(sym.rotations.subarray(9 * k, 9 * k + 9));
        ops.push({ rotation: [R.slice(0, 3), R.slice(3, 6), R.slice(6, 9)], translation: Array.from(sym.translations.subarray(3 * k, 3 * k + 3)) });
      }
      const p = sym.primitiveStandard;
      const out = {
        id: s.info.id ?? null,
        symprec: sym.symprec,
        number: sym.number,
        symbol: sym.symbol,
        hall_number: sym.hallNumber,
        n_operations: sym.operationCount,
        operations: ops,
        equivalent_sites: sym.classes,
        wyckoff_letters: sym.wyckoffs,
        wyckoff_symbols: sym.classWyckoffSymbols,
        primitive_standard: {
          lattice: [Array.from(p.lattice.subarray(0, 3)), Array.from(p.lattice.subarray(3, 6)), Array.from(p.lattice.subarray(6, 9))],
          species: p.species,
          frac_coords: p.species.map((_, i) => Array.from(p.frac.subarray(3 * i, 3 * i + 3))),
        },
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(out) + '\n');
        return;
      }
      const lines = [
        `space group ${sym.symbol} (${sym.number}), Hall ${sym.hallNumber}, symprec ${sym.symprec} Å`,
        `${sym.operationCount} operations in the input cell; primitive standard cell: ${p.species.length} sites`,
        formatTable(['class', 'Wyckoff', 'element', 'sites'], sym.classes.map((c, k) => [String(k), sym.classWyckoffSymbols[k]!, s.species[c[0]!]!, c.join(' ')])),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
