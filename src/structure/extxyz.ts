/**
 * Extended XYZ (ASE-compatible): reader and writer. Periodic structures only.
 *
 * Each frame:
 * ```
 * 12
 * Lattice="ax ay az bx by bz cx cy cz" Properties=species:S:1:pos:R:3:oxi:R:1 pbc="T T T" id="mp-2741"
 * Ca 0.0 0.0 0.0 2
 * ...
 * ```
 * Line 1: atom count. Line 2: `key=value` pairs; `Lattice` rows are the lattice vectors (Å),
 * `Properties` lists the per-atom columns as `name:type:count` (types S string, R real, I integer,
 * L logical T/F); the default is `species:S:1:pos:R:3`. `pos` is Cartesian, Å. Other pairs go to
 * `info` (unquoted numbers → numbers, T/F → booleans, quoted strings stay strings, a quoted list of
 * numbers → number array). Per-atom columns: `oxi:R:1` → oxidation states; every other column
 * (including ASE's `initial_charges`) → site properties.
 */
import { StructureError, type StructureErrorLocation } from './errors.js';
import { isElement } from './elements.js';
import { cartesian, createStructure, MIN_SITE_DISTANCE_ANG, type Structure } from './structure.js';
import { overlapError } from './poscar.js';
import { minimumPairDistance } from './pair-distance.js';
import { buildItems, checkId, checkSiteCount, itemStructures, type ReadItem, type ReaderOptions } from './read-common.js';
import type { ReadLimits } from './limits.js';

interface KeyValue {
  key: string;
  value: string | true;
  quoted: boolean;
}

interface Column {
  name: string;
  type: 'S' | 'R' | 'I' | 'L';
  count: number;
  /** First token index in an atom line. */
  start: number;
}

const REAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][+-]?\d+)?$/;

function parseReal(tok: string): number | null {
  if (REAL_RE.test(tok)) return Number(tok.replace(/[dD]/, 'e'));
  const t = tok.toLowerCase();
  if (/^[+-]?nan$/.test(t)) return Number.NaN;
  if (/^[+-]?inf(inity)?$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return null;
}

/** Split an extxyz comment line into key=value pairs (quoted values may hold spaces and `\"`). */
function parseKeyValues(line: string, where: StructureErrorLocation): KeyValue[] {
  const out: KeyValue[] = [];
  let i = 0;
  const n = line.length;
  const isWs = (c: string | undefined) => c === ' ' || c === '\t';
  while (i < n) {
    while (i < n && isWs(line[i])) i++;
    if (i >= n) break;
    let key = '';
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new StructureError(`unterminated quoted key starting at column ${i + 1}`, where);
      key = line.slice(i + 1, end);
      i = end + 1;
    } else {
      const s = i;
      while (i < n && !isWs(line[i]) && line[i] !== '=') i++;
      key = line.slice(s, i);
    }
    let j = i;
    while (j < n && isWs(line[j])) j++;
    if (line[j] !== '=') {
      out.push({ key, value: true, quoted: false });
      continue;
    }
    i = j + 1;
    while (i < n && isWs(line[i])) i++;
    const c = line[i];
    if (c === '"') {
      let v = '';
      i++;
      let closed = false;
      while (i < n) {
        const ch = line[i]!;
        if (ch === '\\' && i + 1 < n) {
          v += line[i + 1]!;
          i += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        v += ch;
        i++;
      }
      if (!closed) throw new StructureError(`unterminated quoted value for key ${JSON.stringify(key)}`, where);
      out.push({ key, value: v, quoted: true });
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const end = line.indexOf(close, i + 1);
      if (end < 0) throw new StructureError(`unterminated ${c}...${close} value for key ${JSON.stringify(key)}`, where);
      out.push({ key, value: line.slice(i + 1, end).replace(/,/g, ' ').trim(), quoted: true });
      i = end + 1;
    } else {
      const s = i;
      while (i < n && !isWs(line[i])) i++;
      out.push({ key, value: line.slice(s, i), quoted: false });
    }
  }
  return out;
}

function infoValue(kv: KeyValue): unknown {
  if (kv.value === true) return true;
  const v = kv.value;
  if (!kv.quoted) {
    if (/^[+-]?\d+$/.test(v)) return Number(v);
    const r = parseReal(v);
    if (r !== null && REAL_RE.test(v)) return r;
    if (/^(T|True|true)$/.test(v)) return true;
    if (/^(F|False|false)$/.test(v)) return false;
    return v;
  }
  const parts = v.trim().split(/\s+/);
  if (parts.length >= 2 && parts.every((p) => REAL_RE.test(p))) return parts.map((p) => Number(p.replace(/[dD]/, 'e')));
  return v;
}

function parseProperties(spec: string, where: StructureErrorLocation): Column[] {
  const parts = spec.split(':');
  if (parts.length % 3 !== 0) throw new StructureError(`Properties=${spec}: expected name:type:count triples`, where);
  const cols: Column[] = [];
  let start = 0;
  for (let k = 0; k < parts.length; k += 3) {
    const name = parts[k]!;
    const type = parts[k + 1]!.toUpperCase();
    const count = Number(parts[k + 2]);
    if (!['S', 'R', 'I', 'L'].includes(type)) throw new StructureError(`Properties: column ${JSON.stringify(name)} has unknown type ${JSON.stringify(parts[k + 1])} (expected S, R, I or L)`, where);
    if (!Number.isInteger(count) || count < 1) throw new StructureError(`Properties: column ${JSON.stringify(name)} has a bad count ${JSON.stringify(parts[k + 2])}`, where);
    cols.push({ name, type: type as Column['type'], count, start });
    start += count;
  }
  return cols;
}

interface FrameLines {
  /** 0-based index of the atom-count line. */
  countIdx: number;
  n: number;
}

/** Split the file into frames (file-level checks: count lines, truncation). */
function splitFrames(lines: readonly string[], file: string | undefined, limits: Partial<ReadLimits> | undefined): FrameLines[] {
  const frames: FrameLines[] = [];
  let li = 0;
  for (;;) {
    while (li < lines.length && lines[li]!.trim() === '') li++;
    if (li >= lines.length) break;
    const countTok = lines[li]!.trim();
    if (!/^\d+$/.test(countTok)) {
      throw new StructureError(`expected the number of atoms (an integer) at the start of a frame, got ${JSON.stringify(countTok.slice(0, 40))}`, { file, line: li + 1, field: 'atom count' });
    }
    const n = Number(countTok);
    if (n === 0) throw new StructureError('frame declares 0 atoms: the structure has no sites', { file, line: li + 1, field: 'atom count' });
    checkSiteCount(n, limits, `the atom count ${countTok.length > 20 ? `${countTok.slice(0, 20)}...` : countTok} would`, { file, line: li + 1, field: 'atom count' });
    if (li + 1 >= lines.length) throw new StructureError('file ends after the atom count: the comment line (with Lattice=) is missing', { file, line: li + 1 });
    for (let a = 0; a < n; a++) {
      const idx = li + 2 + a;
      if (idx >= lines.length || lines[idx]!.trim() === '') {
        throw new StructureError(`frame declares ${n} atoms (line ${li + 1}) but has only ${a} atom lines: the file is truncated`, { file, line: idx + 1 });
      }
    }
    frames.push({ countIdx: li, n });
    li += 2 + n;
  }
  if (frames.length === 0) throw new StructureError('empty extended XYZ file: no frames', { file });
  return frames;
}

function buildFrame(lines: readonly string[], frame: FrameLines, options: ReaderOptions): Structure {
  const file = options.file;
  const { countIdx, n } = frame;
  const commentIdx = countIdx + 1;
  const cw: StructureErrorLocation = { file, line: commentIdx + 1 };
  const kvs = parseKeyValues(lines[commentIdx]!, cw);
  // Only key=value pairs count (a plain XYZ comment may contain the bare word "lattice").
  const find = (name: string) => kvs.find((kv) => kv.value !== true && kv.key.toLowerCase() === name.toLowerCase());

  const latKv = find('Lattice');
  if (!latKv) {
    throw new StructureError('no Lattice="ax ay az bx by bz cx cy cz" on the comment line: fracflow reads periodic structures only', { ...cw, field: 'Lattice' });
  }
  const latParts = latKv.value === true ? [] : latKv.value.trim().split(/\s+/);
  if (latParts.length !== 9) throw new StructureError(`expected 9 numbers, got ${latParts.length}`, { ...cw, field: 'Lattice' });
  const lattice = latParts.map((p) => {
    const v = parseReal(p);
    if (v === null) throw new StructureError(`not a number: ${JSON.stringify(p)}`, { ...cw, field: 'Lattice' });
    if (!Number.isFinite(v)) throw new StructureError(`not a finite number: ${JSON.stringify(p)}`, { ...cw, field: 'Lattice' });
    return v;
  });
  const pbcKv = find('pbc');
  if (pbcKv && pbcKv.value !== true) {
    const flags = pbcKv.value.trim().split(/\s+/);
    if (!(flags.length === 3 && flags.every((f) => /^(T|True|true|1)$/.test(f)))) {
      throw new StructureError(`pbc="${pbcKv.value}": fracflow handles structures periodic in all three directions only`, { ...cw, field: 'pbc' });
    }
  }
  const propKv = find('Properties');
  const cols = parseProperties(propKv && propKv.value !== true ? propKv.value : 'species:S:1:pos:R:3', { ...cw, field: 'Properties' });
  const speciesCol = cols.find((c) => c.name === 'species');
  const posCol = cols.find((c) => c.name === 'pos');
  if (!speciesCol || speciesCol.type !== 'S' || speciesCol.count !== 1) throw new StructureError('Properties must include species:S:1', { ...cw, field: 'Properties' });
  if (!posCol || posCol.type !== 'R' || posCol.count !== 3) throw new StructureError('Properties must include pos:R:3', { ...cw, field: 'Properties' });
  const oxiCol = cols.find((c) => c.name === 'oxi' && c.type === 'R' && c.count === 1);
  const width = cols.reduce((a, c) => a + c.count, 0);

  const info: Record<string, unknown> = {};
  for (const kv of kvs) {
    const k = kv.key.toLowerCase();
    if (k === 'lattice' || k === 'properties' || k === 'pbc') continue;
    info[kv.key] = infoValue(kv);
  }
  const rawId = info['id'];
  if (rawId !== undefined) {
    // id=mp-1 and id="mp-1" are strings, id=241 a number written as text; a list or a flag is no id.
    if (typeof rawId !== 'string' && !(typeof rawId === 'number' && Number.isFinite(rawId))) {
      throw new StructureError(`expected an id (a string or a number), got ${JSON.stringify(rawId)}`, { ...cw, field: 'id' });
    }
    info['id'] = checkId(String(rawId), { ...cw, field: 'id' });
  }

  const species: string[] = [];
  const cart = new Float64Array(3 * n);
  const oxi: number[] = [];
  const props: Record<string, unknown[]> = {};
  for (const c of cols) if (c !== speciesCol && c !== posCol && c !== oxiCol) props[c.name] = [];
  const firstAtom = commentIdx + 1;
  for (let a = 0; a < n; a++) {
    const idx = firstAtom + a;
    const t = lines[idx]!.trim().split(/\s+/);
    const aw: StructureErrorLocation = { file, line: idx + 1 };
    if (t.length < width) throw new StructureError(`expected ${width} columns (${cols.map((c) => `${c.name}:${c.count}`).join(', ')}), found ${t.length}`, aw);
    const real = (tok: string, field: string): number => {
      const v = parseReal(tok);
      if (v === null) throw new StructureError(`not a number: ${JSON.stringify(tok)}`, { ...aw, field });
      if (!Number.isFinite(v)) throw new StructureError(`not a finite number: ${JSON.stringify(tok)} (NaN/Inf)`, { ...aw, field });
      return v;
    };
    const sym = t[speciesCol.start]!;
    if (!isElement(sym)) throw new StructureError(`unknown element ${JSON.stringify(sym)}`, { ...aw, field: 'species' });
    species.push(sym);
    for (let k = 0; k < 3; k++) cart[3 * a + k] = real(t[posCol.start + k]!, 'pos');
    if (oxiCol) oxi.push(real(t[oxiCol.start]!, 'oxi'));
    for (const c of cols) {
      if (c === speciesCol || c === posCol || c === oxiCol) continue;
      const vals = t.slice(c.start, c.start + c.count).map((tok): unknown => {
        switch (c.type) {
          case 'S':
            return tok;
          case 'R':
            return real(tok, c.name);
          case 'I':
            if (!/^[+-]?\d+$/.test(tok)) throw new StructureError(`not an integer: ${JSON.stringify(tok)}`, { ...aw, field: c.name });
            return Number(tok);
          case 'L':
            if (/^(T|True|true)$/.test(tok)) return true;
            if (/^(F|False|false)$/.test(tok)) return false;
            throw new StructureError(`not a logical (T/F): ${JSON.stringify(tok)}`, { ...aw, field: c.name });
        }
      });
      props[c.name]!.push(c.count === 1 ? vals[0] : vals);
    }
  }
  const s = createStructure(
    { lattice, species, cart, oxidationStates: oxiCol ? oxi : null, siteProperties: props, info },
    { where: { ...cw, field: 'Lattice' }, checkOverlap: false, allowLeftHanded: options.allowLeftHanded, siteWhere: (i, what) => ({ file, line: firstAtom + i + 1, field: what === 'coordinates' ? 'pos' : 'oxi' }) },
  );
  const hit = minimumPairDistance(s.lattice, cartesian(s), MIN_SITE_DISTANCE_ANG);
  if (hit) throw overlapError(hit, s, (i) => firstAtom + i + 1, file);
  return s;
}

/**
 * Read every frame of an extended XYZ file, one item per frame (see {@link ReaderOptions.lenient}).
 * Lattice in Å, `pos` Cartesian Å (converted to fractional). A frame without `Lattice=` is an error
 * (periodic structures only).
 */
export function readExtxyzItems(text: string, options: ReaderOptions = {}): ReadItem[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const frames = splitFrames(lines, options.file, options.limits);
  return buildItems(
    frames,
    options.lenient,
    (f) => buildFrame(lines, f, options),
    (f) => /\bid=("?)([^\s"]+)\1/.exec(lines[f.countIdx + 1]!)?.[2],
    (f) => ({ file: options.file, line: f.countIdx + 1 }),
  );
}

/** Read every frame of an extended XYZ file (strict), in file order. */
export function readExtxyz(text: string, options: ReaderOptions = {}): Structure[] {
  return itemStructures(readExtxyzItems(text, { ...options, lenient: false }));
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

/** Shortest text that reads back to the same double. */
function num(x: number): string {
  return String(x === 0 ? 0 : x);
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.\-]*$/;
const RESERVED = new Set(['lattice', 'properties', 'pbc']);

function infoText(v: unknown): string | null {
  if (typeof v === 'string') return /[\r\n]/.test(v) ? null : quote(v);
  if (typeof v === 'number') return Number.isFinite(v) ? num(v) : null;
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return quote(v.map(num).join(' '));
  return null;
}

interface SiteColumn {
  name: string;
  type: 'S' | 'R' | 'L';
  count: number;
  cell: (v: unknown) => string;
}

/** A site property that fits an extxyz column (scalars or fixed-length arrays of one kind). */
function siteColumn(name: string, values: readonly unknown[]): SiteColumn | null {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || ['species', 'pos', 'oxi'].includes(name)) return null;
  const first = values[0];
  const count = Array.isArray(first) ? first.length : 1;
  if (count < 1) return null;
  const flat = values.map((v) => (Array.isArray(v) ? v : [v]));
  if (!flat.every((v) => v.length === count)) return null;
  const all = flat.flat();
  if (all.every((x) => typeof x === 'number' && Number.isFinite(x))) return { name, type: 'R', count, cell: (x) => num(x as number) };
  if (all.every((x) => typeof x === 'boolean')) return { name, type: 'L', count, cell: (x) => (x ? 'T' : 'F') };
  if (count === 1 && all.every((x) => typeof x === 'string' && /^\S+$/.test(x))) return { name, type: 'S', count, cell: (x) => String(x) };
  return null;
}

/**
 * Write one extended XYZ frame: `Lattice` (Å, rows = vectors), `Properties=species:S:1:pos:R:3`
 * (+ `oxi:R:1` with oxidation states, + site properties that fit a column), `pbc="T T T"`, then the
 * scalar info entries. Positions Cartesian Å, written with full double precision.
 */
export function writeExtxyz(s: Structure): string {
  const n = s.species.length;
  const cart = cartesian(s);
  const extra: SiteColumn[] = [];
  for (const [name, values] of Object.entries(s.siteProperties)) {
    const c = siteColumn(name, values);
    if (c) extra.push(c);
  }
  let props = 'species:S:1:pos:R:3';
  if (s.oxidationStates) props += ':oxi:R:1';
  for (const c of extra) props += `:${c.name}:${c.type}:${c.count}`;
  const header = [`Lattice=${quote(Array.from(s.lattice, num).join(' '))}`, `Properties=${props}`];
  for (const [k, v] of Object.entries(s.info)) {
    if (!KEY_RE.test(k) || RESERVED.has(k.toLowerCase())) continue;
    const t = infoText(v);
    if (t !== null) header.push(`${k}=${t}`);
  }
  header.push('pbc="T T T"');
  const out = [String(n), header.join(' ')];
  for (let i = 0; i < n; i++) {
    const cols = [s.species[i]!, num(cart[3 * i]!), num(cart[3 * i + 1]!), num(cart[3 * i + 2]!)];
    if (s.oxidationStates) cols.push(num(s.oxidationStates[i]!));
    for (const c of extra) {
      const v = s.siteProperties[c.name]![i];
      for (const x of Array.isArray(v) ? v : [v]) cols.push(c.cell(x));
    }
    out.push(cols.join(' '));
  }
  return out.join('\n') + '\n';
}
