"""CG mobility database: schema checks, atomic writes, resumable seeded generation, regeneration.

Small settings (``ci_settings``: 40 molecules, sub-ps runs) keep the generation of four entries
in the default suite; the shipped database is evaluated in tests/test_cg_database_predictor.py.
"""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from stochastic.cg.database import generator as gen
from stochastic.cg.database.pipeline import clean_core, kt_of, perturb_potential, run_cg_entry
from stochastic.cg.database.schema import (
    SCHEMA_VERSION,
    DatabaseError,
    DatabaseSettings,
    ci_settings,
)
from stochastic.cg.database.storage import Database
from stochastic.cg.errors import CGInputError


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    """Four entries (2 models x 2) generated serially."""
    path = tmp_path_factory.mktemp("db") / "small.h5"
    t0 = time.perf_counter()
    db = gen.generate(path, 2, ci_settings(), seed=5, progress=False)
    return db, time.perf_counter() - t0


def test_generation_of_four_entries(small_db):
    db, wall = small_db
    assert db.keys("models") == ["m0000", "m0001"]
    assert len(db.keys("entries")) == 4
    arrays = db.training_arrays()
    assert set(arrays["molecule"]) == {"3-methylpentane", "2,3,4-trimethylpentane"}
    assert np.all((arrays["mass"] >= 20) & (arrays["mass"] <= 200))
    assert np.all(arrays["d"] > 0) and np.all(np.isfinite(arrays["u"]))
    # the g(r) of a liquid: empty core, first peak above 1, tends to 1
    g = arrays["g"]
    assert np.all(g[:, :5] < 1e-3) and np.all(g.max(1) > 1.1)
    attrs, data = db.read("models", "m0000")
    assert attrs["molecule"] == "3-methylpentane" and len(attrs["parameters"]["bond_r0_nm"]) == 5
    assert attrs["d_aa"] > 0 and data["u_ibi"].shape == db.settings.r.shape
    print(f"4 entries in {wall:.1f} s")


def test_entry_regenerates_bit_for_bit(small_db):
    db, _ = small_db
    attrs, data = db.read("entries", "m0001_e01")
    run = run_cg_entry(data["u"], attrs["mass"], db.settings, attrs["box_length"], attrs["seed"])
    assert np.array_equal(run.g.g, data["g"])
    assert run.d.value == attrs["d"]
    # and the perturbation is the recorded one, drawn from the recorded seed
    rng = np.random.default_rng(attrs["seed"])
    assert rng.uniform(*db.settings.mass_range) == attrs["mass"]
    _, model = db.read("models", "m0001")
    u, pert = perturb_potential(model["u_ibi"], db.settings.r, kt_of(db.settings), rng)
    assert pert == pytest.approx(attrs["perturbation"], rel=1e-12)
    assert np.array_equal(u, data["u"])


def test_model_parameters_are_recorded_and_seeded(small_db):
    db, _ = small_db
    attrs, _ = db.read("models", "m0001")
    again = gen.model_of(1, db.seed)
    assert again.parameters() == attrs["parameters"]
    assert gen.model_of(1, db.seed + 1).parameters() != attrs["parameters"]


def test_resume_skips_finished_work(small_db, tmp_path, monkeypatch):
    db, _ = small_db
    path = tmp_path / "copy.h5"
    path.write_bytes(db.path.read_bytes())
    calls = []
    real = gen.run_cg_entry
    monkeypatch.setattr(gen, "reference_run", lambda *a: pytest.fail("model rerun"))
    monkeypatch.setattr(gen, "run_cg_entry", lambda *a, **k: calls.append(a) or real(*a, **k))
    with h5py.File(path, "r+") as f:  # pretend the run was killed before the last entry
        del f["entries"]["m0001_e01"]
    out = gen.generate(path, 2, ci_settings(), seed=5, progress=False)
    assert len(calls) == 1 and len(out.keys("entries")) == 4
    assert np.array_equal(out.read("entries", "m0001_e01")[1]["g"],
                          db.read("entries", "m0001_e01")[1]["g"])  # fmt: skip


def test_interrupted_write_leaves_the_file_intact(small_db, tmp_path, monkeypatch):
    db, _ = small_db
    path = tmp_path / "copy.h5"
    path.write_bytes(db.path.read_bytes())
    copy = Database.open(path)

    class Boom(Exception):
        pass

    def explode(*a, **k):
        raise Boom

    monkeypatch.setattr(h5py.Group, "create_dataset", explode)
    with pytest.raises(Boom):
        copy.write("entries", "m0009_e00", {"mass": 1.0}, {"u": np.zeros(3)})
    monkeypatch.undo()
    assert Database.open(path).keys("entries") == db.keys("entries")
    assert not list(tmp_path.glob("*.tmp"))


def test_foreign_corrupt_and_other_version_files_are_refused(tmp_path, small_db):
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f.attrs["schema"] = "something-else"
    with pytest.raises(DatabaseError, match="not a poreflux CG database"):
        Database.open(foreign)
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(small_db[0].path.read_bytes()[:3000])
    with pytest.raises(DatabaseError, match="corrupt or truncated"):
        Database.open(corrupt)
    old = tmp_path / "old.h5"
    old.write_bytes(small_db[0].path.read_bytes())
    with h5py.File(old, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(DatabaseError, match="schema version"):
        Database.open(old)
    with pytest.raises(DatabaseError, match="other settings or seed"):
        Database.create(small_db[0].path, DatabaseSettings(), 5)
    with pytest.raises(DatabaseError, match="other settings or seed"):
        Database.create(small_db[0].path, ci_settings(), 6)
    with pytest.raises(DatabaseError, match="no database file"):
        Database.open(tmp_path / "missing.h5")


def test_settings_validation_and_round_trip():
    s = DatabaseSettings()
    assert DatabaseSettings.from_json(s.to_json()) == s
    assert len(s.r) == 55 and s.r[0] == pytest.approx(0.01)
    with pytest.raises(CGInputError, match="bin_width"):
        DatabaseSettings(r_max=1.0, bin_width=0.03)
    with pytest.raises(CGInputError, match="positive and finite"):
        DatabaseSettings(temperature=float("nan"))
    with pytest.raises(CGInputError, match="mass_range"):
        DatabaseSettings(mass_range=(200.0, 20.0))


def test_clean_core_removes_isolated_contacts():
    g = np.array([0, 0, 0.01, 0, 0.2, 0.9, 1.3, 1.0])
    assert np.array_equal(clean_core(g), [0, 0, 0, 0, 0.2, 0.9, 1.3, 1.0])


def test_unit_seeds_are_independent_of_order():
    assert gen.unit_seed(1, 3, 2) == gen.unit_seed(1, 3, 2)
    assert len({gen.unit_seed(1, m, k) for m in range(5) for k in range(5)}) == 25


@pytest.mark.slow
def test_killed_generation_loses_only_the_entry_in_progress(tmp_path):
    """SIGKILL a real generation once two entries are stored; the file opens and resumes."""
    path = tmp_path / "killed.h5"
    code = ("from stochastic.cg.database.generator import generate;"
            "from stochastic.cg.database.schema import ci_settings;"
            f"generate({str(path)!r}, 2, ci_settings(), seed=5, progress=False)")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        for _ in range(600):
            time.sleep(0.5)
            if path.exists() and len(Database.open(path).keys("entries")) >= 2:
                break
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    kept = Database.open(path).keys("entries")
    assert len(kept) >= 2
    db = gen.generate(path, 2, ci_settings(), seed=5, progress=False)
    assert len(db.keys("entries")) == 4
