"""PNP against analytic limits: GHK flux, Nernst reversal, Henderson diffusion potential,
Boltzmann equilibrium and bath values, Hall conductance, PB equilibrium, charge conservation of
the end currents and convergence of cross-section currents; the Krylov path's PETSc options."""

from __future__ import annotations

import math

import numpy as np
import pytest

import poreflux
from meshes import names
from meshes.boxes import slab_mesh
from meshes.channel import build_channel, cylindrical_pore, default_channel
from pnp.problems.electrostatics import DirichletPotential, Electrostatics, PBProblem
from pnp.problems.transport import PNPProblem, channel_problem, conductivity_S_per_m
from pnp.results import currents
from pnp.solvers.pb import PBSolver
from pnp.solvers.steady import SolverOptions, SteadyPNPSolver
from poreflux.units import debye_length_nm, thermal_voltage_mV

T = 298.15


@pytest.fixture(scope="module")
def coarse_channel():
    return build_channel(default_channel(h_pore=0.1, h_bath=1.0), 2)


# ----------------------------------------------------------------------------- GHK
def test_ghk_flux_constant_field():
    """Nernst-Planck in a prescribed linear potential (Poisson decoupled) = GHK flux, < 0.5%.

    Measured relative errors: <= 6.5e-6 for both species at u = -4, -1, 1, 4.
    """
    L = 10.0
    cm = slab_mesh(5.0, 5.0, 0.05, dim=2, width=0.2, water_regions=(names.LAYER_1, names.LAYER_2))
    es = Electrostatics(T, {names.LAYER_1: 78.5, names.LAYER_2: 78.5})
    c_top, c_bot = 100.0, 20.0
    problem = PNPProblem(
        es,
        poreflux.salt("KCl", c_top),
        poreflux.salt("KCl", c_bot),
        top=names.LEFT,
        bottom=names.RIGHT,
    )
    solver = SteadyPNPSolver(cm, problem, SolverOptions(space_charge=False))
    vt = thermal_voltage_mV(T)
    width = 0.2
    c0 = solver.scales.c0_mM
    scale = solver.scales.current_scale_pA
    for u in (-4.0, -1.0, 1.0, 4.0):
        sol = solver.solve(u * vt)
        for sp in problem.species:
            uz = sp.valence * u
            cl, cr = c_top / c0, c_bot / c0
            j = sp.diffusion / L * uz * (cl - cr * math.exp(-uz)) / (1 - math.exp(-uz))
            expected = sp.valence * j * width * scale  # pA, left (top) -> right (bottom)
            got = sol.species_currents[sp.name]
            assert got == pytest.approx(expected, rel=5e-3), (u, sp.name, got, expected)


# ----------------------------------------------------------------------------- Nernst
def test_nernst_reversal_single_permeant_cation(coarse_channel):
    """K+ alone carries current; 10:1 baths: zero K+ current at (kT/e) ln 10 within 0.5 mV.

    With log-concentrations the equilibrium profile ln c_K = const - psi is in the P1 space, so
    the root is exact up to the root-finding tolerance (measured error 5e-7 mV).
    """
    problem = channel_problem(
        coarse_channel,
        poreflux.salt("KCl", 100.0),
        bath_bottom=poreflux.salt("KCl", 10.0),
        surface_charge=-0.05,
    )
    solver = SteadyPNPSolver(coarse_channel, problem)
    v_rev = currents.reversal_potential(solver, species="K+", xtol=1e-3)
    # equilibrium of K+: ln c + psi constant -> phi_top - phi_bottom = (kT/e) ln(c_bot/c_top)
    expected = -thermal_voltage_mV(T) * math.log(10.0)
    assert abs(v_rev - expected) < 0.5, (v_rev, expected)


# ----------------------------------------------------------------------------- Henderson
def _henderson_mV(problem: PNPProblem, ratio: float) -> float:
    """Zero-current (diffusion) potential ``phi_top - phi_bottom`` of a 1:1 salt, electroneutral
    limit: ``-(D+ - D-)/(D+ + D-) (kT/e) ln(c_top/c_bottom)`` (Planck's binary junction, equal to
    Henderson's formula for one salt; Bard & Faulkner, Electrochemical Methods, eq. 2.3.39)."""
    d_plus, d_minus = (sp.diffusion for sp in problem.species)
    return -(d_plus - d_minus) / (d_plus + d_minus) * thermal_voltage_mV(T) * math.log(ratio)


def test_binary_salt_reversal_approaches_henderson(coarse_channel):
    """NaCl 10:1 through an uncharged pore: zero total current at the Henderson potential.

    Henderson (+12.27 mV here) is the electroneutral limit; PNP resolves the charge separation
    of the junction, whose correction shrinks with the Debye length of the dilute bath (the
    pore length L = 5 nm is the gradient scale). Bound: |V - V_H| < |V_H| lambda_D / L.
    Measured |V - V_H| (h_pore 0.1 nm): 1.48 mV at 100|10 mM, 0.37 at 1000|100, 0.155 at
    3000|300 (bounds 2.4, 0.75, 0.44 mV at the last two); mesh error (h_pore 0.2 vs 0.1 nm)
    3e-3 mV. A wrong diffusion coefficient, drift sign or junction coupling moves V by mV.
    """
    length = 5.0
    deviations = []
    for c_top in (1000.0, 3000.0):
        problem = channel_problem(
            coarse_channel,
            poreflux.salt("NaCl", c_top),
            bath_bottom=poreflux.salt("NaCl", c_top / 10),
        )
        solver = SteadyPNPSolver(coarse_channel, problem)
        v_rev = currents.reversal_potential(solver, xtol=1e-4)
        v_h = _henderson_mV(problem, 10.0)
        bound = abs(v_h) * debye_length_nm(c_top / 10, T) / length
        assert abs(v_rev - v_h) < bound, (c_top, v_rev, v_h, bound)
        deviations.append(abs(v_rev - v_h))
    # the electroneutral limit is approached as lambda_D -> 0 (at least like lambda_D)
    assert deviations[1] < deviations[0] / math.sqrt(3.0), deviations


# ----------------------------------------------------------------------------- Boltzmann
def test_equilibrium_is_boltzmann_with_bath_values(coarse_channel):
    """V = 0, equal baths, charged wall: c_+- = c0 exp(-+ psi) at every node (a double layer
    with |psi| > 1), hence c_+ c_- = c0^2; at 100 mV the bath-end concentrations are the bath
    values. Measured: Boltzmann defect 1e-10 relative; bath values exact to round-off."""
    c0 = 150.0
    problem = channel_problem(coarse_channel, poreflux.salt("KCl", c0), surface_charge=-0.1)
    solver = SteadyPNPSolver(coarse_channel, problem)
    eq = solver.solve(0.0)
    psi = eq.psi_water.x.array  # kT/e on the water sub-mesh
    assert np.max(np.abs(psi)) > 1.0  # a real double layer
    c_k, c_cl = eq.concentration_values("K+"), eq.concentration_values("Cl-")
    np.testing.assert_allclose(c_k, c0 * np.exp(-psi), rtol=1e-7)
    np.testing.assert_allclose(c_cl, c0 * np.exp(psi), rtol=1e-7)
    np.testing.assert_allclose(c_k * c_cl, c0**2, rtol=1e-7)
    assert c_k.max() > 5 * c0  # counter-ion enrichment at the wall
    off = channel_problem(
        coarse_channel,
        poreflux.salt("KCl", c0),
        bath_bottom=poreflux.salt("KCl", 15.0),
        surface_charge=-0.1,
    )
    solver = SteadyPNPSolver(coarse_channel, off)
    sol = solver.solve(100.0)
    for name in ("K+", "Cl-"):
        c = sol.concentration_values(name)
        np.testing.assert_allclose(c[solver.top_dofs_w], c0, rtol=1e-12)
        np.testing.assert_allclose(c[solver.bottom_dofs_w], 15.0, rtol=1e-12)


# ----------------------------------------------------------------------------- PETSc options
def test_krylov_path_sets_only_options_petsc_reads(coarse_channel):
    """Every PETSc option the Krylov PNP solver puts into the database is read by PETSc, also
    for a solver that is built and never solves (PETSc: "unused database options")."""
    from petsc4py import PETSc

    problem = channel_problem(coarse_channel, poreflux.salt("KCl", 150.0), voltage=50.0)
    db = PETSc.Options()

    def unused(solver: SteadyPNPSolver) -> list[str]:
        prefixes = (solver.newton.prefix, "poreflux_ecpc_")
        return [k for k in db.getAll() if k.startswith(prefixes) and not db.used(k)]

    idle = SteadyPNPSolver(coarse_channel, problem, SolverOptions(linear_solver="krylov"))
    assert idle.preconditioner is not None
    assert unused(idle) == []
    idle.close()
    solver = SteadyPNPSolver(coarse_channel, problem, SolverOptions(linear_solver="krylov"))
    sol = solver.solve()
    assert sol.current > 0
    assert unused(solver) == []
    for name in ("K+", "Cl-"):  # the Krylov solution keeps the bath values at both ends
        c = sol.concentration_values(name)
        np.testing.assert_allclose(c[solver.top_dofs_w], 150.0, rtol=1e-12)
        np.testing.assert_allclose(c[solver.bottom_dofs_w], 150.0, rtol=1e-12)
    solver.close()


# ----------------------------------------------------------------------------- Hall / Ohmic
@pytest.mark.slow
def test_uncharged_pore_hall_and_ohmic_fine():
    _hall_and_ohmic(h_pore=0.05, h_bath=1.5)


def test_uncharged_pore_hall_and_ohmic():
    _hall_and_ohmic(h_pore=0.1, h_bath=2.0)


def _hall_and_ohmic(h_pore: float, h_bath: float) -> None:
    """1 nm x 5 nm pore, 1 M KCl, 10 mV; reservoirs 30 nm radius x 30 nm high each.

    Measured: G_PNP / G_Hall - 1 = -0.35% (h_pore 0.1) and -0.6% (0.05); G_PNP / G_Ohm - 1 = -3e-6.
    """
    geom = cylindrical_pore(
        1.0, 5.0, bath_radius=30.0, bath_height=30.0, h_pore=h_pore, h_bath=h_bath
    )
    cm = build_channel(geom, 2)
    problem = channel_problem(cm, poreflux.salt("KCl", 1000.0), voltage=10.0)
    sol = SteadyPNPSolver(cm, problem).solve()
    g_pnp = sol.conductance
    kappa = conductivity_S_per_m(problem)
    a, L = 1e-9, 5e-9
    r_hall = L / (kappa * math.pi * a**2) + 1 / (2 * kappa * a)
    g_hall = 1 / r_hall * 1e12
    g_ohm = currents.ohmic_conductance(cm, problem)
    assert g_pnp == pytest.approx(g_hall, rel=0.05), (g_pnp, g_hall)
    assert g_pnp == pytest.approx(g_ohm, rel=0.01), (g_pnp, g_ohm)
    split = currents.resistance_split(sol)  # GOhm
    assert split.pore == pytest.approx(L / (kappa * math.pi * a**2) / 1e9, rel=0.01)
    assert split.access == pytest.approx(1 / (2 * kappa * a) / 1e9, rel=0.05)


# ----------------------------------------------------------------------------- PB limit
def test_equilibrium_equals_pb(coarse_channel):
    """V = 0, equal baths: the PNP potential equals the PB module's on the same mesh."""
    cm = coarse_channel
    problem = channel_problem(cm, poreflux.salt("KCl", 100.0), surface_charge=-0.1)
    pnp_sol = SteadyPNPSolver(cm, problem, SolverOptions(quadrature_degree=2)).solve()
    es = problem.electrostatics
    es_pb = Electrostatics(
        T,
        es.permittivity,
        surface_charges=es.surface_charges,
        dirichlet=(DirichletPotential(names.TOP, 0.0), DirichletPotential(names.BOTTOM, 0.0)),
    )
    pb = PBSolver(cm, PBProblem(es_pb, poreflux.salt("KCl", 100.0)), quadrature_degree=2)
    pb_sol = pb.solve()
    diff = np.max(np.abs(pnp_sol.psi.x.array - pb_sol.psi.x.array))
    scale = np.max(np.abs(pb_sol.psi.x.array))
    assert scale > 1.0  # a real double layer (> kT/e)
    assert diff < 1e-6 * scale
    assert abs(pnp_sol.current) < 1e-6


# ----------------------------------------------------------------------------- conservation
def test_end_currents_agree_and_cross_sections_converge():
    """Conservative currents agree between ends to 1e-3; gradient currents converge to them.

    Measured: end-to-end defect <= 4e-15; RMS relative error of the 5 section currents
    5.7e-3, 2.1e-3, 7.2e-4 for h_pore = 0.2, 0.1, 0.05 nm.
    """
    zs = (-7.0, -1.5, 0.0, 1.5, 7.0)
    errors = []
    for f in (1.0, 2.0, 4.0):
        cm = build_channel(default_channel(h_pore=0.2 / f, h_bath=2.0 / f), 2)
        problem = channel_problem(
            cm, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1
        )
        sol = SteadyPNPSolver(cm, problem).solve()
        assert sol.conservation_error < 1e-3
        sec = [currents.cross_section(sol, z).current for z in zs]
        errors.append(np.abs(np.array(sec) - sol.current) / abs(sol.current))
    rms = np.sqrt(np.mean(np.array(errors) ** 2, axis=1))
    assert rms[1] < rms[0] and rms[2] < rms[1], rms
    assert rms[2] < 2e-3, rms


def test_cross_section_3d():
    """3D cut-cell quadrature: pore area ~ pi nm^2 and the section current near the end current."""
    cm = build_channel(default_channel(h_pore=0.3, h_bath=3.0), 3)
    problem = channel_problem(cm, poreflux.salt("KCl", 150.0), voltage=100.0, surface_charge=-0.1)
    sol = SteadyPNPSolver(cm, problem).solve()
    assert sol.conservation_error < 1e-3
    sec = currents.cross_section(sol, 0.0)
    assert sec.area == pytest.approx(math.pi, rel=0.05)  # inscribed polygon of the 1 nm circle
    assert sec.current == pytest.approx(sol.current, rel=0.05)
