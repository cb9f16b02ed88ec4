/** Small helpers shared by the BENCHMARKS.md section generators. */
import { readFileSync, existsSync } from 'node:fs';

export function readJson<T>(p: string): T | null {
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : null;
}

export const f = (x: number | undefined | null, d = 3) => (x === undefined || x === null || !Number.isFinite(x) ? '–' : x < 0.01 ? x.toPrecision(2) : x.toFixed(d));
export const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(1)}×` : '–');
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Least-squares slope of log(time) against log(N): 1 = linear growth. */
export function logSlope(points: [number, number][]): number {
  const xs = points.map(([n]) => Math.log(n)), ys = points.map(([, t]) => Math.log(t));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0, den = 0;
  for (let k = 0; k < xs.length; k++) {
    num += (xs[k]! - mx) * (ys[k]! - my);
    den += (xs[k]! - mx) ** 2;
  }
  return num / den;
}

