"""Write a known P1 field on a unit square from every rank (tests/test_fields_io.py compares the
gathered file with a serial run). Usage: mpiexec -n 2 python fields_h5.py OUT.h5"""

from __future__ import annotations

import sys

from meshes import backend as _backend  # noqa: F401  (must precede any dolfinx import)


def main(out: str) -> None:
    import dolfinx
    from mpi4py import MPI

    from pnp.results.io import write_fields_h5

    msh = dolfinx.mesh.create_unit_square(MPI.COMM_WORLD, 7, 5)
    V = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    u = dolfinx.fem.Function(V)
    u.interpolate(lambda x: 1.0 + 2.0 * x[0] - 3.0 * x[1] + 5.0 * x[0] * x[1])
    write_fields_h5(out, {"domain": {"f_mV": (u, "mV")}}, {"ranks": MPI.COMM_WORLD.size})


main(sys.argv[1])
