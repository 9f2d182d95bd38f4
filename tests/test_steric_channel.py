"""Steric and steric+correlations PNP on the default channel (pnp.solvers.steady, ion_model).

- at 0 V the steric PNP solution is the Bikerman PB solution (pnp.solvers.pb) on the same mesh;
- a pore where point-ion PNP exceeds close packing ``1/(N_A a^3)`` stays below it with the
  steric model, and the current changes;
- Newton with continuation converges for the new models at corners of the robustness grid
  (the full grid: tests marked slow and bench/pnp_scaling.py).
"""

from __future__ import annotations

import math

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
from poreflux.units import N_A, NM

T = 298.15
SIZE = 0.7  # nm
CLOSE_PACKING_MM = 1.0 / (N_A * (SIZE * NM) ** 3) / 1.0  # mol/m^3 = mM


@pytest.fixture(scope="module")
def coarse():
    return build_channel(default_channel(h_pore=0.1, h_bath=1.0), 2)


def _max_conc(sol) -> float:
    return max(float(np.max(sol.concentration_values(n))) for n in sol.species_names)


def test_zero_voltage_equals_bikerman_pb(coarse):
    """Steric PNP at 0 V, 1 M KCl, a = 0.7 nm (bulk packing 0.41), -0.2 C/m^2 walls: psi equals
    the Bikerman PB potential to 1e-6 kT/e at every node (measured: see the message)."""
    kcl = poreflux.salt("KCl", 1000.0)
    problem = channel_problem(coarse, kcl, surface_charge=-0.2, ion_model="steric", ion_size=SIZE)
    pnp = SteadyPNPSolver(
        coarse, problem, SolverOptions(rtol=1e-12, atol=1e-12, quadrature_degree=2)
    ).solve()
    perm = {r: DEFAULT_PERMITTIVITY[r] for r in coarse.regions if r in DEFAULT_PERMITTIVITY}
    walls = [w for w in (names.MEMBRANE_WALL, names.PROTEIN_WALL) if coarse.has_boundary(w)]
    es = Electrostatics(
        temperature=T,
        permittivity=perm,
        surface_charges=tuple(SurfaceCharge(w, -0.2) for w in walls),
        dirichlet=(DirichletPotential(names.TOP, 0.0), DirichletPotential(names.BOTTOM, 0.0)),
    )
    pb_problem = PBProblem(es, kcl, model="bikerman", ion_size=SIZE)
    pb = PBSolver(coarse, pb_problem, rtol=1e-12, atol=1e-12).solve()
    diff = float(np.max(np.abs(pnp.psi.x.array - pb.psi.x.array)))
    assert diff < 1e-6, diff
    assert float(np.max(np.abs(pb.psi.x.array))) > 1.0  # a real double layer, not a trivial one


@pytest.mark.slow
def test_close_packing_bounded_and_iv_change(coarse):
    """-0.3 C/m^2 walls, 1 M KCl: point-ion PNP puts more than 1/(N_A a^3) = 4.8 M of K+ in the
    pore; the steric model stays below it; at +-100 mV the steric current differs."""
    kcl = poreflux.salt("KCl", 1000.0)
    out = {}
    for model in ("point", "steric"):
        problem = channel_problem(coarse, kcl, surface_charge=-0.3, ion_model=model, ion_size=SIZE)
        solver = SteadyPNPSolver(coarse, problem)
        sols = [solver.solve(v) for v in (0.0, 100.0, -100.0)]
        out[model] = (max(_max_conc(s) for s in sols), [s.current for s in sols[1:]])
        for s in sols[1:]:
            assert s.conservation_error < 1e-6
    assert out["point"][0] > CLOSE_PACKING_MM
    assert out["steric"][0] < CLOSE_PACKING_MM
    i_point, i_steric = out["point"][1], out["steric"][1]
    assert all(abs(a / b - 1) > 0.01 for a, b in zip(i_steric, i_point, strict=True)), out


GRID_CORNERS = [(300.0, 1.0, -0.2), (-300.0, 3000.0, -0.2), (300.0, 3000.0, 0.0)]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["steric", "steric+correlations"])
@pytest.mark.parametrize(("voltage", "conc", "sigma"), GRID_CORNERS)
def test_robustness_corners(coarse, model, voltage, conc, sigma):
    """Cold starts at grid corners (a = 0.5 nm so that 3 M fits): converged, c > 0, below close
    packing, current conserved and in the direction of the voltage."""
    problem = channel_problem(
        coarse, poreflux.salt("KCl", conc), voltage=voltage, surface_charge=sigma,
        ion_model=model, ion_size=0.5,
    )  # fmt: skip
    sol = SteadyPNPSolver(coarse, problem).solve()
    assert sol.min_concentration() > 0
    assert _max_conc(sol) < 1.0 / (N_A * (0.5 * NM) ** 3)
    assert math.isfinite(sol.current) and np.sign(sol.current) == np.sign(voltage)
    assert sol.conservation_error < 1e-6


def test_bad_ion_model_inputs(coarse):
    kcl = poreflux.salt("KCl", 150.0)
    with pytest.raises(InputError, match="ion_model"):
        channel_problem(coarse, kcl, ion_model="hard spheres")
    with pytest.raises(InputError, match="packing fraction"):
        channel_problem(coarse, poreflux.salt("KCl", 3000.0), ion_model="steric", ion_size=1.0)
    with pytest.raises(InputError, match="ion_size"):
        channel_problem(coarse, kcl, ion_model="steric", ion_size=float("nan"))
    with pytest.raises(InputError, match="correlation_length"):
        channel_problem(coarse, kcl, ion_model="steric+correlations", correlation_length=-1.0)
    with pytest.raises(InputError, match="ion_sizes"):
        channel_problem(coarse, kcl, ion_model="steric", ion_sizes={"Na": 0.5})


@pytest.mark.slow
def test_steric_krylov_matches_lu_and_transient_relaxes():
    """Steric model (1 M KCl, a = 0.7 nm, -0.2 C/m^2, 100 mV) on a coarse channel: the Krylov
    path (electrochemical preconditioner screening with the steric concentrations) gives the LU
    current to 1e-5; a transient run from the 0 V state keeps the per-step mass balance to 1e-6
    and relaxes to the steady current (1e-4), concentrations below close packing throughout."""
    from pnp.solvers.transient import TransientPNPSolver

    cm = build_channel(default_channel(h_pore=0.2, h_bath=2.0), 2)
    problem = channel_problem(
        cm, poreflux.salt("KCl", 1000.0), voltage=100.0, surface_charge=-0.2,
        ion_model="steric", ion_size=SIZE,
    )  # fmt: skip
    currents = {}
    for name in ("lu", "krylov"):
        solver = SteadyPNPSolver(cm, problem, SolverOptions(linear_solver=name))
        currents[name] = solver.solve().current
        solver.close()
    assert currents["krylov"] == pytest.approx(currents["lu"], rel=1e-5)
    transient = TransientPNPSolver(cm, problem, tol=1e-3)
    start = transient.solve(0.0)
    transient.initialize(start, transient.target_params())
    result = transient.run(100.0, 1e-3, dt_max=25.0)
    assert np.max(np.abs(result.mass_defects)) < 1e-6
    assert result.solution.current == pytest.approx(currents["lu"], rel=1e-4)
    assert _max_conc(result.solution) < CLOSE_PACKING_MM
