"""Speed of the GCMC/BD channel model (stochastic.bd).

Writes ``bench/results/bd_channel.json``:

- ``ion_steps_per_s``: Ermak-McCammon ion-steps per CPU-second on one core, ~500 ions of 1 M KCl
  (exact all-pairs Coulomb + r^-9 cores, walls, constant field), the compiled step alone and the
  full cycle with the GCMC buffer moves (``ion_steps_per_s_with_gcmc``). Target >= 1e6.
- ``seconds_to_5pct_current``: wall-clock seconds for the current through a 1 nm pore (3 nm
  membrane, 1 M KCl, 100 mV) to reach a 5 % relative standard error, extrapolated from a shorter
  run with ``err ~ 1/sqrt(t)``.
- ``replica_speedup_2``: wall-clock time of two replicas run one after the other over the time
  of the same two replicas in two warm worker processes (``ReplicaPool``: started and warmed
  before the clock starts; ``replica_pool_startup_s`` is that start-up), and
  ``replica_speedup_2_fresh_pool`` with a new ``processes=2`` pool (start-up included).

Run: ``python bench/bd_channel.py [--quick]``.
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

from poreflux.species import salt  # noqa: E402
from stochastic.bd import (  # noqa: E402
    BDSimulation,
    BDSystem,
    ChannelGeometry,
    ExternalField,
    run_replicas,
    simulate,
)
from stochastic.bd import kernels as K  # noqa: E402
from stochastic.bd.replicas import ReplicaPool  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "bd_channel.json"
TARGET_ION_STEPS = 1e6


def machine_info() -> dict:
    """Where the numbers were measured."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def channel(bath_radius: float, bath_length: float, voltage_mV: float = 100.0) -> BDSystem:
    """1 nm pore through a 3 nm membrane, 1 M KCl."""
    g = ChannelGeometry(3.0, 1.0, bath_radius=bath_radius, bath_length=bath_length)
    return BDSystem(g, salt("KCl", 1000.0), field=ExternalField(voltage_mV=voltage_mV))


def bench_steps(n_cycles: int) -> dict:
    """Ion-steps per CPU-second of the compiled step and of the full cycle (~500 ions)."""
    sim = BDSimulation(channel(4.0, 5.3), 1)
    sim.equilibrate(0.05, calibrate=False)
    st, m = sim.state, sim.model
    steps = n_cycles * sim.gcmc_every
    noise = sim.rng.standard_normal((steps, st.n, 3))
    cross = np.zeros(2)
    c0 = time.process_time()
    K.advance_state(st, m, noise, cross)
    kernel = steps * st.n / (time.process_time() - c0)
    c0 = time.process_time()
    for _ in range(n_cycles):
        sim._cycle(None, None)
    full = steps * st.n / (time.process_time() - c0)
    return {"n_ions": int(st.n), "ion_steps_per_s": kernel, "ion_steps_per_s_with_gcmc": full}


def bench_current(time_ns: float) -> dict:
    """Wall-clock seconds to a 5 % relative standard error of the 100 mV current."""
    system = channel(2.5, 3.0)
    w0 = time.perf_counter()
    res = simulate(system, time_ns, seed=2, equilibration_ns=1.0, block_ns=0.5, progress=False)
    wall = time.perf_counter() - w0
    rel = res.total_current_err / abs(res.total_current_pA)
    per_ns = wall / (time_ns + 1.0)
    needed_ns = time_ns * (rel / 0.05) ** 2
    return {
        "current_pA": res.total_current_pA,
        "current_err_pA": res.total_current_err,
        "conductance_pS": res.conductance_pS,
        "current_run_ns": time_ns,
        "current_relative_error": rel,
        "wall_s_per_ns": per_ns,
        "ns_to_5pct_current": needed_ns,
        "seconds_to_5pct_current": needed_ns * per_ns + 1.0 * per_ns,
    }


def bench_replicas(time_ns: float) -> dict:
    """Two replicas in one process after another vs in two warm worker processes.

    Both sides are timed after start-up: the serial run after a warm-up in this process, the
    parallel one in a :class:`ReplicaPool` whose workers were started and warmed (imports,
    kernels loaded) before the clock starts. The pool's start-up is reported separately, and
    the speed-up of a fresh ``processes=2`` pool (start-up included) for reference.
    """
    system = channel(2.5, 3.0)
    kw = {"equilibration_ns": 0.1, "block_ns": 0.1, "progress": False}
    run_replicas(system, 1, 0.1, seed=1, processes=1, **kw)  # compile / warm caches
    w0 = time.perf_counter()
    run_replicas(system, 2, time_ns, seed=5, processes=1, **kw)
    serial = time.perf_counter() - w0
    w0 = time.perf_counter()
    with ReplicaPool(2, warm_with=system) as pool:
        startup = time.perf_counter() - w0
        w0 = time.perf_counter()
        run_replicas(system, 2, time_ns, seed=5, pool=pool, **kw)
        parallel = time.perf_counter() - w0
    w0 = time.perf_counter()
    run_replicas(system, 2, time_ns, seed=5, processes=2, **kw)
    fresh = time.perf_counter() - w0
    return {
        "replica_serial_s": serial,
        "replica_parallel_s": parallel,
        "replica_speedup_2": serial / parallel,
        "replica_pool_startup_s": startup,
        "replica_fresh_pool_s": fresh,
        "replica_speedup_2_fresh_pool": serial / fresh,
    }


def main(quick: bool = False) -> dict:
    """Run the benchmarks, print the table and write the JSON."""
    res = bench_steps(20 if quick else 200)
    res.update(bench_current(2.0 if quick else 20.0))
    res.update(bench_replicas(0.5 if quick else 4.0))
    res["target_ion_steps_per_s"] = TARGET_ION_STEPS
    res["machine"] = machine_info()
    print(f"{'quantity':<34}{'value':>14}")
    for key, val in res.items():
        if isinstance(val, float | int) and not isinstance(val, bool):
            print(f"{key:<34}{val:>14.4g}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return res


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
