/**
 * `pathwaysPage`: a filtered, sorted window of the descriptors rows with the state of each pathway's
 * images row, counted and cut in SQL so that a 50,000-pathway store answers a page in milliseconds. The
 * sort walks an index of the sort column when one exists ({@link PATHWAY_INDEXES}): the descriptor
 * columns lie after the stored cell and hop list in each row, so a scan that reads them reads every
 * row's overflow pages.
 */
import type { PathwayPage, PathwayQuery, PathwaySummary } from '../../interface.js';
import { checkPathwayQuery, likePattern, SUMMARY_SELECT } from '../../pathway-query.js';
import type { SqlDb, SqlValue } from '../connection.js';
import { tableExists } from './tables.js';

export function pathwaysPage(sql: SqlDb, q: PathwayQuery): PathwayPage {
  checkPathwayQuery(q);
  if (!tableExists(sql, 'descriptors')) return { total: 0, rows: [] };
  const images = tableExists(sql, 'images');
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.search) {
    // LIKE with the wildcards of the user's text taken literally.
    const pattern = likePattern(q.search);
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
