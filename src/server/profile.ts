/**
 * A pathway's view data: the images of its hop in Cartesian coordinates (cell, host atoms, the moving
 * ion at each image) and its Ewald and overlap profiles, computed from the stored row
 * ({@link hopProfile}) — the same images the row's descriptors were computed on.
 */
import { createStructure } from '../structure/structure.js';
import { hopsFromJson } from '../analysis/hop-images.js';
import { hopProfile, type HopProfile } from '../analysis/hop-profile.js';
import { IDPP_MODES, type IdppMode } from '../kernels/idpp.js';
import type { PathwayDetail } from '../store/interface.js';

export interface PathwayView {
  key: string;
  structureId: string;
  formula: string;
  hopIndex: number;
  lengthAng: number;
  idpp: string;
  /** Lattice rows of the images' supercell, Å. */
  cell: number[][];
  scaling: [number, number, number] | null;
  /** Host atoms of the start image (the moving ion left out). */
  host: { el: string; x: number; y: number; z: number }[];
  /** The moving ion at each image, start to end, Cartesian Å. */
  path: [number, number, number][];
  ion: string;
  /** Image index 0 … n−1 and the profiles (null with `reason` when not computable). */
  ewaldSiteEnergyEv: number[] | null;
  ewaldRelative: number[] | null;
  overlapCationsAng: (number | null)[] | null;
  overlapAnionsAng: (number | null)[] | null;
  reason: string | null;
  /** The stored descriptors, for the captions. */
  ewaldEnergy: number | null;
  overlapCations: number | null;
  overlapAnions: number | null;
}

function element(label: string): string {
  return label.replace(/[^A-Za-z].*$/, '');
}

function cart(lattice: Float64Array, f0: number, f1: number, f2: number): [number, number, number] {
  return [0, 1, 2].map((c) => f0 * lattice[c]! + f1 * lattice[3 + c]! + f2 * lattice[6 + c]!) as [number, number, number];
}

/** The profile of a stored pathway (throws with the cause when its row cannot give one). */
export function profileOfDetail(d: PathwayDetail): HopProfile {
  const idpp = (IDPP_MODES as readonly string[]).includes(d.idpp) ? (d.idpp as IdppMode) : 'exact';
  const structure = createStructure(
    { lattice: d.lattice, species: d.species, frac: d.frac, oxidationStates: d.oxidationStates },
    { checkOverlap: false, allowLeftHanded: true },
  );
  const hops = hopsFromJson(d.hops_json);
  return hopProfile(structure, hops, d.hop_index, { ion: d.ion, maxLengthAng: d.max_length, limit: d.hop_limit, idpp });
}

export function pathwayView(d: PathwayDetail): PathwayView {
  const p = profileOfDetail(d);
  const s0 = p.images[0];
  const cell = s0 ? [0, 1, 2].map((r) => [s0.lattice[3 * r]!, s0.lattice[3 * r + 1]!, s0.lattice[3 * r + 2]!]) : [];
  const host = s0 ? s0.species.slice(1).map((sp, i) => {
    const [x, y, z] = cart(s0.lattice, s0.frac[3 * (i + 1)]!, s0.frac[3 * (i + 1) + 1]!, s0.frac[3 * (i + 1) + 2]!);
    return { el: element(sp), x, y, z };
  }) : [];
  const path = p.images.map((im) => cart(im.lattice, im.frac[0]!, im.frac[1]!, im.frac[2]!));
  return {
    key: d.key, structureId: d.structure_id, formula: d.formula, hopIndex: d.hop_index, lengthAng: d.length, idpp: d.idpp,
    cell, scaling: p.scaling, host, path, ion: d.ion,
    ewaldSiteEnergyEv: p.ewaldSiteEnergyEv, ewaldRelative: p.ewaldRelative, overlapCationsAng: p.overlapCationsAng, overlapAnionsAng: p.overlapAnionsAng,
    reason: p.reason, ewaldEnergy: d.ewald_energy, overlapCations: d.ionic_radii_overlap_cations, overlapAnions: d.ionic_radii_overlap_anions,
  };
}
