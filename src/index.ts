/**
 * fracflow — the library entry point (the drop-in API for other tools).
 *
 * Structures: `readStructure`, `readStructures`, `writeStructure`, `detectFormat`, `createStructure`.
 * Kernels (WASM, each with a plain-TS twin behind `backend: 'ts'`): `neighborList`, `ewald` /
 * `ewaldSiteEnergy` (pymatgen `EwaldSummation`-compatible), `supercell`, `radiiOverlap`.
 * Analysis: `oxidationStates` (pymatgen BVAnalyzer-compatible), `dimensionality` (Larsen).
 * Descriptors: `pathwayDescriptors` (the DDI descriptors per pathway).
 * Symmetry and hops: `symmetry`, `sanitize`, `lllReduce`, `findHops`, `hopImages`; `idpp`
 * (pymatgen-analysis-diffusion `IDPPSolver`-compatible).
 * Engine: `Engine`, `defineStage`, `forkStage`, `openQueueStore`, `openQueue`, `openStores`, `openDashboardStore` — stage tables with ranked queues and worker pools, on SQLite or PostgreSQL.
 * Only what README.md's Library section names is exported (test/architecture.test.ts checks it).
 * Input and output: `fetchMpStructures` (Materials Project API), `readFolder`; `vaspInputSet`,
 * `writeStaticFolders`, `writeNebFolder` (MITRelaxSet-exact VASP inputs), `readVaspRun`, `barrier`.
 * Conventions: lattice rows are lattice vectors (Å); coordinates are flat Float64Arrays, xyz interleaved.
 */
export type { Structure, StructureInput, StructureInfo, CreateOptions } from './structure/structure.js';
export { createStructure, volume, density, formula, composition } from './structure/structure.js';
export { StructureError } from './structure/errors.js';
export { readStructure, readStructures, writeStructure, detectFormat } from './structure/io.js';
export type { StructureFormat, WriteFormat, ReadOptions } from './structure/io.js';
export { loadBundled } from './io/bundled.js';
export { neighborList, neighborSearchWasm, neighborSearchTs } from './kernels/neighbors.js';
export type { NeighborList, NeighborListOptions } from './kernels/neighbors.js';
export { ewald, ewaldSiteEnergy, MissingOxidationStatesError } from './kernels/ewald.js';
export type { EwaldOptions, EwaldResult, EwaldParts } from './kernels/ewald.js';
export { supercell, minLengthScaling, nearCubicSupercellMatrix } from './kernels/supercell.js';
export type { SupercellOptions, NearCubicOptions } from './kernels/supercell.js';
export { radiiOverlap } from './kernels/overlap.js';
export type { OverlapResult, OverlapKindResult, RadiiOverlapOptions, NeighborKind } from './kernels/overlap.js';
export { ionicRadius } from './structure/ionic-radii.js';
export { oxidationStates, OxidationError } from './analysis/oxidation.js';
export type { OxidationResult, OxidationOptions, OxidationMethod, BondValenceOptions, BondValenceResult } from './analysis/oxidation.js';
export { dimensionality, dimensionalityCumLengths, firstPercolationLengths, hopGraph } from './analysis/percolation.js';
export type { HopEdge, HopGraph, FirstPercolation, PercolationOptions } from './analysis/percolation.js';
export { Engine } from './engine/engine.js';
export type { EngineOptions, RunOptions, RunReport, StageReport } from './engine/engine.js';
export { defineStage, forkStage, registerPriority, StageError } from './stage-kit/stage.js';
export type { Stage, StageDeclaration, StageInput, InputColumn, AdmissionFilter, Cutoff, PrioritySpec, RetryPolicy, WorkFunction, WorkContext, ColumnType } from './stage-kit/stage.js';
export type { QueueStore, Claim, RowState, StateCounts } from './store/interface.js';
export { openQueueStore, openQueue, openStores, openDashboardStore } from './store/index.js';
export type { DiffusionStore } from './store/diffusion.js';
export { openStore, StoreError } from './store/sqlite/diffusion.js';
export type { OpenOptions } from './store/sqlite/diffusion.js';
export { idpp, IdppGuardError } from './kernels/idpp.js';
export type { IdppMode, IdppOptions, IdppResult } from './kernels/idpp.js';
export { symmetry, moyoSymmetry, clearSymmetryCache, SymmetryError, DEFAULT_SYMPREC, MOYO_WHOLE_CELL_MAX_SITES } from './structure/symmetry.js';
export { searchOperations, pureTranslationLattice } from './structure/symops.js';
export type { PureTranslations } from './structure/symops.js';
export type { SymmetryInfo, SymmetryOptions, PrimitiveReduction, SitePermutations } from './structure/symmetry.js';
export { lllReduce } from './structure/lll.js';
export type { LllResult } from './structure/lll.js';
export { sanitize } from './structure/sanitize.js';
export type { SanitizeOptions, SanitizeResult, SanitizeTransform } from './structure/sanitize.js';
export { findHops, PathfinderError, DEFAULT_MAX_LENGTH_ANG } from './analysis/pathfinder.js';
export type { Hop, HopResult, FindHopsOptions, HopEquivalence, Vec3 } from './analysis/pathfinder.js';
export { DEFAULT_MAX_SITES, SiteLimitError } from './analysis/site-limit.js';
export type { ProgressEvent, ProgressCallback } from './analysis/progress.js';
export { hopImages, pymatgenHopImages, shortestBasisSupercell, imagesToExtxyz, imagesToOverlayCif, hopsToJson, hopsFromJson, HopImagesError } from './analysis/hop-images.js';
export type { HopImages, HopImagesOptions } from './analysis/hop-images.js';
export { fetchMpStructures, mpSummaryPages, MpApiError } from './io/mp-api.js';
export type { MpApiOptions, MpPage, MpRetryEvent, MpDocumentError, MpApiErrorKind } from './io/mp-api.js';
export { readFolder, readFolderFiles } from './io/folder-import.js';
export type { ReadFolderOptions, FolderReadResult, FolderFileResult, FolderStructure, FolderError } from './io/folder-import.js';
export { DEFAULT_READ_LIMITS } from './structure/limits.js';
export type { ReadLimits } from './structure/limits.js';
export { writeStaticFolders, writeNebFolder } from './io/vasp-folders.js';
export { vaspInputSet, VaspInputError } from './analysis/vasp-inputs.js';
export type { VaspDesign, VaspInputSet, VaspInputSetOptions, VaspKpoints, VaspKpointsOption, IncarValue, IncarNumber, IncarOverrides } from './analysis/vasp-inputs.js';
export { readVasprun, readOutcar, readVaspRun } from './io/vasp-outputs.js';
export { parseVasprun, parseOutcar, barrier, VaspOutputError } from './analysis/vasp-outputs.js';
export type { VaspRunResult } from './analysis/vasp-outputs.js';
export { pathwayDescriptors, descriptorContext, descriptorsForHop, DescriptorError } from './analysis/descriptors.js';
export type { DescriptorOptions, PathwayDescriptors, DescriptorContext, ImageDescriptors } from './analysis/descriptors.js';
export { localExecutor } from './engine/executor.js';
export type { Executor, RunOutcome, RunOptions as ExecRunOptions } from './stage-kit/exec.js';
export { runScreen, topPathways } from './workflow/screen.js';
export type { ScreenOptions, ScreenReport, RankedPathway, ScreenStageName } from './workflow/screen.js';
export { importFiles, importBundled, importMpApi, recordSourceId, fileSourceId, ImportError } from './workflow/import.js';
export type { ImportReport, ImportOptions } from './workflow/import.js';
export type { StructureSource } from './workflow/structures.js';
export type { ScreenParams, FindPathsParams } from './stages/pathways.js';
export type { ImagesParams } from './stages/images.js';
