"""Scaling of the steady PNP solver on the default channel (2D axisymmetric and 3D).

Per mesh of a refinement series (gmsh at a base size, then uniform DOLFINx refinements with tag
transfer, as in ``bench/pb_scaling.py``) this measures:

- ``dofs`` (potential + K+ + Cl- on the water sub-mesh), the linear solver used;
- a cold steady solve at 100 mV (150 mM KCl, -0.1 C/m^2 on the walls): Newton iterations (all
  attempts), Krylov iterations, wall time;
- ``poisson_time_s``: one linear Poisson solve on the same mesh with the same kind of solver
  (assembly + factorisation/solve: MUMPS LU for ``lu``, CG + GAMG for the Krylov solvers);
- ``pnp_over_poisson`` = cold PNP time / Poisson time;
- ``pnp_over_poisson_warm``: one warm-started I-V step (125 mV from the 100 mV solution) / Poisson
  time, with its Newton iterations and predictor (chord) steps;
- ``cold_split_s`` / ``warm_split_s``: where the time of each solve goes, from PETSc's event log
  (Jacobian assembly, residual assembly, preconditioner set-up, Krylov iterations, the rest), and
  the Jacobians assembled and reused (``jacobian_evaluations``, ``jacobian_reuses``).

Under ``mpiexec -n 2`` the whole benchmark runs on two ranks (the refined meshes are refined in
parallel; rank 0 prints and writes); with ``--serial-reference serial.json`` (a serial run of the
same series) every row gets ``mpi_speedup`` = serial cold time / this cold time (and the warm
one), and the file gets ``mpi_speedup_2``: the cold-solve speed-up of the largest 3D point-ion
mesh with at least 5e5 unknowns.

Every measurement is repeated for each ion model of :data:`VARIANTS` (point ions, steric,
steric + BSK correlations; ion size 0.5 nm so that 3 M fits), and ``over_point`` = the model's
cold (warm) solve time / the point-ion one on the same mesh (targets: steric <= 1.2,
steric+correlations <= 3).

Then the robustness grid on the 2D default channel: V in -300..300 mV (step 50) x c in {1, 10,
100, 1000, 3000} mM x sigma in {0, -0.05, -0.2} C/m^2 (195 points; warm starts along the voltage
from 0 outward, continuation when needed), counting failures and non-positive concentrations.

Usage::

    python bench/pnp_scaling.py            # full series (3D reaches ~8e5 dofs) + full grid
    python bench/pnp_scaling.py --quick    # small meshes and a grid subset (development)
    python bench/pnp_scaling.py --variants point,steric   # a subset of the ion models
    python bench/pnp_scaling.py --dims "" --variants steric --output out.json   # grid only
    python bench/pnp_scaling.py --flow     # also PNP-Stokes per mesh ("flow_meshes" in the JSON)
    python bench/pnp_scaling.py --quick --no-grid --compare-csr   # CSR vs PETSc insertion
    python bench/pnp_scaling.py --quick --no-grid --assembly-ab   # Jacobian assembly alone
    mpiexec -n 2 python bench/pnp_scaling.py --variants point --no-grid \
        --serial-reference bench/results/pnp_scaling.json \
        --output bench/results/pnp_scaling_np2.json

Writes ``bench/results/pnp_scaling.json`` (rank 0) and prints a table.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

import poreflux
from meshes.channel import build_channel, default_channel
from meshes.refine import refine_uniformly
from pnp.problems.transport import channel_problem
from pnp.results.io import write_json
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from poreflux.errors import ConvergenceError

RESULTS = Path(__file__).resolve().parent / "results" / "pnp_scaling.json"

#: (h_pore, h_bath, uniform refinement levels) per mesh
SERIES = {
    2: [(0.1, 1.0, 0), (0.1, 1.0, 1), (0.1, 1.0, 2), (0.1, 1.0, 3)],
    3: [(0.4, 4.0, 0), (0.25, 2.5, 0), (0.25, 2.5, 1), (0.25, 2.5, 2)],
}
QUICK = {
    2: [(0.2, 2.0, 0), (0.1, 1.0, 0), (0.1, 1.0, 1), (0.1, 1.0, 2)],
    3: [(0.5, 5.0, 0), (0.4, 4.0, 0), (0.3, 3.0, 0), (0.4, 4.0, 1)],
}
GRID_V = [float(v) for v in range(-300, 301, 50)]
GRID_C = [1.0, 10.0, 100.0, 1000.0, 3000.0]
GRID_S = [0.0, -0.05, -0.2]
#: PETSc events of the time split (disjoint in a PNP solve: their sum is within a few % of
#: SNESSolve; the chord predictor's residual and Krylov solve count in theirs)
SPLIT_EVENTS = {
    "jacobian_assembly": "SNESJacobianEval",
    "residual_assembly": "SNESFunctionEval",
    "pc_setup": "PCSetUp",
    "krylov": "KSPSolve",
}
POISSON_REFERENCE = (
    "one linear Poisson solve -div(eps grad psi) = K rho_fixed (bath-end Dirichlet values) on "
    "the same mesh, timed whole: dolfinx LinearProblem set-up (sparsity, assembly), then CG + "
    "GAMG (smoothed aggregation, Chebyshev/Jacobi smoothing) to rtol 1e-9, or MUMPS LU where "
    "the PNP solve uses LU; best of 2 runs"
)
#: Lattice size [nm] of the steric variants (bulk packing 0.45 at 3 M KCl).
ION_SIZE = 0.5

#: Benchmarked variants: name -> keyword arguments of ``channel_problem`` (a new model is one
#: entry; its rows carry the name in ``"variant"``).
VARIANTS: dict[str, dict] = {
    "point": {},
    "steric": {"ion_model": "steric", "ion_size": ION_SIZE},
    "steric+correlations": {"ion_model": "steric+correlations", "ion_size": ION_SIZE},
}


def build(dim: int, hp: float, hb: float, level: int, comm):
    cm = build_channel(default_channel(h_pore=hp, h_bath=hb), dim=dim, comm=comm)
    for _ in range(level):
        cm = refine_uniformly(cm)
    return cm


def poisson_time(solver: SteadyPNPSolver) -> float:
    """One linear Poisson solve (eps grad, fixed charges, bath-end potentials) on the mesh: wall
    time [s] (its CPU time of this process in :data:`LAST_POISSON_CPU`)."""
    import ufl
    from dolfinx.fem.petsc import LinearProblem

    from pnp.solvers.newton import direct_options, iterative_options

    V = solver.V
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    w = solver.measures.weight
    a = solver.eps_r * ufl.inner(ufl.grad(u), ufl.grad(v)) * w * solver.measures.dx
    L = solver.K * solver.fixed_source
    opts = direct_options() if solver.linear_solver == "lu" else iterative_options(True)
    opts = {k: v for k, v in opts.items() if not k.startswith("snes_")}  # a linear solve: no SNES
    psi_bcs = solver.bcs[:2]
    t0, c0 = time.perf_counter(), time.process_time()
    lp = LinearProblem(
        a, L, bcs=psi_bcs, petsc_options=opts, petsc_options_prefix=f"bench_poisson_{id(V)}_"
    )
    lp.solve()
    LAST_POISSON_CPU[0] = time.process_time() - c0
    return time.perf_counter() - t0


#: CPU time [s] of the last :func:`poisson_time` call (this process)
LAST_POISSON_CPU = [0.0]


def _event_times() -> dict[str, float]:
    """Cumulative times [s] of the :data:`SPLIT_EVENTS` on this rank."""
    return {k: float(PETSc.Log.Event(e).getPerfInfo()["time"]) for k, e in SPLIT_EVENTS.items()}


def _timed_solve(solver: SteadyPNPSolver, voltage: float | None = None) -> tuple:
    """A solve with its time split (PETSc events) and Jacobian counts."""
    newton = solver.newton
    before = _event_times()
    jac, reuse = newton.jacobian_evaluations, newton.jacobian_reuses
    c0 = time.process_time()
    sol = solver.solve(voltage)
    cpu = time.process_time() - c0
    after = _event_times()
    split = {k: after[k] - before[k] for k in before}
    split["other"] = sol.wall_time - sum(split.values())
    split["jacobian_evaluations"] = newton.jacobian_evaluations - jac
    split["jacobian_reuses"] = newton.jacobian_reuses - reuse
    split["cpu_time_s"] = cpu  # this process's CPU time: less sensitive to a loaded machine
    return sol, split


def assembly_ab(solver: SteadyPNPSolver, rounds: int = 6) -> dict:
    """CPU time [s] of one Jacobian's non-constant blocks at the current iterate, assembled by
    per-element PETSc insertion and through DOLFINx's CSR matrix (``CSRAssembler``), the two
    alternated (order swapped every round); best and median of ``rounds``."""
    import dolfinx.fem.petsc

    from pnp.solvers.csr_assembly import CSRAssembler

    newton = solver.newton
    A, bcs = newton.problem.A, newton._bcs
    blocks = [
        (i, j, form)
        for i, row in enumerate(newton.problem.J)
        for j, form in enumerate(row)
        if form is not None and (i, j) != (0, 0)
    ]
    mats = [A.getNestSubMatrix(i, j).duplicate() for i, j, _ in blocks]
    asms = [CSRAssembler(form) for _, _, form in blocks]

    def petsc() -> None:
        for m, (_, _, form) in zip(mats, blocks, strict=True):
            m.zeroEntries()
            dolfinx.fem.petsc.assemble_matrix(m, form, bcs=bcs, diag=1.0)
            m.assemble()

    def csr() -> None:
        for asm in asms:
            asm.assemble(bcs)

    times: dict[str, list[float]] = {"petsc": [], "csr": []}
    for r in range(rounds):
        order = [("petsc", petsc), ("csr", csr)][:: 1 if r % 2 == 0 else -1]
        for name, fn in order:
            c0 = time.process_time()
            fn()
            times[name].append(time.process_time() - c0)
    for m in mats:
        m.destroy()
    for asm in asms:
        asm.destroy()
    best = {k: min(v) for k, v in times.items()}
    return {
        "blocks": len(blocks),
        "petsc_cpu_s": best["petsc"],
        "csr_cpu_s": best["csr"],
        "csr_over_petsc": best["csr"] / best["petsc"],
        "median_petsc_cpu_s": float(np.median(times["petsc"])),
        "median_csr_cpu_s": float(np.median(times["csr"])),
    }


def run_mesh(
    dim: int,
    spec: tuple,
    comm,
    variant: str = "point",
    options: SolverOptions | None = None,
    with_assembly_ab: bool = False,
) -> dict:
    hp, hb, level = spec
    t0 = time.perf_counter()
    cm = build(dim, hp, hb, level, comm)
    build_time = time.perf_counter() - t0
    problem = channel_problem(
        cm, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1, **VARIANTS[variant]
    )
    t0 = time.perf_counter()
    solver = SteadyPNPSolver(cm, problem, options)
    setup = time.perf_counter() - t0
    cold, cold_split = _timed_solve(solver)
    warm, warm_split = _timed_solve(solver, 125.0)
    warm_predictor = solver.stats.predictor_steps  # chord steps before Newton (0 or 1)
    tp, cpu_p = float("inf"), float("inf")
    for _ in range(2):  # best of 2: the second run has no JIT in its timing
        tp = min(tp, poisson_time(solver))
        cpu_p = min(cpu_p, LAST_POISSON_CPU[0])
    row = {
        "variant": variant,
        "csr_assembly": solver.options.csr_assembly,
        "dim": dim,
        "h_pore": hp,
        "h_bath": hb,
        "refinements": level,
        "dofs": solver.num_dofs,
        "dofs_psi": solver.V.dofmap.index_map.size_global,
        "linear_solver": solver.linear_solver,
        "mesh_build_time_s": build_time,
        "setup_time_s": setup,
        "newton_iterations": cold.newton_iterations,
        "linear_iterations": cold.linear_iterations,
        "linear_per_newton": cold.linear_iterations / max(cold.newton_iterations, 1),
        "cold_split_s": cold_split,
        "solve_time_s": cold.wall_time,
        "warm_newton_iterations": warm.newton_iterations,
        "warm_predictor_steps": warm_predictor,
        "warm_linear_iterations": warm.linear_iterations,
        "warm_linear_per_newton": warm.linear_iterations / max(warm.newton_iterations, 1),
        "warm_split_s": warm_split,
        "warm_solve_time_s": warm.wall_time,
        "poisson_time_s": tp,
        "pnp_over_poisson": cold.wall_time / tp,
        "pnp_over_poisson_warm": warm.wall_time / tp,
        "poisson_cpu_time_s": cpu_p,
        "pnp_over_poisson_cpu": cold_split["cpu_time_s"] / cpu_p,
        "pnp_over_poisson_warm_cpu": warm_split["cpu_time_s"] / cpu_p,
        "current_pA": cold.current,
        "conservation_error": cold.conservation_error,
    }
    if with_assembly_ab and solver.linear_solver != "lu":
        row["jacobian_assembly_ab"] = assembly_ab(solver)
    del solver, cold, warm
    gc.collect()
    return row


def robustness(comm, quick: bool, variant: str = "point") -> dict:
    cm = build_channel(default_channel(), 2, comm=comm)
    extra = VARIANTS[variant]
    cs = [1.0, 3000.0] if quick else GRID_C
    vs = [-300.0, -150.0, 0.0, 150.0, 300.0] if quick else GRID_V
    failures, negative, points, newton = [], 0, 0, 0
    t0 = time.perf_counter()
    for c in cs:
        for s in GRID_S:
            problem = channel_problem(cm, poreflux.salt("KCl", c), surface_charge=s, **extra)
            solver = SteadyPNPSolver(cm, problem, SolverOptions())
            up = sorted(v for v in vs if v >= 0)
            down = sorted((v for v in vs if v < 0), reverse=True)
            start = None
            for branch in (up, down):
                if start is not None:
                    solver.set_state(start)
                for v in branch:
                    points += 1
                    try:
                        sol = solver.solve(v)
                    except ConvergenceError:
                        failures.append({"V_mV": v, "c_mM": c, "sigma": s})
                        continue
                    newton += sol.newton_iterations
                    if sol.min_concentration() <= 0:
                        negative += 1
                    if v == 0.0:
                        start = sol
    return {
        "variant": variant,
        "points": points,
        "failures": len(failures),
        "failed_points": failures,
        "non_positive_concentration": negative,
        "newton_iterations_total": newton,
        "wall_time_s": time.perf_counter() - t0,
        "dofs": solver.num_dofs,  # the last grid solver (never a solver that is not used)
    }


def add_ratios(rows: list[dict]) -> None:
    """``over_point`` (cold) and ``over_point_warm``: time / the point-ion time on that mesh."""
    point = {
        (r["dim"], r["dofs_psi"], r.get("csr_assembly", True)): r
        for r in rows
        if r["variant"] == "point"
    }
    for r in rows:
        ref = point.get((r["dim"], r["dofs_psi"], r.get("csr_assembly", True)))
        r["over_point"] = None if ref is None else r["solve_time_s"] / ref["solve_time_s"]
        r["over_point_warm"] = (
            None if ref is None else r["warm_solve_time_s"] / ref["warm_solve_time_s"]
        )


def add_csr_ratios(rows: list[dict]) -> None:
    """``csr_over_petsc`` (cold, wall and CPU) and ``csr_over_petsc_warm``: a solve with the
    Jacobian blocks assembled through DOLFINx's CSR matrices over the same solve with per-element
    PETSc insertion (``--compare-csr`` rows; same mesh and model, measured alternately)."""
    old = {(r["variant"], r["dim"], r["dofs"]): r for r in rows if not r["csr_assembly"]}
    for r in rows:
        ref = old.get((r["variant"], r["dim"], r["dofs"]))
        if not r["csr_assembly"] or ref is None:
            continue
        r["csr_over_petsc"] = r["solve_time_s"] / ref["solve_time_s"]
        r["csr_over_petsc_warm"] = r["warm_solve_time_s"] / ref["warm_solve_time_s"]
        new, before = r["cold_split_s"], ref["cold_split_s"]
        r["csr_over_petsc_cpu"] = new["cpu_time_s"] / before["cpu_time_s"]
        r["csr_over_petsc_jacobian"] = new["jacobian_assembly"] / before["jacobian_assembly"]


def add_mpi_speedups(rows: list[dict], serial_json: Path) -> float | None:
    """``mpi_speedup`` per row against a serial run of the same meshes (matched by variant,
    dimension and unknowns); returns the cold speed-up of the largest 3D point-ion mesh with at
    least 5e5 unknowns (None without such a mesh)."""
    import json

    serial = json.loads(Path(serial_json).read_text())["meshes"]
    ref = {(r.get("variant", "point"), r["dim"], r["dofs"]): r for r in serial}
    best = None
    for r in rows:
        s = ref.get((r["variant"], r["dim"], r["dofs"]))
        if s is None:
            continue
        r["mpi_speedup"] = s["solve_time_s"] / r["solve_time_s"]
        r["mpi_speedup_warm"] = s["warm_solve_time_s"] / r["warm_solve_time_s"]
        r["serial_solve_time_s"] = s["solve_time_s"]
        big = r["variant"] == "point" and r["dim"] == 3 and r["dofs"] >= 500_000
        if big and (best is None or r["dofs"] > best["dofs"]):
            best = r
    return None if best is None else best["mpi_speedup"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small meshes, grid subset")
    parser.add_argument("--no-grid", action="store_true", help="skip the robustness grid")
    parser.add_argument("--dims", default="2,3", help="dimensions to run, e.g. 2 or 2,3")
    parser.add_argument("--output", default=str(RESULTS), help="JSON file to write")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"ion models, from {list(VARIANTS)}"
    )
    parser.add_argument(
        "--flow", action="store_true", help="also PNP-Stokes (bench/pnp_stokes_scaling.py)"
    )
    parser.add_argument(
        "--serial-reference", default=None, help="serial JSON of the same series: MPI speed-ups"
    )
    parser.add_argument(
        "--compare-csr",
        action="store_true",
        help="also run every mesh with per-element PETSc Jacobian insertion (csr_over_petsc)",
    )
    parser.add_argument(
        "--assembly-ab",
        action="store_true",
        help="time one Jacobian's assembly both ways per Krylov mesh (jacobian_assembly_ab)",
    )
    args = parser.parse_args(argv)
    comm = MPI.COMM_WORLD
    PETSc.Log.begin()  # event times for the split (also on during the Poisson reference)
    load_start = list(os.getloadavg())
    series = QUICK if args.quick else SERIES
    variants = [v for v in args.variants.split(",") if v]
    rows = []
    for dim in (int(d) for d in args.dims.split(",") if d):
        for k, spec in enumerate(series[dim]):
            flags = (True, False)[: 1 + args.compare_csr][:: -1 if k % 2 else 1]  # swap order
            for variant, csr in itertools.product(variants, flags):
                opts = SolverOptions(csr_assembly=csr)
                row = run_mesh(dim, spec, comm, variant, opts, args.assembly_ab and csr)
                rows.append(row)
                if comm.rank == 0:
                    print(
                        f"{variant:>20s}{'' if csr else ' (PETSc insertion)'} {dim}D "
                        f"dofs={row['dofs']:>8d} {row['linear_solver']:>10s} "
                        f"newton={row['newton_iterations']:>3d} lin={row['linear_iterations']:>4d} "
                        f"t={row['solve_time_s']:7.2f}s poisson={row['poisson_time_s']:6.3f}s "
                        f"cold/poisson={row['pnp_over_poisson']:6.1f} "
                        f"warm={row['warm_newton_iterations']} it "
                        f"warm/poisson={row['pnp_over_poisson_warm']:6.1f} "
                        f"(CPU {row['pnp_over_poisson_cpu']:5.1f} / "
                        f"{row['pnp_over_poisson_warm_cpu']:4.1f})",
                        flush=True,
                    )
    add_ratios(rows)
    add_csr_ratios(rows)
    speedup = None
    if args.serial_reference:
        speedup = add_mpi_speedups(rows, Path(args.serial_reference))
    grids = {}
    for variant in [] if args.no_grid else variants:
        grid = grids[variant] = robustness(comm, args.quick, variant)
        if comm.rank == 0:
            print(
                f"robustness grid {variant}: {grid['failures']} failures / {grid['points']} "
                f"points, {grid['non_positive_concentration']} with c <= 0, "
                f"{grid['wall_time_s']:.0f} s",
                flush=True,
            )
    flow_rows = []
    if args.flow:  # electro-osmosis: cold/warm PNP-Stokes over one Poisson solve, same meshes
        from pnp_stokes_scaling import run_mesh as run_flow_mesh

        for dim in (int(d) for d in args.dims.split(",") if d):
            flow_rows += [run_flow_mesh(dim, spec, comm) for spec in series[dim]]
    grid = grids.get("point")
    data = {
        "quick": args.quick,
        "ranks": comm.size,
        "poisson_reference": POISSON_REFERENCE,
        "mpi_speedup_2": speedup,
        "serial_reference": args.serial_reference,
        "load_average_start": load_start,
        "load_average": list(os.getloadavg()),
        "meshes": rows,
        "robustness_grid": grid,
        "robustness_failures": None if grid is None else grid["failures"],
        "robustness_grids": grids,
        "flow_meshes": flow_rows,
        "note": (
            "times on a shared 2-core machine (load averages at start and end); ratios "
            "measured in one run, wall and CPU time of this process (*_cpu). Warm step = one "
            "chord predictor step (previous Jacobian, no assembly) + warm_newton_iterations; "
            "Newton steps after a 50x residual drop keep the Jacobian (jacobian_reuses)."
        ),
        "numpy": np.__version__,
    }
    write_json(Path(args.output), data, comm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
