"""Invariant neighbourhood descriptors and padded neighbour lists.

For bead I with neighbours k (displacements ``d_Ik``, distances ``r_Ik < r_c``) and the smooth
cutoff ``f_c(r) = (1 + cos(pi r / r_c)) / 2``:

* radial: ``G_I^a = sum_k exp(-((r_Ik - mu_a) / w)^2) f_c(r_Ik)``, ``mu_a`` evenly spaced;
* angular: ``A_I^{b,n} = sum_{k != l} cos^n(theta_kIl) rho_b(r_Ik) rho_b(r_Il)``, n = 1..n_cos,
  with a few coarse radial channels ``rho_b``, evaluated as ``|M_I^{b,n}|^2 - sum_k rho_b^2``
  with the moment tensors ``M_I^{b,n} = sum_k rho_b(r_Ik) u_Ik^(x)n`` (``cos^n theta_kIl`` is
  the contraction of ``u_Ik^(x)n`` with ``u_Il^(x)n``), linear in the neighbour count as in the
  moment tensor potentials of Shapeev (Multiscale Model. Simul. 14, 1153 (2016)).

These are the symmetry functions of Behler & Parrinello (Phys. Rev. Lett. 98, 146401 (2007))
in a moment form: sums over neighbours (permutation-invariant) of distances and angles
(rotation- and translation-invariant). Neighbour lists are padded to a fixed width K (JAX needs
static shapes); padded slots point at the bead itself and are masked.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
from scipy.spatial import cKDTree

from stochastic.cg.errors import CGInputError


@dataclass(frozen=True)
class DescriptorSpec:
    """Descriptor settings.

    Parameters
    ----------
    r_cut
        Descriptor cutoff [nm].
    n_radial
        Number of radial Gaussians between ``r_start`` and ``r_cut``.
    r_start
        Centre of the first Gaussian [nm] (about the closest approach of two beads).
    n_angular_radial
        Number of coarse radial channels of the angular terms.
    n_cos
        Highest power of cos(theta) in the angular terms.
    """

    r_cut: float
    n_radial: int = 8
    r_start: float = 0.8
    n_angular_radial: int = 2
    n_cos: int = 3

    def __post_init__(self) -> None:
        if not (0 < self.r_start < self.r_cut):
            raise CGInputError(f"need 0 < r_start < r_cut, got {self.r_start}, {self.r_cut}")
        if self.n_radial < 1 or self.n_angular_radial < 0 or self.n_cos < 1:
            raise CGInputError("need n_radial >= 1, n_angular_radial >= 0 and n_cos >= 1")

    @property
    def size(self) -> int:
        """Descriptor length per bead."""
        return self.n_radial + self.n_angular_radial * self.n_cos


def _cutoff(r, r_cut):
    return jnp.where(r < r_cut, 0.5 * (1.0 + jnp.cos(jnp.pi * r / r_cut)), 0.0)


def descriptors(disp, mask, spec: DescriptorSpec):
    """Descriptors (N, spec.size) from neighbour displacements (N, K, 3) and a mask (N, K).

    Masked slots contribute nothing and no gradient (their displacement is replaced by a
    point beyond the cutoff before the square root).
    """
    far = jnp.array([2.0 * spec.r_cut, 0.0, 0.0])
    d = jnp.where(mask[..., None], disp, far)
    r = jnp.sqrt(jnp.sum(d * d, axis=-1))
    fc = _cutoff(r, spec.r_cut) * mask
    mu = jnp.linspace(spec.r_start, spec.r_cut, spec.n_radial)
    width = (spec.r_cut - spec.r_start) / max(spec.n_radial - 1, 1)
    radial = jnp.sum(jnp.exp(-(((r[..., None] - mu) / width) ** 2)) * fc[..., None], axis=1)
    if spec.n_angular_radial == 0:
        return radial
    unit = d / r[..., None]
    mu_b = jnp.linspace(spec.r_start, spec.r_cut, spec.n_angular_radial + 1)[:-1]
    w_b = (spec.r_cut - spec.r_start) / spec.n_angular_radial
    rho = jnp.exp(-(((r[..., None] - mu_b) / w_b) ** 2)) * fc[..., None]  # (N, K, B)
    # sum_{k != l} rho_k rho_l (u_k . u_l)^n = |sum_k rho_k u_k^(x)n|^2 - sum_k rho_k^2:
    # the Frobenius norm of the n-th moment tensor, O(K 3^n) instead of O(K^2) per bead
    self_term = jnp.sum(rho * rho, axis=1)  # (N, B)
    tensor = jnp.ones((*unit.shape[:2], 1), unit.dtype)
    moments = []
    for _ in range(spec.n_cos):
        tensor = (tensor[..., :, None] * unit[..., None, :]).reshape((*unit.shape[:2], -1))
        m = jnp.einsum("nkb,nkc->nbc", rho, tensor)  # (N, B, 3^n)
        moments.append(jnp.sum(m * m, axis=-1) - self_term)
    angular = jnp.stack(moments, axis=-1).reshape(r.shape[0], -1)  # (N, B * n_cos)
    return jnp.concatenate([radial, angular], axis=1)


def neighbour_table(
    x: np.ndarray, lengths: np.ndarray, r_list: float, width: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Padded full neighbour list ``(idx (N, K), mask (N, K))`` of pairs closer than ``r_list``.

    ``width`` fixes K (raise if a bead has more neighbours); None uses the largest count
    rounded up to a multiple of 8 (fewer recompilations).
    """
    n = len(x)
    w = np.mod(x, lengths)
    w = np.where(w >= lengths, 0.0, w)
    pairs = cKDTree(w, boxsize=lengths).query_pairs(r_list, output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.argsort(i, kind="stable")
    i, j = i[order], j[order]
    counts = np.bincount(i, minlength=n)
    need = int(counts.max()) if n else 0
    if width is None:
        width = max(8, -(-need // 8) * 8)
    elif need > width:
        raise CGInputError(f"a bead has {need} neighbours, more than the table width {width}")
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(len(i)) - start[i]
    idx = np.repeat(np.arange(n)[:, None], width, axis=1)
    mask = np.zeros((n, width), dtype=bool)
    idx[i, slot] = j
    mask[i, slot] = True
    return idx, mask


def displacements(x, idx, lengths):
    """Minimum-image displacements ``x[idx] - x`` (N, K, 3) (differentiable in ``x``)."""
    d = x[idx] - x[:, None, :]
    return d - lengths * jnp.round(d / lengths)
