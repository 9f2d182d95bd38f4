"""``poreflux demo`` under mpiexec: run the demo into the folder given as argv[1]."""

from __future__ import annotations

import sys

from pnp.cli import main

raise SystemExit(main(["demo", "--out", sys.argv[1], "--no-progress"]))
