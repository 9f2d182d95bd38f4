"""Time-dependent 1D Smoluchowski equation by a conservative finite-volume scheme.

``dp/dt = -dJ/dz``, ``J = -D e^{-W} d(p e^{W})/dz`` on the profile's grid (units: nm, ns, W in
kT, D in nm^2/ns; p is a probability density [1/nm] or a concentration [mM]).

Discretisation (vertex-centred finite volumes, Scharfetter & Gummel, IEEE Trans. Electron
Devices 16, 64 (1969)): the unknowns are the values at the grid nodes, node i owns the control
volume ``V_i`` between the neighbouring cell midpoints, and the flux through cell
``[z_i, z_{i+1}]`` (length h, diffusivity D at its midpoint, ``dW = W_{i+1} - W_i``) is::

    J = (D/h) [B(dW) p_i - B(-dW) p_{i+1}],     B(x) = x / (e^x - 1),

the exact constant flux of the two-point boundary-value problem when W is linear and D constant
on the cell. Hence the discrete steady state with reflecting walls is exactly
``p_i ~ e^{-W_i}`` (detailed balance on every edge), and the scheme is exact for piecewise-linear
W with piecewise-constant D. Time stepping is implicit (backward Euler or BDF2) with one sparse
LU factorisation reused for every step; both conserve ``sum_i V_i p_i`` to round-off with
reflecting walls (the column sums of the operator vanish up to rounding, so the total drifts by
about ``eps * dt * D/h`` per step: ~1e-12 per step for dt = 5 ns on a 0.025 nm grid).

Boundaries: :class:`Reflecting` (zero flux), :class:`Absorbing` (p = 0, the outflow is the
first-passage flux) and :class:`FixedConcentration` (p = c, a bath).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import factorized

from stochastic.profiles import Profile, StochasticInputError
from stochastic.smoluchowski import total_W

__all__ = [
    "Absorbing",
    "FixedConcentration",
    "Propagation",
    "Propagator",
    "Reflecting",
    "bernoulli",
    "delta_density",
    "fv_steady_state",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reflecting:
    """Zero-flux wall."""


@dataclass(frozen=True)
class Absorbing:
    """Absorbing end: p = 0; the flux into it is the first-passage flux."""


@dataclass(frozen=True)
class FixedConcentration:
    """Bath at a fixed value ``value`` (same unit as p, e.g. mM)."""

    value: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.value) and self.value >= 0):
            raise StochasticInputError(f"fixed concentration must be >= 0, got {self.value!r}")


Boundary = Reflecting | Absorbing | FixedConcentration


def _boundary(b: Boundary | str) -> Boundary:
    if isinstance(b, Reflecting | Absorbing | FixedConcentration):
        return b
    if b == "reflecting":
        return Reflecting()
    if b == "absorbing":
        return Absorbing()
    raise StochasticInputError(
        f"boundary must be Reflecting(), Absorbing(), FixedConcentration(c) or "
        f"'reflecting'/'absorbing', got {b!r}"
    )


def bernoulli(x: np.ndarray) -> np.ndarray:
    """Bernoulli function ``B(x) = x/(e^x - 1)`` (B(0) = 1), stable for all x."""
    x = np.asarray(x, dtype=float)
    out = np.ones_like(x)
    small = np.abs(x) < 1e-6
    xs = x[small]
    out[small] = 1.0 - xs / 2 + xs * xs / 12
    big = x > 30.0
    xb = x[big]
    out[big] = xb * np.exp(-xb) / -np.expm1(-xb)
    mid = ~(small | big)
    out[mid] = x[mid] / np.expm1(x[mid])
    return out


def delta_density(profile: Profile, x0: float) -> np.ndarray:
    """Unit probability concentrated on the grid node nearest ``x0`` (density 1/V_i there)."""
    z = profile.z
    i = int(np.argmin(np.abs(z - x0)))
    vol = _volumes(z)
    p = np.zeros_like(z)
    p[i] = 1.0 / vol[i]
    return p


def _volumes(z: np.ndarray) -> np.ndarray:
    h = np.diff(z)
    v = np.zeros_like(z)
    v[:-1] += h / 2
    v[1:] += h / 2
    return v


@dataclass(frozen=True)
class Propagation:
    """Result of :meth:`Propagator.run`.

    Attributes
    ----------
    times
        Time of every step [ns], starting at 0.
    survival
        ``sum_i V_i p_i`` over the free nodes at each time (probability left, or amount [mM nm]).
    flux_left, flux_right
        Outflow through the left/right end at each time (positive = leaving the domain) [1/ns].
    snapshot_times, snapshots
        Saved densities (every ``save_every`` steps) on ``z``.
    """

    z: np.ndarray
    times: np.ndarray
    survival: np.ndarray
    flux_left: np.ndarray
    flux_right: np.ndarray
    snapshot_times: np.ndarray
    snapshots: np.ndarray

    @property
    def fpt_density(self) -> np.ndarray:
        """First-passage-time density [1/ns] (total outflow through absorbing ends)."""
        return self.flux_left + self.flux_right

    def fpt_mean(self) -> float:
        """Mean of the first-passage-time distribution ``int t f(t) dt / int f dt`` [ns].

        Trapezoidal rule over the steps plus an exponential tail fitted to the last two steps.
        """
        t, f = self.times, self.fpt_density
        if t.size < 3:
            raise StochasticInputError("too few steps for a first-passage mean")
        m0 = np.trapezoid(f, t)
        m1 = np.trapezoid(t * f, t)
        if f[-1] > 0 and f[-2] > f[-1]:
            lam = np.log(f[-2] / f[-1]) / (t[-1] - t[-2])
            m0 += f[-1] / lam
            m1 += f[-1] * (t[-1] / lam + 1 / lam**2)
        return float(m1 / m0)

    def mean_survival_time(self) -> float:
        """``int S(t) dt / S(0)`` [ns] (equals the mean FPT when all probability leaves)."""
        t, s = self.times, self.survival
        tail = 0.0
        if s[-1] > 0 and s[-2] > s[-1]:
            tail = s[-1] * (t[-1] - t[-2]) / np.log(s[-2] / s[-1])
        return float((np.trapezoid(s, t) + tail) / s[0])


class Propagator:
    """Finite-volume Smoluchowski operator on a profile's grid (build once, run many times).

    Parameters
    ----------
    profile
        W [kT] and D [nm^2/ns] on the grid used as finite-volume nodes.
    left, right
        Boundary conditions at ``z[0]`` and ``z[-1]``.
    valence, voltage_mV, drop
        Optional linear voltage drop added to W (see :func:`stochastic.smoluchowski.total_W`).
    """

    def __init__(
        self,
        profile: Profile,
        left: Boundary | str = "reflecting",
        right: Boundary | str = "reflecting",
        *,
        valence: int = 0,
        voltage_mV: float = 0.0,
        drop: tuple[float, float] | None = None,
    ) -> None:
        self.profile = profile
        self.left = _boundary(left)
        self.right = _boundary(right)
        z = profile.z
        w_fun, _ = total_W(profile, valence, voltage_mV, drop)
        self.W = w_fun(z)
        h = np.diff(z)
        d_mid = profile.D_at(0.5 * (z[:-1] + z[1:]))
        dw = np.diff(self.W)
        # J_e = a_e p_i - b_e p_{i+1}
        self.a = d_mid / h * bernoulli(dw)
        self.b = d_mid / h * bernoulli(-dw)
        self.volumes = _volumes(z)
        n = z.size
        # dp/dt V = M p with M[i,i-1] = a_{i-1}, M[i,i] = -(b_{i-1} + a_i), M[i,i+1] = b_i
        diag = np.zeros(n)
        diag[1:] -= self.b
        diag[:-1] -= self.a
        self.M = sp.diags([self.a, diag, self.b], [-1, 0, 1], format="csc")
        fixed = {}
        for idx, bc in ((0, self.left), (n - 1, self.right)):
            if isinstance(bc, Absorbing):
                fixed[idx] = 0.0
            elif isinstance(bc, FixedConcentration):
                fixed[idx] = bc.value
        self._fixed = fixed
        self.free = np.array([i for i in range(n) if i not in fixed])
        if self.free.size == 0:
            raise StochasticInputError("no free nodes: refine the grid")
        fixed_idx = np.array(sorted(fixed), dtype=int)
        fixed_val = np.array([fixed[i] for i in sorted(fixed)])
        self._A = self.M[self.free][:, self.free].tocsc()
        self._g = (
            self.M[self.free][:, fixed_idx] @ fixed_val
            if fixed_idx.size
            else np.zeros(self.free.size)
        )
        self._fixed_idx, self._fixed_val = fixed_idx, fixed_val

    # ----------------------------------------------------------------------------- helpers
    def full(self, p_free: np.ndarray) -> np.ndarray:
        """Free-node values completed with the boundary values."""
        p = np.empty(self.profile.z.size)
        p[self.free] = p_free
        p[self._fixed_idx] = self._fixed_val
        return p

    def edge_fluxes(self, p: np.ndarray) -> np.ndarray:
        """Flux on every cell (left to right positive) for nodal values ``p``."""
        return self.a * p[:-1] - self.b * p[1:]

    def equilibrium(self) -> np.ndarray:
        """Normalised Boltzmann density ``e^{-W_i} / sum_j V_j e^{-W_j}`` on the nodes."""
        w = np.exp(-(self.W - self.W.min()))
        return w / np.sum(self.volumes * w)

    def steady_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Steady nodal values and cell fluxes (needs at least one non-reflecting end)."""
        if not self._fixed:
            raise StochasticInputError(
                "steady state with two reflecting ends is the equilibrium; use equilibrium()"
            )
        p_free = factorized(self._A)(-self._g)
        p = self.full(p_free)
        return p, self.edge_fluxes(p)

    # ----------------------------------------------------------------------------- time stepping
    def run(
        self,
        p0: np.ndarray,
        t_end: float,
        dt: float,
        *,
        scheme: str = "bdf2",
        save_every: int = 0,
        progress: bool = False,
    ) -> Propagation:
        """Propagate ``p0`` (nodal values on the grid) to ``t_end`` [ns] with step ``dt`` [ns].

        ``scheme`` is ``"euler"`` (backward Euler, first order) or ``"bdf2"`` (second order,
        started by one backward-Euler step). ``save_every`` > 0 stores every k-th density.
        """
        if not (dt > 0 and t_end > 0):
            raise StochasticInputError(f"dt and t_end must be > 0 ns, got {dt!r}, {t_end!r}")
        if scheme not in ("euler", "bdf2"):
            raise StochasticInputError(f"scheme must be 'euler' or 'bdf2', got {scheme!r}")
        p0 = np.asarray(p0, dtype=float)
        if p0.shape != self.profile.z.shape or not np.all(np.isfinite(p0)) or np.any(p0 < 0):
            raise StochasticInputError(
                f"p0 must be finite, >= 0, with the grid's shape {self.profile.z.shape}"
            )
        n_steps = int(np.ceil(t_end / dt - 1e-9))
        vol = self.volumes[self.free]
        solve_euler = factorized((sp.diags(vol) - dt * self._A).tocsc())
        solve_bdf2 = factorized((sp.diags(1.5 * vol) - dt * self._A).tocsc())
        p_prev = None
        p = p0[self.free].copy()
        times = np.arange(n_steps + 1) * dt
        surv = np.empty(n_steps + 1)
        fl = np.empty(n_steps + 1)
        fr = np.empty(n_steps + 1)
        snaps, snap_t = [], []

        def record(k: int, pf: np.ndarray) -> None:
            full = self.full(pf)
            surv[k] = np.dot(vol, pf)
            jl = self.a[0] * full[0] - self.b[0] * full[1]
            jr = self.a[-1] * full[-2] - self.b[-1] * full[-1]
            fl[k] = -jl if 0 in self._fixed else 0.0
            fr[k] = jr if (full.size - 1) in self._fixed else 0.0
            if save_every and k % save_every == 0:
                snaps.append(full)
                snap_t.append(times[k])

        record(0, p)
        steps = range(1, n_steps + 1)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="propagate", unit="step")
        for k in steps:
            if scheme == "euler" or p_prev is None:
                p_new = solve_euler(vol * p + dt * self._g)
            else:
                p_new = solve_bdf2(vol * (2.0 * p - 0.5 * p_prev) + dt * self._g)
            p_prev, p = p, p_new
            record(k, p)
        return Propagation(
            z=self.profile.z,
            times=times,
            survival=surv,
            flux_left=fl,
            flux_right=fr,
            snapshot_times=np.array(snap_t),
            snapshots=np.array(snaps) if snaps else np.empty((0, self.profile.z.size)),
        )


def fv_steady_state(
    profile: Profile,
    c_left_mM: float,
    c_right_mM: float,
    *,
    valence: int = 0,
    voltage_mV: float = 0.0,
    drop: tuple[float, float] | None = None,
) -> tuple[np.ndarray, float]:
    """Steady concentration [mM] and flux [mM nm/ns] from the finite-volume operator.

    An independent check of :func:`stochastic.smoluchowski.steady_flux` (second order in the grid
    spacing for smooth W; exact for piecewise-linear W and piecewise-constant D).
    """
    prop = Propagator(
        profile,
        FixedConcentration(c_left_mM),
        FixedConcentration(c_right_mM),
        valence=valence,
        voltage_mV=voltage_mV,
        drop=drop,
    )
    c, j = prop.steady_state()
    return c, float(np.mean(j))
