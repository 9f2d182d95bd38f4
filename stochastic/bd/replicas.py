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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from stochastic.bd.geometry import BDInputError
from stochastic.bd.observables import BDResult, combine
from stochastic.bd.run import BDSimulation
from stochastic.bd.system import BDSystem

__all__ = ["ReplicaPool", "run_replicas", "simulate"]


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


def _timed_worker(args: tuple) -> tuple[BDResult, float, float]:
    """:func:`_worker` with the worker's CPU and wall seconds for the job."""
    c0, w0 = time.process_time(), time.perf_counter()
    res = _worker(args)
    return res, time.process_time() - c0, time.perf_counter() - w0


#: thread-count variables set to 1 in spawned workers (one core per worker, no oversubscription)
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@contextmanager
def single_threaded_children() -> Iterator[None]:
    """Set the BLAS/OpenMP/numba thread counts to 1 (unless already set) while workers are
    spawned: a spawned child reads them when it imports numpy and numba, before any task."""
    saved = {v: os.environ.get(v) for v in THREAD_VARS}
    for v in THREAD_VARS:
        os.environ.setdefault(v, "1")
    try:
        yield
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


def _spawn_pool(processes: int):
    with single_threaded_children():
        return mp.get_context("spawn").Pool(processes)


def _warm(system: BDSystem) -> int:
    """Compile (or load from numba's cache) the kernels in a worker: a 10-cycle run."""
    sim = BDSimulation(system, 0)
    sim.equilibrate(10 * sim.cycle_ns, calibrate=False)
    return os.getpid()


class ReplicaPool:
    """Worker processes started once and warmed up, for many :func:`run_replicas` calls.

    A ``spawn`` worker pays for importing numpy/scipy/numba and loading the compiled kernels
    (seconds) before its first step; a pool that lives across calls pays it once. Use as a
    context manager and pass it as ``run_replicas(..., pool=pool)``. Workers are started with
    one BLAS/OpenMP/numba thread each (:func:`single_threaded_children`), so ``processes``
    workers use ``processes`` cores; the kernels are loaded from numba's on-disk cache
    (``cache=True``), not recompiled per worker.

    Parameters
    ----------
    processes
        Number of worker processes (>= 1).
    warm_with
        Optional :class:`BDSystem`: every worker runs 10 cycles of it at start-up (imports,
        kernels loaded), so timed work excludes the start-up.
    """

    def __init__(self, processes: int, warm_with: BDSystem | None = None) -> None:
        if isinstance(processes, bool) or int(processes) != processes or processes < 1:
            raise BDInputError(f"processes must be an integer >= 1, got {processes!r}")
        self.processes = int(processes)
        self._pool = _spawn_pool(self.processes)
        if warm_with is not None:
            pids = self._pool.map(_warm, [warm_with] * (2 * self.processes), chunksize=1)
            self.warmed = len(set(pids))

    def map(self, jobs: list[tuple]) -> list[BDResult]:
        """Run replica jobs in the workers (one job per task)."""
        return self._pool.map(_worker, jobs, chunksize=1)

    def map_timed(self, jobs: list[tuple]) -> tuple[list[BDResult], list[float], list[float]]:
        """:meth:`map` with each job's CPU seconds and wall seconds in its worker."""
        out = self._pool.map(_timed_worker, jobs, chunksize=1)
        return [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]

    def close(self) -> None:
        """Shut the workers down cleanly."""
        self._pool.close()  # close + join: terminate() would leak the pool's semaphores
        self._pool.join()

    def __enter__(self) -> ReplicaPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    pool: ReplicaPool | None = None,
    **kw,
) -> BDResult:
    """Independent replicas, pooled (blocks of all replicas form the error bars).

    ``backend="multiprocessing"`` uses ``processes`` workers (default: CPU count, at most
    ``n_replicas``); ``"mpi"`` splits the replicas over the ranks of ``MPI.COMM_WORLD`` (mpi4py
    imported here only) and returns the pooled result on every rank. With ``checkpoint``, replica
    k keeps its state in ``checkpoint/replica_k``. A :class:`ReplicaPool` given as ``pool``
    runs the replicas in its (already started) workers. Other keywords go to :func:`simulate`.
    """
    if isinstance(n_replicas, bool) or int(n_replicas) != n_replicas or n_replicas < 1:
        raise BDInputError(f"n_replicas must be an integer >= 1, got {n_replicas!r}")
    seeds = replica_seeds(seed, int(n_replicas))
    folders = [
        None if checkpoint is None else str(Path(checkpoint) / f"replica_{k}")
        for k in range(int(n_replicas))
    ]
    jobs = [(system, time_ns, s, f, kw) for s, f in zip(seeds, folders, strict=True)]
    if pool is not None:
        results = pool.map(jobs)
    elif backend == "mpi":
        results = _run_mpi(jobs)
    elif backend == "multiprocessing":
        nproc = min(int(processes or os.cpu_count() or 1), len(jobs))
        if nproc == 1:
            results = [_worker(j) for j in jobs]
        else:
            with _spawn_pool(nproc) as pool:
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
