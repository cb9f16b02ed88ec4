/**
 * Helpers shared by the structure readers: the per-item result of a multi-structure file (strict or
 * lenient), JSON parsing with error positions (line, column), JSON lines, and typed field access
 * that raises {@link StructureError}s naming the field.
 */
import { StructureError, type StructureErrorLocation } from './errors.js';
import type { Structure } from './structure.js';
import { MAX_ID_LENGTH, RAISE_SITES, readLimits, type ReadLimits } from './limits.js';

/** Options shared by every structure reader. */
export interface ReaderOptions {
  /** Label used in error messages (file path, `<string>`). */
  file?: string;
  /** Accept left-handed lattices (negative determinant). Default false. */
  allowLeftHanded?: boolean;
  /**
   * Per-item leniency for multi-structure files: a record/block/frame that fails validation is
   * returned as an error item instead of aborting the whole file. File-level problems (invalid
   * JSON, broken CIF syntax) still throw. Default false.
   */
  lenient?: boolean;
  /** Size limits (see limits.ts); defaults where not given. */
  limits?: Partial<ReadLimits>;
}

/** One structure of a multi-structure file, or the error that stopped it (lenient reading). */
export interface ReadItem {
  /** 0-based position of the item in the file (record, document, data block, frame). */
  index: number;
  /** The item's own id when known (material_id, block name, ...). */
  id?: string;
  structure?: Structure;
  error?: StructureError;
}

/**
 * Build every item; with `lenient`, an error from one item becomes an error item and the others go
 * on. A {@link StructureError} is kept as it is; any other exception (a bug the item's content
 * triggered) becomes a StructureError naming the item and the exception, so that one record can
 * never sink its file.
 */
export function buildItems<T>(
  items: readonly T[],
  lenient: boolean | undefined,
  build: (item: T, index: number) => Structure,
  idOf: (item: T) => string | undefined,
  whereOf: (item: T, index: number) => StructureErrorLocation = () => ({}),
): ReadItem[] {
  return items.map((item, index) => {
    if (!lenient) return { index, structure: build(item, index) };
    try {
      const structure = build(item, index);
      return { index, id: structure.info.id, structure };
    } catch (e) {
      let id: string | undefined;
      try {
        id = idOf(item);
      } catch {
        id = undefined;
      }
      return { index, id, error: asStructureError(e, whereOf(item, index)) };
    }
  });
}

/**
 * A StructureError for any exception: StructureErrors as they are, others (bugs, exhausted limits
 * of the runtime) as `unexpected <name>: <message>` at `where`, so that they are recorded against
 * the file or record that caused them instead of stopping everything.
 */
export function asStructureError(e: unknown, where: StructureErrorLocation = {}): StructureError {
  if (e instanceof StructureError) return e;
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new StructureError(`unexpected ${what} (while reading this input; please report it)`, where);
}

/** The structures of successfully built items (strict readers never produce error items). */
export function itemStructures(items: readonly ReadItem[]): Structure[] {
  return items.map((it) => {
    if (it.error) throw it.error;
    return it.structure!;
  });
}

/** A JSON value to convert and where it is (line for JSON lines, field for array entries). */
export interface JsonItem {
  value: unknown;
  where: StructureErrorLocation;
}

/**
 * Flatten parsed JSON documents into items: arrays give one item per entry; an object holding a
 * list under one of `containerKeys` (e.g. `data`, `records`) gives one item per entry of that list
 * unless `isItem(object)` says the object is an item itself.
 */
export function jsonItems(docs: readonly JsonValueAt[], file: string | undefined, containerKeys: readonly string[], isItem: (v: Record<string, unknown>) => boolean): JsonItem[] {
  const out: JsonItem[] = [];
  for (const { value, line } of docs) {
    const where: StructureErrorLocation = { file, line };
    if (Array.isArray(value)) {
      value.forEach((v, k) => out.push({ value: v, where: atField(where, `[${k}]`) }));
      continue;
    }
    if (isPlainObject(value) && !isItem(value)) {
      const key = containerKeys.find((k) => value[k] !== undefined);
      if (key !== undefined) {
        const list = value[key];
        if (!Array.isArray(list)) throw new StructureError(`expected a list, got ${describeJson(list)}`, atField(where, key));
        list.forEach((v, k) => out.push({ value: v, where: atField(where, `${key}[${k}]`) }));
        continue;
      }
    }
    out.push({ value, where });
  }
  return out;
}

/** The `id` a JSON item would get, for error reports (string or number fields only). */
export function jsonItemId(v: unknown, ...keys: string[]): string | undefined {
  if (!isPlainObject(v)) return undefined;
  for (const k of keys) {
    const x = v[k];
    if (typeof x === 'string' || typeof x === 'number') return String(x);
  }
  return undefined;
}

/** A parsed JSON value and, for JSON lines, the 1-based line it came from. */
export interface JsonValueAt {
  value: unknown;
  line?: number;
}

// ---------------------------------------------------------------------------------------------
// JSON parsing with positions
// ---------------------------------------------------------------------------------------------

/**
 * Offset of the first syntax error in `text`, found by a small JSON scanner (V8's messages do not
 * always include a position). Returns -1 when the scanner finds no error.
 */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const fail = (): never => {
    throw i;
  };
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            fail();
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          fail();
        }
      } else i++;
    }
    fail();
  };
  const num = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return str();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    num.lastIndex = i;
    if (num.exec(text)) {
      i = num.lastIndex;
      return;
    }
    fail();
  };
  try {
    value();
    ws();
    if (i < n) fail();
    return -1;
  } catch (e) {
    if (typeof e === 'number') return e;
    throw e;
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') {
      line++;
      start = k + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

function jsonSyntaxError(text: string, err: unknown, file: string | undefined, lineOffset: number): StructureError {
  const message = err instanceof Error ? err.message : String(err);
  let offset = jsonErrorOffset(text);
  if (offset < 0) {
    const m = /at position (\d+)/.exec(message);
    offset = m ? Number(m[1]) : 0;
  }
  const { line, column } = lineColumn(text, offset);
  const absLine = line + lineOffset;
  const what = offset >= text.length ? 'unexpected end of input (truncated?)' : `unexpected ${JSON.stringify(text.slice(offset, offset + 12).split(/[\r\n]/)[0])}`;
  return new StructureError(`invalid JSON at line ${absLine}, column ${column} (position ${offset}): ${what}; parser says: ${message}`, {
    file,
    line: absLine,
  });
}

/**
 * Parse one JSON value. Invalid JSON raises a {@link StructureError} giving the line, column and
 * character position of the first syntax error.
 */
export function parseJsonText(text: string, file?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw jsonSyntaxError(text, e, file, 0);
  }
}

/**
 * Parse a JSON document or a JSON-lines file. A whole-text JSON value gives one entry (without a
 * line); JSON lines (first non-blank line is a complete value) give one entry per non-blank line,
 * each with its 1-based line number. Errors name the line and column.
 */
export function parseJsonDocuments(text: string, file?: string): JsonValueAt[] {
  const body = text.replace(/^\uFEFF/, '');
  try {
    return [{ value: JSON.parse(body) }];
  } catch (wholeError) {
    const lines = body.split('\n');
    const first = lines.findIndex((l) => l.trim() !== '');
    if (first < 0) throw new StructureError('empty input: no JSON value', { file });
    let firstOk = true;
    try {
      JSON.parse(lines[first]!);
    } catch {
      firstOk = false;
    }
    if (!firstOk || first === lines.length - 1) throw jsonSyntaxError(body, wholeError, file, 0);
    const out: JsonValueAt[] = [];
    for (let k = first; k < lines.length; k++) {
      const l = lines[k]!;
      if (l.trim() === '') continue;
      try {
        out.push({ value: JSON.parse(l), line: k + 1 });
      } catch (e) {
        throw jsonSyntaxError(l, e, file, k);
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Typed field access
// ---------------------------------------------------------------------------------------------

/** True for a non-null, non-array object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Short description of a JSON value for messages. */
export function describeJson(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** `a.b` path join for field names (`prefix` may be empty). */
export function fieldPath(prefix: string | undefined, name: string): string {
  if (!prefix) return name;
  return name.startsWith('[') ? prefix + name : `${prefix}.${name}`;
}

/** A location with `name` appended to its field path. */
export function atField(where: StructureErrorLocation, name: string): StructureErrorLocation {
  return { ...where, field: fieldPath(where.field, name) };
}

/** A finite number, or a StructureError naming the field. */
export function jsonNumber(v: unknown, where: StructureErrorLocation): number {
  if (typeof v !== 'number') throw new StructureError(`expected a number, got ${describeJson(v)}`, where);
  if (!Number.isFinite(v)) throw new StructureError(`not a finite number: ${v}`, where);
  return v;
}

/** Three finite numbers `[x, y, z]`. */
export function jsonTriple(v: unknown, where: StructureErrorLocation): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3) throw new StructureError(`expected 3 numbers [x, y, z], got ${describeJson(v)}`, where);
  return [jsonNumber(v[0], atField(where, '[0]')), jsonNumber(v[1], atField(where, '[1]')), jsonNumber(v[2], atField(where, '[2]'))];
}

/** A 3×3 matrix given as three rows (or 9 numbers), flattened row-major. */
export function jsonMatrix3(v: unknown, where: StructureErrorLocation): number[] {
  if (Array.isArray(v) && v.length === 9 && v.every((x) => typeof x === 'number')) return v.map((x, k) => jsonNumber(x, atField(where, `[${k}]`)));
  if (!Array.isArray(v) || v.length !== 3) throw new StructureError(`expected a 3x3 matrix (3 rows of 3 numbers), got ${describeJson(v)}`, where);
  return v.flatMap((row, r) => jsonTriple(row, atField(where, `[${r}]`)));
}

/** `N` coordinate triples, flattened. */
export function jsonTriples(v: unknown, n: number, where: StructureErrorLocation): number[] {
  if (!Array.isArray(v)) throw new StructureError(`expected a list of [x, y, z] triples, got ${describeJson(v)}`, where);
  if (v.length !== n) throw new StructureError(`${v.length} coordinate triples for ${n} sites`, where);
  return v.flatMap((row, k) => jsonTriple(row, atField(where, `[${k}]`)));
}

/** Error unless `pbc` (if present) is periodic along all three axes. */
export function checkPbc(pbc: unknown, where: StructureErrorLocation): void {
  if (pbc === undefined || pbc === null || pbc === true) return;
  if (Array.isArray(pbc) && pbc.length === 3 && pbc.every((x) => x === true)) return;
  throw new StructureError(`pbc is ${JSON.stringify(pbc)}: fracflow handles structures periodic in all three directions only`, where);
}


// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/**
 * Error unless `n` sites fit `limits.maxSites`; called with the count a file declares, before any
 * per-site array is made. `what` says where the count came from (`the counts 1 999999999`).
 */
export function checkSiteCount(n: number, limits: Partial<ReadLimits> | undefined, what: string, where: StructureErrorLocation): void {
  const { maxSites } = readLimits(limits);
  if (!Number.isSafeInteger(n) || n > maxSites) {
    throw new StructureError(`${what} ${Number.isSafeInteger(n) ? `give ${n} sites` : 'give more sites than can be counted'}, over the limit of ${maxSites} sites per structure; ${RAISE_SITES}`, where);
  }
}

/**
 * A record id from JSON (material_id, id): a string, or a number written as its decimal text; null
 * and absence give undefined. Anything else (an object, a list, a boolean) is refused rather than
 * stored as `[object Object]`; so is an empty or overlong string.
 */
export function jsonId(v: unknown, where: StructureErrorLocation): string | undefined {
  if (v === undefined || v === null) return undefined;
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' && Number.isFinite(v)) s = String(v);
  else throw new StructureError(`expected an id (a string or a number), got ${describeJson(v)}`, where);
  return checkId(s, where);
}

/** Error for an empty id, an id with line breaks or one longer than {@link MAX_ID_LENGTH}; else the id. */
export function checkId(s: string, where: StructureErrorLocation): string {
  if (s.trim() === '') throw new StructureError('the id is empty', where);
  if (s.length > MAX_ID_LENGTH) throw new StructureError(`the id is ${s.length} characters long, over the limit of ${MAX_ID_LENGTH} (starts ${JSON.stringify(s.slice(0, 40))})`, where);
  if (/[\r\n\0]/.test(s)) throw new StructureError(`the id ${JSON.stringify(s.slice(0, 40))} holds a line break or NUL character`, where);
  return s;
}
