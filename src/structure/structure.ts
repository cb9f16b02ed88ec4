/**
 * The Structure model shared by every reader, writer, kernel and stage.
 *
 * Conventions (the kernel ABI's): lattice = 9 numbers, rows are lattice vectors, Å; coordinates are
 * flat `Float64Array`s, xyz interleaved. A Structure is ordered (one element per site, occupancy 1).
 */
import { StructureError, type StructureErrorLocation } from './errors.js';
import { element, isElement } from './elements.js';
import { det3, fracToCart } from './lattice.js';
import { minimumPairDistance } from './pair-distance.js';
import { MAX_ABS_FRACTIONAL, MAX_ABS_OXIDATION_STATE, MAX_ID_LENGTH, MAX_LATTICE_VECTOR_ANG } from './limits.js';

/** Closest allowed distance between two sites (Å); closer sites are taken as a broken structure. */
export const MIN_SITE_DISTANCE_ANG = 0.5;

/** Structure-level metadata carried through readers and writers. */
export interface StructureInfo {
  /** Identifier, e.g. a Materials Project id (`mp-241`) or a file stem. */
  id?: string;
  /** Where the structure came from (file path, dataset name). */
  source?: string;
  /** Free-form extra fields (e.g. `energy_above_hull`, `formation_energy_per_atom`). */
  [key: string]: unknown;
}

export interface Structure {
  /** Lattice vectors as rows, Å: `[ax, ay, az, bx, by, bz, cx, cy, cz]`. */
  readonly lattice: Float64Array;
  /** Element symbol of each site. */
  readonly species: readonly string[];
  /** Fractional coordinates, xyz interleaved (length 3·N). Not wrapped: values outside [0, 1) are kept. */
  readonly frac: Float64Array;
  /** Oxidation state of each site, or null when the structure carries none. */
  readonly oxidationStates: Float64Array | null;
  /** Per-site properties by name, one value per site (e.g. `magmom`, `label`). */
  readonly siteProperties: Readonly<Record<string, readonly unknown[]>>;
  /** Structure-level metadata. */
  readonly info: StructureInfo;
}

export interface StructureInput {
  lattice: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  species: readonly string[];
  /** Fractional coordinates, flat (3·N) or as N triples. Give this or `cart`. */
  frac?: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  /** Cartesian coordinates (Å), flat (3·N) or as N triples. Give this or `frac`. */
  cart?: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  oxidationStates?: ArrayLike<number | null> | null;
  siteProperties?: Record<string, readonly unknown[]>;
  info?: StructureInfo;
}

export interface CreateOptions {
  /** Where the data came from, for error messages. */
  where?: StructureErrorLocation;
  /** Check for sites closer than {@link MIN_SITE_DISTANCE_ANG}. Default true. */
  checkOverlap?: boolean;
  /**
   * Accept a left-handed lattice (negative determinant), as pymatgen does. Default false: a
   * negative volume is refused, since VASP and most cell-reduction codes expect a right-handed set.
   */
  allowLeftHanded?: boolean;
  /**
   * Where site `i`'s coordinates or oxidation state are (its line, its field), for per-site errors;
   * default {@link CreateOptions.where} with the field `coordinates` / `oxidation_states`.
   */
  siteWhere?: (site: number, what: 'coordinates' | 'oxidation_states') => StructureErrorLocation;
}

function flatten(v: ArrayLike<number> | ArrayLike<ArrayLike<number>>, what: string, where: StructureErrorLocation): Float64Array {
  if (v.length > 0 && typeof v[0] === 'object' && v[0] !== null) {
    const rows = v as ArrayLike<ArrayLike<number>>;
    const out = new Float64Array(rows.length * 3);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!r || r.length !== 3) {
        throw new StructureError(`${what} entry ${i} has ${r ? r.length : 0} components, expected 3`, { ...where, field: where.field ?? what });
      }
      for (let k = 0; k < 3; k++) out[3 * i + k] = Number(r[k]);
    }
    return out;
  }
  return Float64Array.from(v as ArrayLike<number>, Number);
}

/**
 * Build a validated Structure. Throws {@link StructureError} naming the cause for: lattice not 3×3,
 * a lattice vector longer than 10⁴ Å, zero/negative volume, NaN/Inf lattice or coordinates, a
 * fractional coordinate beyond ±1000 (see limits.ts), mismatched site counts, unknown element, no
 * sites, an `info.id` that is not a string, and (unless disabled) two sites closer than 0.5 Å.
 */
export function createStructure(input: StructureInput, options: CreateOptions = {}): Structure {
  const where = options.where ?? {};
  const lattice = flatten(input.lattice, 'lattice', where);
  if (lattice.length !== 9) throw new StructureError(`lattice has ${lattice.length} numbers, expected 9 (3 rows of 3)`, { ...where, field: where.field ?? 'lattice' });
  for (let k = 0; k < 9; k++) {
    if (!Number.isFinite(lattice[k]!)) throw new StructureError(`lattice component ${k} is ${lattice[k]} (not a finite number)`, { ...where, field: where.field ?? 'lattice' });
  }
  for (let r = 0; r < 3; r++) {
    const len = Math.hypot(lattice[3 * r]!, lattice[3 * r + 1]!, lattice[3 * r + 2]!);
    if (!(len <= MAX_LATTICE_VECTOR_ANG)) {
      throw new StructureError(
        `lattice vector ${r + 1} is ${len.toPrecision(6)} Å long, over the limit of ${MAX_LATTICE_VECTOR_ANG} Å: a unit mistake or a corrupt number, not a crystal cell`,
        { ...where, field: where.field ?? 'lattice' },
      );
    }
  }
  const volume = det3(lattice);
  if (!(Math.abs(volume) > 1e-6)) {
    throw new StructureError(`cell volume is zero (${volume.toPrecision(6)} Å³): the lattice vectors are linearly dependent`, { ...where, field: where.field ?? 'lattice' });
  }
  if (volume < 0 && !options.allowLeftHanded) {
    throw new StructureError(
      `cell volume is negative (${volume.toPrecision(6)} Å³): the lattice vectors form a left-handed set; swap two lattice vectors, or allow it explicitly (allowLeftHanded / --allow-left-handed)`,
      { ...where, field: where.field ?? 'lattice' },
    );
  }
  const species = [...input.species];
  const n = species.length;
  if (n === 0) throw new StructureError('structure has no sites', where);
  species.forEach((s, i) => {
    if (!isElement(s)) throw new StructureError(`unknown element ${JSON.stringify(s)} at site ${i}`, { ...where, field: where.field ?? 'species' });
  });
  let frac: Float64Array;
  if (input.frac !== undefined) frac = flatten(input.frac, 'frac_coords', where);
  else if (input.cart !== undefined) {
    const cart = flatten(input.cart, 'cart_coords', where);
    frac = cartToFracChecked(lattice, cart);
  } else throw new StructureError('no coordinates given (need fractional or Cartesian)', where);
  if (frac.length !== 3 * n) throw new StructureError(`${n} species but ${frac.length / 3} coordinate triples`, where);
  const siteWhere = (i: number, what: 'coordinates' | 'oxidation_states' = 'coordinates'): StructureErrorLocation => {
    const w = options.siteWhere ? options.siteWhere(i, what) : where;
    return { ...w, field: w.field ?? what };
  };
  for (let i = 0; i < 3 * n; i++) {
    if (!Number.isFinite(frac[i]!)) {
      throw new StructureError(`site ${Math.floor(i / 3)} (${species[Math.floor(i / 3)]}) has a non-finite coordinate (${frac[i]})`, siteWhere(Math.floor(i / 3)));
    }
    if (Math.abs(frac[i]!) > MAX_ABS_FRACTIONAL) {
      throw new StructureError(
        `site ${Math.floor(i / 3)} (${species[Math.floor(i / 3)]}) has the fractional coordinate ${frac[i]}${input.frac === undefined ? ' (from its Cartesian position)' : ''}, ` +
          `beyond ±${MAX_ABS_FRACTIONAL} cells: a Cartesian value given as fractional or a corrupt number (wrapping it into the cell would lose its digits)`,
        siteWhere(Math.floor(i / 3)),
      );
    }
  }
  let oxi: Float64Array | null = null;
  if (input.oxidationStates) {
    if (input.oxidationStates.length !== n) throw new StructureError(`${input.oxidationStates.length} oxidation states for ${n} sites`, { ...where, field: where.field ?? 'oxidation_states' });
    const arr = new Float64Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      const v = input.oxidationStates[i];
      if (v === null || v === undefined) arr[i] = Number.NaN;
      else {
        if (!Number.isFinite(v)) throw new StructureError(`oxidation state of site ${i} is ${v}`, siteWhere(i, 'oxidation_states'));
        if (Math.abs(v) > MAX_ABS_OXIDATION_STATE) {
          throw new StructureError(`oxidation state of site ${i} (${species[i]}) is ${v}, beyond ±${MAX_ABS_OXIDATION_STATE}: not an oxidation state`, siteWhere(i, 'oxidation_states'));
        }
        arr[i] = v;
        any = true;
      }
    }
    if (any) {
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(arr[i]!)) throw new StructureError(`site ${i} (${species[i]}) has no oxidation state while other sites do`, { ...where, field: where.field ?? 'oxidation_states' });
      }
      oxi = arr;
    }
  }
  const props: Record<string, readonly unknown[]> = {};
  for (const [k, v] of Object.entries(input.siteProperties ?? {})) {
    if (v.length !== n) throw new StructureError(`site property ${JSON.stringify(k)} has ${v.length} values for ${n} sites`, { ...where, field: where.field ?? 'site_properties' });
    props[k] = [...v];
  }
  const id = input.info?.id;
  if (id !== undefined) {
    if (typeof id !== 'string') throw new StructureError(`info.id must be a string, got ${typeof id === 'object' ? (id === null ? 'null' : 'an object') : typeof id}`, { ...where, field: where.field ?? 'id' });
    if (id.length > MAX_ID_LENGTH) throw new StructureError(`info.id is ${id.length} characters long, over the limit of ${MAX_ID_LENGTH}`, { ...where, field: where.field ?? 'id' });
  }
  const s: Structure = { lattice, species, frac, oxidationStates: oxi, siteProperties: props, info: { ...(input.info ?? {}) } };
  if (options.checkOverlap !== false) checkOverlap(s, where);
  return s;
}

function cartToFracChecked(lattice: Float64Array, cart: Float64Array): Float64Array {
  // lattice is known non-singular here
  const m = lattice;
  const d = det3(m);
  const inv = [
    (m[4]! * m[8]! - m[5]! * m[7]!) / d, (m[2]! * m[7]! - m[1]! * m[8]!) / d, (m[1]! * m[5]! - m[2]! * m[4]!) / d,
    (m[5]! * m[6]! - m[3]! * m[8]!) / d, (m[0]! * m[8]! - m[2]! * m[6]!) / d, (m[2]! * m[3]! - m[0]! * m[5]!) / d,
    (m[3]! * m[7]! - m[4]! * m[6]!) / d, (m[1]! * m[6]! - m[0]! * m[7]!) / d, (m[0]! * m[4]! - m[1]! * m[3]!) / d,
  ];
  return fracToCart(inv, cart);
}

/** Throws if two sites (any periodic images) are closer than {@link MIN_SITE_DISTANCE_ANG}. */
export function checkOverlap(s: Structure, where: StructureErrorLocation = {}): void {
  const cart = cartesian(s);
  const hit = minimumPairDistance(s.lattice, cart, MIN_SITE_DISTANCE_ANG);
  if (hit) {
    const { i, j, distance } = hit;
    throw new StructureError(
      i === j
        ? `site ${i} (${s.species[i]}) is ${distance.toFixed(4)} Å from its own periodic image (closer than ${MIN_SITE_DISTANCE_ANG} Å): the cell is too small`
        : `sites ${i} (${s.species[i]}) and ${j} (${s.species[j]}) are ${distance.toFixed(4)} Å apart (closer than ${MIN_SITE_DISTANCE_ANG} Å): overlapping atoms`,
      where,
    );
  }
}

/** Number of sites. */
export function siteCount(s: Structure): number {
  return s.species.length;
}

/** Cartesian coordinates (Å), 3·N. */
export function cartesian(s: Structure): Float64Array {
  return fracToCart(s.lattice, s.frac);
}

/** Cell volume, Å³ (positive also for a left-handed lattice). */
export function volume(s: Structure): number {
  return Math.abs(det3(s.lattice));
}

/** Density, g/cm³. */
export function density(s: Structure): number {
  let mass = 0;
  for (const sp of s.species) mass += element(sp).massAmu;
  // 1 amu/Å³ = 1.66053906660 g/cm³
  return (mass * 1.6605390666) / volume(s);
}

/** Element → count, in first-appearance order. */
export function composition(s: Structure): Map<string, number> {
  const c = new Map<string, number>();
  for (const sp of s.species) c.set(sp, (c.get(sp) ?? 0) + 1);
  return c;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Chemical formula, elements ordered by electronegativity (then symbol) as pymatgen does:
 * `formula(s)` gives the full cell formula `Ca4 F8`, `reducedFormula(s)` gives `CaF2`.
 */
export function formula(s: Structure): string {
  return orderedElements(s).map(([el, n]) => `${el}${n}`).join(' ');
}

export function reducedFormula(s: Structure): string {
  const els = orderedElements(s);
  const g = els.reduce((acc, [, n]) => gcd(acc, n), 0) || 1;
  return els.map(([el, n]) => (n / g === 1 ? el : `${el}${n / g}`)).join('');
}

function orderedElements(s: Structure): [string, number][] {
  return [...composition(s).entries()].sort((a, b) => {
    const xa = element(a[0]).electronegativity, xb = element(b[0]).electronegativity;
    const ka = Number.isNaN(xa) ? Infinity : xa, kb = Number.isNaN(xb) ? Infinity : xb;
    return ka - kb || a[0].localeCompare(b[0]);
  });
}

/** A copy with some fields replaced (validation is not repeated). */
export function withChanges(s: Structure, changes: Partial<Structure>): Structure {
  return { ...s, ...changes };
}
