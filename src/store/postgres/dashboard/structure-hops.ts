/** `structureHops` on PostgreSQL: a structure's hop classes with their descriptors and its percolation lengths (see src/store/sqlite/dashboard/structure-hops.ts). */
import type { RowState, StructureHops } from '../../interface.js';
import type { PgTx, PgValue } from '../connection.js';
import { tableExists } from './tables.js';
import { IDPP_MODES } from '../../../kernels/idpp.js';
import { idppKeySuffix } from '../../../stages/descriptors.js';

export async function structureHops(tx: PgTx, structureId: string): Promise<StructureHops | null> {
  if (!(await tableExists(tx, 'pathways'))) return null;
  const desc = await tableExists(tx, 'descriptors');
  type Row = {
    key: string; idpp: string | null; formula: string; space_group: string | null; nsites: number; hop_index: number; length: number; multiplicity: number;
    state: RowState | null; dimensionality: number | null; dimensionality_cumlengths: number | null; dimensionality_cumbarriers: number | null;
    ewald_energy: number | null; percolation_1d: number | null; percolation_2d: number | null; percolation_3d: number | null;
  };
  const suffixes: Record<string, PgValue> = Object.fromEntries(IDPP_MODES.map((m, k) => [`s${k}`, idppKeySuffix(m)]));
  const rows = await tx.all<Row>(
    desc
      ? // A descriptors row's key is the pathway's, with the IDPP mode's suffix (stages/descriptors.ts idppKeySuffix).
        `SELECT coalesce(d.key, p.key) AS key, d.idpp, p.formula, p.space_group, p.nsites, p.hop_index, p.length, p.multiplicity, d.state, d.dimensionality,
                d.dimensionality_cumlengths, d.dimensionality_cumbarriers, d.ewald_energy, d.percolation_1d, d.percolation_2d, d.percolation_3d
           FROM pathways p LEFT JOIN descriptors d ON d.key IN (${IDPP_MODES.map((_, k) => `p.key || CAST(@s${k} AS TEXT)`).join(', ')})
          WHERE p.structure_id = @id ORDER BY p.hop_index, p.id, d.idpp COLLATE "C" NULLS FIRST`
      : `SELECT p.key, NULL AS idpp, p.formula, p.space_group, p.nsites, p.hop_index, p.length, p.multiplicity, NULL AS state, NULL AS dimensionality,
                NULL AS dimensionality_cumlengths, NULL AS dimensionality_cumbarriers, NULL AS ewald_energy, NULL AS percolation_1d,
                NULL AS percolation_2d, NULL AS percolation_3d
           FROM pathways p WHERE p.structure_id = @id ORDER BY p.hop_index, p.id`,
    desc ? { ...suffixes, id: structureId } : { id: structureId },
  );
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
