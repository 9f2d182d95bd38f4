"""The study engine with a cheap fake solver: grids, order and warm starts, atomic store, resume
after SIGKILL, definition hash, failed points, table round trip."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from study_fakes import FakeModel

from pnp.studies import ParameterGrid, StudyMismatchError, StudyStore, StudyTable
from pnp.studies.runner import plan_chains, run_study
from pnp.studies.store import atomic_write_text
from poreflux.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
RESUME = Path(__file__).parent / "mpi_scripts" / "study_resume.py"


# ------------------------------------------------------------------------------------ grids
def test_grid_ranges_and_cartesian_order():
    g = ParameterGrid(
        {
            "concentration_mM": {"start": 1, "stop": 1000, "num": 4, "log": True},
            "voltage_mV": {"start": -100, "stop": 100, "step": 50},
        }
    )
    assert g.values("concentration_mM") == (1.0, 10.0, 100.0, 1000.0)
    assert g.values("voltage_mV") == (-100.0, -50.0, 0.0, 50.0, 100.0)
    assert g.size == 20 and g.shape == (4, 5)
    pts = g.points()
    assert [p.id for p in pts[:2]] == ["p00000", "p00001"]
    assert pts[7].values == {"concentration_mM": 10.0, "voltage_mV": 0.0}  # last axis fastest


@pytest.mark.parametrize(
    ("axes", "match"),
    [
        ({}, "empty"),
        ({"voltage_mV": []}, "empty list"),
        ({"voltage_mV": [0, 0]}, "more than once"),
        ({"voltage_mV": [0, float("nan")]}, "finite"),
        ({"voltage_mV": ["10"]}, "must be a number"),
        ({"voltage_mV": {"start": 0, "stop": 10}}, "exactly one of 'step' and 'num'"),
        ({"voltage_mV": {"start": 0, "stop": 10, "step": -1}}, "does not lead"),
        ({"voltage_mV": {"start": 0, "stop": 10, "stride": 1}}, "allowed keys"),
        ({"9volts": [1]}, "identifier"),
    ],
)
def test_grid_rejects_bad_axes(axes, match):
    with pytest.raises(InputError, match=match):
        ParameterGrid(axes)


def test_plan_groups_geometry_and_sweeps_voltage_from_zero():
    model = FakeModel()
    grid = ParameterGrid(
        {"voltage_mV": [-50, 100, 0, 50, -100], "radius_nm": [1, 2], "concentration_mM": [10, 100]}
    )
    chains = plan_chains(model, grid.points())
    # geometry is the outermost group: all radius-1 chains come before all radius-2 chains
    radii = [c.points[0]["radius_nm"] for c in chains]
    assert radii == sorted(radii)
    first_up, first_down = chains[0], chains[1]
    assert [p["voltage_mV"] for p in first_up.points] == [0, 50, 100]
    assert [p["voltage_mV"] for p in first_down.points] == [-50, -100]
    # each step warm-starts from its neighbour; the downward branch from the 0 V start
    assert first_up.parents == (None, first_up.points[0].id, first_up.points[1].id)
    assert first_down.parents == (first_up.points[0].id, first_down.points[0].id)
    assert sum(len(c.points) for c in chains) == grid.size


def test_meshes_built_once_per_geometry_and_warm_starts_save_iterations(tmp_path):
    model = FakeModel()
    grid = ParameterGrid(
        {
            "radius_nm": [1.0, 2.0],
            "concentration_mM": [10.0, 100.0],
            "voltage_mV": {"start": -100, "stop": 100, "step": 25},
        }
    )
    result = run_study(model, grid, tmp_path / "s", progress=False)
    assert len(result.computed) == grid.size == 36 and not result.failed
    assert model.meshes_built == [(("radius_nm", 1.0),), (("radius_nm", 2.0),)]
    table = result.table
    assert len(table) == 36 and set(table.column("status")) == {"ok"}
    warm = table.column("newton_iterations")
    cold = [
        model.solve({"radius": 1.0}, p, None).results["newton_iterations"] for p in grid.points()
    ]
    # warm starts from the neighbouring voltage: 3 iterations per step instead of 5..9 cold
    assert warm.sum() < 0.6 * sum(cold)
    starts = table.column("warm_start_from")
    v = table.column("voltage_mV")
    assert set(starts[v == 0]) == {"cold"} and "cold" not in set(starts[v != 0])
    # the currents are the model's, whatever the order
    np.testing.assert_allclose(
        table.column("current_pA"), table.column("concentration_mM") * table.column("radius_nm")
        ** 2 * v * 1e-3
    )  # fmt: skip


def test_failed_points_recorded_reported_and_not_fatal(tmp_path):
    model = FakeModel(fail_voltages=(50.0,), bad_radius=2.0)
    grid = ParameterGrid({"radius_nm": [1.0, 2.0], "voltage_mV": [0, 50, 100]})
    result = run_study(model, grid, tmp_path / "s", progress=False)
    status = dict(zip(result.table.column("id"), result.table.column("status"), strict=True))
    # radius 1: 50 mV fails, 100 mV still runs (warm from the nearest solved point, 0 V)
    failed = {pid for pid, _, _ in result.failed}
    assert failed == {"p00001", "p00003", "p00004", "p00005"}
    assert status["p00000"] == status["p00002"] == "ok"
    errors = {pid: err for pid, _, err in result.failed}
    assert "ConvergenceError: fake Newton diverged at 50.0 mV" in errors["p00001"]
    assert "gmsh could not mesh radius 2.0" in errors["p00004"]
    assert model.solves[2] == ("p00002", 0.0)
    # a rerun keeps failed points (no recompute) unless asked to retry them
    rerun = run_study(model, grid, tmp_path / "s", progress=False)
    assert rerun.computed == ()
    retry = run_study(model, grid, tmp_path / "s", progress=False, retry_failed=True)
    assert set(retry.computed) == failed


def test_definition_hash_mismatch_refuses(tmp_path):
    grid = ParameterGrid({"voltage_mV": [0, 50]})
    run_study(FakeModel(), grid, tmp_path / "s", progress=False)
    with pytest.raises(StudyMismatchError, match=r"different study definition.*grid"):
        run_study(FakeModel(), ParameterGrid({"voltage_mV": [0, 60]}), tmp_path / "s",
                  progress=False)  # fmt: skip
    with pytest.raises(StudyMismatchError, match="model"):
        run_study(FakeModel(fail_voltages=(1.0,)), grid, tmp_path / "s", progress=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(StudyMismatchError, match="not empty"):
        run_study(FakeModel(), grid, tmp_path / "other", progress=False)


def test_unwritable_folder_and_bad_grid_raise_before_any_solve(tmp_path):
    model = FakeModel()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # no folder can be made below a file, even by root
    with pytest.raises(InputError, match="not writable"):
        run_study(model, ParameterGrid({"voltage_mV": [0]}), blocker / "s", progress=False)
    with pytest.raises(InputError, match="concentration_mM must be > 0"):
        run_study(model, ParameterGrid({"concentration_mM": [10, -1]}), tmp_path / "t",
                  progress=False)  # fmt: skip
    assert model.solves == [] and model.meshes_built == []
    assert not (tmp_path / "t").exists()


def test_fields_and_profiles_on_demand(tmp_path):
    grid = ParameterGrid({"voltage_mV": [0, 50]})
    run_study(FakeModel(), grid, tmp_path / "s", progress=False, fields="vtx", profiles=True)
    store = StudyStore(tmp_path / "s")
    assert store.field_path("p00001").read_text() == "V=50.0\n"
    prof = StudyTable.from_csv(store.profile_path("p00001"))
    np.testing.assert_array_equal(prof.column("potential"), [0.0, 50.0])


# ------------------------------------------------------------------------------------ store
def test_table_round_trip_is_exact(tmp_path):
    rows = [{"a": 0.1 + 0.2, "b": "x,y", "c": None, "d": 3}, {"a": 1e-300, "b": "é", "d": -1}]
    table = StudyTable.from_rows(rows)
    atomic_write_text(tmp_path / "t.csv", table.to_csv_text())
    back = StudyTable.from_csv(tmp_path / "t.csv")
    assert back.columns == ("a", "b", "c", "d")
    assert back.rows[0]["a"] == 0.1 + 0.2 and back.rows[1]["a"] == 1e-300
    assert back.rows[0]["b"] == "x,y" and "c" not in back.rows[0]
    assert np.isnan(back.column("c")).all()


def test_atomic_write_never_shows_a_partial_file(tmp_path):
    """A reader polling while the table grows row by row always sees a complete table."""
    path = tmp_path / "table.csv"
    n_writes = 80
    row = {f"col{k}": float(k) + 0.123456789 for k in range(20)}
    atomic_write_text(path, StudyTable.from_rows([row]).to_csv_text())
    done = threading.Event()
    seen: list[int] = []
    problems: list[str] = []

    def reader() -> None:
        while not done.is_set():
            table = StudyTable.from_csv(path)  # raises on a ragged row
            if any(r != row for r in table.rows):
                problems.append("corrupted row")
            seen.append(len(table))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for n in range(2, n_writes + 1):
            atomic_write_text(path, StudyTable.from_rows([row] * n).to_csv_text())
    finally:
        done.set()
        t.join()
    assert not problems
    assert seen == sorted(seen) and len(seen) > 10  # only whole tables, never shrinking
    assert not list(tmp_path.glob(".*.tmp"))


def test_atomic_write_crash_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "p00001.json"
    atomic_write_text(path, '{"old": 1}\n')

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, '{"new": 2}\n')
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["p00001.json"]  # temp file removed


# ------------------------------------------------------------------------------------ resume
def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def test_resume_after_sigkill(tmp_path):
    out, log = tmp_path / "study", tmp_path / "solves.log"
    store = StudyStore(out)
    proc = subprocess.Popen(
        [sys.executable, str(RESUME), str(out), str(log), "0.1"],
        env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while store.count() < 5:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the study never wrote 5 points"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    # what the crash left: whole records only (no partial row anywhere) and a readable table
    before = {p.name: p.read_bytes() for p in store.points_dir.glob("p*.json")}
    for text in before.values():
        json.loads(text)
    assert 5 <= len(before) < 18
    partial = StudyTable.from_csv(store.table_path)
    assert len(partial) >= len(before) - 1
    first_run = {json.loads(t)["run_id"] for t in before.values()}
    assert len(first_run) == 1

    rerun = subprocess.run(
        [sys.executable, str(RESUME), str(out), str(log), "0"],
        env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert f"computed={18 - len(before)} skipped={len(before)}" in rerun.stdout
    after = {p.name: p.read_bytes() for p in store.points_dir.glob("p*.json")}
    assert len(after) == 18  # nothing lost
    for name, text in before.items():
        assert after[name] == text  # not recomputed: same results, timestamps, run id
    counts = collections.Counter(log.read_text().split())
    assert set(counts) == {f"p{i:05d}" for i in range(18)}
    for name in before:
        assert counts[name.removesuffix(".json")] == 1  # each finished point solved exactly once
    assert sum(counts.values()) <= 19  # at most the point in flight at the kill ran twice
    table = StudyTable.from_csv(store.table_path)
    assert len(table) == 18 and set(table.column("status")) == {"ok"}
    assert len(set(table.column("run_id"))) == 2


def test_docstring_examples():
    import doctest

    import pnp.studies
    import pnp.studies.grid

    for module in (pnp.studies, pnp.studies.grid):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0, module.__name__
