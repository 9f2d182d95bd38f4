"""CG methods side by side: IBI (+pressure), MS-CG, relative entropy and the ML network.

Systems (reduced LJ units): 108 LJ dimers at 0.3 molecules/sigma^3 (fit at T* = 1.5, held-out
T* = 1.8) and 108 LJ triangles at 0.25 molecules/sigma^3 (T* = 1.5), each molecule mapped to
its centre of mass. Per method: wall time of the fit, g(r) RMS and its noise floor, neighbour
angular-distribution RMS, pressure error (with its standard error) and D_CG/D_ref at the fitted
state and (dimers) the held-out state. Also the ML force evaluation rate (``ml_bead_steps_per_s``,
one core, 108 and 256 beads). Writes ``bench/results/cg_methods.json``.

Sizes are set by ``CG_METHODS_SCALE`` (default 1; the reference runs 10000 x scale steps).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from stochastic.cg import comparison as cmp

OUT = Path(__file__).resolve().parent / "results" / "cg_methods.json"
SCALE = float(os.environ.get("CG_METHODS_SCALE", "1"))


def ml_rate(n_cells: int) -> float:
    """Bead-steps per second of the ML force term alone (random-weight network, LJ fluid)."""
    from stochastic.cg.ml.descriptors import DescriptorSpec
    from stochastic.cg.ml.force_term import MLForceTerm
    from stochastic.cg.ml.model import NetworkEnergy
    from stochastic.cg.testsystems import lj_fluid

    fl = lj_fluid(n_cells, 0.776, 0.85)
    net = NetworkEnergy.create(DescriptorSpec(r_cut=2.0), (32, 32))
    term = MLForceTerm(fl.system, net)
    x = fl.positions + np.random.default_rng(0).normal(0, 0.02, fl.positions.shape)
    f = np.zeros_like(x)
    term.compute(x, None, f)  # compile
    n = 50
    t0 = time.perf_counter()
    for _ in range(n):
        term.compute(x, None, f)
    return n * len(x) / (time.perf_counter() - t0)


def run_system(n_sites: int, density: float, held_out: float | None) -> dict:
    n_ref, n_cg = int(10000 * SCALE), int(3000 * SCALE)
    mf = cmp.molecule_fluid(n_sites, 3, density, 1.5)
    t0 = time.perf_counter()
    ref = cmp.reference(mf, 2000, n_ref)
    print(f"{n_sites}-site reference: {time.perf_counter() - t0:.1f} s", flush=True)
    g = mf.rdf(ref.frames)
    r_shell = cmp.first_shell(g)
    methods = cmp.fit_methods(mf, ref, n_cg, ml_steps=int(400 * SCALE))
    held = None
    if held_out is not None:
        held_mf = cmp.molecule_fluid(n_sites, 3, density, held_out)
        held = (held_mf, cmp.reference(held_mf, 2000, n_ref, seed=5))
    for m in methods:
        m.figures.update(cmp.evaluate(mf, ref, m, int(4000 * SCALE), "fit", r_shell))
        if held is not None:
            m.figures.update(cmp.evaluate(held[0], held[1], m, int(4000 * SCALE), "heldout",
                                          r_shell))  # fmt: skip
        print(m.name, f"{m.fit_seconds:.1f} s", m.figures, flush=True)
    keys = ["fit_rdf_rms", "fit_angle_rms", "fit_pressure_error", "fit_d_ratio"]
    keys += ["heldout_rdf_rms"] if held is not None else []
    print(cmp.table(methods, keys))
    return {
        "system": f"{n_sites}-site LJ molecules, 108 at {density}/sigma^3, T*=1.5"
        + (f", held-out T*={held_out}" if held_out else ""),
        "r_shell_angles": r_shell,
        "methods": {m.name: {"fit_wall_time_s": m.fit_seconds, **m.figures} for m in methods},
    }


def main() -> None:
    result = {
        "scale": SCALE,
        "ml_bead_steps_per_s": ml_rate(3),
        "ml_bead_steps_per_s_256": ml_rate(4),
    }
    print(f"ML force term: {result['ml_bead_steps_per_s']:.0f} bead-steps/s (108 beads)",
          flush=True)  # fmt: skip
    result["dimer"] = run_system(2, 0.3, 1.8)
    result["trimer"] = run_system(3, 0.25, None)
    result.update(python=sys.version.split()[0], machine=platform.machine(),
                  load_average_1min=os.getloadavg()[0])  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
