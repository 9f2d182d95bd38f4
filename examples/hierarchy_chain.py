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

4b. **Memory.** The friction kernel of each ion restrained at the site, from a short MD run
   (``stochastic.memory.site_memory``: velocities and forces at every step, first-kind Volterra
   inversion in the restraint), gives tau_mem with a bootstrap error; tau_hop is the chain's
   mean first-passage time with its bootstrap error; ``pnp.hierarchy.time_scales`` hands the
   ratio to the diagnostics' non-Markovian check. The model's implicit solvent is Langevin
   friction, memoryless by construction: the run returns int K = m gamma of the thermostat and
   tau_mem at the resolution limit (half the 4 fs step), so the check passes by ~7 orders of
   magnitude. A model with explicit water would give a finite tau_mem through the same calls.

Usage::

    python examples/hierarchy_chain.py                 # 10-15 min on one core
    python examples/hierarchy_chain.py --quick         # ~15 s of CPU, 2 processes

The run ends with a table of its stages (wall and CPU seconds, the worker processes included):
where the time went (``docs/hierarchy.md``).

The particle level runs in ``--jobs`` processes (default 2 when there are 2 cores): the
umbrella sampling of each ion and the kernel runs are independent. ``--quick`` samples with a
lower Langevin friction (5/ps), which converges W(z) several times faster (the PMF does not
depend on the friction); the measured D(z) is then rescaled by the ratio of the species' bulk D
to the sampling friction's ``kT/(m gamma)``, exact for this implicit-solvent model whose friction
is the same everywhere (the kernel runs always use the physical friction).

Writes to ``--out`` (default ``hierarchy-output``): ``summary.json``, ``transport_profiles.png``
(W and D), ``chain_iv.png``, ``chain_vs_pnp_iv.png``, ``chain_vs_pnp_profiles.png`` and the
umbrella windows (``umbrella/<ion>/``).
"""

# ruff: noqa: E402 (the clock starts before the imports: they are the first stage timed)
from __future__ import annotations

import time

#: Wall and CPU clocks at start-up (the first call of :func:`main` times the imports from here).
_START = [time.perf_counter(), time.process_time()]

import argparse
import contextlib
import dataclasses
import importlib
import json
import multiprocessing
import os
import resource
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import poreflux
from poreflux.species import get_species
from stochastic.chain import HierarchyChain, TransportProfile
from stochastic.md.model_pore import ModelPore, accessible_area
from stochastic.memory import SiteMemory, site_memory
from stochastic.pmf import SamplingWarning, pore_pmf

TEMPERATURE = 298.15
IONS = ("K+", "Na+")
BATH_mM = 150.0
VOLTAGES = [-100.0, -50.0, 50.0, 100.0]  # phi_top - phi_bottom
#: Every table, figure and summary entry uses PNP's sign convention.
CONVENTION = "V = phi_top - phi_bottom, current positive top -> bottom"
#: Bootstrap of the chain currents: the same draws in the ion-alone tables and the comparison.
N_BOOT, BOOT_SEED = 100, 1
#: --quick umbrella sampling: many short walkers per window (the MD step's cost is mostly
#: per-step overhead, so 512 walkers cost little more than 128), each ~3 window correlation times
#: long (Hummer's D is then biased high; its level is rescaled, see above), a short
#: re-equilibration (the windows start from the equilibrium density of the bare pore) and a
#: softer spring with fewer windows (31, spacing 2.6 sigma of the spring).
QUICK_SAMPLING = {
    "quick": True,
    "friction": 5.0,
    "n_walkers": 512,
    "n_samples": 512 * 24,
    "stride": 10,
    "n_equilibration": 100,
    "n_windows": 31,
    "kappa": 700.0,
}
#: PNP mesh size in the pore [nm] and the digits its currents resolve: halving h_pore from 0.01 nm
#: changes them by 0.15 % (PNP) and 0.5-0.7 % (PNP + PMF); from 0.02 nm, by 0.3 % and 1.8-1.9 %
#: (docs/hierarchy.md).
H_PORE, PNP_DIGITS = 0.01, 3
#: The restrained-ion run at the site that measures the friction kernel (tau_mem).
MEMORY_RUN = {"n_walkers": 128, "n_steps": 3000, "n_groups": 8}
QUICK_MEMORY_RUN = {"n_walkers": 64, "n_steps": 1000, "n_groups": 8}


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished (reaped) child processes."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


class StageClock:
    """Wall and CPU seconds of each stage of the run: the table printed at the end (and the
    ``timings`` entry of ``summary.json``) tells where the time went.

    CPU seconds include the child processes of the particle level; on an idle machine a stage
    run in ``n`` processes takes about ``max(wall, CPU / n)``.
    """

    def __init__(self, start: tuple[float, float]):
        self.start = start[0]
        self.rows: list[tuple[str, float, float]] = []
        self.add("Python imports (numpy, scipy, numba, stochastic)", time.perf_counter() - start[0],
                 time.process_time() - start[1])  # fmt: skip

    def add(self, name: str, wall: float, cpu: float) -> None:
        """Record a stage (or a detail, name starting with spaces) measured elsewhere."""
        self.rows.append((name, float(wall), float(cpu)))

    @contextlib.contextmanager
    def stage(self, name: str):
        """Time the ``with`` block as one stage (listed before the details added inside it)."""
        wall, cpu, at = time.perf_counter(), _cpu_seconds(), len(self.rows)
        try:
            yield
        finally:
            self.rows.insert(at, (name, time.perf_counter() - wall, _cpu_seconds() - cpu))

    def table(self) -> str:
        """The stages, their wall and CPU seconds and the total."""
        lines = [f"{'stage':<58} {'wall [s]':>9} {'CPU [s]':>9}"]
        lines += [f"{n:<58} {w:9.2f} {c:9.2f}" for n, w, c in self.rows]
        total = time.perf_counter() - self.start
        cpu = sum(c for n, _, c in self.rows if not n.startswith(" "))
        lines.append(f"{'total':<58} {total:9.2f} {cpu:9.2f}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """``{stage: {"wall_s", "cpu_s"}}`` for ``summary.json`` (details: ``"detail": True``)."""
        rows = {
            n.strip(): {"wall_s": w, "cpu_s": c, **({"detail": True} if n[0] == " " else {})}
            for n, w, c in self.rows
        }
        return {**rows, "total": {"wall_s": time.perf_counter() - self.start}}


def _rescaled_diffusion(pore: ModelPore, ion: str, result: Any) -> Any:
    """D(z) of a --quick run put at the species' bulk D (see the module notes)."""
    # constant friction everywhere: D(z) = (kT/m gamma) x (shape); put the level at the
    # species' D by the bath windows' mean (the windows beyond the site's reach)
    diffusion = result.diffusion
    z = diffusion.position
    bath = np.abs(z) > 0.5 * pore.length + (pore.site.cutoff if pore.site else 0.0)
    level = float(np.mean(diffusion.D[bath])) if bath.any() else float(np.mean(diffusion.D))
    scale = get_species(ion).diffusion * 1e-3 / level  # nm^2/ns -> nm^2/ps
    return dataclasses.replace(diffusion, D=diffusion.D * scale, sigma=diffusion.sigma * scale)


def _tasks(pore: ModelPore, out: Path, quick: bool, seed: int, progress: bool) -> dict:
    """The particle-level jobs: ``{(ion, "pmf" | "memory"): callable}`` (picklable)."""
    opts = QUICK_SAMPLING if quick else {}
    mem = QUICK_MEMORY_RUN if quick else MEMORY_RUN
    tasks = {}
    for k, ion in enumerate(IONS):  # the long umbrella runs first: one per process
        tasks[ion, "pmf"] = partial(
            pore_pmf, pore, ion, out / "umbrella" / ion, seed=seed + k, temperature=TEMPERATURE,
            progress=progress, **opts,
        )  # fmt: skip
    for k, ion in enumerate(IONS):
        tasks[ion, "memory"] = partial(
            site_memory, pore, ion, temperature=TEMPERATURE, seed=seed + 10 + k, **mem
        )
    return tasks


def _run_tasks(
    tasks: dict, jobs: int, t0: float, quick: bool, meanwhile: Callable[[], None] | None = None
) -> dict:
    """Run the jobs in ``jobs`` processes (spawned: the parent may hold MPI/PETSc), in order;
    the parent calls ``meanwhile()`` while they run (first, when ``jobs`` is 1)."""
    done: dict = {}
    if jobs <= 1:
        if meanwhile is not None:
            meanwhile()
        for key, task in tasks.items():
            done[key] = task()
            print(f"  {key[0]} {key[1]} done ({time.perf_counter() - t0:.0f} s)", flush=True)
        return done
    ctx = multiprocessing.get_context("spawn")
    # short --quick walkers: Hummer's D is biased high (see the module notes); silence it there
    quiet = ("ignore", "", SamplingWarning) if quick else ("default", "", SamplingWarning)
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=warnings.filterwarnings,
                             initargs=quiet) as pool:  # fmt: skip
        futures: dict[Any, Future] = {key: pool.submit(task) for key, task in tasks.items()}
        if meanwhile is not None:
            meanwhile()
        for key, fut in futures.items():
            done[key] = fut.result()
            print(f"  {key[0]} {key[1]} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    return done


def _import_continuum(clock: StageClock | None) -> None:
    """Import pnp, meshes and matplotlib (DOLFINx, PETSc, UFL, gmsh: ~1 s) while the particle
    level runs in its processes: it overlaps the workers' start-up instead of following them."""
    wall, cpu = time.perf_counter(), time.process_time()
    for name in ("meshes.channel", "pnp.hierarchy", "pnp.results.plots"):
        importlib.import_module(name)
    if clock is not None:
        clock.add("    parent: import pnp, meshes, matplotlib meanwhile",
                  time.perf_counter() - wall, time.process_time() - cpu)  # fmt: skip


def sample_all(
    pore: ModelPore, out: Path, quick: bool, seed: int, t0: float, jobs: int = 1,
    clock: StageClock | None = None,
):  # fmt: skip
    """Levels 1-2: W(z), D(z) and the site's friction kernel of every ion.

    Returns ``({ion: (PorePMF, DiffusionProfile)}, {ion: SiteMemory})``; the umbrella sampling of
    the ions and the kernel runs go to ``jobs`` processes. ``clock`` receives the umbrella
    runs' own sampling and estimation times (measured in the worker processes).
    """
    print(f"Model pore: radius {pore.radius} nm, length {pore.length} nm, site {pore.site}")
    print(f"particle level: umbrella sampling and the site's friction kernel ({jobs} process(es))")
    with warnings.catch_warnings():
        if quick:  # short walkers: Hummer's D is biased high; the rescaling fixes its level
            warnings.simplefilter("ignore", SamplingWarning)
        tasks = _tasks(pore, out, quick, seed, progress=jobs <= 1)
        done = _run_tasks(tasks, jobs, t0, quick, partial(_import_continuum, clock))
    sampled, memory = {}, {}
    for ion in IONS:
        result = done[ion, "pmf"]
        diffusion = _rescaled_diffusion(pore, ion, result) if quick else result.diffusion
        sampled[ion] = (result, diffusion)
        memory[ion] = done[ion, "memory"]
        w0, s0 = result.value_at(pore.site.z)
        print(f"  {ion}: W(site) = {w0:+.2f} +- {s0:.2f} kT")
        tm = result.timings
        if clock is not None and tm:
            new = f"{tm['new_samples']} new samples" if tm["new_samples"] else "all resumed"
            clock.add(f"    {ion}: umbrella MD, in its process ({new})", tm["sampling_wall_s"],
                      tm["sampling_cpu_s"])  # fmt: skip
            clock.add(f"    {ion}: MBAR W(z) + Hummer D(z), in its process", tm["estimate_wall_s"],
                      tm["estimate_cpu_s"])  # fmt: skip
    return sampled, memory


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
    from pnp.hierarchy import chain_iv_pnp

    alone = HierarchyChain((chain.get(ion),), chain.area_nm2, chain.drop)
    bath = {ion: BATH_mM}
    return chain_iv_pnp(alone, VOLTAGES, bath, bath, n_boot=N_BOOT, seed=BOOT_SEED)


def memory_level(memory: dict, hops: dict, summary: dict) -> dict:
    """tau_mem (the site's kernel) / tau_hop (the chain's MFPT, ``hops``) per ion, with errors.

    Returns ``{ion: pnp.hierarchy.TimeScales}``; K+'s goes to the diagnostics of the PNP level.
    """
    from pnp.hierarchy import time_scales

    print("\nMemory: friction kernel of the ion restrained at the site vs the hopping time")
    scales = {}
    for ion in IONS:
        site: SiteMemory = memory[ion]
        tau = site.memory_time(n_boot=N_BOOT, seed=BOOT_SEED)
        hop = hops[ion]
        ts = scales[ion] = time_scales(
            site.t, site.kernels, None, hopping_method="MFPT across the pore",
            hopping_time_ns=hop.value, hopping_sigma_ns=hop.std, n_boot=N_BOOT, seed=BOOT_SEED,
        )  # fmt: skip
        step = float(site.t[1])
        print(f"  {ion}: {ts.describe()}")
        print(
            f"       int K = {tau.integral:.4g} +- {tau.integral_sigma:.2g} amu/ps "
            f"(the MD thermostat's m gamma = {site.langevin_friction:.4g}); tau_mem / step = "
            f"{tau.tau / step:.2f}: no memory beyond the {step * 1e3:.0f} fs resolution"
        )
        summary["ions"][ion].update(
            {
                "tau_mem_ps": tau.tau,
                "tau_mem_sigma_ps": tau.sigma,
                "memory_step_ps": step,
                "friction_integral_amu_per_ps": tau.integral,
                "friction_integral_sigma_amu_per_ps": tau.integral_sigma,
                "langevin_friction_amu_per_ps": site.langevin_friction,
                "tau_hop_ns": ts.hopping_time_ns,
                "tau_hop_sigma_ns": ts.hopping_time_sigma_ns,
                "tau_ratio": ts.ratio,
                "tau_ratio_sigma": ts.ratio_sigma,
            }
        )
    return scales


def chain_level(
    chain: HierarchyChain, pore: ModelPore, sampled: dict, summary: dict
) -> tuple[dict, dict]:
    """Level 3 results: MFPTs, each ion's I-V (PNP conventions) and the selectivity.

    Returns ``({ion: ChainIV}, {ion: MFPT across the pore [ns], Uncertain})``.
    """
    iv, hops = {}, {}
    for ion in IONS:
        curve = iv[ion] = ion_alone_iv(chain, ion)
        mfpt = hops[ion] = chain.mfpt_ns(ion, n_boot=N_BOOT, seed=BOOT_SEED)
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
    return iv, hops


def pnp_level(
    pore: ModelPore, chain: HierarchyChain, summary: dict, scales: dict, clock: StageClock
) -> Any:
    """Level 4: PNP on the matching channel, without and with the PMF, next to the chain.

    The diagnostics get K+'s tau_mem and tau_hop (``scales``) for their non-Markovian check.
    """
    from meshes.channel import build_channel
    from pnp.hierarchy import channel_geometry, compare_with_pnp

    print("\ncontinuum level: PNP on the matching channel (mesh, then 2 x 2 solves)", flush=True)
    geometry = channel_geometry(
        pore, bath_radius=5.0, bath_height=5.0, protein_thickness=0.0, h_pore=H_PORE, h_bath=0.5
    )
    with clock.stage("continuum: channel mesh (gmsh, or the on-disk mesh cache)"):
        cmesh = build_channel(geometry, dim=2)
    area_pore = pore.cross_section  # bare-pore A(z): PNP resolves the geometry itself
    with clock.stage("continuum: PNP solves (2 models x 2 voltages), diagnostics"):
        comparison = compare_with_pnp(
            chain, geometry, poreflux.salt("KCl", BATH_mM), [-100.0, 100.0], cmesh=cmesh,
            missing="ignore",  # Cl- was not sampled: the chain carries K+ only
            pmf_options={
                "confinement_area": lambda z: area_pore(z, TEMPERATURE),
                "reference_area_nm2": chain.area_nm2,
            },
            n_boot=N_BOOT, seed=BOOT_SEED, diagnose_options=scales["K+"].diagnostic_inputs(),
        )  # fmt: skip
    print("\nKCl through the pore: 1D chain (K+ only) vs PNP without and with the PMF as mu_ex")
    print(f"({CONVENTION})")
    print(comparison.table(digits=PNP_DIGITS))
    print(f"\n{'V [mV]':>8} {'I_K chain [pA]':>18} " + " ".join(
        f"{'I_K ' + m + ' [pA]':>16}" for m in comparison.models if m != "chain"
    ))  # fmt: skip
    k_std = comparison.chain_std.get("K+")
    for i, v in enumerate(comparison.voltages):
        chain_k = f"{comparison.currents['chain']['K+'][i]:.{PNP_DIGITS}g}"
        if k_std is not None:
            chain_k += f" +- {k_std[i]:.2g}"
        others = " ".join(
            f"{comparison.currents[m]['K+'][i]:16.{PNP_DIGITS}g}"
            for m in comparison.models
            if m != "chain"
        )
        print(f"{v:8.1f} {chain_k:>18} {others}")
    markov = next(f for f in comparison.reports["pnp"].findings if f.check == "non_markovian")
    print(f"diagnostics, non-Markovian check (K+): {markov.severity.name.lower()}")
    print(f"  {markov.message}")
    summary["pnp"] = {
        "voltages_mV": [float(v) for v in comparison.voltages],
        "verdicts": comparison.verdicts,
        "non_markovian": {"severity": markov.severity.name.lower(), "message": markov.message},
        "conductance_pS": {m: [float(g) for g in c] for m, c in comparison.conductance.items()},
        "K_current_pA": {m: [float(i) for i in c["K+"]] for m, c in comparison.currents.items()},
        "K_chain_std_pA": [float(s) for s in comparison.chain_std["K+"]],
    }
    return comparison


def write_figures(out: Path, pore: ModelPore, sampled: dict, iv: dict, comparison) -> list:
    """The figures; returns the written paths."""
    from pnp.hierarchy import plot_comparison
    from pnp.results import plots

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
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse sampling (~15 s of CPU)")
    parser.add_argument("--out", default="hierarchy-output", help="output folder")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1),
        help="processes for the particle level (default: 2 if the machine has 2 cores)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = (_START[0], _START[1]) if _START else (time.perf_counter(), time.process_time())
    _START.clear()  # a second call in the same process has no imports to time
    clock = StageClock(start)
    t0 = time.perf_counter()
    pore = ModelPore()
    jobs = max(1, args.jobs)
    with clock.stage(f"particle level: umbrella + kernel runs of 2 ions ({jobs} process(es))"):
        sampled, memory = sample_all(pore, out, args.quick, args.seed, t0, jobs, clock)
    summary: dict = {"quick": args.quick, "ions": {}, "convention": CONVENTION}
    with clock.stage("1D chain: MFPT, I-V, selectivity (bootstrap)"):
        chain = build_chain(pore, sampled)  # 3. the 1D chain
        summary["area_nm2"] = chain.area_nm2
        iv, hops = chain_level(chain, pore, sampled, summary)
    with clock.stage("memory: tau_mem (bootstrap) / tau_hop"):
        scales = memory_level(memory, hops, summary)
    comparison = pnp_level(pore, chain, summary, scales, clock)  # 4. PNP on the same pore
    with clock.stage("figures"):
        written = write_figures(out, pore, sampled, iv, comparison)
    print("\nwhere the time went (CPU includes the particle level's processes):")
    print(clock.table())
    summary["timings"] = clock.as_dict()
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    print("\nwrote " + ", ".join(str(p) for p in [*written, out / "summary.json"]))
    print(f"done in {time.perf_counter() - start[0]:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
