/**
 * `structureHops`: the hop classes of one structure as find_paths emitted them (the `pathways` table),
 * with the descriptors of each where computed: dimensionality of the class alone and cumulative (by
 * length, by barrier), and the structure's percolation lengths.
 */
import type { StructureHops } from '../../interface.js';
import { structureHopsOf, type StructureHopRow } from '../../pathway-query.js';
import type { SqlDb } from '../connection.js';
import { tableExists } from './tables.js';
import { IDPP_MODES } from '../../../kernels/idpp.js';
import { idppKeySuffix } from '../../../stages/descriptors.js';

export function structureHops(sql: SqlDb, structureId: string): StructureHops | null {
  if (!tableExists(sql, 'pathways')) return null;
  const desc = tableExists(sql, 'descriptors');
  const rows = sql.all<StructureHopRow>(
    desc
      ? // A descriptors row's key is the pathway's, with the IDPP mode's suffix (stages/descriptors.ts idppKeySuffix).
        `SELECT coalesce(d.key, p.key) AS key, d.idpp, p.formula, p.space_group, p.nsites, p.hop_index, p.length, p.multiplicity, d.state, d.dimensionality,
                d.dimensionality_cumlengths, d.dimensionality_cumbarriers, d.ewald_energy, d.percolation_1d, d.percolation_2d, d.percolation_3d
           FROM pathways p LEFT JOIN descriptors d ON d.key IN (${IDPP_MODES.map(() => 'p.key || ?').join(', ')})
          WHERE p.structure_id = ? ORDER BY p.hop_index, p.id, d.idpp`
      : `SELECT p.key, NULL AS idpp, p.formula, p.space_group, p.nsites, p.hop_index, p.length, p.multiplicity, NULL AS state, NULL AS dimensionality,
                NULL AS dimensionality_cumlengths, NULL AS dimensionality_cumbarriers, NULL AS ewald_energy, NULL AS percolation_1d,
                NULL AS percolation_2d, NULL AS percolation_3d
           FROM pathways p WHERE p.structure_id = ? ORDER BY p.hop_index, p.id`,
    desc ? [...IDPP_MODES.map(idppKeySuffix), structureId] : [structureId],
  );
  return structureHopsOf(structureId, rows);
}
