/**
 * `pathwaysPage` on PostgreSQL: the SQLite store's page (src/store/sqlite/dashboard/pathways-page.ts)
 * in this dialect. The filters are plain predicates (the planner picks between the sort column's index
 * and a filter's); text search is ILIKE (SQLite's LIKE ignores ASCII case); text columns sort by
 * byte order (`COLLATE "C"`, SQLite's order, whatever the database's collation), walking the indexes
 * {@link prepareDashboard} made with the same collation. Both counts come from one scan; the page is
 * the non-null rows of the sort column in order, then the null rows by id (nulls last either way), each
 * walking an index, so that the first page of 50,000 rows reads one page of rows.
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
  const window = { ...params, limit: q.limit };
  let total: number, nonNull: number;
  let nonNullPage: string | null;
  let nullPage: string;
  if (sort === 'images_state') {
    if (images) {
      const c = (await tx.get<{ total: number; non_null: number }>(`SELECT COUNT(*) AS total, COUNT(i.id) AS non_null FROM descriptors d LEFT JOIN images i ON i.key = d.key ${clause([])}`, params))!;
      [total, nonNull] = [c.total, c.non_null];
      // The non-null rows are those with an images row, walked by the images table's (state, id) index, ties by the images id.
      nonNullPage = `SELECT ${SUMMARY_SELECT}, i.state AS images_state FROM images i JOIN descriptors d ON d.key = i.key ${clause([])} ORDER BY i.state ${dir}, i.id ${dir} LIMIT @limit OFFSET @offset`;
      nullPage = `SELECT ${SUMMARY_SELECT}, NULL AS images_state FROM descriptors d ${clause(['NOT EXISTS (SELECT 1 FROM images WHERE key = d.key)'])} ORDER BY d.id ${dir} LIMIT @limit OFFSET @offset`;
    } else {
      total = (await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM descriptors d ${clause([])}`, params))!.n;
      nonNull = 0;
      nonNullPage = null;
      nullPage = `SELECT ${SUMMARY_SELECT}, NULL AS images_state FROM descriptors d ${clause([])} ORDER BY d.id ${dir} LIMIT @limit OFFSET @offset`;
    }
  } else {
    const col = `d.${sort}${BYTE_ORDERED.has(sort) ? ' COLLATE "C"' : ''}`;
    const c = (await tx.get<{ total: number; non_null: number }>(`SELECT COUNT(*) AS total, COUNT(d.${sort}) AS non_null FROM descriptors d ${clause([])}`, params))!;
    [total, nonNull] = [c.total, c.non_null];
    nonNullPage = `SELECT ${SUMMARY_SELECT}, ${imagesState} FROM descriptors d ${clause([`d.${sort} IS NOT NULL`])} ORDER BY ${col} ${dir}, d.id ${dir} LIMIT @limit OFFSET @offset`;
    nullPage = `SELECT ${SUMMARY_SELECT}, ${imagesState} FROM descriptors d ${clause([`d.${sort} IS NULL`])} ORDER BY d.id ${dir} LIMIT @limit OFFSET @offset`;
  }
  const rows: PathwaySummary[] = [];
  if (nonNullPage !== null && q.offset < nonNull) rows.push(...(await tx.all<PathwaySummary>(nonNullPage, { ...window, offset: q.offset })));
  const left = q.limit - rows.length;
  if (left > 0 && total > nonNull) rows.push(...(await tx.all<PathwaySummary>(nullPage, { ...window, limit: left, offset: Math.max(0, q.offset - nonNull) })));
  return { total, rows };
}
