/** `pathwayDetail` on PostgreSQL: one descriptors row in full with its images row's folder (see src/store/sqlite/dashboard/pathway-detail.ts). */
import type { PathwayDetail } from '../../interface.js';
import { SUMMARY_SELECT } from '../../pathway-query.js';
import type { PgTx } from '../connection.js';
import { tableColumns, tableExists } from './tables.js';

function f64(b: Uint8Array): Float64Array {
  // Copy: a Buffer from the driver need not be 8-byte aligned for a Float64Array view.
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export async function pathwayDetail(tx: PgTx, key: string): Promise<PathwayDetail | null> {
  if (!(await tableExists(tx, 'descriptors'))) return null;
  const images = (await tableExists(tx, 'images')) && (await tableColumns(tx, 'images')).includes('out_dir');
  const r = await tx.get<Record<string, unknown>>(
    `SELECT ${SUMMARY_SELECT}, ${images ? 'i.state AS images_state, i.out_dir AS out_dir' : 'NULL AS images_state, NULL AS out_dir'},
            d.ion, d.max_length, d.hop_limit, d.idpp, d.space_group, d.start_frac, d.end_frac, d.end_image, d.lattice AS lattice_blob, d.species AS species_text,
            d.frac_coords, d.oxidation_states, d.hops_json, d.ewald_reason, d.ionic_radii_overlap_cations_reason, d.ionic_radii_overlap_anions_reason
       FROM descriptors d ${images ? 'LEFT JOIN images i ON i.key = d.key' : ''} WHERE d.key = @key`,
    { key },
  );
  if (!r) return null;
  const { lattice_blob, species_text, frac_coords, oxidation_states, ...rest } = r;
  return {
    ...(rest as unknown as Omit<PathwayDetail, 'lattice' | 'species' | 'frac' | 'oxidationStates'>),
    lattice: f64(lattice_blob as Uint8Array),
    species: String(species_text).split(' '),
    frac: f64(frac_coords as Uint8Array),
    oxidationStates: oxidation_states ? f64(oxidation_states as Uint8Array) : null,
  };
}
