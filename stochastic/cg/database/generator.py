"""Database generation: serial, or split over MPI ranks; resumable; seeded.

Work units are all-atom models (a base molecule with random bonded parameters -> reference run
-> ``entries_per_model`` CG entries) and held-out reference liquids. Every unit and entry draws
its random numbers from ``SeedSequence([seed, model, entry])`` so that the result does not
depend on the order, the number of ranks or restarts. Finished groups are skipped on restart
(a kill loses only the entry in progress).

With MPI (``mpiexec -n 4 python -m stochastic.cg.database generate ... --mpi``) unit ``i``
runs on rank ``i % size``; each rank writes its own shard ``<name>.rank<r>.h5`` and rank 0
merges the shards into the database at the end (and at the start of a restart). mpi4py is
imported only here, inside :func:`generate`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from stochastic.cg.database.pipeline import (
    kt_of,
    molecule_box,
    perturb_potential,
    reference_run,
    run_cg_entry,
)
from stochastic.cg.database.schema import BASE_MOLECULES, DatabaseSettings
from stochastic.cg.database.storage import Database, entry_key, model_key
from stochastic.cg.errors import CGInputError
from stochastic.md.trappe import MoleculeModel, trappe_model

log = logging.getLogger(__name__)


def unit_seed(seed: int, *keys: int) -> int:
    """An independent 63-bit seed for ``keys`` (numpy ``SeedSequence`` spawning by key)."""
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(2, np.uint64)[0]
               >> np.uint64(1))  # fmt: skip


def model_of(index: int, seed: int, names: tuple[str, ...] = BASE_MOLECULES) -> MoleculeModel:
    """The randomly perturbed all-atom model number ``index`` (base molecule
    ``names[index % len(names)]``, the database's ``settings.base_molecules``)."""
    base = trappe_model(names[index % len(names)])
    return base.perturbed(np.random.default_rng(unit_seed(seed, index, 0, 0)))


def _reference_record(ref, extra: dict) -> tuple[dict, dict]:
    attrs = {"d_aa": ref.d_aa.value, "d_aa_err": ref.d_aa.error, "ibi_rms": ref.ibi_rms,
             "box_length": ref.box_length, "mass": ref.mass, "wall_time": ref.wall_time} | extra
    return attrs, {"g_aa": ref.g_aa.g, "u_ibi": ref.u_ibi}  # fmt: skip


def _do_model(db: Database, done: set[str], index: int, main: Database | None = None) -> int:
    """Reference run (unless stored) and missing entries of model ``index``, written to ``db``
    (a rank's shard under MPI: a stored reference is then read from ``main`` if it is there)."""
    s, seed = db.settings, db.seed
    model = model_of(index, seed, s.base_molecules)
    key = model_key(index)
    if key in done:
        src = main if main is not None and key in main.keys("models") else db
        attrs, data = src.read("models", key)
        u_ibi, length = data["u_ibi"], float(attrs["box_length"])
    else:
        ref = reference_run(model, s, unit_seed(seed, index, 0, 1))
        extra = {"molecule": model.spec.name, "model": index, "parameters": model.parameters()}
        db.write("models", key, *_reference_record(ref, extra))
        u_ibi, length = ref.u_ibi, ref.box_length
    written = 0
    for k in range(s.entries_per_model):
        ekey = entry_key(index, k)
        if ekey in done:
            continue
        eseed = unit_seed(seed, index, k + 1)
        rng = np.random.default_rng(eseed)
        mass = float(rng.uniform(*s.mass_range))
        if k == 0:
            u, pert = u_ibi, {}
        else:
            u, pert = perturb_potential(u_ibi, s.r, kt_of(s), rng)
        rough = float(rng.uniform(0.0, s.rough_max)) * kt_of(s)
        run = run_cg_entry(u, mass, s, length, eseed, rough=rough)
        attrs = {"model": index, "molecule": model.spec.name, "mass": mass, "seed": eseed,
                 "box_length": length, "d": run.d.value, "d_err": run.d.error, "rough": rough,
                 "kind": "ibi" if k == 0 else "perturbed", "perturbation": pert,
                 "wall_time": run.wall_time}  # fmt: skip
        db.write("entries", ekey, attrs, {"u": u, "g": run.g.g})
        written += 1
    return written


def _do_heldout(db: Database, name: str, index: int) -> None:
    model = trappe_model(name)
    ref = reference_run(model, db.settings, unit_seed(db.seed, 10**6 + index, 0, 1),
                        db.settings.heldout_replicas)  # fmt: skip
    extra = {"molecule": name, "box_check": molecule_box(model, db.settings)}
    db.write("heldout", name, *_reference_record(ref, extra))


def _done(*dbs: Database) -> set[str]:
    out: set[str] = set()
    for d in dbs:
        for group in ("models", "entries", "heldout"):
            out |= set(d.keys(group))
    return out


def _shards(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.stem}.rank*.h5"))


def generate(
    path: str | Path,
    n_models: int,
    settings: DatabaseSettings | None = None,
    seed: int = 0,
    heldout: tuple[str, ...] = (),
    mpi: bool = False,
    progress: bool = True,
) -> Database:
    """Generate (or continue) the database at ``path``; see the module docstring.

    Parameters
    ----------
    path
        HDF5 file (created if missing; continued if it holds the same settings and seed).
    n_models
        All-atom models (each gives ``settings.entries_per_model`` CG entries).
    settings
        :class:`DatabaseSettings` (default: the shipped database's).
    seed
        Master seed.
    heldout
        Catalogue names of held-out liquids whose reference data are added under ``/heldout``.
    mpi
        Split the units over the ranks of ``MPI.COMM_WORLD`` (run under ``mpiexec``).
    progress
        Show a progress bar (rank 0).

    Returns
    -------
    Database
        The merged database; on rank 0 its ``stats`` attribute holds the units, busy (wall)
        and CPU seconds per rank, the merge time and the wall time of this call.
    """
    if n_models < 0:
        raise CGInputError(f"n_models must be >= 0, got {n_models}")
    s = settings or DatabaseSettings()
    path = Path(path)
    rank, size, comm = 0, 1, None
    if mpi:
        from mpi4py import MPI  # lazy: importing stochastic never loads MPI

        comm = MPI.COMM_WORLD
        rank, size = comm.Get_rank(), comm.Get_size()
    t0 = time.perf_counter()
    if rank == 0:
        db = Database.create(path, s, seed)
        _merge_shards(db, path)
    if comm is not None:
        comm.Barrier()
    db = Database.open(path)
    out = db if size == 1 else Database.create(path.with_name(f"{path.stem}.rank{rank}.h5"), s,
                                               seed)  # fmt: skip
    done = _done(db)
    mine = _pending(heldout, n_models, done, s)[rank::size]
    busy, cpu0 = 0.0, time.process_time()
    for kind, i in tqdm(mine, disable=not progress or rank != 0, desc="CG database", unit="unit"):
        t_unit = time.perf_counter()
        if kind == "heldout":
            _do_heldout(out, heldout[i], i)
        else:
            _do_model(out, done | _done(out), i, db)
        busy += time.perf_counter() - t_unit
    t_merge = time.perf_counter()
    loads = [(len(mine), busy, time.process_time() - cpu0)]
    if comm is not None:
        loads = comm.gather(loads[0])
        comm.Barrier()
        t_merge = time.perf_counter()
        if rank == 0:
            _merge_shards(db, path)
        comm.Barrier()
    result = Database.open(path)
    if rank == 0:
        result.stats = {"ranks": size, "units": [n for n, _, _ in loads],
                        "busy_seconds": [b for _, b, _ in loads],
                        "cpu_seconds": [c for _, _, c in loads],
                        "merge_seconds": time.perf_counter() - t_merge,
                        "wall_seconds": time.perf_counter() - t0}  # fmt: skip
        log.info("generation: %s", result.stats)
    return result


def _merge_shards(db: Database, path: Path) -> None:
    """Merge the rank shards next to ``path`` into ``db`` and delete them (rank 0 only)."""
    for shard in _shards(path):
        db.merge(Database.open(shard))
        shard.unlink()


def _pending(heldout: tuple[str, ...], n_models: int, done: set[str], s: DatabaseSettings):
    """Units with work left (finished ones are not dealt out, so that a restart keeps the
    ranks balanced): held-out liquids first, then models, as ``(kind, index)``."""
    units = [("heldout", i) for i, name in enumerate(heldout) if name not in done]
    for i in range(n_models):
        keys = {model_key(i)} | {entry_key(i, k) for k in range(s.entries_per_model)}
        if not keys <= done:
            units.append(("model", i))
    return units
