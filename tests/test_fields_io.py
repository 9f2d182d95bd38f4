"""Files written by poreflux: atomic writes keep the umask's permissions; HDF5 field files."""

from __future__ import annotations

import os
import stat

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
