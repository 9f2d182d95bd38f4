"""Shared test set-up: backend import order, MPI teardown, the mpiexec helper."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from meshes import backend as _backend  # noqa: F401  (must precede any dolfinx import)

ROOT = Path(__file__).resolve().parent.parent

# The mesh cache of this test run lives in its own temporary folder (never the user's cache).
if "POREFLUX_MESH_CACHE" not in os.environ:
    import tempfile

    os.environ["POREFLUX_MESH_CACHE"] = tempfile.mkdtemp(prefix="poreflux-test-meshes-")


def mpiexec() -> str | None:
    """The mpiexec that belongs to this Python's MPI (the venv's first), or None."""
    local = Path(sys.executable).parent / "mpiexec"
    if local.exists():
        return str(local)
    return shutil.which("mpiexec")


def run_mpi(script: Path | str, *args: str, nprocs: int = 2, timeout: float = 600) -> str:
    """Run a Python script under ``mpiexec -n nprocs`` and return its stdout; fail with stderr."""
    exe = mpiexec()
    if exe is None:
        pytest.skip("mpiexec not found")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [exe, "-n", str(nprocs), sys.executable, str(script), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


@pytest.fixture(autouse=True)
def _collect_petsc_objects():
    """Free PETSc objects between tests (as DOLFINx's own test suite does)."""
    yield
    gc.collect()
