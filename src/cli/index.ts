#!/usr/bin/env node
/**
 * The `fracflow` command line (commander wiring only; the work lives in the library modules).
 */
import { Command, Option, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { packageRoot } from '../paths.js';
import { join } from 'node:path';
import { readStructure, STRUCTURE_FORMATS, type StructureFormat } from '../structure/io.js';
import { density, formula, reducedFormula, siteCount, volume } from '../structure/structure.js';
import { latticeParameters } from '../structure/lattice.js';
import { neighborList } from '../kernels/neighbors.js';
import { openStore } from '../engine/store.js';
import { importBundled, importFiles, type ImportReport } from '../stages/import.js';
import { BUNDLED_DATASETS } from '../structure/bundled.js';
import { formatTable } from './table.js';

const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

function positiveNumber(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got ${JSON.stringify(v)}`);
    return x;
  };
}

const formatOption = () => new Option('--format <format>', 'input format (default: detected from name and content)').choices([...STRUCTURE_FORMATS]);
const dbOption = () => new Option('--db <path>', 'store: SQLite file or :memory:').default('fracflow.db');

interface ReadOpts {
  format?: StructureFormat;
  allowLeftHanded?: boolean;
}

function load(file: string, opts: ReadOpts) {
  return readStructure(file, opts.format, { allowLeftHanded: opts.allowLeftHanded });
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fracflow')
    .description('Screen ion-migration pathways in crystals with a fractured hierarchical workflow')
    .version(version)
    .showHelpAfterError();

  program
    .command('run')
    .description('the main job on the bundled data: import every bundled fluoride structure into the store and print a summary')
    .addOption(dbOption())
    .option('--datasets <names>', `comma-separated bundled datasets (${BUNDLED_DATASETS.map((d) => d.name).join(', ')})`, BUNDLED_DATASETS.filter((d) => d.default).map((d) => d.name).join(','))
    .action((opts: { db: string; datasets: string }) => {
      const store = openStore(opts.db);
      try {
        const reports: ImportReport[] = [];
        for (const name of opts.datasets.split(',').map((s) => s.trim()).filter(Boolean)) reports.push(importBundled(store, name));
        printImport(reports);
        printSummary(store);
        console.log(`store: ${opts.db}`);
      } finally {
        store.close();
      }
    });

  program
    .command('import')
    .description('import structure files (CIF, POSCAR, pymatgen JSON, MP documents, extxyz) into the store')
    .argument('<files...>', 'structure files')
    .addOption(dbOption())
    .option('--dataset <name>', 'dataset name recorded with each structure', 'user')
    .addOption(formatOption())
    .action((files: string[], opts: { db: string; dataset: string; format?: StructureFormat }) => {
      const store = openStore(opts.db);
      try {
        const r = importFiles(store, files, opts.dataset, opts.format);
        printImport([r]);
        if (r.failed > 0) {
          for (const e of store.importErrors().slice(-r.failed)) console.error(`failed: ${e.message}`);
          process.exitCode = 1;
        }
      } finally {
        store.close();
      }
    });

  program
    .command('info')
    .description('formula, sites, lattice, volume and density of a structure file')
    .argument('<file>', 'structure file')
    .addOption(formatOption())
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .option('--json', 'print JSON')
    .action((file: string, opts: ReadOpts & { json?: boolean }) => {
      const s = load(file, opts);
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
      const s = load(file, opts);
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

  return program;
}

function printImport(reports: ImportReport[]): void {
  console.log(formatTable(
    ['dataset', 'inserted', 'updated', 'unchanged', 'failed'],
    reports.map((r) => [r.dataset, String(r.inserted), String(r.updated), String(r.unchanged), String(r.failed)]),
  ));
}

function printSummary(store: ReturnType<typeof openStore>): void {
  const rows = store.structureSummary();
  console.log('');
  console.log(formatTable(
    ['dataset', 'structures', 'sites', 'min sites', 'max sites', 'with E_hull'],
    rows.map((r) => [r.dataset, String(r.structures), String(r.sites), String(r.minSites), String(r.maxSites), String(r.withEnergyAboveHull)]),
  ));
  const errors = store.importErrors();
  if (errors.length > 0) {
    console.log('');
    console.log(`${errors.length} records could not be imported:`);
    for (const e of errors.slice(0, 20)) console.log(`  ${e.dataset} ${e.sourceId ?? ''}: ${e.message}`);
    if (errors.length > 20) console.log(`  … and ${errors.length - 20} more (table import_errors)`);
  }
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    const err = e as Error;
    console.error(`fracflow: ${err.message}`);
    process.exitCode = 2;
  }
}

const invokedDirectly = (() => {
  try {
    return import.meta.url === new URL(`file://${process.argv[1]}`).href || process.argv[1]?.endsWith('/fracflow');
  } catch {
    return false;
  }
})();
if (invokedDirectly) void main();
