"""Scaling of the nonlinear PB solver on the default channel (2D axisymmetric and 3D).

For each mesh of a refinement series and each linear solver (MUMPS LU for the small meshes,
CG + GAMG for all) this measures: dofs, mesh-build time, form set-up time, assembly time,
linear-solve time (with the PCSetUp part separately), Newton iterations, Krylov iterations per
Newton step and peak memory, then ``time_per_dof_ratio`` = (Newton time per dof at the largest
mesh) / (at the smallest) per dimension and solver. Target: <= 1.5 for CG + GAMG.

Meshes: the default channel (``meshes.channel``) built by gmsh at a base size, then refined
uniformly by DOLFINx (``dolfinx.mesh.refine`` with tag transfer) ``level`` times, so every level
has 4x (2D) / 8x (3D) the cells with the same quality. The build time is gmsh + refinements.

Problem: nonlinear PB, 150 mM KCl, -0.05 C/m^2 on the membrane-water interface, 0 mV at both
bath ends, P1.

Usage::

    python bench/pb_scaling.py            # full series (3D reaches ~1.2e6 dofs; minutes, ~8 GB)
    python bench/pb_scaling.py --quick    # small series for a smoke test
    mpiexec -n 2 python bench/pb_scaling.py --quick

Writes ``bench/results/pb_scaling.json`` (rank 0) and prints a table.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

from mpi4py import MPI

import poreflux
from meshes import names
from meshes.channel import build_channel, default_channel
from meshes.refine import refine_uniformly
from pnp.problems.electrostatics import (
    DirichletPotential,
    Electrostatics,
    PBProblem,
    SurfaceCharge,
)
from pnp.results.io import write_json
from pnp.solvers.pb import PBSolver

RESULTS = Path(__file__).resolve().parent / "results" / "pb_scaling.json"
#: base gmsh sizes (h_pore, h_bath) per dimension
BASE = {2: (0.1, 1.0), 3: (0.4, 4.0)}
#: largest global dof count at which the direct solver is run
DIRECT_MAX = {2: 2_000_000, 3: 200_000}


def build(dim: int, level: int, comm):
    t0 = time.perf_counter()
    hp, hb = BASE[dim]
    cm = build_channel(replace(default_channel(), h_pore=hp, h_bath=hb), dim=dim, comm=comm)
    for _ in range(level):
        cm = refine_uniformly(cm)
    return cm, time.perf_counter() - t0


def problem(cm) -> PBProblem:
    perm = {r: (2.0 if r in (names.MEMBRANE, names.PROTEIN) else 78.5) for r in cm.regions}
    es = Electrostatics(
        298.15,
        perm,
        surface_charges=[SurfaceCharge(names.MEMBRANE_WALL, -0.05)],
        dirichlet=[DirichletPotential(names.TOP, 0.0), DirichletPotential(names.BOTTOM, 0.0)],
    )
    return PBProblem(es, poreflux.salt("KCl", 150.0), model="nonlinear")


def peak_memory_mb(comm) -> tuple[float, float]:
    """(max over ranks, sum over ranks) of the peak resident memory so far [MB]."""
    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return comm.allreduce(mine, op=MPI.MAX), comm.allreduce(mine, op=MPI.SUM)


def run_case(cm, build_time: float, solver: str, comm) -> dict:
    t0 = time.perf_counter()
    pb = PBSolver(cm, problem(cm), solver=solver, profile=True, name=f"bench_{solver}")
    setup = time.perf_counter() - t0
    sol = pb.solve()
    rep = sol.report
    newton_time = rep.wall_time
    pmax, psum = peak_memory_mb(comm)
    row = {
        "dofs": pb.num_dofs,
        "cells": cm.mesh.topology.index_map(cm.tdim).size_global,
        "solver": solver,
        "linear_solver": rep.linear_solver,
        "mesh_build_time_s": build_time,
        "setup_time_s": setup,
        "assembly_time_s": rep.assembly_time,
        "solve_time_s": rep.solve_time,
        "pc_setup_time_s": rep.pc_setup_time,
        "newton_time_s": newton_time,
        "newton_iterations": rep.total_newton_iterations,
        "linear_iterations_per_newton_step": rep.linear_iterations_per_step,
        "peak_memory_mb_max_rank": pmax,
        "peak_memory_mb_sum": psum,
        "time_per_dof_us": 1e6 * newton_time / pb.num_dofs,
        "energy_kT": sol.energy_kT,
    }
    del pb, sol
    gc.collect()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small meshes only (smoke test)")
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import dolfinx

    comm = MPI.COMM_WORLD
    levels = {
        2: [0, 1, 2] if args.quick else [0, 1, 2, 3, 4],
        3: [0, 1] if args.quick else [0, 1, 2, 3],
    }
    rows: list[dict] = []
    load_start = os.getloadavg()
    # warm-up (not recorded): one-time PETSc/MUMPS/GAMG initialisation and form compilation
    # would otherwise inflate the time per dof of the smallest mesh and flatter the ratio
    for dim in args.dims:
        cm, _ = build(dim, 0, comm)
        for solver in ("direct", "iterative"):
            run_case(cm, 0.0, solver, comm)
        del cm
        gc.collect()
    for dim in args.dims:
        for level in levels[dim]:
            cm, tb = build(dim, level, comm)
            ndofs = cm.mesh.topology.index_map(0).size_global
            for solver in ("direct", "iterative"):
                if solver == "direct" and ndofs > DIRECT_MAX[dim]:
                    continue
                row = {"dim": dim, "axisymmetric": dim == 2, "level": level}
                row.update(run_case(cm, tb, solver, comm))
                rows.append(row)
                if comm.rank == 0:
                    print(
                        f"{dim}D L{level} {solver:9s} dofs {row['dofs']:>9d}  build "
                        f"{tb:7.2f}s  asm {row['assembly_time_s']:7.2f}s  solve "
                        f"{row['solve_time_s']:7.2f}s (PCSetUp {row['pc_setup_time_s']:6.2f}s)  "
                        f"Newton {row['newton_iterations']:2d}  lin/step "
                        f"{row['linear_iterations_per_newton_step']:6.1f}  "
                        f"{row['time_per_dof_us']:6.2f} us/dof  "
                        f"mem {row['peak_memory_mb_max_rank']:7.0f} MB",
                        flush=True,
                    )
            del cm
            gc.collect()
    ratios = {}
    for dim in args.dims:
        for solver in ("direct", "iterative"):
            sel = [r for r in rows if r["dim"] == dim and r["solver"] == solver]
            if len(sel) >= 2:
                small = min(sel, key=lambda r: r["dofs"])
                large = max(sel, key=lambda r: r["dofs"])
                per_step = [r["time_per_dof_us"] / r["newton_iterations"] for r in (large, small)]
                ratios[f"{dim}d_{solver}"] = {
                    "time_per_dof_ratio": large["time_per_dof_us"] / small["time_per_dof_us"],
                    "time_per_dof_per_newton_step_ratio": per_step[0] / per_step[1],
                    "dofs_smallest": small["dofs"],
                    "dofs_largest": large["dofs"],
                }
    result = {
        "benchmark": "pb_scaling",
        "quick": args.quick,
        "mpi_ranks": comm.size,
        "dolfinx": dolfinx.__version__,
        "problem": "nonlinear PB, default channel, 150 mM KCl, -0.05 C/m^2 membrane wall, P1",
        "mesh_method": "gmsh base mesh + uniform dolfinx refinement",
        "time_per_dof": "Newton wall time (assembly + linear solves) / dofs",
        "meshes": rows,
        "time_per_dof_ratio": {k: v["time_per_dof_ratio"] for k, v in ratios.items()},
        "ratio_details": ratios,
        "target": "time_per_dof_ratio <= 1.5 for the iterative (CG + GAMG) solver",
        "load_average_start_end": [load_start, os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "peak_memory_note": "peak RSS of the process so far (meshes run in increasing size)",
    }
    write_json(args.output, result, comm)
    if comm.rank == 0:
        for key, value in ratios.items():
            print(
                f"time_per_dof_ratio {key}: {value['time_per_dof_ratio']:.2f} "
                f"({value['dofs_smallest']} -> {value['dofs_largest']} dofs)"
            )
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
