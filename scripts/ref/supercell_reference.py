#!/usr/bin/python3
"""Reference supercells from pymatgen's ``Structure.make_supercell``.

What it writes
--------------
test/fixtures/reference/supercell/pymatgen-make-supercell.json: for a fixed
list of (structure id, scaling matrix) cases, pymatgen's supercell in full and
in pymatgen's own site order:

  ``id``, ``matrix`` (9 integers, row-major; rows = new lattice vectors in terms
  of the old ones), ``lattice`` (3 rows), ``species`` (element symbols),
  ``oxidation_states`` (per site or null), ``frac_coords`` (as pymatgen returns
  them: wrapped with np.mod, so a coordinate may be exactly 1.0), and
  ``lattice_points`` = ``pymatgen.util.coord.lattice_points_in_supercell``
  times the matrix, rounded to integers (the old-lattice translations in
  pymatgen's order).

Structures come from test/fixtures/reference/structures.jsonl (the shared
reference set: Structure(lattice, species, frac_coords), oxidation states added
with ``add_oxidation_state_by_site`` where present).  Cases: the simmate/DDI
rule floor(L / a_i) + 1 for L = 7 on small cells, and general integer matrices
(shears, the fcc primitive -> conventional matrix, a negative entry, a
left-handed input lattice).

How to run
  apt-get install -y python3-pymatgen
  cd /work/main && OMP_NUM_THREADS=1 /usr/bin/python3 scripts/ref/supercell_reference.py

Versions it was run with: Debian 12 (bookworm) Python 3.11.2, pymatgen
2022.11.7, numpy 1.24.2 (recorded in the JSON's "meta").
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402
import pymatgen.core  # noqa: E402
from pymatgen.core import Lattice, Structure  # noqa: E402
from pymatgen.util.coord import lattice_points_in_supercell  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
STRUCTURES = os.path.join(ROOT, "test", "fixtures", "reference", "structures.jsonl")
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "supercell", "pymatgen-make-supercell.json")

GENERAL = {
    "shear_det2": [[1, 1, 0], [0, 1, 1], [1, 0, 1]],
    "fcc_prim_to_conv": [[-1, 1, 1], [1, -1, 1], [1, 1, -1]],
    "mixed_det4": [[2, 1, 0], [0, 1, 0], [0, -1, 2]],
    "rot_det2": [[1, -1, 0], [1, 1, 0], [0, 0, 1]],
    "skew_det3": [[1, 0, 2], [0, 1, 0], [-1, 0, 1]],
}

CASES = [
    ("CaF2", "L7"),
    ("CaF2", "shear_det2"),
    ("CaF2_prim", "L7"),
    ("CaF2_prim", "fcc_prim_to_conv"),
    ("CaF2_prim_skewed", "L7"),
    ("CaF2_prim_skewed", "mixed_det4"),
    ("LiF_prim", "fcc_prim_to_conv"),
    ("MgF2", "L7"),
    ("MgF2", "rot_det2"),
    ("KMgF3", "skew_det3"),
    ("CeF3", "shear_det2"),
    ("mp_mp-7604", "L7"),
    ("mp_mp-4360", "mixed_det4"),
    ("pmg_La2CoO4F", "shear_det2"),
    ("pmg_SiO2", "skew_det3"),
    ("pmg_Li2O", "L7"),
    ("pmg_K2O2", "rot_det2"),
    ("pmg_LiFePO4", "L7"),
]


def load_structures():
    out = {}
    with open(STRUCTURES) as fh:
        for line in fh:
            r = json.loads(line)
            s = Structure(Lattice(r["lattice"]), r["species"], r["frac_coords"])
            if r.get("oxidation_states"):
                s.add_oxidation_state_by_site(r["oxidation_states"])
            out[r["id"]] = (r, s)
    return out


def main():
    structures = load_structures()
    cases = []
    for sid, name in CASES:
        r, s = structures[sid]
        if name.startswith("L"):
            L = float(name[1:])
            scaling = [int(L // a) + 1 for a in s.lattice.abc]
            matrix = np.diag(scaling).tolist()
        else:
            matrix = GENERAL[name]
        sc = s.copy()
        sc.make_supercell(matrix)
        points = lattice_points_in_supercell(np.array(matrix)) @ np.array(matrix)
        oxi = None
        if r.get("oxidation_states"):
            oxi = [float(getattr(site.specie, "oxi_state", 0) or 0) for site in sc]
        cases.append(
            {
                "id": sid,
                "case": name,
                "left_handed_input": bool(np.linalg.det(s.lattice.matrix) < 0),
                "matrix": [int(x) for x in np.array(matrix).flatten()],
                "lattice": sc.lattice.matrix.tolist(),
                "species": [site.specie.symbol for site in sc],
                "oxidation_states": oxi,
                "frac_coords": sc.frac_coords.tolist(),
                "lattice_points": np.rint(points).astype(int).tolist(),
            }
        )
    meta = {
        "pymatgen": pymatgen.core.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "script": "scripts/ref/supercell_reference.py",
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump({"meta": meta, "cases": cases}, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {OUT}: {len(cases)} cases, {sum(len(c['species']) for c in cases)} sites")


if __name__ == "__main__":
    main()
