"""On-disk cache of gmsh meshes, keyed by everything that determines them.

Meshing a 3D channel costs seconds to minutes, and a study, a rerun or a benchmark series asks
for the same geometry again and again. The builders of :mod:`meshes` therefore give
:func:`meshes.gmsh_tools.build_on_rank0` a key made by :func:`cache_key` from

- the builder's name and dimension,
- the full ``repr`` of the geometry description (every parameter, exactly),
- the number of uniform refinements,
- the gmsh version, and a hash of the source files of the builder and of this pipeline (so that
  a change of the meshing code never reuses a stale mesh).

A cached mesh is the binary ``.msh`` (format 4.1) that gmsh wrote after meshing, read back with
``gmsh.merge``; node coordinates are stored as doubles, so the distributed DOLFINx mesh is the
one a fresh build gives.

Where: ``$POREFLUX_MESH_CACHE`` when set (``0``, ``off`` or ``no`` switch the cache off), else
``$XDG_CACHE_HOME/poreflux/meshes`` (``~/.cache/poreflux/meshes``). Files are written atomically
(temporary file + rename), so concurrent runs may share the folder; a file gmsh cannot read is
deleted and the mesh rebuilt. Only meshes that took at least :data:`MIN_BUILD_SECONDS` to make
are stored. Delete the folder at any time to empty the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from pathlib import Path

import gmsh

log = logging.getLogger(__name__)

__all__ = ["MIN_BUILD_SECONDS", "cache_dir", "cache_key", "load_cached", "store_cached"]

#: Meshes that took less than this to build are not worth a file.
MIN_BUILD_SECONDS = 0.5

_OFF = {"0", "off", "no", "false"}
_PIPELINE = Path(__file__).with_name("gmsh_tools.py")
_started: dict[str, float] = {}


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
            gmsh.__version__,
            _source_hash((Path(builder_file), _PIPELINE, Path(__file__))),
        )
    )
    return f"{name}{dim}d-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def _path(key: str, refinements: int) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{key}-r{refinements}.msh"


def load_cached(key: str | None, refinements: int) -> bool:
    """Merge the cached mesh into the current (empty) gmsh model; False when there is none.

    Must run inside a gmsh session (rank 0). Starts the build clock used by
    :func:`store_cached` when there is no hit.
    """
    path = None if key is None else _path(key, refinements)
    if path is not None and path.is_file():
        try:
            gmsh.merge(str(path))
            log.info("mesh %s read from the cache (%s)", key, path)
            return True
        except Exception as exc:  # gmsh raises bare Exception
            log.warning("unreadable cached mesh %s (%s): rebuilding", path, exc)
            with contextlib.suppress(OSError):
                path.unlink()
            gmsh.model.remove()
            gmsh.model.add(key or "mesh")
    if key is not None:
        _started[key] = time.perf_counter()
    return False


def store_cached(key: str | None, refinements: int) -> None:
    """Write the current gmsh mesh to the cache (atomically) if it took long enough to make.

    A cache folder that cannot be written only logs a warning: the cache never fails a build.
    """
    if key is None:
        return
    elapsed = time.perf_counter() - _started.pop(key, time.perf_counter())
    path = _path(key, refinements)
    if path is None or elapsed < MIN_BUILD_SECONDS:
        return
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.msh")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        gmsh.option.setNumber("Mesh.Binary", 1)
        gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
        gmsh.write(str(tmp))
        os.replace(tmp, path)
        log.info("mesh %s stored in the cache (%s, built in %.1f s)", key, path, elapsed)
    except Exception as exc:  # OSError, or gmsh's bare Exception
        log.warning("could not store mesh %s in the cache folder %s: %s", key, path.parent, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()
