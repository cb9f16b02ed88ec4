/**
 * Content hash of a structure: SHA-256 over the lattice, species, fractional coordinates and
 * oxidation states (raw f64 bytes, so any change of any digit changes the hash). Used as the store's
 * `content_hash` and as a cache key.
 */
import { createHash } from 'node:crypto';
import type { Structure } from './structure.js';

export function structureHash(s: Structure): string {
  const h = createHash('sha256');
  h.update(Buffer.from(s.lattice.buffer, s.lattice.byteOffset, s.lattice.byteLength));
  h.update(s.species.join(' '));
  h.update(Buffer.from(s.frac.buffer, s.frac.byteOffset, s.frac.byteLength));
  if (s.oxidationStates) h.update(Buffer.from(s.oxidationStates.buffer, s.oxidationStates.byteOffset, s.oxidationStates.byteLength));
  return h.digest('hex');
}
