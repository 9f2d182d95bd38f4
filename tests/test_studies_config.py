"""Study TOML files and ``poreflux run``: strict schema, clear errors before any solve."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pnp.cli import main
from pnp.studies.config import load_study
from poreflux.errors import InputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

GOOD = """
[study]
name = "t"

[geometry]
kind = "cylinder"
radius_nm = [0.8, 1.0]
h_pore_nm = 0.2
h_bath_nm = 2.0

[electrolyte]
salt = "KCl"
concentration_mM = {start = 10, stop = 1000, num = 3, log = true}

[conditions]
voltage_mV = [-50, 0, 50]
surface_charge_C_per_m2 = -0.02
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def no_solving(monkeypatch):
    """Any mesh build or solver construction fails the test (errors must come first)."""
    import meshes.channel
    import pnp.solvers.steady

    def forbidden(*args, **kwargs):
        raise AssertionError("a mesh or solver was built before the input was validated")

    monkeypatch.setattr(meshes.channel, "build_channel", forbidden)
    monkeypatch.setattr(pnp.solvers.steady, "SteadyPNPSolver", forbidden)


def test_good_file_builds_the_grid(tmp_path, no_solving):
    study = load_study(_write(tmp_path, GOOD))
    assert study.name == "t"
    assert study.grid.names == ("radius_nm", "concentration_mM", "voltage_mV")
    assert study.grid.values("concentration_mM") == (10.0, 100.0, 1000.0)
    assert study.grid.size == 18
    assert study.model.surface_charge_C_per_m2 == -0.02
    assert study.model.geometry == {"h_pore_nm": 0.2, "h_bath_nm": 2.0}


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_examples_are_valid(name, no_solving):
    study = load_study(EXAMPLES / name)
    assert study.grid.size >= 1
    assert "voltage_mV" in study.grid.names


BAD = [
    # (replace this, with that, expected message pieces)
    ('salt = "KCl"', 'salt = "KCl"\ncolour = "red"', ["[electrolyte] colour", "allowed keys"]),
    ("[conditions]", "[extras]\nx = 1\n[conditions]", ["unknown section", "extras"]),
    ('kind = "cylinder"', 'kind = "cylinder"\nradius_top_nm = 2',
     ["[geometry] radius_top_nm", "'cylinder'"]),
    ("voltage_mV = [-50, 0, 50]", "voltage_mV = []", ["voltage_mV", "empty list"]),
    ("radius_nm = [0.8, 1.0]", "radius_nm = [0.8, 12.0]",
     ["impossible geometry", "radius_nm=12", "bath radius"]),
    ("h_pore_nm = 0.2", "h_pore_nm = 0.9", ["impossible geometry", "h_pore"]),
    ("concentration_mM = {start = 10, stop = 1000, num = 3, log = true}",
     "concentration_mM = [100, -5]", ["concentration", "> 0 mM"]),
    ("surface_charge_C_per_m2 = -0.02", "surface_charge_C_per_m2 = -20",
     ["surface charge", "unphysical"]),
    ('salt = "KCl"', 'salt = "KXy"', ["salt"]),
    ('kind = "cylinder"', 'kind = "torus"', ["[geometry] kind", "cylinder"]),
    ("voltage_mV = [-50, 0, 50]", 'voltage_mV = "fifty"', ["voltage_mV", "number"]),
    ('[study]\nname = "t"', '[study]\nname = "t"\n[solver]\nnewton_magic = 3',
     ["[solver] newton_magic", "allowed keys"]),
    ('[study]\nname = "t"', '[study]\nname = "t"\n[convergence]\nmesh_refinement = [1, 2]',
     ["mesh_refinement", ">= 3"]),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "pieces"), BAD)
def test_bad_input_names_file_and_key_before_any_solve(tmp_path, no_solving, old, new, pieces):
    text = textwrap.dedent(GOOD)
    assert old in text
    path = _write(tmp_path, text.replace(old, new))
    with pytest.raises(InputError) as info:
        load_study(path)
    message = str(info.value)
    assert str(path) in message
    for piece in pieces:
        assert piece in message, message


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="not valid TOML"):
        load_study(_write(tmp_path, "[study\nname = 1"))
    with pytest.raises(InputError, match="cannot read study file"):
        load_study(tmp_path / "nope.toml")


def test_cli_bad_input_exit_code_and_nothing_written(tmp_path, no_solving, capsys):
    path = _write(tmp_path, textwrap.dedent(GOOD).replace('salt = "KCl"', 'salt = "KCl"\nph = 7'))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "poreflux run: error:" in err and "[electrolyte] ph" in err
    assert not out.exists()


def test_cli_unwritable_output_before_any_solve(tmp_path, no_solving, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    path = _write(tmp_path, GOOD)
    assert main(["run", str(path), "--out", str(blocker / "out"), "--no-progress"]) == 2
    assert "not writable" in capsys.readouterr().err


def test_per_side_concentrations(tmp_path, no_solving):
    text = textwrap.dedent(GOOD).replace(
        "concentration_mM = {start = 10, stop = 1000, num = 3, log = true}",
        "concentration_top_mM = [10, 100]\nconcentration_bottom_mM = 10",
    )
    study = load_study(_write(tmp_path, text))
    assert "concentration_top_mM" in study.grid.names
    cond = study.model.conditions(study.grid.points()[-1])
    assert (cond["concentration_top_mM"], cond["concentration_bottom_mM"]) == (100.0, 10.0)
    one_side = textwrap.dedent(GOOD).replace(
        "concentration_mM = {start = 10, stop = 1000, num = 3, log = true}",
        "concentration_top_mM = [10, 100]",
    )
    with pytest.raises(InputError, match="give both concentration_top_mM and"):
        load_study(_write(tmp_path, one_side))


def test_schema_example_in_the_docstring_parses(no_solving):
    import tomllib

    import pnp.studies.config as config

    block = config.__doc__.split(".. code-block:: toml")[1]
    text = "\n".join(line[4:] for line in block.splitlines()[1:])
    study = config.parse_study(tomllib.loads(text), "<docstring>", "doc")
    assert study.grid.names == ("mesh_refinement", "voltage_mV") and study.is_convergence
    assert set(config.SCHEMA) == {
        "study", "geometry", "electrolyte", "conditions", "permittivity", "solver", "output",
        "convergence",
    }  # fmt: skip


def test_values_are_checked_once(tmp_path, monkeypatch, no_solving):
    """A study file is checked once where it is read; running the study does not check again
    (it used to run the model's check three times: reader, Study.check, run_study)."""
    from study_fakes import FakeModel

    from pnp.studies import ParameterGrid
    from pnp.studies.channel import ChannelPNPModel
    from pnp.studies.study import Study, run

    calls = []
    original = ChannelPNPModel.check
    monkeypatch.setattr(ChannelPNPModel, "check", lambda m, g: calls.append(1) or original(m, g))
    study = load_study(_write(tmp_path, GOOD))
    assert len(calls) == 1 and study.source == tmp_path / "study.toml"

    class Counting(FakeModel):
        checks = 0

        def check(self, grid):
            Counting.checks += 1
            super().check(grid)

    fake = Study(name="f", model=Counting(), grid=ParameterGrid({"voltage_mV": [0, 50]}),
                 output=tmp_path / "out", plots=False)  # fmt: skip
    assert Counting.checks == 1
    outcome = run(fake, progress=False)
    assert len(outcome.result.computed) == 2 and Counting.checks == 1
