/**
 * CIF (Crystallographic Information File, CIF 1.1 syntax): reader and writer.
 *
 * Reader
 * - Syntax: `data_` blocks (several per file), `loop_`, `#` comments, 'single' / "double" quoted
 *   values (a quote closes only when followed by whitespace or the end of the line), `;` text
 *   fields, standard uncertainties (`5.4631(2)` → 5.4631), `?` / `.` = unknown. Tags are matched
 *   case-insensitively.
 * - Cell: `_cell_length_a/b/c` (Å), `_cell_angle_alpha/beta/gamma` (degrees) → lattice in
 *   pymatgen's `Lattice.from_parameters` orientation.
 * - Symmetry: `_symmetry_equiv_pos_as_xyz`, `_space_group_symop_operation_xyz` or the DDLm names
 *   `_space_group_symop.operation_xyz` / `_symmetry_equiv.pos_as_xyz`. Without operations the
 *   identity is used, unless a space group other than P1 is named (then it is an error).
 * - Sites: the `_atom_site_` loop, `_atom_site_fract_x/y/z` or `_atom_site_Cartn_x/y/z` (Å, in the
 *   CIF default frame: a along x, b in the xy plane), element from `_atom_site_type_symbol`
 *   (preferred) or `_atom_site_label`. Oxidation states from `_atom_type_oxidation_number` (matched
 *   by type symbol) or from the type symbol itself (`Ca2+`, `F1-`). Occupancy must be 1 (±1e-4).
 * - Expansion: every operation is applied to every site and the result wrapped to [0, 1). Images
 *   of the same site closer than {@link CIF_MERGE_TOLERANCE_ANG} (periodic Cartesian distance) are
 *   merged, keeping the first; images of *different* sites that coincide are disorder and rejected.
 *   Site order: asymmetric sites in file order, each followed by its distinct images in operation
 *   order (deterministic).
 * - info: `id` = block name (unless it is just the reduced formula), `cif_block`, `spacegroup`
 *   (H-M symbol when given).
 *
 * Writer: P1 CIF with cell parameters, the identity operation, an `_atom_type` oxidation-number
 * loop when the structure has oxidation states, and one `_atom_site_` row per site.
 */
import { StructureError, type StructureErrorLocation } from './errors.js';
import { parseSpeciesLabel } from './elements.js';
import { det3, fracToCart, inv3, latticeFromParameters, latticeParameters, perpendicularHeights } from './lattice.js';
import { cartesian, composition, createStructure, formula, MIN_SITE_DISTANCE_ANG, reducedFormula, type Structure } from './structure.js';
import { formatSpecies } from './pymatgen-json.js';
import { buildItems, checkId, itemStructures, type ReadItem, type ReaderOptions } from './read-common.js';
import { MAX_ABS_FRACTIONAL, MAX_LATTICE_VECTOR_ANG, RAISE_SITES, readLimits } from './limits.js';
import { overlapError } from './poscar.js';
import { minimumPairDistance } from './pair-distance.js';

/** Symmetry-equivalent images closer than this (Å, periodic) are the same atom. */
export const CIF_MERGE_TOLERANCE_ANG = 0.01;

/** Occupancies within this of 1 count as fully occupied. */
export const CIF_OCCUPANCY_TOLERANCE = 1e-4;

// ---------------------------------------------------------------------------------------------
// Tokenizer and block parser
// ---------------------------------------------------------------------------------------------

interface CifToken {
  kind: 'tag' | 'value' | 'loop' | 'data' | 'save' | 'global' | 'stop';
  text: string;
  /** 1-based line of the token's start. */
  line: number;
  quoted: boolean;
}

function tokenize(text: string, file: string | undefined): CifToken[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const toks: CifToken[] = [];
  const scan = (s: string, lineNo: number): void => {
    let i = 0;
    const n = s.length;
    while (i < n) {
      const c = s[i]!;
      if (c === ' ' || c === '\t') {
        i++;
        continue;
      }
      if (c === '#') return;
      if (c === "'" || c === '"') {
        let j = i + 1;
        for (;;) {
          j = s.indexOf(c, j);
          if (j < 0) throw new StructureError(`unterminated ${c === "'" ? 'single' : 'double'}-quoted value starting at column ${i + 1}`, { file, line: lineNo });
          if (j + 1 >= n || s[j + 1] === ' ' || s[j + 1] === '\t') break;
          j++;
        }
        toks.push({ kind: 'value', text: s.slice(i + 1, j), line: lineNo, quoted: true });
        i = j + 1;
        continue;
      }
      let j = i;
      while (j < n && s[j] !== ' ' && s[j] !== '\t') j++;
      const word = s.slice(i, j);
      const lower = word.toLowerCase();
      let kind: CifToken['kind'] = 'value';
      if (word[0] === '_') kind = 'tag';
      else if (lower === 'loop_') kind = 'loop';
      else if (lower.startsWith('data_')) kind = 'data';
      else if (lower.startsWith('save_')) kind = 'save';
      else if (lower === 'global_') kind = 'global';
      else if (lower === 'stop_') kind = 'stop';
      toks.push({ kind, text: word, line: lineNo, quoted: false });
      i = j;
    }
  };
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!;
    if (line.startsWith(';')) {
      const start = li;
      const parts = [line.slice(1)];
      li++;
      while (li < lines.length && !lines[li]!.startsWith(';')) parts.push(lines[li++]!);
      if (li >= lines.length) throw new StructureError(`unterminated text field: the ';' field opened on line ${start + 1} is never closed`, { file, line: start + 1 });
      const body = parts[0]!.trim() === '' ? parts.slice(1) : parts;
      toks.push({ kind: 'value', text: body.join('\n'), line: start + 1, quoted: true });
      scan(lines[li]!.slice(1), li + 1);
      continue;
    }
    scan(line, li + 1);
  }
  return toks;
}

interface CifLoop {
  /** Lower-case tags. */
  tags: string[];
  line: number;
  rows: CifToken[][];
}

interface CifBlock {
  name: string;
  line: number;
  /** Lower-case tag → value token (non-loop items). */
  items: Map<string, CifToken>;
  /** Lower-case tag → line of the tag. */
  itemLines: Map<string, number>;
  loops: CifLoop[];
}

function parseBlocks(toks: CifToken[], file: string | undefined): CifBlock[] {
  const blocks: CifBlock[] = [];
  let cur: CifBlock | null = null;
  let p = 0;
  const current = (t: CifToken): CifBlock => {
    if (!cur) throw new StructureError(`${JSON.stringify(t.text.slice(0, 40))} appears before the first data_ block`, { file, line: t.line });
    return cur;
  };
  while (p < toks.length) {
    const t = toks[p]!;
    switch (t.kind) {
      case 'data':
        cur = { name: t.text.slice(5), line: t.line, items: new Map(), itemLines: new Map(), loops: [] };
        blocks.push(cur);
        p++;
        break;
      case 'tag': {
        const b = current(t);
        const v = toks[p + 1];
        if (!v || v.kind !== 'value') {
          throw new StructureError(`tag ${t.text} has no value${v ? ` (next is ${JSON.stringify(v.text.slice(0, 30))} on line ${v.line})` : ' (end of file)'}`, { file, line: t.line, field: t.text });
        }
        b.items.set(t.text.toLowerCase(), v);
        b.itemLines.set(t.text.toLowerCase(), t.line);
        p += 2;
        break;
      }
      case 'loop': {
        const b = current(t);
        p++;
        const tags: string[] = [];
        while (p < toks.length && toks[p]!.kind === 'tag') tags.push(toks[p++]!.text.toLowerCase());
        if (tags.length === 0) throw new StructureError('loop_ without tags', { file, line: t.line });
        const values: CifToken[] = [];
        while (p < toks.length && toks[p]!.kind === 'value') values.push(toks[p++]!);
        if (values.length % tags.length !== 0) {
          const lastLine = values.length ? values[values.length - 1]!.line : t.line;
          throw new StructureError(
            `loop of ${tags.length} columns (${tags.slice(0, 4).join(', ')}${tags.length > 4 ? ', ...' : ''}) has ${values.length} values, not a multiple of ${tags.length}: ` +
              `the loop is truncated or a row has a missing or unquoted value with spaces (loop ends at line ${lastLine})`,
            { file, line: t.line, field: tags[0] },
          );
        }
        const rows: CifToken[][] = [];
        for (let k = 0; k < values.length; k += tags.length) rows.push(values.slice(k, k + tags.length));
        b.loops.push({ tags, line: t.line, rows });
        break;
      }
      case 'value':
        current(t);
        throw new StructureError(`value ${JSON.stringify(t.text.slice(0, 40))} without a tag`, { file, line: t.line });
      case 'save':
        throw new StructureError('save frames (save_) are not supported in structure CIFs', { file, line: t.line });
      case 'global':
      case 'stop':
        throw new StructureError(`${t.text} is not supported`, { file, line: t.line });
    }
  }
  return blocks;
}

/** Values of a tag from a loop or a single item; null when absent. */
function column(b: CifBlock, tag: string): { values: CifToken[]; line: number } | null {
  const t = tag.toLowerCase();
  for (const l of b.loops) {
    const k = l.tags.indexOf(t);
    if (k >= 0) return { values: l.rows.map((r) => r[k]!), line: l.line };
  }
  const v = b.items.get(t);
  return v ? { values: [v], line: b.itemLines.get(t)! } : null;
}

function firstColumn(b: CifBlock, tags: readonly string[]): { tag: string; values: CifToken[]; line: number } | null {
  for (const tag of tags) {
    const c = column(b, tag);
    if (c) return { tag, ...c };
  }
  return null;
}

function isUnknown(t: CifToken): boolean {
  const s = t.text.trim();
  return s === '?' || s === '.';
}

const CIF_NUMBER_RE = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:\(\d+\))?$/;

/** Numeric value of a token (s.u. stripped); null for `?` / `.`. */
function cifNumber(t: CifToken, field: string, file: string | undefined): number | null {
  if (isUnknown(t)) return null;
  const m = CIF_NUMBER_RE.exec(t.text.trim());
  if (!m) throw new StructureError(`not a number: ${JSON.stringify(t.text)}`, { file, line: t.line, field });
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------------
// Symmetry operations
// ---------------------------------------------------------------------------------------------

/** A symmetry operation on fractional coordinates: f' = R·f + t. */
export interface SymmetryOperation {
  /** Row-major 3×3 integer-valued matrix. */
  rotation: number[];
  /** Translation, fractional. */
  translation: [number, number, number];
}

/**
 * Parse an xyz symmetry-operation string such as `x, y, z`, `-x+1/2, y, -z`, `x-y,x,z+1/2`,
 * `1/2+X`, `0.5-y` (spaces optional, case-insensitive). Throws a {@link StructureError} at `where`.
 */
export function parseSymmetryOperation(op: string, where: StructureErrorLocation = {}): SymmetryOperation {
  const bad = (why: string) => new StructureError(`cannot parse symmetry operation ${JSON.stringify(op)}: ${why}`, where);
  const parts = op.split(',');
  if (parts.length !== 3) throw bad(`expected 3 comma-separated components, found ${parts.length}`);
  const rotation: number[] = [];
  const translation: [number, number, number] = [0, 0, 0];
  const numRe = /^(\d+\.?\d*|\.\d+)(?:\/(\d+\.?\d*|\.\d+))?/;
  parts.forEach((raw, r) => {
    const s = raw.replace(/\s+/g, '').toLowerCase();
    if (s === '') throw bad(`component ${r + 1} is empty`);
    const row = [0, 0, 0];
    let i = 0;
    let first = true;
    while (i < s.length) {
      let sign = 1;
      if (s[i] === '+' || s[i] === '-') {
        sign = s[i] === '-' ? -1 : 1;
        i++;
      } else if (!first) throw bad(`unexpected ${JSON.stringify(s[i])} in ${JSON.stringify(s)}`);
      let coef: number | null = null;
      const m = numRe.exec(s.slice(i));
      if (m) {
        const den = m[2] !== undefined ? Number(m[2]) : 1;
        if (den === 0) throw bad('division by zero');
        coef = Number(m[1]) / den;
        i += m[0].length;
        if (s[i] === '*') i++;
      }
      const v = s[i];
      if (v === 'x' || v === 'y' || v === 'z') {
        row['xyz'.indexOf(v)]! += sign * (coef ?? 1);
        i++;
        if (s[i] === '/') {
          // `x/2` style
          const d = numRe.exec(s.slice(i + 1));
          if (!d || d[2] !== undefined) throw bad(`bad divisor in ${JSON.stringify(s)}`);
          row['xyz'.indexOf(v)]! /= Number(d[1]);
          i += 1 + d[0].length;
        }
      } else {
        if (coef === null) throw bad(`unexpected ${v === undefined ? 'end' : JSON.stringify(v)} in ${JSON.stringify(s)}`);
        translation[r] += sign * coef;
      }
      first = false;
    }
    rotation.push(...row);
  });
  // A symmetry operation maps the lattice onto itself: its matrix in the lattice basis is integral.
  const frac = rotation.findIndex((v) => Math.abs(v - Math.round(v)) > 1e-6);
  if (frac >= 0) throw bad(`the coefficient ${rotation[frac]} of ${'xyz'[frac % 3]} in component ${Math.floor(frac / 3) + 1} is not an integer, so the operation does not map the lattice onto itself`);
  const d = det3(rotation);
  if (Math.abs(Math.abs(d) - 1) > 1e-6) throw bad(`the rotation part has determinant ${d}, not ±1`);
  const far = translation.findIndex((t) => !(Math.abs(t) <= MAX_ABS_FRACTIONAL));
  if (far >= 0) throw bad(`the translation ${translation[far]} of component ${far + 1} is beyond ±${MAX_ABS_FRACTIONAL} cells`);
  return { rotation: rotation.map((v) => Math.round(v)), translation };
}

const SYMOP_TAGS = ['_symmetry_equiv_pos_as_xyz', '_space_group_symop_operation_xyz', '_space_group_symop.operation_xyz', '_symmetry_equiv.pos_as_xyz'] as const;
const SG_NAME_TAGS = [
  '_symmetry_space_group_name_h-m',
  '_space_group_name_h-m_alt',
  '_space_group.name_h-m_alt',
  '_symmetry_space_group_name_hall',
  '_space_group_name_hall',
  '_space_group.name_hall',
] as const;
const SG_NUMBER_TAGS = ['_symmetry_int_tables_number', '_space_group_it_number', '_space_group.it_number'] as const;

// ---------------------------------------------------------------------------------------------
// Block → Structure
// ---------------------------------------------------------------------------------------------

function wrap(x: number): number {
  let w = x - Math.floor(x);
  if (w >= 1 - 1e-12) w = 0; // 1 - ε from a tiny negative value
  return w;
}

/** Periodic Cartesian distance between two fractional points, exact for near-coincident points. */
function nearDistance(lattice: Float64Array, a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  const d0 = a[ai]! - b[bi]!, d1 = a[ai + 1]! - b[bi + 1]!, d2 = a[ai + 2]! - b[bi + 2]!;
  const f0 = d0 - Math.round(d0), f1 = d1 - Math.round(d1), f2 = d2 - Math.round(d2);
  const l = lattice;
  const x = f0 * l[0]! + f1 * l[3]! + f2 * l[6]!;
  const y = f0 * l[1]! + f1 * l[4]! + f2 * l[7]!;
  const z = f0 * l[2]! + f1 * l[5]! + f2 * l[8]!;
  return Math.hypot(x, y, z);
}

/**
 * Expanded sites binned by fractional coordinates, so that finding the sites within `tolAng` of an
 * image costs a look at 27 bins instead of every site kept so far (the expansion was O(N²): 14 s for
 * a 10 648-site P1 cell). Two points closer than tol differ along axis k by at most tol / h_k in
 * fractional terms (h_k the cell's height across axis k), so with bins at least that wide they lie
 * in the same or neighbouring bins, counted periodically. At most 64 bins per axis.
 */
class SiteGrid {
  private readonly n: [number, number, number];
  private readonly bins = new Map<number, number[]>();

  constructor(lattice: Float64Array, tolAng: number) {
    const h = perpendicularHeights(lattice);
    this.n = [0, 1, 2].map((k) => Math.max(1, Math.min(64, Math.floor(h[k]! / tolAng)))) as [number, number, number];
  }

  private bin(f: ArrayLike<number>, k: number): number {
    const n = this.n[k]!;
    return Math.min(n - 1, Math.max(0, Math.floor(f[k]! * n)));
  }

  private key(i: number, j: number, l: number): number {
    return i + this.n[0] * (j + this.n[1] * l);
  }

  add(f: ArrayLike<number>, site: number): void {
    const key = this.key(this.bin(f, 0), this.bin(f, 1), this.bin(f, 2));
    const list = this.bins.get(key);
    if (list) list.push(site);
    else this.bins.set(key, [site]);
  }

  /** Calls `visit` once for every site in the bins around `f` (wrapped fractional coordinates). */
  near(f: ArrayLike<number>, visit: (site: number) => void): void {
    const around = (k: number): number[] => {
      const n = this.n[k]!;
      const b = this.bin(f, k);
      return [...new Set([(b + n - 1) % n, b, (b + 1) % n])];
    };
    const [I, J, L] = [around(0), around(1), around(2)];
    for (const i of I) for (const j of J) for (const l of L) for (const m of this.bins.get(this.key(i, j, l)) ?? []) visit(m);
  }
}

/** CIF default Cartesian frame (a ∥ x, b in the xy plane), rows = lattice vectors. */
function cifCartesianFrame(a: number, b: number, c: number, al: number, be: number, ga: number): Float64Array {
  const r = Math.PI / 180;
  const [ca, cb, cg, sg] = [Math.cos(al * r), Math.cos(be * r), Math.cos(ga * r), Math.sin(ga * r)];
  const cy = (ca - cb * cg) / sg;
  const cz = Math.sqrt(Math.max(0, 1 - cb * cb - cy * cy));
  return new Float64Array([a, 0, 0, b * cg, b * sg, 0, c * cb, c * cy, c * cz]);
}

interface AsymSite {
  label: string;
  element: string;
  oxi: number | null;
  frac: [number, number, number];
  line: number;
}

function blockToStructure(b: CifBlock, options: ReaderOptions): Structure {
  const file = options.file;
  const at = (line: number, field?: string): StructureErrorLocation => ({ file, line, field });

  // Cell
  const cellTags = ['_cell_length_a', '_cell_length_b', '_cell_length_c', '_cell_angle_alpha', '_cell_angle_beta', '_cell_angle_gamma'];
  const cell = cellTags.map((tag) => {
    const tok = b.items.get(tag) ?? b.items.get(tag.replace('_cell_', '_cell.'));
    if (!tok) throw new StructureError(`missing ${tag}`, at(b.line, tag));
    const v = cifNumber(tok, tag, file);
    if (v === null) throw new StructureError(`${tag} is unknown (${tok.text})`, at(tok.line, tag));
    if (tag.includes('length') && !(v > 0)) throw new StructureError(`cell length must be positive, got ${v}`, at(tok.line, tag));
    if (tag.includes('length') && !(v <= MAX_LATTICE_VECTOR_ANG)) {
      throw new StructureError(`cell length ${v} Å is over the limit of ${MAX_LATTICE_VECTOR_ANG} Å: a unit mistake or a corrupt number, not a crystal cell`, at(tok.line, tag));
    }
    if (tag.includes('angle') && !(v > 0 && v < 180)) throw new StructureError(`cell angle must be between 0 and 180 degrees, got ${v}`, at(tok.line, tag));
    return { v, line: tok.line };
  });
  const [a, bb, c, al, be, ga] = cell.map((x) => x.v) as [number, number, number, number, number, number];
  const cellLine = cell[0]!.line;
  const lattice = latticeFromParameters(a, bb, c, al, be, ga);
  // V = abc·sqrt(1 − cos²α − cos²β − cos²γ + 2 cosα cosβ cosγ); angles that make the radicand ≤ 0
  // (e.g. 120°, 120°, 120°) describe no cell.
  const rad = Math.PI / 180;
  const [ca, cb, cg] = [Math.cos(al * rad), Math.cos(be * rad), Math.cos(ga * rad)];
  const radicand = 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg;
  if (!(radicand > 1e-10)) {
    throw new StructureError(`cell volume is zero: the cell angles ${al}, ${be}, ${ga} give linearly dependent lattice vectors`, at(cellLine, '_cell_length_a'));
  }

  // Symmetry operations
  let ops: SymmetryOperation[];
  const symCol = firstColumn(b, SYMOP_TAGS);
  if (symCol) {
    ops = symCol.values.map((t) => parseSymmetryOperation(t.text, at(t.line, symCol.tag)));
    if (ops.length === 0) throw new StructureError('the symmetry-operation loop is empty', at(symCol.line, symCol.tag));
  } else {
    for (const tag of SG_NAME_TAGS) {
      const t = b.items.get(tag);
      if (t && !isUnknown(t) && t.text.replace(/[\s_]/g, '').toLowerCase() !== 'p1') {
        throw new StructureError(`space group given (${t.text.trim()}) but no symmetry operations; expand the CIF with its operations (_symmetry_equiv_pos_as_xyz or _space_group_symop_operation_xyz)`, at(t.line, tag));
      }
    }
    for (const tag of SG_NUMBER_TAGS) {
      const t = b.items.get(tag);
      if (t && !isUnknown(t) && t.text.trim() !== '1') {
        throw new StructureError(`space group given (number ${t.text.trim()}) but no symmetry operations; expand the CIF with its operations (_symmetry_equiv_pos_as_xyz or _space_group_symop_operation_xyz)`, at(t.line, tag));
      }
    }
    ops = [{ rotation: [1, 0, 0, 0, 1, 0, 0, 0, 1], translation: [0, 0, 0] }];
  }

  // Oxidation states by type symbol
  const typeOxi = new Map<string, number | null>();
  const typeSym = column(b, '_atom_type_symbol');
  const typeOx = column(b, '_atom_type_oxidation_number');
  if (typeSym && typeOx && typeSym.values.length === typeOx.values.length) {
    typeSym.values.forEach((t, k) => typeOxi.set(t.text.trim(), cifNumber(typeOx.values[k]!, '_atom_type_oxidation_number', file)));
  }

  // Atom sites
  const fract = ['_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z'].map((t) => column(b, t));
  const cartn = ['_atom_site_cartn_x', '_atom_site_cartn_y', '_atom_site_cartn_z'].map((t) => column(b, t));
  const useCart = !fract.every((x) => x) && cartn.every((x) => x);
  const coordCols = useCart ? cartn : fract;
  if (!coordCols.every((x) => x)) {
    throw new StructureError('no complete _atom_site_fract_x/y/z (or _atom_site_Cartn_x/y/z) columns', at(b.line, '_atom_site_fract_x'));
  }
  const coordTags = useCart ? ['_atom_site_Cartn_x', '_atom_site_Cartn_y', '_atom_site_Cartn_z'] : ['_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z'];
  const labels = column(b, '_atom_site_label');
  const types = column(b, '_atom_site_type_symbol');
  const occ = column(b, '_atom_site_occupancy');
  const nAsym = coordCols[0]!.values.length;
  if (!types && !labels) throw new StructureError('the atom-site loop has neither _atom_site_type_symbol nor _atom_site_label', at(coordCols[0]!.line));
  for (const col of [coordCols[1]!, coordCols[2]!, labels, types, occ]) {
    if (col && col.values.length !== nAsym) throw new StructureError(`atom-site columns have different lengths (${col.values.length} vs ${nAsym}): the columns must be in one loop`, at(col.line));
  }
  const toFrac = useCart ? inv3(cifCartesianFrame(a, bb, c, al, be, ga)) : null;
  const asym: AsymSite[] = [];
  for (let k = 0; k < nAsym; k++) {
    const line = coordCols[0]!.values[k]!.line;
    const label = labels && !isUnknown(labels.values[k]!) ? labels.values[k]!.text : `site ${k + 1}`;
    const symTok = types && !isUnknown(types.values[k]!) ? types.values[k]! : labels?.values[k];
    const symField = symTok === types?.values[k] ? '_atom_site_type_symbol' : '_atom_site_label';
    if (!symTok || isUnknown(symTok)) throw new StructureError(`site ${label} has no element (type symbol and label unknown)`, at(line));
    let parsed = parseSpeciesLabel(symTok.text);
    if (!parsed && /^[a-zA-Z]/.test(symTok.text)) {
      // Tolerate case variants such as "CA1" or "ca"
      const t = symTok.text;
      parsed = parseSpeciesLabel(t[0]!.toUpperCase() + (t[1] ?? '').toLowerCase() + t.slice(2));
    }
    if (!parsed) throw new StructureError(`unknown element in ${JSON.stringify(symTok.text)} at site ${label}`, at(symTok.line, symField));
    const xyz = coordCols.map((col, j) => {
      const t = col!.values[k]!;
      const v = cifNumber(t, coordTags[j]!, file);
      if (v === null) throw new StructureError(`coordinate of site ${label} is unknown (${t.text})`, at(t.line, coordTags[j]));
      return v;
    }) as [number, number, number];
    if (occ) {
      const t = occ.values[k]!;
      const o = cifNumber(t, '_atom_site_occupancy', file);
      if (o !== null && Math.abs(o - 1) > CIF_OCCUPANCY_TOLERANCE) {
        throw new StructureError(
          o < 1
            ? `partial occupancy (${o}) at site ${label}: fracflow screens ordered structures only`
            : `occupancy ${o} > 1 at site ${label}: fracflow screens ordered structures only`,
          at(t.line, '_atom_site_occupancy'),
        );
      }
    }
    let oxi: number | null = null;
    if (types && !isUnknown(types.values[k]!)) {
      const ts = types.values[k]!.text.trim();
      oxi = typeOxi.has(ts) ? typeOxi.get(ts)! : parsed.oxidationState;
    }
    const frac: [number, number, number] = toFrac ? (Array.from(fracToCart(toFrac, xyz)) as [number, number, number]) : xyz;
    // Checked here, before the expansion wraps every image into [0, 1) and the value is lost.
    const far = frac.findIndex((x) => !(Math.abs(x) <= MAX_ABS_FRACTIONAL));
    if (far >= 0) {
      const t = coordCols[far]!.values[k]!;
      throw new StructureError(
        `site ${label} has the fractional coordinate ${frac[far]}${toFrac ? ' (from its Cartesian position)' : ''}, beyond ±${MAX_ABS_FRACTIONAL} cells: ` +
          'a Cartesian value given as fractional or a corrupt number (wrapping it into the cell would lose its digits)',
        at(t.line, coordTags[far]),
      );
    }
    asym.push({ label, element: parsed.element, oxi, frac, line });
  }
  if (asym.length === 0) throw new StructureError('the atom-site loop has no rows', at(coordCols[0]!.line));
  const withOxi = asym.filter((s) => s.oxi !== null);
  if (withOxi.length > 0 && withOxi.length < asym.length) {
    const missing = asym.find((s) => s.oxi === null)!;
    throw new StructureError(`site ${missing.label} has no oxidation state while other sites do; give _atom_type_oxidation_number for every type`, at(missing.line, '_atom_site_type_symbol'));
  }

  // Expansion
  const { maxSites } = readLimits(options.limits);
  const species: string[] = [];
  const oxis: number[] = [];
  const fracs: number[] = [];
  const owner: number[] = []; // asymmetric site index of each expanded site
  const grid = new SiteGrid(lattice, CIF_MERGE_TOLERANCE_ANG);
  const img = new Float64Array(3);
  asym.forEach((site, k) => {
    const startOfSite = species.length;
    for (const op of ops) {
      const R = op.rotation, t = op.translation, f = site.frac;
      for (let r = 0; r < 3; r++) img[r] = wrap(R[3 * r]! * f[0] + R[3 * r + 1]! * f[1] + R[3 * r + 2]! * f[2] + t[r]!);
      // Sites within the tolerance: an image of this site already kept (merged), or the lowest
      // index of another site there (disorder).
      let dup = false;
      let other = -1;
      grid.near(img, (m) => {
        if (nearDistance(lattice, img, 0, fracs, 3 * m) >= CIF_MERGE_TOLERANCE_ANG) return;
        if (m >= startOfSite) dup = true;
        else if (other < 0 || m < other) other = m;
      });
      if (dup) continue;
      if (other >= 0) {
        const o = asym[owner[other]!]!;
        throw new StructureError(
          `sites ${o.label} (${o.element}, line ${o.line}) and ${site.label} (${site.element}) occupy the same position ` +
            `(${Array.from(img, (x) => x.toFixed(4)).join(', ')}): disordered/mixed site; fracflow screens ordered structures only`,
          at(site.line),
        );
      }
      if (species.length >= maxSites) {
        throw new StructureError(
          `the ${nAsym} sites of the atom-site loop expand under ${ops.length} symmetry operations to more than ${maxSites} sites, the limit per structure; ${RAISE_SITES}`,
          at(coordCols[0]!.line, coordTags[0]),
        );
      }
      grid.add(img, species.length);
      species.push(site.element);
      oxis.push(site.oxi ?? 0);
      fracs.push(img[0]!, img[1]!, img[2]!);
      owner.push(k);
    }
  });

  const info: Record<string, unknown> = { cif_block: b.name };
  for (const tag of SG_NAME_TAGS.slice(0, 3)) {
    const t = b.items.get(tag);
    if (t && !isUnknown(t)) {
      info['spacegroup'] = t.text.trim();
      break;
    }
  }
  const s = createStructure(
    { lattice, species, frac: fracs, oxidationStates: withOxi.length > 0 ? oxis : null, info },
    {
      where: at(cellLine, '_cell_length_a'),
      checkOverlap: false,
      allowLeftHanded: options.allowLeftHanded,
      siteWhere: (i, what) => at(asym[owner[i]!]!.line, what === 'coordinates' ? '_atom_site_fract_x' : '_atom_site_type_symbol'),
    },
  );
  const hit = minimumPairDistance(s.lattice, cartesian(s), MIN_SITE_DISTANCE_ANG);
  if (hit) {
    const lineOf = (i: number) => asym[owner[i]!]!.line;
    const e = overlapError(hit, s, lineOf, file);
    throw new StructureError(`${e.reason} (sites ${asym[owner[hit.i]!]!.label} and ${asym[owner[hit.j]!]!.label} after symmetry expansion)`, { file, line: e.line });
  }
  if (b.name !== '' && b.name !== reducedFormula(s)) s.info.id = checkId(b.name, at(b.line, 'data_'));
  return s;
}

/**
 * Read every structure in a CIF, one item per data block that has an atom-site loop (blocks
 * without sites, e.g. a publication block, are skipped); see {@link ReaderOptions.lenient}.
 * Syntax errors (quotes, loops, text fields) are file-level and always throw.
 */
export function readCifItems(text: string, options: ReaderOptions = {}): ReadItem[] {
  const file = options.file;
  const blocks = parseBlocks(tokenize(text, file), file);
  if (blocks.length === 0) throw new StructureError('no data_ block: not a CIF file', { file });
  const hasSites = (b: CifBlock) => column(b, '_atom_site_fract_x') !== null || column(b, '_atom_site_cartn_x') !== null || column(b, '_atom_site_label') !== null;
  const withSites = blocks.filter(hasSites);
  if (withSites.length === 0) {
    throw new StructureError(`no data block has an atom-site loop (_atom_site_fract_x ...); blocks: ${blocks.map((b) => `data_${b.name}`).join(', ')}`, { file, line: blocks[0]!.line });
  }
  return buildItems(withSites, options.lenient, (b) => blockToStructure(b, options), (b) => b.name || undefined, (b) => ({ file, line: b.line }));
}

/**
 * Read every structure in a CIF (strict). Lattice in Å (pymatgen orientation); coordinates
 * fractional, wrapped to [0, 1). Throws {@link StructureError} with file, line and tag for every
 * problem.
 */
export function readCif(text: string, options: ReaderOptions = {}): Structure[] {
  return itemStructures(readCifItems(text, { ...options, lenient: false }));
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

/** Fixed-point with `digits` decimals, trailing zeros trimmed (keeps one decimal). */
function fixed(x: number, digits: number): string {
  let s = x.toFixed(digits);
  if (Number(s) === 0) return '0.0';
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '.0');
  return s;
}

function cifString(s: string): string {
  if (s !== '' && /^[^\s'"#$_;\[\]][^\s]*$/.test(s) && !/^(data_|loop_|save_|global_|stop_)/i.test(s) && s !== '?' && s !== '.') return s;
  if (!s.includes("' ") && !s.endsWith("'") && !/[\r\n]/.test(s)) return `'${s}'`;
  if (!s.includes('" ') && !s.endsWith('"') && !/[\r\n]/.test(s)) return `"${s}"`;
  return `\n;${s}\n;`;
}

/**
 * Write a P1 CIF: `data_<id or reduced formula>`, cell lengths (Å) and angles (degrees) with 10
 * decimals, the identity operation, an `_atom_type_oxidation_number` loop when the structure has
 * oxidation states, and one `_atom_site_` row per site (fractional coordinates with 15 decimals,
 * not wrapped, occupancy 1). The reader returns the lattice in pymatgen's standard orientation, so
 * compare lattice parameters rather than matrices after a round trip.
 */
export function writeCif(s: Structure): string {
  const p = latticeParameters(s.lattice);
  const rf = reducedFormula(s);
  const id = typeof s.info.id === 'string' && s.info.id.trim() !== '' ? s.info.id.trim().replace(/\s+/g, '_') : rf;
  const gcd = (x: number, y: number): number => (y ? gcd(y, x % y) : x);
  const nUnits = [...composition(s).values()].reduce(gcd, 0);
  const out: string[] = ['# generated by fracflow', `data_${id}`];
  const item = (tag: string, v: string) => out.push(`${tag.padEnd(34)} ${v}`);
  item('_symmetry_space_group_name_H-M', "'P 1'");
  item('_cell_length_a', p.a.toFixed(10));
  item('_cell_length_b', p.b.toFixed(10));
  item('_cell_length_c', p.c.toFixed(10));
  item('_cell_angle_alpha', p.alpha.toFixed(10));
  item('_cell_angle_beta', p.beta.toFixed(10));
  item('_cell_angle_gamma', p.gamma.toFixed(10));
  item('_symmetry_Int_Tables_number', '1');
  item('_chemical_formula_structural', cifString(rf));
  item('_chemical_formula_sum', cifString(formula(s)));
  item('_cell_volume', det3(s.lattice).toFixed(10));
  item('_cell_formula_units_Z', String(nUnits));
  out.push('loop_', ' _symmetry_equiv_pos_site_id', ' _symmetry_equiv_pos_as_xyz', "  1  'x, y, z'");
  const ox = s.oxidationStates;
  const typeSymbols = s.species.map((el, i) => formatSpecies(el, ox ? ox[i]! : null));
  if (ox) {
    out.push('loop_', ' _atom_type_symbol', ' _atom_type_oxidation_number');
    const seen = new Set<string>();
    typeSymbols.forEach((t, i) => {
      if (seen.has(t)) return;
      seen.add(t);
      out.push(`  ${t.padEnd(6)} ${fixed(ox[i]!, 6)}`);
    });
  }
  out.push(
    'loop_',
    ' _atom_site_type_symbol',
    ' _atom_site_label',
    ' _atom_site_symmetry_multiplicity',
    ' _atom_site_fract_x',
    ' _atom_site_fract_y',
    ' _atom_site_fract_z',
    ' _atom_site_occupancy',
  );
  const counter = new Map<string, number>();
  s.species.forEach((el, i) => {
    const n = (counter.get(el) ?? 0) + 1;
    counter.set(el, n);
    const xyz = [0, 1, 2].map((k) => fixed(s.frac[3 * i + k]!, 15).padStart(19));
    out.push(`  ${typeSymbols[i]!.padEnd(6)} ${(el + n).padEnd(6)} 1 ${xyz.join(' ')}  1`);
  });
  return out.join('\n') + '\n';
}
