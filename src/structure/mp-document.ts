/**
 * Materials Project API summary documents (`/materials/summary`): reader.
 *
 * A document is an object with `material_id`, `structure` (a pymatgen `Structure.as_dict()`),
 * `energy_above_hull` (eV/atom), `formation_energy_per_atom` (eV/atom) and `possible_species`
 * (e.g. `["Ca2+", "F-"]`). Accepted containers: one document, a top-level array of documents, the API
 * response envelope `{"data": [...], "meta": ...}`, and JSON lines (one document per line).
 *
 * Oxidation states: those in the embedded structure win (`info.oxidation_source = 'structure'`);
 * otherwise, when `possible_species` lists exactly one oxidation state for every element present,
 * they are taken from it (`info.oxidation_source = 'possible_species'`); otherwise none are set.
 */
import { StructureError, type StructureErrorLocation } from './errors.js';
import { parseSpeciesLabel } from './elements.js';
import { createStructure, type Structure } from './structure.js';
import { structureFromPymatgenDict } from './pymatgen-json.js';
import { atField, buildItems, checkId, describeJson, isPlainObject, itemStructures, jsonItemId, jsonItems, parseJsonDocuments, type ReadItem, type ReaderOptions } from './read-common.js';
import type { ReadLimits } from './limits.js';

/**
 * Scalar summary fields copied into `info` when present (besides the four named in the docs), with
 * the JSON type each must have (or null): a field of another type is refused, not dropped.
 */
const EXTRA_FIELDS = {
  formula_pretty: 'string',
  band_gap: 'number',
  is_stable: 'boolean',
  energy_per_atom: 'number',
  uncorrected_energy_per_atom: 'number',
  is_metal: 'boolean',
  theoretical: 'boolean',
} as const;

function idString(v: unknown, where: StructureErrorLocation): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return checkId(v, where);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  // Older emmet versions serialise MPID as {"@module": ..., "@class": "MPID", "string": "mp-241"}.
  if (isPlainObject(v) && typeof v['string'] === 'string') return checkId(v['string'], where);
  throw new StructureError(`expected a material id string, got ${describeJson(v)}`, where);
}

function optionalNumber(v: unknown, where: StructureErrorLocation): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new StructureError(`expected a number or null, got ${describeJson(v)}`, where);
  return v;
}

/**
 * Build a Structure from one MP summary document. `where.field` prefixes field names in messages
 * (e.g. `data[3]`). info: `id` (= material_id), `energy_above_hull`, `formation_energy_per_atom`
 * (eV/atom), `possible_species`, `oxidation_source`.
 */
export function structureFromMpDocument(doc: unknown, where: StructureErrorLocation = {}, options: { allowLeftHanded?: boolean; limits?: Partial<ReadLimits> } = {}): Structure {
  if (!isPlainObject(doc)) throw new StructureError(`expected a Materials Project document object, got ${describeJson(doc)}`, where);
  if (doc['structure'] === undefined) throw new StructureError('document has no "structure"', atField(where, 'structure'));
  const base = structureFromPymatgenDict(doc['structure'], atField(where, 'structure'), options);
  const id = idString(doc['material_id'], atField(where, 'material_id'));
  const info: Record<string, unknown> = { ...base.info };
  if (id !== undefined) info['id'] = id;
  const ehull = optionalNumber(doc['energy_above_hull'], atField(where, 'energy_above_hull'));
  if (ehull !== undefined) info['energy_above_hull'] = ehull;
  const eform = optionalNumber(doc['formation_energy_per_atom'], atField(where, 'formation_energy_per_atom'));
  if (eform !== undefined) info['formation_energy_per_atom'] = eform;
  for (const [k, type] of Object.entries(EXTRA_FIELDS)) {
    const v = doc[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== type || (type === 'number' && !Number.isFinite(v))) throw new StructureError(`expected a ${type} or null, got ${describeJson(v)}`, atField(where, k));
    info[k] = v;
  }

  let oxidationStates: ArrayLike<number> | null = base.oxidationStates;
  const ps = doc['possible_species'];
  if (ps !== undefined && ps !== null) {
    if (!Array.isArray(ps)) throw new StructureError(`expected a list of species strings, got ${describeJson(ps)}`, atField(where, 'possible_species'));
    const byElement = new Map<string, Set<number>>();
    ps.forEach((label, k) => {
      const parsed = typeof label === 'string' ? parseSpeciesLabel(label) : null;
      if (!parsed || parsed.oxidationState === null || !/^[A-Z][a-z]?\d*(\.\d+)?[+-]$/.test(String(label).trim())) {
        throw new StructureError(`expected a species such as "Ca2+" or "F-", got ${describeJson(label)}`, atField(where, `possible_species[${k}]`));
      }
      const set = byElement.get(parsed.element) ?? new Set<number>();
      set.add(parsed.oxidationState);
      byElement.set(parsed.element, set);
    });
    info['possible_species'] = [...ps];
    if (oxidationStates) info['oxidation_source'] = 'structure';
    else if (base.species.every((el) => byElement.get(el)?.size === 1)) {
      oxidationStates = base.species.map((el) => [...byElement.get(el)!][0]!);
      info['oxidation_source'] = 'possible_species';
    }
  } else if (oxidationStates) info['oxidation_source'] = 'structure';

  return createStructure(
    {
      lattice: base.lattice,
      species: base.species,
      frac: base.frac,
      oxidationStates,
      siteProperties: base.siteProperties as Record<string, readonly unknown[]>,
      info,
    },
    { where, checkOverlap: false, allowLeftHanded: options.allowLeftHanded }, // overlap already checked when the embedded structure was built
  );
}

/**
 * Read Materials Project summary documents: a single document, an array of documents, an API
 * envelope `{"data": [...]}`, or JSON lines. One item per document, in order (see
 * {@link ReaderOptions.lenient}).
 */
export function readMpDocumentItems(text: string, options: ReaderOptions = {}): ReadItem[] {
  const items = jsonItems(parseJsonDocuments(text, options.file), options.file, ['data'], (v) => v['structure'] !== undefined);
  return buildItems(
    items,
    options.lenient,
    (it) => structureFromMpDocument(it.value, it.where, options),
    (it) => jsonItemId(it.value, 'material_id'),
    (it) => it.where,
  );
}

/** Read Materials Project summary documents (strict): one Structure per document, in order. */
export function readMpDocuments(text: string, options: ReaderOptions = {}): Structure[] {
  return itemStructures(readMpDocumentItems(text, { ...options, lenient: false }));
}
