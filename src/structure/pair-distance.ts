/**
 * The closest pair of sites of a periodic structure, when it is nearer than a limit: what structure
 * validation asks (two sites on top of each other are a broken file, not a crystal). A cell list of
 * its own, so that the structure layer needs no kernel:
 *
 * - sites are binned on a grid of the fractional coordinates, each bin at least `limit` wide along
 *   every axis (bins along axis k: floor(h_k / limit), h_k the cell's height across the other two
 *   axes), coarsened until there are no more bins than about twice the sites;
 * - along an axis of two bins or more, a site's partners are in its own bin and the two next to it,
 *   the wrap-around giving the lattice translation; along an axis of one bin (a cell thinner than the
 *   grid allows), every translation up to ceil(limit / h_k) is tried.
 *
 * Conventions as everywhere: rows of `cell` are the lattice vectors (Å), `pos` are Cartesian, xyz
 * interleaved. Distances are compared inclusively (`d <= limit`), as the neighbour search's cutoff is.
 */

/** The closest pair (any images, a site and its own image included) if it is no farther than `limitAng`, else null. */
export function minimumPairDistance(cell: ArrayLike<number>, pos: ArrayLike<number>, limitAng: number): { i: number; j: number; distance: number } | null {
  const n = Math.floor(pos.length / 3);
  if (n === 0 || !(limitAng > 0)) return null;
  const L = Array.from({ length: 9 }, (_, k) => cell[k]!);
  const cross = (a: number, b: number) => [L[3 * a + 1]! * L[3 * b + 2]! - L[3 * a + 2]! * L[3 * b + 1]!, L[3 * a + 2]! * L[3 * b]! - L[3 * a]! * L[3 * b + 2]!, L[3 * a]! * L[3 * b + 1]! - L[3 * a + 1]! * L[3 * b]!];
  const c12 = cross(1, 2), c20 = cross(2, 0), c01 = cross(0, 1);
  const vol = L[0]! * c12[0]! + L[1]! * c12[1]! + L[2]! * c12[2]!;
  if (!Number.isFinite(vol) || vol === 0) return null;
  const heights = [c12, c20, c01].map((c) => Math.abs(vol) / Math.hypot(c[0]!, c[1]!, c[2]!));
  // Fractional coordinates: f = r · L⁻¹, with L⁻¹ columns (b_0, b_1, b_2) = rows of the cross products / vol.
  const inv = [c12, c20, c01];
  const frac = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const f = (pos[3 * i]! * inv[k]![0]! + pos[3 * i + 1]! * inv[k]![1]! + pos[3 * i + 2]! * inv[k]![2]!) / vol;
      frac[3 * i + k] = f - Math.floor(f);
    }
  }
  const nb = heights.map((h) => Math.max(1, Math.floor(h / limitAng)));
  while (nb[0]! * nb[1]! * nb[2]! > 2 * n + 27) {
    const k = nb.indexOf(Math.max(...nb));
    nb[k] = Math.max(1, Math.floor(nb[k]! / 2));
  }
  const reach = heights.map((h) => Math.ceil(limitAng / h));
  const binOf = new Int32Array(n);
  const counts = new Int32Array(nb[0]! * nb[1]! * nb[2]! + 1);
  const bin3 = (i: number, k: number) => Math.min(nb[k]! - 1, Math.floor(frac[3 * i + k]! * nb[k]!));
  for (let i = 0; i < n; i++) {
    binOf[i] = (bin3(i, 0) * nb[1]! + bin3(i, 1)) * nb[2]! + bin3(i, 2);
    counts[binOf[i]! + 1]!++;
  }
  for (let b = 1; b < counts.length; b++) counts[b] = counts[b]! + counts[b - 1]!;
  const sites = new Int32Array(n);
  const fill = counts.slice(0, -1);
  for (let i = 0; i < n; i++) sites[fill[binOf[i]!]!++] = i;
  // Offsets along each axis: bins ±1 with their wrap-around shift, or (one bin) every translation in reach.
  const offsets = (k: number): number[] => (nb[k]! >= 2 ? [-1, 0, 1] : Array.from({ length: 2 * reach[k]! + 1 }, (_, t) => t - reach[k]!));
  const ox = offsets(0), oy = offsets(1), oz = offsets(2);
  let best: { i: number; j: number; distance: number } | null = null;
  let bestD2 = limitAng * limitAng;
  for (let i = 0; i < n; i++) {
    const b = [bin3(i, 0), bin3(i, 1), bin3(i, 2)];
    for (const dx of ox) for (const dy of oy) for (const dz of oz) {
      const o = [dx, dy, dz];
      const tb = [0, 0, 0];
      const shift = [0, 0, 0];
      for (let k = 0; k < 3; k++) {
        if (nb[k]! >= 2) {
          const t = b[k]! + o[k]!;
          tb[k] = ((t % nb[k]!) + nb[k]!) % nb[k]!;
          shift[k] = Math.floor(t / nb[k]!);
        } else shift[k] = o[k]!;
      }
      const target = (tb[0]! * nb[1]! + tb[1]!) * nb[2]! + tb[2]!;
      for (let p = counts[target]!; p < counts[target + 1]!; p++) {
        const j = sites[p]!;
        if (j === i && shift[0] === 0 && shift[1] === 0 && shift[2] === 0) continue;
        const df = [0, 1, 2].map((k) => frac[3 * j + k]! + shift[k]! - frac[3 * i + k]!);
        const x = df[0]! * L[0]! + df[1]! * L[3]! + df[2]! * L[6]!;
        const y = df[0]! * L[1]! + df[1]! * L[4]! + df[2]! * L[7]!;
        const z = df[0]! * L[2]! + df[1]! * L[5]! + df[2]! * L[8]!;
        const d2 = x * x + y * y + z * z;
        if (d2 <= bestD2 && (best === null || d2 < bestD2 || (Math.min(i, j) < best.i || (Math.min(i, j) === best.i && Math.max(i, j) < best.j)))) {
          bestD2 = d2;
          best = { i: Math.min(i, j), j: Math.max(i, j), distance: Math.sqrt(d2) };
        }
      }
    }
  }
  return best;
}
