/**
 * The rows a learned priority is fitted on (the SQLite store's training.ts in this dialect): a stage's
 * rows whose key has a finished row downstream, their feature columns and the downstream row's target
 * column. Names are checked against the registry and the tables' columns before they enter SQL.
 */
import type { TrainingRows } from '../interface.js';
import type { PgTx } from './connection.js';
import { isStageTable, tableColumns } from './ensure.js';

export async function trainingRows(tx: PgTx, stage: string, target: { table: string; column: string }, features: readonly string[]): Promise<TrainingRows> {
  if (!(await isStageTable(tx, stage))) throw new Error(`learned priority: no stage table ${JSON.stringify(stage)} in this store`);
  if (!(await isStageTable(tx, target.table))) throw new Error(`learned priority: target table ${JSON.stringify(target.table)} is not a stage table of this store (the target is a column of a stage's finished rows)`);
  const own = await tableColumns(tx, stage);
  for (const f of features) if (!own.includes(f)) throw new Error(`learned priority: feature ${JSON.stringify(f)} is not a column of ${stage} (columns: ${own.join(', ')})`);
  const theirs = await tableColumns(tx, target.table);
  if (!theirs.includes(target.column)) throw new Error(`learned priority: target column ${JSON.stringify(target.column)} is not a column of ${target.table} (columns: ${theirs.join(', ')})`);
  const cols = features.map((f) => `s."${f}"`).join(', ');
  const notNull = [...features.map((f) => `s."${f}" IS NOT NULL`), `t."${target.column}" IS NOT NULL`].join(' AND ');
  const rows = await tx.all<Record<string, unknown>>(
    `SELECT s.key AS key, ${cols}, t."${target.column}" AS _target FROM "${stage}" s JOIN "${target.table}" t ON t.key = s.key WHERE t.state = 'done' AND ${notNull} ORDER BY s.key`,
  );
  return { keys: rows.map((r) => r['key'] as string), x: rows.map((r) => features.map((f) => Number(r[f]))), y: rows.map((r) => Number(r['_target'])) };
}

/** Per feature column, the mean over the stage's rows that have it (what a pending row without it is scored with). */
export async function featureMeans(tx: PgTx, stage: string, features: readonly string[]): Promise<(number | null)[]> {
  const own = await tableColumns(tx, stage);
  const out: (number | null)[] = [];
  for (const f of features) {
    if (!own.includes(f)) throw new Error(`learned priority: feature ${JSON.stringify(f)} is not a column of ${stage} (columns: ${own.join(', ')})`);
    const m = (await tx.get<{ m: string | number | null }>(`SELECT AVG("${f}") AS m FROM "${stage}" WHERE "${f}" IS NOT NULL`))!.m;
    out.push(m === null ? null : Number(m));
  }
  return out;
}
