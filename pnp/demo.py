"""The ``make demo`` job: the default channel on its embedded geometry.

Builds :func:`meshes.channel.default_channel` (2D axisymmetric), solves nonlinear
Poisson-Boltzmann at 150 mM KCl with a negatively charged protein lining, prints energies, ionic
charges and the axial profile, and writes a PNG of the axial profile and the fields for ParaView.
Everything is printed and written by MPI rank 0 only.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from pnp import units

#: Default conditions of the demo.
TEMPERATURE = 298.15  # K
SALT_MM = 150.0  # mM KCl
LINING_CHARGE = -0.1  # C/m^2 on the protein-water interface
PERMITTIVITY = {"bath": 78.5, "pore": 78.5, "membrane": 2.0, "protein": 10.0}


def _say(comm: MPI.Comm, text: str = "") -> None:
    if comm.rank == 0:
        print(text, flush=True)


def run_demo(out: Path | str = "demo-output", comm: MPI.Comm = MPI.COMM_WORLD) -> dict:
    """Run the default channel study, print a summary and write plots and fields to ``out``.

    Returns a dict of the printed numbers (same on every rank).
    """
    from meshes.channel import build_channel, default_channel
    from meshes.quality import mesh_quality
    from pnp.diagnostics import diagnose
    from pnp.io import write_fields
    from pnp.pb import PBSolver
    from pnp.plots import plot_axial_profiles
    from pnp.problem import DirichletPotential, Electrostatics, PBProblem, SurfaceCharge
    from pnp.species import salt

    out = Path(out)
    if comm.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    geometry = default_channel()
    cmesh = build_channel(geometry, dim=2, comm=comm)
    quality = mesh_quality(cmesh)
    _say(comm, "poreflux demo: nonlinear Poisson-Boltzmann in the default channel")
    _say(
        comm,
        f"  geometry: cylindrical pore radius {geometry.profile.min_radius:g} nm through a "
        f"{geometry.thickness:g} nm membrane, {geometry.protein_thickness:g} nm protein lining, "
        f"baths {geometry.bath_radius:g} x {geometry.bath_height:g} nm (2D axisymmetric)",
    )
    _say(comm, "  " + str(quality).replace("\n", "\n  "))

    electrostatics = Electrostatics(
        temperature=TEMPERATURE,
        permittivity=PERMITTIVITY,
        surface_charges=[SurfaceCharge("protein_wall", LINING_CHARGE)],
        dirichlet=[DirichletPotential("top", 0.0), DirichletPotential("bottom", 0.0)],
    )
    problem = PBProblem(electrostatics, salt("KCl", SALT_MM), model="nonlinear")
    solution = PBSolver(cmesh, problem).solve()
    elapsed = time.perf_counter() - t0

    kt = units.kT_kj_per_mol(TEMPERATURE)
    charges = {r: solution.ionic_charge([r]) for r in cmesh.water_regions}
    _say(comm, f"  conditions: {SALT_MM:g} mM KCl, lining {LINING_CHARGE:g} C/m^2, {TEMPERATURE} K")
    _say(
        comm,
        f"  Newton: {solution.report.total_newton_iterations} iterations "
        f"({solution.report.linear_solver}), {elapsed:.1f} s including meshing",
    )
    _say(
        comm,
        f"  electrostatic energy: {solution.energy_kT:.4g} kT = "
        f"{solution.energy_kT * kt:.4g} kJ/mol",
    )
    for region, q in charges.items():
        _say(comm, f"  mobile ionic charge in {region}: {q:+.4f} e")

    profile = solution.axial_profile(301)
    rows = np.linspace(0, len(profile["z"]) - 1, 13).astype(int)
    names = [n for n in profile if n not in ("z", "potential")]
    header = f"  {'z [nm]':>8} {'phi [mV]':>10} " + " ".join(f"{n + ' [mM]':>12}" for n in names)
    _say(comm, "\n  axial profile (r = 0):")
    _say(comm, header)
    for i in rows:
        vals = " ".join(f"{profile[n][i]:12.2f}" for n in names)
        _say(comm, f"  {profile['z'][i]:8.2f} {profile['potential'][i]:10.2f} {vals}")

    report = diagnose(solution)
    _say(comm, "\n  mean-field diagnostics (is PNP/PB trustworthy here?):")
    _say(comm, "  " + str(report).replace("\n", "\n  "))

    membrane = (geometry.z_min + geometry.bath_height, geometry.z_max - geometry.bath_height)
    fields = write_fields(out / "pb_fields.bp", solution)
    if comm.rank == 0:
        png = plot_axial_profiles(
            profile["z"],
            profile["potential"],
            {n: profile[n] for n in names},
            out / "pb_axial_profile.png",
            membrane=membrane,
            title=f"PB, {SALT_MM:g} mM KCl, lining {LINING_CHARGE:g} C/m$^2$",
        )
        print(f"\n  wrote {png} and {fields}", flush=True)
    return {
        "energy_kT": solution.energy_kT,
        "charges": charges,
        "profile": profile,
        "diagnostics": report,
    }
