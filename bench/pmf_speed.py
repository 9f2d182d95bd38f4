"""WHAM and MBAR speed and memory against pymbar on umbrella data of a 1D double well.

Cases (issue 7): K = 50 windows x N = 2e4 samples and K = 200 x 5e3 (1e6 samples each), exact
independent samples of U = 5 ((x/x0)^2 - 1)^2 kT in harmonic windows on [-1.8, 1.8] x0 whose
spring constant makes the window width about the window spacing. Every measurement runs in a
fresh subprocess: wall time, tracemalloc peak (numpy allocations included) and the process's
peak resident memory. pymbar (if installed) is timed on the same data including the construction
of its dense u_kn matrix, which it needs and we do not; its PMF is the same histogram FES.

Writes bench/results/pmf_speed.json and prints a table.
Usage: python bench/pmf_speed.py [--quick]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "pmf_speed.json"
CASES = {"K50xN2e4": (50, 20_000), "K200xN5e3": (200, 5_000)}
QUICK = {"K50xN2e4": (50, 2_000), "K200xN5e3": (200, 500)}
#: Bin width 0.005 x0: kappa h^2 < 0.1 for the stiffest windows (K = 200): binned WHAM unbiased.
BINS, RANGE = 600, (-1.5, 1.5)
#: pymbar's peak memory per entry of u_kn, measured: 2330 MiB for K x N = 2e7 (~122 bytes).
PYMBAR_BYTES_PER_ENTRY = 122
#: BLAS threads for every worker (ours and pymbar alike): on a shared 2-core machine threaded BLAS
#: oversubscribes the cores and times become meaningless.
THREADS = 1
#: Wall-clock limit of one measurement.
TIMEOUT_S = 900


def make_data(k: int, n: int):
    from stochastic.pmf import InverseCDFSampler, UmbrellaData, evenly_spaced_windows

    spacing = 3.6 / (k - 1)
    windows = evenly_spaced_windows(-1.8, 1.8, k, kappa=1.0 / spacing**2)
    sampler = InverseCDFSampler(lambda x: 5.0 * (x * x - 1.0) ** 2, -3.0, 3.0)
    rng = np.random.default_rng(12345)
    return UmbrellaData(windows, [sampler(w, n, rng) for w in windows])


def run_ours(data, method: str):
    from stochastic.pmf import mbar, wham

    if method == "wham":
        r = wham(data, BINS, RANGE, check=False)
    elif method == "mbar":
        r = mbar(data, BINS, RANGE, uncertainty=None, check=False)
    else:  # mbar with the analytic covariance of f_k and of the PMF
        r = mbar(data, BINS, RANGE, uncertainty="analytic", check=False)
    return r.pmf, r.f_k


def run_pymbar(data, method: str):
    import logging

    logging.disable(logging.WARNING)
    import pymbar

    x = np.concatenate(data.samples)
    u_kn = data.windows.reduced_bias(x)
    n_k = data.counts
    mb = pymbar.MBAR(u_kn, n_k)
    fes = pymbar.FES(u_kn, n_k, mbar_options={"initial_f_k": mb.f_k})
    edges = np.linspace(*RANGE, BINS + 1)
    fes.generate_fes(
        np.zeros(x.size), x, fes_type="histogram", histogram_parameters={"bin_edges": edges}
    )
    centers = 0.5 * (edges[1:] + edges[:-1])
    unc = "analytical" if method == "pymbar+sigma" else None
    res = fes.get_fes(centers, reference_point="from-lowest", uncertainty_method=unc)
    return np.asarray(res["f_i"]), mb.f_k


def worker(case: str, method: str, quick: bool) -> None:
    k, n = (QUICK if quick else CASES)[case]
    data = make_data(k, n)
    fn = run_pymbar if method.startswith("pymbar") else run_ours
    tracemalloc.start()
    t0 = time.perf_counter()
    pmf, f_k = fn(data, method)
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # MiB (Linux: KiB)
    np.savez(Path(sys.argv[-1]), pmf=pmf, f_k=f_k)
    print(json.dumps({"wall_s": wall, "tracemalloc_peak_MiB": peak / 2**20, "peak_rss_MiB": rss}))


def mem_available() -> float:
    """MemAvailable from /proc/meminfo in bytes (inf if unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return float("inf")


def measure(case: str, method: str, quick: bool, tmp: Path) -> dict:
    k, n = (QUICK if quick else CASES)[case]
    if method.startswith("pymbar"):
        need = PYMBAR_BYTES_PER_ENTRY * k * k * n
        if need > 0.5 * mem_available():
            return {
                "error": f"skipped: pymbar would need ~{need / 2**30:.0f} GiB (dense u_kn and "
                f"its temporaries), more than half of the {mem_available() / 2**30:.0f} GiB free"
            }
    out = tmp / f"{case}_{method}.npz"
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        case,
        method,
        "--quick" if quick else "--full",
        str(out),
    ]
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(THREADS)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {TIMEOUT_S} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    with np.load(out) as z:
        rec["pmf"], rec["f_k"] = z["pmf"], z["f_k"]
    return rec


def rms_aligned(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    d -= d.mean()
    return float(np.sqrt(np.mean(d * d)))


def main() -> None:
    import tempfile

    quick = "--quick" in sys.argv
    try:
        import pymbar

        pymbar_version = pymbar.__version__
    except ImportError:
        pymbar_version = None
    methods = ["wham", "mbar", "mbar+sigma"]
    if pymbar_version:
        methods += ["pymbar", "pymbar+sigma"]
    results: dict = {
        "pymbar_version": pymbar_version,
        "bins": BINS,
        "range": RANGE,
        "quick": quick,
        "blas_threads": THREADS,
        "cases": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for case, (k, n) in (QUICK if quick else CASES).items():
            recs = {m: measure(case, m, quick, Path(tmp)) for m in methods}
            row: dict = {"K": k, "N_per_window": n}
            for m, r in recs.items():
                row[m] = {
                    key: r[key]
                    for key in ("wall_s", "tracemalloc_peak_MiB", "peak_rss_MiB")
                    if key in r
                } or r
            ours = recs["mbar"]
            if "pmf" in recs["wham"] and "pmf" in ours:
                row["rms_wham_vs_mbar_kT"] = rms_aligned(recs["wham"]["pmf"], ours["pmf"])
            if pymbar_version and "pmf" in recs.get("pymbar", {}):
                row["rms_mbar_vs_pymbar_kT"] = rms_aligned(ours["pmf"], recs["pymbar"]["pmf"])
                row["max_abs_f_k_diff_vs_pymbar_kT"] = float(
                    np.max(np.abs(ours["f_k"] - recs["pymbar"]["f_k"]))
                )
                row["time_ratio_mbar_over_pymbar"] = ours["wall_s"] / recs["pymbar"]["wall_s"]
                if "wall_s" in recs["pymbar+sigma"] and "wall_s" in recs["mbar+sigma"]:
                    row["time_ratio_mbar_sigma_over_pymbar_sigma"] = (
                        recs["mbar+sigma"]["wall_s"] / recs["pymbar+sigma"]["wall_s"]
                    )
            results["cases"][case] = row
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))
    print(
        f"{'case':<11} {'method':<13} {'wall [s]':>9} {'tracemalloc [MiB]':>18} "
        f"{'peak RSS [MiB]':>15}"
    )
    for case, row in results["cases"].items():
        for m in methods:
            r = row[m]
            if "wall_s" in r:
                print(
                    f"{case:<11} {m:<13} {r['wall_s']:9.2f} {r['tracemalloc_peak_MiB']:18.1f} "
                    f"{r['peak_rss_MiB']:15.1f}"
                )
            else:
                print(f"{case:<11} {m:<13} {r}")
        for key in (
            "rms_wham_vs_mbar_kT",
            "rms_mbar_vs_pymbar_kT",
            "max_abs_f_k_diff_vs_pymbar_kT",
            "time_ratio_mbar_over_pymbar",
            "time_ratio_mbar_sigma_over_pymbar_sigma",
        ):
            if key in row:
                print(f"{case:<11} {key}: {row[key]:.3g}")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4] == "--quick")
    else:
        main()
