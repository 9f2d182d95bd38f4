"""Speed of the non-Markovian level: GLE particle-steps per second and Volterra kernel inversion.

Writes ``bench/results/gle_speed.json``. Single-threaded (thread variables set before numpy is
imported). Quantities:

- ``gle_particle_steps_per_s``: 1D GLE (:func:`stochastic.memory.gle`) of 1e5 independent
  particles in a tabulated double-well force with a four-exponential kernel (four auxiliary
  variables per particle: a 5x5 exact Ornstein-Uhlenbeck update and five normal variates per
  particle-step, one fused numba loop), best of three. Target >= 1e7 on one core.
- ``volterra_seconds``: the velocity autocorrelation (FFT) of 1e6 velocity samples (100 series of
  1e4 steps from a GLE run) plus its Volterra inversion into a 2000-point kernel
  (:func:`stochastic.memory.kernel_from_vacf`), best of three. Target <= 2 s.

Rates are per CPU-second of this process (equal to wall-clock rates on an idle core); wall-clock
values are stored too (``*_wall_clock``) with the machine's 1-minute load average.

Run: ``python bench/gle_speed.py [--quick]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402

from stochastic.forces import TabulatedForce  # noqa: E402
from stochastic.langevin import make_rng  # noqa: E402
from stochastic.memory import (  # noqa: E402
    ExponentialKernel,
    autocorrelation,
    gle,
    kernel_from_vacf,
    run_gle,
)

TEMPERATURE = 300.0
MASS = 39.1
N_PARTICLES = 100_000
TARGET_STEPS = 1e7
TARGET_VOLTERRA_S = 2.0
RESULTS = Path(__file__).resolve().parent / "results" / "gle_speed.json"
KERNEL = ExponentialKernel([4000.0, 2000.0, 800.0, 200.0], [0.01, 0.05, 0.2, 1.0])


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    """Where the numbers were measured."""
    import numba

    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
        "threads": 1,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _best(fn, repeats: int = 3) -> tuple[float, float]:
    """Best CPU and wall-clock seconds of ``fn`` over ``repeats`` calls."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_cpu, best_wall


def _double_well() -> TabulatedForce:
    z = np.linspace(-2.5, 2.5, 4001)
    return TabulatedForce(z[0], z[1] - z[0], -16.0 * z * (z * z - 1.0), 200.0)


def bench_gle(steps: int) -> dict[str, float]:
    """Particle-steps per second of the fused 1D GLE step (and of its normal variates alone)."""
    integ = gle(_double_well(), mass=MASS, temperature=TEMPERATURE, dt=0.002, kernel=KERNEL)
    rng = make_rng(1)
    s = integ.init_state(rng.normal(-1.0, 0.1, N_PARTICLES), rng)
    run_gle(integ, s, 5, rng)  # compile / load from cache
    cpu, wall = _best(lambda: run_gle(integ, s, steps, rng))
    xi = np.empty((N_PARTICLES, 1 + integ.n_aux))
    cpu_n, _ = _best(lambda: [rng.standard_normal(out=xi) for _ in range(steps)])
    work = steps * N_PARTICLES
    return {
        "gle_particle_steps_per_s": work / cpu,
        "gle_particle_steps_per_s_wall_clock": work / wall,
        "gle_n_aux": float(integ.n_aux),
        "gle_normals_only_particle_steps_per_s": work / cpu_n,
    }


def bench_volterra(n_series: int = 100, n_steps: int = 10_000, n_lags: int = 2000) -> dict:
    """VACF of n_series x n_steps samples + inversion into an n_lags-point kernel."""
    free = TabulatedForce(-1e3, 1e3, np.zeros(3), 0.0)
    integ = gle(free, mass=MASS, temperature=TEMPERATURE, dt=0.002, kernel=KERNEL)
    s = integ.init_state(np.zeros(n_series), 2)
    _, tr = run_gle(integ, s, n_steps, 3, record_every=1)
    t = np.arange(n_lags) * 0.002

    def invert():
        c = autocorrelation(tr.v, n_lags - 1)
        return kernel_from_vacf(t, c, MASS, TEMPERATURE)

    k = invert()
    cpu, wall = _best(invert)
    return {
        "volterra_seconds": cpu,
        "volterra_seconds_wall_clock": wall,
        "volterra_samples": float(tr.v.size),
        "volterra_kernel_points": float(n_lags),
        "volterra_integral_over_exact": k.integral / KERNEL.integral,
    }


def main(quick: bool = False) -> dict:
    """Run the benchmarks, print the table and write the JSON."""
    res = bench_gle(10 if quick else 100)
    res.update(bench_volterra(n_steps=2000 if quick else 10_000))
    res["target_gle_particle_steps_per_s"] = TARGET_STEPS
    res["gle_over_target"] = res["gle_particle_steps_per_s"] / TARGET_STEPS
    res["target_volterra_seconds"] = TARGET_VOLTERRA_S
    res["n_particles"] = N_PARTICLES
    res["quick"] = quick
    res["machine"] = machine_info()
    print(f"{'quantity':<48}{'value':>12}")
    for key, val in res.items():
        if isinstance(val, float):
            print(f"{key:<48}{val:>12.4g}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return res


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
