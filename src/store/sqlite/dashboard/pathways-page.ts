/**
 * `pathwaysPage`: a filtered, sorted window of the descriptors rows with the state of each pathway's
 * images row, counted and cut in SQL so that a 50,000-pathway store answers a page in milliseconds. The
 * sort walks an index of the sort column when one exists ({@link PATHWAY_INDEXES}): the descriptor
 * columns lie after the stored cell and hop list in each row, so a scan that reads them reads every
 * row's overflow pages.
 */
import { PATHWAY_SORT_COLUMNS, type PathwayPage, type PathwayQuery, type PathwaySummary } from '../../interface.js';
import type { SqlDb, SqlValue } from '../connection.js';
import { StageError } from '../../../stage-kit/stage.js';
import { tableExists } from './tables.js';

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

export function pathwaysPage(sql: SqlDb, q: PathwayQuery): PathwayPage {
  checkPathwayQuery(q);
  if (!tableExists(sql, 'descriptors')) return { total: 0, rows: [] };
  const images = tableExists(sql, 'images');
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.search) {
    // LIKE with the wildcards of the user's text taken literally.
    const pattern = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    // As a set of row ids: the sub-select scans the covering search index, and the page query then
    // walks the sort column's index, taking the rows in the set.
    where.push(`+d.id IN (SELECT id FROM descriptors WHERE structure_id LIKE ? ESCAPE '\\' OR formula LIKE ? ESCAPE '\\')`);
    params.push(pattern, pattern);
  }
  // Each filter as a set of row ids from the covering index of its column; the unary `+` keeps the
  // planner from driving the query by that set, so that it walks the sort column's index instead,
  // testing ids (which the index holds), and reads no row it does not return.
  if (q.state) {
    where.push('+d.id IN (SELECT id FROM descriptors WHERE state = ?)');
    params.push(q.state);
  }
  if (q.minDimensionality !== undefined) {
    where.push('+d.id IN (SELECT id FROM descriptors WHERE dimensionality >= ?)');
    params.push(q.minDimensionality);
  }
  if (q.maxEwaldEnergy !== undefined) {
    where.push('+d.id IN (SELECT id FROM descriptors WHERE ewald_energy <= ?)');
    params.push(q.maxEwaldEnergy);
  }
  const sort = q.sort ?? 'ewald_energy';
  const dir = q.descending ? 'DESC' : 'ASC';
  const clause = (extra: string[]) => (where.length + extra.length ? `WHERE ${[...where, ...extra].join(' AND ')}` : '');
  const total = sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM descriptors d ${clause([])}`, params)!.n;
  // Nulls last in both directions, the row id breaking ties so that pages never overlap. Non-null and
  // null rows are two queries so that each walks an index of the sort column (an ORDER BY on
  // `col IS NULL` would sort every matching row first). By the images state: the non-null rows are
  // those with an images row, walked by the images table's (state, id) index, ties by the images id.
  let nonNullFrom: string, nonNullWhere: string[], nonNullOrder: string, nullWhere: string[], from: string;
  const imagesState = images ? '(SELECT state FROM images WHERE key = d.key) AS images_state' : 'NULL AS images_state';
  if (sort === 'images_state') {
    nonNullFrom = images ? 'images i JOIN descriptors d ON d.key = i.key' : '';
    nonNullWhere = [];
    nonNullOrder = `i.state ${dir}, i.id ${dir}`;
    nullWhere = images ? ['NOT EXISTS (SELECT 1 FROM images WHERE key = d.key)'] : [];
    from = 'descriptors d';
  } else {
    nonNullFrom = 'descriptors d';
    nonNullWhere = [`d.${sort} IS NOT NULL`];
    nonNullOrder = `d.${sort} ${dir}, d.id ${dir}`;
    nullWhere = [`d.${sort} IS NULL`];
    from = 'descriptors d';
  }
  const nonNull = nonNullFrom ? sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${nonNullFrom} ${clause(nonNullWhere)}`, params)!.n : 0;
  const rows: PathwaySummary[] = [];
  if (q.offset < nonNull) {
    rows.push(...sql.all<PathwaySummary>(`SELECT ${SUMMARY_SELECT}, ${imagesState} FROM ${nonNullFrom} ${clause(nonNullWhere)} ORDER BY ${nonNullOrder} LIMIT ? OFFSET ?`, [...params, q.limit, q.offset]));
  }
  const left = q.limit - rows.length;
  if (left > 0 && total > nonNull) {
    rows.push(...sql.all<PathwaySummary>(`SELECT ${SUMMARY_SELECT}, ${imagesState} FROM ${from} ${clause(nullWhere)} ORDER BY d.id ${dir} LIMIT ? OFFSET ?`, [...params, left, Math.max(0, q.offset - nonNull)]));
  }
  return { total, rows };
}
