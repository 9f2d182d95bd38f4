"""Mesh quality and size report (MPI-reduced): angles, aspect ratios, counts per region, dofs.

Measures, per linear simplex cell:

- triangles: the smallest interior angle, and the aspect ratio ``R / (2 r)`` (circumradius over
  twice the inradius; 1 for an equilateral triangle);
- tetrahedra: the smallest dihedral angle (70.53 deg for a regular tetrahedron), and the aspect
  ratio ``R / (3 r)`` (1 for a regular tetrahedron).
- intervals: angle is not defined (reported as 180 deg), aspect ratio 1.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from mpi4py import MPI

from meshes.record import ChannelMesh

__all__ = ["MeshQuality", "cell_quality", "mesh_quality"]


@dataclass(frozen=True)
class MeshQuality:
    """Size and shape summary of a mesh (global over MPI ranks)."""

    tdim: int
    num_cells: int
    num_vertices: int
    num_edges: int
    min_angle_deg: float
    max_aspect_ratio: float
    mean_aspect_ratio: float
    h_min: float
    h_max: float
    cells_per_region: dict[str, int] = field(default_factory=dict)

    @property
    def dofs_p1(self) -> int:
        """Scalar P1 Lagrange dofs (= vertices)."""
        return self.num_vertices

    @property
    def dofs_p2(self) -> int:
        """Scalar P2 Lagrange dofs (= vertices + edges)."""
        return self.num_vertices + self.num_edges

    def __str__(self) -> str:
        angle = "min dihedral angle" if self.tdim == 3 else "min angle"
        lines = [
            f"mesh: {self.num_cells} cells, {self.num_vertices} vertices "
            f"(scalar dofs P1 {self.dofs_p1}, P2 {self.dofs_p2})",
            f"  {angle} {self.min_angle_deg:.2f} deg, aspect ratio max "
            f"{self.max_aspect_ratio:.3f} / mean {self.mean_aspect_ratio:.3f}",
            f"  edge length {self.h_min:.4g} .. {self.h_max:.4g} nm",
        ]
        lines += [f"  {name:>16s}: {n} cells" for name, n in self.cells_per_region.items()]
        return "\n".join(lines)


def _triangle(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = [np.linalg.norm(v[:, (i + 1) % 3] - v[:, (i + 2) % 3], axis=1) for i in range(3)]
    a, b, c = e
    cos = [(b**2 + c**2 - a**2) / (2 * b * c), (a**2 + c**2 - b**2) / (2 * a * c)]
    cos.append((a**2 + b**2 - c**2) / (2 * a * b))
    ang = np.degrees(np.arccos(np.clip(np.array(cos), -1.0, 1.0))).min(axis=0)
    s = (a + b + c) / 2
    prod = np.maximum((s - a) * (s - b) * (s - c), 1e-300)
    return ang, a * b * c / (8 * prod)


def _tetra(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    faces = [(1, 2, 3), (0, 2, 3), (0, 1, 3), (0, 1, 2)]  # face i is opposite vertex i
    normals, areas = [], []
    for i, (p, q, r) in enumerate(faces):
        n = np.cross(v[:, q] - v[:, p], v[:, r] - v[:, p])
        outward = np.sign(np.einsum("ij,ij->i", n, v[:, p] - v[:, i]))
        normals.append(n * outward[:, None])
        areas.append(0.5 * np.linalg.norm(n, axis=1))
    unit = [n / np.maximum(np.linalg.norm(n, axis=1), 1e-300)[:, None] for n in normals]
    dihedral = [
        np.pi - np.arccos(np.clip(np.einsum("ij,ij->i", unit[i], unit[j]), -1.0, 1.0))
        for i, j in itertools.combinations(range(4), 2)
    ]
    ang = np.degrees(np.min(dihedral, axis=0))
    cross = np.cross(v[:, 2] - v[:, 0], v[:, 3] - v[:, 0])
    vol = np.abs(np.einsum("ij,ij->i", v[:, 1] - v[:, 0], cross)) / 6
    inr = 3 * vol / np.maximum(np.sum(areas, axis=0), 1e-300)
    A = 2 * (v[:, 1:] - v[:, :1])
    rhs = np.sum(v[:, 1:] ** 2, axis=2) - np.sum(v[:, :1] ** 2, axis=2)
    try:
        centre = np.linalg.solve(A, rhs[..., None])[..., 0]
        circ = np.linalg.norm(centre - v[:, 0], axis=1)
    except np.linalg.LinAlgError:  # a degenerate cell somewhere
        circ = np.full(len(v), np.inf)
    return ang, circ / np.maximum(3 * inr, 1e-300)


def cell_quality(cm: ChannelMesh) -> tuple[np.ndarray, np.ndarray]:
    """Per owned cell: (smallest angle in degrees, aspect ratio); see the module docstring."""
    msh = cm.mesh
    tdim = msh.topology.dim
    n = msh.topology.index_map(tdim).size_local
    dofs = msh.geometry.dofmaps[0][:n]
    v = msh.geometry.x[dofs]
    if tdim == 1 or n == 0:
        return np.full(n, 180.0), np.ones(n)
    if dofs.shape[1] != tdim + 1:
        raise ValueError("cell_quality supports linear simplex cells only")
    return _triangle(v) if tdim == 2 else _tetra(v)


def mesh_quality(cm: ChannelMesh) -> MeshQuality:
    """Quality and size report of a mesh; collective, identical on every rank."""
    msh = cm.mesh
    comm = msh.comm
    tdim = msh.topology.dim
    msh.topology.create_entities(1)
    ang, ar = cell_quality(cm)
    n_own = msh.topology.index_map(tdim).size_local
    emap = msh.topology.index_map(1)
    edges = msh.topology.connectivity(1, 0).array.reshape(-1, 2)[: emap.size_local]
    x = msh.geometry.x
    # vertex -> geometry node: for P1 meshes use the cell-wise correspondence
    c2v = msh.topology.connectivity(tdim, 0).array.reshape(-1, tdim + 1)
    gd = msh.geometry.dofmaps[0]
    v2g = np.empty(
        msh.topology.index_map(0).size_local + msh.topology.index_map(0).num_ghosts, dtype=np.int64
    )
    v2g[c2v.ravel()] = gd[:, : tdim + 1].ravel()
    lengths = np.linalg.norm(x[v2g[edges[:, 0]]] - x[v2g[edges[:, 1]]], axis=1)
    counts = {}
    ct = cm.cell_tags
    own = ct.indices < n_own
    for name, tag in cm.regions.items():
        counts[name] = comm.allreduce(int(np.count_nonzero(ct.values[own] == tag)), op=MPI.SUM)

    def red(a: np.ndarray, op: MPI.Op, empty: float) -> float:
        loc = (float(a.min()) if op == MPI.MIN else float(a.max())) if len(a) else empty
        return comm.allreduce(loc, op=op)

    n_cells = msh.topology.index_map(tdim).size_global
    return MeshQuality(
        tdim=tdim,
        num_cells=n_cells,
        num_vertices=msh.topology.index_map(0).size_global,
        num_edges=emap.size_global,
        min_angle_deg=red(ang, MPI.MIN, np.inf),
        max_aspect_ratio=red(ar, MPI.MAX, -np.inf),
        mean_aspect_ratio=comm.allreduce(float(np.sum(ar)), op=MPI.SUM) / max(n_cells, 1),
        h_min=red(lengths, MPI.MIN, np.inf),
        h_max=red(lengths, MPI.MAX, -np.inf),
        cells_per_region=counts,
    )
