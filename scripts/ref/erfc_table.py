#!/usr/bin/python3
"""High-precision erfc(x) table for testing fracflow's erfc (test/kernels/erfc.test.ts).

For each double x the exact value erfc(x) is computed with mpmath at 60 decimal digits and stored
as two doubles, hi = nearest double to erfc(x) and lo = nearest double to erfc(x) - hi, so a test
can measure the relative error of a double result to far below one ulp:
    rel = ((got - hi) - lo) / hi      (got - hi is exact when got is within a few ulps of hi).

Points (all exact doubles, written with repr so they read back bit for bit):
  * the grid k/256 for k = 0 .. 2048 (0 <= x <= 8);
  * 1000 pseudo-random x in (0, 6) from a fixed seed (Ewald evaluates erfc at sqrt(eta)*r <= accf,
    5.26 at acc_factor 12);
  * the neighbours (x and its next doubles) of the interval ends 0.46875 and 4 of Cody's algorithm;
  * a few negative x (erfc(-x) = 2 - erfc(x)).

Run: apt-get install -y python3-mpmath
     /usr/bin/python3 scripts/ref/erfc_table.py > test/fixtures/erfc/erfc-table.json
Made with Debian bookworm python3-mpmath 1.2.1 (Python 3.11.2).
"""
import json
import math
import random
import sys

import mpmath

mpmath.mp.dps = 60


def main():
    xs = [k / 256 for k in range(0, 2049)]
    rng = random.Random(20261124)
    xs += [rng.uniform(0.0, 6.0) for _ in range(1000)]
    for edge in (0.46875, 4.0):
        x = edge
        for _ in range(3):
            x = math.nextafter(x, -math.inf)
        for _ in range(7):
            xs.append(x)
            x = math.nextafter(x, math.inf)
    xs += [-0.1, -0.46875, -1.5, -3.9, -5.0]
    xs = sorted(set(xs))
    hi, lo = [], []
    for x in xs:
        v = mpmath.erfc(mpmath.mpf(x))
        h = float(v)
        hi.append(h)
        lo.append(float(v - mpmath.mpf(h)))
    out = {
        "source": "scripts/ref/erfc_table.py (mpmath %s, mp.dps = 60)" % mpmath.__version__,
        "note": "erfc(x) = hi + lo to ~1e-32 relative; hi is the correctly rounded double",
        "x": xs,
        "hi": hi,
        "lo": lo,
    }
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
