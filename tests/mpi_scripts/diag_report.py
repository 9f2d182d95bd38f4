"""A small charged-narrow-pore case for the solution-level diagnostics (serial and MPI).

Geometry (2D axisymmetric, nm): r in [0, 4], z in [-6, 6]; "pore" is r <= 1, |z| <= 2; "membrane"
is r > 1, |z| <= 2 (eps_r 2, no ions); "bath" is |z| > 2. The concentrations stand in for a PB
solution of a pore with a negative wall: a Boltzmann counter-ion excess with psi = -2 kT/e in the
pore core (|z| <= 1.5), ramping linearly to 0 at the pore ends: c_K = c_b exp(-psi),
c_Cl = c_b exp(psi), c_b = 150 mM (P1 fields).

Run under mpiexec: every rank prints ``RANK <r> <report JSON>``.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from meshes import backend as _backend  # noqa: F401  (must precede any dolfinx import)

C_BULK = 150.0
PSI_PORE = -2.0
R_PORE = 1.0
HALF_LENGTH = 2.0
EPS_WATER = 78.46
EPS_MEMBRANE = 2.0
TEMPERATURE = 298.15
REGIONS = {"bath": 1, "pore": 2, "membrane": 3}


def psi(x: np.ndarray) -> np.ndarray:
    """Potential [kT/e] of the stand-in solution at points ``x`` (rows r, z)."""
    z = np.abs(x[1])
    ramp = np.clip((HALF_LENGTH - z) / 0.5, 0.0, 1.0)
    return PSI_PORE * ramp * (x[0] <= R_PORE + 1e-12)


def build_case(comm, nr: int = 16, nz: int = 48):
    """Mesh, tags and fields of the case; returns a ``SolutionFields``."""
    from dolfinx import fem, mesh

    from pnp.diagnostics import AxialProfile, DiagnosticInputs, SolutionFields
    from poreflux import salt

    msh = mesh.create_rectangle(comm, [[0.0, -6.0], [4.0, 6.0]], [nr, nz])
    tdim = msh.topology.dim
    msh.topology.create_entities(tdim)
    n_local = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    cells = np.arange(n_local, dtype=np.int32)
    mid = mesh.compute_midpoints(msh, tdim, cells)
    values = np.full(n_local, REGIONS["bath"], dtype=np.int32)
    inside = np.abs(mid[:, 1]) <= HALF_LENGTH
    values[inside & (mid[:, 0] <= R_PORE)] = REGIONS["pore"]
    values[inside & (mid[:, 0] > R_PORE)] = REGIONS["membrane"]
    tags = mesh.meshtags(msh, tdim, cells, values)

    V = fem.functionspace(msh, ("Lagrange", 1))
    c_k = fem.Function(V, name="K+")
    c_cl = fem.Function(V, name="Cl-")
    c_k.interpolate(lambda x: C_BULK * np.exp(-psi(x)))
    c_cl.interpolate(lambda x: C_BULK * np.exp(psi(x)))

    z = np.linspace(-6.0, 6.0, 121)
    radius = np.where(np.abs(z) <= HALF_LENGTH, R_PORE, 4.0)
    profile = AxialProfile.from_spans(
        z,
        radius,
        [
            ("bath", -6, -HALF_LENGTH - 1e-9),
            ("pore", -HALF_LENGTH, HALF_LENGTH),
            ("bath", HALF_LENGTH + 1e-9, 6),
        ],
    )
    inputs = DiagnosticInputs(salt("KCl", C_BULK), TEMPERATURE, EPS_WATER, profile)
    return SolutionFields(
        inputs,
        msh,
        tags,
        REGIONS,
        {"K+": c_k, "Cl-": c_cl},
        {"bath": EPS_WATER, "pore": EPS_WATER, "membrane": EPS_MEMBRANE},
        axisymmetric=True,
        ion_regions=("bath", "pore"),
    )


def main() -> None:
    from mpi4py import MPI

    from pnp.diagnostics import diagnose

    report = diagnose(build_case(MPI.COMM_WORLD))
    text = json.dumps({"dict": report.to_dict(), "str": str(report)}, sort_keys=True)
    sys.stdout.write(f"RANK {MPI.COMM_WORLD.rank} {text}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
