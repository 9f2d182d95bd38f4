"""Force matching (multiscale coarse-graining, MS-CG) of pair forces on a B-spline basis.

The CG pair force between bead types a and b is ``f_ab(r) = sum_k c_k B_k(r)`` (clamped cubic
B-splines on ``[r_min, r_cut]``, :class:`scipy.interpolate.BSpline`). The mapped reference
forces ``F_I`` are matched in the least-squares sense,
``chi^2 = sum_frames sum_I |F_I - sum_{J} f(r_IJ) e_IJ|^2`` (Izvekov & Voth, J. Phys. Chem. B
109, 2469 (2005); Noid et al., J. Chem. Phys. 128, 244114 (2008)), which is linear in ``c``.
The normal equations are accumulated frame by frame from sparse design matrices and solved with
a Tikhonov (second-difference smoothness) penalty ``lambda |D2 c|^2``, ``lambda`` relative to the
mean diagonal of the normal matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.interpolate import BSpline
from scipy.spatial import cKDTree

from stochastic.cg.errors import CGInputError
from stochastic.cg.tabulated import PairTable
from stochastic.md.system import Box

Pair = tuple[str, str]


@dataclass(frozen=True)
class ForceMatchResult:
    """Fitted pair forces as splines, their tables and the fit quality.

    ``residual`` is ``chi^2`` per force component divided by the mean square reference force
    (0 = perfect, 1 = no better than zero force).
    """

    splines: dict[Pair, BSpline]
    tables: dict[Pair, PairTable]
    residual: float
    r_min: float
    r_cut: float

    def force(self, pair: Pair, r: np.ndarray) -> np.ndarray:
        """Fitted pair force [kJ/mol/nm] at ``r`` (positive = repulsive)."""
        key = pair if pair in self.splines else (pair[1], pair[0])
        return self.splines[key](np.asarray(r, float))


def _pairs(x: np.ndarray, box: Box, r_cut: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    L = box.lengths_array()
    if not all(box.periodic):
        raise CGInputError("force matching expects a fully periodic box")
    w = x - L * np.floor(x / L)
    w = np.where(w >= L, 0.0, w)
    ij = cKDTree(w, boxsize=L).query_pairs(r_cut, output_type="ndarray")
    d = w[ij[:, 0]] - w[ij[:, 1]]
    d -= L * np.rint(d / L)
    return ij[:, 0], ij[:, 1], d


def force_match(
    positions: np.ndarray,
    forces: np.ndarray,
    box: Box,
    type_names: tuple[str, ...],
    r_cut: float,
    r_min: float | None = None,
    n_knots: int = 40,
    regularization: float = 1e-8,
    table_spacing: float = 0.002,
) -> ForceMatchResult:
    """Fit pair forces to mapped reference forces.

    Parameters
    ----------
    positions, forces
        Bead positions [nm] and mapped forces [kJ/mol/nm], (F, N, 3) or (N, 3).
    box
        The periodic box.
    type_names
        Bead type of each bead (length N); one force per unordered type pair.
    r_cut
        Pair cutoff [nm].
    r_min
        Inner end of the basis [nm]; default a bit below the closest sampled pair (the force is
        unconstrained below it and the table extrapolates it linearly).
    n_knots
        Number of interior knot intervals of the cubic B-spline basis per pair.
    regularization
        Relative Tikhonov weight of the second-difference penalty.
    """
    return force_match_states(
        [(positions, forces, box, 1.0)], type_names, r_cut, r_min, n_knots, regularization,
        table_spacing,
    )  # fmt: skip


def force_match_states(
    datasets: Sequence[tuple[np.ndarray, np.ndarray, Box, float]],
    type_names: tuple[str, ...],
    r_cut: float,
    r_min: float | None = None,
    n_knots: int = 40,
    regularization: float = 1e-8,
    table_spacing: float = 0.002,
) -> ForceMatchResult:
    """Force matching pooled over state points: ``chi^2 = sum_s w_s chi^2_s / F_s``.

    ``datasets`` holds ``(positions, forces, box, weight)`` per state (each as in
    :func:`force_match`, same beads and types); each state's normal equations are averaged over
    its frames and weighted by ``w_s``, so one pair force serves every state (the multi-state
    force matching of the transferability literature). Other parameters as in
    :func:`force_match`.
    """
    if not datasets:
        raise CGInputError("need at least one (positions, forces, box, weight) data set")
    checked = []
    for x_s, f_s, box_s, w_s in datasets:
        if not (np.isfinite(w_s) and w_s > 0):
            raise CGInputError(f"state weights must be > 0, got {w_s}")
        checked.append((*_check_frames(x_s, f_s, type_names, n_knots), box_s, float(w_s)))
    pairs, tix, pid = _type_pairs(type_names)
    if r_min is None:
        r_min = min(_closest_pair(x, b, r_cut) for x, _, b, _ in checked) * 0.98
    if not 0 <= r_min < r_cut:
        raise CGInputError(f"need 0 <= r_min < r_cut, got {r_min}, {r_cut}")
    basis = _Basis(float(r_min), float(r_cut), n_knots, len(pairs))
    ata = np.zeros((basis.n_columns, basis.n_columns))
    atb = np.zeros(basis.n_columns)
    ff = 0.0
    for x, fr, box, w in checked:
        for xf, ffr in zip(x, fr, strict=True):
            m = _frame_design(xf, box, basis, tix, pid)
            b = ffr.reshape(-1)
            ata += w / len(x) * (m.T @ m).toarray()
            atb += w / len(x) * (m.T @ b)
            ff += w / len(x) * float(b @ b)
    coef = _solve_normal_equations(ata, atb, basis, regularization)
    chi2 = float(coef @ ata @ coef - 2 * coef @ atb + ff)
    splines, tables = {}, {}
    for k, p in enumerate(pairs):
        spl = BSpline(basis.knots, coef[k * basis.n_per_pair : (k + 1) * basis.n_per_pair], 3)
        splines[p] = spl
        grid = np.linspace(r_min, r_cut, round((r_cut - r_min) / table_spacing) + 1)
        tables[p] = PairTable.from_force(grid, spl(grid), r_cut, table_spacing)
    return ForceMatchResult(splines, tables, chi2 / max(ff, 1e-300), float(r_min), float(r_cut))


def _check_frames(
    positions: np.ndarray, forces: np.ndarray, type_names: tuple[str, ...], n_knots: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions and forces as finite (F, N, 3) float arrays, checked against the type names."""
    x = np.asarray(positions, float).reshape(-1, *np.shape(positions)[-2:])
    fr = np.asarray(forces, float).reshape(-1, *np.shape(forces)[-2:])
    if x.shape != fr.shape or x.shape[-1] != 3:
        raise CGInputError(f"positions {x.shape} and forces {fr.shape} must both be (F, N, 3)")
    if len(type_names) != x.shape[1]:
        raise CGInputError(f"{len(type_names)} type names for {x.shape[1]} beads")
    if n_knots < 4:
        raise CGInputError("need n_knots >= 4")
    for name, a in (("positions", x), ("forces", fr)):
        if not np.isfinite(np.sum(a)):
            frame, bead = np.argwhere(~np.isfinite(a).all(axis=2))[0]
            raise CGInputError(
                f"{name} are NaN or infinite in frame {frame}, bead {bead}: drop or fix the "
                "frames whose mapped positions or forces are not finite"
            )
    return x, fr


def _type_pairs(
    type_names: tuple[str, ...],
) -> tuple[list[Pair], np.ndarray, dict[tuple[int, int], int]]:
    """Unordered type pairs (sorted names), each bead's type index, (ti, tj) -> pair index."""
    names = sorted(set(type_names))
    tix = np.array([names.index(t) for t in type_names])
    pairs = [(a, b) for k, a in enumerate(names) for b in names[k:]]
    pid = {}
    for k, (a, b) in enumerate(pairs):
        pid[(names.index(a), names.index(b))] = pid[(names.index(b), names.index(a))] = k
    return pairs, tix, pid


def _closest_pair(x: np.ndarray, box: Box, r_cut: float) -> float:
    """Closest bead-bead distance [nm] over the first 20 frames (for the default ``r_min``)."""
    closest = np.inf
    for xf in x[: min(len(x), 20)]:
        d = _pairs(xf, box, r_cut)[2]
        if len(d):
            closest = min(closest, float(np.sqrt(np.min(np.einsum("ij,ij->i", d, d)))))
    if not np.isfinite(closest):
        raise CGInputError(f"no pair of beads closer than r_cut = {r_cut} nm in the data")
    return closest


@dataclass(frozen=True)
class _Basis:
    """Clamped cubic B-spline knots on ``[r_min, r_cut]``, one coefficient block per pair."""

    r_min: float
    r_cut: float
    n_knots: int
    n_pairs: int

    @property
    def knots(self) -> np.ndarray:
        inner = np.linspace(self.r_min, self.r_cut, self.n_knots + 1)
        return np.concatenate([[self.r_min] * 3, inner, [self.r_cut] * 3])

    @property
    def n_per_pair(self) -> int:
        return self.n_knots + 3  # len(knots) - degree - 1

    @property
    def n_columns(self) -> int:
        return self.n_per_pair * self.n_pairs


def _frame_design(
    xf: np.ndarray, box: Box, basis: _Basis, tix: np.ndarray, pid: dict[tuple[int, int], int]
) -> sp.csr_matrix:
    """Sparse (3N, n_columns) matrix mapping the spline coefficients to one frame's forces."""
    n = xf.shape[0]
    nb = basis.n_per_pair
    i, j, d = _pairs(xf, box, basis.r_cut)
    r = np.sqrt(np.einsum("ij,ij->i", d, d))
    e = d / r[:, None]
    rc = np.clip(r, basis.r_min, basis.r_cut)
    bm = BSpline.design_matrix(rc, basis.knots, 3).tocsr()
    col_shift = nb * np.array([pid[(a, b)] for a, b in zip(tix[i], tix[j], strict=True)])
    bm = bm.tocoo()
    rows, cols, vals = bm.row, bm.col + col_shift[bm.row], bm.data
    # force on i from pair (i, j) is +f e_ij, on j it is -f e_ij
    blocks = []
    for c in range(3):
        ec = e[rows, c] * vals
        rr = np.concatenate([3 * i[rows] + c, 3 * j[rows] + c])
        blocks.append((rr, np.concatenate([cols, cols]), np.concatenate([ec, -ec])))
    rr = np.concatenate([b[0] for b in blocks])
    cc = np.concatenate([b[1] for b in blocks])
    vv = np.concatenate([b[2] for b in blocks])
    return sp.csr_matrix((vv, (rr, cc)), shape=(3 * n, basis.n_columns))


def _solve_normal_equations(
    ata: np.ndarray, atb: np.ndarray, basis: _Basis, regularization: float
) -> np.ndarray:
    """Coefficients minimising chi^2 + lambda |D2 c|^2 (lambda relative to mean diag A^T A)."""
    nb = basis.n_per_pair
    d2 = np.diff(np.eye(nb), 2, axis=0)
    pen = np.kron(np.eye(basis.n_pairs), d2.T @ d2)
    scale = float(np.mean(np.diag(ata))) or 1.0
    lhs = ata + regularization * scale * pen + 1e-12 * scale * np.eye(basis.n_columns)
    return scipy.linalg.solve(lhs, atb, assume_a="pos")
