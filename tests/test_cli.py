"""``poreflux --version``, ``poreflux show`` (table and plots of a finished study, no solving),
units in every CSV header, a printed table within 100 columns, labelled figures."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import poreflux
from pnp.cli import main
from pnp.studies import StudyStore
from pnp.studies.report import PRINT_WIDTH, short_name
from pnp.studies.table import StudyTable

#: The default channel study (`make demo`) on a coarse mesh with 3 voltages: the same model,
#: columns and diagnostics as the packaged study, plus profiles and fields.
TINY = """
[study]
name = "tiny_default"

[geometry]
kind = "default"
h_pore_nm = 0.2
h_bath_nm = 2.0

[electrolyte]
salt = "KCl"
concentration_mM = 150

[conditions]
voltage_mV = [-50, 0, 50]
surface_charge_C_per_m2 = -0.1
charged_walls = ["protein_wall"]

[output]
fields = "vtx"
profiles = true
profile_points = 8
"""

#: Unit suffixes of table columns, and the columns that carry no unit (labels, counts, ratios).
UNITS = ("_nm", "_nm2", "_mV", "_mM", "_pA", "_pS", "_K", "_s", "_C_per_m2")
NO_UNIT = {
    "id", "status", "error", "finished_at", "run_id", "warm_start_from", "newton_iterations",
    "linear_iterations", "newton_attempts", "num_dofs", "conservation_error", "mesh_refinement",
    "rectification_ratio", "group", "quantity", "unit", "fitted_order", "extrapolation_order",
    "relative_error",
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    """Run the tiny study once with `poreflux run`; returns (output folder, printed text)."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("cli")
    path = folder / "tiny.toml"
    path.write_text(textwrap.dedent(TINY))
    out = folder / "out"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    return out, buf.getvalue()


def _table_lines(text: str) -> list[str]:
    """The lines of the printed point table (header to the first blank line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("voltage_mV"))
    end = lines.index("", start)
    return lines[start:end]


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"poreflux {poreflux.__version__}"


def test_every_csv_header_has_units(tiny_study):
    out, _ = tiny_study
    csvs = sorted(out.rglob("*.csv"))
    names = {p.name for p in csvs}
    assert {"table.csv", "rectification.csv", "p00001.csv"} <= names
    for path in csvs:
        header = StudyTable.from_csv(path).columns
        for col in header:
            if col.startswith("diag_"):
                continue  # severities (labels)
            assert col in NO_UNIT or col.endswith(UNITS), f"{path.name}: {col!r} has no unit"
    profile = StudyTable.from_csv(out / "profiles" / "p00001.csv")
    assert {"z_nm", "potential_mV", "K+_mM", "Cl-_mM", "current_pA"} <= set(profile.columns)
    assert "current_pA" in StudyTable.from_csv(out / "table.csv").columns


def test_printed_table_fits_100_columns(tiny_study):
    out, text = tiny_study
    lines = _table_lines(text)
    assert max(map(len, lines)) <= PRINT_WIDTH
    header = lines[0].split()
    for col in ("voltage_mV", "current_pA", "conductance_pS", "current_K+_pA", "current_Cl-_pA",
                "diag_worst"):  # fmt: skip
        assert short_name(col) in header
    # the 0 mV row: the conductance is not defined
    zero = next(line.split() for line in lines[2:] if line.split()[0] == "0")
    assert zero[header.index("G_pS")] == "n/a"
    # the printed numbers are the stored ones (short header -> table.csv column)
    stored = StudyTable.from_csv(out / "table.csv")
    row = stored.rows[0]
    cells = lines[2].split()
    assert float(cells[header.index("I_pA")]) == pytest.approx(row["current_pA"], rel=1e-4)


def test_show_reprints_and_redraws_without_solving(tiny_study, monkeypatch, capsys):
    """`poreflux show` on the finished study: the same table, the deleted plots drawn again (no
    mesh, no solve); the redrawn figures' labels and titles say what they show."""
    import pnp.results.plots as plots
    import pnp.solvers.steady
    import pnp.studies.channel

    out, text = tiny_study

    def forbidden(*args, **kwargs):
        raise AssertionError("poreflux show must not mesh or solve")

    monkeypatch.setattr(pnp.solvers.steady.SteadyPNPSolver, "solve", forbidden)
    monkeypatch.setattr(pnp.solvers.steady.SteadyPNPSolver, "__init__", forbidden)
    monkeypatch.setattr(pnp.studies.channel.ChannelPNPModel, "build_mesh", forbidden)
    figures, save = {}, plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.setdefault(Path(path).name, fig)
                        and save(fig, path))  # fmt: skip
    store = StudyStore(out)
    before = sorted(p.name for p in store.plots_dir.glob("*.png"))
    assert {"iv.png", "profile_p00000.png"} <= set(before)
    for p in store.plots_dir.glob("*.png"):
        p.unlink()
    assert main(["show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert sorted(p.name for p in store.plots_dir.glob("*.png")) == before
    assert _table_lines(shown) == _table_lines(text)
    assert "3 of 3 points" in shown and "rectification" in shown
    assert main(["show", str(out / "points")]) == 2
    assert "not a study folder" in capsys.readouterr().err
    _check_labels(figures)


def _check_labels(figures: dict) -> None:
    """Axis labels, legends and titles read from the matplotlib Figure objects."""
    iv = figures["iv.png"].axes[0]
    assert iv.get_xlabel() == "applied voltage [mV]" and iv.get_ylabel() == "current [pA]"
    assert {t.get_text() for t in iv.get_legend().get_texts()} == {"total", "K+", "Cl-"}
    profile = figures["profile_p00002.png"]
    title = profile.axes[0].get_title()
    assert "tiny_default" in title and "p00002" in title and "voltage_mV=50" in title
    assert profile.axes[0].get_ylabel() == "potential [mV]"
    assert profile.axes[1].get_ylabel() == "concentration [mM]"
    assert {t.get_text() for t in profile.axes[1].get_legend().get_texts()} == {"K+", "Cl-"}


def test_convergence_plot_names_the_error(monkeypatch, tmp_path):
    """The y axis says: relative error, of which observable, against which reference."""
    import numpy as np

    import pnp.results.plots as plots
    from pnp.studies.refinement import convergence_table, mesh_convergence, plot_mesh_convergence

    rows = [{"id": f"p{k}", "status": "ok", "mesh_refinement": f, "voltage_mV": 50.0,
             "mesh_h_pore_nm": 0.4 / f, "current_pA": 100.0 * (1 - 0.3 * (0.4 / f) ** 2)}
            for k, f in enumerate((1.0, 2.0, 4.0))]  # fmt: skip
    conv = mesh_convergence(StudyTable.from_rows(rows), ("mesh_refinement", "voltage_mV"),
                            ("current_pA",))  # fmt: skip
    assert conv[0].order == pytest.approx(2.0, abs=1e-6)  # exact h^2 data
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig) or Path(path))
    plot_mesh_convergence(conv, tmp_path / "c.png")
    ax = figures[0].axes[0]
    assert re.search(r"relative error of current_pA", ax.get_ylabel())
    assert "Richardson" in ax.get_ylabel() and ax.get_xlabel() == "mesh size h [nm]"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), conv[0].relative_errors)
    # convergence.csv: value, error and extrapolated are in the row's unit column
    table = convergence_table(conv)
    assert {r["unit"] for r in table.rows} == {"pA"}
    for col in table.columns:
        assert col in NO_UNIT | {"value", "error", "extrapolated"} or col.endswith(UNITS), col


def test_study_field_file_reads_from_python(tiny_study):
    """fields/<id>.h5 next to the ParaView files: the bath ends hold the applied voltage
    (phi_top - phi_bottom = 50 mV) and the bath concentration (150 mM), read with h5py only."""
    import numpy as np

    from pnp.results import read_fields

    out, _ = tiny_study
    assert (out / "fields" / "p00002_potential.bp").is_dir()
    f = read_fields(out / "fields" / "p00002.h5")
    assert f.attrs["voltage_mV"] == 50.0 and f.attrs["coordinates"] == "r z"
    assert f.units["potential_mV"] == "mV" and f.units["K+_mM"] == "mM"
    z = f.points("potential_mV")[:, 1]
    (_, phi) = f.sample_line("potential_mV", (0.0, z.min()), (0.0, z.max()), 201)
    assert phi[-1] - phi[0] == pytest.approx(50.0, abs=1e-9)
    zw = f.points("K+_mM")[:, 1]
    _, k = f.sample_line("K+_mM", (0.0, zw.min()), (0.0, zw.max()), 201)
    np.testing.assert_allclose(k[[0, -1]], 150.0, rtol=1e-9)
    assert np.all(np.isfinite(k)) and np.all(k > 0)
