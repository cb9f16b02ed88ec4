/**
 * The work of the architecture study: structures with their pathways, each pathway with its measured
 * cheap-stage costs, its supercell sizes, two cheap descriptors and a "true" barrier.
 *
 * Costs and sizes come from data/study/bundled-costs.json (made by scripts/study/cheap-stage-costs.ts
 * from a real run of the bundled screen; its provenance is in the file). The `bundled` corpus is that
 * set; a corpus of N structures repeats it (structure k is bundled structure k mod n, keyed
 * `<id>~<copy>`), as the pipeline benchmark's corpus does.
 *
 * Ground truth (seeded): per pathway two standardised descriptors x1, x2 ~ N(0, 1), a latent
 * s = 0.8·x1 + 0.6·x2 (unit variance), z = ρ·s + √(1 − ρ²)·ε with ε ~ N(0, 1), so corr(z, s) = ρ, and
 * the true barrier B = 0.5 eV · exp(0.5·z) (log-normal, median 0.5 eV; ranks follow z). The static
 * design's barrier overestimates it (unrelaxed ions): B + 0.1 eV + 0.1 eV·|g|. The NEB design returns
 * B. A hand-written priority on x1 alone sees corr 0.8·ρ; a model fitted on x1 and x2 can reach ρ.
 * Real barriers can replace the synthetic ones (`barriers`: pathway id → eV, e.g. from a CSV).
 */
import { readFileSync } from 'node:fs';
import { dataPath } from '../../paths.js';

/** A seeded PRNG (mulberry32): uniform numbers in [0, 1). */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform source (Box–Muller, one value per pair of uniforms). */
export function normal(u: () => number): () => number {
  return () => {
    const a = Math.max(u(), Number.MIN_VALUE);
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  };
}

export interface StudyPathway {
  /** `<structure key>#<index>`: the pathway's id in a barriers CSV (copies share their original's id). */
  id: string;
  key: string;
  structure: string;
  atoms7: number;
  atoms10: number;
  dim: number;
  descriptorsMs: number;
  imagesMs: number;
  x1: number;
  x2: number;
  barrierEv: number;
  staticEv: number;
  /** Standard normal draws of the static and NEB runs' cost spread. */
  spreadStatic: number;
  spreadNeb: number;
}

export interface StudyStructure {
  key: string;
  nsites: number;
  findPathsMs: number;
  pathways: StudyPathway[];
}

export interface StudyCorpus {
  name: string;
  structures: StudyStructure[];
  pathways: Map<string, StudyPathway>;
  /** Keys of the pathways that can reach the NEB stage (dim ≥ 1), lowest true barrier first. */
  ranked: string[];
}

/** The cost data file's rows (see scripts/study/cheap-stage-costs.ts). */
export interface CostData {
  provenance: Record<string, unknown>;
  structures: [string, number, number, number, number | null, [number | null, number | null, number | null][]][];
}

export const BUNDLED_COSTS_FILE = 'study/bundled-costs.json';

/** The measured costs, checked: every structure has its sizes, and every pathway a dimensionality or none. */
export function loadCostData(path = dataPath(BUNDLED_COSTS_FILE)): CostData {
  let d: CostData;
  try {
    d = JSON.parse(readFileSync(path, 'utf8')) as CostData;
  } catch (e) {
    throw new Error(`study: cannot read the cost data ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(d.structures) || d.structures.length === 0) throw new Error(`study: cost data ${path} has no structures`);
  d.structures.forEach((s, i) => {
    if (!Array.isArray(s) || s.length !== 6 || typeof s[0] !== 'string' || !(s[2] > 0) || !(s[3] > 0) || !Array.isArray(s[5])) {
      throw new Error(`study: cost data ${path}: structure ${i} is not [id, nsites, nsites_777, nsites_101010, find_paths_ms, pathways]: ${JSON.stringify(s).slice(0, 200)}`);
    }
  });
  return d;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : 0;
}

export interface CorpusOptions {
  /** `bundled`, or a number of structures (the bundled set repeated). */
  size: 'bundled' | number;
  rho: number;
  seed: number;
  data?: CostData;
  /** Real barriers by pathway id (`<structure>#<index>`), replacing the synthetic ones. */
  barriers?: ReadonlyMap<string, number>;
}

export function buildCorpus(o: CorpusOptions): StudyCorpus {
  if (!(o.rho >= 0 && o.rho <= 1)) throw new RangeError(`study: rho must be within 0–1, got ${o.rho}`);
  if (o.size !== 'bundled' && !(Number.isInteger(o.size) && o.size > 0)) throw new RangeError(`study: corpus must be 'bundled' or a positive integer, got ${JSON.stringify(o.size)}`);
  const data = o.data ?? loadCostData();
  const base = data.structures;
  // Missing costs (a row that failed in the measured run) take the stage's median.
  const fpMed = median(base.flatMap((s) => (s[4] === null ? [] : [s[4]])));
  const dMed = median(base.flatMap((s) => s[5].flatMap((p) => (p[0] === null ? [] : [p[0]]))));
  const iMed = median(base.flatMap((s) => s[5].flatMap((p) => (p[2] === null ? [] : [p[2]]))));
  const n = o.size === 'bundled' ? base.length : o.size;
  const g = normal(uniform(o.seed));
  const structures: StudyStructure[] = [];
  const pathways = new Map<string, StudyPathway>();
  const sq = Math.sqrt(1 - o.rho * o.rho);
  for (let k = 0; k < n; k++) {
    const b = base[k % base.length]!;
    const copy = Math.floor(k / base.length);
    const key = copy === 0 ? b[0] : `${b[0]}~${copy}`;
    const ps: StudyPathway[] = b[5].map((p, i) => {
      const x1 = g();
      const x2 = g();
      const z = o.rho * (0.8 * x1 + 0.6 * x2) + sq * g();
      const id = `${b[0]}#${i}`;
      const real = o.barriers?.get(id);
      const barrierEv = real ?? 0.5 * Math.exp(0.5 * z);
      const staticEv = barrierEv + 0.1 + 0.1 * Math.abs(g());
      return {
        id, key: `${key}#${i}`, structure: key, atoms7: b[2], atoms10: b[3], dim: p[1] ?? 0,
        descriptorsMs: p[0] ?? dMed, imagesMs: p[2] ?? iMed, x1, x2, barrierEv, staticEv, spreadStatic: g(), spreadNeb: g(),
      };
    });
    for (const p of ps) pathways.set(p.key, p);
    structures.push({ key, nsites: b[1], findPathsMs: b[4] ?? fpMed, pathways: ps });
  }
  const ranked = [...pathways.values()].filter((p) => p.dim >= 1).sort((a, b) => a.barrierEv - b.barrierEv || (a.key < b.key ? -1 : 1)).map((p) => p.key);
  return { name: o.size === 'bundled' ? 'bundled' : `corpus-${n}`, structures, pathways, ranked };
}

/**
 * Real barriers from a CSV with a header naming `pathway` and `barrier_ev` columns (pathway ids as
 * `<structure id>#<index>`). Errors name the file, the line and the value.
 */
export function readBarriersCsv(path: string): Map<string, number> {
  const text = readFileSync(path, 'utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${path}: empty barriers file (expected a header with pathway,barrier_ev)`);
  const head = lines[0]!.split(',').map((h) => h.trim());
  const ip = head.indexOf('pathway');
  const ib = head.indexOf('barrier_ev');
  if (ip < 0 || ib < 0) throw new Error(`${path}: line 1: header must name the columns pathway and barrier_ev, got ${JSON.stringify(lines[0])}`);
  const out = new Map<string, number>();
  lines.slice(1).forEach((l, i) => {
    const f = l.split(',').map((x) => x.trim());
    const v = Number(f[ib]);
    if (!f[ip]) throw new Error(`${path}: line ${i + 2}: empty pathway id`);
    if (f[ib] === undefined || f[ib] === '' || !Number.isFinite(v)) throw new Error(`${path}: line ${i + 2}: barrier_ev must be a number, got ${JSON.stringify(f[ib] ?? '')}`);
    out.set(f[ip]!, v);
  });
  return out;
}
