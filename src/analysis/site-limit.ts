/**
 * The largest structure the per-structure analyses (hop search, descriptors, the screen's find_paths
 * stage) take on, and its check. The limit bounds work and memory for inputs that are out of scope
 * (a whole simulation box, a file read with the wrong format); it is not a correctness limit.
 *
 * The default, 5000, is 60 times the largest bundled structure (80 sites) and holds the supercells
 * users bring (a 1000-site 5×5×5 or a 3024-site 6×6×7 cell): the hop search and the descriptors of a
 * supercell take well under a second at these sizes once it is reduced to its primitive cell
 * (BENCHMARKS.md, large inputs). A large *primitive* cell (a defect supercell, an amorphous box) is the
 * expensive case, since its IDPP images hold all its sites: measured per hop of the descriptors,
 * ~1.5 s at 512 sites, ~6 s at 1000, ~23 s at 2016, growing ~N² (progress lines show it).
 */
import type { Structure } from '../structure/structure.js';

/** Default most sites per structure. */
export const DEFAULT_MAX_SITES = 5000;

/** A structure with more sites than the limit allows; the message names the count, the limit and how to raise it. */
export class SiteLimitError extends Error {
  constructor(
    message: string,
    /** Sites of the structure. */
    readonly sites: number,
    /** The limit in force. */
    readonly maxSites: number,
  ) {
    super(message);
    this.name = 'SiteLimitError';
  }
}

/**
 * What is wrong with a maxSites option value (undefined is allowed: the default), naming the option
 * and the value, or null; each caller throws it as its own error class.
 */
export function maxSitesProblem(maxSites: unknown, name = 'maxSites'): string | null {
  if (maxSites === undefined || (typeof maxSites === 'number' && Number.isSafeInteger(maxSites) && maxSites >= 1)) return null;
  return `${name} must be a positive integer (sites per structure), got ${typeof maxSites === 'number' ? String(maxSites) : JSON.stringify(maxSites)}`;
}

/**
 * Throws a {@link SiteLimitError} when `s` has more than `maxSites` sites (default
 * {@link DEFAULT_MAX_SITES}); `what` names the analysis in the message, `then` (optional) what to do
 * after raising the limit.
 */
export function checkSiteCount(s: Structure, maxSites: number = DEFAULT_MAX_SITES, what = 'this analysis', then?: string): void {
  const n = s.species.length;
  if (n <= maxSites) return;
  const id = typeof s.info.id === 'string' ? `structure ${s.info.id}` : 'the structure';
  throw new SiteLimitError(
    `${id} has ${n} sites, more than the limit of ${maxSites} sites per structure for ${what}; ` +
      `to analyse it whole, raise the limit with --max-sites ${n} (maxSites in the library)${then ? `, ${then}` : ''}`,
    n,
    maxSites,
  );
}
