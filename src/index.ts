/**
 * fracflow — the library entry point (the drop-in API for other tools).
 *
 * Structures: `readStructure`, `readStructures`, `writeStructure`, `detectFormat`, `createStructure`.
 * Kernels: `neighborList` (WASM, with the plain-TS twin behind `backend: 'ts'`).
 * Conventions: lattice rows are lattice vectors (Å); coordinates are flat Float64Arrays, xyz interleaved.
 */
export type { Structure, StructureInput, StructureInfo, CreateOptions } from './structure/structure.js';
export {
  createStructure,
  cartesian,
  volume,
  density,
  formula,
  reducedFormula,
  composition,
  siteCount,
  MIN_SITE_DISTANCE_ANG,
} from './structure/structure.js';
export { StructureError } from './structure/errors.js';
export { readStructure, readStructures, writeStructure, detectFormat, STRUCTURE_FORMATS } from './structure/io.js';
export type { StructureFormat, WriteFormat, ReadOptions } from './structure/io.js';
export { latticeParameters, latticeFromParameters, perpendicularHeights, fracToCart, cartToFrac } from './structure/lattice.js';
export { BUNDLED_DATASETS, loadBundled, bundledPath } from './structure/bundled.js';
export { neighborList, sortNeighborList, neighborSearchWasm, neighborSearchTs } from './kernels/neighbors.js';
export type { NeighborList, NeighborListOptions } from './kernels/neighbors.js';
export { NeighborStatusError } from './kernels/neighbors-ts.js';
