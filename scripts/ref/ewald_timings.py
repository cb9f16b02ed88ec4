#!/usr/bin/python3
"""Reference timings of pymatgen's EwaldSummation for one site's energy.

What it measures
----------------
Wall-clock time (time.perf_counter) of

    EwaldSummation(structure, acc_factor=A).get_site_energy(k)

on a fresh EwaldSummation object: pymatgen has no cheaper way to obtain one site's Ewald energy
(get_site_energy builds the full N x N real and reciprocal matrices first), so this is what the
descriptor stage would pay per image with pymatgen. The total + all-site timings of the same
cells are in bench/reference/shared-timings.json (pmg_ewald_total+sites_acc12/acc3), measured by
the shared reference scripts; they are not repeated here.

Inputs: fluorite CaF2 (a = 5.463 A, conventional cell, Ca (0,0,0),(.5,.5,0),(.5,0,.5),(0,.5,.5)
then F at the 8 (1/4, 3/4) positions), oxidation states Ca2+ / F-, expanded with pymatgen
``make_supercell([na, nb, nc])`` for 12, 24, 48, 96 and 192 atoms; acc_factor 3 and 12; k = 0.

Load check: the same run also times the total + all-site energies of the 96-atom cell at
acc_factor 12 (the shared reference measured 85 ms on a quiet machine); on a busy shared host the
ratio of the two tells how much slower this run was ("calibration" in the JSON).

Method: single-threaded (OMP/OPENBLAS/MKL_NUM_THREADS=1 set before numpy is imported); 1 untimed
warm-up call, then timed calls until >= 5 calls and >= 0.5 s summed (capped at 100); the median is
reported in ms. Warnings (none expected for neutral cells) are silenced.

Run (Debian's python3-pymatgen; the system interpreter):
    apt-get install -y python3-pymatgen
    cd /work/main && /usr/bin/python3 scripts/ref/ewald_timings.py [--out bench/reference/pymatgen-ewald.json]
Versions it was run with: Debian 12 (bookworm) Python 3.11.2, pymatgen 2022.11.7, numpy 1.24.2,
scipy 1.10.1; the JSON's "meta" records the exact values of the run.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy  # noqa: E402
import pymatgen.core  # noqa: E402
import scipy  # noqa: E402
from pymatgen.analysis.ewald import EwaldSummation  # noqa: E402
from pymatgen.core import Lattice, Structure  # noqa: E402

warnings.filterwarnings("ignore")

A = 5.463
FRAC = [
    [0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5],
    [0.25, 0.25, 0.25], [0.75, 0.75, 0.75], [0.25, 0.75, 0.75], [0.75, 0.25, 0.25],
    [0.75, 0.25, 0.75], [0.25, 0.75, 0.25], [0.75, 0.75, 0.25], [0.25, 0.25, 0.75],
]
SPECIES = ["Ca2+"] * 4 + ["F-"] * 8
SUPERCELLS = [[1, 1, 1], [1, 1, 2], [2, 2, 1], [2, 2, 2], [2, 2, 4]]


def median_ms(fn):
    fn()
    ts = []
    start = time.perf_counter()
    while len(ts) < 100:
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
        if len(ts) >= 5 and time.perf_counter() - start >= 0.5:
            break
    return 1000 * statistics.median(ts), len(ts)


def main():
    out_path = "bench/reference/pymatgen-ewald.json"
    if "--out" in sys.argv:
        out_path = sys.argv[sys.argv.index("--out") + 1]
    rows = []
    for sc in SUPERCELLS:
        s = Structure(Lattice.cubic(A), SPECIES, FRAC)
        s.make_supercell(sc)
        for acc in (3.0, 12.0):
            ms, runs = median_ms(lambda: EwaldSummation(s, acc_factor=acc).get_site_energy(0))
            rows.append({"case": "CaF2_%dx%dx%d" % tuple(sc), "n_sites": len(s), "acc_factor": acc,
                         "pymatgen_site_energy_ms": ms, "runs": runs})
            print(rows[-1], flush=True)
    s96 = Structure(Lattice.cubic(A), SPECIES, FRAC)
    s96.make_supercell([2, 2, 2])

    def total_and_sites():
        e = EwaldSummation(s96, acc_factor=12.0)
        e.total_energy
        [e.get_site_energy(i) for i in range(len(s96))]

    cal_ms, cal_runs = median_ms(total_and_sites)
    calibration = {"case": "CaF2_2x2x2", "n_sites": 96, "acc_factor": 12.0,
                   "pymatgen_total_and_sites_ms": cal_ms, "runs": cal_runs}
    print(calibration, flush=True)
    meta = {
        "script": "scripts/ref/ewald_timings.py",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "pymatgen": pymatgen.core.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "cpu": platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "method": "median wall time (ms) of EwaldSummation(s, acc_factor=A).get_site_energy(0) on a fresh object; "
                  "1 warm-up call, then >= 5 calls and >= 0.5 s, capped at 100; OMP/OPENBLAS/MKL_NUM_THREADS=1.",
    }
    with open(out_path, "w") as f:
        json.dump({"meta": meta, "calibration": calibration, "site_energy": rows}, f, indent=1)
        f.write("\n")
    print("wrote", out_path)


if __name__ == "__main__":
    main()
