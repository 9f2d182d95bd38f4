"""One run per study folder: a second run is refused naming the first; a killed run's stale lock
file does not block; the lock is released on exit and on errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from study_fakes import FakeModel

from pnp.studies import ParameterGrid, StudyStore
from pnp.studies.lock import LOCK_FILE, StudyLock, StudyLockedError
from pnp.studies.runner import run_study

ROOT = Path(__file__).resolve().parent.parent
RESUME = Path(__file__).parent / "mpi_scripts" / "study_resume.py"
GRID = {"radius_nm": [1.0, 2.0], "voltage_mV": {"start": -100, "stop": 100, "step": 25}}


def _start_slow_run(out: Path, log: Path) -> subprocess.Popen:
    """A fake 18-point study in another process, 0.2 s per point; returns once it has started."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    proc = subprocess.Popen(
        [sys.executable, str(RESUME), str(out), str(log), "0.2"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    store, deadline = StudyStore(out), time.monotonic() + 60
    while store.count() < 1:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the first run never wrote a point"
        time.sleep(0.01)
    return proc


def test_second_run_is_refused_and_a_killed_run_does_not_block(tmp_path):
    out, log = tmp_path / "study", tmp_path / "solves.log"
    first = _start_slow_run(out, log)
    try:
        model = FakeModel()
        with pytest.raises(StudyLockedError) as info:
            run_study(model, ParameterGrid(GRID), out, progress=False)
        message = str(info.value)
        assert f"process {first.pid} on host {socket.gethostname()}" in message
        assert "started 20" in message and "study_resume.py" in message
        assert model.solves == [] and model.meshes_built == []  # nothing computed twice
        holder = json.loads((out / LOCK_FILE).read_text())
        assert holder["pid"] == first.pid
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        first.stderr.close()
    # the killed run left its lock file (naming a dead process) but no lock: the next run goes
    assert json.loads((out / LOCK_FILE).read_text())["pid"] == first.pid
    done = StudyStore(out).count()
    assert 1 <= done < 18
    result = run_study(FakeModel(), ParameterGrid(GRID), out, progress=False)
    assert len(result.skipped) == done and len(result.computed) == 18 - done
    assert (out / LOCK_FILE).read_text() == ""  # released: no holder named any more


def test_lock_is_released_on_errors_and_reentrant(tmp_path):
    out = tmp_path / "study"
    grid = ParameterGrid({"voltage_mV": [-50, 0, 50]})
    lock = StudyLock(out)
    with lock:
        assert lock.held
        with StudyLock(out):  # this process may nest (run -> run_study)
            pass
        assert lock.held
        run_study(FakeModel(), grid, out, progress=False)  # the holder itself may run
        assert lock.held
    assert not lock.held

    class Exploding(FakeModel):
        def build_mesh(self, point, comm):
            raise KeyboardInterrupt  # not an Exception: escapes the engine

    with pytest.raises(KeyboardInterrupt):
        run_study(Exploding(), ParameterGrid({"voltage_mV": [1.0]}), tmp_path / "b",
                  progress=False)  # fmt: skip
    assert not StudyLock(tmp_path / "b").held
    lock_file = tmp_path / "b" / LOCK_FILE
    with StudyLock(tmp_path / "b"):  # another process cannot take it while held ...
        assert _try_flock(lock_file).returncode != 0
    assert _try_flock(lock_file).returncode == 0  # ... and can once released


def _try_flock(path: Path) -> subprocess.CompletedProcess:
    """Another process's non-blocking attempt at the lock (exit code 0: it got it)."""
    code = ("import fcntl, os, sys; "
            "fcntl.flock(os.open(sys.argv[1], os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)")
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
