"""Tabulated pair term: agrees with the analytic LJ term, energy/force consistency, cutoffs."""

import numpy as np
import pytest

from stochastic.cg.errors import CGInputError
from stochastic.cg.tabulated import PairTable, TabulatedPair, lj_table
from stochastic.cg.testsystems import lj_fluid
from stochastic.md.forcefield import ForceField
from stochastic.md.testing import numerical_forces, relative_force_error


def test_table_reproduces_shifted_lj_term():
    fl = lj_fluid(3, 0.776)
    rng = np.random.default_rng(0)
    x = fl.positions + 0.05 * rng.standard_normal(fl.positions.shape)
    ref = ForceField(fl.system, [fl.lj_term()]).compute(x)
    tab = ForceField(fl.system, [fl.table_term(lj_table())]).compute(x)
    assert np.isclose(tab.potential_energy, ref.potential_energy, rtol=1e-8)
    assert np.isclose(tab.virial, ref.virial, rtol=1e-7)
    assert np.max(np.abs(tab.forces - ref.forces)) < 1e-5 * np.max(np.abs(ref.forces))


def test_table_forces_are_minus_energy_gradient():
    fl = lj_fluid(3, 0.7)
    rng = np.random.default_rng(1)
    x = fl.positions + 0.1 * rng.standard_normal(fl.positions.shape)
    # a table from noisy-ish potential values: Hermite energy and force stay consistent
    r = np.linspace(0.8, 2.2, 71)
    u = 4 * (r**-12 - r**-6) + 0.05 * np.sin(7 * r)
    ff = ForceField(fl.system, [TabulatedPair(fl.system, {("A", "A"): PairTable.from_potential(
        r, u, 2.2, h=0.01)})])  # fmt: skip
    num = numerical_forces(ff.energy, x, 1e-6)
    assert relative_force_error(ff.compute(x).forces, num) < 1e-6


def test_smooth_cutoff_and_extrapolation():
    t = PairTable.from_function(
        lambda r: (4 * (r**-12 - r**-6), 24 * (2 * r**-12 - r**-6) / r), 0.8, 2.5, 0.002, 0.3
    )
    u, f = t.evaluate(np.array([2.499999, 2.6]))
    assert abs(u[0]) < 1e-9 and abs(f[0]) < 1e-6 and u[1] == 0 and f[1] == 0
    # below the table: constant force, linear energy (finite)
    u, f = t.evaluate(np.array([0.5]))
    assert np.isfinite(u[0]) and np.isclose(f[0], t.f[0])


def test_bad_tables_raise():
    fl = lj_fluid(3, 0.7)
    with pytest.raises(CGInputError, match="unknown type"):
        TabulatedPair(fl.system, {("A", "B"): lj_table()})
    with pytest.raises(CGInputError, match="finite"):
        PairTable(0.5, 0.01, np.array([np.inf, 1.0, 0.0]), np.zeros(3))
    with pytest.raises(CGInputError, match="at least one"):
        TabulatedPair(fl.system, {})


_FORCES_SCRIPT = """
import sys
import numpy as np
from stochastic.cg.tabulated import _table_half, lj_table
from stochastic.md.init import fcc_lattice
from stochastic.md.neighbors import box_arrays
from stochastic.md.system import ParticleType, System


def table_forces(kernel=_table_half):
    pos, box = fcc_lattice(3, 0.776)
    system = System.from_counts([ParticleType("A", 1.0)], [len(pos)], box)
    x = pos + 0.07 * np.random.default_rng(7).standard_normal(pos.shape)
    n = len(x)
    nbr = np.array([j for i in range(n) for j in range(i + 1, n)], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(np.arange(n - 1, -1, -1))]).astype(np.int64)
    t = lj_table()
    lengths, inv, _ = box_arrays(system)
    forces = np.zeros_like(x)
    e, w = kernel(x, lengths, inv, np.zeros(n, np.int64), np.zeros((1, 1), np.int64),
                       np.array([t.r0]), np.array([t.h]), t.u[None, :].copy(),
                       t.f[None, :].copy(), np.array([t.r_cut**2]), 0.0, start, nbr, forces,
                       np.full(2, -1, np.int64))
    return np.concatenate([forces.ravel(), [e, w]])


if __name__ == "__main__":
    np.save(sys.argv[1], table_forces())
"""


def test_table_kernel_is_bit_identical_fresh_and_cached(tmp_path):
    """The tabulated kernel is compiled without fastmath: a fresh compile (empty numba cache),
    a load of that cache, this process's kernel (this checkout's cache) and the kernel's Python
    source run by the interpreter (IEEE arithmetic in source order, no reassociation, no fused
    multiply-add) give the same forces and energies bit for bit, so CG trajectories do not
    depend on the environment. With ``fastmath=True`` (or only ``contract``) the compiled
    forces differ from the source-order ones by ~2.6e-13, and a cached and a fresh compile
    were seen to differ by that much in 322 of 324 components."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba_cache"))
    out = []
    for k in range(2):  # 0: fresh compile into the empty cache, 1: loaded from it
        path = tmp_path / f"f{k}.npy"
        subprocess.run([sys.executable, "-c", _FORCES_SCRIPT, str(path)], env=env, check=True)
        out.append(np.load(path))
    assert any((tmp_path / "numba_cache").rglob("*.nbi")), "the first run must fill the cache"
    namespace = {"__name__": "in_process"}
    exec(_FORCES_SCRIPT, namespace)
    here = namespace["table_forces"]()
    interpreted = namespace["table_forces"](namespace["_table_half"].py_func)
    assert np.count_nonzero(out[0]) > 300
    assert out[0].tobytes() == out[1].tobytes() == here.tobytes() == interpreted.tobytes()
