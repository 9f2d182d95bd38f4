"""Lorentz-Berthelot mixing with explicit per-pair (NBFIX-style) overrides."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from stochastic.md.errors import MDInputError
from stochastic.md.system import ParticleType

#: ``{("Na", "Cl"): (sigma_nm, epsilon_kj_per_mol)}`` overrides.
PairOverrides = Mapping[tuple[str, str], tuple[float, float]]


def lorentz_berthelot(
    types: tuple[ParticleType, ...], overrides: PairOverrides | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pair tables ``sigma_ij = (sigma_i + sigma_j)/2``, ``eps_ij = sqrt(eps_i eps_j)``.

    Parameters
    ----------
    types
        Particle types (table index = position in this tuple).
    overrides
        Explicit ``(sigma, epsilon)`` for given type-name pairs (order irrelevant).

    Returns
    -------
    sigma, epsilon
        ``(ntypes, ntypes)`` symmetric arrays [nm], [kJ/mol].
    """
    sig = np.array([t.sigma for t in types], dtype=np.float64)
    eps = np.array([t.epsilon for t in types], dtype=np.float64)
    sigma = 0.5 * (sig[:, None] + sig[None, :])
    epsilon = np.sqrt(eps[:, None] * eps[None, :])
    index = {t.name: k for k, t in enumerate(types)}
    for (a, b), (s, e) in (overrides or {}).items():
        for name in (a, b):
            if name not in index:
                raise MDInputError(
                    f"pair override names unknown type {name!r}; known: {list(index)}"
                )
        if s < 0 or e < 0:
            raise MDInputError(f"pair override {(a, b)} needs sigma >= 0 and epsilon >= 0")
        i, j = index[a], index[b]
        sigma[i, j] = sigma[j, i] = s
        epsilon[i, j] = epsilon[j, i] = e
    return sigma, epsilon
