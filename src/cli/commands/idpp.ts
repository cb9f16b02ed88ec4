/** `fracflow idpp`: IDPP-relaxed images between two endpoint structures (pymatgen IDPPSolver semantics). */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { positiveNumber } from '../common.js';
import { readStructure, STRUCTURE_FORMATS, type StructureFormat } from '../../structure/io.js';
import { cartesian } from '../../structure/structure.js';
import { writeExtxyz } from '../../structure/extxyz.js';
import { fracToCart } from '../../structure/lattice.js';
import { idpp, IDPP_DEFAULTS, IDPP_FAST_DEFAULTS, IDPP_MODES, type IdppMode, type IdppOptions } from '../../kernels/idpp.js';
import { formatTable } from '../table.js';

function integerOption(name: string, min: number) {
  return (v: string): number => {
    const x = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(x) || x < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return x;
  };
}

function nonNegativeNumber(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || x < 0) throw new InvalidArgumentError(`${name} must be a number >= 0, got ${JSON.stringify(v)}`);
    return x;
  };
}

function speciesList(v: string): string[] {
  const list = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (list.length === 0) throw new InvalidArgumentError(`--species must list element symbols separated by commas, got ${JSON.stringify(v)}`);
  return list;
}

interface IdppCliOpts {
  idpp: IdppMode;
  images: number;
  maxiter?: number;
  tol?: number;
  gtol?: number;
  maxStep?: number;
  step: number;
  maxDisp: number;
  spring: number;
  species?: string[];
  mic?: boolean;
  minDistance: number;
  json?: boolean;
  format: 'text' | 'json' | 'extxyz';
  inputFormat?: StructureFormat;
  allowLeftHanded?: boolean;
  backend: 'wasm' | 'ts';
}

export function register(program: Command): void {
  const d = IDPP_DEFAULTS;
  program
    .command('idpp')
    .description('IDPP-relaxed path between two endpoints with the same sites in the same order (pymatgen-analysis-diffusion IDPPSolver, step for step)')
    .argument('<start>', 'start structure file')
    .argument('<end>', 'end structure file (same lattice and site order; the moving ion may lie outside the cell)')
    .addOption(new Option('--idpp <mode>', 'exact: pymatgen\'s IDPPSolver step for step; fast: the same objective converged with L-BFGS (independent of cell setting and last-bit rounding)').choices([...IDPP_MODES]).default('exact'))
    .option('--images <n>', 'interior images', integerOption('--images', 1), d.images)
    .option('--maxiter <n>', `iteration limit (default ${d.maxIter}; fast: force evaluations, ${IDPP_FAST_DEFAULTS.maxIter})`, integerOption('--maxiter', 0))
    .option('--tol <x>', `stop when the summed change of the objectives is below this … (default ${d.tol}; fast ${IDPP_FAST_DEFAULTS.tol})`, nonNegativeNumber('--tol'))
    .option('--gtol <x>', `… and the largest force component is below this (default ${d.gtol}; fast ${IDPP_FAST_DEFAULTS.gtol})`, nonNegativeNumber('--gtol'))
    .option('--step <x>', 'exact mode: step size (displacement = step × force)', positiveNumber('--step'), d.step)
    .option('--max-disp <angstrom>', 'exact mode: largest displacement of one coordinate per iteration, Å', positiveNumber('--max-disp'), d.maxDisplacementAng)
    .option('--max-step <angstrom>', `fast mode: largest displacement of one atom per step, Å (default ${IDPP_FAST_DEFAULTS.maxStepAng})`, positiveNumber('--max-step'))
    .option('--spring <k>', 'spring constant of the band', nonNegativeNumber('--spring'), d.spring)
    .option('--species <list>', 'only these elements move, e.g. F or Li,F (default: all sites)', speciesList)
    .option('--mic', 'interpolate along minimum-image displacements (end moved to the images nearest the start)')
    .option('--min-distance <angstrom>', 'refuse straight-line images with two atoms closer than this, Å (0: off)', nonNegativeNumber('--min-distance'), d.minDistanceAng)
    .option('--json', 'print {"images": [{"frac_coords": [...]}, ...], "iterations": n, "converged": bool} (same as --format json)')
    .addOption(new Option('--format <format>', 'output: a summary table, JSON, or a multi-frame extended XYZ trajectory').choices(['text', 'json', 'extxyz']).default('text'))
    .addOption(new Option('--input-format <format>', 'input format (default: detected from name and content)').choices([...STRUCTURE_FORMATS]))
    .option('--allow-left-handed', 'accept a lattice with negative determinant')
    .addOption(new Option('--backend <backend>', 'kernel').choices(['wasm', 'ts']).default('wasm'))
    .action((startFile: string, endFile: string, opts: IdppCliOpts) => {
      const read = (f: string) => readStructure(f, opts.inputFormat, { allowLeftHanded: opts.allowLeftHanded });
      const start = read(startFile);
      const end = read(endFile);
      const options: IdppOptions = {
        mode: opts.idpp,
        maxStepAng: opts.maxStep,
        images: opts.images,
        maxIter: opts.maxiter,
        tol: opts.tol,
        gtol: opts.gtol,
        step: opts.step,
        maxDisplacementAng: opts.maxDisp,
        spring: opts.spring,
        species: opts.species,
        mic: opts.mic === true,
        minDistanceAng: opts.minDistance,
        backend: opts.backend,
      };
      const r = idpp(start, end, options);
      const format = opts.json ? 'json' : opts.format;
      if (format === 'json') {
        const images = r.images.map((s) => {
          const frac: number[][] = [];
          for (let i = 0; i < s.species.length; i++) frac.push([s.frac[3 * i]!, s.frac[3 * i + 1]!, s.frac[3 * i + 2]!]);
          return { frac_coords: frac };
        });
        process.stdout.write(JSON.stringify({ images, iterations: r.iterations, converged: r.converged }) + '\n');
        return;
      }
      if (format === 'extxyz') {
        process.stdout.write(r.images.map((s) => writeExtxyz(s)).join(''));
        return;
      }
      // Summary: how far each image moved off the straight line, and where.
      const n = start.species.length;
      const m = r.images.length - 1;
      const rows = r.images.map((s, k) => {
        const x = k / m;
        const lin = fracToCart(start.lattice, r.images[0]!.frac.map((f, q) => (k === 0 ? f : k === m ? r.images[m]!.frac[q]! : f + x * (r.images[m]!.frac[q]! - f))));
        const cart = cartesian(s);
        let best = 0, at = 0;
        for (let i = 0; i < n; i++) {
          const dd = Math.hypot(cart[3 * i]! - lin[3 * i]!, cart[3 * i + 1]! - lin[3 * i + 1]!, cart[3 * i + 2]! - lin[3 * i + 2]!);
          if (dd > best) [best, at] = [dd, i];
        }
        return [String(k), best.toFixed(4), best > 0 ? `${at} (${start.species[at]})` : '-'];
      });
      const lines = [
        `IDPP${opts.idpp === 'fast' ? ' (fast mode)' : ''}: ${n} sites, ${r.images.length - 2} interior images, ${r.iterations} iterations, ${r.converged ? 'converged' : `not converged (maxiter ${opts.maxiter ?? (opts.idpp === 'fast' ? IDPP_FAST_DEFAULTS.maxIter : d.maxIter)})`}`,
        formatTable(['image', 'max shift from straight line (Å)', 'site'], rows),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
