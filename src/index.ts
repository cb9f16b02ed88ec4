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
export { BUNDLED_DATASETS, loadBundled, bundledPath } from './io/bundled.js';
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
export { oxidationStates, bondValenceStates, compositionOxidationGuesses, compositionGuessStates, clearOxidationCache, parseSpecies, OXIDATION_METHODS, OxidationError, BondValenceError } from './analysis/oxidation.js';
export type { OxidationResult, OxidationOptions, OxidationMethod, BondValenceOptions, BondValenceResult } from './analysis/oxidation.js';
export { dimensionality, componentDimensionalities, dimensionalityOfClass, dimensionalityCumLengths, dimensionalityCumCosts, firstPercolationLengths, hopGraph, PercolationStatusError } from './analysis/percolation.js';
export type { HopEdge, HopEdges, HopGraph, FirstPercolation, PercolationOptions, EdgeArrays } from './analysis/percolation.js';
export { Engine } from './engine/engine.js';
export type { EngineOptions, RunOptions, RunReport, StageReport } from './engine/engine.js';
export { defineStage, forkStage, configureStage, registerPriority, isStage, StageError, COLUMN_TYPES } from './stage-kit/stage.js';
export type { Stage, StageDeclaration, StageInput, InputColumn, AdmissionFilter, Cutoff, PrioritySpec, RetryPolicy, WorkFunction, WorkContext, ColumnType } from './stage-kit/stage.js';
export type { QueueStore, Claim, RowState, StateCounts } from './store/interface.js';
export { openQueueStore } from './store/index.js';
export { openStore, openSql, Store, StoreError, CODE_VERSION } from './store/sqlite/diffusion.js';
export type { SqlDb, SqlValue, SqlParams, OpenOptions } from './store/sqlite/diffusion.js';
export { IMPORT_ERRORS } from './store/sqlite/diffusion.js';
export { stageStatus, errorGroups, requeue, submit, scale, setPriority, resetEngine, cleanup, checkpoint, exportTable, parseDuration } from './store/sqlite/ops.js';
export { makeBatch, makeTable, columnValues, encodeStream, encodeFile, decode } from './stage-kit/arrow.js';
export { loadStages, selectStages } from './engine/load.js';
export { idpp, IdppGuardError, IdppShiftError, IDPP_DEFAULTS, IDPP_FAST_DEFAULTS, IDPP_MODES } from './kernels/idpp.js';
export { pymatgenPairShifts } from './kernels/idpp-ts.js';
export type { IdppMode, IdppOptions, IdppResult } from './kernels/idpp.js';
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
export { hopImages, pymatgenHopImages, screenHopImages, pymatgenSupercellFrac, hopBetween, imagesToExtxyz, imagesToOverlayCif, hopsToJson, hopsFromJson, HopImagesError } from './analysis/hop-images.js';
export type { HopImages, HopImagesOptions } from './analysis/hop-images.js';
export { fetchMpStructures, mpSummaryPages, parseRetryAfter, MpApiError, MP_API_DEFAULT_BASE_URL, MP_SUMMARY_FIELDS, MP_API_MAX_PAGE_SIZE } from './io/mp-api.js';
export type { MpApiOptions, MpPage, MpRetryEvent, MpDocumentError, MpApiErrorKind } from './io/mp-api.js';
export { readFolder, readFolderFiles, SNIFF_BYTES } from './io/folder-import.js';
export type { ReadFolderOptions, FolderReadResult, FolderFileResult, FolderStructure, FolderError } from './io/folder-import.js';
export { DEFAULT_READ_LIMITS, readLimits, MAX_ABS_FRACTIONAL, MAX_LATTICE_VECTOR_ANG, MAX_ABS_OXIDATION_STATE, MAX_ID_LENGTH } from './structure/limits.js';
export type { ReadLimits } from './structure/limits.js';
export { writeVaspFolder, writeStaticFolders, writeNebFolder } from './io/vasp-folders.js';
export { vaspInputSet, renderIncar, renderKpoints, renderPotcarSpec, vaspFolderFiles, staticFolderFiles, nebFolderFiles, pyFloatRepr, PyFloat, VaspInputError, DESIGN_OVERRIDES, VASP_DESIGNS } from './analysis/vasp-inputs.js';
export type { VaspDesign, VaspInputSet, VaspInputSetOptions, VaspKpoints, VaspKpointsOption, IncarValue, IncarNumber, IncarOverrides } from './analysis/vasp-inputs.js';
export { readVasprun, readOutcar, readVaspRun } from './io/vasp-outputs.js';
export { parseVasprun, parseOutcar, finalEnergyOfFolder, barrier, VaspOutputError, VASP_OUTPUT_FILES } from './analysis/vasp-outputs.js';
export type { VaspRunResult } from './analysis/vasp-outputs.js';
export { pathwayDescriptors, descriptorContext, descriptorsForHop, descriptorImages, cumBarrierDimensionalities, imageDescriptors, DescriptorError } from './analysis/descriptors.js';
export type { DescriptorOptions, PathwayDescriptors, DescriptorContext, ImageDescriptors } from './analysis/descriptors.js';
export { calcStatic, calcNeb, calcStages, runCalc, checkCalcParams, calcLeaseMs, CalcError, CALC_DESIGNS, CALC_FOLDER_SOURCES, CALC_INPUT_TABLE } from './stages/calc.js';
export type { CalcDesign, CalcParams, CalcStageOptions, CalcResult, CalcFolderSource } from './stages/calc.js';
export { localExecutor, trackProcessGroups } from './engine/executor.js';
export { OutputTail } from './stage-kit/exec.js';
export type { Executor, RunOutcome, RunOptions as ExecRunOptions } from './stage-kit/exec.js';
export { runScreen, screenStages, topPathways, SCREEN_STAGE_NAMES } from './workflow/screen.js';
export type { ScreenOptions, ScreenReport, RankedPathway, ScreenStageName } from './workflow/screen.js';
export { importStructures, DEFAULT_BUNDLED } from './workflow/structures.js';
export { importFiles, importBundled, importMpApi, recordSourceId, fileSourceId, ImportError } from './workflow/import.js';
export type { ImportReport, ImportOptions } from './workflow/import.js';
export type { StructureSource } from './workflow/structures.js';
export { findPaths, findPathsStage, screenParams, structurePathways, DEFAULT_SCREEN_PARAMS, PATHWAY_COLUMNS } from './stages/pathways.js';
export type { ScreenParams, FindPathsParams } from './stages/pathways.js';
export { descriptors } from './stages/descriptors.js';
export { images, imagesStage, imagesParams, pathwayFolderName, DEFAULT_IMAGES_PARAMS } from './stages/images.js';
export type { ImagesParams } from './stages/images.js';
