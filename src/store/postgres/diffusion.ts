/**
 * The diffusion workflow's store on PostgreSQL ({@link DiffusionStore}): `structures` and
 * `import_errors` in the same database as the engine's tables, the ranking and the calc report, with
 * the same results as the SQLite store (src/store/sqlite/diffusion.ts). Imports take a
 * transaction-scoped advisory lock, so two processes importing at once mark duplicates as one would.
 */
import { structureHash } from '../../structure/hash.js';
import { createStructure, type Structure } from '../../structure/structure.js';
import { blobF64, structureColumns, type CalcRow, type DatasetSummary, type DiffusionStore, type DuplicatePair, type ImportCounts, type ImportErrorRow, type ImportErrorSource, type RankedPathway, type RankingParams, type StructureRow } from '../diffusion.js';
import type { ErrorGroup } from '../interface.js';
import type { PgDb, PgTx } from './connection.js';
import { PgQueueStore } from './index.js';
import { importErrorGroups } from './ops.js';
import { lockName, tableColumns } from './ensure.js';

const NOW_TEXT = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export class PgDiffusionStore implements DiffusionStore {
  readonly queue: PgQueueStore;
  readonly location: string;
  private readonly db: PgDb;

  constructor(db: PgDb) {
    this.db = db;
    this.queue = new PgQueueStore(db);
    this.location = db.display;
  }

  async upsertStructures(rows: readonly StructureRow[]): Promise<ImportCounts & { duplicatePairs: DuplicatePair[] }> {
    return this.db.transaction(async (tx) => {
      await lockName(tx, 'structures');
      const counts: ImportCounts = { inserted: 0, updated: 0, unchanged: 0, duplicates: 0 };
      const duplicatePairs: DuplicatePair[] = [];
      const touched = new Set<string>();
      const written: string[] = [];
      const prevOf = new Map<string, string>();
      const ids = [...new Set(rows.map((r) => r.sourceId))];
      for (const r of await tx.all<{ source_id: string; content_hash: string }>('SELECT source_id, content_hash FROM structures WHERE source_id = ANY(@ids)', { ids })) prevOf.set(r.source_id, r.content_hash);
      for (const r of rows) {
        const hash = structureHash(r.structure);
        const prev = prevOf.get(r.sourceId);
        touched.add(hash);
        if (prev === hash) {
          counts.unchanged++;
          continue;
        }
        if (prev !== undefined) touched.add(prev);
        written.push(r.sourceId);
        const c = structureColumns(r, hash);
        await tx.run(
          `INSERT INTO structures
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
             updated_at = ${NOW_TEXT}`,
          c,
        );
        prevOf.set(r.sourceId, hash);
        if (prev !== undefined) counts.updated++;
        else counts.inserted++;
      }
      for (const h of touched) await markDuplicates(tx, h, written);
      const found = await tx.all<{ source_id: string; duplicate_of: string }>(
        'SELECT source_id, duplicate_of FROM structures WHERE duplicate_of IS NOT NULL AND source_id = ANY(@ids) ORDER BY id',
        { ids },
      );
      // In the order of the ids given, chunk by chunk as the SQLite store lists them.
      const rank = new Map(ids.map((id, k) => [id, Math.floor(k / 500)]));
      found.sort((a, b) => rank.get(a.source_id)! - rank.get(b.source_id)!);
      for (const f of found) duplicatePairs.push({ sourceId: f.source_id, duplicateOf: f.duplicate_of });
      counts.duplicates = duplicatePairs.length;
      return { ...counts, duplicatePairs };
    });
  }

  async recordImportError(dataset: string, sourceId: string | null, message: string, from: ImportErrorSource = {}): Promise<void> {
    await this.db.transaction((tx) =>
      tx.run('INSERT INTO import_errors (dataset, source_id, message, file, record, record_id) VALUES ($1, $2, $3, $4, $5, $6)', [dataset, sourceId, message, from.file ?? null, from.record ?? null, from.recordId ?? null]),
    );
  }

  async importErrors(sinceId = 0): Promise<ImportErrorRow[]> {
    const rows = await this.db.all<{ dataset: string; source_id: string | null; message: string; file: string | null; record: number | null; record_id: string | null }>(
      'SELECT dataset, source_id, message, file, record, record_id FROM import_errors WHERE id > $1 ORDER BY id',
      [sinceId],
    );
    return rows.map((r) => ({
      dataset: r.dataset,
      sourceId: r.source_id,
      message: r.message,
      ...(r.file !== null ? { file: r.file } : {}),
      ...(r.record !== null ? { record: r.record } : {}),
      ...(r.record_id !== null ? { recordId: r.record_id } : {}),
    }));
  }

  async lastImportErrorId(): Promise<number> {
    return (await this.db.all<{ n: number | null }>('SELECT MAX(id) AS n FROM import_errors'))[0]!.n ?? 0;
  }

  async structureSummary(): Promise<DatasetSummary[]> {
    return this.db.all<DatasetSummary>(`SELECT dataset, COUNT(*) AS structures, COUNT(duplicate_of) AS duplicates, SUM(nsites) AS sites, MIN(nsites) AS "minSites",
                  MAX(nsites) AS "maxSites", COUNT(e_above_hull) AS "withEnergyAboveHull"
                  FROM structures GROUP BY dataset ORDER BY dataset`);
  }

  async structureCount(): Promise<number> {
    return (await this.db.all<{ n: number }>('SELECT COUNT(*) AS n FROM structures'))[0]!.n;
  }

  async getStructure(sourceId: string): Promise<Structure | null> {
    const r = (await this.db.all<{ lattice: Buffer; species: string; frac_coords: Buffer; oxidation_states: Buffer | null; info_json: string }>(
      'SELECT lattice, species, frac_coords, oxidation_states, info_json FROM structures WHERE source_id = $1',
      [sourceId],
    ))[0];
    if (!r) return null;
    return createStructure(
      { lattice: blobF64(r.lattice), species: r.species.split(' '), frac: blobF64(r.frac_coords), oxidationStates: r.oxidation_states ? blobF64(r.oxidation_states) : null, info: JSON.parse(r.info_json) as Record<string, unknown> },
      { checkOverlap: false, allowLeftHanded: true },
    );
  }

  async importErrorGroups(): Promise<ErrorGroup[]> {
    return this.db.transaction((tx) => importErrorGroups(tx));
  }

  async topPathways(p: RankingParams, n: number): Promise<RankedPathway[]> {
    return this.db.transaction(async (tx) => {
      if ((await tableColumns(tx, 'images')).length === 0) return [];
      return tx.all<RankedPathway>(
        `SELECT i.key, i.state, d.structure_id, d.formula, d.hop_index, d.length, d.multiplicity, d.nsites, d.nsites_777,
                d.oxidation_state, d.dimensionality, d.dimensionality_cumlengths, d.dimensionality_cumbarriers,
                d.ewald_energy, d.ionic_radii_overlap_cations, d.ionic_radii_overlap_anions, i.out_dir
           FROM images i JOIN descriptors d ON d.key = i.key
           JOIN structures s ON s.source_id = d.structure_id AND s.content_hash = d.content_hash
          WHERE d.ion = @ion AND d.max_length = @maxLength AND d.hop_limit = @limit AND d.equivalence = @equivalence AND d.idpp = @idpp
          ORDER BY i.priority DESC, i.id LIMIT @n`,
        { ion: p.ion, maxLength: p.maxLengthAng, limit: p.limit, equivalence: p.equivalence, idpp: p.idpp, n },
      );
    });
  }

  async calcSource(table: string): Promise<{ columns: string[]; unfinished: number | null }> {
    return this.db.transaction(async (tx) => {
      const columns = await tableColumns(tx, table);
      const stage = columns.length > 0 && (await tx.get('SELECT 1 AS x FROM engine_stages WHERE name = @t', { t: table })) !== undefined;
      return { columns, unfinished: stage ? (await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE state IN ('pending', 'running')`))!.n : null };
    });
  }

  async calcRows(stage: 'calc_static' | 'calc_neb'): Promise<CalcRow[]> {
    return this.db.all<CalcRow>(`SELECT key, state, barrier_ev, energy_start_ev, energy_mid_ev, energy_end_ev, exit_code, last_error FROM ${stage} ORDER BY id`);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * Within one content hash: the row that was the original before this call and was not written by it
 * stays the original, else the lowest id; every other row names it in `duplicate_of`.
 */
async function markDuplicates(tx: PgTx, hash: string, written: readonly string[]): Promise<void> {
  const first =
    (await tx.get<{ id: number; source_id: string }>(
      'SELECT id, source_id FROM structures WHERE content_hash = @h AND duplicate_of IS NULL AND NOT (source_id = ANY(@w)) ORDER BY id LIMIT 1',
      { h: hash, w: [...written] },
    )) ?? (await tx.get<{ id: number; source_id: string }>('SELECT id, source_id FROM structures WHERE content_hash = @h ORDER BY id LIMIT 1', { h: hash }));
  if (!first) return;
  await tx.run('UPDATE structures SET duplicate_of = NULL WHERE id = @id AND duplicate_of IS NOT NULL', { id: first.id });
  await tx.run('UPDATE structures SET duplicate_of = @s WHERE content_hash = @h AND id <> @id AND duplicate_of IS DISTINCT FROM @s', { s: first.source_id, h: hash, id: first.id });
}
