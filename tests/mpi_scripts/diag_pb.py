"""PB solution of a charged narrow cylindrical pore, diagnosed (serial and under mpiexec).

Pore radius 0.6 nm through a 3 nm membrane (eps_r 2), 4 nm baths, 150 mM KCl, wall charge
-0.1 C/m^2 on the membrane wall; nonlinear PB. Every rank prints ``RANK <r> <report JSON>``.
"""

from __future__ import annotations

import json
import sys

from meshes import backend as _backend  # noqa: F401  (must precede any dolfinx import)

SIGMA = -0.1
RADIUS = 0.6
TEMPERATURE = 298.15
EPS = {"bath": 78.46, "pore": 78.46, "membrane": 2.0}


def geometry():
    from meshes.channel import cylindrical_pore

    return cylindrical_pore(
        radius=RADIUS, thickness=3.0, bath_radius=4.0, bath_height=4.0, h_pore=0.1, h_bath=0.8
    )


def solve(comm):
    """Channel mesh, PB problem and solution."""
    from meshes.channel import build_channel
    from pnp.problems.electrostatics import Electrostatics, PBProblem, SurfaceCharge
    from pnp.solvers.pb import PBSolver
    from poreflux import salt

    cm = build_channel(geometry(), dim=2, comm=comm)
    es = Electrostatics(TEMPERATURE, EPS, surface_charges=[SurfaceCharge("membrane_wall", SIGMA)])
    problem = PBProblem(es, salt("KCl", 150.0))
    return cm, problem, PBSolver(cm, problem).solve()


def main() -> None:
    from mpi4py import MPI

    from pnp.diagnostics import diagnose

    _, _, solution = solve(MPI.COMM_WORLD)
    report = diagnose(solution)
    text = json.dumps({"dict": report.to_dict(), "str": str(report)}, sort_keys=True)
    sys.stdout.write(f"RANK {MPI.COMM_WORLD.rank} {text}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
