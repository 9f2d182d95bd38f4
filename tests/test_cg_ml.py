"""Machine-learned CG energy: exact gradients, invariances, training on LJ forces, MD stability.

Reduced LJ units (sigma = 1 nm, epsilon = 1 kJ/mol, m = 1 amu).
"""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
pytest.importorskip("optax")

from stochastic.cg.errors import CGInputError  # noqa: E402
from stochastic.cg.ml.descriptors import DescriptorSpec, neighbour_table  # noqa: E402
from stochastic.cg.ml.force_term import MLForceTerm  # noqa: E402
from stochastic.cg.ml.model import NetworkEnergy, init_params  # noqa: E402
from stochastic.cg.ml.training import pair_prior_forces, train_force_matching  # noqa: E402

SPEC = DescriptorSpec(r_cut=1.8, n_radial=6, r_start=0.9, n_angular_radial=2, n_cos=3)


def _random_net(seed=0):
    net = NetworkEnergy.create(SPEC, (16, 16), seed)
    params = init_params(seed + 1, SPEC.size, (16, 16))
    w, b = params[-1]
    params[-1] = (jax.random.normal(jax.random.PRNGKey(seed + 7), w.shape) * 0.3, b)
    return NetworkEnergy(net.spec, params, np.full(SPEC.size, 0.5), np.full(SPEC.size, 1.5))


def _cluster(n=24, seed=0, box=12.0):
    rng = np.random.default_rng(seed)
    x = []
    while len(x) < n:  # random non-overlapping beads in a 3 nm ball at the box centre
        p = rng.uniform(-1.6, 1.6, 3)
        if np.linalg.norm(p) < 1.6 and all(np.linalg.norm(p - q) > 0.85 for q in x):
            x.append(p)
    return np.array(x) + box / 2, np.full(3, box)


def _energy(net, x, lengths):
    idx, mask = neighbour_table(x, lengths, SPEC.r_cut, 32)  # one width: one compilation
    return net.evaluate(x, idx, mask, lengths)


def test_forces_are_exact_gradients_and_virial_is_the_volume_derivative():
    net = _random_net()
    x, lengths = _cluster()
    lengths = np.full(3, 3.9)  # periodic images within the cutoff
    x = np.mod(x, lengths)
    rng = np.random.default_rng(1)
    _, f, w = _energy(net, x, lengths)
    assert np.max(np.abs(f)) > 0.1
    h = 1e-6
    for i, c in zip(rng.choice(len(x), 6, replace=False), rng.integers(0, 3, 6), strict=True):
        xp, xm = x.copy(), x.copy()
        xp[i, c] += h
        xm[i, c] -= h
        fd = -(_energy(net, xp, lengths)[0] - _energy(net, xm, lengths)[0]) / (2 * h)
        assert fd == pytest.approx(f[i, c], rel=1e-6, abs=1e-8)
    # W = -dU/d ln(s) under uniform scaling of positions and box
    up = _energy(net, x * (1 + h), lengths * (1 + h))[0]
    um = _energy(net, x * (1 - h), lengths * (1 - h))[0]
    assert -(up - um) / (2 * h) == pytest.approx(w, rel=1e-6, abs=1e-8)
    assert np.allclose(f.sum(0), 0.0, atol=1e-10)  # translation invariance: no net force


def test_energy_is_rotation_permutation_and_translation_invariant():
    net = _random_net(3)
    x, lengths = _cluster(24, seed=4)
    u0 = _energy(net, x, lengths)[0]
    q, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(3, 3)))
    c = x.mean(0)
    assert _energy(net, (x - c) @ q.T + c, lengths)[0] == pytest.approx(u0, rel=1e-12)
    perm = np.random.default_rng(6).permutation(len(x))
    assert _energy(net, x[perm], lengths)[0] == pytest.approx(u0, rel=1e-12)
    assert _energy(net, np.mod(x + 5.3, lengths), lengths)[0] == pytest.approx(u0, rel=1e-12)
    # and not invariant to a distortion (the descriptors see the structure)
    y = x.copy()
    y[0] += 0.05
    assert abs(_energy(net, y, lengths)[0] - u0) > 1e-6


def test_angular_moments_equal_the_explicit_triplet_sum():
    """The moment-tensor evaluation of A_I^{b,n} equals the defining double sum over neighbour
    pairs sum_{k != l} cos^n(theta_kIl) rho_b(r_Ik) rho_b(r_Il), written out in numpy."""
    from stochastic.cg.ml.descriptors import descriptors, displacements

    x, lengths = _cluster(24, seed=8)
    idx, mask = neighbour_table(x, lengths, SPEC.r_cut, 32)
    got = np.asarray(descriptors(displacements(x, idx, lengths), mask, SPEC))
    rc, r0, nb = SPEC.r_cut, SPEC.r_start, SPEC.n_angular_radial
    mu_b, w_b = np.linspace(r0, rc, nb + 1)[:-1], (rc - r0) / nb
    for i in (0, 5, 11):
        d = x[idx[i][mask[i]]] - x[i]
        r = np.linalg.norm(d, axis=1)
        rho = np.exp(-(((r[:, None] - mu_b) / w_b) ** 2)) * 0.5 * (1 + np.cos(np.pi * r / rc))[
            :, None]  # fmt: skip
        cos = (d / r[:, None]) @ (d / r[:, None]).T
        want = []
        for b in range(nb):
            for n in range(1, SPEC.n_cos + 1):
                terms = np.outer(rho[:, b], rho[:, b]) * cos**n
                want.append(terms.sum() - np.trace(terms))
        assert np.allclose(got[i, SPEC.n_radial :], want, rtol=1e-12, atol=1e-12)


def test_force_term_reuses_its_table_within_the_skin():
    """Along a random walk the skin-reused table gives the forces of a table rebuilt every
    step (to round-off) with fewer builds, and a move beyond skin/2 forces a rebuild."""
    from stochastic.md.system import Box, ParticleType, System

    net = _random_net(4)
    x, lengths = _cluster(24, seed=9)
    system = System.from_counts([ParticleType("A", 1.0)], [len(x)], Box(tuple(lengths)))
    lazy, eager = MLForceTerm(system, net, skin=0.3), MLForceTerm(system, net, skin=0.0)
    rng = np.random.default_rng(2)
    for _ in range(12):
        x = x + rng.normal(0, 0.01, x.shape)
        f1, f2 = np.zeros_like(x), np.zeros_like(x)
        u1, w1 = lazy.compute(x, None, f1)
        u2, w2 = eager.compute(x, None, f2)
        assert u1 == pytest.approx(u2, rel=1e-12, abs=1e-12)
        assert w1 == pytest.approx(w2, rel=1e-12, abs=1e-12)
        assert np.allclose(f1, f2, rtol=1e-12, atol=1e-12)
    assert eager.n_builds == 12 and lazy.n_builds < 6
    builds = lazy.n_builds
    x[3] += 0.4  # beyond skin / 2 whatever the drift since the last build
    lazy.compute(x, None, np.zeros_like(x))
    assert lazy.n_builds == builds + 1
    with pytest.raises(CGInputError, match="skin"):
        MLForceTerm(system, net, skin=float("nan"))


def test_save_load_roundtrip(tmp_path):
    net = _random_net(2)
    x, lengths = _cluster(24, seed=2)
    back = NetworkEnergy.load(net.save(tmp_path / "net.npz"))
    assert _energy(back, x, lengths)[0] == pytest.approx(_energy(net, x, lengths)[0], rel=1e-14)


def test_training_inputs_raise():
    x = np.zeros((3, 5, 3))
    with pytest.raises(CGInputError, match=r"\(F, N, 3\)"):
        train_force_matching(x, x[:, :4], np.ones(3) * 5, SPEC)
    bad = x.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(CGInputError, match="NaN"):
        train_force_matching(x, bad, np.ones(3) * 5, SPEC)
    with pytest.raises(CGInputError, match="r_start"):
        DescriptorSpec(r_cut=1.0, r_start=1.2)


@pytest.fixture(scope="module")
def lj_data():
    from stochastic.cg.testsystems import lj_fluid

    fl = lj_fluid(3, 0.776, 0.85)
    smp = fl.sampler(seed=3).run([fl.lj_term()], 1000, 2400, 80, record_forces=True)
    return fl, smp


def test_ci_network_learns_lj_forces_and_runs_stably(lj_data):
    """On 30 frames of the 108-particle LJ fluid with a soft r^-12 prior, the network (cutoff
    1.8 sigma) must explain most of the force the prior misses on held-out frames, and CG MD
    with prior + network must run 200 steps and keep the LJ fluid's temperature (most of the
    run time is the JIT compilation of the training step and the force term)."""
    from stochastic.cg.tabulated import PairTable

    fl, smp = lj_data
    lengths = fl.system.box.lengths_array()

    def wall(r):
        return 0.5 * (0.9 / r) ** 12, 6.0 * (0.9 / r) ** 12 / r

    prior = {("A", "A"): PairTable.from_function(wall, 0.5, 1.8)}
    pf = pair_prior_forces(smp.frames, fl.system, prior)
    res = train_force_matching(smp.frames, smp.forces, lengths, SPEC, pf, hidden=(24, 24),
                               steps=150, batch_frames=2, learning_rate=5e-3)  # fmt: skip
    print(f"ML-CG residual: prior {res.prior_residual:.3f}, train {res.train_residual:.3f}, "
          f"held-out {res.validation_residual:.3f}")  # fmt: skip
    assert res.validation_residual < 0.3 * res.prior_residual
    assert res.validation_residual < 2.0 * res.train_residual + 0.02
    from stochastic.cg.tabulated import TabulatedPair

    terms = [TabulatedPair(fl.system, prior), MLForceTerm(fl.system, res.network)]
    from stochastic.cg.sampling import FluidSampler
    from stochastic.cg.targets import pressure_estimate

    start = smp.frames[-1]  # an equilibrated configuration (the lattice would melt and heat)
    run = FluidSampler(fl.system, start, fl.temperature, dt=0.004, seed=4).run(terms, 50, 150, 5)
    assert np.all(np.isfinite(run.frames))
    t = pressure_estimate(run.temperature, 5)  # mean and block standard error of the series
    assert abs(t.value - fl.temperature) < 0.03 * fl.temperature + 3 * t.error
