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
 * The work is deterministic: the same pathway writes the same bytes to the same paths, so a rerun
 * (or a retried batch) overwrites its own files and nothing else. Writing files is this stage's job;
 * the output directory is a stage parameter.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { ColumnDef } from '../engine/arrow.js';
import { makeOutputDir, withOutputPath, writeOutputFile } from '../engine/output-files.js';
import { defineStage, forkStage, StageError, type ColumnType, type Stage, type WorkContext } from '../engine/stage.js';
import { screenHopImages, imagesToExtxyz, imagesToOverlayCif } from '../analysis/hop-images.js';
import type { IdppMode } from '../kernels/idpp.js';
import { DEFAULT_SCREEN_IDPP, idppModeParam } from './descriptors.js';
import { writeNebFolder, writeStaticFolders } from '../analysis/vasp-inputs.js';
import { STRUCTURE_INPUTS, batchRows, mapRows, rowsBatch, screenParams, structureFromColumns, structurePathways } from './pathways.js';

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

/** Characters of a pathway key kept in its folder name (at most this many, see {@link pathwayFolderName}). */
const READABLE_CHARS = 96;

/**
 * Folder name of a pathway key: a readable part — letters, digits, `.`, `-` and `_` kept, anything
 * else `_`, shortened to its first and last 48 characters when longer — then `-` and the first 16 hex
 * digits of the key's SHA-256. The readable part alone is not injective (`a/b`, `a_b` and `a:b` all
 * read `a_b`); the hash of the original key is what keeps two keys out of one folder (64 bits:
 * a collision among a million pathways has a chance of about 3·10⁻⁸). The name never contains a path
 * separator, is never `.` or `..`, stays far below the 255-byte limit of file names whatever the
 * key's length, and differs between keys that differ only in letter case (the hash part does), so
 * case-insensitive file systems keep them apart too.
 */
export function pathwayFolderName(key: string): string {
  let readable = key.replace(/[^A-Za-z0-9._-]/g, '_');
  if (readable.length > READABLE_CHARS) readable = `${readable.slice(0, READABLE_CHARS / 2)}~${readable.slice(-READABLE_CHARS / 2)}`;
  return `${readable}-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16)}`;
}

const OUTPUT = {
  out_dir: 'utf8',
  files: 'int32',
  supercell_scaling: 'utf8',
  n_sites_per_image: 'int32',
} as const satisfies Record<string, ColumnType>;
const OUTPUT_DEFS: ColumnDef[] = [{ name: 'key', type: 'utf8' }, ...Object.entries(OUTPUT).map(([name, type]) => ({ name, type }))];

function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

function write(dir: string, name: string, text: string, files: string[]): void {
  const f = join(dir, name);
  writeOutputFile(f, text);
  files.push(f);
}

/** Write the images and VASP inputs of one pathway row under `p.outDir`. */
export function imagesOfRow(row: Record<string, unknown>, p: ImagesParams): Record<string, unknown> {
  const sp = screenParams({ ion: row['ion'] as string, maxLengthAng: row['max_length'] as number, limit: row['hop_limit'] as number });
  const input = structureFromColumns(row['lattice'], row['species'], row['frac_coords'], row['oxidation_states']);
  const { structure, hops } = structurePathways(input, sp);
  const index = row['hop_index'] as number;
  const hop = hops.hops.find((h) => h.index === index);
  if (!hop) throw new Error(`hop ${index} is not among the structure's pathways any more (recompute the find_paths stage)`);
  if (hop.lengthAng !== row['length']) throw new Error(`hop ${index} has length ${hop.lengthAng} Å here but ${String(row['length'])} Å in the find_paths stage`);
  // Built as the descriptors stage builds its images (same function, same IDPP mode), so the
  // 5-image path at the default 7 Å is the one its ewald_energy and overlaps describe.
  const three = screenHopImages(structure, hop, { supercellMinLength: p.supercellMinLengthAng, images: 1, idpp: p.idpp });
  const seven = screenHopImages(structure, hop, { supercellMinLength: p.supercellMinLengthAng, images: 5, idpp: p.idpp });
  const dir = join(p.outDir, pathwayFolderName(String(row['key'])));
  makeOutputDir(dir);
  const files: string[] = [];
  write(dir, 'path_1image.extxyz', imagesToExtxyz(three.images), files);
  write(dir, 'path_1image.cif', imagesToOverlayCif(three.images), files);
  write(dir, 'path_5image.extxyz', imagesToExtxyz(seven.images), files);
  write(dir, 'path_5image.cif', imagesToOverlayCif(seven.images), files);
  withOutputPath(join(dir, 'vasp_static'), () => writeStaticFolders(join(dir, 'vasp_static'), three.images));
  withOutputPath(join(dir, 'vasp_neb'), () => writeNebFolder(join(dir, 'vasp_neb'), three.images));
  return {
    key: row['key'],
    out_dir: dir,
    files: files.length + countFiles(join(dir, 'vasp_static')) + countFiles(join(dir, 'vasp_neb')),
    supercell_scaling: (three.scaling ?? [1, 1, 1]).join('x'),
    n_sites_per_image: three.images[0]!.species.length,
  };
}

/** Per output folder, supercell length and IDPP mode: a memo per parameter set, so one can never answer for another. */
const memos = new Map<string, Map<string, Record<string, unknown>>>();

function work(batch: RecordBatch, ctx: WorkContext): RecordBatch {
  const p = imagesParams(ctx.params as Partial<ImagesParams>);
  const id = JSON.stringify(p);
  let memo = memos.get(id);
  if (!memo) memos.set(id, (memo = new Map()));
  // The memo only spares a bisected batch (one failing row) from rewriting the same files.
  return rowsBatch(OUTPUT_DEFS, mapRows(batchRows(batch), memo, (row) => imagesOfRow(row, p)));
}

/**
 * The gate, and only descriptors rows of IDPP mode `idpp` (a row's mode is its stage parameter; rows of
 * stores from before the mode existed have none and are exact).
 */
function imagesFilter(idpp: IdppMode): { sql: string; cutoffs: { minDimensionality: { initial: number } } } {
  return {
    sql: `u.dimensionality >= :minDimensionality AND COALESCE(json_extract(u.params, '$.idpp'), 'exact') = '${idppModeParam(idpp)}'`,
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
    },
  },
  filter: imagesFilter(DEFAULT_IMAGES_PARAMS.idpp),
  // ewald_energy ascending, then nsites_777 ascending, as one number (higher runs first); the nsites
  // term (< 1e-7 for any realistic supercell) only orders equal ewald_energy values.
  priority: '-(COALESCE(ewald_energy, 1e6) + nsites_777 * 1e-12)',
  output: OUTPUT,
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
