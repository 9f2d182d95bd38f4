"""The one place that prepares the DOLFINx/PETSc bindings for import.

The ``dolfinx-solver-real`` wheel needs ``import dolfinx_solver`` before the first import of
dolfinx, petsc4py or slepc4py (it loads ``mpi4py.MPI`` first so that every binding shares one
libmpi), and h5py must be loaded before PETSc's own HDF5 library (see below). A conda-forge
DOLFINx has no such module, and then nothing needs doing. Importing the :mod:`pnp` or
:mod:`meshes` package runs this module, so library code never repeats it;
:mod:`pnp` and the DOLFINx-based builders of :mod:`meshes` call :func:`require_dolfinx` first, so
a missing or too old DOLFINx gives one clear error instead of an ImportError deep inside.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import os
import sys
from types import ModuleType

MIN_DOLFINX = (0, 10)

# h5py first: once PETSc (through DOLFINx) has loaded its own HDF5 library, `import h5py` in the
# same process fails ("Not a datatype"). Loaded the other way round, both work (DOLFINx's XDMF
# output included). h5py is a dependency of poreflux (field files, CG database).
with contextlib.suppress(ImportError):
    import h5py  # noqa: F401

try:  # pragma: no cover - depends on how DOLFINx was installed
    import dolfinx_solver  # noqa: F401  (orders mpi4py.MPI ahead of the compiled bindings)

    WHEEL = True
except ImportError:  # conda-forge or source DOLFINx
    WHEEL = False


def dolfinx_available() -> bool:
    """True when DOLFINx can be imported."""
    return importlib.util.find_spec("dolfinx") is not None


def load_dolfinx() -> ModuleType:
    """Import DOLFINx (and with it UFL, FFCx, numba, petsc4py) once, cheaply for the collector.

    The import makes over 1e5 container objects that live as long as the process. The
    cyclic garbage collector is paused meanwhile (it would otherwise scan the growing heap
    again and again), and the objects are then moved to its permanent generation
    (:func:`gc.freeze`, Python >= 3.7), so that later full collections and the one at
    interpreter exit skip them: about a quarter of the CPU time of ``python -c "import pnp"``.
    ``POREFLUX_GC_FREEZE=0`` keeps the collector untouched.
    """
    if "dolfinx" in sys.modules:
        return sys.modules["dolfinx"]
    if os.environ.get("POREFLUX_GC_FREEZE", "1").strip().lower() in {"0", "off", "no", "false"}:
        import dolfinx

        return dolfinx
    enabled = gc.isenabled()
    gc.disable()
    try:
        import dolfinx
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    return dolfinx


def require_dolfinx() -> None:
    """Raise a clear ImportError when DOLFINx is missing or older than 0.10."""
    if not dolfinx_available():
        raise ImportError(
            "poreflux's finite-element solvers need DOLFINx >= 0.10 with petsc4py. Install it with "
            "`pip install 'poreflux[fem]'` (the dolfinx-solver-real wheel) or from conda-forge "
            "(`conda install -c conda-forge fenics-dolfinx petsc4py mpich`)."
        )
    dolfinx = load_dolfinx()
    version = tuple(int(p) for p in dolfinx.__version__.split(".")[:2])
    if version < MIN_DOLFINX:
        raise ImportError(f"poreflux needs DOLFINx >= 0.10, found {dolfinx.__version__}")
