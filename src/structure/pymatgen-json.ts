/**
 * pymatgen `Structure.as_dict()` JSON: reader and writer.
 *
 * Shape (pymatgen ≥ 2022):
 * ```json
 * {"@module": "pymatgen.core.structure", "@class": "Structure", "charge": 0,
 *  "lattice": {"matrix": [[..],[..],[..]], "pbc": [true, true, true], "a": .., "b": .., "c": ..,
 *              "alpha": .., "beta": .., "gamma": .., "volume": ..},
 *  "properties": {},
 *  "sites": [{"species": [{"element": "Ca", "oxidation_state": 2, "occu": 1}],
 *             "abc": [0, 0, 0], "xyz": [0, 0, 0], "label": "Ca2+", "properties": {}}]}
 * ```
 * Units: lattice and `xyz` in Å, `abc` fractional, angles in degrees, volume in Å³.
 */
import { StructureError, type StructureErrorLocation } from './errors.js';
import { createStructure, type Structure } from './structure.js';
import { isElement, parseSpeciesLabel } from './elements.js';
import { det3, fracToCart, inv3, latticeParameters } from './lattice.js';
import { ReadItem, ReaderOptions, atField, buildItems, checkPbc, checkSiteCount, describeJson, isPlainObject, itemStructures, jsonId, jsonItemId, jsonItems, jsonMatrix3, jsonNumber, jsonTriple, parseJsonDocuments } from './read-common.js';
import type { ReadLimits } from './limits.js';

// ---------------------------------------------------------------------------------------------
// Species notation
// ---------------------------------------------------------------------------------------------

/** pymatgen species string: `Ca`, `Ca2+`, `F-`, `Fe2.5+`, `O2-`, `Ca0+`. */
export function formatSpecies(element: string, oxidationState: number | null | undefined): string {
  if (oxidationState === null || oxidationState === undefined || Number.isNaN(oxidationState)) return element;
  const mag = Math.abs(oxidationState);
  const sign = oxidationState < 0 ? '-' : '+';
  return `${element}${mag === 1 ? '' : String(mag)}${sign}`;
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

function elementOf(v: unknown, where: StructureErrorLocation): { element: string; oxidationState: number | null } {
  if (typeof v !== 'string') throw new StructureError(`expected an element symbol, got ${describeJson(v)}`, where);
  if (isElement(v)) return { element: v, oxidationState: null };
  const parsed = parseSpeciesLabel(v);
  if (parsed && /^[A-Z][a-z]?(\d*(\.\d+)?[+-])?$/.test(v.trim())) return parsed;
  throw new StructureError(`unknown element ${JSON.stringify(v)}`, where);
}

/**
 * Build a Structure from a pymatgen `Structure.as_dict()` object. `where.field` is used as the path
 * prefix of field names (e.g. `data[2].structure`). Lattice in Å; site `abc` fractional (preferred)
 * or `xyz` Cartesian Å. Rejects partial occupancy, mixed sites, non-periodic pbc and molecules.
 */
export function structureFromPymatgenDict(d: unknown, where: StructureErrorLocation = {}, options: { allowLeftHanded?: boolean; limits?: Partial<ReadLimits> } = {}): Structure {
  if (!isPlainObject(d)) throw new StructureError(`expected a pymatgen Structure object, got ${describeJson(d)}`, where);
  const cls = d['@class'];
  if (cls !== undefined && cls !== 'Structure' && cls !== 'IStructure') {
    throw new StructureError(`@class is ${JSON.stringify(cls)}, expected "Structure": fracflow reads periodic crystal structures only`, atField(where, '@class'));
  }
  const lat = d['lattice'];
  if (!isPlainObject(lat)) throw new StructureError(`expected a lattice object with "matrix", got ${describeJson(lat)}`, atField(where, 'lattice'));
  const matrix = jsonMatrix3(lat['matrix'], atField(where, 'lattice.matrix'));
  checkPbc(lat['pbc'], atField(where, 'lattice.pbc'));
  const sites = d['sites'];
  if (!Array.isArray(sites)) throw new StructureError(`expected a list of sites, got ${describeJson(sites)}`, atField(where, 'sites'));
  checkSiteCount(sites.length, options.limits, `the ${sites.length} sites`, atField(where, 'sites'));
  const species: string[] = [];
  const oxi: (number | null)[] = [];
  const frac: number[] = [];
  const propRows: Record<string, unknown>[] = [];
  let inverse: Float64Array | null = null;
  sites.forEach((site, i) => {
    const sw = atField(where, `sites[${i}]`);
    if (!isPlainObject(site)) throw new StructureError(`expected a site object, got ${describeJson(site)}`, sw);
    const label = typeof site['label'] === 'string' ? ` (${site['label']})` : '';
    const sp = site['species'];
    if (!Array.isArray(sp) || sp.length === 0) throw new StructureError(`expected a non-empty species list, got ${describeJson(sp)}`, atField(sw, 'species'));
    if (sp.length > 1) {
      const names = sp.map((e) => (isPlainObject(e) ? `${String(e['element'])}:${String(e['occu'] ?? 1)}` : '?')).join(', ');
      throw new StructureError(`partial occupancy at site ${i}${label}: ${sp.length} species share it (${names}); fracflow screens ordered structures only`, atField(sw, 'species'));
    }
    const entry = sp[0];
    if (!isPlainObject(entry)) throw new StructureError(`expected a species object, got ${describeJson(entry)}`, atField(sw, 'species[0]'));
    const occu = entry['occu'] === undefined ? 1 : jsonNumber(entry['occu'], atField(sw, 'species[0].occu'));
    if (Math.abs(occu - 1) > 1e-4) {
      throw new StructureError(`partial occupancy (${occu}) at site ${i}${label}: fracflow screens ordered structures only`, atField(sw, 'species[0].occu'));
    }
    const el = elementOf(entry['element'], atField(sw, 'species[0].element'));
    species.push(el.element);
    const ox = entry['oxidation_state'];
    if (ox === undefined || ox === null) oxi.push(el.oxidationState);
    else oxi.push(jsonNumber(ox, atField(sw, 'species[0].oxidation_state')));
    if (site['abc'] !== undefined) frac.push(...jsonTriple(site['abc'], atField(sw, 'abc')));
    else if (site['xyz'] !== undefined) {
      const cart = jsonTriple(site['xyz'], atField(sw, 'xyz'));
      if (!inverse) {
        if (!(Math.abs(det3(matrix)) > 1e-6)) throw new StructureError('cell volume is zero: cannot convert xyz to fractional coordinates', atField(where, 'lattice.matrix'));
        inverse = inv3(matrix);
      }
      frac.push(...fracToCart(inverse, cart));
    } else throw new StructureError('site has neither "abc" nor "xyz" coordinates', sw);
    const props = site['properties'];
    if (props !== undefined && props !== null && !isPlainObject(props)) throw new StructureError(`expected an object, got ${describeJson(props)}`, atField(sw, 'properties'));
    propRows.push(props ?? {});
  });
  const keys = [...new Set(propRows.flatMap((p) => Object.keys(p)))];
  const siteProperties: Record<string, unknown[]> = {};
  for (const k of keys) siteProperties[k] = propRows.map((p) => (k in p ? p[k] : null));
  const info: Record<string, unknown> = {};
  const sprops = d['properties'];
  if (sprops !== undefined && sprops !== null && !isPlainObject(sprops)) throw new StructureError(`expected an object, got ${describeJson(sprops)}`, atField(where, 'properties'));
  if (isPlainObject(sprops)) Object.assign(info, sprops);
  const charge = d['charge'] === undefined || d['charge'] === null ? 0 : jsonNumber(d['charge'], atField(where, 'charge'));
  if (charge !== 0) info['charge'] = charge;
  if (info['id'] !== undefined) {
    const id = jsonId(info['id'], atField(where, 'properties.id'));
    if (id === undefined) delete info['id'];
    else info['id'] = id;
  }
  return createStructure(
    {
      lattice: matrix,
      species,
      frac,
      oxidationStates: oxi.some((o) => o !== null) ? oxi : null,
      siteProperties,
      info,
    },
    { where, allowLeftHanded: options.allowLeftHanded, siteWhere: (i, what) => atField(where, what === 'coordinates' ? `sites[${i}]` : `sites[${i}].species[0].oxidation_state`) },
  );
}

/**
 * Read pymatgen Structure JSON: one `as_dict()` object, a list of them, or JSON lines (one per
 * line). Returns one item per structure (see {@link ReaderOptions.lenient}).
 */
export function readPymatgenJsonItems(text: string, options: ReaderOptions = {}): ReadItem[] {
  const items = jsonItems(parseJsonDocuments(text, options.file), options.file, [], () => true);
  return buildItems(
    items,
    options.lenient,
    (it) => structureFromPymatgenDict(it.value, it.where, options),
    (it) => (isPlainObject(it.value) ? jsonItemId(it.value['properties'], 'id') : undefined),
    (it) => it.where,
  );
}

/** Read pymatgen Structure JSON (strict): every structure in the text, in order. */
export function readPymatgenJson(text: string, options: ReaderOptions = {}): Structure[] {
  return itemStructures(readPymatgenJsonItems(text, { ...options, lenient: false }));
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

function plainNumbers(a: ArrayLike<number>): number[] {
  return Array.from(a, (x) => (Object.is(x, -0) ? 0 : x));
}

/** Convert to a pymatgen `Structure.as_dict()`-shaped object (structure info goes to `properties`). */
export function structureToPymatgenDict(s: Structure): Record<string, unknown> {
  const l = s.lattice;
  const p = latticeParameters(l);
  const cart = fracToCart(l, s.frac);
  const { charge, ...rest } = s.info;
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) properties[k] = v;
  const propNames = Object.keys(s.siteProperties);
  const sites = s.species.map((el, i) => {
    const ox = s.oxidationStates ? s.oxidationStates[i]! : null;
    const entry: Record<string, unknown> = { element: el };
    if (ox !== null) entry['oxidation_state'] = ox;
    entry['occu'] = 1;
    const props: Record<string, unknown> = {};
    for (const k of propNames) props[k] = s.siteProperties[k]![i];
    return {
      species: [entry],
      abc: plainNumbers(s.frac.subarray(3 * i, 3 * i + 3)),
      xyz: plainNumbers(cart.subarray(3 * i, 3 * i + 3)),
      label: formatSpecies(el, ox),
      properties: props,
    };
  });
  return {
    '@module': 'pymatgen.core.structure',
    '@class': 'Structure',
    charge: typeof charge === 'number' ? charge : 0,
    lattice: {
      matrix: [plainNumbers(l.subarray(0, 3)), plainNumbers(l.subarray(3, 6)), plainNumbers(l.subarray(6, 9))],
      pbc: [true, true, true],
      a: p.a,
      b: p.b,
      c: p.c,
      alpha: p.alpha,
      beta: p.beta,
      gamma: p.gamma,
      volume: det3(l),
    },
    properties,
    sites,
  };
}

/**
 * Write pymatgen `Structure.as_dict()` JSON (indented; short number arrays kept on one line).
 * Numbers are written with full double precision.
 */
export function writePymatgenJson(s: Structure): string {
  const text = JSON.stringify(structureToPymatgenDict(s), null, 2);
  // Keep [x, y, z]-style number arrays on one line.
  return text.replace(/\[\s+(-?[\d.eE+-]+(?:,\s+-?[\d.eE+-]+)*)\s+\]/g, (_m, inner: string) => `[${inner.split(/,\s+/).join(', ')}]`) + '\n';
}
