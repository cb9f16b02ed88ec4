/**
 * The structures bundled in `data/` (see data/README.md for provenance), read through the same
 * readers as user files.
 */
import { dataPath } from '../paths.js';
import { readStructures } from '../structure/io.js';
import type { Structure } from '../structure/structure.js';

export interface BundledDataset {
  /** Short name used on the command line and in the `dataset` column. */
  name: string;
  file: string;
  description: string;
  /** Part of the default import of `fracflow run`. */
  default: boolean;
}

export const BUNDLED_DATASETS: readonly BundledDataset[] = [
  { name: 'mp', file: 'mp_fluorides.jsonl.gz', description: 'Materials Project F-containing structures with mp-ids (450)', default: true },
  { name: 'curated', file: 'fluoride_conductors_curated.json', description: 'well-known fluorides and fluoride-ion conductor parents (43)', default: true },
  { name: 'mp-task', file: 'mp_task_input_fluorides.jsonl.gz', description: 'MP-derived task input structures without material ids (483)', default: true },
  { name: 'perov5', file: 'perov5_fluorine_perovskites.jsonl.gz', description: 'perov_5 F-containing ABX3 perovskites, not MP (2129)', default: false },
];

export function bundledDataset(name: string): BundledDataset {
  const d = BUNDLED_DATASETS.find((x) => x.name === name);
  if (!d) throw new RangeError(`unknown bundled dataset ${JSON.stringify(name)}; choose from ${BUNDLED_DATASETS.map((x) => x.name).join(', ')}`);
  return d;
}

/** Path of a bundled dataset file. */
export function bundledPath(name: string): string {
  return dataPath(bundledDataset(name).file);
}

/** Every structure of one bundled dataset, in file order. */
export function loadBundled(name: string): Structure[] {
  return readStructures(bundledPath(name), 'records');
}
