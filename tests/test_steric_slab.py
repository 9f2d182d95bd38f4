"""Steric (Kilic-Bazant-Ajdari) PNP forms on a 1D slab: zero-current double layer.

Units: lengths in the Debye length ``lambda_D`` of the symmetric 1:1 bulk, potential in kT/e,
concentrations in the bulk concentration ``c_b``; then ``-psi'' = K rho`` with ``K = 1/2``. The
wall (x = 0) holds the potential ``Psi``; at ``x = L`` the bulk (psi = 0, bath chemical
potentials). The ions obey the steric Nernst-Planck equations (no flux through the wall), so the
solution is the zero-current state of :mod:`pnp.forms.steric`.

References (independent of the code): Kilic, Bazant & Ajdari, Phys. Rev. E 75, 021502 (2007),
eq. for the diffuse-layer charge ``q = 4 sinh-like`` with packing parameter ``nu = 2 a^3 c_b``::

    q(Psi) = sgn(Psi) 2 sqrt((2/nu) ln(1 + 2 nu sinh^2(Psi/2)))             [e c_b lambda_D]
    C(Psi) = sinh|Psi| / ((1 + 2 nu sinh^2(Psi/2)) sqrt((2/nu) ln(1 + 2 nu sinh^2(Psi/2))))
                                                                              [eps/lambda_D]

(Gouy-Chapman for nu -> 0). Camel shape (maximum away from Psi = 0) at small nu, bell shape
(maximum at 0) at large nu; the counter-ion saturates at ``1/a^3``.
"""

from __future__ import annotations

import math

import dolfinx
import numpy as np
import pytest
import ufl
from mpi4py import MPI

from pnp.forms import nernst_planck as transport
from pnp.forms import poisson as pforms
from pnp.forms import steric
from pnp.forms.correlations import correlation_residual
from pnp.solvers.newton import ContinuationParameter, NewtonSolver

K_SLAB = 0.5


def slab_mesh(length: float, n: int, grading: float = 3.0):
    """Interval [0, length] with nodes ``length * s^grading`` (fine at the wall x = 0)."""
    msh = dolfinx.mesh.create_interval(MPI.COMM_SELF, n, [0.0, 1.0])
    s = msh.geometry.x[:, 0].copy()
    msh.geometry.x[:, 0] = length * s**grading
    return msh


class Slab:
    """Zero-current double layer on ``[0, length]``, forms compiled once; :meth:`solve` sweeps
    the wall potential with warm starts.

    ``model``: ``"steric"`` (chemical-potential unknowns, :mod:`pnp.forms.steric`, ``volumes``
    given) or ``"point"`` (log-concentration unknowns); ``ell`` adds the BSK smoothed charge.
    """

    def __init__(self, *, valences=(1, -1), bulk=(1.0, 1.0), volumes=None, ell=None,
                 length=30.0, n=200, degree=2, model="steric"):  # fmt: skip
        msh = slab_mesh(length, n)
        element = ("Lagrange", degree)
        spaces = [dolfinx.fem.functionspace(msh, element) for _ in range(len(bulk) + 1)]
        self.V = spaces[0]
        self.psi = dolfinx.fem.Function(spaces[0])
        self.ws = [dolfinx.fem.Function(S) for S in spaces[1:]]
        v = ufl.TestFunction(spaces[0])
        tests = [ufl.TestFunction(S) for S in spaces[1:]]
        self.dx = dx = ufl.dx(domain=msh, metadata={"quadrature_degree": 2 * degree + 2})
        if model == "steric":
            self.conc = steric.concentrations(self.ws, volumes)
            w_bulk = steric.chemical_potentials(bulk, volumes)
        else:
            self.conc = [ufl.exp(w) for w in self.ws]
            w_bulk = tuple(math.log(c) for c in bulk)
        self.rho = sum(z * c for z, c in zip(valences, self.conc, strict=True))
        unknowns, residuals, source = [self.psi, *self.ws], [], self.rho
        if ell is not None:
            F_space = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
            self.f = dolfinx.fem.Function(F_space)
            g = ufl.TestFunction(F_space)
            unknowns.append(self.f)
            source = self.f
        poisson = pforms.poisson_operator(self.psi, v, 1.0, 1.0, dx)
        residuals.append(poisson - K_SLAB * source * v * dx)
        for c, w, t, z in zip(self.conc, self.ws, tests, valences, strict=True):
            j = transport.electrochemical_flux(c, w, self.psi, valence=z, diffusion=1.0)
            residuals.append(transport.transport_residual(j, t, dx))
        if ell is not None:
            residuals.append(correlation_residual(self.f, g, self.rho, ell, dx))
        self.wall = dolfinx.fem.Constant(msh, 0.0)
        left = dolfinx.mesh.locate_entities_boundary(msh, 0, lambda x: np.isclose(x[0], 0.0))
        right = dolfinx.mesh.locate_entities_boundary(msh, 0, lambda x: np.isclose(x[0], length))
        V = spaces[0]
        bcs = [
            dolfinx.fem.dirichletbc(self.wall, dolfinx.fem.locate_dofs_topological(V, 0, left), V),
            dolfinx.fem.dirichletbc(0.0, dolfinx.fem.locate_dofs_topological(V, 0, right), V),
        ]
        for S, w, wb in zip(spaces[1:], self.ws, w_bulk, strict=True):
            dofs = dolfinx.fem.locate_dofs_topological(S, 0, right)
            bcs.append(dolfinx.fem.dirichletbc(wb, dofs, S))
            w.x.array[:] = wb
        self.newton = NewtonSolver(
            residuals, unknowns, bcs, name="slab", solver="direct", symmetric=False, kind="mpi",
            rtol=1e-12, atol=1e-11, max_it=60,
        )  # fmt: skip
        self.charge_form = dolfinx.fem.form(self.rho * dx)
        xs = V.tabulate_dof_coordinates()[:, 0]
        self.order = np.argsort(xs)
        self.x = xs[self.order]
        self.c_expr = [dolfinx.fem.Expression(c, V.element.interpolation_points) for c in self.conc]

    def solve(self, psi_wall: float) -> Slab:
        start = float(self.wall.value)
        self.newton.solve([ContinuationParameter(self.wall, float(psi_wall), start, "wall")])
        return self

    @property
    def charge(self) -> float:
        """Diffuse charge ``int rho dx`` [c_b lambda_D]."""
        return float(dolfinx.fem.assemble_scalar(self.charge_form))

    @property
    def psi_values(self) -> np.ndarray:
        return self.psi.x.array[self.order].copy()

    def concentrations(self) -> list[np.ndarray]:
        out = []
        for e in self.c_expr:
            fc = dolfinx.fem.Function(self.V)
            fc.interpolate(e)
            out.append(fc.x.array[self.order])
        return out


def kba_charge(psi, nu):
    s2 = np.sinh(psi / 2) ** 2
    return np.sign(psi) * 2 * np.sqrt((2 / nu) * np.log1p(2 * nu * s2))


def kba_capacitance(psi, nu):
    s2 = np.sinh(psi / 2) ** 2
    return np.sinh(np.abs(psi)) / ((1 + 2 * nu * s2) * np.sqrt((2 / nu) * np.log1p(2 * nu * s2)))


class BikermanSlab:
    """The same slab with the Bikerman PB model of pnp.forms.poisson (one unknown)."""

    def __init__(self, nus, valences=(1, -1), bulk=(1.0, 1.0), length=30.0, n=200, degree=2):
        msh = slab_mesh(length, n)
        V = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
        self.psi, v = dolfinx.fem.Function(V), ufl.TestFunction(V)
        dx = ufl.dx(domain=msh, metadata={"quadrature_degree": 2 * degree + 2})
        mobile = pforms.mobile_charge(self.psi, valences, list(bulk), "bikerman", list(nus))
        F = pforms.pb_residual(
            self.psi, v, eps_r=1.0, weight=1.0, dx=dx, coefficient=K_SLAB, mobile=mobile,
            dx_water=dx,
        )  # fmt: skip
        self.wall = dolfinx.fem.Constant(msh, 0.0)
        left = dolfinx.mesh.locate_entities_boundary(msh, 0, lambda x: np.isclose(x[0], 0.0))
        right = dolfinx.mesh.locate_entities_boundary(msh, 0, lambda x: np.isclose(x[0], length))
        bcs = [
            dolfinx.fem.dirichletbc(self.wall, dolfinx.fem.locate_dofs_topological(V, 0, left), V),
            dolfinx.fem.dirichletbc(0.0, dolfinx.fem.locate_dofs_topological(V, 0, right), V),
        ]
        self.newton = NewtonSolver(F, self.psi, bcs, name="slab_pb", solver="direct",
                                   rtol=1e-12, atol=1e-11)  # fmt: skip
        self.order = np.argsort(V.tabulate_dof_coordinates()[:, 0])

    def solve(self, psi_wall: float) -> np.ndarray:
        start = float(self.wall.value)
        self.newton.solve([ContinuationParameter(self.wall, float(psi_wall), start, "wall")])
        return self.psi.x.array[self.order].copy()


@pytest.mark.parametrize("nu", [0.01, 0.5])
def test_diffuse_charge_and_capacitance_match_kba(nu):
    """Diffuse charge q(Psi) and C = dq/dPsi (central differences, step 0.02) against KBA within
    1% for Psi = 1..10 (measured worst: 3e-6 in q, 2e-5 in C; see the assertion messages)."""
    slab = Slab(volumes=(nu / 2, nu / 2))  # nu = 2 a^3 c_b
    step = 0.02
    worst_q = worst_c = 0.0
    for p in (1.0, 2.5, 4.0, 6.0, 8.0, 10.0):
        # wall charge = -(diffuse charge) [e c_b lambda_D]; C in eps/lambda_D = 2 e c_b units
        q = [-slab.solve(p + d).charge for d in (-step, 0.0, step)]
        c_num = (q[2] - q[0]) / (2 * step) / 2
        worst_q = max(worst_q, abs(q[1] / kba_charge(p, nu) - 1))
        worst_c = max(worst_c, abs(c_num / kba_capacitance(p, nu) - 1))
    assert worst_q < 0.01, worst_q
    assert worst_c < 0.01, worst_c


def test_camel_to_bell():
    """Analytic and computed C(Psi): maximum away from 0 at nu = 0.01 (camel), at 0 for nu = 0.5
    (bell)."""
    psis = np.linspace(0.0, 10.0, 101)
    camel, bell = kba_capacitance(psis[1:], 0.01), kba_capacitance(psis[1:], 0.5)
    assert psis[1:][np.argmax(camel)] > 3.0 and camel.max() > 2.0
    assert np.all(np.diff(bell) < 0) and bell[0] < 1.0 + 1e-3
    for nu, grows in ((0.01, True), (0.5, False)):
        slab = Slab(volumes=(nu / 2, nu / 2), n=100)
        q = [-slab.solve(p).charge for p in (0.0, 0.5, 3.0, 3.5)]
        c_low, c_high = (q[1] - q[0]) / 1.0, (q[3] - q[2]) / 1.0
        assert (c_high > c_low) == grows, (nu, c_low, c_high)


def test_counterion_saturates_at_close_packing():
    """Counter-ion at a -20 kT/e wall: c -> 1/v (a^3 c = 1) to 1e-3, never above (nu = 0.1)."""
    v = 0.05
    conc = Slab(volumes=(v, v)).solve(-20.0).concentrations()
    cmax = max(float(np.max(c)) for c in conc)
    assert cmax * v <= 1.0 + 1e-12
    assert abs(cmax * v - 1.0) < 1e-3, cmax * v


@pytest.mark.parametrize(
    "valences, bulk, volumes",
    [((1, -1), (1.0, 1.0), (0.1, 0.1)), ((2, -1), (0.5, 1.0), (0.15, 0.05))],
)
def test_zero_current_equals_bikerman_pb(valences, bulk, volumes):
    """Steric NP at zero current = the Bikerman PB model (pnp.forms.poisson) to 1e-6 in psi,
    equal sizes (nu = 0.2) and unequal sizes (2:1 salt, v_+ = 3 v_-)."""
    nus = [v * c for v, c in zip(volumes, bulk, strict=True)]
    pnp = Slab(valences=valences, bulk=bulk, volumes=volumes)
    pb = BikermanSlab(nus, valences=valences, bulk=bulk)
    for wall in (-6.0, 4.0):
        diff = np.max(np.abs(pnp.solve(wall).psi_values - pb.solve(wall)))
        assert diff < 1e-6, (valences, wall, diff)


def test_chemical_potentials_round_trip():
    """w -> ln c (log-sum-exp, also for w = +-700) -> w, and the bath values: exact inverses."""
    vols = (0.3, 0.05)
    conc = (0.8, 2.5)  # packing 0.365
    w = steric.chemical_potentials(conc, vols)
    logc = steric.log_concentration_values([np.array([w[0]]), np.array([w[1]])], vols)
    assert np.allclose(np.exp([logc[0][0], logc[1][0]]), conc, rtol=1e-14)
    big = steric.log_concentration_values([np.array([700.0, -700.0]), np.array([0.0, 0.0])], vols)
    c_big = np.exp(big[0][0])
    assert np.all(np.isfinite(big[0])) and abs(c_big * vols[0] - 1) < 1e-12  # saturated
    assert np.isclose(big[1][1], 0.0 - np.log1p(vols[1]))
    with pytest.raises(Exception, match="packing fraction"):
        steric.chemical_potentials((3.5, 1.0), vols)  # packing 1.1
