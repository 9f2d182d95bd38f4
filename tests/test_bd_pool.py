"""A ReplicaPool (workers started once, warmed) gives the same replicas as a fresh pool."""

from __future__ import annotations

import numpy as np
import pytest

from poreflux.species import salt
from stochastic.bd import BDInputError, BDSystem, ChannelGeometry, ExternalField, run_replicas
from stochastic.bd.replicas import ReplicaPool


@pytest.mark.slow  # two spawned workers importing numpy/scipy/numba: ~10-30 s on a busy machine
def test_pool_reproduces_fresh_replicas():
    g = ChannelGeometry(2.0, 1.0, bath_radius=2.0, bath_length=2.0, buffer_length=1.0)
    system = BDSystem(g, salt("KCl", 500.0), field=ExternalField(voltage_mV=100.0))
    kw = {"equilibration_ns": 0.05, "block_ns": 0.05, "progress": False}
    fresh = run_replicas(system, 2, 0.1, seed=3, processes=1, **kw)
    with ReplicaPool(2, warm_with=system) as pool:
        assert pool.warmed >= 1
        pooled = run_replicas(system, 2, 0.1, seed=3, pool=pool, **kw)
        again = run_replicas(system, 2, 0.1, seed=3, pool=pool, **kw)
    assert np.array_equal(fresh.current_pA, pooled.current_pA)
    assert np.array_equal(pooled.occupancy, again.occupancy)
    with pytest.raises(BDInputError, match="processes"):
        ReplicaPool(0)
