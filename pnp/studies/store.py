"""A study's output folder: manifest, one atomically written record per finished point, table.

Layout::

    <out>/manifest.json        study definition, its SHA-256 hash, poreflux version, creation time
    <out>/points/<id>.json     one record per finished (or failed) point, written atomically
    <out>/table.csv            the tidy table, rebuilt from the records (also atomically)
    <out>/profiles/<id>.csv    axial profiles (on demand; z_nm, potential_mV, <species>_mM, ...)
    <out>/fields/<id>_*.bp     fields for ParaView (on demand; VTX, or <id>_*.xdmf)
    <out>/fields/<id>.h5       the same fields for Python (pnp.results.read_fields)
    <out>/plots/*.png          figures
    <out>/.lock                held by the running process (pnp.studies.lock)

Atomic writes (:func:`poreflux.files.atomic_write_text`): the text goes to a temporary file in
the same folder, is flushed and fsynced, given the umask's permissions, then ``os.replace``-d over
the target (and the folder fsynced), so a reader or a crash never sees a partial record or table.
A point counts as finished exactly when its record exists; a rerun of the same definition skips
it. A rerun with a *different* definition (hash mismatch) is
refused with :class:`StudyMismatchError` instead of mixing results.

Methods here touch the file system of the calling process only; the runner decides which MPI rank
calls them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pnp.studies.table import StudyTable
from poreflux.errors import InputError
from poreflux.files import atomic_write_text

log = logging.getLogger(__name__)

__all__ = [
    "StudyMismatchError",
    "StudyStore",
    "atomic_write_text",
    "check_writable",
    "definition_hash",
]

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class StudyMismatchError(InputError):
    """The output folder holds a study with another definition (or is not a study folder)."""


def now_iso() -> str:
    """Current UTC time, ISO 8601 with microseconds."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/inf: a missing value
    return value


def definition_hash(definition: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of a study definition."""
    text = json.dumps(_jsonable(definition), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def check_writable(folder: str | Path) -> Path:
    """Create ``folder`` if needed and prove it writable with a probe file; else InputError."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(
            f"output folder {folder} is not writable ({exc.strerror or exc}); choose another "
            "folder with --out or fix its permissions"
        ) from None
    if not folder.is_dir():
        raise InputError(f"output path {folder} exists and is not a folder")
    return folder


class StudyStore:
    """The output folder of one study definition.

    Parameters
    ----------
    path
        The folder.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # -- paths --------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def points_dir(self) -> Path:
        return self.path / "points"

    @property
    def table_path(self) -> Path:
        return self.path / "table.csv"

    def record_path(self, point_id: str) -> Path:
        """Where the record of a point lives."""
        return self.points_dir / f"{point_id}.json"

    def field_path(self, point_id: str, fmt: str = "vtx") -> Path:
        """Where the fields of a point go (``.bp`` for VTX, ``.xdmf``)."""
        return self.path / "fields" / (f"{point_id}.bp" if fmt == "vtx" else f"{point_id}.xdmf")

    def profile_path(self, point_id: str) -> Path:
        """Where the axial profile CSV of a point goes."""
        return self.path / "profiles" / f"{point_id}.csv"

    @property
    def plots_dir(self) -> Path:
        return self.path / "plots"

    # -- manifest -----------------------------------------------------------------------------
    def open(self, definition: Mapping[str, Any], *, version: str = "") -> str:
        """Create the folder and manifest, or check an existing one; returns the hash.

        Raises
        ------
        InputError
            When the folder cannot be written.
        StudyMismatchError
            When the folder holds a study with another definition, or other files but no
            manifest.
        """
        check_writable(self.path)
        digest = definition_hash(definition)
        if self.manifest_path.exists():
            try:
                manifest = json.loads(self.manifest_path.read_text())
                stored = manifest["definition_hash"]
            except (OSError, ValueError, KeyError) as exc:
                raise StudyMismatchError(
                    f"{self.manifest_path} is not a readable study manifest ({exc}); use a new "
                    "output folder"
                ) from None
            if stored != digest:
                old = manifest.get("definition", {})
                diff = sorted(
                    k for k in set(old) | set(definition)
                    if _jsonable(old.get(k)) != _jsonable(definition.get(k))
                )  # fmt: skip
                raise StudyMismatchError(
                    f"{self.path} holds results of a different study definition (hash "
                    f"{stored[:12]} vs {digest[:12]}; differing sections: {diff}). Refusing to "
                    "mix results: choose another output folder (--out) or delete this one"
                )
            return digest
        others = [p.name for p in self.path.iterdir() if not p.name.startswith(".")]
        if others:
            raise StudyMismatchError(
                f"{self.path} is not empty ({sorted(others)[:5]}...) and has no study manifest; "
                "choose a new or empty output folder"
            )
        manifest = {
            "poreflux_study_format": FORMAT_VERSION,
            "definition_hash": digest,
            "definition": _jsonable(definition),
            "created": now_iso(),
            "poreflux_version": version,
        }
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2) + "\n")
        self.points_dir.mkdir(exist_ok=True)
        return digest

    def manifest(self) -> dict[str, Any]:
        """The manifest as a dict."""
        return json.loads(self.manifest_path.read_text())

    # -- point records ------------------------------------------------------------------------
    def write_point(self, record: Mapping[str, Any]) -> Path:
        """Write one point's record atomically (``record["id"]`` names the file)."""
        text = json.dumps(_jsonable(record), indent=1, allow_nan=False) + "\n"
        return atomic_write_text(self.record_path(record["id"]), text)

    def records(self) -> dict[str, dict[str, Any]]:
        """Every finished record by point id (temporary files ignored)."""
        out = {}
        if not self.points_dir.is_dir():
            return out
        for p in sorted(self.points_dir.glob("p*.json")):
            try:
                rec = json.loads(p.read_text())
            except (OSError, ValueError) as exc:  # never written by us: atomic writes
                log.warning("ignoring unreadable record %s (%s); the point will be rerun", p, exc)
                continue
            out[rec["id"]] = rec
        return out

    def count(self) -> int:
        """Number of point records on disk."""
        return len(list(self.points_dir.glob("p*.json"))) if self.points_dir.is_dir() else 0

    # -- the table ----------------------------------------------------------------------------
    def table(
        self, first: tuple[str, ...] = (), records: Mapping[str, Mapping[str, Any]] | None = None
    ) -> StudyTable:
        """The table of all records (read from disk unless given), in point order.

        Columns: ``id``, ``status``, ``first`` (the parameters), the results, then ``error``,
        ``finished_at`` and ``run_id``.
        """
        records = self.records() if records is None else records
        rows = []
        for rec in sorted(records.values(), key=lambda r: r["index"]):
            row = {"id": rec["id"], "status": rec["status"]}
            row.update(rec.get("params", {}))
            row.update(rec.get("results", {}))
            row["error"] = rec.get("error") or None
            row["finished_at"] = rec.get("finished_at")
            row["run_id"] = rec.get("run_id")
            rows.append(row)
        lead = ("id", "status", *first)
        table = StudyTable.from_rows(rows, first=lead)
        tail = ("error", "finished_at", "run_id")
        cols = tuple(c for c in table.columns if c not in tail) + tail
        return StudyTable(cols, table.rows)

    def write_table(
        self, first: tuple[str, ...] = (), records: Mapping[str, Mapping[str, Any]] | None = None
    ) -> StudyTable:
        """Rebuild ``table.csv`` from the records (atomically) and return it."""
        table = self.table(first, records)
        atomic_write_text(self.table_path, table.to_csv_text())
        return table
