"""Binds more, conducts less: the selectivity paradox of the ion-transport seed, in 1D.

Two cations cross a 4 nm filter along z. "Na" sees a deeper binding well (-5 kT) than "K"
(-3 kT) but higher flanking barriers (+7 kT vs +3 kT). Equilibrium binding (K_d of the site)
favours Na, yet the steady current (a kinetic property that depends on the whole W(z)) strongly
favours K: an ion that binds too tightly gets stuck.

Run ``python examples/selectivity_paradox.py [output_dir]``: prints the table and writes
``selectivity_paradox.png``. Units: nm, ns, mM, mV, pA, pS, W in kT at 298.15 K.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np

from poreflux import units
from stochastic import smoluchowski as sm
from stochastic.profiles import Profile

TEMPERATURE = 298.15  # K
D_PORE = 1.0  # nm^2/ns (about half the bulk value of K+)
AREA = 0.2  # nm^2, effective cross-section of the filter (radius ~0.25 nm)
SITE = (1.7, 2.3)  # nm, the binding site region
C_BATH = 150.0  # mM, symmetric baths
V_TEST = 100.0  # mV


def pmf(well_kT: float, barrier_kT: float):
    """Binding well at 2 nm flanked by two barriers at 1 and 3 nm (W in kT)."""

    def w(z: np.ndarray) -> np.ndarray:
        return -well_kT * np.exp(-((z - 2.0) ** 2) / 0.1) + barrier_kT * (
            np.exp(-((z - 1.0) ** 2) / 0.05) + np.exp(-((z - 3.0) ** 2) / 0.05)
        )

    return w


def build_channel() -> sm.Channel1D:
    """The two-species channel of the paradox."""
    k = Profile.from_callables(
        pmf(3.0, 3.0), D_PORE, z_range=(0, 4), temperature=TEMPERATURE, n=801
    )
    na = Profile.from_callables(
        pmf(5.0, 7.0), D_PORE, z_range=(0, 4), temperature=TEMPERATURE, n=801
    )
    return sm.Channel1D((sm.Permeant("K", 1, k), sm.Permeant("Na", 1, na)), area_nm2=AREA)


def compute(channel: sm.Channel1D) -> dict[str, dict[str, float]]:
    """Binding, escape time, current and conductance per species; bi-ionic permeability ratio."""
    out: dict[str, dict[str, float]] = {}
    for p in channel.permeants:
        alone = sm.Channel1D((p,), area_nm2=channel.area_nm2)
        c = {p.name: C_BATH}
        w = p.profile
        out[p.name] = {
            "well_kT": float(-w.W_at(2.0)),
            "barrier_kT": float(w.W_at(1.0)),
            "Kd_mM": channel.dissociation_constant_mM(p.name, SITE),
            "escape_ns": float(sm.mfpt(w, 2.0, left="absorbing", right="absorbing")),
            "current_pA": alone.current_pA(c, c, V_TEST),
            "conductance_pS": alone.conductance_pS(c, c, V_TEST),
        }
    erev = channel.reversal_potential_mV({"K": C_BATH}, {"Na": C_BATH})
    out["bi-ionic"] = {
        "Erev_mV": erev,
        "P_Na/P_K": float(np.exp(erev / units.thermal_voltage_mV(channel.temperature))),
        "I_K/I_Na": channel.current_ratio("K", "Na", C_BATH, C_BATH, V_TEST),
    }
    return out


def table(results: dict[str, dict[str, float]]) -> str:
    """The results as a plain-text table."""
    lines = [
        f"{'ion':<4}{'well kT':>9}{'barrier kT':>12}{'K_d mM':>10}{'escape ns':>11}"
        f"{'I(+100 mV) pA':>15}{'g pS':>9}"
    ]
    for name in ("K", "Na"):
        r = results[name]
        lines.append(
            f"{name:<4}{r['well_kT']:>9.2f}{r['barrier_kT']:>12.2f}{r['Kd_mM']:>10.3g}"
            f"{r['escape_ns']:>11.3g}{r['current_pA']:>15.4g}{r['conductance_pS']:>9.4g}"
        )
    b = results["bi-ionic"]
    lines.append(
        f"bi-ionic 150 mM K (left) | 150 mM Na (right): E_rev = {b['Erev_mV']:.1f} mV, "
        f"P_Na/P_K = {b['P_Na/P_K']:.3g}, I_K/I_Na = {b['I_K/I_Na']:.3g}"
    )
    return "\n".join(lines)


def plot(channel: sm.Channel1D, path: Path) -> Path:
    """W(z) of both species and their I-V curves, written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    v = np.linspace(-150, 150, 31)
    z = np.linspace(0, 4, 400)
    for p in channel.permeants:
        ax1.plot(z, p.profile.W_at(z), label=p.name)
        alone = sm.Channel1D((p,), area_nm2=channel.area_nm2)
        c = {p.name: C_BATH}
        ax2.plot(v, alone.iv_curve(v, c, c), label=p.name)
    ax1.axvspan(*SITE, color="0.9")
    ax1.set(xlabel="z [nm]", ylabel="W [kT]", title="deeper well, higher barrier")
    ax2.set(xlabel="V [mV]", ylabel="I [pA]", title=f"{C_BATH:g} mM symmetric")
    ax1.legend()
    ax2.legend()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(out_dir: str | Path = ".") -> dict[str, dict[str, float]]:
    """Compute, print the table and write the PNG into ``out_dir``."""
    channel = build_channel()
    results = compute(channel)
    print(table(results))
    png = plot(channel, Path(out_dir) / "selectivity_paradox.png")
    print(f"wrote {png}")
    return results


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
