"""Atomic file writes that respect the process umask.

A file is written to a temporary name in the target's folder, flushed and fsynced, given the
permissions a plain ``open(path, "w")`` would give it (``0o666`` minus the umask, so ``0644``
under the usual umask ``022``), then renamed over the target with :func:`os.replace` and the
folder fsynced. A reader, or a crash at any moment, therefore sees either the old or the new
file, never a part of one. (:func:`tempfile.mkstemp` alone creates ``0600`` files: other users
of a shared results folder could not read them.)

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write_text(folder / "a.txt", "hello\\n").read_text()
'hello\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "atomic_output",
    "atomic_write_bytes",
    "atomic_write_text",
    "current_umask",
    "new_file_mode",
]

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux ``/proc``).

    Elsewhere it is read by setting and restoring it under a lock (``os.umask`` has no getter).
    """
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def new_file_mode() -> int:
    """Permission bits of a newly created regular file: ``0o666 & ~umask``."""
    return 0o666 & ~current_umask()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets one open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(
    path: str | os.PathLike, data: bytes | bytearray | memoryview | Callable[[BinaryIO], object]
) -> Path:
    """Write ``data`` to ``path`` atomically, with umask-respecting permissions.

    Parameters
    ----------
    path
        The target file; its folder is created if missing.
    data
        The bytes, or a function that writes them to the open binary file handed to it (e.g.
        ``lambda fh: numpy.savez(fh, x=x)``).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), new_file_mode())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`); no newline
    translation, so ``"\\n"`` stays ``"\\n"`` on every platform."""
    return atomic_write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path next to ``path`` for a library that writes files by name (e.g. h5py);
    on normal exit it gets the umask's permissions, is fsynced and replaces ``path``; on an
    exception it is removed and ``path`` is left as it was.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_bytes(b"abc")
    >>> target.read_bytes()
    b'abc'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fchmod(fd, new_file_mode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
