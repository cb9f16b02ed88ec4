#!/usr/bin/python3
"""Reference LLL reductions from pymatgen, for test/structure/lll.test.ts.

What it writes
--------------
test/fixtures/reference/lll/lll_reference.json: for every structure of
test/fixtures/reference/structures.jsonl (the lattice only) and for 40 random skewed lattices
(integer matrices with entries in [-3, 3] and determinant 1, 2 or 3 applied to random cells, seed 20261124),
``Lattice(matrix).get_lll_reduced_lattice()`` (delta 0.75) and ``Lattice.lll_mapping``
(reduced = mapping . matrix, rows = lattice vectors).

How to run (Debian bookworm, pymatgen 2022.11.7 from python3-pymatgen)
  apt-get install -y python3-pymatgen
  cd /work/main && /usr/bin/python3 scripts/ref/lll_reference.py
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pymatgen  # noqa: E402
from pymatgen.core import Lattice  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SRC = os.path.join(ROOT, "test", "fixtures", "reference", "structures.jsonl")
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "lll", "lll_reference.json")


def entry(name, matrix):
    lat = Lattice(matrix)
    red = lat.get_lll_reduced_lattice()
    return {
        "id": name,
        "lattice": [list(map(float, r)) for r in lat.matrix],
        "reduced": [list(map(float, r)) for r in red.matrix],
        "mapping": [[int(round(x)) for x in r] for r in lat.lll_mapping],
    }


def main():
    cases = []
    with open(SRC) as fh:
        for line in fh:
            r = json.loads(line)
            cases.append(entry(r["id"], r["lattice"]))
    rng = np.random.default_rng(20261124)
    while len(cases) < 40 + sum(1 for _ in open(SRC)):
        abc = rng.uniform(2.5, 9.0, 3)
        ang = rng.uniform(60.0, 120.0, 3)
        try:
            base = Lattice.from_parameters(*abc, *ang).matrix
        except ValueError:
            continue
        if not np.isfinite(base).all() or abs(np.linalg.det(base)) < 1.0:
            continue
        t = rng.integers(-3, 4, (3, 3))
        d = round(np.linalg.det(t))
        if d < 1 or d > 3:
            continue
        cases.append(entry(f"random_{len(cases)}", (t @ base).tolist()))
    meta = {
        "producer": "scripts/ref/lll_reference.py",
        "pymatgen": pymatgen.core.__version__ if hasattr(pymatgen.core, "__version__") else "2022.11.7",
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "delta": 0.75,
    }
    with open(OUT, "w") as fh:
        json.dump({"meta": meta, "cases": cases}, fh, indent=0)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
