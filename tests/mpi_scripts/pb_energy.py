"""PB solves whose energies must not depend on the number of MPI ranks (run by test_pb_mpi.py).

Prints one JSON line (rank 0) with energies, ionic charges and axial profiles. Every rank checks
that its gathered profile equals rank 0's.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from mpi4py import MPI

import poreflux
from meshes import names
from meshes.channel import build_channel, default_channel
from meshes.sphere import SphereGeometry, build_sphere
from pnp.problems.electrostatics import DirichletPotential, Electrostatics, PBProblem, SurfaceCharge
from pnp.solvers.pb import PBSolver

T = 298.15
comm = MPI.COMM_WORLD
out = {"size": comm.size}

# 1. nonlinear PB around a charged sphere (interior-facet dS charge), 2D axisymmetric
cm = build_sphere(SphereGeometry(radius=1.0, outer_radius=6.0, h_surface=0.1, h_far=0.5), dim=2)
es = Electrostatics(
    T,
    {names.SOLUTE: 2.0, names.SOLVENT: 78.54},
    surface_charges=[SurfaceCharge(names.SOLUTE_SURFACE, -0.1)],
    dirichlet=[DirichletPotential(names.OUTER, 0.0)],
)
sol = PBSolver(cm, PBProblem(es, poreflux.salt("KCl", 100.0)), solver="direct").solve()
out["sphere2d_energy"] = sol.energy_kT
out["sphere2d_ionic"] = sol.ionic_charge()
prof = sol.axial_profile(np.linspace(-5.5, 5.5, 12))
out["sphere2d_profile"] = prof["potential"].tolist()

# 2. the default channel with a charged membrane wall (2D axisymmetric)
cm = build_channel(default_channel(), dim=2)
perm = {r: (2.0 if r in (names.MEMBRANE, names.PROTEIN) else 78.5) for r in cm.regions}
es = Electrostatics(
    T,
    perm,
    surface_charges=[SurfaceCharge(names.MEMBRANE_WALL, -0.1)],
    dirichlet=[DirichletPotential(names.TOP, 0.0), DirichletPotential(names.BOTTOM, 0.0)],
)
sol = PBSolver(cm, PBProblem(es, poreflux.salt("KCl", 150.0)), solver="direct").solve()
out["channel2d_energy"] = sol.energy_kT
out["channel2d_ionic_pore"] = sol.ionic_charge(names.PORE)
out["channel2d_profile"] = sol.axial_profile(np.linspace(-10, 10, 9))["K+"].tolist()

# 3. 3D sphere, linear PB, iterative solver (CG + GAMG) forced
cm = build_sphere(SphereGeometry(radius=1.0, outer_radius=4.0, h_surface=0.3, h_far=1.0), dim=3)
es = Electrostatics(
    T,
    {names.SOLUTE: 2.0, names.SOLVENT: 78.54},
    surface_charges=[SurfaceCharge(names.SOLUTE_SURFACE, 0.05)],
    dirichlet=[DirichletPotential(names.OUTER, 0.0)],
)
sol = PBSolver(
    cm, PBProblem(es, poreflux.salt("KCl", 100.0), model="linear"), solver="iterative"
).solve()
out["sphere3d_energy"] = sol.energy_kT

ref = comm.bcast(out, root=0)
for key, value in out.items():
    if key != "size" and not np.allclose(value, ref[key], rtol=0, atol=0):
        print(f"rank {comm.rank}: {key} differs from rank 0", file=sys.stderr)
        comm.Abort(1)
if comm.rank == 0:
    print(json.dumps(out))
