"""PME accuracy from one tolerance: alpha and grid chosen so that real and mesh errors meet it.

The reference is a converged Ewald sum (:class:`~stochastic.md.ewald.Ewald` at tolerance 1e-14).
Errors are those of the Coulomb term alone (LJ is identical in both and would only dilute the
relative error): relative energy error ``|E/E_ref - 1|`` and RMS relative force error
``sqrt(sum |F - F_ref|^2 / sum |F_ref|^2)``.

Measured (order 6; tolerance -> relative energy error, relative RMS force error):

- random electrolyte, 40 ions, 2.5 nm box, rc 1.2 nm: 1e-4 -> 1.7e-5, 4.5e-5;
  1e-5 -> 1.3e-6, 5.3e-6; 1e-6 -> 8.1e-8, 4.8e-7;
- water-like dipoles (30 x O(-0.8) + 2 H(+0.4), intramolecular exclusions), 2 nm box,
  rc 0.9 nm: 1e-4 -> 2.0e-4, 1.7e-4; 1e-5 -> 1.0e-5, 1.7e-5; 1e-6 -> 8.3e-7, 1.7e-6.

Asserted: both relative errors below ``3 x tolerance`` (the documented factor; the dipolar
system, whose forces are weak compared with its charges, needs ~2), and the measured RMS force
error within a factor 2 of the a-priori estimate (measured ratios 0.68-1.07; the estimate
assumes uncorrelated random positions).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from stochastic.md import pme
from stochastic.md.errors import MDInputError
from stochastic.md.ewald import Ewald
from stochastic.md.forcefield import ForceField
from stochastic.md.init import random_positions
from stochastic.md.pme import PME
from stochastic.md.system import Box, ParticleType, System

NA = ParticleType("Na", 22.99, 1.0, 0.26, 0.06)
CL = ParticleType("Cl", 35.45, -1.0, 0.44, 0.42)
OW = ParticleType("O", 16.0, -0.8, 0.316, 0.65)
HW = ParticleType("H", 1.008, 0.4)

#: Documented factor: relative errors of PME(tol) stay below FACTOR * tol.
FACTOR = 3.0


def electrolyte() -> tuple[System, np.ndarray, float]:
    box = Box((2.4, 2.6, 2.5))
    pos = random_positions(40, box, 0.25, seed=4)
    return System.from_counts([NA, CL], [20, 20], box), pos, 1.2


def water_like() -> tuple[System, np.ndarray, float]:
    box = Box((2.0, 2.0, 2.0))
    oxygens = random_positions(30, box, 0.28, seed=3)
    rng = np.random.default_rng(3)
    pos, names, excl = [], [], []
    for i, x in enumerate(oxygens):
        d = rng.normal(size=(2, 3))
        d /= np.linalg.norm(d, axis=1)[:, None]
        pos += [x, x + 0.1 * d[0], x + 0.1 * d[1]]
        names += ["O", "H", "H"]
        excl += [(3 * i, 3 * i + 1), (3 * i, 3 * i + 2), (3 * i + 1, 3 * i + 2)]
    system = System((OW, HW), tuple(names), box, tuple(excl))
    return system, np.array(pos) % 2.0, 0.9


def errors(system, pos, coulomb, reference):
    res = ForceField(system, [coulomb]).compute(pos)
    e_err = abs(res.potential_energy / reference.potential_energy - 1)
    df = np.sqrt(np.mean(np.sum((res.forces - reference.forces) ** 2, axis=1)))
    f_err = df / np.sqrt(np.mean(np.sum(reference.forces**2, axis=1)))
    return e_err, f_err, df


@pytest.mark.parametrize("make", [electrolyte, water_like])
def test_pme_tolerance_bounds_energy_and_force_errors(make):
    system, pos, rc = make()
    reference = ForceField(system, [Ewald(system, rc, tolerance=1e-14)]).compute(pos)
    grids = []
    for tol in (1e-4, 1e-5, 1e-6):
        coulomb = PME(system, rc, tolerance=tol)
        e_err, f_err, df = errors(system, pos, coulomb, reference)
        estimate = math.hypot(coulomb.real_space_error, coulomb.reciprocal_error)
        print(
            f"{make.__name__} tol {tol:.0e}: grid {coulomb.grid}, energy error {e_err:.2e}, "
            f"force error {f_err:.2e}, RMS force error {df:.3e} vs estimate {estimate:.3e}"
        )
        assert e_err < FACTOR * tol
        assert f_err < FACTOR * tol
        assert 0.5 < df / estimate < 2.0
        # the mesh is refined until its error is at most the real-space error at tol
        assert coulomb.reciprocal_error <= coulomb.real_space_error * (1 + 1e-9)
        grids.append(np.prod(coulomb.grid))
    assert grids[0] < grids[1] < grids[2]


def test_grid_follows_spline_order_and_explicit_spacing_overrides():
    system, _, rc = electrolyte()
    points = [np.prod(PME(system, rc, tolerance=1e-4, order=p).grid) for p in (4, 6, 8)]
    assert points[0] > points[1] > points[2]  # higher order: coarser grid for the same accuracy
    explicit = PME(system, rc, tolerance=1e-6, grid_spacing=0.1, order=6)
    assert explicit.grid == (24, 27, 25)  # ceil(L / 0.1) rounded up to 2-3-5 sizes


@pytest.mark.parametrize(("order", "spacing"), [(4, 0.1), (6, 0.15), (8, 0.1)])
def test_reciprocal_error_estimate_matches_measured_mesh_error(order, spacing):
    """Mesh error alone (same alpha, converged real space): estimate within 35 % (measured
    ratios measured/estimate 0.91-1.22 over orders 4-8, alpha 2.5-3.5, spacings 0.07-0.2 nm)."""
    system, pos, rc = electrolyte()
    alpha = 3.0
    reference = ForceField(system, [Ewald(system, rc, alpha=alpha, tolerance=1e-14)]).compute(pos)
    coulomb = PME(system, rc, 1e-14, alpha=alpha, grid_spacing=spacing, order=order)
    _, _, df = errors(system, pos, coulomb, reference)
    print(f"order {order}, h {spacing}: measured {df:.3e}, estimate {coulomb.reciprocal_error:.3e}")
    assert 1 / 1.35 < df / coulomb.reciprocal_error < 1.35


def test_self_force_estimate_matches_single_charge():
    """A lone charge feels a mesh self force (analytic differentiation); its mean square over the
    position in a cell (6^3 midpoint quadrature) matches :func:`pme.spme_self_force_ms`."""
    box = Box((2.4, 2.6, 2.5))
    system = System.from_counts([NA], [1], box)
    coulomb = PME(system, 1.2, 1e-14, alpha=2.5, grid_spacing=0.15, order=4)
    h = coulomb.lengths / np.array(coulomb.grid)
    ticks = (np.arange(6) + 0.5) / 6
    cell = np.stack(np.meshgrid(ticks, ticks, ticks, indexing="ij"), -1).reshape(-1, 3)
    f2 = []
    for frac in cell:
        f = np.zeros((1, 3))
        coulomb.reciprocal(((frac + np.array([3, 5, 7])) * h)[None, :], f)
        f2.append(np.sum(f**2))
    measured = np.mean(f2) / coulomb.ke**2
    estimate = pme.spme_self_force_ms(coulomb.grid, coulomb.lengths, 2.5, 4, pmax=2)
    print(f"self force mean square {measured:.4e}, estimate {estimate:.4e}")
    assert measured == pytest.approx(estimate, rel=0.03)


def test_mesh_error_estimate_falls_as_spacing_to_the_order_minus_one():
    """Forces are gradients of an order-p spline interpolant: RMS mesh force error ~ h^(p-1) as
    h -> 0 (alpha h = 0.11 -> 0.075; log-log slope within 10 %; measured PME errors show the
    same slopes, 2.9-3.3 for p = 4 and 5.3-5.6 for p = 6, at alpha h 0.2-0.075)."""
    q = np.array([1.0, -1.0] * 20)
    for order in (4, 6, 8):
        err = [
            pme.reciprocal_force_error((n, n, n), np.full(3, 2.4), 3.0, order, q) for n in (64, 96)
        ]
        slope = math.log(err[0] / err[1]) / math.log(96 / 64)
        print(f"order {order}: slope {slope:.2f}")
        assert slope == pytest.approx(order - 1, rel=0.1)


def test_real_space_functional_matches_kolafa_perram():
    """Q_real -> 4 exp(-2 alpha^2 rc^2) / rc for alpha rc >> 1 (Kolafa & Perram 1992)."""
    for x in (3.0, 4.0, 5.0):
        rc = 1.0
        q_real = pme.real_space_error_functional(x / rc, rc)
        asymptotic = 4 * math.exp(-2 * x * x) / rc
        assert q_real == pytest.approx(asymptotic, rel=1.5 / x**2)


def test_pme_grid_spacing_and_order_are_validated():
    system, _, rc = electrolyte()
    for bad in (0.0, -0.1, math.nan, math.inf):
        with pytest.raises(MDInputError, match="grid_spacing"):
            PME(system, rc, grid_spacing=bad)
    with pytest.raises(MDInputError, match="order"):
        PME(system, rc, order=5)


def test_oversized_automatic_grid_is_refused_but_explicit_spacing_is_not(monkeypatch):
    system, _, rc = electrolyte()
    monkeypatch.setattr(pme, "MAX_AUTO_GRID_POINTS", 20**3)
    with pytest.raises(MDInputError, match="grid_spacing"):
        PME(system, rc, tolerance=1e-6, order=6)
    assert np.prod(PME(system, rc, tolerance=1e-6, grid_spacing=0.05).grid) > 20**3
