"""Bazant-Storey-Kornyshev modified Poisson (pnp.forms.correlations) on a 1D slab.

Units as in tests/test_steric_slab.py (lengths in lambda_D of a 1:1 bulk, K = 1/2). The wall holds
a Dirichlet potential and the BSK condition ``f' = 0`` (natural); zero-current Nernst-Planck ions.

Linearised reference (independent of the code): ``l^2 psi'''' - psi'' + kappa^2 psi = 0`` with
``psi(0) = Psi``, ``psi'''(0) = 0`` (BSK wall condition) and decay; ``psi = A1 exp(-k1 x) + A2
exp(-k2 x)`` with ``k^2 = (1 +- sqrt(1 - 4 l^2 kappa^2)) / (2 l^2)``, complex conjugate (damped
oscillation) for ``l kappa > 1/2``.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_steric_slab import Slab


def linear_bsk(x: np.ndarray, ell: float, psi0: float, kappa: float = 1.0) -> np.ndarray:
    """Analytic linearised BSK potential (see the module docstring)."""
    disc = np.sqrt(complex(1 - 4 * ell**2 * kappa**2))
    k1, k2 = np.sqrt((1 + disc) / (2 * ell**2)), np.sqrt((1 - disc) / (2 * ell**2))
    # A1 + A2 = psi0, A1 k1^3 + A2 k2^3 = 0 (psi''' = 0 at the wall)
    a1 = psi0 * k2**3 / (k2**3 - k1**3)
    a2 = psi0 - a1
    return np.real(a1 * np.exp(-k1 * x) + a2 * np.exp(-k2 * x))


@pytest.mark.parametrize("ell", [0.3, 1.0, 2.0])
def test_linearised_planar_solution(ell):
    """Small wall potential (1e-3 kT/e): computed psi/Psi within 1e-4 of the analytic
    solution at every node (the acceptance asks 1%; measured 3e-8), monotonic for l < 1/2,
    oscillating above."""
    psi0 = 1e-3
    slab = Slab(model="point", ell=ell, length=40.0, n=300).solve(psi0)
    exact = linear_bsk(slab.x, ell, psi0)
    err = np.max(np.abs(slab.psi_values - exact)) / psi0
    assert err < 1e-4, err
    changes_sign = bool(np.any(slab.psi_values < -1e-6 * psi0))
    assert changes_sign == (ell > 0.5)


def _cumulative_charge(slab: Slab) -> np.ndarray:
    rho = slab.concentrations()
    total = 3 * rho[0] - rho[1]
    steps = 0.5 * (total[1:] + total[:-1]) * np.diff(slab.x)
    return np.concatenate([[0.0], np.cumsum(steps)])


def test_overscreening_trivalent_disappears_as_lc_vanishes():
    """3:1 salt with steric ions (BSK's combination: v_3+ = 0.1, v_- = 0.05 in c_b units) at a
    -6 kT/e wall (18 kT for the counter-ion). With l_c = lambda_D (l_c kappa = 1.4 > 1/2) the
    counter-ion layer overcompensates the wall charge: the cumulative ionic charge exceeds its
    total by > 10% (measured 26%: charge inversion in the second layer) and psi turns positive;
    with l_c = 0.01 lambda_D there is no inversion and psi equals steric PB (no correlations) to
    1e-3 (measured 3e-5 relative in the total charge)."""
    kwargs = {"valences": (3, -1), "bulk": (1.0 / 3.0, 1.0), "volumes": (0.1, 0.05)}
    strong = Slab(ell=1.0, **kwargs).solve(-6.0)
    q = _cumulative_charge(strong)
    assert q[-1] > 0
    assert np.max(q) / q[-1] - 1 > 0.10, np.max(q) / q[-1]
    assert np.max(strong.psi_values) > 0.1
    weak = Slab(ell=0.01, **kwargs).solve(-6.0)
    pb = Slab(**kwargs).solve(-6.0)
    qw = _cumulative_charge(weak)
    assert np.max(qw) / qw[-1] - 1 < 1e-6, np.max(qw) / qw[-1]
    assert np.max(np.abs(weak.psi_values - pb.psi_values)) < 1e-3
