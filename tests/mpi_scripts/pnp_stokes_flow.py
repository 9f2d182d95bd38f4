"""PNP-Stokes flow rate and current (monolithic and segregated couplings) that must not depend on
the number of MPI ranks (run by test_pnp_stokes_mpi.py, which also calls :func:`measure` in its
own process). Prints one JSON line (rank 0)."""

from __future__ import annotations

import json

from mpi4py import MPI

import pnp.results  # noqa: F401  (h5py before DOLFINx's PETSc bindings, see pnp.results)
import poreflux
from meshes.channel import build_channel, cylindrical_pore
from pnp.problems.flow import FlowProblem
from pnp.problems.transport import channel_problem
from pnp.solvers.flow import SteadyPNPStokesSolver
from pnp.solvers.flow_segregated import SegregatedPNPStokesSolver
from pnp.solvers.options import SolverOptions


def measure(comm: MPI.Comm) -> dict:
    """Flow rates, species currents and convective currents of one charged-pore solve."""
    geo = cylindrical_pore(1.0, 4.0, h_pore=0.25, h_bath=2.0, bath_radius=6.0, bath_height=6.0)
    cm = build_channel(geo, 2, comm=comm)
    pb = channel_problem(cm, poreflux.salt("KCl", 100.0), voltage=50.0, surface_charge=-0.05)
    solver = SteadyPNPStokesSolver(cm, pb, FlowProblem(2e4), SolverOptions(linear_solver="lu"))
    sol = solver.solve()
    # the segregated coupling (Anderson mixing over the ranks, Schur-complement Stokes steps)
    seg = SegregatedPNPStokesSolver(
        cm, pb, FlowProblem(2e4), SolverOptions(linear_solver="lu"), stokes_solver="schur"
    ).solve()
    return {
        "size": comm.size,
        "flow_rate": [sol.flow_rate_top, sol.flow_rate_bottom],
        "current": list(sol.pnp.species_currents_top) + list(sol.pnp.species_currents_bottom),
        "convective": list(sol.convective_currents_top),
        "segregated": [seg.flow_rate, seg.current],
        "monolithic": [sol.flow_rate, sol.current],
    }


if __name__ == "__main__":
    out = measure(MPI.COMM_WORLD)
    if MPI.COMM_WORLD.rank == 0:
        print(json.dumps(out))
