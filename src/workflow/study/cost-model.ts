/**
 * The cost of the expensive stages in the architecture study: core-hours of a DFT calculation as a
 * function of the supercell's atom count, with a seeded spread. The formula (every constant is a
 * parameter, the defaults are assumptions stated here, not measurements):
 *
 *   single point   t_sp(N)  = spCoreHours100 · (N / 100)^exponent          core-hours
 *   static design  C_static = 3 · t_sp(N_7)                                  start, mid, end in the ≥ 7 Å cell
 *   NEB design     C_neb    = (2 · relaxSinglePoints + nebSinglePoints · images) · t_sp(N_10)
 *                                                                           relaxed endpoints + 1-image NEB, ≥ 10 Å cell
 *   one run        C · exp(spreadSigma · g − spreadSigma² / 2),  g ~ N(0, 1) seeded per (pathway, design)
 *   wall time      C / cores · 3600 s                                        cores per calculation, linear speed-up
 *
 * Plane-wave DFT costs between N² (FFTs, dense work at small N) and N³ (orthogonalisation and subspace
 * diagonalisation, dominant past a few hundred atoms) per SCF step; `exponent` 2.5 sits in the middle
 * of that published range. `spCoreHours100` = 4 core-hours for one converged single point of a
 * 100-atom fluoride supercell (PBE, 520 eV cutoff, Γ-centred k-mesh of a ≥ 7 Å cell: a few minutes on
 * one 48-core node) is an assumed order of magnitude. A relaxation is taken as 8 single points
 * (≈ 20 ionic steps that reuse the previous wavefunction) and a NEB image as 12. The spread's
 * mean-one log-normal factor keeps the expected cost equal to the formula. Replace the defaults with a
 * site's own calibration (`CostModelParams`).
 */

export interface CostModelParams {
  /** Core-hours of one single point of a 100-atom cell. */
  spCoreHours100: number;
  /** Scaling exponent of a single point with the atom count (published range 2–3). */
  exponent: number;
  /** Single-point equivalents of one endpoint relaxation. */
  relaxSinglePoints: number;
  /** Single-point equivalents per NEB image. */
  nebSinglePoints: number;
  /** NEB images between the endpoints. */
  images: number;
  /** σ of the log-normal spread of one run's cost (0: no spread). */
  spreadSigma: number;
  /** Cores per static calculation. */
  staticCores: number;
  /** Cores per NEB calculation. */
  nebCores: number;
}

export const DEFAULT_COST_MODEL: Readonly<CostModelParams> = Object.freeze({
  spCoreHours100: 4,
  exponent: 2.5,
  relaxSinglePoints: 8,
  nebSinglePoints: 12,
  images: 1,
  spreadSigma: 0.3,
  staticCores: 32,
  nebCores: 64,
});

/** A parameter set with each value checked (positive, finite; the exponent within 1–4). */
export function costModel(p: Partial<CostModelParams> = {}): CostModelParams {
  const m = { ...DEFAULT_COST_MODEL, ...p };
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (v === 0 && k !== 'spreadSigma')) throw new RangeError(`cost model: ${k} must be a positive number, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
  }
  if (m.exponent < 1 || m.exponent > 4) throw new RangeError(`cost model: exponent must be within 1–4 (published VASP scaling is 2–3), got ${m.exponent}`);
  for (const k of ['images', 'staticCores', 'nebCores'] as const) if (!Number.isInteger(m[k])) throw new RangeError(`cost model: ${k} must be a positive integer, got ${m[k]}`);
  return m;
}

/** Core-hours of one single point of an `atoms`-atom cell. */
export function singlePointCoreHours(m: CostModelParams, atoms: number): number {
  if (!(atoms > 0)) throw new RangeError(`cost model: atoms must be positive, got ${atoms}`);
  return m.spCoreHours100 * (atoms / 100) ** m.exponent;
}

/** Expected core-hours of the static design (3 single points in the ≥ 7 Å cell of `atoms7` atoms). */
export function staticCoreHours(m: CostModelParams, atoms7: number): number {
  return 3 * singlePointCoreHours(m, atoms7);
}

/** Expected core-hours of the NEB design (2 relaxations + NEB images in the ≥ 10 Å cell of `atoms10` atoms). */
export function nebCoreHours(m: CostModelParams, atoms10: number): number {
  return (2 * m.relaxSinglePoints + m.nebSinglePoints * m.images) * singlePointCoreHours(m, atoms10);
}

/** The mean-one log-normal spread factor for a standard normal draw `g`. */
export function spreadFactor(m: CostModelParams, g: number): number {
  return Math.exp(m.spreadSigma * g - (m.spreadSigma * m.spreadSigma) / 2);
}

/** Wall time (ms) of a calculation of `coreHours` on `cores` cores (linear speed-up within a calculation). */
export function wallMs(coreHours: number, cores: number): number {
  return (coreHours / cores) * 3600 * 1000;
}
