"""Initial configurations: lattices, random non-overlapping placement, salt solutions, velocities.

Every random function takes ``seed`` (int or :class:`numpy.random.Generator`) for reproducibility.
"""

from __future__ import annotations

import math

import numpy as np

from poreflux.units import N_A
from stochastic.md.errors import MDInputError
from stochastic.md.system import KB_KJ_PER_MOL_K, Box, ParticleType, System


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def fcc_lattice(cells: int | tuple[int, int, int], density: float) -> tuple[np.ndarray, Box]:
    """Face-centred cubic lattice of ``4 * nx * ny * nz`` sites at number ``density`` [nm^-3].

    Returns positions (N, 3) [nm] in ``[0, L)`` and the periodic box. Sites are generated cell by
    cell, so neighbouring particles are close in memory (good cache locality).
    """
    nx, ny, nz = (cells, cells, cells) if isinstance(cells, int) else cells
    if min(nx, ny, nz) < 1 or density <= 0:
        raise MDInputError(f"need >= 1 cell per axis and density > 0, got {cells}, {density}")
    a = (4.0 / density) ** (1.0 / 3.0)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij"), -1)
    sites = (grid.reshape(-1, 1, 3) + basis[None, :, :]).reshape(-1, 3) * a
    return np.ascontiguousarray(sites), Box((nx * a, ny * a, nz * a))


def cubic_lattice(n_per_side: int, spacing: float) -> np.ndarray:
    """Simple cubic lattice positions (n^3, 3) [nm] with the given ``spacing``."""
    g = np.arange(n_per_side) * spacing
    return np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3).copy()


def random_positions(
    n: int,
    box: Box,
    min_distance: float,
    seed: int | np.random.Generator | None = None,
    existing: np.ndarray | None = None,
    max_attempts: int = 200,
) -> np.ndarray:
    """``n`` uniformly random positions in ``box`` no closer than ``min_distance`` (minimum image).

    Sequential random insertion; raises :class:`MDInputError` if a particle cannot be placed in
    ``max_attempts`` tries (the box is too full for that ``min_distance``).
    """
    rng = _rng(seed)
    L = box.lengths_array()
    inv = box.inverse_periodic()
    placed = [] if existing is None else [np.asarray(p, dtype=float) for p in existing]
    out = np.empty((n, 3))
    arr = np.array(placed).reshape(-1, 3)
    buf = np.empty((len(arr) + n, 3))
    buf[: len(arr)] = arr
    m = len(arr)
    d2min = min_distance**2
    for k in range(n):
        for _ in range(max_attempts):
            x = rng.random(3) * L
            if m == 0:
                break
            d = buf[:m] - x
            d -= L * np.rint(d * inv)
            if np.min(np.einsum("ij,ij->i", d, d)) >= d2min:
                break
        else:
            raise MDInputError(
                f"could not place particle {k} of {n} at least {min_distance} nm from the others "
                f"after {max_attempts} attempts: lower min_distance or enlarge the box"
            )
        out[k] = x
        buf[m] = x
        m += 1
    return out


def spatial_order(positions: np.ndarray, box: Box, cell_size: float = 1.0) -> np.ndarray:
    """Permutation that sorts particles by the cell (of ``cell_size`` [nm]) they sit in.

    Particles that are close in space then sit close in memory, which keeps the force loops in
    cache for large systems. Apply it before building the :class:`System`
    (``positions[order]``, ``names[order]``).
    """
    L = box.lengths_array()
    n = np.maximum((L // cell_size).astype(np.int64), 1)
    c = np.floor((positions - L * np.floor(positions / L)) / L * n).astype(np.int64)
    c = np.minimum(c, n - 1)
    return np.argsort((c[:, 0] * n[1] + c[:, 1]) * n[2] + c[:, 2], kind="stable")


def maxwell_boltzmann(
    masses: np.ndarray,
    temperature: float,
    seed: int | np.random.Generator | None = None,
    remove_com: bool = True,
    exact: bool = True,
) -> np.ndarray:
    """Velocities [nm/ps] drawn from the Maxwell-Boltzmann distribution at ``temperature`` [K].

    With ``remove_com`` the centre-of-mass momentum is zeroed; with ``exact`` the velocities are
    rescaled so the kinetic temperature (3N - 3 degrees of freedom if ``remove_com``) is exact.
    """
    if temperature < 0:
        raise MDInputError(f"temperature must be >= 0 K, got {temperature}")
    m = np.asarray(masses, dtype=float)
    if np.any(m <= 0):
        raise MDInputError("all masses must be > 0 amu to draw velocities")
    rng = _rng(seed)
    v = rng.standard_normal((len(m), 3)) * np.sqrt(KB_KJ_PER_MOL_K * temperature / m)[:, None]
    if remove_com:
        v -= (m[:, None] * v).sum(0) / m.sum()
    if exact and temperature > 0 and len(m) > 1:
        dof = 3 * len(m) - (3 if remove_com else 0)
        t_now = (m[:, None] * v * v).sum() / (dof * KB_KJ_PER_MOL_K)
        v *= math.sqrt(temperature / t_now)
    return v


def salt_solution(
    cation: ParticleType,
    anion: ParticleType,
    concentration_mM: float,
    box_length: float,
    solvent: ParticleType | None = None,
    solvent_density: float = 0.0,
    min_distance: float = 0.25,
    seed: int | np.random.Generator | None = None,
) -> tuple[System, np.ndarray]:
    """A cubic periodic box of a salt solution at ``concentration_mM`` [mM].

    The ion numbers keep the solution neutral (``n_cation * q_cation = -n_anion * q_anion``,
    smallest integer ratio times the number of formula units ``round(c N_A V)``); optional neutral
    solvent beads fill the box at ``solvent_density`` [nm^-3] (water: 33.4 nm^-3). Positions are
    random and non-overlapping (``min_distance`` [nm]) and, within each species, sorted by
    :func:`spatial_order` for memory locality. Returns the system and the positions.
    """
    qc, qa = cation.charge, anion.charge
    if not (qc > 0 > qa):
        raise MDInputError(f"cation charge must be > 0 and anion charge < 0, got {qc}, {qa}")
    if concentration_mM < 0 or box_length <= 0:
        raise MDInputError("need concentration_mM >= 0 and box_length > 0")
    zc, za = round(qc), round(-qa)
    if not (math.isclose(zc, qc) and math.isclose(za, -qa)):
        raise MDInputError("salt_solution needs integer ion charges")
    g = math.gcd(zc, za)
    nu_c, nu_a = za // g, zc // g
    box = Box((box_length,) * 3)
    n_formula = round(concentration_mM * N_A * box.volume * 1e-27)
    n_c, n_a = nu_c * n_formula, nu_a * n_formula
    n_s = round(solvent_density * box.volume) if solvent is not None else 0
    types = [cation, anion] + ([solvent] if solvent is not None else [])
    system = System.from_counts(types, [n_c, n_a] + ([n_s] if solvent is not None else []), box)
    pos = random_positions(n_c + n_a + n_s, box, min_distance, seed)
    start = 0
    for count in (n_c, n_a, n_s):
        block = pos[start : start + count]
        pos[start : start + count] = block[spatial_order(block, box)]
        start += count
    return system, pos
