/**
 * Stage 4, `images`: supercell images and DFT inputs of the pathways that pass the one hard gate,
 * `dimensionality >= 1` (the hop's class percolates on its own); everything else only ranks.
 * Priority: ewald_energy ascending (a null ewald_energy last), then nsites_777 ascending.
 *
 * Each pathway gets a folder `<outDir>/<pathway key with unsafe characters replaced>-<hash of the key>`
 * ({@link pathwayFolderName}: distinct keys never share a folder) holding
 *
 *   path_1image.extxyz / path_1image.cif   IDPP start, midpoint, end (CIF: moving ion overlaid on the host)
 *   path_5image.extxyz / path_5image.cif   the 5-image IDPP path (7 structures)
 *   vasp_static/{start,mid,end}/           static design (MIT relax set base, ISYM 0, NSW 0, IBRION −1, EDIFF 1e-3, LDAU off)
 *   vasp_neb/{relax_start,relax_end,neb/00,01,02}/  endpoint relaxations + 1-image NEB (IMAGES 1, ISYM 0, EDIFFG −0.1)
 *
 * in a supercell with every axis ≥ `supercellMinLengthAng` (default 7 Å, floor(L/a_i)+1 per axis),
 * relaxed with the IDPP mode of the descriptors rows it admits (`idpp` parameter; the filter admits
 * only descriptors rows of that mode), so the 5-image path written is the one the descriptors describe.
 * The work is pure: it returns the files as data, and the engine's sink (Stage.sink) writes them in
 * the worker thread — the same pathway gives the same bytes at the same paths, so a rerun (or a
 * retried batch) overwrites its own files and nothing else; a full or read-only disk halts the stage.
 * The output directory is a stage parameter.
 */
import { resolve } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { ColumnDef } from '../stage-kit/arrow.js';
import { keyFolderName, packFiles } from '../stage-kit/files.js';
import { defineStage, forkStage, StageError, type ColumnType, type Stage, type WorkContext } from '../stage-kit/stage.js';
import { screenHopImages, imagesToExtxyz, imagesToOverlayCif } from '../analysis/hop-images.js';
import type { IdppMode } from '../kernels/idpp.js';
import { DEFAULT_SCREEN_IDPP, idppModeParam } from './descriptors.js';
import { nebFolderFiles, staticFolderFiles } from '../analysis/vasp-inputs.js';
import { STRUCTURE_INPUTS, batchRows, mapRows, rowHops, rowsBatch, structureFromColumns } from './pathways.js';

export interface ImagesParams {
  /** Folder receiving one sub-folder per pathway. Default `screen-out/images`. */
  outDir: string;
  /** Supercell rule length, Å: every axis scaled by floor(L / a_i) + 1. Default 7. */
  supercellMinLengthAng: number;
  /** IDPP mode, that of the descriptors stage whose rows this stage admits. Default exact. */
  idpp: IdppMode;
}

export const DEFAULT_IMAGES_PARAMS: Readonly<ImagesParams> = { outDir: 'screen-out/images', supercellMinLengthAng: 7, idpp: DEFAULT_SCREEN_IDPP };

/** Validate and complete the parameters; the message names the parameter and the value. */
export function imagesParams(p: Partial<ImagesParams> = {}): ImagesParams {
  const outDir = p.outDir ?? DEFAULT_IMAGES_PARAMS.outDir;
  if (typeof outDir !== 'string' || outDir === '') throw new StageError(`images outDir must be a non-empty path, got ${JSON.stringify(outDir)}`);
  const L = p.supercellMinLengthAng ?? DEFAULT_IMAGES_PARAMS.supercellMinLengthAng;
  if (typeof L !== 'number' || !Number.isFinite(L) || L <= 0) throw new StageError(`images supercellMinLengthAng must be a positive number, got ${JSON.stringify(L)}`);
  return { outDir: resolve(outDir), supercellMinLengthAng: L, idpp: idppModeParam(p.idpp) };
}

/**
 * Folder name of a pathway key (the engine's {@link keyFolderName}): a readable part — letters,
 * digits, `.`, `-` and `_` kept, anything else `_`, shortened to its first and last 48 characters when
 * longer — then `-` and the first 16 hex digits of the key's SHA-256, so that distinct keys never
 * share a folder.
 */
export const pathwayFolderName = keyFolderName;

const OUTPUT = {
  out_dir: 'utf8',
  files: 'int32',
  supercell_scaling: 'utf8',
  n_sites_per_image: 'int32',
} as const satisfies Record<string, ColumnType>;
/** The column that carries each row's files to the engine's sink (not stored). */
const FILES_COLUMN = 'file_set';
const RESULT_DEFS: ColumnDef[] = [{ name: 'key', type: 'utf8' }, ...Object.entries(OUTPUT).map(([name, type]) => ({ name, type })), { name: FILES_COLUMN, type: 'binary' }];

/**
 * The images and VASP inputs of one pathway row, as files for the sink (nothing is written here): the
 * row carries the sanitised cell and the structure's hop list, so nothing is sanitised or searched again.
 */
export function imagesOfRow(row: Record<string, unknown>, p: ImagesParams): Record<string, unknown> {
  const structure = structureFromColumns(row['lattice'], row['species'], row['frac_coords'], row['oxidation_states']);
  const index = row['hop_index'] as number;
  const hop = rowHops(row).hops.find((h) => h.index === index);
  if (!hop) throw new Error(`hop ${index} is not among the hops of its pathways row`);
  // Built as the descriptors stage builds its images (same function, same IDPP mode), so the
  // 5-image path at the default 7 Å is the one its ewald_energy and overlaps describe.
  const three = screenHopImages(structure, hop, { supercellMinLength: p.supercellMinLengthAng, images: 1, idpp: p.idpp });
  const seven = screenHopImages(structure, hop, { supercellMinLength: p.supercellMinLengthAng, images: 5, idpp: p.idpp });
  const files: Record<string, string> = {
    'path_1image.extxyz': imagesToExtxyz(three.images),
    'path_1image.cif': imagesToOverlayCif(three.images),
    'path_5image.extxyz': imagesToExtxyz(seven.images),
    'path_5image.cif': imagesToOverlayCif(seven.images),
  };
  for (const [name, text] of Object.entries(staticFolderFiles(three.images).files)) files[`vasp_static/${name}`] = text;
  for (const [name, text] of Object.entries(nebFolderFiles(three.images).files)) files[`vasp_neb/${name}`] = text;
  return {
    key: row['key'],
    supercell_scaling: (three.scaling ?? [1, 1, 1]).join('x'),
    n_sites_per_image: three.images[0]!.species.length,
    [FILES_COLUMN]: packFiles(files),
  };
}

/** Per supercell length and IDPP mode: a memo per parameter set, so one can never answer for another. */
const memos = new Map<string, Map<string, Record<string, unknown>>>();

function work(batch: RecordBatch, ctx: WorkContext): RecordBatch {
  const p = imagesParams(ctx.params as Partial<ImagesParams>);
  const id = JSON.stringify(p);
  let memo = memos.get(id);
  if (!memo) memos.set(id, (memo = new Map()));
  // The memo only spares a bisected batch (one failing row) from building the same files again.
  return rowsBatch(RESULT_DEFS, mapRows(batchRows(batch), memo, (row) => imagesOfRow(row, p)));
}

/** The gate, and only descriptors rows of IDPP mode `idpp`. */
function imagesFilter(idpp: IdppMode): { sql: string; cutoffs: { minDimensionality: { initial: number } } } {
  return {
    sql: `dimensionality >= :minDimensionality AND idpp = '${idppModeParam(idpp)}'`,
    cutoffs: { minDimensionality: { initial: 1 } },
  };
}

/** The images stage with its default parameters; {@link imagesStage} sets the output folder and IDPP mode. */
export const images: Stage = defineStage({
  module: import.meta.url,
  name: 'images',
  input: {
    from: 'descriptors',
    columns: {
      structure_id: 'utf8',
      formula: 'utf8',
      ion: 'utf8',
      max_length: 'float64',
      hop_limit: 'int32',
      hop_index: 'int32',
      length: 'float64',
      dimensionality: 'int32',
      ewald_energy: 'float64',
      nsites_777: 'int32',
      ...STRUCTURE_INPUTS,
      hops_json: 'utf8',
      idpp: 'utf8',
    },
  },
  filter: imagesFilter(DEFAULT_IMAGES_PARAMS.idpp),
  // ewald_energy ascending, then nsites_777 ascending, as one number (higher runs first); the nsites
  // term (< 1e-7 for any realistic supercell) only orders equal ewald_energy values.
  priority: '-(COALESCE(ewald_energy, 1e6) + nsites_777 * 1e-12)',
  output: OUTPUT,
  // The files go out as data; the engine writes them under outDir, one folder per pathway key.
  sink: { column: FILES_COLUMN, rootParam: 'outDir', dirColumn: 'out_dir', countColumn: 'files' },
  work,
  workers: 2,
  batchSize: 4,
  retry: { maxAttempts: 1, backoffMs: 0 },
  params: { ...DEFAULT_IMAGES_PARAMS },
});

/** The images stage writing under `params.outDir` (resolved against the working directory) with IDPP mode `params.idpp`. */
export function imagesStage(params: Partial<ImagesParams> = {}): Stage {
  const p = imagesParams(params);
  return forkStage(images, { name: images.name, filter: imagesFilter(p.idpp), params: { ...p } });
}
