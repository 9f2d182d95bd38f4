"""GCMC/BD at equilibrium (no voltage, no fixed charge) with ion-ion forces, and the plumbing of
resumable runs and replicas.

- the net current is zero within 2 standard errors (+ 1 pA: a run with no crossing at all has
  a zero standard error);
- after the ``mu_ex`` calibration (Widom test insertions into the buffers,
  :meth:`BDSimulation.equilibrate`) the buffers hold the target salt concentration strictly:
  CI (6 ns + 14 ns, 1.5 nm buffers): the pooled buffer concentration (both sides, both species)
  within 2 % of the target with a block standard error <= 0.7 % (so the 2 % is resolved;
  measured 0.983 +- 0.006), each species within 2 % + 2 SE, the bath between buffer and
  membrane face (the accessible cross-section, :func:`open_area`) within 2 % + 2 SE (0.989 +-
  0.016); slow (12 ns + 24 ns): the same with SE <= 0.5 % (measured 1.006 +- 0.005, bath
  1.016 +- 0.011);
- the Widom calibration is exact for an ideal gas in a field (reference conventions);
- a run interrupted and restarted from its checkpoint reproduces the uninterrupted run exactly;
- two replicas pool their blocks.

Before (count-based Robbins-Monro calibration): 1.026 +- 0.015 (CI) and 1.021 +- 0.008 (slow):
the calibration's own counting noise (1-3 %), which the production's block error does not
include, not a volume bias (the buffer volume, the calibration's and the measurement's are the
same region, ``ChannelGeometry.buffer_region``).
"""

from __future__ import annotations

import numpy as np
import pytest

from poreflux.species import salt
from stochastic.bd import (
    BDSimulation,
    BDSystem,
    ChannelGeometry,
    ExternalField,
    GridField,
    debye_huckel_mu_ex,
    run_replicas,
    simulate,
)
from stochastic.bd.observables import open_area
from stochastic.bd.system import MM_TO_PER_NM3


def _system(c_mM: float = 1000.0, buffer_length: float = 1.2) -> BDSystem:
    geometry = ChannelGeometry(2.0, 0.8, bath_radius=2.5, bath_length=3.0,
                               buffer_length=buffer_length)  # fmt: skip
    return BDSystem(geometry, salt("KCl", c_mM))


def test_equilibrium_current_zero_and_buffers_at_target():
    system = _system(buffer_length=1.5)
    sim = BDSimulation(system, 21)
    sim.equilibrate(6.0, calibrate=True, rounds=12)
    sim.run(14.0, block_ns=0.25)
    res = sim.result()
    assert abs(res.total_current_pA) < 2 * res.total_current_err + 1.0, res.summary()
    for s in range(2):
        assert abs(res.current_pA[s]) < 2 * res.current_err[s] + 1.0
    pooled, pooled_err = _pooled_buffer(sim)
    print(f"pooled buffer {pooled:.4f} +- {pooled_err:.4f}; per species {res.buffer_mM}, mu_ex "
          f"{res.mu_ex}")
    assert pooled_err <= 0.007 and abs(pooled - 1.0) <= 0.02, (pooled, pooled_err, res.buffer_mM)
    target = system.targets_mM
    for s in range(2):
        c = res.buffer_mM[s].mean()
        err = np.sqrt(np.sum(res.buffer_err[s] ** 2)) / 2
        assert abs(c - target[s]) < 0.02 * target[s] + 2 * err, (s, c, err)
    bath, bath_err = _pooled_bath(sim, res)
    print(f"pooled bath {bath:.4f} +- {bath_err:.4f}")
    assert abs(bath - 1.0) <= 0.02 + 2 * bath_err, (bath, bath_err)
    # the test has teeth: the Debye-Hückel mu_ex alone would miss the target by more than 2 %
    # (the concentration scales as exp(mu_ex) for a buffer in contact with the reservoir)
    dh = debye_huckel_mu_ex(system)
    assert np.max(np.abs(np.exp(dh - res.mu_ex) - 1.0)) > 0.02, (dh, res.mu_ex)


def _pooled_buffer(sim: BDSimulation) -> tuple[float, float]:
    """Pooled buffer concentration / target (both sides, all species) and its block error."""
    b = sim.blocks
    counts = np.asarray(b.buffer) / np.asarray(b.buffer_samples, dtype=float)[:, None, None]
    conc = counts / (sim.buffers.volumes[None, :, None] * MM_TO_PER_NM3)
    per_block = conc.mean(axis=(1, 2)) / sim.system.targets_mM.mean()
    return float(per_block.mean()), float(per_block.std(ddof=1) / np.sqrt(per_block.size))


def _pooled_bath(sim: BDSimulation, res) -> tuple[float, float]:
    """Pooled concentration / target of both baths between the buffer and 0.5 nm from the
    membrane face (per-block occupancy over the accessible cross-section), block error."""
    g = sim.system.geometry
    z = np.abs(res.z)
    sel = (z > g.half_length + 0.5) & (z < g.z_max - g.buffer_length)
    area = np.array([open_area(sim.system, res.z[sel], a) for a in sim.system.radii])
    b = sim.blocks
    occ = np.asarray(b.hist)[:, :, sel] / np.asarray(b.samples, dtype=float)[:, None, None]
    width = np.diff(sim.z_edges)[sel]
    ions = occ.sum(axis=2)  # mean number of ions per block and species
    vol = (area * width).sum(axis=1)
    per_block = (ions / (vol * MM_TO_PER_NM3)).mean(axis=1) / sim.system.targets_mM.mean()
    return float(per_block.mean()), float(per_block.std(ddof=1) / np.sqrt(per_block.size))


def test_widom_calibration_is_exact_for_an_ideal_gas_in_a_field():
    """Without ion-ion forces the Widom factor is ``exp(-U_ext)`` of the buffer: a uniform
    0.5 kT self-energy there gives ``mu_ex = 0`` when the reservoir is referenced to the buffer
    and ``mu_ex = 0.5`` (the energy the reservoir does not know about) when it is at zero; the
    0.2 kT applied drop (constant field) is a pure charge mode and leaves both unchanged."""
    g = ChannelGeometry(2.0, 0.8, bath_radius=2.5, bath_length=3.0, buffer_length=1.2)
    grid = GridField((np.linspace(0.0, 2.5, 6), np.linspace(-g.z_max, g.z_max, 9)),
                     np.full((6, 9), 0.5), "kT")  # fmt: skip
    field = ExternalField(voltage_mV=0.2 * 25.69, self_energy=grid)
    system = BDSystem(g, salt("KCl", 500.0), field=field, interactions=False)
    for reference, expected in (("buffer", 0.0), ("ends", 0.0), ("zero", 0.5)):
        sim = BDSimulation(system, 1, reference=reference)
        sim.equilibrate(0.02, rounds=2)
        np.testing.assert_allclose(sim.buffers.mu_ex, expected, atol=1e-9, err_msg=reference)


@pytest.mark.slow
def test_buffers_within_two_percent_with_long_calibration():
    sim = BDSimulation(_system(buffer_length=1.5), 22)
    sim.equilibrate(12.0, calibrate=True, rounds=12)
    sim.run(24.0, block_ns=0.25)
    pooled, err = _pooled_buffer(sim)
    bath, bath_err = _pooled_bath(sim, sim.result())
    print(f"pooled buffer {pooled:.4f} +- {err:.4f}, bath {bath:.4f} +- {bath_err:.4f}, "
          f"per species {sim.result().buffer_mM}")
    assert err <= 0.005 and abs(pooled - 1.0) <= 0.02, (pooled, err)
    assert abs(bath - 1.0) <= 0.02 + 2 * bath_err, (bath, bath_err)


def test_resume_from_checkpoint_reproduces_the_run(tmp_path):
    system = _system(500.0)
    kw = {"seed": 4, "equilibration_ns": 0.1, "block_ns": 0.05, "progress": False}
    full = simulate(system, 0.2, **kw)
    part = simulate(system, 0.1, checkpoint=tmp_path, **kw)  # stops after 2 of 4 blocks
    assert part.n_blocks == 2
    resumed = simulate(system, 0.2, checkpoint=tmp_path, **kw)
    assert resumed.n_blocks == 4
    np.testing.assert_array_equal(resumed.blocks.crossings, full.blocks.crossings)
    np.testing.assert_array_equal(resumed.occupancy, full.occupancy)
    again = simulate(system, 0.2, checkpoint=tmp_path, **kw)  # finished: returned at once
    np.testing.assert_array_equal(again.occupancy, full.occupancy)
    with pytest.raises(ValueError, match="different system"):
        simulate(_system(1000.0), 0.2, checkpoint=tmp_path, **kw)


def test_replicas_pool_their_blocks(tmp_path):
    system = _system(500.0)
    kw = {"equilibration_ns": 0.05, "block_ns": 0.05}
    pooled = run_replicas(system, 2, 0.1, seed=9, processes=2, checkpoint=tmp_path, **kw)
    assert pooled.n_blocks == 4
    single = run_replicas(system, 2, 0.1, seed=9, processes=1, checkpoint=tmp_path, **kw)
    np.testing.assert_array_equal(single.occupancy, pooled.occupancy)  # read back from disk
    assert (tmp_path / "replica_1" / "state.npz").exists()


_MPI_SCRIPT = """
import json
from poreflux.species import salt
from stochastic.bd import BDSystem, ChannelGeometry, run_replicas
from mpi4py import MPI

g = ChannelGeometry(2.0, 0.8, bath_radius=2.5, bath_length=3.0, buffer_length=1.2)
res = run_replicas(BDSystem(g, salt("KCl", 500.0)), 2, 0.1, seed=9, backend="mpi",
                   equilibration_ns=0.05, block_ns=0.05, progress=False)
if MPI.COMM_WORLD.rank == 0:
    print(json.dumps({"size": MPI.COMM_WORLD.size, "occ": res.occupancy.ravel().tolist()}))
"""


@pytest.mark.mpi
def test_replicas_across_mpi_ranks_match_processes(tmp_path):
    import json

    from conftest import run_mpi

    script = tmp_path / "bd_replicas.py"
    script.write_text(_MPI_SCRIPT)
    line = [ln for ln in run_mpi(script, nprocs=2).splitlines() if ln.startswith("{")][-1]
    out = json.loads(line)
    assert out["size"] == 2
    kw = {"equilibration_ns": 0.05, "block_ns": 0.05, "progress": False}
    local = run_replicas(_system(500.0), 2, 0.1, seed=9, processes=1, **kw)
    np.testing.assert_allclose(out["occ"], local.occupancy.ravel(), rtol=0, atol=1e-12)
