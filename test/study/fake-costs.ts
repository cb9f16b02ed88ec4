/** A small cost data set of the bundled file's shape, for tests that must not depend on the measured file. */
import type { CostData } from '../../src/workflow/study/corpus.js';
import { uniform } from '../../src/workflow/study/corpus.js';

export function fakeCostData(structures: number, seed = 7): CostData {
  const u = uniform(seed);
  return {
    provenance: { made_by: 'test/study/fake-costs.ts' },
    structures: Array.from({ length: structures }, (_, i) => {
      const nsites = 4 + Math.floor(u() * 40);
      const paths = 1 + Math.floor(u() * 5);
      return [
        `fake-${i}`, nsites, nsites * 8, nsites * 27, 5 + u() * 50,
        Array.from({ length: paths }, () => [20 + u() * 200, u() < 0.7 ? 1 + Math.floor(u() * 3) : 0, 30 + u() * 300] as [number, number, number]),
      ] as CostData['structures'][number];
    }),
  };
}
