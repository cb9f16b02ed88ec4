#!/usr/bin/python3
"""Reference timings of pymatgen's supercell construction and of the DDI
ionic-radii-overlap recipe, on the inputs of bench/supercell.bench.ts and
bench/overlap.bench.ts.

What it measures (time.perf_counter, single thread, warm)
  a. "reference_set": every structure of test/fixtures/reference/structures.jsonl
     (Structure(lattice, species, frac_coords), oxidation states added by site
     where present), for L = 7, 10, 12: ``s.copy(); s.make_supercell(scaling)``
     with scaling = [floor(L / a_i) + 1] -- the simmate/DDI rule.  The copy is
     part of the timed call (make_supercell works in place), as in DDI.
  b. "caf2_scaling": fluorite CaF2 (a = 5.463 A, 12 sites) ``make_supercell``
     with [n, n, n] for n = 2, 3, 4, 6.
  c. "overlap": per pathway of test/fixtures/reference/supercell/ddi-overlap.json
     (not the NaN one) the DDI step 6 loop over the 7 images: for each image
     ``image.get_neighbors(image[0], 8.0)`` and, per neighbour,
     ``r0 + nb.specie.ionic_radius - nb.nn_distance`` with the cation / anion
     maxima.  Images are built (Structure from the stored Cartesian
     coordinates) outside the timed call.

Method: 1 untimed warm-up call, then timed calls repeated until at least 5
calls and 0.2 s of summed time (capped at 200 calls); the median is reported
in ms.  Warnings (pymatgen warns on missing radii) are silenced.

How to run
  apt-get install -y python3-pymatgen
  cd /work/main && OMP_NUM_THREADS=1 /usr/bin/python3 scripts/ref/supercell_timings.py \
      [--out bench/reference/pymatgen-supercell.json] [--quick]

Versions it was run with: Debian 12 (bookworm) Python 3.11.2, pymatgen
2022.11.7, numpy 1.24.2 (recorded in the JSON's "meta").
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pymatgen.core  # noqa: E402
from pymatgen.core import Lattice, Species, Structure  # noqa: E402

warnings.filterwarnings("ignore")

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
STRUCTURES = os.path.join(ROOT, "test", "fixtures", "reference", "structures.jsonl")
OVERLAP = os.path.join(ROOT, "test", "fixtures", "reference", "supercell", "ddi-overlap.json")


def timed(fn):
    fn()
    times = []
    total = 0.0
    while (len(times) < 5 or total < 0.2) and len(times) < 200:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return statistics.median(times) * 1000.0


def load_structures(limit):
    out = []
    with open(STRUCTURES) as fh:
        for line in fh:
            r = json.loads(line)
            s = Structure(Lattice(r["lattice"]), r["species"], r["frac_coords"])
            if r.get("oxidation_states"):
                s.add_oxidation_state_by_site(r["oxidation_states"])
            out.append((r["id"], s))
    return out[:limit] if limit else out


def overlap_once(images):
    cat = []
    an = []
    for image in images:
        r0 = image[0].specie.ionic_radius
        cmax = -999.0
        amax = -999.0
        for nb in image.get_neighbors(image[0], 8.0):
            o = r0 + nb.specie.ionic_radius - nb.nn_distance
            if nb.specie.oxi_state > 0:
                cmax = max(cmax, o)
            elif nb.specie.oxi_state < 0:
                amax = max(amax, o)
        cat.append(cmax)
        an.append(amax)
    return cat, an


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "reference", "pymatgen-supercell.json"))
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()

    rows = []
    for sid, s in load_structures(5 if args.quick else None):
        row = {"id": sid, "n_sites": len(s)}
        for L in (7, 10, 12):
            scaling = [int(L // a) + 1 for a in s.lattice.abc]

            def make():
                c = s.copy()
                c.make_supercell(scaling)

            row[f"L{L}"] = {"scaling": scaling, "n_sites": len(s) * int(np.prod(scaling)), "pymatgen_ms": timed(make)}
        rows.append(row)
        print(sid, row["L7"]["pymatgen_ms"], row["L10"]["pymatgen_ms"], row["L12"]["pymatgen_ms"], flush=True)

    caf2 = Structure(
        Lattice.cubic(5.463),
        ["Ca"] * 4 + ["F"] * 8,
        [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5],
         [0.25, 0.25, 0.25], [0.75, 0.75, 0.75], [0.25, 0.75, 0.75], [0.75, 0.25, 0.25],
         [0.75, 0.25, 0.75], [0.25, 0.75, 0.25], [0.75, 0.75, 0.25], [0.25, 0.25, 0.75]],
    )
    scaling_rows = []
    for n in (2, 3, 4) if args.quick else (2, 3, 4, 6):
        def make():
            c = caf2.copy()
            c.make_supercell([n, n, n])

        scaling_rows.append({"n": n, "n_sites": 12 * n ** 3, "pymatgen_ms": timed(make)})
        print("CaF2", n, scaling_rows[-1]["pymatgen_ms"], flush=True)

    with open(OVERLAP) as fh:
        ddi = json.load(fh)["pathways"]
    overlap_rows = []
    for p in ddi:
        if p["images_have_nan"]:
            continue
        lat = Lattice(p["supercell_lattice"])
        species = [Species.from_string(x) for x in p["start_species"]]
        images = [Structure(lat, species, cart, coords_are_cartesian=True) for cart in p["images_all_cart"]]
        cat, an = overlap_once(images)
        dc = max(abs(a - b) for a, b in zip(cat, p["overlap_cation_max_per_image"]))
        overlap_rows.append(
            {"id": p["id"], "index": p["index"], "n_sites": len(images[0]), "n_images": len(images),
             "pymatgen_ms": timed(lambda: overlap_once(images)), "check_max_abs_diff_cation": dc}
        )
        print("overlap", p["id"], p["index"], overlap_rows[-1]["pymatgen_ms"], flush=True)

    meta = {
        "pymatgen": pymatgen.core.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "script": "scripts/ref/supercell_timings.py",
        "date": time.strftime("%Y-%m-%d"),
        "quick": args.quick,
    }
    with open(args.out, "w") as fh:
        json.dump({"meta": meta, "reference_set": rows, "caf2_scaling": scaling_rows, "overlap": overlap_rows}, fh, indent=1)
        fh.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
