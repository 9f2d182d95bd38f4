"""Field files readable from Python: one HDF5 file of nodal values per solution.

The VTX (``.bp``) and XDMF files of :mod:`pnp.results.io` are for ParaView; this plain HDF5
layout is for scripts (``h5py`` and ``numpy`` only, no DOLFINx needed to read it). Written by
:func:`pnp.results.io.write_fields_h5` from MPI rank 0 after gathering every rank's part.

Layout (version :data:`FORMAT`)::

    /                      attrs: format, length_unit ("nm"), coordinates ("r z" for 2D
                           axisymmetric, "x y" or "x y z"), and free metadata (e.g. voltage_mV)
    /meshes/<mesh>/points  (N, gdim) float64 node coordinates [nm]
    /meshes/<mesh>/cells   (M, gdim + 1) int64 node indices of each simplex (triangle or tet)
    /fields/<name>         (N,) float64 nodal values (P1: exact at the nodes, linear in each
                           cell); attrs unit (e.g. "mV", "mM") and mesh (a key of /meshes)

h5py must be imported before the PETSc stack of DOLFINx loads its own HDF5 library in the same
process (after that, ``import h5py`` fails with "Not a datatype"): import h5py first in a
script, before dolfinx, petsc4py or any pnp solver. :mod:`meshes.backend` (run by importing
:mod:`meshes` or :mod:`pnp`) imports it first for that reason; :func:`load_h5py` turns the failure
into an error that says what to do.

A PNP solution has two meshes: ``domain`` (everything; the potential ``potential_mV``) and
``water`` (the electrolyte; the concentrations ``<species>_mM``).

>>> f = read_fields("study-output/fields/p00003.h5")                  # doctest: +SKIP
>>> points, phi = f.sample_line("potential_mV", (0.0, -8.0), (0.0, 8.0), 200)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from poreflux.errors import InputError, PorefluxError

__all__ = ["FORMAT", "FieldFile", "load_h5py", "read_fields"]

#: Format tag in the file's root attributes.
FORMAT = "poreflux-fields/1"


@dataclass(frozen=True)
class FieldFile:
    """The content of a field file (see the module docstring).

    Attributes
    ----------
    meshes
        Mesh name -> ``(points (N, gdim) [nm], cells (M, gdim + 1))``.
    values
        Field name -> nodal values (N,) on its mesh.
    units
        Field name -> unit.
    mesh_of
        Field name -> mesh name.
    attrs
        The file's root attributes (format, coordinates, metadata).
    """

    meshes: Mapping[str, tuple[np.ndarray, np.ndarray]]
    values: Mapping[str, np.ndarray]
    units: Mapping[str, str]
    mesh_of: Mapping[str, str]
    attrs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """The field names."""
        return tuple(self.values)

    def _field(self, name: str) -> np.ndarray:
        if name not in self.values:
            raise InputError(f"no field {name!r} in the file; fields: {list(self.values)}")
        return self.values[name]

    def points(self, name: str) -> np.ndarray:
        """Node coordinates [nm] of the mesh of field ``name``."""
        self._field(name)
        return self.meshes[self.mesh_of[name]][0]

    def sample(self, name: str, points: Sequence[Sequence[float]]) -> np.ndarray:
        """Field ``name`` at ``points`` (k, gdim) by linear interpolation in the containing cell;
        NaN outside the mesh (e.g. inside the membrane for a concentration)."""
        values = self._field(name)
        nodes, cells = self.meshes[self.mesh_of[name]]
        pts = np.atleast_2d(np.asarray(points, dtype=float))
        if pts.shape[1] != nodes.shape[1]:
            raise InputError(
                f"points need {nodes.shape[1]} coordinates ({self.attrs.get('coordinates')}), "
                f"got {pts.shape[1]}"
            )
        cell, bary = _locate(nodes, cells, pts)
        out = np.full(len(pts), np.nan)
        found = cell >= 0
        out[found] = np.einsum("ij,ij->i", values[cells[cell[found]]], bary[found])
        return out

    def sample_line(
        self, name: str, start: Sequence[float], end: Sequence[float], num: int = 100
    ) -> tuple[np.ndarray, np.ndarray]:
        """Field ``name`` at ``num`` equally spaced points from ``start`` to ``end`` [nm];
        returns ``(points (num, gdim), values (num,))`` (NaN outside the mesh)."""
        t = np.linspace(0.0, 1.0, int(num))[:, None]
        a, b = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
        pts = a + t * (b - a)
        return pts, self.sample(name, pts)


def _barycentric(nodes: np.ndarray, cells: np.ndarray, idx: np.ndarray, p: np.ndarray):
    """Barycentric coordinates of point ``p`` in the cells ``idx`` (rows: cells)."""
    verts = nodes[cells[idx]]  # (k, d + 1, d)
    mat = np.transpose(verts[:, 1:, :] - verts[:, :1, :], (0, 2, 1))  # (k, d, d)
    rhs = p - verts[:, 0, :]
    lam = np.linalg.solve(mat, rhs[..., None])[..., 0]
    return np.column_stack([1.0 - lam.sum(axis=1), lam])


def _locate(nodes: np.ndarray, cells: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point its containing cell (-1 outside) and barycentric coordinates.

    Candidates are the cells whose centroid lies within the largest cell diameter of the point
    (a cell containing the point always does), found with a k-d tree of the centroids.
    """
    from scipy.spatial import cKDTree

    verts = nodes[cells]
    centroids = verts.mean(axis=1)
    reach = float(np.max(np.linalg.norm(verts - centroids[:, None, :], axis=2)))
    tree = cKDTree(centroids)
    tol = 1e-10
    cell = np.full(len(pts), -1, dtype=np.int64)
    bary = np.zeros((len(pts), cells.shape[1]))
    for i, p in enumerate(pts):
        idx = np.asarray(tree.query_ball_point(p, reach * (1 + 1e-9)), dtype=np.int64)
        if idx.size == 0:
            continue
        lam = _barycentric(nodes, cells, idx, p)
        inside = np.flatnonzero(lam.min(axis=1) >= -tol)
        if inside.size:
            best = inside[np.argmax(lam[inside].min(axis=1))]
            cell[i], bary[i] = idx[best], lam[best]
    return cell, bary


def load_h5py() -> Any:
    """``import h5py``, or a :class:`~poreflux.errors.PorefluxError` saying why it cannot load."""
    try:
        import h5py
    except (ImportError, ValueError) as exc:  # ValueError: clash with the HDF5 PETSc loaded
        raise PorefluxError(
            f"h5py cannot be loaded in this process ({exc}): the PETSc/DOLFINx stack loaded "
            "another HDF5 library first; import h5py before dolfinx, petsc4py or pnp.solvers "
            "(e.g. `import h5py` as the first line of the script), or read the file in a fresh "
            "process"
        ) from None
    return h5py


def read_fields(path: str | Path) -> FieldFile:
    """Read a field file written by :func:`pnp.results.io.write_fields_h5` (h5py + numpy).

    Raises
    ------
    InputError
        When the file is missing or not a poreflux field file.
    PorefluxError
        When h5py cannot be loaded in this process (see the module docstring).
    """
    h5py = load_h5py()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no field file {path}")
    with h5py.File(path, "r") as h5:
        attrs = {k: _plain(v) for k, v in h5.attrs.items()}
        if attrs.get("format") != FORMAT:
            found = attrs.get("format")
            raise InputError(f"{path} is not a poreflux field file (format {found!r})")
        meshes = {name: (g["points"][...], g["cells"][...]) for name, g in h5["meshes"].items()}
        values, units, mesh_of = {}, {}, {}
        for name, ds in h5["fields"].items():
            values[name] = ds[...]
            units[name] = str(_plain(ds.attrs.get("unit", "")))
            mesh_of[name] = str(_plain(ds.attrs["mesh"]))
    return FieldFile(meshes, values, units, mesh_of, attrs)


def _plain(value: Any) -> Any:
    """An HDF5 attribute as a Python value (bytes -> str, numpy scalar -> number)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value
