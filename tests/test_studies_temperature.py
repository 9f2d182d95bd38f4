"""Temperature axes of a study: ionic conductance follows D(T)/T (Stokes-Einstein: 1/eta(T));
the permittivity of the water regions follows eps_w(T) (Malmberg-Maryott)."""

from __future__ import annotations

import pytest

from pnp.problems.transport import DEFAULT_PERMITTIVITY
from pnp.studies import ChannelPNPModel, ParameterGrid, StudyPoint, run_study
from poreflux.errors import InputError
from poreflux.water import water_permittivity, water_viscosity

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


# ------------------------------------------------------------------ water permittivity eps(T)
# static permittivity of water as tabulated in the CRC Handbook (different measurements agree to
# ~0.2; the tolerance below is that spread, far tighter than a wrong coefficient would give)
MEASURED = {0.0: 87.90, 20.0: 80.20, 25.0: 78.36, 40.0: 73.17, 60.0: 66.73, 100.0: 55.51}


@pytest.mark.parametrize(("celsius", "eps"), sorted(MEASURED.items()))
def test_water_permittivity_matches_measurements(celsius, eps):
    assert water_permittivity(273.15 + celsius) == pytest.approx(eps, abs=0.25)


def test_water_permittivity_rejects_non_liquid_temperatures():
    for t in (250.0, 400.0):
        with pytest.raises(ValueError, match=r"273\.15-373\.15 K"):
            water_permittivity(t)
    with pytest.raises(ValueError, match="temperature must be finite"):
        water_permittivity(float("nan"))


def test_study_water_permittivity_follows_temperature():
    """Water regions scale with eps_w(T)/eps_w(25 degC); membrane stays; 'fixed' keeps all."""
    from meshes.channel import build_channel, cylindrical_pore

    cm = build_channel(cylindrical_pore(radius=1.0, thickness=5.0, h_pore=0.5, h_bath=3.0), 2)
    point = StudyPoint(0, {"temperature_K": 310.15})
    model = ChannelPNPModel("cylinder", GEOMETRY, permittivity={"bath": 80.0}, diagnostics=False)
    perm = model.problem(cm, point).electrostatics.permittivity
    ratio = water_permittivity(310.15) / water_permittivity(298.15)
    assert ratio == pytest.approx(74.15 / 78.30, rel=1e-3)
    assert perm["bath"] == pytest.approx(80.0 * ratio, rel=1e-12)
    assert perm["pore"] == pytest.approx(DEFAULT_PERMITTIVITY["pore"] * ratio, rel=1e-12)
    assert perm["membrane"] == pytest.approx(DEFAULT_PERMITTIVITY["membrane"], rel=1e-12)
    fixed = ChannelPNPModel("cylinder", GEOMETRY, permittivity_model="fixed", diagnostics=False)
    perm = fixed.problem(cm, point).electrostatics.permittivity
    assert perm["bath"] == pytest.approx(DEFAULT_PERMITTIVITY["bath"], rel=1e-12)
    with pytest.raises(InputError, match="permittivity_model must be one of"):
        ChannelPNPModel("cylinder", GEOMETRY, permittivity_model="debye")
