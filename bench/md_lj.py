"""Particle-MD throughput: LAMMPS's ``in.lj`` side by side, and a salt solution with Ewald/PME.

1. The LAMMPS ``bench/in.lj`` system: 32,000 atoms, fcc at rho* = 0.8442, T* = 1.44 start
   (velocity seed 87287), LJ cut at 2.5 sigma, skin 0.3 sigma, NVE velocity Verlet at
   dt* = 0.005, 1000 steps. E_pair at step 0 must be -6.7733681 per atom. Each measurement is
   a fresh process (``--child``): ``whole_process_s`` is its wall time seen from outside,
   ``setup_s`` its time from the start of the script to the first step (imports, JIT from the
   numba cache, system, first neighbour list and forces; split by phase in ``setup_phases_s``
   and, from the process CPU time, ``setup_phases_cpu_s``), ``atom_steps_per_s_loop`` the rate
   of the 1000-step loop (neighbour-list rebuilds included), ``..._cpu`` the same from the
   process CPU time (LAMMPS: loop time x its "% CPU use"), which a loaded machine distorts
   less than wall time. Runs alternate poreflux on one thread, LAMMPS (``lmp``, one MPI rank,
   ``OMP_NUM_THREADS=1``; skipped when not installed) and poreflux on two threads
   (``NUMBA_NUM_THREADS=2 POREFLUX_MD_THREADS=1``), for ``--rounds`` rounds; the best run of each
   is kept and every run is listed. LAMMPS is never a dependency of poreflux.
   LAMMPS rebuilds its list every 20 steps without a check (``neigh_modify delay 0 every 20
   check no``, as in its benchmark); poreflux rebuilds when a particle has moved skin/2.
2. ``--salt``: a 4,000-particle salt solution (1 M NaCl-like ions in LJ solvent beads, cubic
   box of 5 nm), Coulomb by Ewald summation and by smooth PME, Langevin NVT at 300 K. Both use
   a real-space cutoff of 1.0 nm with ``alpha`` from ``tolerance=1e-5``; Ewald's k-space
   cutoff follows the same tolerance, while the PME grid is set by ``grid_spacing=0.12`` nm
   (order 4), which overrides the tolerance-chosen grid: the JSON records both grids and the
   estimated RMS force errors of each (``pme.PME.real_space_error``, ``reciprocal_error``).

Writes (merges into) ``bench/results/md_lj.json``. Usage::

    python bench/md_lj.py [--rounds 3] [--salt]
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "md_lj.json"
STEPS = 1000

#: LAMMPS's bench/in.lj (its standard benchmark input), run for STEPS steps.
IN_LJ = """# 3d Lennard-Jones melt
units           lj
atom_style      atomic
lattice         fcc 0.8442
region          box block 0 20 0 20 0 20
create_box      1 box
create_atoms    1 box
mass            1 1.0
velocity        all create 1.44 87287 loop geom
pair_style      lj/cut 2.5
pair_coeff      1 1 1.0 1.0 2.5
neighbor        0.3 bin
neigh_modify    delay 0 every 20 check no
fix             1 all nve
thermo          100
run             {steps}
"""


class _JitClock:
    """Wall time spent inside numba's compiler lock (cached-kernel loads and any compile).

    A numba event listener on ``numba:compiler_lock`` (nested acquisitions counted once): in a
    process with a warm cache this is the JIT cache load, the first one including numba's
    one-off target initialisation (its registries, and scipy.linalg for its BLAS check).
    """

    def __init__(self) -> None:
        from numba.core import event

        clock = self

        class _Listener(event.Listener):
            def on_start(self, ev) -> None:
                clock.depth += 1
                if clock.depth == 1:
                    clock.t_enter = time.perf_counter()

            def on_end(self, ev) -> None:
                clock.depth -= 1
                if clock.depth == 0:
                    clock.loads.append(time.perf_counter() - clock.t_enter)

        self.depth, self.t_enter, self.loads = 0, 0.0, []
        event.register("numba:compiler_lock", _Listener())


def _kernel_stats() -> dict:
    """Compiled or cache-loaded numba kernels of the MD modules (hits, misses)."""
    import numba

    from stochastic.md import cell_kernels, kernels

    loaded, hits, misses = [], 0, 0
    for mod in (cell_kernels, kernels):
        for name, obj in vars(mod).items():
            if isinstance(obj, numba.core.registry.CPUDispatcher) and obj.overloads:
                loaded.append(f"{mod.__name__.rsplit('.', 1)[-1]}.{name}")
                hits += sum(obj.stats.cache_hits.values())
                misses += sum(obj.stats.cache_misses.values())
    return {"kernels": loaded, "cache_hits": hits, "cache_misses": misses}


def floor_child() -> None:
    """The least a numba program pays before its first step: one trivial cached kernel.

    Imports numpy and numba and calls one ``njit(cache=True)`` function whose machine code is in
    the cache; prints the wall and CPU time from the script start. Numba initialises its
    compiler target on the first cached load whatever the kernel, so no numba code can start
    faster than this.
    """
    import numpy as np

    t_numpy = time.perf_counter() - _T_START
    import numba

    t_numba = time.perf_counter() - _T_START

    @numba.njit(cache=True)
    def total(a):
        s = 0.0
        for i in range(a.shape[0]):
            s += a[i]
        return s

    total(np.ones(4))
    print(json.dumps({
        "floor_s": time.perf_counter() - _T_START, "floor_cpu_s": time.process_time(),
        "to_numpy_s": t_numpy, "to_numba_s": t_numba,
    }))  # fmt: skip


def child(steps: int) -> None:
    """Run the in.lj system in this process and print one JSON line of timings.

    ``setup_phases_s`` splits ``setup_s`` (wall time from the script start): interpreter and
    script to the first import (``script``), ``numpy``, ``numba`` (its import),
    ``stochastic_md`` (the modules this run uses), ``system`` (lattice, velocities, force field
    objects), ``first_forces`` (first neighbour list and forces), of which ``jit_load`` is the
    time in numba's compiler lock (``jit_first_load_s`` the first, with numba's target set-up).
    """
    phases: dict[str, float] = {"script": time.perf_counter() - _T_START}
    cpu_phases: dict[str, float] = {"interpreter_and_script": time.process_time()}
    mark = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        now, cnow = time.perf_counter(), time.process_time()
        phases[name], cpu_phases[name] = now - mark[0], cnow - mark[1]
        mark[:] = [now, cnow]

    import numpy  # noqa: F401

    lap("numpy")
    import numba

    lap("numba")
    from stochastic.md.forcefield import ForceField
    from stochastic.md.init import fcc_lattice, maxwell_boltzmann
    from stochastic.md.integrators import VelocityVerlet
    from stochastic.md.lj import LennardJones
    from stochastic.md.simulation import Simulation
    from stochastic.md.system import ParticleType, System, reduced_temperature_to_kelvin

    lap("stochastic_md")
    jit = _JitClock()
    pos, box = fcc_lattice(20, 0.8442)
    system = System.from_counts([ParticleType("LJ", 1.0, 0.0, 1.0, 1.0)], [len(pos)], box)
    v = maxwell_boltzmann(system.masses, reduced_temperature_to_kelvin(1.44), seed=87287)
    ff = ForceField(system, [LennardJones(system, 2.5)], skin=0.3)
    lap("system")
    sim = Simulation(ff, VelocityVerlet(0.005), pos, v)
    lap("first_forces")
    setup_loads = list(jit.loads)
    phases["jit_load"] = sum(setup_loads)
    before = _kernel_stats()
    e0 = sim.result.energies["lj"] / len(pos)
    etot0 = sim.kinetic_energy() + sim.potential_energy()
    t0 = time.perf_counter()
    c0 = time.process_time()
    setup = t0 - _T_START
    sim.run(steps)
    loop = time.perf_counter() - t0
    cpu = time.process_time() - c0
    etot = sim.kinetic_energy() + sim.potential_energy()
    after = _kernel_stats()
    print(json.dumps({
        "setup_s": setup, "setup_cpu_s": c0, "setup_phases_s": phases,
        "setup_phases_cpu_s": cpu_phases,
        "jit_first_load_s": setup_loads[0] if setup_loads else 0.0, "jit_loads_s": setup_loads,
        "kernels_before_first_step": before["kernels"],
        "kernels_loaded_in_loop": [k for k in after["kernels"] if k not in before["kernels"]],
        "jit_load_in_loop_s": sum(jit.loads) - phases["jit_load"],
        "jit_cache_hits": after["cache_hits"], "jit_cache_misses": after["cache_misses"],
        "loop_s": loop, "atom_steps_per_s_loop": len(pos) * steps / loop,
        "loop_cpu_s": cpu, "atom_steps_per_s_loop_cpu": len(pos) * steps / cpu,
        "epair_step0_per_atom": e0, "epair_final_per_atom": sim.result.energies["lj"] / len(pos),
        "etot_drift_per_atom": (etot - etot0) / len(pos), "neighbor_builds": ff.nlist.n_builds,
        "threads": int(os.environ.get("NUMBA_NUM_THREADS", "0")), "atoms": len(pos),
        "threading_layer": numba.threading_layer() if ff.nlist.threaded else None,
    }))  # fmt: skip


def _child_env(threads: int, layer: str | None = None) -> dict:
    """Environment of a poreflux child: thread settings, and Python's bytecode cache on.

    A user's installed package has its ``.pyc`` files, as a warm run has its numba cache; a
    shell with ``PYTHONDONTWRITEBYTECODE`` set would make every child recompile poreflux's
    sources (~0.04 s), so the variable is dropped for the children.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {
        "NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": "1",
        "POREFLUX_MD_THREADS": "1" if threads > 1 else "0",  # the threaded path is opt-in
    }  # fmt: skip
    if layer:
        env["NUMBA_THREADING_LAYER"] = layer
    return env


def _ceiling_kernel():
    """A compute-bound ``prange`` loop (no memory traffic): the most two threads can give."""
    import numba

    @numba.njit(cache=True, parallel=True)
    def spin(out, n):  # about 3 n flops per entry of out, no shared writes
        for b in numba.prange(out.shape[0]):
            x = 1.0 + b
            for _ in range(n):
                x = math.sqrt(x * x + 1.0) - 0.5
            out[b] = x

    return spin


def phases_child(steps: int) -> None:
    """Per-kernel wall time per step of the in.lj loop (this process's thread settings).

    Every :mod:`stochastic.md.cell_kernels` dispatcher is wrapped with a timer; ``rest`` is
    the loop time outside them (Python, numpy finite checks, force array set-up). With two
    threads the child also times :func:`_ceiling_kernel` on one and on two threads.
    """
    import numba
    import numpy as np

    from stochastic.md import cell_kernels as ck
    from stochastic.md.forcefield import ForceField
    from stochastic.md.init import fcc_lattice, maxwell_boltzmann
    from stochastic.md.integrators import VelocityVerlet
    from stochastic.md.lj import LennardJones
    from stochastic.md.simulation import Simulation
    from stochastic.md.system import ParticleType, System, reduced_temperature_to_kelvin

    acc: dict[str, float] = {}

    def timed(name, fn):
        def call(*args):
            t, out = time.perf_counter(), fn(*args)
            acc[name] = acc.get(name, 0.0) + time.perf_counter() - t
            return out

        return call

    for name, obj in list(vars(ck).items()):  # the kernels called from Python (others inline)
        if isinstance(obj, numba.core.registry.CPUDispatcher) and not name.startswith("_"):
            setattr(ck, name, timed(name, obj))
    pos, box = fcc_lattice(20, 0.8442)
    system = System.from_counts([ParticleType("LJ", 1.0, 0.0, 1.0, 1.0)], [len(pos)], box)
    v = maxwell_boltzmann(system.masses, reduced_temperature_to_kelvin(1.44), seed=87287)
    ff = ForceField(system, [LennardJones(system, 2.5)], skin=0.3)
    sim = Simulation(ff, VelocityVerlet(0.005), pos, v)
    sim.run(20)
    acc.clear()
    t0 = time.perf_counter()
    sim.run(steps)
    loop = time.perf_counter() - t0
    out = {k: 1e3 * t / steps for k, t in sorted(acc.items(), key=lambda kv: -kv[1])}
    out["rest"] = 1e3 * (loop - sum(acc.values())) / steps
    out["total"] = 1e3 * loop / steps
    result = {"ms_per_step": out, "threads": numba.get_num_threads(), "steps": steps}
    if ck.use_threads(len(pos)):
        spin, buf = _ceiling_kernel(), np.zeros(2)
        spin(buf, 10)
        best: dict[int, float] = {}
        for nt in (1, 2, 1, 2):
            numba.set_num_threads(nt)
            t = time.perf_counter()
            spin(buf, 20_000_000)
            best[nt] = min(best.get(nt, 1e9), time.perf_counter() - t)
        result |= {"layer": numba.threading_layer(), "ceiling_speedup_2": best[1] / best[2]}
    print(json.dumps(result))


def thread_phases(steps: int, layer: str | None) -> dict:
    """:func:`phases_child` on one and on two threads, alternating (``--phases``)."""
    out = {}
    for threads in (1, 2):
        out[f"threads_{threads}"] = _child(_child_env(threads, layer), "--phases-child", steps)
    t1, t2 = out["threads_1"]["ms_per_step"], out["threads_2"]["ms_per_step"]
    out["speedup_by_part"] = {k: t1[k] / t2[k] for k in t1 if k in t2 and t2[k] > 0}
    out["speedup_by_part"] |= {
        k.removesuffix("_serial"): t1[k] / t2[k.removesuffix("_serial")]
        for k in t1 if k.endswith("_serial") and k.removesuffix("_serial") in t2
    }  # fmt: skip
    return out


#: Two-thread set-ups compared by ``--layers``: numba's threading layer, OpenMP's wait policy.
LAYERS = {
    "omp": {"NUMBA_THREADING_LAYER": "omp"},
    "omp_passive": {"NUMBA_THREADING_LAYER": "omp", "OMP_WAIT_POLICY": "passive"},
    "workqueue": {"NUMBA_THREADING_LAYER": "workqueue"},
}


def compare_layers(steps: int, rounds: int) -> dict:
    """Two-thread in.lj children on each of :data:`LAYERS`, alternating (``--layers``).

    OpenMP threads spin while they wait for work (CPU time even when idle); ``workqueue``
    threads sleep. Records the loop's wall and CPU time of every run, the best per layer.
    """
    runs: dict[str, list[dict]] = {name: [] for name in LAYERS}
    for _ in range(rounds):
        for name, extra in LAYERS.items():
            r = _child(_child_env(2) | extra, "--child", steps)
            runs[name].append({k: r[k] for k in ("loop_s", "loop_cpu_s", "threading_layer")})
    best = {name: min(v, key=lambda r: r["loop_s"]) for name, v in runs.items()}
    return {"steps": steps, "runs": runs, "best_loop_s": {k: v["loop_s"] for k, v in best.items()}}


def _child(env: dict, mode: str, steps: int) -> dict:
    """Run this script as a fresh ``mode`` child process; its last output line as JSON."""
    cmd = [sys.executable, __file__, mode, "--steps", str(steps)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_floor() -> dict:
    """The numba floor (:func:`floor_child`) in a fresh process."""
    return _child(_child_env(1), "--floor", 0)


def run_poreflux(threads: int, steps: int, layer: str | None = None) -> dict:
    """One fresh process; adds its whole-process wall time."""
    t0 = time.perf_counter()
    out = _child(_child_env(threads, layer), "--child", steps)
    return out | {"whole_process_s": time.perf_counter() - t0}


def run_lammps(lmp: str, steps: int, workdir: Path) -> dict:
    """One LAMMPS process on one core; rate from its 'Loop time' line."""
    inp = workdir / "in.lj"
    inp.write_text(IN_LJ.format(steps=steps))
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    out = subprocess.run(
        [lmp, "-in", str(inp), "-log", str(workdir / "log.lammps")],
        cwd=workdir, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    whole = time.perf_counter() - t0
    pattern = r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps with (\d+)"
    m = re.search(pattern, out.stdout)
    if m is None:
        raise RuntimeError(f"no 'Loop time' line in the LAMMPS output:\n{out.stdout[-2000:]}")
    loop, atoms = float(m.group(1)), int(m.group(4))
    pct = re.search(r"([0-9.]+)% CPU use", out.stdout)
    cpu = loop * float(pct.group(1)) / 100.0 if pct else float("nan")
    epair = re.search(r"^\s+0\s+1\.44\s+(-?[0-9.]+)", out.stdout, re.MULTILINE)
    return {
        "loop_s": loop, "atom_steps_per_s_loop": atoms * steps / loop, "whole_process_s": whole,
        "loop_cpu_s": cpu, "atom_steps_per_s_loop_cpu": atoms * steps / cpu,
        "epair_step0_per_atom": float(epair.group(1)) if epair else None,
        "version": out.stdout.splitlines()[0] if out.stdout else "",
    }  # fmt: skip


def lj_side_by_side(rounds: int, steps: int, layer: str | None = None) -> dict:
    """Alternating fresh-process runs: poreflux 1 thread, LAMMPS, poreflux 2 threads.

    Each round also runs the numba floor (:func:`floor_child`); ``setup_s`` is the best
    one-thread set-up and ``setup_phases_s`` / ``setup_phases_cpu_s`` are that run's phases.
    """
    lmp = shutil.which("lmp")
    runs: dict[str, list[dict]] = {"poreflux_1": [], "poreflux_2": [], "lammps": [], "floor": []}
    cold = run_poreflux(1, 10)  # fills the numba and bytecode caches if they are empty
    run_poreflux(2, 10, layer)  # and the threaded kernels' cache
    run_floor()  # and the floor's kernel
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            runs["floor"].append(run_floor())
            runs["poreflux_1"].append(run_poreflux(1, steps))
            if lmp:
                runs["lammps"].append(run_lammps(lmp, steps, Path(tmp)))
            runs["poreflux_2"].append(run_poreflux(2, steps, layer))
    best = {k: min(v, key=lambda r: r["loop_s"]) for k, v in runs.items() if k != "floor" and v}
    p1, p2 = best["poreflux_1"], best["poreflux_2"]
    pf1 = runs["poreflux_1"]
    quick = min(pf1, key=lambda r: r["setup_s"])
    floor = min(r["floor_s"] for r in runs["floor"])
    result = {
        "atom_steps_per_s_loop": p1["atom_steps_per_s_loop"],
        "whole_process_s": p1["whole_process_s"],
        "setup_s": quick["setup_s"],
        "setup_phases_s": quick["setup_phases_s"],
        "setup_phases_cpu_s": quick["setup_phases_cpu_s"],
        "setup_kernels_before_first_step": quick["kernels_before_first_step"],
        "setup_jit_first_load_s": quick["jit_first_load_s"],
        "setup_s_first_process": cold["setup_s"],
        "numba_floor_s": floor,
        "setup_over_numba_floor_s": quick["setup_s"] - floor,
        "setup_cpu_s": quick["setup_cpu_s"],
        "numba_floor_cpu_s": min(r["floor_cpu_s"] for r in runs["floor"]),
        "bytecode_cache": True,
        "threading_layer_2": p2.get("threading_layer"),
        "atom_steps_per_s_loop_cpu": max(r["atom_steps_per_s_loop_cpu"] for r in pf1),
        "atom_steps_per_s_loop_2_threads": p2["atom_steps_per_s_loop"],
        "thread_speedup_2": p1["loop_s"] / p2["loop_s"],
        "lj_epair_step0_per_atom": p1["epair_step0_per_atom"],
        "lj_etot_drift_per_atom": p1["etot_drift_per_atom"],
        "lj_neighbor_builds": p1["neighbor_builds"],
        "lj_runs": runs,
    }
    if "lammps" in best:
        lam = best["lammps"]
        result |= {
            "lammps_atom_steps_per_s_loop": lam["atom_steps_per_s_loop"],
            "lammps_whole_process_s": lam["whole_process_s"],
            "lammps_atom_steps_per_s_loop_cpu": max(
                r["atom_steps_per_s_loop_cpu"] for r in runs["lammps"]
            ),
            "loop_rate_over_lammps_by_round": [
                q["loop_s"] / p["loop_s"] for p, q in zip(pf1, runs["lammps"], strict=True)
            ],
            "loop_cpu_rate_over_lammps_by_round": [
                q["loop_cpu_s"] / p["loop_cpu_s"] for p, q in zip(pf1, runs["lammps"], strict=True)
            ],
            "loop_rate_over_lammps": p1["atom_steps_per_s_loop"] / lam["atom_steps_per_s_loop"],
            "whole_process_over_lammps": p1["whole_process_s"] / lam["whole_process_s"],
            "lammps_version": lam["version"],
        }
    else:
        result["lammps"] = "lmp not found: LAMMPS columns skipped"
    return result


def _tolerance_grids(system) -> dict:
    """The grids ``tolerance=1e-5`` alone would choose (orders 4, 6, 8) and their errors."""
    from stochastic.md.errors import MDInputError
    from stochastic.md.pme import PME

    out = {}
    for order in (4, 6, 8):
        try:
            pme = PME(system, 1.0, tolerance=1e-5, order=order)
        except MDInputError as err:  # the grid exceeds MAX_AUTO_GRID_POINTS
            out[f"tolerance_1e-5_order_{order}"] = str(err).split(";")[0]
            continue
        out[f"tolerance_1e-5_order_{order}"] = {
            "grid": list(pme.grid), "est_reciprocal_force_error": pme.reciprocal_error
        }
    return out


def salt_benchmark(method: str, steps: int = 100, repeats: int = 3) -> dict:
    """Langevin NVT of the 4,000-particle salt solution with Ewald or PME (see module doc)."""
    import numpy as np

    from stochastic.md.ewald import Ewald
    from stochastic.md.forcefield import ForceField
    from stochastic.md.init import salt_solution
    from stochastic.md.integrators import LangevinBAOAB
    from stochastic.md.lj import LennardJones
    from stochastic.md.minimize import fire
    from stochastic.md.pme import PME
    from stochastic.md.simulation import Simulation
    from stochastic.md.system import ParticleType

    na = ParticleType("Na", 22.99, 1.0, 0.26, 0.4)
    cl = ParticleType("Cl", 35.45, -1.0, 0.42, 0.4)
    w = ParticleType("W", 18.0, 0.0, 0.30, 0.65)
    length = 5.0
    n_ions = 2 * round(1000.0 * 6.02214076e23 * length**3 * 1e-27)
    density = (4000 - n_ions) / length**3
    system, pos = salt_solution(na, cl, 1000.0, length, w, density, min_distance=0.2, seed=5)
    if method == "pme":
        coulomb = PME(system, 1.0, tolerance=1e-5, grid_spacing=0.12, order=4)
        info = {
            "pme_grid": list(coulomb.grid), "pme_order": 4, "grid_from": "grid_spacing 0.12 nm",
            "est_real_space_force_error": coulomb.real_space_error,
            "est_reciprocal_force_error": coulomb.reciprocal_error,
            "force_error_unit": "kJ/mol/nm (RMS, estimated)",
        } | _tolerance_grids(system)  # fmt: skip
    else:
        coulomb = Ewald(system, 1.0, tolerance=1e-5)
        info = {"kmax": coulomb.kmax.tolist(), "kspace_from": "tolerance 1e-5"}
    terms = [LennardJones(system, 1.0), coulomb]
    ff = ForceField(system, terms, skin=0.1)
    pos = fire(ff, pos, force_tol=500.0, max_steps=3000).positions
    sim = Simulation(ff, LangevinBAOAB(0.002, 300.0, 1.0, seed=1), pos)
    sim.run(10)  # warm-up (compilation)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sim.run(steps)
        times.append(time.perf_counter() - t0)
    elapsed = min(times)
    return {
        f"salt_{method}_atom_steps_per_s": system.n_particles * steps / elapsed,
        f"salt_{method}_seconds": elapsed,
        f"salt_{method}_settings": info | {
            "particles": system.n_particles, "ions": int(np.count_nonzero(system.charges)),
            "box_nm": length, "concentration_mM": 1000.0, "coulomb": method,
            "real_cutoff_nm": 1.0, "alpha_per_nm": coulomb.alpha,
            "alpha_from": "tolerance 1e-5 (exp(-alpha^2 rc^2) = tol)", "lj_cutoff_nm": 1.0,
            "skin_nm": 0.1, "dt_ps": 0.002, "ensemble": "Langevin BAOAB 300 K", "steps": steps,
        },
    }  # fmt: skip


def main() -> None:
    """Run the benchmarks and merge the results into ``bench/results/md_lj.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--salt", action="store_true", help="also the Ewald/PME salt runs")
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phases-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--layers", type=int, default=0, metavar="STEPS",
        help="only the two-thread loop on each threading layer (thread_layers), STEPS steps",
    )  # fmt: skip
    parser.add_argument(
        "--phases", type=int, default=0, metavar="STEPS",
        help="only the per-kernel time per step on 1 and 2 threads (thread_phases), STEPS steps",
    )  # fmt: skip
    parser.add_argument(
        "--threading-layer", default=None, help="NUMBA_THREADING_LAYER of the 2-thread runs"
    )
    args = parser.parse_args()
    if args.child:
        child(args.steps)
        return
    if args.floor:
        floor_child()
        return
    if args.phases_child:
        phases_child(args.steps)
        return
    result = json.loads(OUT.read_text()) if OUT.exists() else {}
    for stale in ("lj_atom_steps_per_s", "lj_atom_steps_per_s_each_run", "lj_seconds"):
        result.pop(stale, None)
    load = os.getloadavg()
    if args.layers:
        result["thread_layers"] = compare_layers(args.layers, args.rounds) | {
            "load_average_1min_before_after": [load[0], os.getloadavg()[0]]
        }
        OUT.write_text(json.dumps(result, indent=2))
        print(json.dumps(result["thread_layers"]["best_loop_s"]))
        return
    if args.phases:
        result["thread_phases"] = thread_phases(args.phases, args.threading_layer) | {
            "load_average_1min_before_after": [load[0], os.getloadavg()[0]]
        }
        OUT.write_text(json.dumps(result, indent=2))
        print(json.dumps(result["thread_phases"], indent=1))
        return
    result |= {"machine": platform.machine(), "cpus": os.cpu_count(), "steps": args.steps}
    result |= lj_side_by_side(args.rounds, args.steps, args.threading_layer)
    result["load_average_1min_before_after"] = [load[0], os.getloadavg()[0]]
    if args.salt:
        os.environ["NUMBA_NUM_THREADS"] = "1"
        result |= salt_benchmark("ewald") | salt_benchmark("pme")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    for key in (
        "atom_steps_per_s_loop", "lammps_atom_steps_per_s_loop", "loop_rate_over_lammps",
        "atom_steps_per_s_loop_cpu", "lammps_atom_steps_per_s_loop_cpu",
        "loop_rate_over_lammps_by_round", "loop_cpu_rate_over_lammps_by_round",
        "whole_process_s", "lammps_whole_process_s", "setup_s", "numba_floor_s",
        "setup_phases_s", "thread_speedup_2", "threading_layer_2",
        "lj_epair_step0_per_atom", "load_average_1min_before_after",
    ):  # fmt: skip
        print(f"{key:<32} {result.get(key)}")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
