"""A cheap fake study model for the engine tests (no DOLFINx): an Ohmic 'pore' with a Newton
iteration count that grows with the distance from the warm-start voltage."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from pnp.studies.grid import ParameterGrid, StudyPoint
from pnp.studies.model import PointResult
from poreflux.errors import ConvergenceError, InputError


class FakeModel:
    """``I = G V`` with ``G = c * r^2`` (concentration_mM, radius_nm).

    Newton iterations: ``2 + ceil(|V - V_start| / 25 mV)`` where ``V_start`` is the warm-start
    voltage (0 when cold, plus 3 for the cold guess). Counts meshes and solves; can append every
    solve to ``log_path`` (one line per solve, fsynced) and sleep ``delay`` s per solve.
    """

    geometry_axes = ("radius_nm",)

    def __init__(
        self,
        *,
        fail_voltages: tuple[float, ...] = (),
        log_path: str | Path | None = None,
        delay: float = 0.0,
        bad_radius: float | None = None,
    ):
        self.fail_voltages = tuple(fail_voltages)
        self.log_path = None if log_path is None else Path(log_path)
        self.delay = delay
        self.bad_radius = bad_radius
        self.meshes_built: list[Any] = []
        self.solvers_built: list[Any] = []
        self.solves: list[tuple[str, float | None]] = []

    def definition(self) -> dict[str, Any]:
        return {"model": "fake", "fail_voltages": list(self.fail_voltages)}

    def check(self, grid: ParameterGrid) -> None:
        allowed = ("voltage_mV", "concentration_mM", "radius_nm")
        unknown = [n for n in grid.names if n not in allowed]
        if unknown:
            raise InputError(f"fake model: unknown axes {unknown}; allowed: {allowed}")
        for p in grid.points():
            if p.get("concentration_mM", 1.0) <= 0:
                raise InputError(f"concentration_mM must be > 0 at {p.id}")

    def geometry_key(self, point: StudyPoint) -> Any:
        return point.subset(self.geometry_axes)

    def solver_key(self, point: StudyPoint) -> Any:
        return self.geometry_key(point)

    def build_mesh(self, point: StudyPoint, comm: Any) -> Any:
        r = point.get("radius_nm", 1.0)
        if self.bad_radius is not None and r == self.bad_radius:
            raise RuntimeError(f"gmsh could not mesh radius {r}")
        self.meshes_built.append(self.geometry_key(point))
        return {"radius": r, "comm_size": comm.size}

    def make_solver(self, mesh: Any, point: StudyPoint) -> Any:
        self.solvers_built.append(self.solver_key(point))
        return mesh

    def solve(self, solver: Any, point: StudyPoint, warm: Any | None) -> PointResult:
        v = point.get("voltage_mV", 0.0)
        if self.delay:
            time.sleep(self.delay)
        if self.log_path is not None:
            with self.log_path.open("a") as fh:
                fh.write(f"{point.id}\n")
                fh.flush()
                os.fsync(fh.fileno())
        self.solves.append((point.id, None if warm is None else warm["voltage"]))
        if v in self.fail_voltages:
            raise ConvergenceError(f"fake Newton diverged at {v} mV")
        start = 0.0 if warm is None else warm["voltage"]
        its = 2 + math.ceil(abs(v - start) / 25.0) + (3 if warm is None else 0)
        g = point.get("concentration_mM", 100.0) * solver["radius"] ** 2
        results = {"current_pA": g * v * 1e-3, "newton_iterations": its}
        return PointResult(results, {"voltage": v})

    def write_fields(self, state: Any, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"V={state['voltage']}\n")
        return path

    def axial_profile(self, state: Any) -> dict[str, Any]:
        return {"z": [0.0, 1.0], "potential": [0.0, state["voltage"]]}
