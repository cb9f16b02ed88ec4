/**
 * The dashboard's small test store — the screen's stages over four small structures of
 * test/stages/fixtures/structures (fluorite CaF2 and rutile MgF2 reach the images stage; NaCl fails
 * find_paths with "ion F has no sites", a row the errors page must show) — and a dashboard started
 * over it and always closed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScreen } from '../../src/workflow/screen.js';
import { openDashboardStore } from '../../src/store/index.js';
import { startDashboard, type Dashboard, type DashboardOptions } from '../../src/server/server.js';

export const FIXTURE_STRUCTURES = join(import.meta.dirname, '..', 'stages', 'fixtures', 'structures');

/**
 * Screen the four fixture structures into a new store (an SQLite file `dbName` in a new folder, or
 * the PostgreSQL database `db`); returns the store's location, the folder and the output folder in it.
 */
export async function screenedStore(options: { db?: string; dbName?: string } = {}): Promise<{ dir: string; db: string; outDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-dash-'));
  const db = options.db ?? join(dir, options.dbName ?? 'screen.db');
  const outDir = join(dir, 'out');
  // The exact IDPP mode, whose rows the dashboard tests were written on (the screen's default is fast).
  await runScreen({ db, source: { kind: 'files', paths: [FIXTURE_STRUCTURES] }, outDir, checkpoint: false, workers: 1, idpp: 'exact' });
  return { dir, db, outDir };
}

/** Run `fn` with a dashboard over the store at `db`, either backend (read-only unless `allowControl`); both closed after, even on failure. */
export async function withDashboard<T>(db: string, options: Omit<DashboardOptions, 'store'>, fn: (d: Dashboard) => Promise<T>): Promise<T> {
  const store = await openDashboardStore(db, { readonly: options.allowControl !== true });
  try {
    const d = await startDashboard({ port: 0, pollMs: 200, ...options, store });
    try {
      return await fn(d);
    } finally {
      await d.close();
    }
  } finally {
    await store.close();
  }
}
