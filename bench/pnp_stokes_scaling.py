"""Scaling of the steady PNP-Stokes (electro-osmosis) solver on the default channel.

Per mesh of the refinement series of ``bench/pnp_scaling.py`` (2D axisymmetric and 3D) this
measures, for each coupling (``--coupling``):

- ``segregated``: :class:`pnp.solvers.flow_segregated.SegregatedPNPStokesSolver` (Gauss-Seidel:
  PNP with its own solver, then one Stokes solve with an operator set up once; ``"auto"``
  choices of both linear solvers);
- ``monolithic``: :class:`pnp.solvers.flow.SteadyPNPStokesSolver` (``"auto"`` linear solver:
  LU on small meshes, FGMRES with the field split of :mod:`pnp.solvers.flow_pc` above);

and per row:

- ``dofs`` (potential, K+, Cl-, P2 velocity, P1 pressure), the linear solvers used;
- segregated: coupling iterations, Krylov iterations of each Stokes solve, PNP Krylov
  iterations per Newton step;
- a cold solve at 100 mV and 1e4 Pa (150 mM KCl, -0.1 C/m^2): Newton and Krylov iterations,
  Krylov iterations per Newton step, wall time;
- a warm step (125 mV from the 100 mV solution);
- ``poisson_time_s``: one linear Poisson solve on the same mesh (``bench/pnp_scaling.py``);
- ``stokes_over_poisson`` (targets: cold <= 30) and ``stokes_over_poisson_warm`` (<= 10), by
  wall time and (``*_cpu``) by this process's CPU time, which a loaded shared machine disturbs
  less (the load average at the start and the end of each row is recorded);
- the flow rate, the current and the convective current through the pore.

Usage::

    python bench/pnp_stokes_scaling.py --quick --dims 2      # small meshes (development)
    python bench/pnp_stokes_scaling.py                       # the full series, segregated
    python bench/pnp_stokes_scaling.py --coupling segregated,monolithic --max-meshes 2

Writes ``bench/results/pnp_stokes_scaling.json`` (rank 0) and prints a table.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

from mpi4py import MPI
from pnp_scaling import LAST_POISSON_CPU, QUICK, SERIES, build, poisson_time

import poreflux
from pnp.problems.flow import FlowProblem
from pnp.problems.transport import channel_problem
from pnp.results.flow import pore_convective_current
from pnp.results.io import write_json
from pnp.solvers.flow import SteadyPNPStokesSolver
from pnp.solvers.flow_segregated import SegregatedPNPStokesSolver

RESULTS = Path(__file__).resolve().parent / "results" / "pnp_stokes_scaling.json"


def _coupling_columns(solver, prefix: str) -> dict:
    """Coupling iterations, chord steps of the PNP fields (their Krylov iterations are in
    ``linear_iterations``) and Stokes Krylov iterations of a segregated solve."""
    its = list(getattr(solver, "stokes_iterations", []))
    return {
        f"{prefix}coupling_iterations": getattr(solver, "coupling_iterations", None),
        f"{prefix}pnp_chord_steps": solver.stats.predictor_steps,
        f"{prefix}stokes_krylov_per_solve": sum(its) / len(its) if its else None,
    }


def run_mesh(dim: int, spec: tuple, comm, coupling: str = "segregated") -> dict:
    """Cold and warm PNP-Stokes solves and one Poisson solve on one mesh."""
    hp, hb, level = spec
    cm = build(dim, hp, hb, level, comm)
    problem = channel_problem(cm, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1)
    t0 = time.perf_counter()
    if coupling == "segregated":
        solver = SegregatedPNPStokesSolver(cm, problem, FlowProblem(1e4))
    else:
        solver = SteadyPNPStokesSolver(cm, problem, FlowProblem(1e4))
    setup = time.perf_counter() - t0
    load0, c0 = os.getloadavg()[0], time.process_time()
    cold = solver.solve()
    cold_cpu, c0 = time.process_time() - c0, time.process_time()
    cold_cols = _coupling_columns(solver, "")
    warm = solver.solve(125.0)
    warm_cpu = time.process_time() - c0
    warm_cols = _coupling_columns(solver, "warm_")
    tp, tp_cpu = float("inf"), float("inf")
    for _ in range(2):  # best of 2 (the first includes the JIT look-up)
        tp = min(tp, poisson_time(solver))
        tp_cpu = min(tp_cpu, LAST_POISSON_CPU[0])
    c, w = cold.pnp, warm.pnp
    row = {
        "dim": dim, "h_pore": hp, "h_bath": hb, "refinements": level, "coupling": coupling,
        "dofs": solver.num_dofs, "linear_solver": solver.linear_solver,
        "stokes_solver": getattr(solver, "stokes_solver", None), **cold_cols, **warm_cols,
        "load_average": os.getloadavg()[0], "load_average_start": load0,
        "setup_time_s": setup,
        "newton_iterations": c.newton_iterations, "linear_iterations": c.linear_iterations,
        "krylov_per_newton": c.linear_iterations / max(c.newton_iterations, 1),
        "solve_time_s": c.wall_time,
        "warm_newton_iterations": w.newton_iterations,
        "warm_linear_iterations": w.linear_iterations, "warm_solve_time_s": w.wall_time,
        "poisson_time_s": tp,
        "stokes_over_poisson": c.wall_time / tp, "stokes_over_poisson_warm": w.wall_time / tp,
        "solve_cpu_s": cold_cpu, "warm_cpu_s": warm_cpu, "poisson_cpu_s": tp_cpu,
        "stokes_over_poisson_cpu": cold_cpu / tp_cpu,
        "stokes_over_poisson_warm_cpu": warm_cpu / tp_cpu,
        "flow_rate_nm3_per_ns": cold.flow_rate, "current_pA": cold.current,
        "pore_convective_current_pA": pore_convective_current(cold),
    }  # fmt: skip
    solver.close()
    del solver, cold, warm
    gc.collect()
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the series, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small meshes")
    parser.add_argument("--dims", default="2,3", help="dimensions to run, e.g. 2 or 2,3")
    parser.add_argument("--max-meshes", type=int, default=4, help="meshes per dimension")
    parser.add_argument("--output", default=str(RESULTS), help="JSON file to write")
    parser.add_argument(
        "--coupling", default="segregated", help="segregated and/or monolithic, comma-separated"
    )
    parser.add_argument("--first-mesh", type=int, default=0, help="skip the first meshes")
    args = parser.parse_args(argv)
    comm = MPI.COMM_WORLD
    series = QUICK if args.quick else SERIES
    rows = []
    for dim in [int(d) for d in args.dims.split(",") if d]:
        for spec in series[dim][args.first_mesh : args.max_meshes]:
            for coupling in [c for c in args.coupling.split(",") if c]:
                row = run_mesh(dim, spec, comm, coupling)
                rows.append(row)
                _print(row, comm)
                if comm.rank == 0:  # after every mesh: a long series keeps what it measured
                    write_json(Path(args.output), {"ranks": comm.size, "rows": rows})
    return 0


def _print(row: dict, comm) -> None:
    if comm.rank == 0:
        print(
            f"{row['dim']}D {row['coupling'][:4]} {row['dofs']:>8d} dofs "
            f"{row['linear_solver']:>10s}/{row['stokes_solver']}: cold "
            f"{row['solve_time_s']:7.2f} s ({row['newton_iterations']} Newton, "
            f"{row['krylov_per_newton']:.1f} Krylov/step), warm "
            f"{row['warm_solve_time_s']:6.2f} s, Poisson {row['poisson_time_s']:.3f} s, "
            f"ratios {row['stokes_over_poisson']:.1f} / "
            f"{row['stokes_over_poisson_warm']:.1f} (CPU {row['stokes_over_poisson_cpu']:.1f} / "
            f"{row['stokes_over_poisson_warm_cpu']:.1f}), coupling "
            f"{row['coupling_iterations']}/{row['warm_coupling_iterations']}, Stokes "
            f"Krylov/solve {row['stokes_krylov_per_solve']}, load {row['load_average']}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
