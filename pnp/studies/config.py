"""Study files: a strict TOML schema read with :mod:`tomllib` into a :class:`~pnp.studies.Study`.

Every section and key is listed below and declared once in :data:`KEYS` (section, how it is
read, default, where the value goes: a model keyword or a Study field); anything else is an error
naming the file, the section and the allowed keys. A new scalar option is one :class:`Key` line.
Units are part of the key names. A number is a fixed value; a list of numbers or a range table
``{start = .., stop = .., step = ..}`` / ``{start = .., stop = .., num = .., log = true}`` makes
the key a sweep axis (a column of the table). Everything is validated before
any mesh is built or any equation solved, and an error names the file, section and key: the
reader checks the structure and types, the model (:meth:`pnp.studies.channel.ChannelPNPModel.check`,
with :mod:`pnp.studies.checks` and :mod:`pnp.studies.meshfile`) every value once, e.g. a
temperature outside liquid water (273.15-373.15 K) unless both water models are ``"fixed"``, a
voltage beyond +-:data:`MAX_VOLTAGE_MV`, a charged wall the geometry does not have (``protein_wall``
needs ``protein_thickness_nm > 0``), a ``.msh`` file without ``top``/``bottom`` or a water region.

.. code-block:: toml

    [study]                       # optional
    name = "iv_uncharged_pore"    # default: the file name without .toml
    description = "..."
    output = "iv-output"          # output folder (relative to the working directory);
                                  # default "<name>-output"; `poreflux run --out` overrides it

    [geometry]
    kind = "cylinder"             # "default" | "cylinder" | "cone" | "hourglass" | "msh"
    dim = 2                       # 2 (axisymmetric) | 3
    # file = "pore.msh"           # kind "msh" only: gmsh file (relative to the study file) with
                                  # the physical groups of pnp.studies.meshfile; no parameters
    radius_nm = 1.0               # per kind, see pnp.studies.geometry; lists sweep geometry
    thickness_nm = 5.0            # (one mesh per geometry point)
    h_pore_nm = 0.1
    h_bath_nm = 1.0

    [electrolyte]
    salt = "KCl"                  # binary salt formula of the library species
    concentration_mM = 150        # both baths; or concentration_top_mM + concentration_bottom_mM
    diffusion_model = "stokes-einstein"  # D(T) from the water viscosity; or "fixed" (25 degC)
    permittivity_model = "malmberg-maryott"  # water eps(T); or "fixed" (configured values)
    ion_model = "point"           # or "steric", "steric+correlations" (+ ion_size_nm,
                                  # correlation_length_nm)

    [conditions]
    voltage_mV = {start = -100, stop = 100, step = 50}
    temperature_K = 298.15
    surface_charge_C_per_m2 = 0.0
    charged_walls = ["membrane_wall"]    # default: every wall of the geometry
                                         # (protein_wall needs protein_thickness_nm > 0)
    flow = false                  # true: PNP-Stokes (electro-osmosis, docs/electroosmosis.md)
    pressure_difference_Pa = 0    # p_top - p_bottom (needs flow = true); lists sweep

    [permittivity]                # optional relative permittivities by region
    membrane = 2.0                # bath, pore, membrane, protein

    [solver]                      # optional pnp.solvers.steady.SolverOptions
    variables = "log"

    [output]                      # optional
    fields = "none"               # "none" | "vtx" | "xdmf": fields of every point
    profiles = false              # axial profiles (CSV + PNG) of every point
    plots = true
    diagnostics = true            # worst-severity diagnostics columns in the table
    distribute = false            # deal independent points out to the MPI ranks
    profile_points = 80

    [convergence]                 # optional: a mesh-convergence study
    mesh_refinement = [1, 1.5, 2, 3]   # factors dividing both mesh sizes (>= 3 values)
    quantities = ["current_pA", "conductance_pS"]
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pnp.problems.electrostatics import MAX_POTENTIAL_MV
from pnp.problems.flow import PRESSURE_AXIS
from pnp.studies.geometry import GEOMETRY_KINDS, GEOMETRY_PARAMETERS, MESH_FILE_KIND
from pnp.studies.grid import (
    CONCENTRATION,
    CONCENTRATION_BOTTOM,
    CONCENTRATION_TOP,
    SURFACE_CHARGE,
    TEMPERATURE,
    VOLTAGE,
    ParameterGrid,
    expand_values,
)
from pnp.studies.runner import FIELD_FORMATS
from pnp.studies.study import Study
from poreflux.errors import InputError

__all__ = ["KEYS", "MAX_VOLTAGE_MV", "SCHEMA", "Key", "load_study", "parse_study"]

#: The largest applied voltage a study accepts [mV] (|V|; a larger number is a unit mistake).
MAX_VOLTAGE_MV = MAX_POTENTIAL_MV

_ALL_GEOMETRY = sorted({k for v in GEOMETRY_PARAMETERS.values() for k in v} - {"mesh_refinement"})


def _solver_keys() -> tuple[str, ...]:
    from pnp.solvers.steady import SolverOptions

    return tuple(f.name for f in dataclasses.fields(SolverOptions))


@dataclass(frozen=True)
class Key:
    """One key of a study file, declared once: where it is, how it is read, where it goes.

    Attributes
    ----------
    section, name
        ``[section] name`` in the file.
    read
        ``"text"``, ``"flag"``, ``"integer"``, ``"number"``, ``"strings"``, ``"sweep"`` (a number,
        or a list/range that becomes an axis of the grid) or ``"custom"`` (read by a section
        reader below: geometry parameters, concentrations, voltage, convergence).
    default
        Value when the key is absent (None: not passed on, the model's default applies).
    to
        Where the value goes: a :class:`~pnp.studies.channel.ChannelPNPModel` keyword (default:
        ``name``), or ``"study.<field>"`` for a :class:`~pnp.studies.study.Study` field. Errors of
        the model about that keyword are reported at ``[section] name``.
    choices
        Allowed values (checked here only for options the model does not check itself).
    """

    section: str
    name: str
    read: str
    default: Any = None
    to: str | None = None
    choices: tuple[Any, ...] = ()

    @property
    def target(self) -> str:
        return self.name if self.to is None else self.to


#: Every key of every section but [permittivity] (region names) and [solver] (the fields of
#: pnp.solvers.steady.SolverOptions). A new scalar option of the model is one line here.
KEYS: tuple[Key, ...] = (
    Key("study", "name", "custom"),
    Key("study", "description", "custom"),
    Key("study", "output", "custom"),
    Key("geometry", "kind", "custom"),
    Key("geometry", "dim", "custom"),
    Key("geometry", "file", "custom", to="mesh_file"),
    *(Key("geometry", k, "custom") for k in _ALL_GEOMETRY),
    Key("electrolyte", "salt", "text", "KCl"),
    Key("electrolyte", CONCENTRATION, "custom"),
    Key("electrolyte", CONCENTRATION_TOP, "custom"),
    Key("electrolyte", CONCENTRATION_BOTTOM, "custom"),
    Key("electrolyte", "diffusion_model", "text", "stokes-einstein"),
    Key("electrolyte", "permittivity_model", "text", "malmberg-maryott"),
    Key("electrolyte", "ion_model", "text", "point"),
    Key("electrolyte", "ion_size_nm", "number"),
    Key("electrolyte", "correlation_length_nm", "number"),
    Key("conditions", VOLTAGE, "custom"),
    Key("conditions", TEMPERATURE, "sweep"),
    Key("conditions", SURFACE_CHARGE, "sweep"),
    Key("conditions", "charged_walls", "strings", to="walls"),
    Key("conditions", "flow", "flag", False),
    Key("conditions", PRESSURE_AXIS, "sweep"),
    Key("output", "fields", "text", "none", to="study.fields", choices=FIELD_FORMATS),
    Key("output", "profiles", "flag", False, to="study.profiles"),
    Key("output", "plots", "flag", True, to="study.plots"),
    Key("output", "diagnostics", "flag", True),
    Key("output", "distribute", "flag", False, to="study.distribute"),
    Key("output", "profile_points", "integer", 80),
    Key("convergence", "mesh_refinement", "custom"),
    Key("convergence", "quantities", "custom"),
)

#: Section -> allowed keys (the solver section is filled from pnp.solvers.steady.SolverOptions).
SCHEMA: dict[str, tuple[str, ...]] = {
    **{k.section: () for k in KEYS},
    "permittivity": ("bath", "pore", "membrane", "protein"),
    "solver": (),
}
for _key in KEYS:
    SCHEMA[_key.section] += (_key.name,)
REQUIRED_SECTIONS = ("geometry", "electrolyte", "conditions")


class _Reader:
    """Typed access to one section, with errors naming the file, section and key."""

    def __init__(self, source: str, section: str, data: Any, allowed: tuple[str, ...]):
        self.source, self.section = source, section
        if not isinstance(data, Mapping):
            self.fail(None, f"must be a table ([{section}]), got {type(data).__name__}")
        self.data = dict(data)
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            self.fail(
                unknown[0] if len(unknown) == 1 else None,
                f"unknown key(s) {unknown}; allowed keys in [{section}]: {list(allowed)}",
            )

    def fail(self, key: str | None, message: str) -> None:
        where = f"[{self.section}]" + (f" {key}" if key else "")
        raise InputError(f"{self.source}: {where}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, default: str | None = None, choices: tuple[str, ...] = ()) -> Any:
        if key not in self.data:
            return default
        v = self.data[key]
        if not isinstance(v, str) or not v.strip():
            self.fail(key, f"must be a non-empty string, got {v!r}")
        if choices and v not in choices:
            self.fail(key, f"must be one of {list(choices)}, got {v!r}")
        return v

    def flag(self, key: str, default: bool) -> bool:
        v = self.data.get(key, default)
        if not isinstance(v, bool):
            self.fail(key, f"must be true or false, got {v!r}")
        return v

    def integer(self, key: str, default: int, choices: tuple[int, ...] = ()) -> int:
        v = self.data.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(key, f"must be an integer, got {v!r}")
        if choices and v not in choices:
            self.fail(key, f"must be one of {list(choices)}, got {v!r}")
        return v

    def number(self, key: str) -> float:
        v = self.data[key]
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.fail(key, f"must be a number, got {v!r}")
        return float(v)

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        if key not in self.data:
            return default
        v = self.data[key]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.fail(key, f"must be a list of strings, got {v!r}")
        return tuple(v)

    def value_or_axis(self, key: str, axes: dict[str, Any]) -> float | None:
        """A fixed number (returned) or a sweep (added to ``axes``; returns None)."""
        if key not in self.data:
            return None
        v = self.data[key]
        if isinstance(v, list | Mapping):
            try:
                axes[key] = expand_values(v, key)
            except InputError as exc:
                self.fail(key, str(exc))
            return None
        return self.number(key)


#: Model parameter (the ``key`` of a :class:`~pnp.studies.checks.StudyInputError`) -> where it is
#: given in a study file: (section, key or None for the whole section).
_WHERE: dict[str, tuple[str, str | None]] = {
    **{k.target: (k.section, k.name) for k in KEYS},
    "file": ("geometry", "file"),  # (the key of pnp.studies.meshfile's errors)
    "geometry": ("geometry", None),
    "permittivity": ("permittivity", None),
    "solver": ("solver", None),
}


def _located(source: str, exc: InputError) -> InputError:
    """``exc`` with the file, section and key where its parameter was given."""
    where = _WHERE.get(getattr(exc, "key", None) or "")
    if where is None:
        return InputError(f"{source}: {exc}")
    section, key = where
    text = str(exc)
    if key is None or text.startswith(key):
        return InputError(f"{source}: [{section}] {text}")
    return InputError(f"{source}: [{section}] {key}: {text}")


def _sections(data: Mapping[str, Any], source: str) -> dict[str, _Reader]:
    unknown = sorted(set(data) - set(SCHEMA))
    if unknown:
        raise InputError(
            f"{source}: unknown section(s) {unknown}; allowed sections: {list(SCHEMA)}"
        )
    missing = [s for s in REQUIRED_SECTIONS if s not in data]
    if missing:
        raise InputError(f"{source}: missing section(s) {missing} (required: {REQUIRED_SECTIONS})")
    schema = dict(SCHEMA, solver=_solver_keys())
    return {name: _Reader(source, name, data.get(name, {}), schema[name]) for name in schema}


def _read_convergence(conv: _Reader, axes: dict[str, Any]) -> tuple[str, ...]:
    """The refinement axis (first: the outermost loop) and the analysed quantities."""
    if conv.has("mesh_refinement"):
        if conv.value_or_axis("mesh_refinement", axes) is not None:
            conv.fail("mesh_refinement", "must be a list of >= 3 refinement factors")
        factors = axes["mesh_refinement"]
        if len(factors) < 3 or any(f <= 0 for f in factors):
            conv.fail("mesh_refinement", f"needs >= 3 positive factors, got {list(factors)}")
    elif conv.has("quantities"):
        conv.fail("quantities", "needs mesh_refinement in the same section")
    return conv.strings("quantities", ("current_pA", "conductance_pS"))


def _read_geometry(g: _Reader, axes: dict[str, Any], base: Path | None) -> dict[str, Any]:
    """Kind, dim, the kind's parameters (sweeps become geometry axes) and the mesh file."""
    kind = g.text("kind", "default", GEOMETRY_KINDS)
    allowed = tuple(k for k in GEOMETRY_PARAMETERS[kind] if k != "mesh_refinement")
    allowed += ("file",) if kind == MESH_FILE_KIND else ()
    wrong = sorted(k for k in g.data if k not in ("kind", "dim", *allowed))
    if wrong:
        g.fail(wrong[0], f"not a parameter of a {kind!r} geometry; allowed: {list(allowed)}")
    out: dict[str, Any] = {"geometry_kind": kind, "dim": g.integer("dim", 2)}
    if kind == MESH_FILE_KIND:
        if not g.has("file"):
            g.fail("file", f"missing: a {kind!r} geometry needs the path of its .msh file")
        path = Path(g.text("file"))
        out["mesh_file"] = path if path.is_absolute() or base is None else base / path
    geometry = {}
    for key in allowed:
        if key != "file" and (v := g.value_or_axis(key, axes)) is not None:
            geometry[key] = v
    return {**out, "geometry": geometry}


def _read_concentrations(e: _Reader, axes: dict[str, Any]) -> dict[str, Any]:
    """The bath concentration(s) (fixed or swept)."""
    out: dict[str, Any] = {}
    both = e.value_or_axis(CONCENTRATION, axes)
    if e.has(CONCENTRATION) and (e.has(CONCENTRATION_TOP) or e.has(CONCENTRATION_BOTTOM)):
        e.fail(CONCENTRATION, "give either concentration_mM (both baths) or the per-side keys")
    if e.has(CONCENTRATION_TOP) != e.has(CONCENTRATION_BOTTOM):
        e.fail(None, "give both concentration_top_mM and concentration_bottom_mM (or neither)")
    top = e.value_or_axis(CONCENTRATION_TOP, axes)
    bottom = e.value_or_axis(CONCENTRATION_BOTTOM, axes)
    if not any(e.has(k) for k in (CONCENTRATION, CONCENTRATION_TOP)):
        e.fail(CONCENTRATION, "missing: give the bath concentration in mM")
    for key, value in ((CONCENTRATION, both), (CONCENTRATION_TOP, top),
                       (CONCENTRATION_BOTTOM, bottom)):  # fmt: skip
        if value is not None:
            out[key] = value
    if both is None and top is not None:
        out[CONCENTRATION] = top
    return out


def _read_voltage(c: _Reader, axes: dict[str, Any]) -> None:
    """The voltage(s): always an axis (a single voltage is still a column of the table)."""
    if not c.has(VOLTAGE):
        c.fail(VOLTAGE, "missing: give the applied voltage(s) in mV")
    voltage = c.value_or_axis(VOLTAGE, axes)
    if voltage is not None:
        axes[VOLTAGE] = (voltage,)


def _read_declared(sec: Mapping[str, _Reader], axes: dict[str, Any]) -> tuple[dict, dict]:
    """(Model keywords, Study fields) of every key in :data:`KEYS` that is not ``"custom"``."""
    model: dict[str, Any] = {}
    study: dict[str, Any] = {}
    for key in KEYS:
        r = sec[key.section]
        if key.read == "custom" or (key.default is None and not r.has(key.name)):
            continue
        if key.read == "sweep":
            value = r.value_or_axis(key.name, axes)
        elif key.read == "strings":
            value = r.strings(key.name, ())
        elif key.read == "number":
            value = r.number(key.name)
        elif key.read == "flag":
            value = r.flag(key.name, key.default)
        else:  # text, integer
            value = getattr(r, key.read)(key.name, key.default, key.choices)
        if value is None:
            continue  # a sweep: the value is an axis of the grid
        if key.target.startswith("study."):
            study[key.target.removeprefix("study.")] = value
        else:
            model[key.target] = value
    return model, study


def parse_study(
    data: Mapping[str, Any],
    source: str = "<study>",
    stem: str = "study",
    base: Path | None = None,
    file: Path | None = None,
) -> Study:
    """Build a :class:`Study` from parsed TOML data (see the module docstring for the schema).

    The TOML reader checks the structure (sections, keys, types, sweeps); every value is then
    checked once by the model (:meth:`pnp.studies.channel.ChannelPNPModel.check`) and an error is
    reported at the section and key where the value was given. Nothing is meshed or solved.

    Parameters
    ----------
    data
        The parsed TOML.
    source
        How messages name the file.
    stem
        Default study name.
    base
        Folder against which a relative ``[geometry] file`` is resolved (default: the working
        directory).
    file
        The study file (:attr:`Study.source`), if any.

    Raises
    ------
    InputError
        Naming ``source``, the section and the key, for unknown sections or keys, wrong types,
        empty sweeps, impossible geometry, a mesh file without the needed physical groups, a
        charged wall the geometry does not have, non-positive concentrations, temperatures
        outside liquid water (with temperature-dependent water models), ...
    """
    from pnp.studies.channel import ChannelPNPModel

    sec = _sections(data, source)
    name = sec["study"].text("name", stem)
    axes: dict[str, Any] = {}
    quantities = _read_convergence(sec["convergence"], axes)
    model_kwargs = _read_geometry(sec["geometry"], axes, base)
    model_kwargs.update(_read_concentrations(sec["electrolyte"], axes))
    _read_voltage(sec["conditions"], axes)
    declared, options = _read_declared(sec, axes)
    perm = sec["permittivity"]
    model_kwargs.update(declared, permittivity={k: perm.number(k) for k in perm.data},
                        solver=dict(sec["solver"].data))  # fmt: skip
    output = Path(sec["study"].text("output", f"{name}-output"))
    description = sec["study"].text("description", "")
    try:
        return Study(
            name=name,
            model=ChannelPNPModel(**model_kwargs),
            grid=ParameterGrid(axes),  # Study checks the model on the grid (once)
            output=output,
            convergence_quantities=quantities,
            description=description,
            source=file,
            **options,
        )
    except InputError as exc:
        raise _located(source, exc) from None


def load_study(path: str | Path) -> Study:
    """Read and validate a study TOML file (see the module docstring for the schema).

    Raises
    ------
    InputError
        When the file is missing, not valid TOML, or breaks the schema (the message names the
        file, section and key).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read study file {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    return parse_study(data, source=str(path), stem=path.stem, base=path.parent, file=path)
