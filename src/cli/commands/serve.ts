/**
 * `fracflow serve`: the dashboard over a store (src/server). Read-only and on loopback by default;
 * `--allow-control` opens the store writable and prints the token the page must send with a control.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { accessSync, constants } from 'node:fs';
import { dbOption } from '../common.js';
import { isPostgresLocation, openDashboardStore } from '../../store/index.js';
import { startDashboard } from '../../server/server.js';

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

function portOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(v)}`);
  return n;
}

function hostOption(v: string): string {
  if (!/^[A-Za-z0-9.:-]+$/.test(v)) throw new InvalidArgumentError(`--host must be an address or host name, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * The indexes that keep the pathways table fast, made once on a store this process may write (a
 * read-only file, or a PostgreSQL user who does not own the tables, is served without them, slower
 * to sort on 50,000 rows).
 */
async function prepare(db: string): Promise<string[]> {
  if (!isPostgresLocation(db)) {
    try {
      accessSync(db, constants.W_OK);
    } catch {
      return [];
    }
  }
  const store = await openDashboardStore(db);
  try {
    return await store.prepareDashboard();
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('web dashboard over the store (SQLite or PostgreSQL): stages, queues, errors, the pathways table, a pathway in 3D with its profiles (read-only, loopback by default)')
    .addOption(dbOption())
    .option('--port <n>', 'port (0: any free one)', portOption, 8787)
    .option('--host <address>', 'interface to bind (default loopback; anything else exposes the store to the network)', hostOption, '127.0.0.1')
    .option('--allow-control', 'accept scale / priority / requeue / submit from the page, with the token printed at start')
    .action(async (opts: { db: string; port: number; host: string; allowControl?: boolean }) => {
      // Opened read-only first: a missing file or a store at another schema is refused before anything is written.
      await (await openDashboardStore(opts.db, { readonly: true })).close();
      const created = opts.db === ':memory:' ? [] : await prepare(opts.db);
      if (created.length) console.error(`serve: created ${created.length} indexes for the pathways table (${created.join(', ')})`);
      const store = await openDashboardStore(opts.db, { readonly: !opts.allowControl });
      const dash = await startDashboard({ store, host: opts.host, port: opts.port, allowControl: opts.allowControl === true }).catch(async (e: unknown) => {
        await store.close();
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE') throw new Error(`serve: port ${opts.port} on ${opts.host} is in use; pick another with --port`);
        throw e;
      });
      // Listen for the signals before the URL is printed: a caller that stops the server as soon as it
      // reads the URL must find the handler there (without one, SIGTERM kills the process outright).
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      if (!LOOPBACK.includes(opts.host)) console.error(`serve: listening on ${opts.host}, not loopback: anyone who reaches this address can read the store`);
      // The token first, so that a reader waiting for the URL line has it too.
      if (dash.token) console.log(`control token: ${dash.token}  (the page's controls send it; keep it to yourself)`);
      console.log(`dashboard: ${dash.url}/  (store ${store.location}, ${opts.allowControl ? 'controls on' : 'read-only'})`);
      await stopped;
      await dash.close();
      await store.close();
    });
}
