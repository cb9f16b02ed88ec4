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
 * Engine: `Engine`, `defineStage`, `forkStage` — stage tables with ranked queues and worker pools.
 * Input and output: `fetchMpStructures` (Materials Project API), `readFolder`; `vaspInputSet`,
 * `writeStaticFolders`, `writeNebFolder` (MITRelaxSet-exact VASP inputs), `readVaspRun`, `barrier`.
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
export { ewald, ewaldSiteEnergy, ewaldSiteEnergyParts, ewaldParameters, ewaldEnergyWasm, ewaldSiteEnergyWasm, ewaldEnergyTs, ewaldSiteEnergyTs, erfcWasm, EWALD_CONV_FACT, DEFAULT_ACC_FACTOR, EwaldStatusError, MissingOxidationStatesError } from './kernels/ewald.js';
export type { EwaldOptions, EwaldResult, EwaldParameters, EwaldParts, EwaldSiteParts } from './kernels/ewald.js';
export { erfc } from './kernels/erfc.js';
export { supercell, minLengthScaling, nearCubicSupercellMatrix, supercellMatrix, supercellHeights, SupercellStatusError } from './kernels/supercell.js';
export type { SupercellOptions, NearCubicOptions } from './kernels/supercell.js';
export { radiiOverlap, OverlapStatusError } from './kernels/overlap.js';
export type { OverlapResult, OverlapKindResult, RadiiOverlapOptions, NeighborKind } from './kernels/overlap.js';
export { ionicRadius, ionicRadiusEntry } from './structure/ionic-radii.js';
export { oxidationStates, bondValenceStates, compositionOxidationGuesses, compositionGuessStates, clearOxidationCache, parseSpecies, OXIDATION_METHODS, OxidationError, BondValenceError } from './structure/oxidation.js';
export type { OxidationResult, OxidationOptions, OxidationMethod, BondValenceOptions, BondValenceResult } from './structure/oxidation.js';
export { dimensionality, componentDimensionalities, dimensionalityOfClass, dimensionalityCumLengths, dimensionalityCumCosts, firstPercolationLengths, hopGraph, PercolationStatusError } from './analysis/percolation.js';
export type { HopEdge, HopEdges, HopGraph, FirstPercolation, PercolationOptions, EdgeArrays } from './analysis/percolation.js';
export { Engine } from './engine/engine.js';
export type { EngineOptions, RunOptions, RunReport, StageReport } from './engine/engine.js';
export { defineStage, forkStage, configureStage, registerPriority, isStage, StageError, COLUMN_TYPES } from './engine/stage.js';
export type { Stage, StageDeclaration, StageInput, InputColumn, AdmissionFilter, Cutoff, PrioritySpec, RetryPolicy, WorkFunction, WorkContext, ColumnType } from './engine/stage.js';
export type { QueueStore, Claim, RowState, StateCounts } from './store/interface.js';
export { openQueueStore } from './store/index.js';
export { openStore, openSql, Store, StoreError, CODE_VERSION } from './engine/store.js';
export type { SqlDb, SqlValue, SqlParams, OpenOptions } from './engine/store.js';
export { stageStatus, errorGroups, IMPORT_ERRORS, requeue, submit, scale, setPriority, resetEngine, cleanup, checkpoint, exportTable, parseDuration } from './engine/ops.js';
export { makeBatch, makeTable, columnValues, encodeStream, encodeFile, decode } from './engine/arrow.js';
export { loadStages, selectStages } from './engine/load.js';
export { idpp, IdppGuardError, IdppShiftError, IDPP_DEFAULTS } from './kernels/idpp.js';
export { pymatgenPairShifts } from './kernels/idpp-ts.js';
export type { IdppOptions, IdppResult } from './kernels/idpp.js';
export { symmetry, moyoSymmetry, primitiveReduction, sitePermutations, symmetryOrbits, clearSymmetryCache, symmetryCacheSize, checkSymprec, SymmetryError, DEFAULT_SYMPREC, MOYO_WHOLE_CELL_MAX_SITES } from './structure/symmetry.js';
export { searchOperations, pureTranslationLattice, delaunayReduce, DEFAULT_ANGLE_TOLERANCE_DEG } from './structure/symops.js';
export type { PureTranslations } from './structure/symops.js';
export type { SymmetryInfo, SymmetryOptions, PrimitiveReduction, SitePermutations } from './structure/symmetry.js';
export { lllReduce, LLL_DELTA } from './structure/lll.js';
export type { LllResult } from './structure/lll.js';
export { sanitize } from './structure/sanitize.js';
export type { SanitizeOptions, SanitizeResult, SanitizeTransform } from './structure/sanitize.js';
export { findHops, autoCutoff, ionElement, PathfinderError, DEFAULT_MAX_LENGTH_ANG, DEFAULT_HOP_LIMIT, HOP_EQUIVALENCES } from './analysis/pathfinder.js';
export type { Hop, HopResult, FindHopsOptions, HopEquivalence, Vec3 } from './analysis/pathfinder.js';
export { DEFAULT_MAX_SITES, SiteLimitError } from './analysis/site-limit.js';
export type { ProgressEvent, ProgressCallback } from './analysis/progress.js';
export { hopImages, pymatgenHopImages, pymatgenSupercellFrac, hopBetween, imagesToExtxyz, imagesToOverlayCif, hopsToJson, hopsFromJson, HopImagesError } from './analysis/hop-images.js';
export type { HopImages, HopImagesOptions } from './analysis/hop-images.js';
export { fetchMpStructures, mpSummaryPages, parseRetryAfter, MpApiError, MP_API_DEFAULT_BASE_URL, MP_SUMMARY_FIELDS, MP_API_MAX_PAGE_SIZE } from './structure/mp-api.js';
export type { MpApiOptions, MpPage, MpRetryEvent, MpDocumentError, MpApiErrorKind } from './structure/mp-api.js';
export { readFolder, readFolderFiles, SNIFF_BYTES } from './structure/folder-import.js';
export type { ReadFolderOptions, FolderReadResult, FolderFileResult, FolderStructure, FolderError } from './structure/folder-import.js';
export { DEFAULT_READ_LIMITS, readLimits, MAX_ABS_FRACTIONAL, MAX_LATTICE_VECTOR_ANG, MAX_ABS_OXIDATION_STATE, MAX_ID_LENGTH } from './structure/limits.js';
export type { ReadLimits } from './structure/limits.js';
export { vaspInputSet, renderIncar, renderKpoints, renderPotcarSpec, writeVaspFolder, writeStaticFolders, writeNebFolder, pyFloatRepr, PyFloat, VaspInputError, DESIGN_OVERRIDES, VASP_DESIGNS } from './analysis/vasp-inputs.js';
export type { VaspDesign, VaspInputSet, VaspInputSetOptions, VaspKpoints, VaspKpointsOption, IncarValue, IncarNumber, IncarOverrides } from './analysis/vasp-inputs.js';
export { readVasprun, readOutcar, readVaspRun, barrier, VaspOutputError } from './analysis/vasp-outputs.js';
export type { VaspRunResult } from './analysis/vasp-outputs.js';
export { pathwayDescriptors, descriptorContext, descriptorsForHop, descriptorImages, cumBarrierDimensionalities, imageDescriptors, DescriptorError } from './analysis/descriptors.js';
export type { DescriptorOptions, PathwayDescriptors, DescriptorContext, ImageDescriptors } from './analysis/descriptors.js';
export { calcStatic, calcNeb, calcStages, runCalc, runCommand, checkCalcParams, calcLeaseMs, trackCalcProcesses, OutputTail, CalcError, CALC_DESIGNS, CALC_FOLDER_SOURCES, CALC_INPUT_TABLE } from './stages/calc.js';
export type { CalcDesign, CalcParams, CalcStageOptions, CalcResult, CalcFolderSource, RunOutcome } from './stages/calc.js';
export { runScreen, screenStages, topPathways, SCREEN_STAGE_NAMES } from './stages/pipeline.js';
export type { ScreenOptions, ScreenReport, RankedPathway, ScreenStageName } from './stages/pipeline.js';
export { importStructures, DEFAULT_BUNDLED } from './stages/structures.js';
export { importFiles, importBundled, importMpApi, recordSourceId, fileSourceId, ImportError } from './stages/import.js';
export type { ImportReport, ImportOptions } from './stages/import.js';
export type { StructureSource } from './stages/structures.js';
export { findPaths, findPathsStage, ensurePathwaysView, PATHWAYS_VIEW_SQL, screenParams, structurePathways, DEFAULT_SCREEN_PARAMS } from './stages/pathways.js';
export type { ScreenParams, PathwayHop } from './stages/pathways.js';
export { descriptors } from './stages/descriptors.js';
export { images, imagesStage, imagesParams, pathwayFolderName, DEFAULT_IMAGES_PARAMS } from './stages/images.js';
export type { ImagesParams } from './stages/images.js';
