/** `structureHops` on PostgreSQL: a structure's hop classes with their descriptors and its percolation lengths (see src/store/sqlite/dashboard/structure-hops.ts). */
import type { StructureHops } from '../../interface.js';
import { structureHopsOf, type StructureHopRow } from '../../pathway-query.js';
import type { PgTx, PgValue } from '../connection.js';
import { tableExists } from './tables.js';
import { IDPP_MODES } from '../../../kernels/idpp.js';
import { idppKeySuffix } from '../../../stages/descriptors.js';

export async function structureHops(tx: PgTx, structureId: string): Promise<StructureHops | null> {
  if (!(await tableExists(tx, 'pathways'))) return null;
  const desc = await tableExists(tx, 'descriptors');
  const suffixes: Record<string, PgValue> = Object.fromEntries(IDPP_MODES.map((m, k) => [`s${k}`, idppKeySuffix(m)]));
  const rows = await tx.all<StructureHopRow>(
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
  return structureHopsOf(structureId, rows);
}
