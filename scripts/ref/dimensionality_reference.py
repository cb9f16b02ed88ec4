#!/usr/bin/python3
"""Reference Larsen dimensionalities from pymatgen's get_dimensionality_larsen.

What it computes
----------------
For every structure of test/fixtures/reference/structures.jsonl with at most
100 sites (the "scaling" group is skipped), two families of periodic graphs
built from a fixed distance cutoff (no CrystalNN, so the graph is fully
defined by the cutoff):

  * "F": the F sites only (as pymatgen-analysis-diffusion's MigrationGraph
    does), an edge for every F-F pair within the cutoff; one graph per
    distinct F-F distance up to 6 A (at most 8), the cutoff placed halfway
    to the next distinct distance so that no pair sits near the cutoff;
  * "all": every site, an edge for every pair of sites within the cutoff,
    for cutoffs 2.2, 2.6 and 3.0 A (kept only when no pair lies within
    1e-3 A of the cutoff).

Edges come from Structure.get_neighbor_list(cutoff); each undirected pair is
added once (i < j, or i == j with the image's first non-zero component
positive) with StructureGraph.add_edge(i, j, from_jimage=(0, 0, 0),
to_jimage=image).  The dimensionality is
pymatgen.analysis.dimensionality.get_dimensionality_larsen(graph);
"larsen_ms" is the median wall time of 3 such calls on the built graph
(time.perf_counter, one thread, warm), for bench/percolation.bench.ts.

Stack: Debian bookworm /usr/bin/python3 3.11, python3-pymatgen 2022.11.7,
networkx 2.8.8, numpy 1.24.2.  Run from the repository root:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/ref/dimensionality_reference.py

Output: test/fixtures/reference/dimensionality/larsen.json
  {"generated_by": ..., "structures": [{"id", "graphs": [{"sites": "F"|"all",
   "cutoff", "n_nodes", "n_edges", "dimensionality", "larsen_ms"}]}]}
"""
import json
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pymatgen  # noqa: E402
from pymatgen.analysis.dimensionality import get_dimensionality_larsen  # noqa: E402
from pymatgen.analysis.graphs import StructureGraph  # noqa: E402
from pymatgen.core import Lattice, Structure  # noqa: E402

warnings.filterwarnings("ignore")

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SRC = os.path.join(ROOT, "test", "fixtures", "reference", "structures.jsonl")
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "dimensionality", "larsen.json")


def keep_pair(i, j, img):
    if i < j:
        return True
    if i > j:
        return False
    for c in img:
        if c != 0:
            return c > 0
    return False


def graph_of(structure, cutoff):
    ci, pj, offs, dists = structure.get_neighbor_list(cutoff)
    sg = StructureGraph.with_empty_graph(structure, name="bonds", edge_weight_name="d", edge_weight_units="A")
    n_edges = 0
    for i, j, img, d in zip(ci, pj, offs, dists):
        i, j = int(i), int(j)
        img = tuple(int(round(x)) for x in img)
        if d < 1e-8 or not keep_pair(i, j, img):
            continue
        sg.add_edge(i, j, from_jimage=(0, 0, 0), to_jimage=img, weight=float(d))
        n_edges += 1
    return sg, n_edges, dists


def larsen(sg):
    dims, times = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        dims.append(int(get_dimensionality_larsen(sg)))
        times.append(1000 * (time.perf_counter() - t0))
    assert len(set(dims)) == 1
    return dims[0], statistics.median(times)


def main():
    records = [json.loads(line) for line in open(SRC)]
    out = []
    for r in records:
        if r["group"] == "scaling" or r["n_sites"] > 100:
            continue
        s = Structure(Lattice(r["lattice"]), r["species"], r["frac_coords"])
        graphs = []
        f_idx = [k for k, sp in enumerate(r["species"]) if sp == "F"]
        if f_idx:
            fs = Structure(s.lattice, ["F"] * len(f_idx), [r["frac_coords"][k] for k in f_idx])
            _, _, _, d = fs.get_neighbor_list(6.0)
            dist = sorted(set(float(x) for x in d if x > 1e-8))
            distinct = []
            for x in dist:
                if not distinct or x - distinct[-1] > 1e-3:
                    distinct.append(x)
            for k, x in enumerate(distinct[:8]):
                nxt = distinct[k + 1] if k + 1 < len(distinct) else 6.0
                cutoff = round(0.5 * (x + nxt), 6)
                sg, n_edges, _ = graph_of(fs, cutoff)
                dim, ms = larsen(sg)
                graphs.append({"sites": "F", "cutoff": cutoff, "n_nodes": len(f_idx), "n_edges": n_edges,
                               "dimensionality": dim, "larsen_ms": ms})
        for cutoff in (2.2, 2.6, 3.0):
            _, _, _, d = s.get_neighbor_list(cutoff + 0.01)
            if np.any(np.abs(d - cutoff) < 1e-3):
                continue
            sg, n_edges, _ = graph_of(s, cutoff)
            dim, ms = larsen(sg)
            graphs.append({"sites": "all", "cutoff": cutoff, "n_nodes": len(s), "n_edges": n_edges,
                           "dimensionality": dim, "larsen_ms": ms})
        out.append({"id": r["id"], "graphs": graphs})
        print(r["id"], [(g["sites"], g["cutoff"], g["dimensionality"]) for g in graphs], file=sys.stderr)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"generated_by": f"scripts/ref/dimensionality_reference.py, pymatgen {pymatgen.core.__version__}",
                   "structures": out}, f, indent=1)


if __name__ == "__main__":
    main()
