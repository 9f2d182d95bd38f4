"""Particle-MD throughput: LAMMPS's ``in.lj`` side by side, and a salt solution with Ewald/PME.

1. The LAMMPS ``bench/in.lj`` system: 32,000 atoms, fcc at rho* = 0.8442, T* = 1.44 start
   (velocity seed 87287), LJ cut at 2.5 sigma, skin 0.3 sigma, NVE velocity Verlet at
   dt* = 0.005, 1000 steps. E_pair at step 0 must be -6.7733681 per atom. Each measurement is
   a fresh process (``--child``): ``whole_process_s`` is its wall time seen from outside,
   ``setup_s`` its time from the start of the script to the first step (imports, JIT from the
   numba cache, system, first neighbour list and forces), ``atom_steps_per_s_loop`` the rate
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


def child(steps: int) -> None:
    """Run the in.lj system in this process and print one JSON line of timings."""
    from stochastic.md.forcefield import ForceField
    from stochastic.md.init import fcc_lattice, maxwell_boltzmann
    from stochastic.md.integrators import VelocityVerlet
    from stochastic.md.lj import LennardJones
    from stochastic.md.simulation import Simulation
    from stochastic.md.system import ParticleType, System, reduced_temperature_to_kelvin

    pos, box = fcc_lattice(20, 0.8442)
    system = System.from_counts([ParticleType("LJ", 1.0, 0.0, 1.0, 1.0)], [len(pos)], box)
    v = maxwell_boltzmann(system.masses, reduced_temperature_to_kelvin(1.44), seed=87287)
    ff = ForceField(system, [LennardJones(system, 2.5)], skin=0.3)
    sim = Simulation(ff, VelocityVerlet(0.005), pos, v)
    e0 = sim.result.energies["lj"] / len(pos)
    etot0 = sim.kinetic_energy() + sim.potential_energy()
    t0 = time.perf_counter()
    c0 = time.process_time()
    setup = t0 - _T_START
    sim.run(steps)
    loop = time.perf_counter() - t0
    cpu = time.process_time() - c0
    etot = sim.kinetic_energy() + sim.potential_energy()
    print(json.dumps({
        "setup_s": setup, "loop_s": loop, "atom_steps_per_s_loop": len(pos) * steps / loop,
        "loop_cpu_s": cpu, "atom_steps_per_s_loop_cpu": len(pos) * steps / cpu,
        "epair_step0_per_atom": e0, "epair_final_per_atom": sim.result.energies["lj"] / len(pos),
        "etot_drift_per_atom": (etot - etot0) / len(pos), "neighbor_builds": ff.nlist.n_builds,
        "threads": int(os.environ.get("NUMBA_NUM_THREADS", "0")), "atoms": len(pos),
    }))  # fmt: skip


def run_poreflux(threads: int, steps: int) -> dict:
    """One fresh process; adds its whole-process wall time."""
    env = os.environ | {
        "NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": "1",
        "POREFLUX_MD_THREADS": "1" if threads > 1 else "0",  # the threaded path is opt-in
    }  # fmt: skip
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--steps", str(steps)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    whole = time.perf_counter() - t0
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"whole_process_s": whole}


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


def lj_side_by_side(rounds: int, steps: int) -> dict:
    """Alternating fresh-process runs: poreflux 1 thread, LAMMPS, poreflux 2 threads."""
    lmp = shutil.which("lmp")
    runs: dict[str, list[dict]] = {"poreflux_1": [], "poreflux_2": [], "lammps": []}
    cold = run_poreflux(1, 10)  # fills the numba cache if it is empty
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            runs["poreflux_1"].append(run_poreflux(1, steps))
            if lmp:
                runs["lammps"].append(run_lammps(lmp, steps, Path(tmp)))
            runs["poreflux_2"].append(run_poreflux(2, steps))
    best = {k: min(v, key=lambda r: r["loop_s"]) for k, v in runs.items() if v}
    p1, p2 = best["poreflux_1"], best["poreflux_2"]
    pf1 = runs["poreflux_1"]
    result = {
        "atom_steps_per_s_loop": p1["atom_steps_per_s_loop"],
        "whole_process_s": p1["whole_process_s"],
        "setup_s": min(r["setup_s"] for r in runs["poreflux_1"]),
        "setup_s_first_process": cold["setup_s"],
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
    args = parser.parse_args()
    if args.child:
        child(args.steps)
        return
    result = json.loads(OUT.read_text()) if OUT.exists() else {}
    for stale in ("lj_atom_steps_per_s", "lj_atom_steps_per_s_each_run", "lj_seconds"):
        result.pop(stale, None)
    load = os.getloadavg()
    result |= {"machine": platform.machine(), "cpus": os.cpu_count(), "steps": args.steps}
    result |= lj_side_by_side(args.rounds, args.steps)
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
        "whole_process_s", "lammps_whole_process_s", "setup_s", "thread_speedup_2",
        "lj_epair_step0_per_atom", "load_average_1min_before_after",
    ):  # fmt: skip
        print(f"{key:<32} {result.get(key)}")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
