"""Mobility-preserving CG database: generation throughput, MPI speed-up, training, held-out figures.

* ``entries_per_hour``: CG entries of the shipped database per hour of generation on 2 cores,
  from the wall times recorded in the file (all-atom reference + IBI of each model, and each CG
  entry) divided over two ranks: ``n_entries / (sum of unit wall times / 2)``.
* ``mpi_speedup_2``: a fresh small database (``ci_settings``, ``N_MODELS`` models) generated
  with 1 rank and with 2 ranks under ``mpiexec``, alternately ``REPEATS`` times; ratio of the
  shortest wall times of the whole command (the machine is shared: the ratio is only
  meaningful when it is otherwise idle; the load average before each run is reported).
  The generator's own timings split it: ``startup`` (process start, imports, numba cache
  loading: the command's wall time minus ``generate``'s), the units' busy seconds per rank
  (``imbalance`` = max / mean) and the shard ``merge``; ``generation_speedup_2`` is the ratio
  of ``generate``'s wall times (no process start-up).
* ``train_seconds`` and the held-out figures (``d_ratio_pred``, ``d_ratio_ibi``,
  ``rdf_rms_pred``, ``rdf_rms_ibi``): :func:`stochastic.cg.database.evaluation.evaluate_database`
  on the shipped database (8 independent seeds per CG model and liquid; ``per_molecule`` holds
  each run's D, the ratios with their standard errors, the novelty and the expected D error
  of the prediction).

Writes ``bench/results/cg_database.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json
import platform
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from stochastic.cg.database.evaluation import evaluate_database
from stochastic.cg.database.storage import Database

OUT = Path(__file__).resolve().parent / "results" / "cg_database.json"
N_MODELS = int(os.environ.get("CG_DB_BENCH_MODELS", "8"))
REPEATS = int(os.environ.get("CG_DB_BENCH_REPEATS", "2"))
SHIPPED = Path(str(resources.files("stochastic.cg") / "data" / "cg_mobility_db.h5"))


def _generate(path: Path, ranks: int) -> dict:
    """One generation command (niced); its wall time, load average and generator stats."""
    cmd = ["nice", sys.executable, "-m", "stochastic.cg.database", "generate", str(path),
           "--models", str(N_MODELS), "--small", "--seed", "3"]  # fmt: skip
    if ranks > 1:
        mpiexec = Path(sys.executable).parent / "mpiexec"
        cmd = ["nice", str(mpiexec), "-n", str(ranks), *cmd[1:], "--mpi"]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    stats = json.loads(next(ln for ln in out.splitlines() if ln.startswith("stats "))[6:])
    busy = stats["busy_seconds"]
    return {"ranks": ranks, "wall": wall, "load": load, "generate": stats["wall_seconds"],
            "startup": wall - stats["wall_seconds"], "merge": stats["merge_seconds"],
            "units": stats["units"], "busy": busy, "cpu": stats["cpu_seconds"],
            "imbalance": max(busy) / (sum(busy) / len(busy))}  # fmt: skip


def mpi_speedup(tmp: Path) -> dict[str, object]:
    """1 and 2 ranks alternately; ratios of the shortest runs; the rank results agree."""
    runs = []
    for k in range(REPEATS):
        runs.append(_generate(tmp / f"one{k}.h5", 1))
        runs.append(_generate(tmp / f"two{k}.h5", 2))
    one = min((r for r in runs if r["ranks"] == 1), key=lambda r: r["wall"])
    two = min((r for r in runs if r["ranks"] == 2), key=lambda r: r["wall"])
    same = Database.open(tmp / "one0.h5").training_arrays()
    other = Database.open(tmp / "two0.h5").training_arrays()
    identical = all((same[k] == other[k]).all() for k in ("g", "u", "d", "mass", "rough"))
    return {"mpi_models": N_MODELS, "serial_seconds": one["wall"], "mpi2_seconds": two["wall"],
            "mpi_speedup_2": one["wall"] / two["wall"],
            "generation_speedup_2": one["generate"] / two["generate"],
            "mpi_runs": runs, "mpi_identical_to_serial": bool(identical)}  # fmt: skip


def throughput(db: Database) -> dict[str, float]:
    """Entries per hour on 2 cores from the recorded wall times."""
    total = 0.0
    for group in ("models", "entries"):
        for key in db.keys(group):
            total += float(db.read(group, key)[0]["wall_time"])
    n = len(db.keys("entries"))
    return {"entries": n, "cpu_seconds": total, "entries_per_hour": n / (total / 2.0) * 3600}


def _write(out: dict) -> None:
    """Merge into the results file (a partial run keeps the other figures)."""
    out["load_average_end"] = os.getloadavg()
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(old | out, indent=2, default=float))


def main() -> None:
    out: dict[str, object] = {"python": platform.python_version(), "machine": platform.node(),
                              "load_average_start": os.getloadavg()}  # fmt: skip
    db = Database.open(SHIPPED)
    out |= throughput(db)
    if os.environ.get("CG_DB_BENCH_SKIP_MPI") != "1":
        with tempfile.TemporaryDirectory() as tmp:
            out |= mpi_speedup(Path(tmp))
    if os.environ.get("CG_DB_BENCH_SKIP_EVAL") == "1":
        _write(out)
        return
    report = evaluate_database(SHIPPED, seed=0)
    out |= report.summary()
    _write(out)
    print(report.table())
    print(json.dumps({k: out.get(k) for k in ("entries_per_hour", "mpi_speedup_2", "train_seconds",
                                          "d_ratio_pred", "d_ratio_ibi", "rdf_rms_pred",
                                          "rdf_rms_ibi")}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
