"""Speed of the stochastic level: Langevin/BD particle-steps per second and steady-flux evaluations.

Writes ``bench/results/stochastic_speed.json``. Single-threaded (the thread variables are set
before numpy is imported), 1e5 independent particles in a tabulated double-well PMF force
(vectorised numpy, SFC64 random streams), best of three repeats; the 1D BAOAB step is also timed
with the fused numba kernel (``backend="numba"``, same arithmetic and random numbers).
Target: >= 3e7 particle-steps/s for 1D Langevin.

Rates are per CPU-second of this single-threaded process (equal to wall-clock rates on an idle
core); the wall-clock rates are stored too (``*_wall_clock``) with the 1-minute load average.

Run: ``python bench/stochastic_speed.py [--quick]``.
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

from stochastic import langevin as lg  # noqa: E402
from stochastic import smoluchowski as sm  # noqa: E402
from stochastic.profiles import Profile, StochasticInputError  # noqa: E402

TEMPERATURE = 300.0
N_PARTICLES = 100_000
TARGET_1D = 3e7
RESULTS = Path(__file__).resolve().parent / "results" / "stochastic_speed.json"


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
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "threads": 1,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _measure(out: dict, key: str, fn, work: float, repeats: int = 3) -> None:
    """Store ``work`` per CPU-second (``out[key]``) and per wall-clock second
    (``out[key + "_wall_clock"]``) of ``fn``, best of ``repeats``.

    The process is single-threaded, so on an idle core both agree; on a shared machine the CPU
    time excludes the time other processes hold the core (the machine's load is recorded).
    """
    best_cpu = best_wall = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    out[key] = work / best_cpu
    out[key + "_wall_clock"] = work / best_wall


def bench_particles(steps: int) -> dict[str, float]:
    """Particle-steps per second for BAOAB 1D/3D and Euler-Maruyama BD 1D."""
    p = Profile.from_callables(
        lambda z: 4.0 * (z**2 - 1) ** 2, 1.0, z_range=(-2.5, 2.5), temperature=TEMPERATURE, n=1001
    )
    force = lg.profile_force(p)
    walls = lg.Walls(-2.5, 2.5, "reflecting", "reflecting")
    rng = lg.make_rng(1)  # SFC64
    out = {}
    integ = lg.baoab(force, mass=39.1, gamma=600.0, temperature=TEMPERATURE, dt=0.002, walls=walls)
    s = integ.init_fn(rng.normal(-1.0, 0.1, N_PARTICLES), rng)
    lg.run(integ, s, 10, rng)  # warm-up
    _measure(
        out,
        "langevin_particle_steps_per_s_1d",
        lambda: lg.run(integ, s, steps, rng),
        steps * N_PARTICLES,
    )
    try:
        integ_nb = lg.baoab(
            force,
            mass=39.1,
            gamma=600.0,
            temperature=TEMPERATURE,
            dt=0.002,
            walls=walls,
            backend="numba",
        )
        lg.run(integ_nb, s, 10, rng)  # compile / load from cache
        _measure(
            out,
            "langevin_particle_steps_per_s_1d_numba",
            lambda: lg.run(integ_nb, s, steps, rng),
            steps * N_PARTICLES,
        )
    except StochasticInputError:  # numba not installed
        out["langevin_particle_steps_per_s_1d_numba"] = float("nan")
    f3 = lg.axial_force(force, axis=2, radial_spring=200.0)
    integ3 = lg.baoab(f3, mass=39.1, gamma=600.0, temperature=TEMPERATURE, dt=0.002, walls=walls)
    s3 = integ3.init_fn(rng.normal(0.0, 0.1, (N_PARTICLES, 3)), rng)
    _measure(
        out,
        "langevin_particle_steps_per_s_3d",
        lambda: lg.run(integ3, s3, steps, rng),
        steps * N_PARTICLES,
    )
    bd = lg.brownian(force, gamma=600.0, temperature=TEMPERATURE, dt=0.05, walls=walls)
    sb = bd.init_fn(rng.normal(-1.0, 0.1, N_PARTICLES), rng)
    _measure(
        out, "bd_particle_steps_per_s_1d", lambda: lg.run(bd, sb, steps, rng), steps * N_PARTICLES
    )
    # the random numbers alone (the floor of a vectorised step)
    buf = np.empty(N_PARTICLES)
    _measure(
        out,
        "normal_variates_per_s",
        lambda: [rng.standard_normal(out=buf) for _ in range(steps)],
        steps * N_PARTICLES,
    )
    return out


def bench_steady_flux(evals: int) -> dict[str, float]:
    """Exact steady-flux evaluations per second on a 1e4-point profile (cubic, D(z), voltage)."""
    p = Profile.from_callables(
        lambda z: 5.0 * np.exp(-((z - 2.5) ** 2) / 0.5) - 3.0 * np.exp(-((z - 1.2) ** 2) / 0.1),
        lambda z: 1.0 + 0.3 * np.cos(z),
        z_range=(0.0, 5.0),
        temperature=TEMPERATURE,
        n=10_000,
    )
    sm.steady_flux(p, 150.0, 15.0, valence=1, voltage_mV=50.0)  # build the interpolants
    out: dict[str, float] = {}
    _measure(
        out,
        "steady_flux_evals_per_s",
        lambda: [sm.steady_flux(p, 150.0, 15.0, valence=1, voltage_mV=50.0) for _ in range(evals)],
        evals,
    )
    return out


def main(quick: bool = False) -> dict:
    """Run the benchmarks, print the table and write the JSON."""
    steps = 20 if quick else 200
    res = bench_particles(steps)
    res.update(bench_steady_flux(5 if quick else 50))
    res["target_langevin_1d"] = TARGET_1D
    res["langevin_1d_over_target"] = res["langevin_particle_steps_per_s_1d"] / TARGET_1D
    res["langevin_1d_numba_over_numpy"] = (
        res["langevin_particle_steps_per_s_1d_numba"] / res["langevin_particle_steps_per_s_1d"]
    )
    res["langevin_3d_over_1d"] = (
        res["langevin_particle_steps_per_s_3d"] / res["langevin_particle_steps_per_s_1d"]
    )
    res["n_particles"] = N_PARTICLES
    res["steps_per_measurement"] = steps
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
