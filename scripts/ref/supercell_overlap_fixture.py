#!/usr/bin/python3
"""Copies the ionic-radii-overlap references the tests need out of the shared
DDI descriptor references.

Reads  ../shared/reference/descriptors/<id>.json (made with Debian pymatgen
2022.11.7 + pymatgen-analysis-diffusion d613b5e; recipe in that folder's
README, step 6) and writes test/fixtures/reference/supercell/ddi-overlap.json
with, per selected pathway: ``id``, ``index``, ``supercell_scaling``,
``supercell_lattice`` (3 rows), ``start_species`` (pymatgen labels such as
``F-``, ``Ca2+``), ``images_all_cart`` (7 images x sites x 3, rounded to 1e-8 A
by the producer), ``images_have_nan``, ``moving_ion_radius``,
``overlap_cation_max_per_image``, ``overlap_anion_max_per_image``,
``overlap_neighbour_counts_image0``, ``ionic_radii_overlap_cations``,
``ionic_radii_overlap_anions``, ``errors``.  Nothing is recomputed: values are
copied unchanged.  The project never reads ../shared at run or test time.

Run:  cd /work/main && /usr/bin/python3 scripts/ref/supercell_overlap_fixture.py
"""

import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SRC = os.path.join(ROOT, "..", "shared", "reference", "descriptors")
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "supercell", "ddi-overlap.json")

# (id, pathway index): conventional and primitive cells, a triclinic-ish MP cell, a negative
# largest change, the most IDPP-sensitive pathway, and one whose IDPP images are NaN.
SELECTED = [
    ("CaF2", 0),
    ("CaF2", 1),
    ("CaF2_prim", 0),
    ("CeF3", 1),
    ("MgF2", 1),
    ("mp_mp-7604", 1),
    ("mp_mp-4360", 0),
    ("LiF_prim", 1),
    ("KMgF3", 1),
]

FIELDS = [
    "index", "supercell_scaling", "supercell_lattice", "start_species", "images_all_cart", "images_have_nan",
    "moving_ion_radius", "overlap_cation_max_per_image", "overlap_anion_max_per_image",
    "overlap_neighbour_counts_image0", "ionic_radii_overlap_cations", "ionic_radii_overlap_anions", "errors",
]


def main():
    out = []
    for sid, index in SELECTED:
        with open(os.path.join(SRC, f"{sid}.json")) as fh:
            d = json.load(fh)
        p = next(x for x in d["pathways"] if x["index"] == index)
        rec = {"id": sid}
        for f in FIELDS:
            rec[f] = p.get(f)
        out.append(rec)
    meta = {
        "source": "shared reference descriptors/<id>.json (pymatgen 2022.11.7 + pymatgen-analysis-diffusion d613b5e)",
        "script": "scripts/ref/supercell_overlap_fixture.py",
    }
    with open(OUT, "w") as fh:
        json.dump({"meta": meta, "pathways": out}, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {OUT}: {len(out)} pathways")


if __name__ == "__main__":
    main()
