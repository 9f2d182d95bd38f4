"""Smooth particle-mesh Ewald (Essmann et al., J. Chem. Phys. 103, 8577 (1995)).

Same real-space, self, exclusion and background terms as :class:`~stochastic.md.ewald.Ewald`;
the reciprocal sum is evaluated on a grid: charges are spread with cardinal B-splines of even
``order``, the grid is Fourier transformed with numpy, multiplied by
``G(m) = B(m) exp(-pi^2 m^2 / alpha^2) / (pi V m^2)`` and transformed back to the potential
``phi`` whose spline-weighted gradient gives the forces. The PME energy and forces are exactly
consistent (forces are the analytic gradient of the PME energy).

Accuracy from one ``tolerance``: ``alpha`` as in Ewald (``exp(-alpha^2 rc^2) = tol``), and the
coarsest FFT-friendly grid whose *estimated* RMS reciprocal-space force error does not exceed
the estimated RMS real-space truncation error (:func:`choose_grid`). The estimates are

- real space (Kolafa & Perram, Mol. Simul. 9, 351 (1992)): the pair force beyond ``rc``
  squared and integrated over space, :func:`real_space_error_functional`;
- reciprocal space, pair part (Hockney & Eastwood, *Computer Simulation Using Particles*, ch. 8;
  Deserno & Holm, J. Chem. Phys. 109, 7694 (1998)): the squared difference between the mesh
  pair force and the exact reciprocal pair force, averaged over the source position in a mesh
  cell and integrated over separations, written in Fourier space with the alias sums of the
  B-spline transform ``U(k) = prod_d sinc(k_d h_d / 2)^p``. For SPME with analytic
  differentiation the influence function is ``G = phi(k) / (sum_m U(k_m))^2`` (Ballenegger,
  Cerda & Holm, J. Chem. Theory Comput. 8, 936 (2012)), and the functional is
  ``Q = (1/V) sum_k [G^2 sum_m U_m^2 sum_m k_m^2 U_m^2 - 2 G sum_m k_m^2 U_m^2 phi_m
  + sum_m k_m^2 phi_m^2]`` with ``phi(k) = 4 pi exp(-k^2 / 4 alpha^2) / k^2``;
- reciprocal space, self force: with analytic differentiation a charge feels a force from its
  own mesh image that depends on its position in the cell (Ballenegger, Cerda & Holm 2012 remove
  it; this code keeps it and counts it). Derived here in the same Fourier framework, its mean
  square is ``q^4 sum_{p != 0} |pi p / h|^2 S_p^2`` with
  ``S_p = (1/V) sum_k G(k) sum_m U_m U_{m+p}`` (checked against a lone charge in the tests).

The RMS force error of ``N`` charges is ``ke sqrt((sum q^2)^2 Q / (N V) + (sum q^4 / N) self)``
for random positions (Deserno & Holm 1998). On a random electrolyte the estimate
agrees with the measured RMS reciprocal force error to within about 25 % for orders 4, 6, 8
(tests/test_md_pme_tolerance.py). OpenMM's empirical rule for its order-5 splines,
``alpha = sqrt(-ln 2 tol) / rc`` and ``K >= 2 alpha L / (3 tol^(1/5))`` (OpenMM user guide,
"Coulomb interaction with particle mesh Ewald") asks for about 1.4 times as many points per
axis as this estimate does at order 6 on that electrolyte (46 vs 30-36 at 1e-5, 80 vs 54-60 at
1e-6). With analytic differentiation the RMS force error falls as ``h^(order - 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import quad

from stochastic.md import kernels
from stochastic.md.errors import MDInputError
from stochastic.md.ewald import Ewald
from stochastic.md.system import System

#: Alias images per axis in the error sums (the B-spline transform decays as m^-order).
_IMAGES = 40
#: The error functionals are intensive once the box exceeds ~5/alpha (their Brillouin-zone sums
#: are converged Riemann sums of k-space integrals): the estimate is evaluated on a sub-box of the
#: same spacing, ``_ESTIMATE_BOX / alpha`` wide but at most ``_ESTIMATE_CAP`` cells per axis.
_ESTIMATE_BOX = 8.0
_ESTIMATE_CAP = 96
#: Largest grid chosen from the tolerance (2^24 points, ~0.5 GB of work arrays); an explicit
#: ``grid_spacing`` is not limited.
MAX_AUTO_GRID_POINTS = 2**24


def _nice_size(n: int) -> int:
    """Smallest integer >= n with only the prime factors 2, 3, 5 (fast FFT sizes)."""
    m = max(n, 4)
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def _spline_moduli(k: int, order: int) -> np.ndarray:
    """``|b(m)|^2`` for m = 0..K-1 (Essmann eq. 4.4)."""
    vals, dv = np.empty(order), np.empty(order)
    kernels.bspline_weights(0.0, order, vals, dv)  # vals[j] = M_n(j); need M_n(j+1), j=0..n-2
    mn = np.array([vals[j + 1] for j in range(order - 1)])
    m = np.arange(k)
    denom = np.exp(2j * np.pi * np.outer(m, np.arange(order - 1)) / k) @ mn
    return 1.0 / np.abs(denom) ** 2


def real_space_error_functional(alpha: float, cutoff: float) -> float:
    """``Q_real = 4 pi int_rc^inf r^2 f(r)^2 dr`` [nm^-1] for unit charges (``ke = 1``).

    ``f(r) = erfc(alpha r)/r^2 + 2 alpha exp(-alpha^2 r^2) / (sqrt(pi) r)`` is the real-space
    pair force dropped beyond the cutoff; ``Q_real ~ 4 exp(-2 alpha^2 rc^2) / rc`` (Kolafa &
    Perram 1992). The RMS truncation force error of N charges in V is
    ``ke (sum q^2) sqrt(Q_real / (N V))``.
    """

    def integrand(r: float) -> float:
        f = math.erfc(alpha * r) / r**2
        f += 2 * alpha / math.sqrt(math.pi) * math.exp(-((alpha * r) ** 2)) / r
        return r * r * f * f

    value = quad(integrand, cutoff, cutoff + 12.0 / alpha, epsabs=0.0, epsrel=1e-9, limit=200)[0]
    return 4 * math.pi * value


@dataclass(frozen=True)
class _Axis:
    """Alias sums along one axis for k in the Brillouin zone (arrays of length K)."""

    k: np.ndarray  # Brillouin-zone wave numbers [1/nm]
    h: float  # grid spacing [nm]
    u0: np.ndarray  # sinc(k h / 2)^p
    tail: np.ndarray  # sum_{m != 0} u_m
    c: np.ndarray  # u0^2
    r: np.ndarray  # sum_{m != 0} u_m^2
    w0: np.ndarray  # k^2 u0^2
    v: np.ndarray  # sum_{m != 0} k_m^2 u_m^2
    g0: np.ndarray  # u0^2 exp(-k^2 / 4 alpha^2)
    gr: np.ndarray  # sum_{m != 0} u_m^2 exp(-k_m^2 / 4 alpha^2)
    e0: np.ndarray  # exp(-k^2 / 4 alpha^2)
    er: np.ndarray  # sum_{m != 0} exp(-k_m^2 / 2 alpha^2)
    u: np.ndarray  # u_m for m = -_IMAGES.._IMAGES, shape (K, 2 _IMAGES + 1)
    km: np.ndarray  # k_m, same shape


def _axis(n: int, length: float, alpha: float, order: int) -> _Axis:
    h = length / n
    k = 2 * math.pi * np.fft.fftfreq(n, d=h)
    m = np.arange(-_IMAGES, _IMAGES + 1)
    km = k[:, None] + 2 * math.pi * m[None, :] / h
    u = np.sinc(km * h / (2 * math.pi)) ** order
    e = np.exp(-(km**2) / (4 * alpha**2))
    u0, e0 = u[:, _IMAGES], e[:, _IMAGES]
    un, en, kn = np.delete(u, _IMAGES, 1), np.delete(e, _IMAGES, 1), np.delete(km, _IMAGES, 1)
    return _Axis(
        k=k, h=h, u0=u0, tail=un.sum(1), c=u0**2, r=(un**2).sum(1), w0=k**2 * u0**2,
        v=(kn**2 * un**2).sum(1), g0=u0**2 * e0, gr=(un**2 * en).sum(1), e0=e0,
        er=(en**2).sum(1), u=u, km=km,
    )  # fmt: skip


def _grid3(axes: list[_Axis], name: str) -> list[np.ndarray]:
    """The per-axis array ``name`` of each axis, shaped to broadcast over the 3D k-grid."""
    out = []
    for d, ax in enumerate(axes):
        shape = [1, 1, 1]
        shape[d] = -1
        out.append(getattr(ax, name).reshape(shape))
    return out


def _prod_minus_main(main: list[np.ndarray], rest: list[np.ndarray]) -> np.ndarray:
    """``prod_d (main_d + rest_d) - prod_d main_d`` without cancellation (all terms >= 0)."""
    a, b, c = main
    ra, rb, rc = rest
    return ra * (b + rb) * (c + rc) + a * rb * (c + rc) + a * b * rc


def _influence(axes: list[_Axis], alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``k^2``, ``phi(k)`` and the SPME influence function ``G(k)`` on the 3D k-grid."""
    kx, ky, kz = _grid3(axes, "k")
    k2 = kx**2 + ky**2 + kz**2
    ex, ey, ez = _grid3(axes, "e0")
    t = [a + b for a, b in zip(_grid3(axes, "u0"), _grid3(axes, "tail"), strict=True)]
    k2s = np.where(k2 > 0, k2, 1.0)
    phi = np.where(k2 > 0, 4 * math.pi * ex * ey * ez / k2s, 0.0)
    return k2, phi, phi / (t[0] * t[1] * t[2]) ** 2


def spme_pair_error_functional(
    grid: tuple[int, int, int], lengths: np.ndarray, alpha: float, order: int
) -> float:
    """Deserno-Holm functional ``Q`` [nm^-1] of the SPME reciprocal pair force (``ke = 1``).

    See the module docstring for the formula. The main (``m' = 0``) term is rearranged as
    ``k^2 [phi^2 (U_0^2 / (sum_m U_m)^2 - 1)^2 + G^2 U_0^2 sum_{m != 0} U_m^2]`` so that no
    difference of nearly equal numbers is formed; the exact-force alias term
    ``sum_{m != 0} k_m^2 phi_m^2`` is bounded above with ``k_m^2 >= (pi / h_max)^2``.
    """
    axes = [_axis(n, x, alpha, order) for n, x in zip(grid, lengths, strict=True)]
    k2, phi, g = _influence(axes, alpha)
    c, r = _grid3(axes, "c"), _grid3(axes, "r")
    s = [a + b for a, b in zip(c, r, strict=True)]
    u0, tail = _grid3(axes, "u0"), _grid3(axes, "tail")
    log_ratio = sum(np.log1p(t / u) for t, u in zip(tail, u0, strict=True))
    mismatch = np.expm1(-2.0 * log_ratio)  # U_0^2 / (sum_m U_m)^2 - 1
    alias_u2 = _prod_minus_main(c, r)  # sum_{m != 0} U_m^2
    main = k2 * (phi**2 * mismatch**2 + g**2 * c[0] * c[1] * c[2] * alias_u2)
    w0, v = _grid3(axes, "w0"), _grid3(axes, "v")
    k2u2 = 0.0  # sum_{m' != 0} k_m'^2 U_m'^2
    for d in range(3):
        o1, o2 = [x for x in range(3) if x != d]
        k2u2 = k2u2 + v[d] * s[o1] * s[o2] + w0[d] * (r[o1] * s[o2] + c[o1] * r[o2])
    cross = 4 * math.pi * _prod_minus_main(_grid3(axes, "g0"), _grid3(axes, "gr"))
    e0sq = [e**2 for e in _grid3(axes, "e0")]
    hmax = max(ax.h for ax in axes)
    exact = 16 * hmax**2 * _prod_minus_main(e0sq, _grid3(axes, "er"))
    alias = g**2 * (c[0] * c[1] * c[2] + alias_u2) * k2u2 - 2 * g * cross + exact
    return float(np.sum(main + alias)) / float(np.prod(lengths))


def spme_self_force_ms(
    grid: tuple[int, int, int], lengths: np.ndarray, alpha: float, order: int, pmax: int = 1
) -> float:
    """Mean-square SPME self force [nm^-4] of a unit charge (``ke = 1``), over its cell position.

    ``sum_{p != 0, |p_d| <= pmax} |pi p / h|^2 S_p^2`` with
    ``S_p = (1/V) sum_k G(k) prod_d sum_m u_d(k_m) u_d(k_{m+p})`` (module docstring).
    """
    axes = [_axis(n, x, alpha, order) for n, x in zip(grid, lengths, strict=True)]
    _, _, g = _influence(axes, alpha)
    overlaps = []  # overlaps[d][p] = sum_m u_m u_{m+p} along axis d
    for ax in axes:
        by_shift = {}
        for p in range(-pmax, pmax + 1):
            shifted = np.sinc((ax.km + 2 * math.pi * p / ax.h) * ax.h / (2 * math.pi))
            by_shift[p] = (ax.u * shifted ** (order)).sum(1)
        overlaps.append(by_shift)
    vol = float(np.prod(lengths))
    shifts = range(-pmax, pmax + 1)
    gz = {pz: g @ overlaps[2][pz] for pz in shifts}  # contract z first: (Kx, Ky) each
    total = 0.0
    for p in ((a, b, c) for a in shifts for b in shifts for c in shifts):
        if p == (0, 0, 0):
            continue
        sp = float(overlaps[0][p[0]] @ gz[p[2]] @ overlaps[1][p[1]]) / vol
        q = sum((math.pi * p[d] / axes[d].h) ** 2 for d in range(3))
        total += q * sp * sp
    return total


def reciprocal_force_error(
    grid: tuple[int, int, int], lengths: np.ndarray, alpha: float, order: int, charges: np.ndarray
) -> float:
    """Estimated RMS SPME reciprocal force error [e^2 nm^-2; multiply by ``ke``].

    ``sqrt((sum q^2)^2 Q / (N V) + (sum q^4 / N) <F_self^2>)`` over the N charged particles
    (:func:`spme_pair_error_functional`, :func:`spme_self_force_ms`), evaluated on a sub-box
    of the same spacing ``_ESTIMATE_BOX / alpha`` wide (at most ``_ESTIMATE_CAP`` cells per
    axis; the estimate is less reliable for grids finer than that).
    """
    q = np.asarray(charges, dtype=float)
    q = q[q != 0.0]
    if len(q) == 0:
        return 0.0
    lengths = np.asarray(lengths, dtype=float)
    h = lengths / np.asarray(grid)
    wide = [max(16, math.ceil(_ESTIMATE_BOX / (alpha * x))) for x in h]
    sub = tuple(min(int(n), w, _ESTIMATE_CAP) for n, w in zip(grid, wide, strict=True))
    sub_lengths = h * np.asarray(sub)
    pair = spme_pair_error_functional(sub, sub_lengths, alpha, order)
    self_ms = spme_self_force_ms(sub, sub_lengths, alpha, order)
    q2, q4, n = float(np.sum(q**2)), float(np.sum(q**4)), len(q)
    return math.sqrt(q2**2 * pair / (n * float(np.prod(lengths))) + q4 / n * self_ms)


def real_space_force_error(
    alpha: float, cutoff: float, volume: float, charges: np.ndarray
) -> float:
    """Estimated RMS real-space truncation force error [e^2 nm^-2; multiply by ``ke``].

    ``(sum q^2) sqrt(Q_real / (N V))`` over the N charged particles (Kolafa & Perram 1992).
    """
    q = np.asarray(charges, dtype=float)
    q = q[q != 0.0]
    if len(q) == 0:
        return 0.0
    q_real = real_space_error_functional(alpha, cutoff)
    return float(np.sum(q**2)) * math.sqrt(q_real / (len(q) * volume))


def choose_grid(
    lengths: np.ndarray, alpha: float, order: int, charges: np.ndarray, target: float
) -> tuple[int, int, int]:
    """Coarsest FFT-friendly grid whose :func:`reciprocal_force_error` is <= ``target``.

    ``target`` is in e^2 nm^-2 (a force error divided by ``ke``). The grid has about equal
    spacing on all axes and at least ``2 order`` points per axis. The spacing is bracketed by
    steps of a factor 0.7 and then bisected in ``log h``; among the grids tried, the one with the
    fewest points that meets the target is returned.
    """
    lengths = np.asarray(lengths, dtype=float)

    def grid_for(h: float) -> tuple[int, int, int]:
        return tuple(max(_nice_size(math.ceil(x / h)), 2 * order) for x in lengths)

    cache: dict[tuple[int, int, int], bool] = {}

    def ok(h: float) -> bool:
        g = grid_for(h)
        if g not in cache:
            cache[g] = reciprocal_force_error(g, lengths, alpha, order, charges) <= target
        return cache[g]

    h_hi = float(np.max(lengths)) / (2 * order)  # coarsest grid allowed
    if ok(h_hi):
        return grid_for(h_hi)
    h_lo = h_hi
    for _ in range(40):
        h_lo *= 0.7
        if ok(h_lo):
            break
        h_hi = h_lo
    else:
        raise MDInputError(
            f"PME: no grid down to spacing {h_lo:.3g} nm meets the tolerance; raise the tolerance "
            "or the spline order, or give grid_spacing explicitly"
        )
    for _ in range(8):
        mid = math.sqrt(h_lo * h_hi)
        if ok(mid):
            h_lo = mid
        else:
            h_hi = mid
    passing = [g for g, good in cache.items() if good]
    return min(passing, key=lambda g: (g[0] * g[1] * g[2], g))


class PME(Ewald):
    """Ewald summation with the reciprocal part by smooth PME.

    Parameters
    ----------
    system, cutoff, alpha, epsilon_r, min_distance, name
        As for :class:`~stochastic.md.ewald.Ewald`.
    tolerance
        Accuracy target: sets ``alpha = sqrt(-ln tol) / rc`` (unless ``alpha`` is given) and,
        unless ``grid_spacing`` is given, the grid: the coarsest FFT-friendly grid whose
        estimated RMS reciprocal force error is at most the estimated RMS real-space error at
        that tolerance (:func:`choose_grid`). The total RMS force error is then about
        ``sqrt(2)`` times :attr:`real_space_error`; the measured relative RMS force errors of a
        random electrolyte stay below the tolerance (tests/test_md_pme_tolerance.py). Tight
        tolerances at low order need fine grids (the error falls as ``h^(order-1)``): a chosen
        grid of more than :data:`MAX_AUTO_GRID_POINTS` raises :class:`MDInputError`. For the
        accuracy of common MD practice (OpenMM's default) pass ``tolerance=5e-4``.
    grid_spacing
        Largest grid spacing [nm]; overrides the tolerance-based grid (the grid size per axis is
        then the next FFT-friendly integer, at least ``2 order``).
    order
        B-spline interpolation order (even: 4, 6 or 8; 4 is cubic as in GROMACS' default).

    Attributes
    ----------
    grid
        Grid points per axis.
    real_space_error, reciprocal_error
        Estimated RMS force errors [kJ/mol/nm] of the real-space truncation and of the mesh
        for this system's charges (random-position estimates, module docstring).
    """

    def __init__(
        self,
        system: System,
        cutoff: float,
        tolerance: float = 1e-5,
        alpha: float | None = None,
        grid_spacing: float | None = None,
        order: int = 6,
        epsilon_r: float = 1.0,
        min_distance: float = 0.01,
        name: str = "coulomb",
    ):
        if order not in (4, 6, 8):
            raise MDInputError(f"PME order must be 4, 6 or 8, got {order}")
        if grid_spacing is not None and not (math.isfinite(grid_spacing) and grid_spacing > 0):
            raise MDInputError(
                f"PME grid_spacing must be a finite number > 0 nm (or None to choose the grid "
                f"from the tolerance), got {grid_spacing}"
            )
        super().__init__(system, cutoff, tolerance, alpha, 1, epsilon_r, min_distance, name)
        L = self.lengths
        self.order = order
        vol = float(np.prod(L))
        if grid_spacing is None:
            alpha_tol = math.sqrt(-math.log(tolerance)) / self.cutoff
            target = real_space_force_error(alpha_tol, self.cutoff, vol, self.q)
            self.grid = choose_grid(L, self.alpha, order, self.q, target)
            if math.prod(self.grid) > MAX_AUTO_GRID_POINTS:
                raise MDInputError(
                    f"PME: tolerance {tolerance:g} at order {order} needs a {self.grid} grid "
                    f"(more than {MAX_AUTO_GRID_POINTS} points); use order 8, a larger "
                    "tolerance (OpenMM's default is 5e-4) or a longer cutoff, or give "
                    "grid_spacing explicitly to accept that grid or a coarser one"
                )
        else:
            self.grid = tuple(max(_nice_size(math.ceil(x / grid_spacing)), 2 * order) for x in L)
        self.real_space_error = self.ke * real_space_force_error(
            self.alpha, self.cutoff, vol, self.q
        )
        self.reciprocal_error = self.ke * reciprocal_force_error(
            self.grid, L, self.alpha, order, self.q
        )
        self._set_influence_function()

    def _set_influence_function(self) -> None:
        """``G(m)`` on the real-to-complex half spectrum (broadcast, no full-grid temporaries)."""
        L = self.lengths
        half = self.grid[2] // 2 + 1
        mods = [_spline_moduli(k, self.order) for k in self.grid]
        freqs = [np.fft.fftfreq(k, d=1.0 / k) / x for k, x in zip(self.grid, L, strict=True)]
        m2 = (
            freqs[0][:, None, None] ** 2
            + freqs[1][None, :, None] ** 2
            + freqs[2][None, None, :half] ** 2  # |m| at the Nyquist index is the same either sign
        )
        b = mods[0][:, None, None] * mods[1][None, :, None] * mods[2][None, None, :half]
        vol = float(np.prod(L))
        m2[0, 0, 0] = 1.0
        g = b * np.exp(-(math.pi**2) * m2 / self.alpha**2) / (math.pi * vol * m2)
        g[0, 0, 0] = 0.0
        # real-to-complex FFTs keep the last axis up to its Nyquist index; every other mode of
        # the full spectrum appears twice (m and -m), so half-spectrum sums carry weight 2
        weight = np.full(half, 2.0)
        weight[0] = 1.0
        if self.grid[2] % 2 == 0:
            weight[-1] = 1.0
        self.g = np.ascontiguousarray(g)
        self.gw = self.g * weight
        self.gw_virial = self.gw * (1.0 - 2.0 * math.pi**2 * m2 / self.alpha**2)
        self.scale = np.array(self.grid, dtype=float) / L

    def reciprocal(self, positions: np.ndarray, forces: np.ndarray) -> tuple[float, float]:
        """PME reciprocal-space energy and virial; adds its forces into ``forces``."""
        c = self.charged
        if len(c) == 0:
            return 0.0, 0.0
        frac = positions[c] / self.lengths
        u = np.ascontiguousarray((frac - np.floor(frac)) * np.array(self.grid))
        q = np.ascontiguousarray(self.q[c])
        grid = np.zeros(self.grid)
        kernels.pme_spread(u, q, grid, self.order)
        a = np.fft.rfftn(grid)
        a2 = a.real**2 + a.imag**2
        energy = 0.5 * self.ke * float(np.sum(a2 * self.gw))
        virial = 0.5 * self.ke * float(np.sum(a2 * self.gw_virial))
        phi = self.ke * grid.size * np.fft.irfftn(self.g * a, s=self.grid, axes=(0, 1, 2))
        fc = np.zeros((len(c), 3))
        kernels.pme_gather(u, q, np.ascontiguousarray(phi), self.order, self.scale, fc)
        forces[c] += fc
        return energy, virial
