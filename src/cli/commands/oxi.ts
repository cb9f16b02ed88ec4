/** `fracflow oxi`: oxidation states of a structure file, with the method that produced them. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { formatOption, loadStructure, type ReadOpts } from '../common.js';
import { reducedFormula } from '../../structure/structure.js';
import { oxidationStates, OXIDATION_METHODS, type OxidationMethod } from '../../analysis/oxidation.js';
import { formatTable } from '../table.js';

function methodList(v: string): OxidationMethod[] {
  const list = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (list.length === 0) throw new InvalidArgumentError(`--methods must list one or more of ${OXIDATION_METHODS.join(', ')}, got ${JSON.stringify(v)}`);
  for (const m of list) {
    if (!(OXIDATION_METHODS as readonly string[]).includes(m)) {
      throw new InvalidArgumentError(`--methods: unknown method ${JSON.stringify(m)} (choose from ${OXIDATION_METHODS.join(', ')})`);
    }
  }
  return list as OxidationMethod[];
}

function symprecValue(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !(x === 0 || (x > 0 && x < 1))) throw new InvalidArgumentError(`--symprec must be 0 (no symmetry) or a distance in (0, 1) Å, got ${JSON.stringify(v)}`);
  return x;
}

export function register(program: Command): void {
  program
    .command('oxi')
    .description('oxidation states: input states, else bond valence (pymatgen BVAnalyzer), else a composition guess')
    .argument('<file>', 'structure file')
    .addOption(formatOption())
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .option('--methods <list>', `methods to try, in order (comma-separated: ${OXIDATION_METHODS.join(',')})`, methodList)
    .option('--symprec <angstrom>', 'symmetry tolerance for equivalent sites (0 = none)', symprecValue, 0.1)
    .option('--json', 'print JSON: {id, formula, method, charge_balanced, skipped, oxidation_states, bv_sums}')
    .action((file: string, opts: ReadOpts & { methods?: OxidationMethod[]; symprec: number; json?: boolean }) => {
      const s = loadStructure(file, opts);
      const r = oxidationStates(s, { methods: opts.methods, symprec: opts.symprec });
      if (opts.json) {
        process.stdout.write(
          JSON.stringify({
            id: s.info.id ?? null,
            formula: reducedFormula(s),
            method: r.method,
            charge_balanced: r.chargeBalanced,
            skipped: r.skipped,
            species: s.species,
            oxidation_states: Array.from(r.states),
            bv_sums: r.bvSums ? Array.from(r.bvSums) : null,
          }) + '\n',
        );
        return;
      }
      const lines = [`${reducedFormula(s)}: oxidation states by ${r.method}${r.chargeBalanced ? '' : ' (not charge balanced)'}`];
      for (const k of r.skipped) lines.push(`  skipped ${k.method}: ${k.reason}`);
      lines.push(formatTable(['site', 'element', 'oxidation state', ...(r.bvSums ? ['BV sum'] : [])], s.species.map((sp, i) => [
        String(i), sp, String(r.states[i]), ...(r.bvSums ? [r.bvSums[i]!.toFixed(4)] : []),
      ])));
      process.stdout.write(lines.join('\n') + '\n');
    });
}
