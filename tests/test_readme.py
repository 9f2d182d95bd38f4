"""Every ```python block of the README runs as written (docs examples are tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = BLOCKS[index]
    namespace: dict = {"__name__": f"readme_block_{index}"}
    exec(compile(code, f"README.md[python block {index}]", "exec"), namespace)


#: printed claims of the README, checked against what its blocks print: (block marker, regex,
#: expected value, absolute tolerance)
CLAIMS = [
    ("reversal_potential_mV", r"^(-?\d+\.\d+)$", -59.16, 0.05),  # Nernst, 10-fold K+ gradient
    ("Grote-Hynes / Kramers", r"rate = (\d+\.\d+)", 1.21, 0.005),  # hand-solved GH equation
]


@pytest.mark.parametrize(("marker", "pattern", "expected", "tol"), CLAIMS)
def test_readme_prints_what_it_claims(
    marker, pattern, expected, tol, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (code,) = [b for b in BLOCKS if marker in b]
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_claim"})
    printed = capsys.readouterr().out
    values = [float(m) for m in re.findall(pattern, printed, re.M)]
    assert values, printed
    assert any(abs(v - expected) <= tol for v in values), (values, expected)
