/**
 * The expressions users write into stage declarations — a stage's priority and its admission filter —
 * in the portable subset of SQL that every store backend renders in its own dialect:
 *
 * - column names of the row (the stage's own columns for a priority; the upstream row's columns for a
 *   filter, optionally written `u.name`), and named cutoffs `:name` (filters);
 * - numbers (`3`, `-1.5`, `1e-6`), strings in single quotes (`'F'`, `''` for a quote), `NULL`, `TRUE`, `FALSE`;
 * - arithmetic `+ - * / %`, comparisons `= <> != < <= > >=`, `AND OR NOT`, `IS [NOT] NULL`,
 *   `[NOT] IN (…)`, `[NOT] BETWEEN … AND …`, `CASE WHEN … THEN … [ELSE …] END`, parentheses;
 * - the functions `abs`, `coalesce`, `nullif`, `round`, and `min` / `max` of two or more values
 *   (the larger / smaller of its arguments: SQLite's scalar min/max, PostgreSQL's LEAST/GREATEST).
 *
 * Anything else — another function, a sub-query, a `;`, a comment, a column that the row does not
 * have — is refused when the stage is declared, with a message naming the expression and the piece.
 * A validated expression is kept as tokens and rendered by each backend (`renderSqlite`).
 */

/** An expression that is not in the portable subset; the message names the expression and the piece. */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

type Token =
  | { kind: 'num'; text: string }
  | { kind: 'str'; text: string }
  | { kind: 'ident'; name: string }
  | { kind: 'cutoff'; name: string }
  | { kind: 'kw'; word: string }
  | { kind: 'fn'; name: string }
  | { kind: 'op'; text: string };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IS', 'NULL', 'TRUE', 'FALSE', 'IN', 'BETWEEN', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END']);
/** Functions of the subset and how many arguments each takes (min, max; Infinity: no upper bound). */
const FUNCTIONS: Record<string, [number, number]> = { abs: [1, 1], coalesce: [1, Infinity], nullif: [2, 2], round: [1, 2], min: [2, Infinity], max: [2, Infinity] };
const OPERATORS = ['<>', '!=', '<=', '>=', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ','];

/** A validated portable expression. */
export interface PortableExpression {
  /** As the user wrote it. */
  readonly text: string;
  readonly tokens: readonly Token[];
  /** Columns it reads, in order of first use. */
  readonly columns: readonly string[];
  /** Cutoffs it names (`:name`), in order of first use. */
  readonly cutoffs: readonly string[];
}

function tokenize(text: string, what: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (m: string): never => {
    throw new ExpressionError(`${what} ${JSON.stringify(text)}: ${m}`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (text.startsWith('--', i) || text.startsWith('/*', i)) fail('comments are not allowed');
    if (c === ';') fail('one expression only (no ";")');
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (num) {
      out.push({ kind: 'num', text: num[0] });
      i += num[0].length;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      let s = '';
      for (;;) {
        if (j >= text.length) fail('unterminated string');
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        s += text[j];
        j++;
      }
      out.push({ kind: 'str', text: s });
      i = j + 1;
      continue;
    }
    if (c === ':') {
      const m = /^:([A-Za-z][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (!m) fail(`":" must start a cutoff name such as :maxLength, at ${JSON.stringify(text.slice(i, i + 12))}`);
      out.push({ kind: 'cutoff', name: m![1]! });
      i += m![0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?/.exec(text.slice(i));
    if (id) {
      const word = id[0];
      i += word.length;
      const upper = word.toUpperCase();
      if (KEYWORDS.has(upper)) {
        out.push({ kind: 'kw', word: upper });
        continue;
      }
      // A name followed by "(" is a function call.
      let k = i;
      while (k < text.length && /\s/.test(text[k]!)) k++;
      if (text[k] === '(') {
        const fn = word.toLowerCase();
        if (!(fn in FUNCTIONS)) fail(`function ${word}() is not in the portable subset (${Object.keys(FUNCTIONS).join(', ')})`);
        out.push({ kind: 'fn', name: fn });
        continue;
      }
      out.push({ kind: 'ident', name: word });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      out.push({ kind: 'op', text: op === '!=' ? '<>' : op });
      i += op.length;
      continue;
    }
    fail(`unexpected ${JSON.stringify(c)} at position ${i}`);
  }
  return out;
}

/**
 * A recursive-descent check of the grammar (so that `a +`, `(a`, `min(a)` or `a b` are refused here,
 * not by the database at run time). Precedence: OR < AND < NOT < comparison/IS/IN/BETWEEN < + - < * / % < unary.
 */
class Checker {
  private i = 0;
  constructor(private readonly t: readonly Token[], private readonly fail: (m: string) => never) {}

  private peek(): Token | undefined {
    return this.t[this.i];
  }
  private isKw(w: string): boolean {
    const x = this.peek();
    return x?.kind === 'kw' && x.word === w;
  }
  private isOp(o: string): boolean {
    const x = this.peek();
    return x?.kind === 'op' && x.text === o;
  }
  private expectOp(o: string): void {
    if (!this.isOp(o)) this.fail(`expected "${o}"${this.where()}`);
    this.i++;
  }
  private expectKw(w: string): void {
    if (!this.isKw(w)) this.fail(`expected ${w}${this.where()}`);
    this.i++;
  }
  private where(): string {
    const x = this.peek();
    if (!x) return ' at the end';
    return ` before ${describe(x)}`;
  }

  all(): void {
    if (this.t.length === 0) this.fail('empty expression');
    this.or();
    if (this.i < this.t.length) this.fail(`unexpected ${describe(this.t[this.i]!)}`);
  }
  private or(): void {
    this.and();
    while (this.isKw('OR')) {
      this.i++;
      this.and();
    }
  }
  private and(): void {
    this.not();
    while (this.isKw('AND')) {
      this.i++;
      this.not();
    }
  }
  private not(): void {
    if (this.isKw('NOT')) {
      this.i++;
      this.not();
      return;
    }
    this.comparison();
  }
  private comparison(): void {
    this.sum();
    for (;;) {
      const x = this.peek();
      if (x?.kind === 'op' && ['=', '<>', '<', '<=', '>', '>='].includes(x.text)) {
        this.i++;
        this.sum();
        continue;
      }
      if (this.isKw('IS')) {
        this.i++;
        if (this.isKw('NOT')) this.i++;
        this.expectKw('NULL');
        continue;
      }
      const negated = this.isKw('NOT') && (this.t[this.i + 1]?.kind === 'kw' && ['IN', 'BETWEEN'].includes((this.t[this.i + 1] as { word: string }).word));
      if (negated) this.i++;
      if (this.isKw('IN')) {
        this.i++;
        this.expectOp('(');
        this.sum();
        while (this.isOp(',')) {
          this.i++;
          this.sum();
        }
        this.expectOp(')');
        continue;
      }
      if (this.isKw('BETWEEN')) {
        this.i++;
        this.sum();
        this.expectKw('AND');
        this.sum();
        continue;
      }
      return;
    }
  }
  private sum(): void {
    this.product();
    while (this.isOp('+') || this.isOp('-')) {
      this.i++;
      this.product();
    }
  }
  private product(): void {
    this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      this.i++;
      this.unary();
    }
  }
  private unary(): void {
    if (this.isOp('-') || this.isOp('+')) {
      this.i++;
      this.unary();
      return;
    }
    this.primary();
  }
  private primary(): void {
    const x = this.peek();
    if (!x) this.fail('expression ends too soon');
    this.i++;
    switch (x!.kind) {
      case 'num':
      case 'str':
      case 'ident':
      case 'cutoff':
        return;
      case 'fn': {
        this.expectOp('(');
        let n = 1;
        this.or();
        while (this.isOp(',')) {
          this.i++;
          this.or();
          n++;
        }
        this.expectOp(')');
        const [lo, hi] = FUNCTIONS[x!.name]!;
        if (n < lo || n > hi) this.fail(`${x!.name}() takes ${hi === Infinity ? `${lo} or more` : lo === hi ? lo : `${lo} to ${hi}`} arguments, got ${n}`);
        return;
      }
      case 'kw':
        if (['NULL', 'TRUE', 'FALSE'].includes(x!.word)) return;
        if (x!.word === 'CASE') {
          if (!this.isKw('WHEN')) this.fail(`CASE needs WHEN${this.where()}`);
          while (this.isKw('WHEN')) {
            this.i++;
            this.or();
            this.expectKw('THEN');
            this.or();
          }
          if (this.isKw('ELSE')) {
            this.i++;
            this.or();
          }
          this.expectKw('END');
          return;
        }
        this.fail(`unexpected ${x!.word}`);
        return;
      case 'op':
        if (x!.text === '(') {
          this.or();
          this.expectOp(')');
          return;
        }
        this.fail(`unexpected "${x!.text}"`);
    }
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'num':
      return t.text;
    case 'str':
      return `'${t.text}'`;
    case 'ident':
      return t.name;
    case 'cutoff':
      return `:${t.name}`;
    case 'kw':
      return t.word;
    case 'fn':
      return `${t.name}(`;
    case 'op':
      return `"${t.text}"`;
  }
}

/**
 * Check `text` against the portable subset and the names it may use. `what` names the expression in
 * messages (e.g. `stage images: filter`); `columns` are the names the row has (null: any name, checked
 * later against the table, as a filter's upstream columns are when the stage is ensured); `cutoffs`
 * the named cutoffs (filters). Identifiers may be written `u.name` (the upstream row of a filter).
 */
export function portableExpression(text: string, what: string, columns: Iterable<string> | null, cutoffs: Iterable<string> = []): PortableExpression {
  if (typeof text !== 'string') throw new ExpressionError(`${what} must be a SQL expression string, got ${JSON.stringify(text)}`);
  const fail = (m: string): never => {
    throw new ExpressionError(`${what} ${JSON.stringify(text)}: ${m}`);
  };
  const tokens = tokenize(text, what).map((t): Token => (t.kind === 'ident' && t.name.startsWith('u.') ? { kind: 'ident', name: t.name.slice(2) } : t));
  new Checker(tokens, fail).all();
  const known = columns === null ? null : new Set(columns);
  const cuts = new Set(cutoffs);
  const usedColumns: string[] = [];
  const usedCutoffs: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'ident') {
      if (t.name.includes('.')) fail(`${t.name}: only the row's own columns can be named (write the column name alone)`);
      if (known && !known.has(t.name)) fail(`no column ${t.name} (columns: ${[...known].join(', ') || 'none'})`);
      if (!usedColumns.includes(t.name)) usedColumns.push(t.name);
    } else if (t.kind === 'cutoff') {
      if (!cuts.has(t.name)) fail(`no cutoff :${t.name} (cutoffs: ${[...cuts].map((c) => `:${c}`).join(', ') || 'none'})`);
      if (!usedCutoffs.includes(t.name)) usedCutoffs.push(t.name);
    }
  }
  return { text, tokens, columns: usedColumns, cutoffs: usedCutoffs };
}

/** Rendering options of a backend. */
export interface Dialect {
  /** A column reference, e.g. `u.name` or `"name"`. */
  column(name: string): string;
  /** A cutoff reference: a bound parameter such as `@name` or `$3`. */
  cutoff(name: string): string;
  /** A function name of the subset in this dialect. */
  fn(name: string): string;
}

/** The expression as SQL text of a dialect; names come only from validated tokens. */
export function renderExpression(e: PortableExpression, d: Dialect): string {
  let out = '';
  let prev: Token | null = null;
  for (const t of e.tokens) {
    let piece: string;
    switch (t.kind) {
      case 'num':
        piece = t.text;
        break;
      case 'str':
        piece = `'${t.text.replace(/'/g, "''")}'`;
        break;
      case 'ident':
        piece = d.column(t.name);
        break;
      case 'cutoff':
        piece = d.cutoff(t.name);
        break;
      case 'kw':
        piece = t.word;
        break;
      case 'fn':
        piece = d.fn(t.name);
        break;
      case 'op':
        piece = t.text;
        break;
    }
    const tight = prev === null || prev.kind === 'fn' || (prev.kind === 'op' && prev.text === '(') || (t.kind === 'op' && (t.text === ')' || t.text === ','));
    out += (tight ? '' : ' ') + piece;
    prev = t;
  }
  return out;
}

