"""MLP predictor (mass, g, D) -> potential: learns a known map, honours the protocol, saves with a
version; the shipped database trains and evaluates on held-out liquids.

The synthetic check uses the dilute-gas relations ``g(r) = exp(-U(r)/kT)`` for Lennard-Jones
potentials and a made-up ``D(eps, m)``; the network must recover U on unseen (eps, sigma, m)
to 0.1 kT RMS where g > 0.01, i.e. invert the (exact, smooth) map between the inputs and U.
"""

import math
import pickle
from importlib import resources

import numpy as np
import pytest

from stochastic.cg.database.predictor import MobilityPredictor, core_wall
from stochastic.cg.database.schema import DatabaseError, DatabaseSettings
from stochastic.cg.errors import CGInputError
from stochastic.cg.mobility import PotentialPredictor
from stochastic.cg.tabulated import TabulatedPair
from stochastic.cg.targets import RDF
from stochastic.md.system import KB_KJ_PER_MOL_K, Box, ParticleType, System

S = DatabaseSettings()
KT = KB_KJ_PER_MOL_K * S.temperature


def _lj_entries(n, seed):
    rng = np.random.default_rng(seed)
    eps = rng.uniform(0.5, 1.5, n) * KT
    sig = rng.uniform(0.45, 0.6, n)
    mass = rng.uniform(20, 200, n)
    r = S.r
    u = 4 * eps[:, None] * ((sig[:, None] / r) ** 12 - (sig[:, None] / r) ** 6)
    u = np.minimum(u, 50 * KT)
    g = np.exp(-u / KT)
    d = 0.01 * (KT / eps) * np.sqrt(100.0 / mass)
    return mass, d, g, u


@pytest.fixture(scope="module")
def synthetic():
    mass, d, g, u = _lj_entries(150, 1)
    return MobilityPredictor(S, n_components=6, n_ensemble=1, max_iter=250).fit(mass, d, g, u)


def test_predictor_recovers_a_known_map_on_unseen_inputs(synthetic):
    mass, d, g, u = _lj_entries(20, 2)
    errs = []
    for k in range(20):
        pred = synthetic.predict_potential(mass[k], g[k], d[k])
        ok = g[k] > 0.01
        errs.append(np.sqrt(np.mean(((pred - u[k]) / KT)[ok] ** 2)))
    print(f"U RMS on unseen LJ: median {np.median(errs):.3f} kT, max {np.max(errs):.3f} kT")
    assert np.median(errs) < 0.1 and np.max(errs) < 0.3


def test_predictor_implements_the_protocol(synthetic):
    p: PotentialPredictor = synthetic
    mass, d, g, _ = _lj_entries(1, 3)
    rdf = RDF(S.edges, g[0], ("M", "M"))
    tables = p.predict({"M": float(mass[0])}, {("M", "M"): rdf}, {"M": float(d[0])},
                       S.temperature)  # fmt: skip
    system = System.from_counts([ParticleType("M", float(mass[0]))], [8], Box((3.0, 3.0, 3.0)))
    term = TabulatedPair(system, tables)  # usable as an MD force term
    assert term.cutoff == pytest.approx(S.r_max)
    with pytest.raises(CGInputError, match="trained at"):
        p.predict({"M": 50.0}, {("M", "M"): rdf}, {"M": 0.01}, 350.0)
    with pytest.raises(CGInputError, match="database grid"):
        synthetic.predict_potential(50.0, g[0][:-1], 0.01)
    with pytest.raises(CGInputError, match="D > 0"):
        synthetic.predict_potential(50.0, g[0], -0.01)


def test_save_load_round_trip_and_version_check(synthetic, tmp_path):
    path = synthetic.save(tmp_path / "model.pkl")
    again = MobilityPredictor.load(path)
    mass, d, g, _ = _lj_entries(1, 4)
    assert np.array_equal(again.predict_potential(mass[0], g[0], d[0]),
                          synthetic.predict_potential(mass[0], g[0], d[0]))  # fmt: skip
    blob = pickle.loads(path.read_bytes())
    blob["version"] += 1
    (tmp_path / "new.pkl").write_bytes(pickle.dumps(blob))
    with pytest.raises(DatabaseError, match="predictor version"):
        MobilityPredictor.load(tmp_path / "new.pkl")
    (tmp_path / "foreign.pkl").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(DatabaseError, match="not a poreflux"):
        MobilityPredictor.load(tmp_path / "foreign.pkl")
    with pytest.raises(CGInputError, match="not trained"):
        MobilityPredictor(S).predict_potential(50.0, g[0], 0.01)


def test_core_wall_is_continuous_and_repulsive():
    r = S.r
    g = np.where(r > 0.4, 1.0, 0.0)
    u = np.where(r > 0.4, -0.5 * np.cos(10 * r), 3.0)
    out = core_wall(u, r, g, KT)
    f = int(np.argmax(r > 0.4))
    assert np.array_equal(out[f:], u[f:])
    assert np.all(np.diff(out[: f + 1]) < 0)  # monotonically decreasing towards the core edge
    assert out[0] > 20 * KT


def _shipped():
    path = resources.files("stochastic.cg") / "data" / "cg_mobility_db.h5"
    if not path.is_file():
        pytest.skip("shipped database not present")
    return path


def test_shipped_database_meets_the_size_and_count_targets():
    from stochastic.cg.database.storage import Database

    path = _shipped()
    db = Database.open(path)
    assert len(db.keys("models")) >= 20 and len(db.keys("entries")) >= 200
    assert len(db.keys("heldout")) >= 3
    assert path.stat().st_size < 20e6
    arrays = db.training_arrays()
    assert set(arrays["molecule"]).isdisjoint(db.keys("heldout"))


@pytest.fixture(scope="module")
def shipped_predictor():
    from stochastic.cg.database.storage import Database

    db = Database.open(_shipped())
    a = db.training_arrays()
    pred = MobilityPredictor(db.settings, n_ensemble=1, seed=0)
    return db, pred.fit(a["mass"], a["d"], a["g"], a["u"])


def test_shipped_predictor_gives_a_repulsive_core_and_a_bound_liquid(shipped_predictor):
    """Predicted held-out potentials: > 5 kT inside the all-atom excluded core, an attractive
    well where g(r) is populated, zero at the cutoff, and within 1 kT RMS (populated bins) of
    the liquid's own IBI potential, the structure-consistent solution that the mobility
    correction perturbs (measured 0.3-0.6 kT)."""
    db, pred = shipped_predictor
    for name in db.keys("heldout"):
        attrs, data = db.read("heldout", name)
        u = pred.predict_potential(attrs["mass"], data["g_aa"], attrs["d_aa"])
        core = data["g_aa"] < 1e-3
        assert np.all(u[core] > 5 * KT), name
        ok = ~core
        assert np.min(u[ok]) < -0.1 * KT, name
        assert np.sqrt(np.mean(((u - data["u_ibi"]) / KT)[ok] ** 2)) < 1.0, name
        table = pred.predict({"M": attrs["mass"]}, {("M", "M"): RDF(S.edges, data["g_aa"])},
                             {"M": attrs["d_aa"]}, S.temperature)[("M", "M")]  # fmt: skip
        assert abs(table.energy(np.array([S.r_max - 1e-9]))[0]) < 1e-6


@pytest.mark.slow
def test_heldout_evaluation_on_the_shipped_database(tmp_path):
    """IBI with Newtonian dynamics is faster than the all-atom liquid for every held-out
    molecule; friction calibration brings D to D_AA within 15 % + 2 standard errors. The
    predicted potential's numbers are printed (the acceptance target, D within 15 % with g(r)
    RMS within 1.5x of IBI's, is NOT met by the shipped 200-entry database: see
    docs/cg_database.md)."""
    from stochastic.cg.database.evaluation import evaluate_database

    report = evaluate_database(_shipped(), seed=0, plot=tmp_path / "eval.png",
                               cross_validation=False)  # fmt: skip
    print(report.table())
    for res in report.results:
        assert res.ratio("ibi") > 1.0 + 2 * res.d_err["ibi"] / res.d_aa, res.molecule
        err = math.hypot(res.d_err["friction"] / res.d_aa, res.d_aa_err / res.d_aa)
        assert abs(res.ratio("friction") - 1.0) < 0.15 + 2 * err, res.molecule
        assert np.max(res.g["predicted"]) > 1.0  # still a liquid with a first shell
    assert (tmp_path / "eval.png").stat().st_size > 1000


@pytest.mark.slow
def test_by_molecule_cross_validation_beats_the_mean_potential(shipped_predictor):
    """Leave one base molecule out: the predicted U/kT is closer to the true entry potentials
    than the mean training potential (default 3-network predictor; measured 0.81/0.62/0.92 kT
    vs 1.35/0.84/2.29 kT)."""
    from stochastic.cg.database.evaluation import cross_validate

    db, _ = shipped_predictor
    rms, base = cross_validate(db.training_arrays(), MobilityPredictor(db.settings))
    print(rms, base)
    for mol in rms:
        assert rms[mol] < base[mol], mol
