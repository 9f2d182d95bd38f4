"""Set-up of an MD system: type indices and the exclusion CSR the neighbour lists read."""

from __future__ import annotations

import numpy as np
import pytest

from stochastic.md.errors import MDInputError
from stochastic.md.system import ParticleType, System

A = ParticleType("A", 1.0, 0.0, 1.0, 1.0)
B = ParticleType("B", 2.0, 0.0, 1.0, 1.0)


def test_exclusion_csr_lists_every_partner_both_ways_in_ascending_order():
    rng = np.random.default_rng(3)
    n = 60
    pairs = {tuple(sorted(map(int, rng.choice(n, 2, replace=False)))) for _ in range(150)}
    system = System.from_counts([A], [n], exclusions=list(pairs))
    start, flat = system.exclusion_csr()
    # reference: a set of partners per particle, built pair by pair
    partners: dict[int, set[int]] = {i: set() for i in range(n)}
    for i, j in pairs:
        partners[i].add(j)
        partners[j].add(i)
    assert start.shape == (n + 1,) and start[0] == 0 and start[-1] == 2 * len(pairs)
    for i in range(n):
        assert flat[start[i] : start[i + 1]].tolist() == sorted(partners[i])
    assert flat.dtype == np.int32 and start.dtype == np.int64


def test_exclusion_csr_without_exclusions_is_empty():
    start, flat = System.from_counts([A], [5]).exclusion_csr()
    assert start.tolist() == [0] * 6 and len(flat) == 0


def test_type_index_follows_the_names_and_an_unknown_name_is_reported():
    system = System((A, B), ("B", "A", "B", "A"))
    assert system.type_index.tolist() == [1, 0, 1, 0]
    assert system.masses.tolist() == [2.0, 1.0, 2.0, 1.0]
    with pytest.raises(MDInputError, match=r"particle 2 has unknown type 'C'.*known types"):
        System((A, B), ("A", "B", "C", "A"))
