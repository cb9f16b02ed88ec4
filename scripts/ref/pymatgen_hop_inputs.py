#!/usr/bin/python3
"""Two inputs of DistinctPathFinder that fracflow's pymatgen mode reproduces, from pymatgen alone.

What it writes
--------------
test/fixtures/reference/paths/pymatgen_hop_inputs.json:

``neighbor_order``: for every structure of test/fixtures/reference/structures.jsonl up to 200 sites,
for its first site of the migrating element and radii 3.51 and 5.01 Å, ``Structure.get_neighbors(site,
r)`` in the order pymatgen returns it (its Cython cell list): ``[index, na, nb, nc, distance]`` per
neighbour (images relative to the stored coordinates). DistinctPathFinder keeps the first hop of each
orbit in this order, so the order decides which member it reports.

``limit_denominator``: ``float(Fraction.from_float(x).limit_denominator(1000))`` for 400 values x
(random in [-1, 1] at several scales, near simple fractions, and edge cases), the rounding
SpacegroupAnalyzer applies to the translations of the operations it hands to DistinctPathFinder.

How to run (Debian bookworm, pymatgen 2022.11.7 from python3-pymatgen)
  apt-get install -y python3-pymatgen
  cd <repository> && /usr/bin/python3 scripts/ref/pymatgen_hop_inputs.py
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import json  # noqa: E402
from fractions import Fraction  # noqa: E402

import numpy as np  # noqa: E402
import pymatgen.core  # noqa: E402
from pymatgen.core import Lattice, Structure  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SRC = os.path.join(ROOT, "test", "fixtures", "reference", "structures.jsonl")
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "paths", "pymatgen_hop_inputs.json")


def neighbor_order():
    out = []
    with open(SRC) as fh:
        for line in fh:
            r = json.loads(line)
            if len(r["species"]) > 200:
                continue
            s = Structure(Lattice(r["lattice"]), r["species"], r["frac_coords"])
            site = next(i for i, sp in enumerate(r["species"]) if sp == r["migrating"])
            row = {"id": r["id"], "site": site}
            for radius in (3.51, 5.01):
                nbs = s.get_neighbors(s[site], r=radius)
                row[f"r{radius}"] = [[int(n.index), *[int(round(x)) for x in n.image], float(n.nn_distance)] for n in nbs]
            out.append(row)
    return out


def limit_denominator():
    rng = np.random.default_rng(20261209)
    xs = [0.0, 0.5, 1.0, -1.0, 0.25, 1 / 3, 2 / 3, 0.0005, 0.0015, 1e-9, -1e-9, 0.9995, 0.000624, 0.999376, 0.001564, 0.499218]
    xs += list(rng.uniform(-1, 1, 120))
    xs += list(rng.uniform(-1e-3, 1e-3, 80))
    simple = [0, 1 / 2, 1 / 3, 1 / 4, 1 / 6, 1 / 8, 3 / 4, 2 / 3, 5 / 6, 7 / 8]
    xs += [float(rng.choice(simple) + rng.normal(0, 1e-3)) for _ in range(120)]
    xs += [float(rng.choice(simple) + rng.normal(0, 1e-7)) for _ in range(64)]
    return [[float(x), float(Fraction.from_float(float(x)).limit_denominator(1000))] for x in xs]


def main():
    out = {
        "provenance": {"script": "scripts/ref/pymatgen_hop_inputs.py", "pymatgen": pymatgen.core.__version__, "numpy": np.__version__},
        "neighbor_order": neighbor_order(),
        "limit_denominator": limit_denominator(),
    }
    with open(OUT, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
        fh.write("\n")


if __name__ == "__main__":
    main()
