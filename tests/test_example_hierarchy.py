"""The worked example of the hierarchy chain runs end to end (slow suite) and its numbers make
physical sense: the site binds the ion it fits (Na+), the PMF raises PNP's K+ current through the
site, the diagnostics reject PNP for a pore far narrower than an ion, the measured tau_mem/tau_hop
per ion (Markovian for this implicit-solvent model) reaches the non-Markovian check, and every
table uses one sign convention. The memory measurement itself is tested at CI size in
tests/test_memory_pore.py."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "hierarchy_chain.py"
PLOTS = ("transport_profiles", "chain_iv", "chain_vs_pnp_iv", "chain_vs_pnp_profiles")


def _load():
    spec = importlib.util.spec_from_file_location("hierarchy_chain", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_hierarchy_example_end_to_end(tmp_path, capsys):
    example = _load()
    assert example.main(["--quick", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "1D chain" in text and "diagnostics" in text
    for name in PLOTS:
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000, name
    summary = json.loads((tmp_path / "summary.json").read_text())
    k, na = summary["ions"]["K+"], summary["ions"]["Na+"]
    # the carbonyl cage fits Na+: a well for Na+, none for K+ (3 sigma apart)
    gap = k["W_site_kT"] - na["W_site_kT"]
    sigma = (k["sigma_W_site_kT"] ** 2 + na["sigma_W_site_kT"] ** 2) ** 0.5
    assert gap > 1.0 and gap > 3 * sigma
    # binding slows Na+ down: its mean first-passage time across the pore is longer
    assert na["mfpt_ns"] > k["mfpt_ns"]
    # PNP cannot describe a 0.08 nm pore; the diagnostics must say so
    assert set(summary["pnp"]["verdicts"].values()) == {"breakdown"}
    # the PMF's attraction to the site (mu_ex < 0 once the confinement entropy, which PNP
    # resolves itself, is removed) raises the K+ occupancy and current of PNP; both PNP and the
    # chain conduct K+ in the field's direction
    cur = summary["pnp"]["K_current_pA"]
    chain, plain, with_pmf = cur["chain"][-1], cur["pnp"][-1], cur["pnp+pmf"][-1]
    assert with_pmf > 1.5 * plain > 0
    assert chain > 0
    # one sign convention (V = phi_top - phi_bottom, positive top -> bottom) in every table: the
    # K+-alone I-V and the comparison's chain column are the same numbers, value and spread
    # (they differed by sign convention and bootstrap draws: -5.77 vs -5.49 pA at "-100 mV")
    alone, pnp = summary["ions"]["K+"], summary["pnp"]
    chain_k = zip(pnp["voltages_mV"], cur["chain"], pnp["K_chain_std_pA"], strict=True)
    for v, i_pnp, s_pnp in chain_k:
        j = alone["voltages_mV"].index(v)
        assert alone["current_pA"][j] == pytest.approx(i_pnp, rel=1e-12)
        assert alone["current_std_pA"][j] == pytest.approx(s_pnp, rel=1e-12)
    # memory: the model's implicit solvent is Langevin friction, so the site's kernel integrates
    # to the thermostat's m gamma (4 bootstrap SE) and has no memory beyond the 4 fs resolution;
    # tau_hop is the chain's MFPT (ns) with its bootstrap error; the diagnostics got the ratio
    for ion in ("K+", "Na+"):
        entry = summary["ions"][ion]
        err = abs(entry["friction_integral_amu_per_ps"] - entry["langevin_friction_amu_per_ps"])
        assert err < 4 * entry["friction_integral_sigma_amu_per_ps"], ion
        assert 0 < entry["tau_mem_ps"] < entry["memory_step_ps"]
        assert entry["tau_mem_sigma_ps"] > 0 and entry["tau_hop_sigma_ns"] > 0
        assert entry["tau_hop_ns"] == pytest.approx(entry["mfpt_ns"], rel=1e-12)
        assert entry["tau_ratio"] == pytest.approx(
            entry["tau_mem_ps"] * 1e-3 / entry["tau_hop_ns"], rel=1e-9
        )
        assert 0 < entry["tau_ratio"] < 1e-4
    assert summary["pnp"]["non_markovian"]["severity"] == "ok"
    assert "given" in summary["pnp"]["non_markovian"]["message"]
    for ion in ("K+", "Na+"):  # equal baths: a cation runs down the potential
        entry = summary["ions"][ion]
        for v, i in zip(entry["voltages_mV"], entry["current_pA"], strict=True):
            assert i * v > 0, (ion, v, i)

    # where the time went: every stage's wall and CPU seconds, the umbrella runs' own share
    stages = summary["timings"]
    assert stages["total"]["wall_s"] > 0
    particle = next(v for k, v in stages.items() if k.startswith("particle level"))
    umbrella = [v for k, v in stages.items() if "umbrella MD" in k]
    assert len(umbrella) == 2 and all(v["detail"] and v["cpu_s"] > 0 for v in umbrella)
    assert particle["cpu_s"] >= sum(v["cpu_s"] for v in umbrella)  # the workers' CPU is counted
    assert "where the time went" in text

    # a second run reuses every umbrella window (resumable) and reproduces the summary
    assert example.main(["--quick", "--out", str(tmp_path)]) == 0
    again = json.loads((tmp_path / "summary.json").read_text())
    assert again["ions"]["Na+"]["W_site_kT"] == pytest.approx(na["W_site_kT"], abs=1e-12)
