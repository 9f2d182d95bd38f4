"""The ``make demo`` job: the default channel's I-V study, run by the study engine.

The demo is the study file ``default_channel_iv.toml`` shipped inside :mod:`pnp.studies` (the
same bytes as ``examples/default_channel_iv.toml``): steady PNP through the default channel
(:func:`meshes.channel.default_channel`, 2D axisymmetric) at 150 mM KCl with a -0.1 C/m^2 protein
lining, 7 voltages from -150 to +150 mV. :func:`run_demo` loads it with
:func:`pnp.studies.config.load_study`, runs it with :func:`pnp.studies.study.run` and prints what
``poreflux run`` prints: the study's table (currents, conductance, Newton iterations, the
diagnostics' worst severities), the rectification ratios and the written files.

Outputs go to the output folder (``demo-output`` by default): ``table.csv``, ``points/``,
``fields/`` (VTX, open the ``.bp`` folders in ParaView), ``profiles/`` and ``plots/``. Like every
study, a rerun in the same folder resumes (finished points are not recomputed). Everything is
printed by MPI rank 0 only; the numbers are the same on any number of ranks.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

from mpi4py import MPI

__all__ = ["DEMO_STUDY", "demo_study", "run_demo"]

#: File name of the demo study inside the :mod:`pnp.studies` package.
DEMO_STUDY = "default_channel_iv.toml"


def demo_study() -> Any:
    """The demo's :class:`pnp.studies.study.Study`, read from the package data.

    Raises
    ------
    InputError
        If the packaged study file breaks the schema (a packaging error).
    """
    from pnp.studies.config import load_study

    resource = importlib.resources.files("pnp.studies").joinpath(DEMO_STUDY)
    with importlib.resources.as_file(resource) as path:
        return load_study(path)


def _say(comm: MPI.Comm, text: str = "") -> None:
    if comm.rank == 0:
        print(text, flush=True)


def run_demo(
    out: Path | str = "demo-output", comm: MPI.Comm = MPI.COMM_WORLD, *, progress: bool = True
) -> Any:
    """Run the demo study into ``out`` and print its table (rank 0); collective on ``comm``.

    Parameters
    ----------
    out
        Output folder (a rerun in the same folder resumes the study).
    comm
        Communicator of the run.
    progress
        Show a progress bar on rank 0.

    Returns
    -------
    StudyOutcome
        The outcome of :func:`pnp.studies.study.run` (its table is the printed one).

    Raises
    ------
    InputError
        If ``out`` is not writable or holds another study (message says which).
    """
    from pnp.studies.study import format_outcome, run

    study = demo_study()
    _say(comm, f"poreflux demo: {study.description}")
    _say(comm, f"  the study examples/{DEMO_STUDY} (`poreflux run` it the same way)")
    _say(comm, f"  output in {out}; `poreflux show {out}` prints this again")
    outcome = run(study, out, comm=comm, progress=progress)
    _say(comm, "")
    _say(comm, format_outcome(study, outcome))
    _say(comm, "\nnext: see examples/ for concentration sweeps, conical pores and mesh convergence")
    return outcome
