"""Bad input across the Python API and the command line: each case must raise ``InputError`` (or
the package's subclass of it) with a message that names the offending input.

One case per row of ``CASES``: ``(id, call, exception type, words the message must contain)``.
Inputs are tiny and nothing is solved; the few cases that need a mesh or a study file build a
small one. Matching is case-insensitive on the message text.
"""

from __future__ import annotations

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
def _species(**kw):
    args = {"name": "X+", "valence": 1, "diffusion": 1.0} | kw
    return poreflux.Species(**args)


def _electrostatics(**kw):
    from meshes import names
    from pnp.problems.electrostatics import Electrostatics

    args = {"temperature": T, "permittivity": {names.SOLVENT: 78.3}} | kw
    return Electrostatics(**args)


def _sphere(**kw):
    from meshes.sphere import SphereGeometry

    return SphereGeometry(**kw)


def _refine_sphere(points, size=0.05, dim=2):
    from meshes.sphere import SphereGeometry, build_sphere

    geom = SphereGeometry(radius=0.5, outer_radius=2.0, h_surface=0.1, h_far=0.5)
    return build_sphere(geom, dim=dim, refine_at=points, refine_size=size)


def _profile(**kw):
    from stochastic.profiles import Profile

    z = np.linspace(-1.0, 1.0, 21)
    args = {"D": 1.0, "temperature": T, "W_kT": np.zeros_like(z)} | kw
    return Profile.from_arrays(args.pop("z", z), **args)


def _windows(n=3):
    from stochastic.pmf.windows import UmbrellaWindow, WindowSet

    return WindowSet([UmbrellaWindow(float(c), 10.0) for c in np.linspace(-1, 1, n)])


def _umbrella(samples, **kw):
    from stochastic.pmf.data import UmbrellaData

    return UmbrellaData(_windows(len(samples)), tuple(samples), **kw)


def _bd_geometry(**kw):
    from stochastic.bd import ChannelGeometry

    args = {"membrane_thickness": 2.0, "pore": 0.5, "bath_radius": 2.0, "bath_length": 4.0}
    return ChannelGeometry(**(args | kw))


def _bd_system(**kw):
    from stochastic.bd import BDSystem

    args = {"geometry": _bd_geometry(), "electrolyte": poreflux.salt("KCl", 500.0)}
    return BDSystem(**(args | kw))


def _gle(**kw):
    from stochastic.memory import ExponentialKernel, gle

    args = {
        "mass": 39.1,
        "temperature": T,
        "dt": 0.002,
        "kernel": ExponentialKernel(amplitudes=[100.0], taus=[0.1]),
    }
    return gle(lambda x: -x, **(args | kw))


def _kernel(**kw):
    from stochastic.memory import ExponentialKernel

    return ExponentialKernel(**({"amplitudes": [100.0], "taus": [0.1]} | kw))


def _md_type(**kw):
    from stochastic.md.system import ParticleType

    return ParticleType(**({"name": "Na", "mass": 22.99, "charge": 1.0} | kw))


def _md_box(lengths):
    from stochastic.md.system import Box

    return Box(lengths)


def _md_langevin(**kw):
    from stochastic.md.integrators import LangevinBAOAB

    return LangevinBAOAB(**({"dt": 0.002, "temperature": T, "friction": 1.0} | kw))


def _study(tmp_path: Path, **sections: dict) -> Path:
    """A minimal study file with ``sections`` overriding its tables."""
    base = {
        "geometry": {"kind": "cylinder", "dim": 2, "radius_nm": 1.0},
        "electrolyte": {"salt": "KCl", "concentration_mM": 150.0},
        "conditions": {"voltage_mV": 50.0, "temperature_K": T},
    }
    for key, table in sections.items():
        base[key] = base.get(key, {}) | table
    lines = []
    for key, table in base.items():
        lines.append(f"[{key}]")
        for k, v in table.items():
            lines.append(f"{k} = {_toml(v)}")
    path = tmp_path / "study.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return repr(v)


def _load_study(tmp_path: Path, **sections: dict):
    from pnp.studies.config import load_study

    return load_study(_study(tmp_path, **sections))


def _msh(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.msh"
    path.write_text(text)
    return path


def _load_msh(path: Path, **kw):
    from meshes.io import load_msh

    return load_msh(path, **kw)


def _two_region_msh(tmp_path: Path) -> Path:
    """A tiny 2D mesh with physical groups 'solvent' and 'outer' but no 'top'/'bottom'."""
    from meshes.io import write_msh
    from meshes.sphere import SphereGeometry, build_sphere

    cm = build_sphere(SphereGeometry(radius=0.5, outer_radius=1.0, h_surface=0.25, h_far=0.5))
    return write_msh(cm, tmp_path / "sphere.msh")


# ----------------------------------------------------------------------------- cases
Case = tuple[str, Callable[[Path], object], type, tuple[str, ...]]


def _cases() -> list[Case]:
    from pnp.problems.electrostatics import (
        DirichletPotential,
        PointCharges,
        SurfaceCharge,
        VolumeCharge,
    )
    from poreflux.validation import check_temperature
    from stochastic.bd import BDInputError
    from stochastic.md.errors import MDInputError
    from stochastic.memory import MemoryInputError
    from stochastic.pmf.errors import PMFInputError
    from stochastic.profiles import StochasticInputError

    return [
        # species and concentrations
        ("species_valence_0", lambda p: _species(valence=0), InputError, ("valence",)),
        ("species_valence_frac", lambda p: _species(valence=1.5), InputError, ("valence",)),
        ("species_D_negative", lambda p: _species(diffusion=-1.0), InputError, ("diffusion",)),
        ("species_D_nan", lambda p: _species(diffusion=NAN), InputError, ("diffusion",)),
        ("species_radius_inf", lambda p: _species(ionic_radius=INF), InputError, ("ionic_radius",)),
        ("species_unknown", lambda p: poreflux.get_species("Xx+"), InputError, ("Xx+",)),
        ("salt_formula", lambda p: poreflux.salt("kcl", 100.0), InputError, ("kcl",)),
        ("salt_unknown_ion", lambda p: poreflux.salt("QCl", 100.0), InputError, ("QCl", "Q")),
        (
            "salt_conc_negative",
            lambda p: poreflux.salt("KCl", -5.0),
            InputError,
            ("concentration",),
        ),
        ("salt_conc_nan", lambda p: poreflux.salt("KCl", NAN), InputError, ("concentration",)),
        (
            "electrolyte_not_neutral",
            lambda p: poreflux.Electrolyte({"K+": 100.0, "Cl-": 50.0}),
            InputError,
            ("electroneutral",),
        ),
        (
            "electrolyte_all_zero",
            lambda p: poreflux.Electrolyte({"K+": 0.0, "Cl-": 0.0}),
            InputError,
            ("concentrations",),
        ),
        # temperature
        ("temperature_zero", lambda p: check_temperature(0.0), InputError, ("temperature",)),
        (
            "temperature_ice",
            lambda p: check_temperature(250.0, water=True),
            InputError,
            ("temperature", "liquid water"),
        ),
        ("water_eps_hot", lambda p: _water_eps(400.0), InputError, ("temperature", "400")),
        (
            "es_temperature_nan",
            lambda p: _electrostatics(temperature=NAN),
            InputError,
            ("temperature",),
        ),
        # permittivity and charges
        (
            "permittivity_negative",
            lambda p: _electrostatics(permittivity={"solvent": -2.0}),
            InputError,
            ("permittivity", "solvent"),
        ),
        (
            "permittivity_nan",
            lambda p: _electrostatics(permittivity={"solvent": NAN}),
            InputError,
            ("permittivity", "solvent"),
        ),
        (
            "surface_charge_unit",
            lambda p: SurfaceCharge("membrane_wall", 50.0),
            InputError,
            ("surface charge", "membrane_wall"),
        ),
        (
            "surface_charge_nan",
            lambda p: SurfaceCharge("membrane_wall", NAN),
            InputError,
            ("surface charge",),
        ),
        (
            "volume_charge_inf",
            lambda p: VolumeCharge("protein", INF),
            InputError,
            ("protein",),
        ),
        (
            "dirichlet_too_large",
            lambda p: DirichletPotential("top", 1e6),
            InputError,
            ("top", "mV"),
        ),
        (
            "point_charge_width",
            lambda p: PointCharges(np.zeros((1, 3)), [1.0], width=0.0),
            InputError,
            ("width",),
        ),
        (
            "point_charge_shape",
            lambda p: PointCharges(np.zeros((2, 2)), [1.0, 1.0]),
            InputError,
            ("positions", "(n, 3)"),
        ),
        # geometry
        (
            "sphere_outer_small",
            lambda p: _sphere(radius=2.0, outer_radius=1.0),
            InputError,
            ("outer radius",),
        ),
        ("sphere_radius_nan", lambda p: _sphere(radius=NAN), InputError, ("radius",)),
        ("sphere_h_negative", lambda p: _sphere(h_surface=-0.1), InputError, ("h_surface",)),
        (
            "sphere_refine_off_axis",
            lambda p: _refine_sphere([[0.3, 0.0, 0.0]]),
            InputError,
            ("refine_at", "axis"),
        ),
        (
            "sphere_refine_no_size",
            lambda p: _refine_sphere([[0.0, 0.0, 0.2]], size=None),
            InputError,
            ("refine_size",),
        ),
        (
            "sphere_refine_outside",
            lambda p: _refine_sphere([[0.0, 0.0, 5.0]]),
            InputError,
            ("refine_at", "outside"),
        ),
        ("pore_radius_negative", lambda p: _cylinder(radius=-1.0), InputError, ("radius",)),
        ("pore_thickness_nan", lambda p: _cylinder(thickness=NAN), InputError, ("thickness",)),
        ("pore_h_pore_zero", lambda p: _cylinder(h_pore=0.0), InputError, ("h_pore",)),
        # .msh files
        ("msh_missing", lambda p: _load_msh(p / "none.msh"), InputError, ("none.msh",)),
        ("msh_garbage", lambda p: _load_msh(_msh(p, "not a mesh\n")), InputError, ("bad.msh",)),
        (
            "msh_missing_group",
            lambda p: _load_msh(_two_region_msh(p), required_boundaries=("top",)),
            InputError,
            ("top",),
        ),
        # TOML study files and the CLI
        (
            "toml_unknown_key",
            lambda p: _load_study(p, conditions={"voltage_mv": 10.0}),
            InputError,
            ("voltage_mv", "conditions"),
        ),
        (
            "toml_voltage_huge",
            lambda p: _load_study(p, conditions={"voltage_mV": 1e5}),
            InputError,
            ("voltage_mV",),
        ),
        (
            "toml_temperature_ice",
            lambda p: _load_study(p, conditions={"temperature_K": 200.0}),
            InputError,
            ("temperature_K",),
        ),
        (
            "toml_salt_unknown",
            lambda p: _load_study(p, electrolyte={"salt": "QCl"}),
            InputError,
            ("salt", "QCl"),
        ),
        (
            "toml_concentration_negative",
            lambda p: _load_study(p, electrolyte={"concentration_mM": -1.0}),
            InputError,
            ("concentration_mM",),
        ),
        (
            "toml_radius_string",
            lambda p: _load_study(p, geometry={"radius_nm": "wide"}),
            InputError,
            ("radius_nm",),
        ),
        ("toml_not_toml", lambda p: _load_study_text(p, "[geometry\n"), InputError, ("study",)),
        # MD set-up
        ("md_mass_zero", lambda p: _md_type(mass=0.0), MDInputError, ("mass", "Na")),
        ("md_charge_nan", lambda p: _md_type(charge=NAN), MDInputError, ("charge", "Na")),
        ("md_sigma_negative", lambda p: _md_type(sigma=-0.3), MDInputError, ("sigma",)),
        ("md_box_negative", lambda p: _md_box((2.0, -1.0, 2.0)), MDInputError, ("box",)),
        ("md_dt_zero", lambda p: _md_langevin(dt=0.0), MDInputError, ("dt",)),
        ("md_friction_nan", lambda p: _md_langevin(friction=NAN), MDInputError, ("friction",)),
        (
            "md_temperature_neg",
            lambda p: _md_langevin(temperature=-1.0),
            MDInputError,
            ("temperature",),
        ),
        # umbrella data
        (
            "umbrella_count_mismatch",
            lambda p: _umbrella_mismatch(),
            PMFInputError,
            ("window",),
        ),
        (
            "umbrella_nan_sample",
            lambda p: _umbrella([np.array([0.0, NAN, 0.1])] * 3),
            PMFInputError,
            ("window 0",),
        ),
        (
            "umbrella_too_short",
            lambda p: _umbrella([np.array([0.0])] * 3),
            PMFInputError,
            ("window 0", "2 samples"),
        ),
        (
            "umbrella_dt_negative",
            lambda p: _umbrella([np.zeros(5)] * 3, dt=-1.0),
            PMFInputError,
            ("dt",),
        ),
        ("umbrella_kappa_negative", lambda p: _window(kappa=-1.0), PMFInputError, ("kappa",)),
        # 1D profiles
        ("profile_D_negative", lambda p: _profile(D=-1.0), StochasticInputError, ("D",)),
        ("profile_W_nan", lambda p: _profile(W_kT=np.full(21, NAN)), StochasticInputError, ("W",)),
        (
            "profile_grid_unsorted",
            lambda p: _profile(z=np.linspace(1.0, -1.0, 21)),
            StochasticInputError,
            ("z",),
        ),
        (
            "profile_temperature",
            lambda p: _profile(temperature=0.0),
            StochasticInputError,
            ("temperature",),
        ),
        # BD
        ("bd_pore_radius", lambda p: _bd_geometry(pore=-0.5), BDInputError, ("radius",)),
        ("bd_bath_nan", lambda p: _bd_geometry(bath_radius=NAN), BDInputError, ("bath_radius",)),
        ("bd_dt_negative", lambda p: _bd_system(dt=-1e-4), BDInputError, ("dt",)),
        ("bd_temperature", lambda p: _bd_system(temperature=0.0), BDInputError, ("temperature",)),
        ("bd_eps_nan", lambda p: _bd_system(eps_r=NAN), BDInputError, ("eps_r",)),
        # GLE
        ("gle_mass_zero", lambda p: _gle(mass=0.0), InputError, ("mass",)),
        ("gle_dt_nan", lambda p: _gle(dt=NAN), InputError, ("dt",)),
        ("gle_temperature", lambda p: _gle(temperature=-5.0), InputError, ("temperature",)),
        ("gle_kernel_tau", lambda p: _kernel(taus=[-0.1]), MemoryInputError, ("tau",)),
        ("gle_kernel_nan", lambda p: _kernel(amplitudes=[NAN]), MemoryInputError, ("amplitude",)),
        # more: 1D channels, studies, solver options, PB models, estimators, PQR, BD runs
        (
            "profile_area_negative",
            lambda p: _channel1d(area_nm2=-1.0),
            StochasticInputError,
            ("area_nm2",),
        ),
        (
            "profile_area_nan",
            lambda p: _channel1d(area_nm2=NAN),
            StochasticInputError,
            ("area_nm2",),
        ),
        (
            "profile_bath_negative",
            lambda p: _channel1d().current_pA({"K+": -150.0}, {"K+": 150.0}, 10.0),
            StochasticInputError,
            ("c_left_mM", "K+"),
        ),
        ("profile_mfpt_start", lambda p: _mfpt_from(5.0), StochasticInputError, ("start",)),
        ("profile_langevin_gamma", lambda p: _baoab(gamma=NAN), StochasticInputError, ("gamma",)),
        ("profile_brownian_dt", lambda p: _brownian(dt=-1.0), StochasticInputError, ("dt",)),
        (
            "toml_grid_nan",
            lambda p: _grid({"voltage_mV": [NAN, 10.0]}),
            InputError,
            ("voltage_mV",),
        ),
        (
            "toml_grid_empty",
            lambda p: _grid({"voltage_mV": []}),
            InputError,
            ("voltage_mV", "empty"),
        ),
        ("toml_model_kind", lambda p: _model("banana"), InputError, ("banana", "geometry kind")),
        ("toml_model_salt", lambda p: _model("cylinder", salt="QCl"), InputError, ("QCl",)),
        ("pore_bath_small", lambda p: _cylinder(bath_radius=0.5), InputError, ("bath radius",)),
        ("pore_h_bath_nan", lambda p: _cylinder(h_bath=NAN), InputError, ("h_bath",)),
        (
            "es_linear_solver",
            lambda p: _solver_options(linear_solver="gmres"),
            InputError,
            ("linear_solver", "gmres"),
        ),
        ("es_pb_model", lambda p: _pb(model="quantum"), InputError, ("PB model", "quantum")),
        (
            "es_pb_ion_size",
            lambda p: _pb(model="bikerman", ion_size=-0.5),
            InputError,
            ("ion_size",),
        ),
        ("point_pqr_missing", lambda p: _pqr(p, None), InputError, ("absent.pqr",)),
        (
            "point_pqr_garbage",
            lambda p: _pqr(p, "ATOM 1 N ALA A 1 xx 1.0 2.0 0.5 1.5\n"),
            InputError,
            ("bad.pqr:1",),
        ),
        ("umbrella_wham_bins", lambda p: _wham(bins=0), PMFInputError, ("bins",)),
        (
            "umbrella_wham_range",
            lambda p: _wham(bins=10, range=(NAN, 1.0)),
            PMFInputError,
            ("range",),
        ),
        (
            "umbrella_unit",
            lambda p: _window(energy_unit="kcal"),
            PMFInputError,
            ("energy_unit", "kcal"),
        ),
        ("umbrella_center_nan", lambda p: _window(center=NAN), PMFInputError, ("centre",)),
        ("md_unknown_type", lambda p: _md_system(), MDInputError, ("unknown type", "B")),
        ("bd_bin_width", lambda p: _bd_run(bin_width=-0.1), BDInputError, ("bin_width",)),
        ("bd_exchange", lambda p: _bd_run(exchange="banana"), BDInputError, ("exchange", "banana")),
        (
            "bd_diffusion_species",
            lambda p: _bd_system(diffusion={"Na+": 1.0}),
            BDInputError,
            ("Na+",),
        ),
        (
            "gle_no_thermostat",
            lambda p: _gle(kernel=None),
            MemoryInputError,
            ("kernel", "friction"),
        ),
        (
            "gle_kernel_shape",
            lambda p: _kernel(amplitudes=[1.0, 2.0]),
            MemoryInputError,
            ("amplitudes", "taus"),
        ),
    ]


def _water_eps(temperature):
    from poreflux.water import water_permittivity

    return water_permittivity(temperature)


def _channel1d(**kw):
    from stochastic import smoluchowski as sm

    profile = _profile(z=np.linspace(0.0, 1.0, 11), W_kT=np.zeros(11))
    return sm.Channel1D([sm.Permeant("K+", 1, profile)], **({"area_nm2": 1.0} | kw))


def _mfpt_from(start):
    from stochastic import smoluchowski as sm

    return sm.mfpt(_profile(z=np.linspace(0.0, 1.0, 11), W_kT=np.zeros(11)), start)


def _baoab(**kw):
    from stochastic import langevin as lg

    args = {"mass": 39.1, "gamma": 10.0, "temperature": T, "dt": 0.002} | kw
    return lg.baoab(lambda x: -x, **args)


def _brownian(**kw):
    from stochastic import langevin as lg

    return lg.brownian(lambda x: -x, **({"gamma": 10.0, "temperature": T, "dt": 0.002} | kw))


def _grid(axes):
    from pnp.studies import ParameterGrid

    return ParameterGrid(axes)


def _model(kind, **kw):
    from pnp.studies import ChannelPNPModel

    return ChannelPNPModel(kind, {"radius_nm": 1.0}, **kw)


def _solver_options(**kw):
    from pnp.solvers.options import SolverOptions

    return SolverOptions(**kw)


def _pb(**kw):
    from pnp.problems.electrostatics import PBProblem

    return PBProblem(_electrostatics(), poreflux.salt("KCl", 100.0), **kw)


def _pqr(tmp_path: Path, text: str | None):
    from pnp.problems.pqr import read_pqr

    if text is None:
        return read_pqr(tmp_path / "absent.pqr")
    path = tmp_path / "bad.pqr"
    path.write_text(text)
    return read_pqr(path)


def _wham(**kw):
    from stochastic.pmf import wham

    rng = np.random.default_rng(0)
    return wham(_umbrella([rng.normal(c, 0.6, 50) for c in (-1.0, 0.0, 1.0)]), **kw)


def _md_system():
    from stochastic.md.system import ParticleType, System

    return System((ParticleType("A", 1.0),), ("B",))


def _bd_run(**kw):
    from stochastic.bd import BDSimulation

    return BDSimulation(_bd_system(), 1, **kw)


def _cylinder(**kw):
    from meshes.channel import cylindrical_pore

    return cylindrical_pore(**kw)


def _window(**kw):
    from stochastic.pmf.windows import UmbrellaWindow

    return UmbrellaWindow(**({"center": 0.0, "kappa": 10.0} | kw))


def _umbrella_mismatch():
    from stochastic.pmf.data import UmbrellaData

    return UmbrellaData(_windows(3), (np.zeros(5), np.zeros(5)))


def _load_study_text(tmp_path: Path, text: str):
    from pnp.studies.config import load_study

    path = tmp_path / "study.toml"
    path.write_text(text)
    return load_study(path)


CASES = _cases()
#: cases grouped by the prefix of their id (one test per group keeps the per-test teardown of the
#: suite, a garbage collection of PETSc objects, off the 40-odd cases)
GROUPS: dict[str, list[Case]] = {}
for _case in CASES:
    GROUPS.setdefault(_case[0].split("_")[0], []).append(_case)


def test_enough_cases():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


def _problem_with(case: Case, tmp_path: Path) -> str | None:
    """None when ``case`` raises its error naming every word; else what went wrong."""
    name, call, error, words = case
    assert issubclass(error, InputError), name
    folder = tmp_path / name
    folder.mkdir()
    try:
        call(folder)
    except error as exc:
        message = str(exc).lower()
        missing = [w for w in words if w.lower() not in message]
        return f"{name}: message does not name {missing}: {exc}" if missing else None
    except Exception as exc:  # the wrong type is the finding
        return f"{name}: raised {type(exc).__name__} instead of {error.__name__}: {exc}"
    return f"{name}: did not raise"


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_bad_input_raises_and_names_it(group, tmp_path):
    problems = [p for p in (_problem_with(c, tmp_path) for c in GROUPS[group]) if p]
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


# ----------------------------------------------------------------------------- known gaps
def _nan_voltage_current():
    return _channel1d().current_pA({"K+": 150.0}, {"K+": 150.0}, NAN)


def _bd_negative_diffusion():
    return _bd_system(diffusion={"K+": -1.0})


#: inputs that do not raise a named InputError yet (the files belong to other parts of the
#: suite); strict: when one is fixed this fails, and the row moves into CASES
KNOWN_GAPS = [
    ("solver_rtol_negative", lambda: _solver_options(rtol=-1.0), "pnp/solvers/options.py"),
    ("smoluchowski_voltage_nan", _nan_voltage_current, "stochastic/smoluchowski.py"),
    ("bd_diffusion_negative", _bd_negative_diffusion, "stochastic/bd/system.py (TypeError)"),
]


@pytest.mark.parametrize(
    ("call", "where"), [g[1:] for g in KNOWN_GAPS], ids=[g[0] for g in KNOWN_GAPS]
)
@pytest.mark.xfail(strict=True, reason="validation missing where the value enters")
def test_known_gaps(call, where):
    with pytest.raises(InputError):
        call()
