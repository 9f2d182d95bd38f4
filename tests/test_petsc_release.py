"""Solvers that go out of scope release their PETSc objects and MPI communicators.

MPICH allows about 2048 communicators per process; every DOLFINx mesh, function space and PETSc
object holds some. A PETSc object keeps its Python callbacks (SNES residual, Jacobian, monitor,
line-search pre-check) alive, and a callback that referenced its solver made a reference cycle
through PETSc that Python's garbage collector cannot see: the solver, its mesh and all their
communicators then lived until the process ended. A study over a few hundred geometries, a long
notebook or the test suite in one process ran out ("MatCreate ... General MPI error").

The count of free communicators (duplicated until MPI refuses, then freed) is the observable:
after a solver of each kind is built, solved and dropped *without* ``close()``, the count must
return exactly to its value before. The second test runs many solves in one process.
"""

from __future__ import annotations

import gc

import pytest
from mpi4py import MPI

import poreflux
from meshes import SphereGeometry, build_sphere
from meshes.channel import build_channel, cylindrical_pore
from pnp.problems.electrostatics import DirichletPotential, Electrostatics, PBProblem, SurfaceCharge
from pnp.problems.flow import FlowProblem
from pnp.problems.transport import channel_problem
from pnp.solvers.flow import SteadyPNPStokesSolver
from pnp.solvers.flow_segregated import SegregatedPNPStokesSolver
from pnp.solvers.pb import PBSolver
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from pnp.solvers.transient import TransientPNPSolver


def free_communicators() -> int:
    """How many more communicators this process can create (each is freed again)."""
    made = []
    try:
        while True:
            made.append(MPI.COMM_SELF.Dup())
    except MPI.Exception:
        pass
    for comm in made:
        comm.Free()
    return len(made)


def _pore():
    geo = cylindrical_pore(1.0, 4.0, h_pore=0.4, h_bath=2.5, bath_radius=6.0, bath_height=6.0)
    return build_channel(geo, 2)


def _pb(close: bool = False) -> float:
    geometry = SphereGeometry(radius=1.0, outer_radius=4.0, h_surface=0.5, h_far=2.0)
    es = Electrostatics(
        298.15,
        {"solute": 2.0, "solvent": 78.5},
        surface_charges=[SurfaceCharge("solute_surface", -0.05)],
        dirichlet=[DirichletPotential("outer", 0.0)],
    )
    solver = PBSolver(build_sphere(geometry), PBProblem(es, poreflux.salt("KCl", 100.0)))
    energy = solver.solve().energy_kT
    if close:
        solver.close()
    return energy


def _steady(linear_solver: str, **ions: object) -> None:
    cm = _pore()
    problem = channel_problem(
        cm, poreflux.salt("KCl", 100.0), voltage=50.0, surface_charge=-0.05, **ions
    )
    SteadyPNPSolver(cm, problem, SolverOptions(linear_solver=linear_solver)).solve()


def _transient() -> None:
    cm = _pore()
    problem = channel_problem(cm, poreflux.salt("KCl", 100.0), voltage=50.0)
    solver = TransientPNPSolver(cm, problem, tol=1e-3)
    solver.initialize(solver.solve(0.0), solver.target_params())
    solver.run(20.0, 1e-2, dt_max=10.0)


def _flow(kind: str) -> None:
    cm = _pore()
    problem = channel_problem(cm, poreflux.salt("KCl", 100.0), voltage=50.0, surface_charge=-0.05)
    cls = SteadyPNPStokesSolver if kind == "monolithic" else SegregatedPNPStokesSolver
    cls(cm, problem, FlowProblem(1e4), SolverOptions(linear_solver="lu")).solve()


CASES = {
    "pb": _pb,
    "pnp_lu": lambda: _steady("lu"),
    "pnp_krylov": lambda: _steady("krylov"),
    "pnp_steric_krylov": lambda: _steady("krylov", ion_model="steric", ion_size=0.3),
    "transient": _transient,
    "flow_monolithic": lambda: _flow("monolithic"),
    "flow_segregated": lambda: _flow("segregated"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dropped_solver_releases_its_communicators(case):
    CASES[case]()  # first call: compiled forms, PETSc's own lazily created objects
    gc.collect()
    before = free_communicators()
    CASES[case]()
    gc.collect()
    assert free_communicators() == before, f"{case}: a dropped solver kept MPI communicators"


def test_hundreds_of_solves_in_one_process():
    """250 PB solves on new meshes in one process (as a study over geometries), every other
    solver closed explicitly: each kept about 9 communicators before the fix (the whole budget
    of 2046 after about 220 solves), and closed or dropped solvers give the same answer."""
    gc.collect()
    before = free_communicators()
    energies = [_pb(close=i % 2 == 0) for i in range(250)]
    gc.collect()
    assert free_communicators() >= before - 2
    assert energies[-1] == pytest.approx(energies[0], rel=1e-12)
