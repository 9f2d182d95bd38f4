"""CG methods side by side: IBI (+pressure), MS-CG, relative entropy and the ML network.

Systems (reduced LJ units): 108 LJ dimers at 0.3 molecules/sigma^3 (fit at T* = 1.5, held-out
T* = 1.8) and 108 LJ triangles at 0.25 molecules/sigma^3 (T* = 1.5), each molecule mapped to
its centre of mass. Per method: wall time of the fit, g(r) RMS and its noise floor, neighbour
angular-distribution RMS, pressure error (with its standard error) and D_CG/D_ref at the fitted
state and (dimers) the held-out state. Also the ML force evaluation rate (``ml_bead_steps_per_s``,
one core, 108 and 256 beads, wall and CPU time). Writes ``bench/results/cg_methods.json``
(``CG_METHODS_ML_RATE_ONLY=1`` only re-measures the ML rates and updates them in that file).

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


def ml_rate(n_cells: int, n_steps: int = 200) -> dict[str, float]:
    """Bead-steps per second of the ML force term alone along an LJ-fluid MD trajectory.

    A random-weight network (cutoff 2 sigma, 32x32 hidden) evaluated on ``n_steps`` consecutive
    MD configurations (dt* = 0.005), so that its neighbour table is rebuilt as in a CG run;
    wall and CPU (process) time, after one compiling call.
    """
    from stochastic.cg.ml.descriptors import DescriptorSpec
    from stochastic.cg.ml.force_term import MLForceTerm
    from stochastic.cg.ml.model import NetworkEnergy
    from stochastic.cg.testsystems import lj_fluid

    fl = lj_fluid(n_cells, 0.776, 0.85)
    traj = fl.sampler(seed=0).run([fl.lj_term()], 1000, n_steps, 1).frames
    net = NetworkEnergy.create(DescriptorSpec(r_cut=2.0), (32, 32))
    term = MLForceTerm(fl.system, net)
    f = np.zeros_like(traj[0])
    term.compute(traj[0], None, f)  # compile
    t0, c0 = time.perf_counter(), time.process_time()
    for x in traj:
        term.compute(x, None, f)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = len(traj) * len(traj[0])
    return {"wall": n / wall, "cpu": n / cpu, "builds_per_step": term.n_builds / len(traj)}


def run_system(n_sites: int, density: float, held_out: float | None) -> dict:
    n_ref, n_cg = int(10000 * SCALE), int(3000 * SCALE)
    mf = cmp.molecule_fluid(n_sites, 3, density, 1.5)
    t0 = time.perf_counter()
    ref = cmp.reference(mf, 2000, n_ref)
    print(f"{n_sites}-site reference: {time.perf_counter() - t0:.1f} s", flush=True)
    g = mf.rdf(ref.frames)
    r_shell = cmp.first_shell(g)
    methods = cmp.fit_methods(mf, ref, n_cg, ml_steps=int(1500 * SCALE))
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
    keys = ["fit_rdf_rms", "fit_angle_rms", "fit_angle_noise", "fit_pressure_error", "fit_d_ratio"]
    keys += ["heldout_rdf_rms"] if held is not None else []
    print(cmp.table(methods, keys))
    return {
        "system": f"{n_sites}-site LJ molecules, 108 at {density}/sigma^3, T*=1.5"
        + (f", held-out T*={held_out}" if held_out else ""),
        "r_shell_angles": r_shell,
        "methods": {m.name: {"fit_wall_time_s": m.fit_seconds, **m.figures} for m in methods},
    }


def main() -> None:
    r108, r256 = ml_rate(3), ml_rate(4)
    result = {
        "scale": SCALE,
        "ml_bead_steps_per_s": r108["wall"],
        "ml_bead_steps_per_s_cpu": r108["cpu"],
        "ml_bead_steps_per_s_256": r256["wall"],
        "ml_bead_steps_per_s_256_cpu": r256["cpu"],
        "ml_table_builds_per_step": r108["builds_per_step"],
        "load_average_1min_ml": os.getloadavg()[0],
    }
    print(f"ML force term: {result['ml_bead_steps_per_s']:.0f} bead-steps/s wall, "
          f"{result['ml_bead_steps_per_s_cpu']:.0f} CPU (108 beads)", flush=True)  # fmt: skip
    if os.environ.get("CG_METHODS_ML_RATE_ONLY"):  # update the rates in the stored results
        old = json.loads(OUT.read_text()) if OUT.exists() else {}
        OUT.write_text(json.dumps({**old, **{k: v for k, v in result.items() if k != "scale"}},
                                  indent=2))  # fmt: skip
        print(f"updated the ML rates in {OUT}")
        return
    result["dimer"] = run_system(2, 0.3, 1.8)
    result["trimer"] = run_system(3, 0.25, None)
    result.update(python=sys.version.split()[0], machine=platform.machine(),
                  load_average_1min=os.getloadavg()[0])  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
