"""A study is validated completely before any mesh is built: temperatures against the water
models, voltages against one bound, charged walls against the geometry, a user .msh against the
physical groups a PNP study needs; every refusal names the file, section and key."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
from study_cases import write_cylinder_msh

from pnp.studies import ChannelPNPModel, ParameterGrid, run_study
from pnp.studies.checks import StudyInputError
from pnp.studies.config import MAX_VOLTAGE_MV, load_study
from poreflux.errors import InputError

BASE = """
[geometry]
kind = "default"
h_pore_nm = 0.2
h_bath_nm = 2.0

[electrolyte]
salt = "KCl"
concentration_mM = 100

[conditions]
voltage_mV = [-50, 50]
"""


@pytest.fixture
def no_solving(monkeypatch):
    """Any mesh build, mesh load or solver construction fails the test."""
    import meshes.channel
    import meshes.io
    import pnp.solvers.steady

    def forbidden(*args, **kwargs):
        raise AssertionError("a mesh or solver was built before the input was validated")

    monkeypatch.setattr(meshes.channel, "build_channel", forbidden)
    monkeypatch.setattr(meshes.io, "load_msh", forbidden)
    monkeypatch.setattr(pnp.solvers.steady, "SteadyPNPSolver", forbidden)


def study(tmp_path: Path, *, electrolyte: str = "", conditions: str = "", geometry: str = "",
          base: str = BASE) -> Path:  # fmt: skip
    text = textwrap.dedent(base)
    for section, extra in (("electrolyte", electrolyte), ("conditions", conditions),
                           ("geometry", geometry)):  # fmt: skip
        head = f"[{section}]\n"
        text = text.replace(head, f"{head}{extra}\n" if extra else head)
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


def refused(path: Path, *pieces: str) -> str:
    with pytest.raises(InputError) as info:
        load_study(path)
    message = str(info.value)
    assert str(path) in message
    for piece in pieces:
        assert piece in message, message
    return message


# ---------------------------------------------------------------------------------- temperature
@pytest.mark.parametrize("temperature", ["400", "[298.15, 400]", "250"])
def test_temperature_outside_liquid_water_is_refused_at_load_time(tmp_path, no_solving,
                                                                  temperature):  # fmt: skip
    path = study(tmp_path, conditions=f"temperature_K = {temperature}")
    refused(path, "[conditions] temperature_K", "liquid water", "273.15-373.15 K")


def test_one_temperature_dependent_water_model_is_enough(tmp_path, no_solving):
    for model in ('diffusion_model = "fixed"', 'permittivity_model = "fixed"'):
        path = study(tmp_path, electrolyte=model, conditions="temperature_K = 400")
        refused(path, "[conditions] temperature_K", "400")


def test_fixed_water_models_take_any_positive_temperature(tmp_path, no_solving):
    fixed = 'diffusion_model = "fixed"\npermittivity_model = "fixed"'
    loaded = load_study(study(tmp_path, electrolyte=fixed, conditions="temperature_K = 400"))
    assert loaded.model.temperature_K == 400.0
    refused(study(tmp_path, electrolyte=fixed, conditions="temperature_K = -5"),
            "[conditions] temperature_K", "> 0 K")  # fmt: skip


def test_python_model_check_names_the_temperature():
    model = ChannelPNPModel("default", {"h_pore_nm": 0.2, "h_bath_nm": 2.0})
    with pytest.raises(StudyInputError) as info:
        model.check(ParameterGrid({"temperature_K": [300.0, 380.0]}))
    assert info.value.key == "temperature_K" and "380" in str(info.value)


# -------------------------------------------------------------------------------------- voltage
def test_voltage_bound(tmp_path, no_solving):
    assert MAX_VOLTAGE_MV == 5000.0
    assert load_study(study(tmp_path, base=BASE.replace("[-50, 50]", "[-5000, 5000]")))
    path = study(tmp_path, base=BASE.replace("[-50, 50]", "[-50, 6000]"))
    refused(path, "[conditions] voltage_mV", "6000", "+-5000 mV")


# ---------------------------------------------------------------------------------------- walls
def test_protein_wall_on_a_pore_without_lining_is_refused(tmp_path, no_solving):
    walls = 'charged_walls = ["protein_wall"]\nsurface_charge_C_per_m2 = -0.05'
    path = study(tmp_path, conditions=walls, geometry="protein_thickness_nm = [0.5, 0.0]")
    refused(path, "[conditions] charged_walls", "'protein_wall'", "protein_thickness_nm=0")
    cylinder = study(tmp_path, conditions=walls).read_text().replace('"default"', '"cylinder"')
    path.write_text(cylinder)
    refused(path, "[conditions] charged_walls", "'cylinder'", "['membrane_wall']")


def test_default_walls_follow_the_geometry(tmp_path, no_solving):
    # no charged_walls: every wall the geometry has (the cylinder has no protein lining)
    path = study(tmp_path, conditions="surface_charge_C_per_m2 = -0.05")
    path.write_text(path.read_text().replace('"default"', '"cylinder"'))
    assert load_study(path).model.walls is None


@pytest.mark.parametrize("walls", ['["top"]', '["membrane_wall", "outer"]', "[]"])
def test_walls_that_cannot_carry_charge_are_refused(tmp_path, no_solving, walls):
    path = study(tmp_path, conditions=f"charged_walls = {walls}")
    refused(path, "[conditions] charged_walls", "cannot carry the surface charge")


# -------------------------------------------------------------------------------- user .msh files
MSH = """
[geometry]
kind = "msh"
file = "pore.msh"

[electrolyte]
salt = "KCl"
concentration_mM = 1000

[conditions]
voltage_mV = 10
"""


def msh_study(tmp_path: Path, conditions: str = "", **mesh) -> Path:
    write_cylinder_msh(tmp_path / "pore.msh", **mesh)
    return study(tmp_path, conditions=conditions, base=MSH)


def test_good_msh_study_resolves_the_file_next_to_the_study(tmp_path, no_solving):
    loaded = load_study(msh_study(tmp_path, "surface_charge_C_per_m2 = -0.01"))
    assert Path(loaded.model.mesh_file) == tmp_path / "pore.msh"
    assert loaded.grid.names == ("voltage_mV",)


@pytest.mark.parametrize(
    ("mesh", "pieces"),
    [
        ({"ends": ("upper", "bottom")}, ["no boundaries ['top']", "'upper'"]),
        ({"ends": ("upper", "lower")}, ["no boundaries ['top', 'bottom']"]),
        ({"region": "water"}, ["no water region", "['water'] without a permittivity"]),
        ({"named": False}, ["no named physical groups"]),
    ],
)
def test_msh_without_the_needed_groups_is_refused(tmp_path, no_solving, mesh, pieces):
    path = msh_study(tmp_path, **mesh)
    refused(path, "[geometry] file", "pore.msh", *pieces)


def test_msh_dimension_wall_and_missing_file(tmp_path, no_solving):
    path = msh_study(tmp_path)
    path.write_text(path.read_text().replace('file = "pore.msh"', 'file = "pore.msh"\ndim = 3'))
    refused(path, "[geometry] file", "2D cells", "dim = 3")
    path = msh_study(tmp_path, 'charged_walls = ["protein_wall"]')
    refused(path, "[conditions] charged_walls", "'protein_wall'", "'membrane_wall'")
    # default walls, a surface charge, and no membrane_wall/protein_wall in the file
    path = msh_study(tmp_path, "surface_charge_C_per_m2 = -0.01", wall="outer")
    refused(path, "[conditions] charged_walls", "not boundaries of the mesh file")
    path.write_text(path.read_text().replace("pore.msh", "nowhere.msh"))
    refused(path, "[geometry] file", "nowhere.msh", "does not exist")
    (tmp_path / "pore.msh").write_text("hello\n")
    path.write_text(path.read_text().replace("nowhere.msh", "pore.msh"))
    refused(path, "[geometry] file", "not a gmsh .msh file")


def test_msh_study_solves_the_ohmic_cylinder(tmp_path):
    """An uncharged water cylinder between its two ends (no access resistance) is an exact
    Ohmic resistor: G = kappa pi a^2 / L with the bulk conductivity
    kappa = (e^2 N_A / kT) sum_i z_i^2 D_i c_i; the P1 solution is exact for the linear
    potential, so the tolerance is the solver's (1e-6)."""
    from poreflux.species import salt
    from poreflux.units import E_CHARGE, N_A, kT_joule

    radius, length, conc = 1.0, 4.0, 1000.0
    write_cylinder_msh(tmp_path / "pore.msh", radius, length)
    model = ChannelPNPModel("msh", mesh_file=tmp_path / "pore.msh", concentration_mM=conc,
                            diagnostics=False)  # fmt: skip
    grid = ParameterGrid({"voltage_mV": [-10.0, 10.0]})
    table = run_study(model, grid, tmp_path / "out", progress=False).table
    kappa = E_CHARGE**2 * N_A / kT_joule(298.15) * sum(
        s.valence**2 * s.diffusion * 1e-9 * conc for s in salt("KCl", conc).species
    )  # S/m, D in nm^2/ns = 1e-9 m^2/s, c in mM = mol/m^3
    expected_pS = kappa * math.pi * (radius * 1e-9) ** 2 / (length * 1e-9) * 1e12
    assert table.column("conductance_pS") == pytest.approx([expected_pS] * 2, rel=1e-6)


def test_study_errors_keep_their_key_between_ranks():
    import pickle

    err = pickle.loads(pickle.dumps(StudyInputError("temperature_K = 400 K ...", "temperature_K")))
    assert type(err) is StudyInputError and err.key == "temperature_K"
    assert str(err) == "temperature_K = 400 K ..."


def test_msh_study_definition_follows_the_file_content(tmp_path):
    path = write_cylinder_msh(tmp_path / "pore.msh")
    model = ChannelPNPModel("msh", mesh_file=path)
    first = model.definition()
    assert first["mesh_file_name"] == "pore.msh"
    write_cylinder_msh(path, nz=14)  # same name, another mesh
    assert model.definition()["mesh_file_sha256"] != first["mesh_file_sha256"]
    # generated geometries keep the definition (and study hash) they had before mesh files
    assert "mesh_file" not in ChannelPNPModel("default").definition()
