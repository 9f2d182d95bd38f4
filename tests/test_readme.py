"""Every ```python block of the README runs as written, and what it prints (or says it computes in
its comments) is checked against physics: docs examples are tests.

Each block runs once; the check registered for it (by a marker string the block contains) reads
the printed text and the block's variables. A block that prints must have a check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def _numbers(pattern: str, printed: str) -> list[float]:
    return [float(m) for m in re.findall(pattern, printed, re.M)]


def _pb_tour(ns: dict, printed: str) -> None:
    """Negatively charged protein wall: K+ (counter-ions) enriched on the axis; energy > 0."""
    sol = ns["solution"]
    assert math.isfinite(sol.energy_kT) and sol.energy_kT > 0
    k_axis = sol.axial_profile(101)["K+"]
    assert np.nanmax(k_axis) > 150.0  # mM, above the bath
    assert "pore" in printed


def _pnp_iv(ns: dict, printed: str) -> None:
    """I-V at -100, 0, 100 mV: sign of I follows V, no current at 0 V, ends agree (conservative
    currents), G = I/V."""
    sols = ns["curve"].solutions
    i_neg, i_zero, i_pos = (s.current for s in sols)
    assert i_neg < 0 < i_pos
    assert abs(i_zero) < 1e-6 * i_pos
    sol = ns["sol"]
    assert sol.conservation_error < 1e-6
    assert sol.conductance == pytest.approx(1e3 * sol.current / 100.0, rel=1e-12)


def _study(ns: dict, printed: str) -> None:
    """Six points; current follows the voltage; 10x salt raises the conductance (bulk-like)."""
    table = ns["result"].table
    assert len(table) == 6
    v, i = table.column("voltage_mV"), table.column("current_pA")
    assert np.all(np.sign(i[v != 0]) == np.sign(v[v != 0]))
    g = table.where(voltage_mV=50).sorted_by("concentration_mM").column("conductance_pS")
    assert g[1] > 3 * g[0]


def _smoluchowski(ns: dict, printed: str) -> None:
    """Printed: current at +100 mV (> 0 for a cation in equal baths), the Nernst reversal
    -(kT/e) ln 10 = -59.16 mV at 298.15 K, and a positive mean first-passage time."""
    current, reversal, mfpt = _numbers(r"^(-?\d+\.\d+(?:e[-+]?\d+)?)$", printed)[:3]
    assert current > 0
    assert reversal == pytest.approx(-59.16, abs=0.05)
    assert mfpt > 0


#: exact barrier of the double well 5 (x^2 - 1)^2 kT; tolerance 0.25 kT = 4 standard deviations
#: of the printed estimate (measured over 30 seeds: 5.04 +- 0.059 kT for WHAM and for MBAR)
BARRIER_KT, BARRIER_TOL = 5.0, 0.25


def _md_and_pmf(ns: dict, printed: str) -> None:
    """MD: the Langevin thermostat holds the 500-atom LJ liquid near T* = 1 (120.27 K for
    epsilon = 1 kJ/mol): instantaneous fluctuation sqrt(2/(3N)) = 3.7 %, plus the cooling of the
    melting lattice in the 1.5 ps run (108-116 K measured over 3 seeds): within 15 %.
    PMF: WHAM and MBAR print the ~5 kT barrier."""
    target = ns["t_kelvin"]
    assert target == pytest.approx(1000.0 / 8.314462618, rel=1e-6)
    assert ns["sim"].temperature() == pytest.approx(target, rel=0.15)
    barriers = {
        m: float(v)
        for m, v in re.findall(r"^(wham|mbar)\b.*?\s(-?\d+\.\d+)$", printed, re.M | re.I)
    }
    assert {m.lower() for m in barriers} == {"wham", "mbar"}, printed
    for value in barriers.values():
        assert abs(value - BARRIER_KT) < BARRIER_TOL, barriers


def _chain(ns: dict, printed: str) -> None:
    """The printed current lies in its printed 95 % interval; selectivity and MFPT positive."""
    [(value, low, high)] = [
        tuple(map(float, m))
        for m in re.findall(r"I_K = (-?\d+\.\d+) pA, 95% \[(-?\d+\.\d+), (-?\d+\.\d+)\]", printed)
    ]
    assert low <= value <= high and value > 0
    sel = ns["chain"].selectivity("K+", "Na+", 150.0, 100.0, n_boot=0)
    assert sel.value > 0
    assert ns["chain"].mfpt_ns("K+", n_boot=0).value > 0


def _grote_hynes(ns: dict, printed: str) -> None:
    """Grote-Hynes / Kramers = 1.21 (the hand-solved GH equation for this kernel)."""
    [ratio] = _numbers(r"rate = (\d+\.\d+)", printed)
    assert ratio == pytest.approx(1.21, abs=0.005)


def _species(ns: dict, printed: str) -> None:
    """150 mM KCl has ionic strength 150 mM; the mixture is electroneutral."""
    assert ns["kcl"].ionic_strength == pytest.approx(150.0)
    mix = ns["mix"]
    assert sum(s.valence * c for s, c in mix) == pytest.approx(0.0)


#: block marker -> check
CHECKS: dict[str, Callable[[dict, str], None]] = {
    "PBSolver(cmesh": _pb_tour,
    "iv_curve(solver": _pnp_iv,
    "run_study(model": _study,
    "reversal_potential_mV": _smoluchowski,
    "pmf.UmbrellaSampling": _md_and_pmf,
    "HierarchyChain(": _chain,
    "grote_hynes_frequency": _grote_hynes,
    'salt("KCl", 150.0)                      #': _species,
}


def _check_of(code: str) -> Callable[[dict, str], None] | None:
    found = [check for marker, check in CHECKS.items() if marker in code]
    assert len(found) <= 1, "a README block matches two check markers"
    return found[0] if found else None


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


def test_every_printing_block_has_a_check():
    unchecked = [i for i, b in enumerate(BLOCKS) if "print(" in b and _check_of(b) is None]
    assert not unchecked, f"README python blocks {unchecked} print but nothing checks them"
    used = {m for m in CHECKS if any(m in b for b in BLOCKS)}
    assert used == set(CHECKS), f"markers no longer in the README: {set(CHECKS) - used}"


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_and_prints_what_it_claims(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = BLOCKS[index]
    namespace: dict = {"__name__": f"readme_block_{index}"}
    exec(compile(code, f"README.md[python block {index}]", "exec"), namespace)
    check = _check_of(code)
    if check is not None:
        check(namespace, capsys.readouterr().out)
