/**
 * The diffusion workflow's store, asynchronous, one interface for every backend: its own tables —
 * `structures` (one row per imported structure, dataset-qualified source id, content hash, content
 * duplicates marked) and `import_errors` — its queries over the screen's stage tables (the ranking,
 * the calc report), and the engine's queue verbs on the same database ({@link DiffusionStore.queue}).
 * Implementations: src/store/sqlite/diffusion.ts (over the synchronous `Store`) and
 * src/store/postgres/diffusion.ts. Open one with `openStores(location)` (src/store/index.ts).
 */
import type { Structure } from '../structure/structure.js';
import { density, formula, reducedFormula, siteCount, volume } from '../structure/structure.js';
import type { ErrorGroup, QueueStore } from './interface.js';

/** The code version recorded with each stored structure. */
export const CODE_VERSION = '0.1.0';

export interface StructureRow {
  sourceId: string;
  dataset: string;
  structure: Structure;
}

export interface ImportCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  /**
   * Of the rows written or found unchanged, those whose content equals a structure imported
   * earlier under another source id (`duplicate_of` set): kept, and not screened again.
   */
  duplicates: number;
}

/** A structure whose content equals an earlier one's. */
export interface DuplicatePair {
  sourceId: string;
  duplicateOf: string;
}

/** Where an import error comes from (columns of `import_errors`). */
export interface ImportErrorSource {
  /** The file, as given or found in a folder. */
  file?: string;
  /** 0-based record, data block or frame within the file; absent when the whole file failed. */
  record?: number;
  /** The record's own id (material_id, block name) when known. */
  recordId?: string;
}

export interface ImportErrorRow extends ImportErrorSource {
  dataset: string;
  sourceId: string | null;
  message: string;
}

export interface DatasetSummary {
  dataset: string;
  structures: number;
  /** Structures whose content equals an earlier-imported one's. */
  duplicates: number;
  sites: number;
  minSites: number;
  maxSites: number;
  withEnergyAboveHull: number;
}

/** One row of a screen's ranking: a pathway that reached the images stage, with its descriptors. */
export interface RankedPathway {
  key: string;
  state: string;
  structure_id: string;
  formula: string;
  hop_index: number;
  length: number;
  multiplicity: number;
  nsites: number;
  nsites_777: number;
  oxidation_state: number | null;
  dimensionality: number;
  dimensionality_cumlengths: number;
  dimensionality_cumbarriers: number | null;
  ewald_energy: number | null;
  ionic_radii_overlap_cations: number | null;
  ionic_radii_overlap_anions: number | null;
  out_dir: string | null;
}

/** One row of a calc stage as `fracflow calc` reports it. */
export interface CalcRow {
  key: string;
  state: string;
  barrier_ev: number | null;
  energy_start_ev: number | null;
  energy_mid_ev: number | null;
  energy_end_ev: number | null;
  exit_code: number | null;
  last_error: string | null;
}

/** The ranking's parameters: those of the screen (ion, maxLength, limit) and its IDPP mode. */
export interface RankingParams {
  ion: string;
  maxLengthAng: number;
  limit: number;
  /** Hop equivalence mode of the pathways (`fracflow`, `pymatgen`). */
  equivalence: string;
  idpp: string;
}

export interface DiffusionStore {
  /** Where the store lives: a file path, `:memory:`, or a URL without its password. */
  readonly location: string;
  /** The engine's queue verbs on the same database. */
  readonly queue: QueueStore;
  /**
   * Insert or update structures by source id in one transaction. A row whose content hash is
   * unchanged is left alone; a changed one is updated in place (never duplicated). Within each
   * content hash one row is the original and every other row's `duplicate_of` names it (the original
   * of a content stays the original while it holds that content; a content without one takes its
   * lowest-id row). `duplicatePairs` lists the rows of this call that are duplicates.
   */
  upsertStructures(rows: readonly StructureRow[]): Promise<ImportCounts & { duplicatePairs: DuplicatePair[] }>;
  /** Record an input that could not be imported (the rest of the import goes on). */
  recordImportError(dataset: string, sourceId: string | null, message: string, from?: ImportErrorSource): Promise<void>;
  /** The rows of `import_errors` in the order recorded; `sinceId` leaves out rows up to that id. */
  importErrors(sinceId?: number): Promise<ImportErrorRow[]>;
  /** Highest id of `import_errors` so far (0 when empty). */
  lastImportErrorId(): Promise<number>;
  /** Per-dataset counts of the structures table. */
  structureSummary(): Promise<DatasetSummary[]>;
  structureCount(): Promise<number>;
  /** One stored structure by source id, or null. */
  getStructure(sourceId: string): Promise<Structure | null>;
  /** Import errors grouped by dataset and cause, most frequent first. */
  importErrorGroups(): Promise<ErrorGroup[]>;
  /** The top `n` pathways of a screen by the images stage's priority, with their descriptors (see the SQLite store). */
  topPathways(p: RankingParams, n: number): Promise<RankedPathway[]>;
  /** The columns of the calc stages' input table (empty when there is none) and its unfinished rows when it is a stage table. */
  calcSource(table: string): Promise<{ columns: string[]; unfinished: number | null }>;
  /** The rows of a calc stage with their energies and barrier, in admission order. */
  calcRows(stage: 'calc_static' | 'calc_neb'): Promise<CalcRow[]>;
  close(): Promise<void>;
}

/** A Float64Array as the bytes a BLOB/BYTEA column keeps. */
export function f64Blob(a: Float64Array): Buffer {
  return Buffer.from(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** Bytes of a BLOB/BYTEA column as a Float64Array (copied: a driver's Buffer need not be 8-byte aligned). */
export function blobF64(b: Uint8Array): Float64Array {
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** The `structures` columns of one structure (everything but ids, times and duplicate_of). */
export function structureColumns(r: StructureRow, hash: string) {
  const s = r.structure;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
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
  };
}
