"""Field files of a solved study point (``fields/`` of the study folder).

For ParaView: VTX (``<id>_potential.bp``, ``<id>_ions.bp``) or XDMF (``<id>_potential.xdmf``,
``<id>_ions.xdmf``), one file per mesh (the potential lives on the whole mesh, the
concentrations on the water sub-mesh); with flow also ``<id>_velocity`` and ``<id>_pressure``.
For Python, always alongside: ``<id>.h5``, the nodal values of both meshes in the layout of
:mod:`pnp.results.fieldfile` (:func:`pnp.results.read_fields` reads it with h5py + numpy); with
flow its water mesh also holds ``velocity_<r|z>_nm_per_ns`` (3D: ``x, y, z``) and
``pressure_Pa``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from poreflux.errors import PorefluxError

log = logging.getLogger(__name__)

__all__ = ["h5_path", "write_point_fields"]


def h5_path(path: str | Path) -> Path:
    """The HDF5 field file that goes with the ParaView ``path`` (``<id>.bp`` -> ``<id>.h5``)."""
    return Path(path).with_suffix(".h5")


def write_point_fields(sol: Any, path: str | Path) -> Path:
    """Write the fields of a :class:`pnp.results.pnp_solution.PNPSolution` (collective).

    ``path`` is ``<id>.bp`` (VTX) or ``<id>.xdmf``; returns the potential's ParaView file.
    """
    from pnp.results.io import write_fields_h5, write_vtx

    potential = sol.potential()
    ions = [sol.concentration(n) for n in sol.species_names]
    path = Path(path)
    stem = path.with_suffix("")
    if path.suffix == ".xdmf":
        _write_xdmf(Path(f"{stem}_ions.xdmf"), ions)
        out = _write_xdmf(Path(f"{stem}_potential.xdmf"), [potential])
    else:
        write_vtx(Path(f"{stem}_ions.bp"), ions)
        out = write_vtx(Path(f"{stem}_potential.bp"), [potential])
    meshes = {
        "domain": {"potential_mV": (potential, "mV")},
        "water": {f"{n}_mM": (f, "mM") for n, f in zip(sol.species_names, ions, strict=True)},
    }
    if getattr(sol, "velocity", None) is not None:  # PNP-Stokes (pnp.results.flow)
        meshes["water"].update(_flow_files(sol, path))
    attrs = {"voltage_mV": sol.voltage, "axisymmetric": sol.axisymmetric,
             "species": ",".join(sol.species_names)}  # fmt: skip
    try:
        write_fields_h5(h5_path(path), meshes, attrs)
    except PorefluxError as exc:  # h5py unusable here: the ParaView files are written
        log.warning("%s not written: %s", h5_path(path).name, exc)
    return out


def _flow_files(sol: Any, path: Path) -> dict[str, tuple[Any, str]]:
    """ParaView files of the velocity [nm/ns] and the pressure [Pa] (``<id>_velocity``,
    ``<id>_pressure``); returns the fields for the HDF5 file."""
    from pnp.results.flow import flow_output_fields
    from pnp.results.io import write_vtx

    out = flow_output_fields(sol)
    stem = path.with_suffix("")
    pressure = out["pressure_Pa"][0]
    if path.suffix == ".xdmf":
        import dolfinx

        msh = sol.velocity.function_space.mesh
        V1 = dolfinx.fem.functionspace(msh, ("Lagrange", 1, (msh.geometry.dim,)))
        u1 = dolfinx.fem.Function(V1, name="velocity_nm_per_ns")
        u1.interpolate(sol.velocity)
        _write_xdmf(Path(f"{stem}_velocity.xdmf"), [u1])
        _write_xdmf(Path(f"{stem}_pressure.xdmf"), [pressure])
    else:
        write_vtx(Path(f"{stem}_velocity.bp"), [sol.velocity])
        write_vtx(Path(f"{stem}_pressure.bp"), [pressure])
    return out


def _write_xdmf(path: Path, functions: list[Any]) -> Path:
    import dolfinx.io

    msh = functions[0].function_space.mesh
    if msh.comm.rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
    msh.comm.Barrier()
    with dolfinx.io.XDMFFile(msh.comm, str(path), "w") as xdmf:
        xdmf.write_mesh(msh)
        for f in functions:
            xdmf.write_function(f)
    return path
