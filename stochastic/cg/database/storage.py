"""HDF5 storage of the CG database: schema check, atomic writes, resumable bookkeeping.

Layout (one file)::

    /                     attrs: schema, schema_version, settings (JSON), seed
    /models/m0007         attrs: molecule, seed, parameters (JSON), d_aa, d_aa_err, ...
                          datasets: g_aa, u_ibi
    /entries/m0007_e03    attrs: model, molecule, mass, seed, d, d_err, rough, kind, ...
                          datasets: u (potential on the grid), g (CG RDF)
    /heldout/<molecule>   like a model (reference data of a held-out liquid)

Every write is atomic at the file level: the file is copied, the group is added to the copy and
the copy replaces the original (``os.replace``). HDF5 has no journal, so writing in place and
being killed could corrupt the whole file; this way a kill loses at most the entry being
written. Files with a foreign schema, another version or that HDF5 cannot read are refused with
:class:`~stochastic.cg.database.schema.DatabaseError`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from stochastic.cg.database.schema import (
    SCHEMA_NAME,
    SCHEMA_VERSION,
    DatabaseError,
    DatabaseSettings,
)


def _h5py():
    import h5py  # lazy: only needed when a database is touched

    return h5py


def model_key(model: int) -> str:
    """Group name of an all-atom model."""
    return f"m{model:04d}"


def entry_key(model: int, entry: int) -> str:
    """Group name of a CG entry."""
    return f"m{model:04d}_e{entry:02d}"


class Database:
    """A database file (see the module docstring). Open with :meth:`create` or :meth:`open`."""

    def __init__(self, path: Path, settings: DatabaseSettings, seed: int):
        self.path = Path(path)
        self.settings = settings
        self.seed = int(seed)
        #: Timings of the last :func:`~stochastic.cg.database.generator.generate` call.
        self.stats: dict[str, Any] = {}

    @classmethod
    def create(cls, path: str | Path, settings: DatabaseSettings, seed: int) -> Database:
        """A new empty database; an existing file of the same settings and seed is reused."""
        p = Path(path)
        if p.exists():
            db = cls.open(p)
            if db.settings != settings or db.seed != int(seed):
                raise DatabaseError(
                    f"{p} was generated with other settings or seed ({db.seed}); continue it with "
                    "the same ones or choose a new file name"
                )
            return db
        p.parent.mkdir(parents=True, exist_ok=True)
        db = cls(p, settings, seed)
        with db._transaction(new=True) as f:
            f.attrs["schema"] = SCHEMA_NAME
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["settings"] = settings.to_json()
            f.attrs["seed"] = int(seed)
            for g in ("models", "entries", "heldout"):
                f.create_group(g)
        return db

    @classmethod
    def open(cls, path: str | Path) -> Database:
        """Open and validate an existing database (read-only check)."""
        p = Path(path)
        if not p.is_file():
            raise DatabaseError(f"no database file at {p}")
        h5py = _h5py()
        try:
            with h5py.File(p, "r") as f:
                schema = f.attrs.get("schema")
                version = f.attrs.get("schema_version")
                settings = f.attrs.get("settings")
                seed = f.attrs.get("seed")
        except OSError as err:
            raise DatabaseError(f"{p} is not a readable HDF5 file (corrupt or truncated): "
                                f"{err}; regenerate it or restore a copy") from err  # fmt: skip
        if schema != SCHEMA_NAME:
            raise DatabaseError(f"{p} is not a poreflux CG database (schema attribute "
                                f"{schema!r}, expected {SCHEMA_NAME!r})")  # fmt: skip
        if version != SCHEMA_VERSION:
            raise DatabaseError(f"{p} has schema version {version}, this poreflux reads version "
                                f"{SCHEMA_VERSION}; regenerate the database")  # fmt: skip
        return cls(p, DatabaseSettings.from_json(str(settings)), int(seed))

    @contextmanager
    def _transaction(self, new: bool = False) -> Iterator[Any]:
        """Open a copy for writing; on success it atomically replaces the file."""
        h5py = _h5py()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".h5.tmp")
        os.close(fd)
        try:
            if not new:
                shutil.copyfile(self.path, tmp)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private (0600)
            with h5py.File(tmp, "w" if new else "r+") as f:
                yield f
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # --- writing ----------------------------------------------------------------------------
    def write(self, group: str, key: str, attrs: dict[str, Any], data: dict[str, np.ndarray]):
        """Add ``/group/key`` with attributes (dicts/lists stored as JSON) and datasets."""
        with self._transaction() as f:
            parent = f[group]
            if key in parent:
                del parent[key]
            g = parent.create_group(key)
            for k, v in attrs.items():
                g.attrs[k] = json.dumps(v) if isinstance(v, dict | list | tuple) else v
            for k, v in data.items():
                g.create_dataset(k, data=np.asarray(v))

    def merge(self, other: Database) -> int:
        """Copy groups of ``other`` (same settings and seed) that this file lacks; return count."""
        if other.settings != self.settings or other.seed != self.seed:
            raise DatabaseError(f"cannot merge {other.path}: other settings or seed")
        h5py = _h5py()
        n = 0
        with h5py.File(other.path, "r") as src, self._transaction() as f:
            for group in ("models", "entries", "heldout"):
                for key in src[group]:
                    if key not in f[group]:
                        src.copy(src[group][key], f[group], name=key)
                        n += 1
        return n

    def import_references(self, path: str | Path) -> int:
        """Copy the all-atom references (``/models``, ``/heldout``) of an older database at
        ``path`` (any schema version of this layout) that this file lacks, so that only the CG
        entries are regenerated; the seed and every setting the references depend on (all but
        ``entries_per_model`` and ``rough_max``) must agree. Returns the groups copied."""
        h5py = _h5py()
        with h5py.File(path, "r") as src:
            if src.attrs.get("schema") != SCHEMA_NAME:
                raise DatabaseError(f"{path} is not a poreflux CG database")
            old = json.loads(str(src.attrs["settings"]))
            new = json.loads(self.settings.to_json())
            keep = set(old) - {"entries_per_model", "rough_max"}
            if int(src.attrs["seed"]) != self.seed or any(old[k] != new.get(k) for k in keep):
                raise DatabaseError(f"{path}: references of other settings or seed")
            n = 0
            with self._transaction() as f:
                for group in ("models", "heldout"):
                    for key in src[group]:
                        if key not in f[group]:
                            src.copy(src[group][key], f[group], name=key)
                            n += 1
        return n

    # --- reading ----------------------------------------------------------------------------
    def keys(self, group: str) -> list[str]:
        """Names in ``group`` (models, entries, heldout), sorted."""
        with _h5py().File(self.path, "r") as f:
            return sorted(f[group].keys())

    def read(self, group: str, key: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Attributes (JSON decoded) and datasets of ``/group/key``."""
        with _h5py().File(self.path, "r") as f:
            if key not in f[group]:
                raise DatabaseError(f"{self.path} has no {group}/{key}")
            g = f[group][key]
            attrs = {k: _decode(v) for k, v in g.attrs.items()}
            return attrs, {k: g[k][()] for k in g}

    def training_arrays(self) -> dict[str, np.ndarray]:
        """All entries as arrays: mass, d, rough, model, molecule, density (beads per nm^3)
        (n,), g and u (n, bins)."""
        out: dict[str, list] = {"mass": [], "d": [], "g": [], "u": [], "model": [], "molecule": [],
                                "rough": [], "density": []}  # fmt: skip
        n_beads = self.settings.n_molecules
        with _h5py().File(self.path, "r") as f:
            for key in sorted(f["entries"]):
                e = f["entries"][key]
                out["mass"].append(float(e.attrs["mass"]))
                out["d"].append(float(e.attrs["d"]))
                out["rough"].append(float(e.attrs.get("rough", 0.0)))
                out["model"].append(int(e.attrs["model"]))
                out["molecule"].append(str(_decode(e.attrs["molecule"])))
                out["density"].append(n_beads / float(e.attrs["box_length"]) ** 3)
                out["g"].append(e["g"][()])
                out["u"].append(e["u"][()])
        return {k: np.array(v) for k, v in out.items()}


def _decode(v: Any) -> Any:
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except json.JSONDecodeError:
            return v
    if isinstance(v, np.generic):
        return v.item()
    return v
