/**
 * The embedded store: one SQLite file (or `:memory:`) through better-sqlite3. This module is the only
 * importer of the database driver; everything else talks to the {@link Store} interface.
 *
 * Schema changes are numbered migrations, each recorded in `schema_migrations` in the same
 * transaction that applies it.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Structure } from '../structure/structure.js';
import { createStructure, density, formula, reducedFormula, siteCount, volume } from '../structure/structure.js';

export const CODE_VERSION = '0.1.0';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'structures',
    sql: `
      CREATE TABLE structures (
        id              INTEGER PRIMARY KEY,
        source_id       TEXT NOT NULL UNIQUE,
        dataset         TEXT NOT NULL,
        formula         TEXT NOT NULL,
        reduced_formula TEXT NOT NULL,
        nsites          INTEGER NOT NULL,
        volume_ang3     REAL NOT NULL,
        density_g_cm3   REAL NOT NULL,
        e_above_hull    REAL,
        formation_energy_per_atom REAL,
        lattice         BLOB NOT NULL,
        species         TEXT NOT NULL,
        frac_coords     BLOB NOT NULL,
        oxidation_states BLOB,
        info_json       TEXT NOT NULL,
        content_hash    TEXT NOT NULL,
        code_version    TEXT NOT NULL,
        created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
      CREATE INDEX structures_dataset ON structures (dataset);
      CREATE TABLE import_errors (
        id         INTEGER PRIMARY KEY,
        dataset    TEXT NOT NULL,
        source_id  TEXT,
        message    TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
    `,
  },
];

export interface StructureRow {
  sourceId: string;
  dataset: string;
  structure: Structure;
}

export interface ImportCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface DatasetSummary {
  dataset: string;
  structures: number;
  sites: number;
  minSites: number;
  maxSites: number;
  withEnergyAboveHull: number;
}

/** Content hash of a structure: SHA-256 over lattice, species, coordinates and oxidation states. */
export function structureHash(s: Structure): string {
  const h = createHash('sha256');
  h.update(Buffer.from(s.lattice.buffer, s.lattice.byteOffset, s.lattice.byteLength));
  h.update(s.species.join(' '));
  h.update(Buffer.from(s.frac.buffer, s.frac.byteOffset, s.frac.byteLength));
  if (s.oxidationStates) h.update(Buffer.from(s.oxidationStates.buffer, s.oxidationStates.byteOffset, s.oxidationStates.byteLength));
  return h.digest('hex');
}

function f64Blob(a: Float64Array): Buffer {
  return Buffer.from(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function blobF64(b: Buffer): Float64Array {
  // Copy: a Buffer from SQLite need not be 8-byte aligned for a Float64Array view.
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export class Store {
  readonly db: Database.Database;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('busy_timeout = 5000');
    if (path !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL,
      applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`);
    const done = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)').run(m.version, m.name);
        this.db.exec(m.sql);
      }).immediate();
    }
  }

  /** Applied schema versions, ascending. */
  schemaVersions(): number[] {
    return (this.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
  }

  /**
   * Insert or update structures by source id in one transaction. A row whose content hash is
   * unchanged is left alone; a changed one is updated in place (never duplicated).
   */
  upsertStructures(rows: readonly StructureRow[]): ImportCounts {
    const counts: ImportCounts = { inserted: 0, updated: 0, unchanged: 0 };
    const find = this.db.prepare('SELECT content_hash FROM structures WHERE source_id = ?');
    const insert = this.db.prepare(`INSERT INTO structures
      (source_id, dataset, formula, reduced_formula, nsites, volume_ang3, density_g_cm3, e_above_hull,
       formation_energy_per_atom, lattice, species, frac_coords, oxidation_states, info_json, content_hash, code_version)
      VALUES (@sourceId, @dataset, @formula, @reducedFormula, @nsites, @volume, @density, @eAboveHull,
       @formationEnergy, @lattice, @species, @frac, @oxi, @info, @hash, @codeVersion)
      ON CONFLICT (source_id) DO UPDATE SET dataset = excluded.dataset, formula = excluded.formula,
       reduced_formula = excluded.reduced_formula, nsites = excluded.nsites, volume_ang3 = excluded.volume_ang3,
       density_g_cm3 = excluded.density_g_cm3, e_above_hull = excluded.e_above_hull,
       formation_energy_per_atom = excluded.formation_energy_per_atom, lattice = excluded.lattice,
       species = excluded.species, frac_coords = excluded.frac_coords, oxidation_states = excluded.oxidation_states,
       info_json = excluded.info_json, content_hash = excluded.content_hash, code_version = excluded.code_version,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`);
    this.db.transaction(() => {
      for (const r of rows) {
        const s = r.structure;
        const hash = structureHash(s);
        const prev = find.get(r.sourceId) as { content_hash: string } | undefined;
        if (prev && prev.content_hash === hash) {
          counts.unchanged++;
          continue;
        }
        const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
        insert.run({
          sourceId: r.sourceId,
          dataset: r.dataset,
          formula: formula(s),
          reducedFormula: reducedFormula(s),
          nsites: siteCount(s),
          volume: volume(s),
          density: density(s),
          eAboveHull: num(s.info['e_above_hull'] ?? s.info['energy_above_hull']),
          formationEnergy: num(s.info['formation_energy_per_atom']),
          lattice: f64Blob(s.lattice),
          species: s.species.join(' '),
          frac: f64Blob(s.frac),
          oxi: s.oxidationStates ? f64Blob(s.oxidationStates) : null,
          info: JSON.stringify(s.info),
          hash,
          codeVersion: CODE_VERSION,
        });
        if (prev) counts.updated++;
        else counts.inserted++;
      }
    }).immediate();
    return counts;
  }

  /** Record an input that could not be imported (the rest of the import goes on). */
  recordImportError(dataset: string, sourceId: string | null, message: string): void {
    this.db.prepare('INSERT INTO import_errors (dataset, source_id, message) VALUES (?, ?, ?)').run(dataset, sourceId, message);
  }

  importErrors(): { dataset: string; sourceId: string | null; message: string }[] {
    return (this.db.prepare('SELECT dataset, source_id, message FROM import_errors ORDER BY id').all() as { dataset: string; source_id: string | null; message: string }[]).map((r) => ({
      dataset: r.dataset,
      sourceId: r.source_id,
      message: r.message,
    }));
  }

  /** Per-dataset counts of the structures table. */
  structureSummary(): DatasetSummary[] {
    return (
      this.db
        .prepare(`SELECT dataset, COUNT(*) AS structures, SUM(nsites) AS sites, MIN(nsites) AS minSites,
                  MAX(nsites) AS maxSites, COUNT(e_above_hull) AS withEnergyAboveHull
                  FROM structures GROUP BY dataset ORDER BY dataset`)
        .all() as DatasetSummary[]
    );
  }

  structureCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM structures').get() as { n: number }).n;
  }

  /** One stored structure by source id, or null. */
  getStructure(sourceId: string): Structure | null {
    const r = this.db.prepare('SELECT lattice, species, frac_coords, oxidation_states, info_json FROM structures WHERE source_id = ?').get(sourceId) as
      | { lattice: Buffer; species: string; frac_coords: Buffer; oxidation_states: Buffer | null; info_json: string }
      | undefined;
    if (!r) return null;
    return createStructure(
      {
        lattice: blobF64(r.lattice),
        species: r.species.split(' '),
        frac: blobF64(r.frac_coords),
        oxidationStates: r.oxidation_states ? blobF64(r.oxidation_states) : null,
        info: JSON.parse(r.info_json) as Record<string, unknown>,
      },
      { checkOverlap: false, allowLeftHanded: true },
    );
  }

  close(): void {
    this.db.close();
  }
}

/** Open (and migrate) the store at `path` (`:memory:` for a throw-away one). */
export function openStore(path: string): Store {
  return new Store(path);
}
