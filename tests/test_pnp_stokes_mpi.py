"""PNP-Stokes flow rate and currents are the same on 1 and 2 MPI ranks (to 1e-6 relative), with
the monolithic and with the segregated coupling (which agree to 1e-6 on both)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
from conftest import run_mpi
from mpi4py import MPI

SCRIPT = Path(__file__).parent / "mpi_scripts" / "pnp_stokes_flow.py"


def _serial() -> dict:
    spec = importlib.util.spec_from_file_location("pnp_stokes_flow", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.measure(MPI.COMM_SELF)


def test_flow_independent_of_ranks():
    lines = [ln for ln in run_mpi(SCRIPT, nprocs=2).splitlines() if ln.startswith("{")]
    one, two = _serial(), json.loads(lines[-1])
    assert two["size"] == 2 and one["size"] == 1
    for key in ("flow_rate", "current", "convective", "segregated"):
        a, b = np.array(one[key]), np.array(two[key])
        assert np.allclose(a, b, rtol=1e-6, atol=1e-6 * np.max(np.abs(a))), (key, a, b)
    assert one["flow_rate"][0] > 0  # the pressure and the electro-osmosis push top -> bottom
    for run in (one, two):  # the two couplings converge to the same discrete solution
        np.testing.assert_allclose(run["segregated"], run["monolithic"], rtol=1e-6)
