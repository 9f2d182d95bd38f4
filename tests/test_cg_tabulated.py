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
