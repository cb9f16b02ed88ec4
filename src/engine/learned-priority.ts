/**
 * A learned priority: a model fitted on the finished rows of a downstream stage (its `target` column,
 * e.g. `calc_static.barrier_ev`) from chosen feature columns of the ranked stage's own rows, refitted
 * every `every` new finished target rows and swapped in live as the stage's priority. The model is
 * ridge regression; the priority is the model's prediction written as a portable expression over the
 * stage's columns (negated when a lower target ranks first), so the store re-scores the pending rows
 * and every engine running the stage adopts it like any other priority swap (`setPriority`). A
 * feature a pending row does not have yet scores with the feature's mean. Each fit — rows, coefficients,
 * R² and RMSE on the training rows, the expression — is recorded as a `priority-fit` event in the store.
 *
 * Ridge: the features are standardised (mean 0, standard deviation 1 over the training rows), the
 * target centred, and the penalised least-squares problem min ‖y − Xβ‖² + α‖β‖² solved as the ordinary
 * least squares of the augmented system [X; √α·I] β = [y; 0] with ml-regression-multivariate-linear
 * (which has no penalty of its own); the intercept is not penalised. Coefficients are then mapped
 * back to the features' own units.
 */
import MLR from 'ml-regression-multivariate-linear';
import type { QueueStore } from '../store/interface.js';
import { StageError } from '../stage-kit/stage.js';

export type LearnedModel = 'ridge';
export const LEARNED_MODELS: readonly LearnedModel[] = ['ridge'];

export interface LearnedPrioritySpec {
  /** The stage whose queue is ranked. */
  stage: string;
  model: LearnedModel;
  /** The downstream stage table and column fitted (e.g. `{ table: 'calc_static', column: 'barrier_ev' }`). */
  target: { table: string; column: string };
  /** Columns of the stage's table the model reads (input columns: pending rows have them). */
  features: readonly string[];
  /** Ridge penalty α on the standardised features. Default 1. */
  alpha?: number;
  /** Refit after this many new finished target rows. Default 20. */
  every?: number;
  /** No fit before this many training rows. Default features + 2. */
  minRows?: number;
  /** A lower target ranks first (barriers). Default true. */
  lowerFirst?: boolean;
}

export interface RidgeFit {
  intercept: number;
  coefficients: number[];
  /** On the training rows. */
  r2: number;
  rmse: number;
}

/** The priority fit recorded as an event. */
export interface PriorityFit extends RidgeFit {
  stage: string;
  model: LearnedModel;
  target: string;
  features: string[];
  alpha: number;
  rows: number;
  /** The priority swapped in. */
  expression: string;
}

/** Checked at the public boundary; messages name the option and the value. */
export function checkLearnedSpec(s: LearnedPrioritySpec): Required<LearnedPrioritySpec> {
  const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
  if (!LEARNED_MODELS.includes(s.model)) throw new StageError(`learned priority: model must be one of ${LEARNED_MODELS.join(', ')}, got ${JSON.stringify(s.model)}`);
  if (!ident.test(s.stage)) throw new StageError(`learned priority: stage must be a table name, got ${JSON.stringify(s.stage)}`);
  if (!ident.test(s.target?.table ?? '') || !ident.test(s.target?.column ?? '')) throw new StageError(`learned priority: target must be TABLE.COLUMN, got ${JSON.stringify(s.target)}`);
  if (!Array.isArray(s.features) || s.features.length === 0) throw new StageError(`learned priority: features must name at least one column, got ${JSON.stringify(s.features)}`);
  for (const f of s.features) if (!ident.test(f)) throw new StageError(`learned priority: feature ${JSON.stringify(f)} is not a column name`);
  if (new Set(s.features).size !== s.features.length) throw new StageError(`learned priority: features name a column twice: ${s.features.join(',')}`);
  const alpha = s.alpha ?? 1;
  if (!(Number.isFinite(alpha) && alpha >= 0)) throw new StageError(`learned priority: alpha must be a non-negative number, got ${JSON.stringify(s.alpha)}`);
  const every = s.every ?? 20;
  if (!(Number.isInteger(every) && every >= 1)) throw new StageError(`learned priority: every must be a positive integer, got ${JSON.stringify(s.every)}`);
  const minRows = s.minRows ?? s.features.length + 2;
  if (!(Number.isInteger(minRows) && minRows >= 2)) throw new StageError(`learned priority: minRows must be an integer ≥ 2, got ${JSON.stringify(s.minRows)}`);
  return { stage: s.stage, model: s.model, target: { ...s.target }, features: [...s.features], alpha, every, minRows, lowerFirst: s.lowerFirst ?? true };
}

/** Ridge regression of `y` on `x` (rows × features), penalty `alpha` on standardised features (see the module comment). */
export function fitRidge(x: readonly (readonly number[])[], y: readonly number[], alpha: number): RidgeFit {
  const n = x.length;
  const p = x[0]?.length ?? 0;
  if (n < 2 || p === 0 || y.length !== n) throw new RangeError(`ridge: need at least 2 rows of the same length as y, got ${n} rows of ${p} and ${y.length} targets`);
  const mean = Array.from({ length: p }, (_, j) => x.reduce((s, r) => s + r[j]!, 0) / n);
  // A constant feature (sd 0) gets scale 1: its standardised column is all zeros and its coefficient 0.
  const sd = mean.map((m, j) => Math.sqrt(x.reduce((s, r) => s + (r[j]! - m) ** 2, 0) / n) || 1);
  const my = y.reduce((s, v) => s + v, 0) / n;
  const z = x.map((r) => r.map((v, j) => (v - mean[j]!) / sd[j]!));
  const yc = y.map((v) => [v - my]);
  const rootA = Math.sqrt(alpha);
  const aug = [...z, ...Array.from({ length: p }, (_, j) => Array.from({ length: p }, (_, k) => (j === k ? rootA : 0)))];
  const yAug = [...yc, ...Array.from({ length: p }, () => [0])];
  const w = new MLR(aug, yAug, { intercept: false, statistics: false }).weights.map((r) => r[0]!);
  const coefficients = w.map((b, j) => b / sd[j]!);
  const intercept = my - coefficients.reduce((s, b, j) => s + b * mean[j]!, 0);
  let ssRes = 0;
  let ssTot = 0;
  x.forEach((r, i) => {
    const pred = intercept + r.reduce((s, v, j) => s + v * coefficients[j]!, 0);
    ssRes += (y[i]! - pred) ** 2;
    ssTot += (y[i]! - my) ** 2;
  });
  return { intercept, coefficients, r2: ssTot > 0 ? 1 - ssRes / ssTot : 0, rmse: Math.sqrt(ssRes / n) };
}

/** A number as the portable expression subset writes it (12 significant digits, in parentheses). */
function num(v: number): string {
  return `(${Number(v.toPrecision(12))})`;
}

/** The fit's prediction as a priority over the stage's columns: higher runs first. */
export function learnedExpression(fit: RidgeFit, features: readonly string[], means: readonly (number | null)[], lowerFirst: boolean): string {
  const terms = features.map((f, j) => `${num(fit.coefficients[j]!)} * coalesce(${f}, ${num(means[j] ?? 0)})`);
  const pred = `${num(fit.intercept)} + ${terms.join(' + ')}`;
  return lowerFirst ? `-(${pred})` : `(${pred})`;
}

/** A learned priority over one store: fitted and swapped in when `every` new target rows have finished. */
export class LearnedPriority {
  readonly spec: Required<LearnedPrioritySpec>;
  private readonly store: QueueStore;
  /** Finished target rows at the last fit (or the last look that found too few rows). */
  private seen = -1;
  readonly fits: PriorityFit[] = [];

  constructor(store: QueueStore, spec: LearnedPrioritySpec) {
    this.store = store;
    this.spec = checkLearnedSpec(spec);
  }

  /** Fit and swap in when `every` new target rows have finished since the last fit; null otherwise. */
  async refitIfDue(now: number): Promise<PriorityFit | null> {
    const done = (await this.store.counts(this.spec.target.table, now)).done;
    if (this.seen >= 0 && done < this.seen + this.spec.every) return null;
    if (done < this.spec.minRows) return null;
    return this.fit(now);
  }

  /** Fit on the rows finished so far and swap the priority in (null: fewer than minRows rows). */
  async fit(now: number): Promise<PriorityFit | null> {
    const s = this.spec;
    const rows = await this.store.trainingRows(s.stage, s.target, s.features);
    const done = (await this.store.counts(s.target.table, now)).done;
    if (rows.y.length < s.minRows) return null;
    this.seen = done;
    const ridge = fitRidge(rows.x, rows.y, s.alpha);
    const means = await this.store.featureMeans(s.stage, s.features);
    const expression = learnedExpression(ridge, s.features, means, s.lowerFirst);
    const fit: PriorityFit = { stage: s.stage, model: s.model, target: `${s.target.table}.${s.target.column}`, features: [...s.features], alpha: s.alpha, rows: rows.y.length, ...ridge, expression };
    await this.store.recordEvent(s.stage, 'priority-fit', fit, now);
    await this.store.setPriority(s.stage, expression, now);
    this.fits.push(fit);
    return fit;
  }
}
