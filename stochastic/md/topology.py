"""Molecular topology from a bond graph: angles, proper dihedrals, exclusions, 1-4 pairs.

Angles are all paths i-j-k, dihedrals all paths i-j-k-l over distinct atoms, built from the bond
list (as ``pdb2gmx``/``tleap`` do). Non-bonded exclusions follow TraPPE: pairs separated by one,
two or three bonds interact only through the bonded terms (Martin & Siepmann, J. Phys. Chem. B
102, 2569 (1998)); the 1-4 pairs are returned separately so that a force field with a 1-4
scaling factor (OPLS 0.5, AMBER 1/2) can add them back scaled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stochastic.md.errors import MDInputError


@dataclass(frozen=True)
class Topology:
    """Bonds, angles, dihedrals, excluded pairs and 1-4 pairs of one molecule (local indices)."""

    n_sites: int
    bonds: tuple[tuple[int, int], ...]
    angles: tuple[tuple[int, int, int], ...]
    dihedrals: tuple[tuple[int, int, int, int], ...]
    exclusions: tuple[tuple[int, int], ...]
    pairs14: tuple[tuple[int, int], ...]

    @classmethod
    def from_bonds(cls, n_sites: int, bonds: Sequence[tuple[int, int]]) -> Topology:
        """Derive angles, dihedrals, exclusions (1-2, 1-3, 1-4) and 1-4 pairs from ``bonds``."""
        adj: list[set[int]] = [set() for _ in range(n_sites)]
        clean = []
        for a, b in bonds:
            a, b = int(a), int(b)
            if a == b or not (0 <= a < n_sites and 0 <= b < n_sites):
                raise MDInputError(f"bond ({a}, {b}) must join two sites in 0..{n_sites - 1}")
            adj[a].add(b)
            adj[b].add(a)
            clean.append((min(a, b), max(a, b)))
        angles = [
            (i, j, k) for j in range(n_sites) for i in adj[j] for k in adj[j] if i < k
        ]
        dihedrals = []
        for j, k in sorted(set(clean)):
            for i in sorted(adj[j] - {k}):
                for m in sorted(adj[k] - {j, i}):
                    dihedrals.append((i, j, k, m))
        dist = _graph_distances(adj)
        excl = [(i, j) for i in range(n_sites) for j in range(i + 1, n_sites) if dist[i, j] <= 3]
        p14 = [(i, j) for i, j in excl if dist[i, j] == 3]
        return cls(
            n_sites, tuple(sorted(set(clean))), tuple(angles), tuple(dihedrals), tuple(excl),
            tuple(p14),
        )  # fmt: skip

    def replicate(self, n_molecules: int) -> dict[str, np.ndarray]:
        """Global index arrays for ``n_molecules`` consecutive copies (keys as the attributes)."""
        out = {}
        off = np.arange(n_molecules)[:, None, None] * self.n_sites
        for key in ("bonds", "angles", "dihedrals", "exclusions", "pairs14"):
            local = np.asarray(getattr(self, key), dtype=np.int64)
            width = {"angles": 3, "dihedrals": 4}.get(key, 2)
            local = local.reshape(-1, width)
            out[key] = (local[None, :, :] + off).reshape(-1, width)
        return out

    def ring(self) -> list[int]:
        """Sites of the (first) ring found, in ring order; empty for acyclic molecules."""
        adj: list[set[int]] = [set() for _ in range(self.n_sites)]
        for a, b in self.bonds:
            adj[a].add(b)
            adj[b].add(a)
        return _find_cycle(adj)


def _graph_distances(adj: list[set[int]]) -> np.ndarray:
    """Bond-count distances between all sites (breadth-first; unreachable = large)."""
    n = len(adj)
    dist = np.full((n, n), 10**6, dtype=np.int64)
    for s in range(n):
        dist[s, s] = 0
        frontier = [s]
        while frontier:
            nxt = []
            for a in frontier:
                for b in adj[a]:
                    if dist[s, b] > dist[s, a] + 1:
                        dist[s, b] = dist[s, a] + 1
                        nxt.append(b)
            frontier = nxt
    return dist


def _find_cycle(adj: list[set[int]]) -> list[int]:
    """One simple cycle by depth-first search (list of sites in order), or []."""
    parent = {0: -1} if adj else {}
    stack = [0] if adj else []
    while stack:
        a = stack.pop()
        for b in sorted(adj[a]):
            if b == parent[a]:
                continue
            if b in parent:
                path_a, path_b = _path_to_root(a, parent), _path_to_root(b, parent)
                common = next(x for x in path_a if x in set(path_b))
                left = path_a[: path_a.index(common) + 1]
                right = path_b[: path_b.index(common)]
                return left + right[::-1]
            parent[b] = a
            stack.append(b)
    return []


def _path_to_root(a: int, parent: dict[int, int]) -> list[int]:
    out = [a]
    while parent[out[-1]] != -1:
        out.append(parent[out[-1]])
    return out
