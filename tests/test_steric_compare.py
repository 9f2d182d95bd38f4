"""compare_models (pnp.results.model_comparison): one channel, every ion model.

- occupancy of an uncharged pore at 0 V (point ions) = c_b N_A pi R^2 L (R = 1 nm, L = 5 nm of
  the default channel) within 1%;
- a -0.3 C/m^2 pore in 1 M KCl: point ions exceed close packing 1/(N_A a^3), the steric models do
  not; the pore holds fewer K+ with finite sizes; the pore is cation selective (t+ > 0.5) in
  every model; the table names every model.
"""

from __future__ import annotations

import math

import pytest

import poreflux
from meshes.channel import build_channel, default_channel
from pnp.results.model_comparison import compare_models
from poreflux.errors import InputError
from poreflux.units import N_A, NM

SIZE = 0.7


@pytest.fixture(scope="module")
def coarse():
    return build_channel(default_channel(h_pore=0.1, h_bath=1.0), 2)


def test_neutral_pore_occupancy_is_bulk_times_volume(coarse):
    out = compare_models(coarse, poreflux.salt("KCl", 500.0), voltages=(0.0,), models=("point",))
    expected = 500.0 * 1e-3 * 1e3 * N_A * NM**3 * math.pi * 1.0**2 * 5.0  # mol/m^3 -> per nm^3
    for name in ("K+", "Cl-"):
        assert abs(out.rows[0].occupancy[name] / expected - 1) < 0.01, out.rows[0].occupancy


def test_models_on_a_crowded_pore(coarse):
    out = compare_models(
        coarse, poreflux.salt("KCl", 1000.0), voltages=(100.0,), surface_charge=-0.3,
        ion_size=SIZE, correlation_length=0.5,
    )  # fmt: skip
    close_packing_mM = 1.0 / (N_A * (SIZE * NM) ** 3)
    point, steric = out.row("point", 100.0), out.row("steric", 100.0)
    bsk = out.row("steric+correlations", 100.0)
    assert point.max_concentration_mM > close_packing_mM
    assert steric.max_concentration_mM < close_packing_mM
    assert bsk.max_concentration_mM < close_packing_mM
    assert steric.occupancy["K+"] < point.occupancy["K+"]
    assert steric.current_pA < 0.9 * point.current_pA  # measured 1365 vs 1806 pA
    for row in (point, steric, bsk):
        assert row.cation_fraction > 0.5 and row.current_pA > 0
    text = out.table()
    assert all(m in text for m in ("point", "steric", "steric+correlations"))
    print(text)
    with pytest.raises(InputError, match="ion_model"):
        compare_models(coarse, poreflux.salt("KCl", 100.0), models=("dft",))


def test_diagnostics_advice_names_models_that_exist():
    """The finite-size and correlation advice name an ion_model of poreflux (not one outside)."""
    import re

    from pnp.diagnostics.findings import ADVICE, CORRELATIONS, FINITE_SIZE
    from pnp.problems.ion_model import ION_MODELS

    for key, model in ((FINITE_SIZE, "steric"), (CORRELATIONS, "steric+correlations")):
        assert re.findall(r'ion_model = "([^"]+)"', ADVICE[key]) == [model]
        assert model in ION_MODELS
