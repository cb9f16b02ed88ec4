/**
 * The bundled-data record schema (see data/README.md): reader.
 *
 * One record per structure:
 * ```
 * material_id | id   identifier ("mp-241", "perov5-3961"; may be null)
 * formula            reduced formula as given by the source (kept as info.formula_source)
 * nsites             number of sites (checked when present)
 * lattice            3x3, Å, rows = lattice vectors
 * species            element symbols, one per site
 * frac_coords        fractional coordinates, one [x, y, z] per site
 * oxidation_states   optional, one per site (or null)
 * e_above_hull       eV/atom or null;  band_gap  eV or null
 * source             {dataset, repo|package, commit, path, license, orig_id?, ...}
 * ```
 * info: `id` (material_id or id), `formula_source` (formula), `source` (the dataset tag),
 * `provenance` (the whole source object), `orig_id` (source.orig_id, when present); any other
 * field (e_above_hull, band_gap, spacegroup, ...) is copied into `info` unchanged.
 * Containers: JSON lines (`.jsonl`, `.jsonl.gz`), `{"records": [...]}`, a top-level array, or a
 * single record. Gzip content (starting with 0x1f 0x8b) is decompressed first.
 */
import { gunzipSync } from 'node:zlib';
import { StructureError, type StructureErrorLocation } from './errors.js';
import { createStructure, type Structure } from './structure.js';
import { formatBytes, RAISE_BYTES, readLimits, type ReadLimits } from './limits.js';
import { atField, buildItems, checkSiteCount, describeJson, isPlainObject, itemStructures, jsonId, jsonItemId, jsonItems, jsonMatrix3, jsonNumber, jsonTriples, parseJsonDocuments, type ReadItem, type ReaderOptions } from './read-common.js';

/** Fields consumed by the reader (everything else goes to info as is). */
const STRUCTURE_FIELDS = new Set(['material_id', 'id', 'formula', 'nsites', 'lattice', 'species', 'frac_coords', 'oxidation_states', 'source']);

/** Fields copied to info that the store and the screen read as numbers: a number or null, nothing else. */
const NUMBER_FIELDS = ['e_above_hull', 'energy_above_hull', 'formation_energy_per_atom', 'energy_per_atom', 'band_gap'] as const;

/** True when `content` starts with the gzip magic bytes 0x1f 0x8b. */
export function isGzip(content: string | Uint8Array): boolean {
  if (typeof content === 'string') return content.charCodeAt(0) === 0x1f && content.charCodeAt(1) === 0x8b;
  return content.length >= 2 && content[0] === 0x1f && content[1] === 0x8b;
}

/**
 * Text of file content: gunzips gzip data, decodes UTF-8 and drops a byte-order mark. Content or a
 * decompressed stream larger than `limits.maxBytes` (default 256 MiB, see limits.ts) is refused
 * with a {@link StructureError} naming `file`, the size and the limit: zlib inflates in chunks and
 * stops at the limit, so a gzip bomb costs at most that much memory. A corrupt gzip stream raises a
 * StructureError too.
 */
export function decodeContent(content: string | Uint8Array, file?: string, limits?: Partial<ReadLimits>): string {
  const { maxBytes } = readLimits(limits);
  const size = typeof content === 'string' ? content.length : content.byteLength;
  // Gzip content is measured as it inflates (below); plain content here.
  if (size > maxBytes && !(typeof content !== 'string' && isGzip(content))) {
    throw new StructureError(`content is ${formatBytes(size)}, over the limit of ${formatBytes(maxBytes)}; ${RAISE_BYTES}`, { file });
  }
  let text: string;
  if (typeof content !== 'string' && isGzip(content)) {
    let raw: Buffer;
    try {
      raw = gunzipSync(content, { maxOutputLength: maxBytes });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new StructureError(
          `gzip content decompresses to more than ${formatBytes(maxBytes)} (from ${formatBytes(size)} compressed): refused as over the size limit (a gzip bomb?); ${RAISE_BYTES}`,
          { file },
        );
      }
      throw new StructureError(`not a valid gzip stream (${e instanceof Error ? e.message : String(e)}): the file is truncated or corrupt`, { file });
    }
    text = raw.toString('utf8');
  } else if (typeof content === 'string') {
    if (isGzip(content)) throw new StructureError('gzip data passed as a string: pass the raw bytes (a Buffer) instead', { file });
    text = content;
  } else text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
  return text.replace(/^\uFEFF/, '');
}

function sourceTag(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (isPlainObject(v)) {
    if (typeof v['dataset'] === 'string') return v['dataset'];
    return JSON.stringify(v);
  }
  return String(v);
}

/**
 * Build a Structure from one record of the bundled schema. Lattice in Å, fractional coordinates.
 * `where` names the record (`line` for JSON lines, `field` such as `records[3]` otherwise).
 */
export function structureFromRecord(rec: unknown, where: StructureErrorLocation = {}, options: { allowLeftHanded?: boolean; limits?: Partial<ReadLimits> } = {}): Structure {
  if (!isPlainObject(rec)) throw new StructureError(`expected a record object, got ${describeJson(rec)}`, where);
  const species = rec['species'];
  if (!Array.isArray(species)) throw new StructureError(`expected a list of element symbols, got ${describeJson(species)}`, atField(where, 'species'));
  checkSiteCount(species.length, options.limits, `the ${species.length} species`, atField(where, 'species'));
  species.forEach((s, k) => {
    if (typeof s !== 'string') throw new StructureError(`expected an element symbol, got ${describeJson(s)}`, atField(where, `species[${k}]`));
  });
  const lattice = jsonMatrix3(rec['lattice'], atField(where, 'lattice'));
  const frac = jsonTriples(rec['frac_coords'], species.length, atField(where, 'frac_coords'));
  const nsites = rec['nsites'];
  if (nsites !== undefined && nsites !== null && nsites !== species.length) {
    throw new StructureError(`nsites is ${describeJson(nsites)} but there are ${species.length} species`, atField(where, 'nsites'));
  }
  let oxidationStates: number[] | null = null;
  const ox = rec['oxidation_states'];
  if (ox !== undefined && ox !== null) {
    if (!Array.isArray(ox) || ox.length !== species.length) {
      throw new StructureError(`expected ${species.length} oxidation states (one per site) or null, got ${describeJson(ox)}`, atField(where, 'oxidation_states'));
    }
    oxidationStates = ox.map((v, k) => jsonNumber(v, atField(where, `oxidation_states[${k}]`)));
  }
  const info: Record<string, unknown> = {};
  const idField = rec['material_id'] !== undefined && rec['material_id'] !== null ? 'material_id' : 'id';
  const id = jsonId(rec[idField], atField(where, idField));
  if (id !== undefined) info['id'] = id;
  for (const k of NUMBER_FIELDS) {
    const v = rec[k];
    if (v !== undefined && v !== null) jsonNumber(v, atField(where, k));
  }
  if (rec['formula'] !== undefined) info['formula_source'] = rec['formula'];
  const tag = sourceTag(rec['source']);
  if (tag !== undefined) info['source'] = tag;
  const src = rec['source'];
  if (isPlainObject(src)) {
    info['provenance'] = src;
    const orig = src['orig_id'] === '' ? undefined : jsonId(src['orig_id'], atField(where, 'source.orig_id'));
    if (orig !== undefined) info['orig_id'] = orig;
  }
  for (const [k, v] of Object.entries(rec)) if (!STRUCTURE_FIELDS.has(k)) info[k] = v;
  return createStructure(
    { lattice, species: species as string[], frac, oxidationStates, info },
    { where, allowLeftHanded: options.allowLeftHanded, siteWhere: (i, what) => atField(where, what === 'coordinates' ? `frac_coords[${i}]` : `oxidation_states[${i}]`) },
  );
}

/**
 * Read bundled-data records: JSON lines (optionally gzip), `{"records": [...]}`, an array of
 * records, or one record. One item per record, in file order (see {@link ReaderOptions.lenient}).
 */
export function readRecordItems(content: string | Uint8Array, options: ReaderOptions = {}): ReadItem[] {
  const file = options.file;
  const text = decodeContent(content, file, options.limits);
  const items = jsonItems(parseJsonDocuments(text, file), file, ['records'], (v) => v['species'] !== undefined);
  return buildItems(
    items,
    options.lenient,
    (it) => structureFromRecord(it.value, it.where, options),
    (it) => jsonItemId(it.value, 'material_id', 'id') ?? (isPlainObject(it.value) ? jsonItemId(it.value['source'], 'orig_id') : undefined),
    (it) => it.where,
  );
}

/** Read bundled-data records (strict): one Structure per record, in file order. */
export function readRecords(content: string | Uint8Array, options: ReaderOptions = {}): Structure[] {
  return itemStructures(readRecordItems(content, { ...options, lenient: false }));
}
