"""Run a study: order the points, reuse meshes and solvers, warm-start, resume, distribute.

Order
-----
Points are grouped by geometry (one mesh each), then by solver group (points that share one
solver: same mesh, temperature, surface charge for the PNP binding), then by everything except
the voltage; each such sweep runs from the voltage nearest 0 upward, then from that start
downward, every solve warm-started from its neighbour's solution. The start of each sweep is
solved cold: measured on a charged 1 nm pore, warm-starting 0 V at 1000 mM from 0 V at 100 mM
took 55 Newton iterations (the direct step fails and continuation takes over) against 6 cold.
A finished point's state is not on disk, so after a resume the next point starts
from the nearest computed ancestor or cold (the solver's continuation takes care of it); the
table column ``warm_start_from`` says which.

Resume
------
A point is finished when its record exists in the study folder (:mod:`pnp.studies.store`); it is
never recomputed. One run at a time per folder: the run holds the folder's lock
(:mod:`pnp.studies.lock`), a second run is refused naming the first. Failed points are
recorded with their error (``status = "failed"``), not fatal, reported at the end, and retried
on a rerun only with ``retry_failed=True``.

MPI
---
Default: every rank takes part in every solve (one PETSc solve over ``comm``; rank 0 writes).
``distribute=True``: the sweeps (each split into its upward and downward branch) are dealt out
to the ranks (largest first, to the least loaded rank); each rank meshes on ``MPI.COMM_SELF``,
writes its own point records, and rank 0 merges the table at the end.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpi4py import MPI

from pnp.studies.grid import VOLTAGE, ParameterGrid, StudyPoint
from pnp.studies.lock import StudyLock
from pnp.studies.model import PointResult, StudyModel
from pnp.studies.store import StudyStore, atomic_write_text, now_iso
from pnp.studies.table import StudyTable
from poreflux.errors import InputError

log = logging.getLogger(__name__)

__all__ = ["Chain", "StudyResult", "plan_chains", "run_study"]

FIELD_FORMATS = ("none", "vtx", "xdmf")
_UNSET = object()  # no mesh / solver built yet
#: Longest error message kept in a record.
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class Chain:
    """Points solved one after another with warm starts (one branch of one voltage sweep).

    Attributes
    ----------
    geometry_key, solver_key
        The mesh and solver the points share.
    points
        In solve order.
    parents
        For each point, the id of the point whose state warm-starts it (None: cold).
    """

    geometry_key: Hashable
    solver_key: Hashable
    points: tuple[StudyPoint, ...]
    parents: tuple[str | None, ...]


def _voltage_order(points: Sequence[StudyPoint]) -> tuple[list[StudyPoint], list[StudyPoint]]:
    """Split a sweep into (start + upward branch, downward branch), the start nearest 0 V."""
    if not points or VOLTAGE not in points[0].values:
        return list(points), []
    v = [p[VOLTAGE] for p in points]
    start = min(range(len(v)), key=lambda i: (abs(v[i]), v[i] < 0))  # ties: the positive one
    up = sorted((p for p in points if p[VOLTAGE] > v[start]), key=lambda p: p[VOLTAGE])
    down = sorted((p for p in points if p[VOLTAGE] < v[start]), key=lambda p: -p[VOLTAGE])
    return [points[start], *up], down


def plan_chains(model: StudyModel, points: Sequence[StudyPoint]) -> list[Chain]:
    """The solve order of ``points`` as warm-start chains (see the module docstring)."""
    groups: OrderedDict[Hashable, OrderedDict[Hashable, OrderedDict[Hashable, list]]] = (
        OrderedDict()
    )
    for p in points:
        gk, sk = model.geometry_key(p), model.solver_key(p)
        rest = tuple((k, v) for k, v in p.values.items() if k != VOLTAGE)
        groups.setdefault(gk, OrderedDict()).setdefault(sk, OrderedDict()).setdefault(
            rest, []
        ).append(p)
    chains = []
    for gk, by_solver in groups.items():
        for sk, sweeps in by_solver.items():
            for sweep in sweeps.values():
                up, down = _voltage_order(sweep)
                parents = [None] + [p.id for p in up[:-1]]
                chains.append(Chain(gk, sk, tuple(up), tuple(parents)))
                if down:
                    dparents = [up[0].id] + [p.id for p in down[:-1]]
                    chains.append(Chain(gk, sk, tuple(down), tuple(dparents)))
    return chains


def _deal(chains: Sequence[Chain], size: int) -> list[list[int]]:
    """Chain indices per rank: largest chains first to the least loaded rank (deterministic)."""
    load = [0] * size
    out: list[list[int]] = [[] for _ in range(size)]
    for i in sorted(range(len(chains)), key=lambda i: (-len(chains[i].points), i)):
        r = min(range(size), key=lambda r: (load[r], r))
        out[r].append(i)
        load[r] += len(chains[i].points)
    return [sorted(x) for x in out]


@dataclass(frozen=True)
class StudyResult:
    """What :func:`run_study` returns (identical on every rank).

    Attributes
    ----------
    table
        Every point's row (finished before or now), in grid order.
    path
        The study folder.
    computed
        Ids of the points solved by this run (successfully or not).
    skipped
        Ids of points that were already finished and were not recomputed.
    failed
        ``(id, label, error)`` of every failed point in the table.
    definition_hash
        SHA-256 of the definition.
    """

    table: StudyTable
    path: Path
    computed: tuple[str, ...]
    skipped: tuple[str, ...]
    failed: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)
    definition_hash: str = ""

    def summary(self) -> str:
        """One line: how many points were computed, skipped and failed."""
        return (
            f"{len(self.table)} points in {self.path}: {len(self.computed)} computed now, "
            f"{len(self.skipped)} already finished, {len(self.failed)} failed"
        )


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + " [...]"


def _bcast_or_raise(comm: MPI.Comm, fn: Any) -> Any:
    """Run ``fn`` on rank 0, broadcast its value or its exception (raised on every rank)."""
    value = exc = None
    if comm.rank == 0:
        try:
            value = fn()
        except Exception as e:  # (re-raised on every rank)
            exc = e
    value, exc = comm.bcast((value, exc), root=0)
    if exc is not None:
        raise exc
    return value


class _Executor:
    """Runs chains on one communicator (the whole world, or COMM_SELF when distributing)."""

    def __init__(
        self,
        model: StudyModel,
        store: StudyStore,
        comm: MPI.Comm,
        *,
        writer: bool,
        fields: str,
        profiles: bool,
        run_id: str,
        first_columns: tuple[str, ...],
        progress: Any,
        table_every_point: bool,
        records: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.store, self.comm = model, store, comm
        self.writer = writer  # this process writes records
        self.fields, self.profiles = fields, profiles
        self.run_id, self.first = run_id, first_columns
        self.progress = progress
        self.table_every_point = table_every_point
        self._mesh_key: Any = _UNSET
        self._mesh: Any = None
        self._mesh_error: BaseException | None = None
        self._solver_key: Any = _UNSET
        self._solver: Any = None
        self._solver_error: BaseException | None = None
        self.states: dict[str, Any] = {}
        self.parent_of: dict[str, str | None] = {}
        self.computed: list[str] = []
        # every record of the study (earlier runs + this one): the table is rebuilt from memory
        self.records: dict[str, Any] = dict(records or {})

    # -- caches: one mesh and one solver alive at a time (points come grouped) ---------------
    def _mesh_for(self, chain: Chain, point: StudyPoint) -> Any:
        if self._mesh_key is _UNSET or self._mesh_key != chain.geometry_key:
            self.close_solver()
            self._solver_key = _UNSET
            self._mesh = self._mesh_error = None
            self.states.clear()
            self._mesh_key = chain.geometry_key
            t0 = time.perf_counter()
            try:
                self._mesh = self.model.build_mesh(point, self.comm)
                log.info(
                    "mesh for %s built in %.2f s", chain.geometry_key, time.perf_counter() - t0
                )
            except Exception as exc:  # (recorded for each point of the geometry)
                log.warning("mesh for %s failed: %s", chain.geometry_key, exc)
                self._mesh_error = exc
        if self._mesh_error is not None:
            raise self._mesh_error
        return self._mesh

    def close_solver(self) -> None:
        """Release the current solver's PETSc objects (each keeps MPI communicators)."""
        close = getattr(self._solver, "close", None)
        if close is not None:
            close()
        self._solver = self._solver_error = None

    def _solver_for(self, chain: Chain, point: StudyPoint) -> Any:
        mesh = self._mesh_for(chain, point)
        if self._solver_key is _UNSET or self._solver_key != chain.solver_key:
            self.close_solver()
            self.states.clear()
            self._solver_key = chain.solver_key
            try:
                self._solver = self.model.make_solver(mesh, point)
            except Exception as exc:
                self._solver_error = exc
        if self._solver_error is not None:
            raise self._solver_error
        return self._solver

    def _warm_state(self, point: StudyPoint) -> tuple[Any, str | None]:
        parent = self.parent_of.get(point.id)
        while parent is not None:
            if parent in self.states:
                return self.states[parent], parent
            parent = self.parent_of.get(parent)
        return None, None

    # -- one point -----------------------------------------------------------------------------
    def run_point(self, chain: Chain, point: StudyPoint, needed: set[str]) -> None:
        started = now_iso()
        t0 = time.perf_counter()
        record: dict[str, Any] = {
            "id": point.id,
            "index": point.index,
            "params": dict(point.values),
            "started_at": started,
            "run_id": self.run_id,
            "rank": MPI.COMM_WORLD.rank,
        }
        try:
            solver = self._solver_for(chain, point)
            warm, source = self._warm_state(point)
            outcome: PointResult = self.model.solve(solver, point, warm)
            results = dict(outcome.results)
            results["warm_start_from"] = source or "cold"
            results["wall_time_s"] = time.perf_counter() - t0
            if point.id in needed:
                self.states[point.id] = outcome.state
            self._extras(point, outcome)
            record.update(status="ok", results=results, error=None)
        except Exception as exc:  # (a failed point is recorded, not fatal)
            log.warning("point %s (%s) failed: %s", point.id, point.label(), exc)
            record.update(
                status="failed",
                results={"wall_time_s": time.perf_counter() - t0},
                error=_error_text(exc),
            )
        record["finished_at"] = now_iso()
        if self.writer:
            self.store.write_point(record)
            self.records[point.id] = record
            if self.table_every_point:
                self.store.write_table(self.first, self.records)
        self.computed.append(point.id)
        self.comm.Barrier()

    def _extras(self, point: StudyPoint, outcome: PointResult) -> None:
        """Fields and profiles on demand, written before the record that marks the point done."""
        if self.fields != "none":
            self.model.write_fields(outcome.state, self.store.field_path(point.id, self.fields))
        if self.profiles:
            prof = self.model.axial_profile(outcome.state)
            if prof is not None and self.writer:
                table = StudyTable.from_rows(
                    [dict(zip(prof, vals, strict=True)) for vals in zip(*prof.values(),
                                                                         strict=True)]
                )  # fmt: skip
                atomic_write_text(self.store.profile_path(point.id), table.to_csv_text())

    # -- chains ----------------------------------------------------------------------------------
    def run(self, chains: Sequence[Chain], todo: set[str]) -> None:
        needed = {p for c in chains for p in c.parents if p is not None}
        for chain in chains:
            for point, parent in zip(chain.points, chain.parents, strict=True):
                self.parent_of[point.id] = parent
        for chain in chains:
            for point in chain.points:
                if point.id not in todo:
                    continue
                self.run_point(chain, point, needed)
                self.progress(point)


def run_study(
    model: StudyModel,
    grid: ParameterGrid,
    out: str | Path,
    *,
    comm: MPI.Comm = MPI.COMM_WORLD,
    distribute: bool = False,
    fields: str = "none",
    profiles: bool = False,
    progress: bool = True,
    retry_failed: bool = False,
    name: str = "",
    checked: bool = False,
) -> StudyResult:
    """Run every unfinished point of ``grid`` with ``model``; results go to the folder ``out``.

    Parameters
    ----------
    model
        The solver binding (:class:`pnp.studies.model.StudyModel`), e.g.
        :class:`pnp.studies.channel.ChannelPNPModel`.
    grid
        The parameter grid; the model checks it before anything is solved.
    out
        Study folder (created; must be writable). A rerun skips finished points; a different
        definition in the same folder raises :class:`pnp.studies.store.StudyMismatchError`.
    comm
        Communicator of the run (collective).
    distribute
        False: every solve runs on all ranks of ``comm``. True: independent sweep branches are
        dealt out to the ranks, each solving on ``MPI.COMM_SELF`` (for many small meshes).
    fields
        ``"none"``, ``"vtx"`` or ``"xdmf"``: write each solved point's fields to ``fields/``.
    profiles
        Write each solved point's axial profile to ``profiles/<id>.csv``.
    progress
        Show a tqdm progress bar on rank 0.
    retry_failed
        Recompute points recorded as failed.
    name
        Study name (part of the definition).
    checked
        The caller has already run ``model.check(grid)`` (:func:`pnp.studies.study.run` does):
        it is not repeated.

    Returns
    -------
    StudyResult
        The merged table and what this run did (same on every rank).

    Raises
    ------
    pnp.studies.lock.StudyLockedError
        Another process is running a study in ``out`` (:mod:`pnp.studies.lock`).
    """
    if fields not in FIELD_FORMATS:
        raise InputError(f"fields must be one of {FIELD_FORMATS}, got {fields!r}")
    if not isinstance(grid, ParameterGrid):
        raise InputError("grid must be a pnp.studies.ParameterGrid")
    if not checked:
        model.check(grid)
    lock = StudyLock(out)
    _bcast_or_raise(comm, lambda: lock.acquire() and None)  # rank 0 holds it for the run
    try:
        return _run_locked(model, grid, StudyStore(out), comm, distribute=distribute,
                           fields=fields, profiles=profiles, progress=progress,
                           retry_failed=retry_failed, name=name)  # fmt: skip
    finally:
        if comm.rank == 0:
            lock.release()


def _run_locked(
    model: StudyModel, grid: ParameterGrid, store: StudyStore, comm: MPI.Comm, *,
    distribute: bool, fields: str, profiles: bool, progress: bool, retry_failed: bool, name: str,
) -> StudyResult:  # fmt: skip
    """:func:`run_study` once the folder is locked."""
    out = store.path
    digest, records = _open_store(store, model, grid, name, comm)
    points = grid.points()
    done = {pid for pid, rec in records.items() if rec["status"] == "ok" or not retry_failed}
    todo = {p.id for p in points if p.id not in done}
    skipped = tuple(p.id for p in points if p.id in done)
    chains = plan_chains(model, points)
    run_id = comm.bcast(f"run-{uuid.uuid4().hex[:16]}" if comm.rank == 0 else None, root=0)
    log.info(
        "study %s: %d points, %d to compute, %d already finished, %d chains",
        name or out, len(points), len(todo), len(skipped), len(chains),
    )  # fmt: skip
    bar = _progress_bar(len(todo), enabled=progress and comm.rank == 0)
    options = {"fields": fields, "profiles": profiles, "run_id": run_id,
               "first_columns": grid.names}  # fmt: skip
    if distribute and comm.size > 1:
        computed = _run_distributed(model, store, comm, chains, todo, bar, len(records), options)
    else:
        computed = _run_collective(model, store, comm, chains, todo, bar, records, options)
    comm.Barrier()
    if bar is not None:
        bar.n = bar.total
        bar.close()
    table = _bcast_or_raise(comm, lambda: store.write_table(grid.names))
    failed = _failed_points(table, grid.names, comm)
    return StudyResult(table, Path(out), computed, skipped, failed, digest)


def _open_store(
    store: StudyStore, model: StudyModel, grid: ParameterGrid, name: str, comm: MPI.Comm
) -> tuple[str, dict[str, Any]]:
    """Open (or resume) the study folder on rank 0: the definition hash and earlier records."""
    from poreflux import __version__

    definition = {"name": name, "model": model.definition(), "grid": grid.to_dict()}
    digest = _bcast_or_raise(comm, lambda: store.open(definition, version=__version__))
    return digest, _bcast_or_raise(comm, store.records)


def _run_distributed(
    model: StudyModel, store: StudyStore, comm: MPI.Comm, chains: Sequence[Chain], todo: set[str],
    bar: Any, start_count: int, options: dict[str, Any],
) -> tuple[str, ...]:  # fmt: skip
    """Deal the chains out to the ranks (each solves on COMM_SELF); ids computed by all ranks."""
    mine = [chains[i] for i in _deal(chains, comm.size)[comm.rank]]

    def tick(point: StudyPoint) -> None:  # rank 0 shows everyone's progress
        if bar is not None:
            bar.n = min(max(store.count() - start_count, 0), bar.total)
            bar.refresh()

    executor = _Executor(model, store, MPI.COMM_SELF, writer=True, progress=tick,
                         table_every_point=False, **options)  # fmt: skip
    executor.run(mine, todo)
    executor.close_solver()
    computed = comm.allgather(executor.computed)
    return tuple(sorted(pid for part in computed for pid in part))


def _run_collective(
    model: StudyModel, store: StudyStore, comm: MPI.Comm, chains: Sequence[Chain], todo: set[str],
    bar: Any, records: dict[str, Any], options: dict[str, Any],
) -> tuple[str, ...]:  # fmt: skip
    """Every solve on all ranks of ``comm``; rank 0 writes the records and the table."""

    def tick(point: StudyPoint) -> None:
        if bar is not None:
            bar.update(1)

    executor = _Executor(model, store, comm, writer=comm.rank == 0, progress=tick,
                         table_every_point=True, records=records, **options)  # fmt: skip
    executor.run(chains, todo)
    executor.close_solver()
    return tuple(sorted(executor.computed))


def _failed_points(
    table: StudyTable, first: Sequence[str], comm: MPI.Comm
) -> tuple[tuple[str, str, str], ...]:
    """``(id, label, error)`` of every failed row (logged on rank 0)."""
    failed = tuple(
        (r["id"], ", ".join(f"{k}={r[k]:g}" for k in first if k in r), str(r.get("error", "")))
        for r in table.rows
        if r.get("status") == "failed"
    )
    if comm.rank == 0:
        for pid, label, err in failed:
            log.warning("failed point %s (%s): %s", pid, label, err.splitlines()[0])
    return failed


def _progress_bar(total: int, *, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="point", desc="study", disable=os.environ.get("CI") == "true")
