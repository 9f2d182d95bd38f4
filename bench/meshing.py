"""Meshing cost against the solve it serves: the 3D default channel at >= 2.5e5 unknowns.

Measures, in one run on the same geometry (the default channel, h_pore and h_bath below):

- ``mesh_s_fresh``: gmsh + distribution with the mesh cache switched off (what the first run of
  a study pays);
- ``mesh_s_cached``: the same build with the mesh read from the cache (every later run, every
  later point of a study with that geometry);
- ``cold_solve_s``: a cold steady PNP solve at 100 mV (150 mM KCl, -0.1 C/m^2 walls) on it;
- ``mesh_over_cold_solve`` = fresh mesh time / cold solve time (issue target <= 0.5), and the
  same ratio for the cached mesh.

Usage::

    python bench/meshing.py [--h-pore 0.07] [--h-bath 0.6]
    mpiexec -n 2 python bench/meshing.py

Writes ``bench/results/meshing.json`` (rank 0) and prints a table.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from mpi4py import MPI

import poreflux
from meshes.channel import build_channel, default_channel
from pnp.problems.transport import channel_problem
from pnp.results.io import write_json
from pnp.solvers.steady import SteadyPNPSolver

RESULTS = Path(__file__).resolve().parent / "results" / "meshing.json"


def timed_build(comm, geometry, cache: str) -> tuple[float, object]:
    """Build the 3D channel with ``POREFLUX_MESH_CACHE=cache``; wall time (max over ranks)."""
    os.environ["POREFLUX_MESH_CACHE"] = cache
    comm.barrier()
    t0 = time.perf_counter()
    cm = build_channel(geometry, dim=3, comm=comm)
    elapsed = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
    return elapsed, cm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--h-pore", type=float, default=0.07, help="pore mesh size (nm)")
    parser.add_argument("--h-bath", type=float, default=0.6, help="bath mesh size (nm)")
    args = parser.parse_args(argv)
    comm = MPI.COMM_WORLD
    geometry = default_channel(3, h_pore=args.h_pore, h_bath=args.h_bath)
    folder = tempfile.mkdtemp(prefix="poreflux-bench-meshes-") if comm.rank == 0 else None
    folder = comm.bcast(folder)
    fresh_s, _ = timed_build(comm, geometry, "off")
    timed_build(comm, geometry, folder)  # fills the cache (a fresh build + one file write)
    cached_s, cm = timed_build(comm, geometry, folder)
    problem = channel_problem(cm, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1)
    solver = SteadyPNPSolver(cm, problem)
    comm.barrier()
    t0 = time.perf_counter()
    sol = solver.solve()
    cold_s = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
    data = {
        "h_pore": args.h_pore,
        "h_bath": args.h_bath,
        "ranks": comm.size,
        "cells": cm.mesh.topology.index_map(3).size_global,
        "dofs": solver.num_dofs,
        "mesh_s_fresh": fresh_s,
        "mesh_s_cached": cached_s,
        "cold_solve_s": cold_s,
        "newton_iterations": sol.newton_iterations,
        "current_pA": sol.current,
        "mesh_over_cold_solve": fresh_s / cold_s,
        "mesh_over_cold_solve_cached": cached_s / cold_s,
        "target_mesh_over_cold_solve": 0.5,
        "machine": {
            "logical_cpus": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "python": platform.python_version(),
            "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }
    name = RESULTS if comm.size == 1 else RESULTS.with_name(f"meshing_np{comm.size}.json")
    if comm.rank == 0:
        print(f"{'ranks':>5} {'cells':>9} {'dofs':>9} {'mesh':>8} {'cached':>8} {'solve':>8} ratio")
        print(
            f"{comm.size:>5d} {data['cells']:>9d} {data['dofs']:>9d} {fresh_s:>7.1f}s "
            f"{cached_s:>7.1f}s {cold_s:>7.1f}s {data['mesh_over_cold_solve']:.2f} "
            f"(cached {data['mesh_over_cold_solve_cached']:.2f})"
        )
        print(f"wrote {name}")
    write_json(name, data, comm)
    if comm.rank == 0:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
