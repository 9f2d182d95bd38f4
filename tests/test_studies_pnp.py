"""Studies backed by the steady PNP solver: Ohmic I-V, warm starts, resume, MPI distribution,
mesh convergence, ``poreflux run``."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import run_mpi
from study_cases import charged_channel_study

from pnp.studies import ParameterGrid, StudyStore, mesh_convergence, run_study
from pnp.studies.channel import ChannelPNPModel
from poreflux.species import salt
from poreflux.units import E_CHARGE, K_B, N_A

DISTRIBUTE = Path(__file__).parent / "mpi_scripts" / "study_distribute.py"
T = 298.15


def hall_conductance_pS(c_mM: float, radius_nm: float, length_nm: float) -> float:
    """Hall: ``R = L/(kappa pi a^2) + 1/(2 kappa a)``, ``kappa = e^2 N_A/kT sum z^2 D c``."""
    kappa = (
        E_CHARGE**2
        * N_A
        / (K_B * T)
        * sum(s.valence**2 * s.diffusion * 1e-9 * c for s, c in salt("KCl", c_mM))
    )
    a, length = radius_nm * 1e-9, length_nm * 1e-9
    return 1e12 / (length / (kappa * math.pi * a * a) + 1 / (2 * kappa * a))


def uncharged_pore(**geometry: float) -> ChannelPNPModel:
    base = {"radius_nm": 1.0, "thickness_nm": 5.0, "h_pore_nm": 0.2, "h_bath_nm": 2.0}
    return ChannelPNPModel(
        "cylinder", {**base, **geometry}, concentration_mM=1000.0, temperature_K=T,
        diagnostics=False,
    )  # fmt: skip


def test_uncharged_iv_is_ohmic_symmetric_and_resumes(tmp_path):
    from pnp.results.currents import ohmic_conductance

    model = uncharged_pore()
    grid = ParameterGrid({"voltage_mV": [-100, -50, 0, 50, 100]})
    result = run_study(model, grid, tmp_path / "iv", progress=False)
    table = result.table
    assert set(table.column("status")) == {"ok"}
    v, i = table.column("voltage_mV"), table.column("current_pA")
    # a symmetric uncharged pore: I(-V) = -I(V); the 0 V point carries no current
    np.testing.assert_allclose(i[v < 0][::-1], -i[v > 0], rtol=1e-6)
    assert abs(i[v == 0][0]) < 1e-9 * abs(i).max()
    # conservative currents: the two bath ends agree
    assert np.nanmax(table.column("conservation_error")) < 1e-6
    # Ohmic: G(V) equals the Laplace (bulk-conductivity) conductance of the same mesh to 1%
    mesh = model.build_mesh(grid.points()[0], comm=__import__("mpi4py").MPI.COMM_WORLD)
    g_ohm = ohmic_conductance(mesh, model.problem(mesh, grid.points()[0]))
    g = table.column("conductance_pS")[v != 0]
    np.testing.assert_allclose(g, g_ohm, rtol=0.01)
    # a rerun of the finished study recomputes nothing and returns the same table
    rerun = run_study(model, grid, tmp_path / "iv", progress=False)
    assert rerun.computed == () and len(rerun.skipped) == 5
    assert rerun.table.rows == table.rows


def test_voltage_warm_starts_need_fewer_newton_iterations(tmp_path):
    model, _ = charged_channel_study()
    grid = ParameterGrid({"concentration_mM": [100.0], "voltage_mV": [0, 50, 100, 150, -50, -100]})
    result = run_study(model, grid, tmp_path / "warm", progress=False)
    table = result.table
    warm_its = dict(zip(table.column("id"), table.column("newton_iterations"), strict=True))
    warm_from = dict(zip(table.column("id"), table.column("warm_start_from"), strict=True))
    warm_current = dict(zip(table.column("id"), table.column("current_pA"), strict=True))
    points = grid.points()
    mesh = model.build_mesh(points[0], __import__("mpi4py").MPI.COMM_WORLD)
    solver = model.make_solver(mesh, points[0])
    cold_its = {}
    for p in points:
        cold = model.solve(solver, p, None).results
        cold_its[p.id] = cold["newton_iterations"]
        assert cold["current_pA"] == pytest.approx(warm_current[p.id], rel=1e-6, abs=1e-9)
    swept = [p.id for p in points if p["voltage_mV"] != 0]
    assert all(warm_from[pid] != "cold" for pid in swept)
    for pid in swept:
        assert warm_its[pid] < cold_its[pid], (pid, warm_its[pid], cold_its[pid])
    total_warm = sum(warm_its[pid] for pid in swept)
    total_cold = sum(cold_its[pid] for pid in swept)
    print(f"Newton iterations over {len(swept)} voltages: warm {total_warm}, cold {total_cold}")
    assert total_warm <= 0.8 * total_cold


@pytest.mark.mpi
def test_distributed_and_collective_runs_match_serial(tmp_path):
    model, grid = charged_channel_study()
    serial = run_study(model, grid, tmp_path / "serial", progress=False).table
    out = run_mpi(DISTRIBUTE, str(tmp_path / "mpi"), nprocs=2, timeout=300)
    data = json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
    assert data["size"] == 2
    ref = serial.column("current_pA")
    scale = np.abs(ref).max()
    for mode in ("collective", "distributed"):
        got = data[mode]
        assert got["id"] == list(serial.column("id"))
        assert set(got["status"]) == {"ok"}
        assert len(got["computed"]) == grid.size
        np.testing.assert_allclose(got["current_pA"], ref, rtol=1e-6, atol=1e-9 * scale)
    assert data["distributed"]["ranks"] == [0, 1]  # both ranks solved points


def test_mesh_convergence_uncharged_pore(tmp_path):
    """Current and conductance on 4 meshes: fitted order and Richardson value.

    The pore mouths are re-entrant 270-degree corners, where the potential behaves like
    r^(2/3); a flux functional then converges like h^(4/3) under uniform refinement, which the
    fitted order and the Richardson order must show. The extrapolated conductance lies below
    Hall's formula (finite 10 nm baths with insulating walls add resistance) by ~1%.
    """
    model = uncharged_pore(h_pore_nm=0.25, h_bath_nm=2.5)
    grid = ParameterGrid({"mesh_refinement": [1, 1.5, 2, 3], "voltage_mV": [10]})
    result = run_study(model, grid, tmp_path / "conv", progress=False)
    conv = {c.quantity: c for c in mesh_convergence(result.table, grid.names)}
    hall = hall_conductance_pS(1000.0, 1.0, 5.0)
    for q in ("current_pA", "conductance_pS"):
        c = conv[q]
        p = c.extrapolation_order
        print(f"{q}: order {c.order:.3f}, Richardson {c.extrapolated:.6g} (p = {p:.3f})")
        assert c.order == pytest.approx(4 / 3, abs=0.2)
        assert c.extrapolation_order == pytest.approx(4 / 3, abs=0.2)
        assert np.all(np.diff(c.errors) < 0)  # errors fall monotonically with h
    g = conv["conductance_pS"]
    assert g.extrapolated == pytest.approx(conv["current_pA"].extrapolated * 100.0, rel=1e-12)
    assert 0.97 * hall < g.extrapolated < hall
    assert abs(g.extrapolated - hall) < abs(g.values[0] - hall) + 0.02 * hall


STUDY = """
[study]
name = "cli_sweep"

[geometry]
kind = "default"
h_pore_nm = 0.2
h_bath_nm = 2.0

[electrolyte]
salt = "KCl"
concentration_mM = [10, 100]

[conditions]
voltage_mV = [-50, 50]
surface_charge_C_per_m2 = -0.1
charged_walls = ["protein_wall"]

[output]
fields = "vtx"
profiles = true
"""


def test_cli_run_prints_table_and_writes_outputs(tmp_path, capsys):
    from pnp.cli import main

    path = tmp_path / "sweep.toml"
    path.write_text(textwrap.dedent(STUDY))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "4 points" in text and "diag" in text.split() and "rectification" in text
    store = StudyStore(out)
    table = store.table()
    assert len(table) == 4 and set(table.column("status")) == {"ok"}
    assert set(table.column("diag_worst")) <= {"ok", "note", "warning", "breakdown"}
    for name in ("iv.png", "conductance.png", "profile_p00001.png"):
        assert (store.plots_dir / name).stat().st_size > 0
    assert (out / "fields" / "p00001_potential.bp").is_dir()
    assert (out / "fields" / "p00001_ions.bp").is_dir()
    # the charged lining makes the pore cation-selective: K+ carries most of the current
    k, cl = table.column("current_K+_pA"), table.column("current_Cl-_pA")
    v = table.column("voltage_mV")
    assert np.all(np.abs(k) > 3 * np.abs(cl)) and np.all(np.sign(k) == np.sign(v))
    # rerun: nothing to do, same exit code
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    assert "0 computed now, 4 already finished" in capsys.readouterr().out


RESUME_STUDY = """
[geometry]
kind = "default"
h_pore_nm = 0.2
h_bath_nm = 2.0

[electrolyte]
concentration_mM = 150

[conditions]
voltage_mV = {start = -200, stop = 200, step = 40}
surface_charge_C_per_m2 = -0.1
charged_walls = ["protein_wall"]

[output]
plots = false
"""


def test_cli_resume_after_sigkill(tmp_path):
    """`poreflux run` killed mid-study, then rerun: finished points kept byte for byte."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    path = tmp_path / "resume.toml"
    path.write_text(textwrap.dedent(RESUME_STUDY))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "pnp", "run", str(path), "--out", str(out), "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(root))
    store = StudyStore(out)
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while store.count() < 3:
        assert proc.poll() is None, "the study ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.read_bytes() for p in store.points_dir.glob("p*.json")}
    assert 3 <= len(before) < 11
    done = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{11 - len(before)} computed now, {len(before)} already finished" in done.stdout
    after = {p.name: p.read_bytes() for p in store.points_dir.glob("p*.json")}
    assert len(after) == 11
    assert all(after[name] == text for name, text in before.items())
    table = store.table()
    assert set(table.column("status")) == {"ok"} and len(set(table.column("run_id"))) == 2
    # the resumed points match an uninterrupted run of the same grid
    ref = run_study(
        ChannelPNPModel("default", {"h_pore_nm": 0.2, "h_bath_nm": 2.0}, concentration_mM=150.0,
                        surface_charge_C_per_m2=-0.1, walls=("protein_wall",)),
        ParameterGrid({"voltage_mV": {"start": -200, "stop": 200, "step": 40}}),
        tmp_path / "ref", progress=False,
    ).table  # fmt: skip
    np.testing.assert_allclose(
        table.column("current_pA"), ref.column("current_pA"), rtol=1e-6, atol=1e-9
    )


def _solution_with_currents(top, bottom, scale_pA=14.47):
    from pnp.results.pnp_solution import PNPSolution

    return PNPSolution(
        problem=None, params=None, psi=None, unknowns=(), variables="log", c0_mM=150.0,
        thermal_voltage_mV=25.69, species_currents_top=top, species_currents_bottom=bottom,
        current_scale_pA=scale_pA,
    )  # fmt: skip


def test_conservation_error_is_not_defined_at_the_noise_level():
    """|I_top - I_bottom| / |I| is NaN when both currents are below 1e-9 of the flux scale."""
    from pnp.results.pnp_solution import CURRENT_NOISE_FRACTION

    noise = CURRENT_NOISE_FRACTION * 14.47
    assert math.isnan(_solution_with_currents((-2.6e-15,), (-4.7e-16,)).conservation_error)
    assert math.isnan(_solution_with_currents((0.9 * noise,), (0.5 * noise,)).conservation_error)
    assert math.isnan(_solution_with_currents((0.0,), (0.0,)).conservation_error)
    err = _solution_with_currents((3.0 * noise,), (2.0 * noise,)).conservation_error
    assert err == pytest.approx(1 / 3, rel=1e-12)  # above the noise: the plain ratio
    assert _solution_with_currents((146.0,), (146.0 * (1 - 1e-9),)).conservation_error == (
        pytest.approx(1e-9, rel=1e-6)
    )


def test_zero_voltage_row_reports_conservation_as_not_available(tmp_path):
    """The charged default channel at 0 mV (equal baths: I = 0 up to the Newton tolerance),
    warm-started from 50 mV: conservation_error is empty in the CSV and "n/a" when printed,
    while the 50 mV point keeps its (tiny) defect. On the old code it printed ~1e-6..1."""
    from pnp.studies.table import StudyTable

    model = ChannelPNPModel(
        "default", {"h_pore_nm": 0.2, "h_bath_nm": 2.0}, concentration_mM=150.0,
        surface_charge_C_per_m2=-0.1, walls=("protein_wall",), diagnostics=False,
    )  # fmt: skip
    grid = ParameterGrid({"voltage_mV": [50.0, 0.0]})
    point0, point50 = grid.points()[1], grid.points()[0]
    mesh = model.build_mesh(point0, comm=__import__("mpi4py").MPI.COMM_WORLD)
    solver = model.make_solver(mesh, point0)
    warm = model.solve(solver, point50, None)
    zero = model.solve(solver, point0, warm.state)
    sol = zero.state
    assert max(abs(sol.current_top), abs(sol.current_bottom)) <= sol.current_noise_pA
    assert math.isnan(zero.results["conservation_error"])
    assert warm.results["conservation_error"] < 1e-9
    table = StudyTable.from_rows(
        [{"voltage_mV": 50.0, **warm.results}, {"voltage_mV": 0.0, **zero.results}]
    )
    (tmp_path / "t.csv").write_text(table.to_csv_text())
    stored = StudyTable.from_csv(tmp_path / "t.csv")
    assert "conservation_error" not in stored.rows[1]  # an empty cell
    printed = stored.format(["voltage_mV", "conservation_error"]).splitlines()
    assert printed[-1].split() == ["0", "n/a"]
