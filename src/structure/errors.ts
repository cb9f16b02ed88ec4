/**
 * Errors raised while reading or validating a structure.
 *
 * The message always names where the problem is (file, line and/or field) and what is wrong,
 * e.g. `CaF2.cif:14: _cell_length_a: not a number: "5.46x"`.
 */
export interface StructureErrorLocation {
  /** File name or a label for in-memory text (e.g. `<string>`, `mp-241`). */
  file?: string;
  /** 1-based line number inside the file, when the format is line-oriented. */
  line?: number;
  /** Field, tag or key that holds the bad value (e.g. `_cell_length_a`, `lattice`, `site 3`). */
  field?: string;
}

export class StructureError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  /** The cause in plain words, without the location prefix. */
  readonly reason: string;

  constructor(reason: string, where: StructureErrorLocation = {}) {
    super(formatLocation(where) + reason);
    this.name = 'StructureError';
    this.reason = reason;
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
  }
}

function formatLocation(where: StructureErrorLocation): string {
  let loc = '';
  if (where.file !== undefined) loc += where.file;
  if (where.line !== undefined) loc += (loc ? ':' : 'line ') + String(where.line);
  if (loc) loc += ': ';
  if (where.field !== undefined) loc += where.field + ': ';
  return loc;
}
