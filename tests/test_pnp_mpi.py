"""Currents are the same on 1 and 2 MPI ranks (to 1e-6 relative)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from conftest import run_mpi

SCRIPT = Path(__file__).parent / "mpi_scripts" / "pnp_currents.py"


def _run(n: int) -> dict:
    lines = [ln for ln in run_mpi(SCRIPT, nprocs=n).splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


def test_currents_independent_of_ranks():
    one, two = _run(1), _run(2)
    assert two["size"] == 2
    for key in (
        "2d_top",
        "2d_bottom",
        "2d_section",
        "2d_profile_K",
        "2d_iv",
        "3d_top_krylov",
        "3d_bottom_krylov",
        "3d_top_fieldsplit",
        "3d_bottom_fieldsplit",
    ):
        a, b = np.atleast_1d(one[key]), np.atleast_1d(two[key])
        scale = np.max(np.abs(a))
        assert np.allclose(a, b, rtol=1e-6, atol=1e-6 * scale), (key, a, b)
    # Jacobian blocks through DOLFINx's CSR matrix (COO hand-over) = per-element PETSc assembly
    # (same element matrices, ghost rows summed in another order)
    assert one["3d_csr_block_difference"] <= 1e-13
    assert two["3d_csr_block_difference"] <= 1e-13
    # the two Krylov solvers (different preconditioners) converge to the same solution
    for end in ("top", "bottom"):
        a = np.array(one[f"3d_{end}_krylov"])
        b = np.array(one[f"3d_{end}_fieldsplit"])
        assert np.allclose(a, b, rtol=1e-6, atol=1e-6 * np.max(np.abs(a))), (end, a, b)
