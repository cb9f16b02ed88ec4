#!/usr/bin/env node
/**
 * The `fracflow` command line. Each command lives in src/cli/commands/<name>.ts and registers itself
 * on the program; this file only assembles them (commander wiring only; the work lives in the
 * library modules).
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import * as run from './commands/run.js';
import * as screen from './commands/screen.js';
import * as importCmd from './commands/import.js';
import * as info from './commands/info.js';
import * as neighbors from './commands/neighbors.js';
import * as ewald from './commands/ewald.js';
import * as supercell from './commands/supercell.js';
import * as overlap from './commands/overlap.js';
import * as oxi from './commands/oxi.js';
import * as symmetry from './commands/symmetry.js';
import * as paths from './commands/paths.js';
import * as idpp from './commands/idpp.js';
import * as descriptors from './commands/descriptors.js';
import * as engine from './commands/engine.js';
import * as calc from './commands/calc.js';
import * as status from './commands/status.js';
import * as errors from './commands/errors.js';
import * as requeue from './commands/requeue.js';
import * as submit from './commands/submit.js';
import * as scale from './commands/scale.js';
import * as cleanup from './commands/cleanup.js';
import * as reset from './commands/reset.js';
import * as checkpoint from './commands/checkpoint.js';
import * as exportCmd from './commands/export.js';
import * as serve from './commands/serve.js';
import * as plot from './commands/plot.js';

const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** The commands, in the order `fracflow --help` lists them. */
const COMMANDS: { register(program: Command): void }[] = [
  screen, run, importCmd, info, neighbors, symmetry, oxi, paths, descriptors, ewald, supercell, idpp, overlap,
  engine, calc, status, errors, requeue, submit, scale, cleanup, reset, checkpoint, exportCmd, serve, plot,
];

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fracflow')
    .description('Screen ion-migration pathways in crystals with a fractured hierarchical workflow')
    .version(version)
    .showHelpAfterError();
  for (const c of COMMANDS) c.register(program);
  return program;
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
