"""Output of fields (for ParaView) and of tables, JSON and plots (rank 0 only).

- :func:`write_vtx`: functions of one Lagrange space as an ADIOS2 BP directory
  (``dolfinx.io.VTXWriter``, open ``*.bp`` in ParaView); keeps P2 exactly.
- :func:`write_xdmf`: mesh, cell/facet tags and functions in XDMF/HDF5 (P1: higher degrees are
  interpolated to P1 first).
- :func:`write_solution`: a :class:`pnp.results.pb_solution.PBSolution` (potential [mV] and
concentrations
[mM]).
- :func:`write_json`, :func:`write_csv`, :func:`plot_axial_profile`: collective to call, written by
  rank 0 (the data must already be the same on every rank, e.g. from
  :func:`pnp.results.observables.axial_profile`).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dolfinx
import dolfinx.io
import numpy as np
from mpi4py import MPI

from poreflux.errors import PorefluxError

logger = logging.getLogger(__name__)


def _p1_copy(u: Any) -> Any:
    msh = u.function_space.mesh
    shape = u.ufl_shape
    V1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, shape) if shape else ("Lagrange", 1))
    v = dolfinx.fem.Function(V1, name=u.name)
    v.interpolate(u)
    return v


def write_vtx(path: str | Path, functions: Sequence[Any], t: float = 0.0) -> Path:
    """Write functions (same mesh and Lagrange degree) to a VTX ``.bp`` directory."""
    path = Path(path)
    if path.suffix != ".bp":
        path = path.with_suffix(".bp")
    functions = list(functions)
    if not functions:
        raise ValueError("write_vtx needs at least one function")
    comm = functions[0].function_space.mesh.comm
    if comm.rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
    comm.Barrier()
    with dolfinx.io.VTXWriter(comm, str(path), functions, engine="BP4") as writer:
        writer.write(t)
    return path


def write_xdmf(path: str | Path, cmesh: Any, functions: Sequence[Any] = (), t: float = 0.0) -> Path:
    """Write mesh, tags and (P1-interpolated) functions to ``path`` (``.xdmf`` + ``.h5``)."""
    path = Path(path).with_suffix(".xdmf")
    comm = cmesh.comm
    if comm.rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
    comm.Barrier()
    msh = cmesh.mesh
    msh.topology.create_connectivity(msh.topology.dim - 1, msh.topology.dim)
    with dolfinx.io.XDMFFile(comm, str(path), "w") as xdmf:
        xdmf.write_mesh(msh)
        if cmesh.cell_tags is not None:
            xdmf.write_meshtags(cmesh.cell_tags, msh.geometry)
        if cmesh.facet_tags is not None:
            xdmf.write_meshtags(cmesh.facet_tags, msh.geometry)
        for u in functions:
            degree = u.function_space.ufl_element().embedded_superdegree
            xdmf.write_function(u if degree == 1 else _p1_copy(u), t)
    return path


def write_solution(solution: Any, path: str | Path, fmt: str = "vtx") -> Path:
    """Write a PB solution's potential [mV] and ion concentrations [mM] (``"vtx"``/``"xdmf"``)."""
    functions = [solution.potential]
    if solution.ions is not None:
        functions += [solution.concentration(name) for name in solution.ions.names]
    if fmt == "vtx":
        return write_vtx(path, functions)
    if fmt == "xdmf":
        return write_xdmf(path, solution.cmesh, functions)
    raise ValueError(f"unknown field format {fmt!r}; use 'vtx' or 'xdmf'")


def write_fields(path: str | Path, solution: Any, fmt: str | None = None) -> Path:
    """Write a solution's fields; the format follows the suffix (``.bp`` VTX, ``.xdmf``)."""
    path = Path(path)
    if fmt is None:
        fmt = "xdmf" if path.suffix == ".xdmf" else "vtx"
    return write_solution(solution, path, fmt=fmt)


def _to_builtin(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return _to_builtin(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(path: str | Path, data: Mapping[str, Any], comm: Any = MPI.COMM_WORLD) -> Path:
    """Write ``data`` as JSON from rank 0 (numpy values converted; NaN -> null)."""
    path = Path(path)
    if comm.rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_to_builtin(data), indent=2) + "\n")
    comm.Barrier()
    return path


def write_csv(
    path: str | Path, columns: Mapping[str, Sequence[Any]], comm: Any = MPI.COMM_WORLD
) -> Path:
    """Write equal-length columns as CSV from rank 0."""
    path = Path(path)
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(
            f"CSV columns differ in length: { {k: len(v) for k, v in columns.items()} }"
        )
    if comm.rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(columns))
            for row in zip(*columns.values(), strict=True):
                writer.writerow([_to_builtin(v) for v in row])
    comm.Barrier()
    return path


def plot_axial_profile(
    profile: Mapping[str, np.ndarray], path: str | Path, comm: Any = MPI.COMM_WORLD, title: str = ""
) -> Path:
    """PNG of the potential [mV] and concentrations [mM] along the axis (rank 0 draws).

    ``profile`` is the dict of :meth:`pnp.results.pb_solution.PBSolution.axial_profile` (same on
    all ranks);
    the
    figure is :func:`pnp.results.plots.plot_axial_profiles`.
    """
    path = Path(path)
    if comm.rank == 0:
        from pnp.results.plots import plot_axial_profiles

        species = {
            k: v for k, v in profile.items() if k not in ("z", "potential", "area", "current")
        }
        plot_axial_profiles(profile["z"], profile["potential"], species, path, title=title)
    comm.Barrier()
    return path


def _p1_nodal(functions: Mapping[str, Any]) -> Any:
    """Every rank's owned P1 nodes of one mesh, gathered on rank 0 (None elsewhere).

    Nodes are numbered by the global index of a P1 dof on the mesh, so the ranks' parts fit
    together without duplicates; a function of another space is interpolated into P1 first.
    Returns ``(points (N, gdim), cells (M, k), {name: values (N,)})`` on rank 0.
    """
    msh = next(iter(functions.values())).function_space.mesh
    V1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1))
    imap = V1.dofmap.index_map
    n_owned = imap.size_local
    gdim = msh.geometry.dim
    x = V1.tabulate_dof_coordinates()[:n_owned, :gdim]
    nodes = imap.local_to_global(np.arange(n_owned, dtype=np.int32))
    n_cells = msh.topology.index_map(msh.topology.dim).size_local
    local = V1.dofmap.list[:n_cells]
    cells = imap.local_to_global(local.ravel().astype(np.int32)).reshape(local.shape)
    values = {}
    for name, u in functions.items():
        v = dolfinx.fem.Function(V1)
        v.interpolate(u)
        values[name] = v.x.array[:n_owned].copy()
    parts = msh.comm.gather((nodes, x, cells, values), root=0)
    if msh.comm.rank != 0:
        return None
    total = imap.size_global
    points = np.empty((total, gdim))
    out = {name: np.empty(total) for name in values}
    for idx, xs, _, vals in parts:
        points[idx] = xs
        for name in out:
            out[name][idx] = vals[name]
    return points, np.vstack([c for _, _, c, _ in parts]).astype(np.int64), out


def write_fields_h5(
    path: str | Path,
    meshes: Mapping[str, Mapping[str, tuple[Any, str]]],
    attrs: Mapping[str, Any] | None = None,
) -> Path:
    """Write nodal values for Python readers (:mod:`pnp.results.fieldfile`); collective.

    Parameters
    ----------
    path
        The ``.h5`` file (written atomically by rank 0, permissions from the umask).
    meshes
        Mesh name -> {field name -> (DOLFINx function on that mesh, unit)}; every function of a
        mesh must live on the same mesh (they are interpolated into P1 there).
    attrs
        Extra root attributes (numbers or strings), e.g. ``{"voltage_mV": 50.0}``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    PorefluxError
        On every rank, when rank 0 cannot load h5py (:func:`pnp.results.fieldfile.load_h5py`)
        or write the file.
    """
    path = Path(path)
    gathered = {name: _p1_nodal({k: f for k, (f, _) in fields.items()})
                for name, fields in meshes.items()}  # fmt: skip
    first = next(iter(next(iter(meshes.values())).values()))[0].function_space.mesh
    error = None
    if first.comm.rank == 0:
        try:
            _write_h5(path, gathered, meshes, attrs or {}, first.geometry.dim)
        except (OSError, PorefluxError) as exc:  # (raised on every rank below)
            error = exc
    error = first.comm.bcast(error, root=0)
    if error is not None:
        raise error
    return path


def _write_h5(
    path: Path, gathered: Mapping[str, Any], meshes: Mapping[str, Mapping[str, tuple[Any, str]]],
    attrs: Mapping[str, Any], gdim: int,
) -> None:  # fmt: skip
    """Rank 0: the layout of :mod:`pnp.results.fieldfile`, written atomically."""
    from pnp.results.fieldfile import FORMAT, load_h5py
    from poreflux.files import atomic_output

    h5py = load_h5py()
    coords = "r z" if attrs.get("axisymmetric") else " ".join("xyz"[:gdim])
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as h5:
        h5.attrs.update({"format": FORMAT, "length_unit": "nm", "coordinates": coords})
        h5.attrs.update({k: v for k, v in attrs.items() if v is not None})
        for mesh_name, (points, cells, values) in gathered.items():
            g = h5.create_group(f"meshes/{mesh_name}")
            g.create_dataset("points", data=points)
            g.create_dataset("cells", data=cells)
            for name, vals in values.items():
                ds = h5.create_dataset(f"fields/{name}", data=vals)
                ds.attrs.update({"unit": meshes[mesh_name][name][1], "mesh": mesh_name})
