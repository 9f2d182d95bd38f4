"""The same PB solves in serial and under ``mpiexec -n 2`` give the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_mpi

SCRIPT = Path(__file__).parent / "mpi_scripts" / "pb_energy.py"


def _run(n: int) -> dict:
    lines = [ln for ln in run_mpi(SCRIPT, nprocs=n).splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


@pytest.mark.mpi
def test_pb_energies_independent_of_rank_count():
    serial, parallel = _run(1), _run(2)
    assert parallel["size"] == 2
    for key in ("sphere2d_energy", "sphere2d_ionic", "channel2d_energy", "channel2d_ionic_pore"):
        assert parallel[key] == pytest.approx(serial[key], rel=1e-8), key
    # CG + GAMG converged to 1e-9 per Newton step, Newton to 1e-10: energies agree closely
    assert parallel["sphere3d_energy"] == pytest.approx(serial["sphere3d_energy"], rel=1e-8)
    for key in ("sphere2d_profile", "channel2d_profile"):
        np.testing.assert_allclose(parallel[key], serial[key], rtol=1e-7, atol=1e-9)
        assert np.all(np.isfinite(serial[key]))
