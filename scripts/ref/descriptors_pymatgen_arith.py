"""Reference data for src/structure/numpy-arith.ts and pymatgenPairShifts (src/kernels/idpp-ts.ts).

Writes numpy-arith.json (np.dot of 3-vectors with 3x3 matrices, np.linalg.inv of 3x3 matrices) and
pair-images.json (for three DDI pathways of ../descriptors: the supercell lattice, the species and
the exact fractional coordinates of the first and last straight-line image and, for every interior image and pair i < j, the integer image
of pymatgen's Lattice.get_distance_and_image, which IDPPSolver fixes for its run).

Stack: Debian bookworm python3-pymatgen 2022.11.7, numpy 1.24.2, OpenBLAS 0.3.21 with its SSE kernels
(OPENBLAS_CORETYPE=Nehalem, set below before numpy loads): the arithmetic the descriptor reference
was computed with (see README.md here). Uses pymatgen core only.

Run: /usr/bin/python3 scripts/ref/descriptors_pymatgen_arith.py  (writes into test/fixtures/reference/descriptors-notes)
"""
import os

os.environ["OPENBLAS_CORETYPE"] = "Nehalem"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import json  # noqa: E402

import numpy as np  # noqa: E402
from pymatgen.analysis.local_env import ValenceIonicRadiusEvaluator  # noqa: E402
from pymatgen.core import PeriodicSite, Structure  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "reference", "descriptors-notes")
REF = os.path.join(HERE, "..")
PATHWAYS = [("CeF3", 0), ("CaF2_prim", 1), ("mp_mp-4360", 0)]


def arith():
    rng = np.random.default_rng(2026)
    mats = []
    for t in range(300):
        kind = t % 3
        if kind == 0:
            m = rng.normal(size=(3, 3))
        elif kind == 1:
            m = np.round(rng.normal(size=(3, 3)) * 5, 4)
        else:
            m = np.diag(rng.uniform(3, 12, size=3))
            m[1, 0] = -m[0, 0] / 2 * rng.uniform(0.5, 1.5)
            m[2, :2] = np.round(rng.normal(size=2), 3)
        mats.append(m)
    dots = []
    for _ in range(200):
        x = rng.normal(size=3) * 10 ** rng.uniform(-2, 2)
        m = rng.normal(size=(3, 3)) * 10 ** rng.uniform(-2, 2)
        dots.append({"x": x.tolist(), "m": m.tolist(), "y": np.dot(x, m).tolist()})
    return {
        "generated_by": "scripts/ref/descriptors_pymatgen_arith.py, numpy %s, OPENBLAS_CORETYPE=Nehalem" % np.__version__,
        "inverses": [{"m": m.tolist(), "inv": np.linalg.inv(m).tolist()} for m in mats],
        "dots": dots,
    }


def pathway(sid, idx):
    recs = [json.loads(line) for line in open(os.path.join(REF, "structures.jsonl"))]
    rec = next(r for r in recs if r["id"] == sid)
    ref = json.load(open(os.path.join(REF, "descriptors", sid + ".json")))
    p = next(q for q in ref["pathways"] if q["index"] == idx)
    s = Structure(rec["lattice"], rec["species"], rec["frac_coords"])
    fc = s.frac_coords

    def find(f):
        for i, x in enumerate(fc):
            d = np.array(f) - x
            if np.all(np.abs(d - np.round(d)) < 1e-8):
                return i, np.round(d)
        raise ValueError(f)

    i0, _ = find(p["isite_frac"])
    i1, im1 = find(p["esite_frac"])
    isite_cart = s.lattice.get_cartesian_coords(fc[i0])
    esite_cart = s.lattice.get_cartesian_coords(fc[i1] + im1)
    dec = ValenceIonicRadiusEvaluator(s).structure
    sc = dec.copy()
    sc.make_supercell([int(7 // a) + 1 for a in dec.lattice.abc])
    lat = sc.lattice
    mov = PeriodicSite("F", isite_cart, lat, coords_are_cartesian=True)
    end = PeriodicSite("F", esite_cart, lat, coords_are_cartesian=True)
    others = [x for x in sc if not (x.specie.symbol == "F" and (x.distance(mov) < 1e-3 or x.distance(end) < 1e-3))]
    images = Structure.from_sites([mov] + others).interpolate(Structure.from_sites([end] + others), nimages=6, pbc=False)
    n = len(images[0])
    shifts = []
    for k in range(1, 6):
        f = images[k].frac_coords
        for i in range(n):
            for j in range(i + 1, n):
                shifts.extend(int(x) for x in lat.get_distance_and_image(f[i], f[j])[1])
    return {
        "id": sid,
        "index": idx,
        "n_sites": n,
        "lattice": lat.matrix.tolist(),
        "species": [x.specie.symbol for x in images[0]],
        "start_frac": images[0].frac_coords.tolist(),
        "end_frac": images[-1].frac_coords.tolist(),
        "shifts": shifts,
    }


if __name__ == "__main__":
    with open(os.path.join(HERE, "numpy-arith.json"), "w") as fh:
        json.dump(arith(), fh)
    with open(os.path.join(HERE, "pair-images.json"), "w") as fh:
        json.dump({"generated_by": "scripts/ref/descriptors_pymatgen_arith.py, pymatgen 2022.11.7, OPENBLAS_CORETYPE=Nehalem",
                   "pathways": [pathway(*x) for x in PATHWAYS]}, fh)
