"""The poreflux command line (also ``python -m pnp``).

- ``poreflux demo``: the default channel demo (:mod:`pnp.demo`);
- ``poreflux run study.toml [--out DIR] [--distribute] [--retry-failed]``: a parameter study from
  a TOML file (:mod:`pnp.studies.config`), resumable; prints the table with the diagnostics'
  worst severities and writes the table, plots and fields to the output folder.

Exit codes of ``run``: 0 all points solved, 1 some points failed (they are listed), 2 bad input
(nothing was solved).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="poreflux",
        description="Ion transport through channels and nanopores across the modelling hierarchy.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log solver progress")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the default channel study on the embedded default geometry")
    demo.add_argument(
        "--out", type=Path, default=Path("demo-output"), help="output folder (default: %(default)s)"
    )
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
    return parser


def _run_study(args: argparse.Namespace) -> int:
    from mpi4py import MPI

    from pnp.studies.config import load_study
    from pnp.studies.study import format_outcome, run
    from poreflux.errors import InputError

    comm = MPI.COMM_WORLD
    try:
        study = load_study(args.study)
        outcome = run(
            study,
            args.out,
            distribute=True if args.distribute else None,
            comm=comm,
            progress=not args.no_progress,
            retry_failed=args.retry_failed,
        )
    except InputError as exc:
        if comm.rank == 0:
            print(f"poreflux run: error: {exc}", file=sys.stderr, flush=True)
        return 2
    if comm.rank == 0:
        print(format_outcome(study, outcome), flush=True)
    return 1 if outcome.result.failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command == "demo":
        from pnp.demo import run_demo

        run_demo(args.out)
    elif args.command == "run":
        return _run_study(args)
    return 0
