"""Mobility-preserving CG database: generation throughput, MPI speed-up, training, held-out figures.

* ``entries_per_hour``: CG entries of the shipped database per hour of generation on 2 cores,
  from the wall times recorded in the file (all-atom reference + IBI of each model, and each CG
  entry) divided over two ranks: ``n_entries / (sum of unit wall times / 2)``.
* ``mpi_speedup_2``: a fresh small database (``ci_settings``, ``N_MODELS`` models) generated
  with 1 rank and with 2 ranks under ``mpiexec``, alternately ``REPEATS`` times; ratio of the
  shortest wall times (the machine is shared: the ratio is only meaningful when it is
  otherwise idle; the load average is reported).
* ``train_seconds`` and the held-out figures (``d_ratio_pred``, ``d_ratio_ibi``,
  ``rdf_rms_pred``, ``rdf_rms_ibi``): :func:`stochastic.cg.database.evaluation.evaluate_database`
  on the shipped database.

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
N_MODELS = int(os.environ.get("CG_DB_BENCH_MODELS", "4"))
REPEATS = int(os.environ.get("CG_DB_BENCH_REPEATS", "2"))
SHIPPED = Path(str(resources.files("stochastic.cg") / "data" / "cg_mobility_db.h5"))


def _generate(path: Path, ranks: int) -> float:
    cmd = [sys.executable, "-m", "stochastic.cg.database", "generate", str(path), "--models",
           str(N_MODELS), "--small", "--seed", "3"]  # fmt: skip
    if ranks > 1:
        mpiexec = Path(sys.executable).parent / "mpiexec"
        cmd = [str(mpiexec), "-n", str(ranks), *cmd, "--mpi"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def throughput(db: Database) -> dict[str, float]:
    """Entries per hour on 2 cores from the recorded wall times."""
    total = 0.0
    for group in ("models", "entries"):
        for key in db.keys(group):
            total += float(db.read(group, key)[0]["wall_time"])
    n = len(db.keys("entries"))
    return {"entries": n, "cpu_seconds": total, "entries_per_hour": n / (total / 2.0) * 3600}


def main() -> None:
    out: dict[str, object] = {"python": platform.python_version(), "machine": platform.node(),
                              "load_average_start": os.getloadavg()}  # fmt: skip
    db = Database.open(SHIPPED)
    out |= throughput(db)
    with tempfile.TemporaryDirectory() as tmp:
        t1, t2 = float("inf"), float("inf")
        for k in range(REPEATS):
            t1 = min(t1, _generate(Path(tmp) / f"one{k}.h5", 1))
            t2 = min(t2, _generate(Path(tmp) / f"two{k}.h5", 2))
        same = Database.open(Path(tmp) / "one0.h5").training_arrays()
        other = Database.open(Path(tmp) / "two0.h5").training_arrays()
        identical = all((same[k] == other[k]).all() for k in ("g", "u", "d", "mass"))
    out |= {"mpi_models": N_MODELS, "serial_seconds": t1, "mpi2_seconds": t2,
            "mpi_speedup_2": t1 / t2, "mpi_identical_to_serial": bool(identical)}  # fmt: skip
    report = evaluate_database(SHIPPED, seed=0)
    out |= report.summary()
    out["load_average_end"] = os.getloadavg()
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2, default=float))
    print(report.table())
    print(json.dumps({k: out[k] for k in ("entries_per_hour", "mpi_speedup_2", "train_seconds",
                                          "d_ratio_pred", "d_ratio_ibi", "rdf_rms_pred",
                                          "rdf_rms_ibi")}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
