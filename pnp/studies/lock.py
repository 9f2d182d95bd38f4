"""One run per study folder: an OS file lock on ``<out>/.lock``.

Two runs of one study in the same folder would both compute every unfinished point and write
competing records. :class:`StudyLock` takes an exclusive :func:`fcntl.flock` on the lock file
for the whole run and writes who holds it (process id, host, start time, command line) into the
file. A second run finds the lock taken and is refused with :class:`StudyLockedError`, whose
message names the holder. The kernel drops an ``flock`` when its process ends, however it ends
(exit, exception, ``SIGKILL``, crash), so the file left behind by a killed run does not block:
the next run takes the lock and overwrites the stale holder information.

Within one process the lock is re-entrant (:func:`pnp.studies.study.run` holds it around
:func:`pnp.studies.runner.run_study`, which takes it too). ``flock`` locks are advisory and may
not work across machines on some network file systems; on those, do not start two runs of one
study at once.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from poreflux.errors import InputError
from poreflux.files import new_file_mode

__all__ = ["LOCK_FILE", "StudyLock", "StudyLockedError"]

#: Name of the lock file in a study folder (hidden: not part of the results).
LOCK_FILE = ".lock"

# resolved folder -> [fd, depth]: the locks this process holds (re-entrant)
_HELD: dict[Path, list[int]] = {}


class StudyLockedError(InputError):
    """Another process is running the study in this folder."""


def _holder_text(fd: int) -> str:
    """What the lock file says about its holder (best effort: it may be half written)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 65536).decode() or "{}")
    except (OSError, ValueError, UnicodeDecodeError):
        return "an unknown process (its lock file is unreadable)"
    return (
        f"process {info.get('pid', '?')} on host {info.get('host', '?')}, started "
        f"{info.get('started', '?')} ({info.get('command', '?')})"
    )


class StudyLock:
    """Exclusive lock of a study folder for the lifetime of one run (a context manager).

    Parameters
    ----------
    folder
        The study folder (created if missing).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.folder / LOCK_FILE

    def acquire(self) -> StudyLock:
        """Take the lock (or deepen this process's hold on it).

        Raises
        ------
        StudyLockedError
            Another process holds it; the message names that process.
        InputError
            The folder cannot be created or written.
        """
        import fcntl

        from pnp.studies.store import check_writable

        check_writable(self.folder)
        key = self.folder.resolve()
        if key in _HELD:
            _HELD[key][1] += 1
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, new_file_mode())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(fd)
            os.close(fd)
            raise StudyLockedError(
                f"{self.folder} is in use by another run of this study: {holder}. Wait for it "
                "to finish (or stop it), or choose another output folder; a killed run leaves "
                "no lock behind"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise InputError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
        self._write_holder(fd)
        _HELD[key] = [fd, 1]
        return self

    @staticmethod
    def _write_holder(fd: int) -> None:
        info: dict[str, Any] = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join([os.path.basename(sys.argv[0] or "python"), *sys.argv[1:]])[:300],
        }
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, (json.dumps(info) + "\n").encode())
        with contextlib.suppress(OSError):
            os.fsync(fd)

    def release(self) -> None:
        """Give the lock up (the outermost release of this process unlocks the file)."""
        key = self.folder.resolve()
        held = _HELD.get(key)
        if held is None:
            return
        held[1] -= 1
        if held[1] > 0:
            return
        del _HELD[key]
        fd = held[0]
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no stale holder information once released
        os.close(fd)  # closing the last descriptor drops the flock

    @property
    def held(self) -> bool:
        """True while this process holds the lock."""
        return self.folder.resolve() in _HELD

    def __enter__(self) -> StudyLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
