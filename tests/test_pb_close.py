"""Closing solvers releases their MPI communicators (MPICH allows 2048 per process).

Without :meth:`PBSolver.close` the SNES (whose callbacks reference the problem) keeps the forms,
function spaces and mesh alive with their communicators: a study over many geometries (a new
mesh and solver per point) ran out after fewer than 200 points.
"""

from __future__ import annotations

import gc

import pytest

from meshes import SphereGeometry, build_sphere
from pnp.problems.electrostatics import DirichletPotential, Electrostatics, PBProblem, SurfaceCharge
from pnp.solvers.pb import PBSolver
from poreflux import salt


def test_many_closed_solvers_do_not_exhaust_mpi_communicators():
    geometry = SphereGeometry(radius=1.0, outer_radius=4.0, h_surface=0.5, h_far=2.0)
    es = Electrostatics(
        temperature=298.15,
        permittivity={"solute": 2.0, "solvent": 78.5},
        surface_charges=[SurfaceCharge("solute_surface", -0.05)],
        dirichlet=[DirichletPotential("outer", 0.0)],
    )
    problem = PBProblem(es, salt("KCl", 100.0))
    energies = []
    for _ in range(250):
        solver = PBSolver(build_sphere(geometry), problem)  # a new mesh each time, as in a study
        energies.append(solver.solve().energy_kT)
        solver.close()
        del solver
        gc.collect()
    assert energies[-1] == pytest.approx(energies[0], rel=1e-12)
