"""Bad input across the Python API and the command line: each case must raise ``InputError`` (or
the package's subclass of it) with a message that names the offending input.

``GROUPS`` maps a group to its expected exception type and its rows ``(id, call, words)``:
``call(tmp_path)`` must raise that type with a message containing every ``|``-separated word
(case-insensitive). Inputs are tiny and nothing is solved; the few cases that need a mesh, a
study or a PQR file write a small one.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import poreflux
from poreflux.errors import InputError

NAN, INF = math.nan, math.inf
T = 298.15


# ----------------------------------------------------------------------------- builders
def _build(target: str, *args, **defaults) -> Callable[..., object]:
    """A function calling ``module:attribute`` (imported at call time) with ``args`` and the
    keyword ``defaults`` updated by its own keywords."""

    def call(**kw):
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)(*args, **(defaults | kw))

    return call


def _force(x):
    return -x


_species = _build("poreflux:Species", name="X+", valence=1, diffusion=1.0)
_sphere = _build("meshes.sphere:SphereGeometry")
_cylinder = _build("meshes.channel:cylindrical_pore")
_surface = _build("pnp.problems.electrostatics:SurfaceCharge", boundary="membrane_wall")
_volume = _build("pnp.problems.electrostatics:VolumeCharge", region="protein")
_dirichlet = _build("pnp.problems.electrostatics:DirichletPotential", boundary="top")
_points = _build(
    "pnp.problems.electrostatics:PointCharges", positions=np.zeros((1, 3)), charges=[1.0]
)
_solver_options = _build("pnp.solvers.options:SolverOptions")
_water_eps = _build("poreflux.water:water_permittivity")
_check_t = _build("poreflux.validation:check_temperature")
_md_type = _build("stochastic.md.system:ParticleType", name="Na", mass=22.99, charge=1.0)
_md_box = _build("stochastic.md.system:Box")
_md_system = _build("stochastic.md.system:System", types=(), type_names=("B",))
_md_langevin = _build(
    "stochastic.md.integrators:LangevinBAOAB", dt=0.002, temperature=T, friction=1.0
)
_window = _build("stochastic.pmf.windows:UmbrellaWindow", center=0.0, kappa=10.0)
_kernel = _build("stochastic.memory:ExponentialKernel", amplitudes=[100.0], taus=[0.1])
_baoab = _build("stochastic.langevin:baoab", _force, mass=39.1, gamma=10.0, temperature=T, dt=0.002)
_brownian = _build("stochastic.langevin:brownian", _force, gamma=10.0, temperature=T, dt=0.002)
_bd_geometry = _build(
    "stochastic.bd:ChannelGeometry",
    membrane_thickness=2.0,
    pore=0.5,
    bath_radius=2.0,
    bath_length=4.0,
)
_grid = _build("pnp.studies:ParameterGrid")
_model = _build(
    "pnp.studies:ChannelPNPModel", geometry_kind="cylinder", geometry={"radius_nm": 1.0}
)


def _electrostatics(**kw):
    es = _build("pnp.problems.electrostatics:Electrostatics", temperature=T)
    return es(**({"permittivity": {"solvent": 78.3}} | kw))


def _pb(**kw):
    pb = _build("pnp.problems.electrostatics:PBProblem")
    return pb(electrostatics=_electrostatics(), electrolyte=poreflux.salt("KCl", 100.0), **kw)


def _refine_sphere(points, size=0.05):
    from meshes.sphere import SphereGeometry, build_sphere

    geom = SphereGeometry(radius=0.5, outer_radius=2.0, h_surface=0.1, h_far=0.5)
    return build_sphere(geom, dim=2, refine_at=points, refine_size=size)


def _profile(**kw):
    from stochastic.profiles import Profile

    z = kw.pop("z", np.linspace(0.0, 1.0, 11))
    return Profile.from_arrays(z, **({"D": 1.0, "temperature": T, "W_kT": 0.0 * z} | kw))


def _channel1d(**kw):
    from stochastic import smoluchowski as sm

    return sm.Channel1D([sm.Permeant("K+", 1, _profile())], **({"area_nm2": 1.0} | kw))


def _mfpt_from(start):
    from stochastic import smoluchowski as sm

    return sm.mfpt(_profile(), start)


def _umbrella(samples, n_windows=None, **kw):
    from stochastic.pmf.data import UmbrellaData
    from stochastic.pmf.windows import UmbrellaWindow, WindowSet

    centres = np.linspace(-1, 1, n_windows or len(samples))
    windows = WindowSet([UmbrellaWindow(float(c), 10.0) for c in centres])
    return UmbrellaData(windows, tuple(samples), **kw)


def _wham(**kw):
    from stochastic.pmf import wham

    rng = np.random.default_rng(0)
    return wham(_umbrella([rng.normal(c, 0.6, 50) for c in (-1.0, 0.0, 1.0)]), **kw)


def _bd_system(**kw):
    system = _build("stochastic.bd:BDSystem", electrolyte=poreflux.salt("KCl", 500.0))
    return system(geometry=_bd_geometry(), **kw)


def _bd_run(**kw):
    from stochastic.bd import BDSimulation

    return BDSimulation(_bd_system(), 1, **kw)


def _gle(**kw):
    gle = _build("stochastic.memory:gle", _force, mass=39.1, temperature=T, dt=0.002)
    return gle(**({"kernel": _kernel()} | kw))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _pqr(path: Path):
    from pnp.problems.pqr import read_pqr

    return read_pqr(path)


def _load_msh(path: Path, **kw):
    from meshes.io import load_msh

    return load_msh(path, **kw)


def _sphere_msh(tmp_path: Path) -> Path:
    """A tiny 2D mesh with groups 'solute', 'solvent', 'outer'... but no 'top'/'bottom'."""
    from meshes.io import write_msh
    from meshes.sphere import SphereGeometry, build_sphere

    cm = build_sphere(SphereGeometry(radius=0.5, outer_radius=1.0, h_surface=0.25, h_far=0.5))
    return write_msh(cm, tmp_path / "sphere.msh")


def _toml(v) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return repr(v)


def _study(tmp_path: Path, **sections: dict) -> Path:
    """A minimal study file with ``sections`` overriding its tables."""
    base = {
        "geometry": {"kind": "cylinder", "dim": 2, "radius_nm": 1.0},
        "electrolyte": {"salt": "KCl", "concentration_mM": 150.0},
        "conditions": {"voltage_mV": 50.0, "temperature_K": T},
    }
    lines = []
    for key, table in base.items():
        lines.append(f"[{key}]")
        lines += [f"{k} = {_toml(v)}" for k, v in (table | sections.get(key, {})).items()]
    return _write(tmp_path / "study.toml", "\n".join(lines) + "\n")


def _load_study(tmp_path: Path, text: str | None = None, **sections: dict):
    from pnp.studies.config import load_study

    if text is not None:
        return load_study(_write(tmp_path / "study.toml", text))
    return load_study(_study(tmp_path, **sections))


# ----------------------------------------------------------------------------- cases
Row = tuple[str, Callable[[Path], object], str]


def _continuum_groups() -> dict[str, tuple[type, list[Row]]]:
    return {
        "species": (InputError, [
            ("valence_0", lambda p: _species(valence=0), "valence"),
            ("valence_fraction", lambda p: _species(valence=1.5), "valence"),
            ("D_negative", lambda p: _species(diffusion=-1.0), "diffusion"),
            ("D_nan", lambda p: _species(diffusion=NAN), "diffusion"),
            ("radius_inf", lambda p: _species(ionic_radius=INF), "ionic_radius"),
            ("unknown", lambda p: poreflux.get_species("Xx+"), "Xx+"),
            ("salt_formula", lambda p: poreflux.salt("kcl", 100.0), "kcl"),
            ("salt_unknown_ion", lambda p: poreflux.salt("QCl", 100.0), "QCl|Q"),
            ("salt_conc_negative", lambda p: poreflux.salt("KCl", -5.0), "concentration"),
            ("salt_conc_nan", lambda p: poreflux.salt("KCl", NAN), "concentration"),
            ("not_neutral", lambda p: poreflux.Electrolyte({"K+": 100, "Cl-": 50}), "neutral"),
            ("all_zero", lambda p: poreflux.Electrolyte({"K+": 0, "Cl-": 0}), "concentrations"),
        ]),
        "temperature": (InputError, [
            ("zero", lambda p: _check_t(value=0.0), "temperature"),
            ("ice", lambda p: _check_t(value=250.0, water=True), "temperature|liquid water"),
            ("water_eps_hot", lambda p: _water_eps(temperature=400.0), "temperature|400"),
            ("electrostatics_nan", lambda p: _electrostatics(temperature=NAN), "temperature"),
        ]),
        "charges": (InputError, [
            ("eps_negative", lambda p: _electrostatics(permittivity={"solvent": -2.0}),
             "permittivity|solvent"),
            ("eps_nan", lambda p: _electrostatics(permittivity={"solvent": NAN}),
             "permittivity|solvent"),
            ("sigma_unit", lambda p: _surface(density=50.0), "surface charge|membrane_wall"),
            ("sigma_nan", lambda p: _surface(density=NAN), "surface charge"),
            ("volume_inf", lambda p: _volume(density=INF), "protein"),
            ("dirichlet_huge", lambda p: _dirichlet(value=1e6), "top|mV"),
            ("point_width", lambda p: _points(width=0.0), "width"),
            ("point_shape", lambda p: _points(positions=np.zeros((1, 2))), "positions|(n, 3)"),
            ("pqr_missing", lambda p: _pqr(p / "absent.pqr"), "absent.pqr"),
            ("pqr_garbage", lambda p: _pqr(_write(p / "bad.pqr", "ATOM 1 N A 1 xx 1 2 .5 1\n")),
             "bad.pqr:1"),
            ("pb_model", lambda p: _pb(model="quantum"), "PB model|quantum"),
            ("pb_ion_size", lambda p: _pb(model="bikerman", ion_size=-0.5), "ion_size"),
            ("linear_solver", lambda p: _solver_options(linear_solver="gmres"),
             "linear_solver|gmres"),
            ("solver_rtol", lambda p: _solver_options(rtol=-1.0), "rtol"),
            ("solver_max_update", lambda p: _solver_options(max_update=NAN), "max_update"),
        ]),
        "geometry": (InputError, [
            ("sphere_outer", lambda p: _sphere(radius=2.0, outer_radius=1.0), "outer radius"),
            ("sphere_radius_nan", lambda p: _sphere(radius=NAN), "radius"),
            ("sphere_h_negative", lambda p: _sphere(h_surface=-0.1), "h_surface"),
            ("refine_off_axis", lambda p: _refine_sphere([[0.3, 0, 0]]), "refine_at|axis"),
            ("refine_no_size", lambda p: _refine_sphere([[0, 0, 0.2]], None), "refine_size"),
            ("refine_outside", lambda p: _refine_sphere([[0, 0, 5.0]]), "refine_at|outside"),
            ("pore_radius", lambda p: _cylinder(radius=-1.0), "radius"),
            ("pore_thickness", lambda p: _cylinder(thickness=NAN), "thickness"),
            ("pore_h_pore", lambda p: _cylinder(h_pore=0.0), "h_pore"),
            ("pore_bath_small", lambda p: _cylinder(bath_radius=0.5), "bath radius"),
            ("pore_h_bath", lambda p: _cylinder(h_bath=NAN), "h_bath"),
            ("msh_missing", lambda p: _load_msh(p / "none.msh"), "none.msh"),
            ("msh_garbage", lambda p: _load_msh(_write(p / "bad.msh", "no mesh\n")), "bad.msh"),
            ("msh_group", lambda p: _load_msh(_sphere_msh(p), required_boundaries=("top",)),
             "top"),
        ]),
    }  # fmt: skip


def _study_groups() -> dict[str, tuple[type, list[Row]]]:
    return {
        "study": (InputError, [
            ("unknown_key", lambda p: _load_study(p, conditions={"voltage_mv": 10.0}),
             "voltage_mv|conditions"),
            ("voltage_huge", lambda p: _load_study(p, conditions={"voltage_mV": 1e5}),
             "voltage_mV"),
            ("temperature", lambda p: _load_study(p, conditions={"temperature_K": 200.0}),
             "temperature_K"),
            ("salt", lambda p: _load_study(p, electrolyte={"salt": "QCl"}), "salt|QCl"),
            ("concentration", lambda p: _load_study(p, electrolyte={"concentration_mM": -1.0}),
             "concentration_mM"),
            ("radius_text", lambda p: _load_study(p, geometry={"radius_nm": "wide"}),
             "radius_nm"),
            ("not_toml", lambda p: _load_study(p, "[geometry\n"), "study"),
            ("grid_nan", lambda p: _grid(axes={"voltage_mV": [NAN, 10.0]}), "voltage_mV"),
            ("grid_empty", lambda p: _grid(axes={"voltage_mV": []}), "voltage_mV|empty"),
            ("model_kind", lambda p: _model(geometry_kind="banana"), "banana|geometry kind"),
            ("model_salt", lambda p: _model(salt="QCl"), "QCl"),
        ]),
    }  # fmt: skip


def _particle_groups() -> dict[str, tuple[type, list[Row]]]:
    from stochastic.bd import BDInputError
    from stochastic.md.errors import MDInputError
    from stochastic.memory import MemoryInputError
    from stochastic.pmf.errors import PMFInputError
    from stochastic.profiles import StochasticInputError

    return {
        "md": (MDInputError, [
            ("mass_zero", lambda p: _md_type(mass=0.0), "mass|Na"),
            ("charge_nan", lambda p: _md_type(charge=NAN), "charge|Na"),
            ("sigma_negative", lambda p: _md_type(sigma=-0.3), "sigma"),
            ("box_negative", lambda p: _md_box(lengths=(2.0, -1.0, 2.0)), "box"),
            ("unknown_type", lambda p: _md_system(types=(_md_type(name="A"),)), "type|B"),
            ("dt_zero", lambda p: _md_langevin(dt=0.0), "dt"),
            ("friction_nan", lambda p: _md_langevin(friction=NAN), "friction"),
            ("temperature", lambda p: _md_langevin(temperature=-1.0), "temperature"),
        ]),
        "umbrella": (PMFInputError, [
            ("count", lambda p: _umbrella([np.zeros(5)] * 2, n_windows=3), "window"),
            ("nan_sample", lambda p: _umbrella([np.array([0.0, NAN, 0.1])] * 3), "window 0"),
            ("too_short", lambda p: _umbrella([np.array([0.0])] * 3), "window 0|2 samples"),
            ("dt_negative", lambda p: _umbrella([np.zeros(5)] * 3, dt=-1.0), "dt"),
            ("kappa_negative", lambda p: _window(kappa=-1.0), "kappa"),
            ("unit", lambda p: _window(energy_unit="kcal"), "energy_unit|kcal"),
            ("centre_nan", lambda p: _window(center=NAN), "centre"),
            ("wham_bins", lambda p: _wham(bins=0), "bins"),
            ("wham_range", lambda p: _wham(bins=10, range=(NAN, 1.0)), "range"),
        ]),
        "profile": (StochasticInputError, [
            ("D_negative", lambda p: _profile(D=-1.0), "D"),
            ("W_nan", lambda p: _profile(W_kT=np.full(11, NAN)), "W"),
            ("grid_unsorted", lambda p: _profile(z=np.linspace(1.0, 0.0, 11)), "z"),
            ("temperature", lambda p: _profile(temperature=0.0), "temperature"),
            ("area_negative", lambda p: _channel1d(area_nm2=-1.0), "area_nm2"),
            ("area_nan", lambda p: _channel1d(area_nm2=NAN), "area_nm2"),
            ("bath_negative", lambda p: _channel1d().current_pA({"K+": -1}, {"K+": 1}, 10.0),
             "c_left_mM|K+"),
            ("voltage_nan", lambda p: _channel1d().current_pA({"K+": 150.0}, {"K+": 150.0}, NAN),
             "voltage_mV"),
            ("mfpt_start", lambda p: _mfpt_from(5.0), "start"),
            ("langevin_gamma", lambda p: _baoab(gamma=NAN), "gamma"),
            ("brownian_dt", lambda p: _brownian(dt=-1.0), "dt"),
        ]),
        "bd": (BDInputError, [
            ("pore_radius", lambda p: _bd_geometry(pore=-0.5), "radius"),
            ("bath_nan", lambda p: _bd_geometry(bath_radius=NAN), "bath_radius"),
            ("dt_negative", lambda p: _bd_system(dt=-1e-4), "dt"),
            ("temperature", lambda p: _bd_system(temperature=0.0), "temperature"),
            ("eps_nan", lambda p: _bd_system(eps_r=NAN), "eps_r"),
            ("diffusion_species", lambda p: _bd_system(diffusion={"Na+": 1.0}), "Na+"),
            ("diffusion_negative", lambda p: _bd_system(diffusion={"K+": -1.0}), "K+|D"),
            ("bin_width", lambda p: _bd_run(bin_width=-0.1), "bin_width"),
            ("exchange", lambda p: _bd_run(exchange="banana"), "exchange|banana"),
        ]),
        "gle": (InputError, [
            ("mass_zero", lambda p: _gle(mass=0.0), "mass"),
            ("dt_nan", lambda p: _gle(dt=NAN), "dt"),
            ("temperature", lambda p: _gle(temperature=-5.0), "temperature"),
        ]),
        "memory": (MemoryInputError, [
            ("no_thermostat", lambda p: _gle(kernel=None), "kernel|friction"),
            ("kernel_tau", lambda p: _kernel(taus=[-0.1]), "tau"),
            ("kernel_nan", lambda p: _kernel(amplitudes=[NAN]), "amplitude"),
            ("kernel_shape", lambda p: _kernel(amplitudes=[1.0, 2.0]), "amplitudes|taus"),
        ]),
    }  # fmt: skip


GROUPS = _continuum_groups() | _study_groups() | _particle_groups()


def test_enough_cases():
    ids = [f"{g}_{row[0]}" for g, (_, rows) in GROUPS.items() for row in rows]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


def _problem_with(name: str, error: type, row: Row, tmp_path: Path) -> str | None:
    """None when the row raises ``error`` naming every word; else what went wrong."""
    case, call, words = row
    folder = tmp_path / case
    folder.mkdir()
    try:
        call(folder)
    except error as exc:
        message = str(exc).lower()
        missing = [w for w in words.split("|") if w.lower() not in message]
        return f"{name}/{case}: message does not name {missing}: {exc}" if missing else None
    except Exception as exc:  # the wrong type is the finding
        return f"{name}/{case}: raised {type(exc).__name__}, not {error.__name__}: {exc}"
    return f"{name}/{case}: did not raise"


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_bad_input_raises_and_names_it(group, tmp_path):
    """One test per group (the suite's per-test teardown collects PETSc objects; ~100 tests of
    a few ms each would mostly measure that)."""
    error, rows = GROUPS[group]
    assert issubclass(error, InputError)
    problems = [p for p in (_problem_with(group, error, r, tmp_path) for r in rows) if p]
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------- CLI
def test_cli_bad_study_exits_2_and_names_the_key(tmp_path, capsys):
    from pnp.cli import main

    path = _study(tmp_path, conditions={"voltage_mV": 1e5})
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "voltage_mV" in err and "error" in err


def test_cli_missing_study_file_exits_2(tmp_path, capsys):
    from pnp.cli import main

    assert main(["run", str(tmp_path / "absent.toml"), "--no-progress"]) == 2
    assert "absent.toml" in capsys.readouterr().err


def test_cli_show_bad_folder_exits_2(tmp_path, capsys):
    from pnp.cli import main

    assert main(["show", str(tmp_path / "nothing"), "--no-plots"]) == 2
    assert "nothing" in capsys.readouterr().err
