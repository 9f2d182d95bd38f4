"""Meshing cost against the solve it serves: the 3D default channel at >= 2.5e5 unknowns.

Measures, in one run on the same geometry (the default channel, h_pore and h_bath below):

- ``mesh_s_fresh``: gmsh + distribution with the mesh cache switched off (what the first run of
  a study pays);
- ``mesh_s_cached``: the same build with the mesh read from the cache (every later run, every
  later point of a study with that geometry);
- ``cold_solve_s``: a cold steady PNP solve at 100 mV (150 mM KCl, -0.1 C/m^2 walls) on it;
- ``mesh_over_cold_solve`` = fresh mesh time / cold solve time (issue target <= 0.5), and the
  same ratio for the cached mesh;
- ``phases_fresh`` / ``phases_cached`` (serial runs): where a build's time goes, each step
  timed on its own (wall and CPU seconds): gmsh's model, 1D/2D/3D generation, the extraction of
  the arrays (with the facet-cell pairs), the DOLFINx mesh, the cell and facet tags, the
  facet-to-cell connectivity; for the cached build the ``.npz`` read instead of gmsh.

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

import numpy as np
from mpi4py import MPI

import poreflux
from meshes import cache as mesh_cache
from meshes import channel as channel_builder
from meshes import distribute
from meshes.channel import build_channel, default_channel
from meshes.distribute import extract_arrays, serial_mesh
from meshes.gmsh_tools import gmsh_model
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


class Phases:
    """Wall and CPU seconds of named steps, in the order they ran."""

    def __init__(self) -> None:
        self.table: dict[str, dict[str, float]] = {}

    def run(self, name: str, step, *args):
        t0, c0 = time.perf_counter(), time.process_time()
        out = step(*args)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        self.table[name] = {"wall_s": round(wall, 4), "cpu_s": round(cpu, 4)}
        return out


def _generate_by_dimension(model, phases: Phases) -> None:
    """Make ``model.mesh.generate(dim)`` run dimension by dimension, each step timed."""
    full = model.mesh.generate

    def generate(dim: int) -> None:
        for d in range(1, dim + 1):
            phases.run(f"gmsh_generate_{d}d", full, d)

    model.mesh.generate = generate


def phase_breakdown(geometry, folder: str) -> tuple[dict, dict]:
    """Serial fresh and cached builds of the 3D channel, step by step (see module docstring)."""
    comm = MPI.COMM_SELF
    fresh = Phases()
    t0, c0 = time.perf_counter(), time.process_time()
    with gmsh_model("channel3d") as model:
        _generate_by_dimension(model, fresh)
        t1, c1 = time.perf_counter(), time.process_time()
        channel_builder._make_model(geometry, 3, model)
        gen = [v for k, v in fresh.table.items() if k.startswith("gmsh_generate")]
        fresh.table["gmsh_model"] = {
            "wall_s": round(time.perf_counter() - t1 - sum(g["wall_s"] for g in gen), 4),
            "cpu_s": round(time.process_time() - c1 - sum(g["cpu_s"] for g in gen), 4),
        }
        arrays = fresh.run("extract_arrays", extract_arrays, model)
    _dolfinx_phases(fresh, arrays, comm)
    fresh.table["total"] = {
        "wall_s": round(time.perf_counter() - t0, 4),
        "cpu_s": round(time.process_time() - c0, 4),
    }
    key = mesh_cache.cache_key(channel_builder.__file__, "channel", geometry, 3)
    os.environ["POREFLUX_MESH_CACHE"] = folder
    cached = Phases()
    t0, c0 = time.perf_counter(), time.process_time()
    arrays = cached.run("read_npz", mesh_cache.load_cached, key, 0)
    if arrays is None:
        raise RuntimeError("the cache should hold the mesh by now")
    _dolfinx_phases(cached, arrays, comm)
    cached.table["total"] = {
        "wall_s": round(time.perf_counter() - t0, 4),
        "cpu_s": round(time.process_time() - c0, 4),
    }
    return fresh.table, cached.table


def _dolfinx_phases(phases: Phases, arrays, comm) -> None:
    """The DOLFINx side of a serial build, as :func:`meshes.distribute.mesh_from_arrays` does it."""
    import dolfinx.io.gmsh as dgmsh  # after meshes (its backend prepares the bindings)

    domain = dgmsh.ufl_mesh(4, 3, np.float64)  # gmsh's linear tetrahedron
    mesh = phases.run("dolfinx_mesh", serial_mesh, arrays.cells, arrays.x, domain, comm)
    phases.run("cell_tags", distribute._cell_tags, mesh, arrays.cell_values)
    pairs = (arrays.facet_cell, arrays.facet_local, arrays.facet_values)
    phases.run("facet_tags_with_facets", distribute._facet_tags, mesh, *pairs)
    phases.run("facet_to_cell", mesh.topology.create_connectivity, 2, 3)


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
    phases = phase_breakdown(geometry, folder) if comm.size == 1 else ({}, {})
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
        "phases_fresh": phases[0],
        "phases_cached": phases[1],
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
