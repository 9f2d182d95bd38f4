"""On-disk cache of built meshes, keyed by everything that determines them.

Meshing a 3D channel costs seconds, and a study, a rerun or a benchmark series asks for the same
geometry again and again. The builders of :mod:`meshes` therefore give
:func:`meshes.gmsh_tools.build_on_rank0` a key made by :func:`cache_key` from

- the builder's name and dimension,
- the full ``repr`` of the geometry description (every parameter, exactly),
- the number of uniform refinements,
- the gmsh version, and a hash of the source files of the builder and of this pipeline (so that
  a change of the meshing code never reuses a stale mesh).

A cached mesh is the :class:`~meshes.distribute.MeshArrays` the gmsh model was turned into
(node coordinates as doubles, cells, cell tags, the (cell, local facet, tag) triples of the
tagged facets and the physical group names) in one uncompressed ``.npz`` file: reading it needs
neither gmsh nor any search, and the distributed DOLFINx mesh is the one a fresh build gives.

Where: ``$POREFLUX_MESH_CACHE`` when set (``0``, ``off`` or ``no`` switch the cache off), else
``$XDG_CACHE_HOME/poreflux/meshes`` (``~/.cache/poreflux/meshes``). Files are written atomically
(temporary file + rename), so concurrent runs may share the folder; a file that cannot be read
is deleted and the mesh rebuilt. Only meshes that took at least :data:`MIN_BUILD_SECONDS` to
make are stored. Delete the folder at any time to empty the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
from pathlib import Path

import numpy as np

from meshes.distribute import MeshArrays

log = logging.getLogger(__name__)

__all__ = ["MIN_BUILD_SECONDS", "cache_dir", "cache_key", "load_cached", "store_cached"]

#: Meshes that took less than this to build are not worth a file (reading one takes ~1 ms per
#: 1e4 cells, gmsh takes ~0.1 s for the smallest 2D meshes).
MIN_BUILD_SECONDS = 0.05

#: Version of the file layout (enters the file name).
FORMAT = 2

_OFF = {"0", "off", "no", "false"}
_HERE = Path(__file__).parent
_PIPELINE = (_HERE / "gmsh_tools.py", _HERE / "distribute.py", Path(__file__))
_ARRAYS = ("x", "cells", "cell_values", "facet_cell", "facet_local", "facet_values")


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is switched off (``POREFLUX_MESH_CACHE=off``)."""
    env = os.environ.get("POREFLUX_MESH_CACHE")
    if env is not None:
        return None if env.strip().lower() in _OFF or not env.strip() else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "poreflux" / "meshes"


def _source_hash(files: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(Path(f).read_bytes())
    return digest.hexdigest()[:16]


def _gmsh_identity() -> str:
    """The gmsh API module's bytes hashed (it carries the version), without importing gmsh."""
    spec = importlib.util.find_spec("gmsh")
    if spec is None or spec.origin is None:
        return "no-gmsh"
    return _source_hash((Path(spec.origin),))


def cache_key(builder_file: str | Path, name: str, geometry: object, dim: int) -> str:
    """Key of a mesh: builder source, pipeline source, gmsh version, name, dim, geometry repr.

    Parameters
    ----------
    builder_file
        The builder's module file (``__file__``); its bytes enter the key.
    name
        Builder name (e.g. ``"channel"``).
    geometry
        The geometry description; its ``repr`` must list every parameter (dataclasses do).
    dim
        Mesh dimension.
    """
    text = "|".join(
        (
            name,
            str(dim),
            repr(geometry),
            _gmsh_identity(),
            _source_hash((Path(builder_file), *_PIPELINE)),
        )
    )
    return f"{name}{dim}d-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def _path(key: str, refinements: int) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{key}-r{refinements}.v{FORMAT}.npz"


def load_cached(key: str | None, refinements: int) -> MeshArrays | None:
    """The cached mesh arrays of ``key`` refined ``refinements`` times, or None.

    Reads one ``.npz`` file (no gmsh). A file that cannot be read is deleted (the mesh is then
    rebuilt and stored again).
    """
    path = None if key is None else _path(key, refinements)
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in _ARRAYS}
            names = [str(n) for n in data["group_names"]]
            groups = dict(zip(names, map(tuple, data["group_dim_tag"].tolist()), strict=True))
        result = MeshArrays(**arrays, groups=groups)
        if result.cells.ndim != 2 or result.x.ndim != 2:
            raise ValueError("cells and x must be 2D arrays")
    except Exception as exc:  # a truncated or foreign file: zipfile, KeyError, ValueError...
        log.warning("unreadable cached mesh %s (%s): rebuilding", path, exc)
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    log.info("mesh %s read from the cache (%s)", key, path)
    return result


def store_cached(
    key: str | None, refinements: int, arrays: MeshArrays | None, build_seconds: float
) -> None:
    """Write the mesh arrays to the cache (atomically) if the build took long enough.

    A cache folder that cannot be written only logs a warning: the cache never fails a build.
    """
    path = None if key is None or arrays is None else _path(key, refinements)
    if path is None or build_seconds < MIN_BUILD_SECONDS:
        return
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.npz")
    groups = sorted(arrays.groups.items())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            np.savez(
                handle,
                **{k: getattr(arrays, k) for k in _ARRAYS},
                group_names=np.array([n for n, _ in groups], dtype=str),
                group_dim_tag=np.array([v for _, v in groups], dtype=np.int64).reshape(-1, 2),
            )
        os.replace(tmp, path)
        log.info("mesh %s stored in the cache (%s, built in %.1f s)", key, path, build_seconds)
    except OSError as exc:
        log.warning("could not store mesh %s in the cache folder %s: %s", key, path.parent, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()
