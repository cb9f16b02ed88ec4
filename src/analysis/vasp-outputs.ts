/**
 * Final energies of VASP runs, parsed from the bytes of vasprun.xml (preferred) or OUTCAR, and the
 * start/mid/end barrier of the static design. Pure: the caller reads the files (src/io/vasp-outputs.ts
 * from this machine's disk, the calc stage through its executor).
 *
 * "Final energy" follows pymatgen 2022.11.7 exactly:
 * - vasprun.xml (`Vasprun.final_energy`): `e_0_energy` of the `<energy>` block that closes the
 *   last complete `<calculation>`. VASP 5.x sometimes writes a wrong `e_0_energy` there (vasp.at
 *   forum thread 16942), so it is recomputed from the last electronic step as
 *   `round(e_0_energy − e_fr_energy of that step + e_fr_energy of the ionic step, 8 decimals)`,
 *   and the recomputed value wins when the two differ by more than 1e-7 eV.
 * - OUTCAR (`Outcar.final_energy`): the last `energy(sigma->0) =` value; the last
 *   `free  energy   TOTEN` and `energy  without entropy` values are returned beside it.
 *
 * Convergence flags follow `Vasprun.converged_electronic` (electronic steps of the last ionic
 * step < NELM; LEPSILON runs skip the leading steps that carry only the three energy terms) and
 * `converged_ionic` (NSW ≤ 1 or ionic steps < NSW).
 *
 * Truncated vasprun.xml (VASP killed or timed out): the complete `<calculation>` blocks are kept,
 * as pymatgen does with `exception_on_bad_xml=False`, and the result says `finished: false`. It is
 * an error only when no complete calculation with an energy is left. Files ending in `.gz` are
 * decompressed. The file is scanned once as text (no DOM), keeping only the energies.
 */
import { join } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';

export class VaspOutputError extends Error {
  /** The file that could not be used. */
  readonly file: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'VaspOutputError';
    this.file = file;
  }
}

export interface VaspRunResult {
  /** The file read. */
  file: string;
  /** Which parser produced the result. */
  source: 'vasprun' | 'outcar';
  /** pymatgen's final energy (eV), see the module comment. */
  finalEnergyEv: number;
  /** Last `free  energy   TOTEN` (eV); null when absent (vasprun: `e_fr_energy` of the last ionic step). */
  freeEnergyEv: number | null;
  /** Last `energy  without entropy` (eV); null when absent (vasprun: `e_wo_entrp` of the last ionic step). */
  energyWithoutEntropyEv: number | null;
  /** Electronic convergence of the last ionic step; null when it cannot be told (OUTCAR, or no NELM). */
  electronicConverged: boolean | null;
  /** Ionic convergence as pymatgen defines it; null for OUTCAR. */
  ionicConverged: boolean | null;
  /** Whether VASP finished writing the file (vasprun: `</modeling>`; OUTCAR: the timing footer). */
  finished: boolean;
  /** Complete ionic steps read (vasprun); null for OUTCAR. */
  ionicSteps: number | null;
  /** Why `finished` is false (e.g. the unclosed element), else null. */
  truncation: string | null;
}

/** The text of a VASP output file's bytes, decompressed when `file` ends in `.gz`. */
function decode(raw: Uint8Array, file: string): string {
  if (file.endsWith('.gz')) {
    try {
      // A gzip stream cut short (the run was killed while compressing) is read as far as it goes.
      return gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('latin1');
    } catch (e) {
      throw new VaspOutputError(file, `cannot decompress: ${(e as Error).message}`);
    }
  }
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
}

/** Python `float()` of a vasprun number; `****` (Fortran overflow) is NaN as in pymatgen. */
function vasprunFloat(text: string, file: string, line: number, name: string): number {
  const t = text.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^\*+$/.test(t)) return Number.NaN;
  throw new VaspOutputError(file, `line ${line}: ${name}: not a number: ${JSON.stringify(t)}`);
}

/** numpy's `np.round(x, 8)`: scale, round half to even, unscale. */
function round8(x: number): number {
  const y = x * 1e8;
  let r = Math.round(y);
  if (Math.abs(y % 1) === 0.5 && r % 2 !== 0) r -= 1;
  return r / 1e8;
}

type EnergyBlock = Record<string, number>;

interface Calculation {
  energy: EnergyBlock | null;
  scsteps: EnergyBlock[];
}

const TAG_RE = /<(\/?)([A-Za-z_][\w.:-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>/g;

function lineAt(text: string, index: number, cache: { idx: number; line: number }): number {
  let line = cache.line;
  for (let k = cache.idx; k < index; k++) if (text.charCodeAt(k) === 10) line++;
  cache.idx = index;
  cache.line = line;
  return line;
}

/**
 * Parse the bytes of a vasprun.xml (or, when `file` ends in `.gz`, vasprun.xml.gz); `file` names it
 * in the result and in errors. Throws {@link VaspOutputError} naming the file when it is not a
 * vasprun.xml, has mismatched tags, or has no complete calculation with a final energy.
 */
export function parseVasprun(raw: Uint8Array, file: string): VaspRunResult {
  const text = decode(raw, file);
  const stack: string[] = [];
  const lc = { idx: 0, line: 1 };
  const calcs: Calculation[] = [];
  let cur: Calculation | null = null;
  let curScstep: EnergyBlock | null = null;
  let curEnergy: EnergyBlock | null = null;
  let iName: string | null = null;
  let iStart = 0;
  let section: 'parameters' | 'incar' | null = null;
  const params: Record<string, string> = {};
  const incar: Record<string, string> = {};
  // depth of an open <separator name="response functions">: pymatgen lets it add keys, never override them
  let responseDepth = -1;
  let sawModeling = false;
  let finished = false;

  TAG_RE.lastIndex = 0;
  for (let m = TAG_RE.exec(text); m !== null; m = TAG_RE.exec(text)) {
    const name = m[2];
    if (name === undefined) continue; // comment, processing instruction, CDATA
    const closing = m[1] === '/';
    const selfClosing = m[4] === '/';
    if (!closing) {
      if (stack.length === 0) {
        if (name !== 'modeling') throw new VaspOutputError(file, `line ${lineAt(text, m.index, lc)}: root element is <${name}>, expected <modeling>: not a vasprun.xml`);
        if (sawModeling) throw new VaspOutputError(file, `line ${lineAt(text, m.index, lc)}: content after </modeling>`);
        sawModeling = true;
      }
      if (selfClosing) continue;
      const parent = stack[stack.length - 1];
      stack.push(name);
      if (name === 'calculation' && parent === 'modeling') cur = { energy: null, scsteps: [] };
      else if (cur && name === 'scstep' && parent === 'calculation') curScstep = {};
      else if (cur && name === 'energy' && parent === 'scstep') curEnergy = curScstep;
      else if (cur && name === 'energy' && parent === 'calculation') curEnergy = cur.energy = {};
      else if ((name === 'parameters' || name === 'incar') && parent === 'modeling') section = name;
      else if (section === 'parameters' && name === 'separator' && responseDepth < 0 && /\bname\s*=\s*"response functions"/.test(m[3] ?? '')) responseDepth = stack.length;
      else if (name === 'i' && (curEnergy !== null || section !== null)) {
        const attr = /\bname\s*=\s*"([^"]*)"/.exec(m[3] ?? '');
        iName = attr ? attr[1]! : null;
        iStart = m.index + m[0].length;
      }
      continue;
    }
    const open = stack.pop();
    if (open !== name) {
      throw new VaspOutputError(file, `line ${lineAt(text, m.index, lc)}: </${name}> closes <${open ?? 'nothing'}>: malformed XML`);
    }
    const parent = stack[stack.length - 1];
    if (name === 'separator' && stack.length + 1 === responseDepth) responseDepth = -1;
    if (name === 'i' && iName !== null) {
      const value = text.slice(iStart, m.index);
      if (curEnergy !== null && (parent === 'energy')) curEnergy[iName] = vasprunFloat(value, file, lineAt(text, m.index, lc), iName);
      else if (section === 'parameters') {
        if (responseDepth < 0 || !(iName in params)) params[iName] = value.trim();
      }
      else if (section === 'incar') incar[iName] = value.trim();
      iName = null;
    } else if (name === 'energy' && curEnergy !== null) curEnergy = null;
    else if (name === 'scstep' && cur && curScstep) {
      // pymatgen keeps only electronic steps that carry an energy block
      if (Object.keys(curScstep).length > 0) cur.scsteps.push(curScstep);
      curScstep = null;
    } else if (name === 'calculation' && cur && parent === 'modeling') {
      calcs.push(cur);
      cur = null;
    } else if ((name === 'parameters' || name === 'incar') && parent === 'modeling') section = null;
    else if (name === 'modeling') finished = true;
  }
  if (!sawModeling) throw new VaspOutputError(file, 'no <modeling> element: not a vasprun.xml (empty or not XML)');
  const truncation = finished ? null : `file ends inside <${stack[stack.length - 1] ?? 'modeling'}> (line ${lineAt(text, text.length, lc)}): truncated vasprun.xml`;
  const last = calcs[calcs.length - 1];
  if (!last) throw new VaspOutputError(file, truncation ? `${truncation}, and no complete <calculation> before the cut` : 'no <calculation> element: no energy found');
  const e = last.energy;
  const e0 = e?.['e_0_energy'];
  const efr = e?.['e_fr_energy'];
  const lastStep = last.scsteps[last.scsteps.length - 1];
  if (!e || e0 === undefined || efr === undefined || !lastStep || lastStep['e_0_energy'] === undefined || lastStep['e_fr_energy'] === undefined) {
    throw new VaspOutputError(file, `the last <calculation> (ionic step ${calcs.length}) has no e_0_energy/e_fr_energy with electronic steps: no energy found${truncation ? ` (${truncation})` : ''}`);
  }
  const fixed = round8(lastStep['e_0_energy'] - lastStep['e_fr_energy'] + efr);
  const finalEnergyEv = Math.abs(e0 - fixed) > 1e-7 ? fixed : e0;

  const intParam = (key: string): number | null => {
    const v = params[key];
    if (v === undefined) return null;
    const n = /^[+-]?\d+/.exec(v);
    return n ? Number(n[0]) : null;
  };
  const nelm = intParam('NELM');
  const nsw = intParam('NSW') ?? 0;
  let electronicConverged: boolean | null = null;
  if (nelm !== null) {
    const lepsilon = incar['LEPSILON'];
    if (lepsilon !== undefined && /^\.?[Tt]/.test(lepsilon)) {
      // pymatgen: skip the steps that hold only e_wo_entrp/e_fr_energy/e_0_energy, from index 1
      let i = 1;
      const only3 = (s: EnergyBlock | undefined): boolean => !!s && Object.keys(s).length === 3 && 'e_wo_entrp' in s && 'e_fr_energy' in s && 'e_0_energy' in s;
      while (only3(last.scsteps[i])) i++;
      electronicConverged = i + 1 !== nelm;
    } else electronicConverged = last.scsteps.length < nelm;
  }
  return {
    file,
    source: 'vasprun',
    finalEnergyEv,
    freeEnergyEv: efr,
    energyWithoutEntropyEv: e['e_wo_entrp'] ?? null,
    electronicConverged,
    ionicConverged: nsw <= 1 || calcs.length < nsw,
    finished,
    ionicSteps: calcs.length,
    truncation,
  };
}

/** Last match of `re` (global) in `text`, as pymatgen's `[\d\-\.]+` capture read by float(). */
function lastEnergy(text: string, re: RegExp, file: string): number | null {
  let found: string | null = null;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) found = m[1]!;
  if (found === null) return null;
  const v = Number(found);
  if (!Number.isFinite(v)) throw new VaspOutputError(file, `energy value ${JSON.stringify(found)} is not a number`);
  return v;
}

/**
 * Parse the final energies of an OUTCAR's bytes (OUTCAR.gz when `file` ends in `.gz`). Throws
 * {@link VaspOutputError} when it holds no `energy(sigma->0)` line.
 */
export function parseOutcar(raw: Uint8Array, file: string): VaspRunResult {
  const text = decode(raw, file);
  const e0 = lastEnergy(text, /energy\(sigma->0\)\s*=\s+([\d\-.]+)/g, file);
  if (e0 === null) throw new VaspOutputError(file, 'no "energy(sigma->0) =" line: no energy found (not an OUTCAR, or VASP stopped before the first electronic step converged)');
  const finished = /General timing and accounting informations for this job/.test(text);
  return {
    file,
    source: 'outcar',
    finalEnergyEv: e0,
    freeEnergyEv: lastEnergy(text, /free {2}energy {3}TOTEN\s+=\s+([\d\-.]+)/g, file),
    energyWithoutEntropyEv: lastEnergy(text, /energy {2}without entropy\s*=\s+([\d\-.]+)/g, file),
    electronicConverged: null,
    ionicConverged: null,
    finished,
    ionicSteps: null,
    truncation: finished ? null : 'no timing footer: VASP did not finish writing the OUTCAR',
  };
}

/** The output files of one VASP run folder, in the order they are tried. */
export const VASP_OUTPUT_FILES: readonly { name: string; parse: (raw: Uint8Array, file: string) => VaspRunResult }[] = [
  { name: 'vasprun.xml', parse: parseVasprun },
  { name: 'vasprun.xml.gz', parse: parseVasprun },
  { name: 'OUTCAR', parse: parseOutcar },
  { name: 'OUTCAR.gz', parse: parseOutcar },
];

/**
 * Final energy of one VASP run folder `dir` from its output files: `found[k]` holds the bytes of
 * `VASP_OUTPUT_FILES[k]` (null when that file does not exist). vasprun.xml(.gz) wins when readable,
 * else OUTCAR(.gz); when all fail the error names each file and its cause.
 */
export function finalEnergyOfFolder(dir: string, found: readonly (Uint8Array | null)[]): VaspRunResult {
  const errors: string[] = [];
  for (let k = 0; k < VASP_OUTPUT_FILES.length; k++) {
    const raw = found[k];
    if (raw === null || raw === undefined) continue;
    try {
      return VASP_OUTPUT_FILES[k]!.parse(raw, join(dir, VASP_OUTPUT_FILES[k]!.name));
    } catch (e) {
      if (!(e instanceof VaspOutputError)) throw e;
      errors.push(e.message);
    }
  }
  if (errors.length === 0) throw new VaspOutputError(dir, 'no vasprun.xml, vasprun.xml.gz, OUTCAR or OUTCAR.gz in the folder');
  throw new VaspOutputError(dir, `no final energy: ${errors.join('; ')}`);
}

/**
 * Migration barrier of the static start/mid/end design (eV):
 * `max(E_mid − E_start, E_mid − E_end)`. Every energy must be finite.
 */
export function barrier(eStartEv: number, eMidEv: number, eEndEv: number): number {
  const check = (v: number, name: string): void => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`barrier: ${name} must be a finite energy in eV, got ${String(v)}`);
  };
  check(eStartEv, 'eStartEv');
  check(eMidEv, 'eMidEv');
  check(eEndEv, 'eEndEv');
  return Math.max(eMidEv - eStartEv, eMidEv - eEndEv);
}
