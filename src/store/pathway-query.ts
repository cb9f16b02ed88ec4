/**
 * What both backends' pathways table reads share: the check of a page query at the store's boundary
 * and the summary columns as selected from `descriptors d` (plain SQL both dialects read alike).
 */
import { PATHWAY_SORT_COLUMNS, type PathwayQuery, type RowState, type StructureHops } from './interface.js';
import { StageError } from '../stage-kit/stage.js';

/** Columns of the summary as selected from `descriptors d` left-joined to `images i`. */
export const SUMMARY_SELECT = `d.key, d.state, d.structure_id, d.formula, d.hop_index, d.length, d.multiplicity, d.nsites, d.nsites_777,
  d.oxidation_state, d.dimensionality, d.dimensionality_cumlengths, d.dimensionality_cumbarriers, d.percolation_1d, d.percolation_2d,
  d.percolation_3d, d.ewald_energy, d.ionic_radii_overlap_cations, d.ionic_radii_overlap_anions, d.last_error`;

const STATES = ['pending', 'running', 'done', 'failed'];

/** Check a query at the store's boundary; the message names the field and the value. */
export function checkPathwayQuery(q: PathwayQuery): void {
  if (!Number.isInteger(q.offset) || q.offset < 0) throw new StageError(`pathways page: offset must be a non-negative integer, got ${JSON.stringify(q.offset)}`);
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > 500) throw new StageError(`pathways page: limit must be an integer from 1 to 500, got ${JSON.stringify(q.limit)}`);
  if (q.sort !== undefined && !(PATHWAY_SORT_COLUMNS as readonly string[]).includes(q.sort))
    throw new StageError(`pathways page: sort must be one of ${PATHWAY_SORT_COLUMNS.join(', ')}, got ${JSON.stringify(q.sort)}`);
  if (q.state !== undefined && !STATES.includes(q.state)) throw new StageError(`pathways page: state must be one of ${STATES.join(', ')}, got ${JSON.stringify(q.state)}`);
  if (q.minDimensionality !== undefined && !Number.isFinite(q.minDimensionality)) throw new StageError(`pathways page: minDimensionality must be a number, got ${JSON.stringify(q.minDimensionality)}`);
  if (q.maxEwaldEnergy !== undefined && !Number.isFinite(q.maxEwaldEnergy)) throw new StageError(`pathways page: maxEwaldEnergy must be a number, got ${JSON.stringify(q.maxEwaldEnergy)}`);
  if (q.search !== undefined && (typeof q.search !== 'string' || q.search.length > 200)) throw new StageError(`pathways page: search must be a string of at most 200 characters, got ${JSON.stringify(q.search)?.slice(0, 60)}`);
}

/** The search text as a LIKE pattern (escape character `\`): a substring, its own `%`, `_` and `\` taken literally. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One row of a structure's hop read (pathways left-joined to descriptors), as both backends select it. */
export interface StructureHopRow {
  key: string; idpp: string | null; formula: string; space_group: string | null; nsites: number; hop_index: number; length: number; multiplicity: number;
  state: RowState | null; dimensionality: number | null; dimensionality_cumlengths: number | null; dimensionality_cumbarriers: number | null;
  ewald_energy: number | null; percolation_1d: number | null; percolation_2d: number | null; percolation_3d: number | null;
}

/** A structure's hops from its rows (in hop order); the percolation lengths from a finished row when there is one. */
export function structureHopsOf(structureId: string, rows: readonly StructureHopRow[]): StructureHops | null {
  if (rows.length === 0) return null;
  const withPerc = rows.find((r) => r.state === 'done') ?? rows[0]!;
  return {
    structure_id: structureId,
    formula: rows[0]!.formula,
    space_group: rows[0]!.space_group,
    nsites: rows[0]!.nsites,
    percolation: { d1: withPerc.percolation_1d, d2: withPerc.percolation_2d, d3: withPerc.percolation_3d },
    hops: rows.map((r) => ({
      key: r.key, idpp: r.idpp, hop_index: r.hop_index, length: r.length, multiplicity: r.multiplicity, state: r.state, dimensionality: r.dimensionality,
      dimensionality_cumlengths: r.dimensionality_cumlengths, dimensionality_cumbarriers: r.dimensionality_cumbarriers, ewald_energy: r.ewald_energy,
    })),
  };
}
