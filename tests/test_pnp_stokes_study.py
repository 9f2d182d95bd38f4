"""Study files with flow: ``[conditions] flow = true`` and a ``pressure_difference_Pa`` axis.

A charged cylindrical pore at 0 V under +-1e5 Pa: the streaming current and the flow rate are
odd in the pressure difference (to 1e-6 of their size: linear response plus the quadratic terms
a symmetric pore does not have), the flow runs top -> bottom for p_top > p_bottom, and the
counter-ions (K+ at a negative wall) carry a positive streaming current. Without ``flow = true``
a pressure difference is an input error naming the key.

The field file of the +1e5 Pa point holds the velocity and the pressure: the pressure drop along
the axis from end to end is the applied 1e5 Pa (2 %, measured 0.04 %: the ends impose the normal
stress, not the nodal pressure), and the flow rate integrated from the stored axial velocity over
the mid-pore cross-section is the table's (3 %, measured 1.3 %: the file holds the P2 velocity
at the P1 nodes, linear in between).
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
fields = "vtx"
"""


def _study(flow: str):
    import tomllib

    return parse_study(tomllib.loads(textwrap.dedent(STUDY.format(flow=flow))))


def test_streaming_current_study(tmp_path):
    study = _study("flow = true")
    out = tmp_path / "streaming"
    result = run_study(study.model, study.grid, out, progress=False, fields=study.fields)
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
    _check_flow_fields(out, q[2])


def _check_flow_fields(out, q_table):
    from pnp.results import read_fields

    files = sorted((out / "fields").glob("*.h5"))
    assert len(files) == 3
    # the +1e5 Pa point: the one whose top end has the higher pressure
    (f,) = [f for f in map(read_fields, files) if _end_drop(f) > 5e4]
    assert f.units["velocity_z_nm_per_ns"] == "nm/ns" and f.units["pressure_Pa"] == "Pa"
    assert f.mesh_of["velocity_r_nm_per_ns"] == f.mesh_of["K+_mM"]
    assert abs(_end_drop(f) / 1e5 - 1) < 0.02, _end_drop(f)
    r = np.linspace(0.0, 1.0, 401)
    uz = f.sample("velocity_z_nm_per_ns", np.column_stack([r, np.zeros_like(r)]))
    uz = np.nan_to_num(uz)  # (a point on the wall may fall outside by round-off: u = 0 there)
    q_file = -np.trapezoid(2 * np.pi * r * uz, r)  # positive top -> bottom (u_z < 0)
    assert abs(q_file / q_table - 1) < 0.03, (q_file, q_table)


def _end_drop(f):
    z = f.points("pressure_Pa")[:, 1]
    _, p = f.sample_line("pressure_Pa", (0.0, z.min()), (0.0, z.max()), 3)
    return p[-1] - p[0]


def test_pressure_needs_flow():
    with pytest.raises(InputError, match="pressure_difference_Pa"):
        _study("flow = false")
