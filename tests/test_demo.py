"""``poreflux demo`` / ``make demo``: the packaged default-channel study, run by the study engine,
printing exactly the table it stores (serial and on 2 MPI ranks)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import run_mpi

from pnp.cli import main
from pnp.demo import DEMO_STUDY, demo_study
from pnp.studies.config import load_study
from pnp.studies.report import short_name
from pnp.studies.table import StudyTable

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / DEMO_STUDY
SCRIPT = Path(__file__).parent / "mpi_scripts" / "study_demo.py"


def printed_table(text: str) -> list[dict[str, str]]:
    """The rows of the first aligned table whose header starts with ``voltage_mV``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("voltage_mV"))
    header = lines[start].split()
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        cells = line.split()
        assert len(cells) == len(header), line
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def cell(value: object) -> str:
    """How StudyTable.format prints a stored value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return format(value, ".5g") if isinstance(value, float) else str(value)


def check_printed_equals_stored(stdout: str, out: Path) -> StudyTable:
    stored = StudyTable.from_csv(out / "table.csv")
    rows = printed_table(stdout)
    assert len(rows) == len(stored) == 7
    column = {short_name(c): c for c in stored.columns}  # printed header -> table.csv column
    for printed, row in zip(rows, stored.rows, strict=True):
        for name, text in printed.items():
            assert text == cell(row.get(column[name])), (name, text, row.get(column[name]))
    for name in ("voltage_mV", "current_pA", "conductance_pS", "current_K+_pA", "diag_worst"):
        assert short_name(name) in rows[0]
    return stored


def test_packaged_study_is_the_example():
    packaged = ROOT / "pnp" / "studies" / DEMO_STUDY
    assert packaged.read_bytes() == EXAMPLE.read_bytes()
    study, example = demo_study(), load_study(EXAMPLE)
    assert study.model == example.model and study.grid == example.grid
    assert study.grid.values("voltage_mV") == (-150.0, -100.0, -50.0, 0.0, 50.0, 100.0, 150.0)


def test_demo_prints_the_study_table(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    stored = check_printed_equals_stored(stdout, out)
    assert stdout.count("study 'default_channel_iv'") == 1
    # physics of the study itself: a channel symmetric under z -> -z with equal baths gives an
    # odd I(V); currents are conserved; a -0.1 C/m^2 lining (Dukhin number ~7) makes it
    # cation-selective
    v = stored.column("voltage_mV")
    current = dict(zip(v, stored.column("current_pA"), strict=True))
    for volt in (50.0, 100.0, 150.0):
        assert current[-volt] == pytest.approx(-current[volt], rel=1e-4)
    assert abs(current[0.0]) < 1e-9 * abs(current[150.0])
    assert max(stored.column("conservation_error")[v != 0]) < 1e-5
    top = stored.rows[-1]
    assert top["current_K+_pA"] / top["current_pA"] > 0.9
    assert (out / "plots" / "iv.png").exists() and list((out / "fields").glob("*.bp"))
    # a rerun resumes: nothing recomputed, the same table printed
    assert main(["demo", "--out", str(out), "--no-progress"]) == 0
    again = capsys.readouterr().out
    assert "0 computed now, 7 already finished" in again
    assert printed_table(again) == printed_table(stdout)


def test_demo_under_mpi_prints_once(tmp_path):
    out = tmp_path / "demo-mpi"
    stdout = run_mpi(SCRIPT, str(out), nprocs=2)
    assert stdout.count("poreflux demo:") == 1
    assert stdout.count("study 'default_channel_iv'") == 1
    check_printed_equals_stored(stdout, out)


def test_demo_refuses_an_unwritable_folder(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["demo", "--out", str(blocker / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "poreflux demo: error:" in err and "not writable" in err
