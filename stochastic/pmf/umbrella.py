"""Umbrella-sampling driver: run a sampler in every window, store each window's data atomically.

A run lives in a folder::

    manifest.json        windows, temperature, dt, seed, samples and chunks stored per window
    window_000.npz       xi (time series of the coordinate), one file per window

Every file is written to a temporary name and renamed into place, so an interrupted run leaves
either the old or the new file, never half of one. :meth:`UmbrellaSampling.run` brings every window
up to a number of samples (resuming an interrupted run: only the missing samples are drawn);
:meth:`UmbrellaSampling.extend` adds samples to every window. Chunk ``c`` of window ``k`` draws its
random numbers from ``numpy.random.default_rng([seed, k, c])``, so a resumed run is reproducible.

Typical use::

    windows = evenly_spaced_windows(-1.5, 1.5, 24, kappa=40.0)          # kappa in kT/nm^2
    run = UmbrellaSampling(windows, InverseCDFSampler(U, -3, 3), "runs/dw", seed=1)
    data = decorrelate(run.run(5000))                                   # trim + subsample
    pmf = wham(data, bins=100)
"""

from __future__ import annotations

import inspect
import json
import logging
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from poreflux.files import atomic_write_bytes
from stochastic.pmf.data import UmbrellaData
from stochastic.pmf.errors import PMFInputError
from stochastic.pmf.samplers import Sampler
from stochastic.pmf.windows import WindowSet

log = logging.getLogger(__name__)

__all__ = ["FORMAT", "UmbrellaSampling", "load_run"]

#: Manifest format tag.
FORMAT = "poreflux-umbrella/1"


def _window_file(k: int) -> str:
    return f"window_{k:03d}.npz"


def load_run(folder: str | Path) -> UmbrellaData:
    """Read a stored umbrella run (no sampler needed) as :class:`UmbrellaData` (raw series)."""
    folder = Path(folder)
    man_path = folder / "manifest.json"
    if not man_path.exists():
        raise PMFInputError(f"{folder} holds no umbrella run (no manifest.json)")
    man = json.loads(man_path.read_text())
    if man.get("format") != FORMAT:
        raise PMFInputError(f"{man_path}: unknown format {man.get('format')!r}, expected {FORMAT}")
    windows = WindowSet.from_dict(man["windows"])
    samples = []
    for k, st in enumerate(man["state"]):
        if st["n_samples"] == 0:
            raise PMFInputError(f"{folder}: window {k} has no samples yet; run the sampler first")
        with np.load(folder / st["file"]) as z:
            samples.append(z["xi"][: st["n_samples"]])
    return UmbrellaData(windows, samples, dt=man.get("dt"))


class UmbrellaSampling:
    """Run a :class:`~stochastic.pmf.samplers.Sampler` in every umbrella window.

    Parameters
    ----------
    windows : WindowSet
        The restraints.
    sampler : Sampler
        ``sampler(window, n_samples, rng) -> xi``; if it accepts a keyword ``start`` it receives
        the last stored xi of the window (None for a fresh window) to continue its trajectory.
    folder : path, optional
        Where to store the run (created if needed). An existing run there is resumed if its
        windows match; None keeps everything in memory.
    seed : int
        Root seed of the random streams.
    dt : float, optional
        Time between stored samples (ps), recorded for D(z) estimates.
    chunk_size : int, optional
        Samples per sampler call (default: all missing samples of a window in one call); the
        data are saved after every chunk.
    progress : bool
        Show a tqdm progress bar (in samples).
    """

    def __init__(
        self,
        windows: WindowSet,
        sampler: Sampler,
        folder: str | Path | None = None,
        *,
        seed: int = 0,
        dt: float | None = None,
        chunk_size: int | None = None,
        progress: bool = True,
    ) -> None:
        if not isinstance(windows, WindowSet):
            raise PMFInputError(f"windows must be a WindowSet, got {type(windows)!r}")
        if not callable(sampler):
            raise PMFInputError("sampler must be callable as sampler(window, n_samples, rng)")
        if chunk_size is not None and int(chunk_size) < 1:
            raise PMFInputError(f"chunk_size must be >= 1, got {chunk_size}")
        self.windows = windows
        self.sampler = sampler
        self.seed = int(seed)
        self.dt = dt
        self.chunk_size = None if chunk_size is None else int(chunk_size)
        self.progress = progress
        try:
            params = inspect.signature(sampler).parameters
            self._takes_start = "start" in params or any(
                p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
            )
        except (TypeError, ValueError):
            self._takes_start = False
        self.folder = None if folder is None else Path(folder)
        self._xi: list[np.ndarray] = [np.empty(0) for _ in windows]
        self._chunks = [0] * len(windows)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            if (self.folder / "manifest.json").exists():
                self._resume()

    # --- storage ---------------------------------------------------------------------------
    def _manifest(self) -> dict:
        return {
            "format": FORMAT,
            "windows": self.windows.to_dict(),
            "dt": self.dt,
            "seed": self.seed,
            "state": [
                {"file": _window_file(k), "n_samples": int(x.size), "n_chunks": int(c)}
                for k, (x, c) in enumerate(zip(self._xi, self._chunks, strict=True))
            ],
        }

    def _resume(self) -> None:
        assert self.folder is not None
        man = json.loads((self.folder / "manifest.json").read_text())
        if man.get("format") != FORMAT:
            raise PMFInputError(f"{self.folder}: unknown run format {man.get('format')!r}")
        if man["windows"] != self.windows.to_dict():
            raise PMFInputError(
                f"{self.folder} holds a run with different windows; use another folder or the "
                "same windows to resume it"
            )
        if man.get("seed") != self.seed:
            log.warning(
                "resuming %s: stored seed %s, given %s", self.folder, man["seed"], self.seed
            )
        for k, st in enumerate(man["state"]):
            if st["n_samples"]:
                with np.load(self.folder / st["file"]) as z:
                    self._xi[k] = np.asarray(z["xi"][: st["n_samples"]], dtype=float)
            self._chunks[k] = int(st["n_chunks"])
        log.info("resumed %s: %s samples stored", self.folder, [x.size for x in self._xi])

    def _save(self, k: int) -> None:
        if self.folder is None:
            return
        xi = self._xi[k]
        atomic_write_bytes(self.folder / _window_file(k), lambda fh: np.savez(fh, xi=xi))
        text = json.dumps(self._manifest(), indent=1).encode()
        atomic_write_bytes(self.folder / "manifest.json", text)

    # --- sampling --------------------------------------------------------------------------
    @property
    def counts(self) -> np.ndarray:
        """Samples stored per window."""
        return np.array([x.size for x in self._xi], dtype=np.int64)

    def _draw(self, k: int, n: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, k, self._chunks[k]])
        win = self.windows[k]
        if self._takes_start:
            start = float(self._xi[k][-1]) if self._xi[k].size else None
            out = self.sampler(win, n, rng, start=start)
        else:
            out = self.sampler(win, n, rng)
        xi = np.asarray(out, dtype=float).reshape(-1)
        if xi.size != n:
            raise PMFInputError(f"sampler returned {xi.size} samples for window {k}, asked {n}")
        if not np.all(np.isfinite(xi)):
            raise PMFInputError(
                f"sampler returned NaN/inf values in window {k} (centre {win.center:g}): the "
                "dynamics blew up; reduce the time step or check the force"
            )
        return xi

    def run(self, n_samples: int) -> UmbrellaData:
        """Bring every window up to ``n_samples`` stored samples and return the raw data."""
        n_samples = int(n_samples)
        if n_samples < 2:
            raise PMFInputError(f"need at least 2 samples per window, got {n_samples}")
        missing = np.maximum(0, n_samples - self.counts)
        with tqdm(
            total=int(missing.sum()), unit="sample", disable=not self.progress, desc="umbrella"
        ) as bar:
            for k, m in enumerate(missing):
                left = int(m)
                while left > 0:
                    n = left if self.chunk_size is None else min(left, self.chunk_size)
                    xi = self._draw(k, n)
                    self._xi[k] = np.concatenate((self._xi[k], xi))
                    self._chunks[k] += 1
                    self._save(k)
                    left -= n
                    bar.update(n)
        return self.data()

    def extend(self, n_more: int) -> UmbrellaData:
        """Add ``n_more`` samples to every window (windows are first brought level)."""
        return self.run(int(self.counts.max()) + int(n_more))

    def data(self) -> UmbrellaData:
        """All stored samples as raw :class:`UmbrellaData`."""
        if np.any(self.counts < 2):
            raise PMFInputError("some windows have fewer than 2 samples: call run() first")
        return UmbrellaData(self.windows, list(self._xi), dt=self.dt)
