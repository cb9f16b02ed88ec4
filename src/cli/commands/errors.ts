/**
 * `fracflow errors [STAGE | import_errors]`: failed rows of the stages and inputs that could not be
 * imported, grouped by their cause (the key, structure id and paths moved out of the message), with
 * example keys and paths.
 */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openStore } from '../../store/sqlite/diffusion.js';
import { errorGroups, IMPORT_ERRORS, type ErrorGroup } from '../../store/sqlite/ops.js';

function describe(g: ErrorGroup): string {
  const head =
    g.stage === IMPORT_ERRORS
      ? `${IMPORT_ERRORS} (${g.dataset ?? '?'}): ${g.rows} ${g.rows === 1 ? 'input' : 'inputs'}: ${g.message}`
      : `${g.stage}: ${g.rows} rows (up to ${g.attempts} attempts): ${g.message}`;
  const lines = [head, `  e.g. ${g.examples.join(', ')}`];
  if (g.paths.length > 0) lines.push(`  ${g.stage === IMPORT_ERRORS ? 'files' : 'paths'}: ${g.paths.join(', ')}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('errors')
    .description(`failed rows and failed imports grouped by cause (key, structure id and paths moved out of the message), with up to three example keys and paths each`)
    .argument('[stage]', `one stage, or ${IMPORT_ERRORS} for the inputs that could not be imported (default: all)`)
    .option('--json', 'JSON instead of text')
    .addOption(dbOption())
    .action((stage: string | undefined, opts: { json?: boolean; db: string }) => {
      const store = openStore(opts.db, { readonly: true });
      try {
        const groups = errorGroups(store.sql, stage);
        if (opts.json) console.log(JSON.stringify(groups));
        else if (groups.length === 0) console.log(stage === IMPORT_ERRORS ? 'no import errors' : 'no failed rows');
        else for (const g of groups) console.log(describe(g));
      } finally {
        store.close();
      }
    });
}
