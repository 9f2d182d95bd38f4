"""PNP-Stokes flow rate and currents are the same on 1 and 2 MPI ranks (to 1e-6 relative)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from conftest import run_mpi

SCRIPT = Path(__file__).parent / "mpi_scripts" / "pnp_stokes_flow.py"


def _run(n: int) -> dict:
    lines = [ln for ln in run_mpi(SCRIPT, nprocs=n).splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


def test_flow_independent_of_ranks():
    one, two = _run(1), _run(2)
    assert two["size"] == 2
    for key in ("flow_rate", "current", "convective"):
        a, b = np.array(one[key]), np.array(two[key])
        assert np.allclose(a, b, rtol=1e-6, atol=1e-6 * np.max(np.abs(a))), (key, a, b)
    assert one["flow_rate"][0] > 0  # the pressure and the electro-osmosis push top -> bottom
