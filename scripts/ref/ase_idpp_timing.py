#!/usr/bin/python3
"""Reference timings of ASE's IDPP path interpolation, for bench/idpp.bench.ts.

What it measures
----------------
Wall-clock time (time.perf_counter) of ``NEB(images).interpolate('idpp', mic=M)``
in ASE 3.22.1 (linear interpolation, then ``idpp_interpolate``: MDMin optimizer,
fmax 0.1 eV/A, at most 100 steps) for M = False (the default: target distances
from the endpoints' plain, non-periodic distance matrices, which on these hops
already meet fmax, so no step is taken) and M = True (minimum-image distances,
the periodic problem that IDPPSolver solves). This is a different optimizer and stopping rule
from pymatgen-analysis-diffusion's IDPPSolver (steepest descent, maxiter 1000,
tol 1e-5, gtol 1e-3), which fracflow reproduces; the figure is context, not a
like-for-like comparison. Building the Atoms objects is not timed.

Inputs (the same two hops as bench/idpp.bench.ts, built the same way)
  * "CaF2_hop0": the fluorite cell CaF2 of test/fixtures/reference/structures.jsonl
    (12 sites); vacancy hop of F from (0.75, 0.25, 0.75) to (0.25, 0.25, 0.75):
    the moving F first, then the other 10 host sites in file order (11 atoms).
  * "CaF2_2x2x2_hop0": the CaF2_2x2x2 record (96 sites); F from
    (0.375, 0.125, 0.375) to (0.125, 0.125, 0.375), built the same way (95 atoms).
  5 interior images (7 in all) in both cases.

Method
  * single-threaded: OMP/OPENBLAS/MKL_NUM_THREADS=1 are set before numpy is
    imported; warm: 1 untimed call, then at least 5 timed calls and 1 s of timed
    time (capped at 50); the median is reported in ms;
  * steps: the number of MDMin steps taken (opt.nsteps), from one extra run of
    the same ``idpp_interpolate`` call with the optimizer wrapped to record it.

How to run
  apt-get install -y python3-ase
  cd /work/main && /usr/bin/python3 scripts/ref/ase_idpp_timing.py [--out bench/reference/ase-idpp.json]
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import ase  # noqa: E402
import numpy as np  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.neb import NEB, idpp_interpolate  # noqa: E402
from ase.optimize import MDMin  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
STRUCTURES = os.path.join(ROOT, "test", "fixtures", "reference", "structures.jsonl")

# pymatgen-analysis-diffusion IDPPSolver on the same two hops (unjittered), copied from the shared
# reference set (reference/timings.json -> per_structure.<id>.hop0_get_structures_idpp, the median of
# `get_structures(nimages=5, vac_mode=True, idpp=True)` for hop 0; reference/paths/<id>.json ->
# idpp[0].idpp_iterations / idpp_converged). pymatgen-analysis-diffusion is not installed here, so
# these cannot be re-measured by this script; they are carried into the output for the report.
PYMATGEN_REFERENCE = {
    "source": "shared reference timings.json (hop0_get_structures_idpp, median of warm runs, one thread) and paths/<id>.json (idpp_iterations), pymatgen 2022.11.7 + pymatgen-analysis-diffusion d613b5e",
    "CaF2_hop0": {"pymatgen_ms": 282.8541105000113, "iterations": 1000, "converged": False},
    "CaF2_2x2x2_hop0": {"pymatgen_ms": 1084.3317700000625, "iterations": 293, "converged": True},
}

CASES = [
    ("CaF2_hop0", "CaF2", (0.75, 0.25, 0.75), (0.25, 0.25, 0.75)),
    ("CaF2_2x2x2_hop0", "CaF2_2x2x2", (0.375, 0.125, 0.375), (0.125, 0.125, 0.375)),
]


def same_site(f, g):
    d = np.asarray(f, dtype=float) - np.asarray(g, dtype=float)
    d -= np.round(d)
    return bool(np.all(np.abs(d) < 1e-8))


def hop_endpoints(record, isite, esite):
    """Start/end Atoms: moving ion first (at isite / esite), then the host minus both sites."""
    host = [(sp, f) for sp, f in zip(record["species"], record["frac_coords"]) if not same_site(f, isite) and not same_site(f, esite)]
    if len(host) != record["n_sites"] - 2:
        raise SystemExit(f"{record['id']}: isite/esite not found")
    mover = next(sp for sp, f in zip(record["species"], record["frac_coords"]) if same_site(f, isite))
    cell = np.array(record["lattice"], dtype=float)
    symbols = [mover] + [sp for sp, _ in host]
    start = Atoms(symbols, scaled_positions=[isite] + [f for _, f in host], cell=cell, pbc=True)
    end = Atoms(symbols, scaled_positions=[esite] + [f for _, f in host], cell=cell, pbc=True)
    # scaled_positions wraps nothing here (all inside [0, 1)), and the hop does not cross the cell.
    return start, end


def make_neb(start, end, nimages=5):
    return NEB([start.copy()] + [start.copy() for _ in range(nimages)] + [end.copy()])


def run_once(start, end, mic):
    make_neb(start, end).interpolate("idpp", mic=mic)


def count_steps(start, end, mic):
    neb = make_neb(start, end)
    from ase.neb import interpolate

    interpolate(neb.images, mic=mic)
    seen = {}

    class Recording(MDMin):
        def run(self, *a, **k):
            r = super().run(*a, **k)
            seen["steps"] = self.nsteps
            return r

    idpp_interpolate(neb, traj=None, log=None, optimizer=Recording, mic=mic)
    return seen["steps"]


def time_case(start, end, mic):
    run_once(start, end, mic)
    times = []
    total = 0.0
    while (len(times) < 5 or total < 1.0) and len(times) < 50:
        t0 = time.perf_counter()
        run_once(start, end, mic)
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return statistics.median(times) * 1e3, len(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "reference", "ase-idpp.json"))
    args = ap.parse_args()
    records = {}
    with open(STRUCTURES) as fh:
        for line in fh:
            r = json.loads(line)
            records[r["id"]] = r
    rows = []
    for name, rid, isite, esite in CASES:
        start, end = hop_endpoints(records[rid], isite, esite)
        for mic in (False, True):
            ms, runs = time_case(start, end, mic)
            steps = count_steps(start, end, mic)
            rows.append({"case": name, "n_sites": len(start), "images": 5, "mic": mic, "ase_idpp_ms": ms, "runs": runs, "mdmin_steps": steps})
            print(f"{name} mic={mic}: {len(start)} atoms, {ms:.1f} ms (median of {runs}), {steps} MDMin steps")
    out = {
        "meta": {
            "tool": "ase.neb.NEB.interpolate('idpp')",
            "ase": ase.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "machine": platform.processor() or platform.machine(),
            "threads": "OMP/OPENBLAS/MKL_NUM_THREADS=1, warm, median",
            "script": "scripts/ref/ase_idpp_timing.py",
            "date": time.strftime("%Y-%m-%d"),
        },
        "cases": rows,
        "pymatgen_reference": PYMATGEN_REFERENCE,
    }
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
