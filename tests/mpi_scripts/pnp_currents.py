"""PNP currents that must not depend on the number of MPI ranks (run by test_pnp_mpi.py).

Prints one JSON line (rank 0): end currents per species, a cross-section current, a profile
value and the I-V of a warm-started sweep; 2D (MUMPS) and 3D (both Krylov solvers: the
electrochemical-potential preconditioner and the field split); the largest relative difference
between the Jacobian blocks assembled through DOLFINx's CSR matrix and through PETSc.
"""

from __future__ import annotations

import json

from mpi4py import MPI

import poreflux
from meshes.channel import build_channel, default_channel
from pnp.problems.transport import channel_problem
from pnp.results import currents
from pnp.solvers.csr_assembly import CSRAssembler
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver

comm = MPI.COMM_WORLD
out: dict = {"size": comm.size}


def csr_block_difference(newton) -> float:
    """Largest ``|A_csr - A_petsc|_F / |A_petsc|_F`` over the blocks of a nest Jacobian: the
    CSR/COO assembly against DOLFINx's per-element PETSc assembly at the current iterate."""
    import dolfinx.fem.petsc  # after the pnp imports (they prepare the DOLFINx bindings)
    from petsc4py import PETSc

    different = PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN
    worst = 0.0
    for row in newton.problem.J:
        for form in row:
            if form is None:
                continue
            ref = dolfinx.fem.petsc.assemble_matrix(form, bcs=newton._bcs, diag=1.0)
            ref.assemble()
            asm = CSRAssembler(form)
            diff = ref.copy()
            diff.axpy(-1.0, asm.assemble(newton._bcs), structure=different)
            norm = ref.norm()
            if norm > 0:
                worst = max(worst, diff.norm() / norm)
            for m in (ref, diff):
                m.destroy()
            asm.destroy()
    return worst


cm = build_channel(default_channel(h_pore=0.1, h_bath=1.0), 2)
problem = channel_problem(cm, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1)
solver = SteadyPNPSolver(cm, problem)
sol = solver.solve()
out["2d_top"] = list(sol.species_currents_top)
out["2d_bottom"] = list(sol.species_currents_bottom)
out["2d_section"] = currents.cross_section(sol, 0.0).current
out["2d_profile_K"] = float(currents.axial_profiles(sol, [0.0])["K+"][0])
iv = currents.iv_curve(solver, [-50.0, 0.0, 50.0])
out["2d_iv"] = [float(i) for i in iv.currents]

cm3 = build_channel(default_channel(h_pore=0.3, h_bath=3.0), 3)
problem3 = channel_problem(cm3, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1)
for name in ("krylov", "fieldsplit"):
    solver3 = SteadyPNPSolver(cm3, problem3, SolverOptions(linear_solver=name))
    sol3 = solver3.solve()
    out[f"3d_top_{name}"] = list(sol3.species_currents_top)
    out[f"3d_bottom_{name}"] = list(sol3.species_currents_bottom)
    if name == "krylov":
        out["3d_csr_block_difference"] = csr_block_difference(solver3.newton)
    solver3.close()

if comm.rank == 0:
    print(json.dumps(out))
