/**
 * The profiles behind a pathway's image descriptors: the moving ion's Ewald site energy and its
 * ionic-radii overlap with cations and anions at every image of the path (start, IDPP images, end),
 * on the same images the descriptors are computed on ({@link descriptorImages}), so that the largest
 * relative Ewald change of the profile is the row's `ewald_energy` and the overlap profiles are what
 * its `ionic_radii_overlap_*` changes are measured on. Computed on request from the stored cell and
 * hop list (the descriptors stage keeps only the summary numbers).
 */
import type { Structure } from '../structure/structure.js';
import { ewaldSiteEnergy } from '../kernels/ewald.js';
import { radiiOverlap } from '../kernels/overlap.js';
import { IdppGuardError, type IdppMode } from '../kernels/idpp.js';
import type { HopResult } from './pathfinder.js';
import { DescriptorError, descriptorContext, descriptorImages } from './descriptors.js';

/** Ewald accuracy and overlap cutoff of the DDI descriptors (as in descriptors.ts). */
const EWALD_ACC = 3;
const OVERLAP_CUTOFF_ANG = 8;

export interface HopProfile {
  /** The path: start, interior images, end; the moving ion is site 0 (empty when no path could be made). */
  images: Structure[];
  /** Supercell scaling of the images. */
  scaling: [number, number, number] | null;
  /** Moving ion's Ewald site energy per image, eV (null when the cell has no charge-balanced oxidation states). */
  ewaldSiteEnergyEv: number[] | null;
  /** (E_k − E_0) / |E_0| per image: its maximum is the row's ewald_energy. */
  ewaldRelative: number[] | null;
  /** Largest overlap (Å) with a cation / an anion within 8 Å per image; null where undefined. */
  overlapCationsAng: (number | null)[] | null;
  overlapAnionsAng: (number | null)[] | null;
  /** Why a profile is missing, else null. */
  reason: string | null;
}

export interface HopProfileOptions {
  ion: string;
  maxLengthAng: number;
  limit: number;
  idpp: IdppMode;
  /** Supercell rule length, Å (the descriptors' 7 by default). */
  supercellMinLengthAng?: number;
}

/** The profiles of hop `hopIndex` of a stored pathway (the sanitised cell and hop list its row carries). */
export function hopProfile(structure: Structure, hops: HopResult, hopIndex: number, options: HopProfileOptions): HopProfile {
  const hop = hops.hops.find((h) => h.index === hopIndex);
  if (!hop) throw new DescriptorError(`hop ${hopIndex} is not among the ${hops.hops.length} hops of the pathway's hop list`);
  const ctx = descriptorContext(structure, {
    ion: options.ion, maxLengthAng: options.maxLengthAng, limit: options.limit, idpp: options.idpp, sanitize: false, hops,
    maxSites: structure.species.length, supercellMinLengthAng: options.supercellMinLengthAng,
  });
  const empty = { images: [] as Structure[], scaling: null, ewaldSiteEnergyEv: null, ewaldRelative: null, overlapCationsAng: null, overlapAnionsAng: null };
  let path;
  try {
    path = descriptorImages(ctx, hop);
  } catch (e) {
    if (e instanceof IdppGuardError) return { ...empty, reason: `IDPP failed: ${e.message}` };
    throw e;
  }
  if (!ctx.oxidation.states) return { ...empty, images: path.images, scaling: path.scaling, reason: `no oxidation states: ${ctx.oxidation.reason}` };
  const energies = path.images.map((im) => ewaldSiteEnergy(im, 0, { accFactor: EWALD_ACC }));
  const e0 = energies[0]!;
  const ov = radiiOverlap(path.images, 0, { cutoffAng: OVERLAP_CUTOFF_ANG });
  return {
    images: path.images,
    scaling: path.scaling,
    ewaldSiteEnergyEv: energies,
    ewaldRelative: e0 === 0 ? null : energies.map((e) => (e - e0) / Math.abs(e0)),
    overlapCationsAng: ov.cations.maxPerImage,
    overlapAnionsAng: ov.anions.maxPerImage,
    reason: e0 === 0 ? 'the moving ion has zero Ewald site energy in the start structure (relative change undefined)' : null,
  };
}
