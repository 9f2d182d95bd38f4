"""Build small meshes on the communicator and print their region volumes and facet areas as JSON.

Usage: ``python meshes_volumes.py WORKDIR`` (serially or under ``mpiexec -n 2``). Run both ways
by tests/test_meshes.py: the numbers (volumes, dx/ds/dS integrals, R(z), quality, uniform
refinement, .msh and XDMF round trips) must agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# isort: off
from meshes import backend as _backend  # noqa: F401  (must precede any dolfinx import)

# isort: on
import dolfinx
import numpy as np
import ufl
from mpi4py import MPI

from meshes.channel import build_channel, conical_pore, cylindrical_pore
from meshes.io import load_msh, read_xdmf, write_msh, write_xdmf
from meshes.quality import mesh_quality
from meshes.radius import mesh_radius
from meshes.refine import refine_uniformly
from meshes.sphere import SphereGeometry, build_sphere


def measures(cm) -> dict[str, float]:
    """Volumes of the regions, areas of the exterior (ds) and interior (dS) facet groups."""
    x = ufl.SpatialCoordinate(cm.mesh)
    w = 2 * np.pi * x[0] if cm.axisymmetric else 1.0
    dx = ufl.Measure("dx", cm.mesh, subdomain_data=cm.cell_tags)
    ds = ufl.Measure("ds", cm.mesh, subdomain_data=cm.facet_tags)
    dS = ufl.Measure("dS", cm.mesh, subdomain_data=cm.facet_tags)
    ws = 2 * np.pi * x[0]("+") if cm.axisymmetric else 1.0

    def total(form) -> float:
        value = dolfinx.fem.assemble_scalar(dolfinx.fem.form(form))
        return cm.comm.allreduce(value, op=MPI.SUM)

    one = dolfinx.fem.Constant(cm.mesh, 1.0)
    out = {f"dx:{n}": total(one * w * dx(t)) for n, t in cm.regions.items()}
    out |= {f"ds:{n}": total(one * w * ds(t)) for n, t in cm.boundaries.items()}
    out |= {f"dS:{n}": total(one * ws * dS(t)) for n, t in cm.boundaries.items()}
    return out


def main(workdir: str) -> dict[str, float]:
    """All measures; files go to ``workdir`` (written and read back on the communicator)."""
    comm = MPI.COMM_WORLD
    result: dict[str, float] = {}
    chan = build_channel(
        cylindrical_pore(1.0, 5.0, protein_thickness=0.5, h_pore=0.2, h_bath=2.0), dim=2, comm=comm
    )
    result |= {f"channel2d/{k}": v for k, v in measures(chan).items()}
    _, r = mesh_radius(chan, z=np.linspace(-2.5, 2.5, 11))
    result |= {f"channel2d/R{i}": float(v) for i, v in enumerate(r)}
    q = mesh_quality(chan)
    result["channel2d/cells"] = float(q.num_cells)
    result["channel2d/vertices"] = float(q.num_vertices)
    result["channel2d/min_angle"] = q.min_angle_deg
    result["channel2d/max_aspect"] = q.max_aspect_ratio
    result |= {f"channel2d/n_{k}": float(v) for k, v in q.cells_per_region.items()}
    chan3 = build_channel(
        conical_pore(1.2, 0.8, 3.0, bath_radius=3.0, bath_height=2.0, protein_thickness=0.4,
                     h_pore=0.3, h_bath=1.0),
        dim=3,
        comm=comm,
    )  # fmt: skip
    result |= {f"channel3d/{k}": v for k, v in measures(chan3).items()}
    _, r3 = mesh_radius(chan3, z=np.linspace(-1.5, 1.5, 7))
    result |= {f"channel3d/R{i}": float(v) for i, v in enumerate(r3)}
    q3 = mesh_quality(chan3)
    result["channel3d/cells"] = float(q3.num_cells)
    result["channel3d/min_angle"] = q3.min_angle_deg
    # uniform refinement (through gmsh on rank 0, so it works on ghosted meshes under MPI)
    for name, cm in (("refined2d", chan), ("refined3d", chan3)):
        fine = refine_uniformly(cm)
        result |= {f"{name}/{k}": v for k, v in measures(fine).items()}
        result[f"{name}/cells"] = float(mesh_quality(fine).num_cells)
    # files written by the distributed mesh and read back on the same communicator
    tag = f"n{comm.size}"
    back = load_msh(write_msh(chan, Path(workdir) / f"chan_{tag}.msh"), comm=comm)
    result |= {f"msh/{k}": v for k, v in measures(back).items()}
    back = read_xdmf(write_xdmf(chan, Path(workdir) / f"chan_{tag}.xdmf"), comm=comm)
    result |= {f"xdmf/{k}": v for k, v in measures(back).items()}
    sph = build_sphere(SphereGeometry(1.0, 4.0, 0.3, 1.5), dim=3, comm=comm)
    result |= {f"sphere3d/{k}": v for k, v in measures(sph).items()}
    result["sphere3d/cells"] = float(mesh_quality(sph).num_cells)
    result["nranks"] = float(comm.size)
    return result


if __name__ == "__main__":
    res = main(sys.argv[1])
    if MPI.COMM_WORLD.rank == 0:
        sys.stdout.write(json.dumps(res) + "\n")
