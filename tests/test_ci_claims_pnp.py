"""CI-sized versions of continuum claims whose full-size checks are marked slow.

- The PMF -> PNP excess chemical potential in 3D (full size: ``test_cation_well_as_mu_ex_in_3d``
  in tests/test_pmf_coupling.py, 9 s on a quiet machine): here a coarse 3D channel and no chain
  comparison, the same mapping (:func:`pnp.hierarchy.mu_ex_from_pmf` with ``dim=3``, pore axis
  ``x[2]``) and the same equilibrium.
"""

from __future__ import annotations

import numpy as np
import pytest

import pnp.results  # noqa: F401  (h5py before dolfinx.fem.petsc, or h5py fails to load)
import poreflux
from meshes.channel import build_channel, cylindrical_pore
from pnp.hierarchy import mu_ex_from_pmf
from pnp.problems.transport import channel_problem
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from stochastic.chain import TransportProfile

T = 298.15


def _well(z: np.ndarray, depth: float = -1.0, half: float = 2.5, width: float = 0.3):
    """A smooth box: ``depth`` kT for |z| < half, 0 outside."""
    return 0.5 * depth * (np.tanh((z + half) / width) - np.tanh((z - half) / width))


def test_pmf_well_as_mu_ex_in_3d_gives_boltzmann():
    """K+ PMF well (1 kT deep, |z| < 2.5 nm) mapped onto a coarse 3D channel, V = 0, no space
    charge: the equilibrium is c_K = c0 exp(-W(z)) and c_Cl = c0 at every water node.

    With log-concentration unknowns the Boltzmann profile is in the discrete space, so the only
    errors are the Newton tolerance and the tabulated PMF's interpolation: tolerance 1e-4
    relative (measured 6e-7); inside the pore the mean enrichment is e^1 to 0.3 % (measured
    1e-4: the tanh edges).
    A wrong axis (x[1] instead of x[2] in 3D), sign or unit of mu_ex fails by O(1).
    """
    c0 = 1000.0
    geom = cylindrical_pore(1.0, 5.0, bath_radius=4.0, bath_height=3.0, h_pore=0.5, h_bath=2.0)
    cm = build_channel(geom, 3)
    z = np.linspace(-6.0, 6.0, 241)
    k = TransportProfile.from_arrays("K+", 1, z, _well(z), 1.957, temperature=T)
    mu = mu_ex_from_pmf(k, dim=3)
    problem = channel_problem(cm, poreflux.salt("KCl", c0), mu_ex={"K+": mu}, temperature=T)
    solver = SteadyPNPSolver(cm, problem, SolverOptions(space_charge=False))
    sol = solver.solve(0.0)
    zw = solver.W.tabulate_dof_coordinates()[:, 2]
    c_k, c_cl = sol.concentration_values("K+"), sol.concentration_values("Cl-")
    np.testing.assert_allclose(c_k, c0 * np.exp(-_well(zw)), rtol=1e-4)
    np.testing.assert_allclose(c_cl, c0, rtol=1e-4)
    core = np.abs(zw) < 1.5
    assert core.sum() >= 10
    assert np.mean(c_k[core]) / c0 == pytest.approx(np.e, rel=3e-3)
    assert abs(sol.current) < 1e-8
