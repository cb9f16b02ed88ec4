#!/usr/bin/python3
"""Reference VASP inputs from pymatgen's MITRelaxSet, for test/analysis/vasp-inputs.test.ts.

What it computes
----------------
For a dozen bundled Materials Project fluorides (data/mp_fluorides.jsonl.gz, chosen to cover
every +U element family of the MIT set: Fe, Mn, Co, Cu, Cr, V, Nb, W; f-electron La; oxyfluorides;
simple fluorides) and three variants (oxidation states by element, so MAGMOM is looked up as
e.g. "Mn3+"; a scalar `magmom` site property on some sites; the plain record), the inputs of

    MITRelaxSet(structure, user_incar_settings=OVERRIDES[design])

for the designs of src/analysis/vasp-inputs.ts:
    static: ISYM 0, NSW 0, IBRION -1, EDIFF 1e-3, LDAU False
    relax:  ISYM 0, EDIFFG -0.1
    neb:    IMAGES 1, ISYM 0, EDIFFG -0.1
and, for the static design, also with user_kpoints_settings={"grid_density": 1000}
(Kpoints.automatic_density). Recorded per case: str(incar), str(kpoints), potcar_symbols,
poscar.site_symbols and the species order of the sorted structure, together with the input
structure itself (lattice, species, frac_coords, oxidation states, magmom), so the test does not
depend on the bundled data files.

Run: /usr/bin/python3 scripts/ref/vasp_inputs_reference.py
(Debian python3-pymatgen 2022.11.7; writes test/fixtures/reference/vasp-inputs/mit_relax_set.json)
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import gzip
import json
import warnings

from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp.sets import MITRelaxSet

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "vasp-inputs", "mit_relax_set.json")

IDS = [
    "mp-1029", "mp-1138", "mp-1229", "mp-1795", "mp-5394", "mp-6867",
    "mp-18953", "mp-21404", "mp-35311", "mp-554517", "mp-556197", "mp-555403",
]
OXI = {
    "mp-554517": {"Na": 1, "Mn": 3, "F": -1},
    "mp-21404": {"Na": 1, "Co": 2, "F": -1},
    "mp-5394": {"La": 3, "S": -2, "F": -1},
}
MAGMOM = {"mp-556197": [5.0, -5.0], "mp-1229": [0.0]}
OVERRIDES = {
    "static": {"ISYM": 0, "NSW": 0, "IBRION": -1, "EDIFF": 1e-3, "LDAU": False},
    "relax": {"ISYM": 0, "EDIFFG": -0.1},
    "neb": {"IMAGES": 1, "ISYM": 0, "EDIFFG": -0.1},
}


def case(s, design, kpoints=None):
    vis = MITRelaxSet(s, user_incar_settings=OVERRIDES[design], user_kpoints_settings=kpoints)
    return {
        "design": design,
        "grid_density": (kpoints or {}).get("grid_density"),
        "incar": str(vis.incar),
        "kpoints": str(vis.kpoints),
        "potcar_symbols": vis.potcar_symbols,
        "site_symbols": vis.poscar.site_symbols,
        "sorted_species": [str(site.specie) for site in vis.structure],
    }


def main():
    warnings.simplefilter("ignore")
    recs = {}
    with gzip.open(os.path.join(ROOT, "data", "mp_fluorides.jsonl.gz"), "rt") as f:
        for line in f:
            r = json.loads(line)
            if r["material_id"] in IDS:
                recs[r["material_id"]] = r
    out = {"pymatgen": "2022.11.7", "set": "MITRelaxSet", "overrides": OVERRIDES, "structures": []}
    for mid in IDS:
        r = recs[mid]
        variants = [("plain", None, None)]
        if mid in OXI:
            variants.append(("oxi", OXI[mid], None))
        if mid in MAGMOM:
            variants.append(("magmom", None, MAGMOM[mid]))
        for name, oxi, mag in variants:
            s = Structure(Lattice(r["lattice"]), r["species"], r["frac_coords"])
            magmom = None
            if oxi:
                s.add_oxidation_state_by_element(oxi)
            if mag:
                # the given moments on the first sites; the rest left unset (pymatgen fills 1.0)
                magmom = [mag[i] if i < len(mag) else None for i in range(len(s))]
                s.add_site_property("magmom", magmom)
            entry = {
                "id": mid,
                "variant": name,
                "lattice": r["lattice"],
                "species": r["species"],
                "frac_coords": r["frac_coords"],
                "oxidation_states": [oxi[e] for e in r["species"]] if oxi else None,
                "magmom": magmom,
                "cases": [case(s.copy(), d) for d in ("static", "relax", "neb")],
            }
            entry["cases"].append(case(s.copy(), "static", {"grid_density": 1000}))
            out["structures"].append(entry)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
