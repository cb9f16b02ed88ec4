#!/usr/bin/python3
"""spglib's symmetry at the reference settings, for test/structure/spglib-agreement.test.ts.

What it writes
--------------
test/fixtures/reference/symmetry/spglib_symmetry.json.gz: for every structure of the bundled data
(data/mp_fluorides.jsonl.gz, data/fluoride_conductors_curated.json,
data/mp_task_input_fluorides.jsonl.gz, data/perov5_fluorine_perovskites.jsonl.gz) and of
test/fixtures/reference/structures.jsonl, what pymatgen's
``SpacegroupAnalyzer(structure, symprec=0.1, angle_tolerance=5)`` hands to and gets from spglib
(``get_symmetry_dataset``):

  number, hall_number, international  the space group
  n_operations                       operations in the given cell (pure translations included)
  rotations                          one string per operation: the 9 integers, row-major, "," separated
  translations                       3 per operation, as spglib returns them (full precision)
  equivalent_atoms                   for each site, the representative site of its orbit (spglib's)
  classes                            pymatgen's ``SymmetrizedStructure.equivalent_indices`` (classes in
                                     order of their lowest index)

One key per dataset (``mp``, ``curated``, ``mp-task``, ``perov5``, ``reference``), each a list in file
order with the record's id (``material_id`` / ``id`` / ``name`` / reference id) and its index in the file.
A structure that spglib cannot analyse gets ``error`` instead.

``transformed``: 120 cells made from the reference structures (up to 100 sites, not the scaling group)
and the MP fluorides by a random rotation, an origin shift, a unimodular change of basis (product of
three elementary shears) and a shuffle of the sites (seed 20261208), with their lattice, species and
fractional coordinates (as analysed) and the same fields as above.

``delaunay``: ``spglib.delaunay_reduce(lattice, eps)`` for eps 0.1 and 1e-5 on the lattice of every
reference structure and of 60 random skewed lattices (random cells, lengths 2.5–9 Å, angles 60–120°,
times integer matrices with entries in [-2, 2] and determinant ±1, seed 20261207): ``lattice`` and
``reduced`` (rows = lattice vectors; null where spglib's reduction fails).

How to run (Debian bookworm: pymatgen 2022.11.7 from python3-pymatgen, spglib 2.0.2 from python3-spglib)
  apt-get install -y python3-pymatgen python3-spglib
  cd <repository> && /usr/bin/python3 scripts/ref/spglib_symmetry.py
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import gzip  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import pymatgen.core  # noqa: E402
import spglib  # noqa: E402
from pymatgen.core import Lattice, Structure  # noqa: E402
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DATA = os.path.join(ROOT, "data")
REFERENCE = os.path.join(ROOT, "test", "fixtures", "reference", "structures.jsonl")
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "symmetry", "spglib_symmetry.json.gz")

SYMPREC = 0.1
ANGLE_TOLERANCE = 5.0


def records(name):
    if name == "curated":
        with open(os.path.join(DATA, "fluoride_conductors_curated.json")) as fh:
            return json.load(fh)["records"]
    if name == "reference":
        with open(REFERENCE) as fh:
            return [json.loads(line) for line in fh if line.strip()]
    files = {"mp": "mp_fluorides.jsonl.gz", "mp-task": "mp_task_input_fluorides.jsonl.gz", "perov5": "perov5_fluorine_perovskites.jsonl.gz"}
    with gzip.open(os.path.join(DATA, files[name]), "rt") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def record_id(r):
    for k in ("material_id", "id", "name"):
        if r.get(k) is not None:
            return r[k]
    return None


def analyse(r):
    # Undecorated structures, as the hop references use them (oxidation states would change the
    # species grouping pymatgen hands to spglib only where two sites of one element differ in charge).
    s = Structure(Lattice(r["lattice"]), r["species"], r["frac_coords"])
    sga = SpacegroupAnalyzer(s, symprec=SYMPREC, angle_tolerance=ANGLE_TOLERANCE)
    d = sga.get_symmetry_dataset()
    if d is None:
        return {"error": spglib.get_error_message()}
    rot = d["rotations"]
    tr = d["translations"]
    classes = [list(map(int, c)) for c in sga.get_symmetrized_structure().equivalent_indices]
    return {
        "number": int(d["number"]),
        "hall_number": int(d["hall_number"]),
        "international": d["international"],
        "n_operations": int(len(rot)),
        "rotations": [",".join(str(int(x)) for x in m.reshape(9)) for m in rot],
        "translations": [[float(x) for x in t] for t in tr],
        "equivalent_atoms": [int(x) for x in d["equivalent_atoms"]],
        "classes": classes,
    }


def delaunay_cases():
    cases = []
    for r in records("reference"):
        cases.append((r["id"], np.array(r["lattice"], dtype=float)))
    rng = np.random.default_rng(20261207)
    while len(cases) < 60 + len(records("reference")):
        abc = rng.uniform(2.5, 9.0, 3)
        ang = rng.uniform(60.0, 120.0, 3)
        try:
            base = Lattice.from_parameters(*abc, *ang).matrix
        except ValueError:
            continue
        if not np.isfinite(base).all() or abs(np.linalg.det(base)) < 1.0:
            continue
        t = rng.integers(-2, 3, (3, 3))
        if abs(round(np.linalg.det(t))) != 1:
            continue
        cases.append((f"random-{len(cases)}", t @ base))
    out = []
    for name, lat in cases:
        row = {"id": name, "lattice": [[float(x) for x in v] for v in lat]}
        for eps in (0.1, 1e-5):
            red = spglib.delaunay_reduce(lat, eps=eps)
            row[f"reduced_{eps:g}"] = None if red is None else [[float(x) for x in v] for v in red]
        out.append(row)
    return out


def transformed_cases():
    rng = np.random.default_rng(20261208)
    pool = [("reference", r) for r in records("reference") if r["group"] != "scaling" and len(r["species"]) <= 100]
    pool += [("mp", r) for r in records("mp")]
    out = []
    while len(out) < 120:
        name, r = pool[int(rng.integers(len(pool)))]
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        if np.linalg.det(q) < 0:
            q[:, 0] = -q[:, 0]
        u = np.eye(3, dtype=int)
        for _ in range(3):
            i = int(rng.integers(3))
            j = (i + 1 + int(rng.integers(2))) % 3
            e = np.eye(3, dtype=int)
            e[i, j] = 1 if rng.random() < 0.5 else -1
            u = e @ u
        lat = np.array(r["lattice"], dtype=float)
        cart = np.array(r["frac_coords"], dtype=float) @ lat
        new_lat = u @ lat @ q.T
        shift = rng.random(3) - 0.5
        frac = (cart @ q.T) @ np.linalg.inv(new_lat) + shift
        order = rng.permutation(len(r["species"]))
        rec = {"lattice": new_lat.tolist(), "species": [r["species"][i] for i in order], "frac_coords": frac[order].tolist()}
        row = {"id": f"{name}:{record_id(r)}", "n_sites": len(order)}
        row.update(rec)
        row.update(analyse(rec))
        out.append(row)
    return out


def main():
    out = {
        "provenance": {
            "script": "scripts/ref/spglib_symmetry.py",
            "pymatgen": pymatgen.core.__version__,
            "spglib": spglib.__version__,
            "numpy": np.__version__,
            "call": f"SpacegroupAnalyzer(structure, symprec={SYMPREC}, angle_tolerance={ANGLE_TOLERANCE}).get_symmetry_dataset()",
        }
    }
    for name in ("mp", "curated", "mp-task", "perov5", "reference"):
        rows = []
        for i, r in enumerate(records(name)):
            row = {"id": record_id(r), "index": i, "n_sites": len(r["species"])}
            row.update(analyse(r))
            rows.append(row)
        out[name] = rows
        print(name, len(rows))
    out["transformed"] = transformed_cases()
    out["delaunay"] = delaunay_cases()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # mtime 0: the same data give the same bytes.
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(json.dumps(out, separators=(",", ":")).encode())


if __name__ == "__main__":
    main()
