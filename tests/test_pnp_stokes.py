"""Coupled Poisson-Nernst-Planck-Stokes (electro-osmosis) against limits and analytic results.

- zero surface charge, no pressure difference, 0 V: the flow vanishes (|u| < 1e-12 nm/ns: the
  electrochemical body force is zero at equilibrium, also discretely) and the fields equal plain
  PNP to 1e-8; at 100 mV the current equals PNP's to 1e-6 (measured 1.8e-7: what remains is the
  induced-charge flow at the low-permittivity membrane, physical, not an error);
- long weakly charged cylinder (Debye-Hueckel regime): the mid-length velocity profile equals
  the Rice-Whitehead profile plus the Poiseuille flow of the local axial pressure gradient
  within 1 % of its maximum (Rice and Whitehead, J. Phys. Chem. 69, 4017 (1965)), ``zeta``
  from the linearised cylinder double layer ``zeta = sigma I0(kappa a) / (eps kappa I1(kappa a))``.
  The cylinder ends are the bath values, so the slightly selective pore polarises the salt
  along its length and the osmotic pressure gradient drives a back-flow (14 % of the
  electro-osmotic velocity here; measured misfit of the sum 0.42 %, 0.41 % on a finer mesh);
- charged pore with baths: Onsager reciprocity of the electrokinetic coefficients within 1 %
  (Mazur and Overbeek 1951), charge and volume conservation through the two ends, signs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.constants import N_A, e, epsilon_0, k
from scipy.special import i0, i1
from test_stokes import _evaluate, cylinder

import poreflux
from meshes.channel import build_channel, cylindrical_pore
from pnp.problems.flow import FlowProblem
from pnp.problems.transport import channel_problem
from pnp.results.flow import (
    electrokinetic_coefficients,
    electroosmotic_mobility,
    pore_convective_current,
    velocity_profile,
)
from pnp.solvers.flow import SteadyPNPStokesSolver
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from poreflux.errors import InputError
from poreflux.water import EPS_WATER_25C

LU = SolverOptions(linear_solver="lu")


@pytest.fixture(scope="module")
def pore():
    geo = cylindrical_pore(1.0, 4.0, h_pore=0.25, h_bath=2.0, bath_radius=6.0, bath_height=6.0)
    return build_channel(geo, 2)


def test_zero_charge_is_pnp(pore):
    salt = poreflux.salt("KCl", 100.0)
    for voltage, tol_u in ((0.0, 1e-12), (100.0, None)):  # 100 mV: measured 1.8e-7
        pb = channel_problem(pore, salt, voltage=voltage)
        flow = SteadyPNPStokesSolver(pore, pb, options=LU).solve()
        plain = SteadyPNPSolver(pore, pb, LU).solve()
        if tol_u is not None:
            assert np.max(np.abs(flow.velocity.x.array)) < tol_u
            assert np.allclose(flow.pnp.psi.x.array, plain.psi.x.array, rtol=0, atol=1e-8)
            continue
        scale = abs(plain.current)
        assert abs(flow.current - plain.current) < 1e-6 * scale, (flow.current, plain.current)
        for a, b in zip(flow.pnp.species_currents_top, plain.species_currents_top, strict=True):
            assert abs(a - b) < 1e-6 * scale


def test_onsager_reciprocity_and_conservation(pore, tmp_path):
    pb = channel_problem(pore, poreflux.salt("KCl", 100.0), surface_charge=-0.05)
    solver = SteadyPNPStokesSolver(pore, pb, options=LU)
    ek = electrokinetic_coefficients(solver, voltage=5.0, pressure_difference_Pa=1e4)
    assert ek.reciprocity_error < 1e-2, ek
    # negative wall: flow and streaming current both run top -> bottom
    assert ek.electroosmotic_flow_per_volt > 0 and ek.streaming_conductance > 0
    # permeance of the pore is below the Poiseuille + Sampson estimate of the uncharged pore
    # (the electroviscous effect only lowers it), and within 20 % of it
    eta = 0.890e-3
    r_pois = 8 * eta * 4e-9 / (math.pi * 1e-36) + 3 * eta / 1e-27
    assert 0.8 < ek.hydraulic_permeance * r_pois < 1.0
    sol = solver.solve(50.0, pressure_difference_Pa=0.0)
    assert sol.flow_rate > 0
    assert abs(sol.flow_rate_top - sol.flow_rate_bottom) < 1e-8 * sol.flow_rate
    assert sol.pnp.conservation_error < 1e-8
    assert pore_convective_current(sol) > 0  # the counter-ion excess moves with the water
    assert electroosmotic_mobility(sol) > 0
    s, uz = velocity_profile(sol, 0.0, 5)
    assert abs(s[-1] - 1.0) < 1e-6 and np.all(uz[:-1] < 0) and abs(uz[-1]) < 1e-8
    written = sol.write(tmp_path / "pore")
    assert all(p.exists() for p in written) and written[2].name == "pore_velocity.bp"
    # total pressure in the pore: above the bath's (the double layer's osmotic excess)
    p_total = sol.pressure().x.array
    assert np.all(np.isfinite(p_total)) and p_total.max() > 0


def test_rice_whitehead_coupled():
    a, length, conc, sigma, voltage = 2.0, 16.0, 100.0, -0.002, 20.0
    cm = cylinder(a, length, 12, 32)
    pb = channel_problem(
        cm, poreflux.salt("KCl", conc), voltage=voltage, surface_charge=sigma, walls=("wall",)
    )
    sol = SteadyPNPStokesSolver(cm, pb, options=LU).solve()
    eps = EPS_WATER_25C * epsilon_0
    kT = k * pb.temperature
    kappa = math.sqrt(2 * e * e * N_A * conc / (eps * kT))  # 1/m
    ka = kappa * a * 1e-9
    zeta = sigma / (eps * kappa) * i0(ka) / i1(ka)  # V
    field = -voltage * 1e-3 / (length * 1e-9)  # E_z [V/m]
    u_hs = -eps * zeta * field / (sol.viscosity_mPa_s * 1e-3)  # m/s = nm/ns
    s, uz = velocity_profile(sol, 0.5 * length, 9)
    rw = u_hs * (1 - i0(kappa * s * 1e-9) / i0(ka))
    # total pressure gradient on the axis around mid-length [MPa/nm]
    ends = np.array([[0.0, 0.5 * length - 2.0, 0.0], [0.0, 0.5 * length + 2.0, 0.0]])
    p = _evaluate(sol.pressure(), ends)[:, 0] * 1e-6
    grad = (p[1] - p[0]) / 4.0
    poiseuille = -grad / (4 * sol.viscosity_mPa_s) * (a * a - s * s)
    assert np.max(np.abs(poiseuille)) < 0.3 * np.max(np.abs(rw))
    exact = rw + poiseuille
    assert np.max(np.abs(uz - exact)) < 1e-2 * np.max(np.abs(rw)), (uz, exact)


def test_flow_inputs(pore):
    pb = channel_problem(pore, poreflux.salt("KCl", 100.0))
    with pytest.raises(InputError, match="krylov"):
        SteadyPNPStokesSolver(pore, pb, options=SolverOptions(linear_solver="krylov"))
    with pytest.raises(InputError, match="FlowProblem"):
        SteadyPNPStokesSolver(pore, pb, flow={"pressure_difference_Pa": 1.0})
    with pytest.raises(InputError, match="slip"):
        SteadyPNPStokesSolver(pore, pb, FlowProblem(0.0, None, 1.0))


def test_fieldsplit_matches_lu(pore):
    """The Krylov path (block preconditioner with the pressure-mass Schur estimate) converges to
    the LU solution; measured: current 4e-11, flow rate 5e-8 relative, 13 FGMRES iterations
    per Newton step."""
    pb = channel_problem(pore, poreflux.salt("KCl", 100.0), voltage=50.0, surface_charge=-0.05)
    flow = FlowProblem(1e4)
    lu = SteadyPNPStokesSolver(pore, pb, flow, LU).solve()
    fs_solver = SteadyPNPStokesSolver(pore, pb, flow, SolverOptions(linear_solver="fieldsplit"))
    fs = fs_solver.solve()
    assert fs_solver.linear_solver == "fieldsplit"
    assert abs(fs.current / lu.current - 1) < 1e-6
    assert abs(fs.flow_rate / lu.flow_rate - 1) < 1e-5
    assert fs.pnp.linear_iterations < 40 * fs.pnp.newton_iterations


@pytest.mark.slow
def test_onsager_reciprocity_3d():
    """Full version in 3D (field split): measured on h_pore = 0.3 nm."""
    geo = cylindrical_pore(1.0, 4.0, h_pore=0.3, h_bath=3.0, bath_radius=6.0, bath_height=6.0)
    cm = build_channel(geo, 3)
    pb = channel_problem(cm, poreflux.salt("KCl", 100.0), surface_charge=-0.05)
    solver = SteadyPNPStokesSolver(cm, pb, options=SolverOptions(linear_solver="fieldsplit"))
    ek = electrokinetic_coefficients(solver, voltage=5.0, pressure_difference_Pa=1e4)
    assert ek.reciprocity_error < 1e-2, ek
