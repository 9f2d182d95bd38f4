"""Wall time of every example in ``examples/``: the scripts with their quick flags, the TOML studies
through ``python -m pnp run`` into a temporary folder.

Writes ``bench/results/examples.json``: ``{"examples": {name: seconds}, ...}`` with, per example,
the wall-clock seconds, the CPU seconds of the example's processes (children included: a run that
uses two processes on an idle 2-core machine takes about ``max(wall, cpu / 2)``), the exit status,
and the machine's 1-minute load average before and after (the machine is shared: compare wall
times only between runs at a similar load, and prefer the CPU times). An example that writes a
``summary.json`` with a ``timings`` table (``{stage: {"wall_s", "cpu_s"}}``, as
``hierarchy_chain.py`` does) has it copied into ``stages``, and an idle 2-core estimate
``idle_2core_estimate_s``: the CPU seconds of its stages, those run in n processes (``(n
process(es))`` in the name) divided by min(n, 2). ``over_a_minute`` lists the examples that need
more than 60 s on an idle 2-core machine (by that estimate, else by their CPU seconds: the CPU
time hardly depends on the load), ``over_a_minute_wall`` those whose measured wall time exceeded
60 s at the recorded load.

Run: ``python bench/examples.py [--only NAME ...] [--timeout SECONDS]`` (results are merged into
the file after every example, so ``--only`` refreshes some entries and keeps the others).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RESULTS = ROOT / "bench" / "results" / "examples.json"
#: Extra arguments of the scripts (their quick variants); ``{out}`` is the temporary folder.
SCRIPT_ARGS = {
    "hierarchy_chain.py": ["--quick", "--out", "{out}"],
    "cg_memory.py": ["--quick", "--out", "{out}"],
    "selectivity_paradox.py": ["{out}"],
    "bd_thresholds.py": ["--quick", "--out", "{out}"],
    "cg_database.py": ["--out", "{out}"],  # evaluates the shipped database (no quick variant)
}
#: A script not listed above runs with ``--quick --out {out}`` if its source mentions both
#: flags, else with no arguments.


def _command(path: Path, out: Path) -> list[str]:
    """The command that runs one example into ``out``."""
    if path.suffix == ".toml":
        return [sys.executable, "-m", "pnp", "run", str(path), "--out", str(out), "--no-progress"]
    default = []
    source = path.read_text(errors="replace")
    if '"--quick"' in source and '"--out"' in source:
        default = ["--quick", "--out", "{out}"]
    args = [a.format(out=out) for a in SCRIPT_ARGS.get(path.name, default)]
    return [sys.executable, str(path), *args]


def _processes(stage: str) -> float:
    """Processes (at most 2, the cores assumed) of a stage named "... (n process(es))"."""
    found = re.search(r"\((\d+) process", stage)
    return float(min(2, int(found.group(1)))) if found else 1.0


def _stages(out: Path) -> dict:
    """The example's own stage table (``summary.json`` -> ``timings``) and the idle estimate."""
    found = sorted(out.rglob("summary.json"))
    if not found:
        return {}
    try:
        timings = json.loads(found[0].read_text()).get("timings")
    except (OSError, ValueError):
        return {}
    if not isinstance(timings, dict):
        return {}
    stages = {k: v for k, v in timings.items() if k != "total" and "cpu_s" in v}
    top = {k: v for k, v in stages.items() if not v.get("detail")}  # details are inside stages
    idle = sum(v["cpu_s"] / _processes(k) for k, v in top.items())
    return {"stages": timings, "idle_2core_estimate_s": round(idle, 2)}


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def run_example(path: Path, timeout: float) -> dict:
    """Run one example in a fresh temporary folder (also its working directory); wall and CPU
    seconds, the status and, if it writes them, its stage timings."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{path.stem}-") as tmp:
        out = Path(tmp) / "out"
        out.mkdir()  # some scripts write into it without creating it
        cmd = _command(path, out)
        load = os.getloadavg()[0]
        cpu0, t0 = _children_cpu(), time.perf_counter()
        try:
            # run in the temporary folder: scripts that write to the working directory
            # (cg_methods.py's figures) must not litter the checkout
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout)
            status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
            tail = proc.stderr.strip().splitlines()[-3:] if proc.returncode else []
        except subprocess.TimeoutExpired:
            status, tail = f"timeout after {timeout:g} s", []
        wall = time.perf_counter() - t0
        cpu = _children_cpu() - cpu0
        stages = _stages(out)
    return {"command": " ".join(Path(c).name if c == sys.executable else c for c in cmd),
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "status": status,
            "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2),
            "error_tail": tail, **stages}  # fmt: skip


def _idle_seconds(entry: dict) -> float:
    """What the example needs on an idle 2-core machine, about: its idle estimate when it reports
    stages, else its CPU seconds (a one-process example runs at one core)."""
    return float(entry.get("idle_2core_estimate_s", entry["cpu_s"]))


def _save(details: dict) -> None:
    """Merge ``details`` into the results file (each example keeps its own date and load)."""
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged = {**old.get("details", {}), **details}
    result = {
        "examples": {k: v["wall_s"] for k, v in merged.items()},
        "cpu_seconds": {k: v["cpu_s"] for k, v in merged.items()},
        "over_a_minute": sorted(k for k, v in merged.items() if _idle_seconds(v) > 60.0),
        "over_a_minute_wall": sorted(k for k, v in merged.items() if v["wall_s"] > 60.0),
        "details": merged,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "load_average_1min_end": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="example file names to run, in this order")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per example")
    args = parser.parse_args(argv)
    paths = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".py", ".toml"))
    if args.only:
        by_name = {p.name: p for p in paths}
        paths = [by_name[n] for n in args.only if n in by_name]
    details = {}
    for path in paths:
        print(f"{path.name} ...", end=" ", flush=True)
        d = details[path.name] = run_example(path, args.timeout)
        d["date"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        print(f"{d['status']}: wall {d['wall_s']:.1f} s, cpu {d['cpu_s']:.1f} s "
              f"(load {d['load_before']:.1f} -> {d['load_after']:.1f})", flush=True)  # fmt: skip
        _save({path.name: d})  # after every example: an interrupted run keeps what it measured
    print(f"wrote {RESULTS}")
    return 0 if all(d["status"] == "ok" for d in details.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
