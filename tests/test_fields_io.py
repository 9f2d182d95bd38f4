"""Files written by poreflux: atomic writes keep the umask's permissions; HDF5 field files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from pnp.studies.store import StudyStore
from poreflux.files import atomic_write_bytes, atomic_write_text, current_umask
from stochastic.cg.ibi import _atomic_savez
from stochastic.pmf import InverseCDFSampler, UmbrellaSampling, evenly_spaced_windows


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_follow_the_umask(tmp_path, umask, mask, expected):
    """Every atomic writer gives a new file 0o666 & ~umask, like a plain open() would."""
    umask(mask)
    assert current_umask() == mask
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert _mode(plain) == expected  # what the OS itself gives under this umask
    assert _mode(atomic_write_text(tmp_path / "a.txt", "a\n")) == expected
    assert _mode(atomic_write_bytes(tmp_path / "b.npz", lambda fh: np.savez(fh, x=[1]))) == expected
    _atomic_savez(tmp_path / "ibi.npz", u=np.zeros(3))
    assert _mode(tmp_path / "ibi.npz") == expected

    store = StudyStore(tmp_path / "study")
    store.open({"a": 1})
    store.write_point({"id": "p0000", "index": 0, "status": "ok", "params": {}, "results": {}})
    assert _mode(store.manifest_path) == expected
    assert _mode(store.record_path("p0000")) == expected
    assert _mode(store.write_table() and store.table_path) == expected

    windows = evenly_spaced_windows(-1, 1, 2, kappa=20.0)
    sampler = InverseCDFSampler(lambda x: x**2, -3, 3)
    UmbrellaSampling(windows, sampler, tmp_path / "us", seed=1, progress=False).run(20)
    for f in (tmp_path / "us").iterdir():
        assert _mode(f) == expected, f.name
    assert not list(tmp_path.rglob("*.tmp"))


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    """A writer that fails leaves the old content and no temporary file behind."""
    path = atomic_write_text(tmp_path / "t.json", "old\n")

    def broken(fh):
        fh.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_bytes(path, broken)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


# ------------------------------------------------------------------------------ HDF5 fields
def _known(x):
    return 1.0 + 2.0 * x[0] - 3.0 * x[1] + 5.0 * x[0] * x[1]


def _unit_square_field(degree: int = 1, msh=None):
    import dolfinx
    from mpi4py import MPI

    if msh is None:
        msh = dolfinx.mesh.create_unit_square(MPI.COMM_SELF, 7, 5)
    V = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
    u = dolfinx.fem.Function(V)
    u.interpolate(_known)
    return msh, V, u


def _values_at_dofs(f, V, u, name):
    """The file's nodal values matched to the DOLFINx dofs by coordinates (exact positions)."""
    from scipy.spatial import cKDTree

    dofs = V.tabulate_dof_coordinates()[:, :2]
    dist, idx = cKDTree(f.points(name)).query(dofs)
    assert dist.max() < 1e-14
    return f.values[name][idx]


def test_field_file_round_trip(tmp_path):
    """A P1 field written and read back equals the DOLFINx values at the dofs; a P2 field is
    stored at the vertices; units, mesh and metadata come back; linear sampling is exact."""
    from pnp.results import read_fields
    from pnp.results.io import write_fields_h5

    msh, V, u = _unit_square_field()
    u2 = _unit_square_field(degree=2, msh=msh)[2]
    path = write_fields_h5(tmp_path / "f.h5", {"domain": {"f_mV": (u, "mV"), "g_mM": (u2, "mM")}},
                           {"voltage_mV": 50.0, "axisymmetric": False})  # fmt: skip
    f = read_fields(path)
    assert f.units == {"f_mV": "mV", "g_mM": "mM"} and f.mesh_of["f_mV"] == "domain"
    assert f.attrs["voltage_mV"] == 50.0 and f.attrs["coordinates"] == "x y"
    np.testing.assert_array_equal(_values_at_dofs(f, V, u, "f_mV"), u.x.array)
    points, cells = f.meshes["domain"]
    assert points.shape == (48, 2) and cells.shape == (70, 3)  # 8 x 6 vertices, 2 * 7 * 5 cells
    vertex_values = np.array([_known(p) for p in points])
    np.testing.assert_allclose(f.values["g_mM"], vertex_values, rtol=1e-13, atol=1e-13)
    # sampling: the bilinear term x*y is not P1, but on the cell edges x = const it is linear
    pts, vals = f.sample_line("f_mV", (3 / 7, -0.1), (3 / 7, 1.1), 25)
    inside = (pts[:, 1] >= 0) & (pts[:, 1] <= 1)
    np.testing.assert_allclose(vals[inside], _known(pts[inside].T), rtol=1e-12)
    assert np.all(np.isnan(vals[~inside]))
    assert _mode(path) == 0o666 & ~current_umask()


def test_field_file_gathered_under_mpi(tmp_path):
    """Written from 2 ranks: the same nodes, cells and values as the serial mesh."""
    from conftest import run_mpi

    from pnp.results import read_fields

    out = tmp_path / "mpi.h5"
    run_mpi(Path(__file__).parent / "mpi_scripts" / "fields_h5.py", str(out), nprocs=2)
    f = read_fields(out)
    assert f.attrs["ranks"] == 2
    _, V, u = _unit_square_field()
    np.testing.assert_allclose(_values_at_dofs(f, V, u, "f_mV"), u.x.array, rtol=1e-14)
    points, cells = f.meshes["domain"]
    assert points.shape == (48, 2) and cells.shape == (70, 3)
    assert len(np.unique(cells)) == 48  # every node used, none duplicated
    a, b = points[cells[:, 1]] - points[cells[:, 0]], points[cells[:, 2]] - points[cells[:, 0]]
    areas = 0.5 * np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    assert areas.min() > 0 and areas.sum() == pytest.approx(1.0, rel=1e-14)


def test_read_fields_rejects_other_files(tmp_path):
    from pnp.results import read_fields
    from poreflux.errors import InputError

    with pytest.raises(InputError, match="no field file"):
        read_fields(tmp_path / "missing.h5")
    import h5py

    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5.attrs["format"] = "something"
    with pytest.raises(InputError, match="not a poreflux field file"):
        read_fields(tmp_path / "other.h5")


def test_h5py_that_cannot_load_is_named(tmp_path, monkeypatch):
    """When h5py cannot be loaded (after PETSc loaded its own HDF5, or not installed), writing
    and reading say why and what to do instead of failing inside h5py."""
    import sys

    from pnp.results import read_fields
    from pnp.results.io import write_fields_h5
    from poreflux.errors import PorefluxError

    _, _, u = _unit_square_field()
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py -> ImportError
    with pytest.raises(PorefluxError, match="import h5py before dolfinx"):
        write_fields_h5(tmp_path / "f.h5", {"domain": {"f_mV": (u, "mV")}})
    assert not list(tmp_path.iterdir())
    (tmp_path / "g.h5").write_bytes(b"")
    with pytest.raises(PorefluxError, match="h5py cannot be loaded"):
        read_fields(tmp_path / "g.h5")
