/** `fracflow info`: formula, sites, lattice, volume and density of a structure file. */
import type { Command } from 'commander';
import { formatOption, loadStructure, type ReadOpts } from '../common.js';
import { density, formula, reducedFormula, siteCount, volume } from '../../structure/structure.js';
import { latticeParameters } from '../../structure/lattice.js';

export function register(program: Command): void {
  program
    .command('info')
    .description('formula, sites, lattice, volume and density of a structure file')
    .argument('<file>', 'structure file')
    .addOption(formatOption())
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .option('--json', 'print JSON')
    .action((file: string, opts: ReadOpts & { json?: boolean }) => {
      const s = loadStructure(file, opts);
      const p = latticeParameters(s.lattice);
      const info = {
        id: s.info.id ?? null,
        formula: formula(s),
        reduced_formula: reducedFormula(s),
        nsites: siteCount(s),
        lattice: [Array.from(s.lattice.subarray(0, 3)), Array.from(s.lattice.subarray(3, 6)), Array.from(s.lattice.subarray(6, 9))],
        abc: [p.a, p.b, p.c],
        angles: [p.alpha, p.beta, p.gamma],
        volume: volume(s),
        density: density(s),
        oxidation_states: s.oxidationStates ? Array.from(s.oxidationStates) : null,
      };
      if (opts.json) {
        console.log(JSON.stringify(info));
        return;
      }
      const f = (x: number, d = 6) => x.toFixed(d);
      console.log(`${info.reduced_formula} (${info.formula})${info.id ? `  id ${String(info.id)}` : ''}`);
      console.log(`sites    ${info.nsites}`);
      console.log(`abc      ${info.abc.map((x) => f(x)).join('  ')} Å`);
      console.log(`angles   ${info.angles.map((x) => f(x, 4)).join('  ')} °`);
      console.log(`volume   ${f(info.volume, 4)} Å³`);
      console.log(`density  ${f(info.density, 4)} g/cm³`);
      console.log('lattice (rows = lattice vectors, Å)');
      for (const row of info.lattice) console.log('  ' + row.map((x) => x.toFixed(8).padStart(14)).join(''));
      console.log('sites (fractional)');
      for (let i = 0; i < info.nsites; i++) {
        const ox = s.oxidationStates ? `  ${s.oxidationStates[i]! > 0 ? '+' : ''}${s.oxidationStates[i]}` : '';
        console.log(`  ${String(i).padStart(4)} ${s.species[i]!.padEnd(3)}${Array.from(s.frac.subarray(3 * i, 3 * i + 3), (x) => x.toFixed(6).padStart(11)).join('')}${ox}`);
      }
    });
}
