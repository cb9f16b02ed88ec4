/**
 * Options and helpers shared by the CLI commands (commander wiring only).
 */
import { Option, InvalidArgumentError } from 'commander';
import { readStructure, STRUCTURE_FORMATS, type StructureFormat } from '../structure/io.js';
import { DEFAULT_DB } from '../store/location.js';

/** Parser for a strictly positive number option; the message names the option and the value. */
export function positiveNumber(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got ${JSON.stringify(v)}`);
    return x;
  };
}

/** `--format`: force the input format. */
export const formatOption = () => new Option('--format <format>', 'input format (default: detected from name and content)').choices([...STRUCTURE_FORMATS]);

/**
 * `--db`: the store — an SQLite file, `:memory:`, or `postgres://user@host:port/db` (the password from
 * PGPASSWORD, PGPASSFILE/~/.pgpass or the URL; PGHOST, PGPORT, PGUSER, PGDATABASE fill in what the URL
 * leaves out); `FRACFLOW_DB` when the option is not given.
 */
export const dbOption = () =>
  new Option('--db <location>', 'store: SQLite file, :memory:, or postgres://user@host:port/db').env('FRACFLOW_DB').default(DEFAULT_DB);

export interface ReadOpts {
  format?: StructureFormat;
  allowLeftHanded?: boolean;
}

/** Read the structure file named on the command line. */
export function loadStructure(file: string, opts: ReadOpts) {
  return readStructure(file, opts.format, { allowLeftHanded: opts.allowLeftHanded });
}
