/** `fracflow neighbors`: all directed neighbour pairs within a cutoff. */
import type { Command } from 'commander';
import { Option } from 'commander';
import { formatOption, loadStructure, positiveNumber, type ReadOpts } from '../common.js';
import { siteCount } from '../../structure/structure.js';
import { neighborList } from '../../kernels/neighbors.js';
import { formatTable } from '../table.js';

export function register(program: Command): void {
  program
    .command('neighbors')
    .alias('neighbours')
    .description('all directed neighbour pairs (i, j, S, d) within a cutoff, sorted by (i, j, S)')
    .argument('<file>', 'structure file')
    .requiredOption('--cutoff <angstrom>', 'cutoff radius, Å', positiveNumber('--cutoff'))
    .addOption(formatOption())
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .addOption(new Option('--backend <backend>', 'kernel').choices(['wasm', 'ts']).default('wasm'))
    .option('--json', 'print {"i": [...], "j": [...], "S": [[a,b,c], ...], "d": [...]}')
    .option('--csv', 'print CSV with columns i,j,Sa,Sb,Sc,d')
    .action((file: string, opts: ReadOpts & { cutoff: number; backend: 'wasm' | 'ts'; json?: boolean; csv?: boolean }) => {
      const s = loadStructure(file, opts);
      const nl = neighborList(s, opts.cutoff, { sorted: true, backend: opts.backend });
      if (opts.json) {
        const S: number[][] = [];
        for (let p = 0; p < nl.count; p++) S.push([nl.S[3 * p]!, nl.S[3 * p + 1]!, nl.S[3 * p + 2]!]);
        process.stdout.write(JSON.stringify({ i: Array.from(nl.i), j: Array.from(nl.j), S, d: Array.from(nl.d!) }) + '\n');
        return;
      }
      const lines: string[] = [];
      if (opts.csv) {
        lines.push('i,j,Sa,Sb,Sc,d');
        for (let p = 0; p < nl.count; p++) lines.push(`${nl.i[p]},${nl.j[p]},${nl.S[3 * p]},${nl.S[3 * p + 1]},${nl.S[3 * p + 2]},${nl.d![p]}`);
      } else {
        lines.push(`${nl.count} directed pairs within ${opts.cutoff} Å (${siteCount(s)} sites)`);
        lines.push(formatTable(['i', 'el_i', 'j', 'el_j', 'S', 'd (Å)'], Array.from({ length: nl.count }, (_, p) => [
          String(nl.i[p]), s.species[nl.i[p]!]!, String(nl.j[p]), s.species[nl.j[p]!]!,
          `${nl.S[3 * p]} ${nl.S[3 * p + 1]} ${nl.S[3 * p + 2]}`, nl.d![p]!.toFixed(8),
        ])));
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
