/**
 * Size and magnitude limits of the structure readers: every count read from a file is checked
 * against them before anything of that size is allocated, so a file that claims a billion atoms or
 * a gzip stream that inflates to gigabytes is refused with a message instead of exhausting memory.
 *
 * Two kinds:
 * - {@link ReadLimits}: sizes a user may legitimately need to raise (a very large cell, a big dump
 *   file); defaults in {@link DEFAULT_READ_LIMITS}, overridable per call (`ReadOptions.limits`) and on
 *   the command line (`fracflow import --max-sites N --max-file-mb M`).
 * - fixed validity bounds ({@link MAX_ABS_FRACTIONAL}, {@link MAX_LATTICE_VECTOR_ANG},
 *   {@link MAX_ABS_OXIDATION_STATE}, {@link MAX_ID_LENGTH}): values past them are not crystal structures but unit mistakes or
 *   corrupt numbers, so they are refused and not configurable.
 */
import { constants } from 'node:buffer';

export interface ReadLimits {
  /**
   * Most sites one structure may have (after the symmetry expansion of a CIF). Checked against the
   * counts a file declares before any per-site array is made. Default 100 000.
   */
  maxSites: number;
  /**
   * Largest file content in bytes, after gzip decompression. A larger file is refused before it is
   * read; a gzip stream is inflated chunk by chunk and abandoned once it passes the limit, so a
   * gzip bomb costs at most this much memory. Default 256 MiB; at most {@link MAX_TEXT_BYTES}.
   */
  maxBytes: number;
}

/** Bytes in one MiB (the unit of `--max-file-mb`). */
export const MIB = 1024 * 1024;

/**
 * Longest text a reader can hold: V8's string length limit (about 512 Mi characters on 64-bit
 * Node). A larger file cannot be read as one text whatever the limit; split it (e.g. JSON lines
 * into parts).
 */
export const MAX_TEXT_BYTES = constants.MAX_STRING_LENGTH;

export const DEFAULT_READ_LIMITS: Readonly<ReadLimits> = Object.freeze({ maxSites: 100_000, maxBytes: 256 * MIB });

/**
 * Largest magnitude of a fractional coordinate. Wrapping x into [0, 1) keeps about
 * 52 − log2|x| bits of its fraction, so beyond ~1e3 cells digits are lost; such a value is a
 * Cartesian coordinate given as fractional or a corrupt number, never a position.
 */
export const MAX_ABS_FRACTIONAL = 1000;

/** Longest lattice vector, Å (10 µm): longer ones are unit mistakes; their volume would overflow. */
export const MAX_LATTICE_VECTOR_ANG = 1e4;

/** Largest magnitude of an oxidation state (the highest known is +9, IrO4⁺). */
export const MAX_ABS_OXIDATION_STATE = 12;

/** Longest record id (material_id, data block name, extxyz `id`), in characters. */
export const MAX_ID_LENGTH = 256;

/**
 * Complete and check limits given by a caller; the message names the option and the value.
 * Throws a RangeError.
 */
export function readLimits(partial: Partial<ReadLimits> | undefined = {}): ReadLimits {
  const maxSites = partial.maxSites ?? DEFAULT_READ_LIMITS.maxSites;
  if (typeof maxSites !== 'number' || !Number.isSafeInteger(maxSites) || maxSites < 1) {
    throw new RangeError(`maxSites must be a positive integer, got ${JSON.stringify(maxSites)}`);
  }
  const maxBytes = partial.maxBytes ?? DEFAULT_READ_LIMITS.maxBytes;
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`maxBytes must be a positive integer, got ${JSON.stringify(maxBytes)}`);
  }
  if (maxBytes > MAX_TEXT_BYTES) {
    throw new RangeError(`maxBytes must be at most ${MAX_TEXT_BYTES} (${formatBytes(MAX_TEXT_BYTES)}, the longest text Node.js can hold), got ${maxBytes}`);
  }
  return { maxSites, maxBytes };
}

/** `256 MiB`, `1.5 GiB`, `812 bytes`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** How to raise a limit, for messages. */
export const RAISE_SITES = 'raise it with --max-sites (ReadOptions.limits.maxSites) if the structure is genuine';
export const RAISE_BYTES = 'raise it with --max-file-mb (ReadOptions.limits.maxBytes) if the file is genuine';
