"""The ``make demo`` job: the default channel on its embedded geometry.

1. Equilibrium: nonlinear Poisson-Boltzmann in :func:`meshes.channel.default_channel` (2D
   axisymmetric) at 150 mM KCl with a negatively charged protein lining; energies, ionic charge
   and the axial profile.
2. Transport: the steady PNP I-V curve of the same channel (7 voltages from -150 to +150 mV,
   warm-started sweep), with conductance, rectification, charge conservation and the mean-field
   diagnostics of the +150 mV solution.

Plots (PNG) and fields (VTX, open the ``.bp`` folders in ParaView) go to the output folder.
Everything is printed and written by MPI rank 0 only; the answers are the same on any number of
ranks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from mpi4py import MPI

from poreflux import units

#: Default conditions of the demo.
TEMPERATURE = 298.15  # K
SALT_MM = 150.0  # mM KCl
LINING_CHARGE = -0.1  # C/m^2 on the protein-water interface
PERMITTIVITY = {"bath": 78.5, "pore": 78.5, "membrane": 2.0, "protein": 10.0}
VOLTAGES_MV = (-150.0, -100.0, -50.0, 0.0, 50.0, 100.0, 150.0)


def _say(comm: MPI.Comm, text: str = "") -> None:
    if comm.rank == 0:
        print(text, flush=True)


def _indent(text: str) -> str:
    return "  " + str(text).replace("\n", "\n  ")


def _profile_table(profile: dict[str, np.ndarray], rows: int = 13) -> str:
    names = [n for n in profile if n not in ("z", "potential")]
    idx = np.linspace(0, len(profile["z"]) - 1, rows).astype(int)
    lines = [f"{'z [nm]':>8} {'phi [mV]':>10} " + " ".join(f"{n + ' [mM]':>12}" for n in names)]
    for i in idx:
        vals = " ".join(f"{profile[n][i]:12.2f}" for n in names)
        lines.append(f"{profile['z'][i]:8.2f} {profile['potential'][i]:10.2f} {vals}")
    return "\n".join(lines)


def _membrane(geometry: Any) -> tuple[float, float]:
    return (-geometry.thickness / 2, geometry.thickness / 2)


def run_pb(cmesh: Any, out: Path, comm: MPI.Comm) -> dict[str, Any]:
    """Equilibrium section: nonlinear PB in the channel; prints and writes its outputs."""
    from pnp.problems.electrostatics import (
        DirichletPotential,
        Electrostatics,
        PBProblem,
        SurfaceCharge,
    )
    from pnp.results.io import write_fields
    from pnp.results.plots import plot_axial_profiles
    from pnp.solvers.pb import PBSolver
    from poreflux.species import salt

    t0 = time.perf_counter()
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
    _say(comm, "\n1. Equilibrium: nonlinear Poisson-Boltzmann")
    _say(
        comm,
        f"  Newton: {solution.report.total_newton_iterations} iterations "
        f"({solution.report.linear_solver}), {elapsed:.1f} s",
    )
    _say(
        comm,
        f"  electrostatic energy: {solution.energy_kT:.4g} kT = "
        f"{solution.energy_kT * kt:.4g} kJ/mol",
    )
    for region, q in charges.items():
        _say(comm, f"  mobile ionic charge in {region}: {q:+.4f} e")
    profile = solution.axial_profile(301)
    _say(comm, "  axial profile (r = 0):")
    _say(comm, _indent(_profile_table(profile)))

    fields = write_fields(out / "pb_fields.bp", solution)
    if comm.rank == 0:
        names = [n for n in profile if n not in ("z", "potential")]
        png = plot_axial_profiles(
            profile["z"],
            profile["potential"],
            {n: profile[n] for n in names},
            out / "pb_axial_profile.png",
            membrane=_membrane(cmesh.geometry),
            title=f"PB, {SALT_MM:g} mM KCl, lining {LINING_CHARGE:g} C/m$^2$",
        )
        print(f"  wrote {png} and {fields}", flush=True)
    return {"energy_kT": solution.energy_kT, "charges": charges, "profile": profile}


def run_iv(cmesh: Any, out: Path, comm: MPI.Comm) -> dict[str, Any]:
    """Transport section: the PNP I-V curve; prints the table and diagnostics, writes outputs."""
    from pnp.diagnostics import diagnose
    from pnp.problems.transport import channel_problem
    from pnp.results.currents import axial_profiles, iv_curve
    from pnp.results.plots import plot_axial_profiles, plot_iv
    from pnp.solvers.steady import SteadyPNPSolver
    from poreflux.species import salt

    t0 = time.perf_counter()
    problem = channel_problem(
        cmesh,
        salt("KCl", SALT_MM),
        surface_charge=LINING_CHARGE,
        walls=("protein_wall",),
        temperature=TEMPERATURE,
        permittivity=PERMITTIVITY,
    )
    solver = SteadyPNPSolver(cmesh, problem)
    curve = iv_curve(solver, VOLTAGES_MV)
    elapsed = time.perf_counter() - t0

    names = list(curve.species_currents)
    _say(comm, "\n2. Transport: steady Poisson-Nernst-Planck I-V curve")
    header = (
        f"  {'V [mV]':>7} {'I [pA]':>9} "
        + " ".join(f"{'I_' + n + ' [pA]':>11}" for n in names)
        + f" {'G [pS]':>8} {'cons. err':>9} {'Newton':>6}"
    )
    _say(comm, header)
    for k, sol in enumerate(curve.solutions):
        v = curve.voltages[k]
        g = f"{sol.conductance:8.1f}" if v != 0 else f"{'-':>8}"
        err = f"{sol.conservation_error:9.1e}" if v != 0 else f"{'-':>9}"
        species = " ".join(f"{curve.species_currents[n][k]:11.3f}" for n in names)
        _say(
            comm,
            f"  {v:7.0f} {curve.currents[k]:9.3f} {species} {g} {err} {sol.newton_iterations:6d}",
        )
    i_plus = curve.currents[-1]
    i_minus = curve.currents[0]
    rectification = i_plus / abs(i_minus)
    selectivity = abs(curve.species_currents[names[0]][-1] / curve.species_currents[names[1]][-1])
    _say(
        comm,
        f"  rectification I(+150)/|I(-150)| = {rectification:.3f}; "
        f"|I_{names[0]}/I_{names[1]}| at +150 mV = {selectivity:.2f}; "
        f"{len(VOLTAGES_MV)} points in {elapsed:.1f} s",
    )

    top = curve.solutions[-1]
    report = diagnose(top, cmesh=cmesh)
    _say(comm, "\n3. Mean-field diagnostics at +150 mV (is PNP trustworthy here?)")
    _say(comm, _indent(report))

    pot, conc = top.write(out / "pnp_150mV")
    profile = axial_profiles(top, 121)
    if comm.rank == 0:
        iv_png = plot_iv(
            curve.voltages,
            {"total": curve.currents, **curve.species_currents},
            out / "pnp_iv.png",
            title=f"default channel, {SALT_MM:g} mM KCl, lining {LINING_CHARGE:g} C/m$^2$",
        )
        prof_png = plot_axial_profiles(
            profile["z"],
            profile["potential"],
            {n: profile[n] for n in names},
            out / "pnp_axial_profile_150mV.png",
            membrane=_membrane(cmesh.geometry),
            title="PNP at +150 mV (cross-section averages)",
        )
        print(f"\n  wrote {iv_png}, {prof_png}, {pot} and {conc}", flush=True)
    return {"curve": curve, "rectification": rectification, "diagnostics": report}


def run_demo(out: Path | str = "demo-output", comm: MPI.Comm = MPI.COMM_WORLD) -> dict:
    """Run the default channel study, print a summary and write plots and fields to ``out``.

    Returns the printed numbers (the same on every rank).
    """
    from meshes.channel import build_channel, default_channel
    from meshes.quality import mesh_quality

    out = Path(out)
    if comm.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    comm.Barrier()
    t0 = time.perf_counter()
    geometry = default_channel()
    cmesh = build_channel(geometry, dim=2, comm=comm)
    _say(comm, "poreflux demo: the default channel")
    _say(
        comm,
        f"  geometry: cylindrical pore radius {geometry.profile.min_radius:g} nm through a "
        f"{geometry.thickness:g} nm membrane, {geometry.protein_thickness:g} nm protein lining "
        f"(charge {LINING_CHARGE:g} C/m^2), baths {geometry.bath_radius:g} x "
        f"{geometry.bath_height:g} nm, 2D axisymmetric; {SALT_MM:g} mM KCl, {TEMPERATURE} K",
    )
    _say(comm, _indent(mesh_quality(cmesh)))
    results = {"pb": run_pb(cmesh, out, comm), "iv": run_iv(cmesh, out, comm)}
    _say(comm, f"\ndemo finished in {time.perf_counter() - t0:.1f} s")
    _say(
        comm,
        "next: `poreflux run examples/default_channel_iv.toml` runs the same I-V as a resumable "
        "study (table.csv, plots, fields); see examples/ for sweeps and convergence studies",
    )
    return results
