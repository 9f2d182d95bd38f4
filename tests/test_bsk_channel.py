"""BSK modified PB (pnp.solvers.pb with correlation_length) on the default channel.

The same equilibrium two ways: PB with the BSK field (one potential, ions Bikerman functions of
psi) and steric+correlations PNP at 0 V (chemical-potential unknowns, zero current). They must
agree to 1e-6 kT/e (same mesh, same quadrature). With l_c -> 0.01 nm the BSK PB potential
approaches plain Bikerman PB (the difference drops by more than 10x; what remains is the P1
projection of the charge in the mixed form).
"""

from __future__ import annotations

import numpy as np
import pytest

import poreflux
from meshes import names
from meshes.channel import build_channel, default_channel
from pnp.problems.electrostatics import DirichletPotential, Electrostatics, PBProblem, SurfaceCharge
from pnp.problems.transport import DEFAULT_PERMITTIVITY, channel_problem
from pnp.solvers.pb import PBSolver
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from poreflux.errors import InputError

SIZE, LC, SIGMA = 0.7, 0.8, -0.2


@pytest.fixture(scope="module")
def coarse():
    return build_channel(default_channel(h_pore=0.1, h_bath=1.0), 2)


def _pb(cmesh, electrolyte, lc):
    perm = {r: DEFAULT_PERMITTIVITY[r] for r in cmesh.regions if r in DEFAULT_PERMITTIVITY}
    walls = [w for w in (names.MEMBRANE_WALL, names.PROTEIN_WALL) if cmesh.has_boundary(w)]
    es = Electrostatics(
        temperature=298.15,
        permittivity=perm,
        surface_charges=tuple(SurfaceCharge(w, SIGMA) for w in walls),
        dirichlet=(DirichletPotential(names.TOP, 0.0), DirichletPotential(names.BOTTOM, 0.0)),
    )
    problem = PBProblem(es, electrolyte, model="bikerman", ion_size=SIZE, correlation_length=lc)
    return PBSolver(cmesh, problem, rtol=1e-12, atol=1e-12).solve()


def test_bsk_pb_equals_bsk_pnp_at_zero_voltage(coarse):
    """0.5 M of a 2:1 salt (CaCl2, divalent counter-ions at a -0.2 C/m^2 wall), l_c = 0.8 nm."""
    salt = poreflux.salt("CaCl2", 500.0)
    pb = _pb(coarse, salt, LC)
    problem = channel_problem(
        coarse, salt, surface_charge=SIGMA, ion_model="steric+correlations", ion_size=SIZE,
        correlation_length=LC,
    )  # fmt: skip
    options = SolverOptions(rtol=1e-12, atol=1e-12, quadrature_degree=2)
    pnp = SteadyPNPSolver(coarse, problem, options).solve()
    diff = float(np.max(np.abs(pnp.psi.x.array - pb.psi.x.array)))
    assert diff < 1e-6, diff
    plain = _pb(coarse, salt, None)
    big = float(np.max(np.abs(plain.psi.x.array - pb.psi.x.array)))
    small = _pb(coarse, salt, 0.01)
    tiny = float(np.max(np.abs(plain.psi.x.array - small.psi.x.array)))
    # what is left at l_c -> 0 is the P1 L2 projection of the charge (O(h^2)), not physics
    assert big > 1e-2 and tiny < 0.1 * big, (big, tiny)


def test_bsk_pb_inputs(coarse):
    es = Electrostatics(298.15, {"bath": 78.3})
    with pytest.raises(InputError, match="correlation_length"):
        PBProblem(es, poreflux.salt("KCl", 100.0), correlation_length=0.0)
    with pytest.raises(InputError, match="electrolyte"):
        PBProblem(es, None, correlation_length=0.5)
