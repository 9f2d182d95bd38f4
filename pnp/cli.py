"""The poreflux command line (also ``python -m pnp``).

- ``poreflux demo [--out DIR]``: the default channel's I-V study (:mod:`pnp.demo`, the study file
  ``examples/default_channel_iv.toml`` shipped as package data), printed like ``run``;
- ``poreflux run study.toml [--out DIR] [--distribute] [--retry-failed]``: a parameter study from
  a TOML file (:mod:`pnp.studies.config`), resumable; prints the table with the diagnostics'
  worst severities and writes the table, plots and fields to the output folder;
- ``poreflux show DIR [--no-plots]``: the table of a study folder, its figures redrawn, nothing
  solved (:mod:`pnp.studies.show`);
- ``poreflux --version``.

Exit codes of ``run``, ``demo`` and ``show``: 0 all points solved, 1 some points failed (they
are listed), 2 bad input (nothing was solved), e.g. a folder another run is using.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="poreflux",
        description="Ion transport through channels and nanopores across the modelling hierarchy.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log solver progress")
    parser.add_argument("--version", action="version", version=f"poreflux {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="the default channel's I-V study (examples/default_channel_iv.toml)",
        description="Run the default channel's I-V study and print its table; a rerun in the "
        "same output folder resumes it.",
    )
    demo.add_argument(
        "--out", type=Path, default=Path("demo-output"), help="output folder (default: %(default)s)"
    )
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    run = sub.add_parser(
        "run",
        help="run a parameter study from a TOML file (resumes an interrupted run)",
        description="Run the study described in a TOML file; finished points of an earlier run "
        "in the same output folder are kept, not recomputed.",
    )
    run.add_argument("study", type=Path, help="study file (.toml), see pnp.studies.config")
    run.add_argument(
        "--out", type=Path, default=None, help="output folder (default: [study] output)"
    )
    run.add_argument(
        "--distribute",
        action="store_true",
        help="under mpiexec, deal independent points out to the ranks (many small meshes)",
    )
    run.add_argument(
        "--retry-failed", action="store_true", help="recompute points recorded as failed"
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    show = sub.add_parser(
        "show",
        help="print the table of a study folder and redraw its plots (no solving)",
        description="Print the table of the study in an output folder (finished so far) and "
        "redraw its figures; nothing is solved.",
    )
    show.add_argument("folder", type=Path, help="output folder of `poreflux run` or `demo`")
    show.add_argument("--no-plots", action="store_true", help="print only; draw nothing")
    return parser


def _version() -> str:
    from poreflux import __version__

    return __version__


def _show(args: argparse.Namespace) -> int:
    """``poreflux show``: 0, 1 when the study has failed points, 2 for a bad folder."""
    from pnp.studies.show import show_study
    from poreflux.errors import InputError

    try:
        text, failed = show_study(args.folder, plots=not args.no_plots)
    except InputError as exc:
        print(f"poreflux show: error: {exc}", file=sys.stderr, flush=True)
        return 2
    print(text, flush=True)
    return 1 if failed else 0


def _run_study(args: argparse.Namespace) -> Any:
    from mpi4py import MPI

    from pnp.studies.config import load_study
    from pnp.studies.study import format_outcome, run

    comm = MPI.COMM_WORLD
    study = load_study(args.study)
    outcome = run(
        study,
        args.out,
        distribute=True if args.distribute else None,
        comm=comm,
        progress=not args.no_progress,
        retry_failed=args.retry_failed,
    )
    if comm.rank == 0:
        print(format_outcome(study, outcome), flush=True)
    return outcome


def _run_demo(args: argparse.Namespace) -> Any:
    from pnp.demo import run_demo

    return run_demo(args.out, progress=not args.no_progress)


def _exit_code(command: str, job: Callable[[], Any]) -> int:
    """Run a study command: 0 all points solved, 1 some failed, 2 bad input (message on rank 0)."""
    from mpi4py import MPI

    from poreflux.errors import InputError

    try:
        outcome = job()
    except InputError as exc:
        if MPI.COMM_WORLD.rank == 0:
            print(f"poreflux {command}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 1 if outcome.result.failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command == "show":
        return _show(args)
    job = _run_demo if args.command == "demo" else _run_study
    return _exit_code(args.command, lambda: job(args))
