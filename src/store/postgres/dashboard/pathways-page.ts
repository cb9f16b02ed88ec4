/**
 * `pathwaysPage` on PostgreSQL: the SQLite store's page (src/store/sqlite/dashboard/pathways-page.ts)
 * in this dialect. The filters are plain predicates (the planner picks between the sort column's index
 * and a filter's); text search is ILIKE (SQLite's LIKE ignores ASCII case); text columns sort by
 * byte order (`COLLATE "C"`, SQLite's order, whatever the database's collation), walking the indexes
 * {@link prepareDashboard} made with the same collation. The page is the non-null rows of the sort
 * column in order, then the null rows by id (nulls last either way), each walking an index, so that the
 * first page of 50,000 rows reads one page of rows; the non-null rows are counted only for a page past
 * their end. The total is a count over the filter columns alone, which an index-only scan answers on a
 * vacuumed table (at 50,000 rows: 5-10 ms, against 100-300 ms for a scan of the rows).
 */
import type { PathwayPage, PathwayQuery, PathwaySortColumn, PathwaySummary } from '../../interface.js';
import { checkPathwayQuery, likePattern, SUMMARY_SELECT } from '../../pathway-query.js';
import type { PgTx, PgValue } from '../connection.js';
import { tableExists } from './tables.js';

/** Sort columns holding text the user reads (ids, formulas): ordered by bytes, as SQLite orders them. */
export const BYTE_ORDERED: ReadonlySet<PathwaySortColumn> = new Set<PathwaySortColumn>(['structure_id', 'formula']);

export async function pathwaysPage(tx: PgTx, q: PathwayQuery): Promise<PathwayPage> {
  checkPathwayQuery(q);
  if (!(await tableExists(tx, 'descriptors'))) return { total: 0, rows: [] };
  const images = await tableExists(tx, 'images');
  const where: string[] = [];
  const params: Record<string, PgValue> = {};
  if (q.search) {
    where.push(`(d.structure_id ILIKE @pattern ESCAPE '\\' OR d.formula ILIKE @pattern ESCAPE '\\')`);
    params['pattern'] = likePattern(q.search);
  }
  if (q.state) {
    where.push('d.state = @state');
    params['state'] = q.state;
  }
  if (q.minDimensionality !== undefined) {
    // As a number: an integer column would refuse a parameter of 2.5 as its own type.
    where.push('d.dimensionality >= CAST(@minDim AS DOUBLE PRECISION)');
    params['minDim'] = q.minDimensionality;
  }
  if (q.maxEwaldEnergy !== undefined) {
    where.push('d.ewald_energy <= CAST(@maxEwald AS DOUBLE PRECISION)');
    params['maxEwald'] = q.maxEwaldEnergy;
  }
  const sort = q.sort ?? 'ewald_energy';
  const dir = q.descending ? 'DESC' : 'ASC';
  const clause = (extra: string[]) => (where.length + extra.length ? `WHERE ${[...where, ...extra].join(' AND ')}` : '');
  const imagesState = images ? '(SELECT state FROM images WHERE key = d.key) AS images_state' : 'NULL AS images_state';
  const total = (await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM descriptors d ${clause([])}`, params))!.n;
  // Each page is cut from row ids alone (an index-only scan skips the offset's rows), and only the
  // page's rows are then read in full: a page deep in the table reads 50 rows, not all before it.
  const full = (ids: string, order: string, state = imagesState) =>
    `SELECT ${SUMMARY_SELECT}, ${state} FROM (${ids}) AS w JOIN descriptors d ON d.id = w.id ORDER BY ${order}`;
  let nonNullPage: string | null, nonNullCount: string | null, nullPage: string;
  if (sort === 'images_state') {
    // The non-null rows are those with an images row, walked by the images table's (state, id) index, ties by the images id.
    // Unfiltered, the images table alone (that index holds the key): an images row is admitted from
    // the descriptors row of its key, and rows are not deleted one by one.
    const from = where.length ? 'images i JOIN descriptors d ON d.key = i.key' : 'images i';
    nonNullPage = images
      ? `SELECT ${SUMMARY_SELECT}, w.state AS images_state FROM (SELECT i.key, i.state, i.id AS iid FROM ${from} ${clause([])} ORDER BY i.state ${dir}, i.id ${dir} LIMIT @limit OFFSET @offset) AS w
           JOIN descriptors d ON d.key = w.key ORDER BY w.state ${dir}, w.iid ${dir}`
      : null;
    nonNullCount = images ? `SELECT COUNT(*) AS n FROM ${from} ${clause([])}` : null;
    nullPage = full(`SELECT d.id FROM descriptors d ${clause(images ? ['NOT EXISTS (SELECT 1 FROM images WHERE key = d.key)'] : [])} ORDER BY d.id ${dir} LIMIT @limit OFFSET @offset`, `d.id ${dir}`, 'NULL AS images_state');
  } else {
    const col = (t: string) => `${t}.${sort}${BYTE_ORDERED.has(sort) ? ' COLLATE "C"' : ''}`;
    nonNullPage = full(`SELECT d.id, d.${sort} FROM descriptors d ${clause([`d.${sort} IS NOT NULL`])} ORDER BY ${col('d')} ${dir}, d.id ${dir} LIMIT @limit OFFSET @offset`, `${col('w')} ${dir}, w.id ${dir}`);
    nonNullCount = `SELECT COUNT(*) AS n FROM descriptors d ${clause([`d.${sort} IS NOT NULL`])}`;
    nullPage = full(`SELECT d.id FROM descriptors d ${clause([`d.${sort} IS NULL`])} ORDER BY d.id ${dir} LIMIT @limit OFFSET @offset`, `w.id ${dir}`);
  }
  const rows: PathwaySummary[] = nonNullPage ? await tx.all<PathwaySummary>(nonNullPage, { ...params, limit: q.limit, offset: q.offset }) : [];
  if (rows.length < q.limit && q.offset + rows.length < total) {
    // The non-null rows end on this page (they number offset + what it holds) or before it (counted): the null rows follow.
    const nonNull = rows.length > 0 ? q.offset + rows.length : nonNullCount ? (await tx.get<{ n: number }>(nonNullCount, params))!.n : 0;
    rows.push(...(await tx.all<PathwaySummary>(nullPage, { ...params, limit: q.limit - rows.length, offset: Math.max(0, q.offset - nonNull) })));
  }
  return { total, rows };
}
