/**
 * VASP input folders for the images stage: INCAR, KPOINTS, POSCAR and POTCAR.spec, built the way
 * pymatgen 2022.11.7's `MITRelaxSet(structure, user_incar_settings=overrides)` builds them, from
 * the bundled copy of its settings (data/reference-tables/vasp_MITRelaxSet.json with its parent
 * vasp_VASPIncarBase.json; provenance in data/README.md).
 *
 * Designs (the DDI/simmate fluoride workflow):
 * - `static`: the MIT relax set with ISYM = 0, NSW = 0, IBRION = −1, EDIFF = 1e-3, LDAU = False,
 *   one folder per image (start, midpoint, end). As in pymatgen, LDAU = False removes every LDAU*
 *   tag from the INCAR (VASP's default is no +U), so the file has no `LDAU` line at all.
 * - `relax`: endpoint relaxation, the MIT relax set with ISYM = 0, EDIFFG = −0.1.
 * - `neb`: the 1-image NEB, the MIT relax set with IMAGES = 1, ISYM = 0, EDIFFG = −0.1 and the
 *   POSCARs in 00/01/02.
 *
 * What pymatgen does and this module reproduces (tested against its output on bundled structures):
 * - sites are sorted by electronegativity, then species string (a stable sort), before anything;
 * - MAGMOM per site: the site property `magmom` if any site has one (others 1.0), else the set's
 *   value for the species with its oxidation state (`Mn3+`), else for the element, else 0.6;
 * - LDAUU/J/L (when LDAU is on) from the table of the most electronegative element, per POSCAR
 *   species block, 0 where the table has no entry; all LDAU* tags dropped when ΣU = 0;
 * - LMAXMIX = 6 with an element Z > 56, 4 with Z > 20; ISMEAR −5 → 0 with fewer than 4 k-points;
 * - string values normalised as `Incar.proc_val` does (`FAST` → `Fast`, `"11"` → 11);
 * - INCAR keys sorted, `KEY = value` lines, Python number formatting (`1e-05`, `4.0`), MAGMOM
 *   run-length encoded (`2*0.6 4*5.0`);
 * - KPOINTS: the set's rule `length: 25` → VASP's fully automatic scheme (`Kpoints.automatic`);
 *   with `kpoints: { gridDensity }` the `Kpoints.automatic_density` grid instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataPath } from '../paths.js';
import { element, isElement } from '../structure/elements.js';
import { latticeParameters } from '../structure/lattice.js';
import { formatSpecies } from '../structure/pymatgen-json.js';
import { writePoscar } from '../structure/poscar.js';
import { createStructure, type Structure } from '../structure/structure.js';

/** A number that pymatgen holds as a Python float and so writes as one even when integral (`4.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
}

export type IncarNumber = number | PyFloat;
export type IncarValue = boolean | string | IncarNumber | readonly IncarNumber[];
/** INCAR overrides in pymatgen's `user_incar_settings` sense: a value sets the tag, null removes it. */
export type IncarOverrides = Readonly<Record<string, IncarValue | null>>;

export type VaspDesign = 'static' | 'relax' | 'neb';
export const VASP_DESIGNS: readonly VaspDesign[] = ['static', 'relax', 'neb'];

/** The overrides each design applies on top of the MIT relax set. */
export const DESIGN_OVERRIDES: Readonly<Record<VaspDesign, IncarOverrides>> = {
  static: { ISYM: 0, NSW: 0, IBRION: -1, EDIFF: 1e-3, LDAU: false },
  relax: { ISYM: 0, EDIFFG: -0.1 },
  neb: { IMAGES: 1, ISYM: 0, EDIFFG: -0.1 },
};

export interface VaspKpoints {
  comment: string;
  /** VASP generation style. */
  style: 'Automatic' | 'Gamma' | 'Monkhorst';
  /** Automatic: one number (the length parameter); Gamma/Monkhorst: the three subdivisions. */
  kpts: number[];
}

export interface VaspKpointsOption {
  /** `Kpoints.automatic_density`: k-points per reciprocal atom (kppa). Default: the set's `length: 25` rule. */
  gridDensity?: number;
}

export interface VaspInputSetOptions {
  /** K-point rule; default the MIT set's. */
  kpoints?: VaspKpointsOption;
}

export interface VaspInputSet {
  /** The structure as written to POSCAR: sites sorted as pymatgen sorts them. */
  structure: Structure;
  /** INCAR tags (render with {@link renderIncar}). */
  incar: Record<string, IncarValue>;
  kpoints: VaspKpoints;
  /** Element of each POSCAR species block, in order. */
  poscarSymbols: string[];
  /** POTCAR symbol of each species block (POTCAR.spec, one a line). */
  potcarSymbols: string[];
}

export class VaspInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaspInputError';
  }
}

// ---------------------------------------------------------------------------------------------
// Settings (parsed once, keeping Python's int/float distinction of the source YAML)
// ---------------------------------------------------------------------------------------------

type ConfigValue = boolean | string | IncarNumber | null | ConfigValue[] | { [k: string]: ConfigValue };
interface SetConfig {
  INCAR: Record<string, ConfigValue>;
  KPOINTS: { length?: number };
  POTCAR: Record<string, { symbol: string }>;
}

const FLOAT_TAG = '__pyfloat__';

/**
 * JSON.parse that keeps integral numbers written with a decimal point or exponent (`4.0`) as
 * {@link PyFloat}: the tokens are strings or numbers, so matching strings first leaves only real
 * number literals to inspect.
 */
function parseJsonKeepingFloats(text: string): unknown {
  const tagged = text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (tok) => {
    if (tok.startsWith('"') || !/[.eE]/.test(tok) || !Number.isInteger(Number(tok))) return tok;
    return `{"${FLOAT_TAG}":${tok}}`;
  });
  return JSON.parse(tagged, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && FLOAT_TAG in v) return new PyFloat((v as Record<string, number>)[FLOAT_TAG]!);
    return v;
  });
}

let mitConfig: SetConfig | null = null;

/** MITRelaxSet merged with its parent as pymatgen's `_load_yaml_config` does (parent dict keys win). */
function mitRelaxConfig(): SetConfig {
  if (mitConfig) return mitConfig;
  const load = (name: string): Record<string, unknown> =>
    (parseJsonKeepingFloats(readFileSync(dataPath('reference-tables', name), 'utf8')) as { data: Record<string, unknown> }).data;
  const child = load('vasp_MITRelaxSet.json');
  const parent = load('vasp_VASPIncarBase.json');
  for (const [k, v] of Object.entries(parent)) {
    if (!(k in child)) child[k] = v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) child[k] = { ...(child[k] as object), ...(v as object) };
  }
  mitConfig = child as unknown as SetConfig;
  return mitConfig;
}

// ---------------------------------------------------------------------------------------------
// pymatgen's Incar.proc_val for string values
// ---------------------------------------------------------------------------------------------

const BOOL_KEYS = new Set(['LDAU', 'LWAVE', 'LSCALU', 'LCHARG', 'LPLANE', 'LUSE_VDW', 'LHFCALC', 'ADDGRID', 'LSORBIT', 'LNONCOLLINEAR']);
const FLOAT_KEYS = new Set(['EDIFF', 'SIGMA', 'TIME', 'ENCUTFOCK', 'HFSCREEN', 'POTIM', 'EDIFFG', 'AGGAC', 'PARAM1', 'PARAM2']);
const INT_KEYS = new Set(['NSW', 'NBANDS', 'NELMIN', 'ISIF', 'IBRION', 'ISPIN', 'ICHARG', 'NELM', 'ISMEAR', 'NPAR', 'LDAUPRINT', 'LMAXMIX', 'ENCUT', 'NSIM', 'NKRED', 'NUPDOWN', 'ISPIND', 'LDAUTYPE', 'IVDW']);
const LIST_KEYS = new Set(['LDAUU', 'LDAUL', 'LDAUJ', 'MAGMOM', 'DIPOL', 'LANGEVIN_GAMMA', 'QUAD_EFG', 'EINT']);

function smartNumber(tok: string): IncarNumber {
  const v = Number(tok);
  return /[.eE]/.test(tok) && Number.isInteger(v) ? new PyFloat(v) : v;
}

/** Python `int(s)` / `float(s)` acceptance (surrounding blanks allowed). */
const PY_INT = /^\s*[+-]?\d+\s*$/;
const PY_FLOAT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

function procString(key: string, raw: string): IncarValue {
  const val = raw.trim();
  if (LIST_KEYS.has(key)) {
    const out: IncarNumber[] = [];
    for (const m of val.matchAll(/(-?\d+\.?\d*)\*?(-?\d+\.?\d*)?\*?(-?\d+\.?\d*)?/g)) {
      const [, a, b, c] = m;
      if (c && a!.includes('3')) for (let k = 0; k < Number(a) * Number(b); k++) out.push(smartNumber(c));
      else if (b) for (let k = 0; k < Number(a); k++) out.push(smartNumber(b));
      else out.push(smartNumber(a!));
    }
    return out;
  }
  if (BOOL_KEYS.has(key)) {
    const m = /^\.?([T|F|t|f])[A-Za-z]*\.?/.exec(val);
    if (m) return m[1]!.toLowerCase() === 't';
  } else if (FLOAT_KEYS.has(key)) {
    const m = /^-?\d*\.?\d*[e|E]?-?\d*/.exec(val)![0];
    if (PY_FLOAT.test(m)) return new PyFloat(Number(m));
  } else if (INT_KEYS.has(key)) {
    const m = /^-?[0-9]+/.exec(val);
    if (m) return Number(m[0]);
  }
  if (PY_INT.test(val)) return Number(val);
  if (PY_FLOAT.test(val) || /^\s*[+-]?(inf|infinity|nan)\s*$/i.test(val)) return new PyFloat(Number(val.replace(/inf(inity)?/i, 'Infinity')));
  if (val.toLowerCase().includes('true')) return true;
  if (val.toLowerCase().includes('false')) return false;
  return val.charAt(0).toUpperCase() + val.slice(1).toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Python number formatting
// ---------------------------------------------------------------------------------------------

/** Python `repr(float)`: shortest round-trip digits; exponent form below 1e-4 or from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${neg ? '-' : ''}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  let s: string;
  if (exp < 0) s = `0.${'0'.repeat(-exp - 1)}${digits}`;
  else if (digits.length <= exp + 1) s = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  else s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return (neg ? '-' : '') + s;
}

/** Python `str()` of an INCAR number: ints plain, floats (and {@link PyFloat}) as repr. */
function pyNumber(v: IncarNumber): string {
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  return Number.isInteger(v) && Math.abs(v) < 2 ** 53 ? String(v) : pyFloatRepr(v);
}

function numberValue(v: IncarNumber): number {
  return v instanceof PyFloat ? v.value : v;
}

// ---------------------------------------------------------------------------------------------
// The input set
// ---------------------------------------------------------------------------------------------

function electronegativity(el: string): number {
  return element(el).electronegativity;
}

/** pymatgen's `Structure.get_sorted_structure()`: stable sort by (electronegativity, species string). */
function sortedSites(s: Structure): number[] {
  const label = (i: number): string => formatSpecies(s.species[i]!, s.oxidationStates ? s.oxidationStates[i] : null);
  const order = s.species.map((_, i) => i);
  // Python's sort only asks "a < b"; with NaN electronegativity both comparisons are false and the
  // species string decides, exactly as Site.__lt__ falls through.
  const lt = (a: number, b: number): boolean => {
    const xa = electronegativity(s.species[a]!);
    const xb = electronegativity(s.species[b]!);
    if (xa < xb) return true;
    if (xa > xb) return false;
    return label(a) < label(b);
  };
  return order.sort((a, b) => (lt(a, b) ? -1 : lt(b, a) ? 1 : 0));
}

function checkOverrides(overrides: IncarOverrides): void {
  for (const [k, v] of Object.entries(overrides)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(k)) throw new VaspInputError(`INCAR override ${JSON.stringify(k)}: tags are upper-case letters, digits and _`);
    const okNumber = (x: unknown): boolean => (typeof x === 'number' && Number.isFinite(x)) || (x instanceof PyFloat && Number.isFinite(x.value));
    const ok = v === null || typeof v === 'boolean' || typeof v === 'string' || okNumber(v) || (Array.isArray(v) && v.every(okNumber));
    if (!ok) throw new VaspInputError(`INCAR override ${k}: expected a boolean, string, finite number or list of finite numbers (or null to remove it), got ${describe(v)}`);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  if (v instanceof PyFloat) return `PyFloat(${v.value})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function automaticDensity(s: Structure, kppaIn: number): VaspKpoints {
  let kppa = kppaIn;
  const comment = `pymatgen with grid density = ${pyRoundFixed0(kppa)} / number of atoms`;
  if (Math.abs(Math.floor(Math.cbrt(kppa) + 0.5) ** 3 - kppa) < 1) kppa += kppa * 0.01;
  const p = latticeParameters(s.lattice);
  const lengths = [p.a, p.b, p.c];
  const ngrid = kppa / s.species.length;
  const mult = (ngrid * p.a * p.b * p.c) ** (1 / 3);
  const numDiv = lengths.map((l) => Math.floor(Math.max(mult / l, 1)));
  // Lattice.is_hexagonal: two right angles, one 60/120° angle (5° tolerance), equal lengths on the right-angle axes (0.01 Å)
  const angles = [p.alpha, p.beta, p.gamma];
  const right = [0, 1, 2].filter((i) => Math.abs(angles[i]! - 90) < 5);
  const hex = [0, 1, 2].filter((i) => Math.abs(angles[i]! - 60) < 5 || Math.abs(angles[i]! - 120) < 5);
  const isHex = right.length === 2 && hex.length === 1 && Math.abs(lengths[right[0]!]! - lengths[right[1]!]!) < 0.01;
  const style = numDiv.some((d) => d % 2 === 1) || isHex ? 'Gamma' : 'Monkhorst';
  return { comment, style, kpts: numDiv };
}

/** Python `f"{x:.0f}"` (round half to even). */
function pyRoundFixed0(x: number): string {
  const r = Math.round(x);
  const v = Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return String(v === 0 ? 0 : v);
}

/**
 * The MIT relax set for `structure` with the design's overrides, then `overrides` (pymatgen's
 * `user_incar_settings`: a value sets a tag, null removes it). Throws {@link VaspInputError} for an
 * unknown design, invalid overrides, a vector `magmom` site property or an invalid k-point option.
 */
export function vaspInputSet(structure: Structure, design: VaspDesign, overrides: IncarOverrides = {}, options: VaspInputSetOptions = {}): VaspInputSet {
  if (!VASP_DESIGNS.includes(design)) throw new VaspInputError(`unknown VASP design ${JSON.stringify(design)}; choose from ${VASP_DESIGNS.join(', ')}`);
  checkOverrides(overrides);
  const gd = options.kpoints?.gridDensity;
  if (gd !== undefined && !(typeof gd === 'number' && Number.isFinite(gd) && gd > 0)) {
    throw new VaspInputError(`kpoints.gridDensity must be a positive number of k-points per reciprocal atom, got ${describe(gd)}`);
  }
  const cfg = mitRelaxConfig();
  const user: IncarOverrides = { ...DESIGN_OVERRIDES[design], ...overrides };

  // Structure in pymatgen's order
  const order = sortedSites(structure);
  const n = order.length;
  const frac = new Float64Array(3 * n);
  order.forEach((src, i) => frac.set(structure.frac.subarray(3 * src, 3 * src + 3), 3 * i));
  const siteProperties: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(structure.siteProperties)) siteProperties[k] = order.map((i) => v[i]);
  const sorted = createStructure(
    {
      lattice: structure.lattice,
      species: order.map((i) => structure.species[i]!),
      frac,
      oxidationStates: structure.oxidationStates ? order.map((i) => structure.oxidationStates![i]!) : null,
      siteProperties,
      info: { ...structure.info },
    },
    { checkOverlap: false, allowLeftHanded: true },
  );
  const species = sorted.species;
  const labels = species.map((el, i) => formatSpecies(el, sorted.oxidationStates ? sorted.oxidationStates[i] : null));
  const poscarSymbols: string[] = [];
  for (const el of species) if (poscarSymbols[poscarSymbols.length - 1] !== el) poscarSymbols.push(el);
  const elements: string[] = [];
  for (const el of species) if (!elements.includes(el)) elements.push(el);
  for (const el of elements) if (!isElement(el)) throw new VaspInputError(`unknown element ${JSON.stringify(el)}`);

  // Site magmoms as get_valid_magmom_struct(spin_mode="auto") leaves them: scalars only, gaps 1.0
  const magProp = sorted.siteProperties['magmom'];
  let siteMagmoms: number[] | null = null;
  if (magProp && magProp.some((m) => m !== null && m !== undefined)) {
    siteMagmoms = magProp.map((m, i) => {
      if (m === null || m === undefined) return 1.0;
      if (typeof m !== 'number' || !Number.isFinite(m)) throw new VaspInputError(`site property magmom of site ${order[i]} (${species[i]}): only scalar (collinear) magnetic moments are supported, got ${describe(m)}`);
      return m;
    });
  }

  // settings = set INCAR with the user settings applied (None removes)
  const settings: Record<string, ConfigValue> = { ...cfg.INCAR };
  for (const [k, v] of Object.entries(user)) {
    if (v === null) delete settings[k];
    else settings[k] = v as ConfigValue;
  }
  // pymatgen tests `settings.get("LDAU", False)` for Python truthiness, before any string parsing
  const ldau = settings['LDAU'];
  const hubbardU = ldau !== undefined && ldau !== null && ldau !== false && ldau !== '' && !(typeof ldau === 'number' && ldau === 0) && !(ldau instanceof PyFloat && ldau.value === 0);
  let mostElectroneg = elements[0]!;
  for (const el of elements) if (electronegativity(el) >= electronegativity(mostElectroneg)) mostElectroneg = el;

  const incar: Record<string, IncarValue> = {};
  const put = (k: string, v: ConfigValue): void => {
    if (typeof v === 'string') incar[k] = procString(k, v);
    else incar[k] = v as IncarValue;
  };
  for (const [k, v] of Object.entries(settings)) {
    if (k === 'MAGMOM') {
      const table = (v ?? {}) as Record<string, ConfigValue>;
      incar[k] = species.map((el, i) => {
        if (siteMagmoms) return siteMagmoms[i]!;
        const byLabel = table[labels[i]!];
        if (byLabel !== undefined) return byLabel as IncarNumber;
        const byElement = table[el];
        return byElement !== undefined ? (byElement as IncarNumber) : 0.6;
      });
    } else if (k === 'LDAUU' || k === 'LDAUJ' || k === 'LDAUL') {
      if (!hubbardU) continue;
      const table = v as Record<string, ConfigValue>;
      const anion = table[mostElectroneg];
      if (anion !== null && typeof anion === 'object' && !Array.isArray(anion) && !(anion instanceof PyFloat)) {
        const t = anion as Record<string, ConfigValue>;
        incar[k] = poscarSymbols.map((sym) => (t[sym] ?? 0) as IncarNumber);
      } else {
        incar[k] = poscarSymbols.map((sym) => {
          const x = table[sym] ?? 0;
          return typeof x === 'number' || x instanceof PyFloat ? x : 0;
        });
      }
    } else if (k.startsWith('EDIFF') && k !== 'EDIFFG') {
      const e = settings['EDIFF'];
      if (!('EDIFF' in settings) && k === 'EDIFF_PER_ATOM') incar['EDIFF'] = new PyFloat(Number(v) * n);
      else incar['EDIFF'] = new PyFloat(typeof e === 'string' ? numberValue(procString('EDIFF', e) as IncarNumber) : Number(e));
    } else put(k, v);
  }
  const ldauu = incar['LDAUU'];
  const hasU = hubbardU && Array.isArray(ldauu) && ldauu.reduce((a: number, x: IncarNumber) => a + numberValue(x), 0) > 0;
  if (!hasU) for (const k of Object.keys(incar)) if (k.startsWith('LDAU')) delete incar[k];
  if (!('LMAXMIX' in settings)) {
    if (elements.some((el) => element(el).z > 56)) incar['LMAXMIX'] = 6;
    else if (elements.some((el) => element(el).z > 20)) incar['LMAXMIX'] = 4;
  }

  const kpoints: VaspKpoints =
    gd !== undefined
      ? automaticDensity(sorted, Math.trunc(gd))
      : { comment: 'Fully automatic kpoint scheme', style: 'Automatic', kpts: [cfg.KPOINTS.length ?? 25] };
  const nk = kpoints.kpts.reduce((a, b) => a * b, 1);
  const ismear = incar['ISMEAR'];
  if (nk < 4 && ismear !== undefined && typeof ismear !== 'boolean' && typeof ismear !== 'string' && !Array.isArray(ismear) && numberValue(ismear as IncarNumber) === -5) incar['ISMEAR'] = 0;

  const potcarSymbols = poscarSymbols.map((el) => cfg.POTCAR[el]?.symbol ?? el);
  return { structure: sorted, incar, kpoints, poscarSymbols, potcarSymbols };
}

/** INCAR text as pymatgen's `str(Incar)` writes it: sorted keys, `KEY = value` lines. */
export function renderIncar(incar: Readonly<Record<string, IncarValue>>): string {
  const lines: string[] = [];
  for (const k of Object.keys(incar).sort()) {
    const v = incar[k]!;
    let text: string;
    if (k === 'MAGMOM' && Array.isArray(v)) {
      const parts: string[] = [];
      let i = 0;
      while (i < v.length) {
        const x = numberValue(v[i]!);
        let j = i + 1;
        while (j < v.length && numberValue(v[j]!) === x) j++;
        parts.push(`${j - i}*${pyFloatRepr(x)}`);
        i = j;
      }
      text = parts.join(' ');
    } else if (Array.isArray(v)) text = v.map((x: IncarNumber) => pyNumber(x)).join(' ');
    else if (typeof v === 'boolean') text = v ? 'True' : 'False';
    else if (typeof v === 'string') text = v;
    else text = pyNumber(v as IncarNumber);
    lines.push(`${k} = ${text}`);
  }
  return lines.join('\n') + '\n';
}

/** KPOINTS text as pymatgen's `str(Kpoints)` writes automatic schemes (zero shift omitted). */
export function renderKpoints(k: VaspKpoints): string {
  return [k.comment, '0', k.style, k.kpts.map(String).join(' ')].join('\n') + '\n';
}

/** POTCAR.spec as pymatgen writes it (`potcar_spec=True`): symbols joined by newlines, no final newline. */
export function renderPotcarSpec(symbols: readonly string[]): string {
  return symbols.join('\n');
}

/** A folder's files by relative path (`/`-separated). */
export type FolderFiles = Record<string, string>;

/** The files of one input folder: INCAR, KPOINTS, POTCAR.spec, and a POSCAR per structure (in `sub`, or the folder itself). */
function inputFiles(set: VaspInputSet, poscars: { sub: string; structure: Structure }[], prefix = ''): FolderFiles {
  const files: FolderFiles = {};
  files[`${prefix}INCAR`] = renderIncar(set.incar);
  files[`${prefix}KPOINTS`] = renderKpoints(set.kpoints);
  files[`${prefix}POTCAR.spec`] = renderPotcarSpec(set.potcarSymbols);
  for (const p of poscars) files[`${prefix}${p.sub ? `${p.sub}/` : ''}POSCAR`] = writePoscar(p.structure);
  return files;
}


/** The files of one VASP input folder (INCAR, KPOINTS, POSCAR, POTCAR.spec) for `structure` with the `static` or `relax` design. */
export function vaspFolderFiles(structure: Structure, design: 'static' | 'relax', overrides: IncarOverrides = {}, options: VaspInputSetOptions = {}): { set: VaspInputSet; files: FolderFiles } {
  if (design !== 'static' && design !== 'relax') throw new VaspInputError(`writeVaspFolder: design must be static or relax (use writeNebFolder for neb), got ${JSON.stringify(design)}`);
  const set = vaspInputSet(structure, design, overrides, options);
  return { set, files: inputFiles(set, [{ sub: '', structure: set.structure }]) };
}


/** `s` sorted as pymatgen sorts it, checked to list the same species in the same order as the start image `ref`. */
function sameOrder(s: Structure, ref: Structure, what: string): Structure {
  const set = vaspInputSet(s, 'relax');
  if (set.structure.species.join(' ') !== ref.species.join(' ')) {
    throw new VaspInputError(`NEB ${what} image has species ${set.structure.species.join(' ')} after sorting, the start image ${ref.species.join(' ')}: the images must hold the same sites in the same order`);
  }
  return set.structure;
}

/**
 * The files of the endpoint-relax + 1-image NEB design: `relax_start/` and `relax_end/` (the `relax`
 * design on the endpoints) and `neb/` (INCAR/KPOINTS/POTCAR.spec of the `neb` design from the start
 * image, POSCARs in `neb/00`, `neb/01`, `neb/02`). `images` = [start, mid, end].
 */
export function nebFolderFiles(images: readonly Structure[], overrides: IncarOverrides = {}, options: VaspInputSetOptions = {}): { relaxStart: VaspInputSet; relaxEnd: VaspInputSet; neb: VaspInputSet; files: FolderFiles } {
  if (images.length !== 3) throw new VaspInputError(`writeNebFolder: expected 3 images (start, midpoint, end), got ${images.length}`);
  const neb = vaspInputSet(images[0]!, 'neb', overrides, options);
  const mid = sameOrder(images[1]!, neb.structure, 'midpoint');
  const end = sameOrder(images[2]!, neb.structure, 'end');
  const rs = vaspFolderFiles(images[0]!, 'relax', overrides, options);
  const re = vaspFolderFiles(images[2]!, 'relax', overrides, options);
  const files: FolderFiles = {};
  for (const [n, t] of Object.entries(rs.files)) files[`relax_start/${n}`] = t;
  for (const [n, t] of Object.entries(re.files)) files[`relax_end/${n}`] = t;
  Object.assign(files, inputFiles(neb, [
    { sub: '00', structure: neb.structure },
    { sub: '01', structure: mid },
    { sub: '02', structure: end },
  ], 'neb/'));
  return { relaxStart: rs.set, relaxEnd: re.set, neb, files };
}


/**
 * The files of the static start/mid/end design: `start/`, `mid/`, `end/`, each a complete `static`
 * folder. `images` = [start, mid, end].
 */
export function staticFolderFiles(images: readonly Structure[], overrides: IncarOverrides = {}, options: VaspInputSetOptions = {}): { sets: VaspInputSet[]; files: FolderFiles } {
  if (images.length !== 3) throw new VaspInputError(`writeStaticFolders: expected 3 images (start, midpoint, end), got ${images.length}`);
  const files: FolderFiles = {};
  const sets = (['start', 'mid', 'end'] as const).map((name, k) => {
    const f = vaspFolderFiles(images[k]!, 'static', overrides, options);
    for (const [n, t] of Object.entries(f.files)) files[`${name}/${n}`] = t;
    return f.set;
  });
  return { sets, files };
}

