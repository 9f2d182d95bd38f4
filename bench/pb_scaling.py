"""Scaling of the nonlinear PB solver on the default channel (2D axisymmetric and 3D).

For each mesh of a refinement series and each linear solver (MUMPS LU for the small meshes,
CG + GAMG for all) this measures: dofs, mesh-build time, form set-up time, assembly time,
linear-solve time (with the PCSetUp part separately), Newton iterations, Krylov iterations per
Newton step and peak memory. Per dimension and solver it records the Newton time per dof of the
largest mesh over that of the smallest (``time_per_dof_ratio``) and over that of the cheapest
(``time_per_dof_ratio_vs_cheapest``), and the spread max/min of the time per dof over the meshes
with at least 1e5 dofs (``time_per_dof_spread_from_1e5``). Target (issue 20): CG + GAMG in 3D
flat within 1.3x from 1e5 to >= 1.2e6 dofs against the cheapest mesh.

CPU time: every phase is also timed in process CPU time (``newton_cpu_s``, ``assembly_cpu_s``
from the SNES residual and Jacobian callbacks, ``linear_solve_cpu_s`` the rest, and
``pc_setup_cpu_s`` from one more set-up of the preconditioner on the last Newton matrix after
the solve), with the same ratios (``cpu_per_dof_ratio*``). The solver runs on one core, so on an
idle machine CPU time equals wall time; on a shared machine the wall time also counts the time
the process waited for a core, which varies by factors of several with the load during a run,
so the CPU-time ratios are the ones to compare there. Run it with ``OMP_NUM_THREADS=1``.

Memory: a fresh process builds and solves only the largest 3D mesh (CG + GAMG) and reports its
peak resident set size (``ru_maxrss``) per unknown: ``peak_rss_kB_per_unknown``, target <= 2.5;
``mesh_build_peak_rss_kB_per_unknown`` is the peak reached by the end of the mesh build.

Meshes: the default channel (``meshes.channel``) built by gmsh at a base size, then refined
uniformly ``level`` times, so every level has 4x (2D) / 8x (3D) the cells with the same
quality. In serial the refinement is DOLFINx's (``dolfinx.mesh.refine``, tags transferred to
the children): half the peak memory and time of re-meshing through gmsh; under MPI it goes
through gmsh on rank 0 (:func:`meshes.refine.refine_uniformly`). The build time is gmsh +
refinements.

Problem: nonlinear PB, 150 mM KCl, -0.05 C/m^2 on the membrane-water interface, 0 mV at both
bath ends, P1.

Usage::

    python bench/pb_scaling.py            # full series (3D reaches ~1.25e6 dofs; minutes)
    python bench/pb_scaling.py --quick    # small series for a smoke test
    mpiexec -n 2 python bench/pb_scaling.py --quick
    # 3D only, keeping the 2D rows of the existing record; the fresh process run on its own:
    python bench/pb_scaling.py --largest-alone 3 > alone.txt &
    python bench/pb_scaling.py --dims 3 --keep-other-dims --alone-json alone.txt

Every row is appended to ``<output>.rows.jsonl`` as it is measured (removed at the end);
``--from-rows`` writes the record from such a file without solving.

Writes ``bench/results/pb_scaling.json`` (rank 0) and prints a table.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from mpi4py import MPI

import poreflux
from meshes import names
from meshes.channel import build_channel, default_channel
from meshes.refine import refine_in_dolfinx, refine_uniformly
from pnp.problems.electrostatics import (
    DirichletPotential,
    Electrostatics,
    PBProblem,
    SurfaceCharge,
)
from pnp.results.io import write_json
from pnp.solvers.pb import PBSolver

RESULTS = Path(__file__).resolve().parent / "results" / "pb_scaling.json"
#: base gmsh sizes (h_pore, h_bath) per dimension (3D: level 3 has ~1.25e6 dofs)
BASE = {2: (0.1, 1.0), 3: (0.35, 3.5)}
#: largest global dof count at which the direct solver is run
DIRECT_MAX = {2: 2_000_000, 3: 30_000}
#: refinement levels of the series
LEVELS = {2: [0, 1, 2, 3, 4], 3: [0, 1, 2, 3]}
QUICK_LEVELS = {2: [0, 1, 2], 3: [0, 1]}
#: meshes with at least this many dofs enter ``time_per_dof_spread_from_1e5``
SPREAD_FROM_DOFS = 100_000


def build(dim: int, level: int, comm):
    """The channel mesh of a level, its build wall and CPU times [s] (gmsh base + refinements)."""
    t0, c0 = time.perf_counter(), time.process_time()
    hp, hb = BASE[dim]
    cm = build_channel(replace(default_channel(), h_pore=hp, h_bath=hb), dim=dim, comm=comm)
    for _ in range(level):
        cm = refine_in_dolfinx(cm) if comm.size == 1 else refine_uniformly(cm)
        gc.collect()  # the coarser mesh goes before the next level is made
    return cm, time.perf_counter() - t0, time.process_time() - c0


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


class CpuClock:
    """Process CPU time spent in a SNES's residual and Jacobian callbacks (the assembly).

    On a machine shared with other jobs the wall time of a phase includes the time the
    process waited for a core; its CPU time does not, so CPU-time ratios between meshes stay
    meaningful under load (the solver is single-threaded: on an idle core CPU = wall).
    """

    def __init__(self, snes) -> None:
        self.assembly = 0.0
        b, (ffunc, fargs, fkw) = snes.getFunction()
        A, P, (jfunc, jargs, jkw) = snes.getJacobian()

        def residual(s, x, f, *args, **kw):
            c0 = time.process_time()
            ffunc(s, x, f, *args, **kw)
            self.assembly += time.process_time() - c0

        def jacobian(s, x, Amat, Pmat, *args, **kw):
            c0 = time.process_time()
            jfunc(s, x, Amat, Pmat, *args, **kw)
            self.assembly += time.process_time() - c0

        snes.setFunction(residual, b, args=fargs, kargs=fkw)
        snes.setJacobian(jacobian, A, P, args=jargs, kargs=jkw)


def pc_setup_cpu(pb: PBSolver) -> float:
    """CPU time [s] of one more set-up of the solver's preconditioner on its last matrix."""
    pc = pb.newton.snes.getKSP().getPC()
    A, P = pc.getOperators()
    pc.reset()
    pc.setOperators(A, P)
    c0 = time.process_time()
    pc.setUp()
    return time.process_time() - c0


def run_case(cm, build_time: float, solver: str, comm, build_cpu: float = 0.0) -> dict:
    t0 = time.perf_counter()
    pb = PBSolver(cm, problem(cm), solver=solver, profile=True, name=f"bench_{solver}")
    setup = time.perf_counter() - t0
    clock = CpuClock(pb.newton.snes)
    load = os.getloadavg()[0]
    c0 = time.process_time()
    sol = pb.solve()
    newton_cpu = time.process_time() - c0
    rep = sol.report
    newton_time = rep.wall_time
    pmax, psum = peak_memory_mb(comm)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before the extra PC set-up
    n = pb.num_dofs
    row = {
        "dofs": n,
        "cells": cm.mesh.topology.index_map(cm.tdim).size_global,
        "solver": solver,
        "linear_solver": rep.linear_solver,
        "mesh_build_time_s": build_time,
        "mesh_build_cpu_s": build_cpu,
        "setup_time_s": setup,
        "assembly_time_s": rep.assembly_time,
        "solve_time_s": rep.solve_time,
        "pc_setup_time_s": rep.pc_setup_time,
        "newton_time_s": newton_time,
        "newton_cpu_s": newton_cpu,
        "assembly_cpu_s": clock.assembly,
        "linear_solve_cpu_s": newton_cpu - clock.assembly,
        "pc_setup_cpu_s": pc_setup_cpu(pb) if rep.linear_solver == "iterative" else None,
        "newton_iterations": rep.total_newton_iterations,
        "linear_iterations_per_newton_step": rep.linear_iterations_per_step,
        "peak_memory_mb_max_rank": pmax,
        "peak_memory_mb_sum": psum,
        "peak_rss_kB": peak_kb,
        "time_per_dof_us": 1e6 * newton_time / n,
        "cpu_per_dof_us": 1e6 * newton_cpu / n,
        "assembly_cpu_per_dof_us": 1e6 * clock.assembly / n,
        "linear_solve_cpu_per_dof_us": 1e6 * (newton_cpu - clock.assembly) / n,
        "load_average_1min_start_end": [load, os.getloadavg()[0]],
        "energy_kT": sol.energy_kT,
    }
    pb.close()
    del pb, sol
    gc.collect()
    return row


def run_series(
    dims: list[int], levels: dict[int, list[int]], comm, partial: Path | None = None
) -> list[dict]:
    """Every (dim, level, solver) case of the series, meshes in increasing size.

    Each row is also appended to ``partial`` (JSON lines) as soon as it is measured, so a
    failure late in a long run leaves the earlier rows behind.
    """
    rows: list[dict] = []
    for dim in dims:
        for level in levels[dim]:
            cm, tb, cb = build(dim, level, comm)
            ndofs = cm.mesh.topology.index_map(0).size_global
            for solver in ("direct", "iterative"):
                if solver == "direct" and ndofs > DIRECT_MAX[dim]:
                    continue
                row = {"dim": dim, "axisymmetric": dim == 2, "level": level}
                row.update(run_case(cm, tb, solver, comm, cb))
                rows.append(row)
                if comm.rank == 0 and partial is not None:
                    with partial.open("a") as fh:
                        fh.write(json.dumps(row) + "\n")
                if comm.rank == 0:
                    print(
                        f"{dim}D L{level} {solver:9s} dofs {row['dofs']:>9d}  build "
                        f"{tb:7.2f}s  asm {row['assembly_time_s']:7.2f}s  solve "
                        f"{row['solve_time_s']:7.2f}s (PCSetUp {row['pc_setup_time_s']:6.2f}s)  "
                        f"Newton {row['newton_iterations']:2d}  lin/step "
                        f"{row['linear_iterations_per_newton_step']:6.1f}  "
                        f"{row['time_per_dof_us']:6.2f} us/dof (CPU {row['cpu_per_dof_us']:6.2f}: "
                        f"asm {row['assembly_cpu_per_dof_us']:5.2f})  "
                        f"mem {row['peak_memory_mb_max_rank']:7.0f} MB",
                        flush=True,
                    )
            del cm
            gc.collect()
    return rows


def _ratio_set(sel: list[dict], key: str) -> dict:
    """Largest/smallest, largest/cheapest and spread from 1e5 dofs of ``key`` per dof.

    Rows without ``key`` (from an earlier version of this benchmark) are left out.
    """
    sel = [r for r in sel if r.get(key) is not None]
    if len(sel) < 2:
        return dict.fromkeys(
            ("ratio", "ratio_vs_cheapest", "spread_from_1e5", "dofs_cheapest"), None
        ) | {"dofs_cheapest_from_1e5": None}
    small = min(sel, key=lambda r: r["dofs"])
    large = max(sel, key=lambda r: r["dofs"])
    cheap = min(sel, key=lambda r: r[key])
    big = [r[key] for r in sel if r["dofs"] >= SPREAD_FROM_DOFS]
    big_cheap = min(
        (r for r in sel if r["dofs"] >= SPREAD_FROM_DOFS), key=lambda r: r[key], default=None
    )
    return {
        "ratio": large[key] / small[key],
        "ratio_vs_cheapest": large[key] / cheap[key],
        "spread_from_1e5": max(big) / min(big) if len(big) >= 2 else None,
        "dofs_cheapest": cheap["dofs"],
        "dofs_cheapest_from_1e5": None if big_cheap is None else big_cheap["dofs"],
    }


def ratios(rows: list[dict], dims: list[int]) -> dict[str, dict]:
    """Time-per-dof ratios per dimension and solver, in wall and in CPU time (module docstring)."""
    out = {}
    for dim in dims:
        for solver in ("direct", "iterative"):
            sel = [r for r in rows if r["dim"] == dim and r["solver"] == solver]
            if len(sel) < 2:
                continue
            small = min(sel, key=lambda r: r["dofs"])
            large = max(sel, key=lambda r: r["dofs"])
            wall = _ratio_set(sel, "time_per_dof_us")
            cpu = _ratio_set(sel, "cpu_per_dof_us")
            per_step = [r["time_per_dof_us"] / r["newton_iterations"] for r in (large, small)]
            out[f"{dim}d_{solver}"] = {
                "time_per_dof_ratio": wall["ratio"],
                "time_per_dof_ratio_vs_cheapest": wall["ratio_vs_cheapest"],
                "time_per_dof_spread_from_1e5": wall["spread_from_1e5"],
                "cpu_per_dof_ratio": cpu["ratio"],
                "cpu_per_dof_ratio_vs_cheapest": cpu["ratio_vs_cheapest"],
                "cpu_per_dof_spread_from_1e5": cpu["spread_from_1e5"],
                "time_per_dof_per_newton_step_ratio": per_step[0] / per_step[1],
                "dofs_smallest": small["dofs"],
                "dofs_cheapest": wall["dofs_cheapest"],
                "dofs_cheapest_cpu": cpu["dofs_cheapest"],
                "dofs_largest": large["dofs"],
            }
    return out


def largest_alone(level: int) -> dict:
    """Build and solve only the largest 3D mesh (CG + GAMG) in a fresh process; its peak RSS."""
    cmd = [sys.executable, __file__, "--largest-alone", str(level)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"fresh-process run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _largest_alone_main(level: int) -> int:
    """The fresh process of :func:`largest_alone`: one JSON line on stdout."""
    comm = MPI.COMM_WORLD
    cm, tb, cb = build(3, level, comm)
    mesh_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    row = {"dim": 3, "level": level, **run_case(cm, tb, "iterative", comm, cb)}
    row["mesh_build_peak_rss_kB_per_unknown"] = mesh_peak_kb / row["dofs"]
    row["peak_rss_kB_per_unknown"] = row["peak_rss_kB"] / row["dofs"]
    print(json.dumps(row), flush=True)
    return 0


def _wait_for_row(path: Path, timeout_s: float = 4 * 3600.0) -> dict:
    """The JSON row on the last line of ``path``, waiting for the process writing it."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        lines = path.read_text().strip().splitlines() if path.exists() else []
        if lines and lines[-1].startswith("{"):
            return json.loads(lines[-1])
        time.sleep(10.0)
    raise RuntimeError(f"no fresh-process row in {path} after {timeout_s:.0f} s")


def _kept_rows(path: Path, dims: list[int]) -> list[dict]:
    """Rows of the other dimensions from an earlier run's output, marked as such."""
    if not path.exists():
        return []
    old = json.loads(path.read_text())
    return [{**r, "earlier_run": True} for r in old.get("meshes", []) if r["dim"] not in dims]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small meshes only (smoke test)")
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--keep-other-dims",
        action="store_true",
        help="keep the rows and ratios of the dimensions not run from the existing output file",
    )
    parser.add_argument(
        "--alone-json",
        type=Path,
        default=None,
        help="take the largest-mesh fresh-process row from this file (the last line of the "
        "output of `python bench/pb_scaling.py --largest-alone 3`) instead of running it",
    )
    parser.add_argument(
        "--from-rows",
        type=Path,
        default=None,
        help="no solves: write the record from the rows (JSON lines) an earlier run left",
    )
    parser.add_argument("--largest-alone", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.largest_alone is not None:
        return _largest_alone_main(args.largest_alone)
    import dolfinx

    comm = MPI.COMM_WORLD
    levels = QUICK_LEVELS if args.quick else LEVELS
    load_start = os.getloadavg()
    # warm-up (not recorded): one-time PETSc/MUMPS/GAMG initialisation and form compilation
    # would otherwise inflate the time per dof of the smallest mesh and flatter the ratio
    for dim in args.dims if args.from_rows is None else []:
        cm, _, _ = build(dim, 0, comm)
        for solver in ("direct", "iterative"):
            run_case(cm, 0.0, solver, comm)
        del cm
        gc.collect()
    partial = args.output.with_suffix(".rows.jsonl")
    if args.from_rows is not None:  # assemble the record from the rows of an earlier run
        rows = [json.loads(line) for line in args.from_rows.read_text().splitlines() if line]
    else:
        rows = run_series(args.dims, levels, comm, partial)
    kept = _kept_rows(args.output, args.dims) if args.keep_other_dims else []
    ratio = ratios(rows + kept, sorted({r["dim"] for r in rows + kept}))
    alone = None
    if args.alone_json is not None:  # the fresh process was run on its own (--largest-alone)
        alone = _wait_for_row(args.alone_json)
    elif 3 in args.dims and comm.size == 1:
        alone = largest_alone(max(levels[3]))
    result = {
        "benchmark": "pb_scaling",
        "quick": args.quick,
        "mpi_ranks": comm.size,
        "dolfinx": dolfinx.__version__,
        "problem": "nonlinear PB, default channel, 150 mM KCl, -0.05 C/m^2 membrane wall, P1",
        "mesh_method": "gmsh base mesh + uniform refinement (DOLFINx in serial, gmsh under MPI)",
        "time_per_dof": "Newton wall time (assembly + linear solves) / dofs",
        "meshes": rows + kept,
        "time_per_dof_ratio": {k: v["time_per_dof_ratio"] for k, v in ratio.items()},
        "time_per_dof_ratio_vs_cheapest": {
            k: v["time_per_dof_ratio_vs_cheapest"] for k, v in ratio.items()
        },
        "cpu_per_dof_ratio_vs_cheapest": {
            k: v["cpu_per_dof_ratio_vs_cheapest"] for k, v in ratio.items()
        },
        "ratio_details": ratio,
        "largest_3d_fresh_process": alone,
        "peak_rss_kB_per_unknown": None if alone is None else alone["peak_rss_kB_per_unknown"],
        "target": "3d_iterative: time per dof flat within 1.3x from 1e5 to >= 1.2e6 dofs "
        "against the cheapest mesh; peak_rss_kB_per_unknown <= 2.5",
        "load_average_start_end": [load_start, os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "peak_memory_note": "peak_memory_mb_*: peak RSS of the series process so far (meshes "
        "in increasing size); peak_rss_kB_per_unknown: a fresh process with the largest mesh only",
    }
    write_json(args.output, result, comm)
    if comm.rank == 0:
        partial.unlink(missing_ok=True)
    if comm.rank == 0:
        for key, value in ratio.items():
            cpu = value["cpu_per_dof_ratio_vs_cheapest"]
            print(
                f"{key}: time/dof largest/smallest {value['time_per_dof_ratio']:.2f}, "
                f"largest/cheapest {value['time_per_dof_ratio_vs_cheapest']:.2f}; CPU time/dof "
                f"largest/cheapest {'-' if cpu is None else f'{cpu:.2f}'} "
                f"({value['dofs_smallest']} -> {value['dofs_largest']} dofs)"
            )
        if alone is not None:
            print(f"largest 3D mesh alone: {alone['peak_rss_kB_per_unknown']:.2f} kB/unknown")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
