"""Top-level BD entry points: a resumable single run and independent replicas.

:func:`simulate` equilibrates (calibrating the buffers' ``mu_ex``), then runs production blocks;
with ``checkpoint`` a folder, the state is written atomically after the equilibration and after
every block, and a rerun with the same arguments continues where the last one stopped (a finished
run returns its result at once). :func:`run_replicas` runs independent replicas (seeds from one
``numpy.random.SeedSequence``) in ``multiprocessing`` worker processes or across MPI ranks and
pools their blocks.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path

import numpy as np

from stochastic.bd.geometry import BDInputError
from stochastic.bd.observables import BDResult, combine
from stochastic.bd.run import BDSimulation
from stochastic.bd.system import BDSystem

__all__ = ["run_replicas", "simulate"]


def simulate(
    system: BDSystem,
    time_ns: float,
    *,
    seed: int,
    equilibration_ns: float = 1.0,
    block_ns: float = 0.5,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    calibrate: bool = True,
    **options,
) -> BDResult:
    """One GCMC/BD run: ``equilibration_ns`` then ``time_ns`` of production in blocks.

    Parameters
    ----------
    system
        The channel system.
    time_ns
        Production time [ns] (rounded to whole blocks of ``block_ns``).
    seed
        Integer seed of the run's random stream.
    equilibration_ns
        Equilibration time [ns]; the buffers' ``mu_ex`` are calibrated in it if ``calibrate``.
    block_ns
        Block length for the error bars [ns] (longer than the current's correlation time).
    checkpoint
        Folder for the resumable state (``None``: no checkpoints).
    progress
        Show a tqdm progress bar.
    options
        Passed to :class:`stochastic.bd.run.BDSimulation` (``exchange``, ``gcmc_every``, ...).
    """
    sim = BDSimulation(system, seed, **options)
    if checkpoint is not None:
        sim.restore(checkpoint)
    remaining_eq = equilibration_ns - sim.equilibrated_ns
    if remaining_eq > 0.5 * sim.cycle_ns:
        sim.equilibrate(remaining_eq, calibrate=calibrate, progress=progress)
        if checkpoint is not None:
            sim.save(checkpoint)
    per = max(1, round(block_ns / sim.cycle_ns))
    target = round(time_ns / (per * sim.cycle_ns))
    todo = target - len(sim.blocks)
    if todo > 0:
        save = (lambda s: s.save(checkpoint)) if checkpoint is not None else None
        sim.run(todo * per * sim.cycle_ns, block_ns=block_ns, progress=progress, on_block=save)
    return sim.result()


def _worker(args: tuple) -> BDResult:
    system, time_ns, seed, folder, kw = args
    kw = {**kw, "progress": False}  # no bars from workers
    return simulate(system, time_ns, seed=seed, checkpoint=folder, **kw)


def replica_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds spawned from ``seed``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def run_replicas(
    system: BDSystem,
    n_replicas: int,
    time_ns: float,
    *,
    seed: int,
    processes: int | None = None,
    backend: str = "multiprocessing",
    checkpoint: str | os.PathLike | None = None,
    **kw,
) -> BDResult:
    """Independent replicas, pooled (blocks of all replicas form the error bars).

    ``backend="multiprocessing"`` uses ``processes`` workers (default: CPU count, at most
    ``n_replicas``); ``"mpi"`` splits the replicas over the ranks of ``MPI.COMM_WORLD`` (mpi4py
    imported here only) and returns the pooled result on every rank. With ``checkpoint``, replica
    k keeps its state in ``checkpoint/replica_k``. Other keywords go to :func:`simulate`.
    """
    if isinstance(n_replicas, bool) or int(n_replicas) != n_replicas or n_replicas < 1:
        raise BDInputError(f"n_replicas must be an integer >= 1, got {n_replicas!r}")
    seeds = replica_seeds(seed, int(n_replicas))
    folders = [
        None if checkpoint is None else str(Path(checkpoint) / f"replica_{k}")
        for k in range(int(n_replicas))
    ]
    jobs = [(system, time_ns, s, f, kw) for s, f in zip(seeds, folders, strict=True)]
    if backend == "mpi":
        results = _run_mpi(jobs)
    elif backend == "multiprocessing":
        nproc = min(int(processes or os.cpu_count() or 1), len(jobs))
        if nproc == 1:
            results = [_worker(j) for j in jobs]
        else:
            with mp.get_context("spawn").Pool(nproc) as pool:
                results = pool.map(_worker, jobs, chunksize=1)
                pool.close()  # a clean shutdown (terminate() would leak the pool's semaphores)
                pool.join()
    else:
        raise BDInputError(f"backend must be 'multiprocessing' or 'mpi', got {backend!r}")
    return combine(system, results)


def _run_mpi(jobs: list[tuple]) -> list[BDResult]:
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    mine = [_worker(j) for j in jobs[comm.rank :: comm.size]]
    gathered = comm.allgather(mine)
    order = []
    for k in range(len(jobs)):
        order.append(gathered[k % comm.size][k // comm.size])
    return order
