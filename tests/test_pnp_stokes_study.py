"""Study files with flow: ``[conditions] flow = true`` and a ``pressure_difference_Pa`` axis.

A charged cylindrical pore at 0 V under +-1e5 Pa: the streaming current and the flow rate are
odd in the pressure difference (to 1e-6 of their size: linear response plus the quadratic terms
a symmetric pore does not have), the flow runs top -> bottom for p_top > p_bottom, and the
counter-ions (K+ at a negative wall) carry a positive streaming current. Without ``flow = true``
a pressure difference is an input error naming the key.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import pnp.results  # noqa: F401  (h5py before DOLFINx's PETSc bindings, see pnp.results)
from pnp.studies import run_study
from pnp.studies.config import parse_study
from poreflux.errors import InputError

STUDY = """
[geometry]
kind = "cylinder"
dim = 2
radius_nm = 1.0
thickness_nm = 4.0
bath_radius_nm = 6.0
bath_height_nm = 6.0
h_pore_nm = 0.25
h_bath_nm = 2.0

[electrolyte]
salt = "KCl"
concentration_mM = 100

[conditions]
voltage_mV = 0
surface_charge_C_per_m2 = -0.05
{flow}
pressure_difference_Pa = [-1e5, 0, 1e5]

[output]
plots = false
diagnostics = false
"""


def _study(flow: str):
    import tomllib

    return parse_study(tomllib.loads(textwrap.dedent(STUDY.format(flow=flow))))


def test_streaming_current_study(tmp_path):
    study = _study("flow = true")
    result = run_study(study.model, study.grid, tmp_path / "streaming", progress=False)
    table = result.table
    assert set(table.column("status")) == {"ok"}
    p = table.column("pressure_difference_Pa")
    q = table.column("flow_rate_nm3_per_ns")
    i = table.column("current_pA")
    order = np.argsort(p)
    p, q, i = p[order], q[order], i[order]
    assert q[2] > 0 and i[2] > 0
    assert abs(q[1]) < 1e-10 and abs(i[1]) < 1e-9
    assert abs(q[0] + q[2]) < 1e-6 * q[2] and abs(i[0] + i[2]) < 1e-6 * i[2]


def test_pressure_needs_flow():
    with pytest.raises(InputError, match="pressure_difference_Pa"):
        _study("flow = false")
