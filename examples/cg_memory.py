"""CG dynamics with memory: a GLE thermostat fitted to the mapped VACF vs friction calibration.

The molecular fluid of ``tests/test_cg_molecular.py``: LJ dimers (two LJ sites, sigma = epsilon
= m = 1, harmonic bond 0.5 sigma, intramolecular LJ excluded) at T* = 1.5 and 0.3 molecules per
sigma^3, Newtonian dynamics, mapped to one bead per molecule (centre of mass). Reduced units:
nm, kJ/mol, amu, ps.

1. **Reference.** Atomistic MD; the beads' mapped positions, forces and velocities give the
   target VACF (per component), D (Green-Kubo) and the force-matched CG pair force
   (:func:`stochastic.cg.force_matching.force_match`).
2. **CG, Newtonian.** Too fast (the missing intramolecular degrees of freedom no longer take
   momentum away).
3. **CG + Langevin friction** calibrated to D (:func:`stochastic.cg.mobility.calibrate_friction`):
   right D, exponential (wrong) VACF shape.
4. **CG + GLE thermostat** (:mod:`stochastic.cg.memory_dynamics`): total memory kernels of the
   reference and of the Newtonian CG model by Volterra inversion, their difference fitted by
   exponentials and damped oscillations, refined by iterative memory reconstruction: D and the
   VACF shape.

Prints a table (VACF shape RMS over the first ps relative to C(0), D and its error) and saves
``cg_memory_vacf.png`` in ``--out``. ``--quick``: a smaller fluid and shorter runs (~1 min).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stochastic.cg.force_matching import force_match
from stochastic.cg.mapping import Mapping
from stochastic.cg.memory_dynamics import (
    GLEThermostat,
    VACFRecorder,
    memory_reconstruction,
    run_recorded,
    vacf_shape_rms,
)
from stochastic.cg.mobility import calibrate_friction
from stochastic.cg.sampling import PerTypeLangevinBAOAB
from stochastic.cg.tabulated import TabulatedPair
from stochastic.cg.targets import Estimate
from stochastic.md.bonded import HarmonicBonds
from stochastic.md.forcefield import ForceField
from stochastic.md.init import fcc_lattice, maxwell_boltzmann
from stochastic.md.integrators import LangevinBAOAB, VelocityVerlet
from stochastic.md.lj import LennardJones
from stochastic.md.system import ParticleType, System, reduced_temperature_to_kelvin

DT = 0.004
T_STAR, DENSITY = 1.5, 0.3
#: VACF lags: the comparison window (1 ps), the kernel grid and the Green-Kubo cut-off [ps]
SHAPE_PS, KERNEL_PS, GK_PS = 1.0, 1.5, 3.0
BLOCK = 2000  # frames (8 ps) per VACF block: many VACF decay times
FULL = {"cells": 4, "n_equil": 4000, "n_prod": 30000, "n_cg": 30000, "n_cal": 12000, "n_imr": 5}
QUICK = {"cells": 3, "n_equil": 1500, "n_prod": 12000, "n_cg": 12000, "n_cal": 8000, "n_imr": 4}


@dataclass
class Fluid:
    """The atomistic dimer fluid, its CG map and the CG bead system."""

    atoms: System
    terms: list
    x: np.ndarray
    mapping: Mapping
    beads: System
    temperature: float

    @property
    def bead_mass(self) -> float:
        """Bead mass [amu]."""
        return float(self.mapping.bead_masses[0])


def dimer_fluid(cells: int, seed: int = 0) -> Fluid:
    """``4 cells^3`` LJ dimers at T* = 1.5, 0.3 molecules/sigma^3, mapped to their centres."""
    com, box = fcc_lattice(cells, DENSITY)
    n = len(com)
    rng = np.random.default_rng(seed)
    b = rng.normal(size=(n, 3))
    b *= 0.25 / np.linalg.norm(b, axis=1)[:, None]
    x = np.empty((2 * n, 3))
    x[0::2], x[1::2] = com - b, com + b
    bonds = [(2 * k, 2 * k + 1) for k in range(n)]
    atoms = System.from_counts([ParticleType("S", 1.0, 0, 1.0, 1.0)], [2 * n], box, bonds)
    terms = [LennardJones(atoms, 2.5, mode="shifted"), HarmonicBonds(atoms, bonds, 2000.0, 0.5)]
    mapping = Mapping.by_molecule(n, [[0, 1]], ["B"], atoms.masses)
    beads = System.from_counts([ParticleType("B", float(mapping.bead_masses[0]))], [n], box)
    return Fluid(atoms, terms, x, mapping, beads, reduced_temperature_to_kelvin(T_STAR))


def _recorder(mapping=None) -> VACFRecorder:
    return VACFRecorder(1, BLOCK, round(GK_PS / DT), DT, mapping)


@dataclass
class _MappedFrames:
    """Reporter: mapped bead positions and forces every ``interval`` steps (force matching)."""

    interval: int
    mapping: Mapping
    x: list
    f: list

    def report(self, sim) -> None:
        self.x.append(self.mapping.map_positions(sim.x[None], None)[0])
        self.f.append(self.mapping.map_forces(sim.f[None])[0])


def reference(fluid: Fluid, n_equil: int, n_prod: int, seed: int = 1):
    """Atomistic NVE run after a Langevin equilibration: the mapped VACF and the force-matched
    bead pair table; returns ``(VACFRecorder, table, last mapped positions)``."""
    rng = np.random.default_rng(seed)
    ff = ForceField(fluid.atoms, fluid.terms)
    v0 = maxwell_boltzmann(fluid.atoms.masses, fluid.temperature, rng)
    x, v = run_recorded(ff, LangevinBAOAB(DT, fluid.temperature, 1.0, rng), fluid.x, v0, n_equil)
    vacf = _recorder(fluid.mapping)
    frames = _MappedFrames(10, fluid.mapping, [], [])
    run_recorded(ff, VelocityVerlet(DT), x, v, n_prod, [vacf, frames])
    xb, fb = np.array(frames.x), np.array(frames.f)
    fm = force_match(xb, fb, fluid.beads.box, fluid.mapping.bead_type_names, 3.0,
                     regularization=1e-6)  # fmt: skip
    return vacf, fm.tables[("B", "B")], xb[-1]


class CGModel:
    """The force-matched CG fluid; each run continues the previous configuration."""

    def __init__(self, fluid: Fluid, table, x0: np.ndarray, seed: int = 2):
        self.fluid = fluid
        self.ff = ForceField(fluid.beads, [TabulatedPair(fluid.beads, {("B", "B"): table})])
        self.rng = np.random.default_rng(seed)
        self.x = np.array(x0, dtype=float)
        self.v = maxwell_boltzmann(fluid.beads.masses, fluid.temperature, self.rng)

    def run(self, integrator, n_steps: int, n_equil: int = 500) -> VACFRecorder:
        """Equilibrate with ``integrator`` and record the VACF over ``n_steps``."""
        self.x, self.v = run_recorded(self.ff, integrator, self.x, self.v, n_equil)
        rec = _recorder()
        self.x, self.v = run_recorded(self.ff, integrator, self.x, self.v, n_steps, [rec])
        return rec

    def langevin(self, gamma: float) -> PerTypeLangevinBAOAB:
        """BAOAB with collision rate ``gamma`` [1/ps] on every bead."""
        n = self.fluid.beads.n_particles
        return PerTypeLangevinBAOAB(DT, self.fluid.temperature, np.full(n, gamma), self.rng)

    def gle(self, kernel) -> GLEThermostat:
        """The GLE thermostat with ``kernel`` on every bead."""
        names = ["B"] * self.fluid.beads.n_particles
        return GLEThermostat(DT, self.fluid.temperature, {"B": kernel}, names,
                             self.fluid.beads.masses, self.rng)  # fmt: skip


def _row(label: str, rec: VACFRecorder, ref_c: np.ndarray, n_shape: int) -> dict:
    """One model's VACF, shape RMS (with its error: the scatter of the blocks' shape RMS over
    sqrt(blocks)) and Green-Kubo D with its block error."""
    c, _ = rec.vacf()
    d, d_se = rec.diffusion(GK_PS)
    per_block = [vacf_shape_rms(ref_c[:n_shape], b[:n_shape]) for b in rec.blocks]
    shape_se = float(np.std(per_block, ddof=1) / np.sqrt(len(per_block)))
    return {"model": label, "shape_rms": vacf_shape_rms(ref_c[:n_shape], c[:n_shape]),
            "shape_se": shape_se, "D": d, "D_se": d_se, "vacf": c}  # fmt: skip


def _cached_reference(fluid: Fluid, sizes: dict, seed: int, cache: Path | None):
    """:func:`reference`, stored in (and reused from) ``cache`` for the same sizes and seed."""
    key = {
        "cells": sizes["cells"],
        "n_equil": sizes["n_equil"],
        "n_prod": sizes["n_prod"],
        "seed": seed,
    }
    if cache is not None and cache.exists():
        stored = pickle.loads(cache.read_bytes())
        if stored["key"] == key:
            return stored["reference"]
    out = reference(fluid, sizes["n_equil"], sizes["n_prod"], seed)
    if cache is not None:
        cache.write_bytes(pickle.dumps({"key": key, "reference": out}))
    return out


def compare(sizes: dict, seed: int = 1, log=print, cache: Path | None = None) -> dict:
    """Run the reference and the three CG dynamics; rows of the comparison and the kernels.

    ``cache``: a file where the reference run (VACF blocks, pair table) is kept for reruns.
    """
    t0 = time.perf_counter()
    fluid = dimer_fluid(sizes["cells"])
    ref, table, x0 = _cached_reference(fluid, sizes, seed, cache)
    ref_c, _ = ref.vacf()
    d_ref, d_ref_se = ref.diffusion(GK_PS)
    log(f"reference ({fluid.beads.n_particles} dimers): D = {d_ref:.4g} +- {d_ref_se:.2g} "
        f"nm^2/ps ({time.perf_counter() - t0:.0f} s)")  # fmt: skip
    n_shape, n_kernel = round(SHAPE_PS / DT) + 1, round(KERNEL_PS / DT) + 1
    cg = CGModel(fluid, table, x0, seed + 1)
    rows = {"reference": _row("atomistic (mapped)", ref, ref_c, n_shape)}
    rows["newton"] = _row("CG Newtonian", cg.run(VelocityVerlet(DT), sizes["n_cg"]), ref_c,
                          n_shape)  # fmt: skip
    log(f"CG Newtonian: D = {rows['newton']['D']:.4g} ({time.perf_counter() - t0:.0f} s)")

    def evaluate(gam: dict) -> dict:
        rec = cg.run(cg.langevin(gam["B"]), sizes["n_cal"])
        return {"B": Estimate(*rec.diffusion(GK_PS))}

    cal = calibrate_friction(evaluate, {"B": d_ref}, {"B": rows["newton"]["D"]},
                             {"B": fluid.bead_mass}, fluid.temperature, tolerance=0.03,
                             max_evaluations=6)  # fmt: skip
    gamma = cal.friction["B"]
    rows["langevin"] = _row(f"CG + Langevin ({gamma:.3g}/ps)",
                            cg.run(cg.langevin(gamma), sizes["n_cg"]), ref_c, n_shape)  # fmt: skip
    log(f"friction calibration: gamma = {gamma:.4g}/ps ({time.perf_counter() - t0:.0f} s)")
    t = ref.t[:n_kernel]

    def run_gle(kernel):
        rec = cg.run(cg.gle(kernel), sizes["n_cal"])
        c, d = rec.vacf()[0][:n_kernel], rec.diffusion(GK_PS)[0]
        rms = vacf_shape_rms(ref_c[:n_shape], c[:n_shape])
        log(f"  memory reconstruction: int K = {kernel.integral:.3g} amu/ps -> D = {d:.4g}, "
            f"VACF shape rms {rms:.3f} ({time.perf_counter() - t0:.0f} s)")  # fmt: skip
        return c, d

    imr = memory_reconstruction(
        t, ref_c[:n_kernel], rows["newton"]["vacf"][:n_kernel], run_gle, fluid.bead_mass,
        fluid.temperature, d_ref=d_ref, d_newton=rows["newton"]["D"], n_runs=sizes["n_imr"],
    )  # fmt: skip
    rows["gle"] = _row("CG + GLE", cg.run(cg.gle(imr.kernel), sizes["n_cg"]), ref_c, n_shape)
    log(f"GLE thermostat: run {imr.best + 1} of {len(imr.kernels)}, {imr.kernel.n_terms} terms, "
        f"fit R^2 = {imr.fit.r2:.3f}, "
        f"int K = {imr.kernel.integral:.4g} amu/ps ({time.perf_counter() - t0:.0f} s)")  # fmt: skip
    return {"rows": rows, "t": ref.t, "d_ref": (d_ref, d_ref_se), "kernel": imr,
            "calibration": cal, "n_shape": n_shape, "t_kernel": t}  # fmt: skip


def table(result: dict) -> str:
    """The comparison as text."""
    d_ref = result["d_ref"][0]
    lines = [f"{'model':<30} {'VACF shape rms':>17} {'D [nm^2/ps]':>18} {'D/D_ref - 1':>12}"]
    for row in result["rows"].values():
        rel = row["D"] / d_ref - 1
        lines.append(
            f"{row['model']:<30} {row['shape_rms']:8.4f} +- {row['shape_se']:.1g} "
            f"{row['D']:10.4g} +- {row['D_se']:.1g} {rel:+12.1%}"
        )
    return "\n".join(lines)


def plot(result: dict, path: Path) -> Path:
    """VACF/C(0) of every model over the first 1.5 ps and the thermostat kernel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    t = result["t"]
    n = round(1.5 / DT) + 1
    for key, row in result["rows"].items():
        c = row["vacf"]
        style = {"color": "k", "lw": 2.0} if key == "reference" else {}
        ax.plot(t[:n], c[:n] / c[0], label=f"{row['model']}: D {row['D']:.3g}", **style)
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.set_xlabel("t [ps]")
    ax.set_ylabel("VACF C(t)/C(0)")
    ax.legend(fontsize=8)
    ax.set_title("LJ dimer fluid, bead = molecule centre")
    imr, tk = result["kernel"], result["t_kernel"]
    bx.plot(tk, imr.targets[0], color="0.6", label="K_ref - K_Newton (first guess)")
    bx.plot(tk, imr.targets[imr.best], color="C1", label=f"target of run {imr.best + 1}")
    bx.plot(tk, imr.kernel(tk), "k--", label="fitted embedding")
    bx.set_xlabel("t [ps]")
    bx.set_ylabel("thermostat kernel K(t) [amu/ps^2]")
    bx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small fluid, short runs")
    parser.add_argument("--out", default="cg-memory-output", help="output folder")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result = compare(QUICK if args.quick else FULL, args.seed, cache=out / "reference.pkl")
    print(table(result))
    summary = {k: {m: v for m, v in row.items() if m != "vacf"} for k, row in
               result["rows"].items()}  # fmt: skip
    (out / "cg_memory.json").write_text(json.dumps(summary, indent=2))
    path = plot(result, out / "cg_memory_vacf.png")
    print(f"wrote {path}, {out / 'cg_memory.json'}; done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
