"""Stokes flow on the water sub-mesh against analytic solutions.

- Hagen-Poiseuille in a cylinder (2D axisymmetric, exact geometry): flow rate within 0.5 %
  (P2 holds the parabola exactly, so the measured error is round-off);
- square duct (3D): flow rate against the Fourier series (Cornish 1928; White, *Viscous Fluid
  Flow*, eq. 3-48), 0.5 %;
- Navier slip in the cylinder: ``Q = Q_P (1 + 4 b / a)``, 0.5 %;
- pore with baths: hydraulic resistance within 2 % of Poiseuille plus the Sampson access
  ``3 eta / a^3`` (Sampson 1891; the sum is Dagan, Weinbaum and Pfeffer, J. Fluid Mech. 115, 505
  (1982), within ~1 % of their exact series for every L/a);
- electro-osmosis under the linearised (Debye-Hueckel) charge of a long charged cylinder: the
  Rice-Whitehead profile ``u(r) = -(eps zeta E / eta)(1 - I0(kappa r)/I0(kappa a))`` within 1 %
  (Rice and Whitehead, J. Phys. Chem. 69, 4017 (1965)), and the Helmholtz-Smoluchowski plateau
  ``-eps zeta E / eta`` in the middle of a thin-double-layer pore.
"""

from __future__ import annotations

import math

import dolfinx
import numpy as np
import pytest
from mpi4py import MPI
from scipy.constants import epsilon_0
from scipy.special import i0

import pnp.results  # noqa: F401  (h5py before DOLFINx's PETSc bindings, see pnp.results)
from meshes import names
from meshes.record import ChannelMesh
from pnp.problems.flow import FlowProblem
from pnp.solvers.stokes import StokesSolver
from poreflux.errors import InputError

ETA = 0.89  # mPa s


def _tags(msh, dim, items):
    idx, val = [], []
    for tag, marker in items:
        if dim == msh.topology.dim:
            e = dolfinx.mesh.locate_entities(msh, dim, marker)
        else:
            e = dolfinx.mesh.locate_entities_boundary(msh, dim, marker)
        idx.append(e)
        val.append(np.full(e.shape, tag, dtype=np.int32))
    idx, val = np.concatenate(idx), np.concatenate(val)
    idx, first = np.unique(idx, return_index=True)
    return dolfinx.mesh.meshtags(msh, dim, idx.astype(np.int32), val[first])


def cylinder(radius: float, length: float, nr: int, nz: int, comm=MPI.COMM_WORLD) -> ChannelMesh:
    """(r, z) rectangle ``[0, a] x [0, L]`` graded toward the wall: region ``pore``, boundaries
    ``axis``, ``wall``, ``bottom`` (z = 0), ``top`` (z = L)."""
    msh = dolfinx.mesh.create_rectangle(comm, [[0.0, 0.0], [1.0, length]], [nr, nz])
    x = msh.geometry.x
    x[:, 0] = radius * np.sin(0.5 * np.pi * x[:, 0])
    tol = 1e-9 * length
    tdim = 2
    msh.topology.create_connectivity(tdim - 1, tdim)
    cells = _tags(msh, tdim, [(1, lambda p: np.ones(p.shape[1], dtype=bool))])
    facets = _tags(
        msh,
        tdim - 1,
        [
            (1, lambda p: np.isclose(p[1], length, atol=tol)),
            (2, lambda p: np.isclose(p[1], 0.0, atol=tol)),
            (4, lambda p: np.isclose(p[0], 0.0, atol=tol)),
            (5, lambda p: np.isclose(p[0], radius, atol=1e-9 * radius)),
        ],
    )
    bnd = {names.TOP: 1, names.BOTTOM: 2, names.AXIS: 4, "wall": 5}
    return ChannelMesh(msh, cells, facets, {names.PORE: 1}, bnd, True, (names.PORE,))


def square_duct(width: float, length: float, n: int, nz: int) -> ChannelMesh:
    """3D box ``[-w/2, w/2]^2 x [0, L]``: region ``pore``, boundaries ``wall``, ``top``,
    ``bottom``."""
    h = width / 2
    msh = dolfinx.mesh.create_box(
        MPI.COMM_WORLD, [np.array([-h, -h, 0.0]), np.array([h, h, length])], [n, n, nz]
    )
    tol = 1e-9 * length
    msh.topology.create_connectivity(2, 3)
    cells = _tags(msh, 3, [(1, lambda p: np.ones(p.shape[1], dtype=bool))])
    facets = _tags(
        msh,
        2,
        [
            (1, lambda p: np.isclose(p[2], length, atol=tol)),
            (2, lambda p: np.isclose(p[2], 0.0, atol=tol)),
            (5, lambda p: np.isclose(np.abs(p[0]), h) | np.isclose(np.abs(p[1]), h)),
        ],
    )
    bnd = {names.TOP: 1, names.BOTTOM: 2, "wall": 5}
    return ChannelMesh(msh, cells, facets, {names.PORE: 1}, bnd, False, (names.PORE,))


def poiseuille_rate(dp_pa: float, radius: float, length: float, eta: float = ETA) -> float:
    """Hagen-Poiseuille flow rate [nm^3/ns] for ``dp`` [Pa] (MPa * nm^3 / (mPa s) = nm^3/ns)."""
    return math.pi * radius**4 * (dp_pa * 1e-6) / (8 * eta * length)


def test_poiseuille_cylinder_axisymmetric():
    a, L, dp = 1.0, 4.0, 1e6
    cm = cylinder(a, L, 8, 16)
    solver = StokesSolver(cm, FlowProblem(dp, viscosity_mPa_s=ETA))
    u, _ = solver.solve()
    q = solver.flow_rate()
    expected = poiseuille_rate(dp, a, L)
    assert abs(q / expected - 1) < 5e-3, (q, expected)
    # the profile itself: u_z(r) = -(dp / (4 eta L)) (a^2 - r^2) (flow towards -z)
    pts = np.array([[0.0, 2.0, 0.0], [0.5, 2.0, 0.0], [0.9, 2.0, 0.0]])
    uz = _evaluate(u, pts)[:, 1]
    exact = -(dp * 1e-6) / (4 * ETA * L) * (a * a - pts[:, 0] ** 2)
    assert np.allclose(uz, exact, rtol=5e-3), (uz, exact)
    top, bottom = solver.fields.flow_rates(solver.entity_map)
    assert abs(top - bottom) < 1e-8 * abs(q)


def test_square_duct_3d():
    w, L, dp = 1.0, 2.0, 1e6
    cm = square_duct(w, L, 8, 4)
    solver = StokesSolver(cm, FlowProblem(dp, viscosity_mPa_s=ETA))
    solver.solve()
    q = solver.flow_rate()
    # Q = (w^4 G / (12 eta)) (1 - (192 / pi^5) sum_{n odd} tanh(n pi / 2) / n^5)
    n = np.arange(1, 200, 2)
    series = 1 - 192 / np.pi**5 * np.sum(np.tanh(n * np.pi / 2) / n**5)
    expected = w**4 * (dp * 1e-6 / L) / (12 * ETA) * series
    assert abs(q / expected - 1) < 5e-3, (q, expected)


def test_navier_slip_cylinder():
    a, L, dp, b = 1.0, 2.0, 1e6, 0.3
    cm = cylinder(a, L, 8, 8)
    solver = StokesSolver(cm, FlowProblem(dp, viscosity_mPa_s=ETA, slip_length_nm=b))
    solver.solve()
    expected = poiseuille_rate(dp, a, L) * (1 + 4 * b / a)
    assert abs(solver.flow_rate() / expected - 1) < 5e-3


def test_access_resistance_sampson_dagan():
    """Pore of radius 1 nm and length 2 nm between baths of radius and height 10 nm: measured
    R / (R_Poiseuille + R_Sampson) = 0.989 at h_pore = 0.1 nm (0.992 at 0.05 nm, also with baths
    twice as large)."""
    from meshes.channel import build_channel, cylindrical_pore

    a, L, dp = 1.0, 2.0, 1e6
    geo = cylindrical_pore(a, L, h_pore=0.1, h_bath=2.0, bath_radius=10.0, bath_height=10.0)
    solver = StokesSolver(build_channel(geo, 2), FlowProblem(dp, viscosity_mPa_s=ETA))
    solver.solve()
    assert set(solver.fields.walls) == {"outer", "membrane_wall"}
    resistance = dp * 1e-6 / solver.flow_rate()  # MPa / (nm^3/ns)
    expected = 8 * ETA * L / (math.pi * a**4) + 3 * ETA / a**3
    assert abs(resistance / expected - 1) < 2e-2, (resistance, expected)
    top, bottom = solver.fields.flow_rates(solver.entity_map)
    assert abs(top - bottom) < 1e-8 * abs(top)


def test_flow_problem_inputs():
    for bad in (float("nan"), "x", 1e12):
        with pytest.raises(InputError, match="pressure_difference_Pa"):
            FlowProblem(bad)
    with pytest.raises(InputError, match="viscosity_mPa_s"):
        FlowProblem(viscosity_mPa_s=-1.0)
    with pytest.raises(InputError, match="slip_length_nm"):
        FlowProblem(slip_length_nm=float("inf"))
    assert abs(FlowProblem().viscosity(298.15) - 0.890) < 0.005  # water at 25 degC


def test_untagged_water_boundary_is_refused():
    from poreflux.errors import MeshTagError

    cm = cylinder(1.0, 2.0, 4, 4)
    ft = cm.facet_tags
    mid = dolfinx.mesh.compute_midpoints(cm.mesh, 1, ft.indices)
    keep = ~((ft.values == 5) & (mid[:, 1] > 1.0))  # half of the wall loses its tag
    tags = dolfinx.mesh.meshtags(cm.mesh, 1, ft.indices[keep], ft.values[keep])
    holed = ChannelMesh(
        cm.mesh, cm.cell_tags, tags, cm.regions, cm.boundaries, True, cm.water_regions
    )
    with pytest.raises(MeshTagError, match="exterior facet"):
        StokesSolver(holed, FlowProblem(0.0))


def _rice_whitehead(a: float, debye: float, nr: int, nz: int):
    zeta, field = 0.025, 1e7  # V, V/m (linear regime: zeta < kT/e)
    eps = 78.3 * epsilon_0
    kappa = 1.0 / debye
    cm = cylinder(a, 1.0, nr, nz)
    # rho_e = -eps kappa^2 zeta I0(kappa r)/I0(kappa a) [C/m^3] with kappa in 1/m; the axial
    # force rho_e E [N/m^3] -> MPa/nm is a factor 1e-15
    amp = -eps * (kappa * 1e9) ** 2 * zeta * field * 1e-15
    solver = StokesSolver(cm, FlowProblem(0.0, viscosity_mPa_s=ETA))
    force = dolfinx.fem.Function(solver.fields.U)
    force.interpolate(lambda x: np.vstack([0 * x[0], amp * i0(kappa * x[0]) / i0(kappa * a)]))
    u, _ = solver.solve(lambda x: force)
    u_hs = -eps * zeta * field / (ETA * 1e-3)  # m/s = nm/ns
    return u, u_hs, kappa


def test_rice_whitehead_profile():
    a = 2.0
    u, u_hs, kappa = _rice_whitehead(a, debye=0.4, nr=20, nz=2)
    r = np.linspace(0.0, 0.95 * a, 8)
    pts = np.column_stack([r, np.full_like(r, 0.5), np.zeros_like(r)])
    uz = _evaluate(u, pts)[:, 1]
    exact = u_hs * (1 - i0(kappa * r) / i0(kappa * a))
    assert np.max(np.abs(uz - exact)) < 1e-2 * abs(u_hs), (uz, exact)


def test_helmholtz_smoluchowski_plateau():
    a = 4.0
    u, u_hs, _ = _rice_whitehead(a, debye=0.2, nr=24, nz=1)
    pts = np.array([[0.0, 0.5, 0.0], [0.5 * a, 0.5, 0.0]])
    uz = _evaluate(u, pts)[:, 1]
    assert np.allclose(uz, u_hs, rtol=1e-2), (uz, u_hs)


def _evaluate(f, points: np.ndarray) -> np.ndarray:
    msh = f.function_space.mesh
    tree = dolfinx.geometry.bb_tree(msh, msh.topology.dim)
    cand = dolfinx.geometry.compute_collisions_points(tree, points)
    hits = dolfinx.geometry.compute_colliding_cells(msh, cand, points)
    cells = np.array([hits.links(i)[0] for i in range(len(points))], dtype=np.int32)
    return f.eval(points, cells)


@pytest.mark.slow
@pytest.mark.parametrize("length", [0.5, 2.0, 5.0])
def test_access_resistance_refined(length):
    """Full version: h_pore = 0.05 nm, L/a = 0.5, 2, 5 (measured 0.986, 0.992, 0.994)."""
    from meshes.channel import build_channel, cylindrical_pore

    a, dp = 1.0, 1e6
    geo = cylindrical_pore(a, length, h_pore=0.05, h_bath=2.0, bath_radius=10.0, bath_height=10.0)
    solver = StokesSolver(build_channel(geo, 2), FlowProblem(dp, viscosity_mPa_s=ETA))
    solver.solve()
    resistance = dp * 1e-6 / solver.flow_rate()
    expected = 8 * ETA * length / (math.pi * a**4) + 3 * ETA / a**3
    assert abs(resistance / expected - 1) < 2e-2, (resistance, expected)
