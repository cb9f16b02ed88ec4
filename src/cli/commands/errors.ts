/**
 * `fracflow errors [STAGE | import_errors]`: failed rows of the stages and inputs that could not be
 * imported, grouped by their cause (the key, structure id and paths moved out of the message), with
 * example keys and paths.
 */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueueStore } from '../../store/index.js';
import { importErrorGroups, IMPORT_ERRORS } from '../../store/sqlite/diffusion.js';
import type { ErrorGroup } from '../../store/interface.js';

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
    .action(async (stage: string | undefined, opts: { json?: boolean; db: string }) => {
      const store = openQueueStore(opts.db, { readonly: true });
      try {
        const groups = stage === IMPORT_ERRORS ? importErrorGroups(store) : [...(await store.errorGroups(stage)), ...(stage === undefined ? importErrorGroups(store) : [])];
        if (opts.json) console.log(JSON.stringify(groups));
        else if (groups.length === 0) console.log(stage === IMPORT_ERRORS ? 'no import errors' : 'no failed rows');
        else for (const g of groups) console.log(describe(g));
      } finally {
        await store.close();
      }
    });
}
