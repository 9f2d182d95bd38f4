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
  before the clock starts; ``replica_pool_startup_s`` is that start-up), serial and parallel
  alternated (median of the rounds' ratios; each round with the load average and the CPU
  seconds and core share of each worker); ``replica_speedup_2_cpu`` = serial CPU seconds over
  the larger worker's CPU seconds (the speed-up two free cores would give);
  ``replica_speedup_2_fresh_pool`` with a new ``processes=2`` pool (start-up included).

Run ``--replicas-only`` to re-measure only the speed-up (keeps the other numbers of the JSON).

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
from stochastic.bd.replicas import ReplicaPool, replica_seeds  # noqa: E402

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


def _serial(system: BDSystem, time_ns: float, kw: dict) -> tuple[float, float]:
    """Wall and CPU seconds of two replicas one after the other in this process."""
    w0, c0 = time.perf_counter(), time.process_time()
    run_replicas(system, 2, time_ns, seed=5, processes=1, **kw)
    return time.perf_counter() - w0, time.process_time() - c0


def bench_replicas(time_ns: float, rounds: int = 2) -> dict:
    """Two replicas in one process after another vs in two warm worker processes, alternated.

    Both sides are timed after start-up: the serial run after a warm-up in this process, the
    parallel one in a :class:`ReplicaPool` whose workers were started and warmed (imports,
    kernels loaded) before the clock starts. Serial and parallel runs alternate ``rounds``
    times (the machine's load drifts); each round gives a ratio. The CPU seconds each worker
    spent on its replica are recorded: ``cpu/wall`` per worker is the share of a core it got,
    and ``serial CPU / max worker wall`` is the speed-up the work itself allows. The pool's
    start-up is reported separately, and the speed-up of a fresh ``processes=2`` pool
    (start-up included) for reference.
    """
    system = channel(2.5, 3.0)
    kw = {"equilibration_ns": 0.1, "block_ns": 0.1, "progress": False}
    run_replicas(system, 1, 0.1, seed=1, processes=1, **kw)  # compile / warm caches
    out: dict = {"replica_rounds": []}
    w0 = time.perf_counter()
    with ReplicaPool(2, warm_with=system) as pool:
        out["replica_pool_startup_s"] = time.perf_counter() - w0
        jobs = [(system, time_ns, s, None, kw) for s in replica_seeds(5, 2)]
        for _ in range(rounds):
            serial, serial_cpu = _serial(system, time_ns, kw)
            w0 = time.perf_counter()
            _, cpu, wall = pool.map_timed(jobs)
            parallel = time.perf_counter() - w0
            out["replica_rounds"].append({
                "serial_s": serial, "serial_cpu_s": serial_cpu, "parallel_s": parallel,
                "worker_cpu_s": cpu, "worker_wall_s": wall, "speedup": serial / parallel,
                "worker_core_share": [c / w for c, w in zip(cpu, wall, strict=True)],
                "load_average_1min": os.getloadavg()[0],
            })  # fmt: skip
    r = out["replica_rounds"]
    out["replica_serial_s"] = min(x["serial_s"] for x in r)
    out["replica_parallel_s"] = min(x["parallel_s"] for x in r)
    out["replica_speedup_2"] = float(np.median([x["speedup"] for x in r]))
    out["replica_speedup_2_cpu"] = float(
        np.median([x["serial_cpu_s"] / max(x["worker_cpu_s"]) for x in r])
    )
    w0 = time.perf_counter()
    run_replicas(system, 2, time_ns, seed=5, processes=2, **kw)
    out["replica_fresh_pool_s"] = time.perf_counter() - w0
    out["replica_speedup_2_fresh_pool"] = out["replica_serial_s"] / out["replica_fresh_pool_s"]
    return out


def main(quick: bool = False, replicas_only: bool = False) -> dict:
    """Run the benchmarks, print the table and write the JSON."""
    if replicas_only:
        res = json.loads(RESULTS.read_text())
    else:
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
    main(quick="--quick" in sys.argv, replicas_only="--replicas-only" in sys.argv)
