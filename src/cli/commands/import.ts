/** `fracflow import`: import structure files, folders or the live Materials Project API into the store. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { dbOption, formatOption } from '../common.js';
import type { StructureFormat } from '../../structure/io.js';
import { isElement } from '../../structure/elements.js';
import { openStore } from '../../store/sqlite/diffusion.js';
import { importFiles, importMpApi, type ImportReport } from '../../workflow/import.js';
import type { MpRetryEvent } from '../../io/mp-api.js';
import { printImport } from '../report.js';
import { DEFAULT_READ_LIMITS, MAX_TEXT_BYTES, MIB } from '../../structure/limits.js';

interface ImportOpts {
  db: string;
  dataset?: string;
  format?: StructureFormat;
  recursive?: boolean;
  mpApi?: boolean;
  mpApiKey?: string;
  mpElement: string;
  mpBaseUrl?: string;
  mpMaxDocuments?: number;
  maxSites?: number;
  maxFileMb?: number;
}

function elementOption(v: string): string {
  if (!isElement(v)) throw new InvalidArgumentError(`--mp-element must be an element symbol, got ${JSON.stringify(v)}`);
  return v;
}

function positiveInteger(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const x = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(x) || x < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    if (x > max) throw new InvalidArgumentError(`${name} must be at most ${max}, got ${JSON.stringify(v)}`);
    return x;
  };
}

export function register(program: Command): void {
  program
    .command('import')
    .description('import structure files or folders (CIF, POSCAR, pymatgen JSON, MP documents, extxyz), or the live Materials Project API, into the store')
    .argument('[paths...]', 'structure files or folders')
    .addOption(dbOption())
    .option('--dataset <name>', 'dataset name recorded with each structure (default: user, or mp-api)')
    .addOption(formatOption())
    .option('-r, --recursive', 'descend into sub-folders of folder arguments')
    .option('--mp-api', 'query the live Materials Project API (key from --mp-api-key or MP_API_KEY)')
    .option('--mp-api-key <key>', 'Materials Project API key (implies --mp-api); default $MP_API_KEY')
    .option('--mp-element <symbol>', 'element every material must contain', elementOption, 'F')
    .option('--mp-base-url <url>', 'API server root (default https://api.materialsproject.org)')
    .option('--mp-max-documents <n>', 'stop after n documents', positiveInteger('--mp-max-documents'))
    .option('--max-sites <n>', `largest structure read, in sites (default ${DEFAULT_READ_LIMITS.maxSites})`, positiveInteger('--max-sites'))
    .option('--max-file-mb <n>', `largest file read, in MiB after decompression (default ${DEFAULT_READ_LIMITS.maxBytes / MIB}; at most ${Math.floor(MAX_TEXT_BYTES / MIB)})`, positiveInteger('--max-file-mb', Math.floor(MAX_TEXT_BYTES / MIB)))
    .action(async (paths: string[], opts: ImportOpts) => {
      const useApi = opts.mpApi === true || opts.mpApiKey !== undefined;
      if (!useApi && paths.length === 0) throw new InvalidArgumentError('give structure files or folders to import, or --mp-api / --mp-api-key');
      const limits = { maxSites: opts.maxSites, maxBytes: opts.maxFileMb === undefined ? undefined : opts.maxFileMb * MIB };
      const store = openStore(opts.db);
      try {
        const since = store.lastImportErrorId();
        const reports: ImportReport[] = [];
        if (paths.length > 0) reports.push(importFiles(store, paths, opts.dataset ?? 'user', opts.format, { recursive: opts.recursive, limits }));
        if (useApi) {
          reports.push(
            await importMpApi(
              store,
              { apiKey: opts.mpApiKey, element: opts.mpElement, baseUrl: opts.mpBaseUrl, maxDocuments: opts.mpMaxDocuments, onRetry: (e) => console.error(`mp-api: ${describeRetry(e)}`) },
              opts.dataset ?? 'mp-api',
            ),
          );
        }
        printImport(reports);
        const failed = store.importErrors(since);
        if (failed.length > 0) {
          for (const e of failed) console.error(`failed: ${e.sourceId ?? ''}: ${e.message}`);
          process.exitCode = 1;
        }
      } finally {
        store.close();
      }
    });
}

function describeRetry(e: MpRetryEvent): string {
  return `page ${e.page}: ${e.reason}; retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s`;
}
