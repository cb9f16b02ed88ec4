/**
 * The screen's results on the bundled `curated` dataset, as comparable rows: for each table the rows
 * by key with their state, error and the columns the science computes (no bookkeeping), output folders
 * relative to the run's folder, and a digest of every file each images row wrote.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { runScreen } from '../../src/workflow/screen.js';
import type { IdppMode } from '../../src/kernels/idpp.js';

export type Row = Record<string, unknown>;

export interface ScreenRows {
  dataset: string;
  tables: Record<'find_paths' | 'pathways' | 'descriptors' | 'images', Row[]>;
}

const COLUMNS = {
  find_paths: ['key', 'state', 'last_error', 'structure_id', 'space_group', 'sanitized_nsites', 'n_hops', 'distinct_hops', 'ion_fraction', 'nsites_777', 'nsites_101010', 'nsites_121212', 'dmin'],
  pathways: ['key', 'structure_id', 'space_group', 'nsites', 'hop_index', 'start_frac', 'end_frac', 'end_image', 'length', 'multiplicity', 'ion_fraction', 'nsites_777', 'nsites_101010', 'nsites_121212', 'dmin', 'length_rel_dmin'],
  descriptors: [
    'key', 'state', 'last_error', 'oxidation_state', 'oxidation_method', 'oxidation_reason', 'dimensionality', 'dimensionality_cumlengths', 'dimensionality_cumbarriers',
    'dimensionality_cumbarriers_reason', 'percolation_1d', 'percolation_2d', 'percolation_3d', 'supercell_scaling', 'n_sites_per_image', 'idpp_iterations', 'idpp_converged',
    'ewald_energy', 'ewald_reason', 'ionic_radii_overlap_cations', 'ionic_radii_overlap_cations_reason', 'ionic_radii_overlap_anions', 'ionic_radii_overlap_anions_reason',
  ],
  images: ['key', 'state', 'last_error', 'out_dir', 'files', 'supercell_scaling', 'n_sites_per_image'],
} as const;

/** JSON arrays stored as text (fractional coordinates, images) compare as numbers. */
const JSON_COLUMNS = new Set(['start_frac', 'end_frac', 'end_image']);

function digest(dir: string): string {
  const h = createHash('sha256');
  const files = (readdirSync(dir, { recursive: true, withFileTypes: true }) as { name: string; parentPath?: string; path?: string; isFile(): boolean }[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path ?? dir, e.name))
    .sort();
  for (const f of files) {
    h.update(relative(dir, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 32);
}

/**
 * Screen the bundled `curated` dataset into `dir` and read back its rows. The IDPP mode is always
 * named: the fixture holds the exact mode's rows (the DDI numbers), whatever the screen's default.
 */
export async function screenRows(dir: string, mode: 'fractured' | 'fixed', idpp: IdppMode = 'exact'): Promise<ScreenRows> {
  const db = join(dir, `${mode}-${idpp}.db`);
  const out = join(dir, `${mode}-${idpp}-out`);
  await runScreen({ db, source: { kind: 'bundled', datasets: ['curated'] }, outDir: out, mode, checkpoint: false, top: 0, idpp });
  const sql = openSql(db, { readonly: true });
  try {
    const tables = {} as ScreenRows['tables'];
    for (const [t, cols] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, readonly string[]][]) {
      tables[t] = sql.all<Row>(`SELECT ${cols.join(', ')} FROM ${t}`).map((r) => {
        for (const c of JSON_COLUMNS) if (typeof r[c] === 'string') r[c] = JSON.parse(r[c] as string);
        if (typeof r['out_dir'] === 'string') {
          r['files_digest'] = digest(r['out_dir'] as string);
          r['out_dir'] = relative(out, r['out_dir'] as string);
        }
        return r;
      }).sort((a, b) => String(a['key']).localeCompare(String(b['key'])));
    }
    return { dataset: 'curated', tables };
  } finally {
    sql.close();
  }
}
