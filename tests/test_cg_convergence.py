"""IBI convergence judged against measured noise (issue 13, point 7) and a CI-sized LJ run.

The analytic engine returns g = exp(-(U + W)/kT) plus Gaussian noise of a known standard
error, reported as ``RDF.g_error``; the pressure is a linear functional of the potential error
plus noise of a known error. IBI must stop once the RDF distance is within 1.5x the noise floor
(and |dP| within 1.5x its error), not before and not later, and return the best iteration when
the criteria cannot be met.
"""

import numpy as np
import pytest

from stochastic.cg.ibi import IBISettings, IterativeBoltzmannInversion
from stochastic.cg.tabulated import lj_table
from stochastic.cg.targets import RDF, Estimate, pressure_estimate, rdf_noise
from stochastic.cg.testsystems import lj_fluid, table_simulator

KT = 1.0
TEMP = KT / 0.0083144626181532
EDGES = np.linspace(0.0, 2.5, 126)
R = 0.5 * (EDGES[1:] + EDGES[:-1])
PAIR = ("A", "A")
W = 0.4 * np.exp(-((R - 1.3) ** 2) / 0.05)
SE = 0.01


def _u_true(r):
    s6 = r**-6.0
    return 4 * (s6 * s6 - s6) - 4 * (2.5**-12 - 2.5**-6)


def _g_of(u):
    g = np.exp(-(u + W) / KT)
    g[R < 0.85] = 0.0
    return g


TARGET = RDF(EDGES, _g_of(_u_true(R)), PAIR, g_error=np.full(len(R), SE))


class NoisyEngine:
    """Exact g plus N(0, SE) per bin; P = mean(U - U_true) over r in (1, 2.5) plus N(0, SE_P)."""

    def __init__(self, seed=0, p_error=0.02):
        self.rng = np.random.default_rng(seed)
        self.p_error = p_error

    def __call__(self, tables):
        u = tables[PAIR].energy(R)
        g = _g_of(u)
        core = g > 0
        g[core] = np.abs(g[core] + self.rng.normal(0, SE, core.sum()))
        m = R > 1.0
        p = float(np.mean(u[m] - _u_true(R[m]))) + self.rng.normal(0, self.p_error)
        return {PAIR: RDF(EDGES, g, PAIR, g_error=np.full(len(R), SE))}, Estimate(p, self.p_error)


def test_noise_floor_of_two_rdfs():
    assert rdf_noise(TARGET, TARGET) == pytest.approx(SE * np.sqrt(2))
    assert np.isnan(rdf_noise(TARGET, RDF(EDGES, TARGET.g, PAIR)))


def test_ibi_stops_at_the_noise_floor_and_not_before():
    s = IBISettings(TEMP, alpha=0.5, smooth=1, max_iterations=40, pressure_target=0.0)
    ibi = IterativeBoltzmannInversion({PAIR: TARGET}, NoisyEngine(), s)
    res = ibi.run()
    assert res.converged
    last = res.history[-1]
    floor = SE * np.sqrt(2)
    assert last.noise == pytest.approx(floor)
    assert last.distance < 1.5 * floor
    assert abs(last.pressure) < 1.5 * 0.02
    # every earlier iteration failed one of the two criteria
    for h in res.history[:-1]:
        assert h.distance >= 1.5 * floor or abs(h.pressure) >= 1.5 * 0.02
    # the noise-free error of the returned potential is at the level the noise allows
    m = R > 0.95
    err = np.max(np.abs(ibi.table(res.potentials[PAIR]).energy(R[m]) - _u_true(R[m])))
    assert err < 0.1


def test_unreachable_criteria_return_the_best_iteration():
    s = IBISettings(TEMP, alpha=0.5, smooth=1, max_iterations=6, noise_factor=0.1)
    ibi = IterativeBoltzmannInversion({PAIR: TARGET}, NoisyEngine(1), s)
    res = ibi.run()
    assert not res.converged and res.n_iterations == 6
    d = [h.distance for h in res.history]
    assert res.best == int(np.argmin(d))
    assert res.potentials is res.history[res.best].potentials
    assert "noise" in res.best_iteration.describe()


@pytest.fixture(scope="module")
def lj_small():
    """108 LJ particles at T* = 0.85, rho* = 0.776 (the slow tests use 256 and longer runs)."""
    fl = lj_fluid(3, 0.776, 0.85)
    ref = fl.sampler(seed=1).run([fl.lj_term()], 1000, 6000, 10)
    return fl, fl.rdf(ref, 0.05), pressure_estimate(ref.pressure, 8)


def test_ci_ibi_imc_pressure_matches_rdf_and_pressure_within_noise(lj_small):
    """IBI + IMC + pressure correction on the small fluid (at most 8 short iterations).

    Direct Boltzmann inversion is off by 0.55 eps (max over r > 0.95) and IBI/IMC without the
    pressure correction leaves the pressure ~2.5 (25 standard errors) too high at this size.
    What holds at this size for every sampler seed (measured, seeds 2-8): the best iteration's
    RDF distance is within 2x its noise floor (1.13-1.64x), the potential is closer to LJ than
    the inversion (0.10-0.25 eps), and the pressure error is under half of the uncorrected excess
    (|dP| <= 0.83). The strict stop criteria (RDF < 1.5x noise and pressure within 1.5 combined
    standard errors) are met within 8 iterations of 1500 steps by 0-1 seeds in 5 (the correction
    oscillates between iterations at this size): that claim is the full-size slow test's
    (``tests/test_cg_lj_acceptance.py::test_ibi_with_pressure_correction``).
    """
    fl, target, p_ref = lj_small
    s = IBISettings(fl.temperature, pressure_target=p_ref.value, pressure_target_error=p_ref.error,
                    imc_from=2, pressure_max_kt=0.3, max_iterations=8,
                    min_iterations=3)  # fmt: skip
    sim = table_simulator(fl, n_equil=200, n_prod=1500, bin_width=0.05)
    res = IterativeBoltzmannInversion({PAIR: target}, sim, s).run()
    best = res.best_iteration
    r = np.linspace(0.95, 2.5, 300)[:-1]
    dev = np.max(np.abs(res.tables[PAIR].energy(r) - lj_table().energy(r)))
    print(f"CI IBI: best {res.best} of {res.n_iterations}, converged {res.converged}, "
          f"max|U-U_LJ| {dev:.3f}, P {best.pressure:.3f} vs {p_ref.value:.3f}, "
          f"RDF rms {best.distance:.4f} (noise {best.noise:.4f})")  # fmt: skip
    assert best.distance < 2.0 * best.noise
    assert abs(best.pressure - p_ref.value) < 1.25  # uncorrected: ~2.5 too high
    assert dev < 0.4
