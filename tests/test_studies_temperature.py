"""Temperature axes of a study: ionic conductance follows D(T)/T (Stokes-Einstein: 1/eta(T))."""

from __future__ import annotations

import pytest

from pnp.errors import InputError
from pnp.species import water_viscosity
from pnp.studies import ChannelPNPModel, ParameterGrid, run_study

GEOMETRY = {"radius_nm": 1.0, "thickness_nm": 5.0, "h_pore_nm": 0.25, "h_bath_nm": 2.5}


def conductances(tmp_path, diffusion_model: str) -> dict[float, float]:
    model = ChannelPNPModel(
        "cylinder", GEOMETRY, concentration_mM=1000.0, voltage_mV=10.0,
        diffusion_model=diffusion_model, diagnostics=False,
    )  # fmt: skip
    grid = ParameterGrid({"temperature_K": [298.15, 310.15]})
    table = run_study(model, grid, tmp_path / diffusion_model, progress=False).table
    return dict(zip(table.column("temperature_K"), table.column("conductance_pS"), strict=True))


def test_conductance_follows_water_viscosity(tmp_path):
    # uncharged pore at 1 M (Ohmic limit): G ~ kappa ~ sum z^2 D c / kT; geometry cancels in the
    # ratio. Stokes-Einstein D ~ T/eta gives G ~ 1/eta; fixed D gives G ~ 1/T.
    se = conductances(tmp_path, "stokes-einstein")
    expected = water_viscosity(298.15) / water_viscosity(310.15)  # 1.29
    assert se[310.15] / se[298.15] == pytest.approx(expected, rel=5e-3)
    fixed = conductances(tmp_path, "fixed")
    assert fixed[310.15] / fixed[298.15] == pytest.approx(298.15 / 310.15, rel=5e-3)
    assert se[298.15] == pytest.approx(fixed[298.15], rel=1e-9)


def test_unknown_diffusion_model_is_rejected():
    with pytest.raises(InputError, match="diffusion_model must be one of"):
        ChannelPNPModel("cylinder", GEOMETRY, diffusion_model="arrhenius")
