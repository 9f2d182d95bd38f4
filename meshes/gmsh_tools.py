"""Shared gmsh helpers: one session per build, graded size fields, model -> :class:`ChannelMesh`.

Every builder in :mod:`meshes` follows the same pipeline:

1. validate the geometry description on *all* ranks (so bad input raises everywhere at once);
2. on rank 0 only, build the gmsh model (geometry, physical groups, size fields, mesh) inside
   :func:`gmsh_model` - a session that sets ``General.NumThreads = 1`` (reproducible meshes) and
   always finalizes gmsh, even on error;
3. on all ranks, :func:`model_to_channel_mesh` distributes the mesh with the ghost mode
   ``shared_facet`` (interior-facet ``dS`` integrals then work in parallel) and turns the
   physical groups into the name tables of the record.

A gmsh failure on rank 0 is broadcast, so every rank raises :class:`MeshGenerationError` instead
of the other ranks waiting forever in a collective call.
"""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dolfinx
import dolfinx.io.gmsh as dgmsh
from mpi4py import MPI

from meshes.cache import load_cached, store_cached
from meshes.distribute import MeshArrays, extract_arrays, mesh_from_arrays
from meshes.record import ChannelMesh
from poreflux.errors import InputError, MeshTagError, PorefluxError

log = logging.getLogger(__name__)

__all__ = [
    "MeshGenerationError",
    "MeshRecipe",
    "build_on_rank0",
    "distance_threshold_field",
    "gmsh_model",
    "model_to_channel_mesh",
    "recipe_of",
    "shared_facet_partitioner",
    "use_size_field",
]


class MeshGenerationError(PorefluxError, RuntimeError):
    """gmsh failed to build a geometry or mesh (the message carries gmsh's own error)."""


def shared_facet_partitioner() -> Callable:
    """Cell partitioner with ghost mode ``shared_facet`` (``dS`` integrals work in parallel)."""
    return dolfinx.mesh.create_cell_partitioner(dolfinx.mesh.GhostMode.shared_facet, 2)


@contextlib.contextmanager
def gmsh_model(name: str, verbosity: int = 0) -> Iterator[Any]:
    """A fresh gmsh model with reproducible settings; gmsh is finalized (or the model removed).

    When gmsh was already initialized by the caller, only the model made here is removed on exit,
    so a user's own gmsh session survives.

    Parameters
    ----------
    name
        Name of the gmsh model.
    verbosity
        gmsh ``General.Verbosity`` (0 = silent, 5 = debug).

    Yields
    ------
    The ``gmsh.model`` module, with ``name`` as the current model.
    """
    import gmsh  # here, not at module level: a cached mesh never loads gmsh

    owner = not gmsh.isInitialized()
    if owner:
        gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 1 if verbosity > 0 else 0)
        gmsh.option.setNumber("General.Verbosity", verbosity)
        gmsh.option.setNumber("General.NumThreads", 1)
        gmsh.option.setNumber("Mesh.MaxNumThreads1D", 1)
        gmsh.option.setNumber("Mesh.MaxNumThreads2D", 1)
        gmsh.option.setNumber("Mesh.MaxNumThreads3D", 1)
        gmsh.model.add(name)
        gmsh.model.setCurrent(name)
        yield gmsh.model
    finally:
        if owner:
            gmsh.finalize()
        else:
            with contextlib.suppress(Exception):
                gmsh.model.setCurrent(name)
                gmsh.model.remove()


def use_size_field(field: int) -> None:
    """Make ``field`` the background mesh size and switch off the other size sources."""
    import gmsh

    gmsh.model.mesh.field.setAsBackgroundMesh(field)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)


def distance_threshold_field(
    dim: int,
    tags: Sequence[int],
    size_min: float,
    size_max: float,
    dist_min: float,
    growth: float,
    sampling: int = 100,
) -> int:
    """Size ``size_min`` within ``dist_min`` of some entities, growing linearly to ``size_max``.

    The size grows by ``growth`` (dimensionless, nm per nm) beyond ``dist_min``, so it reaches
    ``size_max`` at the distance ``dist_min + (size_max - size_min) / growth``.

    Parameters
    ----------
    dim
        Dimension of the entities (0 points, 1 curves, 2 surfaces).
    tags
        gmsh tags of the entities the distance is measured from.
    size_min, size_max
        Mesh sizes near and far (nm).
    dist_min
        Distance (nm) over which the size stays ``size_min``.
    growth
        Rate of growth of the size with distance (0.2-0.5 gives well-shaped cells).
    sampling
        Points per curve / per surface direction used by gmsh's Distance field.

    Returns
    -------
    The tag of the Threshold field.
    """
    import gmsh

    fm = gmsh.model.mesh.field
    dist = fm.add("Distance")
    key = {0: "PointsList", 1: "CurvesList", 2: "SurfacesList"}[dim]
    fm.setNumbers(dist, key, list(tags))
    fm.setNumber(dist, "Sampling", sampling)
    thr = fm.add("Threshold")
    fm.setNumber(thr, "InField", dist)
    fm.setNumber(thr, "SizeMin", size_min)
    fm.setNumber(thr, "SizeMax", size_max)
    fm.setNumber(thr, "DistMin", dist_min)
    fm.setNumber(thr, "DistMax", dist_min + max(size_max - size_min, 0.0) / growth + 1e-12)
    return thr


def _raise(name: str, kind: str, message: str) -> None:
    if kind == "MeshTagError":
        raise MeshTagError(message)
    if kind == "InputError":
        raise InputError(message)
    raise MeshGenerationError(f"gmsh could not build {name!r}: {message}")


@dataclass(frozen=True)
class MeshRecipe:
    """How a distributed mesh was made, so that it can be rebuilt finer on any communicator.

    Attributes
    ----------
    name
        gmsh model name.
    make_model
        The builder's model function (geometry, groups, sizes, ``generate``), run on rank 0.
    gdim
        Geometric dimension, or a callable evaluated after ``make_model``.
    refinements
        Uniform gmsh refinements applied after ``make_model`` (each splits every cell in
        ``2**tdim`` with new nodes at the edge midpoints, so the meshes are nested).
    cache_key
        Key of the on-disk mesh cache (:mod:`meshes.cache`), or None for a builder that is not
        cached.
    """

    name: str
    make_model: Callable[[Any], None]
    gdim: int | Callable[[], int]
    refinements: int = 0
    cache_key: str | None = None


_RECIPES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def recipe_of(mesh: Any) -> MeshRecipe | None:
    """The :class:`MeshRecipe` of a mesh made by :func:`build_on_rank0` (None otherwise)."""
    try:
        return _RECIPES.get(mesh)
    except TypeError:  # not weak-referenceable
        return None


def _arrays_on_rank0(model: Any, recipe: MeshRecipe) -> tuple[MeshArrays | None, int]:
    """Build and refine the gmsh model, then take its arrays (None: DOLFINx's importer)."""
    import gmsh

    recipe.make_model(model)
    for _ in range(recipe.refinements):
        gmsh.option.setNumber("Mesh.SecondOrderLinear", 1)  # midpoints: nested meshes
        model.mesh.refine()
    dim = recipe.gdim() if callable(recipe.gdim) else int(recipe.gdim)
    return extract_arrays(model), dim


def _status(exc: Exception) -> tuple[str, str]:
    """(kind, message) of an exception raised on rank 0, to be raised again on every rank."""
    kind = "InputError" if isinstance(exc, InputError) else "gmsh"
    kind = "MeshTagError" if isinstance(exc, MeshTagError) else kind
    msg = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
    return kind, msg


def _build_rank0(comm: MPI.Comm, recipe: MeshRecipe, partitioner: Callable) -> Any:
    """Rank 0's side of :func:`build_on_rank0`: the cache, else gmsh; then the collective part.

    Every path broadcasts one status ``(kind, message, gdim, arrays?)`` to the other ranks.
    """
    key = None if callable(recipe.gdim) else recipe.cache_key
    arrays = load_cached(key, recipe.refinements)
    if arrays is not None:
        comm.bcast(("", "", int(recipe.gdim), True), root=0)
        return mesh_from_arrays(arrays, comm, 0, int(recipe.gdim), partitioner)
    with gmsh_model(recipe.name) as model:
        start = time.perf_counter()
        try:
            arrays, dim = _arrays_on_rank0(model, recipe)
        except Exception as exc:  # gmsh raises bare Exception
            kind, msg = _status(exc)
            comm.bcast((kind, msg, 0, False), root=0)
            _raise(recipe.name, kind, msg)
        comm.bcast(("", "", dim, arrays is not None), root=0)
        if arrays is None:  # not a one-type simplex mesh: DOLFINx's importer, gmsh still open
            return dgmsh.model_to_mesh(model, comm, 0, gdim=dim, partitioner=partitioner)
        store_cached(key, recipe.refinements, arrays, time.perf_counter() - start)
    # gmsh is finalized here, so its copy of the mesh is freed before DOLFINx builds its own
    return mesh_from_arrays(arrays, comm, 0, dim, partitioner)


def build_on_rank0(
    comm: MPI.Comm,
    name: str,
    make_model: Callable[[Any], None],
    gdim: int | Callable[[], int],
    *,
    refinements: int = 0,
    cache_key: str | None = None,
) -> dgmsh.MeshData:
    """Run ``make_model(gmsh.model)`` on rank 0 in a fresh session and distribute the mesh.

    ``make_model`` must create (or load) the geometry, the physical groups (with names) and the
    mesh. Collective on ``comm``. ``gdim`` may be a callable evaluated on rank 0 after
    ``make_model`` (for files whose dimension is read from the file). ``refinements`` uniform
    gmsh refinements follow (this is how :func:`meshes.refine.refine_uniformly` refines under
    MPI). With a ``cache_key`` (and an integer ``gdim``) the mesh is read from / written to the
    on-disk mesh cache (:mod:`meshes.cache`), so the same geometry is meshed once, and a cached
    mesh is read without starting (or importing) gmsh.

    Raises
    ------
    InputError, MeshTagError
        On every rank, when ``make_model`` raised one of them on rank 0 (bad input files).
    MeshGenerationError
        On every rank, when gmsh failed on rank 0.
    """
    recipe = MeshRecipe(name, make_model, gdim, int(refinements), cache_key)
    partitioner = shared_facet_partitioner()
    if comm.rank == 0:
        data = _build_rank0(comm, recipe, partitioner)
    else:
        kind, msg, dim, fast = comm.bcast(None, root=0)
        if kind:
            _raise(name, kind, msg)
        if fast:
            data = mesh_from_arrays(None, comm, 0, dim, partitioner)
        else:
            data = dgmsh.model_to_mesh(None, comm, 0, gdim=dim, partitioner=partitioner)
    with contextlib.suppress(TypeError):
        _RECIPES[data.mesh] = recipe
    return data


def model_to_channel_mesh(
    data: dgmsh.MeshData,
    *,
    axisymmetric: bool,
    water_regions: Sequence[str],
    geometry: Any = None,
    meta: dict[str, Any] | None = None,
) -> ChannelMesh:
    """Turn dolfinx's gmsh import record into a :class:`ChannelMesh` (name tables by dimension)."""
    tdim = data.mesh.topology.dim
    regions: dict[str, int] = {}
    boundaries: dict[str, int] = {}
    for pname, group in data.physical_groups.items():
        if group.dim == tdim:
            regions[pname] = int(group.tag)
        elif group.dim == tdim - 1:
            boundaries[pname] = int(group.tag)
    # make sure facet-to-cell connectivity exists for ds/dS measures and exterior-facet queries
    data.mesh.topology.create_connectivity(tdim - 1, tdim)
    return ChannelMesh(
        mesh=data.mesh,
        cell_tags=data.cell_tags,
        facet_tags=data.facet_tags,
        regions=regions,
        boundaries=boundaries,
        axisymmetric=axisymmetric,
        water_regions=tuple(w for w in water_regions if w in regions),
        geometry=geometry,
        meta=dict(meta or {}),
    )


class Timer:
    """Wall-clock timer used to record build times in ``ChannelMesh.meta``."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since construction."""
        return time.perf_counter() - self.start
