"""Worked example: one model pore at three levels of the hierarchy.

1. **Particles.** A cylindrical pore (radius 0.08 nm open to ion centres, 1.2 nm long) with a
   binding site made of two rings of carbonyl-like oxygens (``stochastic.md.model_pore``); one K+
   or one Na+ analogue (Joung-Cheatham Lennard-Jones parameters) in implicit solvent.
2. **PMF and diffusivity.** Umbrella sampling of each ion along the pore axis on the MD core
   (``stochastic.pmf.pore_pmf``): W(z) +- sigma by MBAR, D(z) by Hummer's method. Resumable:
   a second run with the same ``--out`` reuses every finished window.
3. **1D transport.** ``stochastic.chain.HierarchyChain``: steady Smoluchowski currents, I-V,
   selectivity and mean first-passage times, with bootstrap uncertainties propagated from W and D.
4. **Continuum.** PNP on the matching channel mesh (``pnp.hierarchy.channel_geometry`` and
   ``pnp.hierarchy.compare_with_pnp``), without and with the PMF as an excess chemical
   potential, and the mean-field diagnostics' verdict.

Sign convention, everywhere in the output (PNP's): ``V = phi_top - phi_bottom`` (top = high z)
and a current is positive from top to bottom. The chain's own convention is the opposite
(``phi(low z) - phi(high z)``, positive towards +z); ``pnp.hierarchy.chain_iv_pnp`` converts.

The site selects Na+ over K+ by size alone (the cage fits Na+; no explicit water, so no
dehydration penalty: real K+ channels select the other way because of it). The continuum level
cannot see any of this: a 0.08 nm pore is far below the ion size, and the diagnostics say so.

Usage::

    python examples/hierarchy_chain.py                 # 10-15 min on one core
    python examples/hierarchy_chain.py --quick         # ~1 min (tests): coarser sampling

``--quick`` samples with a lower Langevin friction (5/ps), which converges W(z) several times
faster (the PMF does not depend on the friction); the measured D(z) is then rescaled by the
ratio of the species' bulk D to the sampling friction's ``kT/(m gamma)``, exact for this
implicit-solvent model whose friction is the same everywhere.

Writes to ``--out`` (default ``hierarchy-output``): ``summary.json``, ``transport_profiles.png``
(W and D), ``chain_iv.png``, ``chain_vs_pnp_iv.png``, ``chain_vs_pnp_profiles.png`` and the
umbrella windows (``umbrella/<ion>/``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import poreflux
from pnp.hierarchy import (
    ChainPNPComparison,
    chain_iv_pnp,
    channel_geometry,
    compare_with_pnp,
    plot_comparison,
)
from pnp.results import plots
from poreflux.species import get_species
from stochastic.chain import HierarchyChain, TransportProfile
from stochastic.md.model_pore import ModelPore, accessible_area
from stochastic.pmf import SamplingWarning, pore_pmf

TEMPERATURE = 298.15
IONS = ("K+", "Na+")
BATH_mM = 150.0
VOLTAGES = [-100.0, -50.0, 50.0, 100.0]  # phi_top - phi_bottom
#: Every table, figure and summary entry uses PNP's sign convention.
CONVENTION = "V = phi_top - phi_bottom, current positive top -> bottom"
#: Bootstrap of the chain currents: the same draws in the ion-alone tables and the comparison.
N_BOOT, BOOT_SEED = 100, 1
QUICK_SAMPLING = {
    "quick": True,
    "friction": 5.0,
    "n_walkers": 128,
    "n_samples": 12800,
    "stride": 10,
    "n_equilibration": 300,
}


def sample_ion(pore: ModelPore, ion: str, folder: Path, quick: bool, seed: int):
    """W(z) and D(z) of one ion (D in nm^2/ps, rescaled to the species' bulk D when quick)."""
    with warnings.catch_warnings():
        if quick:  # short walkers: Hummer's D is biased high; the rescaling below fixes its level
            warnings.simplefilter("ignore", SamplingWarning)
        opts = QUICK_SAMPLING if quick else {}
        result = pore_pmf(pore, ion, folder, seed=seed, temperature=TEMPERATURE, **opts)
    diffusion = result.diffusion
    if quick:
        # constant friction everywhere: D(z) = (kT/m gamma) x (shape); put the level at the
        # species' D by the bath windows' mean (the windows beyond the site's reach)
        z = diffusion.position
        bath = np.abs(z) > 0.5 * pore.length + (pore.site.cutoff if pore.site else 0.0)
        level = float(np.mean(diffusion.D[bath])) if bath.any() else float(np.mean(diffusion.D))
        target = get_species(ion).diffusion * 1e-3  # nm^2/ns -> nm^2/ps
        scale = target / level
        diffusion = dataclasses.replace(
            diffusion, D=diffusion.D * scale, sigma=diffusion.sigma * scale
        )
    return result, diffusion


def sample_all(pore: ModelPore, out: Path, quick: bool, seed: int, t0: float) -> dict:
    """Levels 1-2: W(z) and D(z) of every ion, ``{ion: (PorePMF, DiffusionProfile)}``."""
    print(f"Model pore: radius {pore.radius} nm, length {pore.length} nm, site {pore.site}")
    sampled = {}
    for k, ion in enumerate(IONS):
        sampled[ion] = sample_ion(pore, ion, out / "umbrella" / ion, quick, seed + k)
        w0, s0 = sampled[ion][0].value_at(pore.site.z)
        print(f"  {ion}: W(site) = {w0:+.2f} +- {s0:.2f} kT  ({time.perf_counter() - t0:.0f} s)")
    return sampled


def build_chain(pore: ModelPore, sampled: dict) -> HierarchyChain:
    """Level 3: the 1D chain of all ions on the model pore's axis."""
    # W is zero in the MD bath, a cylinder of radius bath_radius: the linear density there is
    # c x (its accessible cross-section), the area that turns 1D fluxes into currents
    area = accessible_area(pore.bath_radius, pore.wall_k, TEMPERATURE)
    profiles = [
        TransportProfile.from_pmf(
            ion, 1, res.pmf, diffusion, temperature=TEMPERATURE, D_unit="nm2/ps"
        )
        for ion, (res, diffusion) in sampled.items()
    ]
    # the applied voltage drops across the membrane (PNP puts ~all of it there for this pore)
    return HierarchyChain(profiles, area_nm2=area, drop=(pore.z_lo, pore.z_hi))


def ion_alone_iv(chain: HierarchyChain, ion: str):
    """I-V of one ion alone at BATH_mM on both sides, in the PNP conventions.

    The chain restricted to that ion with the bootstrap seed of the PNP comparison: the
    comparison's chain column (K+ only) is then the same numbers, value and spread.
    """
    alone = HierarchyChain((chain.get(ion),), chain.area_nm2, chain.drop)
    bath = {ion: BATH_mM}
    return chain_iv_pnp(alone, VOLTAGES, bath, bath, n_boot=N_BOOT, seed=BOOT_SEED)


def chain_level(chain: HierarchyChain, pore: ModelPore, sampled: dict, summary: dict) -> dict:
    """Level 3 results: MFPTs, each ion's I-V (PNP conventions) and the selectivity."""
    iv = {}
    for ion in IONS:
        curve = iv[ion] = ion_alone_iv(chain, ion)
        mfpt = chain.mfpt_ns(ion, n_boot=100, seed=1)
        res, diffusion = sampled[ion]
        w0, s0 = res.value_at(pore.site.z)
        summary["ions"][ion] = {
            "W_site_kT": w0,
            "sigma_W_site_kT": s0,
            "D_bath_nm2_per_ns": float(np.median(diffusion.D) * 1e3),
            "mfpt_ns": mfpt.value,
            "mfpt_95": [mfpt.low, mfpt.high],
            "voltages_mV": list(VOLTAGES),
            "current_pA": [float(i) for i in curve.species[ion].value],
            "current_std_pA": [float(i) for i in curve.species[ion].std],
            "current_100mV_pA": float(curve.species[ion].value[-1]),
            "current_100mV_95": [
                float(curve.species[ion].low[-1]),
                float(curve.species[ion].high[-1]),
            ],
        }
        lo, hi = mfpt.low, mfpt.high
        print(f"  {ion}: MFPT across the pore {mfpt.value:.3g} ns [{lo:.3g}, {hi:.3g}]")
    print(f"\n1D chain, each ion alone at {BATH_mM:g} mM on both sides ({CONVENTION}):")
    for ion in IONS:
        print(f"-- {ion}")
        print(iv[ion].table())
    # chain voltages are phi(low z) - phi(high z): V = +100 mV (phi_top - phi_bottom) is -100
    sel = chain.selectivity("Na+", "K+", BATH_mM, -100.0, n_boot=200, seed=2)
    summary["selectivity_Na_over_K_100mV"] = [sel.value, sel.low, sel.high]
    print(
        f"selectivity I_Na/I_K at V = +100 mV: {sel.value:.3g} "
        f"(95% [{sel.low:.3g}, {sel.high:.3g}])"
    )
    return iv


def pnp_level(pore: ModelPore, chain: HierarchyChain, summary: dict) -> ChainPNPComparison:
    """Level 4: PNP on the matching channel, without and with the PMF, next to the chain."""
    geometry = channel_geometry(
        pore, bath_radius=5.0, bath_height=5.0, protein_thickness=0.0, h_pore=0.02, h_bath=0.5
    )
    area_pore = pore.cross_section  # bare-pore A(z): PNP resolves the geometry itself
    comparison = compare_with_pnp(
        chain,
        geometry,
        poreflux.salt("KCl", BATH_mM),
        [-100.0, 100.0],
        missing="ignore",  # Cl- was not sampled: the chain carries K+ only
        pmf_options={
            "confinement_area": lambda z: area_pore(z, TEMPERATURE),
            "reference_area_nm2": chain.area_nm2,
        },
        n_boot=N_BOOT,
        seed=BOOT_SEED,
    )
    print("\nKCl through the pore: 1D chain (K+ only) vs PNP without and with the PMF as mu_ex")
    print(f"({CONVENTION})")
    print(comparison.table())
    print(f"\n{'V [mV]':>8} {'I_K chain [pA]':>18} " + " ".join(
        f"{'I_K ' + m + ' [pA]':>16}" for m in comparison.models if m != "chain"
    ))  # fmt: skip
    k_std = comparison.chain_std.get("K+")
    for i, v in enumerate(comparison.voltages):
        chain_k = f"{comparison.currents['chain']['K+'][i]:.5g}"
        if k_std is not None:
            chain_k += f" +- {k_std[i]:.2g}"
        others = " ".join(
            f"{comparison.currents[m]['K+'][i]:16.5g}" for m in comparison.models if m != "chain"
        )
        print(f"{v:8.1f} {chain_k:>18} {others}")
    summary["pnp"] = {
        "voltages_mV": [float(v) for v in comparison.voltages],
        "verdicts": comparison.verdicts,
        "conductance_pS": {m: [float(g) for g in c] for m, c in comparison.conductance.items()},
        "K_current_pA": {m: [float(i) for i in c["K+"]] for m, c in comparison.currents.items()},
        "K_chain_std_pA": [float(s) for s in comparison.chain_std["K+"]],
    }
    return comparison


def write_outputs(out: Path, pore: ModelPore, sampled: dict, iv: dict, comparison, summary):
    """The figures and ``summary.json``; returns the written paths."""
    membrane = (pore.z_lo, pore.z_hi)
    pmfs = {ion: (res.pmf.grid, res.pmf.pmf, res.pmf.sigma) for ion, (res, _) in sampled.items()}
    ds = {ion: (d.position, d.D * 1e3, d.sigma * 1e3) for ion, (_, d) in sampled.items()}
    written = [
        plots.plot_transport_profiles(
            pmfs,
            ds,
            out / "transport_profiles.png",
            membrane=membrane,
            title="Model pore: W(z) (MBAR) and D(z) (Hummer)",
        ),
        plots.plot_iv(
            VOLTAGES,
            {ion: iv[ion].total.value for ion in IONS},
            out / "chain_iv.png",
            title=f"1D chain, each ion alone at {BATH_mM:g} mM ({CONVENTION})",
        ),
        *plot_comparison(comparison, out, membrane=membrane),
    ]
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    return [*written, out / "summary.json"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse sampling (about 1 minute)")
    parser.add_argument("--out", default="hierarchy-output", help="output folder")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    pore = ModelPore()
    sampled = sample_all(pore, out, args.quick, args.seed, t0)  # 1-2. particles -> W, D
    chain = build_chain(pore, sampled)  # 3. the 1D chain
    summary: dict = {"quick": args.quick, "area_nm2": chain.area_nm2, "ions": {}}
    summary["convention"] = CONVENTION
    iv = chain_level(chain, pore, sampled, summary)
    comparison = pnp_level(pore, chain, summary)  # 4. PNP on the same pore
    written = write_outputs(out, pore, sampled, iv, comparison, summary)
    print("\nwrote " + ", ".join(str(p) for p in written))
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
