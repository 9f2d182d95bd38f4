"""CG mobility database: schema checks, atomic writes, resumable seeded generation, regeneration.

Small settings (``ci_settings``: 32 molecules, sub-ps runs) keep the generation of four entries
in the default suite; the shipped database is evaluated in tests/test_cg_database_predictor.py.
"""

import math
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from stochastic.cg.database import generator as gen
from stochastic.cg.database.pipeline import (
    cg_system,
    clean_core,
    kt_of,
    perturb_potential,
    potential_table,
    roughness,
    run_cg_entry,
    to_mean_energy,
)
from stochastic.cg.database.schema import (
    SCHEMA_VERSION,
    DatabaseError,
    DatabaseSettings,
    ci_settings,
)
from stochastic.cg.database.storage import Database
from stochastic.cg.errors import CGInputError
from stochastic.cg.tabulated import TabulatedPair


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
    run = run_cg_entry(data["u"], attrs["mass"], db.settings, attrs["box_length"], attrs["seed"],
                       rough=attrs["rough"])  # fmt: skip
    assert np.array_equal(run.g.g, data["g"])
    assert run.d.value == attrs["d"]
    # and the perturbation and roughness are the recorded ones, drawn from the recorded seed
    rng = np.random.default_rng(attrs["seed"])
    assert rng.uniform(*db.settings.mass_range) == attrs["mass"]
    _, model = db.read("models", "m0001")
    u, pert = perturb_potential(model["u_ibi"], db.settings.r, kt_of(db.settings), rng)
    assert pert == pytest.approx(attrs["perturbation"], rel=1e-12)
    assert np.array_equal(u, data["u"])
    assert rng.uniform(0.0, db.settings.rough_max) * kt_of(db.settings) == attrs["rough"]
    assert 0.0 <= attrs["rough"] <= db.settings.rough_max * kt_of(db.settings)


def test_model_parameters_are_recorded_and_seeded(small_db):
    db, _ = small_db
    attrs, _ = db.read("models", "m0001")
    again = gen.model_of(1, db.seed, db.settings.base_molecules)
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
    with pytest.raises(CGInputError, match="unknown molecule"):
        DatabaseSettings(base_molecules=("benzene", "unobtanium"))
    with pytest.raises(CGInputError, match="heldout_replicas"):
        DatabaseSettings(heldout_replicas=0)
    assert {"n-hexane", "toluene", "2,2-dimethylbutane"}.isdisjoint(s.base_molecules)


def test_clean_core_removes_isolated_contacts():
    g = np.array([0, 0, 0.01, 0, 0.2, 0.9, 1.3, 1.0])
    assert np.array_equal(clean_core(g), [0, 0, 0, 0, 0.2, 0.9, 1.3, 1.0])


def test_unit_seeds_are_independent_of_order():
    assert gen.unit_seed(1, 3, 2) == gen.unit_seed(1, 3, 2)
    assert len({gen.unit_seed(1, m, k) for m in range(5) for k in range(5)}) == 25


def test_references_of_an_older_file_are_reused_and_mpi_shards_read_them(small_db, tmp_path):
    """``import_references`` copies /models and /heldout (entries are then generated from the
    stored IBI potential); a rank's shard that lacks the reference reads it from the main file
    (``_do_model(..., main=db)``: a restarted MPI run failed on this before)."""
    db, _ = small_db
    settings = ci_settings()
    fresh = Database.create(tmp_path / "new.h5", settings, db.seed)
    assert fresh.import_references(db.path) == 2
    assert fresh.keys("models") == db.keys("models") and fresh.keys("entries") == []
    shard = Database.create(tmp_path / "new.rank1.h5", settings, db.seed)
    done = set(fresh.keys("models"))
    assert gen._do_model(shard, done, 1, main=fresh) == settings.entries_per_model
    assert shard.keys("models") == [] and len(shard.keys("entries")) == 2
    assert np.array_equal(shard.read("entries", "m0001_e00")[1]["u"],
                          db.read("models", "m0001")[1]["u_ibi"])  # fmt: skip
    with pytest.raises(DatabaseError, match="other settings or seed"):
        Database.create(tmp_path / "other.h5", settings, db.seed + 1).import_references(db.path)


def test_roughness_keeps_the_binned_boltzmann_factor_and_its_force_is_exact():
    """Sub-bin roughness: the bin average of exp(-R/kT) is 1 where the taper is flat (identity
    <exp(-x cos)> = I0(x)), R's force is -dR/dr (central differences, 1e-6 relative), the
    tabulated potential adds R to the smooth part and vanishes at the cutoff."""
    s = DatabaseSettings()
    kt = kt_of(s)
    a = 0.8 * kt
    for lo in (0.30, 0.52, 0.86):  # bins in the flat part (taper 1 below r_max - 0.1 nm)
        r = lo + (np.arange(4000) + 0.5) * s.bin_width / 4000
        assert np.mean(np.exp(-roughness(r, a, s)[0] / kt)) == pytest.approx(1.0, abs=1e-9)
    r = np.linspace(0.3, s.r_max - 1e-3, 4001)
    h = 1e-6
    num = -(roughness(r + h, a, s)[0] - roughness(r - h, a, s)[0]) / (2 * h)
    f = roughness(r, a, s)[1]
    assert np.max(np.abs(num - f)) < 1e-6 * np.max(np.abs(f))
    u = -np.exp(-(((s.r - 0.5) / 0.1) ** 2))
    smooth, rough = potential_table(u, s), potential_table(u, s, a)
    x = np.linspace(0.3, 0.95, 57)
    assert np.allclose(rough.energy(x) - smooth.energy(x), roughness(x, a, s)[0], atol=2e-3 * kt)
    assert abs(rough.energy(np.array([s.r_max - 1e-9]))[0]) < 1e-9
    assert roughness(np.array([s.r_max]), a, s)[0][0] == pytest.approx(0.0, abs=1e-12)


def test_heldout_targets_average_independent_all_atom_replicas(monkeypatch):
    """``replicas`` all-atom runs: g(r) is their mean and D_AA's error the standard error of the
    replicas' D (not one run's block error). Fake trajectories: free Brownian walks with
    D = 0.01 nm^2/ps, so each replica's MSD fit scatters around 0.01 and the replica mean lies
    within 3 standard errors of it."""
    from stochastic.cg.database import pipeline
    from stochastic.cg.targets import diffusion_estimate
    from stochastic.md.system import Box

    s = ci_settings()
    box, d_true, dt = Box((3.0, 3.0, 3.0)), 0.01, s.aa_dt * s.aa_interval
    frames = s.aa_prod // s.aa_interval
    seen = []

    def fake(model, settings, rng):
        steps = rng.normal(0.0, math.sqrt(2 * d_true * dt), (frames, s.n_molecules, 3))
        com = rng.uniform(0, 3.0, (1, s.n_molecules, 3)) + np.cumsum(steps, axis=0)
        seen.append(diffusion_estimate(com, dt, *s.d_fit_aa).value)
        return com, box

    monkeypatch.setattr(pipeline, "_aa_trajectory", fake)
    g, d, last, _ = pipeline._aa_targets(None, s, np.random.default_rng(1), 6)
    assert len(seen) == 6 and last.shape == (s.n_molecules, 3)
    assert d.value == pytest.approx(np.mean(seen), rel=1e-12)
    assert d.error == pytest.approx(np.std(seen, ddof=1) / math.sqrt(6), rel=1e-12)
    assert abs(d.value - d_true) < 3 * d.error
    assert np.all(np.isfinite(g.g)) and np.mean(g.g[-10:]) == pytest.approx(1.0, abs=0.2)
    one = pipeline._aa_targets(None, s, np.random.default_rng(1), 1)[1]
    assert one.value == seen[6] == seen[0]  # one run (the first replica): its own estimate


def test_nve_start_at_the_canonical_mean_energy():
    """``to_mean_energy``: zero total momentum, total energy <U> + (3N - 3) kT / 2."""
    from stochastic.md.forcefield import ForceField
    from stochastic.md.integrators import VelocityVerlet
    from stochastic.md.simulation import Simulation

    s = ci_settings()
    kt = kt_of(s)
    system, x0 = cg_system(50.0, s, 2.0)
    u = 2.0 * kt * np.exp(-(((s.r - 0.3) / 0.1) ** 2))
    ff = ForceField(system, [TabulatedPair(system, {("M", "M"): potential_table(u, s)})])
    rng = np.random.default_rng(0)
    sim = Simulation(ff, VelocityVerlet(0.002), x0 + rng.normal(0, 0.05, x0.shape),
                     rng.normal(0, 1.0, x0.shape))  # fmt: skip
    u_mean = sim.potential_energy() + 0.3 * kt
    to_mean_energy(sim, u_mean, kt)
    assert np.allclose((system.masses[:, None] * sim.v).sum(0), 0.0, atol=1e-10)
    total = sim.kinetic_energy() + sim.potential_energy()
    assert total == pytest.approx(u_mean + 0.5 * (3 * len(x0) - 3) * kt, rel=1e-12)


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
