#!/usr/bin/python3
"""Reference timings of pymatgen's and ASE's periodic neighbour search.

What it measures
----------------
Wall-clock time (time.perf_counter) of two library calls that return every
directed pair (i, j, image) with |r_j + image - r_i| within a cutoff, self
pairs (i == j at zero image) excluded:

  * pymatgen  ``Structure.get_neighbor_list(r)`` -- the Cython
    ``pymatgen.optimization.neighbors.find_points_in_spheres`` path; returns
    (center_indices, points_indices, offsets, distances).
  * ASE       ``ase.neighborlist.neighbor_list('ijSd', atoms, r)`` -- ASE's
    numpy bin-sorting ("primitive") neighbour list.

Only the call itself is timed: the Structure / Atoms objects are built
beforehand and are not part of the measurement.

Inputs
  a. "caf2_scaling": fluorite CaF2 (a = 5.463 A, conventional cell, 4 Ca then
     8 F in the fixed site order below), expanded with pymatgen
     ``make_supercell([na, nb, nc])`` for 11 sizes (12 ... 3024 atoms), at
     cutoffs 3, 5 and 8 A.  The ASE Atoms is built from the same supercell
     Structure (same site order, same lattice).
  b. "mp_fluorides_r5": every structure in data/mp_fluorides.jsonl.gz
     (Structure(lattice, species, frac_coords)), cutoff 5 A.

Method (per tool, per input)
  * single-threaded: OMP/OPENBLAS/MKL_NUM_THREADS=1 are set before numpy is
    imported;
  * warm: 1 untimed warm-up call, then timed calls repeated until at least
    5 calls AND at least 0.2 s of summed timed time, capped at 200 calls;
    the median of the timed calls is reported (ms);
  * the Python garbage collector is left enabled (as in normal use);
  * pair count = length of the returned index arrays.  Counts of the two
    tools are compared; any mismatch goes to "count_disagreements".
  * Sanity check: the 12-atom CaF2 cell must give 112 / 512 / 1656 pairs at
    3 / 5 / 8 A (pymatgen get_all_neighbors reference); this is also
    cross-checked here with get_all_neighbors itself.

How to run
  Needs Debian's python3-pymatgen and python3-ase (use the system
  interpreter, not a pyenv one):
      apt-get install -y python3-pymatgen python3-ase
      cd /work/main && /usr/bin/python3 scripts/ref/neighbor_timings.py \
          [--out bench/reference/pymatgen-neighbors.json] [--quick]
  --quick uses only the first few sizes/structures (for testing the script).
  It takes a few minutes on a 2-core machine.

Versions it was run with (for bench/reference/pymatgen-neighbors.json)
  Debian 12 (bookworm) packages: Python 3.11.2, pymatgen 2022.11.7,
  ase 3.22.1, numpy 1.24.2; CPU "AMD EPYC" (2 cores).  The JSON's "meta"
  records the exact values of the run.
"""

import os

# Single-threaded BLAS/OpenMP: must happen before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import datetime
import gzip
import importlib.metadata
import json
import platform
import statistics
import sys
import time

import numpy as np
import ase
from ase import Atoms
from ase.neighborlist import neighbor_list
from pymatgen.core import Lattice, Structure

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MP_FILE = os.path.join(REPO_ROOT, "data", "mp_fluorides.jsonl.gz")
DEFAULT_OUT = os.path.join(REPO_ROOT, "bench", "reference", "pymatgen-neighbors.json")

# Timing policy (see docstring).
MIN_CALLS = 5
MIN_TOTAL_S = 0.2
MAX_CALLS = 200

CAF2_A = 5.463
CAF2_SPECIES = ["Ca"] * 4 + ["F"] * 8
CAF2_FRAC = [
    (0.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.5, 0.0, 0.5), (0.0, 0.5, 0.5),
    (0.25, 0.25, 0.25), (0.75, 0.75, 0.75), (0.25, 0.75, 0.75), (0.75, 0.25, 0.25),
    (0.75, 0.25, 0.75), (0.25, 0.75, 0.25), (0.75, 0.75, 0.25), (0.25, 0.25, 0.75),
]
SUPERCELLS = [(1, 1, 1), (1, 1, 2), (2, 2, 1), (2, 2, 2), (2, 2, 4), (3, 3, 3),
              (4, 4, 4), (4, 4, 5), (5, 5, 5), (6, 6, 6), (6, 6, 7)]
CUTOFFS = [3.0, 5.0, 8.0]
MP_CUTOFF = 5.0
# 12-atom CaF2 directed pair counts (pymatgen get_all_neighbors reference).
CAF2_EXPECTED = {3.0: 112, 5.0: 512, 8.0: 1656}


def time_call(fn):
    """Warm-up once, then time repeated calls; return (median_ms, n_calls, result)."""
    result = fn()  # warm-up (untimed)
    times = []
    total = 0.0
    while len(times) < MAX_CALLS and (len(times) < MIN_CALLS or total < MIN_TOTAL_S):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return statistics.median(times) * 1e3, len(times), result


def to_atoms(structure):
    """ASE Atoms with the same lattice, site order and Cartesian positions."""
    return Atoms(
        symbols=[site.specie.symbol for site in structure],
        positions=structure.cart_coords,
        cell=structure.lattice.matrix,
        pbc=True,
    )


def measure(structure, r):
    """Time both tools on one structure at cutoff r; return a result dict."""
    atoms = to_atoms(structure)
    pmg_ms, pmg_n, pmg_res = time_call(lambda: structure.get_neighbor_list(r))
    ase_ms, ase_n, ase_res = time_call(lambda: neighbor_list("ijSd", atoms, r))
    pmg_pairs = int(len(pmg_res[0]))
    ase_pairs = int(len(ase_res[0]))
    out = {
        "n_sites": len(structure),
        "cutoff": r,
        "pymatgen_pairs": pmg_pairs,
        "pymatgen_ms": round(pmg_ms, 4),
        "pymatgen_calls": pmg_n,
        "ase_pairs": ase_pairs,
        "ase_ms": round(ase_ms, 4),
        "ase_calls": ase_n,
    }
    if pmg_pairs != ase_pairs:
        # Describe the pairs near the cutoff: a mismatch is expected only for
        # distances within rounding of r (pymatgen counts d <= r + 1e-8).
        pd = np.asarray(pmg_res[3])
        ad = np.asarray(ase_res[3])
        out["_disagreement"] = {
            "pymatgen_max_d": float(pd.max()) if len(pd) else None,
            "ase_max_d": float(ad.max()) if len(ad) else None,
            "pymatgen_pairs_d_within_1e-6_of_r": int(np.sum(np.abs(pd - r) < 1e-6)),
            "ase_pairs_d_within_1e-6_of_r": int(np.sum(np.abs(ad - r) < 1e-6)),
        }
    return out


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def caf2_cell():
    return Structure(Lattice.cubic(CAF2_A), CAF2_SPECIES, CAF2_FRAC)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--quick", action="store_true", help="small subset, for testing")
    args = ap.parse_args()

    supercells = SUPERCELLS[:3] if args.quick else SUPERCELLS
    disagreements = []
    sanity = []

    # Sanity check on the 12-atom cell with the slow, object-based API too.
    base = caf2_cell()
    for r in CUTOFFS:
        n_all = sum(len(nb) for nb in base.get_all_neighbors(r))
        n_nl = len(base.get_neighbor_list(r)[0])
        ok = n_all == n_nl == CAF2_EXPECTED[r]
        sanity.append({"cutoff": r, "expected": CAF2_EXPECTED[r],
                       "get_all_neighbors": n_all, "get_neighbor_list": n_nl, "ok": ok})
        print(f"sanity CaF2 12 atoms r={r}: expected {CAF2_EXPECTED[r]}, "
              f"get_all_neighbors {n_all}, get_neighbor_list {n_nl} -> {'OK' if ok else 'FAIL'}",
              flush=True)

    # a. CaF2 scaling.
    caf2 = []
    for sc in supercells:
        s = caf2_cell()
        s.make_supercell(list(sc))
        for r in CUTOFFS:
            res = {"supercell": list(sc), **measure(s, r)}
            if "_disagreement" in res:
                disagreements.append({"input": f"CaF2 {sc}", "cutoff": r,
                                      "pymatgen_pairs": res["pymatgen_pairs"],
                                      "ase_pairs": res["ase_pairs"],
                                      **res.pop("_disagreement")})
            caf2.append(res)
            print(f"CaF2 {sc} n={res['n_sites']} r={r}: pairs pmg {res['pymatgen_pairs']} "
                  f"ase {res['ase_pairs']}; pmg {res['pymatgen_ms']:.3f} ms, "
                  f"ase {res['ase_ms']:.3f} ms", flush=True)
        if sc == (1, 1, 1):
            for row in caf2:
                if row["pymatgen_pairs"] != CAF2_EXPECTED[row["cutoff"]]:
                    print(f"WARNING: CaF2 count {row['pymatgen_pairs']} != "
                          f"{CAF2_EXPECTED[row['cutoff']]} at r={row['cutoff']}", flush=True)

    # b. MP fluorides at 5 A.
    with gzip.open(MP_FILE, "rt") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    if args.quick:
        records = records[:10]
    per = []
    for k, rec in enumerate(records):
        s = Structure(rec["lattice"], rec["species"], rec["frac_coords"])
        res = measure(s, MP_CUTOFF)
        if "_disagreement" in res:
            disagreements.append({"input": rec["material_id"], "cutoff": MP_CUTOFF,
                                  "pymatgen_pairs": res["pymatgen_pairs"],
                                  "ase_pairs": res["ase_pairs"],
                                  **res.pop("_disagreement")})
        res.pop("cutoff")
        per.append({"material_id": rec["material_id"], **res})
        if (k + 1) % 50 == 0:
            print(f"MP {k + 1}/{len(records)}", flush=True)
    total_pmg = sum(p["pymatgen_ms"] for p in per)
    total_ase = sum(p["ase_ms"] for p in per)

    meta = {
        "script": "scripts/ref/neighbor_timings.py",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "pymatgen": importlib.metadata.version("pymatgen"),
        "ase": ase.__version__,
        "numpy": np.__version__,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "quick": args.quick,
        "method": (
            "Wall clock (time.perf_counter) of the call only; structures prebuilt. "
            "OMP/OPENBLAS/MKL_NUM_THREADS=1 set before importing numpy. "
            f"1 untimed warm-up call, then timed calls until >= {MIN_CALLS} calls and "
            f">= {MIN_TOTAL_S} s summed, capped at {MAX_CALLS} calls; median reported in ms. "
            "pymatgen: Structure.get_neighbor_list(r) (Cython find_points_in_spheres, "
            "exclude_self=True, numerical_tol=1e-8). ASE: "
            "ase.neighborlist.neighbor_list('ijSd', atoms, r), Atoms built from the same "
            "Structure (same site order, lattice, cartesian coords, pbc=True). "
            "Pairs = directed (i, j, image) pairs, self excluded. "
            "CaF2: a=5.463 A, Ca (0,0,0),(.5,.5,0),(.5,0,.5),(0,.5,.5) then F at the 8 "
            "(1/4,3/4) positions, supercells via pymatgen make_supercell([na,nb,nc]). "
            "mp_fluorides: Structure(lattice, species, frac_coords) from "
            "data/mp_fluorides.jsonl.gz, r = 5 A; total_ms = sum of per-structure medians."
        ),
        "units": {"*_ms": "milliseconds, median per call", "cutoff": "angstrom"},
    }
    out = {
        "meta": meta,
        "sanity_caf2_12": sanity,
        "count_disagreements": disagreements,
        "caf2_scaling": caf2,
        "mp_fluorides_r5": {
            "cutoff": MP_CUTOFF,
            "n_structures": len(per),
            "n_sites_total": sum(p["n_sites"] for p in per),
            "total_ms": round(total_pmg, 3),
            "ase_total_ms": round(total_ase, 3),
            "pymatgen_pairs_total": sum(p["pymatgen_pairs"] for p in per),
            "ase_pairs_total": sum(p["ase_pairs"] for p in per),
            "per_structure": per,
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"MP fluorides r=5: {len(per)} structures, pymatgen total {total_pmg:.1f} ms, "
          f"ASE total {total_ase:.1f} ms", flush=True)
    print(f"count disagreements: {len(disagreements)}", flush=True)
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
