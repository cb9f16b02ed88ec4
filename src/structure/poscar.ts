/**
 * VASP POSCAR / CONTCAR: reader and writer.
 *
 * Layout read (VASP 5):
 * ```
 * comment
 * scale                 one number (> 0: multiplier; < 0: target cell volume in Å³) or three per-axis factors
 * a1x a1y a1z           lattice vectors, Å (before scaling)
 * a2x a2y a2z
 * a3x a3y a3z
 * Ca F                  species line (VASP 5; POTCAR suffixes such as `Ca_sv` or `F/abc123` are dropped)
 * 4 8                   counts
 * Selective dynamics    optional
 * Direct | Cartesian    (first letter C/c/K/k = Cartesian, Å, scaled like the lattice)
 * x y z [T T F] [...]   one line per site
 * ```
 * VASP 4 files (no species line) are read only when `options.species` gives the element of each
 * count. Anything after the coordinates (velocities, predictor-corrector data) is ignored.
 * Selective-dynamics flags become the site property `selective_dynamics` (`[boolean, boolean, boolean]`).
 */
import { StructureError, type StructureErrorLocation } from './errors.js';
import { isElement } from './elements.js';
import { det3 } from './lattice.js';
import { cartesian, createStructure, MIN_SITE_DISTANCE_ANG, reducedFormula, type Structure, type StructureInput } from './structure.js';
import { minimumPairDistance } from './pair-distance.js';
import type { ReadLimits } from './limits.js';
import { checkSiteCount } from './read-common.js';

export interface PoscarReadOptions {
  /** Label used in error messages (file path, `<string>`). */
  file?: string;
  /** Accept a left-handed lattice (negative determinant). Default false. */
  allowLeftHanded?: boolean;
  /** Element of each species block, required for VASP 4 files (which have no species line). */
  species?: readonly string[];
  /** Size limits (see limits.ts); the site count is checked before any per-site array is made. */
  limits?: Partial<ReadLimits>;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][+-]?\d+)?$/;

/** Parse a Fortran-style real (accepts `1.0D+00`, `nan`, `inf`); null when not a number. */
function parseReal(tok: string): number | null {
  if (NUMBER_RE.test(tok)) return Number(tok.replace(/[dD]/, 'e'));
  const t = tok.toLowerCase();
  if (t === 'nan' || t === '+nan' || t === '-nan') return Number.NaN;
  if (/^[+-]?inf(inity)?$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return null;
}

function tokens(line: string | undefined): string[] {
  if (line === undefined) return [];
  return line.trim().split(/\s+/).filter((t) => t !== '');
}

/**
 * Read one POSCAR/CONTCAR. Lattice in Å (after applying the scale factor); returns fractional
 * coordinates (Cartesian input converted). `info.comment` holds the first line.
 */
export function readPoscar(text: string, options: PoscarReadOptions = {}): Structure {
  const file = options.file;
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  // drop trailing blank lines so "file ends at line N" is accurate
  let last = lines.length;
  while (last > 0 && lines[last - 1]!.trim() === '') last--;
  const at = (idx: number, field?: string): StructureErrorLocation => ({ file, line: idx + 1, field });
  const need = (idx: number, what: string): string[] => {
    if (idx >= last) throw new StructureError(`file ends after line ${last}; expected ${what} on line ${idx + 1} (truncated POSCAR?)`, at(idx));
    return tokens(lines[idx]);
  };
  const num = (tok: string, idx: number, field: string): number => {
    const v = parseReal(tok);
    if (v === null) throw new StructureError(`not a number: ${JSON.stringify(tok)}`, at(idx, field));
    if (!Number.isFinite(v)) throw new StructureError(`not a finite number: ${JSON.stringify(tok)} (NaN/Inf)`, at(idx, field));
    return v;
  };

  const comment = (lines[0] ?? '').trim();
  // Scale factor(s)
  const scaleTok = need(1, 'the scale factor');
  if (scaleTok.length === 0) throw new StructureError('expected the scale factor, found an empty line', at(1, 'scale'));
  const scaleCount = scaleTok.length >= 3 && scaleTok.slice(0, 3).every((t) => parseReal(t) !== null) ? 3 : 1;
  const scales = scaleTok.slice(0, scaleCount).map((t) => num(t, 1, 'scale'));
  if (scales.some((s) => s === 0)) throw new StructureError('scale factor is zero', at(1, 'scale'));
  if (scaleCount === 3 && scales.some((s) => s < 0)) throw new StructureError('per-axis scale factors must be positive (a negative value means a target volume only as a single scale)', at(1, 'scale'));

  // Lattice
  const raw: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = need(2 + r, `lattice vector ${r + 1}`);
    if (t.length < 3) throw new StructureError(`expected 3 numbers for lattice vector ${r + 1}, found ${t.length}`, at(2 + r, 'lattice'));
    for (let k = 0; k < 3; k++) raw.push(num(t[k]!, 2 + r, 'lattice'));
  }
  const lattice = new Float64Array(9);
  let factor: [number, number, number];
  if (scaleCount === 3) factor = [scales[0]!, scales[1]!, scales[2]!];
  else if (scales[0]! > 0) factor = [scales[0]!, scales[0]!, scales[0]!];
  else {
    const v = det3(raw);
    if (!(Math.abs(v) > 1e-12)) throw new StructureError(`cell volume is zero (${v.toPrecision(6)} Å³): cannot scale to the target volume ${-scales[0]!}`, at(2, 'lattice'));
    const f = Math.cbrt(-scales[0]! / Math.abs(v));
    factor = [f, f, f];
  }
  for (let r = 0; r < 3; r++) for (let k = 0; k < 3; k++) lattice[3 * r + k] = raw[3 * r + k]! * factor[k]!;

  // Species and counts
  let idx = 5;
  const sixth = need(idx, 'the species line (VASP 5) or the counts (VASP 4)');
  let speciesNames: string[];
  let countLine: number;
  let countTok: string[];
  if (sixth.length > 0 && sixth.every((t) => /^\d+$/.test(t))) {
    if (!options.species) {
      throw new StructureError(
        'VASP 4 POSCAR: line 6 holds the counts and there is no species line; add the element symbols as line 6 (VASP 5) or pass the species via options.species',
        at(idx, 'species'),
      );
    }
    speciesNames = [...options.species];
    speciesNames.forEach((s) => {
      if (!isElement(s)) throw new StructureError(`unknown element ${JSON.stringify(s)} in options.species`, at(idx, 'species'));
    });
    countLine = idx;
    countTok = sixth;
    idx += 1;
  } else {
    speciesNames = sixth.map((t) => t.split(/[_/]/)[0]!);
    speciesNames.forEach((s, k) => {
      if (!isElement(s)) throw new StructureError(`unknown element ${JSON.stringify(sixth[k])}`, at(idx, 'species'));
    });
    countLine = idx + 1;
    countTok = need(countLine, 'the species counts');
    idx += 2;
  }
  const counts = countTok.map((t) => {
    if (!/^\d+$/.test(t)) throw new StructureError(`expected a non-negative integer count, got ${JSON.stringify(t)}`, at(countLine, 'counts'));
    return Number(t);
  });
  if (counts.length !== speciesNames.length) {
    throw new StructureError(`${counts.length} counts for ${speciesNames.length} species (${speciesNames.join(' ')})`, at(countLine, 'counts'));
  }
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) throw new StructureError('all species counts are zero: the structure has no sites', at(countLine, 'counts'));
  // Sizes before allocation: the declared count against the limit, then against the lines there are
  // (at most one site per line), so `1 999999999` is a message, not an exhausted heap.
  checkSiteCount(n, options.limits, `the counts ${countTok.join(' ')}`, at(countLine, 'counts'));

  // Selective dynamics and coordinate mode
  let selective = false;
  let modeTok = need(idx, "'Direct' or 'Cartesian'");
  if (/^[sS]/.test(modeTok[0] ?? '')) {
    selective = true;
    idx++;
    modeTok = need(idx, "'Direct' or 'Cartesian'");
  }
  const mode = modeTok[0] ?? '';
  if (mode === '' || parseReal(mode) !== null) {
    throw new StructureError(`expected 'Direct' or 'Cartesian', found ${mode === '' ? 'an empty line' : JSON.stringify(lines[idx]!.trim())}`, at(idx, 'coordinate mode'));
  }
  const isCartesian = /^[cCkK]/.test(mode);
  idx++;

  // Coordinates
  // Every coordinate line must be there before the per-site arrays are made (the scan stops at the
  // first missing line, so it costs at most the file's own length).
  const firstCoordLine = idx;
  for (let i = 0; i < n; i++) {
    const li = firstCoordLine + i;
    if (li >= last || lines[li]!.trim() === '') {
      throw new StructureError(
        `expected ${n} coordinate lines (counts ${counts.join(' ')} on line ${countLine + 1}) from line ${firstCoordLine + 1}, found only ${i}: the file is truncated`,
        at(li),
      );
    }
  }
  const species: string[] = [];
  counts.forEach((c, k) => {
    for (let j = 0; j < c; j++) species.push(speciesNames[k]!);
  });
  const coords = new Float64Array(3 * n);
  const flags: [boolean, boolean, boolean][] = [];
  for (let i = 0; i < n; i++) {
    const li = firstCoordLine + i;
    const t = tokens(lines[li]);
    if (t.length < 3) throw new StructureError(`expected 3 coordinates for site ${i} (${species[i]}), found ${t.length}`, at(li, 'coordinates'));
    for (let k = 0; k < 3; k++) coords[3 * i + k] = num(t[k]!, li, 'coordinates');
    if (selective) {
      if (t.length < 6) throw new StructureError(`expected 3 selective-dynamics flags (T/F) after the coordinates of site ${i}, found ${t.length - 3}`, at(li, 'selective dynamics'));
      const f = t.slice(3, 6).map((x) => {
        if (/^[tT]/.test(x)) return true;
        if (/^[fF]/.test(x)) return false;
        throw new StructureError(`expected a T/F selective-dynamics flag, got ${JSON.stringify(x)}`, at(li, 'selective dynamics'));
      });
      flags.push([f[0]!, f[1]!, f[2]!]);
    }
  }
  const siteProperties: Record<string, readonly unknown[]> = selective ? { selective_dynamics: flags } : {};
  const input: StructureInput = {
    lattice,
    species,
    ...(isCartesian ? { cart: coords.map((x, k) => x * factor[k % 3]!) } : { frac: coords }),
    siteProperties,
    info: comment ? { comment } : {},
  };
  const s = createStructure(input, {
    where: { file, line: 3 },
    checkOverlap: false,
    allowLeftHanded: options.allowLeftHanded,
    siteWhere: (i) => ({ file, line: firstCoordLine + i + 1, field: 'coordinates' }),
  });
  const hit = minimumPairDistance(s.lattice, cartesian(s), MIN_SITE_DISTANCE_ANG);
  if (hit) throw overlapError(hit, s, (i) => firstCoordLine + i + 1, file);
  return s;
}

/** Overlap error naming the sites' lines (shared by the line-oriented readers). */
export function overlapError(
  hit: { i: number; j: number; distance: number },
  s: Structure,
  lineOf: (site: number) => number,
  file: string | undefined,
): StructureError {
  const { i, j, distance } = hit;
  if (i === j) {
    return new StructureError(
      `site ${i} (${s.species[i]}) is ${distance.toFixed(4)} Å from its own periodic image (closer than ${MIN_SITE_DISTANCE_ANG} Å): the cell is too small`,
      { file, line: lineOf(i) },
    );
  }
  return new StructureError(
    `sites ${i} (${s.species[i]}, line ${lineOf(i)}) and ${j} (${s.species[j]}, line ${lineOf(j)}) are ${distance.toFixed(4)} Å apart (closer than ${MIN_SITE_DISTANCE_ANG} Å): overlapping atoms`,
    { file, line: lineOf(j) },
  );
}

/** 16 significant digits, right-aligned. */
function fmt16(x: number): string {
  const v = x === 0 ? 0 : x;
  return v.toPrecision(16).padStart(23);
}

/**
 * Write a VASP 5 POSCAR: scale 1.0, lattice in Å, Direct coordinates with 16 significant digits.
 * Sites keep their order; each contiguous run of one element is a species block (an element may
 * appear in several blocks). Writes `Selective dynamics` when the site property
 * `selective_dynamics` exists. Comment line: `info.comment`, else `info.id` and the reduced formula.
 */
export function writePoscar(s: Structure): string {
  const blocks: { el: string; n: number }[] = [];
  for (const el of s.species) {
    const lastBlock = blocks[blocks.length - 1];
    if (lastBlock && lastBlock.el === el) lastBlock.n++;
    else blocks.push({ el, n: 1 });
  }
  const formula = reducedFormula(s);
  const rawComment = typeof s.info['comment'] === 'string' && s.info['comment'].trim() !== '' ? s.info['comment'] : s.info.id ? `${s.info.id} ${formula}` : formula;
  const comment = rawComment.replace(/[\r\n]+/g, ' ');
  const out: string[] = [comment, '1.0'];
  for (let r = 0; r < 3; r++) out.push(`${fmt16(s.lattice[3 * r]!)} ${fmt16(s.lattice[3 * r + 1]!)} ${fmt16(s.lattice[3 * r + 2]!)}`);
  out.push(blocks.map((b) => b.el.padStart(5)).join(' '));
  out.push(blocks.map((b) => String(b.n).padStart(5)).join(' '));
  const sd = s.siteProperties['selective_dynamics'];
  if (sd) out.push('Selective dynamics');
  out.push('Direct');
  for (let i = 0; i < s.species.length; i++) {
    let line = `${fmt16(s.frac[3 * i]!)} ${fmt16(s.frac[3 * i + 1]!)} ${fmt16(s.frac[3 * i + 2]!)}`;
    if (sd) {
      const f = sd[i];
      const flags = Array.isArray(f) && f.length === 3 ? f : [true, true, true];
      line += ' ' + flags.map((x) => (x ? 'T' : 'F')).join(' ');
    }
    out.push(`${line} ${s.species[i]}`);
  }
  return out.join('\n') + '\n';
}
