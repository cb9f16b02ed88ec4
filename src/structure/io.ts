/**
 * Public structure I/O: format detection, reading (strict and lenient) and writing.
 *
 * Formats: `cif`, `poscar` (POSCAR/CONTCAR), `pymatgen-json` (`Structure.as_dict()`), `mp-json`
 * (Materials Project summary documents), `records` (the bundled-data schema) and `extxyz`.
 * Gzip-compressed content (0x1f 0x8b) is decompressed transparently for every format.
 * Units everywhere: lattice in Å (rows = lattice vectors), fractional coordinates.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { StructureError } from './errors.js';
import type { Structure } from './structure.js';
import { readCifItems, writeCif } from './cif.js';
import { readPoscar, writePoscar } from './poscar.js';
import { readExtxyzItems, writeExtxyz } from './extxyz.js';
import { readPymatgenJsonItems, writePymatgenJson } from './pymatgen-json.js';
import { isPlainObject, parseJsonText, type ReadItem, type ReaderOptions } from './read-common.js';
import { readMpDocumentItems } from './mp-document.js';
import { decodeContent, readRecordItems } from './records.js';
import { formatBytes, RAISE_BYTES, readLimits, type ReadLimits } from './limits.js';

/** Formats that can be read. */
export const STRUCTURE_FORMATS = ['cif', 'poscar', 'pymatgen-json', 'mp-json', 'records', 'extxyz'] as const;
export type StructureFormat = (typeof STRUCTURE_FORMATS)[number];

/** Formats that can be written (`json` = `pymatgen-json`). */
export const WRITE_FORMATS = ['cif', 'poscar', 'pymatgen-json', 'extxyz', 'json'] as const;
export type WriteFormat = (typeof WRITE_FORMATS)[number];

export interface ReadOptions {
  /** Name used in messages (and for format detection by extension) when reading text or a Buffer. */
  name?: string;
  /** Accept left-handed lattices (negative determinant). Default false. */
  allowLeftHanded?: boolean;
  /** Element of each species block for VASP 4 POSCARs (which have no species line). */
  species?: readonly string[];
  /**
   * Size limits: sites per structure and bytes per file after decompression (see limits.ts;
   * defaults 100 000 sites and 256 MiB). Counts a file declares are checked before allocating.
   */
  limits?: Partial<ReadLimits>;
}

/** Result of {@link readStructuresLenient}: the structures that validated and the ones that did not. */
export interface LenientReadResult {
  /** Valid structures with their 0-based position in the file. */
  structures: { structure: Structure; index: number }[];
  /** Items (records, documents, blocks, frames) that failed validation. */
  errors: { index: number; id?: string; message: string; error: StructureError }[];
}

const SUPPORTED =
  'supported formats: cif (*.cif), poscar (POSCAR*, CONTCAR*, *.vasp, *.poscar), extxyz (*.extxyz, *.xyz), ' +
  'pymatgen-json, mp-json and records (*.json, *.jsonl, *.json.gz, *.jsonl.gz)';

// ---------------------------------------------------------------------------------------------
// Input resolution
// ---------------------------------------------------------------------------------------------

interface Loaded {
  text: string;
  /** Label for messages. */
  label: string;
  /** Set when read from a file. */
  path?: string;
}

function looksLikePath(s: string): boolean {
  const t = s.trim();
  if (t === '' || /[\r\n]/.test(s) || t.length > 4096 || t.startsWith('{') || t.startsWith('[')) return false;
  if (/[\\/]/.test(t)) return true;
  if (/\.(cif|vasp|poscar|xyz|extxyz|json|jsonl|gz|txt)$/i.test(t)) return true;
  return /^(POSCAR|CONTCAR)/i.test(basename(t)) && !/\s/.test(t);
}

function isExistingFile(p: string): boolean {
  try {
    return existsSync(p) && statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The bytes of a file, refused before reading when the file is larger than `maxBytes` (a file that
 * grows meanwhile is caught by decodeContent's own check).
 */
export function readFileLimited(path: string, limits?: Partial<ReadLimits>): Buffer {
  const { maxBytes } = readLimits(limits);
  const size = statSync(path).size;
  if (size > maxBytes) throw new StructureError(`the file is ${formatBytes(size)}, over the limit of ${formatBytes(maxBytes)}; ${RAISE_BYTES}`, { file: path });
  return readFileSync(path);
}

function load(pathOrText: string | Uint8Array, options: ReadOptions): Loaded {
  const limits = readLimits(options.limits);
  if (typeof pathOrText !== 'string') {
    const label = options.name ?? '<buffer>';
    return { text: decodeContent(pathOrText, label, limits), label };
  }
  if (!/[\r\n]/.test(pathOrText) && pathOrText.length <= 4096) {
    if (isExistingFile(pathOrText)) {
      return { text: decodeContent(readFileLimited(pathOrText, limits), pathOrText, limits), label: pathOrText, path: pathOrText };
    }
    if (existsSync(pathOrText)) throw new StructureError(`not a regular file: ${pathOrText}`, { file: pathOrText });
    if (looksLikePath(pathOrText)) throw new StructureError(`file not found: ${pathOrText}`, { file: pathOrText });
  }
  return { text: decodeContent(pathOrText, options.name ?? '<string>', limits), label: options.name ?? '<string>' };
}

/** File name without directory and extension(s): `data/CaF2.cif` → `CaF2`, `x.jsonl.gz` → `x`. */
function fileStem(p: string): string {
  const b = basename(p).replace(/\.gz$/i, '');
  const dot = b.lastIndexOf('.');
  return dot > 0 ? b.slice(0, dot) : b;
}

// ---------------------------------------------------------------------------------------------
// Format detection
// ---------------------------------------------------------------------------------------------

/** First JSON value of a JSON or JSON-lines text (cheap for large JSON lines files). */
function firstJsonValue(text: string, label: string): unknown {
  const firstLine = text.split('\n').find((l) => l.trim() !== '') ?? '';
  try {
    return JSON.parse(firstLine);
  } catch {
    return parseJsonText(text, label);
  }
}

function classifyJsonObject(v: Record<string, unknown>): StructureFormat | null {
  if (v['structure'] !== undefined && (v['material_id'] !== undefined || isPlainObject(v['structure']))) return 'mp-json';
  if (v['@class'] === 'Structure' || v['@class'] === 'IStructure') return 'pymatgen-json';
  const lat = v['lattice'];
  if (isPlainObject(lat) && lat['matrix'] !== undefined && Array.isArray(v['sites'])) return 'pymatgen-json';
  if (Array.isArray(lat) && Array.isArray(v['species']) && Array.isArray(v['frac_coords'])) return 'records';
  return null;
}

function sniffJson(text: string, label: string): StructureFormat {
  let v = firstJsonValue(text, label);
  if (Array.isArray(v)) {
    if (v.length === 0) throw new StructureError(`empty JSON array: cannot tell the format (${SUPPORTED})`, { file: label });
    v = v[0];
  }
  if (isPlainObject(v)) {
    const direct = classifyJsonObject(v);
    if (direct) return direct;
    if (Array.isArray(v['records'])) return 'records';
    const data = v['data'];
    if (Array.isArray(data)) {
      const inner = data[0];
      if (inner === undefined) return 'mp-json';
      if (isPlainObject(inner)) {
        const f = classifyJsonObject(inner);
        if (f === 'mp-json') return f;
      }
    }
  }
  throw new StructureError(
    'JSON content matches none of the supported layouts: MP document (material_id + structure, or {"data": [...]}), ' +
      'pymatgen Structure (@class "Structure" or lattice.matrix + sites), record (lattice + species + frac_coords, or {"records": [...]})',
    { file: label },
  );
}

const NUM = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][+-]?\d+)?$|^[+-]?(nan|inf)$/i;

function plausiblePoscar(lines: string[]): boolean {
  const tok = (i: number) => (lines[i] ?? '').trim().split(/\s+/).filter(Boolean);
  const scale = tok(1);
  if (!(scale.length === 1 || scale.length === 3) || !scale.every((t) => NUM.test(t))) return false;
  for (let r = 2; r < 5; r++) {
    const t = tok(r);
    if (t.length < 3 || !t.slice(0, 3).every((x) => NUM.test(x))) return false;
  }
  return true;
}

function sniffContent(text: string, label: string): StructureFormat {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return sniffJson(text, label);
  const lines = text.split(/\r\n|\r|\n/);
  const significant = lines.find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (significant !== undefined && /^\s*data_/i.test(significant)) return 'cif';
  const firstIdx = lines.findIndex((l) => l.trim() !== '');
  if (firstIdx >= 0 && /^\s*\d+\s*$/.test(lines[firstIdx]!)) {
    // An atom count: extxyz, unless it is a POSCAR whose comment line is a number.
    if (/\b(Lattice|Properties)\s*=/i.test(lines[firstIdx + 1] ?? '') || !plausiblePoscar(lines)) return 'extxyz';
  }
  if (plausiblePoscar(lines)) return 'poscar';
  throw new StructureError(`cannot detect the structure format; ${SUPPORTED}; or pass the format explicitly`, { file: label });
}

/**
 * Detect the format of a structure file: by file name first (`*.cif`; `POSCAR*`, `CONTCAR*`,
 * `*.vasp`, `*.poscar`; `*.extxyz`, `*.xyz`; `*.json`, `*.jsonl`, `*.json.gz`, `*.jsonl.gz` →
 * the JSON layout decides between `mp-json`, `pymatgen-json` and `records`), then by content
 * (`data_` → cif; atom count + `Lattice=` → extxyz; a POSCAR-shaped header → poscar). When
 * `content` is not given and `nameOrPath` is an existing file, the file is read. Throws a
 * {@link StructureError} listing the supported formats when nothing fits.
 */
export function detectFormat(nameOrPath: string, content?: string | Uint8Array): StructureFormat {
  const label = nameOrPath || '<string>';
  const base = basename(nameOrPath).toLowerCase().replace(/\.gz$/, '');
  if (base.endsWith('.cif')) return 'cif';
  const isJsonName = /\.(json|jsonl)$/.test(base);
  if (!isJsonName) {
    if (/\.(extxyz|xyz)$/.test(base)) return 'extxyz';
    if (/\.(vasp|poscar)$/.test(base) || /^(poscar|contcar)/.test(base)) return 'poscar';
  }
  let text: string | undefined;
  if (content !== undefined) text = decodeContent(content, label);
  else if (nameOrPath && isExistingFile(nameOrPath)) text = decodeContent(readFileLimited(nameOrPath), label);
  if (isJsonName) {
    if (text === undefined) throw new StructureError('cannot tell which JSON layout (mp-json, pymatgen-json, records) without the content', { file: label });
    return sniffJson(text, label);
  }
  if (text === undefined) throw new StructureError(`cannot detect the structure format from the name alone; ${SUPPORTED}`, { file: label });
  return sniffContent(text, label);
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

function readItems(loaded: Loaded, format: StructureFormat | undefined, options: ReadOptions, lenient: boolean): ReadItem[] {
  const fmt = format ?? detectFormat(loaded.path ?? options.name ?? '', loaded.text);
  if (!(STRUCTURE_FORMATS as readonly string[]).includes(fmt)) {
    throw new StructureError(`unknown format ${JSON.stringify(fmt)}; ${SUPPORTED}`, { file: loaded.label });
  }
  const ro: ReaderOptions = { file: loaded.label, allowLeftHanded: options.allowLeftHanded, lenient, limits: readLimits(options.limits) };
  let items: ReadItem[];
  switch (fmt) {
    case 'cif':
      items = readCifItems(loaded.text, ro);
      break;
    case 'poscar':
      items = [{ index: 0, structure: readPoscar(loaded.text, { ...ro, species: options.species }) }];
      break;
    case 'extxyz':
      items = readExtxyzItems(loaded.text, ro);
      break;
    case 'pymatgen-json':
      items = readPymatgenJsonItems(loaded.text, ro);
      break;
    case 'mp-json':
      items = readMpDocumentItems(loaded.text, ro);
      break;
    case 'records':
      items = readRecordItems(loaded.text, ro);
      break;
  }
  if (loaded.path !== undefined) {
    const path = loaded.path;
    const single = items.length === 1;
    for (const it of items) {
      if (!it.structure) continue;
      const info = it.structure.info;
      info['file'] = path;
      if (info.source === undefined) info.source = path;
      if (single && (info.id === undefined || info.id === '')) info.id = fileStem(path);
    }
  }
  return items;
}

/**
 * Read every structure of a file or text: all data blocks of a CIF, all frames of an extxyz, all
 * records / documents of a JSON (lines) file. `pathOrText` is a file path when such a file exists
 * (a single-line string that looks like a path but does not exist gives "file not found: PATH"),
 * otherwise the content itself (`<string>` in messages unless `options.name`). `format` defaults
 * to {@link detectFormat}. From a file, `info.file` is the path, `info.source` the path unless the
 * format set one (e.g. the dataset tag of bundled records), and a file holding one structure
 * without id gets the file stem as `info.id`. Lattice in Å, fractional coordinates.
 */
export function readStructures(pathOrText: string | Uint8Array, format?: StructureFormat, options: ReadOptions = {}): Structure[] {
  const items = readItems(load(pathOrText, options), format, options, false);
  return items.map((it) => it.structure!);
}

/**
 * The first structure of a file or text (see {@link readStructures}); error if there is none.
 * When read from a file, `info.id` defaults to the file stem.
 */
export function readStructure(pathOrText: string | Uint8Array, format?: StructureFormat, options: ReadOptions = {}): Structure {
  const loaded = load(pathOrText, options);
  const items = readItems(loaded, format, options, false);
  const first = items[0]?.structure;
  if (!first) throw new StructureError('the file holds no structure', { file: loaded.label });
  if (loaded.path !== undefined && (first.info.id === undefined || first.info.id === '')) first.info.id = fileStem(loaded.path);
  return first;
}

/**
 * Like {@link readStructures}, but a record / document / data block / frame that fails validation
 * is reported in `errors` (with its index, id when known, and message) instead of aborting the
 * file. File-level problems (file not found, invalid JSON, broken CIF syntax, a bad POSCAR) still
 * throw a {@link StructureError}.
 */
export function readStructuresLenient(pathOrText: string | Uint8Array, format?: StructureFormat, options: ReadOptions = {}): LenientReadResult {
  const items = readItems(load(pathOrText, options), format, options, true);
  const result: LenientReadResult = { structures: [], errors: [] };
  for (const it of items) {
    if (it.structure) result.structures.push({ structure: it.structure, index: it.index });
    else if (it.error) result.errors.push({ index: it.index, id: it.id, message: it.error.message, error: it.error });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/**
 * Write a structure as text: `cif` (P1), `poscar` (VASP 5, Direct), `pymatgen-json` / `json`
 * (`Structure.as_dict()`), `extxyz`. Lattice in Å.
 */
export function writeStructure(structure: Structure, format: WriteFormat): string {
  switch (format) {
    case 'cif':
      return writeCif(structure);
    case 'poscar':
      return writePoscar(structure);
    case 'pymatgen-json':
    case 'json':
      return writePymatgenJson(structure);
    case 'extxyz':
      return writeExtxyz(structure);
    default:
      throw new StructureError(`cannot write format ${JSON.stringify(format as string)}; writable formats: ${WRITE_FORMATS.join(', ')}`);
  }
}
